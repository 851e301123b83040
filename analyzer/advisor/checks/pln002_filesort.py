"""PLN002: the plan sorts the rows (filesort) instead of reading them in index order."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import (
    add_index_ddl,
    catalog_table,
    existing_index,
    n,
    select_aliases,
)


class Filesort(Check):
    """The plan sorts the rows it read (``Using filesort``) instead of reading them in index order.

    **Anti-pattern**

    ```sql
    SELECT id, total_cents FROM orders
    WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10;   -- no index (customer_id, created_at)
    ```

    MySQL and MariaDB must read *every* row that matches the WHERE, sort them (in memory up to
    ``sort_buffer_size``, then in merge passes on disk) and only then return the first ten.  The
    LIMIT saves nothing: the cost is the number of matching rows, and it grows with each
    customer's history.  A filesort on a full scan sorts the whole table.

    **Fix**

    An index that starts with the equality columns and continues with the ORDER BY columns
    returns the rows already sorted, so the server stops after the LIMIT:

    ```sql
    ALTER TABLE orders ADD INDEX idx_orders_customer_id_created_at (customer_id, created_at);
    ```

    Direction matters only when it is mixed (``ORDER BY a, b DESC``): MySQL 8 can use a
    descending index part (``b DESC``); MariaDB reads a whole index backwards, not one part.  When
    ORDER BY spans two tables no single index helps: sort by columns of the first table of the
    join, or sort a smaller, limited set in a derived table.
    """

    code = "PLN002"
    name = "filesort"
    severity = "warning"

    SMALL_SORT = 1_000  # fewer rows than this sort in memory in no time: info only

    def run(self, context: CheckContext) -> Iterator[Finding]:
        plan = context.plan
        if plan is None or not plan.using_filesort:
            return
        sorted_table = next((t for t in plan.tables if t.using_filesort), plan.tables[0] if plan.tables else None)
        rows_sorted = None
        if sorted_table is not None and sorted_table.rows is not None:
            rows_sorted = (
                sorted_table.rows * (sorted_table.filtered if sorted_table.filtered is not None else 100) / 100
            )
        shape = context.shape
        main = shape.main if shape is not None else None
        order_text = ", ".join(f"{c}{' DESC' if d else ''}" for c, d in main.order_by) if main and main.order_by else ""
        if main is not None and main.order_by_expressions:
            order_text = ", ".join(filter(None, [order_text] + main.order_by_expressions))
        if sorted_table is None:
            where = ""
        elif sorted_table.internal:
            where = f" of the temporary table {sorted_table.table}"
        else:
            where = f" on {sorted_table.table} (access {sorted_table.access_type}" + (
                f", ~{n(sorted_table.rows)} rows read)" if sorted_table.rows is not None else ")"
            )
        counted = f"about {n(rows_sorted)} rows" if rows_sorted is not None else "the rows"
        message = f"The plan sorts {counted}{where}"
        message += f" for ORDER BY {order_text}." if order_text else " (filesort)."
        if main is not None and main.limit is not None and main.order_by:
            message += f" LIMIT {main.limit} is applied only after every matching row is sorted."
        fix = None
        severity = "info" if rows_sorted is not None and rows_sorted < self.SMALL_SORT else "warning"
        if main is not None and main.order_by:
            refs = {c.table for c, _ in main.order_by}
            ref = next(iter(refs)) if len(refs) == 1 else None
            aliases = select_aliases(shape) & {c.column for c, _ in main.order_by}
            if ref is not None and (
                ref.derived or aliases or (context.catalog is not None and catalog_table(context, ref) is None)
            ):
                fix = (
                    "ORDER BY "
                    + (
                        f"{', '.join(sorted(aliases))} (computed in the select list)"
                        if aliases
                        else f"columns of the derived table {ref.label}"
                    )
                    + " cannot come from an index: sort fewer rows (filter or LIMIT earlier, in the derived table) "
                    "or order by base-table columns."
                )
            elif ref is not None:
                table = catalog_table(context, ref)
                display = table.name if table is not None else ref.name
                eq = []
                for p in main.predicates_on(ref):
                    if p.kind == "eq" and p.column and p.column.column not in eq:
                        eq.append(p.column.column)
                order_cols = [c.column for c, _ in main.order_by if c.column not in eq]
                desc = [d for c, d in main.order_by if c.column not in eq]
                mixed = len(set(desc)) > 1
                have = existing_index(table, eq + order_cols)
                if have is not None:
                    fix = (
                        f"{have.name} ({', '.join(have.column_names)}) already returns this order, but the "
                        f"optimizer read {sorted_table.table if sorted_table else display} another way "
                        f"(access {sorted_table.access_type if sorted_table else '?'}): compare the plan with FORCE "
                        f"INDEX ({have.name}); with a LIMIT it usually wins."
                    )
                elif eq:
                    fix = (
                        f"{add_index_ddl(display, eq + order_cols, desc=[False] * len(eq) + (desc if mixed else []))}"
                        f": with {' AND '.join(f'{c} = ?' for c in eq)} the index returns rows already ordered by "
                        f"{', '.join(order_cols)}, so the sort goes away and LIMIT stops early."
                    )
                else:
                    others = [p for p in main.predicates_on(ref) if p.kind in ("range", "in", "like_prefix")]
                    fix = (
                        f"{add_index_ddl(display, order_cols, desc=desc if mixed else [])}"
                        f" returns the rows in ORDER BY order"
                    )
                    if others:
                        fix += (
                            f"; the range/IN filter on {others[0].column.column if others[0].column else '?'} "
                            "comes first in the plan, so the sort stays unless the optimizer prefers walking "
                            "the ORDER BY index with the LIMIT"
                        )
                    fix += "."
                if mixed and have is None:
                    fix += " Mixed ASC/DESC needs descending index parts (MySQL 8) to avoid the sort."
            elif len(refs) > 1:
                tables = sorted({r.label for r in refs if r is not None})
                fix = (
                    f"ORDER BY uses columns of {', '.join(tables)}: no index can return that order. Order by "
                    "columns of the first table of the join only, or sort a limited derived table."
                )
        if fix is None and main is not None and main.group_by and not main.order_by:
            fix = (
                "The sort serves GROUP BY: an index on the grouping columns "
                f"({', '.join(c.column for c in main.group_by)}) lets the server group in index order."
            )
        if fix is None and any(
            node.label.startswith("window") and node.details.get("using_filesort") for node in plan.root.walk()
        ):
            fix = (
                "The sort serves a window function: an index on its PARTITION BY and ORDER BY columns lets rows "
                "arrive in window order."
            )
        if fix is None and main is not None and main.order_by_rand:
            fix = "ORDER BY RAND() always sorts; see QRY007."
        if fix is None:
            fix = "Index the columns the statement sorts by, after its equality columns."
        yield self.finding(
            context,
            message,
            fix=fix,
            table=sorted_table.table if sorted_table else None,
            severity=severity,
            rows_sorted=rows_sorted,
        )


CASES = [
    Case(
        "SELECT id, total_cents FROM orders WHERE customer_id = 42 ORDER BY total_cents DESC LIMIT 10",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "read_sorted_file": {
                            "filesort": {
                                "sort_key": "orders.total_cents desc",
                                "table": {
                                    "table_name": "orders",
                                    "access_type": "ALL",
                                    "rows": 29992,
                                    "filtered": 100,
                                    "attached_condition": "orders.customer_id = 42",
                                },
                            }
                        }
                    }
                ],
            }
        },
        contains=[
            "29,992 rows",
            "ORDER BY orders.total_cents DESC",
            "LIMIT 10",
            "ALTER TABLE orders ADD INDEX idx_orders_customer_id_total_cents (customer_id, total_cents)",
        ],
        note="MariaDB 10.11 read_sorted_file (recorded)",
    ),
    Case(
        "SELECT id, name, price_cents FROM products WHERE brand = 'Acme' ORDER BY price_cents",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "cost_info": {"query_cost": "187.35"},
                "ordering_operation": {
                    "using_filesort": True,
                    "cost_info": {"sort_cost": "412.00"},
                    "table": {
                        "table_name": "products",
                        "access_type": "ref",
                        "possible_keys": ["idx_products_brand"],
                        "key": "idx_products_brand",
                        "used_key_parts": ["brand"],
                        "key_length": "258",
                        "ref": ["const"],
                        "rows_examined_per_scan": 412,
                        "rows_produced_per_join": 412,
                        "filtered": "100.00",
                        "cost_info": {
                            "read_cost": "146.15",
                            "eval_cost": "41.20",
                            "prefix_cost": "187.35",
                            "data_read_per_join": "350K",
                        },
                        "used_columns": ["id", "name", "brand", "price_cents"],
                    },
                },
            }
        },
        contains=[
            "412 rows",
            "ORDER BY products.price_cents",
            "ADD INDEX idx_products_brand_price_cents (brand, price_cents)",
        ],
        note="MySQL 8 ordering_operation; small sort: info",
    ),
    Case(
        "SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.status = 'pending' ORDER BY c.email, o.created_at",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "filesort": {
                    "sort_key": "c.email, o.created_at",
                    "temporary_table": {
                        "nested_loop": [
                            {
                                "table": {
                                    "table_name": "o",
                                    "access_type": "ALL",
                                    "possible_keys": ["idx_orders_status"],
                                    "rows": 29992,
                                    "filtered": 20.00533485,
                                    "attached_condition": "o.`status` = 'pending'",
                                }
                            },
                            {
                                "table": {
                                    "table_name": "c",
                                    "access_type": "eq_ref",
                                    "possible_keys": ["PRIMARY"],
                                    "key": "PRIMARY",
                                    "key_length": "4",
                                    "used_key_parts": ["id"],
                                    "ref": ["shop.o.customer_id"],
                                    "rows": 1,
                                    "filtered": 100,
                                }
                            },
                        ]
                    },
                },
            }
        },
        contains=["about 6,000 rows", "c, o", "no index can return that order"],
        note="MariaDB 10.11 filesort over temporary_table (recorded)",
    ),
    Case(
        "SELECT id, total_cents FROM orders WHERE created_at >= '2024-05-01' ORDER BY created_at LIMIT 50",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "orders",
                            "access_type": "range",
                            "possible_keys": ["idx_orders_created_at"],
                            "key": "idx_orders_created_at",
                            "key_length": "5",
                            "used_key_parts": ["created_at"],
                            "rows": 14996,
                            "filtered": 100,
                            "index_condition": "orders.created_at >= '2024-05-01'",
                        }
                    }
                ],
            }
        },
        note="the range index returns rows in ORDER BY order: no sort",
    ),
    Case(
        "SELECT o.id, o.total_cents FROM orders o WHERE o.customer_id = 42 ORDER BY o.created_at DESC LIMIT 10",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "o",
                            "access_type": "index",
                            "key": "idx_orders_created_at",
                            "key_length": "5",
                            "used_key_parts": ["created_at"],
                            "rows": 10,
                            "filtered": 100,
                            "attached_condition": "o.customer_id = 42",
                        }
                    }
                ],
            }
        },
        note="MariaDB 10.11 (recorded): with LIMIT it walks idx_orders_created_at backwards instead of sorting",
    ),
    Case(
        "SELECT id, name FROM products WHERE brand = 'Acme' ORDER BY id DESC LIMIT 20",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "cost_info": {"query_cost": "187.35"},
                "ordering_operation": {
                    "using_filesort": False,
                    "table": {
                        "table_name": "products",
                        "access_type": "ref",
                        "possible_keys": ["idx_products_brand"],
                        "key": "idx_products_brand",
                        "used_key_parts": ["brand"],
                        "key_length": "258",
                        "ref": ["const"],
                        "rows_examined_per_scan": 412,
                        "rows_produced_per_join": 412,
                        "filtered": "100.00",
                        "backward_index_scan": True,
                        "cost_info": {
                            "read_cost": "146.15",
                            "eval_cost": "41.20",
                            "prefix_cost": "187.35",
                            "data_read_per_join": "350K",
                        },
                        "used_columns": ["id", "name", "brand"],
                    },
                },
            }
        },
        note="MySQL 8 ordering_operation without filesort: (brand, id) via the implicit primary key suffix",
    ),
]
