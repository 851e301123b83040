"""Slow logs in, a ``DigestResult`` out: sequentially, or in worker processes.

events = SlowLogReader(...).events()         # one pass, streamed
key, tags = fingerprinter.key(event.query)    # cheap, per event
groups[key].add(event, tags)                  # mergeable accumulators
... then, once per distinct key:
info = fingerprinter.describe(key, example)   # sqlglot, once
classes[info.fingerprint].merge(groups[key])  # several fast keys can be one class
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from analyzer.digest import parallel
from analyzer.digest.accumulator import DigestAccumulator
from analyzer.digest.filters import EventFilter
from analyzer.digest.views import Views
from analyzer.errors import InputError
from analyzer.fingerprint.classifier import Mode
from analyzer.model import DigestResult, SourceSummary
from analyzer.sources.generallog import log_kind
from analyzer.sources.slowlog import HEADERLESS_STATEMENT

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes consumed, total bytes or None when unknown) while reading."""


def digest_logs(
    paths: Sequence[str],
    *,
    mode: Mode = "sqlglot",
    event_filter: EventFilter | None = None,
    progress: ProgressCallback | None = None,
    jobs: int | None = 1,
    views: Views | None = None,
) -> DigestResult:
    """Digest one or more slow logs, or general logs (``-`` reads stdin), into query classes.

    ``jobs`` processes read files, and byte ranges of large uncompressed slow logs, in parallel
    (``None``: one per CPU, at most four); their accumulators merge into the same result as
    one sequential pass.  Slow logs and general logs are not digested together
    (``InputError``): a general log has no timings, and holds the statements a slow log of the
    same server has too.

    >>> result = digest_logs(["sample_workloads/shop/slow.log.gz"])   # doctest: +SKIP
    >>> top = max(result.classes, key=lambda c: c.stats.total("query_time"))  # doctest: +SKIP
    """
    started = time.perf_counter()
    from analyzer.digest import state

    stored = [p for p in paths if state.is_state_file(p)]
    if stored:
        return _with_states(
            paths,
            stored,
            mode,
            event_filter,
            started,
            lambda logs: digest_logs(
                logs, mode=mode, event_filter=event_filter, progress=progress, jobs=jobs, views=views
            ),
        )
    _same_kind({path: log_kind(path) for path in paths if path != "-"})
    workers = parallel.default_workers() if jobs is None else max(1, jobs)
    units = parallel.plan(paths, workers, event_filter)
    if workers > 1 and len(units) > 1:
        acc = parallel.digest_units(units, mode, event_filter, workers, progress, views)
        return _checked(acc.result(started))
    acc = DigestAccumulator(mode, event_filter, views)
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
    return _checked(acc.result(started))


def _with_states(
    paths: Sequence[str],
    stored: list[str],
    mode: Mode,
    event_filter: EventFilter | None,
    started: float,
    digest: Callable[[list[str]], DigestResult],
) -> DigestResult:
    """State files (``--save-state``) among the inputs: each is a digest already, merged exactly
    with the others and with ``digest`` of the logs given beside them."""
    from analyzer.digest.state import merge_results, read_state_file

    if event_filter is not None and event_filter.active and not event_filter.only_sources:
        raise InputError(
            f"{stored[0]}: a state file holds digested classes, not events: filters (--since, --database, "
            "--filter, ...) apply when it is saved (mqa digest LOG --filter ... --save-state FILE)"
        )
    results = [read_state_file(p) for p in stored]
    if event_filter is not None and event_filter.sources:
        results = [r for r in results if _keeps_sources(r, event_filter)]
    logs = [p for p in paths if p not in stored]
    if logs:
        results.append(digest(logs))
    if not results:
        raise InputError(f"--source {' '.join(event_filter.sources)}: no input is such a source")  # type: ignore[union-attr]
    if any(r.mode != mode for r in results):
        other = next(r.mode for r in results if r.mode != mode)
        raise InputError(
            f"the state files were made with --fingerprint {other}, not {mode}: give the same --fingerprint "
            "(class ids of the two modes differ)"
        )
    merged = merge_results(results)
    merged.elapsed = time.perf_counter() - started
    _same_kind({s.name: s.kind for s in merged.sources})
    return merged


def _keeps_sources(result: DigestResult, event_filter: EventFilter) -> bool:
    """``--source`` on a state file: its sources are kept or left out whole (a state holds no
    events to sort out; one state per host keeps each host apart)."""
    from analyzer.digest.filters import _matches

    kept = [_matches(s.name, event_filter.sources) for s in result.sources]
    if all(kept):
        return True
    if not any(kept):
        return False
    raise InputError(
        f"--source: a state file holds several sources ({', '.join(s.name for s in result.sources)}) and only some "
        "match: save one state file per source to choose among them"
    )


def _has_headers(source: SourceSummary) -> bool:
    """Whether a reader met at least one event header (damaged or not) in ``source``."""
    return any(sample.reason != HEADERLESS_STATEMENT for sample in source.malformed_samples)


def _same_kind(kinds: dict[str, str | None]) -> None:
    """Raise ``InputError`` when slow logs and general logs are given together."""
    first: dict[str, str] = {}
    for path, kind in kinds.items():
        if kind is not None:
            first.setdefault(kind, path)
    if len(first) > 1:
        raise InputError(
            f"{first['generallog']} is a general query log and {first['slowlog']} a slow log: digest them "
            "separately (a general log has no timings, and its statements would be counted twice)"
        )


def _checked(result: DigestResult) -> DigestResult:
    """Slow logs and general logs mixed (known now that stdin was read too) are an input error;
    so is an input with no event header at all, which is no log (``/bin/ls``, a prose file: a
    general log is one only when an entry was found); a slow log whose every event is damaged (a
    truncated header, an absurd Query_time) or an empty input is a note, as pt-query-digest reads
    them as no events."""
    _same_kind({s.name: s.kind for s in result.sources})
    for source in result.sources:
        if source.kind not in ("slowlog", "generallog") or source.events:
            continue
        if source.malformed and source.kind == "slowlog" and not _has_headers(source):
            first = source.malformed_samples[0] if source.malformed_samples else None
            where = f": line {first.line}: {first.reason}" if first is not None else ""
            raise InputError(f"{source.name}: not a slow log (no event found{where})")
        if source.malformed:
            result.notes.append(f"{source.name}: no usable event ({source.malformed} malformed)")
        else:
            result.notes.append(f"{source.name}: empty (no events)")
    return result
