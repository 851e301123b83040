"""The fuzz suite: hostile input for every reader of user data, with hypothesis.

Each target has one promise, checked on every example:

- the slow-log reader (logs of four dialects, mutated: byte flips, truncation, dropped,
  duplicated and swapped lines, junk, NUL bytes and invalid UTF-8, CR-only and mixed line ends,
  long lines of ``#``, ``--``, quotes and ``*/``, absurd header values, impossible dates and
  ``SET timestamp``): a digest, or one error naming the file ("not a slow log" for a file
  without a single event header, "cannot decompress" for one that starts like gzip);
  every malformed event names a line of the file; the report renders in every format;
- the fast key and the canonical fingerprint (random token streams): a key and a class,
  the same each time;
- the DDL reader: tables or ``SchemaFileError``;
- the DSN, option-file and login-path parsers: options or ``ConnectionOptionsError``, and a
  password in a DSN never in the message;
- ``--since``/``--until``, ``--fail-on`` and ``--filter``: a value or ``UsageError``, and on
  the command line one ``mqa: error:`` line with exit 2;
- state files (the zstd JSON of a digest, mutated as bytes and as JSON): a digest or
  ``InputError``;
- history databases (a real history, its SQLite file or rows damaged): ``mqa history`` and
  ``mqa report`` end with a report or one ``mqa: error:`` line, exit 2.

"Escaped" counts an example that broke its promise: the test fails and hypothesis shrinks it.
The counts per target are printed at the end of the run (``tests/fuzzing.py``).
``tests/test_fuzz_mutation.py`` adds a time-bounded mutation run over every corpus log.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analyzer.digest import digest_logs
from analyzer.digest.expression import parse_filter
from analyzer.digest.filters import parse_time_bound
from analyzer.digest.state import STATE_MAGIC, decode_result, encode_result, pack, unpack
from analyzer.errors import InputError, UsageError
from analyzer.fingerprint.classifier import Fingerprinter
from analyzer.history.compare import Threshold
from analyzer.report.digest import build_report
from analyzer.report.render import RENDERERS, render
from analyzer.sources.db import ConnectionOptionsError, parse_dsn, read_login_file, read_option_files
from analyzer.sources.schema_ddl import SchemaFileError, load_tables_from_ddl
from tests import fuzzing
from tests.conftest import FIXTURES, REPO

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)


def fuzz(examples: int) -> settings:
    """The suite's settings with ``examples`` examples (times ``MQA_FUZZ_SCALE``)."""
    return settings(FUZZ, max_examples=fuzzing.examples(examples))


@contextlib.contextmanager
def promise(target: str) -> Iterator[None]:
    """Count one example of ``target``; an exception escaping it is counted and re-raised."""
    fuzzing.tried(target)
    try:
        yield
    except BaseException:
        fuzzing.escaped(target)
        raise


# --------------------------------------------------------------------------------------------
# The slow-log reader
# --------------------------------------------------------------------------------------------

_BEATS = FIXTURES / "slowlogs-elastic-beats/filebeat/module/mysql/slowlog/test"
SEEDS = [  # one small real log per dialect
    _BEATS / "mysql-5.7.22.log",
    FIXTURES / "slowlogs-pmm-agent/unmerged-branch-1175629f/agents/mysql/slowlog/parser/testdata/slow029.log",
    _BEATS / "mariadb-10.3.13.log",
    _BEATS / "percona-ubuntu-5.7.19-innodb.log",
    FIXTURES / "percona-toolkit/t/lib/samples/slowlogs/slow002.txt",
]
ABSURD_VALUES = ["1e308", "-1", "nan", "inf", "-0.5", "18446744073709551616", "1e400", "0x10", "", "1.2.3", "٣"]
IMPOSSIBLE_TIMES = [
    "2024-13-45T25:61:61Z",
    "0000-00-00T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "991332 99:99:99",
    "240501 10:00:00.9999999999",
    "1969-12-31T23:59:59Z",
    "2024-05-01T10:00:00+99:99",
]
ABSURD_TIMESTAMPS = ["1000000000000000", "-5", "nan", "1e400", "99999999999999999999", "", "0x10"]
NASTY_LINE = "#--'\"*/`/*\\"


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _at(n: int, fraction: float) -> int:
    return min(n, int(fraction * n)) if n else 0


