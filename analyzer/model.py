"""The result types every layer shares: what sources produce and what the digest makes of it.

``QueryEvent`` and ``Malformed`` are what sources read; ``ClassInfo`` is what a statement's class
is (the fingerprint's answer); ``QueryClass``, ``SourceSummary`` and ``DigestResult`` are a digest's
outcome, from slow logs or a performance_schema window alike.  This module is the bottom layer:
it imports nothing of mqa's at run time (the statistics type is named for type checkers only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.stats import GroupStats


# Events are dated from 1970 to the end of 2199: a later time (SET timestamp=1000000000000000, a
# general log entry of year 9999) or an earlier one is damage, and time-lines index seconds in
# 2**33.
MAX_EPOCH = 7_258_118_400.0


def plausible_time(ts: float) -> bool:
    """Whether ``ts`` (UTC epoch seconds) is a time a server can have logged: 1970 to 2199.
    Every reader of times (slow and general logs, state files, the history database) checks it."""
    return 0.0 <= ts < MAX_EPOCH


@dataclass(slots=True)
class QueryEvent:
    """One statement as a source saw it.

    ``metrics`` holds every numeric attribute in its base unit (seconds for times, plain
    counts for rows and bytes, 0/1 for Yes/No flags), keyed by a snake_case name such as
    ``query_time`` or ``rows_examined`` (a general log measures nothing: empty).  ``ts`` is the
    UTC epoch of the event (in a slow log when it was logged, i.e. when the statement ended; in a
    general log when the server received it) and ``tz`` the offset in seconds east of UTC the
    source implies for display, or ``None`` when the source's clock has no known offset.
    ``thread_id`` is the connection's id.
    """

    query: str
    metrics: dict[str, float] = field(default_factory=dict)
    ts: float | None = None
    tz: int | None = None
    user: str | None = None
    host: str | None = None
    db: str | None = None
    thread_id: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    admin: bool = False
    explain: list[str] | None = None
    source: str = ""
    line: int = 0


@dataclass(slots=True, frozen=True)
class Malformed:
    """An event a source could not use, with where it was and why; reported, never fatal."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """What a class is, independent of what was measured."""

    id: str
    fingerprint: str
    kind: str
    tables: tuple[str, ...]
    parsed: bool  # sqlglot understood the statement
    parse_error: str | None
    key: str  # a fast key of the class: what its canonical tree is rebuilt from


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
    # A general query log: its layout ("file", "table-tsv", "table-csv"), its connections
    # ({"seen": ids that sent a statement, "opened": Connect entries, "failed": refused}) and its
    # entries per command (statements and bookkeeping alike).
    format: str | None = None
    connections: dict[str, int] = field(default_factory=dict)
    commands: dict[str, int] = field(default_factory=dict)


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
    # Views beyond the classes (analyzer.digest.requests, analyzer.digest.groups), by class id:
    requests: list = field(default_factory=list)  # RouteRequests per route, when requests were seen
    groups: object = None  # a GroupAccumulator with --group-by

    @property
    def malformed(self) -> int:
        return sum(s.malformed for s in self.sources)

    @property
    def flag_metrics(self) -> frozenset[str]:
        return frozenset().union(*(s.flag_metrics for s in self.sources))

    @property
    def unparsed_classes(self) -> int:
        return sum(1 for c in self.classes if not c.info.parsed and not c.admin)
