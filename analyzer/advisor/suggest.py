"""Workload-level index advice: candidates per class, merged per table, ranked by time saved.

For every class with a real sample the statement's shape (analyzer.advisor.query) gives, per
table, what an index could serve:

1. the equality columns (``=``, ``IN``, ``IS NULL``, and join columns when the table is the inner
   side of a join), most selective first;
2. then the ORDER BY (or GROUP BY) columns when every one belongs to the table, so rows come out
   in order and the sort disappears;
3. then one range column (``<``, ``BETWEEN``, ``LIKE 'prefix%'``);
4. and, when the statement reads only a few narrow columns of the table, those as well (covering).

A candidate that a left prefix of an existing index already serves is dropped; one that extends
an existing index replaces it rather than adding a sibling.  Candidates of all classes are then
merged per table (one index serving several classes), ranked by estimated time saved (the class's
total time x the fraction of its rows examined that the index avoids), capped per table, and
warned about when the workload writes to the table often.  Classes where no index can help say so
(``%x%`` search, a low-cardinality filter, a primary-key lookup).

Estimates use the row counts and distinct-value counts of the ``Catalog`` (a live server's
statistics, sampled counts) and the plan when the class was explained; without statistics (a
schema file) suggestions are still made, from the workload's measured rows examined, and marked
unverified.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analyzer.advisor.evidence import ClassEvidence, reconcile
from analyzer.advisor.query import ColumnRef, Predicate, QueryShape, Scope, TableRef, analyze_query
from analyzer.errors import AnalyzerError
from analyzer.sources.explain import Plan
from analyzer.sources.schema import Catalog, Index, Table, quote_identifier

DEFAULT_MAX_PER_TABLE = 3
MIN_ROWS_FOR_INDEX = 1_000  # tables smaller than this are read whole in no time
NOMINAL_ROWS = 100_000  # table size assumed for estimates when nothing is known (schema file, one statement)
LOW_SELECTIVITY = 0.2  # an index that still leaves 20% of the table to read is not worth it
RANGE_SELECTIVITY = 0.1  # fraction of rows a range predicate is assumed to keep without histograms
MIN_REDUCTION = 0.5  # a candidate must avoid at least half of the rows its table's access reads
WRITE_HEAVY_SHARE = 0.2  # writes >= 20% of the statements touching a table: warn about the write cost
MAX_COVERING_EXTRA = 2
COVERING_MIN_ROWS = 100  # rows an index returns per execution before covering columns pay for themselves
COVERING_FREQUENT_CALLS = 200  # ... or a class this frequent ...
COVERING_MIN_LOOKUPS = 20_000  # ... whose table lookups add up to this many over the workload
SMALL_TABLE_MIN_ROWS_SAVED = 10_000  # a small table's index must save this many rows over the workload ...
WRITE_COST_ROWS = 10.0  # ... and more than its upkeep: each write to the table costs about this many rows read
NARROW_TYPES = re.compile(
    r"^(tinyint|smallint|mediumint|int|integer|bigint|date|datetime|timestamp|time|year|"
    r"decimal|float|double|char\(\d\)|varchar\(([1-9]|[12]\d|3[0-2])\)|enum|bit)",
    re.IGNORECASE,
)


class AdvisorError(AnalyzerError):
    """The advisor cannot run with what it was given."""


@dataclass
class WorkloadClass:
    """One query class as the advisor sees it: a real sample, its database, and what it cost."""

    class_id: str
    sample: str | None
    database: str | None = None
    count: int = 1
    query_time_total: float = 0.0
    rows_examined_avg: float | None = None
    rows_sent_avg: float | None = None
    fingerprint: str = ""
    plan: Plan | None = None
    window_seconds: float | None = None


@dataclass
class Candidate:
    """An index one class would use on one table."""

    table: Table
    columns: tuple[str, ...]
    class_id: str
    eq_columns: tuple[str, ...]
    rows_before: float  # rows of this table the statement reads per execution today
    rows_after: float  # estimated with the index
    time_saved: float  # seconds over the workload
    reason: str  # what the index does: "lookup", "lookup + order", "range", "covering"
    extends: Index | None = None  # an existing index this one would replace
    eq_fraction: float = 1.0  # share of the table the equality columns alone keep
    calls: int = 0  # executions of the class in the workload
    small_table: bool = False  # the table is small: worth an index only if the calls add up

    @property
    def rows_saved(self) -> float:
        """Rows the index saves over the whole workload (calls x rows saved per call)."""
        return max(self.calls, 0) * max(0.0, self.rows_before - self.rows_after)

    @property
    def reduction(self) -> float:
        if self.rows_before <= 0:
            return 0.0
        return max(0.0, 1.0 - self.rows_after / self.rows_before)


@dataclass
class NoIndexHelps:
    """A class (and table) for which no index is suggested, and why."""

    class_id: str
    table: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"class_id": self.class_id, "table": self.table, "reason": self.reason}


@dataclass
class ClassEstimate:
    class_id: str
    rows_before: float
    rows_after: float
    time_saved: float
    chosen_key_before: str | None = None
    chosen_key_after: str | None = None
    verified_rows_before: float | None = None  # the statement's rows examined, EXPLAIN's estimate
    verified_rows_after: float | None = None
    sort_before: bool | None = None  # the plan sorts (filesort)
    sort_after: bool | None = None
    calls: int = 0
    actual_rows_before: float | None = None  # rows really read on the scratch copy (MariaDB ANALYZE)
    actual_rows_after: float | None = None


@dataclass
class IndexSuggestion:
    """One index to add (``replaces`` an existing one when it extends it)."""

    table: Table
    columns: tuple[str, ...]
    name: str
    classes: list[ClassEstimate] = field(default_factory=list)
    replaces: Index | None = None
    verified: bool | None = None  # None: not verified; False: the optimizer did not choose it
    verification_note: str = ""
    warnings: list[str] = field(default_factory=list)
    reason: str = ""
    may_change: list[str] = field(default_factory=list)  # other classes reading the table: plans may change
    eq_count: int = 0  # how many leading columns are equality lookups (their order is free)

    @property
    def time_saved(self) -> float:
        return sum(c.time_saved for c in self.classes)

    @property
    def class_ids(self) -> list[str]:
        return [c.class_id for c in self.classes]

    @property
    def definition(self) -> str:
        return f"{quote_identifier(self.name)} (" + ", ".join(quote_identifier(c) for c in self.columns) + ")"

    def estimate(self) -> dict[str, Any]:
        before = sum(c.rows_before * 1.0 for c in self.classes)
        after = sum(c.rows_after * 1.0 for c in self.classes)
        out: dict[str, Any] = {
            "rows_before": round(before, 1),
            "rows_after": round(after, 1),
            "time_saved": round(self.time_saved, 6),
        }
        if any(c.verified_rows_before is not None for c in self.classes):
            out["verified_rows_before"] = sum(c.verified_rows_before or 0 for c in self.classes)
            out["verified_rows_after"] = sum(c.verified_rows_after or 0 for c in self.classes)
        return out

    def to_dict(self, ddl: str) -> dict[str, Any]:
        return {
            "table": self.table.full_name,
            "columns": list(self.columns),
            "name": self.name,
            "ddl": ddl,
            "class_ids": self.class_ids,
            "verified": bool(self.verified),
            "verification": "not verified" if self.verified is None else self.verification_note,
            "estimate": self.estimate(),
            "replaces": self.replaces.name if self.replaces else None,
            "reason": self.reason,
            "warnings": self.warnings,
            "may_change_plans": self.may_change,
            "classes": [
                {
                    "class_id": c.class_id,
                    "rows_before": round(c.rows_before, 1),
                    "rows_after": round(c.rows_after, 1),
                    "time_saved": round(c.time_saved, 6),
                    "key_before": c.chosen_key_before,
                    "key_after": c.chosen_key_after,
                    "verified_rows_before": c.verified_rows_before,
                    "verified_rows_after": c.verified_rows_after,
                    "sort_before": c.sort_before,
                    "sort_after": c.sort_after,
                    "actual_rows_before": c.actual_rows_before,
                    "actual_rows_after": c.actual_rows_after,
                }
                for c in self.classes
            ],
        }


@dataclass
class IndexAdvice:
    """Everything the index advisor concluded for a workload."""

    suggestions: list[IndexSuggestion]
    no_help: list[NoIndexHelps]
    skipped: list[NoIndexHelps]  # classes that could not be analyzed (no sample, unparsable)
    online_ddl: bool = True
    statistics: str = "live"

    def ddl_statements(self) -> list[str]:
        """One ALTER TABLE per table: its new indexes (and the drops of indexes they extend)."""
        by_table: dict[str, list[IndexSuggestion]] = {}
        for s in self.suggestions:
            if s.verified is False:
                continue
            by_table.setdefault(s.table.full_name, []).append(s)
        statements = []
        for _, items in sorted(by_table.items()):
            statements.append(alter_table_ddl(items[0].table, items, online=self.online_ddl))
        return statements

    def ddl_for(self, suggestion: IndexSuggestion) -> str:
        return alter_table_ddl(suggestion.table, [suggestion], online=self.online_ddl)


def alter_table_ddl(table: Table, suggestions: Sequence[IndexSuggestion], *, online: bool = True) -> str:
    """``ALTER TABLE `db`.`t` DROP INDEX ..., ADD INDEX ..., ALGORITHM=INPLACE, LOCK=NONE`` (the online
    clauses for InnoDB tables only).

    >>> t = Table("db", "t", "MyISAM")
    >>> alter_table_ddl(t, [IndexSuggestion(t, ("a", "b"), "idx_t_a_b")])
    'ALTER TABLE `db`.`t` ADD INDEX `idx_t_a_b` (`a`, `b`)'
    """
    parts = []
    for s in suggestions:
        if s.replaces is not None:
            parts.append(f"DROP INDEX {quote_identifier(s.replaces.name)}")
        parts.append(f"ADD INDEX {s.definition}")
    if online and (table.is_innodb or table.engine is None):  # MyISAM and MEMORY cannot add indexes online
        parts.extend(["ALGORITHM=INPLACE", "LOCK=NONE"])
    return f"ALTER TABLE {table.quoted_name} " + ", ".join(parts)


def index_name(table: Table, columns: Sequence[str]) -> str:
    """``idx_<table>_<col>_<col>``, cut to MySQL's 64 characters with a hash suffix when needed."""
    name = "idx_" + "_".join([table.name, *columns]).lower()
    name = re.sub(r"[^0-9a-z_]", "_", name)
    existing = {i.name.lower() for i in table.indexes}
    if len(name) > 64 or name in existing:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = name[:55] + "_" + digest
    return name


