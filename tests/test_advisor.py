"""The advisor on a real server: index suggestions, the cases where no index helps, findings that
name the rewrite, verification in a scratch schema, and what mqa sends while it advises.

The shop sample is loaded with primary keys only (as for the effectiveness benchmark), so the
advisor has the workload's real gaps to find.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.advisor.suggest import WorkloadClass
from analyzer.advisor.workload import advise
from analyzer.sources.schema import Catalog, load_tables
from tests.conftest import REPO, skip_or_fail
from tests.servers import GeneralLog, TestServer, fresh_database, is_read, slow_log_written
from tests.servers import session as open_session

DB = "mqa_advise"
SCRATCH = "mqa_advise_scratch"
PASSWORD = "mqa-adv-Secret-1"
MQA = [sys.executable, "-m", "cli"]


def mqa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("MYSQL_PWD", "MYSQL_HOST", "MYSQL_TCP_PORT")}
    full_env.update({"HOME": "/nonexistent", "COLUMNS": "160", **(env or {})})
    return subprocess.run(MQA + list(args), capture_output=True, text=True, timeout=300, env=full_env, cwd=REPO)


@pytest.fixture(scope="module")
def shop(server: TestServer, tmp_path_factory: pytest.TempPathFactory):
    """The shop data (20k orders) with primary keys only, a replayed slow log of it, and two
    accounts: mqa_adv (SELECT on the shop) and mqa_ver (also everything on the scratch schema)."""
    from sample_workloads.shop import workload

    if server.local is None:
        skip_or_fail("needs the server's slow log file on this machine")
    conn = server.admin()
    workload.load(conn, scale=0.2, seed=42, database=DB, secondary_indexes=False)
    conn.close()
    with slow_log_written(server, tmp_path_factory.mktemp("advise") / "shop.slow.log") as log:
        conn = server.admin(DB)
        workload.replay(
            conn, statements=3000, seed=5, scale=0.2, database=DB, strict=False
        )  # FORCE INDEX of a missing index fails
        conn.close()
    for user in ("mqa_adv", "mqa_ver"):
        server.execute(
            f"DROP USER IF EXISTS '{user}'@'localhost'",
            f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{PASSWORD}'",
            f"GRANT SELECT, SHOW VIEW ON `{DB}`.* TO '{user}'@'localhost'",
        )
    server.execute(f"GRANT ALL ON `{SCRATCH}`.* TO 'mqa_ver'@'localhost'")
    yield log
    server.execute(
        "DROP USER IF EXISTS 'mqa_adv'@'localhost'",
        "DROP USER IF EXISTS 'mqa_ver'@'localhost'",
        f"DROP DATABASE IF EXISTS `{DB}`",
        f"DROP DATABASE IF EXISTS `{SCRATCH}`",
    )


@pytest.fixture()
def live(server: TestServer, shop: Path):
    session = open_session(server)
    catalog = Catalog(load_tables(session, [DB]), default_schema=DB)
    yield session, catalog
    session.close()


def _advise_one(live, sql: str, *, count: int = 1000, total: float = 20.0):
    session, catalog = live
    wc = WorkloadClass("c1", sql, DB, count=count, query_time_total=total)
    return advise([wc], catalog=catalog, server=session, top=None)


@pytest.mark.parametrize(
    "sql, reason",
    [
        ("SELECT * FROM orders WHERE id = 123", "primary-key lookup"),
        ("SELECT id, name FROM products WHERE name LIKE '%wireless%'", "leading wildcard"),
        (
            "SELECT COUNT(*) FROM orders WHERE status = 'shipped'",
            "low-cardinality filter: status has about 5 distinct values",
        ),
    ],
)
def test_no_index_where_none_helps(live, sql: str, reason: str) -> None:
    advice = _advise_one(live, sql)
    assert advice.indexes.suggestions == []
    reasons = [n.reason for n in advice.indexes.no_help]
    assert any(reason in r for r in reasons), reasons


def test_non_sargable_date_gets_the_range_rewrite_and_no_index(live) -> None:
    advice = _advise_one(live, "SELECT id, total_cents FROM orders WHERE DATE(created_at) = '2024-03-14'")
    found = [f for f in advice.findings if f.check == "QRY001"]
    assert found, [f.check for f in advice.findings]
    assert "created_at >= '2024-03-14'" in found[0].fix and "INTERVAL 1 DAY" in found[0].fix
    assert advice.classes[0].plan is not None and advice.classes[0].plan.tables[0].access_type == "ALL"
    assert advice.indexes.suggestions == []


def test_implicit_conversion_gets_the_quoted_value(live) -> None:
    advice = _advise_one(live, "SELECT id FROM orders WHERE external_ref = 4012345678")
    found = [f for f in advice.findings if f.check == "QRY002"]
    assert found, [f.check for f in advice.findings]
    assert "'4012345678'" in (found[0].fix or "")
    # the index a user would add cannot be used with a number: none is suggested
    assert all("external_ref" not in s.columns for s in advice.indexes.suggestions)


def test_the_my_orders_page_gets_customer_then_created_at(live) -> None:
    advice = _advise_one(live, "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10")
    assert [s.columns for s in advice.indexes.suggestions] == [("customer_id", "created_at")]
    estimate = advice.indexes.suggestions[0].estimate()
    assert estimate["rows_before"] >= 10_000 and estimate["rows_after"] <= 20


def test_advise_verify_builds_only_in_the_scratch_schema_and_cleans_up(server: TestServer, shop: Path) -> None:
    with GeneralLog(server) as log:
        result = mqa(
            "advise",
            str(shop),
            "-S",
            server.local.socket,
            "-u",
            "mqa_ver",
            "-D",
            DB,
            "--no-defaults",
            "--verify",
            "--scratch-schema",
            SCRATCH,
            "--format",
            "json",
            env={"MYSQL_PWD": PASSWORD},
        )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    suggestions = doc["index_suggestions"]
    assert {"table", "columns", "ddl", "class_ids", "verified", "estimate"} <= set(suggestions[0])
    by_columns = {(s["table"], tuple(s["columns"])): s for s in suggestions}
    w1 = by_columns.get((f"{DB}.orders", ("customer_id", "created_at")))
    assert w1 is not None and w1["verified"] is True, sorted(by_columns)
    assert any(c["key_after"] == w1["name"] for c in w1["classes"])
    assert doc["advice"]["ddl"] and all(d.startswith(f"ALTER TABLE `{DB}`.") for d in doc["advice"]["ddl"])
    sent = [e.text for e in log.statements_of("mqa_ver") if e.command == "Query"]
    writes = [q for q in sent if not is_read(q)]
    assert writes, "verification wrote nothing"
    assert all(SCRATCH in q for q in writes), [q for q in writes if SCRATCH not in q]
    assert any(q.startswith("DROP DATABASE") for q in writes)
    assert (
        server.execute(f"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{SCRATCH}'")[0][0] == 0
    )
    # the application tables did not change
    assert (
        server.execute(
            f"SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '{DB}' "
            "AND INDEX_NAME <> 'PRIMARY'"
        )[0][0]
        == 0
    )


def test_advise_verify_html_shows_the_verified_ddl_and_the_plans(
    server: TestServer, shop: Path, tmp_path: Path
) -> None:
    out = tmp_path / "advice.html"
    result = mqa(
        "advise",
        str(shop),
        "-S",
        server.local.socket,
        "-u",
        "mqa_ver",
        "-D",
        DB,
        "--no-defaults",
        "--verify",
        "--scratch-schema",
        SCRATCH,
        "--format",
        "html",
        "-o",
        str(out),
        env={"MYSQL_PWD": PASSWORD},
    )
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert '<section id="verification">' in page and "Verified with scratch" in page
    table = page[page.index('<table id="suggestions">') :]
    table = table[: table.index("</table>")]
    assert '<span class="ok">verified</span>' in table
    assert f"{DB}.orders (customer_id, created_at)" in table
    ddl = re.search(r'<pre id="ddl-all">(.*?)</pre>', page, re.S).group(1)
    assert f"ALTER TABLE `{DB}`.`orders` ADD INDEX" in html.unescape(ddl)
    assert '<ul class="plan">' in page  # the advised classes' EXPLAIN trees
    assert page.count("<tr data-class-id=") > 10  # and the digest of the log


def test_explain_and_advise_without_verify_send_only_reads(server: TestServer, shop: Path) -> None:
    who = ["-S", server.local.socket, "-u", "mqa_adv", "-D", DB, "--no-defaults"]
    pwd = {"MYSQL_PWD": PASSWORD}
    with GeneralLog(server) as log:
        results = [
            mqa(
                "explain",
                "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
                *who,
                env=pwd,
            ),
            mqa("explain", "UPDATE orders SET status = 'paid' WHERE customer_id = 42", *who, env=pwd),
            mqa("advise", str(shop), *who, "--format", "json", env=pwd),
        ]
    for result in results:
        assert result.returncode == 0, result.stderr
    sent = log.statements_of("mqa_adv")
    queries = [e.text for e in sent if e.command in ("Query", "Execute", "Prepare")]
    assert any(q.startswith("EXPLAIN FORMAT=JSON") for q in queries)
    assert {e.command for e in sent} <= {"Connect", "Query", "Quit", "Init DB", "Field List"}
    assert [q for q in queries if not is_read(q)] == []
    assert "customer_id" in results[0].stdout and "ALTER TABLE" in results[0].stdout


def test_explain_refuses_what_it_must_not_run(server: TestServer, shop: Path) -> None:
    who = ["-S", server.local.socket, "-u", "mqa_adv", "-D", DB, "--no-defaults"]
    for sql, message in (
        ("SELECT * FROM orders WHERE id = ?", "no sample is available"),
        ("DROP TABLE orders", "DROP statements are not explained"),
        ("SELECT 1; DELETE FROM orders", "two or more statements"),
    ):
        result = mqa("explain", sql, *who, env={"MYSQL_PWD": PASSWORD})
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    result = mqa("explain", "--analyze", "DELETE FROM orders WHERE id = 1", *who, env={"MYSQL_PWD": PASSWORD})
    assert result.returncode == 2 and "plain SELECT" in result.stderr
    assert server.execute(f"SELECT COUNT(*) FROM `{DB}`.orders WHERE id = 1")[0][0] == 1


def test_verify_on_another_server_streams_the_rows_there(server: TestServer, live) -> None:
    """--verify-dsn: the scratch copy is built through a second connection (here the same server
    over TCP, so mqa cannot use INSERT ... SELECT between them and copies the rows itself)."""
    from analyzer.advisor.verify import verify_in_scratch
    from analyzer.sources.db import ConnectionOptions, connect

    if server.local is None or not server.local.port:
        skip_or_fail("needs the local server's TCP port")
    session, catalog = live
    advice = advise(
        [
            WorkloadClass(
                "w1",
                "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
                DB,
                count=1000,
                query_time_total=20.0,
            )
        ],
        catalog=catalog,
        server=session,
        top=None,
    )
    target = connect(
        ConnectionOptions(host="127.0.0.1", port=server.local.port, user="root", no_defaults=True, protocol="tcp"),
        writable=True,
    )
    try:
        verification = verify_in_scratch(
            advice, catalog, source=session, target=target, scratch_schema=SCRATCH, sample_rows=None
        )
    finally:
        target.close()
    [s] = advice.indexes.suggestions
    assert s.verified is True and s.classes[0].chosen_key_after == s.name
    assert any("in batches of" in w for w in verification.writes)
    assert not any("INSERT INTO" in w and "SELECT" in w for w in verification.writes)
    assert (
        server.execute(f"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{SCRATCH}'")[0][0] == 0
    )


def test_advise_on_a_performance_schema_window(server: TestServer, shop: Path) -> None:
    """No logs: mqa watches performance_schema while the workload runs, explains the real samples
    of the statement history, and finds the same gap as from the slow log."""
    import threading
    import time

    from sample_workloads.shop import workload

    def replay() -> None:
        time.sleep(2.0)  # after the first snapshot
        conn = server.admin(DB)
        workload.replay(conn, statements=1500, seed=8, scale=0.2, database=DB, strict=False)
        conn.close()

    worker = threading.Thread(target=replay)
    worker.start()
    try:
        result = mqa(
            "advise",
            "--window",
            "12s",
            "-S",
            server.local.socket,
            "-u",
            "root",
            "-D",
            DB,
            "--no-defaults",
            "--max-per-table",
            "6",
            "--format",
            "json",
        )
    finally:
        worker.join()
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["sources"][0]["kind"] == "perfschema" and doc["classes"]
    explained = [c for c in doc["advice"]["classes"] if c["plan"] is not None]
    assert len(explained) >= 10, "few classes had a real sample to explain"
    my_orders = [
        c for c in explained if "WHERE orders.customer_id = ? ORDER BY orders.created_at DESC" in c["fingerprint"]
    ]
    assert my_orders and "?" not in my_orders[0]["plan"]["statement"]
    found = {(s["table"], tuple(s["columns"])): s for s in doc["index_suggestions"]}
    w1 = found.get((f"{DB}.orders", ("customer_id", "created_at")))
    assert w1 is not None and my_orders[0]["class_id"] in w1["class_ids"], sorted(found)


def test_join_across_collations_is_found_live(server: TestServer) -> None:
    with fresh_database(server, "mqa_collations") as db:
        server.execute(
            "CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(190) NOT NULL, UNIQUE KEY (email)) "
            "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
            "CREATE TABLE signups (id INT PRIMARY KEY, email VARCHAR(190) NOT NULL, KEY (email)) "
            "DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci",
            database=db,
        )
        session = open_session(server)
        try:
            catalog = Catalog(load_tables(session, [db]), default_schema=db)
            advice = advise(
                [
                    WorkloadClass(
                        "j",
                        "SELECT c.id FROM customers c JOIN signups s ON s.email = c.email",
                        db,
                        count=10,
                        query_time_total=1.0,
                    )
                ],
                catalog=catalog,
                server=session,
                top=None,
            )
        finally:
            session.close()
    [finding] = [f for f in advice.findings if f.check == "QRY002"]
    assert "latin1_swedish_ci" in finding.message and "utf8mb4_unicode_ci" in finding.message
    assert finding.fix.startswith(
        "Give both columns the same character set and collation: ALTER TABLE signups "
        "MODIFY email varchar(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
