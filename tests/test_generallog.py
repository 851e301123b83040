"""The general query log as an input (``analyzer/sources/generallog.py`` and ``mqa digest``).

Truth first: the logs in ``tests/fixtures/generallog/mariadb-10.11/`` were recorded from a real
MariaDB 10.11 (``tests/generallog_recording.py``), the file and four exports of the table from
one run, with the list of every statement each connection sent; the reader must give back exactly
those statements, whole, with each connection's id, user, host and database, in every layout.  The
live test records again on the test chain's server.  MySQL 5.7 files (the same layout as MySQL 8)
are checked against the events pt-query-digest's own GeneralLogParser tests expect.
"""

from __future__ import annotations

import calendar
import gzip
import json
import shutil
import subprocess
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.digest import DigestAccumulator, digest_logs, parallel
from analyzer.digest.filters import EventFilter
from analyzer.digest.views import Views
from analyzer.errors import InputError
from analyzer.model import QueryEvent
from analyzer.report.digest import build_report
from analyzer.report.options import RenderOptions
from analyzer.report.render.html import to_html
from analyzer.report.render.markdown import to_markdown
from analyzer.sources.generallog import GeneralLogReader, open_log_reader, sniff
from analyzer.sources.slowlog import SlowLogReader
from cli.main import app
from tests.conftest import FIXTURES, REPO, require_executable, skip_or_fail
from tests.generallog_recording import FILES, FORGED_FILE_LINES, clean_up, record

RECORDED = FIXTURES / "generallog" / "mariadb-10.11"
LAYOUTS = {
    FILES["file"]: "file",
    FILES["tsv"]: "table-tsv",
    FILES["csv"]: "table-csv",
    FILES["outfile"]: "table-tsv",
    FILES["outfile_csv"]: "table-csv",
}
PT_GENLOGS = FIXTURES / "percona-toolkit" / "t" / "lib" / "samples" / "genlogs"
runner = CliRunner()


