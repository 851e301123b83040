"""Index health (analyzer.sources.schema, analyzer.advisor.health and the IDX checks).

Duplicate and redundant indexes are checked against pt-duplicate-key-checker, the oracle: each
of its fixture schemas (tests/fixtures/percona-toolkit, see FIXTURES.txt) is loaded into a fresh
database of the test server, the real tool runs against it, and both must report the same set
of (table, index dropped, index kept, kind, shortened columns).  Its recorded outputs
(t/pt-duplicate-key-checker/samples/*.txt) are compared where an input for them exists.  The
places where mqa differs from pt on purpose (analyzer/advisor/checks/_duplicates.py) are
checked against the live tool too: every difference must be one of them.

Every test that touches the server uses its own database and drops it at the end.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pymysql
import pytest

from analyzer.advisor.checks import check_named
from analyzer.advisor.health import (
    ForeignKeyGuard,
    IndexFinding,
    check_indexes,
    find_duplicate_indexes,
    find_missing_primary_keys,
    find_unused_indexes,
)
from analyzer.sources.db import Capabilities, capabilities_of
from analyzer.sources.schema import (
    SYSTEM_SCHEMAS,
    Column,
    ForeignKey,
    Index,
    IndexColumn,
    Table,
    load_tables,
)
from tests.conftest import FIXTURES, require_executable, skip_or_fail
from tests.servers import GeneralLog, TestServer, fresh_database, is_read, session

PT = FIXTURES / "percona-toolkit"
PT_SAMPLES = PT / "t/pt-duplicate-key-checker/samples"

# Every duplicate-key fixture of pt's test suite that is a schema.
PT_FIXTURES = (
    "t/lib/samples/dupe_fk_one.sql",
    "t/lib/samples/dupe_fulltext_exact.sql",
    "t/lib/samples/dupe_fulltext_reverse_order.sql",
    "t/lib/samples/dupe_if_it_were_innodb.sql",
    "t/lib/samples/dupe_key.sql",
    "t/lib/samples/dupe_key_reversed.sql",
    "t/lib/samples/dupe_key_unordered.sql",
    "t/lib/samples/dupe_keys_different_type.sql",
    "t/lib/samples/dupe_keys_thrice.sql",
    "t/lib/samples/innodb_dupe.sql",
    "t/lib/samples/nondupe_fulltext.sql",
    "t/lib/samples/nondupe_fulltext_not_exact.sql",
    "t/lib/samples/dupekeys/dupe-cluster-bug-894140.sql",
    "t/lib/samples/dupekeys/issue-1004.txt",
    "t/lib/samples/dupekeys/issue-1192.sql",
    "t/lib/samples/dupekeys/issue-904-1.txt",
    "t/lib/samples/dupekeys/issue-904-2.txt",
    "t/lib/samples/dupekeys/prefix_bug_1214114.sql",
    "t/lib/samples/dupekeys/simple_dupe_bug_1217013.sql",
    "t/pt-duplicate-key-checker/samples/fk_chosen_index_bug_1201443.sql",
    "t/pt-duplicate-key-checker/samples/idb-no-uniques-bug-894140.sql",
    "t/pt-duplicate-key-checker/samples/issue_295.sql",
    "t/pt-duplicate-key-checker/samples/issue_331.sql",
    "t/pt-duplicate-key-checker/samples/issue_663.sql",
)

# pt's own tests parse these with TableParser and never send them to a server; they are not
# valid DDL for MariaDB 10.11 (nor MySQL 8).
NOT_LOADABLE = {
    "t/lib/samples/dupe_fulltext_exact.sql": "DEFAULT CHARSET=latin: no such character set",
    "t/lib/samples/dupe_fulltext_reverse_order.sql": "DEFAULT CHARSET=latin: no such character set",
    "t/lib/samples/dupe_key_reversed.sql": "a comma after the last key: syntax error",
    "t/lib/samples/dupe_key_unordered.sql": "a comma after the last key: syntax error",
    "t/lib/samples/dupe_keys_different_type.sql": "a comma after the last key: syntax error",
    "t/lib/samples/nondupe_fulltext.sql": "a comma after the last key (and FULLTEXT on INT columns)",
}

# pt's recorded outputs, and the fixture each was produced from (t/pt-duplicate-key-checker/*.t).
# None: an empty database.  uppercase_names*.txt, issue_269.txt: their inputs are not in the corpus.
RECORDED = {
    "basic_output.txt": "t/lib/samples/dupe_key.sql",
    "nosql_output.txt": "t/lib/samples/dupe_key.sql",
    "nosummary_output.txt": "t/lib/samples/dupe_key.sql",
    "bug-894140.txt": "t/lib/samples/dupekeys/dupe-cluster-bug-894140.sql",
    "issue_1192.txt": "t/lib/samples/dupekeys/issue-1192.sql",
    "issue_295.txt": "t/pt-duplicate-key-checker/samples/issue_295.sql",
    "issue_295-51.txt": "t/pt-duplicate-key-checker/samples/issue_295.sql",
    "issue_331.txt": "t/pt-duplicate-key-checker/samples/issue_331.sql",
    "simple_dupe_bug_1217013.txt": "t/lib/samples/dupekeys/simple_dupe_bug_1217013.sql",
    "simple_dupe_bug_1217013_80.txt": "t/lib/samples/dupekeys/simple_dupe_bug_1217013.sql",
    "simple_dupe_bug_1402730.txt": "t/lib/samples/dupekeys/simple_dupe_bug_1217013.sql",
    "simple_dupe_bug_1402730_80.txt": "t/lib/samples/dupekeys/simple_dupe_bug_1217013.sql",
    "nonexistent_db.txt": None,
}

# Schemas nobody here wrote, for the live comparison (in tests/fixtures with their SOURCE.txt and
# licenses).
SAMPLE_DBS = FIXTURES


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

_DATABASE_STATEMENT = re.compile(r"^\s*(DROP\s+DATABASE|CREATE\s+DATABASE|USE)\b", re.IGNORECASE)


def load_fixture(server: TestServer, database: str, path: Path) -> None:
    """Run a fixture's statements in ``database``, as mysqldump output loads: foreign key checks
    off (issue-1004 references tables it does not create).  The fixture's own DROP/CREATE
    DATABASE and USE statements are left out, so that it lands in ``database``."""
    statements = [s for s in re.split(r";[ \t]*(?:\r?\n|$)", path.read_text(encoding="utf-8")) if s.strip()]
    conn = server.admin(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION foreign_key_checks = 0")
            for statement in statements:
                if not _DATABASE_STATEMENT.match(statement):
                    cur.execute(statement)
    finally:
        conn.close()


def run_pt(server: TestServer, database: str, tmp_path: Path, *options: str) -> str:
    """The output of the real pt-duplicate-key-checker on ``database`` (as the test server's
    administrator: over the socket when there is one; a password goes in an option file)."""
    exe = require_executable("pt-duplicate-key-checker", "apt-get install percona-toolkit")
    args = server.connect_args
    command = [exe]
    if args.get("password"):
        option_file = tmp_path / "pt-client.cnf"
        option_file.write_text(f"[client]\npassword={args['password']}\n", encoding="utf-8")
        option_file.chmod(0o600)
        command += ["--defaults-file", str(option_file)]
    if args.get("unix_socket"):
        command += ["--socket", args["unix_socket"]]
    else:
        command += ["--host", str(args["host"]), "--port", str(args["port"])]
    command += ["-u", args["user"], "--no-version-check", "--nosummary", "-d", database, *options]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Error checking" not in done.stderr, done.stderr
    return done.stdout


_KEY_NAME = re.compile(r"^#\s+(?:PRIMARY KEY|CONSTRAINT `([^`]*)`|(?:UNIQUE |FULLTEXT |SPATIAL )?KEY `([^`]*)`)")


def _key_name(definition: str) -> str:
    m = _KEY_NAME.match(definition)
    assert m, definition
    return m.group(1) or m.group(2) or "PRIMARY"


def parse_pt(text: str) -> set[tuple[str, str, str, str, str]]:
    """pt-duplicate-key-checker's report as {(table, dropped, kept, kind, shortened columns)};
    kind is exact, prefix, clustered or fk."""
    found = set()
    table = None
    lines = text.splitlines()
    blocks = 0
    for i, line in enumerate(lines):
        if line.startswith("# ####") and i + 2 < len(lines) and lines[i + 2].startswith("# ####"):
            header = lines[i + 1][1:].strip()
            table = header.split(".", 1)[1] if "." in header else None
        if line.strip() != "# Key definitions:":
            continue
        blocks += 1
        start = i
        while start > 0 and lines[start - 1].startswith("# ") and not lines[start - 1].startswith("# ####"):
            start -= 1
        reason = "\n".join(lines[start:i])
        end = i
        while end + 1 < len(lines) and lines[end + 1].strip():
            end += 1
        block = "\n".join(lines[i : end + 1])
        short = re.search(r", ADD INDEX `[^`]*` \((.*)\);$", block, re.MULTILINE)
        if "ends with a prefix of the clustered index" in reason:
            kind = "clustered"
        elif reason.lstrip("# ").startswith("FOREIGN KEY"):
            kind = "fk"
        elif "is a duplicate of" in reason:
            kind = "exact"
        else:
            assert "is a left-prefix of" in reason, reason
            kind = "prefix"
        found.add((table, _key_name(lines[i + 1]), _key_name(lines[i + 2]), kind, short.group(1) if short else ""))
    assert len(found) == blocks, text
    return found


def ours(findings: list[IndexFinding]) -> set[tuple[str, str, str, str, str]]:
    """Our duplicate findings in parse_pt()'s form (table without its database)."""
    return {
        (f.table.split(".", 1)[1], f.index, f.kept, f.evidence["kind"], ",".join(f.evidence.get("short_columns", [])))
        for f in findings
        if f.check in ("IDX001", "IDX002", "IDX003", "IDX004")
    }


