"""Slow logs in, query classes with statistics out: the digest pipeline.

    events = SlowLogReader(...).events()         # one pass, streamed
    key, tags = fingerprinter.key(event.query)    # cheap, per event
    groups[key].add(event, tags)                  # mergeable accumulators
    ... then, once per distinct key:
    info = fingerprinter.describe(key, example)   # sqlglot, once
    classes[info.fingerprint].merge(groups[key])  # several fast keys can be one class

``DigestAccumulator`` is the mergeable state (a chunk of one file, a whole file, or many):
``merge()`` folds two of them exactly, so files, byte ranges or processes can be digested
separately and combined.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from analyzer.events import Malformed, QueryEvent
from analyzer.filters import EventFilter
from analyzer.fingerprint.classifier import ClassInfo, Fingerprinter, Mode
from analyzer.sources.inputs import open_log
from analyzer.sources.slowlog import SlowLogReader
from analyzer.stats import GroupStats, GroupTable

# Events folded per vectorised batch: large enough to amortise numpy calls, small enough
# that a batch of statements (about 300 bytes each, with their attributes) stays a few MB.
BATCH_SIZE = 8192

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes consumed, total bytes or None when unknown) while reading."""


@dataclass
class SourceSummary:
    """What one input contributed."""

    kind: str
    name: str
    events: int = 0  # events read from the input
    kept: int = 0  # events that passed the filters
    malformed: int = 0
    malformed_samples: list[Malformed] = field(default_factory=list)
    dialect: str = ""
    compression: str | None = None
    bytes: int | None = None
    flag_metrics: frozenset[str] = frozenset()  # metrics that are 0/1 flags per event
    flavor_hints: frozenset[str] = frozenset()
    server_version: str | None = None


@dataclass
class QueryClass:
    """One query class: what it is and what was measured."""

    info: ClassInfo
    stats: GroupStats
    pt_id: str
    keys: int  # distinct fast keys folded into this class
    admin: bool = False
    # Per-execution distributions (percentiles, histogram) from another source than ``stats``
    # when ``stats`` cannot have them: a performance_schema window combined with a slow log.
    distribution: GroupStats | None = None

    @property
    def id(self) -> str:
        return self.info.id

    def known_bounds(self, metric: str) -> bool:
        """Whether ``stats`` holds the real minimum and maximum of ``metric`` (a source that
        keeps only sums, like performance_schema, does not)."""
        return True

    def details(self) -> dict:
        """Source-specific facts for the JSON report (an extension of the class object)."""
        return {}

    @property
    def fingerprint(self) -> str:
        return self.info.fingerprint


@dataclass
class DigestResult:
    """The outcome of a digest: classes (unsorted), per-source summaries and totals."""

    mode: str
    classes: list[QueryClass]
    sources: list[SourceSummary]
    totals: GroupStats
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)  # what limits the result's accuracy

    @property
    def malformed(self) -> int:
        return sum(s.malformed for s in self.sources)

    @property
    def flag_metrics(self) -> frozenset[str]:
        return frozenset().union(*(s.flag_metrics for s in self.sources))

    @property
    def unparsed_classes(self) -> int:
        return sum(1 for c in self.classes if not c.info.parsed and not c.admin)


