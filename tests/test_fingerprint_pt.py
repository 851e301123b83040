"""Conformance of analyzer.fingerprint.pt with pt-query-digest 3.2.1's fingerprint.

Expected values come only from data written by others (tests/fixtures/percona-toolkit: pt's own
QueryRewriter.t / pt-fingerprint cases; tests/fixtures/go-mysql: go-mysql's cases and the answers
of the real pt-fingerprint recorded by make_pt_agreement.py) or from running the real pt tools
(the oracle test).
"""

from __future__ import annotations

import collections
import concurrent.futures
import gzip
import json
import os
import random
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from analyzer.fingerprint.pt import pt_checksum, pt_fingerprint
from tests.conftest import FIXTURES as _FIXTURES
from tests.conftest import skip_or_fail

FIXTURES = _FIXTURES
PT_DIR = FIXTURES / "percona-toolkit"
GO_DIR = FIXTURES / "go-mysql"
SUPPORTED_OPTIONS = {"match_md5_checksums", "match_embedded_numbers"}

_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _unescape(field: str) -> str:
    # The corpus TSV escaping: \\ \t \n \r, nothing else.
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], field)


def _read_tsv(path: Path, *, header: bool) -> list[tuple[int, dict[str, str] | list[str]]]:
    """Rows as (line number, fields); fields unescaped; trailing spaces kept."""
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    names = lines[0].split("\t") if header else None
    rows = []
    for number, line in enumerate(lines, start=1):
        if header and number == 1:
            continue
        fields = [_unescape(f) for f in line.split("\t")]
        if names is not None:
            assert len(fields) == len(names), f"{path.name}:{number}: {len(fields)} fields"
            rows.append((number, dict(zip(names, fields))))
        else:
            rows.append((number, fields))
    return rows


def _case_id(number: int, query: str) -> str:
    short = " ".join(query.split())
    return f"L{number:02d} {short[:60]}"


def _parse_options(text: str) -> dict[str, bool]:
    options = {}
    for item in filter(None, text.split(",")):
        name, _, value = item.partition("=")
        options[name] = value == "1"
    return options


def _option_params(rows, query_key="query"):
    params = []
    for number, row in rows:
        options = _parse_options(row["options"])
        unsupported = sorted(set(options) - SUPPORTED_OPTIONS)
        marks = []
        if unsupported:
            marks = pytest.mark.skip(
                reason=f"needs QueryRewriter option {', '.join(unsupported)}, which pt-query-digest 3.2.1 "
                "neither has nor sets (the case comes from a later pt 3.x QueryRewriter.t)"
            )
        params.append(pytest.param(row, options, id=_case_id(number, row[query_key]), marks=marks))
    return params


# The corpus cases come from pt's QueryRewriter.t on a 2024 3.x commit.  For one of them that
# file expects what later pt versions print, not 3.2.1: pt-query-digest and pt-fingerprint 3.2.1
# both print "select '\ from foo" (their s/\\["']//g deletes the \' of '\\').  The change is
# most likely PT-1900 (percona-toolkit pull request #510, 2021, "fixes query rewriter for special
# quoted strings").  For that query the expected value is the real pt-fingerprint 3.2.1's answer
# recorded in go-mysql/pt_agreement.tsv (same query); the oracle test also checks it live.
_CHANGED_AFTER_3_2_1 = {"select '\\\\' from foo"}


def _pt_3_2_1_answer(query: str) -> str:
    rows = _read_tsv(GO_DIR / "pt_agreement.tsv", header=True)
    answers = [row["pt_fingerprint"] for _, row in rows if row["query"] == query]
    assert len(answers) == 1, f"no recorded pt 3.2.1 answer for {query!r}"
    return answers[0]


def _check_corpus_case(query: str, expected: str, **options: bool) -> None:
    ours = pt_fingerprint(query, **options)
    if query in _CHANGED_AFTER_3_2_1:
        assert not options
        assert expected != _pt_3_2_1_answer(query)  # else the case no longer needs the exception
        assert ours == _pt_3_2_1_answer(query)
    else:
        assert ours == expected


