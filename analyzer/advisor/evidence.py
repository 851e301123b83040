"""Measurements over estimates: where a class's rows are really read.

EXPLAIN estimates how many rows each table access reads; the slow log and performance_schema
measure how many rows the statement examined.  The two disagree most where it matters: an
``ORDER BY col LIMIT n`` that the optimizer serves by walking an index on ``col`` and filtering
every entry (an *index walk*) is estimated at about ``n`` rows, because the optimizer assumes the
filter lets most rows through, while the log shows thousands examined per call when the rows
that pass are rare or sit at the far end of the index.

``reconcile(plan, shape, measured, catalog)`` gives the rows each table access reads per
execution with the measurement as the truth: when a class was measured, the estimate's total is
replaced by the measured one, and the difference goes to the access whose estimate is known to
lie (the index walk) or, without one, to every access in proportion to its estimate.  Without a
measurement (``mqa explain`` of one statement) the index walk is still recognized, and its rows
are expected from the statistics instead: to find LIMIT rows that pass filters keeping one row in
``d`` (``d`` distinct values), the walk reads about LIMIT x ``d`` entries.  Otherwise the
estimates stand; without a plan there is only the measured total.

>>> from analyzer.sources.explain import parse_plan
>>> plan = parse_plan({"query_block": {"select_id": 1, "table": {"table_name": "orders",
...     "access_type": "index", "key": "idx_created", "used_key_parts": ["created_at"], "rows": 10,
...     "filtered": 100, "attached_condition": "orders.customer_id = 42"}}})
>>> evidence = reconcile(plan, None, 88_819.0)
>>> evidence.mismatch, round(evidence.ratio), evidence.rows_for("orders")
(True, 8882, 88819.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.advisor.query import QueryShape, Scope, TableRef
from analyzer.sources.explain import Plan, PlanTable
from analyzer.sources.schema import Catalog, Index, Table

MISMATCH_RATIO = 10.0  # estimate and measurement disagree by this factor or more: say so, trust the measurement


@dataclass
class IndexWalk:
    """An access that reads an index in ORDER BY order and filters each entry, stopping after
    LIMIT rows pass: cheap when matching rows come early, a scan of the index when they do not."""

    label: str  # the table's alias (or name) in the statement
    table: Table | None
    key: str  # the index walked
    key_columns: tuple[str, ...]
    order_columns: tuple[str, ...]  # the ORDER BY columns it delivers
    filter_columns: tuple[str, ...]  # columns of this table filtered row by row (not in the walked index)
    limit: int
    descending: bool = False
    eq_columns: tuple[str, ...] = ()  # every equality column of this table (walked prefix included)

    @property
    def table_name(self) -> str:
        return self.table.name if self.table is not None else self.label

    def suggested_columns(self) -> tuple[str, ...]:
        """Equality filters first, then the ORDER BY columns: the index that finds the rows and
        returns them in order, so LIMIT stops after ``limit`` entries."""
        cols = list(self.eq_columns or self.filter_columns)
        cols += [c for c in self.order_columns if c.lower() not in {x.lower() for x in cols}]
        return tuple(cols)


@dataclass
class ClassEvidence:
    """Rows one execution of a class reads, per table access, with where the figures come from."""

    estimated: float | None  # EXPLAIN's rows examined per execution (None: no plan)
    measured: float | None  # the log's / performance_schema's rows examined per call
    rows_by_access: dict[int, float] = field(default_factory=dict)  # id(PlanTable) -> rows per execution
    walk: IndexWalk | None = None
    plan: Plan | None = None
    walk_expected: float | None = None  # rows the walk reads by the statistics (no measurement)
    walk_keep: float | None = None  # the share of entries the walk's filters keep, by the statistics

    @property
    def total(self) -> float | None:
        """Rows examined per execution: the measurement when there is one, else the plan's
        estimate (with the walk's expected rows when the statistics know better)."""
        if self.measured is not None:
            return self.measured
        if self.walk_expected is not None and self.rows_by_access:
            return sum(self.rows_by_access.values())
        return self.estimated

    @property
    def ratio(self) -> float:
        """How far apart the two are (>= 1), 1.0 when one of them is missing."""
        if self.measured is None or self.estimated is None:
            return 1.0
        low, high = sorted((max(self.measured, 1.0), max(self.estimated, 1.0)))
        return high / low

    @property
    def mismatch(self) -> bool:
        return self.ratio >= MISMATCH_RATIO

    @property
    def underestimated(self) -> bool:
        return self.mismatch and (self.measured or 0.0) > (self.estimated or 0.0)

    def rows_for(self, label: str) -> float | None:
        """Rows per execution read from the table with this alias or name (all its accesses), or
        None when the plan does not read it (or there is no plan)."""
        if self.plan is None:
            return None
        accesses = self.plan.table_named(label)
        if not accesses:
            return None
        return sum(self.rows_by_access.get(id(a), 0.0) for a in accesses)

    def source(self) -> str:
        if self.measured is not None and self.estimated is not None:
            return "measured, split by the plan" if not self.mismatch else "measured (EXPLAIN's estimate disagrees)"
        return "measured" if self.measured is not None else "estimated" if self.estimated is not None else "unknown"


def reconcile(
    plan: Plan | None, shape: QueryShape | None, measured: float | None, catalog: Catalog | None = None
) -> ClassEvidence:
    """The rows each access of ``plan`` reads per execution, the ``measured`` rows examined per
    call winning over the estimates (see the module docstring)."""
    if plan is None or not plan.tables:
        return ClassEvidence(
            plan.rows_examined_estimate if plan is not None and plan.tables else None,
            measured,
            plan=plan if plan is not None and plan.tables else None,
        )
    estimates = plan.access_rows()
    estimated = sum(estimates.values())
    walk_access, walk = find_index_walk(plan, shape, catalog)
    evidence = ClassEvidence(estimated, measured, dict(estimates), walk, plan)
    if measured is None or measured < 0:
        keep = _walk_keep(walk, catalog) if walk_access is not None else None
        if walk_access is not None and walk is not None and keep is not None and walk.table is not None:
            expected = min(float(walk.table.rows or 0), walk.limit / keep)
            if expected > estimates[id(walk_access)]:
                evidence.walk_expected, evidence.walk_keep = expected, keep
                evidence.rows_by_access[id(walk_access)] = expected
        evidence.measured = None
        return evidence
    if walk_access is not None and measured > estimated:
        # the optimizer stops the walk after LIMIT matches in its estimate; the rest of what was
        # read is the walk going on until enough rows passed the filter
        evidence.rows_by_access[id(walk_access)] += measured - estimated
    elif estimated > 0:
        scale = measured / estimated
        evidence.rows_by_access = {k: v * scale for k, v in estimates.items()}
    else:  # the plan estimates nothing (an impossible WHERE, a const table): the first access read it
        evidence.rows_by_access[id(plan.tables[0])] = measured
    return evidence


def _walk_keep(walk: IndexWalk | None, catalog: Catalog | None) -> float | None:
    """The share of index entries that pass an index walk's equality filters, by the filter
    columns' distinct counts (None when the statistics do not know them)."""
    if walk is None or catalog is None or walk.table is None or not walk.table.rows:
        return None
    keep = 1.0
    for column in walk.filter_columns:
        distinct = catalog.column_distinct(walk.table, column)
        if distinct is None:
            return None
        keep /= max(distinct, 1.0)
    return keep


def _scope_of(shape: QueryShape | None, label: str) -> tuple[Scope, TableRef] | tuple[None, None]:
    if shape is None:
        return None, None
    for scope in shape.scopes:
        for ref in scope.tables:
            if ref.label.lower() == label.lower() or (ref.alias is None and ref.name.lower() == label.lower()):
                return scope, ref
    return None, None


def _index(table: Table | None, name: str | None) -> Index | None:
    if table is None or not name:
        return None
    return table.index(name)


def _real_name(table: Table | None, column: str) -> str:
    found = table.column(column) if table is not None else None
    return found.name if found is not None else column


def find_index_walk(
    plan: Plan, shape: QueryShape | None, catalog: Catalog | None = None
) -> tuple[PlanTable, IndexWalk] | tuple[None, None]:
    """The access that walks an index in ORDER BY order and filters what it reads, stopping at
    LIMIT (the plan does not sort it), when there is one."""
    for access in plan.tables:
        if access.key is None or access.using_filesort or access.internal:
            continue
        scope, ref = _scope_of(shape, access.table)
        if scope is None or ref is None or scope.limit is None or not scope.order_by or scope.order_by_rand:
            continue
        if not all(c.table == ref for c, _ in scope.order_by):
            continue
        table = catalog.find(ref.name, ref.schema) if catalog is not None else None
        index = _index(table, access.key)
        key_columns = tuple(c.name or "" for c in index.columns) if index is not None else access.used_key_parts
        # the parts the access fixes with constants (ref) come first; the next ones must be the ORDER BY
        fixed = len(access.ref) if access.access_type in ("ref", "ref_or_null") else 0
        order = tuple(c.column for c, _ in scope.order_by)
        following = [c.lower() for c in key_columns[fixed : fixed + len(order)]]
        if not following or following != [c.lower() for c in order][: len(following)]:
            continue
        if access.access_type not in ("index", "range", "ref", "ref_or_null"):
            continue
        walked = {c.lower() for c in key_columns}
        filters: list[str] = []
        equalities: list[str] = []
        for pred in scope.predicates:
            column = pred.column
            if column is None or column.table != ref or column.outer or pred.kind not in ("eq", "in", "is_null"):
                continue
            name = _real_name(table, column.column)
            if pred.kind != "in" or pred.values == 1:
                equalities.append(name) if name not in equalities else None
            if name.lower() not in walked and name not in filters:
                filters.append(name)
        if not filters:
            continue
        order = tuple(_real_name(table, c) for c in order)
        return access, IndexWalk(
            access.table,
            table,
            access.key,
            tuple(key_columns),
            order,
            tuple(filters),
            scope.limit + (scope.offset or 0),
            descending=any(d for _, d in scope.order_by),
            eq_columns=tuple(c for c in equalities if c.lower() not in {o.lower() for o in order}),
        )
    return None, None
