"""The slow-log reader, field by field, against other parsers' expected events and real logs."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import sys
from pathlib import Path

import pytest

from analyzer.errors import InputError
from analyzer.model import QueryEvent
from analyzer.sources.slowlog import SlowLogReader, format_ts
from tests.conftest import FIXTURES

PT = FIXTURES / "percona-toolkit"
GO = FIXTURES / "go-mysql"
ELASTIC = FIXTURES / "slowlogs-elastic-beats/filebeat/module/mysql/slowlog/test"


def read(path: Path | str) -> tuple[list[QueryEvent], SlowLogReader]:
    reader = SlowLogReader.from_path(str(path))
    return list(reader.events()), reader


def read_text(text: str, tmp_path: Path, name: str = "slow.log") -> tuple[list[QueryEvent], SlowLogReader]:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return read(path)


def all_fixture_logs() -> list[Path]:
    from tests.test_conformance_pt import LOG_GLOBS

    return sorted({p for pattern in LOG_GLOBS for p in FIXTURES.glob(pattern) if p.is_file()})


# ---------------------------------------------------------------------------------------------
# pt-query-digest's own parser tests (SlowLogParser.t) as the reference
# ---------------------------------------------------------------------------------------------
def _pt_cases() -> list[dict]:
    cases = json.loads((PT / "derived/SlowLogParser.t.expected_events.json").read_text())
    return [c for c in cases if isinstance(c.get("result"), list) and not c.get("misc")]


# Where pt-query-digest's parser is wrong and mqa deliberately differs: (file, event) -> mqa's answer.
PT_PARSER_BUGS = {
    # pt invents '/* No query */' for an event whose statement is a client's "use test_db"
    ("t/lib/samples/slowlogs/slow056.txt", 0): "use test_db",
}


@pytest.mark.parametrize("case", _pt_cases(), ids=lambda c: f"{c['file'].rsplit('/', 1)[-1]}:{c['line']}")
def test_events_match_pt_slowlogparser_expectations(case: dict) -> None:
    events, _ = read(PT / case["file"])
    expected = case["result"]
    assert len(events) == len(expected)
    for i, (got, want) in enumerate(zip(events, expected)):
        ours = PT_PARSER_BUGS.get((case["file"], i))
        assert got.query == (ours if ours is not None else want["arg"].rstrip().rstrip(";").rstrip())
        for pt_name, name in (
            ("Query_time", "query_time"),
            ("Lock_time", "lock_time"),
            ("Rows_sent", "rows_sent"),
            ("Rows_examined", "rows_examined"),
        ):
            if (pt_name in want and name not in ("rows_sent", "rows_examined")) or (pt_name in want and not got.admin):
                assert got.metrics[name] == pytest.approx(float(want[pt_name])), pt_name
        for flag in ("Filesort", "Full_scan", "Full_join", "Tmp_table", "QC_Hit"):
            if flag in want:
                assert got.metrics[flag.lower()] == (1.0 if want[flag] == "Yes" else 0.0)
        if "user" in want:
            assert got.user == want["user"]
        if "host" in want:
            assert got.host == (want["host"] or want.get("ip"))
        if "Thread_id" in want:
            assert got.thread_id == str(want["Thread_id"])
        want_db = want.get("db") or want.get("Schema")
        if want_db:
            assert got.db == want_db.strip("`")
        assert got.admin == (want.get("cmd") == "Admin")


# ---------------------------------------------------------------------------------------------
# go-mysql's parser tests (PMM's parser) as a second reference
# ---------------------------------------------------------------------------------------------
def _go_cases() -> list[dict]:
    cases = json.loads((GO / "derived/parser_expected_events.json").read_text())
    # StartOffset / FilterAdminCommand are options of that parser, not of the log
    return [c for c in cases if "StartOffset" not in c["options"] and "Filter" not in c["options"]]


# go-mysql keeps the error number and kill code; mqa counts statements that had one.
GO_NONZERO = {"Last_errno": "errors", "Errno": "errors", "Killed": "killed"}
# Where go-mysql's parser and mqa deliberately differ: test -> (events mqa finds, why).
GO_DIFFERENCES = {
    "TestParseSlow016": (
        ["administrator command: Quit", "SHOW /*!50002 GLOBAL */ STATUS"],
        "the log starts mid-header before '# administrator command: Quit;': pt-query-digest and "
        "mqa count that command, go-mysql drops it",
    ),
}


@pytest.mark.parametrize("case", _go_cases(), ids=lambda c: c["test"])
def test_events_match_go_mysql_parser_expectations(case: dict) -> None:
    events, _ = read(GO / case["file"])
    if "expect_len" in case:
        assert len(events) == case["expect_len"]
        return
    expected = case["expect"]
    if case["test"] in GO_DIFFERENCES:
        queries, why = GO_DIFFERENCES[case["test"]]
        assert [e.query for e in events] == queries, why
        events = [e for e in events if e.query in {w["Query"] for w in expected}]
    assert len(events) == len(expected)
    for got, want in zip(events, expected):
        admin = want.get("Admin", False)
        assert got.admin == admin
        assert got.query == (f"administrator command: {want['Query']}" if admin else want["Query"])
        assert got.user == want["User"]
        if want["Host"]:
            assert got.host == want["Host"]
        if want.get("Db"):
            assert got.db == want["Db"]
        for name, value in {**want.get("TimeMetrics", {}), **want.get("NumberMetrics", {})}.items():
            if name == "Thread_id":
                assert got.thread_id == str(value)
            elif name == "InnoDB_trx_id":
                continue  # a transaction id, kept by mqa as a string attribute
            elif name in GO_NONZERO:
                assert got.metrics[GO_NONZERO[name]] == float(value != 0), name
            elif name.startswith("Rows_") and got.admin:
                assert got.metrics[name.lower()] == 0  # stale row counts of admin commands are zeroed
            else:
                assert got.metrics[name.lower()] == pytest.approx(value), name
        for name, value in want.get("BoolMetrics", {}).items():
            assert got.metrics[name.lower()] == float(value), name
        ts = want.get("Ts", {}).get("time")
        if ts and not ts.startswith("0001"):
            shown = format_ts(got.ts, got.tz)
            assert shown is not None and shown[:19] == ts[:19]


# ---------------------------------------------------------------------------------------------
# Every dialect the issue names, on real logs
# ---------------------------------------------------------------------------------------------
def test_mysql8_log_slow_extra(tmp_path: Path) -> None:
    events, reader = read(ELASTIC / "mysql-ubuntu-8.0.15.log")
    assert reader.dialect == "mysql 8.0.15"
    assert [e.metrics["query_time"] for e in events] == [2.475469, 2.631844]
    extra = events[1].metrics
    assert extra["read_key"] == 3144072 and extra["read_rnd_next"] == 301663 and extra["bytes_sent"] == 312
    assert extra["created_tmp_tables"] == 1 and extra["sort_rows"] == 10
    assert extra["errors"] == 0 and extra["killed"] == 0
    assert events[1].thread_id == "16" and events[1].db == "employees"
    assert format_ts(events[0].ts, events[0].tz) == "2019-03-24T14:01:47.811234+00:00"


def test_mysql8_adversarial_extra_lines() -> None:
    # slow029: Percona-style fields appended to MySQL 8 extra fields, then a hand-edited line
    # without "#": the statement must still be found.
    path = FIXTURES / "slowlogs-pmm-agent/unmerged-branch-1175629f/agents/mysql/slowlog/parser/testdata/slow029.log"
    events, _ = read(path)
    assert len(events) == 1
    assert events[0].metrics["query_time"] > 0


def test_mariadb_lines_and_millisecond_units(tmp_path: Path) -> None:
    log = (
        "# Time: 241127 11:57:00\n"
        "# User@Host: shop_web[shop_web] @ localhost []\n"
        "# Thread_id: 5  Schema: shop  QC_hit: No\n"
        "# Query_time: 0.019547  Lock_time: 0.000051  Rows_sent: 0  Rows_examined: 50002\n"
        "# Rows_affected: 1  Bytes_sent: 52\n"
        "# Pages_accessed: 606  Pages_read: 0  Pages_prefetched: 0  Pages_updated: 6  Old_rows_read: 0\n"
        "# Pages_read_time: 12.5000  Engine_time: 16.7817\n"
        "# Full_scan: Yes  Full_join: No  Tmp_table: No  Tmp_table_on_disk: No\n"
        "# Filesort: No  Filesort_on_disk: No  Merge_passes: 0  Priority_queue: No\n"
        "#\n"
        "# explain: id\tselect_type\ttable\ttype\tpossible_keys\tkey\tkey_len\tref\trows\tr_rows\tfiltered\tr_filtered\tExtra\n"
        "# explain: 1\tSIMPLE\treviews\tALL\tNULL\tNULL\tNULL\tNULL\t49934\t50001.00\t100.00\t0.09\tUsing where\n"
        "#\n"
        "# Warnings\n"
        "# Note 1265 Data truncated for column 'rating_avg' at row 50002\n"
        "SET timestamp=1732708620;\n"
        "UPDATE products SET rating_avg = 4 WHERE id = 2254;\n"
    )
    events, reader = read_text(log, tmp_path)
    assert reader.dialect == "mariadb"
    (event,) = events
    m = event.metrics
    assert m["pages_read_time"] == pytest.approx(0.0125)  # milliseconds in the log
    assert m["engine_time"] == pytest.approx(0.0167817)
    assert m["rows_affected"] == 1 and m["full_scan"] == 1 and m["filesort"] == 0 and m["qc_hit"] == 0
    assert m["warnings"] == 1
    assert event.thread_id == "5" and event.db == "shop"
    assert event.explain is not None and len(event.explain) == 2 and event.explain[1].startswith("1\tSIMPLE\treviews")
    # "# Time" is local time; SET timestamp (UTC) gives the offset: here UTC.
    assert format_ts(event.ts, event.tz) == "2024-11-27T11:57:00+00:00"
    assert "qc_hit" in reader.flag_metrics and "full_scan" in reader.flag_metrics


def test_recorded_mariadb_sample_workload() -> None:
    path = Path(__file__).resolve().parents[1] / "sample_workloads/shop/slow.log.gz"
    events, reader = read(path)
    facts = json.loads(path.with_name("slow.log.json").read_text())
    assert reader.malformed_count == 0
    assert len(events) == 20_009
    assert reader.dialect.startswith("mariadb 10.11")
    assert sum(1 for e in events if e.explain) > 10_000
    assert all(e.db == "shop" for e in events[:100])
    assert facts["server"]["version"].startswith("10.11")


def test_percona_extended_lines() -> None:
    events, reader = read(ELASTIC / "percona-ubuntu-5.7.19.log")
    assert reader.dialect == "percona"
    update = next(e for e in events if e.query.startswith("UPDATE"))
    m = update.metrics
    assert m["innodb_io_r_ops"] == 9744 and m["innodb_io_r_wait"] == pytest.approx(0.883446)
    assert m["innodb_pages_distinct"] == 64872 and m["rows_affected"] == 19198
    assert update.attrs["innodb_trx_id"] == "69BB9C7F9"
    assert update.attrs["log_slow_rate_limit"] == "100"
    # "No InnoDB statistics available for this query" events have no InnoDB metrics
    show = next(e for e in events if e.query.startswith("SHOW GLOBAL STATUS"))
    assert "innodb_io_r_ops" not in show.metrics
    # "# Schema:   Last_errno" (empty schema) gives no database
    assert show.db is None


def test_percona_8_server_restart_banner_mid_file() -> None:
    events, reader = read(ELASTIC / "percona-ubuntu-8.0.15.log")
    assert len(events) == 2 and reader.malformed_count == 0
    assert reader.dialect == "percona 8.0.15-5"
    assert all(e.query.startswith("SELECT last_name") for e in events)
    assert events[1].metrics["tmp_tables"] == 1


def test_old_time_format_and_iso_offsets() -> None:
    events, _ = read(ELASTIC / "mysql-ubuntu-5.5.53.log")
    assert format_ts(events[0].ts, events[0].tz) == "2016-12-09T14:37:59+00:00"
    events, _ = read(ELASTIC / "mysql-5.7.22.log")
    assert format_ts(events[0].ts, events[0].tz) == "2018-08-07T16:27:47.169604+08:00"


def test_missing_time_lines_inherit_and_set_timestamp_is_used(tmp_path: Path) -> None:
    events, _ = read(ELASTIC / "mysql-debian-5.7.17.log")  # starts without "# Time"
    assert len(events) == 3
    assert format_ts(events[0].ts, events[0].tz) == "2017-04-28T09:07:43.071491+00:00"  # SET timestamp + Query_time


def test_use_set_and_admin_commands(tmp_path: Path) -> None:
    log = (
        "# Time: 2024-05-01T10:00:00.000001Z\n"
        "# User@Host: app[app] @ web1 [10.0.0.1]  Id:    42\n"
        "# Query_time: 0.5  Lock_time: 0.1 Rows_sent: 3  Rows_examined: 9\n"
        "use shop;\n"
        "SET last_insert_id=5,insert_id=6,timestamp=1714557599;\n"
        "INSERT INTO t VALUES (1);\n"
        "# Time: 2024-05-01T10:00:01.000001Z\n"
        "# User@Host: app[app] @ web1 [10.0.0.1]  Id:    42\n"
        "# Query_time: 0.000010  Lock_time: 0.000000 Rows_sent: 3  Rows_examined: 9\n"
        "SET timestamp=1714557601;\n"
        "# administrator command: Quit;\n"
        "# Time: 2024-05-01T10:00:02.000001Z\n"
        "# User@Host: app[app] @ web1 [10.0.0.1]  Id:    43\n"
        "# Query_time: 0.000010  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0\n"
        "SET timestamp=1714557602;\n"
        "USE other;\n"
    )
    events, reader = read_text(log, tmp_path)
    assert [e.query for e in events] == ["INSERT INTO t VALUES (1)", "administrator command: Quit", "USE other"]
    assert [e.db for e in events] == ["shop", "shop", "shop"]  # "use db;" persists, as in the server
    assert events[0].user == "app" and events[0].host == "web1" and events[0].thread_id == "42"
    assert events[1].admin and events[1].metrics["rows_sent"] == 0  # stale counts zeroed
    assert reader.malformed_count == 0


def test_multiline_statements_keep_hash_comment_lines(tmp_path: Path) -> None:
    log = (
        "# Time: 2024-05-01T10:00:00Z\n# User@Host: a[a] @ h []\n# Query_time: 1  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\n"
        "SELECT a,\n# Time: not a header inside a statement? it is: MySQL writes no such line\n"
    )
    events, reader = read_text(log, tmp_path)
    # The server ends every statement with ";" and every header has a "# Query_time:": a lone
    # "# Time:" line after "SELECT a," is a "#" comment of the statement, not an event start.
    assert [e.query for e in events] == [
        "SELECT a,\n# Time: not a header inside a statement? it is: MySQL writes no such line"
    ]
    assert reader.malformed_count == 0
    log = (
        "# Time: 2024-05-01T10:00:00Z\n# User@Host: a[a] @ h []\n# Query_time: 1  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\n"
        "SELECT a\n# Query_time: looks like a header but follows a line without ';'\nFROM t;\n"
    )
    events, _ = read_text(log, tmp_path)
    assert len(events) == 1 and events[0].query.endswith("FROM t")


def test_malformed_events_are_reported_with_file_and_line(tmp_path: Path) -> None:
    events, reader = read(ELASTIC / "mysql-debian-5.7.19.log")  # ends with a dangling "# Time:"
    assert len(events) == 1
    assert [(m.line, m.reason) for m in reader.malformed] == [
        (5, "event header without a statement at end of file (log cut short?)")
    ]
    assert str(reader.malformed[0]).startswith(str(ELASTIC / "mysql-debian-5.7.19.log") + ":5: ")

    events, reader = read(GO / "test/slow-logs/slow017.log")  # starts with a headerless statement
    assert [e.query for e in events] == ["SHOW /*!50002 GLOBAL */ STATUS"]
    assert [(m.line, m.reason) for m in reader.malformed] == [
        (1, "statement text without an event header (log starts mid-event?)")
    ]

    events, reader = read(PT / "t/lib/samples/slowlogs/slow017.txt")  # Query_time: 18446744073708.796870.000036
    assert events == [] and reader.malformed_count == 1
    assert reader.malformed[0].line == 1 and "Query_time" in reader.malformed[0].reason


def test_unusable_query_time_in_a_common_event(tmp_path: Path) -> None:
    log = (
        "# Time: 2024-05-01T10:00:00.000001Z\n# User@Host: a[a] @ h []  Id: 1\n"
        "# Query_time: 18446744073708.796870.000036  Lock_time: 0.000036  Rows_sent: 1  Rows_examined: 127\n"
        "SET timestamp=1714557600;\nSELECT 1;\n"
        "# Time: 2024-05-01T10:00:01.000001Z\n# User@Host: a[a] @ h []  Id: 1\n"
        "# Query_time: 0.5  Lock_time: 0.000036  Rows_sent: 1  Rows_examined: 127\n"
        "SET timestamp=1714557601;\nSELECT 2;\n"
    )
    events, reader = read_text(log, tmp_path)
    assert [e.query for e in events] == ["SELECT 2"]
    assert [(m.line, m.reason) for m in reader.malformed] == [(1, "unusable Query_time '18446744073708.796870.000036'")]


@pytest.mark.parametrize("log", all_fixture_logs(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_corpus_log_parses(log: Path) -> None:
    events, reader = read(log)
    assert reader.events_read == len(events)
    for event in events:
        assert event.source == str(log) and event.line >= 1
        assert event.query.strip()
    for bad in reader.malformed:
        assert bad.source == str(log) and bad.line >= 1 and bad.reason


# ---------------------------------------------------------------------------------------------
# Inputs: compression, stdin, junk, empty, huge
# ---------------------------------------------------------------------------------------------
def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize(
    "suffix,compress",
    [
        (".log", lambda b: b),
        (".gz", gzip.compress),
        (".bz2", bz2.compress),
        (".xz", lzma.compress),
        (".zst", _zstd),
        (".log", gzip.compress),
    ],  # compression is recognised by content, not by name
)
def test_compressed_inputs(tmp_path: Path, suffix: str, compress) -> None:
    plain = (ELASTIC / "mysql-ubuntu-5.5.53.log").read_bytes()
    path = tmp_path / f"slow{suffix}"
    path.write_bytes(compress(plain))
    events, _ = read(path)
    reference, _ = read(ELASTIC / "mysql-ubuntu-5.5.53.log")
    assert [e.query for e in events] == [e.query for e in reference]


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = gzip.compress((ELASTIC / "mysql-5.7.22.log").read_bytes())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    events, reader = read("-")
    assert len(events) == 4 and reader.name == "<stdin>"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        SlowLogReader.from_path(str(tmp_path / "nope.log"))
    with pytest.raises(InputError, match="is a directory"):
        SlowLogReader.from_path(str(tmp_path))


def test_binary_junk_empty_and_huge_inputs(tmp_path: Path) -> None:
    events, reader = read_text("", tmp_path, "empty.log")
    assert events == [] and reader.malformed_count == 0

    junk = bytes(range(256)) * 50 + b"\n\x00\xff# Time: nonsense\n\x89PNG\r\n"
    path = tmp_path / "junk.log"
    path.write_bytes(junk)
    events, reader = read(path)
    assert events == [] and reader.malformed_count >= 1

    big_in_list = ",".join(str(i) for i in range(400_000))  # a 2.7 MB statement on one line
    log = (
        "# Time: 2024-05-01T10:00:00Z\n# User@Host: a[a] @ h []\n# Query_time: 1.5  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\n"
        f"SELECT * FROM t WHERE id IN ({big_in_list});\n"
        "# Time: 2024-05-01T10:00:01Z\n# User@Host: a[a] @ h []\n# Query_time: 0.1  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\n"
        "SELECT 1;\n"
    )
    events, reader = read_text(log, tmp_path, "huge.log")
    assert len(events) == 2 and len(events[0].query) > 2_500_000 and reader.malformed_count == 0

    # invalid UTF-8 survives as the same bytes
    events, _ = read_text(
        "# User@Host: a[a] @ h []\n# Query_time: 1  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\nSELECT '\udcff\udcfe';\n",
        tmp_path,
        "latin.log",
    )
    assert events[0].query.encode("utf-8", "surrogateescape") == b"SELECT '\xff\xfe'"


def test_windows_line_ends(tmp_path: Path) -> None:
    text = (ELASTIC / "mysql-5.7.22.log").read_text().replace("\n", "\r\n")
    events, _ = read_text(text, tmp_path)
    assert len(events) == 4 and not any("\r" in e.query for e in events)
