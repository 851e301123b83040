"""Log injection: statement text that looks like slow-log event headers.

The server writes a statement verbatim, so a string literal or comment holding a newline and
"# Time:", "# User@Host:", "# Query_time:" or "# administrator command:" can forge events.
The reader follows the statement's SQL lexical state and starts an event only at a whole
header after a statement ended by ";" (analyzer/sources/slowlog.py): these tests forge every
kind of header, in every dialect, inside every kind of literal and comment, with every line end,
and check that no forged event appears and every statement comes out whole.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from analyzer.sources import slowlog
from analyzer.sources.slowlog import _BLOCK, _BT, _DQ, _SQ, _TOP, SlowLogReader, _lex_line

BENCHMARKS = Path(__file__).resolve().parent / "benchmarks"


def read(path: Path, **kwargs: object) -> tuple[list, SlowLogReader]:
    reader = SlowLogReader.from_path(str(path), **kwargs)
    return list(reader.events()), reader


# ---------------------------------------------------------------------------------------------
# The real headers of each dialect (as in the fixtures of tests/fixtures) ...
# ---------------------------------------------------------------------------------------------
def mysql5_header(i: int) -> str:
    return (
        f"# Time: 170428  9:07:{i:02d}\n"
        f"# User@Host: app[app] @ web1 [10.0.0.1]\n"
        f"# Query_time: {i + 1}.000001  Lock_time: 0.000100 Rows_sent: 3  Rows_examined: {i}\n"
        f"SET timestamp={1493370420 + i};\n"
    )


def mysql8_header(i: int) -> str:
    return (
        f"# Time: 2024-05-01T10:00:{i:02d}.000001Z\n"
        f"# User@Host: app[app] @ web1 [10.0.0.1]  Id:    42\n"
        f"# Query_time: {i + 1}.000001  Lock_time: 0.000100 Rows_sent: 3  Rows_examined: {i} Thread_id: 42"
        " Errno: 0 Killed: 0 Bytes_received: 0 Bytes_sent: 52 Read_first: 0 Read_last: 0 Read_key: 1"
        " Read_next: 0 Read_prev: 0 Read_rnd: 0 Read_rnd_next: 0 Sort_merge_passes: 0 Sort_range_count: 0"
        " Sort_rows: 0 Sort_scan_count: 0 Created_tmp_disk_tables: 0 Created_tmp_tables: 0"
        f" Start: 2024-05-01T10:00:{i:02d}.000000Z End: 2024-05-01T10:00:{i:02d}.000001Z\n"
        + ("use shop;\n" if i == 0 else "")
        + f"SET timestamp={1714557600 + i};\n"
    )


def mariadb_header(i: int) -> str:
    return (
        f"# Time: 241127 11:57:{i:02d}\n"
        f"# User@Host: app[app] @ localhost []\n"
        f"# Thread_id: 5  Schema: shop  QC_hit: No\n"
        f"# Query_time: {i + 1}.000001  Lock_time: 0.000051  Rows_sent: 0  Rows_examined: {i}\n"
        "# Rows_affected: 1  Bytes_sent: 52\n"
        "# Full_scan: Yes  Full_join: No  Tmp_table: No  Tmp_table_on_disk: No\n"
        "# Filesort: No  Filesort_on_disk: No  Merge_passes: 0  Priority_queue: No\n"
        f"SET timestamp={1732708620 + i};\n"
    )


def percona_header(i: int) -> str:
    return (
        f"# Time: 2024-05-01T10:00:{i:02d}.000001Z\n"
        f"# User@Host: app[app] @ web1 [10.0.0.1]  Id:    42\n"
        "# Schema: shop  Last_errno: 0  Killed: 0\n"
        f"# Query_time: {i + 1}.000001  Lock_time: 0.000100  Rows_sent: 3  Rows_examined: {i}  Rows_affected: 0\n"
        "# Bytes_sent: 52  Tmp_tables: 0  Tmp_disk_tables: 0  Tmp_table_sizes: 0\n"
        "# InnoDB_trx_id: 0\n"
        "# QC_Hit: No  Full_scan: Yes  Full_join: No  Tmp_table: No  Tmp_table_on_disk: No\n"
        "# Filesort: No  Filesort_on_disk: No  Merge_passes: 0\n"
        "#   InnoDB_IO_r_ops: 0  InnoDB_IO_r_bytes: 0  InnoDB_IO_r_wait: 0.000000\n"
        "#   InnoDB_rec_lock_wait: 0.000000  InnoDB_queue_wait: 0.000000\n"
        "#   InnoDB_pages_distinct: 3\n"
        f"SET timestamp={1714557600 + i};\n"
    )


DIALECTS = {"mysql5": mysql5_header, "mysql8": mysql8_header, "mariadb": mariadb_header, "percona": percona_header}

# ... and forged ones: every kind of header line, each after a line ending in ";" (as a real
# header follows a statement), with no quote of any kind so that it fits in every literal.
EVIL_UH = "# User@Host: evil[evil] @ h [6.6.6.6]  Id: 666"
EVIL_QT = "# Query_time: 99.000000  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0"
FORGED = {
    "time": [
        "x;",
        "# Time: 2024-05-01T10:00:00.000001Z",
        EVIL_UH,
        EVIL_QT,
        "SET timestamp=1714557600;",
        "DROP TABLE evil;",
    ],
    "user_host": ["x;", EVIL_UH, EVIL_QT, "SELECT 666;"],
    "query_time": ["x;", EVIL_QT, "SELECT 666;"],
    "admin": ["x;", "# Time: 2024-05-01T10:00:00.000001Z", EVIL_UH, EVIL_QT, "# administrator command: Quit;"],
    "admin_alone": ["x;", "# administrator command: Quit;"],
    "mariadb": [
        "x;",
        EVIL_UH,
        "# Thread_id: 666  Schema: evil  QC_hit: No",
        EVIL_QT,
        "# Rows_affected: 0",
        "SET timestamp=1714557600;",
        "SELECT 666;",
    ],
    "thread_schema": ["x;", "# Thread_id: 666  Schema: evil  QC_hit: No", EVIL_QT, "SELECT 666;"],
    "percona_schema": ["x;", "# Schema: evil  Last_errno: 0  Killed: 0", EVIL_QT, "# Bytes_sent: 0", "SELECT 666;"],
    "lone_user_host": ["x;", EVIL_UH],
}
# Where the forged text goes: its own literal or comment, with escapes before it.
CONTAINERS = {
    "single": lambda f: f"INSERT INTO comments (post_id, body)\nVALUES (7, 'it\\'s ''quoted'' {f} end')",
    "double": lambda f: f'SELECT id FROM posts WHERE title = "say \\"hi\\" ""x"" {f} end" LIMIT 5',
    "backtick": lambda f: f"SELECT 1 AS `a``b {f} end` FROM dual",
    "comment": lambda f: f'SELECT /* it\'s "q" {f} end */ id FROM posts',
}
LINE_ENDS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def forged_log(header, container, nl: str) -> tuple[str, list[str]]:
    """A log whose every other statement holds a forged header; returns (log, statements)."""
    statements = []
    for name, lines in FORGED.items():
        statements.append(f"SELECT {len(statements)} /* before {name} */")
        statements.append(container(nl.join(lines)))
    statements.append("SELECT 'last'")
    text = "".join(header(i) + statement + ";\n" for i, statement in enumerate(statements))
    return text, statements


@pytest.mark.parametrize("ending", LINE_ENDS)
@pytest.mark.parametrize("place", CONTAINERS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_forged_headers_inside_literals_and_comments_are_statement_text(
    tmp_path: Path, dialect: str, place: str, ending: str
) -> None:
    text, statements = forged_log(DIALECTS[dialect], CONTAINERS[place], LINE_ENDS[ending])
    path = tmp_path / "slow.log"
    path.write_bytes(text.encode())
    events, reader = read(path)
    assert [e.query for e in events] == statements  # as many events as written, each whole
    assert reader.malformed_count == 0
    assert all(e.user == "app" for e in events)
    # each event has its own header's figures, not a forged one's
    assert [e.metrics["query_time"] for e in events] == [i + 1.000001 for i in range(len(statements))]
    assert [e.metrics["rows_examined"] for e in events] == list(range(len(statements)))
    if dialect in ("mariadb", "percona"):
        assert reader.dialect == dialect


def test_forged_headers_read_whole_when_a_header_spans_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With tiny blocks every header and statement crosses a block end: a decision that needs
    the next block's lines waits for it, and the result is the same."""
    text, statements = forged_log(mysql8_header, CONTAINERS["single"], "\n")
    text += forged_log(mariadb_header, CONTAINERS["comment"], "\r\n")[0]
    path = tmp_path / "slow.log"
    path.write_bytes(text.encode())
    whole, _ = read(path)
    blocks = slowlog.iter_text_blocks
    for size in (17, 64, 333):
        monkeypatch.setattr(slowlog, "iter_text_blocks", lambda log, size=size: blocks(log, size))
        events, reader = read(path)
        assert [(e.query, e.line, e.metrics) for e in events] == [(e.query, e.line, e.metrics) for e in whole]
        assert reader.malformed_count == 0
    assert len(whole) == 2 * len(statements)


