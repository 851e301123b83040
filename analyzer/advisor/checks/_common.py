"""Helpers the checks share: catalog look-ups, index DDL, plan/shape matching, number formatting."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlglot import exp

from analyzer.advisor.checks import CheckContext
from analyzer.advisor.query import (
    INDEXABLE,
    ColumnRef,
    Predicate,
    QueryShape,
    Scope,
    TableRef,
)
from analyzer.sources.explain import Plan, PlanTable
from analyzer.sources.schema import Catalog, Column, Index, Table

STRING_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set")
NUMERIC_TYPES = (
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "integer",
    "bigint",
    "decimal",
    "numeric",
    "float",
    "double",
    "real",
    "bit",
    "bool",
    "boolean",
)
TEMPORAL_TYPES = ("date", "datetime", "timestamp", "time", "year")
BINARY_TYPES = ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")
WIDE_TYPES = (
    "tinytext",
    "text",
    "mediumtext",
    "longtext",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
    "json",
    "geometry",
    "long",
    "longtext",
)


def n(value: float | None) -> str:
    """A count as people read it: ``30,076``."""
    if value is None:
        return "?"
    return f"{round(value):,}"


def ms(seconds: float) -> str:
    """A duration: ``0.35 ms``, ``42 ms``, ``3.2 s``, ``14 min``."""
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.0f} min"


def base_type(column: Column) -> str:
    """``varchar(32)`` -> ``varchar``; ``int(10) unsigned`` -> ``int``."""
    match = re.match(r"\s*([a-zA-Z]+)", column.type or "")
    return match.group(1).lower() if match else ""


def type_family(column: Column) -> str:
    kind = base_type(column)
    if kind in STRING_TYPES:
        return "string"
    if kind in NUMERIC_TYPES:
        return "number"
    if kind in TEMPORAL_TYPES:
        return "temporal"
    if kind in BINARY_TYPES:
        return "binary"
    return kind or "unknown"


def is_string(column: Column) -> bool:
    return base_type(column) in STRING_TYPES


def is_wide(column: Column) -> bool:
    return base_type(column) in WIDE_TYPES


def catalog_table(context: CheckContext, ref: TableRef | None) -> Table | None:
    """The catalog's table behind a shape's table reference (None for derived tables or unknown)."""
    if context.catalog is None or ref is None or ref.derived:
        return None
    return context.catalog.find(ref.name, ref.schema or context.default_schema or None) or (
        context.catalog.find(ref.name) if ref.schema is None else None
    )


def catalog_column(context: CheckContext, col: ColumnRef | None) -> tuple[Table | None, Column | None]:
    if col is None:
        return None, None
    table = catalog_table(context, col.table)
    return table, (table.column(col.column) if table is not None else None)


def indexes_starting_with(table: Table, column: str) -> list[Index]:
    """Usable (visible, B-tree or hash) indexes whose first part is the whole ``column``."""
    lname = column.lower()
    return [
        i
        for i in table.indexes
        if i.visible
        and i.type in ("BTREE", "HASH")
        and i.columns
        and i.columns[0].name
        and i.columns[0].name.lower() == lname
    ]


def unique_on(table: Table, columns: Iterable[str]) -> Index | None:
    """A unique index whose every column is in ``columns`` (a lookup that returns at most one row)."""
    wanted = {c.lower() for c in columns}
    for index in table.indexes:
        if index.unique and index.columns and all(p.name and p.name.lower() in wanted for p in index.columns):
            return index
    return None


def table_name(ref: TableRef | None, table: Table | None = None) -> str:
    if table is not None:
        return table.name
    return ref.name if ref is not None else "?"


def index_name(table: str, columns: Sequence[str]) -> str:
    name = "idx_" + table + "_" + "_".join(columns)
    return name[:64]


def add_index_ddl(table: str, columns: Sequence[str], *, desc: Sequence[bool] = ()) -> str:
    parts = [c + (" DESC" if i < len(desc) and desc[i] else "") for i, c in enumerate(columns)]
    return f"ALTER TABLE {table} ADD INDEX {index_name(table, columns)} ({', '.join(parts)})"


def conjunct_predicates(scope: Scope) -> list[Predicate]:
    """The scope's AND-ed predicates (OR groups are in ``or_groups()``)."""
    return list(scope.predicates)


