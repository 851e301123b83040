"""Incremental reading: each run reads only the events no earlier run of its label has read, and
log rotation loses nothing and counts nothing twice.

The method: a log is known by its **content**, not its name.  After a run, each log's record
holds a hash of its first bytes (up to 4 KiB), how far it was read (decompressed bytes, always at
the end of a whole event), a hash of the 4 KiB before that point, and what the reader carries
from event to event (the current database, the last time, the server's UTC offset, the line
number).  The next run opens each file given, and when its first bytes and the bytes before a
stored point match a record, it reads on from there; otherwise the content is new and is read
from its start.  So:

- a log that grew is read from where the last run stopped;
- a log renamed by logrotate (``slow.log`` -> ``slow.log.1``) is the same content: read on;
- a rotated log compressed later (``slow.log.2.gz``) decompresses to the same content: the read
  part is skipped (decompressed, not counted) and the rest is read;
- ``copytruncate``: the copy is the old content (read on); the truncated original starts with
  new content (read from its start);
- a file recreated with new content is new;
- files may be given in any order, and twice (``slow.log.1`` and ``slow.log.1.gz`` while
  logrotate compresses): within a run, a file whose content was just read is recognised too.

An event half-written at the end of a growing file (the server is writing it) is not read now:
the record stops before it, and the next run reads it whole.  When the next run finds the file
has not grown since, the tail is final (a log cut short) and is read as it is.

Limits: events written between ``copytruncate``'s copy and its truncation are in neither file
(a limit of copytruncate itself); a log whose first 4 KiB change in place (rewritten, not
appended) is new content; stdin has no identity and is read whole every run; files are read one
after another (``mqa digest --jobs`` reads large files in parallel, a history run does not).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from analyzer.digest.accumulator import DigestAccumulator
from analyzer.errors import InputError
from analyzer.history.store import Position
from analyzer.model import DigestResult, Malformed, QueryEvent, SourceSummary
from analyzer.sources.generallog import sniff
from analyzer.sources.inputs import LogInput, open_log
from analyzer.sources.slowlog import SlowLogReader

HEAD = 4096  # bytes hashed at a log's start, and before its read point


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class FileRead:
    """What a run read of one file."""

    path: str
    started_at: int  # decompressed byte the run started at (0: content not seen before)
    read_to: int  # decompressed byte after the last whole event read
    matched: Position | None  # the stored record it continued, if any
    held_back: bool  # an unfinished event at the end was left for the next run
    summary: SourceSummary


@dataclass
class IncrementalPlan:
    """The stored positions of a label, and those this run moves as it reads."""

    stored: list[Position]
    current: dict[tuple[int, str], Position] = field(init=False)
    started_from: dict[tuple[int, str], Position] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.current = {p.key: p for p in self.stored}

    def candidates(self, head: bytes) -> list[Position]:
        """Records whose first bytes are the file's, the furthest read first."""
        found = [
            p for p in self.current.values() if p.head_len <= len(head) and p.head_hash == _hash(head[: p.head_len])
        ]
        return sorted(found, key=lambda p: -p.offset)

    def update(self, matched: Position | None, new: Position) -> None:
        if matched is not None:
            if any(p is matched for p in self.stored):
                self.started_from.setdefault(matched.key, matched)
            self.current.pop(matched.key, None)
        self.current[new.key] = new

    def to_save(self) -> list[Position]:
        stored = {id(p) for p in self.stored}
        return [p for p in self.current.values() if id(p) not in stored]