# --------------------------------------------------------------------------------------------
# Candidates of one class
# --------------------------------------------------------------------------------------------


def _prefix_serves(columns: Sequence[str], eq_count: int, index_columns: Sequence[str]) -> bool:
    """Whether an index on ``index_columns`` serves a candidate: its first columns are the
    candidate's, where the leading ``eq_count`` equality columns may come in any order."""
    names = [c.lower() for c in index_columns]
    if len(names) < len(columns):
        return False
    head, tail = [c.lower() for c in columns[:eq_count]], [c.lower() for c in columns[eq_count:]]
    if sorted(names[:eq_count]) != sorted(head):
        return False
    return names[eq_count : eq_count + len(tail)] == tail


def _served_by(columns: Sequence[str], eq_count: int, index: Index) -> bool:
    """Whether the existing ``index`` serves a candidate (whole columns only: a prefix index
    cannot order or cover)."""
    if any(c.sub_part for c in index.columns[: len(columns)]):
        return False
    return _prefix_serves(columns, eq_count, [c.name or "" for c in index.columns])


def _extends(columns: Sequence[str], index: Index) -> bool:
    """The existing index is a strict left prefix of the candidate (so the candidate can replace it)."""
    if index.unique or index.primary or index.type != "BTREE" or any(c.sub_part for c in index.columns):
        return False
    names = [c.name.lower() if c.name else "" for c in index.columns]
    return len(names) < len(columns) and names == [c.lower() for c in columns[: len(names)]]


