"""``mqa report``: the job a cron line, a systemd timer or a CI step runs.

    job = run_report_job(spec, store=store, server=server)   # read, measure, advise, compare
    ... render job (analyzer.report.job), write the outputs to temporary files ...
    run_id = save_run(job, store, retention)                  # one transaction
    ... rename the outputs into place; exit by job.crossed(thresholds) ...

Every section of the result says where its data came from (``provenance``): which logs and from
which byte, which performance_schema window, which server the plans and index checks are from,
and which run is the baseline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from analyzer import __version__
from analyzer.digest.filters import EventFilter
from analyzer.digest.views import Views
from analyzer.errors import AnalyzerError, InputError, UsageError
from analyzer.history.compare import (
    ClassFigures,
    Comparison,
    Guards,
    Snapshot,
    Threshold,
    compare,
)
from analyzer.history.positions import FileRead, IncrementalPlan, digest_new
from analyzer.history.store import FindingFacts, HistoryStore, PlanFacts, Retention, RunInfo, RunRecord
from analyzer.model import DigestResult
from analyzer.stats import GroupStats

DEFAULT_LABEL = "default"


@dataclass
class ReportSpec:
    """What ``mqa report`` was asked to do."""

    logs: list[str]
    window: float | None = None  # seconds of performance_schema, or None
    label: str = DEFAULT_LABEL
    baseline: str = "previous"  # previous | LABEL | RUN_ID
    mode: str = "sqlglot"
    event_filter: EventFilter | None = None
    top: int = 20  # classes explained and advised (with a server)
    database: str | None = None
    health: bool = True  # index-health checks (with a server)
    guards: Guards = field(default_factory=Guards)
    command: str = ""
    views: Views = field(default_factory=Views)


@dataclass
class JobResult:
    spec: ReportSpec
    result: DigestResult
    started_at: str
    finished_at: str
    reads: list[FileRead]
    snapshot: Snapshot
    advice: Any = None  # analyzer.advisor.workload.Advice
    health: Any = None  # analyzer.advisor.health.IndexReport
    baseline: Snapshot | None = None
    comparison: Comparison | None = None
    provenance: dict[str, str] = field(default_factory=dict)
    plan: IncrementalPlan | None = None
    history: str | None = None  # the store's description
    run_id: int | None = None  # set by save_run
    notes: list[str] = field(default_factory=list)
    interrupted: str | None = None  # the server went away: the run is partial (marked), exit 2

    def crossed(self, thresholds: Sequence[Threshold]) -> list[str]:
        """One line per threshold crossed: ``p95_regression>50%: 2 classes: ...``."""
        out = []
        for t in thresholds:
            why = t.crossed(self.snapshot, self.comparison)
            if why:
                out.append(f"{t.text}: {why}")
        return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_report_job(
    spec: ReportSpec,
    *,
    store: HistoryStore | None = None,
    server: Any = None,
    progress: Callable[[int, int | None], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> JobResult:
    """Read (only what is new, with a history), measure, advise and check (with a server), and
    compare with the baseline.  Nothing is saved: ``save_run`` does that."""
    from analyzer.digest import digest_logs

    if not spec.logs and spec.window is None:
        raise UsageError("give the slow logs to read (LOG...), or --window DURATION with a server")
    if spec.window is not None and server is None:
        raise UsageError("--window needs a server (connection options)")
    started_at = _now()
    provenance: dict[str, str] = {}
    notes: list[str] = []
    reads: list[FileRead] = []
    plan = None
    result: DigestResult | None = None
    if spec.logs:
        if store is not None:
            from analyzer.digest.state import is_state_file

            stored = next((p for p in spec.logs if is_state_file(p)), None)
            if stored is not None:
                raise UsageError(
                    f"{stored}: a state file is a digest, read whole; --history reads only the new events of logs: "
                    "report state files without --history"
                )
            plan = IncrementalPlan(store.positions(spec.label))
            result, reads = digest_new(
                spec.logs, plan, mode=spec.mode, event_filter=spec.event_filter, progress=progress
            )
            provenance["logs"] = "; ".join(_describe_read(r) for r in reads)
        else:
            result = digest_logs(
                spec.logs,
                mode=spec.mode,
                event_filter=spec.event_filter,
                progress=progress,
                jobs=None,
                views=spec.views,
            )
            provenance["logs"] = "; ".join(f"{p}: read whole (no --history)" for p in spec.logs)
    if spec.window is not None:
        from analyzer.advisor.session import watch_window
        from analyzer.digest.combine import combine

        window = watch_window(server, spec.window, sleep=sleep)
        provenance["window"] = f"performance_schema of {server.description}, {spec.window:g} s"
        result = combine(window, result) if result is not None else window
    assert result is not None
    advice = health = None
    interrupted: str | None = None
    if server is not None:
        from analyzer.sources.db import ServerGoneError

        try:
            advice, health = _advise(spec, server, result, provenance, notes)
        except ServerGoneError as exc:  # keep what was read; say what is missing
            interrupted = str(exc)
            provenance["plans"] = f"none: the server went away ({exc})"
            notes.append("partial: no plans, advice or index checks: the server went away")
        else:
            interrupted = advice.interrupted
    snapshot = snapshot_from_result(result, "this run", spec.label, advice=advice, health=health)
    baseline = None
    comparison = None
    if store is not None:
        base_run = _baseline_run(store, spec)
        if base_run is not None and not snapshot.events:
            provenance["baseline"] = f"run {base_run.id} ({base_run.label}); not compared: this run read no new events"
        elif base_run is not None:
            baseline = snapshot_from_run(store, base_run)
            compared = snapshot
            if server is not None and advice is not None:
                compared = _replanned(snapshot, baseline, advice, server, provenance)
            comparison = compare(baseline, compared, spec.guards)
            # the run is stored with the plans it was compared by, so that `mqa diff` of two stored
            # runs says what this report said, and the next run re-explains the same statements
            snapshot = replace(snapshot, plans={**snapshot.plans, **compared.plans})
            provenance["baseline"] = f"run {base_run.id} ({base_run.label}, {base_run.finished_at})"
        else:
            provenance["baseline"] = "none: the first run of this label"
    return JobResult(
        spec,
        result,
        started_at,
        _now(),
        reads,
        snapshot,
        advice,
        health,
        baseline,
        comparison,
        provenance,
        plan,
        store.description if store is not None else None,
        notes=notes,
        interrupted=interrupted,
    )


def _describe_read(r: FileRead) -> str:
    if r.path == "-":
        return "stdin: read whole (no identity to resume from)"
    what = f"{r.path}: bytes {r.started_at:,} to {r.read_to:,}"
    if r.matched is not None and r.matched.path != r.summary.name and r.matched.path:
        what += f" (continues {r.matched.path})"
    elif r.matched is None:
        what += " (new content)"
    if r.held_back:
        what += "; an unfinished event at the end is left for the next run"
    return what


def _advise(spec: ReportSpec, server: Any, result: DigestResult, provenance: dict[str, str], notes: list[str]):
    from analyzer.advisor.health import check_indexes
    from analyzer.advisor.session import load_catalog, workload_database
    from analyzer.advisor.workload import advise, workload_from_result

    classes = workload_from_result(result)
    database = workload_database(classes, spec.database)
    schemas = sorted({wc.database for wc in classes if wc.database} | ({spec.database} if spec.database else set()))
    catalog, _ = load_catalog(server=server, database=database, schemas=schemas or None)
    for wc in classes:
        wc.database = wc.database or database
    advice = advise(classes, catalog=catalog, server=server, top=spec.top or None)
    provenance["plans"] = f"EXPLAIN on {server.description} of the top {spec.top or len(classes)} classes' samples"
    health = None
    if advice.interrupted:
        notes.append("index checks skipped: the server went away")
    elif spec.health and schemas:
        with server.translate_errors("reading index metadata"):
            health = check_indexes(server, schemas)
        provenance["health"] = f"index checks on {server.description}: {', '.join(schemas)}"
    elif spec.health:
        notes.append("index checks skipped: no database in the workload (give -D)")
    return advice, health


def _replanned(
    snapshot: Snapshot, baseline: Snapshot, advice: Any, server: Any, provenance: dict[str, str]
) -> Snapshot:
    """This run's snapshot with, for the classes the baseline explained, the plan of the very
    statement the baseline explained, explained again now: a plan change then means the server
    chose differently (an index, the statistics), never that another sample came along."""
    from analyzer.sources.explain import explain

    databases = {ca.wc.class_id: ca.wc.database for ca in advice.classes}
    plans = {}
    for class_id, base in baseline.plans.items():
        if class_id not in snapshot.classes or not base.statement:
            continue
        try:
            with server.translate_errors("explaining the baseline's statements"):
                plan = explain(server, base.statement, database=databases.get(class_id))
        except AnalyzerError:  # a statement that no longer explains (a table gone): no plan to compare
            continue
        plans[class_id] = plan_facts(class_id, plan)
    provenance["plan changes"] = (
        f"the baseline's {len(plans)} explained statements explained again on {server.description}"
    )
    return replace(snapshot, plans=plans)


def _baseline_run(store: HistoryStore, spec: ReportSpec) -> RunInfo | None:
    choice = spec.baseline
    if choice == "previous":
        return store.latest(spec.label)
    if choice.isdigit():
        return store.run(int(choice))
    run = store.latest(choice)
    if run is None:
        raise InputError(f"--baseline {choice!r}: no run with that label and no run with that id")
    return run


# --------------------------------------------------------------------------------------------
# Snapshots
# --------------------------------------------------------------------------------------------


def plan_facts(class_id: str, plan: Any) -> PlanFacts:
    """A plan summed up for comparisons: the tables in join order with the index each used."""
    tables = [t for t in plan.tables if not t.internal]
    key = ",".join(f"{t.table}:{t.key or '-'}" for t in tables) or None
    access = ",".join(t.access_type or "-" for t in tables) or None
    return PlanFacts(
        class_id, key, access, plan.rows_examined_estimate, tables[0].table if tables else None, plan.statement or None
    )


def _figures(class_id: str, fingerprint: str, stats: GroupStats, distribution: GroupStats | None) -> ClassFigures:
    qt = stats.metrics.get("query_time")
    p95 = None
    if qt is not None and qt.has_distribution:
        p95 = qt.quantile(0.95)
    elif distribution is not None and "query_time" in distribution.metrics:
        p95 = distribution.metrics["query_time"].quantile(0.95)
    rx = stats.metrics.get("rows_examined")
    return ClassFigures(
        class_id,
        fingerprint,
        stats.count,
        stats.total("query_time"),
        qt.avg if qt is not None else None,
        p95,
        rx.total if rx is not None else None,
    )


def snapshot_from_result(
    result: DigestResult, name: str, label: str | None, *, advice: Any = None, health: Any = None
) -> Snapshot:
    totals = result.totals
    start, end = totals.first_ts, totals.last_ts
    classes = {c.id: _figures(c.id, c.fingerprint, c.stats, c.distribution) for c in result.classes if not c.admin}
    plans = {}
    findings: list[FindingFacts] = []
    if advice is not None:
        for ca in advice.classes:
            if ca.plan is not None:
                plans[ca.wc.class_id] = plan_facts(ca.wc.class_id, ca.plan)
        findings += [FindingFacts(f.class_id, f.check, f.severity, f.message) for f in advice.findings]
    if health is not None:
        findings += [FindingFacts(None, f.check, f.severity, f.message) for f in health.findings]
    return Snapshot(
        name=name,
        label=label,
        start=_iso(start),
        end=_iso(end),
        seconds=max(1.0, end - start) if start is not None and end is not None else None,
        events=totals.count,
        query_time=totals.total("query_time"),
        classes=classes,
        plans=plans,
        findings=findings,
    )


def snapshot_from_run(store: HistoryStore, run: RunInfo) -> Snapshot:
    rows = store.class_figures([run.id])
    info = store.class_info([r[1] for r in rows])
    classes = {
        r[1]: ClassFigures(r[1], info.get(r[1], ("", "", []))[0], int(r[2]), float(r[3]), r[4], r[5], r[6])
        for r in rows
    }
    return Snapshot(
        name=f"run {run.id} ({run.label})",
        label=run.label,
        start=_iso(run.span_start),
        end=_iso(run.span_end),
        seconds=run.seconds,
        events=run.events,
        query_time=run.query_time,
        classes=classes,
        plans=store.plans(run.id),
        findings=store.findings(run.id),
        run_id=run.id,
    )


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


# --------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------


def save_run(
    job: JobResult,
    store: HistoryStore,
    retention: Retention | None = None,
    before_commit: Callable[[int], None] | None = None,
) -> int:
    """The run, its classes, plans, findings and log positions, in one transaction;
    ``before_commit(run_id)`` runs inside it (``job.run_id`` is set by then)."""
    plans = list(job.snapshot.plans.values())
    record = RunRecord(
        label=job.spec.label,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=job.result,
        command=job.spec.command,
        tool_version=__version__,
        span=(job.result.totals.first_ts, job.result.totals.last_ts),
        plans=plans,
        findings=list(job.snapshot.findings),
        positions=job.plan.to_save() if job.plan is not None else [],
        started_from=list(job.plan.started_from.values()) if job.plan is not None else [],
        known_positions={p.key: (p.offset, p.run_id) for p in job.plan.stored} if job.plan is not None else {},
    )

    def numbered(run_id: int) -> None:
        job.run_id = run_id
        if before_commit is not None:
            before_commit(run_id)

    try:
        return store.save_run(record, retention, numbered)
    except BaseException:
        job.run_id = None
        raise
