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
        if q <= 0.0:
            return self.min
        if q >= 1.0:
            return self.max
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


def fold_batch(
    groups: list[GroupStats],
    gidx: list[int],
    events: list[QueryEvent],
    tagged: list[tuple[int, tuple[str, ...]]],
) -> None:
    """Fold a batch of events into their groups with vectorised (numpy) arithmetic.

    The result is what ``groups[gidx[i]].add(events[i], tags)`` would give for every event in
    order (sums may differ in the last bits: floating-point addition order), at a fraction of
    the per-event cost.  ``tagged`` lists ``(row, tags)`` for the events that carry tags.
    """
    import numpy as np

    n = len(events)
    if n == 0:
        return
    g = np.fromiter(gidx, dtype=np.intp, count=n)
    uniq, inv = np.unique(g, return_inverse=True)
    width = len(uniq)
    targets = [groups[i] for i in uniq.tolist()]
    first_rows = np.unique(inv, return_index=True)[1].tolist()
    for grp, count in zip(targets, np.bincount(inv, minlength=width).tolist()):
        grp.count += count

    metric_dicts = [e.metrics for e in events]
    nan = math.nan
    for name in set().union(*metric_dicts):
        values = np.array([m.get(name, nan) for m in metric_dicts], dtype=np.float64)
        present = ~np.isnan(values)
        if present.all():
            rows = np.arange(n)
            v, gi = values, inv
        else:
            rows = np.nonzero(present)[0]
            v, gi = values[rows], inv[rows]
        _fold_metric(targets, name, v, gi, width)
        if name == "query_time":
            _fold_query_time(targets, events, v, gi, rows, width)

    for u, row in enumerate(first_rows):  # groups whose events have no query time at all
        grp = targets[u]
        if grp.example is None:
            e = events[row]
            grp.example = Example(e.query, 0.0, e.ts, e.tz, e.db, e.user, e.host, e.source, e.line, e.explain)

    ts = np.fromiter((nan if e.ts is None else e.ts for e in events), dtype=np.float64, count=n)
    valid = np.nonzero(~np.isnan(ts))[0]
    if valid.size:
        t, gt = ts[valid], inv[valid]
        order = np.lexsort((valid, t, gt))
        counts = np.bincount(gt, minlength=width)
        ends = np.cumsum(counts)
        for u in np.nonzero(counts)[0].tolist():
            lo_row = int(valid[order[ends[u] - counts[u]]])
            hi_row = int(valid[order[ends[u] - 1]])
            grp = targets[u]
            lo, hi = events[lo_row], events[hi_row]
            if grp.first_ts is None or lo.ts < grp.first_ts:  # type: ignore[operator]
                grp.first_ts, grp.first_tz = lo.ts, lo.tz
            if grp.last_ts is None or hi.ts >= grp.last_ts:  # type: ignore[operator]
                grp.last_ts, grp.last_tz = hi.ts, hi.tz

    who = Counter(zip(inv.tolist(), [e.db for e in events], [e.user for e in events], [e.host for e in events]))
    for (u, db, user, host), count in who.items():
        grp = targets[u]
        if db is not None:
            grp.databases[db] += count
        if user is not None:
            grp.users[user] += count
        if host is not None:
            grp.hosts[host] += count
    for row, tags in tagged:
        counter = groups[gidx[row]].tags
        for tag in tags:
            counter[tag] += 1


def _fold_metric(targets: list[GroupStats], name: str, v, gi, width: int) -> None:  # noqa: ANN001
    import numpy as np

    counts = np.bincount(gi, minlength=width)
    order = np.lexsort((v, gi))
    sorted_v = v[order]
    ends = np.cumsum(counts)
    present = np.nonzero(counts)[0]
    mins = sorted_v[(ends - counts)[present]].tolist()
    maxs = sorted_v[ends[present] - 1].tolist()
    shift = np.zeros(width)
    accs: list[MetricStats] = []
    for u, low in zip(present.tolist(), mins):
        acc = targets[u].metrics.get(name)
        if acc is None:
            acc = targets[u].metrics[name] = MetricStats()
        if acc.n == 0:
            acc.shift = low
        shift[u] = acc.shift
        accs.append(acc)
    d = v - shift[gi]
    totals = np.bincount(gi, weights=v, minlength=width)[present].tolist()
    dsums = np.bincount(gi, weights=d, minlength=width)[present].tolist()
    dsqs = np.bincount(gi, weights=d * d, minlength=width)[present].tolist()
    positive = v > _MIN_POSITIVE
    zeros = np.bincount(gi[~positive], minlength=width)[present].tolist()
    for acc, count, total, low, high, dsum, dsq, zero in zip(
        accs, counts[present].tolist(), totals, mins, maxs, dsums, dsqs, zeros
    ):
        acc.n += count
        acc.total += total
        if low < acc.min:
            acc.min = low
        if high > acc.max:
            acc.max = high
        acc.dsum += dsum
        acc.dsq += dsq
        acc.zeros += zero
    if positive.any():
        index = np.ceil(np.log(v[positive]) * _INV_LN_GAMMA).astype(np.int64)
        low_index = int(index.min())
        span = int(index.max()) - low_index + 1
        keys, key_counts = np.unique(gi[positive].astype(np.int64) * span + (index - low_index), return_counts=True)
        for key, count in zip(keys.tolist(), key_counts.tolist()):
            u, bucket = divmod(key, span)
            buckets = targets[u].metrics[name].buckets
            bucket += low_index
            buckets[bucket] = buckets.get(bucket, 0) + count


def _fold_query_time(targets: list[GroupStats], events: list[QueryEvent], v, gi, rows, width: int) -> None:  # noqa: ANN001
    import numpy as np

    with np.errstate(divide="ignore"):
        decade = np.floor(np.log10(v)) + 6
    decade = np.where(v < 1e-5, 0, np.clip(decade, 0, len(HISTOGRAM_LABELS) - 1)).astype(np.int64)
    size = len(HISTOGRAM_LABELS)
    hist = np.bincount(gi * size + decade, minlength=width * size).reshape(width, size).tolist()
    counts = np.bincount(gi, minlength=width)
    # The slowest event of each group; among equally slow ones the latest (as pt-query-digest).
    order = np.lexsort((rows, v, gi))
    ends = np.cumsum(counts)
    for u in np.nonzero(counts)[0].tolist():
        grp = targets[u]
        grp.histogram = [a + b for a, b in zip(grp.histogram, hist[u])]
        row = int(rows[order[ends[u] - 1]])
        e = events[row]
        qt = e.metrics["query_time"]
        if grp.example is None or qt >= grp.example.query_time:
            grp.example = Example(e.query, qt, e.ts, e.tz, e.db, e.user, e.host, e.source, e.line, e.explain)
