"""Comparing two runs or reports, class by class, and the ``--fail-on`` thresholds.

Runs cover windows of different lengths (an hourly job, a load test, a week), so the comparison
uses per-execution figures (average and p95 query time, rows examined per call) and rates (calls
per second, query time per second), never raw totals.  A change counts only past the noise
guards (``Guards``): the class ran at least 30 times in both runs, and the change is at least 20%
(50% for calls per second) and, in absolute terms, at least 1 ms (times) or 10 rows per call.

>>> g = Guards()
>>> g.counts("p95", 0.010, 0.030, calls=(500, 480))  # 10 ms -> 30 ms, often enough
True
>>> g.counts("p95", 0.0001, 0.0005, calls=(500, 480))  # +400%, but 0.4 ms: noise
False
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analyzer.errors import UsageError
from analyzer.history.store import FindingFacts, PlanFacts

METRICS = ("p95", "avg", "rows_examined_per_call", "calls_per_second")
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Guards:
    """When a change is a change, not noise."""

    min_calls: int = 30  # in both runs
    min_relative: float = 0.20  # per-execution figures
    min_rate_relative: float = 0.50  # calls per second
    min_seconds: float = 0.001  # absolute change of avg or p95
    min_rows: float = 10.0  # absolute change of rows examined per call
    min_rate: float = 0.01  # absolute change of calls per second

    def counts(self, metric: str, base: float, new: float, *, calls: tuple[int, int]) -> bool:
        """Is the move from ``base`` to ``new`` (either way) past the guards?"""
        if min(calls) < self.min_calls or base is None or new is None:
            return False
        if base <= 0:
            return False
        relative = abs(new - base) / base
        if metric == "calls_per_second":
            return relative >= self.min_rate_relative and abs(new - base) >= self.min_rate
        floor = self.min_rows if metric == "rows_examined_per_call" else self.min_seconds
        return relative >= self.min_relative and abs(new - base) >= floor


@dataclass
class ClassFigures:
    class_id: str
    fingerprint: str
    calls: int
    query_time: float
    avg: float | None
    p95: float | None
    rows_examined: float | None


@dataclass
class Snapshot:
    """One side of a comparison: a run, a report file, or the run being made."""

    name: str  # what the reader calls it: "run 12 (hourly)", a file name
    label: str | None
    start: str | None
    end: str | None
    seconds: float | None  # the events' span, for rates (None: unknown, no rates)
    events: int
    query_time: float
    classes: dict[str, ClassFigures]
    plans: dict[str, PlanFacts] = field(default_factory=dict)
    findings: list[FindingFacts] = field(default_factory=list)
    run_id: int | None = None

    def meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "start": self.start, "end": self.end, "events": self.events}
        out["name"] = self.name
        if self.run_id is not None:
            out["run_id"] = self.run_id
        out["seconds"] = self.seconds
        out["query_time_total"] = self.query_time
        return out


@dataclass
class Change:
    class_id: str
    fingerprint: str
    metric: str
    base: float
    new: float
    change: float  # (new - base) / base

    def to_json(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "fingerprint": self.fingerprint,
            "metric": self.metric,
            "base": _round(self.base),
            "new": _round(self.new),
            "change": round(self.change, 4),
        }


@dataclass
class PlanChange:
    class_id: str
    fingerprint: str
    base_key: str | None
    new_key: str | None
    base_access: str | None
    new_access: str | None
    table: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "fingerprint": self.fingerprint,
            "base_key": self.base_key,
            "new_key": self.new_key,
            "base_access": self.base_access,
            "new_access": self.new_access,
            "table": self.table,
        }


@dataclass
class Comparison:
    base: Snapshot
    new: Snapshot
    guards: Guards
    new_classes: list[ClassFigures]
    vanished_classes: list[ClassFigures]
    regressions: list[Change]
    improvements: list[Change]
    plan_changes: list[PlanChange]
    common: list[dict[str, Any]]  # per class in both: base and new figures (for tables)

    def to_json(self) -> dict[str, Any]:
        """The ``mqa diff`` document (``schema_version`` 1)."""
        return {
            "schema_version": 1,
            "base": self.base.meta(),
            "new": self.new.meta(),
            "new_classes": [_class_json(c) for c in self.new_classes],
            "vanished_classes": [_class_json(c) for c in self.vanished_classes],
            "regressions": [c.to_json() for c in self.regressions],
            "improvements": [c.to_json() for c in self.improvements],
            "plan_changes": [p.to_json() for p in self.plan_changes],
            "guards": {
                "min_calls": self.guards.min_calls,
                "min_relative_change": self.guards.min_relative,
                "min_rate_relative_change": self.guards.min_rate_relative,
                "min_time_change_seconds": self.guards.min_seconds,
                "min_rows_change": self.guards.min_rows,
            },
        }

    @property
    def regressed_classes(self) -> list[str]:
        return list(dict.fromkeys(c.class_id for c in self.regressions))


def _class_json(c: ClassFigures) -> dict[str, Any]:
    return {
        "class_id": c.class_id,
        "fingerprint": c.fingerprint,
        "count": c.calls,
        "query_time_sum": _round(c.query_time),
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def compare(base: Snapshot, new: Snapshot, guards: Guards | None = None) -> Comparison:
    """New and vanished classes, regressions and improvements past the guards, plan changes."""
    import pandas as pd

    guards = guards or Guards()
    columns = ["class_id", "fingerprint", "calls", "query_time", "avg", "p95", "rows_examined"]

    def frame(s: Snapshot) -> pd.DataFrame:
        rows = [
            (c.class_id, c.fingerprint, c.calls, c.query_time, c.avg, c.p95, c.rows_examined)
            for c in s.classes.values()
        ]
        df = pd.DataFrame(rows, columns=columns).set_index("class_id")
        df["rows_examined_per_call"] = df["rows_examined"] / df["calls"].where(df["calls"] > 0)
        df["calls_per_second"] = df["calls"] / s.seconds if s.seconds else float("nan")
        df["time_per_second"] = df["query_time"] / s.seconds if s.seconds else float("nan")
        return df

    b, n = frame(base), frame(new)
    both = b.merge(n, how="inner", left_index=True, right_index=True, suffixes=("_base", "_new"))
    new_ids = n.index.difference(b.index)
    gone_ids = b.index.difference(n.index)
    new_classes = sorted((new.classes[i] for i in new_ids), key=lambda c: -c.query_time)
    vanished = sorted((base.classes[i] for i in gone_ids), key=lambda c: -c.query_time)
    regressions: list[Change] = []
    improvements: list[Change] = []
    common: list[dict[str, Any]] = []
    for class_id, row in both.iterrows():
        calls = (int(row["calls_base"]), int(row["calls_new"]))
        entry: dict[str, Any] = {"class_id": class_id, "fingerprint": row["fingerprint_new"], "calls": calls}
        for metric in METRICS:
            bv, nv = _value(row[f"{metric}_base"]), _value(row[f"{metric}_new"])
            entry[metric] = (bv, nv)
            if bv is None or nv is None or not guards.counts(metric, bv, nv, calls=calls):
                continue
            change = Change(str(class_id), row["fingerprint_new"], metric, bv, nv, (nv - bv) / bv)
            (regressions if nv > bv else improvements).append(change)
        entry["time_per_second"] = (_value(row["time_per_second_base"]), _value(row["time_per_second_new"]))
        common.append(entry)
    regressions.sort(key=lambda c: -c.change)
    improvements.sort(key=lambda c: c.change)
    plan_changes = []
    for class_id in sorted(set(base.plans) & set(new.plans)):
        p, q = base.plans[class_id], new.plans[class_id]
        if (p.key, p.access) != (q.key, q.access):
            fingerprint = (
                new.classes.get(class_id)
                or base.classes.get(class_id)
                or ClassFigures(class_id, "", 0, 0, None, None, None)
            ).fingerprint
            plan_changes.append(PlanChange(class_id, fingerprint, p.key, q.key, p.access, q.access, q.table or p.table))
    common.sort(key=lambda e: -(e["time_per_second"][1] or 0))
    return Comparison(base, new, guards, new_classes, vanished, regressions, improvements, plan_changes, common)


def _value(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


# --------------------------------------------------------------------------------------------
# Snapshots from reports
# --------------------------------------------------------------------------------------------


def seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        a, b = datetime.fromisoformat(start), datetime.fromisoformat(end)
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return max(1.0, (b - a).total_seconds())
    except ValueError:
        return None


def snapshot_from_json(doc: dict[str, Any], name: str) -> Snapshot:
    """A report's JSON (``digest``, ``collect``, ``report``; ``schema_version`` 1) as a snapshot."""
    from analyzer.errors import InputError

    if not isinstance(doc, dict) or doc.get("schema_version") != 1 or "classes" not in doc or "summary" not in doc:
        raise InputError(f"{name}: not an mqa report (JSON with schema_version 1, summary and classes)")
    summary = doc["summary"]
    classes = {}
    plans = {}
    for c in doc["classes"]:
        qt = c.get("metrics", {}).get("query_time", {})
        rx = c.get("metrics", {}).get("rows_examined")
        classes[c["id"]] = ClassFigures(
            c["id"],
            c.get("fingerprint", ""),
            int(c.get("count", 0)),
            float(qt.get("sum", 0.0)),
            qt.get("avg"),
            qt.get("p95") if c.get("metrics", {}).get("query_time", {}).get("p95") is not None else None,
            rx.get("sum") if rx else None,
        )
        plan = c.get("plan")
        if plan:
            plans[c["id"]] = PlanFacts(
                c["id"], plan.get("key"), plan.get("access"), plan.get("rows"), plan.get("table")
            )
    findings = [
        FindingFacts(f.get("class_id"), f.get("check", ""), f.get("severity", "info"), f.get("message", ""))
        for f in doc.get("findings", [])
    ]
    for f in (doc.get("health") or {}).get("findings", []):
        findings.append(FindingFacts(None, f.get("check", ""), f.get("severity", "info"), f.get("message", "")))
    run = doc.get("run") or {}
    return Snapshot(
        name=name,
        label=run.get("label"),
        start=summary.get("start"),
        end=summary.get("end"),
        seconds=summary.get("seconds") or seconds_between(summary.get("start"), summary.get("end")),
        events=int(summary.get("events", 0)),
        query_time=float(summary.get("query_time_total", 0.0)),
        classes=classes,
        plans=plans,
        findings=findings,
        run_id=run.get("id"),
    )