def _distinct(catalog: Catalog, table: Table, column: str) -> float | None:
    return catalog.column_distinct(table, column)


_LOW_CARDINALITY_NAME = re.compile(
    r"(^|_)(status|state|type|kind|flag|level|gender|role|currency|lang|locale)$|^(is|has)_", re.IGNORECASE
)


def guess_distinct(table: Table, column: str) -> float:
    """Distinct values of a column when no statistics exist (a schema file): from its type, its
    name and unique keys, so that an index still leads with what is likely the selective column.

    >>> from analyzer.sources.schema import Column
    >>> t = Table("db", "t", "InnoDB", columns=[Column("is_active", "tinyint(1)", False, 1),
    ...                                          Column("product_id", "int(10) unsigned", False, 2)])
    >>> guess_distinct(t, "is_active") < guess_distinct(t, "product_id")
    True
    """
    col = table.column(column)
    if col is None:
        return 1000.0
    for index in table.indexes:
        if (
            index.unique
            and len(index.columns) == 1
            and index.columns[0].name
            and index.columns[0].name.lower() == column.lower()
        ):
            return 1e9
    kind = col.type.lower()
    if kind.startswith(("tinyint(1)", "bit(1)", "bool")):
        return 2.0
    if kind.startswith(("enum(", "set(")):
        return float(max(2, kind.count(",") + 1))
    if _LOW_CARDINALITY_NAME.search(column):
        return 10.0
    if kind.startswith(("char(2)", "char(3)")):
        return 200.0
    if kind.startswith(("datetime", "timestamp", "date")) or column.lower().endswith(
        ("_id", "_token", "_ref", "email")
    ):
        return 1e5
    return 1000.0


def _selectivity(catalog: Catalog, table: Table, column: str, predicate: Predicate) -> float:
    """Fraction of the table's rows a predicate keeps."""
    rows = float(table.rows or 0)
    distinct = _distinct(catalog, table, column)
    if distinct is None and not catalog.has_statistics:
        distinct = guess_distinct(table, column)
    if predicate.kind in ("eq", "join", "is_null"):
        if distinct:
            return 1.0 / max(distinct, 1.0)
        return 0.01 if not rows else min(1.0, 10.0 / max(rows, 1.0))
    if predicate.kind == "in":
        if distinct:
            return min(1.0, predicate.values / max(distinct, 1.0))
        return min(1.0, 0.01 * predicate.values)
    return RANGE_SELECTIVITY


@dataclass
class _TableNeeds:
    ref: TableRef
    table: Table
    eq: list[tuple[str, Predicate]] = field(default_factory=list)
    ranges: list[tuple[str, Predicate]] = field(default_factory=list)
    unusable: list[Predicate] = field(default_factory=list)


