"""Per-class accumulators that merge exactly.

Every accumulator here can be built from any split of the input (files, chunks of a file,
processes, machines) and merged into the same result as one pass over everything: counts,
sums, minima and maxima are exact; percentiles come from a log-bucketed histogram with 1%
relative accuracy whose buckets merge by addition (the DDSketch construction); the standard
deviation is kept as shifted sums.  Memory grows with the number of classes and the spread of
the values, never with the number of events.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from analyzer.events import QueryEvent

RELATIVE_ACCURACY = 0.01
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_INV_LN_GAMMA = 1.0 / math.log(_GAMMA)
_MIN_POSITIVE = 1e-9  # values at or below count as zero

# pt-query-digest's query-time histogram: decades from 1 us to 10 s and more.
HISTOGRAM_LABELS = ("1us", "10us", "100us", "1ms", "10ms", "100ms", "1s", "10s+")


def histogram_bucket(seconds: float) -> int:
    """Index into ``HISTOGRAM_LABELS`` for a query time (values below 1 us count as 1us)."""
    if seconds < 1e-5:
        return 0
    if seconds >= 10.0:
        return 7
    return min(7, max(0, int(math.floor(math.log10(seconds))) + 6))


class MetricStats:
    """Count, sum, min, max, standard deviation and a mergeable quantile sketch of one metric."""

    __slots__ = ("n", "total", "min", "max", "shift", "dsum", "dsq", "zeros", "buckets")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.shift: float | None = None  # first value seen; keeps the variance numerically sound
        self.dsum = 0.0
        self.dsq = 0.0
        self.zeros = 0
        self.buckets: dict[int, int] = {}

    def add(self, value: float) -> None:
        self.n += 1
        self.total += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        shift = self.shift
        if shift is None:
            self.shift = value
        else:
            d = value - shift
            self.dsum += d
            self.dsq += d * d
        if value > _MIN_POSITIVE:
            index = math.ceil(math.log(value) * _INV_LN_GAMMA)
            buckets = self.buckets
            buckets[index] = buckets.get(index, 0) + 1
        else:
            self.zeros += 1

    def merge(self, other: MetricStats) -> None:
        """Fold ``other`` into this accumulator (exact)."""
        if other.n == 0:
            return
        if self.n == 0:
            self.shift, self.dsum, self.dsq = other.shift, other.dsum, other.dsq
        else:
            # Re-express other's sums of (v - b) around our shift a: v - a = (v - b) + (b - a).
            delta = other.shift - self.shift  # type: ignore[operator]
            self.dsum += other.dsum + other.n * delta
            self.dsq += other.dsq + 2.0 * delta * other.dsum + other.n * delta * delta
        self.n += other.n
        self.total += other.total
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.zeros += other.zeros
        buckets = self.buckets
        for index, count in other.buckets.items():
            buckets[index] = buckets.get(index, 0) + count

    @property
    def avg(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def stddev(self) -> float:
        """Population standard deviation (as pt-query-digest reports it)."""
        if self.n < 2:
            return 0.0
        mean_d = self.dsum / self.n
        var = self.dsq / self.n - mean_d * mean_d
        return math.sqrt(var) if var > 0 else 0.0

    def quantile(self, q: float) -> float:
        """The q-quantile (0..1) within 1% relative error, clamped to [min, max]."""
        if self.n == 0:
            return 0.0
        rank = q * (self.n - 1)
        seen = self.zeros
        if rank < seen:
            return max(self.min, 0.0) if self.min <= _MIN_POSITIVE else self.min
        value = self.max
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen > rank:
                value = 2.0 * _GAMMA**index / (_GAMMA + 1.0)
                break
        return min(max(value, self.min), self.max)


@dataclass(slots=True)
class Example:
    """The sample a class reports: its slowest event, full text."""

    query: str
    query_time: float
    ts: float | None
    tz: int | None
    db: str | None
    user: str | None
    host: str | None
    source: str
    line: int
    explain: list[str] | None = None


@dataclass(slots=True)
class GroupStats:
    """Everything measured for one group of events (a fast key, a class, a whole log)."""

    count: int = 0
    metrics: dict[str, MetricStats] = field(default_factory=dict)
    histogram: list[int] = field(default_factory=lambda: [0] * len(HISTOGRAM_LABELS))
    first_ts: float | None = None
    first_tz: int | None = None
    last_ts: float | None = None
    last_tz: int | None = None
    databases: Counter[str] = field(default_factory=Counter)
    users: Counter[str] = field(default_factory=Counter)
    hosts: Counter[str] = field(default_factory=Counter)
    tags: Counter[str] = field(default_factory=Counter)
    example: Example | None = None

    def add(self, event: QueryEvent, tags: tuple[str, ...] = ()) -> None:
        """Account for one event (``tags``: its comment tags, as ``key=value``)."""
        self.count += 1
        metrics = self.metrics
        for name, value in event.metrics.items():
            acc = metrics.get(name)
            if acc is None:
                acc = metrics[name] = MetricStats()
            acc.add(value)
        qt = event.metrics.get("query_time")
        if qt is not None:
            self.histogram[histogram_bucket(qt)] += 1
            example = self.example
            # ">=": among equally slow events keep the latest, as pt-query-digest does.
            if example is None or qt >= example.query_time:
                self.example = Example(
                    event.query, qt, event.ts, event.tz, event.db, event.user, event.host,
                    event.source, event.line, event.explain,
                )
        elif self.example is None:
            self.example = Example(
                event.query, 0.0, event.ts, event.tz, event.db, event.user, event.host,
                event.source, event.line, event.explain,
            )
        ts = event.ts
        if ts is not None:
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts, self.first_tz = ts, event.tz
            if self.last_ts is None or ts >= self.last_ts:
                self.last_ts, self.last_tz = ts, event.tz
        if event.db is not None:
            self.databases[event.db] += 1
        if event.user is not None:
            self.users[event.user] += 1
        if event.host is not None:
            self.hosts[event.host] += 1
        for tag in tags:
            self.tags[tag] += 1

    def merge(self, other: GroupStats) -> None:
        """Fold ``other`` into this group (exact)."""
        self.count += other.count
        for name, acc in other.metrics.items():
            mine = self.metrics.get(name)
            if mine is None:
                mine = self.metrics[name] = MetricStats()
            mine.merge(acc)
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram)]
        if other.first_ts is not None and (self.first_ts is None or other.first_ts < self.first_ts):
            self.first_ts, self.first_tz = other.first_ts, other.first_tz
        if other.last_ts is not None and (self.last_ts is None or other.last_ts >= self.last_ts):
            self.last_ts, self.last_tz = other.last_ts, other.last_tz
        self.databases.update(other.databases)
        self.users.update(other.users)
        self.hosts.update(other.hosts)
        self.tags.update(other.tags)
        if other.example is not None and (
            self.example is None or other.example.query_time >= self.example.query_time
        ):
            self.example = other.example

    def total(self, metric: str) -> float:
        acc = self.metrics.get(metric)
        return acc.total if acc is not None else 0.0