def or_groups(scope: Scope, catalog: Catalog | None = None) -> list[list[Predicate]]:
    """The scope's OR groups (parenthesized ones next to an AND included: query.py unwraps them)."""
    return [list(g) for g in scope.or_groups]


def all_predicates(scope: Scope, catalog: Catalog | None = None) -> list[Predicate]:
    """The scope's conjuncts and the members of its OR groups."""
    out = conjunct_predicates(scope)
    for group in or_groups(scope, catalog):
        out.extend(group)
    return out


def scope_of(shape: QueryShape, ref: TableRef) -> Scope | None:
    for scope in shape.scopes:
        if any(t is ref for t in scope.tables):
            return scope
    return None


def find_ref(shape: QueryShape | None, name: str) -> tuple[Scope | None, TableRef | None]:
    """The shape's table reference a plan's table name (an alias or a table name) stands for."""
    if shape is None:
        return None, None
    lname = name.lower()
    for scope in shape.scopes:
        for ref in scope.tables:
            if not ref.derived and ref.label.lower() == lname:
                return scope, ref
    for scope in shape.scopes:
        for ref in scope.tables:
            if not ref.derived and ref.name.lower() == lname:
                return scope, ref
    return None, None


def derived_plan_tables(plan: Plan) -> set[int]:
    """ids of plan tables that are temporary tables built from a subquery: MariaDB names them
    ``<derived2>``; MySQL 8 names them by their alias and hangs the materialized block under them."""
    out: set[int] = set()
    for node in plan.root.walk():
        if node.table is None:
            continue
        if node.table.internal or any(
            child.kind == "block" for child in node.children if child.label.startswith(("derived", "materialized"))
        ):
            out.add(id(node.table))
    return out


def is_base_table(plan: Plan, table: PlanTable, derived: set[int] | None = None) -> bool:
    derived = derived if derived is not None else derived_plan_tables(plan)
    return not table.internal and id(table) not in derived


def index_columns_for(
    scope: Scope, ref: TableRef, *, with_order: bool = True
) -> tuple[list[str], list[str], str | None]:
    """(equality columns, ORDER BY columns when all on ``ref``, one range column) an index on
    ``ref`` would need, in that order, from the scope's predicates."""
    eq: list[str] = []
    rng: str | None = None
    for p in scope.predicates_on(ref):
        if (p.kind in ("eq", "in", "is_null") and p.column and p.column.column not in eq) or (
            p.kind == "join" and p.other is not None and p.column and p.column.column not in eq
        ):
            eq.append(p.column.column)
    for p in scope.predicates_on(ref):
        if p.kind in ("range", "like_prefix") and p.column and p.column.column not in eq and rng is None:
            rng = p.column.column
    order: list[str] = []
    if with_order and scope.order_by and all(c.table == ref for c, _ in scope.order_by):
        order = [c.column for c, _ in scope.order_by if c.column not in eq]
    return eq, order, rng


def filter_columns(scope: Scope, ref: TableRef) -> list[Predicate]:
    """Predicates on ``ref`` an index could serve (and the ones it could not), conjuncts only."""
    return [
        p for p in conjunct_predicates(scope) if p.column is not None and p.column.table == ref and not p.column.outer
    ]