def _needs(scope: Scope, catalog: Catalog, plan: Plan | None = None) -> list[_TableNeeds]:
    out: dict[int, _TableNeeds] = {}
    joins: list[tuple[_TableNeeds, str, Predicate]] = []
    for ref in scope.tables:
        if ref.derived:
            continue
        table = catalog.find(ref.name, ref.schema or None)
        if table is None:
            continue
        out[id(ref)] = _TableNeeds(ref, table)
    for pred in scope.predicates:
        if pred.column is None or pred.column.table is None or pred.column.outer:
            continue
        needs = next((n for n in out.values() if n.ref == pred.column.table), None)
        if needs is None or needs.table.column(pred.column.column) is None:
            continue
        column = needs.table.column(pred.column.column).name  # type: ignore[union-attr]
        implicit = pred.literal == "number" and _string_column(needs.table, column)  # index unusable
        if pred.kind == "join":
            joins.append((needs, column, pred))
        elif pred.kind in ("eq", "is_null", "in") and not implicit:
            needs.eq.append((column, pred))
        elif pred.kind in ("range", "like_prefix") and not implicit:
            needs.ranges.append((column, pred))
        else:
            needs.unusable.append(pred)
    # A join column serves a table only when the other table is read first (the lookup value
    # comes from it): the plan's join order says which; without a plan, a table with filters of
    # its own that comes first in FROM is taken as the driving table.
    order = [t.table.lower() for t in plan.tables] if plan is not None else []
    for needs, column, pred in joins:
        other = pred.other.table if pred.other is not None else None
        if other is None or (pred.other is not None and pred.other.outer):
            needs.eq.append((column, pred))
            continue
        me, them = needs.ref.label.lower(), other.label.lower()
        if me in order and them in order:
            if order.index(them) < order.index(me):
                needs.eq.append((column, pred))
            continue
        # Without a plan the FROM order stands in for the join order (the optimizer often keeps it):
        # the lookup value comes from a table named earlier, or from a filtered table when this one
        # has no filter of its own (the optimizer starts from the filtered one then).
        position = {t.label.lower(): i for i, t in enumerate(scope.tables)}
        earlier = position.get(them, -1) < position.get(me, -1)
        other_needs = next((n for n in out.values() if n.ref == other), None)
        other_filtered = other_needs is not None and bool(other_needs.eq or other_needs.ranges)
        if earlier or (not (needs.eq or needs.ranges) and other_filtered):
            needs.eq.append((column, pred))
    return list(out.values())


def _string_column(table: Table, column: str) -> bool:
    col = table.column(column)
    return col is not None and bool(re.match(r"(var)?char|.*text|enum|set", col.type, re.IGNORECASE))


def _narrow(table: Table, column: str) -> bool:
    col = table.column(column)
    return col is not None and bool(NARROW_TYPES.match(col.type))


def _dedupe(items: Iterable[tuple[str, Predicate]]) -> list[tuple[str, Predicate]]:
    seen: dict[str, tuple[str, Predicate]] = {}
    for column, pred in items:
        key = column.lower()
        # an equality beats an IN list on the same column
        if key not in seen or (seen[key][1].kind == "in" and pred.kind != "in"):
            seen[key] = (column, pred)
    return list(seen.values())


def class_candidates(
    wc: WorkloadClass, shape: QueryShape, catalog: Catalog, write_share: dict[str, float] | None = None
) -> tuple[list[Candidate], list[NoIndexHelps]]:
    """Index candidates for one class, and the tables where it is plain that no index helps.
    ``write_share`` (table full name -> share of the workload's statements on it that write) lets
    covering indexes through only where writes are rare."""
    candidates: list[Candidate] = []
    no_help: list[NoIndexHelps] = []
    rows_examined = wc.rows_examined_avg
    plan = wc.plan
    evidence = reconcile(plan, shape, rows_examined, catalog)
    for scope in shape.scopes:
        if scope.kind == "derived" and not scope.tables:
            continue
        for needs in _needs(scope, catalog, plan):
            cand, reason = _table_candidate(
                wc, scope, needs, catalog, evidence, shape, (write_share or {}).get(needs.table.full_name, 0.0)
            )
            if cand is not None:
                candidates.append(cand)
            else:
                driver = _driver_candidate(wc, scope, needs, catalog, evidence)
                if driver is not None:
                    candidates.append(driver)
                elif reason:
                    no_help.append(NoIndexHelps(wc.class_id, needs.table.full_name, reason))
    return candidates, no_help


def _driver_candidate(
    wc: WorkloadClass, scope: Scope, needs: _TableNeeds, catalog: Catalog, evidence: ClassEvidence
) -> Candidate | None:
    """A table joined as the inner side (through its primary key, say) whose own filters are very
    selective would be a better first table of the join: an index on those filters lets the
    optimizer start there and look the other tables up, instead of scanning another table."""
    own = [(c, p) for c, p in needs.eq if p.kind != "join"]
    if not own or len(own) == len(needs.eq) or len(scope.tables) < 2 or not needs.table.rows:
        return None
    if any(_served_by([c for c, _ in own], len(own), i) for i in needs.table.indexes):
        return None
    fraction = 1.0
    for column, pred in own:
        fraction *= _selectivity(catalog, needs.table, column, pred)
    if fraction > 0.05:
        return None
    total = evidence.total or 0.0
    after = max(1.0, float(needs.table.rows) * fraction) * len(scope.tables)
    if total <= 0 or after >= total * (1.0 - MIN_REDUCTION):
        return None
    own.sort(key=lambda item: (_selectivity(catalog, needs.table, item[0], item[1]), item[0]))
    columns = tuple(c for c, _ in own)
    reduction = 1.0 - after / total
    return Candidate(
        needs.table,
        columns,
        wc.class_id,
        columns,
        total,
        after,
        wc.query_time_total * reduction,
        "lookup (first table of the join)",
        None,
        calls=wc.count,
    )


