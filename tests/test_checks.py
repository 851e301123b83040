"""The advisor checks, sqlfluff style: every check's own ``CASES`` run through one parametrized test."""

from __future__ import annotations

import copy
import importlib
import json
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

import pytest

from analyzer.advisor.checks import (
    Case,
    Check,
    CheckContext,
    ClassFacts,
    Finding,
    TableCase,
    TableCheck,
    all_checks,
    run_checks,
    run_table_checks,
    statement_checks,
    table_checks,
)
from analyzer.advisor.checks._docs import render_checks_markdown
from analyzer.advisor.checks._health import HealthContext, IndexUsage, UsageWindow
from analyzer.advisor.query import analyze_query
from analyzer.sources.explain import parse_plan
from analyzer.sources.schema import Catalog
from analyzer.sources.schema_ddl import load_tables_from_ddl
from tests.conftest import REPO

SHOP_SCHEMA = REPO / "sample_workloads" / "shop" / "schema.sql"
PLANS = REPO / "tests" / "fixtures" / "plans"
DEFAULT_SCHEMA = "shop"


@cache
def _tables(ddl: str):
    loaded = load_tables_from_ddl(ddl, default_schema=DEFAULT_SCHEMA, source="<case>")
    assert not loaded.warnings, loaded.warnings
    return loaded.tables


def build_context(case: Case) -> CheckContext:
    """The context a check sees for a case: the shape read with the catalog, the plan, the facts."""
    ddl = case.schema if case.schema is not None else SHOP_SCHEMA.read_text()
    tables = copy.deepcopy(_tables(ddl))
    for table in tables:
        if table.name in case.rows:
            table.rows = case.rows[table.name]
    unknown = set(case.rows) - {t.name for t in tables}
    assert not unknown, f"rows given for tables the schema does not have: {unknown}"
    catalog = Catalog(tables, default_schema=DEFAULT_SCHEMA, source="ddl")
    for name, distinct in case.distinct.items():
        table_name, column = name.split(".")
        catalog.distinct[(DEFAULT_SCHEMA, table_name, column)] = float(distinct)
    shape = analyze_query(case.sql, catalog=catalog, default_schema=DEFAULT_SCHEMA)
    document = case.plan
    if isinstance(document, str):  # a recorded EXPLAIN document in tests/fixtures/plans
        document = json.loads((PLANS / document).read_text())
    plan = parse_plan(document, statement=case.sql) if document is not None else None
    facts = ClassFacts(**case.facts) if case.facts is not None else None
    return CheckContext(
        sql=case.sql,
        shape=shape,
        plan=plan,
        catalog=catalog,
        facts=facts,
        class_id="c0ffee",
        default_schema=DEFAULT_SCHEMA,
    )


def build_health_context(case: TableCase) -> HealthContext:
    """The context an index-health check sees for a case: the tables of its DDL in schema ``db``,
    and the usage counters it describes (``reads``: "table.index" -> reads; the others none)."""
    tables = copy.deepcopy(load_tables_from_ddl(case.schema, default_schema="db", source="<case>").tables)
    for table in tables:
        table.rows = case.rows.get(table.name, table.rows)
    usage = None
    if case.usage is not None:
        checked = datetime(2024, 5, 1, 12, 0, 0)
        uptime = int(case.usage["uptime"])
        usage = IndexUsage(window=UsageWindow(uptime, checked - timedelta(seconds=uptime), checked))
        usage.instrumented = {(t.schema, t.name) for t in tables}
        for name, reads in case.usage.get("reads", {}).items():
            table, index = name.split(".")
            usage.counters.setdefault(("db", table), {})[index] = {"count_star": reads, "count_read": reads}
    return HealthContext.of(tables, usage=usage)


def _cases() -> Iterable:
    for check in all_checks():
        module = importlib.import_module(check.__module__)
        for i, case in enumerate(getattr(module, "CASES", [])):
            label = "fires" if case.expect else "silent"
            yield pytest.param(check, case, id=f"{check.code}-{i}-{label}")


@pytest.mark.parametrize(("check", "case"), list(_cases()))
def test_check_case(check: type[Check], case: Case | TableCase) -> None:
    if isinstance(case, TableCase):
        assert issubclass(check, TableCheck)
        _table_case(check, case)
        return
    findings = list(check().run(build_context(case)))
    if not case.expect:
        assert findings == [], f"{check.code} should stay silent ({case.note}): {[f.message for f in findings]}"
        return
    assert findings, f"{check.code} should fire ({case.note})"
    for finding in findings:
        assert finding.check == check.code and finding.name == check.name
        assert finding.severity in ("info", "warning", "critical")
        assert finding.message and finding.fix, "a finding needs a message and a concrete fix"
        assert finding.class_id == "c0ffee"
    text = "\n".join(f"{f.message}\n{f.fix}" for f in findings)
    for expected in case.contains:
        assert expected in text, f"{expected!r} not in:\n{text}"


def _table_case(check: type[TableCheck], case: TableCase) -> None:
    findings = list(check().run(build_health_context(case)))
    if not case.expect:
        assert findings == [], f"{check.code} should stay silent ({case.note}): {[f.message for f in findings]}"
        return
    assert findings, f"{check.code} should fire ({case.note})"
    for finding in findings:
        assert finding.check == check.code and finding.name == check.name
        assert finding.severity in ("info", "warning", "critical") and finding.message and finding.ddl
    text = "\n".join(f"{f.message}\n{f.ddl}" for f in findings)
    for expected in case.contains:
        assert expected in text, f"{expected!r} not in:\n{text}"


