"""The unit every source produces: one executed statement with its measurements."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class QueryEvent:
    """One statement as a source saw it.

    ``metrics`` holds every numeric attribute in its base unit (seconds for times, plain
    counts for rows and bytes, 0/1 for Yes/No flags), keyed by a snake_case name such as
    ``query_time`` or ``rows_examined``.  ``ts`` is the UTC epoch of the event (when it was
    logged, i.e. when the statement ended) and ``tz`` the offset in seconds east of UTC the
    source implies for display, or ``None`` when the source's clock has no known offset.
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