def test_a_lone_user_host_line_inside_a_statement_is_statement_text(tmp_path: Path) -> None:
    statements = [
        "SELECT a,\n# User@Host: x[x] @ h []\n  b FROM t",
        "SELECT a,\n# Time: 2024-05-01T10:00:00Z\n  b FROM t",
        # after a line ending in ";" (a procedure body) without the rest of a header
        "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n# User@Host: x[x] @ h []\n  SELECT 2;\n# Note: comment\nEND",
        # "#" lines after a "--" comment without ";": SQL comments, the statement goes on
        f"SELECT id FROM posts -- search form\n# Time: 2024-05-01T10:00:00Z\n{EVIL_UH}\n{EVIL_QT}\nWHERE id = 1",
    ]
    path = tmp_path / "slow.log"
    path.write_text("".join(mysql8_header(i) + s + ";\n" for i, s in enumerate(statements)))
    events, reader = read(path)
    assert [e.query for e in events] == statements
    assert reader.malformed_count == 0


def test_real_headers_still_end_statements(tmp_path: Path) -> None:
    """What a header after a statement ended by ";" looks like in the corpora: a dangling
    header at the end, a blank line before the header, a banner after a statement cut short
    by a crash, a header without "# Time"."""
    log = (
        mysql8_header(0)
        + "SELECT 1;\n\n"
        + mysql8_header(1)
        + "SELECT 'a;\nb';\n"
        + mysql8_header(2)
        + "SELECT * FROM t WHE\n"  # a crash: the restart's banner follows
        "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:\n"
        "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n"
        "Time                 Id Command    Argument\n" + mysql8_header(3).split("\n", 1)[1] + "SELECT 3;\n"
        "# Time: 2024-05-01T10:00:09.000001Z\n"
    )
    path = tmp_path / "slow.log"
    path.write_text(log)
    events, reader = read(path)
    assert [e.query for e in events][:2] == ["SELECT 1", "SELECT 'a;\nb'"]
    assert events[2].query.startswith("SELECT * FROM t WHE\n/usr/sbin/mysqld")  # as before
    assert events[3].query == "SELECT 3"
    assert [(m.line, m.reason) for m in reader.malformed] == [
        (len(log.split("\n")) - 1, "event header without a statement at end of file (log cut short?)")
    ]