def _loops(plan: Plan | None, ref: TableRef) -> float:
    """How many times the plan reads the table (its first access's loops), 1 without a plan."""
    accesses = (plan.table_named(ref.label) or plan.table_named(ref.name)) if plan is not None else []
    if not accesses or plan is None:
        return 1.0
    return plan.loops()[id(accesses[0])]


def _table_candidate(
    wc: WorkloadClass,
    scope: Scope,
    needs: _TableNeeds,
    catalog: Catalog,
    evidence: ClassEvidence,
    shape: QueryShape,
    write_share: float = 0.0,
) -> tuple[Candidate | None, str | None]:
    plan, rows_examined = evidence.plan, evidence.measured
    table = needs.table
    rows = float(table.rows) if table.rows else None
    assumed_rows = False
    if rows is None and not rows_examined and not catalog.has_statistics:
        # a schema file and a single statement: nothing measured, so estimate on a nominal table
        rows, assumed_rows = float(NOMINAL_ROWS), True
    eq = _dedupe(needs.eq)
    ranges = _dedupe(needs.ranges)
    like_infix = [p for p in needs.unusable if p.kind == "like_infix"]
    functions = [p for p in needs.unusable if p.kind == "function"]
    pk = table.primary_key
    pk_cols = {c.name.lower() for c in pk.columns if c.name} if pk else set()
    eq_cols = {c.lower() for c, p in eq if p.kind != "in" or p.values == 1}
    if pk_cols and pk_cols <= eq_cols:
        return None, "primary-key lookup: already the fastest access"
    for index in table.indexes:
        if (
            index.unique
            and index.columns
            and all(c.name and c.name.lower() in eq_cols and not c.sub_part for c in index.columns)
        ):
            return None, f"unique lookup on {index.name}: already the fastest access"

    # ORDER BY / GROUP BY columns that an index on this table can deliver in order
    order_cols: list[str] = []
    if scope.order_by and not scope.order_by_rand and not scope.order_by_expressions:
        if all(c.table == needs.ref for c, _ in scope.order_by) and len({d for _, d in scope.order_by}) == 1:
            order_cols = [
                table.column(c.column).name if table.column(c.column) else c.column for c, _ in scope.order_by
            ]
    elif scope.group_by and all(c.table == needs.ref for c in scope.group_by):
        order_cols = [table.column(c.column).name if table.column(c.column) else c.column for c in scope.group_by]
    eq_names = [c for c, _ in eq]
    order_cols = [c for c in order_cols if c.lower() not in {e.lower() for e in eq_names}]
    multi_in = any(p.kind == "in" and p.values > 1 for _, p in eq)

    # most selective equality first
    def sel(item: tuple[str, Predicate]) -> float:
        return _selectivity(catalog, table, item[0], item[1])

    eq.sort(key=lambda item: (sel(item), item[0]))
    columns = [c for c, _ in eq]
    fraction = 1.0
    for item in eq:
        fraction *= sel(item)
    eq_fraction = fraction
    # ORDER BY ... LIMIT n stops after n index entries only when nothing else filters the rows
    # read in index order: no condition on another table of the join, no subquery filter, and
    # no condition on this table the index does not hold
    other_filters = any(
        p.column is not None
        and p.kind != "join"
        and (
            p.column.table != needs.ref
            or p.kind in ("in_subquery", "not_in_subquery", "function", "like_infix", "ne", "other")
        )
        for p in scope.predicates
    ) or bool(scope.or_groups)
    reason = "lookup" if eq else ""
    uses_order = False
    range_on_order = False
    if order_cols and not multi_in and (eq or scope.limit is not None):
        columns += order_cols
        uses_order = True
        reason = (reason + " + order") if reason else "order"
        # a range on the first ORDER BY column is served by the same index part
        on_order = [r for r in ranges if r[0].lower() == order_cols[0].lower()]
        if on_order:
            fraction *= sel(on_order[0])
            range_on_order = True
            reason += " + range"
    elif ranges:
        ranges.sort(key=lambda item: (sel(item), item[0]))
        columns.append(ranges[0][0])
        fraction *= sel(ranges[0])
        reason = (reason + " + range") if reason else "range"
    if not columns:
        if like_infix:
            return None, (
                f"LIKE with a leading wildcard on {like_infix[0].column.column if like_infix[0].column else '?'}: "
                "no B-tree index can help (consider FULLTEXT)"
            )
        if functions:
            return None, (
                f"{functions[0].function}: a function on the column hides it from any index; "
                "rewrite the predicate (see the findings)"
            )
        return None, None
    if len(set(c.lower() for c in columns)) != len(columns):
        seen: list[str] = []
        columns = [c for c in columns if not (c.lower() in seen or seen.append(c.lower()))]
    # InnoDB appends the primary key to every secondary index: trailing primary-key columns add nothing
    if table.is_innodb or table.engine is None:
        while len(columns) > 1 and columns[-1].lower() in pk_cols:
            columns.pop()

    # An existing index already serves the lookup (the clustered primary key covers every column
    # anyway): no new index only to cover a few more columns.
    if any(_served_by(columns, len(eq), i) for i in table.indexes):
        return None, None
    # covering: a few narrow extra columns the statement reads from this table
    selected = {c.column for c in scope.selected if c.table == needs.ref}
    star = any(s is None or s == needs.ref for s in scope.select_star)
    # ... and only when it saves many lookups into the table: the index returns many rows per
    # execution, or the class runs so often that a few rows each add up (where writes are rare)
    returned = float(table.rows) * fraction if table.rows else float(rows_examined or 0)
    limit_stops_early = uses_order and scope.limit is not None and (not ranges or range_on_order) and not other_filters
    if limit_stops_early:
        returned = min(returned, float(scope.limit + (scope.offset or 0)))
    # the rows a single-table statement sends are the table lookups a covering index saves: measured
    looked_up = wc.rows_sent_avg if wc.rows_sent_avg is not None and len(scope.tables) == 1 else returned
    frequent = (
        wc.count >= COVERING_FREQUENT_CALLS
        and wc.count * looked_up >= COVERING_MIN_LOOKUPS
        and write_share < WRITE_HEAVY_SHARE
    )
    if not star and selected and shape.kind == "SELECT" and (returned >= COVERING_MIN_ROWS or frequent):
        extra = [
            table.column(c).name
            for c in sorted(selected)
            if table.column(c) is not None
            and c.lower() not in {x.lower() for x in columns}
            and c.lower() not in pk_cols
        ]
        if (
            0 < len(extra) <= MAX_COVERING_EXTRA
            and all(_narrow(table, c) for c in extra)
            and len(columns) + len(extra) <= 4
        ):
            columns += extra
            reason += " (covering)"

    # rows of this table read today (measured when the class was: see analyzer.advisor.evidence)
    # and with the index
    here = evidence.rows_for(needs.ref.label)
    loops = _loops(plan, needs.ref)
    if here is not None:
        before = here
    elif rows is not None:
        before = rows * loops
        for index in table.indexes:  # an existing index serving the leading equality cuts it already
            if eq and index.columns and index.columns[0].name and index.columns[0].name.lower() == eq[0][0].lower():
                before = rows * sel(eq[0]) * loops
                break
        if rows_examined:  # no plan: the statement's measured rows bound what one of its tables gives
            before = min(before, rows_examined) if len(scope.tables) > 1 else rows_examined
    else:
        before = rows_examined or 0.0
    if rows is not None:
        after = max(1.0, rows * fraction) * loops
        if limit_stops_early:
            after = min(after, float(scope.limit + (scope.offset or 0)) * loops)
    else:
        base = rows_examined or 0.0
        after = max(1.0, (wc.rows_sent_avg or 1.0)) if base else 0.0
    served = next((i for i in table.indexes if _served_by(columns, len(eq), i)), None)
    if served is not None:
        return None, None
    # low-cardinality: the best equality leaves a large share of the table
    if (
        rows is not None
        and rows >= MIN_ROWS_FOR_INDEX
        and eq
        and not limit_stops_early
        and not ranges
        and fraction >= LOW_SELECTIVITY
    ):
        col = eq[0][0]
        distinct = _distinct(catalog, table, col)
        if distinct is None and not catalog.has_statistics:
            distinct = guess_distinct(table, col)
        size = "a table of unknown size" if assumed_rows else f"{int(rows)} rows"
        return None, (
            f"low-cardinality filter: {col} has about {int(distinct or 0)} distinct values in "
            f"{size}, an index would still read {fraction:.0%} of the table"
        )
    small = rows is not None and rows < MIN_ROWS_FOR_INDEX and not assumed_rows
    if before <= 0 or after >= before * (1.0 - MIN_REDUCTION):
        if small:
            return None, f"small table ({int(rows or 0)} rows): reading it whole is cheap"
        return None, None
    reduction = 0.0 if before <= 0 else max(0.0, 1.0 - after / before)
    total_rows = evidence.total or before
    share = min(1.0, before / total_rows) if total_rows > 0 else 1.0
    time_saved = wc.query_time_total * share * reduction
    extends = next((i for i in table.indexes if _extends(columns, i)), None)
    return Candidate(
        table,
        tuple(columns),
        wc.class_id,
        tuple(c for c, _ in eq),
        before,
        after,
        time_saved,
        reason.strip(),
        extends,
        eq_fraction,
        calls=wc.count,
        small_table=small,
    ), None


