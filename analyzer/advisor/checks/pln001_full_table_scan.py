"""PLN001: a large base table read from the first row to the last."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import (
    add_index_ddl,
    catalog_table,
    derived_plan_tables,
    describe_unindexed,
    existing_index,
    find_ref,
    index_for_filters,
    n,
)


class FullTableScan(Check):
    """A large base table is read whole: every row (``ALL``) or every index entry (``index``).

    **Anti-pattern**

    ```sql
    SELECT id, total_cents FROM orders WHERE customer_id = 42;   -- no index starts with customer_id
    ```

    EXPLAIN shows ``access_type: ALL`` on ``orders`` with ``rows`` close to the table's size.
    InnoDB reads every page of the clustered index and evaluates the WHERE on every row, so the
    cost grows with the table, not with the result: the statement is fast on a test database and
    slow in production, it evicts useful pages from the buffer pool, and under ``REPEATABLE READ``
    an UPDATE or DELETE that scans also locks every row it reads.  A full *index* scan (``index``)
    is the same walk over a secondary index (and a lookup of each row unless the index covers the
    query).

    **Fix**

    Give the filter an index whose leading columns are the equality columns, then one range
    column, and make the predicates sargable (no function on the column, no leading ``%``):

    ```sql
    ALTER TABLE orders ADD INDEX idx_orders_customer_id (customer_id);
    ```

    When the scan is intended (a report over the whole table), run it on a replica or in
    batches by primary-key range.  Tables under 10,000 rows and derived temporary tables are not
    reported.
    """

    code = "PLN001"
    name = "full-table-scan"
    severity = "warning"

    MIN_ROWS = 10_000
    CRITICAL_ROWS = 1_000_000
    CRITICAL_TOTAL_SECONDS = 600.0  # the class spent 10 minutes of server time in the window

    def run(self, context: CheckContext) -> Iterator[Finding]:
        plan = context.plan
        if plan is None:
            return
        derived = derived_plan_tables(plan)
        for t in plan.tables:
            if t.internal or id(t) in derived or not t.full_scan:
                continue
            if t.access_type == "index" and t.using_index:
                continue  # a covering index scan: narrower than the table, reported by PLN006 if costly
            rows = t.rows or 0
            if rows < self.MIN_ROWS:
                continue
            scope, ref = find_ref(context.shape, t.table)
            table = catalog_table(context, ref)
            display = table.name if table is not None else (ref.name if ref is not None else t.table)
            label = f"{display} ({t.table})" if ref is not None and ref.alias and ref.alias != display else display
            critical = rows >= self.CRITICAL_ROWS or (
                context.facts is not None and context.facts.query_time_total >= self.CRITICAL_TOTAL_SECONDS
            )
            how = "every row of" if t.access_type == "ALL" else "every entry of an index of"
            message = (
                f"{how[0].upper()}{how[1:]} {label} is read: access {t.access_type}, about {n(rows)} rows per scan"
            )
            if t.filtered is not None and t.filtered < 100:
                message += f", of which {t.filtered:g}% pass the filter"
            if t.dependent:
                message += ", repeated for every outer row (dependent subquery)"
            message += "."
            if context.facts is not None and context.facts.query_time_total >= self.CRITICAL_TOTAL_SECONDS:
                message += f" The class spent {context.facts.query_time_total:,.0f} s in total."
            fix = None
            missing: list[str] = []
            if scope is not None and ref is not None:
                missing, reasons = describe_unindexed(context, scope, ref)
                if reasons:
                    message += " Filter columns without a usable index: " + ", ".join(reasons) + "."
                elif not scope.has_where and not [p for p in scope.predicates_on(ref) if p.kind == "join"]:
                    message += " The statement has no WHERE condition on it."
                columns, after_rewrite = index_for_filters(context, scope, ref)
                have = existing_index(table, columns)
                if columns and have is None and (table is None or missing):
                    fix = add_index_ddl(display, columns)
                    if after_rewrite or any("wildcard" in r for r in reasons):
                        fix += " once the non-sargable predicates are rewritten (see QRY001/QRY003): " + ", ".join(
                            r for r in reasons if "wrapped" in r or "wildcard" in r
                        )
                elif have is not None and any("wrapped" in r or "wildcard" in r for r in reasons):
                    fix = (
                        "Rewrite the predicates on "
                        + ", ".join(r for r in reasons if "wrapped" in r or "wildcard" in r)
                        + f" (see QRY001/QRY003) so the existing {have.name} ({', '.join(have.column_names)}) "
                        "can be used."
                    )
                elif have is not None and t.key is None:
                    fix = (
                        f"{have.name} ({', '.join(have.column_names)}) exists but the optimizer chose to scan: "
                        "its leading column is not selective enough for this filter (or statistics are stale: "
                        f"ANALYZE TABLE {display})."
                    )
                elif reasons:
                    fix = (
                        "Rewrite the predicates on "
                        + ", ".join(reasons)
                        + " so an index can be used (see QRY001/QRY003)."
                    )
            if fix is None:
                if t.possible_keys and not t.key:
                    fix = (
                        f"possible keys {', '.join(t.possible_keys)} were rejected as not selective enough; "
                        "add a more selective leading column or accept the scan (run it off-peak or in "
                        "primary-key batches)"
                    )
                else:
                    fix = (
                        f"Add a WHERE condition that an index on {display} can serve, or read it in "
                        f"primary-key batches (WHERE id > ? ORDER BY id LIMIT 10000)"
                    )
            yield self.finding(
                context,
                message,
                fix=fix,
                table=display,
                severity="critical" if critical else "warning",
                rows=rows,
                access_type=t.access_type,
                missing_index_columns=missing,
            )


_ORDERS_SCAN = {
    "query_block": {
        "select_id": 1,
        "nested_loop": [
            {
                "table": {
                    "table_name": "o",
                    "access_type": "ALL",
                    "rows": 29992,
                    "filtered": 100,
                    "attached_condition": "o.customer_id = 42",
                }
            }
        ],
    }
}

CASES = [
    Case(
        "SELECT o.id, o.total_cents FROM orders o WHERE o.customer_id = 42",
        expect=True,
        plan=_ORDERS_SCAN,
        contains=[
            "orders (o)",
            "29,992 rows",
            "customer_id (no index starts with it)",
            "ALTER TABLE orders ADD INDEX idx_orders_customer_id (customer_id)",
        ],
        note="MariaDB 10.11: no index on orders.customer_id",
    ),
    Case(
        "SELECT id, sku, name FROM products WHERE sku = 'SKU-000123'",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "cost_info": {"query_cost": "205112.75"},
                "table": {
                    "table_name": "products",
                    "access_type": "ALL",
                    "rows_examined_per_scan": 2003240,
                    "rows_produced_per_join": 200324,
                    "filtered": "10.00",
                    "cost_info": {
                        "read_cost": "185080.35",
                        "eval_cost": "20032.40",
                        "prefix_cost": "205112.75",
                        "data_read_per_join": "1G",
                    },
                    "used_columns": ["id", "sku", "name"],
                    "attached_condition": "(`shop`.`products`.`sku` = 'SKU-000123')",
                },
            }
        },
        contains=["products", "2,003,240 rows", "sku (no index starts with it)", "ADD INDEX idx_products_sku (sku)"],
        note="MySQL 8, 2M rows: critical",
    ),
    Case(
        "SELECT * FROM orders WHERE DATE(created_at) = '2024-05-01'",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "orders",
                            "access_type": "ALL",
                            "rows": 29992,
                            "filtered": 100,
                            "attached_condition": "cast(orders.created_at as date) = '2024-05-01'",
                        }
                    }
                ],
            }
        },
        contains=[
            "created_at (wrapped in DATE(created_at))",
            "QRY001",
            "so the existing idx_orders_created_at (created_at) can be used",
        ],
    ),
    Case(
        "SELECT * FROM orders WHERE id = 1042",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "orders",
                            "access_type": "const",
                            "possible_keys": ["PRIMARY"],
                            "key": "PRIMARY",
                            "key_length": "4",
                            "used_key_parts": ["id"],
                            "ref": ["const"],
                            "rows": 1,
                            "filtered": 100,
                        }
                    }
                ],
            }
        },
        note="primary-key lookup",
    ),
    Case(
        "SELECT w.code, w.city FROM warehouses w WHERE w.city = 'Lyon'",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "w",
                            "access_type": "ALL",
                            "rows": 12,
                            "filtered": 100,
                            "attached_condition": "w.city = 'Lyon'",
                        }
                    }
                ],
            }
        },
        note="a tiny table is read whole in no time",
    ),
    Case(
        "SELECT d.customer_id, d.n FROM (SELECT customer_id, COUNT(*) AS n FROM orders "
        "WHERE created_at >= '2024-05-01' GROUP BY customer_id) d WHERE d.n > 5",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "<derived2>",
                            "access_type": "ALL",
                            "rows": 25000,
                            "filtered": 100,
                            "attached_condition": "d.n > 5",
                            "materialized": {
                                "query_block": {
                                    "select_id": 2,
                                    "having_condition": "n > 5",
                                    "filesort": {
                                        "sort_key": "orders.customer_id",
                                        "temporary_table": {
                                            "nested_loop": [
                                                {
                                                    "table": {
                                                        "table_name": "orders",
                                                        "access_type": "range",
                                                        "possible_keys": ["idx_orders_created_at"],
                                                        "key": "idx_orders_created_at",
                                                        "key_length": "5",
                                                        "used_key_parts": ["created_at"],
                                                        "rows": 2500,
                                                        "filtered": 100,
                                                        "index_condition": "orders.created_at >= '2024-05-01'",
                                                    }
                                                }
                                            ]
                                        },
                                    },
                                }
                            },
                        }
                    }
                ],
            }
        },
        note="the derived temporary table is scanned, the base table is read by range",
    ),
    Case(
        "SELECT d.customer_id, d.n FROM (SELECT customer_id, COUNT(*) AS n FROM orders "
        "WHERE created_at >= '2024-05-01' GROUP BY customer_id) d WHERE d.n > 5",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "cost_info": {"query_cost": "2815.00"},
                "table": {
                    "table_name": "d",
                    "access_type": "ALL",
                    "rows_examined_per_scan": 25000,
                    "rows_produced_per_join": 8332,
                    "filtered": "33.33",
                    "cost_info": {
                        "read_cost": "1981.67",
                        "eval_cost": "833.33",
                        "prefix_cost": "2815.00",
                        "data_read_per_join": "195K",
                    },
                    "used_columns": ["customer_id", "n"],
                    "attached_condition": "(`d`.`n` > 5)",
                    "materialized_from_subquery": {
                        "using_temporary_table": True,
                        "dependent": False,
                        "cacheable": True,
                        "query_block": {
                            "select_id": 2,
                            "cost_info": {"query_cost": "1381.31"},
                            "grouping_operation": {
                                "using_temporary_table": True,
                                "using_filesort": False,
                                "table": {
                                    "table_name": "orders",
                                    "access_type": "range",
                                    "possible_keys": ["idx_orders_created_at"],
                                    "key": "idx_orders_created_at",
                                    "used_key_parts": ["created_at"],
                                    "key_length": "5",
                                    "rows_examined_per_scan": 2500,
                                    "rows_produced_per_join": 2500,
                                    "filtered": "100.00",
                                    "index_condition": "(`shop`.`orders`.`created_at` >= TIMESTAMP'2024-05-01 00:00:00')",
                                    "cost_info": {
                                        "read_cost": "1131.31",
                                        "eval_cost": "250.00",
                                        "prefix_cost": "1381.31",
                                        "data_read_per_join": "1M",
                                    },
                                    "used_columns": ["id", "customer_id", "created_at"],
                                },
                            },
                        },
                    },
                },
            }
        },
        note="MySQL 8 names a derived table by its alias ('d'), not <derived2>",
    ),
    Case(
        "SELECT COUNT(*) FROM orders",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "orders",
                            "access_type": "index",
                            "key": "idx_orders_created_at",
                            "key_length": "5",
                            "used_key_parts": ["created_at"],
                            "rows": 29992,
                            "filtered": 100,
                            "using_index": True,
                        }
                    }
                ],
            }
        },
        note="a covering index scan for COUNT(*)",
    ),
]