def mqa(*args: str, input: bytes | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def events_of(path: Path | str) -> tuple[GeneralLogReader, list[QueryEvent]]:
    reader = open_log_reader(str(path))
    assert isinstance(reader, GeneralLogReader)
    return reader, list(reader.events())


def write(tmp_path: Path, text: str, name: str = "general.log") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# Recorded from MariaDB 10.11: what was sent comes back, in every layout
# --------------------------------------------------------------------------------------------


def check_against_truth(directory: Path, truth: dict) -> dict[str, list[QueryEvent]]:
    """Every layout in ``directory`` gives back exactly the statements ``truth`` says were sent,
    per connection, in order, with user, host and database; returns the events per layout."""
    want: dict[str, list[tuple]] = defaultdict(list)
    for s in truth["statements"]:
        want[str(s["thread"])].append((s["sql"], s["db"], s["user"], s["host"]))
    out = {}
    for name, layout in LAYOUTS.items():
        reader, events = events_of(directory / name)
        assert reader.layout == layout, name
        assert reader.malformed == [], (name, reader.malformed)
        got: dict[str, list[tuple]] = defaultdict(list)
        for e in events:
            got[e.thread_id].append((e.query, e.db, e.user, e.host))
            assert e.metrics == {}  # no timings in a general log
        for thread, statements in want.items():
            assert got[thread] == statements, (name, thread)
        # Whatever else is in the log is the administrator's (switching the log on and off).
        assert {e.user for e in events if e.thread_id not in want} <= {"root"}, name
        assert sum(len(v) for v in want.values()) == len(truth["statements"])
        out[name] = events
    return out


def truth_digest(truth: dict):
    """The classes of the statements the recording sent, by the same classifier."""
    acc = DigestAccumulator()
    acc.add_events(
        QueryEvent(s["sql"], {}, None, None, s["user"], s["host"], s["db"], str(s["thread"]))
        for s in truth["statements"]
    )
    return acc.result()


def class_facts(result) -> dict[str, tuple]:
    return {
        c.fingerprint: (c.stats.count, dict(c.stats.users), dict(c.stats.hosts), dict(c.stats.databases))
        for c in result.classes
    }


def check_digest(directory: Path, truth: dict) -> None:
    """Class counts, users, hosts and databases of each layout's digest equal those of the
    statements sent (the administrator's statements left out by --user)."""
    expected = class_facts(truth_digest(truth))
    assert len(expected) >= 40  # the workload's and the hand-written statements' classes
    for name in LAYOUTS:
        result = digest_logs([str(directory / name)], event_filter=EventFilter(users=("gl_*",)))
        assert class_facts(result) == expected, name
        assert sum(c.stats.count for c in result.classes) == len(truth["statements"])


def test_recorded_statements_come_back_whole_with_their_connection() -> None:
    truth = json.loads((RECORDED / "truth.json").read_text())
    assert truth["server"].startswith("10.11.") and "MariaDB" in truth["server"]
    assert len(truth["statements"]) == 179 and len({s["thread"] for s in truth["statements"]}) == 11
    check_against_truth(RECORDED, truth)


def test_recorded_classes_count_what_was_sent() -> None:
    check_digest(RECORDED, json.loads((RECORDED / "truth.json").read_text()))


def test_recorded_layouts_agree_on_times_and_bookkeeping() -> None:
    readers = {}
    stamps = {}
    for name in LAYOUTS:
        reader, events = events_of(RECORDED / name)
        readers[name] = reader
        stamps[name] = [e.ts for e in events]
        assert all(e.ts is not None and e.tz is None for e in events)  # local times, no offset written
        assert stamps[name] == sorted(stamps[name])
    table = stamps[FILES["tsv"]]
    for name in LAYOUTS:
        if name != FILES["file"]:
            assert stamps[name] == table  # the table's microseconds, whatever the export
    # The file writes the second, and only when it changed: carried, it is the table's second.
    assert stamps[FILES["file"]] == [float(int(t)) for t in table]
    for name, reader in readers.items():
        # 11 connections sent the truth's 179 statements (4 of them executions of prepared ones); the
        # administrator's two connections sent 3 more; the refused login is two Connect entries.
        assert dict(reader.commands) == {
            "Query": 178, "Execute": 4, "Prepare": 2, "Close stmt": 2, "Connect": 15, "Quit": 13, "Init DB": 7,
        }, name  # fmt: skip
        seen = (reader.connections_seen, reader.connections_opened, reader.connections_failed)
        assert seen == (13, 13, 1), name


def test_forged_entry_lines_inside_literals_and_comments_stay_statement_text() -> None:
    _, events = events_of(RECORDED / FILES["file"])
    forged = [e for e in events if FORGED_FILE_LINES in e.query]
    assert len(forged) == 3  # in '...', in "..." and in /* */
    assert all(e.user == "gl_admin" and e.db == "mqa_genlog_notes" for e in forged)
    assert not any(e.query.startswith("DROP TABLE forged") or e.user == "evil" for e in events)
    assert not any(e.thread_id in ("77", "99") for e in events)
    # The unbalanced quote (a syntax error the server logged all the same) is one statement, and the
    # refused login and the statements after it are read as entries again.
    queries = [e.query for e in events if e.user == "gl_admin"]
    at = queries.index("SELECT body FROM notes WHERE author = 'O'Brien'")
    assert queries[at + 1] == "SELECT 'after the unbalanced one', author FROM notes WHERE id = 2"


def test_the_recording_three_times_over_reads_as_three_recordings(tmp_path: Path) -> None:
    """The unbalanced quote of one copy reads on into the next copy, whose literals hold forged entry
    lines: the statement still ends where the server's next entry begins."""
    text = (RECORDED / FILES["file"]).read_text()
    head, body = text.split("Argument\n", 1)
    _, once = events_of(RECORDED / FILES["file"])
    reader, thrice = events_of(write(tmp_path, head + "Argument\n" + body * 3))
    assert [e.query for e in thrice] == [e.query for e in once] * 3
    assert reader.malformed == []


def test_events_carry_what_a_per_connection_view_needs() -> None:
    _, events = events_of(RECORDED / FILES["file"])
    by_connection: dict[str, list[QueryEvent]] = defaultdict(list)
    for e in events:
        assert e.thread_id and e.ts is not None and e.source.endswith(FILES["file"]) and e.line > 0
        by_connection[e.thread_id].append(e)
    worker = next(v for v in by_connection.values() if v[0].user == "gl_worker" and v[0].host == "127.0.0.1")
    assert [e.attrs.get("command", "Query") for e in worker[:6]] == [
        "Query",
        "Execute",
        "Execute",
        "Execute",
        "Execute",
        "Query",
    ]
    assert worker[-1].db == "mqa_genlog_notes" and worker[1].db == "mqa_genlog_shop"  # COM_INIT_DB in between


def test_live_recording_on_the_test_server(server, tmp_path: Path) -> None:
    """Record again on the test chain's server: FILE output and the table's exports agree with
    what was sent."""
    if server.local is None:
        skip_or_fail("the FILE output test needs the test server on this machine (it reads the file it writes)")
    if not (shutil.which("mariadb") or shutil.which("mysql")):
        pytest.fail("no mariadb/mysql client to export mysql.general_log with")
    started = time.time()
    try:
        truth = record(server, tmp_path, statements=80)
    finally:
        clean_up(server)
    finished = time.time()
    assert truth["replayed"]["errors"] == 0
    events = check_against_truth(tmp_path, truth)
    check_digest(tmp_path, truth)
    # Local times without an offset: the server's wall clock, as this machine's local time.
    low = calendar.timegm(time.localtime(started)) - 2
    high = calendar.timegm(time.localtime(finished)) + 2
    for name, evs in events.items():
        assert all(low <= e.ts <= high for e in evs), name


# --------------------------------------------------------------------------------------------
# MySQL 5.7 files (MySQL 8's layout) and old ones: pt-query-digest's GeneralLogParser cases
# --------------------------------------------------------------------------------------------


def test_the_events_pt_query_digests_parser_expects() -> None:
    cases = json.loads(
        (FIXTURES / "percona-toolkit" / "derived" / "GeneralLogParser.t.expected_events.json").read_text()
    )
    assert len(cases) == 5
    for case in cases:
        path = FIXTURES / "percona-toolkit" / case["file"]
        expected = [e for e in case["result"] if e["cmd"] == "Query"]
        reader, events = events_of(path)
        assert [e.query for e in events] == [e["arg"] for e in expected], case["file"]
        assert [e.thread_id for e in events] == [e["Thread_id"] for e in expected]
        for got, want in zip(events, expected):
            if want.get("db"):
                assert got.db == want["db"], case["file"]
            if want.get("ts"):
                stamp = want["ts"]
                if "T" in stamp:
                    assert got.ts == pytest.approx(_iso_epoch(stamp)), case["file"]
        connects = [e for e in case["result"] if e["arg"] == "administrator command: Connect"]
        assert reader.connections_opened == len(connects), case["file"]
    _, events = events_of(PT_GENLOGS / "pt-1573-general-log-system.log")
    assert {e.tz for e in events} == {8 * 3600} and events[0].user == "mysqlha_common"
    reader, events = events_of(PT_GENLOGS / "genlog005.txt")
    assert reader.dialect == "mysql 5.7.12-0ubuntu1-log" and {e.tz for e in events} == {0}


@pytest.mark.oracle
def test_pt_query_digest_counts_the_same_statements_but_forged_lines_and_executions() -> None:
    """pt-query-digest --type genlog on the recorded file: every class of ours, with pt's fingerprint,
    is pt's class with the same id and count, but for the statements whose literals or comments hold
    forged entry lines (pt splits them, and reports the forged DROP TABLE three times) and the
    executions of prepared statements (pt counts them as "administrator command: Execute", without
    their text)."""
    pt = require_executable("pt-query-digest", "apt-get install percona-toolkit")
    path = str(RECORDED / FILES["file"])
    out = subprocess.run(
        [pt, "--type", "genlog", "--output", "json", "--limit", "1000000", path],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    theirs = {c["checksum"]: (c["fingerprint"], c["query_count"]) for c in json.loads(out.stdout)["classes"]}
    ours = {c.pt_id: (c.fingerprint, c.stats.count) for c in digest_logs([path], mode="pt").classes}
    _, events = events_of(path)
    special = DigestAccumulator("pt")
    special.add_events(e for e in events if FORGED_FILE_LINES in e.query or e.attrs.get("command") == "Execute")
    apart = {c.pt_id for c in special.result().classes}
    assert len(apart) == 4 and all(k not in theirs for k in apart)
    assert {k for k in ours if theirs.get(k) != ours[k]} == apart
    assert len(ours) - len(apart) == 56  # the rest agree, id and count
    only_pt = sorted(fp for k, (fp, _) in theirs.items() if k not in ours)
    assert [fp for fp in only_pt if not fp.startswith("administrator command: ")] == [
        "drop table forged_in_a_literal",
        'insert into notes (body, author) values ("double',
        "insert into notes (body, author) values ('first line",
        "select count(*) from notes /* a comment",
    ]
    assert theirs["9A41B0F439A4FECAD2A36DE980400404"] == ("drop table forged_in_a_literal", 3)
    assert theirs["2A89113BB920BA301228F184663C8627"] == ("administrator command: Execute", 4)


def _iso_epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --------------------------------------------------------------------------------------------
# Recognised by content; slow logs are read as before
# --------------------------------------------------------------------------------------------

SLOW_LOG_DIRS = (
    FIXTURES / "percona-toolkit" / "t" / "lib" / "samples" / "slowlogs",
    FIXTURES / "percona-toolkit" / "t" / "pt-index-usage" / "samples",
    FIXTURES / "go-mysql",
    FIXTURES / "slowlogs-elastic-beats",
    FIXTURES / "slowlogs-pmm-agent",
    REPO / "sample_workloads",
)


def test_no_slow_log_of_the_corpora_is_taken_for_a_general_log() -> None:
    seen = 0
    for directory in SLOW_LOG_DIRS:
        for path in sorted(directory.rglob("*")):
            if not path.is_file() or not any(s in path.name for s in ("slow", ".log")) or path.suffix == ".json":
                continue
            reader = open_log_reader(str(path))
            reader.log.close()
            assert isinstance(reader, SlowLogReader), path
            seen += 1
    assert seen > 100


@pytest.mark.parametrize(
    "text, layout",
    [
        ("/usr/sbin/mariadbd, Version: 10.11.6-MariaDB-log (Debian). started with:\nTcp port: 0  Unix socket: s\n"
         "Time\t\t    Id Command\tArgument\n241201 10:00:00\t     5 Connect\ta@localhost on  using Socket\n", "file"),
        ("2024-12-01T10:00:00.000001Z\t    8 Query\tselect 1\n", "file"),
        ("\t\t     5 Query\tSELECT 1\n", "file"),
        ("event_time\tuser_host\tthread_id\tserver_id\tcommand_type\targument\n", "table-tsv"),
        ("event_time\tthread_id\tcommand_type\targument\n", "table-tsv"),
        ("2024-12-01 10:00:00.123456\troot[root] @ localhost []\t5\t1\tQuery\tSELECT 1\n", "table-tsv"),
        ('"2024-12-01 10:00:00.123456","root[root] @ localhost []",5,1,"Query","SELECT 1"\n', "table-csv"),
        ("Time                 Id Command    Argument\n# Time: 2024-12-01T10:00:00Z\n# User@Host: a[a] @ h []\n", None),
        ("# Query_time: 1.0  Lock_time: 0 Rows_sent: 1  Rows_examined: 1\nSELECT 1;\n", None),
        ("hello\nworld\n", None),
        ("", None),
    ],
)  # fmt: skip
def test_layouts_are_recognised_by_content(text: str, layout: str | None) -> None:
    assert sniff(text) == layout


def test_a_compressed_general_log_and_stdin(tmp_path: Path) -> None:
    raw = (RECORDED / FILES["file"]).read_bytes()
    packed = tmp_path / "general.log.gz"
    packed.write_bytes(gzip.compress(raw))
    _, plain = events_of(RECORDED / FILES["file"])
    _, unpacked = events_of(packed)
    assert [(e.query, e.thread_id, e.db) for e in unpacked] == [(e.query, e.thread_id, e.db) for e in plain]
    result = mqa("digest", "-", "--format", "json", "--limit", "0", input=gzip.compress(raw))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["sources"][0]["kind"] == "generallog" and doc["summary"]["events"] == len(plain)


# --------------------------------------------------------------------------------------------
# The file layout, line by line
# --------------------------------------------------------------------------------------------

MARIADB_HEAD = (
    "/usr/sbin/mariadbd, Version: 10.11.6-MariaDB-0+deb12u1-log (Debian 12). started with:\n"
    "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n"
    "Time\t\t    Id Command\tArgument\n"
)


def test_times_are_carried_and_connections_remembered(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MARIADB_HEAD + "241201 10:00:00\t     5 Connect\tapp@10.0.0.7 on shop using TCP/IP\n"
        "\t\t     5 Query\tSELECT 1\n"
        "\t\t     6 Query\tSELECT 2\n"  # connected before the log began: nobody known
        "241201 10:00:02\t     5 Init DB\tother\n"
        "\t\t     5 Query\tuse `third`\n"
        "\t\t     5 Query\tSELECT 3\n"
        "\t\t     5 Quit\t\n"
        "\t\t     5 Query\tSELECT 4\n",  # the id again after Quit: a new connection, unknown
    )
    reader, events = events_of(path)
    assert [(e.query, e.ts, e.user, e.host, e.db) for e in events] == [
        ("SELECT 1", 1733047200.0, "app", "10.0.0.7", "shop"),
        ("SELECT 2", 1733047200.0, None, None, None),
        ("use `third`", 1733047202.0, "app", "10.0.0.7", "other"),
        ("SELECT 3", 1733047202.0, "app", "10.0.0.7", "third"),
        ("SELECT 4", 1733047202.0, None, None, None),
    ]
    assert reader.dialect == "mariadb 10.11.6-MariaDB-0+deb12u1-log"
    assert (reader.connections_seen, reader.connections_opened, reader.connections_failed) == (2, 1, 0)


def test_mysql_times_with_offsets_and_multi_line_statements(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2024-12-01T10:00:00.250000Z\t    8 Connect\troot@localhost on  using Socket\n"
        "2024-12-01T10:00:00.500000Z\t    8 Query\tSELECT a,\n  b\n\nFROM t\n"
        "2024-12-01T11:00:00.000000+01:00\t    8 Execute\tSELECT 1\n",
    )
    _, events = events_of(path)
    assert [(e.query, e.ts, e.tz) for e in events] == [
        ("SELECT a,\n  b\n\nFROM t", 1733047200.5, 0),
        ("SELECT 1", 1733047200.0, 3600),
    ]
    assert events[1].attrs == {"command": "Execute"}


def test_a_time_no_server_logs_is_reported_and_the_entry_keeps_the_last_good_time(tmp_path: Path) -> None:
    """Year 9999 would have packed into another class's time-line (time-lines index seconds in
    2**33); year 1 is before any server.  Both are damage, reported with their line."""
    path = write(
        tmp_path,
        "2024-12-01T10:00:00.250000Z\t    8 Query\tSELECT 1\n"
        "9999-12-31T23:59:59.000000Z\t    8 Query\tSELECT 2\n"
        "0001-01-01T00:00:00.000000+01:00\t    8 Query\tSELECT 3\n"
        "2024-12-01T10:00:01.000000Z\t    8 Query\tSELECT 4\n",
    )
    reader, events = events_of(path)
    assert [(e.query, e.ts) for e in events] == [
        ("SELECT 1", 1733047200.25),
        ("SELECT 2", 1733047200.25),
        ("SELECT 3", 1733047200.25),
        ("SELECT 4", 1733047201.0),
    ]
    assert [(m.line, m.reason.split(" '")[0]) for m in reader.malformed] == [
        (2, "unreadable or impossible time"),
        (3, "unreadable or impossible time"),
    ]


QUERY = "\t\t     5 Query\t"


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO t VALUES ('a\n\t\t     9 Query\tDROP TABLE x\n')",
        'INSERT INTO t VALUES ("a\n\t\t     9 Query\tDROP TABLE x\n")',
        "SELECT `a\n\t\t     9 Query\tDROP TABLE x` FROM t",
        "SELECT 1 /* a\n\t\t     9 Query\tDROP TABLE x\n*/",
        "INSERT INTO t VALUES ('a\n241201 10:00:01\t     9 Connect\tevil@h on x using Socket\n\t\t     9 Query\tSELECT 1\nb')",
        "INSERT INTO t VALUES ('it''s\n\t\t     9 Query\tDROP TABLE x', 'ok')",  # a doubled quote
        "INSERT INTO t VALUES ('it\\'s\n\t\t     9 Quit\t\nx')",  # an escaped quote
        "SELECT 'a\n/usr/sbin/mariadbd, Version: 10.11.6-MariaDB-log (Debian). started with:\n'",  # a banner
    ],
)
def test_forged_entry_lines_in_a_literal_or_comment_are_statement_text(tmp_path: Path, statement: str) -> None:
    path = write(tmp_path, MARIADB_HEAD + "241201 10:00:00" + QUERY[2:] + statement + "\n" + QUERY + "SELECT 'next'\n")
    reader, events = events_of(path)
    assert [e.query for e in events] == [statement, "SELECT 'next'"]
    assert {e.thread_id for e in events} == {"5"} and reader.malformed == []