# --------------------------------------------------------------------------------------------
# The workload
# --------------------------------------------------------------------------------------------


def _write_counts(
    classes: Sequence[WorkloadClass], shapes: dict[str, QueryShape], catalog: Catalog
) -> tuple[dict[str, int], dict[str, int]]:
    writes: dict[str, int] = {}
    touches: dict[str, int] = {}
    for wc in classes:
        shape = shapes.get(wc.class_id)
        if shape is None:
            continue
        names = set()
        for ref in shape.all_tables():
            t = catalog.find(ref.name, ref.schema)
            if t is not None:
                names.add(t.full_name)
        if shape.written_table is not None:
            t = catalog.find(shape.written_table.name, shape.written_table.schema)
            if t is not None:
                names.add(t.full_name)
                writes[t.full_name] = writes.get(t.full_name, 0) + wc.count
        for n in names:
            touches[n] = touches.get(n, 0) + wc.count
    return writes, touches


def advise_indexes(
    classes: Sequence[WorkloadClass],
    catalog: Catalog,
    *,
    max_per_table: int = DEFAULT_MAX_PER_TABLE,
    online_ddl: bool = True,
    workload: Sequence[WorkloadClass] | None = None,
) -> IndexAdvice:
    """Merge every class's candidates into at most ``max_per_table`` indexes per table, ranked by
    estimated time saved.  ``workload`` (default: ``classes``) is every class of the workload, the
    advised ones included: its writes weigh against new indexes, and its readers of a table are the
    classes whose plans a new index may change."""
    advised = {wc.class_id for wc in classes}
    everything = list(classes) + [wc for wc in (workload or ()) if wc.class_id not in advised]
    candidates: list[Candidate] = []
    no_help: list[NoIndexHelps] = []
    skipped: list[NoIndexHelps] = []
    shapes: dict[str, QueryShape] = {}
    for wc in everything:
        if not wc.sample:
            if wc.class_id in advised:
                skipped.append(NoIndexHelps(wc.class_id, None, "no real sample of the statement"))
            continue
        try:
            shapes[wc.class_id] = analyze_query(
                wc.sample, catalog=_scoped(catalog, wc.database), default_schema=wc.database
            )
        except AnalyzerError as exc:
            if wc.class_id in advised:
                skipped.append(NoIndexHelps(wc.class_id, None, str(exc)))
    writes, touches = _write_counts(everything, shapes, catalog)
    write_share = {t: writes.get(t, 0) / n for t, n in touches.items() if n}
    for wc in classes:
        shape = shapes.get(wc.class_id)
        if shape is None or shape.kind == "OTHER" or (shape.kind in ("INSERT", "REPLACE") and not shape.main.tables):
            continue
        found, none = class_candidates(wc, shape, _scoped(catalog, wc.database), write_share)
        candidates.extend(found)
        no_help.extend(none)

    # Merge per table: strongest candidates first; a candidate served by a chosen index (its
    # left prefix) joins it; a chosen index that is a left prefix of a stronger candidate grows.
    by_table: dict[str, list[Candidate]] = {}
    for cand in candidates:
        if cand.time_saved <= 0 and cand.reduction < MIN_REDUCTION:
            continue
        by_table.setdefault(cand.table.full_name, []).append(cand)
    for table_name, items in list(by_table.items()):
        # A small table is read whole in no time once, but a class that does it thousands of
        # times pays it thousands of times: weigh what the workload reads against the upkeep.
        small = [c for c in items if c.small_table]
        if not small:
            continue
        saved = sum(c.rows_saved for c in small)
        upkeep = writes.get(table_name, 0) * WRITE_COST_ROWS
        if saved >= SMALL_TABLE_MIN_ROWS_SAVED and saved > upkeep:
            continue
        rows = int(small[0].table.rows or 0)
        why = f"small table ({rows:,} rows): an index would save {int(saved):,} rows over the workload" + (
            f", less than its upkeep on {writes.get(table_name, 0):,} writes"
            if saved >= SMALL_TABLE_MIN_ROWS_SAVED
            else "; reading it whole is cheap"
        )
        no_help.extend(NoIndexHelps(c.class_id, table_name, why) for c in small)
        by_table[table_name] = [c for c in items if not c.small_table]
    suggestions: list[IndexSuggestion] = []
    for table_name, items in by_table.items():
        items.sort(key=lambda c: (-c.time_saved, -len(c.columns), c.columns))
        chosen: list[tuple[IndexSuggestion, int]] = []  # (suggestion, equality prefix length)
        for cand in items:
            target = None
            for sugg, eq_len in chosen:
                if _prefix_serves(cand.columns, len(cand.eq_columns), sugg.columns):
                    target = sugg
                    break
                if (
                    cand.eq_columns
                    and eq_len
                    and cand.eq_fraction < LOW_SELECTIVITY
                    and _prefix_serves(cand.eq_columns, len(cand.eq_columns), sugg.columns)
                ):
                    # same lookup columns: the chosen index serves this class's lookup; a second
                    # index differing only in order or covering columns is not worth its writes
                    target = sugg
                    break
                if _prefix_serves(sugg.columns, eq_len, cand.columns):
                    # the new candidate extends a chosen index: grow it
                    sugg.columns = cand.columns
                    sugg.name = index_name(cand.table, cand.columns)
                    sugg.replaces = sugg.replaces or cand.extends
                    sugg.eq_count = max(sugg.eq_count, len(cand.eq_columns))
                    target = sugg
                    break
            estimate = ClassEstimate(
                cand.class_id, cand.rows_before, cand.rows_after, cand.time_saved, calls=cand.calls
            )
            if target is not None:
                if cand.class_id not in target.class_ids:
                    target.classes.append(estimate)
                continue
            if len(chosen) >= max_per_table:
                no_help.append(
                    NoIndexHelps(
                        cand.class_id, table_name, f"the cap of {max_per_table} new indexes on {table_name} was reached"
                    )
                )
                continue
            sugg = IndexSuggestion(
                cand.table,
                cand.columns,
                index_name(cand.table, cand.columns),
                [estimate],
                replaces=cand.extends,
                reason=cand.reason,
                eq_count=len(cand.eq_columns),
            )
            chosen.append((sugg, len(cand.eq_columns)))
        for sugg, _ in chosen:
            w, t = writes.get(table_name, 0), touches.get(table_name, 0)
            if t and w / t >= WRITE_HEAVY_SHARE:
                sugg.warnings.append(
                    f"{table_name} is written often ({w} of {t} statements that touch it "
                    "are writes): every index adds work to each write"
                )
            if sugg.replaces is not None:
                sugg.warnings.append(
                    f"replaces {sugg.replaces.name} ({', '.join(sugg.replaces.column_names)}), "
                    "a left prefix of the new index"
                )
            suggestions.append(sugg)
    suggestions.sort(key=lambda s: (-s.time_saved, s.table.full_name, s.columns))
    for sugg in suggestions:  # other classes that read the table: their plans may change too
        sugg.may_change = [
            wc.class_id
            for wc in everything
            if wc.class_id not in sugg.class_ids
            and _reads(shapes.get(wc.class_id), sugg.table, _scoped(catalog, wc.database))
        ]
    # a class that got an index is not also listed as "no index helps" for the same table
    served = {(c, s.table.full_name) for s in suggestions for c in s.class_ids}
    no_help = [n for n in no_help if (n.class_id, n.table) not in served]
    return IndexAdvice(suggestions, _unique(no_help), skipped, online_ddl=online_ddl, statistics=catalog.source)


