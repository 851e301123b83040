"""The report model of a comparison: ``mqa diff`` and the "changes since the baseline" section
of ``mqa report``.  Its JSON is the ``mqa diff`` contract (``schema_version: 1``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analyzer.history.compare import Comparison

METRIC_NAMES = {
    "p95": "p95 time",
    "avg": "avg time",
    "rows_examined_per_call": "rows examined / call",
    "calls_per_second": "calls / s",
}


@dataclass
class SideView:
    name: str
    label: str | None
    start: str | None
    end: str | None
    events: int
    query_time: float
    seconds: float | None
    run_id: int | None


@dataclass
class ChangeView:
    class_id: str
    fingerprint: str
    metric: str  # p95 | avg | rows_examined_per_call | calls_per_second
    base: float
    new: float
    change: float

    @property
    def is_time(self) -> bool:
        return self.metric in ("p95", "avg")


@dataclass
class ClassView:
    class_id: str
    fingerprint: str
    count: int
    query_time: float


@dataclass
class PlanChangeView:
    class_id: str
    fingerprint: str
    table: str | None
    base_key: str | None
    new_key: str | None
    base_access: str | None
    new_access: str | None


@dataclass
class DiffReport:
    title: str
    base: SideView
    new: SideView
    regressions: list[ChangeView]
    improvements: list[ChangeView]
    new_classes: list[ClassView]
    vanished_classes: list[ClassView]
    plan_changes: list[PlanChangeView]
    guards: str  # the noise guards, in words
    notes: list[str] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json_dict(self) -> dict[str, Any]:
        return self.document

    @property
    def quiet(self) -> bool:
        return not (self.regressions or self.new_classes or self.vanished_classes or self.plan_changes)


def _side(s: Any) -> SideView:
    return SideView(s.name, s.label, s.start, s.end, s.events, s.query_time, s.seconds, s.run_id)


def build_diff_report(comparison: Comparison, *, title: str = "mqa diff") -> DiffReport:
    g = comparison.guards
    guards = (
        f"a change counts when the class ran at least {g.min_calls} times in both, and moved by at least "
        f"{g.min_relative:.0%} and {g.min_seconds * 1000:g} ms (avg, p95), {g.min_relative:.0%} and "
        f"{g.min_rows:g} rows (rows examined per call), or {g.min_rate_relative:.0%} (calls per second)"
    )
    notes = []
    if comparison.base.seconds is None or comparison.new.seconds is None:
        notes.append("calls per second not compared: one side has no time span")
    return DiffReport(
        title=title,
        base=_side(comparison.base),
        new=_side(comparison.new),
        regressions=[
            ChangeView(c.class_id, c.fingerprint, c.metric, c.base, c.new, c.change) for c in comparison.regressions
        ],
        improvements=[
            ChangeView(c.class_id, c.fingerprint, c.metric, c.base, c.new, c.change) for c in comparison.improvements
        ],
        new_classes=[ClassView(c.class_id, c.fingerprint, c.calls, c.query_time) for c in comparison.new_classes],
        vanished_classes=[
            ClassView(c.class_id, c.fingerprint, c.calls, c.query_time) for c in comparison.vanished_classes
        ],
        plan_changes=[
            PlanChangeView(p.class_id, p.fingerprint, p.table, p.base_key, p.new_key, p.base_access, p.new_access)
            for p in comparison.plan_changes
        ],
        guards=guards,
        notes=notes,
        document=comparison.to_json(),
    )
