"""The report model: everything a renderer shows, computed once.

Renderers (terminal, Markdown, JSON, later HTML) only format what is here; nothing is
computed in a renderer.  ``to_json_dict()`` is the versioned JSON contract of DESIGN.md
(``schema_version: 1``); fields beyond the contract are extensions, never replacements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from analyzer import __version__
from analyzer.errors import UsageError
from analyzer.model import DigestResult, QueryClass
from analyzer.report.views import GroupRow, RouteRow, group_rows, route_rows
from analyzer.sources.slowlog import format_ts
from analyzer.stats import HISTOGRAM_LABELS, MetricStats, TimeBuckets

SCHEMA_VERSION = 1
ORDER_BY: dict[str, str] = {
    "total": "total query time",
    "count": "number of executions",
    "avg": "average query time",
    "p95": "95th percentile query time",
    "max": "slowest execution",
    "rows_examined": "total rows examined",
    "lock_time": "total lock time",
}
# Metrics shown first, in this order; the rest follow alphabetically.
_METRIC_ORDER = ("query_time", "lock_time", "rows_sent", "rows_examined", "rows_affected", "bytes_sent")


def is_time_metric(name: str) -> bool:
    """Seconds (floats) rather than counts."""
    return name.endswith(("_time", "_wait"))


@dataclass(frozen=True)
class MetricSummary:
    count: int
    sum: float
    min: float | None  # None: the source keeps sums only (performance_schema)
    max: float | None
    avg: float
    p50: float | None  # None: the source has no per-execution values (performance_schema)
    p95: float | None
    p99: float | None
    stddev: float | None
    kind: str  # "time" (seconds), "count", or "flag" (0/1 per event: sum = events flagged)

    @property
    def time(self) -> bool:
        return self.kind == "time"

    @classmethod
    def of(
        cls,
        name: str,
        acc: MetricStats,
        flag: bool = False,
        distribution: MetricStats | None = None,
        bounds: bool = True,
    ) -> MetricSummary:
        """Counts and sums from ``acc``; percentiles and spread from ``distribution`` when given
        (another source's executions of the class), else from ``acc`` when it has them.  Without
        ``bounds`` (``acc`` cannot know its minimum and maximum) they come from ``distribution``
        when it saw as many executions, else they are unknown."""
        kind = "flag" if flag else "time" if is_time_metric(name) else "count"
        spread = distribution if distribution is not None else acc
        if spread.n and spread.has_distribution:
            p50, p95, p99 = (spread.quantile(q) for q in (0.5, 0.95, 0.99))
            if kind != "time":  # counts: the sketch's relative error would show as 99.37 rows
                p50, p95, p99 = (float(round(p)) for p in (p50, p95, p99))
            stddev: float | None = spread.stddev
        else:
            p50 = p95 = p99 = stddev = None
        if bounds:
            low, high = acc.min, acc.max
        elif distribution is not None and distribution.n == acc.n:  # the other source saw every execution
            low, high = distribution.min, distribution.max
        else:
            low = high = None
        return cls(acc.n, acc.total, low, high, acc.avg, p50, p95, p99, stddev, kind)

    def to_json(self) -> dict[str, float | int | str | None]:
        def num(value: float | None) -> float | int | None:
            if value is None:
                return None
            if not self.time and float(value).is_integer():
                return int(value)
            return round(value, 6) if self.time else round(value, 4)

        return {
            "sum": num(self.sum),
            "min": num(self.min),
            "max": num(self.max),
            "avg": num(self.avg),
            "p50": num(self.p50),
            "p95": num(self.p95),
            "p99": num(self.p99),
            "stddev": num(self.stddev),
            "count": self.count,
            "kind": self.kind,
        }


@dataclass
class ExampleReport:
    query: str
    query_time: float
    ts: str | None
    db: str | None
    user: str | None
    host: str | None
    source: str
    line: int
    explain: list[str] | None


ACTIVITY_POINTS = 60  # points of a class's activity over the whole workload (the profile's sparkline)


@dataclass
class TimelineReport:
    """Calls and query time per time bucket (``start`` of the first bucket in the report's time
    zone, buckets ``bucket_seconds`` wide, empty ones included)."""

    start: str
    start_epoch: float
    bucket_seconds: int
    calls: list[int]
    query_time: list[float]
    end: str = ""  # the end of the last bucket, in the same zone
    timed: bool = True  # False: the source measured no query time (``query_time`` is all zeros)

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "bucket_seconds": self.bucket_seconds,
            "calls": self.calls,
            "query_time": [round(t, 6) for t in self.query_time] if self.timed else None,
        }


@dataclass
class ClassReport:
    rank: int
    id: str
    pt_id: str
    fingerprint: str
    kind: str
    parsed: bool
    parse_error: str | None
    count: int
    share: float  # of the total query time, 0..1
    qps: float | None
    first_seen: str | None
    last_seen: str | None
    databases: dict[str, int]
    users: dict[str, int]
    hosts: dict[str, int]
    tags: dict[str, int]
    tables: list[str]
    metrics: dict[str, MetricSummary]
    histogram: list[int]
    example: ExampleReport | None
    variants: int
    details: dict[str, Any] = field(default_factory=dict)
    timeline: TimelineReport | None = None
    activity: list[float] = field(default_factory=list)  # query time over the workload's span (sparkline)
    call_share: float = 0.0  # of all executions, 0..1 (the ranking figure when nothing was timed)
    sources: dict[str, int] = field(default_factory=dict)  # events per input (host) the class ran on
    source_total: int = 0  # inputs of the report (a fleet's hosts)

    @property
    def sources_label(self) -> str:
        """ "Sources (37 of 100)" for the per-class detail when the report has several inputs."""
        return f"Sources ({len(self.sources)} of {self.source_total})" if self.source_total > 1 else ""

    @property
    def attribute_counts(self) -> list[tuple[str, dict[str, int]]]:
        """The per-class detail's labelled counts, in the order every format shows them:
        databases, users, hosts, tags, and the inputs (hosts) of a fleet's report."""
        rows = [("Databases", self.databases), ("Users", self.users), ("Hosts", self.hosts), ("Tags", self.tags)]
        if self.sources_label:
            rows.append((self.sources_label, self.sources))
        return rows

    @property
    def timed(self) -> bool:
        """Whether the class's executions were timed (a general log's are not)."""
        return "query_time" in self.metrics

    def metric(self, name: str, attr: str = "sum") -> float:
        summary = self.metrics.get(name)
        return getattr(summary, attr) if summary is not None else 0.0

    @property
    def rows_examined_per_sent(self) -> float | None:
        examined = self.metrics.get("rows_examined")
        sent = self.metrics.get("rows_sent")
        if examined is None or sent is None:
            return None
        return examined.sum / sent.sum if sent.sum else None


@dataclass
class SourceReport:
    kind: str
    name: str
    events: int
    kept: int
    malformed: int
    malformed_samples: list[tuple[int, str]]
    dialect: str
    compression: str | None
    bytes: int | None
    format: str | None = None  # a general log's layout: file, table-tsv or table-csv
    connections: dict[str, int] = field(default_factory=dict)  # a general log's: seen, opened, failed
    commands: dict[str, int] = field(default_factory=dict)  # a general log's entries per command


@dataclass
class Summary:
    events: int
    classes: int
    start: str | None
    end: str | None
    span_seconds: float | None
    query_time_total: float
    qps: float | None
    malformed: int
    unparsed_classes: int
    events_read: int
    timeline: TimelineReport | None = None
    time_zone: str = "the log's own offset"


@dataclass
class Report:
    tool_version: str
    generated_at: str
    fingerprint_mode: str
    order_by: str
    limit: int | None
    sources: list[SourceReport]
    summary: Summary
    classes: list[ClassReport]
    findings: list[dict[str, Any]] = field(default_factory=list)
    index_suggestions: list[dict[str, Any]] = field(default_factory=list)
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)  # what limits the report's accuracy
    title: str = "mqa digest"
    command: str | None = None  # the command line that made the report (passwords never in it)
    group_by: str | None = None  # --group-by
    groups: list[GroupRow] = field(default_factory=list)
    routes: list[RouteRow] = field(default_factory=list)  # per-request figures, when requests were seen
    # False when the sources measured no execution time (general query logs): renderers show
    # counts, never a query time of zero as if it had been measured.
    timed: bool = True

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON report contract (schema_version 1) plus documented extensions."""
        doc = self._document()
        if self.group_by is not None:
            doc["groups"] = [g.to_json() for g in self.groups]
        if self.routes:
            doc["requests"] = [r.to_json() for r in self.routes]
        return doc

    def _document(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "mqa", "version": self.tool_version},
            "generated_at": self.generated_at,
            "sources": [
                {
                    "kind": s.kind,
                    "name": s.name,
                    "events": s.events,
                    "malformed": s.malformed,
                    "dialect": s.dialect,
                    "kept": s.kept,
                    "compression": s.compression,
                    "bytes": s.bytes,
                    "malformed_samples": [{"line": line, "reason": reason} for line, reason in s.malformed_samples],
                    **(
                        {"format": s.format, "connections": s.connections, "commands": s.commands}
                        if s.kind == "generallog"
                        else {}
                    ),
                }
                for s in self.sources
            ],
            "summary": {
                "events": self.summary.events,
                "classes": self.summary.classes,
                "start": self.summary.start,
                "end": self.summary.end,
                "query_time_total": round(self.summary.query_time_total, 6),
                "qps": _round(self.summary.qps, 4),
                "malformed": self.summary.malformed,
                "unparsed_classes": self.summary.unparsed_classes,
                "events_read": self.summary.events_read,
                "fingerprint": self.fingerprint_mode,
                "order_by": self.order_by,
                "classes_reported": len(self.classes),
                "notes": self.notes,
                **({"timeline": self.summary.timeline.to_json()} if self.summary.timeline is not None else {}),
            },
            "classes": [_class_json(c) for c in self.classes],
            "findings": self.findings,
            "index_suggestions": self.index_suggestions,
        }


def _class_json(c: ClassReport) -> dict[str, Any]:
    example = c.example
    return {
        "id": c.id,
        "pt_id": c.pt_id,
        "fingerprint": c.fingerprint,
        "example": example.query if example else None,
        "count": c.count,
        "first_seen": c.first_seen,
        "last_seen": c.last_seen,
        "databases": c.databases,
        "users": c.users,
        "hosts": c.hosts,
        "tags": c.tags,
        "tables": c.tables,
        "metrics": {name: m.to_json() for name, m in c.metrics.items()},
        # extensions
        "rank": c.rank,
        "kind": c.kind,
        "parsed": c.parsed,
        "parse_error": c.parse_error,
        "share": round(c.share, 6),
        "qps": _round(c.qps, 6),
        "histogram": dict(zip(HISTOGRAM_LABELS, c.histogram)),
        "example_meta": None
        if example is None
        else {
            "query_time": round(example.query_time, 6) if "query_time" in c.metrics else None,
            "ts": example.ts,
            "db": example.db,
            "user": example.user,
            "host": example.host,
            "source": example.source,
            "line": example.line,
            "explain": example.explain,
        },
        "variants": c.variants,
        "sources": c.sources,
        **({"source_details": c.details} if c.details else {}),
        **({"timeline": c.timeline.to_json()} if c.timeline is not None else {}),
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _sort_key(order_by: str):
    if order_by not in ORDER_BY:
        raise UsageError(f"unknown --order-by {order_by!r}; choose one of {', '.join(ORDER_BY)}")

    def key(cls: QueryClass) -> tuple[float, float, str]:
        qt = cls.stats.metrics.get("query_time")
        total = qt.total if qt else 0.0
        if order_by == "total":
            primary = total
        elif order_by == "count":
            primary = float(cls.stats.count)
        elif order_by == "avg":
            primary = qt.avg if qt else 0.0
        elif order_by == "p95":
            spread = cls.distribution.metrics.get("query_time") if cls.distribution is not None else qt
            primary = spread.quantile(0.95) if spread is not None and spread.has_distribution else 0.0
        elif order_by == "max":
            primary = qt.max if qt else 0.0
        else:
            primary = cls.stats.total(order_by)
        # Ties: more time first, then the class id, so the order is deterministic.
        return (-primary, -total, cls.id)

    return key


def build_report(
    result: DigestResult,
    *,
    order_by: str = "total",
    limit: int | None = 20,
    now: datetime | None = None,
    title: str = "mqa digest",
    tz: tzinfo | None = None,
    command: str | None = None,
    group_by: str | None = None,
) -> Report:
    """Rank the classes and summarise the digest for rendering.  Times are shown in the log's
    own offset, or in ``tz`` (``parse_time_zone()``); never in the reader's."""
    if limit is not None and limit < 1:
        raise UsageError("the class limit must be a positive number (None reports every class)")
    _sort_key(order_by)  # an unknown --order-by is an error whatever the input
    notes = list(result.notes)
    general = [s for s in result.sources if s.kind == "generallog"]
    timed = not general or len(general) < len(result.sources) or "query_time" in result.totals.metrics
    if general:
        notes.append(
            "a general query log records the statements a server received, not how they ran: it has no "
            "query time, lock time or rows (the slow log or performance_schema has them)"
        )
    if not timed and order_by != "count":
        notes.append(f"ranked by number of executions: no {ORDER_BY[order_by]} without timings")
        order_by = "count"
    ranked = sorted(result.classes, key=_sort_key(order_by))
    shown = ranked if limit is None else ranked[:limit]
    totals = result.totals
    total_time = totals.total("query_time")
    span = totals.last_ts - totals.first_ts if totals.first_ts is not None and totals.last_ts is not None else None
    qps = totals.count / span if span and span > 0 else None
    flags = result.flag_metrics
    clock = _Clock(tz)
    workload = _timeline(totals.timeline, clock, totals.first_tz, timed)
    classes = [
        _class_report(rank, cls, total_time, span, flags, clock, totals.timeline, totals.count, timed)
        for rank, cls in enumerate(shown, 1)
    ]
    source_total = len({s.name for s in result.sources})
    for c in classes:
        c.source_total = source_total
    groups = group_rows(result, total_time, group_by)
    sources = [
        SourceReport(
            s.kind,
            s.name,
            s.events,
            s.kept,
            s.malformed,
            [(m.line, m.reason) for m in s.malformed_samples],
            s.dialect,
            s.compression,
            s.bytes,
            s.format,
            dict(s.connections),
            dict(s.commands),
        )
        for s in result.sources
    ]
    summary = Summary(
        events=totals.count,
        classes=len(result.classes),
        start=clock(totals.first_ts, totals.first_tz),
        end=clock(totals.last_ts, totals.last_tz),
        span_seconds=span,
        query_time_total=total_time,
        qps=qps,
        malformed=result.malformed,
        unparsed_classes=result.unparsed_classes,
        events_read=sum(s.events for s in result.sources),
        timeline=workload,
        time_zone=clock.name,
    )
    generated = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    return Report(
        tool_version=__version__,
        generated_at=generated,
        fingerprint_mode=result.mode,
        order_by=order_by,
        limit=limit,
        sources=sources,
        summary=summary,
        classes=classes,
        elapsed=result.elapsed,
        notes=notes,
        title=title,
        command=command,
        group_by=group_by,
        groups=groups,
        routes=route_rows(result),
        timed=timed,
    )


