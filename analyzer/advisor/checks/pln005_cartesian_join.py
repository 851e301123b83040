"""PLN005: two tables joined with no condition between them (a cartesian product)."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import (
    all_predicates,
    catalog_table,
    derived_plan_tables,
    n,
)
from analyzer.advisor.query import Scope, TableRef
from analyzer.sources.schema import Catalog


def _components(scope: Scope, catalog: Catalog | None = None) -> list[list[TableRef]]:
    """The scope's base tables grouped by the conditions that connect them."""
    tables = [t for t in scope.tables if not t.derived]
    parent = {id(t): id(t) for t in tables}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    known = set(parent)
    for p in all_predicates(scope, catalog):
        # a column compared with another column of an unknown table may be the join condition:
        # without knowing where it belongs, nothing can be said
        if p.other is not None and (p.column is None or p.column.table is None or p.other.table is None):
            return [tables]
        if len(_columns(p)) > 1 and any(c.table is None for c in (p.column, p.other) if c is not None):
            return [tables]
    for p in all_predicates(scope, catalog):
        if p.column is None or p.other is None or p.column.table is None or p.other.table is None:
            continue
        a, b = id(p.column.table), id(p.other.table)
        if a in known and b in known:
            parent[find(a)] = find(b)
    # a condition mixing columns of several tables in an expression (o.a + c.b > 5) connects them too
    for p in all_predicates(scope, catalog):
        refs = {id(t) for t in tables if t.label.lower() in {c.table.lower() for c in _columns(p) if c.table}}
        refs = list(refs)
        for other in refs[1:]:
            parent[find(refs[0])] = find(other)
    groups: dict[int, list[TableRef]] = {}
    for t in tables:
        groups.setdefault(find(id(t)), []).append(t)
    return list(groups.values())


def _columns(p):
    from sqlglot import exp

    return list(p.expression.find_all(exp.Column))


class CartesianJoin(Check):
    """Two tables are joined with no condition between them: every row of one meets every row of the other.

    **Anti-pattern**

    ```sql
    SELECT o.id, c.email FROM orders o, customers c WHERE o.status = 'paid';
    -- or: FROM orders o JOIN customers c WHERE ...  (JOIN without ON)
    ```

    Without a condition linking ``orders`` and ``customers`` the server pairs each paid order
    with each customer: 15,000 x 40,000 = 600 million rows, through a join buffer (``Using join
    buffer``, MySQL 8 "hash join" with no condition, MariaDB ``block-nl-join`` without
    ``attached_condition``).  It is nearly always a forgotten join condition in a comma join and
    returns wrong, duplicated results as well as being slow.

    **Fix**

    Write the join condition, and prefer explicit ``JOIN ... ON`` so it cannot be forgotten:

    ```sql
    SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'paid';
    ```

    When the product is intended (pairing each row with a one-row settings table), say so with
    ``CROSS JOIN`` on a derived table of one row.
    """

    code = "PLN005"
    name = "cartesian-join"
    severity = "warning"

    CRITICAL_PAIRS = 1_000_000
    SMALL_PAIRS = 10_000  # a product of two tiny tables (a settings row, a system table): info only

    def run(self, context: CheckContext) -> Iterator[Finding]:
        shape = context.shape
        if shape is not None:  # the statement's text decides; the plan is read only without it
            for scope in shape.scopes:
                groups = _components(scope, context.catalog)
                if len(groups) >= 2:
                    yield self._from_shape(context, scope, groups)
            return
        if context.plan is None:
            return
        plan = context.plan
        derived = derived_plan_tables(plan)
        for i, t in enumerate(plan.tables):
            if not t.using_join_buffer or t.attached_condition or t.ref or id(t) in derived or t.internal:
                continue
            before = [p for p in plan.tables[:i] if p.select_id == t.select_id]
            if not before:
                continue
            left = before[-1]
            pairs = (left.rows or 0) * (t.rows or 0)
            yield self.finding(
                context,
                f"{t.table} is joined to {', '.join(p.table for p in before)} through a join buffer "
                f"({t.using_join_buffer}) with no join condition: about {n(left.rows)} x {n(t.rows)} = "
                f"{n(pairs)} row pairs.",
                fix=f"Add the join condition between {t.table} and {left.table} (JOIN {t.table} ON ...).",
                table=t.table,
                severity=self._severity(pairs),
                pairs=pairs,
            )

    def _severity(self, pairs: float | None) -> str:
        if pairs is None:
            return "warning"
        return "critical" if pairs >= self.CRITICAL_PAIRS else "info" if pairs < self.SMALL_PAIRS else "warning"

    def _rows(self, context: CheckContext, ref: TableRef) -> float | None:
        if context.plan is not None:
            found = context.plan.table_named(ref.label)
            if found and found[0].rows is not None:
                t = found[0]
                return t.rows * (t.filtered if t.filtered is not None else 100) / 100
        table = catalog_table(context, ref)
        return float(table.rows) if table is not None and table.rows is not None else None

    def _from_shape(self, context: CheckContext, scope: Scope, groups: list[list[TableRef]]) -> Finding:
        def label(group: list[TableRef]) -> str:
            return " + ".join(f"{t.name} {t.alias}" if t.alias and t.alias != t.name else t.name for t in group)

        names = [label(g) for g in groups]
        message = "No condition connects " + " and ".join(f"({x})" if "+" in x else x for x in names)
        message += ": every row of one is paired with every row of the other"
        sizes = []
        for g in groups:
            rows = [self._rows(context, t) for t in g]
            sizes.append(max(rows) if all(r is not None for r in rows) and rows else None)
        pairs = None
        if all(s is not None for s in sizes):
            pairs = 1.0
            for s in sizes:
                pairs *= s or 1
            message += f" ({' x '.join(n(s) for s in sizes)} = {n(pairs)} row pairs)"
        message += "."
        a, b = groups[0][-1], groups[1][0]
        fix = (
            f"Add the join condition, as an explicit JOIN: ... FROM {a.name}{' ' + a.alias if a.alias else ''} "
            f"JOIN {b.name}{' ' + b.alias if b.alias else ''} ON {b.label}.<column> = {a.label}.<column>"
        )
        table_a = catalog_table(context, a)
        table_b = catalog_table(context, b)
        guess = _guess_condition(a, table_a, b, table_b)
        if guess:
            fix += f" (probably ON {guess})"
        fix += ". If the product is intended, write CROSS JOIN with a one-row derived table."
        return self.finding(
            context, message, fix=fix, table=b.name, severity=self._severity(pairs), groups=names, pairs=pairs
        )