def test_a_line_comment_in_a_second_literal_does_not_hide_the_closing_quote(tmp_path: Path) -> None:
    """Two values a user typed into one statement: the second one's "-- " would end the second
    reading's last forged entry at the top level, were line comments after the quote allowed."""
    first = "x\n\t\t     9 Query\tDROP TABLE x\n\t\t     9 Query\tSELECT 1"
    statement = f"INSERT INTO t (a, b) VALUES ('{first}', '-- ')"
    path = write(tmp_path, MARIADB_HEAD + "241201 10:00:00" + QUERY[2:] + statement + "\n" + QUERY + "SELECT 2\n")
    _, events = events_of(path)
    assert [e.query for e in events] == [statement, "SELECT 2"]


@pytest.mark.parametrize(
    "after",
    [
        [QUERY + "SELECT 'x' FROM t"],
        [QUERY + "SELECT 1", "\t\t     7 Connect\tAccess denied for user 'a'@'localhost' (using password: YES)", QUERY + "SELECT 2"],
        [QUERY + "SELECT 'a', 'b'", QUERY + "SELECT 'c'"],
        ["\t\t     7 Connect\tapp@localhost on  using Socket", "\t\t     7 Query\tSELECT 'x'"],
        [QUERY + "SELECT 1"],  # never closed: the end of the input
    ],
)  # fmt: skip
def test_a_literal_cut_short_ends_its_statement_at_the_next_entry(tmp_path: Path, after: list[str]) -> None:
    """A client sent an unbalanced quote: the entries after it are entries."""
    broken = "SELECT * FROM t WHERE name = 'O'Brien'"
    path = write(tmp_path, MARIADB_HEAD + "241201 10:00:00" + QUERY[2:] + broken + "\n" + "\n".join(after) + "\n")
    reader, events = events_of(path)
    expected = [broken] + [line.split("\t")[-1] for line in after if "Query\t" in line]
    assert [e.query for e in events] == expected
    assert reader.malformed == []


