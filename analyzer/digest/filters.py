"""Which events a digest keeps: time window, database, user, host and comment tags."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from fnmatch import fnmatchcase

from analyzer.errors import UsageError
from analyzer.model import QueryEvent

_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class TimeBound:
    """A point in time from the command line.

    ``aware`` bounds are exact instants (UTC epoch).  Naive bounds ("2024-05-01 10:00") are
    wall-clock times read in each log's own offset, the way the log prints them.
    """

    epoch: float
    aware: bool
    text: str

    def key(self, ts: float, tz: int | None) -> float:
        """The event time comparable with this bound."""
        return ts if self.aware else ts + (tz or 0)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in ``"60s"``, ``"5m"``, ``"1.5h"``, ``"500ms"`` or a plain number of seconds.

    >>> parse_duration("5m")
    300.0
    """
    m = _DURATION.fullmatch(text.strip())
    if m is None:
        raise UsageError(f"cannot read duration {text!r}; use e.g. 30s, 5m, 1h or a number of seconds")
    unit = (m.group(2) or "s").lower()
    return float(m.group(1)) * (0.001 if unit == "ms" else _UNIT_SECONDS[unit])


def parse_time_bound(text: str, now: float | None = None) -> TimeBound:
    """Parse ``--since``/``--until``: ISO-8601 (with or without offset), a date, a Unix
    epoch, or a duration back from now such as ``30m``, ``12h``, ``7d``.

    >>> parse_time_bound("2024-05-01T10:00:00Z").epoch
    1714557600.0
    """
    raw = text.strip()
    if not raw:
        raise UsageError("empty time; use e.g. 2024-05-01T10:00:00, 2024-05-01 or 12h")
    m = _RELATIVE.fullmatch(raw)
    if m:
        seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]
        return TimeBound((time.time() if now is None else now) - seconds, True, raw)
    if re.fullmatch(r"\d{9,11}(?:\.\d+)?", raw):
        return TimeBound(float(raw), True, raw)
    iso = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        raise UsageError(
            f"cannot read time {raw!r}; use ISO-8601 (2024-05-01T10:00:00, with an optional offset), "
            "a date (2024-05-01), a Unix epoch, or a duration back from now (30m, 12h, 7d)"
        ) from None
    if dt.tzinfo is None:
        return TimeBound(dt.replace(tzinfo=timezone.utc).timestamp(), False, raw)
    return TimeBound(dt.timestamp(), True, raw)


@dataclass
class EventFilter:
    """Conditions an event must meet to be counted; an empty filter keeps everything.

    Database, user and host patterns are shell-style globs (``app_*``, ``10.0.*``); a tag is
    ``key=value`` or just ``key``.  Several values of one option mean "any of them".
    """

    since: TimeBound | None = None
    until: TimeBound | None = None
    databases: Sequence[str] = field(default_factory=tuple)
    users: Sequence[str] = field(default_factory=tuple)
    hosts: Sequence[str] = field(default_factory=tuple)
    tags: Sequence[str] = field(default_factory=tuple)
    #: connection ids whose statements are left out (mqa's own session while it collected)
    exclude_threads: frozenset[str] = frozenset()
    #: ``--filter EXPR`` (analyzer.digest.expression), compiled once per process
    expression: str | None = None
    #: ``--source GLOB``: only events of these inputs (a log's path or its --source-name)
    sources: Sequence[str] = field(default_factory=tuple)
    _predicate: object = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        since, until = self.since, self.until
        if since is not None and until is not None and since.aware == until.aware and since.epoch > until.epoch:
            raise UsageError(f"--since {since.text} is later than --until {until.text}: no event is in between")
        if self.expression:
            self._compiled()  # a bad expression is a usage error now, not in a worker

    def _compiled(self):
        if self._predicate is None and self.expression:
            from analyzer.digest.expression import parse_filter

            self._predicate = parse_filter(self.expression)
        return self._predicate

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_predicate"] = None  # closures do not pickle: each worker compiles the text again
        return state

    @property
    def active(self) -> bool:
        return bool(
            self.since
            or self.until
            or self.databases
            or self.users
            or self.hosts
            or self.tags
            or self.exclude_threads
            or self.expression
            or self.sources
        )

    @property
    def only_sources(self) -> bool:
        """The filter keeps whole inputs (``--source``) and nothing else."""
        return bool(self.sources) and not replace(self, sources=()).active

    def keeps(self, event: QueryEvent, tags: tuple[str, ...] = ()) -> bool:
        if self.since is not None or self.until is not None:
            if event.ts is None:
                return False
            if self.since is not None and self.since.key(event.ts, event.tz) < self.since.epoch:
                return False
            if self.until is not None and self.until.key(event.ts, event.tz) > self.until.epoch:
                return False
        if self.databases and not _matches(event.db, self.databases):
            return False
        if self.users and not _matches(event.user, self.users):
            return False
        if self.hosts and not _matches(event.host, self.hosts):
            return False
        if self.sources and not _matches(event.source, self.sources):
            return False
        if self.exclude_threads and event.thread_id in self.exclude_threads:
            return False
        if self.tags and not any(_tag_matches(tag, wanted) for tag in tags for wanted in self.tags):
            return False
        if self.expression:
            return bool(self._compiled()(event, tags))
        return True


def _matches(value: str | None, patterns: Sequence[str]) -> bool:
    if value is None:
        return False
    return any(fnmatchcase(value, p) for p in patterns)


def _tag_matches(tag: str, wanted: str) -> bool:
    if "=" in wanted:
        return tag == wanted
    return tag.split("=", 1)[0] == wanted
