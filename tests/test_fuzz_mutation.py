"""A time-bounded mutation run over every slow log and general log of the test corpora (the fuzz suite's second
half, see ``tests/test_fuzz.py``): each round takes a corpus log, applies one to four random
mutations (the suite's: byte flips, truncation, dropped, duplicated and swapped lines, junk and
NUL bytes, line ends, absurd header values, impossible times, long lines of comment and quote
marks) and checks the reader's promise on it.

``MQA_FUZZ_SECONDS`` bounds the run (default 45), ``MQA_FUZZ_SEED`` repeats one (the seed is
printed, and named in a failure)."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from tests import fuzzing
from tests.conftest import FIXTURES
from tests.test_conformance_pt import corpus_logs
from tests.test_fuzz import ABSURD_TIMESTAMPS, ABSURD_VALUES, IMPOSSIBLE_TIMES, check_log, mutate

SECONDS = float(os.environ.get("MQA_FUZZ_SECONDS", "45"))


def _random_op(rng: random.Random) -> tuple:
    kind = rng.choice(
        ["flip", "truncate", "drop", "dup", "swap", "junk", "ends", "header", "time", "timestamp", "longline"]
    )
    where = rng.random()
    if kind == "flip":
        return (kind, where, rng.randrange(1, 256))
    if kind == "swap":
        return (kind, where, rng.random())
    if kind == "junk":
        junk = rng.choice([bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))), b"\x00" * 50, b"\xc3("])
        return (kind, where, junk)
    if kind == "ends":
        return (kind, rng.choice(["cr", "crlf", "mixed"]))
    if kind == "header":
        return (kind, where, rng.choice(ABSURD_VALUES))
    if kind == "time":
        return (kind, where, rng.choice(IMPOSSIBLE_TIMES))
    if kind == "timestamp":
        return (kind, where, rng.choice(ABSURD_TIMESTAMPS))
    if kind == "longline":
        return (kind, where, rng.randrange(10, 50_000))
    return (kind, where)


def test_mutation_run_over_the_corpus(tmp_path: Path, capsys) -> None:
    seed = int(os.environ.get("MQA_FUZZ_SEED", str(time.time_ns() % 2**32)))
    rng = random.Random(seed)
    general = sorted(
        p for p in (FIXTURES / "generallog").rglob("*") if p.is_file() and p.suffix in (".log", ".csv", ".tsv", ".txt")
    )
    logs = [p for p in corpus_logs() + general if p.stat().st_size < 2_000_000]
    assert len(logs) > 50, "the corpus logs are missing"
    deadline = time.monotonic() + SECONDS
    rounds = 0
    target = f"mutation run over {len(logs)} corpus logs"
    while time.monotonic() < deadline or rounds < len(logs):  # every log at least once
        log = logs[rounds % len(logs)] if rounds < len(logs) else rng.choice(logs)
        data = log.read_bytes()
        if log.suffix in (".gz", ".bz2", ".xz", ".zst"):
            data = log.read_bytes()  # compressed as it is: mutations of the compressed bytes
        ops = [_random_op(rng) for _ in range(rng.randrange(1, 5))]
        for op in ops:
            data = mutate(data, op)
        path = tmp_path / f"round{rounds % 8}{log.suffix}"
        path.write_bytes(data)
        formats = ("table", "json", "markdown", "html") if rounds % 10 == 0 else ("json", "markdown")
        try:
            check_log(path, target, formats)
        except BaseException as exc:
            raise AssertionError(f"seed {seed}, round {rounds}: {log.name} with {ops!r}: {exc!r}") from exc
        rounds += 1
    with capsys.disabled():
        print(
            f"\nmutation run: seed {seed}, {rounds} mutated logs in {SECONDS:.0f} s, {fuzzing.ESCAPED[target]} escaped"
        )