def mutate(data: bytes, op: tuple) -> bytes:
    """One mutation of a log's bytes (positions are fractions of its length)."""
    kind = op[0]
    lines = _lines(data)
    if kind == "flip" and data:
        i = _at(len(data) - 1, op[1])
        return data[:i] + bytes([data[i] ^ op[2]]) + data[i + 1 :]
    if kind == "truncate":
        return data[: _at(len(data), op[1])]
    if kind == "drop" and lines:
        i = _at(len(lines) - 1, op[1])
        return b"".join(lines[:i] + lines[i + 1 :])
    if kind == "dup" and lines:
        i = _at(len(lines) - 1, op[1])
        return b"".join(lines[: i + 1] + lines[i:])
    if kind == "swap" and len(lines) > 1:
        i, j = _at(len(lines) - 1, op[1]), _at(len(lines) - 1, op[2])
        lines[i], lines[j] = lines[j], lines[i]
        return b"".join(lines)
    if kind == "junk":
        i = _at(len(data), op[1])
        return data[:i] + op[2] + data[i:]
    if kind == "ends":
        if op[1] == "cr":
            return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
        if op[1] == "crlf":
            return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        return b"".join(line.rstrip(b"\r\n") + (b"\r\n", b"\r", b"\n")[k % 3] for k, line in enumerate(lines))
    if kind == "header":
        return _replace_nth(
            rb"((?:Query_time|Lock_time|Rows_sent|Rows_examined|Rows_affected|Bytes_sent): )(\S+)", data, op[1], op[2]
        )
    if kind == "time":
        return _replace_nth(rb"(# Time: )([^\n]+)", data, op[1], op[2])
    if kind == "timestamp":
        return _replace_nth(rb"(SET timestamp=)([^;\n]*)", data, op[1], op[2])
    if kind == "longline":
        i = _at(len(lines), op[1])
        return b"".join(lines[:i] + [(NASTY_LINE * (op[2] // len(NASTY_LINE))).encode() + b"\n"] + lines[i:])
    return data


def _replace_nth(pattern: bytes, data: bytes, fraction: float, value: str) -> bytes:
    matches = list(re.finditer(pattern, data))
    if not matches:
        return data
    m = matches[_at(len(matches) - 1, fraction)]
    return data[: m.start(2)] + value.encode() + data[m.end(2) :]


fraction = st.floats(0, 1)
mutations = st.one_of(
    st.tuples(st.just("flip"), fraction, st.integers(1, 255)),
    st.tuples(st.just("truncate"), fraction),
    st.tuples(st.just("drop"), fraction),
    st.tuples(st.just("dup"), fraction),
    st.tuples(st.just("swap"), fraction, fraction),
    st.tuples(
        st.just("junk"),
        fraction,
        st.one_of(
            st.binary(max_size=64),
            st.sampled_from([b"\x00", b"\x00" * 100, b"\xff\xfe\xfd", b"\xc3(", b"\xed\xa0\x80", b"\r", b"\n# Time:"]),
        ),
    ),
    st.tuples(st.just("ends"), st.sampled_from(["cr", "crlf", "mixed"])),
    st.tuples(st.just("header"), fraction, st.sampled_from(ABSURD_VALUES)),
    st.tuples(st.just("time"), fraction, st.sampled_from(IMPOSSIBLE_TIMES)),
    st.tuples(st.just("timestamp"), fraction, st.sampled_from(ABSURD_TIMESTAMPS)),
    st.tuples(st.just("longline"), fraction, st.integers(10, 20_000)),
)


def check_log(path: Path, target: str, formats=tuple(RENDERERS)) -> None:
    """The reader's promise on one file: a digest whose malformed events name lines of the file
    (or "not a slow log"), rendered in every format."""
    with promise(target):
        try:
            result = digest_logs([str(path)])
        except InputError as exc:  # "not a slow log", "cannot decompress": one line naming the file
            assert str(exc).startswith(str(path)) and "\n" not in str(exc), exc
            return
        data = path.read_bytes()
        n_lines = max(1, len(data.splitlines()) + 1)
        for source in result.sources:
            assert source.malformed >= len(source.malformed_samples)
            for sample in source.malformed_samples:
                assert 1 <= sample.line <= n_lines, (sample, n_lines)
                assert sample.reason
        report = build_report(result, limit=None)
        for fmt in formats:
            out = io.StringIO()
            render(report, fmt, out)
            assert out.getvalue()


@fuzz(1000)
@given(seed=st.sampled_from(SEEDS), ops=st.lists(mutations, min_size=1, max_size=6))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_reader_keeps_its_promise_on_mutated_logs(tmp_path_factory, seed: Path, ops: list) -> None:
    check_log(mutated_log(tmp_path_factory, seed, ops), "slow-log reader, every format")


def mutated_log(tmp_path_factory, seed: Path, ops: list) -> Path:
    """``seed`` with the mutations ``ops`` applied, as a new file."""
    data = seed.read_bytes()
    for op in ops:
        data = mutate(data, op)
    path = tmp_path_factory.mktemp("fuzz") / "mutated.log"
    path.write_bytes(data)
    return path


def test_a_2_mb_line_of_comment_and_quote_marks(tmp_path: Path) -> None:
    """One line of 2 MB made of ``#``, ``--``, quotes and ``*/`` among real events."""
    data = SEEDS[3].read_bytes()
    lines = _lines(data)
    middle = len(lines) // 2
    big = (NASTY_LINE * (2 * 1024 * 1024 // len(NASTY_LINE))).encode() + b"\n"
    path = tmp_path / "long.log"
    path.write_bytes(b"".join(lines[:middle] + [big] + lines[middle:]))
    check_log(path, "slow-log reader, 2 MB line")


# --------------------------------------------------------------------------------------------
# The fast key and the canonical fingerprint
# --------------------------------------------------------------------------------------------

SQL_TOKENS = (
    "SELECT select FROM from WHERE IN ( ) , ' \" ` /* */ -- # \n \r \\ ? 1 -1 1e5 0x1F x'0A' b'01' "
    "_utf8mb4'x' N'x' a b.c `d`.`e` = <> != <=> AND OR NOT INSERT INTO VALUES UPDATE SET DELETE "
    "ORDER BY LIMIT /*!40001 /*+ */ ; @@x @v CALL WITH UNION JOIN ON AS NULL TRUE CASE WHEN END "
    "administrator command: Quit \x00 é 😀 \u202e ALTER CREATE TABLE KEY PRIMARY"
).split(" ")
token_streams = st.lists(st.one_of(st.sampled_from(SQL_TOKENS), st.text(max_size=6)), min_size=0, max_size=40).flatmap(
    lambda tokens: st.sampled_from([" ", "", "\n", "\t"]).map(lambda sep: sep.join(tokens))
)


@fuzz(1000)
@given(text=token_streams, admin=st.booleans())
def test_fast_key_and_canonical_fingerprint_on_random_token_streams(text: str, admin: bool) -> None:
    with promise("fast key + canonical fingerprint"):
        fp = Fingerprinter("sqlglot")
        key, tags = fp.key(text, admin)
        assert isinstance(key, str) and isinstance(tags, tuple)
        info = fp.describe(key, text, True) if admin else fp.class_of(key)
        assert info.id and isinstance(info.fingerprint, str)
        again = Fingerprinter("sqlglot")
        assert (again.describe(key, text, True) if admin else again.class_of(key)).id == info.id
    with promise("pt fingerprint"):
        pt = Fingerprinter("pt")
        pt_key, _ = pt.key(text, admin)
        assert pt.describe(pt_key, text, admin).fingerprint is not None
        assert re.fullmatch(r"[0-9A-F]{32}", Fingerprinter.pt_id(text))


# --------------------------------------------------------------------------------------------
# The DDL reader
# --------------------------------------------------------------------------------------------

DDL_TOKENS = (
    "CREATE TABLE t ( id INT PRIMARY KEY , name VARCHAR(20) NOT NULL DEFAULT 'x' ) ; USE db ; "
    "KEY k ( a , b(10) ) UNIQUE INDEX FOREIGN REFERENCES ENGINE=InnoDB /* */ -- \n ` \" ' "
    "PARTITION BY RANGE ( VALUES LESS THAN MAXVALUE ) DELIMITER $$ GENERATED ALWAYS AS STORED "
    "DROP ALTER ADD COLUMN CHARSET utf8mb4 COLLATE \\ \x00 é"
).split(" ")
ddl_streams = st.lists(st.one_of(st.sampled_from(DDL_TOKENS), st.text(max_size=5)), max_size=60).map(" ".join)


@fuzz(500)
@given(text=ddl_streams)
def test_ddl_reader_on_random_token_streams(text: str) -> None:
    with promise("DDL reader"):
        try:
            schema = load_tables_from_ddl(text, default_schema="fuzz", source="fuzz.sql")
        except SchemaFileError as exc:
            assert "\n" not in str(exc).strip()
            return
        for table in schema.tables:
            assert table.full_name


# --------------------------------------------------------------------------------------------
# DSN, option files, login paths
# --------------------------------------------------------------------------------------------

SECRET = "Zq9-secret-Pw"
dsn_parts = st.tuples(
    st.sampled_from(["mysql://", "mariadb://", "postgres://", "", "mysql:", "mysql:///"]),
    st.sampled_from(["", "app", "a%40b", "%zz", "[", "root"]),
    st.sampled_from(["", f":{SECRET}", f":{SECRET}@x", ":"]),
    st.sampled_from(["@", "", "@@"]),
    st.sampled_from(["db.example", "", "[::1]", "%2Frun%2Fmysqld.sock", "h:3306", "h:99999", "h:-1", "h:x", "ü"]),
    st.sampled_from(["", "/shop", "/", "/a/b", "/%ff"]),
    st.sampled_from(["", "?ssl-mode=required", "?socket=/tmp/s", "?x=1", "?ssl-mode=bogus", "?&&", "?ssl-ca"]),
)


@fuzz(1000)
@given(parts=dsn_parts, noise=st.text(max_size=8))
def test_dsn_parser(parts: tuple, noise: str) -> None:
    dsn = "".join(parts) + noise
    with promise("DSN parser"):
        try:
            parse_dsn(dsn)
        except ConnectionOptionsError as exc:
            # the secret is a password where it stands before the host's end (not a database
            # name after "mysql:///")
            netloc = re.split(r"[/?#]", dsn.split("://", 1)[-1], maxsplit=1)[0]
            if SECRET in netloc:
                assert SECRET not in str(exc), "a password in an error message"


@fuzz(500)
@given(
    lines=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "[client]",
                    "[mysql]",
                    "[CLIENT",
                    "user=app",
                    "password = 'p#w'",
                    'password="unterminated',
                    "port=3306 # comment",
                    "!include /nonexistent.cnf",
                    "!includedir /nonexistent-dir",
                    "socket=\\x\\n\\",
                    "=value",
                    "host",
                    "; comment",
                ]
            ),
            st.text(max_size=20),
        ),
        max_size=15,
    ),
    junk=st.binary(max_size=16),
)
def test_option_file_reader(tmp_path_factory, lines: list[str], junk: bytes) -> None:
    path = tmp_path_factory.mktemp("cnf") / "my.cnf"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + junk)
    path.chmod(0o600)
    with promise("option-file reader"):
        try:
            read_option_files([str(path)]).merged()
        except ConnectionOptionsError as exc:
            assert str(exc)


@fuzz(300)
@given(data=st.binary(max_size=300))
def test_login_path_file_reader(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("login") / ".mylogin.cnf"
    path.write_bytes(data)
    path.chmod(0o600)
    with promise("login-path reader"):
        try:
            read_login_file(str(path), ["client"]).merged()
        except ConnectionOptionsError as exc:
            assert str(exc)


# --------------------------------------------------------------------------------------------
# --since/--until, --fail-on, --filter (library and command line)
# --------------------------------------------------------------------------------------------

time_texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["2024-05-01", "2024-02-30", "99999-01-01", "1e308", "9" * 40, "-1h", "12h", "0d", "1e9d", "nan"]),
    st.builds(lambda n, u: f"{n}{u}", st.integers(-(10**30), 10**30), st.sampled_from(["s", "m", "h", "d", "w", ""])),
)


