"""Advisor checks: one module per check, sqlfluff style, in one registry.

Every module in this package defines one ``Check`` subclass with a stable ``code`` (never reused),
a ``name``, a ``severity`` and a docstring that states the anti-pattern and the fix (the docs in
``docs/checks.md`` are generated from it), and a module-level ``CASES`` list of fixtures that
``tests/test_checks.py`` runs (a check without a docstring or cases fails the suite).

Two kinds share the registry:

- statement checks (PLN, QRY, WRK: ``Check``) read a ``CheckContext``: the statement text, its
  ``QueryShape`` (analyzer.advisor.query), its ``Plan`` when it was explained
  (analyzer.sources.explain), the ``Catalog`` of tables when known, and the class's measured
  ``ClassFacts`` when it comes from a workload.  Any of the last three may be None; a check that
  needs one of them and lacks it says nothing.  ``run_checks(context)`` runs them all; a check
  that raises becomes a ``Finding`` of its own (code ``CHK000``) naming the check and the error,
  and the other checks still run.
- index-health checks (IDX: ``TableCheck``) read a ``HealthContext`` (``_health.py``): the
  tables, the foreign-key guard they share, and performance_schema's index usage counters.
  ``run_table_checks(context)`` runs them in code order and reports a failing one in its notes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from analyzer.advisor.query import QueryShape, Scope
from analyzer.sources.explain import Plan
from analyzer.sources.schema import Catalog

SEVERITIES = ("info", "warning", "critical")


@dataclass
class Finding:
    """Something a check found: what, why it costs, and the fix (a rewrite, a DDL, an advice)."""

    check: str  # the check's code, e.g. "QRY001"
    name: str  # the check's name, e.g. "non-sargable-predicate"
    severity: str  # info | warning | critical
    message: str  # one or two sentences a user reads
    fix: str | None = None  # the rewrite or change, as concrete as possible
    class_id: str | None = None
    table: str | None = None  # db.t or t, when the finding is about one table
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "name": self.name,
            "class_id": self.class_id,
            "severity": self.severity,
            "message": self.message,
        }
        if self.fix is not None:
            out["fix"] = self.fix
        if self.table is not None:
            out["table"] = self.table
        if self.evidence:
            out["evidence"] = self.evidence
        return out


@dataclass
class ClassFacts:
    """What the workload measured for the statement's class."""

    count: int
    query_time_total: float
    query_time_avg: float
    rows_examined_avg: float | None = None
    rows_sent_avg: float | None = None
    window_seconds: float | None = None  # from the first to the last execution seen

    @property
    def calls_per_second(self) -> float | None:
        if not self.window_seconds or self.window_seconds <= 0:
            return None
        return self.count / self.window_seconds


@dataclass
class CheckContext:
    sql: str
    shape: QueryShape | None = None
    plan: Plan | None = None
    catalog: Catalog | None = None
    facts: ClassFacts | None = None
    class_id: str | None = None
    default_schema: str | None = None


@dataclass
class Case:
    """A fixture for one check: the statement, optional schema DDL (default: the shop sample
    schema), table row counts and column distinct counts, an EXPLAIN JSON document (or the name of a recorded one in
    ``tests/fixtures/plans``), class facts, and whether the check must fire (``expect``) with which
    text in its message or fix (``contains``)."""

    sql: str
    expect: bool
    contains: Sequence[str] = ()
    schema: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    plan: dict[str, Any] | str | None = None
    distinct: dict[str, float] = field(default_factory=dict)  # "table.column" -> distinct values (statistics)
    facts: dict[str, Any] | None = None
    note: str = ""


class Check:
    """Base class; subclasses set ``code``, ``name``, ``severity`` and implement ``run``."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[str] = "warning"
    kind: ClassVar[str] = "statement"  # statement | schema (index health)

    def run(self, context: CheckContext) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def scopes(context: CheckContext) -> list[Scope]:
        """The statement's SELECT scopes (none when it did not parse)."""
        return context.shape.scopes if context.shape is not None else []

    def finding(
        self,
        context: CheckContext,
        message: str,
        *,
        fix: str | None = None,
        table: str | None = None,
        severity: str | None = None,
        **evidence: Any,
    ) -> Finding:
        return Finding(
            self.code,
            self.name,
            severity or self.severity,
            message,
            fix=fix,
            class_id=context.class_id,
            table=table,
            evidence=dict(evidence),
        )


@dataclass
class TableCase:
    """A fixture for one index-health check: the schema DDL (tables land in schema ``db``), table
    row counts, index usage (``usage``: ``{"uptime": seconds, "reads": {"t.index": n}}``; None:
    not read), and whether the check must fire with which text in its findings (``contains``)."""

    schema: str
    expect: bool
    contains: Sequence[str] = ()
    rows: dict[str, int] = field(default_factory=dict)
    usage: dict[str, Any] | None = None
    note: str = ""


class TableCheck(Check):
    """An index-health check: reads a ``HealthContext`` and yields ``IndexFinding``s."""

    kind: ClassVar[str] = "schema"

    def run(self, context: Any) -> Iterable[Any]:  # pragma: no cover - abstract
        raise NotImplementedError


def _discover() -> list[type[Check]]:
    found: list[type[Check]] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Check)
                and value is not Check
                and value.code
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return sorted(found, key=lambda c: c.code)


def all_checks() -> list[type[Check]]:
    """Every check class (statement and index-health), sorted by code."""
    global _CHECKS
    if _CHECKS is None:
        _CHECKS = _discover()
    return list(_CHECKS)


def statement_checks() -> list[type[Check]]:
    return [c for c in all_checks() if c.kind == "statement"]


def table_checks() -> list[type[TableCheck]]:
    return [c for c in all_checks() if issubclass(c, TableCheck)]


def check_named(code: str) -> type[Check]:
    """The check class with this code."""
    for check in all_checks():
        if check.code == code:
            return check
    raise KeyError(code)


_CHECKS: list[type[Check]] | None = None


def run_checks(context: CheckContext, checks: Sequence[type[Check]] | None = None) -> list[Finding]:
    """Findings of every check on one statement; a failing check is reported, never fatal."""
    findings: list[Finding] = []
    for check_class in checks if checks is not None else statement_checks():
        try:
            findings.extend(check_class().run(context))
        except Exception as exc:
            findings.append(
                Finding(
                    "CHK000",
                    "check-failed",
                    "info",
                    f"check {check_class.code} ({check_class.name}) failed: {type(exc).__name__}: {exc}",
                    class_id=context.class_id,
                    evidence={"failed_check": check_class.code},
                )
            )
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    findings.sort(key=lambda f: (order.get(f.severity, 9), f.check))
    return findings


def run_table_checks(context: Any, checks: Sequence[type[TableCheck]] | None = None) -> tuple[list[Any], list[str]]:
    """Findings of every index-health check, in report order, and notes on checks that failed
    (a failing check is reported, never fatal: the others still run)."""
    findings: list[Any] = []
    notes: list[str] = []
    for check_class in checks if checks is not None else table_checks():
        try:
            findings.extend(check_class().run(context))
        except Exception as exc:
            notes.append(f"{check_class.code} ({check_class.name}): the check failed ({type(exc).__name__}: {exc})")
    findings.sort(key=lambda f: f.order)
    return findings, notes