def test_a_literal_open_past_the_look_ahead_is_cut_short(tmp_path: Path) -> None:
    """Two unbalanced statements: the second one's quote "closes" the first one's literal, and the
    second reading fails on the second one's own open literal.  Past the look-ahead the first one
    is cut short; within it, everything between reads as one statement (a known limit, README)."""
    lines = [QUERY + "SELECT 'never closed"] + [QUERY + f"SELECT {k}" for k in range(30)] + [QUERY + "SELECT 'x"]
    path = write(tmp_path, MARIADB_HEAD + "\n".join(lines) + "\n")
    reader = GeneralLogReader.from_path(str(path), lookahead_lines=10)
    queries = [e.query for e in reader.events()]
    assert queries == ["SELECT 'never closed"] + [f"SELECT {k}" for k in range(30)] + ["SELECT 'x"]
    _, events = events_of(path)  # the default look-ahead: 10,000 lines
    assert len(events) == 1 and events[0].query.endswith("SELECT 'x")


def test_text_before_the_first_entry_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "  AND b = 2\nORDER BY a\n\t\t     5 Query\tSELECT 1\n")
    reader, events = events_of(path)
    assert [e.query for e in events] == ["SELECT 1"]
    assert [(m.line, m.reason) for m in reader.malformed] == [
        (1, "statement text without an entry line (log starts mid-statement?)")
    ]