@fuzz(1000)
@given(text=time_texts)
def test_since_until_parser(text: str) -> None:
    with promise("--since/--until"):
        try:
            bound = parse_time_bound(text, now=1_714_557_600.0)
        except UsageError:
            return
        assert bound.epoch == bound.epoch and abs(bound.epoch) < float("inf")


fail_on_texts = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda name, op, value: f"{name}{op}{value}",
        st.sampled_from(["p95_regression", "regressions", "total_time", "finding", "new_classes", "bogus", ""]),
        st.sampled_from([">", ">=", "<", "=", ""]),
        st.sampled_from(["50%", "5", "5m", "warning", "-1", "1e999%", "nan%", "", "x", "99999999999999999999999"]),
    ),
)


@fuzz(1000)
@given(text=fail_on_texts)
def test_fail_on_parser(text: str) -> None:
    with promise("--fail-on"), contextlib.suppress(UsageError):
        Threshold.parse(text)


filter_texts = st.one_of(
    st.text(max_size=40),
    st.lists(
        st.sampled_from(
            "query_time > 1 and rows_examined >= 1e9 or not ( db = 'shop' ) user != \" tag.route ~ '^/a' "
            "in ( 1 , 2 ) ) ) 'unterminated 1e999 nan -".split(" ")
        ),
        max_size=20,
    ).map(" ".join),
)


