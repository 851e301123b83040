"""``mqa history``: the stored runs, one class's trend over them, and reports merged by period
from the stored accumulators (no log is read again).

A run belongs to the period (day, ISO week, month, in UTC or ``--tz``) in which its first event
is; a run without events to the one in which it finished.  Merging is exact: counts, sums,
minimums and maximums, histograms, time-lines and the percentile sketches of a week of hourly
runs are those of one digest of the week's logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from analyzer.digest.state import merge_results
from analyzer.errors import InputError
from analyzer.history.store import HistoryStore, RunInfo
from analyzer.model import DigestResult

PERIODS = ("daily", "weekly", "monthly")


def period_of(run: RunInfo, kind: str, tz: tzinfo | None = None) -> str:
    """``2026-12-06`` (daily), ``2026-W49`` (weekly, ISO), ``2026-12`` (monthly)."""
    if run.span_start is not None:
        when = datetime.fromtimestamp(run.span_start, tz or timezone.utc)
    else:
        when = datetime.fromisoformat(run.finished_at).astimezone(tz or timezone.utc)
    if kind == "daily":
        return when.strftime("%Y-%m-%d")
    if kind == "weekly":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "monthly":
        return when.strftime("%Y-%m")
    raise InputError(f"unknown period {kind!r}: choose one of {', '.join(PERIODS)}")


@dataclass
class Period:
    key: str
    runs: list[RunInfo]  # oldest first

    @property
    def events(self) -> int:
        return sum(r.events for r in self.runs)

    @property
    def query_time(self) -> float:
        return sum(r.query_time for r in self.runs)


def periods(store: HistoryStore, kind: str, *, label: str | None = None, tz: tzinfo | None = None) -> list[Period]:
    """The runs grouped by period, oldest period first."""
    grouped: dict[str, list[RunInfo]] = {}
    for run in sorted(store.runs(label=label), key=lambda r: r.id):
        grouped.setdefault(period_of(run, kind, tz), []).append(run)
    return [Period(key, runs) for key, runs in sorted(grouped.items())]


def merged(store: HistoryStore, period: Period) -> DigestResult:
    """One digest of the period's runs, from their stored accumulators."""
    results = [store.run_result(r.id) for r in period.runs]
    if not results:
        raise InputError(f"period {period.key} has no runs")
    out = merge_results(results)
    out.notes.append(f"merged from {len(results)} runs ({', '.join(str(r.id) for r in period.runs)}) of {period.key}")
    return out


@dataclass
class TrendPoint:
    run: RunInfo
    calls: int
    query_time: float
    avg: float | None
    p95: float | None
    rows_examined: float | None

    @property
    def calls_per_second(self) -> float | None:
        return self.calls / self.run.seconds if self.run.seconds else None

    @property
    def rows_per_call(self) -> float | None:
        return self.rows_examined / self.calls if self.rows_examined is not None and self.calls else None


def class_trend(
    store: HistoryStore, class_id: str, *, label: str | None = None, runs: int = 30
) -> tuple[str, list[TrendPoint]]:
    """The class's figures in the last ``runs`` runs (oldest first; runs without it show 0
    calls), and its fingerprint.  ``class_id`` may be a prefix of at least 6 characters."""
    chosen = sorted(store.runs(label=label, limit=runs), key=lambda r: r.id)
    if not chosen:
        raise InputError(f"{store.description}: no runs" + (f" of label {label!r}" if label else ""))
    known = store.class_info()
    matches = (
        [c for c in known if c.startswith(class_id)]
        if len(class_id) >= 6
        else ([class_id] if class_id in known else [])
    )
    if not matches:
        raise InputError(
            f"class {class_id!r} is in no stored run (mqa history lists the runs; ids are in every report)"
        )
    if len(matches) > 1:
        raise InputError(f"class id {class_id!r} is ambiguous: {', '.join(sorted(matches)[:5])}")
    full = matches[0]
    rows = {r[0]: r for r in store.class_figures([r.id for r in chosen]) if r[1] == full}
    points = []
    for run in chosen:
        row = rows.get(run.id)
        if row is None:
            points.append(TrendPoint(run, 0, 0.0, None, None, None))
        else:
            points.append(TrendPoint(run, int(row[2]), float(row[3]), row[4], row[5], row[6]))
    return full, points