def duplicates_on_server(server: TestServer, database: str) -> list[IndexFinding]:
    with session(server) as mqa:
        return find_duplicate_indexes(load_tables(mqa, [database]))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


class RecordingServer:
    """An analyzer.sources.db.Server stand-in: answers from a function, records every statement."""

    def __init__(self, capabilities: Capabilities, answer: Any = None, wrapped: Any = None) -> None:
        self.capabilities = capabilities
        self.answer = answer
        self.wrapped = wrapped
        self.sent: list[str] = []

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        self.sent.append(sql)
        if self.wrapped is not None:
            return self.wrapped.query(sql, args)
        return self.answer(sql, args)


def assert_reads_only(statements: list[str]) -> None:
    for sql in statements:
        assert re.match(r"\s*(SELECT|SHOW)\b", sql, re.IGNORECASE), sql


# --------------------------------------------------------------------------------------------
# Conformance with pt-duplicate-key-checker
# --------------------------------------------------------------------------------------------


def test_fixture_lists_name_real_files() -> None:
    for rel in PT_FIXTURES:
        assert (PT / rel).is_file(), rel
    assert set(NOT_LOADABLE) <= set(PT_FIXTURES)
    for sample, fixture in RECORDED.items():
        assert (PT_SAMPLES / sample).is_file(), sample
        assert fixture is None or fixture in PT_FIXTURES