def _reads(shape: QueryShape | None, table: Table, catalog: Catalog) -> bool:
    if shape is None:
        return False
    return any(catalog.find(ref.name, ref.schema) is table for ref in shape.all_tables())


def _unique(items: list[NoIndexHelps]) -> list[NoIndexHelps]:
    seen = set()
    out = []
    for item in items:
        key = (item.class_id, item.table, item.reason)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _scoped(catalog: Catalog, database: str | None) -> Catalog:
    """The catalog with ``database`` as its default schema (the class's ``use db``)."""
    if not database or database == catalog.default_schema:
        return catalog
    scoped = Catalog(catalog.tables, default_schema=database, source=catalog.source)
    scoped.distinct = catalog.distinct
    return scoped


# --------------------------------------------------------------------------------------------
# Statistics for unindexed columns (live servers)
# --------------------------------------------------------------------------------------------


def columns_needing_statistics(classes: Sequence[WorkloadClass], catalog: Catalog) -> dict[str, tuple[Table, set[str]]]:
    """Columns the classes filter on whose distinct count no index cardinality gives, by table name."""
    wanted: dict[str, tuple[Table, set[str]]] = {}
    for wc in classes:
        if not wc.sample:
            continue
        try:
            shape = analyze_query(wc.sample, catalog=_scoped(catalog, wc.database), default_schema=wc.database)
        except AnalyzerError:
            continue
        for scope in shape.scopes:
            for pred in scope.predicates:
                col: ColumnRef | None = pred.column
                if (
                    col is None
                    or col.table is None
                    or col.table.derived
                    or pred.kind not in ("eq", "in", "is_null", "join")
                ):
                    continue
                table = _scoped(catalog, wc.database).find(col.table.name, col.table.schema)
                if table is None or table.column(col.column) is None:
                    continue
                if catalog.column_distinct(table, col.column) is None:
                    wanted.setdefault(table.full_name, (table, set()))[1].add(table.column(col.column).name)  # type: ignore[union-attr]
    return wanted


