"""The report model of ``mqa explain`` and ``mqa advise``: plans, findings, index suggestions.

The JSON follows the design contract (``schema_version`` 1): ``findings`` with check, class_id,
severity and message, and ``index_suggestions`` with table, columns, ddl, class_ids, verified and
estimate.rows_before/rows_after; everything else is an extension (``advice``: plans, classes where
no index helps, the verification, the DDL per table).  Everything a renderer shows is computed
here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from analyzer import __version__
from analyzer.advisor.checks import Finding
from analyzer.advisor.workload import Advice
from analyzer.report.digest import Report
from analyzer.report.text import clean_json
from analyzer.sources.explain import Plan


@dataclass
class AdviceClassView:
    """One advised class: what it costs, its plan (or why there is none) and its findings."""

    rank: int
    class_id: str
    count: int
    query_time_total: float
    text: str  # the fingerprint, or the sample when there is no fingerprint
    sample: str | None
    plan: Plan | None
    explain_note: str | None
    findings: list[Finding]
    timed: bool = True  # False: the workload's source measured no time (a general log)


@dataclass
class SuggestionView:
    """One row of the index suggestions."""

    number: int
    table: str  # db.t
    table_name: str  # t
    columns: list[str]
    classes: int
    time_saved: float
    rows_before: float
    rows_after: float
    explain_rows: tuple[float, float] | None  # EXPLAIN's estimates with the index built (verification)
    actual_rows: tuple[float, float] | None  # rows really read (ANALYZE on the scratch copy)
    verified: bool | None  # None: not verified; False: the optimizer did not choose it (or it was left out)
    warnings: list[str]
    may_change: list[str]  # other classes reading the table (shown when not verified)
    left_out: str | None  # why verification left it out of the set
    ddl: str


@dataclass
class ProtectionView:
    who: str  # "class_id fingerprint"
    what: str  # how the set made it worse, with the plans
    done: str  # what verification changed


@dataclass
class VerificationView:
    method: str
    target: str
    writes: int
    summary: str
    notes: list[str]
    protections: list[ProtectionView]


@dataclass
class NoIndexView:
    class_id: str
    table: str | None
    reason: str


@dataclass
class AdviceReport:
    """What ``mqa explain`` / ``mqa advise`` show."""

    title: str
    subtitle: str  # where: the server, or "offline, schema from FILE"
    command: str  # explain | advise
    statement: str | None  # explain: the statement
    notes: list[str]
    classes: list[AdviceClassView]  # every advised class
    shown: list[AdviceClassView]  # the ones shown in detail (the statement's, or the top --details)
    suggestions: list[SuggestionView]
    ddl: list[str]
    no_help: list[NoIndexView]  # where no index helps, other than primary-key/unique lookups
    no_help_all: list[NoIndexView]  # ... and with them
    lookups: tuple[int, int] | None  # (table accesses, classes) that are primary-key or unique lookups
    verification: VerificationView | None
    generated_at: str
    digest: Report | None = None  # the digest the advice came from (advise of logs or a window)
    invocation: str = ""  # the command line that produced the report (a DSN's password redacted)
    document: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json_dict(self) -> dict[str, Any]:
        return self.document


def advice_document(
    advice: Advice,
    *,
    report: Report | None = None,
    statement: str | None = None,
    now: datetime | None = None,
    command: str = "advise",
) -> dict[str, Any]:
    """The JSON document: a digest report's (when the advice came from logs) plus the advice."""
    if report is not None:
        doc = report.to_json_dict()
    else:
        doc = {
            "schema_version": 1,
            "tool": {"name": "mqa", "version": __version__},
            "generated_at": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
            "sources": [],
            "classes": [],
        }
    doc["findings"] = [f.to_dict() for f in advice.findings]
    doc["index_suggestions"] = [s.to_dict(advice.indexes.ddl_for(s)) for s in advice.indexes.suggestions]
    doc["advice"] = {
        "command": command,
        "statement": statement,
        "statistics": advice.indexes.statistics,
        "ddl": advice.indexes.ddl_statements(),
        "no_index_helps": [n.to_dict() for n in advice.indexes.no_help],
        "not_analyzed": [n.to_dict() for n in advice.indexes.skipped],
        "classes": [c.to_dict() for c in advice.classes],
        "verification": advice.verification.to_dict() if advice.verification is not None else None,
        "notes": advice.notes,
    }
    return clean_json(doc)