# --------------------------------------------------------------------------------------------
# 1. pt's default-option cases

_DEFAULT_ROWS = _read_tsv(PT_DIR / "fingerprints" / "pt_fingerprint_default.tsv", header=False)


@pytest.mark.parametrize(
    ("query", "expected"),
    [pytest.param(q, fp, id=_case_id(n, q)) for n, (q, fp) in _DEFAULT_ROWS],
)
def test_matches_pt_default_cases(query, expected):
    _check_corpus_case(query, expected)


def test_changed_case_is_in_the_corpus():
    assert {q for _, (q, _fp) in _DEFAULT_ROWS} >= _CHANGED_AFTER_3_2_1


def test_default_cases_file_has_all_cases():
    assert len(_DEFAULT_ROWS) == 37  # README.txt: "37 cases"


# --------------------------------------------------------------------------------------------
# 2. pt's cases with match_md5_checksums / match_embedded_numbers

_OPTION_ROWS = _read_tsv(PT_DIR / "fingerprints" / "pt_fingerprint_with_options.tsv", header=True)


@pytest.mark.parametrize(("row", "options"), _option_params(_OPTION_ROWS))
def test_matches_pt_cases_with_options(row, options):
    _check_corpus_case(row["query"], row["fingerprint"], **options)


# --------------------------------------------------------------------------------------------
# 3. Class IDs (md5_id) of all inline cases

_ALL_ROWS = _read_tsv(PT_DIR / "fingerprints" / "pt_fingerprint_all.tsv", header=True)


@pytest.mark.parametrize(("row", "options"), _option_params(_ALL_ROWS))
def test_class_id_of_pt_cases(row, options):
    _check_corpus_case(row["query"], row["fingerprint"], **options)
    if row["query"] not in _CHANGED_AFTER_3_2_1:
        assert pt_checksum(pt_fingerprint(row["query"], **options)) == row["md5_id"]


@pytest.mark.parametrize("row", [pytest.param(row, id=_case_id(n, row["fingerprint"])) for n, row in _ALL_ROWS])
def test_checksum_of_pt_fingerprints(row):
    # Independent of the options: md5_id is upper(md5(fingerprint)) for every row.
    assert pt_checksum(row["fingerprint"]) == row["md5_id"]


def test_all_cases_file_has_default_rows():
    assert sum(1 for _, row in _ALL_ROWS if not row["options"]) >= 37


# --------------------------------------------------------------------------------------------
# 4. File inputs: huge INSERT/REPLACE files and the tail of slow039/040.txt.gz


def _tail_lines(data: bytes, count: int) -> bytes:
    """What `tail -n COUNT` prints (lines end at LF only)."""
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    for _ in range(count):
        end = data.rfind(b"\n", 0, end)
        if end < 0:
            return data
    return data[end + 1 :]


def _file_input(row: dict[str, str]) -> str:
    path = PT_DIR / row["input_file"]
    if path.suffix == ".gz":
        match = re.search(r"tail -n (\d+)", row["note"])
        assert match, row["note"]
        data = _tail_lines(gzip.decompress(path.read_bytes()), int(match.group(1)))
    else:
        data = path.read_bytes()  # PerconaTest::load_file: whole content, no chomp
    return data.decode("utf-8", "surrogateescape")


_FILE_ROWS = _read_tsv(PT_DIR / "fingerprints" / "pt_fingerprint_file_inputs.tsv", header=True)


@pytest.mark.parametrize("row", [pytest.param(row, id=Path(row["input_file"]).name) for _, row in _FILE_ROWS])
def test_matches_pt_file_input_cases(row):
    assert not row["options"]
    query = _file_input(row)
    assert len(query) > 100_000
    assert pt_fingerprint(query) == row["fingerprint"]


# --------------------------------------------------------------------------------------------
# 5. go-mysql's cases, against the real pt-fingerprint answers in pt_agreement.tsv

_GO_ROWS = _read_tsv(GO_DIR / "derived" / "gomysql_fingerprint_default.tsv", header=False)
_AGREEMENT_ROWS = _read_tsv(GO_DIR / "pt_agreement.tsv", header=True)