def sample_column_statistics(
    server: Any, catalog: Catalog, wanted: dict[str, tuple[Table, set[str]]], *, sample_rows: int = 200_000
) -> list[str]:
    """Fill ``catalog.distinct`` with distinct counts of ``wanted`` columns, counted on up to
    ``sample_rows`` rows of each table (one read-only SELECT per table).  When the sample is the
    whole table the count is exact; otherwise a column that looks unique in the sample is scaled to
    the table's rows, and a repetitive one is taken as is.  A table that cannot be read (a
    missing privilege, a lock held past the statement time limit) is skipped with a note; the
    server going away ends it."""
    from analyzer.sources.db import ServerGoneError

    notes: list[str] = []
    for table, columns in wanted.values():
        cols = sorted(columns)
        select = ", ".join(f"COUNT(DISTINCT {quote_identifier(c)}) AS d{i}" for i, c in enumerate(cols))
        inner = ", ".join(quote_identifier(c) for c in cols)
        try:
            with server.translate_errors(f"count distinct values in {table.full_name}"):
                row = server.query_one(
                    f"SELECT COUNT(*) AS n, {select} FROM (SELECT {inner} FROM {table.quoted_name} "
                    f"LIMIT {int(sample_rows)}) AS sample"
                )
        except ServerGoneError:
            raise
        except AnalyzerError as exc:
            notes.append(f"no distinct counts for {table.full_name}: {exc}")
            continue
        if not row:
            continue
        n = int(row["n"] or 0)
        total = float(table.rows or n)
        for i, c in enumerate(cols):
            d = float(row[f"d{i}"] or 0)
            if n and n < total and d / n > 0.9:
                d = d * total / n
            catalog.distinct[(table.schema.lower(), table.name.lower(), c.lower())] = max(d, 1.0)
    return notes