@pytest.mark.parametrize("fixture", PT_FIXTURES)
def test_duplicates_agree_with_pt_duplicate_key_checker(server: TestServer, fixture: str, tmp_path: Path) -> None:
    require_executable("pt-duplicate-key-checker", "apt-get install percona-toolkit")
    with fresh_database(server, "mqa_idx_pt_" + _slug(Path(fixture).stem)) as db:
        try:
            load_fixture(server, db, PT / fixture)
        except pymysql.MySQLError as exc:
            if fixture in NOT_LOADABLE:
                why = f"{fixture} does not load on {server.version}: {NOT_LOADABLE[fixture]} ({exc.args[-1]})"
                pytest.skip(why)  # capability: pt's fixture is not valid SQL for this server
            raise
        expected = parse_pt(run_pt(server, db, tmp_path))
        assert ours(duplicates_on_server(server, db)) == expected


@pytest.mark.parametrize("sample", sorted(RECORDED))
def test_duplicates_match_pt_recorded_output(server: TestServer, sample: str) -> None:
    fixture = RECORDED[sample]
    expected = parse_pt((PT_SAMPLES / sample).read_text(encoding="utf-8"))
    with fresh_database(server, "mqa_idx_rec_" + _slug(Path(sample).stem)) as db:
        if fixture is not None:
            load_fixture(server, db, PT / fixture)
        assert ours(duplicates_on_server(server, db)) == expected


def test_parse_pt_reads_every_kind_of_block() -> None:
    """The parser itself, on pt's recorded outputs (so that an empty parse cannot pass for agreement)."""
    assert parse_pt((PT_SAMPLES / "basic_output.txt").read_text()) == {("dupe_key", "a", "a_2", "prefix", "")}
    assert parse_pt((PT_SAMPLES / "issue_295-51.txt").read_text()) == {("t", "b_a", "PRIMARY", "clustered", "`b`")}
    assert parse_pt((PT_SAMPLES / "issue_331.txt").read_text()) == {("issue_331_t2", "fk_2", "fk_1", "fk", "")}
    assert len(parse_pt((PT_SAMPLES / "bug-894140.txt").read_text())) == 2


def _sample_schema(name: str) -> Path:
    path = SAMPLE_DBS / name
    if not path.is_file():
        message = f"{path} is missing from the test fixtures"
        skip_or_fail(message)
    return path