class DigestAccumulator:
    """Mergeable digest state: per group key, the statistics of its events.

    Groups live in a columnar ``GroupTable`` while events stream in and while accumulators
    merge; ``groups`` turns them into ``GroupStats`` objects when they are needed.
    """

    def __init__(self, mode: Mode = "sqlglot", event_filter: EventFilter | None = None) -> None:
        self.fingerprinter = Fingerprinter(mode)
        self.filter = event_filter if event_filter is not None and event_filter.active else None
        self.sources: list[SourceSummary] = []
        self.table: GroupTable | None = None
        self.keys: list[tuple[str, bool]] = []  # group key of each table row
        self._index: dict[tuple[str, bool], int] = {}

    def _table(self) -> GroupTable:
        if self.table is None:
            self.table = GroupTable()
        return self.table

    @property
    def groups(self) -> dict[tuple[str, bool], GroupStats]:
        """Every group key with its statistics."""
        if self.table is None:
            return {}
        return dict(zip(self.keys, self.table.group_stats()))

    def add_events(self, events: Iterable[QueryEvent]) -> int:
        """Fold events in; returns how many passed the filter.

        Events are buffered and folded in batches with vectorised arithmetic
        (``GroupTable.fold``); memory holds one batch, never the whole input.
        """
        with relaxed_gc():
            kept = self._add_events(events)
        release_free_memory()
        return kept

    def _add_events(self, events: Iterable[QueryEvent]) -> int:
        table = self._table()
        index = self._index
        keys = self.keys
        key_of = self.fingerprinter.key
        keep = self.filter.keeps if self.filter is not None else None
        gidx: list[int] = []
        batch: list[QueryEvent] = []
        tagged: list[tuple[int, tuple[str, ...]]] = []
        kept = 0
        for event in events:
            admin = event.admin
            key, tags = key_of(event.query, admin)
            if keep is not None and not keep(event, tags):
                continue
            gi = index.get((key, admin))
            if gi is None:
                gi = index[(key, admin)] = table.add_group()
                keys.append((key, admin))
            if tags:
                tagged.append((len(batch), tags))
            gidx.append(gi)
            batch.append(event)
            if len(batch) >= BATCH_SIZE:
                kept += len(batch)
                table.fold(gidx, batch, tagged)
                gidx, batch, tagged = [], [], []
        kept += len(batch)
        table.fold(gidx, batch, tagged)
        return kept

    def add_log(self, path: str, progress: Callable[[int], None] | None = None) -> SourceSummary:
        """Read one slow log (path, or ``-`` for stdin) into this accumulator."""
        return self.add_reader(SlowLogReader(open_log(path)), progress)

    def add_reader(self, reader: SlowLogReader, progress: Callable[[int], None] | None = None) -> SourceSummary:
        """Read everything a ``SlowLogReader`` yields into this accumulator."""
        log = reader.log
        summary = SourceSummary(kind="slowlog", name=log.name, compression=log.compression, bytes=log.size)
        summary.kept = self.add_events(reader.events(progress))
        summary.events = reader.events_read
        summary.malformed = reader.malformed_count
        summary.malformed_samples = list(reader.malformed)
        summary.dialect = reader.dialect
        summary.flag_metrics = reader.flag_metrics
        summary.flavor_hints = reader.flavor_hints
        summary.server_version = reader.server_version
        self.sources.append(summary)
        return summary

    def merge(self, other: DigestAccumulator) -> None:
        """Fold another accumulator (same mode) into this one, exactly."""
        if other.fingerprinter.mode != self.fingerprinter.mode:
            raise ValueError("cannot merge digests made with different fingerprint modes")
        if other.table is not None:
            self.merge_table(other.keys, other.table)
        self.sources.extend(other.sources)

    def merge_table(self, keys: list[tuple[str, bool]], table: GroupTable) -> None:
        """Fold a ``GroupTable`` whose row ``i`` holds the group ``keys[i]`` into this one."""
        mine = self._table()
        targets = []
        for key in keys:
            gi = self._index.get(key)
            if gi is None:
                gi = self._index[key] = mine.add_group()
                self.keys.append(key)
            targets.append(gi)
        mine.merge(table, targets)

    def classes(self) -> list[QueryClass]:
        """Describe every group once and fold groups into classes."""
        fp = self.fingerprinter
        by_fingerprint: dict[tuple[str, bool], QueryClass] = {}
        for (key, admin), group in self.groups.items():
            example = group.example.query if group.example is not None else key
            info = fp.describe(key, example, admin)
            cls = by_fingerprint.get((info.fingerprint, admin))
            if cls is None:
                stats = GroupStats()
                stats.merge(group)
                by_fingerprint[(info.fingerprint, admin)] = QueryClass(info, stats, "", 1, admin)
            else:
                cls.stats.merge(group)
                cls.keys += 1
        classes = list(by_fingerprint.values())
        for cls in classes:
            example = cls.stats.example.query if cls.stats.example is not None else cls.fingerprint
            cls.pt_id = fp.pt_id(example)
        return classes

    def result(self, started: float | None = None) -> DigestResult:
        classes = self.classes()
        totals = GroupStats()
        for cls in classes:
            totals.merge(cls.stats)
        elapsed = time.perf_counter() - started if started is not None else 0.0
        return DigestResult(self.fingerprinter.mode, classes, list(self.sources), totals, elapsed)


def release_free_memory() -> None:
    """Hand memory freed after a large read back to the operating system (glibc only).

    Batches and caches of a digest leave the C heap fragmented; without this, the freed
    space stays in the process's resident set until it exits.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


@contextlib.contextmanager
def relaxed_gc(threshold: int = 200_000) -> Iterator[None]:
    """Run the cyclic garbage collector less often while events stream through.

    Every event allocates a few objects and a batch keeps tens of thousands alive, so the
    default threshold (700 allocations) makes the collector rescan them over and over; the
    data has no reference cycles to find.  Measured: about 20% of a digest's time.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(threshold, old[0]), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def digest_logs(
    paths: Sequence[str],
    *,
    mode: Mode = "sqlglot",
    event_filter: EventFilter | None = None,
    progress: ProgressCallback | None = None,
    jobs: int | None = 1,
) -> DigestResult:
    """Digest one or more slow logs (``-`` reads stdin) into query classes.

    ``jobs`` processes read files, and byte ranges of large uncompressed files, in parallel
    (``None``: one per CPU, at most four); their accumulators merge into the same result as
    one sequential pass.

    >>> result = digest_logs(["sample_workloads/shop/slow.log.gz"])   # doctest: +SKIP
    >>> top = max(result.classes, key=lambda c: c.stats.total("query_time"))  # doctest: +SKIP
    """
    from analyzer import parallel

    started = time.perf_counter()
    workers = parallel.default_workers() if jobs is None else max(1, jobs)
    units = parallel.plan(paths, workers, event_filter)
    if workers > 1 and len(units) > 1:
        acc = parallel.digest_units(units, mode, event_filter, workers, progress)
        return acc.result(started)
    acc = DigestAccumulator(mode, event_filter)
    sizes = [u.size for u in units]
    total = None if any(size is None for size in sizes) else sum(size or 0 for size in sizes)
    done = 0
    for unit in units:
        file_progress = None
        if progress is not None:
            base = done

            def file_progress(position: int, base: int = base) -> None:
                progress(base + position, total)

        acc.add_log(unit.path, file_progress)
        done += unit.size or 0
        if progress is not None:
            progress(done, total)
    return acc.result(started)
