"""Index health: duplicate and redundant indexes, unused indexes, InnoDB tables without a
primary key.  The library part of ``mqa indexes``.

Each problem is an ``IndexFinding`` with a stable check code (``CHECKS``), a severity, the
table, a one-line message, its evidence and the DDL that fixes it.  ``safe`` says whether that
DDL can be run as it is; when it is False the DDL is advice to adapt (a primary key to choose,
an index a foreign key still needs).

Duplicate and redundant indexes follow the rules of pt-duplicate-key-checker 3.2.1 (its
``DuplicateKeyFinder``), including which index of a pair is kept; ``find_duplicate_indexes()``
says where, and why, this module differs from it.

    from analyzer.indexes import check_indexes

    report = check_indexes(server, ["shop"])       # server: an open analyzer.sources.db.Server
    for finding in report.findings:
        print(finding.check, finding.table, finding.message)
    print("\\n".join(report.statements()))          # the safe fixes, each once
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from analyzer.sources.schema import (
    SYSTEM_SCHEMAS,
    ForeignKey,
    Index,
    IndexColumn,
    QueryRunner,
    Table,
    load_tables,
    quote_identifier,
)

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Check:
    """A check: its stable code, its name, and what it finds and how to fix it (the docs)."""

    code: str
    name: str
    doc: str


CHECKS: dict[str, Check] = {c.code: c for c in (
    Check("IDX001", "duplicate-index",
          "Two indexes on the same columns in the same order (or one is the other read backwards: "
          "KEY (a, b) and KEY (a DESC, b DESC)).  Every write maintains both and the "
          "optimizer gains nothing from the second one.  Fix: drop one; the primary key and a unique "
          "index are kept over a plain one, because they also enforce a constraint."),
    Check("IDX002", "redundant-index",
          "An index whose columns are the leftmost columns of another index (KEY (a) next to KEY (a, b)): "
          "the longer index serves every lookup, range and sort the shorter one does.  Fix: drop the "
          "shorter one.  A unique index is never dropped in favour of a non-unique one unless another "
          "unique index already enforces its uniqueness."),
    Check("IDX003", "clustered-key-suffix",
          "An InnoDB secondary index that ends with the columns of the primary key (KEY (b, a) with "
          "PRIMARY KEY (a)): InnoDB appends the primary key to every secondary index anyway.  Fix: "
          "shorten the index to its other columns."),
    Check("IDX004", "duplicate-foreign-key",
          "Two foreign key constraints between the same columns of the same tables: every write checks "
          "both.  Fix: drop one constraint."),
    Check("IDX005", "unused-index",
          "An index (neither primary nor unique) that performance_schema saw no read through since its "
          "counters started (server start, the table's last rebuild, or a TRUNCATE of "
          "performance_schema.table_io_waits_summary_by_index_usage).  It costs writes, memory and disk. "
          "Fix: drop it once the window covers every job (month-end reports, replicas that run other "
          "queries).  FULLTEXT indexes are not judged: MATCH ... AGAINST reads are not counted."),
    Check("IDX006", "missing-primary-key",
          "An InnoDB table without a primary key: InnoDB clusters it by a unique NOT NULL index or "
          "else by a hidden 6-byte row id; row-based replicas search such tables row by row, and "
          "Galera and group replication need a primary key.  Fix: add a primary key (promote a "
          "unique NOT NULL index, or add an AUTO_INCREMENT column)."),
)}


@dataclass
class IndexFinding:
    """One problem found; ``to_dict()`` is its JSON form."""

    check: str  # a code of CHECKS
    severity: str  # info | warning | critical
    table: str  # db.t
    message: str  # one line
    ddl: str  # the fix; advice to adapt when ``safe`` is False
    safe: bool = True
    index: str | None = None  # the index (or foreign key) to drop or change
    kept: str | None = None  # the index (or foreign key) that makes it redundant, and stays
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return CHECKS[self.check].name

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "name": self.name, "severity": self.severity, "table": self.table,
                "index": self.index, "kept": self.kept, "message": self.message, "ddl": self.ddl,
                "safe": self.safe, "evidence": _jsonable(self.evidence)}


@dataclass(frozen=True)
class UsageWindow:
    """How long performance_schema has been counting index reads, as the server tells it."""

    uptime_seconds: int
    server_started: datetime  # on the server's clock (its session time zone)
    checked_at: datetime
    lost: dict[str, int] = field(default_factory=dict)  # Performance_schema_*_lost counters above 0

    def to_dict(self) -> dict[str, Any]:
        return {"uptime_seconds": self.uptime_seconds, "server_started": self.server_started.isoformat(),
                "checked_at": self.checked_at.isoformat(), "lost": dict(self.lost)}


@dataclass
class UnusedIndexes:
    """What ``find_unused_indexes()`` found, the window it covers, or why it could not look."""

    findings: list[IndexFinding] = field(default_factory=list)
    window: UsageWindow | None = None
    skipped: str | None = None  # why there are no findings at all (performance_schema off, ...)
    not_instrumented: list[str] = field(default_factory=list)  # db.t that performance_schema does not count
    notes: list[str] = field(default_factory=list)


@dataclass
class IndexReport:
    """Everything ``check_indexes()`` found."""

    findings: list[IndexFinding]
    tables: int
    indexes: int
    schemas: list[str]
    window: UsageWindow | None = None
    notes: list[str] = field(default_factory=list)  # checks skipped or failed, and why

    def statements(self) -> list[str]:
        """The DDL of the safe findings, in order, each statement once."""
        seen: dict[str, None] = {}
        for finding in self.findings:
            if finding.safe and finding.ddl:
                seen.setdefault(finding.ddl, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {"schemas": list(self.schemas), "tables": self.tables, "indexes": self.indexes,
                "usage_window": self.window.to_dict() if self.window else None, "notes": list(self.notes),
                "findings": [f.to_dict() for f in self.findings]}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _cols(parts: Iterable[IndexColumn]) -> str:
    return "(" + ",".join(p.ddl for p in parts) + ")"


def _drop_index_ddl(table: Table, index: Index) -> str:
    return f"ALTER TABLE {table.quoted_name} DROP INDEX {quote_identifier(index.name)};"


# --------------------------------------------------------------------------------------------
# Foreign keys: which index each one needs, so that no fix leaves one without.
# --------------------------------------------------------------------------------------------

def _serves_foreign_key(parts: Sequence[IndexColumn], columns: Sequence[str]) -> bool:
    """An index can back a foreign key when the key's columns are its first columns, in order,
    whole (no prefix).  InnoDB's implicit primary-key suffix is not counted (MariaDB accepts it,
    other servers may not)."""
    if len(parts) < len(columns):
        return False
    return all(p.name is not None and p.sub_part is None and p.name.lower() == c.lower()
               for p, c in zip(parts, columns))


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
                    ForeignKeyNeed(fk, table.full_name, fk.ref_columns, "parent"))

    def needs(self, table: Table, index: Index) -> list[ForeignKeyNeed]:
        """The foreign keys ``index`` backs now (whether or not another index could)."""
        current = self._indexes.get((table.schema, table.name), {}).get(index.name.lower())
        if current is None:
            return []
        return [n for n in self._needs.get((table.schema, table.name), []) if _serves_foreign_key(current, n.columns)]

    def blockers(self, table: Table, index: Index, replacement: Sequence[IndexColumn] | None = None) -> list[ForeignKeyNeed]:
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


def _needs_text(needs: Sequence[ForeignKeyNeed]) -> str:
    return ", ".join(f"{n.fk.name} ({n.child} {n.role} side, columns {', '.join(n.columns)})" for n in needs)


def _needs_evidence(needs: Sequence[ForeignKeyNeed]) -> list[dict[str, Any]]:
    return [{"foreign_key": n.fk.name, "table": n.child, "side": n.role, "columns": list(n.columns)} for n in needs]


# --------------------------------------------------------------------------------------------
# Duplicate and redundant indexes (pt-duplicate-key-checker's DuplicateKeyFinder).
# --------------------------------------------------------------------------------------------

@dataclass(eq=False)
class _Key:
    index: Index
    parts: tuple[IndexColumn, ...]
    unique_col: bool = False  # the first unique index on this single column: never dropped
    exact_dupe: bool = False  # a second unique index on the same single column
    constraining: _Key | None = None  # the unique index that already enforces this one's uniqueness
    unconstrained: str | None = None  # "stronger" or "duplicate": uniqueness enforced elsewhere

    @property
    def name(self) -> str:
        return self.index.name

    @property
    def sort_text(self) -> str:
        """The columns as pt sorts them: the SHOW CREATE TABLE text, lower-cased."""
        return ",".join(p.ddl for p in self.parts).lower()


@dataclass
class _Dupe:
    key: _Key
    kept: _Key
    kind: str  # exact | prefix | clustered
    reason: str
    short: tuple[IndexColumn, ...] | None = None


def _is_left_prefix(short: Sequence[IndexColumn], long: Sequence[IndexColumn]) -> bool:
    """``short`` is the leftmost part of ``long``: same columns and prefix lengths, and the same
    directions or all of them reversed (an index read backwards gives the reversed order)."""
    if len(short) > len(long):
        return False
    pairs = list(zip(short, long))
    if not all(replace(a, descending=False).same_as(replace(b, descending=False)) for a, b in pairs):
        return False
    flips = {a.descending != b.descending for a, b in pairs}
    return len(flips) <= 1


def _ends_with(parts: Sequence[IndexColumn], suffix: Sequence[IndexColumn]) -> bool:
    """``parts`` ends with exactly ``suffix`` (directions included: InnoDB appends the clustered
    index's columns in their own direction)."""
    n = len(suffix)
    return len(parts) >= n and all(a.same_as(b) for a, b in zip(parts[len(parts) - n:], suffix))


def _kept_serves(kept: Index, dropped: Index, exact: bool) -> bool:
    """Can ``kept`` do every lookup ``dropped`` does?  A BTREE serves BTREE and HASH lookups on
    its leftmost columns; a HASH (MEMORY) index only equality on all its columns; FULLTEXT and
    SPATIAL indexes only their own kind, on the same columns."""
    if kept.type == "BTREE":
        return dropped.type in ("BTREE", "HASH")
    return kept.type == dropped.type and exact


def _implies_unique(single: IndexColumn, part: IndexColumn) -> bool:
    """A unique index on ``single`` alone makes any unique index containing ``part`` redundant
    as a constraint."""
    if single.name is None or part.name is None or single.name.lower() != part.name.lower():
        return False
    if single.sub_part is None:
        return part.sub_part is None
    return part.sub_part is None or part.sub_part >= single.sub_part


def _unconstrain(primary: _Key | None, unique: list[_Key]) -> list[_Key]:
    """pt's unconstrain_keys(): unique indexes whose uniqueness another unique index already
    enforces are treated as plain indexes; they move (in order) out of ``unique``."""
    singles: dict[str, list[tuple[IndexColumn, _Key]]] = {}
    sets: list[_Key] = []
    for key in ([primary] if primary else []) + unique:
        parts = key.index.columns
        if len(parts) == 1:
            part = parts[0]
            same = next((k for p, k in singles.get((part.name or part.ddl).lower(), [])
                         if p.sub_part == part.sub_part), None)
            if same is None:
                singles.setdefault((part.name or part.ddl).lower(), []).append((part, key))
                key.unique_col = True
            else:
                key.exact_dupe = True
                key.constraining = same
        else:
            sets.append(key)
    stronger: dict[int, _Key] = {}
    for key in sets:
        found = 0
        constraining = None
        for part in key.index.columns:
            match = next((k for p, k in singles.get((part.name or "").lower(), []) if _implies_unique(p, part)), None)
            if match is not None:
                found += 1
                if found > 1:
                    break
                constraining = match
        if found and not key.index.primary:
            stronger[id(key)] = constraining  # type: ignore[assignment]
    moved = []
    for key in list(unique):
        if id(key) in stronger:
            key.unconstrained, key.constraining = "stronger", stronger[id(key)]
        elif key.exact_dupe:
            key.unconstrained = "duplicate"
        else:
            continue
        unique.remove(key)
        moved.append(key)
    return moved


def _remove_prefix_duplicates(left: list[_Key], right: list[_Key], dupes: list[_Dupe], *,
                              exact_only: bool = False, all_structs: bool = False) -> None:
    """pt's remove_prefix_duplicates(): every ``right`` index that is a left-prefix (or a copy) of
    a ``left`` index is a duplicate of the first such ``left`` index and leaves ``right``."""
    same = left is right
    if same:
        # pt: reverse(sort(...)), which also reverses the order of ties
        left[:] = sorted(left, key=lambda k: k.sort_text)[::-1]
    else:
        left[:] = sorted(left, key=lambda k: k.sort_text)
        right[:] = sorted(right, key=lambda k: k.sort_text)
    removed: set[int] = set()
    for li, lkey in enumerate(left):
        if same and li in removed:
            continue
        for ri in range(li + 1 if same else 0, len(right)):
            rkey = right[ri]
            if ri in removed or not _is_left_prefix(rkey.parts, lkey.parts):
                continue
            exact = len(rkey.parts) == len(lkey.parts)
            if exact_only and not exact:
                continue
            if rkey.unique_col:
                continue  # the index that makes a single column unique stays
            if not all_structs and not _kept_serves(lkey.index, rkey.index, exact):
                continue
            if rkey.index.unique and rkey.unconstrained is None and not exact:
                continue  # UNIQUE (a, b) is a stronger constraint than PRIMARY KEY (a, b, c)
            reason = ""
            if rkey.unconstrained:
                reason = (f"Uniqueness of {rkey.name} ignored because {rkey.constraining.name} "  # type: ignore[union-attr]
                          f"is a {rkey.unconstrained} constraint\n")
            reason += f"{rkey.name} is a {'duplicate' if exact else 'left-prefix'} of {lkey.name}"
            dupes.append(_Dupe(rkey, lkey, "exact" if exact else "prefix", reason))
            removed.add(ri)
    right[:] = [k for i, k in enumerate(right) if i not in removed]


def _remove_clustered_duplicates(ck: _Key, keys: list[_Key], dupes: list[_Dupe]) -> None:
    """pt's remove_clustered_duplicates(): InnoDB indexes that end with the clustered index's
    columns, which InnoDB appends to them anyway, are shortened."""
    n = len(ck.parts)
    for key in list(keys):
        if key.index.type != "BTREE" or len(key.parts) <= n:
            continue
        if not _ends_with(key.parts, ck.parts):
            continue
        original = key.index.columns
        short = original[:-n] if _ends_with(original, ck.parts) else key.parts[:-n]
        dupes.append(_Dupe(key, ck, "clustered", f"Key {key.name} ends with a prefix of the clustered index",
                           short=tuple(short)))
        keys.remove(key)


def _duplicate_keys(table: Table, *, clustered: bool, ignore_order: bool, all_structs: bool) -> list[_Dupe]:
    """pt's get_duplicate_keys() for one table."""
    ck_index = table.clustered_index
    primary: _Key | None = None
    unique: list[_Key] = []
    normal: list[_Key] = []
    fulltext: list[_Key] = []
    for index in sorted(table.indexes, key=lambda i: i.name, reverse=True):
        key = _Key(index, index.columns)
        if index.primary or index is ck_index:
            primary = key
            continue
        is_fulltext = index.type == "FULLTEXT"
        if ignore_order or is_fulltext:
            key.parts = tuple(sorted(key.parts, key=lambda p: p.ddl))
        target = unique if index.unique else normal
        if is_fulltext and not all_structs:
            target = fulltext
        target.append(key)

    normal.extend(_unconstrain(primary, unique))
    dupes: list[_Dupe] = []
    if primary is not None:
        _remove_prefix_duplicates([primary], unique, dupes, all_structs=all_structs)
        _remove_prefix_duplicates([primary], normal, dupes, all_structs=all_structs)
    _remove_prefix_duplicates(unique, normal, dupes, all_structs=all_structs)
    _remove_prefix_duplicates(normal, normal, dupes, all_structs=all_structs)
    _remove_prefix_duplicates(fulltext, fulltext, dupes, exact_only=True, all_structs=all_structs)
    if clustered and primary is not None and ck_index is not None:
        _remove_clustered_duplicates(primary, unique, dupes)
        _remove_clustered_duplicates(primary, normal, dupes)
    return dupes


def _duplicate_foreign_keys(table: Table) -> list[tuple[ForeignKey, ForeignKey]]:
    """pt's get_duplicate_fks(): (duplicate, kept) pairs of constraints from the same columns to
    the same columns of the same table."""
    fks = sorted(table.foreign_keys, key=lambda f: f.name)
    alive = [True] * len(fks)
    pairs = []
    for i in range(len(fks)):
        if not alive[i]:
            continue
        for j in range(i + 1, len(fks)):
            a, b = fks[i], fks[j]
            if not alive[j] or (a.ref_schema, a.ref_table) != (b.ref_schema, b.ref_table):
                continue
            if {(c.lower(), r.lower()) for c, r in zip(a.columns, a.ref_columns)} == \
                    {(c.lower(), r.lower()) for c, r in zip(b.columns, b.ref_columns)}:
                pairs.append((b, a))
                alive[j] = False
    return pairs


def _why_kept(dupe: _Dupe) -> str:
    key, kept = dupe.key, dupe.kept
    if key.unconstrained == "stronger":
        why = f"its uniqueness already follows from {key.constraining.name}"  # type: ignore[union-attr]
    elif key.unconstrained == "duplicate":
        why = f"{key.constraining.name} enforces the same uniqueness"  # type: ignore[union-attr]
    elif kept.index.primary:
        why = "the primary key stays"
    elif kept.index.unique and not key.index.unique:
        why = f"{kept.name} also enforces uniqueness"
    elif dupe.kind == "exact" and any(a.descending != b.descending for a, b in zip(key.parts, kept.parts)):
        why = "the same index read backwards"
    elif dupe.kind == "exact":
        why = "same columns in the same order"
    else:
        why = f"{kept.name} serves every lookup {key.name} does"
    return why


def find_duplicate_indexes(
    tables: Sequence[Table],
    *,
    clustered: bool = True,
    ignore_order: bool = False,
    all_structs: bool = False,
    foreign_keys: bool = True,
    guard: ForeignKeyGuard | None = None,
) -> list[IndexFinding]:
    """Duplicate (IDX001), left-prefix redundant (IDX002) and clustered-suffix (IDX003) indexes,
    and duplicate foreign keys (IDX004), by the rules of pt-duplicate-key-checker 3.2.1.

    The options are pt's: ``clustered`` (``--[no]clustered``), ``ignore_order``
    (``--ignore-order``), ``all_structs`` (``--all-structs``); ``foreign_keys=False`` is
    ``--key-types k``.  Works on any ``Table`` (live or from DDL); no server needed.

    Reproduced from pt: the lists it compares and their order (PRIMARY (or InnoDB's clustered
    unique index) against unique and plain indexes, unique against plain, plain against plain,
    FULLTEXT only against FULLTEXT and only exact copies, columns of FULLTEXT indexes in any
    order), so the same index of a pair is kept; a single-column unique index is never dropped;
    a unique index whose uniqueness another unique index enforces is handled as a plain one
    ("Uniqueness of x ignored"); InnoDB indexes ending with the clustered index's columns are
    shortened, not dropped; duplicate foreign keys.

    Where this differs from pt, on purpose:

    - columns compare as (name, prefix length), with the same directions or all of them
      reversed (an index read backwards), not as text: pt calls KEY (c) a left-prefix of
      KEY (c(10)) and drops the full index, calls KEY (a, b) a left-prefix of
      KEY (a, b DESC, c), which cannot sort by a, b, and misses KEY (a DESC, b DESC) next to
      KEY (a, b);
    - a unique index is never dropped as a left-prefix of a longer one (pt drops UNIQUE (a, b)
      next to PRIMARY KEY (a, b, c), losing the constraint);
    - every unique index is compared with every plain index (pt skips pairs by position and
      misses e.g. KEY (c) next to a second UNIQUE (c));
    - HASH (MEMORY) indexes only match exact copies of their kind (a HASH index on (a, b)
      cannot serve lookups on a);
    - InnoDB's clustered index is the primary key or the first unique index on NOT NULL
      columns, as InnoDB chooses it (pt takes the first unique index, nullable or not);
    - the shortened clustered-suffix index keeps its prefix lengths;
    - foreign keys are duplicates when they pair the same columns with the same referenced
      columns (pt compares the two sorted column lists separately);
    - an index a foreign key needs is not dropped unless another index serves that key: the
      finding stays, with advice instead of a statement (``safe=False``);
    - ``all_structs`` compares FULLTEXT with other indexes, as pt documents ``--all-structs``
      (pt 3.2.1 passes the option under another name, so there it changes nothing).
    """
    guard = guard or ForeignKeyGuard(tables)
    findings: list[IndexFinding] = []
    for table in tables:
        for dupe in _duplicate_keys(table, clustered=clustered, ignore_order=ignore_order, all_structs=all_structs):
            findings.append(_dupe_finding(table, dupe, guard))
        if foreign_keys:
            for fk, kept in _duplicate_foreign_keys(table):
                findings.append(_fk_finding(table, fk, kept))
    return findings


def _dupe_finding(table: Table, dupe: _Dupe, guard: ForeignKeyGuard) -> IndexFinding:
    index, kept = dupe.key.index, dupe.kept.index
    evidence: dict[str, Any] = {
        "kind": dupe.kind,
        "reason": dupe.reason,
        "index_ddl": index.ddl,
        "kept_ddl": kept.ddl,
        "columns": list(index.column_names),
        "kept_columns": list(kept.column_names),
        "unique": index.unique,
        "visible": index.visible,
        "cardinality": index.cardinality,
        "table_rows": table.rows,
    }
    if dupe.key.unconstrained:
        evidence["uniqueness_enforced_by"] = dupe.key.constraining.name  # type: ignore[union-attr]
    if dupe.kind == "clustered":
        short = dupe.short or ()
        blockers = guard.blockers(table, index, short)
        evidence["short_columns"] = [p.ddl for p in short]
        message = (f"Index {index.name} {_cols(index.columns)} ends with the columns of the clustered index "
                   f"{kept.name} {_cols(kept.columns)}, which InnoDB appends to it anyway: shorten it to {_cols(short)}")
        ddl = (f"ALTER TABLE {table.quoted_name} DROP INDEX {quote_identifier(index.name)}, "
               f"ADD INDEX {quote_identifier(index.name)} ({','.join(p.ddl for p in short)});")
        check, severity = "IDX003", "info"
    else:
        blockers = guard.blockers(table, index)
        how = "a duplicate" if dupe.kind == "exact" else "a left-prefix"
        message = (f"Index {index.name} {_cols(index.columns)} is {how} of {kept.name} {_cols(kept.columns)}: "
                   f"drop {index.name}, keep {kept.name} ({_why_kept(dupe)})")
        ddl = _drop_index_ddl(table, index)
        check, severity = ("IDX001" if dupe.kind == "exact" else "IDX002"), "warning"
    safe = not blockers
    if blockers:
        evidence["needed_by_foreign_keys"] = _needs_evidence(blockers)
        message += f"; but foreign key {_needs_text(blockers)} needs it"
        ddl = (f"-- keep {quote_identifier(index.name)} on {table.quoted_name} for foreign key "
               f"{', '.join(n.fk.name for n in blockers)} until another index starts with its columns; then: {ddl}")
        severity = "info"
    else:
        guard.apply(table, index, dupe.short if dupe.kind == "clustered" else None)
    return IndexFinding(check, severity, table.full_name, message, ddl, safe, index.name, kept.name, evidence)


def _fk_finding(table: Table, fk: ForeignKey, kept: ForeignKey) -> IndexFinding:
    same_rules = (fk.on_update, fk.on_delete) == (kept.on_update, kept.on_delete)
    message = (f"Foreign key {fk.name} ({', '.join(fk.columns)}) -> {fk.ref_schema}.{fk.ref_table} duplicates "
               f"{kept.name}: drop {fk.name}, keep {kept.name} (the first by name)")
    ddl = f"ALTER TABLE {table.quoted_name} DROP FOREIGN KEY {quote_identifier(fk.name)};"
    evidence = {"kind": "fk", "reason": f"FOREIGN KEY {fk.name} is a duplicate of FOREIGN KEY {kept.name}",
                "foreign_key_ddl": fk.ddl, "kept_ddl": kept.ddl,
                "rules": {"on_update": fk.on_update, "on_delete": fk.on_delete},
                "kept_rules": {"on_update": kept.on_update, "on_delete": kept.on_delete}}
    if not same_rules:
        message += f"; their rules differ (ON DELETE {fk.on_delete} / {kept.on_delete}): keep the one you mean"
        ddl = f"-- the two constraints act differently; drop the one whose rules you do not want: {ddl}"
    return IndexFinding("IDX004", "warning", table.full_name, message, ddl, same_rules, fk.name, kept.name, evidence)


# --------------------------------------------------------------------------------------------
# Unused indexes (performance_schema.table_io_waits_summary_by_index_usage).
# --------------------------------------------------------------------------------------------

_LOST_COUNTERS = ("Performance_schema_index_stat_lost", "Performance_schema_table_instances_lost",
                  "Performance_schema_table_handles_lost")


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


def _like(pattern: str, value: str) -> bool:
    """SQL LIKE (``%`` and ``_``), as setup_objects patterns are matched."""
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _instrumented(objects: Sequence[dict[str, Any]], schema: str, table: str) -> bool:
    """performance_schema.setup_objects: the most specific matching row decides; no row, no counting."""
    best: tuple[int, int] | None = None
    enabled = False
    for row in objects:
        if _like(row["object_schema"], schema) and _like(row["object_name"], table):
            rank = (int(row["object_schema"] != "%"), int(row["object_name"] != "%"))
            if best is None or rank > best:
                best, enabled = rank, str(row["enabled"]).upper() == "YES"
    return enabled


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


#: How long the counters must have run before an unused index is a safe drop: a week covers
#: the weekly jobs; a monthly report's index still needs a longer window (``min_window``).
DEFAULT_MIN_WINDOW = 7 * 86400


def find_unused_indexes(server: QueryRunner, tables: Sequence[Table], *,
                        guard: ForeignKeyGuard | None = None,
                        min_window: float = DEFAULT_MIN_WINDOW) -> UnusedIndexes:
    """Indexes (not PRIMARY, not unique, not FULLTEXT) of ``tables`` with no read counted by
    performance_schema (IDX005), with the window the counters cover.

    An index with no counter row at all (the table was not opened since the counters started,
    or the index is newer than the table's counters) counts as unused; its evidence says so
    (``counter_row: false``).  Each table's window starts at the later of the server's start
    and the table's CREATE_TIME (a rebuild by ALTER TABLE resets its counters); a TRUNCATE of
    the summary table also resets them and leaves no trace.  The counters are this server's
    only: a replica's reads are not in them.  When performance_schema is off, or the table I/O
    instrument or the global_instrumentation consumer is disabled, nothing is reported and
    ``skipped`` says why.  A finding counted over less than ``min_window`` seconds is reported
    but not ``safe``: its DROP is shown as advice to confirm over a longer window.
    """
    result = UnusedIndexes()
    if not getattr(server.capabilities, "performance_schema", False):
        result.skipped = ("performance_schema is OFF on this server, so index reads are not counted; "
                          "start it with performance_schema=ON (my.cnf) to find unused indexes")
        return result
    candidates = [t for t in tables if t.schema.lower() not in SYSTEM_SCHEMAS]
    guard = guard or ForeignKeyGuard(tables)

    status = {r["Variable_name"]: r["Value"] for r in server.query(
        f"SHOW GLOBAL STATUS WHERE Variable_name IN ({_marks(1 + len(_LOST_COUNTERS))})",
        ["Uptime", *_LOST_COUNTERS])}
    now = server.query("SELECT NOW() AS now")[0]["now"]
    uptime = int(status.get("Uptime", 0))
    lost = {k: int(v) for k, v in status.items() if k in _LOST_COUNTERS and int(v) > 0}
    result.window = UsageWindow(uptime, now - timedelta(seconds=uptime), now, lost)
    if lost:
        result.notes.append("performance_schema lost some counters (" + ", ".join(f"{k}={v}" for k, v in lost.items())
                            + "): an index without a counter row may have been used; raise the "
                              "performance_schema_max_* limits")

    switches = {r["name"]: str(r["enabled"]).upper() == "YES" for r in server.query(
        "SELECT NAME AS name, ENABLED AS enabled FROM performance_schema.setup_instruments "
        "WHERE NAME = 'wait/io/table/sql/handler' UNION ALL "
        "SELECT NAME, ENABLED FROM performance_schema.setup_consumers WHERE NAME = 'global_instrumentation'")}
    off = [name for name in ("wait/io/table/sql/handler", "global_instrumentation") if not switches.get(name, False)]
    if off:
        result.skipped = ("performance_schema does not count table I/O here (" + " and ".join(off)
                          + " disabled in setup_instruments/setup_consumers), so unused indexes cannot be told")
        return result
    if not candidates:
        return result

    objects = server.query("SELECT OBJECT_SCHEMA AS object_schema, OBJECT_NAME AS object_name, ENABLED AS enabled "
                           "FROM performance_schema.setup_objects WHERE OBJECT_TYPE = 'TABLE'")
    schemas = sorted({t.schema for t in candidates})
    counters: dict[tuple[str, str], dict[str | None, dict[str, Any]]] = {}
    for row in server.query(
        "SELECT OBJECT_SCHEMA AS object_schema, OBJECT_NAME AS object_name, INDEX_NAME AS index_name, "
        "COUNT_STAR AS count_star, COUNT_READ AS count_read, COUNT_WRITE AS count_write "
        "FROM performance_schema.table_io_waits_summary_by_index_usage "
        f"WHERE OBJECT_TYPE = 'TABLE' AND OBJECT_SCHEMA IN ({_marks(len(schemas))})",
        schemas,
    ):
        counters.setdefault((row["object_schema"], row["object_name"]), {})[row["index_name"]] = row

    window = result.window
    for table in candidates:
        if not _instrumented(objects, table.schema, table.name):
            result.not_instrumented.append(table.full_name)
            continue
        rows = counters.get((table.schema, table.name), {})
        since = window.server_started
        if table.create_time is not None and table.create_time > since:
            since = table.create_time
        for index in table.indexes:
            if index.primary or index.unique or index.type == "FULLTEXT":
                continue
            row = rows.get(index.name)
            count = int(row["count_star"]) if row is not None else 0
            if count:
                continue
            result.findings.append(_unused_finding(table, index, row, since, window, guard, min_window))
    return result


def _unused_finding(table: Table, index: Index, row: dict[str, Any] | None, since: datetime,
                    window: UsageWindow, guard: ForeignKeyGuard, min_window: float) -> IndexFinding:
    counting = (window.checked_at - since).total_seconds()
    evidence: dict[str, Any] = {
        "count_star": int(row["count_star"]) if row is not None else 0,
        "counter_row": row is not None,
        "counting_since": since,
        "counting_seconds": int(counting),
        "uptime_seconds": window.uptime_seconds,
        "table_create_time": table.create_time,
        "table_rows": table.rows,
        "columns": list(index.column_names),
        "index_ddl": index.ddl,
        "visible": index.visible,
    }
    message = (f"Index {index.name} {_cols(index.columns)} had no reads in {_duration(counting)} "
               f"(since {since:%Y-%m-%d %H:%M:%S}; server up {_duration(window.uptime_seconds)})")
    if not index.visible:
        message += "; it is already invisible/ignored"
    ddl = _drop_index_ddl(table, index)
    safe = True
    if guard.is_dropped(table, index):
        evidence["also_redundant"] = True
    elif counting < min_window:
        evidence["min_window_seconds"] = int(min_window)
        message += f"; too short a window to act on (less than {_duration(min_window)})"
        ddl = (f"-- confirm over at least {_duration(min_window)} of counting (jobs that run weekly or monthly "
               f"may need it), then: {ddl}")
        safe = False
    else:
        blockers = guard.blockers(table, index)
        if blockers:
            evidence["needed_by_foreign_keys"] = _needs_evidence(blockers)
            message += f"; foreign key {_needs_text(blockers)} needs it"
            ddl = f"-- keep {quote_identifier(index.name)} on {table.quoted_name}: foreign key " \
                  f"{', '.join(n.fk.name for n in blockers)} needs it (checks on writes do not count as reads)"
            safe = False
        else:
            guard.apply(table, index)
    return IndexFinding("IDX005", "info", table.full_name, message, ddl, safe, index.name, None, evidence)


# --------------------------------------------------------------------------------------------
# InnoDB tables without a primary key.
# --------------------------------------------------------------------------------------------

def find_missing_primary_keys(tables: Sequence[Table]) -> list[IndexFinding]:
    """InnoDB tables without a PRIMARY KEY (IDX006), with the key to add.

    A unique index on NOT NULL columns (what InnoDB already clusters by) is promoted: the DDL is
    safe (``info``).  Otherwise the advice is to make a unique index's columns NOT NULL and
    promote it, to make an AUTO_INCREMENT column the key, or to add one (``warning``, not safe
    to run blindly).
    """
    findings = []
    for table in tables:
        if not table.is_innodb or table.primary_key is not None or table.schema.lower() in SYSTEM_SCHEMAS:
            continue
        clustered = table.clustered_index
        evidence: dict[str, Any] = {"engine": table.engine, "table_rows": table.rows,
                                    "clustered_by": clustered.name if clustered else "hidden row id (DB_ROW_ID)"}
        if clustered is not None:
            cols = ",".join(quote_identifier(c) for c in clustered.column_names)
            ddl = (f"ALTER TABLE {table.quoted_name} DROP INDEX {quote_identifier(clustered.name)}, "
                   f"ADD PRIMARY KEY ({cols});")
            message = (f"InnoDB table has no primary key; it is clustered by unique index {clustered.name} "
                       f"({cols}) on NOT NULL columns: make that the primary key")
            findings.append(IndexFinding("IDX006", "info", table.full_name, message, ddl, True,
                                         clustered.name, None, evidence))
            continue
        unique = next((i for i in table.indexes if i.unique and i.type == "BTREE"
                       and all(p.name is not None and p.sub_part is None for p in i.columns)), None)
        auto = next((c for c in table.columns if "auto_increment" in c.extra.lower()), None)
        if unique is not None:
            cols = ",".join(quote_identifier(c) for c in unique.column_names)
            nullable = [c for c in unique.column_names if (col := table.column(c)) is not None and col.nullable]
            evidence["candidate"] = unique.name
            evidence["nullable_columns"] = nullable
            ddl = (f"-- after making {', '.join(nullable)} NOT NULL (no row may hold NULL there): "
                   f"ALTER TABLE {table.quoted_name} DROP INDEX {quote_identifier(unique.name)}, ADD PRIMARY KEY ({cols});")
            message = (f"InnoDB table has no primary key and is clustered by a hidden row id; unique index "
                       f"{unique.name} ({cols}) could become it once its columns are NOT NULL")
        elif auto is not None:
            evidence["candidate"] = auto.name
            ddl = f"ALTER TABLE {table.quoted_name} ADD PRIMARY KEY ({quote_identifier(auto.name)});"
            message = (f"InnoDB table has no primary key and is clustered by a hidden row id; AUTO_INCREMENT "
                       f"column {auto.name} could be it (if its values are unique)")
        else:
            taken = {c.name.lower() for c in table.columns}
            name = next(n for n in ("id", "row_id", "mqa_id", "mqa_row_id") if n not in taken)
            evidence["candidate"] = None
            ddl = (f"ALTER TABLE {table.quoted_name} ADD PRIMARY KEY (<columns that identify a row>); "
                   f"-- or, when none do: ALTER TABLE {table.quoted_name} ADD COLUMN {quote_identifier(name)} "
                   f"BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY;")
            message = ("InnoDB table has no primary key and no unique index: it is clustered by a hidden row id; "
                       "add a primary key on the columns that identify a row, or an AUTO_INCREMENT column")
        findings.append(IndexFinding("IDX006", "warning", table.full_name, message, ddl, False, None, None, evidence))
    return findings


# --------------------------------------------------------------------------------------------
# Everything at once.
# --------------------------------------------------------------------------------------------

def check_indexes(server: QueryRunner, schemas: Sequence[str] | None = None, *, clustered: bool = True,
                  unused: bool = True, min_window: float = DEFAULT_MIN_WINDOW) -> IndexReport:
    """Load the tables of ``schemas`` (default: every schema but the system ones) and run every
    index check.  Redundant indexes are chosen first, then unused ones, sharing one
    ``ForeignKeyGuard`` so that the safe statements together never leave a foreign key without
    its index.  Unused indexes are safe drops only after ``min_window`` seconds of counting.  A check that fails is recorded in ``notes`` and the others still run.
    """
    tables = load_tables(server, schemas)
    guard = ForeignKeyGuard(tables)
    report = IndexReport([], len(tables), sum(len(t.indexes) for t in tables),
                         sorted({t.schema for t in tables}) if schemas is None else list(schemas))
    runs: list[tuple[str, Callable[[], list[IndexFinding]]]] = [
        ("duplicate indexes", lambda: find_duplicate_indexes(tables, clustered=clustered, guard=guard)),
        ("missing primary keys", lambda: find_missing_primary_keys(tables)),
    ]
    if unused:
        runs.insert(1, ("unused indexes", lambda: _unused(server, tables, guard, report, min_window)))
    for label, run in runs:
        try:
            report.findings.extend(run())
        except Exception as exc:  # noqa: BLE001 - one failed check must not stop the others
            report.notes.append(f"{label}: the check failed ({type(exc).__name__}: {exc})")
    return report


def _unused(server: QueryRunner, tables: Sequence[Table], guard: ForeignKeyGuard, report: IndexReport,
            min_window: float) -> list[IndexFinding]:
    found = find_unused_indexes(server, tables, guard=guard, min_window=min_window)
    report.window = found.window
    if found.skipped:
        report.notes.append(f"unused indexes: {found.skipped}")
    if found.not_instrumented:
        report.notes.append("unused indexes: performance_schema.setup_objects excludes "
                            + ", ".join(found.not_instrumented))
    report.notes.extend(f"unused indexes: {n}" for n in found.notes)
    return found.findings
