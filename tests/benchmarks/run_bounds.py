#!/usr/bin/env python3
"""Resource bounds of ``mqa digest``: time and peak memory on the inputs that break log tools.

    .venv/bin/python tests/benchmarks/run_bounds.py                       # all four, full size
    .venv/bin/python tests/benchmarks/run_bounds.py --only statement --statement-mb 100
    .venv/bin/python tests/benchmarks/run_bounds.py --events 1000000      # a smaller events row

- ``statement``: one bulk INSERT of ``--statement-mb`` MB (default 1024: MySQL's largest
  max_allowed_packet) between two ordinary events;
- ``hashline``: a statement whose comment is one line of ``--hash-mb`` MB made of ``#``, ``--``,
  quotes and ``*/``; pt-query-digest is timed on 1, 2 and 4 MB of the same line (its time grows with
  the square of the number of ``#`` in a line);
- ``classes``: ``--classes`` distinct statement shapes (default 100,000), three events each;
- ``events``: ``--events`` events (default 10,000,000) of one-line statements, 2,000 shapes.

Each row is one run of a fresh process; peak memory is the largest sum of PSS over the process
tree (workers included), sampled every 50 ms, as in run_digest_benchmark.py.  Generated logs go
to ``tests/benchmarks/data/`` (kept for later runs); the table to ``tests/benchmarks/results/bounds.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = HERE / "data"
sys.path.insert(0, str(HERE))

from run_digest_benchmark import _pss_kib, tree_rss_kib  # noqa: E402

HEADER = (
    "# Time: 2024-05-01T10:00:{s:02d}.000000Z\n# User@Host: app[app] @ localhost []  Id: 1\n"
    "# Query_time: 1.500000  Lock_time: 0.000010  Rows_sent: 0  Rows_examined: 0\nSET timestamp={ts};\n"
)


def _write_one_statement(path: Path, megabytes: int, head: str, unit: str, tail: str) -> Path:
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as out:
        out.write(HEADER.format(s=0, ts=1714557600) + head)
        chunk = unit * (1_048_576 // len(unit))
        for _ in range(megabytes):
            out.write(chunk)
        out.write(tail + "\n")
        out.write(HEADER.format(s=1, ts=1714557601) + "SELECT 1;\n")
    tmp.replace(path)
    return path


def statement_log(megabytes: int) -> Path:
    return _write_one_statement(
        DATA / f"bounds-insert-{megabytes}mb.log",
        megabytes,
        "INSERT INTO t (a, b, c) VALUES ",
        "(1, 'abc', 2.5), ",
        "(1, 'x', 2);",
    )


def hash_log(megabytes: int) -> Path:
    return _write_one_statement(
        DATA / f"bounds-hashline-{megabytes}mb.log", megabytes, "SELECT 1 -- ", "#-- '\"*/ ", ""
    )


def generated(events: int, templates: int, seed: int = 1) -> Path:
    path = DATA / f"slow-mysql80-{events}ev-seed{seed}-t{templates}.log"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate_slowlog.py"),
                "--events",
                str(events),
                "--templates",
                str(templates),
                "--seed",
                str(seed),
                "--output",
                str(tmp),
                "--quiet",
            ],
            check=True,
        )
        tmp.replace(path)
    return path


def measure(argv: list[str], timeout: float | None = None) -> tuple[int | None, float, int]:
    """(exit status or None on timeout, wall seconds, peak PSS of the process tree in KiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _pss_kib(proc.pid) + tree_rss_kib(proc.pid))
        if timeout is not None and time.perf_counter() - t0 > timeout:
            proc.kill()
            proc.wait()
            return None, time.perf_counter() - t0, peak
        time.sleep(0.05)
    return proc.returncode, time.perf_counter() - t0, peak


def mqa_argv(log: Path) -> list[str]:
    mqa = shutil.which("mqa", path=str(Path(sys.executable).parent)) or "mqa"
    return [mqa, "digest", str(log), "--format", "json", "--output", os.devnull]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["statement", "hashline", "classes", "events"], action="append")
    ap.add_argument("--statement-mb", type=int, default=1024)
    ap.add_argument("--hash-mb", type=int, default=64)
    ap.add_argument("--classes", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--skip-pt", action="store_true")
    ap.add_argument("--pt-timeout", type=float, default=600)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "bounds.md")
    args = ap.parse_args(argv)
    DATA.mkdir(exist_ok=True)
    wanted = args.only or ["statement", "hashline", "classes", "events"]
    rows: list[str] = []

    def row(what: str, tool: str, log: Path, result: tuple[int | None, float, int]) -> None:
        code, wall, peak = result
        status = "timed out" if code is None else ("ok" if code == 0 else f"exit {code}")
        size = log.stat().st_size / 1e6
        rows.append(f"| {what} | {tool} | {size:,.0f} MB | {wall:,.1f} | {peak / 1024:,.0f} | {status} |")
        print(rows[-1], flush=True)

    if "statement" in wanted:
        log = statement_log(args.statement_mb)
        row(f"one INSERT statement of {args.statement_mb:,} MB", "mqa", log, measure(mqa_argv(log)))
    if "hashline" in wanted:
        log = hash_log(args.hash_mb)
        row(f"one line of {args.hash_mb} MB of `#`, `--`, quotes, `*/`", "mqa", log, measure(mqa_argv(log)))
        pt = shutil.which("pt-query-digest")
        if pt and not args.skip_pt:
            for mb in (1, 2, 4):
                small = hash_log(mb)
                result = measure([pt, "--no-version-check", "--output", "json", str(small)], args.pt_timeout)
                row(f"one line of {mb} MB of `#`, `--`, quotes, `*/`", "pt-query-digest", small, result)
    if "classes" in wanted:
        log = generated(args.classes * 3, args.classes)
        row(f"{args.classes:,} distinct classes ({args.classes * 3:,} events)", "mqa", log, measure(mqa_argv(log)))
    if "events" in wanted:
        log = generated(args.events, 2000)
        row(f"{args.events:,} events of one-line statements", "mqa", log, measure(mqa_argv(log)))

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = "\n".join(
        [
            "### Resource bounds of `mqa digest`",
            "",
            "| input | tool | log size | wall s | peak memory MiB (PSS, all processes) | result |",
            "|---|---|---:|---:|---:|---|",
            *rows,
            "",
            f"Command: `{' '.join(['.venv/bin/python tests/benchmarks/run_bounds.py', *(argv or sys.argv[1:])])}`",
            f"Machine: {os.cpu_count()} cores, {platform.platform()}; load average at the end {load}. "
            f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
            "",
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
