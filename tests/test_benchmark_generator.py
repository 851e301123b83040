"""Tests for tests/benchmarks/generate_slowlog.py (the benchmark's MySQL 8.0 slow-log generator)."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import require_executable

GEN_PATH = Path(__file__).resolve().parent / "benchmarks" / "generate_slowlog.py"


def _load():
    spec = importlib.util.spec_from_file_location("generate_slowlog", GEN_PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_slowlog", mod)
    spec.loader.exec_module(mod)
    return mod


gen = _load()

N = 2000


@cache
def render(events: int = N, seed: int = 1, extra: bool = False, templates: int = 2000, spellings: bool = False) -> str:
    buf = io.StringIO()
    gen.generate(buf, events, seed=seed, templates=templates, extra=extra, spellings=spellings)
    return buf.getvalue()


BANNER = [
    f"/usr/sbin/mysqld, Version: {gen.MYSQL_VERSION} (MySQL Community Server - GPL). started with:",
    "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock",
    "Time                 Id Command    Argument",
]
RE_TIME = re.compile(r"^# Time: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z$")
RE_USER = re.compile(r"^# User@Host: (\w+)\[(\w+)\] @ ([\w.-]*) \[([\d.]*)\]  Id: ( {0,4}\d+)$")
RE_QT = re.compile(
    r"^# Query_time: (\d+\.\d{6})  Lock_time: (\d+\.\d{6}) "
    r"Rows_sent: (\d+)  Rows_examined: (\d+)(.*)$"
)
RE_USE = re.compile(r"^use (\w+);$")
RE_SET = re.compile(r"^SET (?:insert_id=\d+,)?timestamp=(\d+);$")
EXTRA_FIELDS = [
    "Thread_id",
    "Errno",
    "Killed",
    "Bytes_received",
    "Bytes_sent",
    "Read_first",
    "Read_last",
    "Read_key",
    "Read_next",
    "Read_prev",
    "Read_rnd",
    "Read_rnd_next",
    "Sort_merge_passes",
    "Sort_range_count",
    "Sort_rows",
    "Sort_scan_count",
    "Created_tmp_disk_tables",
    "Created_tmp_tables",
    "Start",
    "End",
]


def parse(text: str) -> list[dict]:
    """Strict reader of the generator's output: returns one dict per event, asserting the layout."""
    lines = text.split("\n")
    assert lines[:3] == BANNER
    assert lines[-1] == "", "file must end with a newline"
    lines = lines[3:-1]
    events, i, n = [], 0, len(lines)
    while i < n:
        ev: dict = {}
        m = RE_TIME.match(lines[i])
        assert m, (i, lines[i])
        ev["time"] = m.group(1) + "." + m.group(2)
        m = RE_USER.match(lines[i + 1])
        assert m, lines[i + 1]
        ev["user"], ev["thread_id"] = m.group(1), int(m.group(5))
        assert len(m.group(5)) >= 5, "Id is printed with %5u"
        m = RE_QT.match(lines[i + 2])
        assert m, lines[i + 2]
        ev["query_time"], ev["lock_time"] = float(m.group(1)), float(m.group(2))
        ev["rows_sent"], ev["rows_examined"], ev["extra"] = int(m.group(3)), int(m.group(4)), m.group(5)
        i += 3
        m = RE_USE.match(lines[i])
        if m:
            ev["use"] = m.group(1)
            i += 1
        m = RE_SET.match(lines[i])
        assert m, lines[i]
        ev["set"], ev["timestamp"] = lines[i], int(m.group(1))
        i += 1
        stmt = []
        while True:
            line = lines[i]
            assert not line.startswith("# Time:") and not line.startswith("# User@Host:"), line
            assert not line.startswith("#") or line.startswith("# administrator command: "), line
            stmt.append(line)
            i += 1
            if line.endswith(";") and (i == n or lines[i].startswith("# Time: ")):
                break
            assert i < n, "statement not terminated by ';'"
        ev["statement"] = "\n".join(stmt)
        events.append(ev)
    return events


def test_same_seed_is_byte_identical_and_other_seed_differs():
    a = render(N, 1)
    buf = io.StringIO()
    gen.generate(buf, N, seed=1)
    assert buf.getvalue() == a
    assert render(N, 2) != a