# --------------------------------------------------------------------------------------------
# Table exports
# --------------------------------------------------------------------------------------------


def test_tsv_without_header_with_hex_and_escapes(tmp_path: Path) -> None:
    rows = [
        "2024-12-01 10:00:00.000001\t[app] @  [10.0.0.7]\t5\t1\tConnect\tapp@10.0.0.7 on shop using TCP/IP",
        "2024-12-01 10:00:00.000002\tapp[app] @  [10.0.0.7]\t5\t1\tQuery\tSELECT 'a\\tb',\\n 'c\\\\d'",
        "2024-12-01 10:00:00.000003\tapp[app] @  [10.0.0.7]\t5\t1\tQuery\t0x53454C4543542031",  # --binary-as-hex
    ]
    path = write(tmp_path, "\n".join(rows) + "\n", "export.tsv")
    reader, events = events_of(path)
    assert reader.layout == "table-tsv"
    assert [(e.query, e.user, e.host, e.db) for e in events] == [
        ("SELECT 'a\tb',\n 'c\\d'", "app", "10.0.0.7", "shop"),
        ("SELECT 1", "app", "10.0.0.7", "shop"),
    ]


def test_csv_with_doubled_quotes_and_rows_that_are_not_rows(tmp_path: Path) -> None:
    rows = [
        '"2024-12-01 10:00:00.000001","app[app] @ localhost []",5,1,"Query","SELECT ""x"", \\"y\\""',
        '"2024-12-01 10:00:00.000002","app[app] @ localhost []",5,1,"Query","SELECT 2,\\',  # goes on
        '3"',
        '"2024-12-01 10:00:00.000003","app[app] @ localhost []",x,1,"Query","SELECT 3"',
    ]
    path = write(tmp_path, "\n".join(rows) + "\n", "general_log.CSV")
    reader, events = events_of(path)
    assert [e.query for e in events] == ['SELECT "x", "y"', "SELECT 2,\n3"]
    assert [m.line for m in reader.malformed] == [4]


