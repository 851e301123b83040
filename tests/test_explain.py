"""The EXPLAIN runner and plan model (analyzer.sources.explain).

MySQL 8: every recorded EXPLAIN FORMAT=JSON document of mysql-server's test suite in
tests/fixtures/explain-samples/mysql8 is parsed, and where the same test printed the tabular
EXPLAIN of the same statement, the plan must agree with it row for row: the tables of each
select in join order, their access type, chosen key and rows.  MariaDB: live, on the test server.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from analyzer.sources.explain import ExplainError, explain, explainable, parse_plan, select_equivalent
from tests.conftest import FIXTURES

MYSQL8 = FIXTURES / "explain-samples" / "mysql8"
SAMPLES = json.loads((MYSQL8 / "index.json").read_text())


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["file"] for s in SAMPLES])
def test_mysql8_documents_parse(sample: dict) -> None:
    plan = parse_plan((MYSQL8 / sample["file"]).read_text(), statement=sample["statement"])
    assert plan.flavor == "mysql"
    if any(t.startswith("message:") for t in sample["covers"]):
        message = next(t.split(":", 1)[1] for t in sample["covers"] if t.startswith("message:"))
        assert plan.message is not None and message.lower() in plan.message.lower()
    elif "masked-values" not in sample["covers"]:
        assert plan.tables, "a plan with no table access"
        assert all(t.access_type or t.message for t in plan.tables)


WITH_TABULAR = [s for s in SAMPLES if s["tabular"] and "masked-values" not in s["covers"]]


@pytest.mark.parametrize("sample", WITH_TABULAR, ids=[s["file"] for s in WITH_TABULAR])
def test_mysql8_plan_agrees_with_the_tabular_explain(sample: dict) -> None:
    plan = parse_plan((MYSQL8 / sample["file"]).read_text())
    expected: dict[int, list[tuple]] = defaultdict(list)
    for row in sample["tabular"]:
        if row["table"] is None or row["type"] is None:
            continue
        expected[row["id"]].append((row["table"], row["type"], row["key"], row["rows"]))
    parsed: dict[int, list[tuple]] = defaultdict(list)
    for t in plan.tables:
        if t.access_type is None:
            continue
        # the tabular EXPLAIN names a derived table <derivedN> where the JSON gives its alias
        name = (
            f"<derived{t.materialized_from}>"
            if t.context != "materialized" and t.materialized_from and not t.table.startswith("<")
            else t.table
        )
        parsed[t.select_id].append((name, t.access_type, t.key, None if t.rows is None else int(t.rows)))
    # a union's result table has no select id in the tabular form: compare those by name
    unions = sorted(
        r for rows in expected.values() for r in rows if r[0].startswith(("<union", "<intersect", "<except"))
    )
    found = sorted(r for rows in parsed.values() for r in rows if r[0].startswith(("<union", "<intersect", "<except")))
    assert found == unions

    def without_unions(d: dict) -> dict:
        return {
            k: [r for r in v if not r[0].startswith(("<union", "<intersect", "<except"))]
            for k, v in d.items()
            if [r for r in v if not r[0].startswith(("<union", "<intersect", "<except"))]
        }

    assert without_unions(parsed) == without_unions(expected)


def test_mysql8_sorts_temporary_tables_and_dependent_subqueries_are_seen() -> None:
    flags = defaultdict(int)
    for sample in SAMPLES:
        plan = parse_plan((MYSQL8 / sample["file"]).read_text())
        flags["filesort"] += plan.using_filesort
        flags["temporary"] += plan.using_temporary
        flags["dependent"] += any(t.dependent for t in plan.tables)
        flags["derived"] += any(t.materialized_from is not None for t in plan.tables)
        if "filesort" in sample["covers"]:
            assert plan.using_filesort, sample["file"]
        if "dependent" in sample["covers"] and "masked-values" not in sample["covers"]:
            assert any(t.dependent for t in plan.tables) or "dependent subquery" in json.dumps(plan.root.to_dict()), (
                sample["file"]
            )
    assert min(flags.values()) > 0, flags


def test_end_markers_are_stripped_outside_strings_only() -> None:
    text = (
        '{"query_block": {"select_id": 1 /* select#1 */, "table": {"table_name": "t", "access_type": "ALL", '
        '"rows_examined_per_scan": 3, "attached_condition": "(t.a = \'/* x */\')"} /* table */}}'
    )
    plan = parse_plan(text)
    assert plan.tables[0].attached_condition == "(t.a = '/* x */')"
    assert plan.tables[0].rows == 3


@pytest.mark.parametrize(
    "sql, ok, kind",
    [
        ("SELECT * FROM t WHERE id = 1", True, "SELECT"),
        ("  select 1 ;", True, "SELECT"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", True, "SELECT"),
        ("SELECT 1 UNION SELECT 2", True, "SELECT"),
        ("UPDATE t SET a = 1 WHERE id = 2", True, "UPDATE"),
        ("DELETE FROM t WHERE id = 2", True, "DELETE"),
        ("INSERT INTO t (a) VALUES (1)", True, "INSERT"),
        ("REPLACE INTO t (a) VALUES (1)", True, "REPLACE"),
        ("SELECT * FROM t WHERE id = ?", False, None),
        ("SELECT * FROM t WHERE id IN (...)", False, None),
        ("SELECT 1; DROP TABLE t", False, None),
        ("DROP TABLE t", False, None),
        ("CREATE INDEX i ON t (a)", False, None),
        ("SET GLOBAL read_only = 1", False, None),
        ("SELECT * INTO OUTFILE '/tmp/x' FROM t", False, None),
        ("SELECT a INTO @x FROM t", False, None),
        ("CALL p()", False, None),
        ("SELECT * FROM t WHERE id = (SELECT SLEEP(100))", False, None),
        ("SELECT GET_LOCK('x', 10) FROM t", False, None),
        ("SELECT NEXT VALUE FOR s", False, None),
        ("SELECT NEXTVAL(s)", False, None),
        ("SELECT 'SLEEP(1)', `sleep` FROM t", True, "SELECT"),
        ("", False, None),
    ],
)
def test_only_single_real_reads_and_writes_are_explained(sql: str, ok: bool, kind: str | None) -> None:
    check = explainable(sql)
    assert check.ok is ok, check.reason
    if ok:
        assert check.kind == kind
    else:
        assert check.reason


def test_placeholders_say_that_no_sample_is_available() -> None:
    assert "no sample is available" in explainable("SELECT * FROM t WHERE a = ? AND b = ?").reason
    assert explainable("SELECT '?' FROM t WHERE a = 'x?'").ok  # a ? inside a string is data


def test_writes_have_a_select_equivalent() -> None:
    assert (
        select_equivalent("UPDATE t SET a = 1 WHERE b = 2 ORDER BY c LIMIT 5")
        == "SELECT * FROM t WHERE b = 2 ORDER BY c LIMIT 5"
    )
    assert (
        select_equivalent("UPDATE a JOIN b ON a.x = b.y SET a.z = 1 WHERE b.q = 2")
        == "SELECT * FROM a JOIN b ON a.x = b.y WHERE b.q = 2"
    )
    assert (
        select_equivalent("DELETE t FROM t JOIN u ON t.a = u.a WHERE u.b = 1")
        == "SELECT * FROM t JOIN u ON t.a = u.a WHERE u.b = 1"
    )
    assert select_equivalent("REPLACE INTO t (a) SELECT b FROM u WHERE c = 1") == "SELECT b FROM u WHERE c = 1"
    assert select_equivalent("INSERT INTO t (a) VALUES (1)") is None


# --------------------------------------------------------------------------- MariaDB, live


@pytest.fixture(scope="module")
def plan_db(server):
    from sample_workloads.shop import workload

    db = "mqa_explain"
    conn = server.admin()
    workload.load(conn, scale=0.05, seed=42, database=db)
    conn.close()
    yield db
    server.execute(f"DROP DATABASE IF EXISTS `{db}`")


@pytest.fixture()
def session(server):
    from tests.servers import session as open_session

    s = open_session(server)
    yield s
    s.close()


def test_live_join_sort_and_subqueries(server, plan_db, session) -> None:
    plan = explain(
        session,
        "SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.status = 'paid' ORDER BY o.created_at DESC LIMIT 10",
        database=plan_db,
    )
    assert [t.table for t in plan.tables] == ["o", "c"]
    assert plan.tables[1].access_type == "eq_ref" and plan.tables[1].key == "PRIMARY"
    assert plan.using_filesort or plan.tables[0].key == "idx_orders_created_at"
    plan = explain(
        session,
        "SELECT p.id, (SELECT COUNT(*) FROM reviews r WHERE r.product_id = p.id) AS n "
        "FROM products p WHERE p.id IN (SELECT product_id FROM order_items WHERE quantity > 3)",
        database=plan_db,
    )
    reviews = plan.table_named("r")[0]
    assert reviews.dependent and reviews.context == "dependent subquery" and reviews.access_type == "ALL"
    grouped = explain(
        session,
        "SELECT status, COUNT(*) FROM orders WHERE total_cents > 100 GROUP BY status ORDER BY 2 DESC",
        database=plan_db,
    )
    assert grouped.using_temporary and grouped.using_filesort


def test_live_writes_are_explained_through_their_select_in_a_read_only_session(server, plan_db, session) -> None:
    plan = explain(session, "UPDATE orders SET status = 'x' WHERE customer_id = 5", database=plan_db)
    assert plan.explained_as_select
    assert plan.tables[0].access_type == "ALL" and plan.tables[0].table == "orders"
    before = server.execute(f"SELECT COUNT(*) FROM `{plan_db}`.orders WHERE status = 'x'")[0][0]
    assert before == 0
    nothing = explain(session, "INSERT INTO warehouses (code, city) VALUES ('a', 'b')", database=plan_db)
    assert nothing.tables == [] and nothing.message


def test_live_analyze_runs_selects_only(server, plan_db, session) -> None:
    plan = explain(session, "SELECT * FROM orders WHERE customer_id = 5", database=plan_db, analyze=True)
    assert plan.analyzed and plan.tables[0].r_rows is not None
    for sql in ("DELETE FROM orders WHERE id = 1", "SELECT * FROM orders WHERE id = 1 FOR UPDATE"):
        with pytest.raises(ExplainError, match="only allowed for a plain SELECT"):
            explain(session, sql, database=plan_db, analyze=True)


def test_live_server_errors_are_one_line(server, plan_db, session) -> None:
    with pytest.raises(ExplainError) as caught:
        explain(session, "SELECT nope FROM orders", database=plan_db)
    assert "\n" not in str(caught.value) and "Unknown column" in str(caught.value)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["file"] for s in SAMPLES])
def test_every_recorded_plan_renders_as_a_tree_naming_its_tables(sample: dict) -> None:
    from rich.console import Console

    from analyzer.report.render.terminal import plan_tree

    plan = parse_plan((MYSQL8 / sample["file"]).read_text(), statement=sample["statement"])
    console = Console(record=True, width=200, color_system=None)
    console.print(plan_tree(plan))
    text = console.export_text()
    for t in plan.tables:
        assert t.table in text
    if plan.message:
        assert plan.message in text