def _load_create_tables(server: TestServer, database: str, path: Path) -> None:
    """Only the CREATE TABLE statements of a dump (no triggers, routines or views)."""
    conn = server.admin(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION foreign_key_checks = 0")
            for statement in re.findall(
                r"^CREATE TABLE\b.*?;[ \t]*$", path.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL
            ):
                cur.execute(statement)
    finally:
        conn.close()


@pytest.mark.parametrize("schema", ["sakila/sakila-mv-schema.sql", "employees/employees.sql"])
def test_duplicates_agree_with_pt_on_sample_databases(server: TestServer, schema: str, tmp_path: Path) -> None:
    path = _sample_schema(schema)
    with fresh_database(server, "mqa_idx_db_" + _slug(Path(schema).stem)) as db:
        _load_create_tables(server, db, path)
        for options in ((), ("--ignore-order",), ("--noclustered",)):
            expected = parse_pt(run_pt(server, db, tmp_path, *options))
            with session(server) as mqa:
                tables = load_tables(mqa, [db])
            found = find_duplicate_indexes(
                tables, ignore_order="--ignore-order" in options, clustered="--noclustered" not in options
            )
            assert ours(found) == expected, options


def test_sakila_index_counts_match_pt_key_types_samples(server: TestServer) -> None:
    """pt's --key-types k/f/fk samples were recorded on sakila: 41 keys, 22 foreign keys, no duplicates."""
    path = _sample_schema("sakila/sakila-mv-schema.sql")
    totals = {
        kind: int(re.search(r"# Total Indexes\s+(\d+)", (PT_SAMPLES / f"key-types-{kind}.txt").read_text()).group(1))
        for kind in ("k", "f", "fk")
    }
    with fresh_database(server, "mqa_idx_sakila_counts") as db:
        _load_create_tables(server, db, path)
        with session(server) as mqa:
            tables = load_tables(mqa, [db])
        keys = sum(len(t.indexes) for t in tables)
        fks = sum(len(t.foreign_keys) for t in tables)
        assert (keys, fks, keys + fks) == (totals["k"], totals["f"], totals["fk"])
        assert find_duplicate_indexes(tables) == []


# pt's rules, one table each, on DDL that loads (pt's FULLTEXT fixtures do not: CHARSET=latin).
RULES_SCHEMA = (
    "CREATE TABLE ft_exact (a VARCHAR(16), b VARCHAR(16), FULLTEXT KEY f1 (a, b), FULLTEXT KEY f2 (a, b)) ENGINE=MyISAM",
    "CREATE TABLE ft_reverse (a VARCHAR(16), b VARCHAR(16), FULLTEXT KEY fab (a, b), FULLTEXT KEY fba (b, a)) ENGINE=MyISAM",
    (
        "CREATE TABLE ft_not_exact (a VARCHAR(16), b VARCHAR(16), FULLTEXT KEY fab (a, b), FULLTEXT KEY fa (a), "
        "FULLTEXT KEY fb (b)) ENGINE=MyISAM"
    ),
    "CREATE TABLE ft_and_btree (a VARCHAR(16), b VARCHAR(16), KEY ka (a), FULLTEXT KEY fab (a, b)) ENGINE=MyISAM",
    "CREATE TABLE pk_prefix (a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a, b), KEY ka (a), KEY kab (a, b)) ENGINE=InnoDB",
    "CREATE TABLE unique_covered (a INT, b INT, UNIQUE KEY ua (a), KEY kab (a, b)) ENGINE=InnoDB",
    (
        "CREATE TABLE unique_multi (a INT, b INT, c INT, UNIQUE KEY uab (a, b), KEY kabc (a, b, c), KEY kab (a, b), "
        "KEY ka (a)) ENGINE=MyISAM"
    ),
    (
        "CREATE TABLE unique_stronger (a INT NOT NULL, b INT, c INT, PRIMARY KEY (a), UNIQUE KEY uab (a, b), "
        "KEY kabc (a, b, c)) ENGINE=MyISAM"
    ),
    "CREATE TABLE unique_twice (a INT, UNIQUE KEY u1 (a), UNIQUE KEY u2 (a)) ENGINE=MyISAM",
    "CREATE TABLE clustered_unique (a INT NOT NULL, b INT, UNIQUE KEY ua (a), KEY kba (b, a)) ENGINE=InnoDB",
    (
        "CREATE TABLE clustered_multi (a INT NOT NULL, b INT NOT NULL, c INT, PRIMARY KEY (a, b), KEY kcab (c, a, b), "
        "KEY kca (c, a)) ENGINE=InnoDB"
    ),
    "CREATE TABLE prefix_lengths (c VARCHAR(100), d INT, KEY c10 (c(10)), KEY c10d (c(10), d), KEY c20 (c(20))) ENGINE=InnoDB",
    "CREATE TABLE descending (a INT, b INT, KEY ad (a DESC), KEY adb (a DESC, b)) ENGINE=InnoDB",
    "CREATE TABLE UPPER_TEST (A INT NOT NULL DEFAULT 0, PRIMARY KEY (A), KEY A (A)) ENGINE=InnoDB",
    (
        "CREATE TABLE memory_hash (a INT, b INT, KEY h1 (a) USING HASH, KEY h2 (a) USING HASH, KEY bt (a, b) USING BTREE) "
        "ENGINE=MEMORY"
    ),
    "CREATE TABLE fk_parent (a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a, b), KEY kba (b, a)) ENGINE=InnoDB",
    (
        "CREATE TABLE fk_child (id INT NOT NULL PRIMARY KEY, a INT NOT NULL, b INT NOT NULL, KEY kab (a, b), KEY kba (b, a), "
        "CONSTRAINT fk1 FOREIGN KEY (a, b) REFERENCES fk_parent (a, b), "
        "CONSTRAINT fk2 FOREIGN KEY (b, a) REFERENCES fk_parent (b, a)) ENGINE=InnoDB"
    ),
)


# --all-structs is not compared: pt 3.2.1 passes it as ignore_type, and its finder reads
# ignore_structure, so the option changes nothing there.
@pytest.mark.parametrize("options", [(), ("--ignore-order",), ("--noclustered",)])
def test_duplicates_agree_with_pt_on_each_rule(server: TestServer, options: tuple[str, ...], tmp_path: Path) -> None:
    with fresh_database(server, "mqa_idx_rules_" + _slug("_".join(options) or "default")) as db:
        server.execute(*RULES_SCHEMA, database=db)
        expected = parse_pt(run_pt(server, db, tmp_path, *options))
        with session(server) as mqa:
            tables = load_tables(mqa, [db])
        found = find_duplicate_indexes(
            tables, ignore_order="--ignore-order" in options, clustered="--noclustered" not in options
        )
        assert ours(found) == expected


# Schemas where pt-duplicate-key-checker 3.2.1 and mqa differ on purpose (find_duplicate_indexes).
DEVIATION_SCHEMA = (
    # pt: "cfull is a left-prefix of c10" (text comparison of `c` and `c`(10)); a full index is not
    # served by a 10-character prefix.
    "CREATE TABLE prefix_len (c VARCHAR(100), KEY c10 (c(10)), KEY cfull (c)) ENGINE=MyISAM",
    # pt drops UNIQUE (a, b) as a left-prefix of PRIMARY KEY (a, b, c), losing the constraint.
    "CREATE TABLE unique_prefix (a INT NOT NULL, b INT NOT NULL, c INT NOT NULL, PRIMARY KEY (a, b, c), UNIQUE KEY ub (a, b)) ENGINE=InnoDB",
    # pt compares unique and plain indexes by position and misses n duplicating the second unique index.
    "CREATE TABLE two_uniques (a INT, c INT, UNIQUE KEY u1 (a), UNIQUE KEY u2 (c), KEY n (c)) ENGINE=MyISAM",
    # pt compares text: KEY (a, b) is a "left-prefix" of KEY (a, b DESC, c), which cannot sort by a, b,
    # and KEY (a DESC, b DESC), KEY (a, b) read backwards, is no duplicate of it.
    (
        "CREATE TABLE directions (a INT, b INT, c INT, KEY a_asc (a, b), KEY a_desc (a DESC, b DESC), "
        "KEY ab_c (a, b DESC, c)) ENGINE=InnoDB"
    ),
    # pt: MEMORY HASH index (a) is a "left-prefix" of HASH (a, b), which cannot look up a alone.
    "CREATE TABLE hashes (a INT, b INT, KEY ha (a), KEY hab (a, b)) ENGINE=MEMORY",
    # pt takes the first unique index as InnoDB's clustered index even when its column is nullable.
    "CREATE TABLE nullable_unique (a INT NULL, b INT NOT NULL, UNIQUE KEY ua (a), KEY ba (b, a)) ENGINE=InnoDB",
)


def _explained(finding: tuple[str, str, str, str, str], side: str, tables: dict[str, Table]) -> bool:
    """Is this difference one of the documented ones (find_duplicate_indexes' docstring)?"""
    table_name, dropped_name, kept_name, kind, _short = finding
    table = tables[table_name]
    dropped, kept = table.index(dropped_name), table.index(kept_name)
    if side == "pt" and kind in ("prefix", "exact"):
        same_column_other_prefix = any(
            d.name == k.name and (d.sub_part, d.descending) != (k.sub_part, k.descending)
            for d, k in zip(dropped.columns, kept.columns)
        )
        unique_dropped_for_longer_key = kind == "prefix" and dropped.unique and kept.primary
        hash_kept_for_shorter_lookups = kept.type == "HASH" and kind == "prefix"
        return same_column_other_prefix or unique_dropped_for_longer_key or hash_kept_for_shorter_lookups
    if side == "pt" and kind == "clustered":
        return table.clustered_index is not kept  # pt's choice of clustered index is not InnoDB's
    if side == "mqa" and kind == "exact":
        # pt compares unique and plain indexes by position
        positional = (
            kept.unique and not dropped.unique and sum(1 for i in table.indexes if i.unique and not i.primary) > 1
        )
        reversed_copy = all(d.descending != k.descending for d, k in zip(dropped.columns, kept.columns))
        return positional or reversed_copy
    return False


def test_deviations_from_pt_are_the_documented_ones(server: TestServer, tmp_path: Path) -> None:
    with fresh_database(server, "mqa_idx_deviations") as db:
        server.execute(*DEVIATION_SCHEMA, database=db)
        pt_found = parse_pt(run_pt(server, db, tmp_path))
        with session(server) as mqa:
            tables = load_tables(mqa, [db])
        mqa_found = ours(find_duplicate_indexes(tables))
        by_name = {t.name: t for t in tables}
        unexplained = [("pt", f) for f in pt_found - mqa_found if not _explained(f, "pt", by_name)]
        unexplained += [("mqa", f) for f in mqa_found - pt_found if not _explained(f, "mqa", by_name)]
        assert unexplained == []
        # and each documented difference still shows with the installed pt (else the docs are stale)
        differing = {f[0] for f in pt_found ^ mqa_found}
        assert differing == {re.match(r"CREATE TABLE (\w+)", s).group(1) for s in DEVIATION_SCHEMA}


def test_fixes_leave_nothing_for_pt_to_find(server: TestServer, tmp_path: Path) -> None:
    """Running our safe statements on pt's fixtures leaves no duplicate that either tool sees."""
    with fresh_database(server, "mqa_idx_fixes") as db:
        for fixture in (
            "t/lib/samples/dupe_keys_thrice.sql",
            "t/lib/samples/dupekeys/dupe-cluster-bug-894140.sql",
            "t/pt-duplicate-key-checker/samples/issue_295.sql",
            "t/pt-duplicate-key-checker/samples/issue_331.sql",
            "t/lib/samples/dupekeys/simple_dupe_bug_1217013.sql",
        ):
            load_fixture(server, db, PT / fixture)
        with session(server) as mqa:
            report = check_indexes(mqa, [db], unused=False)
        statements = [f.ddl for f in report.findings if f.check != "IDX006" and f.safe]
        assert statements and parse_pt(run_pt(server, db, tmp_path))
        server.execute(*statements, database=db)
        assert parse_pt(run_pt(server, db, tmp_path)) == set()
        assert duplicates_on_server(server, db) == []


# --------------------------------------------------------------------------------------------
# Foreign keys
# --------------------------------------------------------------------------------------------


def test_index_a_foreign_key_needs_is_not_dropped_unless_another_serves_it(server: TestServer, tmp_path: Path) -> None:
    with fresh_database(server, "mqa_idx_fk") as db:
        server.execute(
            "CREATE TABLE parent (a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a), KEY b_a (b, a)) ENGINE=InnoDB",
            # fk_ba needs an index starting with (b, a): only k_ba has it, and shortening it to (b) would lose it
            "CREATE TABLE child (id INT NOT NULL, a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a), "
            "KEY k_ba (b, a), KEY k_b (b), "
            "CONSTRAINT fk_ba FOREIGN KEY (b, a) REFERENCES parent (b, a)) ENGINE=InnoDB",
            database=db,
        )
        with session(server) as mqa:
            tables = load_tables(mqa, [db])
        found = find_duplicate_indexes(tables)
        # the same findings as pt: k_b is a left-prefix of k_ba; k_ba and parent.b_a end with the primary key
        assert ours(found) == parse_pt(run_pt(server, db, tmp_path))
        by_index = {(f.table.split(".")[1], f.index): f for f in found}
        assert by_index[("child", "k_b")].safe  # k_ba serves everything k_b does
        shorten = by_index[("child", "k_ba")]
        assert not shorten.safe and shorten.ddl.startswith("--")
        assert shorten.evidence["needed_by_foreign_keys"][0]["foreign_key"] == "fk_ba"
        parent_side = by_index[("parent", "b_a")]  # the referenced side needs (b, a) as well
        assert not parent_side.safe and parent_side.evidence["needed_by_foreign_keys"][0]["side"] == "parent"


def test_guard_counts_drops_already_chosen() -> None:
    cols = [Column("a", "int", False, 1), Column("b", "int", False, 2)]
    ia = Index("ia", (IndexColumn("a"),), unique=False)
    ia2 = Index("ia2", (IndexColumn("a"),), unique=False)
    table = Table("db", "t", "InnoDB", columns=cols, indexes=[ia, ia2])
    table.foreign_keys = [ForeignKey("fk_a", ("a",), "db", "p", ("x",))]
    guard = ForeignKeyGuard([table])
    assert guard.blockers(table, ia) == []  # ia2 serves fk_a
    guard.apply(table, ia)
    assert [n.fk.name for n in guard.blockers(table, ia2)] == ["fk_a"]  # not both


# --------------------------------------------------------------------------------------------
# Unused indexes
# --------------------------------------------------------------------------------------------


def test_only_the_index_never_read_is_unused(server: TestServer) -> None:
    with fresh_database(server, "mqa_idx_unused") as db:
        server.execute(
            "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, KEY ia (a), KEY ib (b), UNIQUE KEY ua (a, b)) "
            "ENGINE=InnoDB",
            "INSERT INTO t VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3)",
            # created, filled, never read: its index counters may have no row at all
            "CREATE TABLE untouched (id INT NOT NULL PRIMARY KEY, c INT, KEY ic (c)) ENGINE=InnoDB",
            "INSERT INTO untouched VALUES (1, 1)",
            database=db,
        )
        assert server.execute("SELECT id FROM t FORCE INDEX (ia) WHERE a = 2", database=db) == [(2,)]
        counted = server.execute(
            "SELECT COUNT_STAR FROM performance_schema.table_io_waits_summary_by_index_usage "
            f"WHERE OBJECT_SCHEMA = '{db}' AND OBJECT_NAME = 't' AND INDEX_NAME = 'ia'"
        )
        assert counted and counted[0][0] > 0, "performance_schema did not count the read through ia"

        with session(server) as mqa:
            recorder = RecordingServer(mqa.capabilities, wrapped=mqa)
            tables = load_tables(recorder, [db])
            result = find_unused_indexes(recorder, tables, min_window=0)
        assert_reads_only(recorder.sent)
        assert result.skipped is None
        assert {(f.table, f.index) for f in result.findings} == {(f"{db}.t", "ib"), (f"{db}.untouched", "ic")}
        window = result.window
        assert window is not None and window.uptime_seconds > 0
        for finding in result.findings:
            assert finding.check == "IDX005" and finding.safe
            assert finding.ddl == f"ALTER TABLE `{db}`.`{finding.table.split('.')[1]}` DROP INDEX `{finding.index}`;"
            evidence = finding.evidence
            assert evidence["count_star"] == 0 and evidence["uptime_seconds"] == window.uptime_seconds
            assert window.server_started <= evidence["counting_since"] <= window.checked_at
            assert evidence["counting_seconds"] <= window.uptime_seconds
            assert finding.to_dict()["evidence"]["counting_since"] == evidence["counting_since"].isoformat()


def test_an_index_added_later_starts_unused(server: TestServer) -> None:
    """ALTER TABLE resets a table's counters; the new index may have no counter row yet."""
    with fresh_database(server, "mqa_idx_unused_alter") as db:
        server.execute(
            "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, KEY ia (a)) ENGINE=InnoDB",
            "INSERT INTO t VALUES (1, 1, 1), (2, 2, 2)",
            "ALTER TABLE t ADD KEY ib (b)",
            "SELECT id FROM t FORCE INDEX (ia) WHERE a = 1",
            database=db,
        )
        with session(server) as mqa:
            result = find_unused_indexes(mqa, load_tables(mqa, [db]))
        assert [
            (f.index, f.evidence["counting_since"] >= f.evidence["table_create_time"]) for f in result.findings
        ] == [("ib", True)]


MARIADB = capabilities_of("10.11.6-MariaDB-0+deb12u1")
NOW = datetime(2024, 5, 1, 12, 0, 0)


def _table_with_two_indexes(schema: str = "db", name: str = "t") -> Table:
    return Table(
        schema,
        name,
        "InnoDB",
        rows=10,
        columns=[Column("id", "int", False, 1), Column("a", "int", True, 2), Column("b", "int", True, 3)],
        indexes=[
            Index("PRIMARY", (IndexColumn("id"),), unique=True),
            Index("ia", (IndexColumn("a"),), unique=False),
            Index("ib", (IndexColumn("b"),), unique=False),
            Index("ft", (IndexColumn("b"),), unique=False, type="FULLTEXT"),
        ],
        create_time=datetime(2024, 4, 30, 12, 0, 0),
    )


def _answers(usage_rows: list[dict[str, Any]], objects: list[dict[str, Any]] | None = None, enabled: str = "YES"):
    def answer(sql: str, args: Any) -> list[dict[str, Any]]:
        if sql.startswith("SHOW GLOBAL STATUS"):
            return [
                {"Variable_name": "Uptime", "Value": "864000"},
                {"Variable_name": "Performance_schema_index_stat_lost", "Value": "0"},
            ]
        if sql.startswith("SELECT NOW()"):
            return [{"now": NOW}]
        if "setup_instruments" in sql:
            return [
                {"name": "wait/io/table/sql/handler", "enabled": enabled},
                {"name": "global_instrumentation", "enabled": "YES"},
            ]
        if "setup_objects" in sql:
            return objects if objects is not None else [{"object_schema": "%", "object_name": "%", "enabled": "YES"}]
        if "table_io_waits_summary_by_index_usage" in sql:
            return usage_rows
        raise AssertionError(sql)

    return answer


def test_index_without_a_counter_row_is_unused_and_says_so() -> None:
    rows = [
        {
            "object_schema": "db",
            "object_name": "t",
            "index_name": "ia",
            "count_star": 7,
            "count_read": 7,
            "count_write": 0,
        },
        {
            "object_schema": "db",
            "object_name": "t",
            "index_name": "PRIMARY",
            "count_star": 0,
            "count_read": 0,
            "count_write": 0,
        },
    ]
    server = RecordingServer(MARIADB, _answers(rows))
    result = find_unused_indexes(server, [_table_with_two_indexes()])
    assert_reads_only(server.sent)
    assert [f.index for f in result.findings] == ["ib"]  # not PRIMARY, not ia (read), not FULLTEXT (not counted)
    evidence = result.findings[0].evidence
    assert evidence["counter_row"] is False and evidence["count_star"] == 0
    # counting since the table was (re)built, later than the server start ten days ago
    assert evidence["counting_since"] == datetime(2024, 4, 30, 12, 0, 0) and evidence["counting_seconds"] == 86400
    assert "in 1d (since" in result.findings[0].message and "server up 10d)" in result.findings[0].message


def test_unused_indexes_skip_when_performance_schema_is_off() -> None:
    server = RecordingServer(replace(MARIADB, performance_schema=False), _answers([]))
    result = find_unused_indexes(server, [_table_with_two_indexes()])
    assert result.findings == [] and server.sent == []
    assert "performance_schema is OFF" in result.skipped


def test_unused_indexes_skip_when_table_io_is_not_instrumented() -> None:
    result = find_unused_indexes(RecordingServer(MARIADB, _answers([], enabled="NO")), [_table_with_two_indexes()])
    assert result.findings == [] and "wait/io/table/sql/handler" in result.skipped


def test_tables_setup_objects_excludes_are_listed_not_judged() -> None:
    objects = [
        {"object_schema": "%", "object_name": "%", "enabled": "YES"},
        {"object_schema": "db", "object_name": "skip%", "enabled": "NO"},
    ]
    tables = [_table_with_two_indexes(name="t"), _table_with_two_indexes(name="skipped")]
    result = find_unused_indexes(RecordingServer(MARIADB, _answers([], objects)), tables)
    assert result.not_instrumented == ["db.skipped"]
    assert {f.table for f in result.findings} == {"db.t"}


def test_unused_index_a_foreign_key_needs_is_kept() -> None:
    table = _table_with_two_indexes()
    table.foreign_keys = [ForeignKey("fk_b", ("b",), "db", "p", ("x",))]
    result = find_unused_indexes(RecordingServer(MARIADB, _answers([])), [table], min_window=3600)
    by_index = {f.index: f for f in result.findings}
    assert by_index["ia"].safe
    assert not by_index["ib"].safe and by_index["ib"].ddl.startswith("--")
    assert by_index["ib"].evidence["needed_by_foreign_keys"][0]["foreign_key"] == "fk_b"


def test_unused_index_counted_too_briefly_is_advice_not_a_drop() -> None:
    """The table's counters started a day ago: not long enough to drop an index by default."""
    result = find_unused_indexes(RecordingServer(MARIADB, _answers([])), [_table_with_two_indexes()])
    assert [f.index for f in result.findings] == ["ia", "ib"]
    for finding in result.findings:
        assert not finding.safe and finding.ddl.startswith("-- confirm over at least 7d of counting")
        assert finding.ddl.endswith(f"DROP INDEX `{finding.index}`;")
        assert "too short a window" in finding.message and finding.evidence["min_window_seconds"] == 7 * 86400
    day = find_unused_indexes(RecordingServer(MARIADB, _answers([])), [_table_with_two_indexes()], min_window=86400)
    assert all(f.safe and f.ddl.startswith("ALTER TABLE") for f in day.findings)


# --------------------------------------------------------------------------------------------
# Tables without a primary key
# --------------------------------------------------------------------------------------------


def test_innodb_tables_without_primary_key(server: TestServer) -> None:
    with fresh_database(server, "mqa_idx_nopk") as db:
        server.execute(
            "CREATE TABLE bare (a INT, b INT) ENGINE=InnoDB",
            "CREATE TABLE clustered_by_unique (a INT NOT NULL, b INT, UNIQUE KEY ua (a)) ENGINE=InnoDB",
            "CREATE TABLE nullable_unique (a INT NULL, b INT, UNIQUE KEY ua (a)) ENGINE=InnoDB",
            "CREATE TABLE auto (n INT NOT NULL AUTO_INCREMENT, b INT, KEY kn (n)) ENGINE=InnoDB",
            "CREATE TABLE with_pk (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB",
            "CREATE TABLE not_innodb (a INT) ENGINE=MyISAM",
            database=db,
        )
        with session(server) as mqa:
            tables = load_tables(mqa, [db])
        found = {f.table.split(".")[1]: f for f in find_missing_primary_keys(tables)}
        assert set(found) == {"bare", "clustered_by_unique", "nullable_unique", "auto"}
        assert all(f.check == "IDX006" for f in found.values())
        promote = found["clustered_by_unique"]
        assert promote.safe and promote.severity == "info" and promote.evidence["clustered_by"] == "ua"
        assert promote.ddl == f"ALTER TABLE `{db}`.`clustered_by_unique` DROP INDEX `ua`, ADD PRIMARY KEY (`a`);"
        for name in ("bare", "nullable_unique", "auto"):
            assert not found[name].safe and found[name].severity == "warning"
            assert found[name].evidence["clustered_by"].startswith("hidden row id")
        assert "ADD PRIMARY KEY" in found["bare"].ddl and "AUTO_INCREMENT" in found["bare"].ddl
        assert found["nullable_unique"].evidence["nullable_columns"] == ["a"]
        assert found["auto"].ddl == f"ALTER TABLE `{db}`.`auto` ADD PRIMARY KEY (`n`);"
        # the safe fixes work, and then nothing is left to report for those tables
        server.execute(promote.ddl, found["auto"].ddl, database=db)
        with session(server) as mqa:
            left = {f.table.split(".")[1] for f in find_missing_primary_keys(load_tables(mqa, [db]))}
        assert left == {"bare", "nullable_unique"}


# --------------------------------------------------------------------------------------------
# The schema model and the report
# --------------------------------------------------------------------------------------------


def test_load_tables_reads_the_model_in_a_few_queries(server: TestServer) -> None:
    with fresh_database(server, "mqa_idx_schema") as db:
        ignored = " IGNORED" if server.flavor == "mariadb" else " INVISIBLE"
        server.execute(
            "CREATE TABLE p (id INT NOT NULL, code VARCHAR(20) NOT NULL, PRIMARY KEY (id), UNIQUE KEY uc (code)) ENGINE=InnoDB",
            "CREATE TABLE c (id INT NOT NULL AUTO_INCREMENT, p_id INT NOT NULL, note TEXT, d DATE NULL, e INT, "
            "PRIMARY KEY (id), KEY k_note (note(32)), KEY k_d (d DESC, p_id), KEY k_p (p_id), KEY k_e (e)"
            + ignored
            + ", "
            "FULLTEXT KEY ft (note), CONSTRAINT fk_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE) ENGINE=InnoDB",
            *[f"CREATE TABLE extra{i} (id INT PRIMARY KEY, v INT, KEY kv (v)) ENGINE=MyISAM" for i in range(5)],
            "CREATE VIEW v AS SELECT id FROM p",
            database=db,
        )
        with session(server) as mqa:
            recorder = RecordingServer(mqa.capabilities, wrapped=mqa)
            tables = load_tables(recorder, [db])
        assert_reads_only(recorder.sent)
        assert len(recorder.sent) == 4  # tables, columns, indexes, foreign keys: whatever the number of tables
        by_name = {t.name: t for t in tables}
        assert sorted(by_name) == ["c", "extra0", "extra1", "extra2", "extra3", "extra4", "p"]  # no view
        c = by_name["c"]
        assert c.engine == "InnoDB" and c.is_innodb and c.full_name == f"{db}.c"
        assert [(col.name, col.nullable, col.ordinal) for col in c.columns] == [
            ("id", False, 1),
            ("p_id", False, 2),
            ("note", True, 3),
            ("d", True, 4),
            ("e", True, 5),
        ]
        assert "auto_increment" in c.column("ID").extra.lower()
        assert c.indexes[0].name == "PRIMARY" and c.primary_key.column_names == ("id",)
        assert c.index("k_note").columns == (IndexColumn("note", 32),)
        assert c.index("k_note").ddl == "KEY `k_note` (`note`(32))"
        assert c.index("ft").type == "FULLTEXT"
        assert c.index("k_e").visible is False and c.index("k_p").visible is True
        if server.flavor == "mariadb" or server.version >= "8":
            assert c.index("k_d").columns[0].descending and not c.index("k_d").columns[1].descending
        assert c.foreign_keys[0].columns == ("p_id",) and c.foreign_keys[0].ref_table == "p"
        assert c.foreign_keys[0].on_delete == "CASCADE"
        p = by_name["p"]
        assert p.index("uc").unique and p.clustered_index.name == "PRIMARY"
        assert by_name["extra0"].clustered_index is None  # MyISAM
        as_dict = {i["name"]: i for i in c.to_dict()["indexes"]}
        assert as_dict["k_note"]["columns"][0]["sub_part"] == 32


def test_default_schemas_leave_out_the_system_ones(server: TestServer) -> None:
    with session(server) as mqa:
        recorder = RecordingServer(mqa.capabilities, wrapped=mqa)
        tables = load_tables(recorder, None)
    assert not {t.schema for t in tables} & SYSTEM_SCHEMAS
    assert "NOT IN" in recorder.sent[0]


def test_clustered_index_is_what_innodb_chooses() -> None:
    cols = [Column("a", "int", True, 1), Column("b", "int", False, 2)]
    nullable = Index("ua", (IndexColumn("a"),), unique=True)
    not_null = Index("ub", (IndexColumn("b"),), unique=True)
    assert Table("d", "t", "InnoDB", columns=cols, indexes=[nullable, not_null]).clustered_index is not_null
    assert Table("d", "t", "InnoDB", columns=cols, indexes=[nullable]).clustered_index is None
    assert Table("d", "t", "MyISAM", columns=cols, indexes=[not_null]).clustered_index is None


def test_check_indexes_reports_everything_as_json(server: TestServer) -> None:
    import json

    with fresh_database(server, "mqa_idx_report") as db:
        load_fixture(server, db, PT / "t/lib/samples/dupe_keys_thrice.sql")
        server.execute("CREATE TABLE nopk (a INT) ENGINE=InnoDB", database=db)
        with session(server) as mqa, GeneralLog(server) as log:
            thread = mqa.conn.thread_id()
            recorder = RecordingServer(mqa.capabilities, wrapped=mqa)
            report = check_indexes(recorder, [db])
        assert_reads_only(recorder.sent)
        # what reached the server from that session: reads only
        sent = [e.text for e in log.entries if e.thread_id == thread and e.command == "Query"]
        assert len(sent) >= len(recorder.sent) and all(is_read(text) for text in sent), sent
        checks = {f.check for f in report.findings}
        assert {"IDX001", "IDX002", "IDX005", "IDX006"} <= checks
        assert report.window is not None and report.notes == []
        document = json.loads(json.dumps(report.to_dict()))
        assert document["tables"] == 2 and document["schemas"] == [db]
        for finding in document["findings"]:
            assert check_named(finding["check"]).kind == "schema" and finding["severity"] in (
                "info",
                "warning",
                "critical",
            )
            assert finding["message"] and "\n" not in finding["message"] and finding["ddl"]
        # a redundant index that is also unused is dropped once
        statements = report.statements()
        assert len(statements) == len(set(statements))
        assert f"ALTER TABLE `{db}`.`dupe_key` DROP INDEX `a`;" in statements


def test_a_failing_check_becomes_a_note_and_the_others_run() -> None:
    tables_rows = [
        {
            "table_schema": "db",
            "table_name": "t",
            "engine": "InnoDB",
            "table_rows": 0,
            "data_length": 0,
            "index_length": 0,
            "create_time": None,
        }
    ]

    def answer(sql: str, args: Any) -> list[dict[str, Any]]:
        if "information_schema.TABLES" in sql:
            return tables_rows
        if "information_schema" in sql:
            return []
        raise pymysql.err.OperationalError(1142, "SELECT command denied to user")

    report = check_indexes(RecordingServer(MARIADB, answer), ["db"])
    assert [f.check for f in report.findings] == ["IDX006"]
    assert len(report.notes) == 1 and "unused indexes" in report.notes[0] and "denied" in report.notes[0]


def test_the_index_health_checks_are_in_the_check_registry() -> None:
    """IDX001-IDX006 are checks like the others (documented and tested by tests/test_checks.py)."""
    from analyzer.advisor.checks import table_checks

    assert [c.code for c in table_checks()] == [f"IDX00{n}" for n in range(1, 7)]
    assert all(c.kind == "schema" and c.__doc__ and "**Fix**" in c.__doc__ for c in table_checks())
