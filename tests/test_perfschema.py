"""performance_schema as a source, and one class id for DIGEST_TEXT and slow-log statements.

Three kinds of evidence:

- rows built here, for the window arithmetic (new rows, resets, TRUNCATE, min/max bounds);
- recorded outputs of MySQL 8.0's own test suite (tests/fixtures/mysql-server, see SOURCE.txt):
  the MySQL 8 column set and DIGEST_TEXT next to the statements that produced it;
- the session's real server (MariaDB 10.11 here): live windows, and the "shop" sample workload
  replayed so that every digest's class id can be compared with its slow-log statements' ids.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pymysql
import pytest

from analyzer.digest import digest_logs
from analyzer.digest import window as pw
from analyzer.fingerprint.classifier import Fingerprinter
from analyzer.fingerprint.digest_text import (
    digest_token_bytes,
    key_from_digest_text,
    read_digest_text,
)
from analyzer.fingerprint.fastkey import fast_key
from analyzer.model import QueryClass
from analyzer.report.digest import build_report
from analyzer.report.render.json import to_json
from analyzer.sources import perfschema as ps
from analyzer.sources.slowlog import SlowLogReader
from tests.conftest import FIXTURES, skip_or_fail

MYSQL = FIXTURES / "mysql-server"
FP = Fingerprinter("sqlglot")
PS_PER_S = 10**12


def class_of_statement(sql: str) -> str:
    """The class id the slow log gives a statement."""
    return FP.describe(fast_key(sql)[0], sql).id


def class_of_digest(text: str, max_digest_length: int | None = 1024, width=None) -> str:
    read = read_digest_text(text, max_digest_length, width)
    return FP.describe(read.key, read.key).id


# ------------------------------------------------------------------------------ recorded outputs
def result_table(path: Path, header: str) -> list[list[dict[str, str]]]:
    """Every table in a mysql-test .result whose header line starts with ``header``.

    A row continues on the next lines when its last column holds newlines (QUERY_SAMPLE_TEXT).
    """
    tables: list[list[dict[str, str]]] = []
    columns: list[str] | None = None
    for line in path.read_text().split("\n"):
        if line.startswith(header):
            columns = line.split("\t")
            tables.append([])
            continue
        if columns is None:
            continue
        fields = line.split("\t")
        if len(fields) == len(columns):
            tables[-1].append(dict(zip(columns, fields)))
        elif tables[-1] and len(fields) == 1 and not line.startswith(("DROP ", "SHOW ", "SELECT ", "#", "CREATE ")):
            last = columns[-1]
            tables[-1][-1][last] += "\n" + line
        else:
            columns = None
    return tables


def create_table_columns(path: Path) -> tuple[str, ...]:
    return tuple(re.findall(r"^  `([A-Z_0-9]+)` ", path.read_text(), re.MULTILINE))


# The tables statement_digest.result creates (column counts), for INSERT ... VALUES without a column list.
STATEMENT_DIGEST_TABLES = {"t1": 1, "t2": 1, "t3": 2, "t4": 2, "t5": 3, "t6": 4, "t11": 1, "t12": 1}

# DIGEST_TEXT of statement_digest.result -> the statements of its EXECUTION section behind it
# (as echoed in the file; COUNT_STAR of each row agrees).
STATEMENT_DIGEST_PAIRS: dict[str, list[str]] = {
    "SELECT ? FROM `t1` ": ["SELECT 1 FROM t1", "SELECT 1 FROM `t1`"],
    "SELECT ?, ... FROM `t1` ": ["SELECT 1,2 FROM t1", "SELECT 1, 2, 3, 4 FROM t1"],
    "SELECT ? FROM `t2` ": ["SELECT 1 FROM t2"],
    "SELECT ?, ... FROM `t2` ": ["SELECT 1,2 FROM t2", "SELECT 1, 2, 3, 4 FROM t2"],
    "INSERT INTO `t1` VALUES (?) ": ["INSERT INTO t1 VALUES (1)", "INSERT INTO t1 VALUES (NULL)"],
    "INSERT INTO `t2` VALUES (?) ": ["INSERT INTO t2 VALUES (1)"],
    "INSERT INTO `t3` VALUES (...) ": [
        "INSERT INTO t3 VALUES (1, 2)",
        "INSERT INTO t3 VALUES (NULL,NULL)",
        "INSERT INTO t3 VALUES (1,NULL)",
        "INSERT INTO t3 VALUES (NULL,1)",
    ],
    "INSERT INTO `t4` VALUES (...) ": ["INSERT INTO t4 VALUES (1, 2)"],
    "INSERT INTO `t5` VALUES (...) ": ["INSERT INTO t5 VALUES (1, 2, 3)"],
    "INSERT INTO `t1` VALUES (?) /* , ... */ ": [
        "INSERT INTO t1 VALUES (1), (2), (3)",
        "INSERT INTO t1 VALUES (1), (2), (3), (4)",
        "INSERT INTO t1 VALUES (1),(2)",
    ],
    "INSERT INTO `t3` VALUES (...) /* , ... */ ": ["INSERT INTO t3 VALUES (1, 2), (3, 4), (5, 6)"],
    "INSERT INTO `t5` VALUES (...) /* , ... */ ": ["INSERT INTO t5 VALUES (1, 2, 3), (4, 5, 6), (7, 8, 9)"],
    "SELECT * FROM `t1` WHERE `a` IN (...) ": [
        "SELECT * FROM t1 WHERE a IN (1)",
        "SELECT * FROM t1 WHERE a IN (1, 2, 3)",
    ],
    "INSERT INTO `t6` VALUES (...) ": [
        "INSERT INTO t6 VALUES (NULL, NULL, NULL, NULL)",
        "INSERT INTO t6 VALUES (1, NULL, NULL, NULL)",
        "INSERT INTO t6 VALUES (NULL, 2, NULL, NULL)",
        "INSERT INTO t6 VALUES (1, 2, 3, NULL)",
        "INSERT INTO t6 VALUES (1, 2, NULL, 4)",
    ],
    "SELECT ? + ? ": [
        "SELECT                                          1           +        1",
        "SELECT 1 /* This is an inline comment */ + 1",
        "SELECT 1+\n/*\nthis is a\nmultiple-line comment\n*/\n1",
    ],
    "SELECT ? ": ["SELECT 1"],
    "CREATE SCHEMA `statements_digest_temp` ": [
        "CREATE SCHEMA statements_digest_temp",
        "CREATE DATABASE statements_digest_temp",
    ],
    "DROP SCHEMA `statements_digest_temp` ": [
        "DROP SCHEMA statements_digest_temp",
        "DROP DATABASE statements_digest_temp",
    ],
    "SELECT ? FROM `no_such_table` ": ["SELECT 1 FROM no_such_table"],
    "CREATE TABLE `dup_table` ( `c` CHARACTER (?) ) ": ["CREATE TABLE dup_table (c char(4))"] * 2,
    "DROP TABLE `dup_table` ": ["DROP TABLE dup_table"],
    "INSERT IGNORE INTO `t11` VALUES (?) ": ['INSERT IGNORE INTO t11 VALUES("MySQL")'],
    "PREPARE `stmt` FROM ? ": ['PREPARE stmt FROM "SELECT * FROM t12"'],
    "EXECUTE `stmt` ": ["EXECUTE stmt"] * 2,
    "DEALLOCATE PREPARE `stmt` ": ["DEALLOCATE PREPARE stmt"],
    "CREATE PROCEDURE `p1` ( ) BEGIN SELECT * FROM `t12` ; END ": [
        "CREATE PROCEDURE p1() BEGIN SELECT * FROM t12; END"
    ],
    "CALL `p1` ( ) ": ["CALL p1()"] * 2,
    "DROP PROCEDURE `p1` ": ["DROP PROCEDURE p1"],
    "CREATE FUNCTION `func` ( `a` INTEGER , `b` INTEGER ) RETURNS INTEGER (?) RETURN `a` + `b` ": [
        "CREATE FUNCTION `func`(a INT, b INT) RETURNS int(11) RETURN a+b"
    ],
    "SELECT `func` (...) ": ["select func(3,4)", "select func(13,42)"],
    "DROP FUNCTION `func` ": ["DROP FUNCTION func"],
    "CREATE TRIGGER `trg` BEFORE INSERT ON `t12` FOR EACH ROW SET @? := ? ": [
        "CREATE TRIGGER trg BEFORE INSERT ON t12 FOR EACH ROW SET @a:=1"
    ],
    "INSERT INTO `t12` VALUES (?) ": ['INSERT INTO t12 VALUES ("abc")', 'INSERT INTO t12 VALUES ("def")'],
    "DROP TRIGGER `trg` ": ["DROP TRIGGER trg"],
    "DELETE FROM `t1` ": ["DELETE FROM t1"],
    "SELECT * FROM ( SELECT `a` , ?, ... FROM `t1` ) AS `dt` ( `x` , `y` , `z` ) ": [
        "SELECT * FROM (SELECT a,1,1 FROM t1) AS dt (x,y,z)",
        "SELECT * FROM (SELECT a,2,2 FROM t1) AS dt (x,y,z)",
    ],
    "WITH `cte` ( `x` , `y` , `z` ) AS ( SELECT `a` , ?, ... FROM `t1` ) SELECT ? , `cte` . * FROM `cte` ": [
        "WITH cte (x,y,z)AS (SELECT a,1,1 FROM t1) SELECT 1, cte.* FROM cte",
        "WITH cte (x,y,z)AS (SELECT a,2,2 FROM t1) SELECT 2, cte.* FROM cte",
    ],
    (
        "WITH `cte` ( `x` , `y` , `z` ) AS ( SELECT `a` , ?, ... FROM `t1` ) SELECT ? , `cte` . * , `cte2` . * "
        "FROM `cte` , `cte` AS `cte2` "
    ): [
        "WITH cte (x,y,z)AS (SELECT a,1,1 FROM t1) SELECT 1, cte.*, cte2.* FROM cte, cte AS cte2",
        "WITH cte (x,y,z)AS (SELECT a,2,2 FROM t1) SELECT 2, cte.*, cte2.* FROM cte, cte AS cte2",
    ],
    (
        "WITH RECURSIVE `cte` ( `x` , `y` , `z` ) AS ( SELECT `a` , ?, ... FROM `t1` UNION ALL SELECT `a` + ? , "
        "`a` * ?, ... FROM `t1` WHERE ? ) SELECT ? , `cte` . * , `cte2` . * FROM `cte` , `cte` AS `cte2` "
    ): [
        (
            "WITH RECURSIVE cte (x,y,z) AS\n(SELECT a,1,1 FROM t1 UNION ALL SELECT a+1,a*1,11 FROM t1 WHERE 0)\n"
            "SELECT 1, cte.*, cte2.* FROM cte, cte AS cte2"
        ),
        (
            "WITH RECURSIVE cte (x,y,z) AS\n(SELECT a,2,2 FROM t1 UNION ALL SELECT a+2,a*2,22 FROM t1 WHERE 0)\n"
            "SELECT 2, cte.*, cte2.* FROM cte, cte AS cte2"
        ),
    ],
}
# Statements whose class the digest text cannot give, and why (each must be flagged).
STATEMENT_DIGEST_MISMATCHES = {
    "SELECT 1, 2, 3, 4 FROM t1": "lossy: '?, ...' does not say four values",
    "SELECT 1, 2, 3, 4 FROM t2": "lossy: '?, ...' does not say four values",
    "CREATE SCHEMA statements_digest_temp": "SCHEMA and DATABASE are one token; DATABASE is assumed",
    "DROP SCHEMA statements_digest_temp": "SCHEMA and DATABASE are one token; DATABASE is assumed",
    "CREATE TRIGGER trg BEFORE INSERT ON t12 FOR EACH ROW SET @a:=1": "lossy: the variable name became @?",
}


def test_mysql8_statement_digest_result_has_its_pairs() -> None:
    rows = result_table(MYSQL / "statement_digest.result", "SCHEMA_NAME\tDIGEST\tDIGEST_TEXT")[0]
    assert len(rows) == 41 and all(len(r["DIGEST"]) == 64 for r in rows)  # MySQL 8: SHA-256 digests
    counts = {r["DIGEST_TEXT"]: int(r["COUNT_STAR"]) for r in rows}
    for text, statements in STATEMENT_DIGEST_PAIRS.items():
        assert counts[text] == len(statements), text


@pytest.mark.parametrize("digest_text", list(STATEMENT_DIGEST_PAIRS))
def test_mysql8_digest_text_gets_its_statements_class(digest_text: str) -> None:
    read = read_digest_text(digest_text, 1024, lambda db, table: STATEMENT_DIGEST_TABLES.get(table))
    digest_id = FP.describe(read.key, read.key).id
    assert not read.truncated
    for statement in STATEMENT_DIGEST_PAIRS[digest_text]:
        if statement in STATEMENT_DIGEST_MISMATCHES:
            assert class_of_statement(statement) != digest_id, statement
            if STATEMENT_DIGEST_MISMATCHES[statement].startswith("lossy"):
                assert read.lossy, statement
        else:
            assert class_of_statement(statement) == digest_id, (statement, read.key)


def test_mysql8_insert_without_column_list_needs_the_table_width() -> None:
    text = "INSERT INTO `t6` VALUES (...) "
    guessed = read_digest_text(text, 1024)
    assert guessed.lossy and class_of_digest(text) != class_of_statement("INSERT INTO t6 VALUES (1, 2, NULL, 4)")
    exact = read_digest_text(text, 1024, lambda db, table: 4)
    assert not exact.lossy and exact.key == "insert into `t6` values (?, ?, ?, ?)"
    assert key_from_digest_text(text, 1024, lambda db, table: 4) == exact.key


def test_mysql8_query_sample_text_and_digest_text_give_one_class() -> None:
    """digest_view.result prints DIGEST_TEXT and QUERY_SAMPLE_TEXT of the same rows."""
    tables = result_table(MYSQL / "digest_view.result", "SCHEMA_NAME\tDIGEST\tDIGEST_TEXT")
    rows = [r for t in tables for r in t]
    assert len(rows) == 12 + 15 and all(r["QUERY_SAMPLE_TEXT"] for r in rows)
    different = []
    for row in rows:
        if class_of_digest(row["DIGEST_TEXT"]) != class_of_statement(row["QUERY_SAMPLE_TEXT"]):
            different.append(row["QUERY_SAMPLE_TEXT"])
    # The one miss: SCHEMA_NAME is a keyword, so the digest prints it unquoted and upper-case
    # whatever the statement wrote; the key lower-cases it, the statement wrote it upper-case.
    assert different == [
        (
            "SELECT SCHEMA_NAME, DIGEST, DIGEST_TEXT, COUNT_STAR, QUERY_SAMPLE_TEXT\n"
            "FROM performance_schema.events_statements_summary_by_digest\nORDER BY DIGEST_TEXT"
        )
    ]


def test_mysql8_digest_text_cut_at_max_digest_length_is_truncated() -> None:
    rows = result_table(MYSQL / "statement_digest_long_query.result", "schema_name\tdigest\tdigest_text")[0]
    long_text = rows[1]["digest_text"]
    assert long_text.startswith("SELECT ? + ?") and long_text.count("?") == 256  # 594 ones were sent
    assert digest_token_bytes(long_text) == 1024  # every byte of the default max_digest_length
    read = read_digest_text(long_text, 1024)
    assert read.truncated and read.key.endswith(" ...")
    info = FP.describe(read.key, read.key)
    assert not info.parsed  # a class of its own, never the statement's class
    assert not read_digest_text(long_text, 4096).truncated  # a server with a larger limit kept it whole
    assert not read_digest_text(rows[0]["digest_text"], 1024).truncated


def test_mysql8_column_set_is_selected_from_what_the_server_has() -> None:
    columns = create_table_columns(MYSQL / "schema.result.esms_by_digest.excerpt")
    assert columns[:4] == ("SCHEMA_NAME", "DIGEST", "DIGEST_TEXT", "COUNT_STAR")
    assert {"QUANTILE_95", "QUANTILE_99", "QUANTILE_999", "QUERY_SAMPLE_TEXT"} <= set(columns)
    sql = ps.snapshot_sql(columns)
    for column in (
        "`QUANTILE_95`",
        "`QUANTILE_999`",
        "`QUERY_SAMPLE_TEXT`",
        "`QUERY_SAMPLE_TIMER_WAIT`",
        "`SUM_NO_GOOD_INDEX_USED`",
        "UNIX_TIMESTAMP(`FIRST_SEEN`) AS `FIRST_SEEN`",
        "UNIX_TIMESTAMP(`QUERY_SAMPLE_SEEN`) AS `QUERY_SAMPLE_SEEN`",
    ):
        assert column in sql
    assert "SUM_CPU_TIME" not in sql and "MAX_TOTAL_MEMORY" not in sql  # 8.0.28+ columns, not in this 8.0
    assert sql.startswith("SELECT ") and sql.endswith("FROM performance_schema.events_statements_summary_by_digest")


def test_mysql8_rows_keep_lifetime_quantiles_out_of_the_window_sketch() -> None:
    columns = create_table_columns(MYSQL / "schema.result.esms_by_digest.excerpt")
    row = {c: 0 for c in columns}
    row.update(
        SCHEMA_NAME="test",
        DIGEST="8e0aabd64f6361bc3dbc913dcf873a5249d72a07e2b91a7bc8f043ba60436a31",
        DIGEST_TEXT="SELECT * FROM `test` . `v1`",
        QUERY_SAMPLE_TEXT="SELECT * from test.v1",
    )
    before = {
        **row,
        "COUNT_STAR": 10,
        "SUM_TIMER_WAIT": 10 * PS_PER_S // 1000,
        "MIN_TIMER_WAIT": 10**8,
        "MAX_TIMER_WAIT": 5 * 10**9,
        "FIRST_SEEN": 1000.0,
        "LAST_SEEN": 1050.0,
    }
    after = {
        **before,
        "COUNT_STAR": 14,
        "SUM_TIMER_WAIT": 14 * PS_PER_S // 1000,
        "LAST_SEEN": 1100.0,
        "QUANTILE_95": 2 * 10**9,
        "QUANTILE_99": 4 * 10**9,
        "QUANTILE_999": 5 * 10**9,
        "QUERY_SAMPLE_TIMER_WAIT": 3 * 10**9,
        "QUERY_SAMPLE_SEEN": 1090.0,
    }
    (delta,) = ps.diff_snapshots(snapshot(1060.0, before), snapshot(1120.0, after))
    assert delta.count == 4 and delta.sums["query_time"] == pytest.approx(0.004)
    assert delta.lifetime == {"quantile_95": 0.002, "quantile_99": 0.004, "quantile_999": 0.005, "count_star": 14.0}
    stats = pw.delta_stats(delta)
    qt = stats.metrics["query_time"]
    assert qt.n == 4 and qt.total == pytest.approx(0.004) and not qt.buckets.counts  # no faked distribution
    assert qt.max == 0.005 and not delta.max_exact  # the lifetime maximum, an upper bound


# ------------------------------------------------------------------------------ the window arithmetic
def snapshot(taken_at: float, *rows: dict[str, Any], lost: int | None = 0) -> ps.DigestSnapshot:
    parsed = [ps.parse_row(r) for r in rows]
    return ps.DigestSnapshot(taken_at, {r.key: r for r in parsed}, (), lost)


def row(
    digest: str | None,
    count: int,
    wait_ms: float,
    *,
    first: float = 100.0,
    last: float = 200.0,
    schema: str | None = "app",
    text: str | None = "SELECT ? FROM `t` ",
    **extra: Any,
) -> dict[str, Any]:
    values = {
        "SCHEMA_NAME": schema,
        "DIGEST": digest,
        "DIGEST_TEXT": text if digest else None,
        "COUNT_STAR": count,
        "SUM_TIMER_WAIT": int(wait_ms * 10**9),
        "MIN_TIMER_WAIT": 10**9,
        "AVG_TIMER_WAIT": 0,
        "MAX_TIMER_WAIT": 9 * 10**9,
        "SUM_LOCK_TIME": count * 10**6,
        "SUM_ROWS_SENT": count * 2,
        "SUM_ROWS_EXAMINED": count * 10,
        "SUM_NO_INDEX_USED": 0,
        "SUM_ERRORS": 0,
        "FIRST_SEEN": first,
        "LAST_SEEN": last,
    }
    values.update(extra)
    return values


def test_counters_are_subtracted_for_rows_seen_twice() -> None:
    before = snapshot(150.0, row("a1", 10, 50.0, SUM_NO_INDEX_USED=3))
    after = snapshot(260.0, row("a1", 16, 80.0, last=250.0, SUM_NO_INDEX_USED=5))
    (d,) = ps.diff_snapshots(before, after)
    assert (d.count, d.new, d.reset) == (6, False, False)
    assert d.sums["query_time"] == pytest.approx(0.030) and d.sums["rows_sent"] == 12 and d.sums["rows_examined"] == 60
    assert d.sums["lock_time"] == pytest.approx(6e-6) and d.sums["no_index_used"] == 2
    assert not d.min_exact and not d.max_exact  # min/max unchanged: only lifetime bounds
    assert d.avg_time == pytest.approx(0.005)


def test_new_rows_count_whole_and_their_min_max_are_exact() -> None:
    before = snapshot(150.0, row("a1", 10, 50.0))
    after = snapshot(
        260.0, row("a1", 10, 50.0), row("b2", 3, 12.0, first=170.0, MIN_TIMER_WAIT=2 * 10**9, MAX_TIMER_WAIT=6 * 10**9)
    )
    (d,) = ps.diff_snapshots(before, after)  # a1 did nothing: no delta
    assert (d.digest, d.count, d.new) == ("b2", 3, True)
    assert d.min_exact and d.max_exact and (d.min_time, d.max_time) == (0.002, 0.006)
    assert d.sums["query_time"] == pytest.approx(0.012)


def test_a_counter_that_went_down_means_a_reset_and_the_second_value_is_the_window() -> None:
    before = snapshot(150.0, row("a1", 100, 500.0))
    after = snapshot(260.0, row("a1", 4, 20.0))  # TRUNCATE, then four more executions
    (d,) = ps.diff_snapshots(before, after)
    assert d.reset and not d.new and d.count == 4 and d.sums["query_time"] == pytest.approx(0.020)
    assert d.min_exact and d.max_exact


def test_first_seen_after_the_first_snapshot_means_a_reset_even_with_larger_counters() -> None:
    # Truncated just after the first snapshot and busier since: counters alone would look fine.
    before = snapshot(150.0, row("a1", 5, 20.0, first=100.0))
    after = snapshot(260.0, row("a1", 9, 45.0, first=155.0))
    (d,) = ps.diff_snapshots(before, after)
    assert d.reset and d.count == 9 and d.sums["query_time"] == pytest.approx(0.045)
    # Without the first snapshot's FIRST_SEEN, a FIRST_SEEN after that snapshot still tells.
    before = snapshot(150.0, row("a1", 5, 20.0, first=None))
    (d,) = ps.diff_snapshots(before, after)
    assert d.reset and d.count == 9


def test_a_new_maximum_inside_the_window_is_exact() -> None:
    before = snapshot(150.0, row("a1", 5, 20.0, MAX_TIMER_WAIT=9 * 10**9))
    after = snapshot(260.0, row("a1", 7, 60.0, MAX_TIMER_WAIT=30 * 10**9, MIN_TIMER_WAIT=5 * 10**8))
    (d,) = ps.diff_snapshots(before, after)
    assert d.max_exact and d.max_time == 0.030 and d.min_exact and d.min_time == 0.0005


def test_rows_gone_after_a_truncate_contribute_nothing() -> None:
    before = snapshot(150.0, row("a1", 5, 20.0), row("b2", 7, 30.0))
    after = snapshot(260.0, row("b2", 9, 35.0))
    (d,) = ps.diff_snapshots(before, after)
    assert d.digest == "b2" and d.count == 2


def test_same_digest_in_two_schemas_are_two_rows_and_one_class() -> None:
    before = snapshot(150.0)
    after = snapshot(
        260.0, row("a1", 3, 9.0, schema="shop_eu", first=200.0), row("a1", 5, 10.0, schema="shop_us", first=200.0)
    )
    deltas = ps.diff_snapshots(before, after)
    assert sorted((d.schema, d.count) for d in deltas) == [("shop_eu", 3), ("shop_us", 5)]
    classes = pw.window_classes(window_of(deltas, before, after))
    assert len(classes) == 1 and classes[0].stats.count == 8 and classes[0].keys == 2
    assert dict(classes[0].stats.databases) == {"shop_eu": 3, "shop_us": 5}


def test_the_overflow_row_of_a_full_table_is_reported_not_dropped() -> None:
    """digest_table_full.result: performance_schema_digests_size=2 leaves a NULL row with the rest."""
    rows = result_table(MYSQL / "digest_table_full.result", "SCHEMA_NAME\tDIGEST\tDIGEST_TEXT")[0]
    overflow = ps.parse_row({k: (None if v == "NULL" else v) for k, v in rows[0].items()})
    assert (overflow.digest, overflow.digest_text, overflow.count) == (None, None, 55)
    assert overflow.counters["SUM_ERRORS"] == 2 and overflow.counters["SUM_ROWS_AFFECTED"] == 32
    before, after = snapshot(10.0), snapshot(20.0, {k: (None if v == "NULL" else v) for k, v in rows[0].items()})
    deltas = ps.diff_snapshots(before, after)
    window = window_of(deltas, before, after, digests_size=2, rows_used=2)
    assert window.table_full
    (cls,) = pw.window_classes(window)
    assert cls.stats.count == 55 and not cls.info.parsed and "full" in cls.fingerprint


def window_of(
    deltas: list[ps.DigestDelta],
    before: ps.DigestSnapshot,
    after: ps.DigestSnapshot,
    digests_size: int = 5000,
    rows_used: int | None = None,
) -> ps.PerfSchemaWindow:
    return ps.PerfSchemaWindow(
        server="test",
        flavor="mysql",
        version="8.0.36",
        started_at=before.taken_at,
        ended_at=after.taken_at,
        deltas=deltas,
        settings=ps.DigestSettings(digests_size, 1024, 1024),
        digest_lost=0,
        rows_used=len(after.rows) if rows_used is None else rows_used,
        columns=(),
    )


# ------------------------------------------------------------------------------ a scripted server
class ScriptedServer:
    """Answers mqa's reads from Python data, and refuses anything but SELECT/SHOW."""

    def __init__(
        self,
        columns: tuple[str, ...],
        *,
        flavor: str = "mysql",
        performance_schema: bool = True,
        consumers: dict[str, str] | None = None,
        instruments: tuple[int, int, int] = (200, 200, 200),
    ) -> None:
        from analyzer.sources.db import capabilities_of

        self.capabilities = capabilities_of(
            "8.0.36" if flavor == "mysql" else "10.11.6-MariaDB", "", performance_schema
        )
        self.description = "scripted"
        self.columns = columns
        self.digest_rows: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self.now = 1000.0
        self.lost = 0
        self.sent: list[str] = []
        self.consumers = consumers or {
            n: "YES"
            for n in (
                "global_instrumentation",
                "thread_instrumentation",
                "statements_digest",
                "events_statements_current",
                "events_statements_history",
                "events_statements_history_long",
            )
        }
        self.instruments = instruments

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        self.sent.append(sql)
        assert sql.lstrip().upper().startswith(("SELECT", "SHOW")), sql
        if "@@performance_schema" in sql:
            return [{"on_": int(self.capabilities.performance_schema)}]
        if "setup_consumers" in sql:
            return [{"NAME": k, "ENABLED": v} for k, v in self.consumers.items()]
        if "setup_instruments" in sql:
            total, enabled, timed = self.instruments
            return [{"total": total, "enabled": enabled, "timed": timed}]
        if sql.startswith("SHOW GLOBAL VARIABLES"):
            return [
                {"Variable_name": "performance_schema_digests_size", "Value": "10000"},
                {"Variable_name": "max_digest_length", "Value": "1024"},
                {"Variable_name": "performance_schema_max_digest_length", "Value": "1024"},
                {"Variable_name": "performance_schema_max_sql_text_length", "Value": "1024"},
            ]
        if "information_schema.COLUMNS" in sql and "COLUMN_NAME" in sql:
            return [{"COLUMN_NAME": c} for c in self.columns]
        if "information_schema.COLUMNS" in sql:
            return [{"n": 0}]
        if sql.startswith("SHOW GLOBAL STATUS"):
            return [{"Variable_name": "Performance_schema_digest_lost", "Value": str(self.lost)}]
        if "UNIX_TIMESTAMP(NOW(6))" in sql:
            return [{"now_": self.now}]
        if ps.DIGEST_TABLE in sql:
            return [dict(r) for r in self.digest_rows]
        if "events_statements_history" in sql:
            return [dict(r) for r in self.history] if "history_long" in sql else []
        raise AssertionError(f"unexpected statement {sql}")


