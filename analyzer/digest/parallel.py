"""Digesting in parallel: files, and byte ranges of large uncompressed files, in worker
processes whose accumulators merge exactly.

A range starts where an event header starts (``slowlog.event_boundaries``).  Whether an event
really starts there depends on what comes before it: header-like text inside a string literal
of the previous statement is statement text.  So each range's reader reports whether its
input ended where an event ends (``SlowLogReader.clean_end``), and a range that did not is
read again together with the next one (``_reconcile``): the result is always the sequential
one.  What a range cannot know on its own is fixed when the ranges of a file are merged, in
order: line numbers are shifted by the lines before the range, and the database of the events
before the range's first ``use db;`` line (the server writes it only when the database
changes) is the last one the previous ranges set.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from analyzer.digest.accumulator import DigestAccumulator, key_hash
from analyzer.digest.filters import EventFilter
from analyzer.digest.views import Views
from analyzer.fingerprint.classifier import Mode
from analyzer.fingerprint.fastkey import prepare_folding
from analyzer.model import Malformed
from analyzer.sources.generallog import log_kind, open_log_reader
from analyzer.sources.inputs import is_splittable, open_log_range
from analyzer.sources.slowlog import SlowLogReader, dialect_name, event_boundaries

# A range smaller than this is not worth a process of its own.
MIN_RANGE_BYTES = 16 << 20
# Stands for "the database set before this range" until the ranges are merged.
INHERITED_DB = "\x00inherited-database"

_progress_slots = None  # shared array of bytes read per unit, set in each worker


@dataclass(frozen=True)
class Unit:
    """One piece of work: a whole input, or bytes [start, end) of an uncompressed file."""

    path: str
    size: int | None
    start: int = 0
    end: int | None = None

    @property
    def is_range(self) -> bool:
        return self.end is not None

    @property
    def byte_count(self) -> int:
        """Input bytes this unit reads (0 for a whole input of unknown size)."""
        return self.end - self.start if self.end is not None else self.size or 0


def total_bytes(units: Sequence[Unit]) -> int | None:
    """Input bytes all units read, or None when the size of one is unknown (stdin, a URL)."""
    return None if any(u.size is None for u in units) else sum(u.byte_count for u in units)


# The default number of processes: all CPUs, but no more than this.  Each process holds its
# own interpreter and statistics (about 60 MB), and mqa often runs on a database host.
DEFAULT_MAX_WORKERS = 4


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    return min(available_cpus(), DEFAULT_MAX_WORKERS)


def plan(paths: Sequence[str], workers: int, event_filter: EventFilter | None) -> list[Unit]:
    """Split the inputs into units: large plain slow logs into up to ``workers`` ranges (a general
    log is read whole: its connections' users and databases are known only from its start)."""
    # A --database filter needs each event's database when it is read, which a range that
    # starts before its first "use db;" line does not know yet: such runs read whole files.
    can_split = workers > 1 and not (event_filter is not None and event_filter.databases)
    units: list[Unit] = []
    for path in paths:
        size = _size(path)
        if (
            can_split
            and size is not None
            and size >= 2 * MIN_RANGE_BYTES
            and is_splittable(path)
            and log_kind(path) == "slowlog"
        ):
            cuts = event_boundaries(path, workers, min_part=MIN_RANGE_BYTES)
            if len(cuts) > 2:
                units.extend(Unit(path, size, a, b) for a, b in itertools.pairwise(cuts))
                continue
        units.append(Unit(path, size))
    return units


@dataclass
class UnitResult:
    keys: list
    table: object  # stats.GroupTable (None when the unit had no events)
    summary: object  # digest.SourceSummary
    lines: int
    last_db: str | None
    clean_end: bool = True  # the range ended where an event ends (see SlowLogReader.clean_end)
    infos: dict | None = None  # sqlglot mode: the class of each group key
    raw: bool = False  # groups are fast keys, not classes (DigestAccumulator.raw)
    folded: dict | None = None  # raw: the folded key of each fast key
    requests: object = None  # requests.RequestAccumulator
    grouping: object = None  # groups.GroupAccumulator or None
    classes: dict | None = None  # raw: the class of the folded keys this unit described (its share)


def _init_worker(slots) -> None:
    """A worker dies with its parent (Linux: the kernel kills it when the parent goes, however
    the parent ends) and leaves Ctrl-C to the parent, which stops the pool."""
    global _progress_slots
    _progress_slots = slots
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before prctl: go now
        os._exit(1)


def _digest_unit(
    index: int,
    unit: Unit,
    mode: Mode,
    event_filter: EventFilter | None,
    on_block=None,
    views: Views | None = None,
    raw: bool = False,
    share: tuple[int, int] | None = None,
) -> UnitResult:
    """Digest one unit.  ``raw`` (the units of a parallel digest): group by fast key and leave
    the classes to the process that merges (``DigestAccumulator.raw``); with ``share`` ``(k,
    n)``, describe the folded keys whose hash is ``k`` modulo ``n`` first (each unit of ``n``
    takes its share, in parallel, instead of the process that merges describing them all)."""
    reader = (
        SlowLogReader(open_log_range(unit.path, unit.start, unit.end)) if unit.is_range else open_log_reader(unit.path)
    )
    if unit.start > 0:
        reader.last_db = INHERITED_DB
    slots = _progress_slots

    def progress(position: int) -> None:
        if slots is not None:
            slots[index] = position
        if on_block is not None:
            on_block(position)

    acc = DigestAccumulator(mode, event_filter, views, raw=raw)
    summary = acc.add_reader(reader, progress)
    classes = None
    if acc.raw and share is not None:
        k, n = share
        fp = acc.fingerprinter
        classes = {}
        for folded in set(acc.folded.values()):
            if folded is not None and key_hash(folded) % n == k:
                info = fp.folded_class(folded)
                if info is not None:
                    classes[folded] = info
    return UnitResult(
        acc.keys,
        acc.table,
        summary,
        reader.lines_read,
        reader.last_db,
        reader.clean_end,
        infos=acc.infos,
        raw=acc.raw,
        folded=acc.folded,
        requests=acc.requests,
        grouping=acc.grouping,
        classes=classes,
    )


def digest_units(
    units: list[Unit], mode: Mode, event_filter: EventFilter | None, workers: int, progress, views: Views | None = None
):
    """Run the units in ``workers`` processes (this one included) and merge in input order.

    This process works too instead of waiting: with two CPUs, one extra process does half of
    the work, and only one more copy of the interpreter is in memory.  The units group by fast
    key; this process turns the keys into classes when it merges.
    """
    import multiprocessing

    global _progress_slots
    import numpy  # noqa: F401 - imported before the workers fork, so its pages are shared

    # Every unit is grouped by fast key (DigestAccumulator.raw); this process describes each
    # distinct key when it merges, once, and several keys fold into one class there.  The units
    # compute the folded key of each new fast key, which needs the words sqlglot's MySQL reader
    # knows: they are read here, before the workers fork, so that sqlglot's modules (about 30
    # MB, which this process needs anyway) are in memory once, shared, not loaded again by each.
    if mode == "sqlglot":
        prepare_folding()

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    slots = context.RawArray("q", len(units))
    total = total_bytes(units)
    results: dict[int, UnitResult] = {}
    queue = list(range(len(units)))
    helpers = min(workers, len(units)) - 1

    def share(index: int) -> tuple[int, int] | None:
        return (index, len(units)) if mode == "sqlglot" else None

    with ProcessPoolExecutor(
        max_workers=helpers, mp_context=context, initializer=_init_worker, initargs=(slots,)
    ) as pool:
        futures: dict[Future, int] = {}

        def collect(timeout: float | None) -> None:
            done, _ = wait(list(futures), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                results[futures.pop(future)] = future.result()  # re-raises a worker's error here

        def report(_position: int = 0) -> None:
            if progress is not None:
                progress(sum(slots), total)

        # The last units go to the helpers, the first to this process: ranges of one file are
        # the same size, so both finish at about the same time.
        while len(futures) < helpers and len(queue) > 1:
            index = queue.pop()
            futures[
                pool.submit(_digest_unit, index, units[index], mode, event_filter, None, views, True, share(index))
            ] = index
        _progress_slots = slots
        try:
            while queue:
                index = queue.pop(0)
                results[index] = _digest_unit(
                    index, units[index], mode, event_filter, report, views, True, share(index)
                )
                collect(0)
                while len(futures) < helpers and len(queue) > 1:
                    index = queue.pop()
                    futures[
                        pool.submit(
                            _digest_unit, index, units[index], mode, event_filter, None, views, True, share(index)
                        )
                    ] = index
            while futures:
                collect(0.25)
                report()
        except BaseException:
            # Ctrl-C, SIGTERM or an error: stop the workers now instead of waiting for them
            for future in futures:
                future.cancel()
            for process in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            _progress_slots = None
    units, results = _reconcile(units, results, mode, event_filter, views)
    merged = DigestAccumulator(mode, event_filter, views)
    _merge_in_order(merged, units, results)
    return merged


def _reconcile(
    units: list[Unit],
    results: dict[int, UnitResult],
    mode: Mode,
    event_filter: EventFilter | None,
    views: Views | None = None,
) -> tuple[list[Unit], dict[int, UnitResult]]:
    """Read again, as one range, each range whose input did not end where an event ends and
    the range after it: its last statement goes on there (a string literal holding text like
    an event header was open at the cut).  Rare, so done here, one after the other."""
    while True:
        k = next(
            (
                i
                for i, u in enumerate(units[:-1])
                if u.is_range
                and not results[i].clean_end
                and units[i + 1].is_range
                and units[i + 1].path == u.path
                and units[i + 1].start == u.end
            ),
            None,
        )
        if k is None:
            return units, results
        first, second = units[k], units[k + 1]
        joined = Unit(first.path, first.size, first.start, second.end)
        units = units[:k] + [joined] + units[k + 2 :]
        results = {(i if i < k else i - 1): r for i, r in results.items() if i not in (k, k + 1)}
        results[k] = _digest_unit(k, joined, mode, event_filter, None, views, True)


def _merge_in_order(merged, units: list[Unit], results: dict[int, UnitResult]) -> None:
    for result in results.values():  # the classes each unit described, before any table is merged
        if result.classes:
            merged.fingerprinter.learn_folded(result.classes)
    lines_before = 0
    known_db: str | None = None
    file_summary = None
    for k, unit in enumerate(units):
        if not unit.is_range or unit.start == 0:  # a new input begins
            if file_summary is not None:
                _finish_summary(merged, file_summary)
            lines_before, known_db, file_summary = 0, None, None
        result = results[k]
        targets: list[int] = []
        if result.table is not None:
            _resolve(result.table, lines_before, known_db)
            targets = merged.merge_table(result.keys, result.table, result.infos, raw=result.raw, folded=result.folded)
            merged.count_sources(result.summary.name, result.table, targets=targets)
        if result.requests is not None:
            merged.merge_views(result.requests, result.grouping, targets)
        summary = result.summary
        summary.malformed_samples = [
            Malformed(m.source, m.line + lines_before, _shift_lines(m.reason, lines_before))
            for m in summary.malformed_samples
        ]
        results[k] = None  # type: ignore[assignment]  # free it: the table is merged
        if file_summary is None:
            file_summary = summary
            file_summary.bytes = unit.size
        else:
            _add_summary(file_summary, summary)
        lines_before += result.lines
        if result.last_db != INHERITED_DB:
            known_db = result.last_db
    if file_summary is not None:
        _finish_summary(merged, file_summary)


_LINE_IN_REASON = re.compile(r"(?<=\bon line )\d+")


def _shift_lines(reason: str, lines_before: int) -> str:
    """A malformed event's reason with the line numbers it names ("opened on line N", "at the
    header on line N") made absolute too, like the event's own line."""
    if not lines_before or "on line " not in reason:
        return reason
    return _LINE_IN_REASON.sub(lambda m: str(int(m.group()) + lines_before), reason)


def _finish_summary(merged, summary) -> None:
    if summary.kind == "slowlog":  # the ranges of a file saw parts of what tells its dialect
        summary.dialect = dialect_name(summary.flavor_hints, summary.server_version)
    merged.sources.append(summary)


def _resolve(table, lines_before: int, known_db: str | None) -> None:
    """Fix what a byte range could not know: absolute line numbers, and the database of
    the events before its first "use db;" line."""
    for example in table.examples[: table.size]:
        if example is not None:
            example.line += lines_before
            if example.db == INHERITED_DB:
                example.db = known_db
    if any(db == INHERITED_DB for (_, db, _, _) in table.who):
        who = type(table.who)()
        for (u, db, user, host), count in table.who.items():
            who[(u, known_db if db == INHERITED_DB else db, user, host)] += count
        table.who = who


def _add_summary(into, other) -> None:
    into.events += other.events
    into.kept += other.kept
    into.malformed += other.malformed
    room = 1000 - len(into.malformed_samples)
    if room > 0:
        into.malformed_samples.extend(other.malformed_samples[:room])
    into.flag_metrics = into.flag_metrics | other.flag_metrics
    into.flavor_hints = into.flavor_hints | other.flavor_hints
    into.server_version = into.server_version or other.server_version


def _size(path: str) -> int | None:
    if path == "-":
        return None
    try:
        return os.path.getsize(path)
    except OSError:
        return None  # open_log reports the real problem