@fuzz(1000)
@given(text=filter_texts)
def test_filter_expression_parser(text: str) -> None:
    with promise("--filter"), contextlib.suppress(UsageError):
        parse_filter(text)


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run mqa in this process, as the console script would (the group's error handling)."""
    from typer.main import get_command

    from cli.main import app

    code = get_command(app).main(args, standalone_mode=False)
    out = capsys.readouterr()
    return code, out.out, out.err


SAMPLE_LOG = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")


@fuzz(300)
@given(
    option=st.sampled_from(["--since", "--until", "--filter"]),
    value=st.one_of(time_texts, filter_texts).filter(lambda v: not v.startswith("-")),
)
def test_bad_arguments_are_one_line_on_the_command_line(capsys, tmp_path_factory, option: str, value: str) -> None:
    out = tmp_path_factory.mktemp("cli") / "out.json"
    with promise("command-line arguments"):
        code, _, err = _cli(["digest", str(SEEDS[0]), option, value, "-f", "json", "-o", str(out)], capsys)
        assert code in (0, 2), (code, err)
        if code == 2:
            assert err.startswith("mqa: error: ") and err.count("\n") == 1, err


# --------------------------------------------------------------------------------------------
# State files
# --------------------------------------------------------------------------------------------


@functools.cache
def state_bytes() -> bytes:
    """A real state: the digest of two logs of different dialects."""
    return encode_result(digest_logs([str(SEEDS[3]), str(SEEDS[2])]))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=6,
)


