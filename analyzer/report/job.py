"""The report model of ``mqa report``: one document with every section a scheduled job produces,
each saying where its data came from.

- the run: its id and label in the history, the baseline it is compared with, the thresholds
  crossed;
- the changes since the baseline (a ``DiffReport``);
- the digest of what the run read (every class: the JSON is for machines, the terminal and
  Markdown show the top ``--limit``);
- with a server: the advised classes' plans and findings, index suggestions, index health.

Its JSON is the digest contract (``schema_version: 1``) with every class, the advisor's
``findings`` and ``index_suggestions``, and the extensions ``run``, ``provenance``,
``comparison`` (the ``mqa diff`` document), ``health`` (the ``mqa indexes`` document) and
``classes[].plan`` (the index and access type of each explained class).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from analyzer.jobs.report import JobResult
from analyzer.report.advice import AdviceReport, advice_document, build_advice_report
from analyzer.report.diff import DiffReport, build_diff_report
from analyzer.report.digest import Report, build_report
from analyzer.report.health import HealthReport, build_health_report


@dataclass
class JobReport:
    title: str
    label: str
    run_id: int | None
    history: str | None
    baseline: str  # what the comparison is against, in words
    provenance: dict[str, str]
    digest: Report  # every class
    shown: Report  # the top --limit, for the terminal and Markdown
    diff: DiffReport | None
    advice: AdviceReport | None
    health: HealthReport | None
    crossed: list[str] = field(default_factory=list)  # --fail-on thresholds crossed, one line each
    notes: list[str] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json_dict(self) -> dict[str, Any]:
        return self.document


def build_job_report(
    job: JobResult,
    *,
    limit: int | None = 20,
    order_by: str = "total",
    tz: tzinfo | None = None,
    crossed: list[str] | None = None,
) -> JobReport:
    """The model of a finished job (``job.run_id`` set once it is saved)."""
    spec = job.spec
    title = f"mqa report ({spec.label})"
    digest = build_report(
        job.result,
        order_by=order_by,
        limit=None,
        title="What this run read",
        tz=tz,
        command=spec.command,
        group_by=spec.views.group_by,
    )
    shown = copy.copy(digest)
    shown.classes = digest.classes[:limit] if limit else digest.classes
    diff = build_diff_report(job.comparison, title="Changes since the baseline") if job.comparison is not None else None
    advice = None
    if job.advice is not None:
        advice = build_advice_report(
            job.advice,
            title="Plans, findings and index suggestions",
            subtitle=job.provenance.get("plans", ""),
            command="advise",
            report=None,
            details=5,
            invocation=spec.command,
        )
    health = None
    if job.health is not None:
        health = build_health_report(job.health, job.provenance.get("health", ""), invocation=spec.command)
    baseline = job.provenance.get("baseline", "none: no --history")
    crossed = list(crossed or [])
    document = _document(job, digest, health, crossed)
    return JobReport(
        title=title,
        label=spec.label,
        run_id=job.run_id,
        history=job.history,
        baseline=baseline,
        provenance=dict(job.provenance),
        digest=digest,
        shown=shown,
        diff=diff,
        advice=advice,
        health=health,
        crossed=crossed,
        notes=list(job.notes),
        document=document,
    )


def _document(job: JobResult, digest: Report, health: HealthReport | None, crossed: list[str]) -> dict[str, Any]:
    if job.advice is not None:
        doc = advice_document(job.advice, report=digest, command="report")
    else:
        doc = digest.to_json_dict()
    plans = job.snapshot.plans
    if plans:
        for c in doc["classes"]:
            p = plans.get(c["id"])
            if p is not None:
                c["plan"] = {"table": p.table, "key": p.key, "access": p.access, "rows": p.rows}
    doc["run"] = {
        "id": job.run_id,
        "label": job.spec.label,
        "history": job.history,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }
    doc["summary"]["seconds"] = job.snapshot.seconds
    doc["summary"]["notes"] = list(doc["summary"].get("notes", [])) + [
        n for n in job.notes if n not in doc["summary"].get("notes", [])
    ]
    doc["provenance"] = dict(job.provenance)
    if job.comparison is not None:
        comparison = job.comparison.to_json()
        comparison.pop("schema_version", None)
        doc["comparison"] = comparison
    else:
        doc["comparison"] = None
    if health is not None:
        doc["health"] = health.to_json_dict()
    doc["fail_on"] = crossed
    return doc