def test_cli_writes_the_same_bytes(tmp_path):
    out = tmp_path / "slow.log"
    r = subprocess.run(
        [sys.executable, str(GEN_PATH), "--events", str(N), "--seed", "1", "--output", str(out), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == render(N, 1).encode("utf-8")


def test_gzip_output_is_deterministic(tmp_path):
    paths = [tmp_path / "a.log.gz", tmp_path / "b.log.gz"]
    for p in paths:
        assert gen.main(["--events", "300", "--seed", "5", "--templates", "100", "--output", str(p), "--quiet"]) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert gzip.decompress(paths[0].read_bytes()).decode() == render(300, 5, templates=100)


def test_layout_parses_as_mysql80_slow_log():
    text = render(N, 1)
    events = parse(text)
    assert len(events) == N
    assert text.count("\n# Query_time: ") == N
    times = [e["time"] for e in events]
    assert times == sorted(times), "# Time: must advance monotonically"
    assert len({e["user"] for e in events}) >= 4
    assert len({e["thread_id"] for e in events}) >= 20
    for e in events:
        assert e["extra"] == ""
        assert e["lock_time"] <= e["query_time"]
        assert e["statement"].endswith(";")
        # SET timestamp= is the start second: never after the end (# Time:)
        assert e["timestamp"] <= gen._utc_epoch(e["time"][:19])
    stmts = [e["statement"] for e in events]
    assert any(s == "# administrator command: Quit;" for s in stmts)
    assert any(s in ("BEGIN;", "COMMIT;") for s in stmts)
    assert any("\n" in s for s in stmts), "some statements span several lines"
    assert any("traceparent=" in s for s in stmts), "some statements carry sqlcommenter tags"
    assert any(re.search(r"\bIN \(", s, re.I) for s in stmts)
    assert any(s.upper().startswith("INSERT") for s in stmts)
    assert any(s.upper().startswith("UPDATE") for s in stmts)
    assert any("\\'" in s for s in stmts), "some string literals contain an escaped quote"
    assert any(e["set"].startswith("SET insert_id=") for e in events)


def test_use_lines_follow_the_last_written_database():
    last = None
    for e in parse(render(N, 1)):
        if "use" in e:
            assert e["use"] != last, "use db; is written only when the database changes"
            last = e["use"]
    assert last is not None


def test_distinct_shapes_and_zipf_weights():
    lit = gen.Literals(gen.random.Random(1), gen._utc_epoch(gen.DEFAULT_START))
    tps = gen.build_templates(2000, 1, lit)
    assert len(tps) == 2000
    assert len({t.shape for t in tps}) == 2000
    assert abs(sum(t.weight for t in tps) - 1.0) < 1e-9
    regular = sorted((t.weight for t in tps if not t.shape.startswith("special:")), reverse=True)
    assert regular[0] > 100 * regular[-1]


def test_templates_option_limits_distinct_statements():
    events = parse(render(1500, 3, templates=40))
    assert len(events) == 1500
    norm = {re.sub(r"'(?:[^'\\]|\\.)*'|\b\d+(?:\.\d+)?\b", "?", e["statement"]) for e in events}
    # IN lists and multi-row VALUES vary in length, so normalised texts exceed 40 a bit
    assert len(norm) < 40 * 3


def test_extra_adds_log_slow_extra_fields_in_server_order():
    events = parse(render(N, 1, extra=True))
    assert len(events) == N
    for e in events:
        fields = re.findall(r" (\w+): (\S+)", e["extra"])
        assert [k for k, _ in fields] == EXTRA_FIELDS
        v = dict(fields)
        assert int(v["Thread_id"]) == e["thread_id"]
        assert v["End"] == e["time"] + "Z"
        start = gen._utc_epoch(v["Start"][:19]) * 10**6 + int(v["Start"][20:26])
        end = gen._utc_epoch(v["End"][:19]) * 10**6 + int(v["End"][20:26])
        assert end - start == round(e["query_time"] * 1e6)
        assert e["timestamp"] == start // 10**6
    # the plain log carries none of them
    assert "Thread_id:" not in render(N, 1)
    # --extra changes nothing else: same statements, times and rows as the plain log
    plain = parse(render(N, 1))
    for a, b in zip(events, plain):
        assert {k: v for k, v in a.items() if k != "extra"} == {k: v for k, v in b.items() if k != "extra"}


def test_spellings_vary_every_spelling_the_canonical_class_ignores():
    text = render(N, 1, extra=True, spellings=True)
    assert text == render(N, 1, extra=True, spellings=True)
    events = parse(text)
    assert len(events) == N
    stmts = [e["statement"] for e in events]
    for needle in ("select ", "Select ", "SELECT ", "`", "/*+ ", "/*!40001 ", "-- job ", "\n  FROM", "\t",
                   " AS a", "_utf8mb4'", "N'", "_binary'", "0x", "e0", '"', "''", "e-2"):  # fmt: skip
        assert any(needle in s for s in stmts), needle
    assert any(re.search(r"= -\d", s) for s in stmts), "negative numbers"
    assert any(re.search(r"\w=\S", s) for s in stmts), "no blanks around ="
    truth: dict = {}
    gen.generate(io.StringIO(), 500, templates=100, spellings=True, truth=truth, record_templates=True)
    assert len(truth["templates"]) == 500 and max(truth["templates"]) < len(truth["shapes"])


@pytest.mark.oracle
def test_pt_query_digest_counts_every_event_of_the_spellings_log(tmp_path):
    pt = require_executable("pt-query-digest", "apt-get install percona-toolkit")
    log = tmp_path / "slow.log"
    log.write_text(render(3000, 1, extra=True, spellings=True), encoding="utf-8")
    r = subprocess.run(
        [pt, "--output", "json", "--limit", "1000000", "--no-version-check", str(log)], capture_output=True, timeout=300
    )
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert int(json.loads(r.stdout)["global"]["query_count"]) == 3000


@pytest.mark.oracle
def test_pt_query_digest_counts_every_event(tmp_path):
    pt = require_executable("pt-query-digest", "apt-get install percona-toolkit")
    log = tmp_path / "slow.log"
    log.write_text(render(3000, 1), encoding="utf-8")
    r = subprocess.run(
        [pt, "--output", "json", "--limit", "1000000", "--no-version-check", str(log)], capture_output=True, timeout=300
    )
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    doc = json.loads(r.stdout)
    assert int(doc["global"]["query_count"]) == 3000
    assert sum(int(c["query_count"]) for c in doc["classes"]) == 3000