# ---------------------------------------------------------------------------------------------
# A literal that never closes
# ---------------------------------------------------------------------------------------------
def damaged_log(opener: str) -> tuple[str, list[str], int, int]:
    """40 events; the 6th statement opens a literal (or comment) and the log was cut there.
    Returns (log, statements of the undamaged events, the damaged event's line, the next
    event's line)."""
    statements = [f"SELECT {i}, 'ok' AS `c`" for i in range(40)]
    statements[5] = f"INSERT INTO c VALUES (1, {opener}cut short by rotation"
    statements[9] = "SELECT 'it''s', \"q\", `b`"  # quotes after it: the reader must not be fooled
    text = "".join(mysql8_header(i) + s + ";\n" for i, s in enumerate(statements))
    header_lines = mysql8_header(1).count("\n")
    damaged_line = text.split("\n").index(statements[5] + ";") + 1 - header_lines
    return text, statements[:5] + statements[6:], damaged_line, damaged_line + header_lines + 1


@pytest.mark.parametrize("opener", ["'", '"', "`", "/*"])
@pytest.mark.parametrize("lookahead", [None, 7])
def test_an_unterminated_literal_loses_only_its_own_event(tmp_path: Path, opener: str, lookahead: int | None) -> None:
    text, statements, damaged, next_event = damaged_log(opener)
    path = tmp_path / "slow.log"
    path.write_text(text)
    events, reader = read(path, lookahead_lines=lookahead)
    assert [e.query for e in events] == statements
    assert events[5].line == next_event
    (bad,) = reader.malformed
    assert (bad.source, bad.line) == (str(path), damaged)
    assert str(bad).startswith(f"{path}:{damaged}: ")
    what = {
        "'": "string literal '...'",
        '"': 'string literal "..."',
        "`": "quoted identifier `...`",
        "/*": "comment /* ... */",
    }[opener]
    assert bad.reason.startswith(f"{what} opened on line {next_event - 1} ")
    assert bad.reason.endswith(f"the event is cut at the header on line {next_event}")


