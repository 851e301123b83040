"""The pass of pt-duplicate-key-checker 3.2.1 (its ``DuplicateKeyFinder``) that IDX001
(duplicate), IDX002 (left-prefix) and IDX003 (clustered-key suffix) share: one pass per table
finds all three kinds, in pt's order, and each check reports its own kind.  Duplicate foreign
keys (IDX004, the fourth kind pt reports) are found by their own check.

The options are pt's (``HealthContext``): ``clustered`` (``--[no]clustered``), ``ignore_order``
(``--ignore-order``), ``all_structs`` (``--all-structs``).  Works on any ``Table`` (live or from
DDL); no server needed.

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

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from analyzer.advisor.checks._health import (
    ForeignKeyGuard,
    HealthContext,
    IndexFinding,
    cols_text,
    drop_index_ddl,
    needs_evidence,
    needs_text,
)
from analyzer.sources.schema import Index, IndexColumn, Table, quote_identifier


def duplicate_findings(context: HealthContext) -> list[IndexFinding]:
    """Every IDX001/IDX002/IDX003 finding of the context's tables, in pt's order (computed once
    per context: the checks share it, and the foreign-key guard sees the drops in this order)."""
    found = context.cache.get("duplicates")
    if found is None:
        found = []
        for t, table in enumerate(context.tables):
            dupes = _duplicate_keys(
                table, clustered=context.clustered, ignore_order=context.ignore_order, all_structs=context.all_structs
            )
            for d, dupe in enumerate(dupes):
                finding = _dupe_finding(table, dupe, context.guard)
                finding.order = (0, t, 0, d)
                found.append(finding)
        context.cache["duplicates"] = found
    return found


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
    return len(parts) >= n and all(a.same_as(b) for a, b in zip(parts[len(parts) - n :], suffix))


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
            same = next(
                (k for p, k in singles.get((part.name or part.ddl).lower(), []) if p.sub_part == part.sub_part), None
            )
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


def _remove_prefix_duplicates(
    left: list[_Key], right: list[_Key], dupes: list[_Dupe], *, exact_only: bool = False, all_structs: bool = False
) -> None:
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
                reason = (
                    f"Uniqueness of {rkey.name} ignored because {rkey.constraining.name} "  # type: ignore[union-attr]
                    f"is a {rkey.unconstrained} constraint\n"
                )
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
        dupes.append(
            _Dupe(key, ck, "clustered", f"Key {key.name} ends with a prefix of the clustered index", short=tuple(short))
        )
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
        message = (
            f"Index {index.name} {cols_text(index.columns)} ends with the columns of the clustered index "
            f"{kept.name} {cols_text(kept.columns)}, which InnoDB appends to it anyway: shorten it to {cols_text(short)}"
        )
        ddl = (
            f"ALTER TABLE {table.quoted_name} DROP INDEX {quote_identifier(index.name)}, "
            f"ADD INDEX {quote_identifier(index.name)} ({','.join(p.ddl for p in short)});"
        )
        check, severity = "IDX003", "info"
    else:
        blockers = guard.blockers(table, index)
        how = "a duplicate" if dupe.kind == "exact" else "a left-prefix"
        message = (
            f"Index {index.name} {cols_text(index.columns)} is {how} of {kept.name} {cols_text(kept.columns)}: "
            f"drop {index.name}, keep {kept.name} ({_why_kept(dupe)})"
        )
        ddl = drop_index_ddl(table, index)
        check, severity = ("IDX001" if dupe.kind == "exact" else "IDX002"), "warning"
    safe = not blockers
    if blockers:
        evidence["needed_by_foreign_keys"] = needs_evidence(blockers)
        message += f"; but foreign key {needs_text(blockers)} needs it"
        ddl = (
            f"-- keep {quote_identifier(index.name)} on {table.quoted_name} for foreign key "
            f"{', '.join(n.fk.name for n in blockers)} until another index starts with its columns; then: {ddl}"
        )
        severity = "info"
    else:
        guard.apply(table, index, dupe.short if dupe.kind == "clustered" else None)
    return IndexFinding(check, severity, table.full_name, message, ddl, safe, index.name, kept.name, evidence)