def test_agreement_file_covers_go_mysql_cases():
    # Same queries and go-mysql answers, same order: regenerate with make_pt_agreement.py otherwise.
    assert [(r["query"], r["go_fingerprint"]) for _, r in _AGREEMENT_ROWS] == [(q, fp) for _, (q, fp) in _GO_ROWS]
    for _, row in _AGREEMENT_ROWS:
        assert row["agree"] == ("yes" if row["pt_fingerprint"] == row["go_fingerprint"] else "no")


@pytest.mark.parametrize(
    "row",
    [pytest.param(row, id=f"{row['agree']} {_case_id(n, row['query'])}") for n, row in _AGREEMENT_ROWS],
)
def test_matches_pt_on_go_mysql_cases(row):
    ours = pt_fingerprint(row["query"])
    assert ours == row["pt_fingerprint"]
    if row["agree"] == "yes":
        assert ours == row["go_fingerprint"]


# --------------------------------------------------------------------------------------------
# 6. Live oracle: the real pt-fingerprint and pt-query-digest on real and generated statements

PT_FINGERPRINT = Path("/usr/bin/pt-fingerprint")
PT_QUERY_DIGEST = Path("/usr/bin/pt-query-digest")
PT_VERSION = "3.2.1"
_SEPARATOR = b"administrator command: mqa-oracle-separator"  # pt returns it unchanged
_PER_LOG = 100  # distinct statements taken from each slow log
# pt-fingerprint 3.2.1's QueryRewriter lacks one rule of pt-query-digest 3.2.1's:
# s/\bfalse\b|\btrue\b/?/isg.  pt-query-digest wins where they differ.
_BOOLEAN_WORD = re.compile(r"\b(?:false|true)\b", re.IGNORECASE | re.ASCII)