def test_a_literal_cut_short_and_closed_by_a_later_quote_loses_only_its_event(gen, tmp_path: Path) -> None:
    """A statement cut inside a literal, without its ";", and ordinary statements after it:
    the first quote of a later one "closes" the literal.  Read from the header after the cut,
    the lines are whole events, so the event is cut there."""
    import io

    buf = io.StringIO()
    gen.generate(buf, 3_000, seed=4, templates=300)
    text = buf.getvalue()
    whole = tmp_path / "whole.log"
    whole.write_text(text)
    expected, _ = read(whole)
    for at in (400_000, 700_000, 1_000_000):
        quote = -1
        while quote < 0:  # the next statement with a literal
            settings = text.find("\nSET ", at)
            start = text.find("\n", settings + 1) + 1
            end = text.find("\n# Time: ", start)
            quote, at = text.find("'", start, end), end
        damaged = tmp_path / "damaged.log"
        damaged.write_text(text[: quote + 4] + text[end:])
        events, reader = read(damaged)
        lost = text[:start].count("# Time: ") - 1  # the damaged event's index
        assert expected[lost].query == text[start:end].rstrip(";")
        assert [e.query for e in events] == [e.query for k, e in enumerate(expected) if k != lost]
        (bad,) = reader.malformed
        assert "is cut short" in bad.reason or "never closes" in bad.reason


ESCAPE_TRICKS = ["\\'", "'' #", " #", " -- ", " /*", ' "', " `", "\\\\"]


@pytest.mark.parametrize("trick", ESCAPE_TRICKS)
def test_forged_headers_with_escape_tricks_stay_statement_text(tmp_path: Path, trick: str) -> None:
    """Text a client escaped into a literal, ending in what would balance the literal's real
    closing quote in a reading from the forged header (a quote escaped as \\', a comment, another
    quote): still one statement."""
    forged = "\n".join(FORGED["time"])
    statements = [
        "SELECT 0",
        f"INSERT INTO comments (post_id, body, ip) VALUES (7, 'hello;\n{forged}{trick}', '10.0.0.1')",
        f"INSERT INTO comments (post_id, body) VALUES (7, 'x;\n{forged}{trick}')",
        "SELECT `a`, 'b', \"c\" FROM t WHERE d = 'it\\'s'",
        "SELECT 4",
    ]
    path = tmp_path / "slow.log"
    path.write_text("".join(mysql8_header(i) + s + ";\n" for i, s in enumerate(statements)))
    events, reader = read(path)
    assert [e.query for e in events] == statements and reader.malformed_count == 0


def test_the_look_ahead_is_bounded_in_bytes_too(tmp_path: Path) -> None:
    text, statements, damaged, _ = damaged_log("'")
    path = tmp_path / "slow.log"
    path.write_text(text)
    events, reader = read(path, lookahead_bytes=300)
    assert [e.query for e in events] == statements
    assert [m.line for m in reader.malformed] == [damaged]


def test_a_long_literal_with_forged_headers_is_kept_within_the_look_ahead(tmp_path: Path) -> None:
    """A pasted slow log in a forum post: many forged events inside one literal."""
    paste = "".join(mysql8_header(i) + f"SELECT {i};\n" for i in range(50))
    statements = ["SELECT 0", f"INSERT INTO posts (body) VALUES ('{paste}')", "SELECT 2"]
    path = tmp_path / "slow.log"
    path.write_text("".join(mysql8_header(i) + s + ";\n" for i, s in enumerate(statements)))
    events, reader = read(path)
    assert [e.query for e in events] == statements and reader.malformed_count == 0
    # a look-ahead shorter than the paste gives up: the post is malformed, its forged events counted
    events, reader = read(path, lookahead_lines=20)
    assert reader.malformed_count >= 1 and len(events) > 3


