"""The digest's mergeable state: per group key, the statistics of its events.

``DigestAccumulator`` is a chunk of one file, a whole file, or many: ``merge()`` folds two of
them exactly, so files, byte ranges or processes can be digested separately and combined.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from analyzer.digest.filters import EventFilter
from analyzer.digest.groups import GroupAccumulator
from analyzer.digest.requests import RequestAccumulator
from analyzer.digest.views import Views
from analyzer.fingerprint import fastkey
from analyzer.fingerprint.classifier import Fingerprinter, Mode
from analyzer.fingerprint.fastkey import folded_key
from analyzer.model import ClassInfo, DigestResult, QueryClass, QueryEvent, SourceSummary
from analyzer.sources.generallog import GeneralLogReader, open_log_reader
from analyzer.sources.slowlog import SlowLogReader
from analyzer.stats import GroupStats, GroupTable

# Batches between two hand-backs of freed memory to the operating system: the C heap of a long
# digest fragments, and without this its resident set creeps up with the events read.
TRIM_EVERY = 32

# Fast keys remembered with their group, per kind (statements, administrator commands).
_SLOT_ENTRIES = 16_384


def key_hash(key: str) -> int:
    """A stable 64-bit hash of a fast key (the same in every process, unlike hash())."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8).digest(), "little")


# Events folded per vectorised batch: large enough to amortise numpy calls, small enough
# that a batch of statements (about 300 bytes each, with their attributes) stays a few MB.
BATCH_SIZE = 8192


