"""The compiled fast paths (``analyzer/_speedups.c``) against the pure-Python paths they stand for.

Each compiled function either returns exactly what the Python code returns or hands the case
back, so a digest must not change by a bit with them: every event the slow-log reader yields
(all its fields, line numbers included), every malformed-event report, and every fast key and
tag list must be the same both ways, on every slow log in the fixtures, on generated logs (the
benchmark's shapes, many spellings, forged headers), on mutated logs and on random token
streams.  ``MQA_PURE_PYTHON=1`` runs mqa without them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import analyzer.fingerprint.fastkey as fastkey
import analyzer.sources.slowlog as slowlog
from analyzer.native import speedups
from analyzer.sources.inputs import open_log
from tests.conftest import FIXTURES, REPO, generate_slowlog
from tests.test_fuzz import SEEDS, fuzz, mutated_log, mutations, token_streams
from tests.test_slowlog_injection import CONTAINERS, DIALECTS, LINE_ENDS, forged_log


def test_the_speedups_are_built() -> None:
    """The install builds them (a C compiler and Python's headers are part of the test setup);
    without them mqa is correct but about twice as slow, which this suite must not hide."""
    assert speedups is not None, "analyzer._speedups is not built: pip install -e . with gcc and python3-dev"


@contextlib.contextmanager
def pure_python() -> Iterator[None]:
    """The pure-Python paths, in this process."""
    saved = slowlog.speedups, fastkey._literals, fastkey._plain_key
    slowlog.speedups = fastkey._literals = fastkey._plain_key = None
    try:
        yield
    finally:
        slowlog.speedups, fastkey._literals, fastkey._plain_key = saved


def read_all(path: Path) -> tuple[list[tuple], list, tuple]:
    """Every event of a log as a tuple of all its fields, the malformed reports and the
    reader's state at the end."""
    reader = slowlog.SlowLogReader(open_log(str(path)))
    events = [
        (
            e.query,
            e.metrics,
            e.ts,
            e.tz,
            e.user,
            e.host,
            e.db,
            e.thread_id,
            e.attrs,
            e.admin,
            e.explain,
            e.source,
            e.line,
        )
        for e in reader.events()
    ]
    state = (
        reader.events_read,
        reader.malformed_count,
        reader.lines_read,
        reader.last_db,
        reader.last_ts,
        reader.last_tz,
        reader.clean_end,
        reader.dialect,
    )
    return events, list(reader.malformed), state


def assert_same_reading(path: Path) -> int:
    fast = read_all(path)
    with pure_python():
        slow = read_all(path)
    assert fast[2] == slow[2], path
    assert fast[1] == slow[1], path
    for a, b in zip(fast[0], slow[0]):
        assert a == b, (path, a, b)
    assert len(fast[0]) == len(slow[0]), path
    # the metric names come in the same order too (the statistics read them as rows)
    assert [list(e[1]) for e in fast[0]] == [list(e[1]) for e in slow[0]]
    return len(fast[0])


SLOW_LOGS = sorted(
    p
    for p in FIXTURES.rglob("*")
    if p.is_file()
    and p.suffix in (".log", ".txt", ".gz")
    and "generallog" not in p.parts
    and "golden" not in p.parts
    and p.stat().st_size < 20_000_000
)


@pytest.mark.parametrize("path", SLOW_LOGS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_log_reads_the_same_both_ways(path: Path) -> None:
    try:
        assert_same_reading(path)
    except Exception as exc:  # a file that is no slow log fails the same way both ways
        with pure_python(), pytest.raises(type(exc)):
            read_all(path)


@pytest.mark.parametrize(
    "options",
    [
        ("--events", "20000", "--seed", "3"),
        ("--events", "5000", "--seed", "4", "--extra", "--spellings"),
        ("--events", "5000", "--seed", "5", "--inject-headers", "0.05"),
    ],
    ids=["mysql8", "extra-spellings", "forged-headers"],
)
def test_generated_logs_read_the_same_both_ways(tmp_path: Path, options: tuple[str, ...]) -> None:
    path = generate_slowlog(tmp_path / "gen.log", *options)
    fast = read_all(path)
    assert len(fast[0]) > 1000
    assert assert_same_reading(path) == len(fast[0])
    if "--extra" not in options:  # (log_slow_extra lines are read by the Python path)
        # the compiled reader took most events: else this test compares Python with itself
        with counting() as taken:
            read_all(path)
        assert taken[0] > len(fast[0]) * 0.8, taken


@contextlib.contextmanager
def counting() -> Iterator[list[int]]:
    """Counts the events the compiled reader returns."""
    taken = [0]
    original = speedups

    class Counting:
        @staticmethod
        def scan_classic(*args):
            run = original.scan_classic(*args)
            if run is not None:
                taken[0] += len(run[0])
            return run

    slowlog.speedups = Counting
    try:
        yield taken
    finally:
        slowlog.speedups = original


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("place", sorted(CONTAINERS))
def test_forged_headers_read_the_same_both_ways(tmp_path: Path, dialect: str, place: str) -> None:
    for name, ending in LINE_ENDS.items():
        text, _statements = forged_log(DIALECTS[dialect], CONTAINERS[place], ending)
        path = tmp_path / f"forged-{name}.log"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        assert_same_reading(path)


@pytest.mark.parametrize("size", [97, 4096, 65_536])
def test_small_blocks_read_the_same_both_ways_and_as_one_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """Blocks that end inside every kind of event (a block's last event is read again with the
    next block when its end is not in this one): the same events both ways, and the same as
    with the usual 1 MiB blocks."""
    path = generate_slowlog(tmp_path / "gen.log", "--events", "3000", "--seed", "14", "--inject-headers", "0.02")
    whole = read_all(path)
    blocks = slowlog.iter_text_blocks
    monkeypatch.setattr(slowlog, "iter_text_blocks", lambda log, size=size: blocks(log, size))
    assert read_all(path) == whole
    assert_same_reading(path)


@fuzz(300)
@given(seed=st.sampled_from(SEEDS), ops=st.lists(mutations, min_size=1, max_size=6))
def test_mutated_logs_read_the_same_both_ways(tmp_path_factory, seed: Path, ops: list) -> None:
    path = mutated_log(tmp_path_factory, seed, ops)
    try:
        assert_same_reading(path)
    except Exception as exc:
        if isinstance(exc, AssertionError):
            raise
        with pure_python(), pytest.raises(type(exc)):
            read_all(path)


# ---------------------------------------------------------------- the fast key


def key_both_ways(query: str) -> tuple[tuple[str, tuple[str, ...]], tuple[str, ...]]:
    fast = fastkey._fast_key(query)
    with pure_python():
        slow = fastkey._fast_key(query)
    assert fast == slow, (query, fast, slow)
    literal = fastkey._literals(query) if fastkey._literals is not None else None
    if literal is not None:
        assert literal == fastkey._LITERALS.sub("?", query), query
    simple = fastkey.simple_key(query) if fastkey.simple_key is not None else None
    if simple is not None:  # the digest's hot path: the key, when the tags are none
        with pure_python():
            assert (simple, ()) == fastkey.fast_key(query), query
    return fast


EDGE_CASES = [
    "SELECT 1e5x, 0x1Fg, 0b12, 1.e5, .5e-3, 1.2.3, 2024_sales, t1, db2.t_21, $1, a.5, 5.a",
    "SELECT 'abc\\",  # a backslash at the very end: the pattern fails there
    "SELECT 'it''s', \"a\"\"b\", 'a\\'b', 'open",
    "SELECT `a b` FROM `t`",  # a backquoted identifier with a space: the tokenizer's case
    "SELECT `1` FROM `t$1` WHERE `x2`=2",
    "SELECT ١٢٣, x١ FROM t WHERE a=٣",  # Unicode digits are not literals; \\w takes them
    "SELECT é1, 1é, 😀1, 1😀, \u00a0 1 \u2003 2 \x0c 3",
    "/* app=web,route='/x' */ SELECT 1",
    "SELECT 1 /* controller='users',action='show',traceparent='00-ab-cd-01' */",
    "SELECT /* middle */ 1",
    "/*!40001 SQL_NO_CACHE */ SELECT 1",
    "/*+ MAX_EXECUTION_TIME(1000) */ SELECT 1",
    "SELECT 1 -- comment",
    "SELECT 1 # comment",
    "SELECT '/*' /* x */",
    "/* a */ SELECT 1 /* b */",
    "/* a */ SELECT '\\' */",
    "/* a='it''s' */ SELECT 1",
    "SELECT * FROM t WHERE id IN (1, 2,3) AND v IN ('a','b') ",
    "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'),(3,'z')",
    "  SELECT\n\t1\r\n  ,  2  ",
    "SELECT 1 ",
    "",
    "'",
    '"',
    ".",
    "1",
    "x'0A' b'01' _utf8mb4'x' N'x' X'0a'",
    "SELECT 1/*/ 2",
    "SELECT 1 /*/ 2 */",
    "SELECT a-1, a - -1, a--1",
    "SELECT * FROM t WHERE a IN (1,2) AND b IN ( -1 , 2 ) AND c in(3, 4) AND d IN (5) AND e xIN (1, 2)",
    "SELECT * FROM t WHERE a IN (1, 2) AND (x, y) IN ((1, 2), (3, 4)) AND f(1, 2)",
    "INSERT INTO t (a) VALUES (1), (2) ON DUPLICATE KEY UPDATE b = b IN (1, 2)",
    "SELECT * FROM t WHERE a IN (1, 2) AND Values_x = 1",
    "IN (1, 2)",
    " IN (1, 2)",
    "$IN (1, 2), _IN (1, 2), éIN (1, 2), ,IN (1,2)",
    "SELECT 1 FROM t WHERE a IN (1, 2, 'x\n  y')",
]


@pytest.mark.parametrize("query", EDGE_CASES)
def test_fast_key_edge_cases_the_same_both_ways(query: str) -> None:
    key_both_ways(query)


@fuzz(2000)
@given(text=token_streams)
def test_fast_key_the_same_both_ways_on_random_token_streams(text: str) -> None:
    key_both_ways(text)


@fuzz(1000)
@given(text=st.text(alphabet=st.sampled_from(list("'\"`\\/*-#.0123456789eExXbB+$_ a\n(),?é١")), max_size=60))
def test_fast_key_the_same_both_ways_on_random_punctuation(text: str) -> None:
    key_both_ways(text)


LIST_TOKENS = [
    "IN",
    "in",
    "In",
    "xIN",
    "(",
    ")",
    "?",
    ",",
    " ",
    "  ",
    "-",
    "1",
    "-2",
    "'a'",
    "VALUES",
    "Value",
    "value",
]
LIST_TOKENS += ["x", "$", "_", "é", "\n", "/*", "*/", "--", "#", "`b`"]


@fuzz(2000)
@given(tokens=st.lists(st.sampled_from(LIST_TOKENS), max_size=30))
def test_fast_key_the_same_both_ways_on_random_lists(tokens: list[str]) -> None:
    """IN lists and VALUES rows, which the compiled key folds (IN) or hands back (VALUES)."""
    key_both_ways("".join(tokens))


def test_fast_key_the_same_both_ways_on_generated_spellings(tmp_path: Path) -> None:
    path = generate_slowlog(tmp_path / "spellings.log", "--events", "5000", "--seed", "9", "--extra", "--spellings")
    events, _malformed, _state = read_all(path)
    compiled = 0
    for event in events:
        key_both_ways(event[0])
        compiled += fastkey._plain_key(event[0]) is not None
    assert compiled > len(events) * 0.5, compiled  # the compiled key took most of them


def test_pure_python_switch_gives_the_same_digest(tmp_path: Path) -> None:
    """The whole command both ways: byte-identical JSON but for the time it was made."""
    log = generate_slowlog(tmp_path / "gen.log", "--events", "20000", "--seed", "11")
    outputs = []
    for pure in ("0", "1"):
        out = tmp_path / f"digest-{pure}.json"
        env = {**os.environ, "MQA_PURE_PYTHON": pure}
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from cli.main import run; run()",
                "digest",
                str(log),
                "--format",
                "json",
                "--output",
                str(out),
            ],
            check=True,
            cwd=REPO,
            env=env,
            timeout=600,
        )
        outputs.append([line for line in out.read_text().splitlines() if '"generated_at"' not in line])
    assert outputs[0] == outputs[1]