# ---------------------------------------------------------------------------------------------
# The lexer, against MySQL's rules one character at a time
# ---------------------------------------------------------------------------------------------
def reference_state(text: str, state: int) -> int:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if state == _TOP:
            if c in "'\"`":
                state = {"'": _SQ, '"': _DQ, "`": _BT}[c]
                i += 1
            elif text.startswith("/*!", i):
                i += 3  # an executable comment is SQL
            elif text.startswith("/*M!", i):
                i += 4
            elif text.startswith("/*", i):
                state, i = _BLOCK, i + 2
            elif c == "#" or (text.startswith("--", i) and (i + 2 == n or text[i + 2] <= " ")):
                end = text.find("\n", i)
                i = n if end < 0 else end
            else:
                i += 1
        elif state in (_SQ, _DQ):
            if c == "\\":
                i += 2
            else:
                state = _TOP if c == ("'" if state == _SQ else '"') else state
                i += 1
        elif state == _BT:
            state = _TOP if c == "`" else state
            i += 1
        elif text.startswith("*/", i):
            state, i = _TOP, i + 2
        else:
            i += 1
    return state


def test_lexer_follows_mysql_rules() -> None:
    rng = random.Random(11)
    tokens = [
        "/*",
        "*/",
        "-- ",
        "--",
        "/*!",
        "/*M!",
        "\\'",
        "''",
        "`a`",
        "'",
        '"',
        "`",
        "\\",
        "/",
        "*",
        "#",
        "-",
        " ",
        "\n",
        "a",
        ";",
        "!",
        "M",
        "\t",
        "x;\n# Time: 1\n",
    ]
    for _ in range(60_000):
        text = "".join(rng.choice(tokens) for _ in range(rng.randint(0, 20)))
        for state in (_TOP, _SQ, _DQ, _BT, _BLOCK):
            assert _lex_line(text, state)[0] == reference_state(text, state), (text, state)
    assert _lex_line("SELECT 'it\\'s", _TOP) == (_SQ, True)
    assert _lex_line("SELECT `a'b` FROM t", _TOP) == (_TOP, False)
    assert _lex_line("x /*!50000 'a */ y", _TOP) == (_SQ, True)  # a version comment is SQL
    assert _lex_line("a' /* b */", _SQ) == (_TOP, False)


# ---------------------------------------------------------------------------------------------
# The benchmark generator's --inject-headers, against its truth
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gen():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import generate_slowlog
    finally:
        sys.path.remove(str(BENCHMARKS))
    return generate_slowlog


def generated(gen, path: Path, events: int, inject: float, seed: int = 1) -> dict:
    import io

    truth: dict = {}
    buf = io.StringIO()
    gen.generate(buf, events, seed=seed, templates=500, inject=inject, truth=truth)
    path.write_bytes(buf.getvalue().encode())
    return truth


def test_generator_injects_forged_headers_of_every_kind(gen, tmp_path: Path) -> None:
    truth = generated(gen, tmp_path / "slow.log", 20_000, 0.01)
    assert 150 <= truth["injected"] <= 250  # about 1% of the statements
    places = {v.split("-")[0] for v in truth["variants"]}
    kinds = {v.split("-")[1] for v in truth["variants"]}
    ends = {v.split("-")[2] for v in truth["variants"]}
    assert places == set(gen.FORGED_PLACES) and kinds == set(gen.FORGED_KINDS) and ends == {"lf", "crlf", "cr"}
    text = (tmp_path / "slow.log").read_text()
    assert text.count("# User@Host: evil[evil]") == truth["injected"]
    # without injection, the same log as before the option existed
    plain = tmp_path / "plain.log"
    generated(gen, plain, 2_000, 0.0)
    import io

    buf = io.StringIO()
    gen.generate(buf, 2_000, seed=1, templates=500)
    assert plain.read_text() == buf.getvalue()


@pytest.mark.parametrize("mode", ["sqlglot", "pt"])
def test_digest_of_a_log_with_injected_headers_matches_the_generators_truth(gen, tmp_path: Path, mode: str) -> None:
    from analyzer.digest import digest_logs
    from analyzer.report.digest import build_report

    path = tmp_path / "slow.log"
    truth = generated(gen, path, 20_000, 0.01)
    report = build_report(digest_logs([str(path)], mode=mode), limit=None).to_json_dict()
    summary = report["summary"]
    assert summary["events"] == truth["events"] and summary["malformed"] == 0
    assert summary["query_time_total"] == pytest.approx(truth["query_time_us"] / 1e6, abs=1e-5)
    users: dict[str, int] = {}
    for cls in report["classes"]:
        for user, count in cls["users"].items():
            users[user] = users.get(user, 0) + count
        assert cls["metrics"]["query_time"]["max"] < 99
    assert users == truth["users"]
    events, _ = read(path)
    assert [e.query for e in events if "evil" in e.query] == truth["injected_statements"]