# --------------------------------------------------------------------------------------------
# The digest: parallel reading, mixed inputs, reports without invented timings
# --------------------------------------------------------------------------------------------


def _facts(result) -> list[tuple]:
    return sorted(
        (c.id, c.stats.count, dict(c.stats.users), dict(c.stats.hosts), dict(c.stats.databases), c.stats.first_ts)
        for c in result.classes
    )


def test_parallel_reading_equals_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1024)  # any file would be cut into ranges...
    paths = [str(RECORDED / name) for name in LAYOUTS]
    units = parallel.plan(paths, 4, None)
    assert [u.is_range for u in units] == [False] * len(paths)  # ... but a general log is read whole
    one = digest_logs(paths, jobs=1)
    four = digest_logs(paths, jobs=4)
    assert _facts(four) == _facts(one)
    assert [(s.name, s.events, s.connections, s.commands, s.format, s.dialect) for s in four.sources] == [
        (s.name, s.events, s.connections, s.commands, s.format, s.dialect) for s in one.sources
    ]


def test_slow_logs_and_general_logs_are_not_digested_together(tmp_path: Path) -> None:
    general = str(RECORDED / FILES["file"])
    slow = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")
    result = mqa("digest", general, slow)
    assert result.exit_code == 2
    assert result.stderr == (
        f"mqa: error: {general} is a general query log and {slow} a slow log: digest them separately "
        "(a general log has no timings, and its statements would be counted twice)\n"
    )
    # stdin is recognised when it is read: the same error, after reading
    result = mqa("digest", "-", slow, input=(RECORDED / FILES["file"]).read_bytes())
    assert result.exit_code == 2 and "<stdin> is a general query log and" in result.stderr
    with pytest.raises(InputError):
        digest_logs([slow, general], jobs=2)


