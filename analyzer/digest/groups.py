"""``--group-by``: the profile by a dimension of the events (a comment tag such as the route, the
database, the user, the client host, the input file) or of the classes (the tables they read).

Per group value: calls, query time, p95, rows examined and sent, and its classes ranked by time.
Event dimensions are measured event by event (a class whose statements come from two routes
counts in each for its own statements); ``table`` groups whole classes (a class that reads two
tables counts in both, so table groups can add up to more than the total).  The accumulators merge
exactly across files, byte ranges and processes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from urllib.parse import unquote

from analyzer.errors import UsageError
from analyzer.model import QueryEvent
from analyzer.stats import MetricStats

DIMENSIONS = ("tag:KEY", "db", "user", "host", "table", "source")
NONE = "(none)"


def parse_group_by(text: str) -> str:
    """Check a ``--group-by`` value: ``tag:KEY``, ``db``, ``user``, ``host``, ``table`` or ``source``."""
    value = text.strip()
    if value in ("db", "user", "host", "table", "source"):
        return value
    if value.startswith("tag:") and len(value) > 4 and "=" not in value:
        return value
    raise UsageError(f"--group-by {text!r}: choose one of {', '.join(DIMENSIONS)} (e.g. tag:route)")


@dataclass
class GroupPart:
    """One group value's statements of one class."""

    count: int = 0
    query_time: MetricStats = field(default_factory=MetricStats)
    rows_examined: float = 0.0
    rows_sent: float = 0.0

    def merge(self, other: GroupPart) -> None:
        self.count += other.count
        self.query_time.merge(other.query_time)
        self.rows_examined += other.rows_examined
        self.rows_sent += other.rows_sent


class GroupAccumulator:
    """Per (group value, class key): calls, the query-time sketch, rows examined and sent."""

    def __init__(self, by: str) -> None:
        self.by = by
        self.tag = by[4:] + "=" if by.startswith("tag:") else None
        self.parts: dict[tuple[str, Hashable], GroupPart] = {}

    def value(self, event: QueryEvent, tags: tuple[str, ...]) -> str:
        if self.tag is not None:
            found = next((t[len(self.tag) :] for t in tags if t.startswith(self.tag)), None)
            return unquote(found) if found is not None else NONE
        if self.by == "db":
            return event.db or NONE
        if self.by == "user":
            return event.user or NONE
        if self.by == "host":
            return event.host or NONE
        if self.by == "source":
            return event.source or NONE
        return NONE  # table: per class, after the digest

    def add(self, event: QueryEvent, key: Hashable, tags: tuple[str, ...]) -> None:
        if self.by == "table":
            return
        k = (self.value(event, tags), key)
        part = self.parts.get(k)
        if part is None:
            part = self.parts[k] = GroupPart()
        part.count += 1
        metrics = event.metrics
        qt = metrics.get("query_time")
        if qt is not None:
            part.query_time.add(qt)
        part.rows_examined += metrics.get("rows_examined", 0.0)
        part.rows_sent += metrics.get("rows_sent", 0.0)

    def merge(self, other: GroupAccumulator) -> None:
        for k, part in other.parts.items():
            mine = self.parts.get(k)
            if mine is None:
                self.parts[k] = part
            else:
                mine.merge(part)

    def rekey(self, mapping: dict) -> None:
        """Class keys to class ids (the parts of one class merge)."""
        merged: dict[tuple[str, Hashable], GroupPart] = {}
        for (value, key), part in self.parts.items():
            k = (value, mapping.get(key, key))
            mine = merged.get(k)
            if mine is None:
                merged[k] = part
            else:
                mine.merge(part)
        self.parts = merged