# Hand-written inputs (no expected values here: the answers come from the tools).
_TRICKY = [
    # comments
    "SELECT /* inline */ a FROM t -- trailing\n",
    "select a /* multi\nline */ from t # hash comment\nwhere b = 1",
    "select /*!40001 SQL_NO_CACHE */ a from t",
    "select a from t /*!50100 PARTITION (p0) */ where b=1",
    "select a/**/from t where b='--not a comment' -- real one",
    "select a from t where b = 1 -- it's a comment with a quote",
    "select a from t where c = '#x' # tail",
    "select 1 /* unclosed comment",
    "select a from t /* one */ /* two */ where /*three*/ b = 2",
    "REPLACE /*db.tbl:1/5*/ INTO checksums SELECT 1",
    "select /*foo.bar:3/3*/ 1",
    # quotes with escapes
    'select \'it\\\'s\', "say \\"hi\\"", \'a\'\'b\', "c""d" from t',
    "select 'back\\\\slash', 'tab\\t', '' , \"\" from t",
    "select '\\\\' from foo",  # pt's later QueryRewriter.t expects another answer (see above)
    "select a from t where b = 'unterminated",
    "select a from t where b = \"x' and c = 'y\"",
    "select 'multi\nline\nstring' from t",
    # hex / bit literals
    "select 0xFF, 0xff, X'AB', x'ab', b'01', B'1', 0b1010, 0xDEADBEEF from t",
    "SELECT * FROM t WHERE h = 0x1a2B3c AND bits = b'1010'",
    # negative and exponent numbers
    "select -1, - 2, +3, 1e10, 1E10, -6.5e-3, .5e+3, 1.e5, 3.14159, -0.0 from t where a=-1",
    "select a-1, a - 1, a+1, a*-1, 2-3 from t",
    "select id from t where x > -9223372036854775808 and y < 1.7976931348623157E308",
    # IN lists with spaces
    "select * from t where a in ( 1 , 2 ,3 ) and b IN('x', 'y',  'z') and c not in (  4  )",
    "select * from t where a in (select b from u where c in (1,2))",
    "select * from t where a in (1, 2) or a in(3)",
    "select * from t where (a, b) in ((1, 2), (3, 4))",
    "select * from t where a in (1, 2, 3" + ", 4" * 30 + ")",
    # multi-row VALUES
    "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')",
    "insert into t values (1),(2),(3) on duplicate key update a = values(a)",
    "INSERT IGNORE INTO t VALUES (1, 'a') , (2, 'b')",
    "REPLACE INTO t(a) VALUES(1), (2)",
    "INSERT INTO t (a) VALUE (1), (2)",
    "INSERT INTO t (a, b) VALUES (1, NOW()), (2, NOW())",
    "insert into t (a) values (1) on duplicate key update b = b + 1",
    "INSERT LOW_PRIORITY INTO t VALUES (1), (2)",
    "insert into t select * from u where a in (1, 2)",
    # UNION / UNION ALL chains
    "select a from t where b=1 union all select a from t where b=2 union all select a from t where b=3",
    "select a from t union select a from t union all select a from t",
    "(select a from t where b=1) union (select a from t where b=2)",
    "select a from t where b=1 union select c from u where d=2 union select a from t where b=3",
    "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5",
    # ORDER BY ... ASC
    "select * from t order by x ASC, y ASC",
    "select * from t order by x asc, y desc, z Asc limit 10",
    "select a asc_col from t order by a asc, b",
    "select * from t order by b ascii, c",
    "select * from (select a from t order by a asc) x order by x.a ASC",
    "select * from t ORDER\nBY a ASC",
    "select * from t group by a asc order by b asc",
    # LIMIT forms
    "select * from t limit 10, 20",
    "select * from t limit 10 offset 20",
    "select * from t limit 1 union select * from u limit 2",
    # booleans and NULL (pt-fingerprint 3.2.1 lacks the true/false rule; pt-query-digest wins)
    "SELECT * FROM t WHERE flag = TRUE AND other = false AND trueish = 1",
    "select null, NULL, nullable, is_null from t where a is not null",
    # special cases
    "SELECT /*!40001 SQL_NO_CACHE */ * FROM `sakila`.`film`",
    "CALL proc_1(1, 'a')",
    "  call Mixed.Case_Proc( 1 )",
    "use `Sakila`",
    "USE mydb\n",
    "administrator command: Quit",
    "LOAD DATA INFILE '/tmp/x.csv' INTO TABLE t",
    "SHOW /*!50002 GLOBAL */ STATUS LIKE 'Threads%'",
    "select * from db2.t_21 join db_3.t4 on t_21.id = t4.id",
    "SELECT * FROM prices.rt_5min, tbl_fbc5e685a5d3d45aa1d0347fdb7c4d35 WHERE id = 7",
    # whitespace
    "select\ta\r\nfrom\x0bt\x0cwhere  b\n\n=\t1",
    "  \n select 1\n\n",
    # non-ASCII text and an invalid UTF-8 byte (surrogateescape stands for the raw byte)
    "SELECT naïve, 'café', \"日本語\" FROM tëst WHERE ÉTAT = 'ü' ORDER BY Ä ASC",
    "select * from ÉCOLE where İ = 1 and K = 2 order by a aſc",
    "select * from t where name = 'caf\udce9' and x\udcff = 1",
    "select \udcff\udcfe from t where a in (1, 2)",
    "select 'ok' from t where b = 'ÿ\udc80' -- commentaire é\n",
    # halves of "é" (C3 A9) that become one character when pt deletes what is between them
    "select \udcc3/* c */\udca9 from t where a = 1",
    "select \udcc3\\'\udca9 from t",
    "select a from t order by b\udcc3 asc\udca9, c",
    # large inputs
    "select * from t where id in (" + ", ".join(str(i) for i in range(5000)) + ")",
    " UNION ALL ".join(f"select a from t{i} where b = {i}" for i in range(500)),
    " union all ".join(["select a from t where b = 1"] * 500),
    "insert into t values " + ", ".join(f"({i}, 'x{i}')" for i in range(5000)),
    "select 1 " + "/* x " * 2000,
    "select a from t where b = 1 order by " + ", ".join(f"c{i} asc" for i in range(500)),
]