# ---------------------------------------------------------------------------------------------
# Parallel reading: a range may be cut at a forged header; the result is the sequential one
# ---------------------------------------------------------------------------------------------
def big_forged_log(gen, path: Path) -> None:
    """Events from the generator, and every fifth one a 13 KB literal full of forged headers
    after lines ending in ";": wherever a range is cut, it is most likely inside one.  Every
    50th statement carries a forged header of the generator's kinds, and near the end one is
    cut short inside a literal (a damaged log), with ordinary statements after it."""
    import io

    buf = io.StringIO()
    gen.generate(buf, 1_500, seed=4, templates=300)
    text = buf.getvalue()
    banner_end = text.index("# Time:")
    paste = "".join(
        f"row {k};\n# Time: 2024-05-01T10:00:00Z\n{EVIL_UH}\n{EVIL_QT}\nSET timestamp=1;\nSELECT {k};\n"
        for k in range(60)
    )
    rnd = random.Random(5).random
    out = [text[:banner_end]]
    for i, event in enumerate(text[banner_end:].split("\n# Time: ")):
        lines = ("# Time: " + event if i else event).rstrip("\n").split("\n")
        settings = next(j for j, line in enumerate(lines) if line.startswith("SET "))
        header, statement = lines[: settings + 1], "\n".join(lines[settings + 1 :])[:-1] + ";"
        if i < 1_400 and i % 5 == 3:
            statement = f"INSERT INTO posts (body) VALUES ('{paste}');"
        elif i < 1_400 and i % 50 == 7 and not statement.startswith("#"):
            statement = gen.forge_headers(statement[:-1], rnd, "2024-05-01T10:00:00", 1714557600)[0] + ";"
        elif i == 1_450:
            statement = "INSERT INTO posts (body) VALUES ('" + "lorem ipsum;\n" * 50 + "dolor"  # cut short
        out.append("\n".join(header) + "\n" + statement + "\n")
    path.write_text("".join(out))


@pytest.mark.parametrize("jobs", [2, 4])
def test_parallel_ranges_cut_at_forged_headers_give_the_sequential_result(
    gen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    from analyzer.digest import digest_logs, parallel
    from analyzer.report.digest import build_report

    path = tmp_path / "slow.log"
    big_forged_log(gen, path)
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 512 << 10)
    units = parallel.plan([str(path)], jobs, None)
    assert len(units) == jobs
    data = path.read_bytes()
    forged_cuts = [u.start for u in units[1:] if b"evil" in data[u.start : u.start + 200]]
    assert forged_cuts, "no range starts at a forged header: the test would prove nothing"

    rereads = []
    reconcile = parallel._reconcile

    def spy(units, results, *args):
        rereads.extend(i for i, r in results.items() if not r.clean_end and i < len(units) - 1)
        return reconcile(units, results, *args)

    monkeypatch.setattr(parallel, "_reconcile", spy)

    def report(n: int) -> dict:
        return build_report(digest_logs([str(path)], jobs=n), limit=None).to_json_dict()

    sequential, concurrent = report(1), report(jobs)
    assert rereads, "no range was read again"
    events, reader = read(path)
    assert sequential["summary"]["events"] == len(events) and reader.malformed_count == 1
    assert not any(e.user == "evil" for e in events)
    assert concurrent["summary"] == {**sequential["summary"]}
    assert concurrent["sources"] == sequential["sources"]
    assert [c["id"] for c in concurrent["classes"]] == [c["id"] for c in sequential["classes"]]
    by_id = {c["id"]: c for c in sequential["classes"]}
    for got in concurrent["classes"]:
        want = by_id[got["id"]]
        for field in ("count", "users", "hosts", "databases", "first_seen", "last_seen", "example", "example_meta"):
            assert got[field] == want[field], field
        assert got["metrics"]["query_time"]["sum"] == pytest.approx(want["metrics"]["query_time"]["sum"], abs=2e-6)


def test_a_range_names_absolute_lines_in_its_malformed_reasons() -> None:
    from analyzer.digest.parallel import _shift_lines

    reason = "string literal '...' opened on line 5 is cut short: the event is cut at the header on line 9"
    assert _shift_lines(reason, 100) == reason.replace("line 5 ", "line 105 ").replace("line 9", "line 109")
    assert _shift_lines(reason, 0) == reason
    assert _shift_lines("unreadable time '2024-13-01'", 100) == "unreadable time '2024-13-01'"
