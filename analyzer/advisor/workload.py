"""The advisor end to end: explain each expensive class on a real sample, run the checks, and
propose the workload's indexes.

``workload_from_result(result)`` turns a digest's classes into ``WorkloadClass``es;
``advise(classes, catalog=..., server=...)`` explains them (when a server is given), runs every
check, samples the distinct counts the index advisor needs, and returns an ``Advice``.  Nothing
here writes to a server: verification, which builds indexes in a scratch copy, lives in
``analyzer.advisor.verify`` and runs only when asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analyzer.advisor.checks import CheckContext, ClassFacts, Finding, run_checks
from analyzer.advisor.query import QueryShape, analyze_query
from analyzer.advisor.suggest import (
    DEFAULT_MAX_PER_TABLE,
    IndexAdvice,
    WorkloadClass,
    _scoped,
    advise_indexes,
    columns_needing_statistics,
    sample_column_statistics,
)
from analyzer.errors import AnalyzerError
from analyzer.failpoints import failpoint
from analyzer.model import DigestResult
from analyzer.sources.db import ServerGoneError
from analyzer.sources.explain import Plan, explain, explainable
from analyzer.sources.schema import Catalog

DEFAULT_TOP = 50


@dataclass
class ClassAdvice:
    """What the advisor found for one class."""

    wc: WorkloadClass
    findings: list[Finding] = field(default_factory=list)
    plan: Plan | None = None
    explain_note: str | None = None  # why there is no plan (no sample, not explainable, server error)
    shape: QueryShape | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "class_id": self.wc.class_id,
            "fingerprint": self.wc.fingerprint,
            "sample": self.wc.sample,
            "database": self.wc.database,
            "count": self.wc.count,
            "query_time_total": round(self.wc.query_time_total, 6),
            "rows_examined_avg": self.wc.rows_examined_avg,
            "plan": self.plan.to_dict() if self.plan else None,
            "explain_note": self.explain_note,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class Advice:
    classes: list[ClassAdvice]
    indexes: IndexAdvice
    notes: list[str] = field(default_factory=list)
    verification: Any = None  # analyzer.advisor.verify.Verification when --verify ran
    unadvised: list[WorkloadClass] = field(default_factory=list)  # beyond --top: not advised, but verified
    interrupted: str | None = None  # the server went away part way (the rest is marked not explained)

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.classes for f in c.findings]


def workload_from_result(result: DigestResult) -> list[WorkloadClass]:
    """The classes of a digest (slow logs or a performance_schema window) with their real samples
    and what they cost."""
    out = []
    for cls in result.classes:
        stats = cls.stats
        example = stats.example
        rows_examined = stats.metrics.get("rows_examined")
        rows_sent = stats.metrics.get("rows_sent")
        span = stats.last_ts - stats.first_ts if stats.first_ts is not None and stats.last_ts is not None else None
        database = (
            example.db
            if example and example.db
            else (stats.databases.most_common(1)[0][0] if stats.databases else None)
        )
        out.append(
            WorkloadClass(
                class_id=cls.id,
                sample=example.query if example else None,
                database=database,
                count=stats.count,
                query_time_total=stats.total("query_time"),
                rows_examined_avg=rows_examined.avg if rows_examined is not None else None,
                rows_sent_avg=rows_sent.avg if rows_sent is not None else None,
                fingerprint=cls.fingerprint,
                window_seconds=span,
            )
        )
    return out


def _facts(wc: WorkloadClass) -> ClassFacts | None:
    if wc.count <= 0:
        return None
    return ClassFacts(
        count=wc.count,
        query_time_total=wc.query_time_total,
        query_time_avg=wc.query_time_total / wc.count if wc.count else 0.0,
        rows_examined_avg=wc.rows_examined_avg,
        rows_sent_avg=wc.rows_sent_avg,
        window_seconds=wc.window_seconds,
    )


def advise(
    classes: Sequence[WorkloadClass],
    *,
    catalog: Catalog,
    server: Any = None,
    top: int | None = DEFAULT_TOP,
    max_per_table: int = DEFAULT_MAX_PER_TABLE,
    sample_statistics: bool = True,
    with_facts: bool = True,
) -> Advice:
    """Explain (with ``server``), check and index-advise the ``top`` classes by total time."""
    ranked = sorted(classes, key=lambda c: (-c.query_time_total, c.class_id))
    chosen = ranked[:top] if top else ranked
    notes: list[str] = []
    if server is not None and sample_statistics:
        wanted = columns_needing_statistics(chosen, catalog)
        if wanted:
            notes.extend(sample_column_statistics(server, catalog, wanted))
    results: list[ClassAdvice] = []
    gone: str | None = None  # the server went away: the rest is reported as not explained
    for wc in chosen:
        advice = ClassAdvice(wc)
        scoped = _scoped(catalog, wc.database)
        if not wc.sample:
            advice.explain_note = "no real sample of the statement (only its normalized text)"
        else:
            check = explainable(wc.sample)
            if not check.ok:
                advice.explain_note = check.reason
            elif wc.plan is not None:
                advice.plan = wc.plan  # explained by the caller already (mqa explain --analyze)
            elif server is None:
                advice.explain_note = "no server to run EXPLAIN on (the schema comes from a file)"
            elif gone is not None:
                advice.explain_note = f"not explained: {gone}"
            else:
                try:
                    failpoint("advise.explain")
                    advice.plan = wc.plan = explain(server, wc.sample, database=wc.database)
                except ServerGoneError as exc:
                    gone = advice.explain_note = str(exc)
                except AnalyzerError as exc:
                    advice.explain_note = str(exc)
            try:
                advice.shape = analyze_query(wc.sample, catalog=scoped, default_schema=wc.database)
            except AnalyzerError as exc:
                advice.explain_note = advice.explain_note or str(exc)
            context = CheckContext(
                wc.sample,
                advice.shape,
                advice.plan,
                scoped,
                _facts(wc) if with_facts else None,
                wc.class_id,
                wc.database,
            )
            advice.findings = run_checks(context)
        results.append(advice)
    indexes = advise_indexes(chosen, catalog, max_per_table=max_per_table, workload=ranked)
    if catalog.source != "live":
        notes.append(
            "schema from a file: no row counts or cardinalities, suggestions are unverified estimates "
            "from the workload's rows examined"
        )
    if top and len(ranked) > top:
        notes.append(f"advised the top {top} of {len(ranked)} classes by total time (--top)")
    if gone is not None:
        explained = sum(1 for r in results if r.plan is not None)
        notes.append(
            f"partial: the server went away after {explained} of {len(results)} classes were explained ({gone})"
        )
    return Advice(results, indexes, notes, unadvised=list(ranked[len(chosen) :]), interrupted=gone)