_RANDOM_TOKENS = [
    "select",
    "SELECT",
    "from",
    "FROM",
    "t",
    "db2.t_21",
    "where",
    "WHERE",
    "a",
    "b",
    "=",
    "1",
    "-1",
    "+2",
    "3.5",
    ".5",
    "1e10",
    "-6e-30",
    "0x1F",
    "0xff",
    "x'AB'",
    "b'101'",
    "'str'",
    '"dq"',
    "'it\\'s'",
    '"a\\"b"',
    "\\",
    "'",
    '"',
    "(",
    ")",
    ",",
    "IN",
    "in",
    "IN (",
    "VALUES",
    "values",
    "value",
    "(1,2)",
    "(1, 2), (3,4)",
    "INSERT INTO t",
    "REPLACE INTO t",
    "UNION",
    "union all",
    "ORDER BY",
    "order by",
    "ASC",
    "asc",
    "DESC",
    "ascii",
    "LIMIT",
    "limit",
    "OFFSET",
    "?",
    "NULL",
    "null",
    "TRUE",
    "false",
    "-- c",
    "#",
    "# c\n",
    "/*",
    "*/",
    "/* c */",
    "/*!40001 x */",
    "/**/",
    "call",
    "CALL foo(",
    "use",
    "administrator command: ",
    ";",
    "\n",
    "\t",
    "\r\n",
    "\x0b",
    "é",
    "É",
    "\udcff",
    "İ",
    "ſ",
    "_",
    "fbc5e685a5d3d45aa1d0347fdb7c4d35",
    "ON DUPLICATE KEY UPDATE",
    "select 1",
    "union select 1",
    "union all select 1",
]


def _random_statements(count: int) -> list[str]:
    rng = random.Random(3_2_1)
    # Not "use": a slow log takes a first line "use ..." as the default database, so
    # pt-query-digest could not arbitrate those statements.
    heads = [
        "select",
        "SELECT",
        "insert into t values",
        "INSERT INTO t (a) VALUES",
        "update t set",
        "delete from t",
        "replace into t values",
        "call",
        "CALL",
    ]
    statements = []
    for _ in range(count):
        words = [rng.choice(heads)] + [rng.choice(_RANDOM_TOKENS) for _ in range(rng.randint(1, 20))]
        # Mostly a plain last line, so that pt-fingerprint can take most of them from one file.
        words.append(rng.choice(["\nfrom t", "\nwhere a", " t", ""]))
        statements.append(rng.choice([" ", "", "  "]).join(words))
    return statements


_NOT_A_QUERY_LINE = re.compile(rb"^(?:#|use |SET (?:last_insert_id|insert_id|timestamp))")
# pt's SlowLogParser deletes these mysqld start-up banner lines anywhere in an event.
_SLOW_LOG_HEADER_LINE = re.compile(
    rb"^(?:T[cC][pP]\s[pP]ort:\s+\d+|[/A-Z].*mysqld,\sVersion.*(?:started\swith:|embedded\slibrary)"
    rb"|Time\s+Id\s+Command).*\n",
    re.MULTILINE,
)


def _slow_log_statements(path: Path) -> list[str]:
    """Statement texts of a slow log, roughly as pt's SlowLogParser takes them (for harvesting only)."""
    statements = []
    for chunk in path.read_bytes().split(b";\n#"):
        lines = _SLOW_LOG_HEADER_LINE.sub(b"", chunk).split(b"\n")
        for number, line in enumerate(lines):
            if not line or _NOT_A_QUERY_LINE.match(line):
                continue
            if number == 0 and not chunk.startswith(b"#"):
                continue  # rest of a "# ..." header line (the split ate its "#")
            text = b"\n".join(lines[number:])
            if text.endswith(b";\n"):
                text = text[:-2]
            statements.append(text.decode("utf-8", "surrogateescape"))
            break
    return statements


