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
from array import array
from collections import Counter
from dataclasses import dataclass, field

from analyzer.model import QueryEvent
from analyzer.native import speedups

RELATIVE_ACCURACY = 0.02
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
    return min(7, max(0, math.floor(math.log10(seconds)) + 6))


class Buckets:
    """Counts of the sketch's log buckets, dense from the lowest bucket seen to the highest.

    An ``array`` of int64 rather than a dict: 8 bytes a bucket instead of about 70, which is
    most of a digest's memory when it has thousands of classes.
    """

    __slots__ = ("counts", "low")

    def __init__(self) -> None:
        self.low = 0
        self.counts = array("q")

    def add(self, index: int, count: int = 1) -> None:
        counts = self.counts
        if not counts:
            self.low = index
            counts.append(count)
            return
        offset = index - self.low
        if offset < 0:
            self.counts = array("q", bytes(8 * -offset)) + counts
            self.low = index
            self.counts[0] += count
        elif offset >= len(counts):
            counts.extend(array("q", bytes(8 * (offset - len(counts) + 1))))
            counts[offset] += count
        else:
            counts[offset] += count

    def merge(self, other: Buckets) -> None:
        if not other.counts:
            return
        if not self.counts:
            self.low, self.counts = other.low, array("q", other.counts)
            return
        self.add(other.low, 0)
        self.add(other.low + len(other.counts) - 1, 0)
        mine, base = self.counts, other.low - self.low
        for i, count in enumerate(other.counts):
            if count:
                mine[base + i] += count

    def items(self) -> list[tuple[int, int]]:
        """(bucket index, count) for the non-empty buckets, in order."""
        low = self.low
        return [(low + i, c) for i, c in enumerate(self.counts) if c]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Buckets) and self.items() == other.items()

    def __repr__(self) -> str:
        return f"Buckets({dict(self.items())})"


