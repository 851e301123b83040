"""Report models of ``mqa history``: the runs, a class's trend over runs, the periods of a merge.
(A merged period and a stored run are rendered as the digest reports they are.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any

from analyzer import __version__
from analyzer.history.store import RunInfo
from analyzer.jobs.history import Period, TrendPoint


def _when(ts: float | None, tz: tzinfo | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz or timezone.utc).isoformat(timespec="seconds")


@dataclass
class RunRow:
    id: int
    label: str
    finished_at: str
    start: str | None
    end: str | None
    events: int
    classes: int
    query_time: float
    command: str


@dataclass
class RunsView:
    title: str
    history: str
    runs: list[RunRow]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "tool": {"name": "mqa", "version": __version__},
            "history": self.history,
            "runs": [r.__dict__ for r in self.runs],
        }


def runs_view(history: str, runs: list[RunInfo], tz: tzinfo | None = None) -> RunsView:
    rows = [
        RunRow(
            r.id,
            r.label,
            r.finished_at,
            _when(r.span_start, tz),
            _when(r.span_end, tz),
            r.events,
            r.classes,
            round(r.query_time, 6),
            r.command,
        )
        for r in runs
    ]
    return RunsView("mqa history", history, rows)


@dataclass
class TrendRow:
    run_id: int
    label: str
    start: str | None
    end: str | None
    calls: int
    calls_per_second: float | None
    query_time: float
    avg: float | None
    p95: float | None
    rows_examined_per_call: float | None


@dataclass
class TrendView:
    title: str
    history: str
    class_id: str
    fingerprint: str
    rows: list[TrendRow]
    series: dict[str, list[float | None]] = field(default_factory=dict)  # metric -> value per run

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "tool": {"name": "mqa", "version": __version__},
            "history": self.history,
            "class_id": self.class_id,
            "fingerprint": self.fingerprint,
            "runs": [r.__dict__ for r in self.rows],
        }


def trend_view(
    history: str, class_id: str, fingerprint: str, points: list[TrendPoint], tz: tzinfo | None = None
) -> TrendView:
    rows = [
        TrendRow(
            p.run.id,
            p.run.label,
            _when(p.run.span_start, tz),
            _when(p.run.span_end, tz),
            p.calls,
            p.calls_per_second,
            p.query_time,
            p.avg,
            p.p95,
            p.rows_per_call,
        )
        for p in points
    ]
    series = {
        "calls_per_second": [r.calls_per_second for r in rows],
        "avg": [r.avg for r in rows],
        "p95": [r.p95 for r in rows],
        "rows_examined_per_call": [r.rows_examined_per_call for r in rows],
    }
    return TrendView(f"mqa history: class {class_id}", history, class_id, fingerprint, rows, series)


@dataclass
class PeriodRow:
    period: str
    runs: list[int]
    first_run: str
    last_run: str
    events: int
    query_time: float


@dataclass
class PeriodsView:
    title: str
    history: str
    kind: str
    rows: list[PeriodRow]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "tool": {"name": "mqa", "version": __version__},
            "history": self.history,
            "merge": self.kind,
            "periods": [r.__dict__ for r in self.rows],
        }


def periods_view(history: str, kind: str, periods: list[Period]) -> PeriodsView:
    rows = [
        PeriodRow(
            p.key,
            [r.id for r in p.runs],
            p.runs[0].finished_at,
            p.runs[-1].finished_at,
            p.events,
            round(p.query_time, 6),
        )
        for p in periods
    ]
    return PeriodsView(f"mqa history --merge {kind}", history, kind, rows)