def _paths(value, prefix=()):  # every place in a JSON value
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _check_state(data: bytes, target: str) -> None:
    with promise(target):
        try:
            result = decode_result(data)
        except InputError as exc:
            assert str(exc)
            return
        report = build_report(result, limit=None)
        for fmt in RENDERERS:
            render(report, fmt, io.StringIO())


@fuzz(300)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["flip", "truncate", "junk"]), fraction, st.integers(1, 255)), min_size=1, max_size=3
    )
)
def test_state_file_bytes_damaged(tmp_path_factory, ops: list) -> None:
    data = state_bytes()
    for kind, where, byte in ops:
        op = (kind, where, bytes([byte]) * 3) if kind == "junk" else (kind, where, byte)
        data = mutate(data, op)
    _check_state(data, "state file (bytes)")
    # the same bytes as a state file given to mqa digest, header included
    path = tmp_path_factory.mktemp("state") / "host.state"
    path.write_bytes(STATE_MAGIC + b"1\n" + data)
    check_log(path, "state file given as input")


@fuzz(500)
@given(where=fraction, replacement=json_values, drop=st.booleans())
def test_state_file_values_damaged(where: float, replacement, drop: bool) -> None:
    value = unpack(state_bytes())
    places = [p for p in _paths(value) if p]
    place = places[_at(len(places) - 1, where)]
    parent = value
    for step in place[:-1]:
        parent = parent[step]
    if drop and isinstance(parent, dict):
        del parent[place[-1]]
    else:
        parent[place[-1]] = replacement
    _check_state(pack(value), "state file (values)")