class MetricStats:
    """Count, sum, min, max, standard deviation and a mergeable quantile sketch of one metric."""

    __slots__ = ("buckets", "dsq", "dsum", "max", "min", "n", "shift", "total", "zeros")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.shift: float | None = None  # first value seen; keeps the variance numerically sound
        self.dsum = 0.0
        self.dsq = 0.0
        self.zeros = 0
        self.buckets = Buckets()

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
            self.buckets.add(math.ceil(math.log(value) * _INV_LN_GAMMA))
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
        self.buckets.merge(other.buckets)

    @property
    def avg(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def has_distribution(self) -> bool:
        """The sketch holds every value (False for sums-only sources such as performance_schema)."""
        return self.zeros + sum(self.buckets.counts) == self.n

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
        for index, count in self.buckets.items():
            seen += count
            if seen > rank:
                value = 2.0 * _GAMMA**index / (_GAMMA + 1.0)
                break
        return min(max(value, self.min), self.max)


TIMELINE_MAX_BUCKETS = 256  # a time-line never has more buckets than this ...
TIMELINE_BASE_SECONDS = 1  # ... each 1 s x 2**level wide, aligned to the epoch


class TimeBuckets:
    """Calls and query time per time bucket: a class's (or the workload's) time-line.

    Buckets are ``2**level`` seconds wide and aligned to the epoch, so buckets of two
    accumulators line up once both are at the same level.  The level is the smallest at which
    the events span at most ``TIMELINE_MAX_BUCKETS`` buckets: a minute of log has 1 s buckets,
    a day 512 s, a month about 4.5 h.  Merging coarsens both sides to the larger level and then
    as far as the joined span needs, which is exactly the level one pass over all the events
    reaches, with the same counts: the time-line merges exactly, like every accumulator here.
    """

    __slots__ = ("_calls", "_packed", "_times", "level")

    def __init__(self) -> None:
        self.level = 0
        self._calls: dict[int, int] = {}
        self._times: dict[int, float] = {}
        # (bucket indices ascending, calls, query times) as numpy arrays, until the dicts are
        # needed: a digest's classes keep their time-lines in the table's columns, and only the
        # classes a report shows ever look at theirs.
        self._packed: tuple | None = None

    @classmethod
    def packed(cls, level: int, index, calls, times) -> TimeBuckets:
        """A time-line over numpy arrays (views are fine: they are only read)."""
        tl = cls()
        tl.level = level
        if len(index):
            tl._packed = (index, calls, times)
        return tl

    def _unpack(self) -> None:
        index, calls, times = self._packed  # type: ignore[misc]
        keys = index.tolist()
        self._calls = dict(zip(keys, calls.tolist()))
        self._times = dict(zip(keys, times.tolist()))
        self._packed = None

    @property
    def calls(self) -> dict[int, int]:
        if self._packed is not None:
            self._unpack()
        return self._calls

    @calls.setter
    def calls(self, value: dict[int, int]) -> None:
        self._packed, self._calls = None, value

    @property
    def times(self) -> dict[int, float]:
        if self._packed is not None:
            self._unpack()
        return self._times

    @times.setter
    def times(self, value: dict[int, float]) -> None:
        self._packed, self._times = None, value

    @property
    def width(self) -> int:
        """Seconds per bucket."""
        return TIMELINE_BASE_SECONDS << self.level

    def add(self, ts: float, query_time: float = 0.0) -> None:
        self.add_bucket(math.floor(ts / TIMELINE_BASE_SECONDS) >> self.level, 1, query_time)
        self._fit()

    def add_bucket(self, index: int, calls: int, query_time: float) -> None:
        """Add to bucket ``index`` of the current level (no coarsening: call ``_fit()``)."""
        self.calls[index] = self.calls.get(index, 0) + calls
        self.times[index] = self.times.get(index, 0.0) + query_time

    def coarsen(self, level: int) -> None:
        """Re-bucket at ``level`` (>= the current one)."""
        shift = level - self.level
        if shift <= 0:
            return
        calls: dict[int, int] = {}
        times: dict[int, float] = {}
        for index, n in self.calls.items():
            k = index >> shift
            calls[k] = calls.get(k, 0) + n
            times[k] = times.get(k, 0.0) + self.times[index]
        self.calls, self.times, self.level = calls, times, level

    def _fit(self) -> None:
        while self.calls and max(self.calls) - min(self.calls) + 1 > TIMELINE_MAX_BUCKETS:
            self.coarsen(self.level + 1)

    def merge(self, other: TimeBuckets) -> None:
        if not other.calls:
            return
        if other.level > self.level:
            self.coarsen(other.level)
        shift = self.level - other.level
        calls, times, other_times = self.calls, self.times, other.times  # add_bucket, inline
        for index, n in other.calls.items():
            k = index >> shift
            calls[k] = calls.get(k, 0) + n
            times[k] = times.get(k, 0.0) + other_times[index]
        self._fit()

    def dense(self) -> tuple[float, int, list[int], list[float]] | None:
        """(start epoch, bucket seconds, calls per bucket, query time per bucket) from the first
        bucket with calls to the last, empty buckets included; None without events."""
        if self._packed is not None:
            import numpy as np

            index, calls, times = self._packed
            low, high = int(index[0]), int(index[-1])
            dense_calls = np.zeros(high - low + 1, np.int64)
            dense_times = np.zeros(high - low + 1, np.float64)
            dense_calls[index - low] = calls
            dense_times[index - low] = times
            return float(low * self.width), self.width, dense_calls.tolist(), dense_times.tolist()
        if not self.calls:
            return None
        low, high = min(self.calls), max(self.calls)
        calls = [self.calls.get(i, 0) for i in range(low, high + 1)]
        times = [self.times.get(i, 0.0) for i in range(low, high + 1)]
        return float(low * self.width), self.width, calls, times

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TimeBuckets)
            and self.level == other.level
            and self.calls == other.calls
            and all(math.isclose(self.times[k], other.times[k], rel_tol=1e-9, abs_tol=1e-12) for k in self.times)
        )

    def __repr__(self) -> str:
        return f"TimeBuckets(level={self.level}, calls={dict(sorted(self.calls.items()))})"


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
    timeline: TimeBuckets = field(default_factory=TimeBuckets)
    # Events per input (a log, i.e. a host of a fleet): which sources a class ran on.
    sources: Counter[str] = field(default_factory=Counter)

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
                    event.query,
                    qt,
                    event.ts,
                    event.tz,
                    event.db,
                    event.user,
                    event.host,
                    event.source,
                    event.line,
                    event.explain,
                )
        elif self.example is None:
            self.example = Example(
                event.query,
                0.0,
                event.ts,
                event.tz,
                event.db,
                event.user,
                event.host,
                event.source,
                event.line,
                event.explain,
            )
        ts = event.ts
        if ts is not None:
            self.timeline.add(ts, qt or 0.0)
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
        if event.source:
            self.sources[event.source] += 1

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
        self.sources.update(other.sources)
        self.timeline.merge(other.timeline)
        if other.example is not None and (self.example is None or other.example.query_time >= self.example.query_time):
            self.example = other.example

    def total(self, metric: str) -> float:
        acc = self.metrics.get(metric)
        return acc.total if acc is not None else 0.0


# Bucket indices are stored with an offset so that (group, bucket) packs into one int64.
_BUCKET_OFFSET = 4096  # |index| < 4096 covers values from 1e-35 to 1e35
_BUCKET_SPAN = 2 * _BUCKET_OFFSET
_NO_TZ = -(1 << 40)  # "offset unknown" in the integer tz columns