@pytest.mark.parametrize("check", all_checks(), ids=lambda c: c.code)
def test_check_is_documented_and_has_cases(check: type[Check]) -> None:
    doc = check.__doc__ or ""
    assert doc.strip(), f"{check.code} has no docstring"
    assert "**Anti-pattern**" in doc and "**Fix**" in doc, f"{check.code}: docstring needs Anti-pattern and Fix"
    assert "```sql" in doc or "```python" in doc, f"{check.code}: docstring needs an example"
    module = importlib.import_module(check.__module__)
    cases = getattr(module, "CASES", None)
    assert cases, f"{check.code} has no CASES"
    assert sum(c.expect for c in cases) >= 2, f"{check.code} needs 2 firing cases"
    assert sum(not c.expect for c in cases) >= 2, f"{check.code} needs 2 non-firing cases"
    assert all(c.contains for c in cases if c.expect), f"{check.code}: firing cases must say what the text names"
    assert check.severity in ("info", "warning", "critical")
    assert check.name and check.name == check.name.lower() and " " not in check.name and "_" not in check.name


def test_codes_are_unique_and_match_module_names() -> None:
    checks = all_checks()
    codes = [c.code for c in checks]
    assert len(codes) == len(set(codes)), codes
    names = [c.name for c in checks]
    assert len(names) == len(set(names)), names
    for check in checks:
        module = check.__module__.rsplit(".", 1)[1]
        code, _, short = module.partition("_")
        assert code == check.code.lower(), f"{check.__module__} holds {check.code}"
        assert short, f"{check.__module__}: name the module <code>_<short_name>"
        assert (
            len(
                [
                    v
                    for v in vars(importlib.import_module(check.__module__)).values()
                    if isinstance(v, type)
                    and issubclass(v, Check)
                    and v is not Check
                    and v.__module__ == check.__module__
                ]
            )
            == 1
        ), f"{check.__module__}: one check per module"
    assert {
        "PLN001",
        "PLN002",
        "PLN003",
        "PLN004",
        "PLN005",
        "PLN006",
        "PLN007",
        "QRY001",
        "QRY002",
        "QRY003",
        "QRY004",
        "QRY005",
        "QRY006",
        "QRY007",
        "QRY008",
        "QRY009",
        "QRY010",
        "WRK001",
    } <= set(codes)
    assert [c.code for c in table_checks()] == ["IDX001", "IDX002", "IDX003", "IDX004", "IDX005", "IDX006"]
    assert set(statement_checks()) | set(table_checks()) == set(checks)


def test_a_failing_index_health_check_is_a_note_and_the_others_still_run() -> None:
    class Broken(TableCheck):
        code = "TST998"
        name = "broken-table-check"

        def run(self, context: HealthContext) -> Iterable:
            raise ValueError("boom")

    missing_pk = next(c for c in table_checks() if c.code == "IDX006")
    context = build_health_context(TableCase("CREATE TABLE t (x INT) ENGINE=InnoDB", expect=True))
    findings, notes = run_table_checks(context, [Broken, missing_pk])
    assert [f.check for f in findings] == ["IDX006"]
    assert notes == ["TST998 (broken-table-check): the check failed (ValueError: boom)"]


def test_a_failing_check_becomes_a_finding_and_the_others_still_run() -> None:
    class Broken(Check):
        code = "TST999"
        name = "broken"

        def run(self, context: CheckContext) -> Iterable[Finding]:
            raise ValueError("boom")

    write_check = next(c for c in all_checks() if c.code == "QRY009")
    context = build_context(Case("DELETE FROM carts", expect=True))
    findings = run_checks(context, [Broken, write_check])
    by_code = {f.check: f for f in findings}
    assert set(by_code) == {"CHK000", "QRY009"}
    failed = by_code["CHK000"]
    assert failed.message == "check TST999 (broken) failed: ValueError: boom"
    assert failed.evidence == {"failed_check": "TST999"} and failed.class_id == "c0ffee"
    assert findings[0].check == "QRY009"  # critical first


def test_all_checks_run_together_on_a_bad_statement() -> None:
    case = Case(
        "SELECT * FROM orders WHERE DATE(created_at) = '2024-05-01' AND (customer_id = 42 OR external_ref = 12) "
        "ORDER BY RAND() LIMIT 10 OFFSET 5000",
        expect=True,
    )
    codes = {f.check for f in run_checks(build_context(case))}
    assert {"QRY001", "QRY002", "QRY004", "QRY006", "QRY007"} <= codes
    assert "CHK000" not in codes


def test_docs_are_up_to_date() -> None:
    path = REPO / "docs" / "checks.md"
    assert path.exists(), "run: python scripts/gen_check_docs.py"
    assert path.read_text() == render_checks_markdown(), "docs/checks.md is stale: run python scripts/gen_check_docs.py"


def test_docs_list_every_check() -> None:
    text = render_checks_markdown()
    for check in all_checks():
        assert f"| {check.code} | {check.name} | {check.severity} |" in text
        assert f"## {check.code} {check.name}" in text


def test_gen_check_docs_check_flag() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_check_docs.py"), "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