class DigestAccumulator:
    """Mergeable digest state: per group, the statistics of its events.

    In ``sqlglot`` mode a group is a class: the fingerprinter turns each event's fast key into
    its class as it is read (sqlglot about once per class), ``infos`` holds the classes, and
    the table counts each class's distinct fast keys (its textual variants).  In ``pt`` mode a
    group is a pt-query-digest fingerprint, described once the digest is done.  Groups live in
    a columnar ``GroupTable`` while events stream in and while accumulators merge; ``groups``
    turns them into ``GroupStats`` objects when they are needed.
    """

    def __init__(
        self,
        mode: Mode = "sqlglot",
        event_filter: EventFilter | None = None,
        views: Views | None = None,
        raw: bool = False,
    ) -> None:
        self.views = views or Views()
        self.requests = RequestAccumulator(
            request_tag=self.views.request_tag, route_tag=self.views.route_tag, infer=self.views.infer_requests
        )
        self.grouping = GroupAccumulator(self.views.group_by) if self.views.group_by else None
        self.fingerprinter = Fingerprinter(mode)
        # raw: group by fast key, not by class, and never describe (the units of a parallel
        # digest: no process loads sqlglot while reading; the one that merges describes each
        # distinct key once, see merge_table)
        self.raw = raw and mode == "sqlglot"
        self.filter = event_filter if event_filter is not None and event_filter.active else None
        self.sources: list[SourceSummary] = []
        self.table: GroupTable | None = None
        self.keys: list[tuple[str, bool]] = []  # group key of each table row
        self.infos: dict[tuple[str, bool], ClassInfo] = {}  # sqlglot mode: the class of each group key
        self.folded: dict[str, str | None] = {}  # raw mode: the folded key of each fast key
        # group key -> group, per kind (statements, administrator commands)
        self._index: tuple[dict[str, int], dict[str, int]] = ({}, {})
        # sqlglot mode: fast key -> group, for the keys seen lately (bounded: literals that are
        # not replaced, such as identifiers built per request, make unbounded numbers of keys).
        self._slots: tuple[dict[str, int], dict[str, int]] = ({}, {})
        # group -> events per source (input name): which hosts of a fleet a class ran on
        self.source_counts: dict[int, Counter[str]] = {}

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

    def _group(self, key: str, admin: bool) -> int:
        """The group of a group key (created when new)."""
        index = self._index[admin]
        gi = index.get(key)
        if gi is None:
            gi = index[key] = self._table().add_group()
            self.keys.append((key, admin))
        return gi

    def _raw_group(self, key: str, admin: bool) -> int:
        """raw mode: the group of a fast key, whose textual variant is counted when it is new
        (and whose folded key is computed here, in parallel, for the process that merges)."""
        gi = self._index[admin].get(key)
        if gi is None:
            gi = self._group(key, admin)
            self._table().distinct.add(gi, key_hash(key))
            if not admin:
                self.folded[key] = folded_key(key)
        return gi

    def _class_slot(self, key: str, admin: bool) -> int:
        """sqlglot mode: the group (class) of a fast key not seen lately."""
        fp = self.fingerprinter
        info = fp.describe(key, key, True) if admin else fp.class_of(key)
        group_key = (info.fingerprint, admin)
        gi = self._group(info.fingerprint, admin)
        if group_key not in self.infos:
            self.infos[group_key] = info
        self._table().distinct.add(gi, key_hash(key))
        slots = self._slots[admin]
        if len(slots) >= _SLOT_ENTRIES:
            slots.clear()
        slots[key] = gi
        return gi

    def _add_events(self, events: Iterable[QueryEvent]) -> int:
        table = self._table()
        key_of = self.fingerprinter.key
        known_keys = self.fingerprinter.cached_keys  # key_of's cache, read here first
        keep = self.filter.keeps if self.filter is not None else None
        classes = self.fingerprinter.mode == "sqlglot" and not self.raw
        # the group of a key seen before: of a recent one (classes), or of any (groups are keys)
        slots, admin_slots = self._slots if classes else self._index
        slot_of = self._class_slot if classes else self._raw_group if self.raw else self._group
        gidx: list[int] = []
        batch: list[QueryEvent] = []
        tagged: list[tuple[int, tuple[str, ...]]] = []
        kept = folds = 0
        requests = self.requests
        every_request = requests.wants("")  # else only statements with a trace (see wants)
        grouping = self.grouping
        # the common statement's fast key, compiled (None for anything else; sqlglot mode only)
        simple = fastkey.simple_key if self.fingerprinter.mode == "sqlglot" else None
        for event in events:
            admin = event.admin
            query = event.query
            key = simple(query) if simple is not None and not admin else None
            if key is not None:
                tags: tuple[str, ...] = ()
            else:
                keyed = None if admin else known_keys.get(query)
                key, tags = keyed if keyed is not None else key_of(query, admin)
            if keep is not None and not keep(event, tags):
                continue
            gi = (admin_slots if admin else slots).get(key)
            if gi is None:
                gi = slot_of(key, admin)
            if every_request or "traceparent" in query:
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
                folds += 1
                if not folds % TRIM_EVERY:
                    release_free_memory()
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
        before = self.table.count[: self.table.size].copy() if self.table is not None else None
        summary.kept = self.add_events(reader.events(progress))
        self.count_sources(log.name, self.table, before)
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
        targets = (
            self.merge_table(other.keys, other.table, other.infos, raw=other.raw, folded=other.folded)
            if other.table is not None
            else []
        )
        self.merge_views(other.requests, other.grouping, targets)
        self.sources.extend(other.sources)
        for gi, counts in other.source_counts.items():
            self.source_counts.setdefault(targets[gi], Counter()).update(counts)

    def count_sources(self, name: str, table: GroupTable | None, before=None, targets: list[int] | None = None) -> None:
        """Credit ``name`` (an input) with the events of ``table``'s groups (less ``before``, the
        counts before it was read), which are our groups ``targets`` (default: the same)."""
        if table is None:
            return
        counts = table.count[: table.size]
        if before is not None and len(before):
            counts = counts.copy()
            counts[: len(before)] -= before
        for gi in counts.nonzero()[0].tolist():
            mine = gi if targets is None else targets[gi]
            self.source_counts.setdefault(mine, Counter())[name] += int(counts[gi])

    def merge_views(self, requests: RequestAccumulator, grouping: GroupAccumulator | None, targets: list[int]) -> None:
        """Fold another part's per-request and per-group figures (its group ``i`` is ours
        ``targets[i]``); parts merge in input order."""
        mapping = dict(enumerate(targets))
        requests.rekey(mapping)
        self.requests.merge(requests)
        if grouping is not None and self.grouping is not None:
            grouping.rekey(mapping)
            self.grouping.merge(grouping)

    def merge_table(
        self,
        keys: list[tuple[str, bool]],
        table: GroupTable,
        infos: dict[tuple[str, bool], ClassInfo] | None = None,
        raw: bool = False,
        folded: dict[str, str | None] | None = None,
    ) -> list[int]:
        """Fold a ``GroupTable`` whose row ``i`` holds the group ``keys[i]`` into this one
        (``infos``: the classes of the groups, in sqlglot mode; the first one known is kept).
        ``raw``: its groups are fast keys (``DigestAccumulator.raw``): each goes into its class
        here, several keys into one class; ``folded``: their folded keys, when known.  Returns
        our group of each of its rows."""
        mine = self._table()
        if raw and not self.raw and self.fingerprinter.mode == "sqlglot":
            fp = self.fingerprinter
            known = folded or {}
            targets = []
            for key, admin in keys:
                info = fp.describe(key, key, True) if admin else fp.class_of(key, known.get(key, False))
                targets.append(self._group(info.fingerprint, admin))
                self.infos.setdefault((info.fingerprint, admin), info)
        else:
            targets = [self._group(key, admin) for key, admin in keys]
        if infos:
            for key, info in infos.items():
                self.infos.setdefault(key, info)
        mine.merge(table, targets)
        return targets

    def classes(self) -> list[QueryClass]:
        """The query classes: in sqlglot mode the groups themselves; in pt mode each group is
        described once (sqlglot reads its example for its kind and tables)."""
        fp = self.fingerprinter
        classes: list[QueryClass] = []
        self.class_of: dict[int, str] = {}  # group -> class id (for the per-request and per-group views)
        if self.table is None:
            return classes
        if fp.mode == "sqlglot":
            variants = self.table.distinct.counts(self.table.size)
            for (key, admin), group, n in zip(self.keys, self.table.group_stats(), variants):
                classes.append(QueryClass(self.infos[(key, admin)], group, "", max(1, n), admin))
        else:
            for (key, admin), group in self.groups.items():
                example = group.example.query if group.example is not None else key
                classes.append(QueryClass(fp.describe(key, example, admin), group, "", 1, admin))
        self.class_of = {gi: cls.info.id for gi, cls in enumerate(classes)}
        for cls in classes:
            example = cls.stats.example.query if cls.stats.example is not None else cls.fingerprint
            cls.pt_id = fp.pt_id(example)
        return classes

    def result(self, started: float | None = None) -> DigestResult:
        classes = self.classes()
        for gi, counts in self.source_counts.items():
            classes[gi].stats.sources = Counter(counts)
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
