"""Report models of the views beyond the classes: the profile by group (``--group-by``) and the
per-request figures of each route (statements and database time per request, the shapes an
endpoint repeats within one request)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analyzer.advisor.batching import advice as batching_advice
from analyzer.model import DigestResult
from analyzer.stats import MetricStats

REPEATED_AT = 2  # a shape counts as repeated when a request typically runs it this often (p50)
GROUP_CLASSES = 5  # classes listed per group


@dataclass
class GroupClass:
    class_id: str
    fingerprint: str
    count: int
    query_time: float


@dataclass
class GroupRow:
    rank: int
    by: str
    value: str
    count: int
    query_time: float
    share: float
    p95: float | None
    rows_examined_per_sent: float | None
    classes: list[GroupClass]  # the group's top classes by time
    class_count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "value": self.value,
            "count": self.count,
            "query_time_sum": round(self.query_time, 6),
            "share": round(self.share, 6),
            "p95": None if self.p95 is None else round(self.p95, 6),
            "rows_examined_per_sent": None
            if self.rows_examined_per_sent is None
            else round(self.rows_examined_per_sent, 4),
            "class_ids": [c.class_id for c in self.classes],
            "classes": self.class_count,
        }


@dataclass
class Spread:
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, m: MetricStats, whole: bool = False) -> Spread:
        """``whole``: counts (statements per request), shown as whole numbers."""
        values = (m.quantile(0.5), m.quantile(0.95), m.max if m.n else 0.0)
        return cls(*(float(round(v)) for v in values)) if whole else cls(*values)

    def to_json(self, digits: int = 6) -> dict[str, float]:
        return {"p50": round(self.p50, digits), "p95": round(self.p95, digits), "max": round(self.max, digits)}


@dataclass
class Repeated:
    class_id: str
    fingerprint: str
    p50: int  # statements of this shape per request (in the requests that run it)
    max: int
    requests: int  # requests that ran it
    fix: str

    def to_json(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "fingerprint": self.fingerprint,
            "per_request": {"p50": self.p50, "max": self.max},
            "requests": self.requests,
            "fix": self.fix,
        }


@dataclass
class RouteRow:
    route: str
    inferred: bool  # bursts of a connection, not requests with an id
    requests: int
    statements: Spread
    db_time: Spread
    db_time_total: float
    repeated: list[Repeated] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "requests": self.requests,
            "inferred": self.inferred,
            "statements_per_request": self.statements.to_json(0),
            "db_time_per_request": self.db_time.to_json(),
            "db_time_sum": round(self.db_time_total, 6),
            "repeated": [r.to_json() for r in self.repeated],
        }


def group_rows(result: DigestResult, total_time: float, by: str | None) -> list[GroupRow]:
    """The groups of a digest made with ``--group-by``, ranked by query time.  ``table`` (and
    ``db`` for a performance_schema window, whose digests are per schema) group whole classes."""
    if by is None:
        return []
    grouping = result.groups
    fingerprints = {c.id: c.fingerprint for c in result.classes}
    parts: dict[str, list[tuple[str, Any]]] = {}
    if by == "table" or grouping is None:
        from analyzer.digest.groups import NONE, GroupPart

        for c in result.classes:
            qt = c.stats.metrics.get("query_time")
            part = GroupPart(c.stats.count, MetricStats(), c.stats.total("rows_examined"), c.stats.total("rows_sent"))
            if qt is not None:
                part.query_time.merge(qt)
            if by == "table":
                main_db = c.stats.databases.most_common(1)[0][0] if c.stats.databases else None
                values = [t if "." in t or main_db is None else f"{main_db}.{t}" for t in c.info.tables] or [
                    "(no table)"
                ]
            else:
                values = [c.stats.databases.most_common(1)[0][0] if c.stats.databases else NONE]
            for value in values:
                parts.setdefault(value, []).append((c.id, part))
    else:
        for (value, class_id), part in grouping.parts.items():  # type: ignore[attr-defined]
            parts.setdefault(value, []).append((class_id, part))
    rows = []
    for value, members in parts.items():
        qt = MetricStats()
        count, examined, sent = 0, 0.0, 0.0
        for _, part in members:
            qt.merge(part.query_time)
            count += part.count
            examined += part.rows_examined
            sent += part.rows_sent
        members.sort(key=lambda m: (-m[1].query_time.total, m[0]))
        rows.append(
            GroupRow(
                0,
                by,
                value,
                count,
                qt.total,
                qt.total / total_time if total_time else 0.0,
                qt.quantile(0.95) if qt.n and qt.has_distribution else None,
                examined / sent if sent else None,
                [
                    GroupClass(cid, fingerprints.get(cid, ""), p.count, p.query_time.total)
                    for cid, p in members[:GROUP_CLASSES]
                ],
                len(members),
            )
        )
    rows.sort(key=lambda r: (-r.query_time, -r.count, r.value))
    for rank, row in enumerate(rows, 1):
        row.rank = rank
    return rows


def route_rows(result: DigestResult) -> list[RouteRow]:
    """Per route, what one request costs, and the shapes it repeats."""
    fingerprints = {c.id: c.fingerprint for c in result.classes}
    out = []
    for r in result.requests:
        repeated = []
        for class_id, per in r.shapes.items():
            p50 = round(per.quantile(0.5))
            if p50 < REPEATED_AT:
                continue
            fingerprint = fingerprints.get(class_id, str(class_id))
            repeated.append(
                Repeated(str(class_id), fingerprint, p50, round(per.max), per.n, batching_advice(fingerprint, p50))
            )
        repeated.sort(key=lambda x: (-x.p50, -x.max, x.class_id))
        out.append(
            RouteRow(
                r.route,
                r.inferred,
                r.requests,
                Spread.of(r.statements, whole=True),
                Spread.of(r.time),
                r.time.total,
                repeated,
            )
        )
    return out