def test_reports_say_there_are_no_timings_and_invent_none() -> None:
    path = str(RECORDED / FILES["file"])
    result = mqa("digest", path, "--format", "json", "--limit", "0")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    source = doc["sources"][0]
    assert source["kind"] == "generallog" and source["format"] == "file"
    assert source["dialect"].startswith("mariadb 10.11.")
    assert source["connections"] == {"seen": 13, "opened": 13, "failed": 1}
    assert source["commands"]["Query"] + source["commands"]["Execute"] == doc["summary"]["events"]
    summary = doc["summary"]
    assert summary["order_by"] == "count" and summary["timeline"]["query_time"] is None
    assert any("no query time, lock time or rows" in note for note in summary["notes"])
    assert any(note.startswith("ranked by number of executions") for note in summary["notes"])
    counts = [c["count"] for c in doc["classes"]]
    assert counts == sorted(counts, reverse=True)
    for c in doc["classes"]:
        assert c["metrics"] == {} and c["example_meta"]["query_time"] is None
        assert c["timeline"]["query_time"] is None and not any(c["histogram"].values())

    table = mqa("digest", path, "--details", "3")
    assert table.exit_code == 0
    text = table.stdout
    assert "no query times (a general log has none)" in text and "total query time 0" not in text
    assert "general log (file), 13 connections (13 opened in the log, 1 refused)" in text
    assert "Profile: top 20 of" in text and ", by executions" in text and "% calls" in text
    assert "slowest" not in text and " of time" not in text and "Avg" not in text

    report = build_report(digest_logs([path]), limit=5)
    markdown = to_markdown(report, RenderOptions(details=2))
    assert "no query times" in markdown and "| Rank | Class | Count | % of calls | Fingerprint |" in markdown
    assert "slowest" not in markdown and "of query time" not in markdown and "| Metric |" not in markdown
    page = to_html(report, RenderOptions(details=2))
    assert "none measured: a general log has no timings" in page
    assert "Slowest example" not in page and "of query time" not in page and 'class="metrics"' not in page
    assert '<th scope="col" data-sort="num">% of calls</th>' in page


