"""What the index-health checks (IDX001-IDX006) share: the finding type, the context a check
reads (the tables, the foreign-key guard, the usage counters performance_schema gives), and small
helpers.  The checks are one module each (``idx001_duplicate_index.py`` ...); the pipeline that
loads the tables and the counters and runs them is ``analyzer.advisor.health``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analyzer.sources.schema import ForeignKey, Index, IndexColumn, Table, quote_identifier

SEVERITIES = ("info", "warning", "critical")
#: How long the counters must have run before an unused index is a safe drop: a week covers
#: the weekly jobs; a monthly report's index still needs a longer window (``min_window``).
DEFAULT_MIN_WINDOW = 7 * 86400


@dataclass
class IndexFinding:
    """One problem found; ``to_dict()`` is its JSON form."""

    check: str  # the check's code (IDX001 ...)
    severity: str  # info | warning | critical
    table: str  # db.t
    message: str  # one line
    ddl: str  # the fix; advice to adapt when ``safe`` is False
    safe: bool = True
    index: str | None = None  # the index (or foreign key) to drop or change
    kept: str | None = None  # the index (or foreign key) that makes it redundant, and stays
    evidence: dict[str, Any] = field(default_factory=dict)
    order: tuple[int, ...] = field(default=(), compare=False, repr=False)  # where it goes in the report

    @property
    def name(self) -> str:
        from analyzer.advisor.checks import check_named

        return check_named(self.check).name

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "name": self.name,
            "severity": self.severity,
            "table": self.table,
            "index": self.index,
            "kept": self.kept,
            "message": self.message,
            "ddl": self.ddl,
            "safe": self.safe,
            "evidence": jsonable(self.evidence),
        }


@dataclass(frozen=True)
class UsageWindow:
    """How long performance_schema has been counting index reads, as the server tells it."""

    uptime_seconds: int
    server_started: datetime  # on the server's clock (its session time zone)
    checked_at: datetime
    lost: dict[str, int] = field(default_factory=dict)  # Performance_schema_*_lost counters above 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "uptime_seconds": self.uptime_seconds,
            "server_started": self.server_started.isoformat(),
            "checked_at": self.checked_at.isoformat(),
            "lost": dict(self.lost),
        }


@dataclass
class IndexUsage:
    """Index reads performance_schema counted (``table_io_waits_summary_by_index_usage``), as
    ``analyzer.advisor.health.read_index_usage()`` reads them, or why there are none."""

    window: UsageWindow | None = None
    skipped: str | None = None  # why nothing can be told (performance_schema off, ...)
    not_instrumented: list[str] = field(default_factory=list)  # db.t that performance_schema does not count
    notes: list[str] = field(default_factory=list)
    counters: dict[tuple[str, str], dict[str | None, dict[str, Any]]] = field(default_factory=dict)
    instrumented: set[tuple[str, str]] = field(default_factory=set)  # (schema, table) counted


@dataclass
class HealthContext:
    """What an index-health check reads: the tables, the guard shared by every check (so that the
    safe statements together never leave a foreign key without its index), the usage counters
    (None: not read), and the options.  ``cache`` holds work several checks share."""

    tables: Sequence[Table]
    guard: ForeignKeyGuard
    usage: IndexUsage | None = None
    clustered: bool = True  # pt-duplicate-key-checker's --[no]clustered
    ignore_order: bool = False  # --ignore-order
    all_structs: bool = False  # --all-structs
    min_window: float = DEFAULT_MIN_WINDOW
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, tables: Sequence[Table], **options: Any) -> HealthContext:
        return cls(list(tables), ForeignKeyGuard(tables), **options)


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def cols_text(parts: Iterable[IndexColumn]) -> str:
    return "(" + ",".join(p.ddl for p in parts) + ")"


def drop_index_ddl(table: Table, index: Index) -> str:
    return f"ALTER TABLE {table.quoted_name} DROP INDEX {quote_identifier(index.name)};"


def duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


# --------------------------------------------------------------------------------------------
# Foreign keys: which index each one needs, so that no fix leaves one without.
# --------------------------------------------------------------------------------------------


def _serves_foreign_key(parts: Sequence[IndexColumn], columns: Sequence[str]) -> bool:
    """An index can back a foreign key when the key's columns are its first columns, in order,
    whole (no prefix).  InnoDB's implicit primary-key suffix is not counted (MariaDB accepts it,
    other servers may not)."""
    if len(parts) < len(columns):
        return False
    return all(
        p.name is not None and p.sub_part is None and p.name.lower() == c.lower() for p, c in zip(parts, columns)
    )


@dataclass(frozen=True)
class ForeignKeyNeed:
    """A foreign key's need for an index of one of its two tables."""

    fk: ForeignKey
    child: str  # db.t that holds the constraint
    columns: tuple[str, ...]  # the columns an index of this table must start with
    role: str  # "child" or "parent"