def build_advice_report(
    advice: Advice,
    *,
    title: str,
    subtitle: str,
    command: str,
    statement: str | None = None,
    report: Report | None = None,
    details: int = 5,
    now: datetime | None = None,
    invocation: str = "",
) -> AdviceReport:
    """The report model of an ``Advice`` (``report``: the digest it came from, if any)."""
    classes = [
        AdviceClassView(
            rank,
            ca.wc.class_id,
            ca.wc.count,
            ca.wc.query_time_total,
            ca.wc.fingerprint or ca.wc.sample or "",
            ca.wc.sample,
            ca.plan,
            ca.explain_note,
            list(ca.findings),
            report is None or report.timed,
        )
        for rank, ca in enumerate(advice.classes, 1)
    ]
    if statement is not None:
        shown = classes[:1]
    else:
        shown = [c for c in classes if c.findings or c.plan is not None][:details]
    verified = advice.verification is not None
    suggestions = []
    for number, s in enumerate(advice.indexes.suggestions, 1):
        est = s.estimate()
        explain_rows = (
            (est["verified_rows_before"], est["verified_rows_after"]) if "verified_rows_before" in est else None
        )
        pairs = [
            (c.actual_rows_before, c.actual_rows_after)
            for c in s.classes
            if c.actual_rows_before is not None and c.actual_rows_after is not None
        ]
        actual = (sum(b for b, _ in pairs), sum(a for _, a in pairs)) if pairs else None
        suggestions.append(
            SuggestionView(
                number,
                s.table.full_name,
                s.table.name,
                list(s.columns),
                len(s.classes),
                s.time_saved,
                est["rows_before"],
                est["rows_after"],
                explain_rows,
                actual,
                s.verified,
                list(s.warnings),
                [] if verified else list(s.may_change),
                s.verification_note if s.verified is False and s.verification_note.startswith("left out") else None,
                advice.indexes.ddl_for(s),
            )
        )
    lookups = [n for n in advice.indexes.no_help if n.reason.startswith(("primary-key lookup", "unique lookup"))]
    others = [NoIndexView(n.class_id, n.table, n.reason) for n in advice.indexes.no_help if n not in lookups]
    generated = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    return AdviceReport(
        title=title,
        subtitle=subtitle,
        command=command,
        statement=statement,
        notes=list(advice.notes),
        classes=classes,
        shown=shown,
        suggestions=suggestions,
        ddl=advice.indexes.ddl_statements(),
        no_help=others,
        no_help_all=[NoIndexView(n.class_id, n.table, n.reason) for n in advice.indexes.no_help],
        lookups=(len(lookups), len({n.class_id for n in lookups})) if lookups else None,
        verification=_verification_view(advice),
        generated_at=generated,
        digest=report,
        document=advice_document(advice, report=report, statement=statement, now=now, command=command),
        invocation=invocation,
    )


def _verification_view(advice: Advice) -> VerificationView | None:
    v = advice.verification
    if v is None:
        return None
    how = "rows really read, measured with ANALYZE on the copy" if v.measured else "EXPLAIN estimates"
    summary = f"{v.classes_checked} explained classes compared without and with the whole set ({how})"
    summary += f"; {len(v.protected)} protected" if v.protected else "; none got worse"
    protections = []
    for p in v.protected:
        cause = f"with {p.index} it {p.worse}" if p.index else f"it {p.worse}"
        protections.append(
            ProtectionView(
                f"{p.class_id[:12]} {p.fingerprint}",
                f"{cause} (plan: {p.plan_worse}; before: {p.plan_before})",
                p.action + (f"; now it {p.plan_after}" if p.resolved and p.plan_after else ""),
            )
        )
    return VerificationView(v.method, v.target, len(v.writes), summary, list(v.notes), protections)