# --------------------------------------------------------------------------------------------
# --fail-on
# --------------------------------------------------------------------------------------------

FAIL_ON_GRAMMAR = (
    "p95_regression>P%, avg_regression>P%, rows_regression>P%, calls_regression>P%, regressions>N, "
    "new_classes>N, vanished_classes>N, plan_changes>N, total_time>DURATION (300s, 5m), "
    "finding>=info|warning|critical"
)
_EXPR = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|>)\s*([^\s]+)\s*$")
_PERCENT = {
    "p95_regression": "p95",
    "avg_regression": "avg",
    "rows_regression": "rows_examined_per_call",
    "calls_regression": "calls_per_second",
}
_COUNTS = {"regressions", "new_classes", "vanished_classes", "plan_changes"}


@dataclass(frozen=True)
class Threshold:
    """One ``--fail-on`` expression."""

    text: str
    name: str
    op: str
    value: Any

    @classmethod
    def parse(cls, text: str) -> Threshold:
        m = _EXPR.match(text)

        def bad(why: str) -> UsageError:
            return UsageError(f"--fail-on {text!r}: {why}; the expressions are: {FAIL_ON_GRAMMAR}")

        if not m:
            raise bad("not NAME>VALUE")
        name, op, raw = m.groups()
        if name in _PERCENT:
            if not raw.endswith("%"):
                raise bad("give the change in percent (50%)")
            try:
                value: Any = float(raw[:-1]) / 100.0
            except ValueError:
                raise bad("not a percentage") from None
        elif name in _COUNTS:
            if not raw.isdigit():
                raise bad("give a whole number")
            value = int(raw)
        elif name == "total_time":
            from analyzer.digest.filters import parse_duration

            try:
                value = parse_duration(raw)
            except Exception:
                raise bad("give a duration (300s, 5m, 2h)") from None
        elif name == "finding":
            if op != ">=" or raw not in SEVERITY_RANK:
                raise bad("write finding>=info, finding>=warning or finding>=critical")
            value = raw
        else:
            raise bad(f"unknown name {name!r}")
        return cls(text.strip(), name, op, value)

    @property
    def needs_baseline(self) -> bool:
        return self.name in _PERCENT or self.name in _COUNTS

    def crossed(self, new: Snapshot, comparison: Comparison | None) -> str | None:
        """Why the threshold is crossed (one line naming the classes), or None."""

        def over(x: float) -> bool:
            return x > self.value if self.op == ">" else x >= self.value

        if self.name in _PERCENT:
            if comparison is None:
                return None
            hits = _beyond(comparison, _PERCENT[self.name], over)
            hits.sort(key=lambda c: -c.change)
            if hits:
                shown = ", ".join(f"{c.class_id} ({c.metric} {c.change:+.0%})" for c in hits[:10])
                more = f" and {len(hits) - 10} more" if len(hits) > 10 else ""
                return f"{len(hits)} class{'es' if len(hits) != 1 else ''}: {shown}{more}"
            return None
        if self.name in _COUNTS:
            if comparison is None:
                return None
            items: list[str] = {
                "regressions": comparison.regressed_classes,
                "new_classes": [c.class_id for c in comparison.new_classes],
                "vanished_classes": [c.class_id for c in comparison.vanished_classes],
                "plan_changes": [
                    f"{p.class_id} ({p.base_key or p.base_access} -> {p.new_key or p.new_access})"
                    for p in comparison.plan_changes
                ],
            }[self.name]
            if over(len(items)):
                more = f" and {len(items) - 10} more" if len(items) > 10 else ""
                return f"{len(items)}: {', '.join(items[:10])}{more}"
            return None
        if self.name == "total_time":
            if over(new.query_time):
                return f"total query time {new.query_time:.3f}s"
            return None
        rank = SEVERITY_RANK[self.value]
        hits_f = [f for f in new.findings if SEVERITY_RANK.get(f.severity, 0) >= rank]
        if hits_f:
            shown = ", ".join(f"{f.check}" + (f" on {f.class_id}" if f.class_id else "") for f in hits_f[:10])
            return f"{len(hits_f)} finding{'s' if len(hits_f) != 1 else ''}: {shown}"
        return None


def _beyond(comparison: Comparison, metric: str, over) -> list[Change]:
    """The classes whose ``metric`` grew past the threshold (which replaces the 20% floor of
    ``regressions``), within the other guards."""
    out = []
    g = comparison.guards
    for entry in comparison.common:
        bv, nv = entry[metric]
        if bv is None or nv is None or bv <= 0 or nv <= bv or min(entry["calls"]) < g.min_calls:
            continue
        floor = (
            g.min_rows
            if metric == "rows_examined_per_call"
            else g.min_rate
            if metric == "calls_per_second"
            else g.min_seconds
        )
        change = (nv - bv) / bv
        if abs(nv - bv) >= floor and over(change):
            out.append(Change(entry["class_id"], entry["fingerprint"], metric, bv, nv, change))
    return out
