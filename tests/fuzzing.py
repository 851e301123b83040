"""Book-keeping of the fuzz suite (``tests/test_fuzz.py``): how many examples each target tried
and how many escaped (an exception other than the documented one, or a broken promise).  The
run's terminal summary prints the table (see ``tests/conftest.py``), and
``tests/artifacts/fuzz-counts.json`` keeps it for the README."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

TRIED: Counter[str] = Counter()
ESCAPED: Counter[str] = Counter()

# Examples per hypothesis target: MQA_FUZZ_SCALE multiplies them (0.2 for a quick run, 10 for a
# long one); the defaults keep the whole suite around two minutes on two cores.
SCALE = float(os.environ.get("MQA_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


def tried(target: str) -> None:
    TRIED[target] += 1


def escaped(target: str) -> None:
    ESCAPED[target] += 1


def summary_lines() -> list[str]:
    if not TRIED:
        return []
    width = max(len(t) for t in TRIED)
    lines = ["mqa fuzz: examples tried per target (escaped)"]
    lines += [f"  {t:<{width}}  {TRIED[t]:>7,}  ({ESCAPED[t]})" for t in sorted(TRIED)]
    return lines


def save(directory: Path) -> None:
    if not TRIED:
        return
    directory.mkdir(parents=True, exist_ok=True)
    counts = {t: {"tried": TRIED[t], "escaped": ESCAPED[t]} for t in sorted(TRIED)}
    (directory / "fuzz-counts.json").write_text(json.dumps(counts, indent=2) + "\n")