# --------------------------------------------------------------------------------------------
# History databases
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history_file(tmp_path_factory) -> Path:
    """A real history: two report runs of the sample workload's log into a SQLite file."""
    from typer.main import get_command

    from cli.main import app

    directory = tmp_path_factory.mktemp("history")
    path = directory / "history.sqlite"
    for label in ("first", "second"):
        code = get_command(app).main(
            [
                "report",
                SAMPLE_LOG,
                "--history",
                f"sqlite:///{path}",
                "--label",
                "fuzz",
                "--json",
                str(directory / f"{label}.json"),
            ],
            standalone_mode=False,
        )
        assert code == 0
    return path


def _damage_rows(path: Path, table: str, column: str, value) -> bool:
    with contextlib.closing(sqlite3.connect(path)) as db:
        try:
            db.execute(f"UPDATE {table} SET {column} = ?", (value,))
            db.commit()
        except (sqlite3.Error, OverflowError):  # a value SQLite cannot hold: not a damage to try
            return False
    return True


HISTORY_COLUMNS = [
    ("mqa_meta", "value"),
    ("mqa_runs", "started_at"),
    ("mqa_runs", "span_start"),
    ("mqa_runs", "events"),
    ("mqa_runs", "sources"),
    ("mqa_runs", "notes"),
    ("mqa_runs", "totals"),
    ("mqa_runs", "views"),
    ("mqa_classes", "fingerprint"),
    ("mqa_classes", "tables_json"),
    ("mqa_run_classes", "calls"),
    ("mqa_run_classes", "state"),
    ("mqa_plans", "plan_rows"),
    ("mqa_findings", "severity"),
    ("mqa_positions", "read_to"),
    ("mqa_positions", "reader_state"),
]


@fuzz(150)
@given(
    how=st.sampled_from(["bytes", "rows"]),
    where=fraction,
    byte=st.integers(1, 255),
    column=st.sampled_from(HISTORY_COLUMNS),
    value=st.one_of(st.binary(max_size=20), st.text(max_size=10), st.integers(), st.floats(), st.none()),
)
def test_damaged_history_database(
    capsys, tmp_path_factory, history_file: Path, how, where, byte, column, value
) -> None:
    path = tmp_path_factory.mktemp("damaged") / "history.sqlite"
    shutil.copy(history_file, path)
    if how == "bytes":
        data = path.read_bytes()
        path.write_bytes(mutate(data, ("flip", where, byte)) if where < 0.9 else data[: _at(len(data), where)])
    else:
        assume(_damage_rows(path, *column, value))
    url = f"sqlite:///{path}"
    with promise("history database"):
        for args in (
            ["history", "--history", url, "-f", "json"],
            ["report", SAMPLE_LOG, "--history", url, "--label", "fuzz", "--json", str(path.with_suffix(".json"))],
        ):
            code, _, err = _cli(args, capsys)
            assert code in (0, 1, 2), (args, code, err)  # 1: a --fail-on crossed (none given here)
            assert code != 1
            if code == 2:
                assert err.startswith("mqa: error: ") and err.count("\n") == 1, err