# ---------------------------------------------------------------- the statistics' batch matrix


def test_metric_rows_matches_the_python_grouping(tmp_path: Path) -> None:
    """stats._metric_columns with the compiled matrix and without, on the batches of real logs
    (one shape), of mixed shapes (handed back) and with values Python would convert."""
    import numpy as np

    import analyzer.stats as stats

    log = generate_slowlog(tmp_path / "gen.log", "--events", "3000", "--seed", "12")
    extra = generate_slowlog(tmp_path / "extra.log", "--events", "3000", "--seed", "13", "--extra")
    batches = []
    for path in (log, extra):
        events, _malformed, _state = read_all(path)
        batches.append([dict(e[1]) for e in events])
    batches.append(batches[0][:100] + batches[1][:100])  # two shapes: handed back
    batches.append([{"query_time": 1.0, "rows_sent": 2}])  # an int: handed back
    batches.append([{"rows_sent": 2.0, "query_time": 1.0}, {"query_time": 1.0, "rows_sent": 2.0}])  # order differs
    batches.append([{}, {}])  # a general log's events measure nothing
    compiled = 0
    for dicts in batches:
        fast = stats._metric_columns(np, dicts)
        compiled += speedups.metric_rows(dicts) is not None
        saved, stats._metric_rows = stats._metric_rows, None
        try:
            slow = stats._metric_columns(np, dicts)
        finally:
            stats._metric_rows = saved
        assert list(fast) == list(slow)
        for name in fast:
            assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    assert speedups.metric_rows(batches[0]) is not None  # the classic log's batch is one shape
    assert compiled >= 2, compiled