def describe_unindexed(context: CheckContext, scope: Scope, ref: TableRef) -> tuple[list[str], list[str]]:
    """(columns filtered on with no usable index, why) for one table of a scope."""
    table = catalog_table(context, ref)
    missing: list[str] = []
    reasons: list[str] = []
    seen: set[str] = set()
    for p in filter_columns(scope, ref) + [
        q for g in or_groups(scope, context.catalog) for q in g if q.column is not None and q.column.table == ref
    ]:
        col = p.column.column if p.column else None
        if col is None or col in seen:
            continue
        if p.kind not in INDEXABLE:
            seen.add(col)
            missing.append(col)
            why = {
                "function": f"wrapped in {p.function or 'an expression'}",
                "like_infix": "LIKE with a leading wildcard",
                "ne": "<> / NOT IN",
                "other": "not comparable to a constant",
            }.get(p.kind, p.kind)
            reasons.append(f"{col} ({why})")
            continue
        if p.kind == "join" and p.other is not None and p.other.table == ref:
            continue
        if table is not None and not indexes_starting_with(table, col):
            seen.add(col)
            missing.append(col)
            reasons.append(f"{col} (no index starts with it)")
    return missing, reasons


def _select_labels(node) -> list[str]:
    from sqlglot import exp

    labels: list[str] = []
    sources = []
    if node.args.get("from_") is not None:
        sources.append(node.args["from_"].this)
    sources.extend(j.this for j in node.args.get("joins") or [])
    for source in sources:
        if isinstance(source, exp.Table):
            labels.append((source.alias or source.name).lower())
        elif isinstance(source, exp.Subquery):
            labels.append((source.alias or "<derived>").lower())
    return labels


def select_node(shape: QueryShape, scope: Scope):
    """The sqlglot SELECT a scope was read from (matched by the tables it reads, in order)."""
    from sqlglot import exp

    wanted = [t.label.lower() for t in scope.tables]
    same = [s for s in shape.scopes if [t.label.lower() for t in s.tables] == wanted]
    position = next(i for i, s in enumerate(same) if s is scope)
    found = [node for node in shape.expression.find_all(exp.Select) if _select_labels(node) == wanted]
    # find_all walks breadth-first; scopes are recorded depth-first: sort both by text position
    found.sort(key=lambda node: _position(shape.expression, node))
    return found[position] if position < len(found) else None


def _position(root, node) -> int:
    for i, candidate in enumerate(root.walk(bfs=False)):
        if candidate is node:
            return i
    return -1


def conjuncts(node):
    from sqlglot import exp

    while isinstance(node, exp.Paren) and isinstance(node.this, (exp.And, exp.Paren)):
        node = node.this
    if isinstance(node, exp.And):
        return conjuncts(node.this) + conjuncts(node.expression)
    return [node]


def sql(node) -> str:
    """MySQL text of a sqlglot node, without the statement's comments (ORM tags and the like)."""
    return node.sql(dialect="mysql", comments=False)


def existing_index(table: Table | None, columns: Sequence[str]) -> Index | None:
    """An index of ``table`` whose leading columns are exactly ``columns`` (in order), if any."""
    if table is None or not columns:
        return None
    wanted = [c.lower() for c in columns]
    for index in table.indexes:
        names = [(p.name or "").lower() for p in index.columns[: len(wanted)]]
        if names == wanted and index.type in ("BTREE", "HASH"):
            return index
    return None


def index_for_filters(context: CheckContext, scope: Scope, ref: TableRef) -> tuple[list[str], bool]:
    """(columns, after_rewrite) of the index that would serve ``ref``'s filters in ``scope``:
    equality columns, then the ORDER BY columns or one range column; a column wrapped in a
    function becomes the range column, to be used once the predicate is rewritten (QRY001)."""
    eq, order, rng = index_columns_for(scope, ref)
    after_rewrite = False
    if rng is None and not order:
        wrapped = [
            p
            for p in conjunct_predicates(scope)
            if p.kind == "function" and p.column is not None and p.column.table == ref and p.column.column not in eq
        ]
        if wrapped:
            rng = wrapped[0].column.column
            after_rewrite = True
    return eq + order + ([rng] if rng and not order else []), after_rewrite


def select_aliases(shape: QueryShape) -> set[str]:
    """Names the select lists give to expressions (``SUM(b) AS s``): an ORDER BY or GROUP BY on
    them is not a column an index could hold."""
    return {node.alias.lower() for node in shape.expression.find_all(exp.Alias) if node.alias}
