"""What a statement asks of each table: the shape checks and the index advisor read.

``analyze_query(sql)`` parses the statement once with sqlglot and returns a ``QueryShape``: for
every SELECT scope (the main query, subqueries, derived tables) the tables it reads, and every
predicate of its WHERE and ON clauses classified the way an index sees it: equality, IN list,
range, prefix LIKE, join equality, or not usable (a function or arithmetic on the column, a
leading-wildcard LIKE, ``<>``), plus ORDER BY / GROUP BY columns, LIMIT/OFFSET, ``SELECT *`` and
the subqueries with whether they are correlated.

Columns are resolved to real tables: a qualifier names an alias or table of the scope (or of an
enclosing one: a correlated reference); an unqualified column belongs to the only table of its
scope, or to the table the ``Catalog`` says has it.

>>> shape = analyze_query("SELECT * FROM orders o WHERE o.customer_id = 5 ORDER BY o.created_at DESC LIMIT 10")
>>> [(p.kind, p.column.column) for p in shape.main.predicates]
[('eq', 'customer_id')]
>>> [(c.column, desc) for c, desc in shape.main.order_by]
[('created_at', True)]
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from analyzer.errors import AnalyzerError
from analyzer.sources.explain import is_replace, parse_statements
from analyzer.sources.schema import Catalog, Table

logging.getLogger("sqlglot").setLevel(logging.ERROR)


class QueryParseError(AnalyzerError):
    """The statement does not parse into something the advisor can read."""


@dataclass(frozen=True)
class TableRef:
    """A table as a scope names it: the real table (``schema`` None when the statement does not
    say), its alias, and ``derived`` for a subquery in FROM."""

    name: str
    schema: str | None = None
    alias: str | None = None
    derived: bool = False

    @property
    def label(self) -> str:
        return self.alias or self.name

    def key(self) -> tuple[str | None, str]:
        return (self.schema.lower() if self.schema else None, self.name.lower())


@dataclass(frozen=True)
class ColumnRef:
    """A column resolved to the table it belongs to (``table`` None when that is unknown)."""

    column: str
    table: TableRef | None = None
    outer: bool = False  # resolved in an enclosing scope: a correlated reference

    def __str__(self) -> str:
        return f"{self.table.label}.{self.column}" if self.table else self.column


PREDICATE_KINDS = (
    "eq",
    "in",
    "is_null",
    "range",
    "like_prefix",
    "like_infix",
    "join",
    "ne",
    "function",
    "in_subquery",
    "not_in_subquery",
    "other",
)
"""``eq`` col = constant; ``in`` col IN (list); ``is_null``; ``range`` <, >, BETWEEN, prefix LIKE
counts as ``like_prefix``; ``join`` col = other table's col; ``ne`` <>, NOT IN list; ``function``
a function or arithmetic wraps the column (not sargable); ``in_subquery``/``not_in_subquery``."""

INDEXABLE = frozenset({"eq", "in", "is_null", "range", "like_prefix", "join"})


@dataclass
class Predicate:
    """One conjunct (or one disjunct of an OR) of a WHERE/ON clause, as an index sees it."""

    kind: str
    column: ColumnRef | None
    expression: exp.Expression = field(repr=False, compare=False)
    other: ColumnRef | None = None  # join: the column on the other side
    values: int = 1  # IN list length
    literal: str | None = None  # "number" | "string" | "null" | "other": the constant's type
    function: str | None = None  # "function": the wrapping expression, e.g. DATE(created_at)
    in_or: bool = False  # part of an OR
    source: str = "where"  # where | on | having

    @property
    def sql(self) -> str:
        return self.expression.sql(dialect="mysql")


@dataclass
class Scope:
    """One SELECT (or the single-table part of an UPDATE/DELETE)."""

    kind: str  # main | subquery | derived | union
    tables: list[TableRef] = field(default_factory=list)
    predicates: list[Predicate] = field(default_factory=list)
    or_groups: list[list[Predicate]] = field(default_factory=list)
    order_by: list[tuple[ColumnRef, bool]] = field(default_factory=list)  # (column, descending)
    order_by_expressions: list[str] = field(default_factory=list)  # ORDER BY items that are not columns
    group_by: list[ColumnRef] = field(default_factory=list)
    selected: list[ColumnRef] = field(default_factory=list)
    select_star: list[TableRef | None] = field(default_factory=list)  # None: a bare *
    limit: int | None = None
    offset: int | None = None
    order_by_rand: bool = False
    distinct: bool = False
    aggregates: bool = False
    correlated: bool = False
    negated_subquery: bool = False  # under NOT IN / NOT EXISTS
    subquery_context: str = ""  # where | select | from | in | exists
    has_where: bool = False
    cross_joins: list[TableRef] = field(default_factory=list)  # tables joined with no condition

    def predicates_on(self, table: TableRef) -> list[Predicate]:
        return [p for p in self.predicates if p.column is not None and p.column.table == table]


@dataclass
class QueryShape:
    """Every scope of one statement; ``main`` is the outermost SELECT (or the write's)."""

    sql: str
    kind: str  # SELECT | INSERT | UPDATE | DELETE | REPLACE | OTHER
    scopes: list[Scope]
    expression: exp.Expression = field(repr=False)
    written_table: TableRef | None = None  # the table an INSERT/UPDATE/DELETE/REPLACE changes
    in_lists: list[int] = field(default_factory=list)  # lengths of every literal IN list

    @property
    def main(self) -> Scope:
        return self.scopes[0]

    def all_tables(self) -> list[TableRef]:
        seen: dict[tuple[Any, ...], TableRef] = {}
        for scope in self.scopes:
            for t in scope.tables:
                if not t.derived:
                    seen.setdefault((t.key(), t.label.lower()), t)
        return list(seen.values())


def _literal_type(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Literal):
        return "string" if node.is_string else "number"
    if isinstance(node, exp.Null):
        return "null"
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return _literal_type(node.this)
    if isinstance(node, (exp.Boolean,)):
        return "number"
    if isinstance(node, exp.Placeholder):
        return "other"
    return None


def _is_constant(node: exp.Expression) -> bool:
    """No column of any table: literals, parameters, functions of them (NOW(), '2024' + INTERVAL)."""
    if isinstance(node, (exp.Subquery, exp.Select)):
        return False
    return not any(isinstance(n, exp.Column) for n in node.walk()) and not any(
        isinstance(n, (exp.Select, exp.Subquery)) for n in node.walk()
    )


def _int_value(node: exp.Expression | None) -> int | None:
    if node is None:
        return None
    value = node.args.get("expression") if isinstance(node, (exp.Limit, exp.Offset)) else node
    if isinstance(value, exp.Literal) and not value.is_string:
        try:
            return int(value.this)
        except (TypeError, ValueError):
            return None
    return None


class _Analyzer:
    def __init__(self, catalog: Catalog | None, default_schema: str | None) -> None:
        self.catalog = catalog
        self.default_schema = default_schema
        self.scopes: list[Scope] = []
        self.in_lists: list[int] = []

    # -- tables -------------------------------------------------------------------------------

    def table_ref(self, node: exp.Expression) -> TableRef | None:
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            alias = node.alias or None
            return TableRef(node.name, node.db or None, alias)
        return None

    def real_table(self, ref: TableRef) -> Table | None:
        if self.catalog is None or ref.derived:
            return None
        return self.catalog.find(ref.name, ref.schema or None)

    # -- columns ------------------------------------------------------------------------------

    def resolve(self, column: exp.Column, stack: list[Scope]) -> ColumnRef:
        name = column.name
        qualifier = column.table
        for depth, scope in enumerate(reversed(stack)):
            outer = depth > 0
            if qualifier:
                for t in scope.tables:
                    if t.label.lower() == qualifier.lower() or (
                        t.alias is None and t.name.lower() == qualifier.lower()
                    ):
                        return ColumnRef(name.lower(), t, outer)
                continue
            real = [t for t in scope.tables]
            if len(real) == 1 and not outer:
                return ColumnRef(name.lower(), real[0], False)
            owners = [t for t in real if self._has_column(t, name)]
            if len(owners) == 1:
                return ColumnRef(name.lower(), owners[0], outer)
            if not outer and len(real) == 1:
                return ColumnRef(name.lower(), real[0], False)
        return ColumnRef(name.lower(), None, False)

    def _has_column(self, ref: TableRef, name: str) -> bool:
        table = self.real_table(ref)
        return table is not None and table.column(name) is not None

    # -- scopes -------------------------------------------------------------------------------

    def select(
        self, node: exp.Expression, stack: list[Scope], kind: str, context: str = "", negated: bool = False
    ) -> None:
        if isinstance(node, exp.Subquery):
            node = node.this
        if isinstance(node, exp.SetOperation):
            self.select(node.left, stack, kind, context, negated)
            self.select(node.right, stack, "union" if kind == "main" else kind, context, negated)
            return
        if not isinstance(node, exp.Select):
            return
        scope = Scope(kind, subquery_context=context, negated_subquery=negated)
        self.scopes.append(scope)
        inner_stack = stack + [scope]
        sources: list[exp.Expression] = []
        if node.args.get("from_") is not None:
            sources.append(node.args["from_"].this)
        joins = list(node.args.get("joins") or [])
        self.add_sources(scope, sources, joins, inner_stack)
        self.clauses(scope, node, inner_stack)

    def add_sources(
        self, scope: Scope, sources: list[exp.Expression], joins: list[exp.Join], stack: list[Scope]
    ) -> None:
        for source in sources:
            # sqlglot hangs a multi-table UPDATE/DELETE's joins on the Table itself
            inner_joins = list(source.args.get("joins") or []) if isinstance(source, exp.Table) else []
            self.add_source(scope, source, stack)
            joins = inner_joins + joins
        for join in joins:
            ref = self.add_source(scope, join.this, stack)
            on = join.args.get("on")
            using = join.args.get("using")
            if on is not None:
                self.conditions(scope, on, stack, "on")
            elif using:
                for ident in using:
                    name = ident.name if hasattr(ident, "name") else str(ident)
                    left = next((t for t in scope.tables[:-1] if self._has_column(t, name)), None) or (
                        scope.tables[0] if scope.tables else None
                    )
                    col_l = ColumnRef(name.lower(), left)
                    col_r = ColumnRef(name.lower(), ref)
                    cond = exp.EQ(
                        this=exp.column(name, left.label if left else None),
                        expression=exp.column(name, ref.label if ref else None),
                    )
                    scope.predicates.append(Predicate("join", col_r, cond, other=col_l, source="on"))
                    scope.predicates.append(Predicate("join", col_l, cond, other=col_r, source="on"))
            elif (
                ref is not None
                and (join.args.get("kind") or "").upper() in ("", "CROSS", "INNER")
                and not join.args.get("side")
            ):
                scope.cross_joins.append(ref)

    def add_source(self, scope: Scope, source: exp.Expression, stack: list[Scope]) -> TableRef | None:
        if isinstance(source, exp.Table):
            ref = self.table_ref(source)
            if ref is not None:
                scope.tables.append(ref)
            return ref
        if isinstance(source, exp.Subquery):
            ref = TableRef(source.alias or "<derived>", None, source.alias or None, derived=True)
            scope.tables.append(ref)
            self.select(source.this, stack[:-1], "derived", "from")
            return ref
        return None

    def clauses(self, scope: Scope, node: exp.Select, stack: list[Scope]) -> None:
        where = node.args.get("where")
        if where is not None:
            scope.has_where = True
            self.conditions(scope, where.this, stack, "where")
        having = node.args.get("having")
        if having is not None:
            self.subqueries_in(having, stack)
        scope.distinct = node.args.get("distinct") is not None
        for item in node.expressions:
            target = item.this if isinstance(item, exp.Alias) else item
            if isinstance(target, exp.Star):
                scope.select_star.append(None)
            elif isinstance(target, exp.Column) and isinstance(target.this, exp.Star):
                qualifier = target.table
                scope.select_star.append(next((t for t in scope.tables if t.label.lower() == qualifier.lower()), None))
            elif isinstance(target, exp.Column):
                scope.selected.append(self.resolve(target, stack))
            else:
                if any(isinstance(n, exp.AggFunc) for n in target.walk()):
                    scope.aggregates = True
                for col in target.find_all(exp.Column):
                    if not self._inside_subquery(col, target):
                        scope.selected.append(self.resolve(col, stack))
                self.subqueries_in(target, stack, "select")
        group = node.args.get("group")
        if group is not None:
            for item in group.expressions:
                if isinstance(item, exp.Column):
                    scope.group_by.append(self.resolve(item, stack))
        order = node.args.get("order")
        if order is not None:
            self.order(scope, order, stack)
        scope.limit = _int_value(node.args.get("limit"))
        scope.offset = _int_value(node.args.get("offset"))

    def order(self, scope: Scope, order: exp.Order, stack: list[Scope]) -> None:
        for item in order.expressions:
            target = item.this if isinstance(item, exp.Ordered) else item
            desc = bool(item.args.get("desc")) if isinstance(item, exp.Ordered) else False
            if isinstance(target, exp.Column):
                scope.order_by.append((self.resolve(target, stack), desc))
            else:
                if isinstance(target, exp.Rand) or (
                    isinstance(target, exp.Anonymous) and target.name.upper() == "RAND"
                ):
                    scope.order_by_rand = True
                scope.order_by_expressions.append(target.sql(dialect="mysql"))

    @staticmethod
    def _inside_subquery(node: exp.Expression, root: exp.Expression) -> bool:
        parent = node.parent
        while parent is not None and parent is not root:
            if isinstance(parent, (exp.Subquery, exp.Select)):
                return True
            parent = parent.parent
        return False

    def subqueries_in(
        self, node: exp.Expression, stack: list[Scope], context: str = "where", negated: bool = False
    ) -> None:
        if isinstance(node, (exp.Subquery, exp.Select)):
            before = len(self.scopes)
            self.select(node, stack, "subquery", context, negated)
            self.mark_correlated(before)
            return
        for sub in node.find_all(exp.Subquery, exp.Select):
            # only the outermost subqueries under this node; nested ones are found recursively
            parent = sub.parent
            nested = False
            while parent is not None and parent is not node:
                if isinstance(parent, (exp.Subquery, exp.Select)):
                    nested = True
                    break
                parent = parent.parent
            if nested:
                continue
            if isinstance(sub, exp.Select) and isinstance(sub.parent, exp.Subquery):
                continue
            before = len(self.scopes)
            self.select(sub, stack, "subquery", context, negated)
            self.mark_correlated(before)

    def mark_correlated(self, first_scope: int) -> None:
        for scope in self.scopes[first_scope:]:
            if any(
                (p.column is not None and p.column.outer) or (p.other is not None and p.other.outer)
                for p in scope.predicates
            ):
                scope.correlated = True

    # -- predicates ---------------------------------------------------------------------------

    def conditions(self, scope: Scope, node: exp.Expression, stack: list[Scope], source: str) -> None:
        for conjunct in _conjuncts(node):
            bare = conjunct
            while isinstance(bare, exp.Paren):
                bare = bare.this
            if isinstance(bare, exp.Or):
                group = []
                for disjunct in _disjuncts(bare):
                    for part in _conjuncts(disjunct):
                        pred = self.classify(scope, part, stack, source)
                        if pred is not None:
                            pred.in_or = True
                            group.append(pred)
                scope.or_groups.append(group)
                continue
            pred = self.classify(scope, conjunct, stack, source)
            if pred is not None:
                scope.predicates.append(pred)

    def classify(self, scope: Scope, node: exp.Expression, stack: list[Scope], source: str) -> Predicate | None:
        negated = False
        inner = node
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Not):
            negated = True
            inner = inner.this
            while isinstance(inner, exp.Paren):
                inner = inner.this
        if isinstance(inner, exp.Exists):
            before = len(self.scopes)
            self.select(inner.this, stack, "subquery", "exists", negated)
            self.mark_correlated(before)
            return None
        if isinstance(inner, exp.In):
            return self.in_predicate(scope, inner, node, stack, source, negated)
        if isinstance(inner, (exp.EQ, exp.NullSafeEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NEQ)):
            return self.comparison(scope, inner, node, stack, source, negated)
        if isinstance(inner, exp.Between):
            return self.one_sided(
                scope, inner.this, "range", node, stack, source, negated, literal=_literal_type(inner.args.get("low"))
            )
        if isinstance(inner, exp.Like):
            pattern = inner.expression
            kind = "like_prefix"
            if isinstance(pattern, exp.Literal) and pattern.is_string:
                text = pattern.this
                if text.startswith(("%", "_")):
                    kind = "like_infix"
            elif not _is_constant(pattern):
                kind = "other"
            return self.one_sided(scope, inner.this, kind, node, stack, source, negated, literal="string")
        if isinstance(inner, exp.Is):
            return self.one_sided(scope, inner.this, "is_null", node, stack, source, negated, literal="null")
        self.subqueries_in(inner, stack)
        cols = [c for c in inner.find_all(exp.Column)]
        column = self.resolve(cols[0], stack) if cols else None
        return Predicate("other", column, node, source=source)

    def in_predicate(
        self, scope: Scope, inner: exp.In, node: exp.Expression, stack: list[Scope], source: str, negated: bool
    ) -> Predicate | None:
        query = inner.args.get("query")
        if query is not None:
            before = len(self.scopes)
            self.select(query, stack, "subquery", "in", negated)
            self.mark_correlated(before)
            kind = "not_in_subquery" if negated else "in_subquery"
            column = self.resolve(inner.this, stack) if isinstance(inner.this, exp.Column) else None
            return Predicate(kind, column, node, source=source)
        values = inner.expressions
        self.in_lists.append(len(values))
        types = {_literal_type(v) for v in values}
        literal = types.pop() if len(types) == 1 else ("other" if types else None)
        return self.one_sided(
            scope,
            inner.this,
            "ne" if negated else "in",
            node,
            stack,
            source,
            False,
            literal=literal,
            values=len(values),
        )

    def comparison(
        self, scope: Scope, inner: exp.Expression, node: exp.Expression, stack: list[Scope], source: str, negated: bool
    ) -> Predicate | None:
        left, right = inner.this, inner.expression
        for side in (left, right):
            self.subqueries_in(side, stack)
        if isinstance(left, exp.Column) and isinstance(right, exp.Column):
            a, b = self.resolve(left, stack), self.resolve(right, stack)
            if isinstance(inner, (exp.EQ, exp.NullSafeEQ)) and not negated and a.table != b.table:
                # record the join on the inner side (the other side's column is the lookup value)
                if a.outer and not b.outer:
                    a, b = b, a
                pred = Predicate("join", a, node, other=b, source=source)
                scope.predicates.append(Predicate("join", b, node, other=a, source=source)) if not b.outer else None
                return pred
            return Predicate("other", a, node, other=b, source=source)
        kind = {exp.EQ: "eq", exp.NullSafeEQ: "eq", exp.NEQ: "ne"}.get(type(inner), "range")
        if negated:
            kind = "ne" if kind == "eq" else "other"
        if _is_constant(right) and not _is_constant(left):
            column_side, value = left, right
        elif _is_constant(left) and not _is_constant(right):
            column_side, value = right, left
        else:
            # column compared with an expression of other columns: usable only as a join-ish filter
            cols = list(left.find_all(exp.Column)) + list(right.find_all(exp.Column))
            column = self.resolve(cols[0], stack) if cols else None
            if isinstance(left, exp.Column) or isinstance(right, exp.Column):
                col_node = left if isinstance(left, exp.Column) else right
                return Predicate("other", self.resolve(col_node, stack), node, source=source)
            return Predicate(
                "function" if column else "other",
                column,
                node,
                source=source,
                function=(left if cols and cols[0] in left.walk() else right).sql(dialect="mysql"),
            )
        return self.one_sided(scope, column_side, kind, node, stack, source, False, literal=_literal_type(value))

    def one_sided(
        self,
        scope: Scope,
        column_side: exp.Expression,
        kind: str,
        node: exp.Expression,
        stack: list[Scope],
        source: str,
        negated: bool,
        *,
        literal: str | None = None,
        values: int = 1,
    ) -> Predicate | None:
        if negated:
            kind = {"eq": "ne", "in": "ne", "is_null": "range"}.get(kind, "other")
        while isinstance(column_side, exp.Paren):
            column_side = column_side.this
        if isinstance(column_side, exp.Column):
            return Predicate(
                kind, self.resolve(column_side, stack), node, literal=literal, values=values, source=source
            )
        cols = list(column_side.find_all(exp.Column))
        if not cols:
            return None
        column = self.resolve(cols[0], stack)
        if kind in ("ne", "other", "like_infix"):
            return Predicate(kind, column, node, literal=literal, values=values, source=source)
        return Predicate(
            "function",
            column,
            node,
            literal=literal,
            values=values,
            source=source,
            function=column_side.sql(dialect="mysql"),
        )