def mysql8_columns() -> tuple[str, ...]:
    return create_table_columns(MYSQL / "schema.result.esms_by_digest.excerpt")


def test_performance_schema_off_asks_for_the_server_option_and_a_restart() -> None:
    server = ScriptedServer(mysql8_columns(), performance_schema=False)
    setup = ps.check_setup(server)
    assert not setup.enabled and not setup.digests
    with pytest.raises(ps.PerfSchemaError) as info:
        ps.collect_window(server, 1, sleep=lambda s: None)
    message = str(info.value)
    assert "performance_schema=ON" in message and "restart" in message and "cannot be switched on" in message
    assert info.value.statements == ()


def test_disabled_digest_consumer_gives_the_exact_update_statement() -> None:
    consumers = {
        "global_instrumentation": "YES",
        "thread_instrumentation": "YES",
        "statements_digest": "NO",
        "events_statements_current": "NO",
        "events_statements_history_long": "NO",
    }
    server = ScriptedServer(mysql8_columns(), consumers=consumers)
    with pytest.raises(ps.PerfSchemaError) as info:
        ps.collect_window(server, 1, sleep=lambda s: None)
    assert info.value.statements == (
        "UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE NAME IN ('statements_digest');",
    )
    assert info.value.statements[0] in str(info.value)
    assert not any(s.startswith("UPDATE") for s in server.sent)  # mqa never runs it