def _real_statements() -> list[str]:
    logs = sorted((PT_DIR / "t" / "lib" / "samples" / "slowlogs").glob("*.txt"))
    logs += sorted((PT_DIR / "t" / "lib" / "samples" / "slowlogs").glob("*.log"))
    logs += sorted((GO_DIR / "test" / "slow-logs").glob("*.log"))
    seen: dict[str, None] = {}
    for log in logs:
        taken = 0
        for statement in _slow_log_statements(log):
            if statement not in seen and taken < _PER_LOG:
                seen[statement] = None
                taken += 1
    return list(seen)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _require_pt_tool(path: Path) -> None:
    problem = None
    if not os.access(path, os.X_OK):
        problem = f"{path} is not installed (apt-get install percona-toolkit)"
    else:
        version = subprocess.run([str(path), "--version"], capture_output=True, text=True).stdout
        if version.split()[-1:] != [PT_VERSION]:
            problem = f"{path} is {version.strip()!r}; the oracle is Percona Toolkit {PT_VERSION}"
    if problem:
        skip_or_fail(problem)


def _fits_pt_fingerprint_file_mode(statement: str) -> bool:
    # pt-fingerprint FILE reads records ending in ";\n", chomps them, blanks lines that start
    # with "#", strips leading white space and skips records that do not start with \w.  And
    # $/ is still ";\n" while it fingerprints, so the "chomp" inside fingerprint() keeps a final
    # "\n" that pt-query-digest removes: multi-line statements go to the file only when their
    # last line has text that no deletion (comments, \' and \") can remove.
    last_line = statement.rpartition("\n")[2]
    return (
        ";\n" not in statement
        and re.search(r"^#.+$", statement, re.MULTILINE) is None
        and re.match(r"\w", statement, re.ASCII) is not None
        and ("\n" not in statement or (last_line.strip() != "" and not re.search(r"[-#/*\\]", last_line)))
    )


def _run_pt_fingerprint(statements: list[str], workdir: Path) -> list[str | None]:
    """pt-fingerprint's answer per statement (None if it cannot be given this exact text)."""
    answers: list[str | None] = [None] * len(statements)
    in_file = [i for i, s in enumerate(statements) if _fits_pt_fingerprint_file_mode(s)]
    queries_file = workdir / "queries.sql"
    queries_file.write_bytes(b"".join(_encode(statements[i]) + b";\n" + _SEPARATOR + b";\n" for i in in_file))
    done = subprocess.run([str(PT_FINGERPRINT), str(queries_file)], capture_output=True, check=True)
    assert done.stderr == b""
    outputs = done.stdout.split(_SEPARATOR + b"\n")
    assert outputs[-1] == b"" and len(outputs) == len(in_file) + 1
    for i, output in zip(in_file, outputs):
        assert output.endswith(b"\n")
        answers[i] = _decode(output[:-1])

    def one_query(statement: str) -> str:
        # --query=VALUE so a leading "-" is not read as an option.  It exits 1 (main returns
        # print's value), so judge it by its stderr.
        done = subprocess.run([bytes(PT_FINGERPRINT), b"--query=" + _encode(statement)], capture_output=True)
        assert done.stderr == b"" and done.stdout.endswith(b"\n"), (statement, done)
        return _decode(done.stdout[:-1])

    rest = [
        i
        for i, s in enumerate(statements)
        if answers[i] is None and "\0" not in s and len(_encode(s)) < 100_000  # argv limits
    ]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for i, answer in zip(rest, pool.map(one_query, [statements[i] for i in rest])):
            answers[i] = answer
    return answers


_QUERY_TIME_LINE = "# Query_time: {0}.000000  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0\n"


def _fits_slow_log(statement: str) -> bool:
    # pt's SlowLogParser gives back exactly this text as the event's query: records end at
    # ";\n#", the first query line must not look like a header, use or SET line, and
    # mysqld start-up banner lines are deleted anywhere.
    data = _encode(statement)
    return (
        data not in (b"", b"0")  # Perl-false arguments are skipped
        and b";\n#" not in data
        and not _NOT_A_QUERY_LINE.match(data)
        and not data.startswith(b"administrator command")  # written back with a "# " prefix
        and _SLOW_LOG_HEADER_LINE.search(data + b"\n") is None
    )


