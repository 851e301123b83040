"""`mqa advise` and `mqa explain` with a schema file and no server (what a CI job without a
database runs): the recorded shop slow log against the shop schema as shipped."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

LOG = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")
SCHEMA = str(REPO / "sample_workloads" / "shop" / "schema.sql")


def mqa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={"HOME": "/nonexistent", "COLUMNS": "160", "PATH": "/usr/bin:/bin"},
    )


def test_offline_advice_finds_the_workloads_missing_indexes_unverified() -> None:
    result = mqa("advise", LOG, "--schema", SCHEMA, "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["classes"]
    found = {(s["table"], tuple(s["columns"])) for s in doc["index_suggestions"]}
    # W1, W2 and W7 of sample_workloads/shop/README.md
    assert ("shop.orders", ("customer_id", "created_at")) in found
    assert any(t == "shop.reviews" and cols[0] == "product_id" for t, cols in found)
    assert any(t == "shop.events" and cols[0] == "session_token" for t, cols in found)
    assert all(s["verified"] is False and s["verification"] == "not verified" for s in doc["index_suggestions"])
    assert doc["advice"]["statistics"] == "ddl"
    # nothing already served: the shipped secondary indexes are known from the file
    assert ("shop.customers", ("email",)) not in found and ("shop.order_items", ("order_id",)) not in found
    checks = {f["check"] for f in doc["findings"]}
    assert {"QRY001", "QRY002", "QRY003", "QRY006", "QRY007"} <= checks


def test_offline_explain_gives_checks_and_an_index_without_a_plan() -> None:
    result = mqa(
        "explain",
        "SELECT * FROM orders WHERE customer_id = 7 ORDER BY created_at DESC LIMIT 10",
        "--schema",
        SCHEMA,
        "-D",
        "shop",
        "--format",
        "markdown",
    )
    assert result.returncode == 0, result.stderr
    assert "Not explained: no server to run EXPLAIN on" in result.stdout
    assert "`customer_id`" in result.stdout or "customer_id, created_at" in result.stdout


def test_offline_usage_errors_are_one_line() -> None:
    for args, message in (
        (["advise", LOG, "--schema", SCHEMA, "--verify"], "--verify and --apply need a server"),
        (["advise", "--schema", SCHEMA], "give the workload's slow logs"),
        (["advise", LOG, "--schema", "/nonexistent.sql"], "/nonexistent.sql"),
        (["explain", "SELECT * FROM t WHERE a = ?", "--schema", SCHEMA], "no sample is available"),
    ):
        result = mqa(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr, result.stderr


def test_hostile_statement_text_is_shown_literally() -> None:
    sql = "SELECT '[/]', '[link=javascript:alert(1)]x[/link]' AS `[bold]`, '```' FROM orders WHERE customer_id = 1 /* [red]x */"
    table = mqa("explain", sql, "--schema", SCHEMA, "-D", "shop")
    assert table.returncode == 0, table.stderr
    assert "'[link=javascript:alert(1)]x[/link]' AS `[bold]`" in table.stdout and "/* [red]x */" in table.stdout
    markdown = mqa("explain", sql, "--schema", SCHEMA, "-D", "shop", "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert f"````sql\n{sql}\n````" in markdown.stdout  # a fence longer than any backtick run inside


def test_offline_explain_without_a_database_names_the_table_alone() -> None:
    """The schema file says no database and -D is not given: the DDL names the table only (it used
    to print ALTER TABLE ``.`orders`, an empty schema name)."""
    result = mqa(
        "explain",
        "SELECT * FROM orders WHERE customer_id = 7 ORDER BY created_at DESC LIMIT 10",
        "--schema",
        SCHEMA,
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    [ddl] = json.loads(result.stdout)["advice"]["ddl"]
    assert ddl.startswith("ALTER TABLE `orders` ADD INDEX `idx_orders_customer_id_created_at`"), ddl


def test_a_typo_in_the_first_word_is_a_parse_error() -> None:
    for sql in ("SELEC broken", "SELEC * FROM orders", "/* x */ UPDAT orders SET a = 1"):
        result = mqa("explain", sql, "--schema", SCHEMA)
        assert result.returncode == 2, result.stderr
        assert "the statement does not parse" in result.stderr and "ALIAS" not in result.stderr, result.stderr
    result = mqa("explain", "FLUSH TABLES", "--schema", SCHEMA)
    assert result.returncode == 2 and "FLUSH statements are not explained" in result.stderr


def test_explain_takes_an_endpoints_costliest_statement_from_the_log() -> None:
    """``explain --log LOG --route R`` (or ``--tag K=V``): the slowest statement of the route's
    costliest class, as ``digest --tag`` ranks them."""
    digest = mqa("digest", LOG, "--tag", "route=/account/orders", "--format", "json")
    assert digest.returncode == 0, digest.stderr
    classes = [c for c in json.loads(digest.stdout)["classes"] if c["kind"] != "admin"]
    top = max(classes, key=lambda c: c["metrics"]["query_time"]["sum"])
    for selector in (("--route", "/account/orders"), ("--tag", "route=/account/orders")):
        result = mqa("explain", "--log", LOG, *selector, "--schema-file", SCHEMA, "-D", "shop", "-f", "json")
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["advice"]["statement"] == top["example"]
        assert "route='%2Faccount%2Forders'" in doc["advice"]["statement"]
        assert ("shop.orders", ["customer_id", "created_at"]) in [
            (s["table"], s["columns"]) for s in doc["index_suggestions"]
        ]


def test_explain_filters_need_a_log_and_a_match() -> None:
    cases = [
        (
            ("explain", "--route", "/x", "--schema-file", SCHEMA),
            "--tag, --route and --filter pick a statement from --log LOG",
        ),
        (("explain", "SELECT 1", "--log", LOG, "--schema-file", SCHEMA), "give either SQL or --log LOG, not both"),
        (
            ("explain", "--log", LOG, "--route", "/nowhere", "--schema-file", SCHEMA),
            "no statement carrying route=/nowhere in",
        ),
    ]
    for args, message in cases:
        result = mqa(*args)
        assert result.returncode == 2 and result.stderr.startswith(f"mqa: error: {message}"), result.stderr