class ForeignKeyGuard:
    """The indexes foreign keys need, tracked while fixes are chosen, so that one fix (or two
    together) never leaves a foreign key without an index.  Share one guard between checks."""

    def __init__(self, tables: Iterable[Table]) -> None:
        self._needs: dict[tuple[str, str], list[ForeignKeyNeed]] = {}
        self._indexes: dict[tuple[str, str], dict[str, tuple[IndexColumn, ...]]] = {}
        for table in tables:
            key = (table.schema, table.name)
            self._indexes[key] = {i.name.lower(): i.columns for i in table.indexes if i.type == "BTREE"}
            for fk in table.foreign_keys:
                self._needs.setdefault(key, []).append(ForeignKeyNeed(fk, table.full_name, fk.columns, "child"))
                self._needs.setdefault((fk.ref_schema, fk.ref_table), []).append(
                    ForeignKeyNeed(fk, table.full_name, fk.ref_columns, "parent")
                )

    def needs(self, table: Table, index: Index) -> list[ForeignKeyNeed]:
        """The foreign keys ``index`` backs now (whether or not another index could)."""
        current = self._indexes.get((table.schema, table.name), {}).get(index.name.lower())
        if current is None:
            return []
        return [n for n in self._needs.get((table.schema, table.name), []) if _serves_foreign_key(current, n.columns)]

    def blockers(
        self, table: Table, index: Index, replacement: Sequence[IndexColumn] | None = None
    ) -> list[ForeignKeyNeed]:
        """Foreign keys that would be left without an index if ``index`` were dropped (or
        replaced by an index on ``replacement``)."""
        indexes = self._indexes.get((table.schema, table.name), {})
        others = [cols for name, cols in indexes.items() if name != index.name.lower()]
        if replacement is not None:
            others.append(tuple(replacement))
        return [n for n in self.needs(table, index) if not any(_serves_foreign_key(c, n.columns) for c in others)]

    def apply(self, table: Table, index: Index, replacement: Sequence[IndexColumn] | None = None) -> None:
        """Record that ``index`` is dropped (or replaced)."""
        indexes = self._indexes.setdefault((table.schema, table.name), {})
        if replacement is None:
            indexes.pop(index.name.lower(), None)
        else:
            indexes[index.name.lower()] = tuple(replacement)

    def is_dropped(self, table: Table, index: Index) -> bool:
        return index.type == "BTREE" and index.name.lower() not in self._indexes.get((table.schema, table.name), {})


def needs_text(needs: Sequence[ForeignKeyNeed]) -> str:
    return ", ".join(f"{n.fk.name} ({n.child} {n.role} side, columns {', '.join(n.columns)})" for n in needs)


def needs_evidence(needs: Sequence[ForeignKeyNeed]) -> list[dict[str, Any]]:
    return [{"foreign_key": n.fk.name, "table": n.child, "side": n.role, "columns": list(n.columns)} for n in needs]