def _guess_condition(a: TableRef, table_a, b: TableRef, table_b) -> str | None:
    """``b.id = a.b_id`` when the naming convention says so (customers.id <- orders.customer_id)."""
    if table_a is None or table_b is None:
        return None
    for x, tx, y, ty in ((a, table_a, b, table_b), (b, table_b, a, table_a)):
        singular = ty.name.removesuffix("s")
        fk = tx.column(f"{singular}_id")
        if fk is not None and ty.column("id") is not None:
            return f"{y.label}.id = {x.label}.{fk.name}"
    return None


CASES = [
    Case(
        "SELECT o.id, o.total_cents, c.email FROM orders o, customers c WHERE o.status = 'paid'",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "o",
                            "access_type": "ALL",
                            "possible_keys": ["idx_orders_status"],
                            "rows": 29992,
                            "filtered": 20.00533485,
                            "attached_condition": "o.`status` = 'paid'",
                        }
                    },
                    {
                        "block-nl-join": {
                            "table": {
                                "table_name": "c",
                                "access_type": "index",
                                "key": "uq_customers_email",
                                "key_length": "762",
                                "used_key_parts": ["email"],
                                "rows": 39768,
                                "filtered": 100,
                                "using_index": True,
                            },
                            "buffer_type": "flat",
                            "buffer_size": "256KiB",
                            "join_type": "BNL",
                        }
                    },
                ],
            }
        },
        contains=["orders o and customers c", "6,000 x 39,768", "probably ON c.id = o.customer_id"],
        note="comma join, the condition forgotten; MariaDB 10.11 (recorded): block-nl-join with no condition",
    ),
    Case(
        "SELECT o.id, o.total_cents, c.email FROM orders o, customers c WHERE o.status = 'paid'",
        expect=True,
        rows={"orders": 30076, "customers": 40210},
        contains=["30,076 x 40,210"],
        note="no plan: sizes from the catalog",
    ),
    Case(
        "SELECT p.name, w.city, i.quantity FROM products p JOIN inventory i ON i.product_id = p.id "
        "JOIN warehouses w WHERE i.quantity < 5",
        expect=True,
        contains=["(products p + inventory i) and warehouses w", "probably ON w.id = i.warehouse_id"],
        note="JOIN without ON",
    ),
    Case(
        "SELECT o.id, c.email FROM orders o JOIN customers c WHERE o.status = 'paid'",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "cost_info": {"query_cost": "120961234.11"},
                "nested_loop": [
                    {
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
                            "used_columns": ["id", "status"],
                        }
                    },
                    {
                        "table": {
                            "table_name": "c",
                            "access_type": "ALL",
                            "rows_examined_per_scan": 40210,
                            "rows_produced_per_join": 604677980,
                            "filtered": "100.00",
                            "using_join_buffer": "hash join",
                            "cost_info": {
                                "read_cost": "60416.52",
                                "eval_cost": "60467798.00",
                                "prefix_cost": "120961234.11",
                                "data_read_per_join": "724G",
                            },
                            "used_columns": ["email"],
                        }
                    },
                ],
            }
        },
        contains=["15,038 x 40,210", "probably ON c.id = o.customer_id"],
        note="MySQL 8: hash join without a condition; sizes from the plan",
    ),
    Case(
        "SELECT o.id, c.email FROM orders o, customers c WHERE c.id = o.customer_id AND o.status = 'paid'",
        expect=False,
        note="comma join with its condition in WHERE",
    ),
    Case(
        "SELECT COUNT(*) FROM customer, orders, nation WHERE c_custkey = o_custkey AND c_nationkey = n_nationkey "
        "AND n_name = 'GERMANY'",
        expect=False,
        note="TPC-H tables the catalog does not know: unqualified join columns may connect them",
    ),
    Case(
        "SELECT p.name, w.city FROM products p CROSS JOIN warehouses w JOIN inventory i "
        "ON i.product_id = p.id AND i.warehouse_id = w.id WHERE i.quantity = 0",
        expect=False,
        note="CROSS JOIN connected through inventory's ON condition",
    ),
    Case(
        "SELECT o.id, o.total_cents FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.country = 'DE'",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {"table": {"table_name": "o", "access_type": "ALL", "rows": 29992, "filtered": 100}},
                    {
                        "table": {
                            "table_name": "c",
                            "access_type": "eq_ref",
                            "possible_keys": ["PRIMARY", "idx_customers_country", "idx_customers_country_status"],
                            "key": "PRIMARY",
                            "key_length": "4",
                            "used_key_parts": ["id"],
                            "ref": ["shop.o.customer_id"],
                            "rows": 1,
                            "filtered": 20.11667633,
                            "attached_condition": "c.country = 'DE'",
                        }
                    },
                ],
            }
        },
        note="MariaDB 10.11 (recorded): joined by primary key",
    ),
]