def _conjuncts(node: exp.Expression) -> Iterator[exp.Expression]:
    while isinstance(node, exp.Paren) and isinstance(node.this, (exp.And, exp.Paren)):
        node = node.this
    if isinstance(node, exp.And):
        yield from _conjuncts(node.this)
        yield from _conjuncts(node.expression)
    else:
        yield node


def _disjuncts(node: exp.Expression) -> Iterator[exp.Expression]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Or):
        yield from _disjuncts(node.this)
        yield from _disjuncts(node.expression)
    else:
        yield node


def parse_statement(sql: str) -> exp.Expression:
    """The one statement ``sql`` holds, parsed by sqlglot (MySQL dialect); REPLACE is read as INSERT."""
    try:
        statements = parse_statements(sql)
    except (ParseError, TokenError) as exc:
        raise QueryParseError(
            f"the statement does not parse: {str(exc).splitlines()[0][:160] if str(exc) else exc}"
        ) from exc
    if len(statements) != 1:
        raise QueryParseError("expected one statement" if statements else "no statement")
    return statements[0]


def analyze_query(sql: str, *, catalog: Catalog | None = None, default_schema: str | None = None) -> QueryShape:
    """The ``QueryShape`` of one statement (raises ``QueryParseError`` when sqlglot cannot read it)."""
    node = parse_statement(sql)
    kind = "OTHER"
    analyzer = _Analyzer(catalog, default_schema)
    written: TableRef | None = None
    if isinstance(node, (exp.Select, exp.SetOperation, exp.Subquery)):
        kind = "SELECT"
        analyzer.select(node, [], "main")
    elif isinstance(node, (exp.Update, exp.Delete)):
        kind = "UPDATE" if isinstance(node, exp.Update) else "DELETE"
        scope = Scope("main")
        analyzer.scopes.append(scope)
        using = node.args.get("using")
        source = using[0] if isinstance(using, list) and using else node.this
        analyzer.add_sources(scope, [source], [], [scope])
        written = scope.tables[0] if scope.tables else None
        targets = node.args.get("tables")
        if targets and scope.tables:
            first = targets[0].name.lower() if hasattr(targets[0], "name") else ""
            written = next((t for t in scope.tables if t.label.lower() == first), written)
        where = node.args.get("where")
        if where is not None:
            scope.has_where = True
            analyzer.conditions(scope, where.this, [scope], "where")
        if node.args.get("order") is not None:
            analyzer.order(scope, node.args["order"], [scope])
        scope.limit = _int_value(node.args.get("limit"))
        if isinstance(node, exp.Update):
            for assignment in node.expressions:
                analyzer.subqueries_in(assignment, [scope], "select")
    elif isinstance(node, exp.Insert):
        kind = "REPLACE" if is_replace(sql) else "INSERT"
        target = node.this
        if isinstance(target, exp.Schema):
            target = target.this
        written = analyzer.table_ref(target) if isinstance(target, exp.Table) else None
        source = node.expression
        if isinstance(source, (exp.Select, exp.SetOperation, exp.Subquery)):
            analyzer.select(source, [], "main")
        if not analyzer.scopes:
            analyzer.scopes.append(Scope("main"))
    else:
        analyzer.scopes.append(Scope("main"))
    return QueryShape(sql, kind, analyzer.scopes, node, written, analyzer.in_lists)