def test_disabled_statement_instruments_block_digests_and_say_how_to_enable_them() -> None:
    server = ScriptedServer(mysql8_columns(), instruments=(200, 0, 0))
    setup = ps.check_setup(server)
    assert not setup.digests
    assert setup.problems[0].statements == (
        "UPDATE performance_schema.setup_instruments SET ENABLED = 'YES', TIMED = 'YES' WHERE NAME LIKE 'statement/%';",
    )
    partly = ps.check_setup(ScriptedServer(mysql8_columns(), instruments=(200, 190, 180)))
    assert partly.digests and "10 of 200" in partly.problems[0].message


def test_history_consumers_off_is_a_warning_with_the_statement_not_an_error() -> None:
    consumers = {
        "global_instrumentation": "YES",
        "thread_instrumentation": "YES",
        "statements_digest": "YES",
        "events_statements_current": "NO",
        "events_statements_history_long": "YES",
    }
    setup = ps.check_setup(ScriptedServer(mysql8_columns(), consumers=consumers))
    assert setup.digests and not setup.samples
    assert setup.problems[0].statements == (
        "UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE NAME IN ('events_statements_current');",
    )


def test_window_on_mysql8_rows_polls_history_and_keeps_the_slowest_real_sample() -> None:
    """A whole window on MySQL 8 rows (digest_view.result), with an injected clock and sleep."""
    server = ScriptedServer(mysql8_columns())
    view = result_table(MYSQL / "digest_view.result", "SCHEMA_NAME\tDIGEST\tDIGEST_TEXT")[0]
    base = {c: 0 for c in mysql8_columns()}

    def digest_row(r: dict[str, str], count: int, total_ms: float) -> dict[str, Any]:
        return {
            **base,
            "SCHEMA_NAME": r["SCHEMA_NAME"],
            "DIGEST": r["DIGEST"],
            "DIGEST_TEXT": r["DIGEST_TEXT"],
            "COUNT_STAR": count,
            "SUM_TIMER_WAIT": int(total_ms * 10**9),
            "MIN_TIMER_WAIT": 10**8,
            "MAX_TIMER_WAIT": 4 * 10**9,
            "FIRST_SEEN": 900.0,
            "LAST_SEEN": 990.0,
            "QUANTILE_95": 3 * 10**9,
            "QUANTILE_99": 4 * 10**9,
            "QUANTILE_999": 4 * 10**9,
            "QUERY_SAMPLE_TEXT": r["QUERY_SAMPLE_TEXT"],
            "QUERY_SAMPLE_TIMER_WAIT": 10**9,
            "QUERY_SAMPLE_SEEN": 950.0,
        }

    select_a = next(r for r in view if r["DIGEST_TEXT"] == "SELECT * FROM `test` . `v1` WHERE `a` = ?")
    select_b = next(r for r in view if r["DIGEST_TEXT"] == "SELECT * FROM `test` . `v1` WHERE `b` > ?")
    server.digest_rows = [digest_row(select_a, 10, 20.0), digest_row(select_b, 3, 9.0)]
    clock = {"t": 0.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["t"] += seconds
        server.now += seconds
        if len(sleeps) == 1:  # the workload runs during the window
            server.digest_rows = [
                {**digest_row(select_a, 15, 35.0), "LAST_SEEN": 1001.0, "MAX_TIMER_WAIT": 9 * 10**9},
                digest_row(select_b, 3, 9.0),
            ]
            server.history = [
                {
                    "THREAD_ID": 7,
                    "CURRENT_SCHEMA": "test",
                    "DIGEST": select_a["DIGEST"],
                    "SQL_TEXT": "SELECT * from test.v1 where a = 1",
                    "TIMER_WAIT": 2 * 10**9,
                },
                {
                    "THREAD_ID": 7,
                    "CURRENT_SCHEMA": "test",
                    "DIGEST": select_a["DIGEST"],
                    "SQL_TEXT": "SELECT * from test.v1 where a = 2",
                    "TIMER_WAIT": 9 * 10**9,
                },
                {
                    "THREAD_ID": 8,
                    "CURRENT_SCHEMA": "test",
                    "DIGEST": select_a["DIGEST"],
                    "SQL_TEXT": "SELECT * from test.v1 where a = ?",
                    "TIMER_WAIT": 50 * 10**9,
                },  # prepared: never
                {
                    "THREAD_ID": 8,
                    "CURRENT_SCHEMA": "test",
                    "DIGEST": select_a["DIGEST"],
                    "SQL_TEXT": "SELECT * from test.v1 where a = 1 and b in (1, 2, 3, 4" + ", 5" * 400 + "...",
                    "TIMER_WAIT": 60 * 10**9,
                },  # cut at performance_schema_max_sql_text_length: never
            ]

    window = ps.collect_window(server, 3.0, sleep=sleep, clock=lambda: clock["t"], sample_interval=1.0)
    assert sleeps == [1.0, 1.0, 1.0]
    assert sum("events_statements_history_long" in s for s in server.sent) == 3  # polled once per second
    (delta,) = window.deltas
    assert delta.count == 5 and delta.sums["query_time"] == pytest.approx(0.015)
    assert delta.max_exact and delta.max_time == pytest.approx(0.009)
    assert delta.lifetime["quantile_95"] == pytest.approx(0.003)
    assert delta.sample is not None and delta.sample.query == "SELECT * from test.v1 where a = 2"
    assert window.seconds == pytest.approx(3.0)
    result = pw.window_result(window)
    (cls,) = result.classes
    assert isinstance(cls, QueryClass) and isinstance(cls, pw.PerfSchemaClass)
    assert cls.id == class_of_statement("SELECT * from test.v1 where a = 2")
    assert cls.stats.example.query == "SELECT * from test.v1 where a = 2"
    assert cls.lifetime[select_a["DIGEST"]]["quantile_99"] == pytest.approx(0.004)
    assert result.sources[0].kind == "perfschema" and result.sources[0].events == 5
    payload = to_json(build_report(result, limit=None))
    assert '"kind": "perfschema"' in payload and "SELECT * from test.v1 where a = 2" in payload


def test_samples_are_never_placeholders_or_cut_texts() -> None:
    settings = ps.DigestSettings(5000, 1024, 1024)
    assert ps._usable("SELECT * FROM t WHERE a = 'what?'", settings) is not None
    assert ps._usable("SELECT * FROM t WHERE a = ?", settings) is None
    assert ps._usable("SELECT " + "x, " * 340 + "...", settings) is None  # 1024 bytes with the marker
    assert ps._usable("SELECT '...'", settings) is not None


# ------------------------------------------------------------------------------ the live server
DB = "mqa_test_perfschema"
SHOP_DB = "mqa_test_perfschema_shop"
HISTORY_CONSUMERS = (
    "global_instrumentation",
    "thread_instrumentation",
    "statements_digest",
    "events_statements_current",
    "events_statements_history",
    "events_statements_history_long",
)


@pytest.fixture(scope="module")
def live(server):
    """The session's server with statement history switched on (restored after) and a database
    of this module's own.  MariaDB fills the history tables only with events_statements_current on."""
    admin = server.admin()
    with admin.cursor() as cur:
        cur.execute("SELECT @@performance_schema")
        if not int(cur.fetchone()[0]):
            message = "the test server runs without performance_schema"
            skip_or_fail(message)
        cur.execute("SELECT NAME, ENABLED FROM performance_schema.setup_consumers")
        saved = dict(cur.fetchall())
        listed = ", ".join(f"'{n}'" for n in HISTORY_CONSUMERS)
        cur.execute(f"UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE NAME IN ({listed})")
        cur.execute(f"DROP DATABASE IF EXISTS `{DB}`")
        cur.execute(f"CREATE DATABASE `{DB}` CHARACTER SET utf8mb4")
        cur.execute(
            f"CREATE TABLE `{DB}`.t (id INT PRIMARY KEY, name VARCHAR(40), status VARCHAR(10), c INT, "
            "created_at DATETIME)"
        )
        cur.execute(f"CREATE TABLE `{DB}`.wide (a INT, " + ", ".join(f"c{i} INT" for i in range(400)) + ")")
    try:
        yield server
    finally:
        with admin.cursor() as cur:
            for name, enabled in saved.items():
                cur.execute(
                    "UPDATE performance_schema.setup_consumers SET ENABLED = %s WHERE NAME = %s", (enabled, name)
                )
            cur.execute(f"DROP DATABASE IF EXISTS `{DB}`")
            cur.execute(f"DROP DATABASE IF EXISTS `{SHOP_DB}`")
        admin.close()


class Recorder:
    """An mqa session that remembers every statement it sent."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.capabilities = server.capabilities
        self.description = server.description
        self.conn = server.conn
        self.sent: list[str] = []

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        self.sent.append(sql)
        return self.server.query(sql, args)


def mqa_session(server):
    from tests.servers import session

    return Recorder(session(server))


def digests_of(admin: pymysql.connections.Connection, schema: str) -> dict[str, tuple[str, str]]:
    """SQL_TEXT -> (DIGEST, DIGEST_TEXT) of the statements in the history tables."""
    with admin.cursor() as cur:
        cur.execute(
            "SELECT SQL_TEXT, DIGEST, DIGEST_TEXT FROM performance_schema.events_statements_history_long "
            "WHERE CURRENT_SCHEMA = %s AND DIGEST IS NOT NULL",
            (schema,),
        )
        return {text: (digest, digest_text) for text, digest, digest_text in cur.fetchall()}


def lookup(seen: dict[str, tuple[str, str]], sql: str) -> tuple[str, str]:
    """The history row of a statement; SQL_TEXT is cut (with "...") at max_sql_text_length."""
    if sql in seen:
        return seen[sql]
    (pair,) = {p for text, p in seen.items() if text.endswith("...") and sql.startswith(text[:-3])}
    return pair


# Statements that exercise the digest's rewritings; the ones whose class the digest text cannot
# give are listed with the reason (they must be flagged lossy).
LIVE_STATEMENTS = [
    "SELECT id, name FROM t WHERE id IN (1, 2, 3)",
    "SELECT id FROM t WHERE id IN (7)",
    "SELECT `name`, status FROM t WHERE status = 'x' AND c > -5",
    "SELECT name AS user, status AS `type`, c AS day FROM t WHERE name LIKE _utf8mb4'x%' OR name = X'41'",
    "INSERT INTO t (id, name, status, c) VALUES (1, 'a', 'b', 3), (2, 'c', 'd', 4)",
    "INSERT INTO t VALUES (3, 'a', 'b', 5, NOW())",
    "INSERT INTO t VALUES (4, 'a', 'b', 6, '2024-01-01')",
    "INSERT INTO t (id, name, status, c, created_at) VALUES (5, 'x', 'y', 5 + 1, NOW())",
    "REPLACE INTO t (id, name, status, c) VALUES (9, 'r', 's', 1)",
    "SELECT DATE(created_at) AS day, COUNT(DISTINCT status) FROM t GROUP BY DATE(created_at)",
    "SELECT id FROM t ORDER BY id LIMIT 5, 10",
    "SELECT /*!40001 SQL_NO_CACHE */ id FROM t WHERE created_at > NOW() - INTERVAL 1 DAY",
    "SELECT id FROM t WHERE created_at < CURRENT_TIMESTAMP AND created_at > CURRENT_DATE",
    "UPDATE t SET c = c + 1 WHERE id = 1",
    "DELETE FROM t WHERE id = -1",
    "SELECT id FROM t WHERE c IN (SELECT c FROM t WHERE id > 1) AND EXISTS (SELECT 1 FROM t t2 WHERE t2.id = t.id)",
    "SELECT COALESCE(name, 'n'), IF(c > 1, 'a', 'b') FROM t",
    "SELECT 1, 2, 3",
    "SELECT @v := 1",
    "SELECT * FROM t WHERE (id, c) IN ((1, 2), (3, 4))",
]
LIVE_LOSSY = {
    "SELECT COALESCE(name, 'n'), IF(c > 1, 'a', 'b') FROM t": "IF( ?, ... ): three arguments, counted as two",
    "SELECT 1, 2, 3": "'?, ...' does not say three",
    "SELECT @v := 1": "the variable name is printed as @?",
    "SELECT * FROM t WHERE (id, c) IN ((1, 2), (3, 4))": "rows of a row-IN list print as (...) /* , ... */",
}


def test_live_digest_texts_give_the_statements_class(live) -> None:
    conn = live.admin(DB)
    with conn.cursor() as cur:
        cur.execute("TRUNCATE TABLE t")
        for sql in LIVE_STATEMENTS:
            cur.execute(sql)
            cur.fetchall()
    seen = digests_of(live.admin(), DB)
    mqa = mqa_session(live)
    widths = ps.TableWidths(mqa).for_schema(DB)
    max_length = ps.digest_settings(mqa).max_digest_length
    wrong = []
    for sql in LIVE_STATEMENTS:
        digest, text = seen[sql]
        read = read_digest_text(text, max_length, widths)
        same = FP.describe(read.key, read.key).id == class_of_statement(sql)
        if sql in LIVE_LOSSY:
            assert read.lossy and not same, (sql, text, read.key)
            # With a real statement of the digest at hand, its own key gives the class.
            delta = ps.DigestDelta(
                DB,
                digest,
                text,
                1,
                {},
                0.0,
                0.0,
                True,
                True,
                None,
                None,
                True,
                False,
                sample=ps.Sample(sql, 0.001, DB, digest, "events_statements_history_long"),
            )
            key, _read, source = pw.class_key(delta, max_length)
            assert source == "sample" and FP.describe(key, sql).id == class_of_statement(sql)
        elif not same:
            wrong.append((sql, text, read.key))
    assert wrong == []
    assert all(s.lstrip().upper().startswith(("SELECT", "SHOW")) for s in mqa.sent)


def test_live_truncated_digest_text_is_recognised(live) -> None:
    long_sql = "SELECT " + ", ".join(f"c{i}" for i in range(400)) + " FROM wide"
    near = "SELECT " + ", ".join(f"c{i}" for i in range(110)) + " FROM wide"  # 1,000 bytes of tokens
    conn = live.admin(DB)
    with conn.cursor() as cur:
        for sql in (long_sql, near):
            cur.execute(sql)
            cur.fetchall()
    seen = digests_of(live.admin(), DB)
    limit = ps.digest_settings(mqa_session(live)).max_digest_length
    long_text, near_text = lookup(seen, long_sql)[1], lookup(seen, near)[1]
    cut = read_digest_text(long_text, limit)
    assert cut.truncated and FP.describe(cut.key, cut.key).parsed is False
    assert digest_token_bytes(long_text) >= limit - 68
    assert limit - 68 < digest_token_bytes(near_text) < limit - 1  # within one identifier of the limit
    whole = read_digest_text(near_text, limit)
    assert not whole.truncated and FP.describe(whole.key, whole.key).id == class_of_statement(near)


def test_live_setup_check_shows_what_is_missing_and_how_to_switch_it_on(live) -> None:
    admin = live.admin()
    mqa = mqa_session(live)
    assert ps.check_setup(mqa).digests and ps.check_setup(mqa).samples
    try:
        with admin.cursor() as cur:
            cur.execute(
                "UPDATE performance_schema.setup_consumers SET ENABLED = 'NO' WHERE NAME = 'events_statements_current'"
            )
        setup = ps.check_setup(mqa)
        assert setup.digests and not setup.samples
        assert setup.problems[0].statements == (
            (
                "UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' "
                "WHERE NAME IN ('events_statements_current');"
            ),
        )
        with admin.cursor() as cur:
            cur.execute("UPDATE performance_schema.setup_consumers SET ENABLED = 'NO' WHERE NAME = 'statements_digest'")
        with pytest.raises(ps.PerfSchemaError) as info:
            ps.collect_window(mqa, 0)
        assert "WHERE NAME IN ('statements_digest');" in str(info.value)
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' "
                "WHERE NAME IN ('statements_digest', 'events_statements_current')"
            )
    assert all(s.lstrip().upper().startswith(("SELECT", "SHOW")) for s in mqa.sent)


def test_live_window_counts_what_ran_between_the_snapshots(live) -> None:
    conn = live.admin(DB)
    statements = [f"SELECT name FROM t WHERE id = {i}" for i in range(7)] + ["UPDATE t SET c = 2 WHERE id = 3"] * 3
    ran = []

    def sleep(seconds: float) -> None:
        if not ran:
            with conn.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
                    cur.fetchall()
            ran.append(True)
        time.sleep(min(seconds, 0.05))

    mqa = mqa_session(live)
    window = ps.collect_window(mqa, 0.3, sleep=sleep, sample_interval=0.1)
    mine = {d.digest_text: d for d in window.deltas if d.schema == DB}
    assert sorted(d.count for d in mine.values()) == [3, 7]
    select = next(d for d in mine.values() if d.count == 7)
    assert select.sample is not None and select.sample.query.startswith("SELECT name FROM t WHERE id = ")
    assert select.sample.schema == DB and not ps.has_placeholder(select.sample.query)
    assert all(d.sums["query_time"] > 0 for d in mine.values())
    # mqa's own reads of performance_schema are left out
    assert not any(d.digest_text and "events_statements_summary_by_digest" in d.digest_text for d in window.deltas)
    assert window.settings.max_digest_length and window.rows_used > 0 and window.digest_lost == 0
    assert all(s.lstrip().upper().startswith(("SELECT", "SHOW")) for s in mqa.sent)
    classes = {c.id: c for c in pw.window_classes(window)}
    assert class_of_statement(statements[0]) in classes and class_of_statement(statements[-1]) in classes


def test_live_truncate_inside_the_window_is_a_reset(live) -> None:
    conn = live.admin(DB)
    admin = live.admin()
    with conn.cursor() as cur:
        cur.execute("SELECT status FROM t WHERE c = 99")
        cur.fetchall()
    done = []

    def sleep(seconds: float) -> None:
        if not done:
            with conn.cursor() as cur:
                for _ in range(3):
                    cur.execute("SELECT status FROM t WHERE c = 99")
                    cur.fetchall()
            time.sleep(1.1)  # FIRST_SEEN has whole seconds on MariaDB
            with admin.cursor() as cur:
                cur.execute("TRUNCATE TABLE performance_schema.events_statements_summary_by_digest")
            with conn.cursor() as cur:
                for _ in range(2):
                    cur.execute("SELECT status FROM t WHERE c = 99")
                    cur.fetchall()
            done.append(True)

    window = ps.collect_window(mqa_session(live), 0.1, sleep=sleep, samples=False)
    (delta,) = [d for d in window.deltas if d.schema == DB]
    assert delta.count == 2 and delta.reset and delta.min_exact
    assert any("reset or removed" in note for note in window.notes)


# ------------------------------------------------------------------------------ the sample workload
@pytest.fixture(scope="module")
def shop_measurement(live):
    """Replay 2,000 statements of the shop workload and line up digests with slow-log events.

    Each statement's digest comes from the statement history (read every 400 statements, the
    history keeps 1,000); its slow-log event from the slice of the server's slow log the replay
    wrote.  Returns what the comparison needs.
    """
    from sample_workloads.shop import workload

    if live.slow_log_path is None:
        skip_or_fail(f"the {live.kind} server's slow log is not on this machine")
    admin = live.admin()
    with admin.cursor() as cur:
        cur.execute("SELECT @@long_query_time, @@slow_query_log")
        long_query_time, slow_on = cur.fetchone()
    if float(long_query_time) > 0 or not int(slow_on):
        skip_or_fail("the test server does not log every statement")
    workload.load(live.admin(), scale=0.05, database=SHOP_DB)
    mqa = mqa_session(live)
    before = ps.take_snapshot(mqa)
    start = os.path.getsize(live.slow_log_path)
    statements = workload.generate_statements(2000, seed=7, scale=0.05)
    history: dict[str, tuple[str, str]] = {}
    cut: list[tuple[str, tuple[str, str]]] = []
    conns: dict[str, pymysql.connections.Connection] = {}
    try:
        for i, st in enumerate(statements):
            conn = conns.get(st.session)
            if conn is None:
                conn = conns[st.session] = live.admin(SHOP_DB)
            with conn.cursor() as cur:
                cur.execute(st.sql)
                cur.fetchall()
            if (i + 1) % 400 == 0 or i + 1 == len(statements):
                for text, pair in digests_of(admin, SHOP_DB).items():
                    if text.endswith("...") and len(text.encode()) >= 1000:
                        cut.append((text[:-3], pair))
                    else:
                        history[text] = pair
    finally:
        for conn in conns.values():
            conn.close()
    after = ps.take_snapshot(mqa)
    end = os.path.getsize(live.slow_log_path)
    settings = ps.digest_settings(mqa)
    deltas = [d for d in ps.diff_snapshots(before, after) if d.schema == SHOP_DB]
    samples = ps.read_history_samples(mqa, settings)
    for d in deltas:
        d.sample = samples.get((d.schema, d.digest))
    return {
        "statements": statements,
        "history": history,
        "cut": cut,
        "deltas": deltas,
        "settings": settings,
        "slow": (live.slow_log_path, start, end),
        "widths": ps.TableWidths(mqa).for_schema(SHOP_DB),
    }


def slow_log_events(path: str, start: int, end: int, tmp: Path) -> list:
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    piece = tmp / "replay-slow.log"
    piece.write_bytes(data)
    return list(SlowLogReader.from_path(str(piece)).events()), piece


def test_shop_workload_digest_classes_match_the_slow_log(shop_measurement, tmp_path) -> None:
    m = shop_measurement
    events, piece = slow_log_events(*m["slow"], tmp_path)
    by_digest: dict[str, list] = defaultdict(list)
    for event in events:
        pair = m["history"].get(event.query)
        if pair is None:
            pair = next((p for prefix, p in m["cut"] if event.query.startswith(prefix)), None)
        if pair is not None:
            by_digest[pair[0]].append(event)
    mapped = sum(len(v) for v in by_digest.values())
    assert mapped >= len(m["statements"]) - 5, "almost every replayed statement has a digest and a slow-log event"

    slowlog_ids = {c.id for c in digest_logs([str(piece)]).classes}  # what `mqa digest` gives these events
    total_time = matched_time = 0.0
    digests = matched_digests = 0
    digest_time = matched_digest_time = 0.0
    misses = []
    for delta in m["deltas"]:
        evs = by_digest.get(delta.digest, [])
        if not evs:
            continue
        read = read_digest_text(delta.digest_text, m["settings"].max_digest_length, m["widths"])
        did = FP.describe(read.key, read.key).id
        ids = [class_of_statement(e.query) for e in evs]
        assert set(ids) <= slowlog_ids
        times = [e.metrics["query_time"] for e in evs]
        total_time += sum(times)
        matched_time += sum(t for t, i in zip(times, ids) if i == did)
        digests += 1
        digest_time += delta.sums["query_time"]
        if set(ids) == {did}:
            matched_digests += 1
            matched_digest_time += delta.sums["query_time"]
        else:
            misses.append((round(sum(times), 6), delta.digest_text, read.key, evs[0].query[:200]))
    share = matched_time / total_time
    print(
        f"\nshop workload, 2,000 statements: {digests} digests; class ids equal for "
        f"{matched_digests}/{digests} digests, {share:.4%} of slow-log time, "
        f"{matched_digest_time / digest_time:.4%} of SUM_TIMER_WAIT"
    )
    for miss in sorted(misses, reverse=True):
        print("  miss:", miss)
    assert digests >= 60
    assert share >= 0.95, misses


def test_shop_workload_window_classes_carry_the_slow_log_ids(shop_measurement, tmp_path) -> None:
    """The same comparison through window_classes (DIGEST_TEXT, samples where it is lossy)."""
    m = shop_measurement
    _events, piece = slow_log_events(*m["slow"], tmp_path)
    slow_classes = {c.id: c for c in digest_logs([str(piece)]).classes}
    window = ps.PerfSchemaWindow(
        server="test",
        flavor="mariadb",
        version="",
        started_at=0.0,
        ended_at=1.0,
        deltas=m["deltas"],
        settings=m["settings"],
        digest_lost=0,
        rows_used=0,
        columns=(),
    )
    classes = pw.window_classes(window)
    ours = {c.id: c for c in classes}
    statement_ids = Counter(class_of_statement(st.sql) for st in m["statements"])
    missing = {i: n for i, n in statement_ids.items() if i not in ours}
    missing_text = [slow_classes[i].fingerprint for i in missing if i in slow_classes]
    assert sum(missing.values()) <= 0.01 * len(m["statements"]), missing_text
    for cls_id, cls in ours.items():
        if cls_id in slow_classes and cls.stats.count >= 20:
            # same class, same statements: the counts agree within what the replay's connections add
            assert abs(cls.stats.count - slow_classes[cls_id].stats.count) <= 10, cls.fingerprint
    examples = [c.stats.example for c in classes if c.stats.example is not None]
    assert examples and all(not ps.has_placeholder(e.query) for e in examples)