def _run_pt_query_digest(statements: list[str], workdir: Path):
    """pt-query-digest's fingerprint per statement, and its JSON classes, from one slow log."""
    in_log = [i for i, s in enumerate(statements) if _fits_slow_log(s)]
    log = workdir / "oracle-slow.log"
    log.write_bytes(
        b"".join(
            _QUERY_TIME_LINE.format(n).encode() + _encode(statements[i]) + b";\n" for n, i in enumerate(in_log, start=1)
        )
    )
    common = [str(PT_QUERY_DIGEST), "--no-version-check"]
    # secure-slowlog writes each event back with the fingerprint as its query text.
    done = subprocess.run(
        common + ["--output", "secure-slowlog", "--no-report", str(log)], capture_output=True, check=True
    )
    parts = re.split(
        rb"^# Query_time: (\d+)\.000000  Lock_time: 0\.000000  Rows_sent: 0  Rows_examined: 0\n",
        done.stdout,
        flags=re.MULTILINE,
    )
    assert parts[0] == b""
    printed: dict[int, str] = {}
    for number, text in zip(parts[1::2], parts[2::2]):
        assert text.endswith(b";\n")
        printed[in_log[int(number) - 1]] = _decode(text[:-2])
    assert len(printed) == len(in_log)
    done = subprocess.run(
        common + ["--output", "json", "--limit", "1000000", str(log)], capture_output=True, check=True
    )
    classes = json.loads(done.stdout)["classes"]
    return printed, classes, in_log


@pytest.mark.oracle
def test_matches_real_pt_tools():
    _require_pt_tool(PT_FINGERPRINT)
    _require_pt_tool(PT_QUERY_DIGEST)
    real = _real_statements()
    statements = real + _TRICKY + _random_statements(400)
    assert len(real) >= 200
    ours = [pt_fingerprint(s) for s in statements]
    with tempfile.TemporaryDirectory(prefix="mqa-pt-oracle-") as tmp:
        by_pt_fingerprint = _run_pt_fingerprint(statements, Path(tmp))
        by_pt_query_digest, classes, in_log = _run_pt_query_digest(statements, Path(tmp))

    failures = []
    pt_fingerprint_differs = 0
    for i, statement in enumerate(statements):
        mine = ours[i]
        if i in by_pt_query_digest:
            # SlowLogWriter prints the query itself when the fingerprint is Perl-false.
            written = mine if mine not in ("", "0") else statement
            if by_pt_query_digest[i] != written:
                failures.append(("pt-query-digest", statement, by_pt_query_digest[i], mine))
        answer = by_pt_fingerprint[i]
        if answer is not None and answer != mine:
            # Allowed only where pt-fingerprint's QueryRewriter is known to differ from
            # pt-query-digest's (true/false) and pt-query-digest confirmed our answer above.
            if _BOOLEAN_WORD.search(statement) and i in by_pt_query_digest:
                pt_fingerprint_differs += 1
            else:
                failures.append(("pt-fingerprint", statement, answer, mine))
    shown = "\n".join(
        f"{tool}: {s[:300]!r}\n    pt:   {pt[:300]!r}\n    ours: {mine[:300]!r}" for tool, s, pt, mine in failures[:10]
    )
    assert not failures, f"{len(failures)} of {len(statements)} differ:\n{shown}"

    # Every statement was checked by at least one tool, and the arbitration path ran.
    unchecked = [
        s[:80] for i, s in enumerate(statements) if by_pt_fingerprint[i] is None and i not in by_pt_query_digest
    ]
    assert not unchecked
    assert pt_fingerprint_differs > 0
    assert len(by_pt_query_digest) > 0.8 * len(statements)

    # Class IDs and counts from pt-query-digest's JSON.  It shows each fingerprint's bytes as
    # Latin-1 and cut to max_fingerprint_length (5,000 bytes); the ID is over the whole.
    expected = collections.Counter(pt_checksum(ours[i]) for i in in_log)
    fingerprint_of = {pt_checksum(ours[i]): ours[i] for i in in_log}
    seen = collections.Counter()
    for item in classes:
        assert item["checksum"] in fingerprint_of
        assert item["fingerprint"].encode("latin-1") == _encode(fingerprint_of[item["checksum"]])[:5000]
        seen[item["checksum"]] += item["query_count"]
    assert seen == expected
