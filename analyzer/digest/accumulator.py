"""The digest's mergeable state: per group key, the statistics of its events.

``DigestAccumulator`` is a chunk of one file, a whole file, or many: ``merge()`` folds two of
them exactly, so files, byte ranges or processes can be digested separately and combined.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterable, Iterator

from analyzer.digest.filters import EventFilter
from analyzer.digest.groups import GroupAccumulator
from analyzer.digest.requests import RequestAccumulator
from analyzer.digest.views import Views
from analyzer.fingerprint.classifier import Fingerprinter, Mode
from analyzer.model import DigestResult, QueryClass, QueryEvent, SourceSummary
from analyzer.sources.generallog import GeneralLogReader, open_log_reader
from analyzer.sources.slowlog import SlowLogReader
from analyzer.stats import GroupStats, GroupTable

# Events folded per vectorised batch: large enough to amortise numpy calls, small enough
# that a batch of statements (about 300 bytes each, with their attributes) stays a few MB.
BATCH_SIZE = 8192


class DigestAccumulator:
    """Mergeable digest state: per group key, the statistics of its events.

    Groups live in a columnar ``GroupTable`` while events stream in and while accumulators
    merge; ``groups`` turns them into ``GroupStats`` objects when they are needed.
    """

    def __init__(
        self, mode: Mode = "sqlglot", event_filter: EventFilter | None = None, views: Views | None = None
    ) -> None:
        self.views = views or Views()
        self.requests = RequestAccumulator(
            request_tag=self.views.request_tag, route_tag=self.views.route_tag, infer=self.views.infer_requests
        )
        self.grouping = GroupAccumulator(self.views.group_by) if self.views.group_by else None
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
        requests, wants = self.requests, self.requests.wants
        grouping = self.grouping
        for event in events:
            admin = event.admin
            key, tags = key_of(event.query, admin)
            if keep is not None and not keep(event, tags):
                continue
            gi = index.get((key, admin))
            if gi is None:
                gi = index[(key, admin)] = table.add_group()
                keys.append((key, admin))
            if wants(event.query):
                requests.add(event, gi, tags)
            if grouping is not None:
                grouping.add(event, gi, tags)
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
        """Read one slow log or general log (path, or ``-`` for stdin) into this accumulator."""
        return self.add_reader(open_log_reader(path), progress)

    def add_reader(
        self, reader: SlowLogReader | GeneralLogReader, progress: Callable[[int], None] | None = None
    ) -> SourceSummary:
        """Read everything a ``SlowLogReader`` or ``GeneralLogReader`` yields into this accumulator."""
        log = reader.log
        general = isinstance(reader, GeneralLogReader)
        kind = "generallog" if general else "slowlog"
        summary = SourceSummary(kind=kind, name=log.name, compression=log.compression, bytes=log.size)
        summary.kept = self.add_events(reader.events(progress))
        summary.events = reader.events_read
        summary.malformed = reader.malformed_count
        summary.malformed_samples = list(reader.malformed)
        summary.dialect = reader.dialect
        summary.flag_metrics = reader.flag_metrics
        summary.flavor_hints = reader.flavor_hints
        summary.server_version = reader.server_version
        if general:
            reader.describe(summary)
        self.sources.append(summary)
        return summary

    def merge(self, other: DigestAccumulator) -> None:
        """Fold another accumulator (same mode) into this one, exactly."""
        if other.fingerprinter.mode != self.fingerprinter.mode:
            raise ValueError("cannot merge digests made with different fingerprint modes")
        targets = self.merge_table(other.keys, other.table) if other.table is not None else []
        self.merge_views(other.requests, other.grouping, targets)
        self.sources.extend(other.sources)

    def merge_views(self, requests: RequestAccumulator, grouping: GroupAccumulator | None, targets: list[int]) -> None:
        """Fold another part's per-request and per-group figures (its group ``i`` is ours
        ``targets[i]``); parts merge in input order."""
        mapping = dict(enumerate(targets))
        requests.rekey(mapping)
        self.requests.merge(requests)
        if grouping is not None and self.grouping is not None:
            grouping.rekey(mapping)
            self.grouping.merge(grouping)

    def merge_table(self, keys: list[tuple[str, bool]], table: GroupTable) -> list[int]:
        """Fold a ``GroupTable`` whose row ``i`` holds the group ``keys[i]`` into this one; our
        group of each of its rows."""
        mine = self._table()
        targets = []
        for key in keys:
            gi = self._index.get(key)
            if gi is None:
                gi = self._index[key] = mine.add_group()
                self.keys.append(key)
            targets.append(gi)
        mine.merge(table, targets)
        return targets

    def classes(self) -> list[QueryClass]:
        """Describe every group once and fold groups into classes."""
        fp = self.fingerprinter
        by_fingerprint: dict[tuple[str, bool], QueryClass] = {}
        self.class_of: dict[int, str] = {}  # group -> class id (for the per-request and per-group views)
        for gi, ((key, admin), group) in enumerate(self.groups.items()):
            example = group.example.query if group.example is not None else key
            info = fp.describe(key, example, admin)
            self.class_of[gi] = info.id
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
        result = DigestResult(self.fingerprinter.mode, classes, list(self.sources), totals, elapsed)
        self.requests.rekey(self.class_of)
        result.requests = self.requests.finish()
        if self.grouping is not None:
            self.grouping.rekey(self.class_of)
            result.groups = self.grouping
        return result


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