def test_advise_on_a_general_log_shows_calls_without_times() -> None:
    schema = str(REPO / "sample_workloads" / "shop" / "schema.sql")
    for fmt in ("table", "markdown"):
        result = mqa("advise", str(RECORDED / FILES["file"]), "--schema-file", schema, "--format", fmt)
        assert result.exit_code == 0, result.stderr
        assert " calls" in result.stdout and " s total" not in result.stdout and " in all" not in result.stdout


def test_groups_and_requests_of_a_general_log_show_no_times() -> None:
    """--group-by and the per-request view work on the events' connections and tags; without
    timings their time cells say "-", never 0."""
    path = str(RECORDED / FILES["file"])
    table = mqa("digest", path, "--group-by", "user", "--details", "0")
    assert table.exit_code == 0, table.stderr
    groups = table.stdout[table.stdout.index("Groups by user") :]
    assert "gl_web        -  -    128" in groups and "database time" not in groups
    assert "per request: " in groups
    markdown = mqa("digest", path, "--group-by", "user", "--format", "markdown", "--details", "0").stdout
    assert "| 1 | gl\\_web | - | - | 128 | - | - |" in markdown
    report = build_report(digest_logs([path], views=Views(group_by="user")), group_by="user")
    assert report.groups and report.routes
    page = to_html(report, RenderOptions(details=0))
    assert '<td><code>gl_web</code></td><td class="n">-</td><td class="n">-</td>' in page
    assert "</a> 0" not in page and "0 / 0 / 0" not in page


def test_explicit_time_orders_fall_back_to_counts_and_say_so() -> None:
    result = mqa("digest", str(RECORDED / FILES["tsv"]), "--order-by", "p95", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["summary"]["order_by"] == "count"
    assert "ranked by number of executions: no 95th percentile query time without timings" in doc["summary"]["notes"]


def test_a_history_run_refuses_a_general_log(tmp_path: Path) -> None:
    path = str(RECORDED / FILES["file"])
    result = mqa("report", path, "--history", f"sqlite:///{tmp_path / 'h.sqlite'}", "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"mqa: error: {path}: a general query log; a history run reads slow logs only (mqa digest reads general logs)\n"
    )


def test_users_hosts_and_databases_filter_general_log_events() -> None:
    path = str(RECORDED / FILES["file"])
    result = digest_logs([path], event_filter=EventFilter(users=("gl_worker",), databases=("mqa_genlog_notes",)))
    users = Counter(u for c in result.classes for u in c.stats.users.elements())
    assert set(users) == {"gl_worker"} and all(set(c.stats.databases) == {"mqa_genlog_notes"} for c in result.classes)