class _MetricColumns:
    """One metric of every group of a ``GroupTable``, as numpy columns."""

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["np"]
        return state

    def __setstate__(self, state: dict) -> None:
        import numpy as np

        self.__dict__.update(state)
        self.np = np

    def __init__(self, np, capacity: int) -> None:
        self.np = np
        self.n = np.zeros(capacity, np.int64)
        self.total = np.zeros(capacity)
        self.min = np.full(capacity, np.inf)
        self.max = np.full(capacity, -np.inf)
        self.shift = np.full(capacity, np.nan)
        self.dsum = np.zeros(capacity)
        self.dsq = np.zeros(capacity)
        self.zeros = np.zeros(capacity, np.int64)
        # (group * _BUCKET_SPAN + bucket + _BUCKET_OFFSET, count) pairs, consolidated now and then
        self.keys = np.zeros(0, np.int64)
        self.counts = np.zeros(0, np.int64)
        self.pending: list[tuple] = []
        self.pending_size = 0

    def grow(self, capacity: int) -> None:
        np = self.np
        for name, fill in (
            ("n", 0),
            ("total", 0.0),
            ("min", np.inf),
            ("max", -np.inf),
            ("shift", np.nan),
            ("dsum", 0.0),
            ("dsq", 0.0),
            ("zeros", 0),
        ):
            old = getattr(self, name)
            new = np.full(capacity, fill, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def consolidate(self) -> None:
        if not self.pending:
            return
        self.keys, (self.counts,) = _fold_pending(self.np, self.keys, [self.counts], self.pending)
        self.pending, self.pending_size = [], 0


def _fold_pending(np, keys, columns: list, pending: list[tuple]) -> tuple[object, list]:
    """Fold ``pending`` chunks ``(keys, *values)``, each sorted and unique, into the sorted,
    unique ``keys`` whose sums are ``columns`` (added in place where a key is known).

    Each key's sum is its known value, then the chunks' values in order: what summing
    everything in one pass gives, to the last bit.  Only the chunks' new keys are sorted: the
    memory this takes is a few arrays of the chunks' size and one copy of the columns (a sort
    of everything took about eight arrays of the whole size, the peak of a long digest).
    """
    known = len(keys)
    misses = []
    for chunk in pending:
        chunk_keys, values = chunk[0], chunk[1:]
        if not known:
            misses.append(chunk)
            continue
        at = np.searchsorted(keys, chunk_keys)
        np.minimum(at, known - 1, out=at)
        hit = keys[at] == chunk_keys
        if hit.all():
            for column, v in zip(columns, values):
                column[at] += v
            continue
        if hit.any():
            at = at[hit]
            for column, v in zip(columns, values):
                column[at] += v[hit]
        miss = ~hit
        misses.append((chunk_keys[miss], *(v[miss] for v in values)))
    if not misses:
        return keys, columns
    new_keys, inverse = np.unique(np.concatenate([m[0] for m in misses]), return_inverse=True)
    sums = [
        np.bincount(inverse, weights=np.concatenate([m[i] for m in misses]), minlength=len(new_keys)).astype(
            column.dtype
        )
        for i, column in enumerate(columns, start=1)
    ]
    at = np.searchsorted(keys, new_keys)
    return np.insert(keys, at, new_keys), [np.insert(c, at, n) for c, n in zip(columns, sums)]


# Time-line buckets are stored as (group * _TL_SPAN + bucket + _TL_OFFSET) keys, like the sketch's.
_TL_OFFSET = 1 << 33  # bucket indices (seconds at level 0) in [-2**33, 2**33)
_TL_SPAN = 1 << 34


class _TimelineColumns:
    """The time-lines of every group of a ``GroupTable``: each group's level and its
    (bucket, calls, query time) entries, as numpy columns (see ``TimeBuckets``)."""

    def __getstate__(self) -> dict:
        self.consolidate()
        state = dict(self.__dict__)
        del state["np"]
        return state

    def __setstate__(self, state: dict) -> None:
        import numpy as np

        self.__dict__.update(state)
        self.np = np

    def __init__(self, np, capacity: int) -> None:
        self.np = np
        self.level = np.zeros(capacity, np.int64)
        self.keys = np.zeros(0, np.int64)
        self.calls = np.zeros(0, np.int64)
        self.times = np.zeros(0)
        self.pending: list[tuple] = []
        self.pending_size = 0

    def grow(self, capacity: int) -> None:
        new = self.np.zeros(capacity, self.level.dtype)
        new[: len(self.level)] = self.level
        self.level = new

    def fold(self, groups, ts, query_time) -> None:
        """Account for events of ``groups`` at epoch seconds ``ts`` taking ``query_time``."""
        np = self.np
        index = np.floor(ts / TIMELINE_BASE_SECONDS).astype(np.int64) >> self.level[groups]
        self._append(groups * _TL_SPAN + index + _TL_OFFSET, np.ones(len(groups), np.int64), query_time)
        if self.pending_size > 100_000:
            self.consolidate()

    def _append(self, keys, calls, times) -> None:
        np = self.np
        unique, inverse = np.unique(keys, return_inverse=True)
        self.pending.append(
            (
                unique,
                np.bincount(inverse, weights=calls, minlength=len(unique)).astype(np.int64),
                np.bincount(inverse, weights=times, minlength=len(unique)),
            )
        )
        self.pending_size += len(unique)

    def consolidate(self) -> None:
        """Sum the pending entries and coarsen each group until its span fits."""
        np = self.np
        if self.pending:
            self.keys, (self.calls, self.times) = _fold_pending(np, self.keys, [self.calls, self.times], self.pending)
            self.pending, self.pending_size = [], 0
        while len(self.keys):
            # The keys are sorted: each group's buckets are one run, in bucket order, so a
            # group's span is its last key less its first, and halving its buckets keeps the
            # order (equal keys end up next to each other, summed in order by reduceat).
            keys = self.keys
            owners = keys // _TL_SPAN
            starts = np.flatnonzero(np.concatenate(([True], owners[1:] != owners[:-1])))
            bounds = np.append(starts, len(keys))
            over = keys[bounds[1:] - 1] - keys[starts] + 1 > TIMELINE_MAX_BUCKETS
            if not over.any():
                return
            self.level[owners[starts[over]]] += 1
            rows = np.repeat(over, np.diff(bounds))
            keys[rows] = owners[rows] * _TL_SPAN + ((keys[rows] % _TL_SPAN - _TL_OFFSET) >> 1) + _TL_OFFSET
            first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            self.keys = keys[first]
            self.calls = np.add.reduceat(self.calls, first)
            self.times = np.add.reduceat(self.times, first)

    def _set(self, keys, calls, times) -> None:
        np = self.np
        self.keys, inverse = np.unique(keys, return_inverse=True)
        self.calls = np.bincount(inverse, weights=calls, minlength=len(self.keys)).astype(np.int64)
        self.times = np.bincount(inverse, weights=times, minlength=len(self.keys))

    def merge(self, other: _TimelineColumns, targets) -> None:
        """Fold ``other`` in, its group ``i`` into ``targets[i]``: both sides at the larger level."""
        np = self.np
        other.consolidate()
        self.consolidate()
        if not len(other.keys):
            return
        theirs = other.keys // _TL_SPAN
        into = targets[theirs]
        level = self.level.copy()
        np.maximum.at(level, into, other.level[theirs])
        mine = self.keys // _TL_SPAN
        my_index = (self.keys % _TL_SPAN - _TL_OFFSET) >> (level[mine] - self.level[mine])
        their_index = (other.keys % _TL_SPAN - _TL_OFFSET) >> (level[into] - other.level[theirs])
        self.level = level
        self._set(
            np.concatenate([mine * _TL_SPAN + my_index, into * _TL_SPAN + their_index]) + _TL_OFFSET,
            np.concatenate([self.calls, other.calls]),
            np.concatenate([self.times, other.times]),
        )
        self.consolidate()

    def buckets(self, size: int) -> list[TimeBuckets]:
        """Every group's ``TimeBuckets``, in group-number order."""
        np = self.np
        self.consolidate()
        owners = self.keys // _TL_SPAN
        bounds = np.searchsorted(owners, np.arange(size + 1)).tolist()
        index = self.keys % _TL_SPAN - _TL_OFFSET
        # copies: a later consolidate adds into these arrays in place, and the buckets keep views
        calls, times = self.calls.copy(), self.times.copy()
        levels = self.level[:size].tolist()
        packed = TimeBuckets.packed
        return [
            packed(
                levels[u],
                index[bounds[u] : bounds[u + 1]],
                calls[bounds[u] : bounds[u + 1]],
                times[bounds[u] : bounds[u + 1]],
            )
            for u in range(size)
        ]


class _DistinctKeys:
    """How many distinct keys (64-bit hashes) each group has seen: a digest's textual variants
    per class.  Exact and mergeable: hashes are kept once each (a key belongs to one group),
    8 bytes a key plus 8 for its group, deduplicated in batches."""

    def __init__(self, np) -> None:
        self.np = np
        self.groups = np.zeros(0, np.int64)
        self.hashes = np.zeros(0, np.uint64)  # sorted, unique
        self.pending_groups = array("q")
        self.pending_hashes = array("Q")

    def add(self, group: int, key_hash: int) -> None:
        self.pending_groups.append(group)
        self.pending_hashes.append(key_hash)
        if len(self.pending_hashes) >= 65536:
            self.consolidate()

    def consolidate(self) -> None:
        if not self.pending_hashes:
            return
        np = self.np
        self._fold(
            np.frombuffer(self.pending_groups, np.int64).copy(), np.frombuffer(self.pending_hashes, np.uint64).copy()
        )
        self.pending_groups, self.pending_hashes = array("q"), array("Q")

    def _fold(self, groups, hashes) -> None:
        np = self.np
        hashes = np.concatenate((self.hashes, hashes))
        groups = np.concatenate((self.groups, groups))
        self.hashes, first = np.unique(hashes, return_index=True)
        self.groups = groups[first]

    def merge(self, other: _DistinctKeys, targets) -> None:
        """Fold ``other`` in, its group ``i`` becoming ``targets[i]`` (a numpy array)."""
        other.consolidate()
        self.consolidate()
        if len(other.hashes):
            self._fold(targets[other.groups], other.hashes)

    def counts(self, size: int) -> list[int]:
        """Distinct keys of groups ``0 .. size - 1``."""
        self.consolidate()
        return self.np.bincount(self.groups, minlength=size)[:size].tolist()

    def __getstate__(self) -> dict:
        self.consolidate()
        state = dict(self.__dict__)
        del state["np"]
        return state

    def __setstate__(self, state: dict) -> None:
        import numpy as np

        self.__dict__.update(state)
        self.np = np


class GroupTable:
    """The statistics of many groups at once, in numpy columns indexed by group number.

    ``fold()`` takes a batch of events and updates every column with vectorised operations
    (bincount, ufunc.at), so the cost per event does not depend on how many groups there
    are.  ``group_stats()`` turns row ``g`` into a ``GroupStats``, the mergeable object the
    rest of the library uses.  The result equals ``GroupStats.add`` applied to each event in
    order (sums may differ in the last bits: floating-point addition order).
    """

    def __init__(self, capacity: int = 1024) -> None:
        import numpy as np

        self.np = np
        self.size = 0
        self.capacity = capacity
        self.count = np.zeros(capacity, np.int64)
        self.histogram = np.zeros((capacity, len(HISTOGRAM_LABELS)), np.int64)
        self.first_ts = np.full(capacity, np.inf)
        self.first_tz = np.full(capacity, _NO_TZ, np.int64)
        self.last_ts = np.full(capacity, -np.inf)
        self.last_tz = np.full(capacity, _NO_TZ, np.int64)
        self.best_qt = np.full(capacity, -np.inf)
        self.examples: list[Example | None] = [None] * capacity
        self.metrics: dict[str, _MetricColumns] = {}
        self.who: Counter[tuple[int, str | None, str | None, str | None]] = Counter()
        self.tags: Counter[tuple[int, str]] = Counter()
        self.timeline = _TimelineColumns(np, capacity)
        self.distinct = _DistinctKeys(np)

    def add_group(self) -> int:
        """A new empty group; returns its number."""
        if self.size == self.capacity:
            self._grow(2 * self.capacity)
        self.size += 1
        return self.size - 1

    def _grow(self, capacity: int) -> None:
        np = self.np

        def grown(old, fill):
            new = np.full((capacity,) + old.shape[1:], fill, dtype=old.dtype)
            new[: len(old)] = old
            return new

        self.count = grown(self.count, 0)
        self.histogram = grown(self.histogram, 0)
        self.first_ts = grown(self.first_ts, np.inf)
        self.first_tz = grown(self.first_tz, _NO_TZ)
        self.last_ts = grown(self.last_ts, -np.inf)
        self.last_tz = grown(self.last_tz, _NO_TZ)
        self.best_qt = grown(self.best_qt, -np.inf)
        self.examples.extend([None] * (capacity - self.capacity))
        for columns in self.metrics.values():
            columns.grow(capacity)
        self.timeline.grow(capacity)
        self.capacity = capacity

    def fold(self, gidx: list[int], events: list[QueryEvent], tagged: list[tuple[int, tuple[str, ...]]]) -> None:
        """Account for a batch of events; ``gidx[i]`` is the group of ``events[i]``."""
        np = self.np
        n = len(events)
        if n == 0:
            return
        size = self.size
        g = np.fromiter(gidx, dtype=np.int64, count=n)
        self.count[:size] += np.bincount(g, minlength=size)
        rows = np.arange(n)

        metric_dicts = [e.metrics for e in events]
        nan = math.nan
        query_time = None
        for name, values in _metric_columns(np, metric_dicts).items():
            present = ~np.isnan(values)
            if present.all():
                v, gi, at = values, g, rows
            else:
                at = np.nonzero(present)[0]
                v, gi = values[at], g[at]
            self._fold_metric(name, v, gi, size)
            if name == "query_time":
                self._fold_examples(events, v, gi, at, size)
                query_time = np.where(present, values, 0.0)

        # Groups whose events have no query time keep their first event as the example.
        missing = [u for u in np.unique(g).tolist() if self.examples[u] is None]
        if missing:
            first_row = np.full(size, n, np.int64)
            np.minimum.at(first_row, g, rows)
            for u in missing:
                self.examples[u] = _example(events[int(first_row[u])], 0.0)

        ts = np.fromiter((nan if e.ts is None else e.ts for e in events), dtype=np.float64, count=n)
        valid = np.nonzero(~np.isnan(ts))[0]
        if valid.size:
            t, gt = ts[valid], g[valid]
            tz = np.fromiter((_NO_TZ if e.tz is None else e.tz for e in events), dtype=np.int64, count=n)[valid]
            low = np.full(size, np.inf)
            np.minimum.at(low, gt, t)
            first = np.full(size, n, np.int64)  # earliest row among equally early events
            hit = t == low[gt]
            np.minimum.at(first, gt[hit], np.nonzero(hit)[0])
            better = np.nonzero(low < self.first_ts[:size])[0]
            self.first_ts[better] = low[better]
            self.first_tz[better] = tz[first[better]]
            high = np.full(size, -np.inf)
            np.maximum.at(high, gt, t)
            last = np.full(size, -1, np.int64)  # latest row among equally late events
            hit = t == high[gt]
            np.maximum.at(last, gt[hit], np.nonzero(hit)[0])
            better = np.nonzero((high >= self.last_ts[:size]) & (last >= 0))[0]
            self.last_ts[better] = high[better]
            self.last_tz[better] = tz[last[better]]
            self.timeline.fold(gt, t, query_time[valid] if query_time is not None else np.zeros(len(valid)))

        self.who.update(zip(gidx, [e.db for e in events], [e.user for e in events], [e.host for e in events]))
        for row, tags in tagged:
            u = gidx[row]
            for tag in tags:
                self.tags[(u, tag)] += 1

    def _fold_metric(self, name: str, v, gi, size: int) -> None:
        np = self.np
        col = self.metrics.get(name)
        if col is None:
            col = self.metrics[name] = _MetricColumns(np, self.capacity)
        col.n[:size] += np.bincount(gi, minlength=size)
        col.total[:size] += np.bincount(gi, weights=v, minlength=size)
        np.minimum.at(col.min, gi, v)
        np.maximum.at(col.max, gi, v)
        unshifted = np.isnan(col.shift[gi])
        if unshifted.any():  # a group's first value becomes its shift (numerical soundness)
            col.shift[gi[unshifted][::-1]] = v[unshifted][::-1]  # the first of repeated indices wins
        d = v - col.shift[gi]
        col.dsum[:size] += np.bincount(gi, weights=d, minlength=size)
        col.dsq[:size] += np.bincount(gi, weights=d * d, minlength=size)
        positive = v > _MIN_POSITIVE
        col.zeros[:size] += np.bincount(gi[~positive], minlength=size)
        if positive.any():
            index = np.clip(np.ceil(np.log(v[positive]) * _INV_LN_GAMMA), 1 - _BUCKET_OFFSET, _BUCKET_OFFSET - 1)
            keys, counts = np.unique(
                gi[positive] * _BUCKET_SPAN + index.astype(np.int64) + _BUCKET_OFFSET, return_counts=True
            )
            col.pending.append((keys, counts))
            col.pending_size += len(keys)
            if col.pending_size > 100_000:
                col.consolidate()

    def _fold_examples(self, events: list[QueryEvent], v, gi, at, size: int) -> None:
        np = self.np
        size_h = len(HISTOGRAM_LABELS)
        with np.errstate(divide="ignore"):
            decade = np.floor(np.log10(v)) + 6
        decade = np.where(v < 1e-5, 0, np.clip(decade, 0, size_h - 1)).astype(np.int64)
        self.histogram[:size] += np.bincount(gi * size_h + decade, minlength=size * size_h).reshape(size, size_h)
        # The slowest event of each group; among equally slow ones the latest (as pt-query-digest).
        high = np.full(size, -np.inf)
        np.maximum.at(high, gi, v)
        hit = v == high[gi]
        last = np.full(size, -1, np.int64)
        np.maximum.at(last, gi[hit], at[hit])
        for u in np.nonzero((high >= self.best_qt[:size]) & (last >= 0))[0].tolist():
            self.best_qt[u] = high[u]
            self.examples[u] = _example(events[int(last[u])], float(high[u]))

    def merge(self, other: GroupTable, targets: list[int]) -> None:
        """Fold ``other`` in: its group ``i`` goes into this table's group ``targets[i]``
        (create the groups with ``add_group`` first).  Exact, like ``GroupStats.merge``."""
        np = self.np
        size = other.size
        if size == 0:
            return
        t = np.asarray(targets, dtype=np.int64)
        np.add.at(self.count, t, other.count[:size])
        np.add.at(self.histogram, t, other.histogram[:size])
        # Several of other's groups may go into one group here (a helper's fast keys into their
        # class): of those, the one with the earliest first event, the one with the latest last
        # event, and the one whose example is the slowest (among equally slow ones the latest
        # in the log, as one pass would keep) stand for them all.
        chosen = _representatives(other, t.tolist()) if len(set(targets)) < len(targets) else None
        first, last, examples = chosen if chosen is not None else (np.arange(size),) * 3
        tf, tl = t[first], t[last]
        # earliest first, latest last; ties: this table's (earlier) first, other's (later) last
        earlier = other.first_ts[first] < self.first_ts[tf]
        self.first_ts[tf[earlier]] = other.first_ts[first][earlier]
        self.first_tz[tf[earlier]] = other.first_tz[first][earlier]
        later = (other.last_ts[last] >= self.last_ts[tl]) & (other.last_ts[last] > -np.inf)
        self.last_ts[tl[later]] = other.last_ts[last][later]
        self.last_tz[tl[later]] = other.last_tz[last][later]
        for i in examples.tolist():
            example = other.examples[i]
            if example is None:
                continue
            u = targets[i]
            mine = self.examples[u]
            if mine is None or (other.best_qt[i] > -np.inf and other.best_qt[i] >= self.best_qt[u]):
                self.examples[u] = example
                self.best_qt[u] = max(self.best_qt[u], other.best_qt[i])
        for name, theirs in other.metrics.items():
            col = self.metrics.get(name)
            if col is None:
                col = self.metrics[name] = _MetricColumns(np, self.capacity)
            n = theirs.n[:size]
            has = n > 0
            tt, n = t[has], n[has]
            o_shift = theirs.shift[:size][has]
            o_dsum, o_dsq = theirs.dsum[:size][has], theirs.dsq[:size][has]
            fresh = np.isnan(col.shift[tt])
            col.shift[tt[fresh]] = o_shift[fresh]
            # Re-express other's sums of (v - b) around our shift a: v - a = (v - b) + (b - a).
            delta = o_shift - col.shift[tt]
            np.add.at(col.dsum, tt, o_dsum + n * delta)
            np.add.at(col.dsq, tt, o_dsq + 2.0 * delta * o_dsum + n * delta * delta)
            np.add.at(col.n, tt, n)
            np.add.at(col.total, tt, theirs.total[:size][has])
            np.minimum.at(col.min, tt, theirs.min[:size][has])
            np.maximum.at(col.max, tt, theirs.max[:size][has])
            np.add.at(col.zeros, tt, theirs.zeros[:size][has])
            theirs.consolidate()
            if len(theirs.keys):
                owner = theirs.keys // _BUCKET_SPAN
                keys = t[owner] * _BUCKET_SPAN + theirs.keys % _BUCKET_SPAN
                # several of their groups may be one of ours: a pending chunk is sorted and unique
                keys, inverse = np.unique(keys, return_inverse=True)
                counts = np.bincount(inverse, weights=theirs.counts, minlength=len(keys)).astype(np.int64)
                col.pending.append((keys, counts))
                col.pending_size += len(keys)
                col.consolidate()
        self.timeline.merge(other.timeline, t)
        self.distinct.merge(other.distinct, t)
        for (i, db, user, host), count in other.who.items():
            self.who[(targets[i], db, user, host)] += count
        for (i, tag), count in other.tags.items():
            self.tags[(targets[i], tag)] += count

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["np"]
        for col in state["metrics"].values():
            col.consolidate()
        state["timeline"].consolidate()
        state["distinct"].consolidate()
        return state

    def __setstate__(self, state: dict) -> None:
        import numpy as np

        self.__dict__.update(state)
        self.np = np
        for col in self.metrics.values():
            col.np = np
        self.distinct.np = np

    def group_stats(self) -> list[GroupStats]:
        """Every group of the table as a ``GroupStats``, in group-number order."""
        np = self.np
        size = self.size
        out = [GroupStats() for _ in range(size)]
        counts = self.count[:size].tolist()
        histograms = self.histogram[:size].tolist()
        for u, grp in enumerate(out):
            grp.count = counts[u]
            grp.histogram = histograms[u]
            grp.example = self.examples[u]
            if self.first_ts[u] != np.inf:
                grp.first_ts = float(self.first_ts[u])
                grp.first_tz = None if self.first_tz[u] == _NO_TZ else int(self.first_tz[u])
            if self.last_ts[u] != -np.inf:
                grp.last_ts = float(self.last_ts[u])
                grp.last_tz = None if self.last_tz[u] == _NO_TZ else int(self.last_tz[u])
        for grp, timeline in zip(out, self.timeline.buckets(size)):
            grp.timeline = timeline
        for name, col in self.metrics.items():
            col.consolidate()
            owners = col.keys // _BUCKET_SPAN
            bounds = np.searchsorted(owners, np.arange(size + 1))
            n = col.n[:size].tolist()
            for u in np.nonzero(col.n[:size])[0].tolist():
                acc = MetricStats()
                acc.n = n[u]
                acc.total = float(col.total[u])
                acc.min, acc.max = float(col.min[u]), float(col.max[u])
                acc.shift = float(col.shift[u])
                acc.dsum, acc.dsq = float(col.dsum[u]), float(col.dsq[u])
                acc.zeros = int(col.zeros[u])
                lo, hi = bounds[u], bounds[u + 1]
                if hi > lo:
                    index = col.keys[lo:hi] - u * _BUCKET_SPAN - _BUCKET_OFFSET
                    low = int(index[0])
                    dense = np.zeros(int(index[-1]) - low + 1, np.int64)
                    dense[index - low] = col.counts[lo:hi]
                    acc.buckets.low = low
                    acc.buckets.counts = array("q", dense.tobytes())
                out[u].metrics[name] = acc
        for (u, db, user, host), count in self.who.items():
            grp = out[u]
            if db is not None:
                grp.databases[db] += count
            if user is not None:
                grp.users[user] += count
            if host is not None:
                grp.hosts[host] += count
        for (u, tag), count in self.tags.items():
            out[u].tags[tag] += count
        return out


def _representatives(table: GroupTable, targets: list[int]):
    """For groups that merge into the same target: which one has the earliest first event, the
    latest last event, the example to keep.  Returns three index arrays, one entry per target."""
    np = table.np
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    best: dict[int, int] = {}
    first_ts, last_ts, best_qt, examples = table.first_ts, table.last_ts, table.best_qt, table.examples
    for i, u in enumerate(targets):
        j = first.get(u)
        if j is None or first_ts[i] < first_ts[j]:
            first[u] = i
        j = last.get(u)
        if j is None or last_ts[i] >= last_ts[j]:
            last[u] = i
        example = examples[i]
        if example is None:
            continue
        j = best.get(u)
        if j is None:
            best[u] = i
            continue
        kept = examples[j]
        if best_qt[i] == best_qt[j] == -np.inf:  # no query times: the first event's example
            if example.line < kept.line:  # type: ignore[union-attr]
                best[u] = i
        elif (best_qt[i], example.line) >= (best_qt[j], kept.line):  # type: ignore[union-attr]
            best[u] = i
    return (
        np.fromiter(first.values(), np.int64),
        np.fromiter(last.values(), np.int64),
        np.fromiter(best.values(), np.int64),
    )


# the rows of _metric_columns' matrix when every dict has one shape, compiled, or None
_metric_rows = speedups.metric_rows if speedups is not None else None


def _metric_columns(np, metric_dicts: list[dict[str, float]]) -> dict[str, object]:
    """The metrics of a batch of events as one float64 column each, NaN where an event lacks
    one.  Events of one log line shape have the same keys in the same order: their values are
    read as rows of one matrix, instead of looking each metric up in each event."""
    n = len(metric_dicts)
    if _metric_rows is not None:
        found = _metric_rows(metric_dicts)  # compiled, when every dict has the first one's shape
        if found is not None:
            names, rows = found
            matrix = np.frombuffer(rows, dtype=np.float64).reshape(n, len(names))
            return {name: matrix[:, j] for j, name in enumerate(names)}
    shapes: dict[tuple[str, ...], list[int]] = {}
    for i, m in enumerate(metric_dicts):
        key = tuple(m)
        rows = shapes.get(key)
        if rows is None:
            shapes[key] = [i]
        else:
            rows.append(i)
    if len(shapes) == 1:
        (names,) = shapes
        matrix = np.array([tuple(m.values()) for m in metric_dicts], dtype=np.float64).reshape(n, len(names))
        return {name: matrix[:, j] for j, name in enumerate(names)}
    columns: dict[str, object] = {}
    for names, rows in shapes.items():
        matrix = np.array([tuple(metric_dicts[i].values()) for i in rows], dtype=np.float64).reshape(
            len(rows), len(names)
        )
        at = np.asarray(rows)
        for j, name in enumerate(names):
            column = columns.get(name)
            if column is None:
                column = columns[name] = np.full(n, np.nan)
            column[at] = matrix[:, j]  # type: ignore[index]
    return columns


def _example(e: QueryEvent, query_time: float) -> Example:
    return Example(e.query, query_time, e.ts, e.tz, e.db, e.user, e.host, e.source, e.line, e.explain)


def fold_batch(
    groups: list[GroupStats],
    gidx: list[int],
    events: list[QueryEvent],
    tagged: list[tuple[int, tuple[str, ...]]],
) -> None:
    """Fold a batch of events into ``groups[gidx[i]]`` through a ``GroupTable``: the result of
    ``GroupStats.add`` for every event in order, with vectorised arithmetic."""
    table = GroupTable(max(1, len(groups)))
    for _ in groups:
        table.add_group()
    table.fold(gidx, events, tagged)
    for target, folded in zip(groups, table.group_stats()):
        if folded.count:
            target.merge(folded)