class _Counting:
    """A decompressed stream that counts the bytes read and keeps the last ``HEAD`` of them."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.count = 0
        self.tail = b""

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        self.count += len(data)
        self.tail = (self.tail + data)[-HEAD:] if len(data) < HEAD else data[-HEAD:]
        return data

    def close(self) -> None:
        self.stream.close()


def _skip(stream: BinaryIO, offset: int) -> bytes | None:
    """Read ``offset`` bytes of ``stream``; the last ``HEAD`` of them (None if it is shorter)."""
    counting = _Counting(stream)
    while counting.count < offset:
        if not counting.read(min(1 << 20, offset - counting.count)):
            return None
    return counting.tail


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = stream.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def _bytes_before(path: str, offset: int) -> bytes | None:
    """The ``HEAD`` bytes of the content before ``offset`` (None: the content is shorter)."""
    log = open_log(path)
    try:
        if log.compression is None:
            if (log.size or 0) < offset:
                return None
            start = max(0, offset - HEAD)
            log._raw.seek(start)
            return _read_exact(log._raw, offset - start)
        return _skip(log.stream, offset)
    finally:
        log.close()


def _head(path: str) -> bytes:
    log = open_log(path)
    try:
        return _read_exact(log.stream, HEAD)
    finally:
        log.close()


def _matches(path: str, p: Position) -> bool:
    tail = _bytes_before(path, p.offset)
    return tail is not None and _hash(tail) == p.tail_hash


def read_incrementally(
    acc: DigestAccumulator,
    path: str,
    plan: IncrementalPlan,
    progress: Callable[[int], None] | None = None,
) -> FileRead:
    """Fold the events of ``path`` that no earlier run read into ``acc``, and move ``plan``."""
    if path == "-":
        return FileRead(path, 0, 0, None, False, acc.add_log(path, progress))
    head = _head(path)
    if sniff(head.decode("utf-8", "surrogateescape")) is not None:
        raise InputError(
            f"{path}: a general query log; a history run reads slow logs only (mqa digest reads general logs)"
        )
    matched = next((p for p in plan.candidates(head) if _matches(path, p)), None)
    start = matched.offset if matched is not None else 0
    log = open_log(path)
    try:
        counting: _Counting | None = None
        if log.compression is None:
            size = log.size or 0
            log._raw.seek(start)
            log.start, log.end = start, size
            final = matched is not None and matched.size == size  # not grown since: its tail is final
        else:
            if _skip(log.stream, start) is None:
                raise InputError(f"{path}: shorter than when an earlier run read it")
            counting = _Counting(log.stream)
            log.stream = counting  # type: ignore[assignment]
            final = True  # compressed: a rotated log, nothing writes to it any more
        reader = SlowLogReader(log)
        _resume(reader, matched)
        lines_before = int(matched.state.get("lines", 0)) if matched is not None else 0
        held: list[QueryEvent] = []
        summary = SourceSummary(kind="slowlog", name=log.name, compression=log.compression, bytes=log.size)
        summary.kept = acc.add_events(_one_behind(reader, reader.events(progress), final, lines_before, held))
        if counting is not None:
            read_to = start + counting.count
            tail = counting.tail if counting.count >= HEAD or start == 0 else None
        else:
            read_to = size
            tail = None
        held_back = not reader.clean_end and not final and reader.tail_start > 0
        if held_back:
            read_to = _line_offset(log, start, reader.tail_start)
            tail = None
            _forget_malformed_from(reader, reader.tail_start)
        lines = lines_before + (reader.tail_start - 1 if held_back else reader.lines_read)
    finally:
        log.close()
    summary.events = reader.events_read - len(held)
    summary.malformed = reader.malformed_count
    summary.malformed_samples = [Malformed(m.source, m.line + lines_before, m.reason) for m in reader.malformed]
    summary.dialect = reader.dialect
    summary.flag_metrics = reader.flag_metrics
    summary.flavor_hints = reader.flavor_hints
    summary.server_version = reader.server_version
    acc.sources.append(summary)
    if tail is None:
        tail = _bytes_before(path, read_to) or b""
    head_len = min(HEAD, read_to)
    state = {
        "last_db": reader.last_db,
        "last_ts": reader.last_ts,
        "last_tz": reader.last_tz,
        "naive_offset": reader.naive_offset,
        "server_version": reader.server_version,
        "flavor_hints": sorted(reader.flavor_hints),
        "lines": lines,
    }
    size_seen = log.size or 0 if log.compression is None else read_to
    position = Position(head_len, _hash(head[:head_len]), read_to, _hash(tail), size_seen, os.path.abspath(path), state)
    plan.update(matched, position)
    return FileRead(path, start, read_to, matched, held_back, summary)


def _one_behind(
    reader: SlowLogReader, events: Iterator[QueryEvent], final: bool, lines_before: int, held: list[QueryEvent]
) -> Iterator[QueryEvent]:
    """The reader's events, each with its line in the whole file; the last one is held back when
    the input ended inside it and the file may still be being written."""
    last: QueryEvent | None = None
    for event in events:
        if last is not None:
            yield last
        event.line += lines_before
        last = event
    if last is None:
        return
    tail = reader.tail_start
    if not reader.clean_end and not final and tail > 0 and last.line - lines_before >= tail:
        held.append(last)
        return
    yield last


def _resume(reader: SlowLogReader, matched: Position | None) -> None:
    """Give the reader what it carried from event to event when the last run stopped."""
    if matched is None:
        return
    state = matched.state
    reader.last_db = state.get("last_db")
    reader.last_ts = state.get("last_ts")
    reader.last_tz = state.get("last_tz")
    reader.naive_offset = state.get("naive_offset")
    reader.server_version = state.get("server_version")
    reader._flavor_hints.update(state.get("flavor_hints", ()))


def _line_offset(log: LogInput, start: int, line: int) -> int:
    """The byte (of an uncompressed file) where line ``line`` (1-based, counted from ``start``)
    begins."""
    with open(log.name, "rb") as handle:
        handle.seek(start)
        offset, newlines = start, 0
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                return offset
            at = -1
            while newlines < line - 1:
                at = chunk.find(b"\n", at + 1)
                if at < 0:
                    break
                newlines += 1
            if newlines == line - 1:
                return offset + at + 1
            offset += len(chunk)


def _forget_malformed_from(reader: SlowLogReader, line: int) -> None:
    """The held-back event is read again next run: what it looked like now is not malformed."""
    kept = [m for m in reader.malformed if m.line < line]
    reader.malformed_count -= len(reader.malformed) - len(kept)
    reader.malformed = kept


def digest_new(
    paths: list[str],
    plan: IncrementalPlan,
    *,
    mode: str = "sqlglot",
    event_filter=None,
    progress: Callable[[int, int | None], None] | None = None,
    views=None,
) -> tuple[DigestResult, list[FileRead]]:
    """The events of ``paths`` that no earlier run read, as a digest; ``plan`` moves to where
    they end.  ``progress`` gets (bytes done, total bytes) as in ``digest_logs``."""
    started = time.perf_counter()
    acc = DigestAccumulator(mode, event_filter, views)  # type: ignore[arg-type]
    reads = []
    sizes = [_size(p) for p in paths]
    total = None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)
    done = 0
    for path, size in zip(paths, sizes):
        file_progress = None
        if progress is not None:

            def file_progress(position: int, base: int = done) -> None:
                progress(base + position, total)

        reads.append(read_incrementally(acc, path, plan, file_progress))
        done += size or 0
    return acc.result(started), reads


def _size(path: str) -> int | None:
    if path == "-":
        return None
    try:
        return os.path.getsize(path)
    except OSError:
        return None