class _Clock:
    """Formats event times: in the log's own offset, or in one time zone the user chose."""

    def __init__(self, tz: tzinfo | None) -> None:
        self.tz = tz
        self.name = "the log's own offset" if tz is None else str(tz)

    def __call__(self, ts: float | None, event_tz: int | None) -> str | None:
        if ts is None:
            return None
        if self.tz is None:
            return format_ts(ts, event_tz)
        return datetime.fromtimestamp(ts, self.tz).isoformat()


def parse_time_zone(text: str) -> tzinfo:
    """``UTC``, ``+02:00`` / ``-0530``, or an IANA name (``Europe/Berlin``).

    >>> parse_time_zone("+05:30").utcoffset(None)
    datetime.timedelta(seconds=19800)
    """
    import re

    if text.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    match = re.fullmatch(r"([+-])(\d\d):?(\d\d)", text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        if offset > timedelta(hours=14):
            raise UsageError(f"time zone offset {text!r} is out of range (-14:00 to +14:00)")
        return timezone(sign * offset)
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(text)
    except (ValueError, LookupError, OSError):
        raise UsageError(
            f"unknown time zone {text!r}: give UTC, an offset such as +02:00, or a name such as Europe/Berlin"
        ) from None


def _timeline(buckets: TimeBuckets | None, clock: _Clock, tz: int | None, timed: bool = True) -> TimelineReport | None:
    dense = buckets.dense() if buckets is not None else None
    if dense is None:
        return None
    start, width, calls, times = dense
    return TimelineReport(
        clock(start, tz) or "", start, width, calls, times, clock(start + width * len(calls), tz) or "", timed
    )


def _activity(mine: TimeBuckets, workload: TimeBuckets | None, timed: bool = True) -> list[float]:
    """The class's query time (without timings: its calls) over the workload's buckets, in at
    most ``ACTIVITY_POINTS`` points (the same axis for every class of a report)."""
    if workload is None or not workload.calls or not mine.calls:
        return []
    low, high = min(workload.calls), max(workload.calls)
    shift = workload.level - mine.level
    values = [0.0] * (high - low + 1)
    for index, amount in (mine.times if timed else mine.calls).items():
        k = (index >> shift) - low
        if 0 <= k < len(values):
            values[k] += amount
    step = -(-len(values) // ACTIVITY_POINTS)
    return [sum(values[i : i + step]) for i in range(0, len(values), step)]


def _class_report(
    rank: int,
    cls: QueryClass,
    total_time: float,
    span: float | None,
    flags: frozenset[str],
    clock: _Clock,
    workload: TimeBuckets | None,
    events: int = 0,
    timed: bool = True,
) -> ClassReport:
    stats = cls.stats
    names = [n for n in _METRIC_ORDER if n in stats.metrics]
    names += sorted(n for n in stats.metrics if n not in _METRIC_ORDER and n not in flags)
    names += sorted(n for n in stats.metrics if n in flags)
    spread = cls.distribution.metrics if cls.distribution is not None else {}
    metrics = {
        name: MetricSummary.of(name, stats.metrics[name], name in flags, spread.get(name), cls.known_bounds(name))
        for name in names
    }
    qt = stats.metrics.get("query_time")
    databases = dict(stats.databases.most_common())
    main_db = next(iter(databases), None)
    tables = [t if "." in t or main_db is None else f"{main_db}.{t}" for t in cls.info.tables]
    ex = stats.example
    example = None
    if ex is not None:
        example = ExampleReport(
            ex.query,
            ex.query_time,
            clock(ex.ts, ex.tz),
            ex.db,
            ex.user,
            ex.host,
            ex.source,
            ex.line,
            ex.explain,
        )
    return ClassReport(
        rank=rank,
        id=cls.id,
        pt_id=cls.pt_id,
        fingerprint=cls.fingerprint,
        kind=cls.info.kind,
        parsed=cls.info.parsed,
        parse_error=cls.info.parse_error,
        count=stats.count,
        share=(qt.total / total_time) if qt is not None and total_time > 0 else 0.0,
        qps=stats.count / span if span and span > 0 else None,
        first_seen=clock(stats.first_ts, stats.first_tz),
        last_seen=clock(stats.last_ts, stats.last_tz),
        databases=databases,
        users=dict(stats.users.most_common()),
        hosts=dict(stats.hosts.most_common()),
        tags=dict(stats.tags.most_common()),
        tables=tables,
        metrics=metrics,
        histogram=list(cls.distribution.histogram if cls.distribution is not None else stats.histogram),
        example=example,
        variants=cls.keys,
        details=cls.details(),
        timeline=_timeline(stats.timeline, clock, stats.first_tz, timed),
        activity=_activity(stats.timeline, workload, timed),
        call_share=stats.count / events if events else 0.0,
        sources=dict(stats.sources.most_common()),
    )
