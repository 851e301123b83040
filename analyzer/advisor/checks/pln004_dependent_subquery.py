"""PLN004: a correlated subquery that runs again for every row of the outer query."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import (
    catalog_table,
    conjuncts,
    indexes_starting_with,
    n,
    select_node,
    sql,
)
from analyzer.advisor.query import Predicate, Scope


def _correlations(scope: Scope) -> list[Predicate]:
    return [
        p
        for p in scope.predicates
        if p.kind == "join" and p.other is not None and p.other.outer and p.column is not None
    ]


def _outer_rows(context: CheckContext) -> float | None:
    plan = context.plan
    if plan is None:
        return None
    rows: float | None = None
    for t in plan.tables:
        if t.context or t.dependent:
            continue
        if t.rows is None:
            continue
        produced = t.rows * (t.filtered if t.filtered is not None else 100) / 100
        rows = produced if rows is None else rows * max(produced, 1)
    return rows


def _context(context: CheckContext, scope: Scope) -> tuple[str, bool]:
    """(select | where | in | exists, negated), read from the tree when query.py said only "where"
    (it does so for a subquery inside a parenthesized OR)."""
    kind, negated = scope.subquery_context, scope.negated_subquery
    if kind == "where" and context.shape is not None:
        node = select_node(context.shape, scope)
        parent = node.parent if node is not None else None
        while isinstance(parent, (exp.Subquery, exp.Paren)):
            parent = parent.parent
        if isinstance(parent, exp.Exists):
            kind = "exists"
        elif isinstance(parent, exp.In):
            kind = "in"
        if kind != "where":
            up = parent.parent
            while isinstance(up, exp.Paren):
                up = up.parent
            negated = isinstance(up, exp.Not)
    return kind, negated


class DependentSubquery(Check):
    """A correlated subquery is executed again for every row of the outer query (DEPENDENT SUBQUERY).

    **Anti-pattern**

    ```sql
    SELECT p.id, p.name,
           (SELECT AVG(r.rating) FROM reviews r WHERE r.product_id = p.id) AS rating
    FROM products p WHERE p.is_active = 1;
    ```

    The subquery refers to ``p.id`` of the outer row, so the server runs it once per product:
    20,000 products mean 20,000 executions, each one a full scan of ``reviews`` when
    ``reviews.product_id`` has no index.  MariaDB's subquery cache only helps when outer values
    repeat; MySQL 8 turns many ``IN``/``EXISTS`` forms into semi-joins, but a scalar subquery in
    the select list, a subquery under ``OR`` or one with ``LIMIT`` stays dependent.

    **Fix**

    Compute the subquery once for all outer rows, as a derived table grouped by the correlation
    column, and join it:

    ```sql
    SELECT p.id, p.name, r_agg.rating
    FROM products p
    LEFT JOIN (SELECT r.product_id, AVG(r.rating) AS rating FROM reviews r GROUP BY r.product_id) AS r_agg
           ON r_agg.product_id = p.id
    WHERE p.is_active = 1;
    ```

    ``EXISTS`` becomes a ``JOIN`` on ``SELECT DISTINCT`` of the correlation column (``NOT EXISTS``
    a ``LEFT JOIN ... WHERE x IS NULL``).  At least index the correlation column
    (``ALTER TABLE reviews ADD INDEX idx_reviews_product_id (product_id)``) so each execution is a
    lookup, not a scan.
    """

    code = "PLN004"
    name = "dependent-subquery"
    severity = "warning"

    CONTEXTS = ("select", "where", "in", "exists")

    def run(self, context: CheckContext) -> Iterator[Finding]:
        plan = context.plan
        shape = context.shape
        dependent = [t for t in plan.tables if t.dependent] if plan is not None else []
        if plan is not None and not dependent:
            return  # the optimizer decorrelated it (semi-join, materialization): nothing runs per row
        scopes = (
            [s for s in shape.scopes if s.correlated and s.subquery_context in self.CONTEXTS]
            if shape is not None
            else []
        )
        if not dependent and not scopes:
            return
        outer_rows = _outer_rows(context)
        if not scopes:
            names = ", ".join(sorted({t.table for t in dependent}))
            message = f"A dependent subquery on {names} runs once per outer row"
            message += f" (~{n(outer_rows)} rows)" if outer_rows else ""
            rewritten = [t for t in dependent if t.access_type in ("unique_subquery", "index_subquery")]
            if rewritten:
                message += (
                    f": the optimizer turned IN (SELECT ...) into a correlated lookup "
                    f"({rewritten[0].access_type} on {rewritten[0].key})"
                )
            scans = [t for t in dependent if t.full_scan]
            if scans:
                message += (
                    f", each run reading all ~{n(scans[0].rows)} rows of {scans[0].table} ({scans[0].access_type})"
                )
            message += "."
            yield self.finding(
                context,
                message,
                fix="Rewrite it as a JOIN to a derived table grouped by the correlation column, "
                "or index the correlation column so each run is a lookup.",
                table=dependent[0].table,
                severity=self._severity(dependent, outer_rows),
            )
            return
        for scope in scopes:
            yield self._finding(context, scope, dependent, outer_rows)

    LOOKUPS = ("system", "const", "eq_ref", "ref", "unique_subquery", "index_subquery")
    SMALL_OUTER = 1_000

    def _severity(self, dependent: list, outer_rows: float | None) -> str:
        scans = [t for t in dependent if t.full_scan]
        if scans and outer_rows and outer_rows * (scans[0].rows or 0) >= 100_000_000:
            return "critical"
        if (
            dependent
            and all(t.access_type in self.LOOKUPS for t in dependent)
            and outer_rows is not None
            and outer_rows < self.SMALL_OUTER
        ):
            return "info"  # a few index lookups per statement
        return "warning"

    def _finding(self, context: CheckContext, scope: Scope, dependent: list, outer_rows: float | None) -> Finding:
        corr = _correlations(scope)
        inner_ref = next((t for t in scope.tables if not t.derived), scope.tables[0] if scope.tables else None)
        if corr:
            inner_ref = corr[0].column.table if corr[0].column is not None else inner_ref
        table = catalog_table(context, inner_ref)
        inner_name = (
            table.name
            if table is not None
            else (inner_ref.name if inner_ref is not None and not inner_ref.derived else "a derived table")
        )
        pairs = ", ".join(f"{p.column} = {p.other}" for p in corr) or "an outer column"
        kind, negated = _context(context, scope)
        in_set = context.shape is not None and context.shape.kind == "UPDATE" and kind == "select"
        where = {
            "select": "in SET" if in_set else "in the select list",
            "where": "in WHERE",
            "in": "under NOT IN" if negated else "under IN",
            "exists": "under NOT EXISTS" if negated else "under EXISTS",
        }[kind]
        message = f"The subquery on {inner_name} {where} is correlated ({pairs}) and runs once per outer row"
        message += f" (~{n(outer_rows)} rows)" if outer_rows else ""
        scans = (
            [t for t in dependent if t.full_scan and t.table.lower() in {inner_ref.label.lower(), inner_name.lower()}]
            if inner_ref
            else []
        )
        if scans:
            message += f", each run reading all ~{n(scans[0].rows)} rows of {inner_name} ({scans[0].access_type})"
        message += "."
        severity = self._severity(dependent, outer_rows) if context.plan is not None else "warning"
        if context.plan is None and kind in ("in", "exists"):
            message += (
                f" MySQL 8.0.16+ and MariaDB may turn it into {'an anti-join' if negated else 'a semi-join'}; "
                "EXPLAIN shows whether it stays DEPENDENT."
            )
        fixes = []
        rewrite = self._rewrite(context, scope, corr)
        if rewrite:
            fixes.append(rewrite)
        index_fix = self._index_fix(context, scope, corr)
        if index_fix:
            fixes.append(index_fix)
        if not fixes:
            fixes.append("Rewrite the subquery as a JOIN to a derived table grouped by the correlation column.")
        return self.finding(
            context,
            message,
            fix=" ".join(fixes),
            table=inner_name,
            severity=severity,
            correlation=pairs,
            subquery_context=scope.subquery_context,
        )

    def _index_fix(self, context: CheckContext, scope: Scope, corr: list[Predicate]) -> str | None:
        if not corr or corr[0].column is None:
            return None
        ref = corr[0].column.table
        table = catalog_table(context, ref)
        columns = [p.column.column for p in corr if p.column is not None]
        columns += [
            p.column.column
            for p in scope.predicates_on(ref)
            if p.kind == "eq" and p.column and p.column.column not in columns
        ]
        if table is not None and indexes_starting_with(table, columns[0]):
            return None
        name = table.name if table is not None else (ref.name if ref else "?")
        return (
            f"At least index the correlation column so each run is a lookup: ALTER TABLE {name} ADD INDEX "
            f"idx_{name}_{'_'.join(columns)} ({', '.join(columns)})."
        )

    def _rewrite(self, context: CheckContext, scope: Scope, corr: list[Predicate]) -> str | None:
        shape = context.shape
        if shape is None or not corr or len(scope.tables) != 1:
            return None
        node = select_node(shape, scope)
        if node is None:
            return None
        inner = corr[0].column
        outer = corr[0].other
        alias = f"{scope.tables[0].label}_agg" if scope.subquery_context == "select" else f"{scope.tables[0].label}_ids"
        copy = node.copy()
        correlated_sql = {sql(p.expression) for p in corr}
        where = copy.args.get("where")
        kept = [c for c in conjuncts(where.this)] if where is not None else []
        kept = [c for c in kept if sql(c) not in correlated_sql]
        copy.set("where", exp.Where(this=exp.and_(*kept)) if kept else None)
        inner_col = exp.column(inner.column, scope.tables[0].label)
        if scope.subquery_context == "select":
            items = copy.expressions
            if len(items) != 1:
                return None
            item = items[0]
            outer_alias = node.parent.parent if isinstance(node.parent, exp.Subquery) else None
            value_name = (
                item.alias
                or (outer_alias.alias if isinstance(outer_alias, exp.Alias) else "")
                or ("n" if isinstance(item, exp.Count) else "value")
            )
            if not any(isinstance(x, exp.AggFunc) for x in item.walk()):
                # a scalar lookup, not an aggregate: a plain LEFT JOIN does it
                ref = scope.tables[0]
                table = f"{ref.name} {ref.alias}" if ref.alias else ref.name
                on = " AND ".join(sql(p.expression) for p in corr)
                extra = f" AND {' AND '.join(sql(c) for c in kept)}" if kept else ""
                return (
                    f"Join the table instead: LEFT JOIN {table} ON {on}{extra} and select "
                    f"{sql(item.this if isinstance(item, exp.Alias) else item)} (when {inner} is unique, "
                    "otherwise keep one row per outer row with a derived table)."
                )
            value = item.this if isinstance(item, exp.Alias) else item
            copy.set("expressions", [inner_col, exp.alias_(value.copy(), value_name)])
            copy.set("group", exp.Group(expressions=[inner_col.copy()]))
            copy.set("limit", None)
            shown = f"COALESCE({alias}.{value_name}, 0)" if isinstance(value, exp.Count) else f"{alias}.{value_name}"
            if shape.kind == "UPDATE" and shape.written_table is not None:
                target = shape.written_table
                assignment = node.parent.parent if isinstance(node.parent, exp.Subquery) else None
                column = sql(assignment.this) if isinstance(assignment, exp.EQ) else "<column>"
                return (
                    f"Compute it once for all rows and join it: UPDATE {target.name}"
                    f"{' ' + target.alias if target.alias else ''} LEFT JOIN ({sql(copy)}) AS {alias} ON "
                    f"{alias}.{inner.column} = {outer} SET {column} = {shown}."
                )
            return (
                f"Compute it once for all rows and join it: LEFT JOIN ({sql(copy)}) AS {alias} "
                f"ON {alias}.{inner.column} = {outer} and select {shown} instead of the subquery."
            )
        copy.set("expressions", [inner_col])
        copy.set("distinct", exp.Distinct())
        copy.set("limit", None)
        if _context(context, scope)[1]:
            return (
                f"Rewrite it as an anti-join: LEFT JOIN ({sql(copy)}) AS {alias} ON {alias}.{inner.column} = "
                f"{outer} WHERE {alias}.{inner.column} IS NULL."
            )
        return f"Rewrite it as a join: JOIN ({sql(copy)}) AS {alias} ON {alias}.{inner.column} = {outer}."


CASES = [
    Case(
        "SELECT p.id, p.name, (SELECT AVG(r.rating) FROM reviews r WHERE r.product_id = p.id) AS rating "
        "FROM products p WHERE p.is_active = 1",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "p",
                            "access_type": "ALL",
                            "rows": 20118,
                            "filtered": 100,
                            "attached_condition": "p.is_active = 1",
                        }
                    }
                ],
                "subqueries": [
                    {
                        "expression_cache": {
                            "state": "uninitialized",
                            "query_block": {
                                "select_id": 2,
                                "nested_loop": [
                                    {
                                        "table": {
                                            "table_name": "r",
                                            "access_type": "ALL",
                                            "rows": 58511,
                                            "filtered": 100,
                                            "attached_condition": "r.product_id = p.`id`",
                                        }
                                    }
                                ],
                            },
                        }
                    }
                ],
            }
        },
        contains=[
            "reviews",
            "r.product_id = p.id",
            "~20,118 rows",
            "all ~58,511 rows",
            "LEFT JOIN (SELECT r.product_id, AVG(r.rating) AS rating FROM reviews AS r GROUP BY r.product_id)",
            "ALTER TABLE reviews ADD INDEX idx_reviews_product_id (product_id)",
        ],
        note="MariaDB 10.11 (recorded): select-list subquery behind the expression cache",
    ),
    Case(
        "SELECT o.id, o.created_at FROM orders o WHERE o.status = 'paid' AND (o.total_cents > 50000 OR "
        "EXISTS (SELECT 1 FROM payments pay WHERE pay.order_id = o.id AND pay.status = 'refunded'))",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "cost_info": {"query_cost": "1560.71"},
                "table": {
                    "table_name": "o",
                    "access_type": "ref",
                    "possible_keys": ["idx_orders_status"],
                    "key": "idx_orders_status",
                    "used_key_parts": ["status"],
                    "key_length": "66",
                    "ref": ["const"],
                    "rows_examined_per_scan": 15038,
                    "rows_produced_per_join": 15038,
                    "filtered": "100.00",
                    "cost_info": {
                        "read_cost": "56.91",
                        "eval_cost": "1503.80",
                        "prefix_cost": "1560.71",
                        "data_read_per_join": "9M",
                    },
                    "used_columns": ["id", "status", "total_cents", "created_at"],
                    "attached_condition": "((`shop`.`o`.`total_cents` > 50000) or exists(/* select#2 */ select 1 from "
                    "`shop`.`payments` `pay` where ((`shop`.`pay`.`order_id` = `shop`.`o`.`id`) "
                    "and (`shop`.`pay`.`status` = 'refunded'))))",
                    "attached_subqueries": [
                        {
                            "dependent": True,
                            "cacheable": False,
                            "query_block": {
                                "select_id": 2,
                                "cost_info": {"query_cost": "0.35"},
                                "table": {
                                    "table_name": "pay",
                                    "access_type": "ref",
                                    "possible_keys": ["idx_payments_order"],
                                    "key": "idx_payments_order",
                                    "used_key_parts": ["order_id"],
                                    "key_length": "4",
                                    "ref": ["shop.o.id"],
                                    "rows_examined_per_scan": 1,
                                    "rows_produced_per_join": 0,
                                    "filtered": "10.00",
                                    "cost_info": {
                                        "read_cost": "0.25",
                                        "eval_cost": "0.01",
                                        "prefix_cost": "0.35",
                                        "data_read_per_join": "59",
                                    },
                                    "used_columns": ["order_id", "status"],
                                    "attached_condition": "(`shop`.`pay`.`status` = 'refunded')",
                                },
                            },
                        }
                    ],
                },
            }
        },
        contains=[
            "payments",
            "pay.order_id = o.id",
            "under EXISTS",
            "~15,038 rows",
            "JOIN (SELECT DISTINCT pay.order_id FROM payments AS pay WHERE pay.status = 'refunded') AS pay_ids",
        ],
        note="MySQL 8: EXISTS under OR stays dependent; payments.order_id is indexed, so no index DDL",
    ),
    Case(
        "SELECT c.id, c.email FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)",
        expect=True,
        contains=[
            "orders",
            "o.customer_id = c.id",
            "under NOT EXISTS",
            "may turn it into an anti-join",
            "LEFT JOIN (SELECT DISTINCT o.customer_id FROM orders AS o) AS o_ids",
            "ADD INDEX idx_orders_customer_id (customer_id)",
        ],
        note="no plan: from the shape",
    ),
    Case(
        "UPDATE products p SET p.review_count = (SELECT COUNT(*) FROM reviews r WHERE r.product_id = p.id "
        "AND r.is_approved = 1) WHERE p.is_active = 1",
        expect=True,
        contains=[
            "in SET",
            "UPDATE products p LEFT JOIN (SELECT r.product_id, COUNT(*) AS n FROM reviews AS r "
            "WHERE r.is_approved = 1 GROUP BY r.product_id) AS r_agg ON r_agg.product_id = p.id "
            "SET p.review_count = COALESCE(r_agg.n, 0)",
        ],
        note="a counter refreshed by a correlated subquery",
    ),
    Case(
        "SELECT o.id, o.total_cents, (SELECT c.email FROM customers c WHERE c.id = o.customer_id) AS email "
        "FROM orders o WHERE o.status = 'pending'",
        expect=True,
        contains=[
            "customers",
            "c.id = o.customer_id",
            "LEFT JOIN customers c ON c.id = o.customer_id and select c.email",
        ],
        note="a scalar lookup per row: a join",
    ),
    Case(
        "SELECT p.id, p.name FROM products p WHERE p.id IN (SELECT oi.product_id FROM order_items oi "
        "WHERE oi.order_id = 1042)",
        expect=False,
        note="not correlated: the IN subquery runs once (materialized or a semi-join)",
    ),
    Case(
        "SELECT o.id, o.total_cents FROM orders o WHERE EXISTS "
        "(SELECT 1 FROM payments pay WHERE pay.order_id = o.id AND pay.status = 'refunded')",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "cost_info": {"query_cost": "13593.39"},
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "o",
                            "access_type": "ALL",
                            "possible_keys": ["PRIMARY"],
                            "rows_examined_per_scan": 29992,
                            "rows_produced_per_join": 29992,
                            "filtered": "100.00",
                            "cost_info": {
                                "read_cost": "52.00",
                                "eval_cost": "2999.20",
                                "prefix_cost": "3051.20",
                                "data_read_per_join": "17M",
                            },
                            "used_columns": ["id", "total_cents"],
                        }
                    },
                    {
                        "table": {
                            "table_name": "pay",
                            "access_type": "ref",
                            "possible_keys": ["idx_payments_order"],
                            "key": "idx_payments_order",
                            "used_key_parts": ["order_id"],
                            "key_length": "4",
                            "ref": ["shop.o.id"],
                            "rows_examined_per_scan": 1,
                            "rows_produced_per_join": 2999,
                            "filtered": "10.00",
                            "first_match": "o",
                            "cost_info": {
                                "read_cost": "10242.27",
                                "eval_cost": "299.92",
                                "prefix_cost": "13593.39",
                                "data_read_per_join": "1M",
                            },
                            "used_columns": ["id", "order_id", "status"],
                            "attached_condition": "(`shop`.`pay`.`status` = 'refunded')",
                        }
                    },
                ],
            }
        },
        note="MySQL 8 turned the correlated EXISTS into a semi-join (FirstMatch): nothing runs per row",
    ),
]
