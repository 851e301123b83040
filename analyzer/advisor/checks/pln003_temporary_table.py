"""PLN003: the plan builds an internal temporary table (GROUP BY, DISTINCT, UNION, ORDER BY of a join)."""

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
from analyzer.advisor.query import Scope

_SET_OPERATIONS = ("union <", "intersect <", "except <")


def _operations(context: CheckContext) -> list[str]:
    """What the plan's temporary tables are for, in plan order: group, distinct, window, order,
    buffer, union, intersect, except, or temporary (MariaDB's ``temporary_table``, which does not say)."""
    plan = context.plan
    kinds: list[str] = []
    for node in plan.root.walk() if plan is not None else ():
        if node.kind != "operation":
            continue
        # MariaDB prints a UNION's result as union_result with table_name <union1,2> and no flag
        if node.details.get("using_temporary") or node.label.startswith(_SET_OPERATIONS):
            kind = node.label.split(" ", 1)[0]
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def _aliases(context: CheckContext) -> set[str]:
    return select_aliases(context.shape) if context.shape is not None else set()


class TemporaryTable(Check):
    """The plan builds an internal temporary table for GROUP BY, DISTINCT, UNION or an ORDER BY across a join.

    **Anti-pattern**

    ```sql
    SELECT customer_id, COUNT(*), SUM(total_cents) FROM orders
    WHERE status = 'paid' GROUP BY customer_id;        -- index on status only
    ```

    Rows arrive in an order that does not match the grouping, so the server copies them into a
    temporary table keyed by the GROUP BY columns (``Using temporary``), often sorted as well.
    The table lives in memory up to ``tmp_table_size``/``max_heap_table_size`` (MySQL 8:
    ``temptable_max_ram``) and then spills to disk; TEXT/BLOB columns in the select list force
    it to disk on older servers.  ``UNION`` (without ALL) and ``DISTINCT`` deduplicate through the
    same kind of table, and ``ORDER BY`` on columns of a joined table sorts a temporary copy of
    the join result.

    **Fix**

    Give the grouping an index that returns rows in group order, starting with the equality
    columns:

    ```sql
    ALTER TABLE orders ADD INDEX idx_orders_status_customer_id (status, customer_id);
    ```

    Write ``UNION ALL`` when the branches cannot overlap (no deduplication table on MySQL 8 and
    MariaDB 10.4+), drop a ``DISTINCT`` that a key already guarantees, and order a join by
    columns of its first table.
    """

    code = "PLN003"
    name = "temporary-table"
    severity = "warning"

    SMALL = 1_000

    def run(self, context: CheckContext) -> Iterator[Finding]:
        plan = context.plan
        if plan is None:
            return
        kinds = _operations(context)
        if not kinds and not plan.using_temporary:
            return
        shape = context.shape
        temp_table = next((t for t in plan.tables if t.using_temporary), plan.tables[0] if plan.tables else None)
        rows = None
        if temp_table is not None and temp_table.rows is not None:
            rows = temp_table.rows * (temp_table.filtered if temp_table.filtered is not None else 100) / 100
        severity = "info" if rows is not None and rows < self.SMALL else "warning"
        if shape is not None and ("temporary" in kinds or not kinds):
            # MariaDB's temporary_table does not say what for: the statement does
            inferred = (
                "group"
                if any(sc.group_by for sc in shape.scopes)
                else "distinct"
                if any(sc.distinct for sc in shape.scopes)
                else "order"
                if shape.main.order_by and len(shape.main.tables) > 1
                else "temporary"
            )
            kinds = [inferred if k == "temporary" else k for k in kinds] or [inferred]
        reasons: list[str] = []
        fixes: list[str] = []
        if "unary" in kinds and any(k in kinds for k in ("union", "intersect", "except")):
            kinds = [k for k in kinds if k != "unary"]
        for kind in dict.fromkeys(kinds):
            reason, fix = self._explain(context, kind)
            reasons.append(reason)
            if fix:
                fixes.append(fix)
        where = ""
        if temp_table is not None:
            where = f" over {temp_table.table}" + (f" (~{n(rows)} rows)" if rows is not None else "")
        message = f"The plan builds an internal temporary table for {'; '.join(reasons)}{where}."
        if plan.using_filesort:
            message += " Its rows are sorted as well (filesort)."
        fix = (
            "; ".join(fixes)
            if fixes
            else (
                "Index the GROUP BY / ORDER BY columns so rows are read in that "
                "order, or reduce the rows before grouping"
            )
        )
        yield self.finding(
            context,
            message,
            fix=fix[0].upper() + fix[1:] + ".",
            table=temp_table.table if temp_table is not None else None,
            severity=severity,
            rows=rows,
            reasons=reasons,
        )

    def _explain(self, context: CheckContext, kind: str) -> tuple[str, str | None]:
        shape = context.shape
        if kind in ("union", "intersect", "except"):
            word = kind.upper()
            if kind == "union":
                return (
                    "UNION (duplicate removal)",
                    "write UNION ALL when the branches cannot return the same row: no deduplication table is needed",
                )
            return (
                f"{word}",
                f"write {word} as {'a semi-join: WHERE EXISTS' if kind == 'intersect' else 'an anti-join: WHERE NOT EXISTS'} "
                "(SELECT 1 FROM ... WHERE the columns match) with an index on the compared columns",
            )
        if kind == "window":
            return (
                "a window function",
                "an index on the window's PARTITION BY and ORDER BY columns lets rows arrive in window order",
            )
        if kind == "buffer":
            return ("a buffered result (SQL_BUFFER_RESULT)", None)
        if shape is None:
            return (
                {"group": "GROUP BY", "distinct": "DISTINCT", "order": "ORDER BY"}.get(kind, "an intermediate result"),
                None,
            )
        if kind == "group":
            scope = next((sc for sc in shape.scopes if sc.group_by), None)
            if scope is None:
                return ("GROUP BY an expression", "group by plain columns, which an index can deliver in order")
            return self._group(context, scope)
        if kind == "distinct":
            scope = next((sc for sc in shape.scopes if sc.distinct), None)
            if scope is not None:
                cols = ", ".join(str(c) for c in scope.selected) or "the selected columns"
                return (
                    f"DISTINCT {cols}",
                    "drop DISTINCT when a primary or unique key in the select list already "
                    "makes rows unique; for a join that multiplies rows, use EXISTS instead of joining",
                )
            if any(sc.subquery_context in ("in", "exists") for sc in shape.scopes):
                return (
                    "removing the duplicates of a semi-join (IN/EXISTS subquery, DuplicateWeedout)",
                    "index the subquery's join columns so the optimizer can use FirstMatch, LooseScan or "
                    "materialization instead",
                )
            return ("duplicate removal", None)
        if kind == "unary":
            return ("ORDER BY/LIMIT over a parenthesized query", None)
        if kind == "order":
            main = shape.main
            if any(sc.order_by_rand for sc in shape.scopes):
                return ("ORDER BY RAND()", "see QRY007")
            group_scope = next((sc for sc in shape.scopes if sc.group_by), None)
            if group_scope is not None:  # MySQL marks GROUP BY ... ORDER BY on its ordering_operation
                return self._group(context, group_scope)
            if main.order_by and len(main.tables) > 1:
                order = "ORDER BY " + ", ".join(f"{c}{' DESC' if d else ''}" for c, d in main.order_by) + " of a join"
                tables = {c.table.label for c, _ in main.order_by if c.table is not None}
                driving = next((t for t in context.plan.tables if not t.context), None) if context.plan else None
                if driving is not None and tables == {driving.table}:
                    return (
                        order,
                        f"an index on {driving.table}'s ORDER BY columns "
                        f"({', '.join(c.column for c, _ in main.order_by)}) lets the join read {driving.table} "
                        "in order, so the joined rows need no sort",
                    )
                return (
                    order,
                    f"order by columns of the first table of the join only (now {', '.join(sorted(tables))}"
                    "), so rows can be read in index order before joining",
                )
            return ("ORDER BY", None)
        return ("an intermediate result", None)

    def _group(self, context: CheckContext, scope: Scope) -> tuple[str, str]:
        plan = context.plan
        cols = ", ".join(str(c) for c in scope.group_by)
        reason = f"GROUP BY {cols}"
        refs = {c.table for c in scope.group_by}
        ref = next(iter(refs)) if len(refs) == 1 else None
        if ref is None:
            return reason, (
                f"GROUP BY {cols} spans several tables: group by columns of one table (the driving "
                "table of the join), or aggregate that table in a derived table first and join the result"
            )
        table = catalog_table(context, ref)
        if (
            ref.derived
            or (table is None and context.catalog is not None)
            or _aliases(context) & {c.column for c in scope.group_by}
        ):
            return reason, "group by columns of a base table, which an index can deliver in order"
        display = table.name if table is not None else ref.name
        eq = []
        for p in scope.predicates_on(ref):
            if p.kind == "eq" and p.column and p.column.column not in eq:
                eq.append(p.column.column)
        group = [c.column for c in scope.group_by if c.column not in eq]
        driving = next((t for t in plan.tables if not t.context), None) if plan is not None else None
        have = existing_index(table, eq + group)
        if len(scope.tables) > 1 and driving is not None and driving.table.lower() != ref.label.lower():
            other = next((t for t in scope.tables if t.label.lower() == driving.table.lower()), None)
            link = next(
                (
                    p
                    for p in scope.predicates
                    if p.kind == "join"
                    and other is not None
                    and p.column is not None
                    and p.other is not None
                    and p.column.table is other
                    and p.other.table is ref
                ),
                None,
            )
            text = (
                f"the join is read from {driving.table}, so rows cannot arrive in {ref.label}'s "
                f"{', '.join(group)} order"
                + (f" even though {have.name} has it" if have else "")
                + f": aggregate {other.name if other else driving.table} first and group the fewer joined rows"
            )
            if link is not None:
                jc, lbl = link.column.column, other.label
                text += (
                    f", e.g. FROM (SELECT {lbl}.{jc}, COUNT(*) AS n FROM {other.name} {lbl} GROUP BY {lbl}.{jc}) "
                    f"AS {lbl}_agg JOIN {ref.name} {ref.label} ON {link.other} = {lbl}_agg.{jc} GROUP BY {cols} "
                    f"(with SUM({lbl}_agg.n) for the counts)"
                )
            return reason, text
        if have is not None:
            return reason, (
                f"{have.name} ({', '.join(have.column_names)}) already has this order; the optimizer "
                f"preferred another access: compare with FORCE INDEX ({have.name})"
            )
        return reason, (
            f"{add_index_ddl(display, eq + group)} so rows arrive grouped by {', '.join(group)}"
            + (f" within {' AND '.join(c + ' = ?' for c in eq)}" if eq else "")
        )


CASES = [
    Case(
        "SELECT customer_id, COUNT(*) AS n, SUM(total_cents) AS spent FROM orders WHERE status = 'paid' "
        "GROUP BY customer_id",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "filesort": {
                    "sort_key": "orders.customer_id",
                    "temporary_table": {
                        "nested_loop": [
                            {
                                "table": {
                                    "table_name": "orders",
                                    "access_type": "ALL",
                                    "possible_keys": ["idx_orders_status"],
                                    "rows": 29992,
                                    "filtered": 20.00533485,
                                    "attached_condition": "orders.`status` = 'paid'",
                                }
                            }
                        ]
                    },
                },
            }
        },
        contains=[
            "GROUP BY orders.customer_id",
            "~6,000 rows",
            "ALTER TABLE orders ADD INDEX idx_orders_status_customer_id (status, customer_id)",
        ],
        note="MariaDB 10.11 filesort over temporary_table (recorded)",
    ),
    Case(
        "SELECT p.brand, COUNT(*) FROM order_items oi JOIN products p ON p.id = oi.product_id GROUP BY p.brand",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "cost_info": {"query_cost": "63112.44"},
                "grouping_operation": {
                    "using_temporary_table": True,
                    "using_filesort": False,
                    "nested_loop": [
                        {
                            "table": {
                                "table_name": "oi",
                                "access_type": "ALL",
                                "possible_keys": ["idx_order_items_product"],
                                "rows_examined_per_scan": 90112,
                                "rows_produced_per_join": 90112,
                                "filtered": "100.00",
                                "cost_info": {
                                    "read_cost": "92.25",
                                    "eval_cost": "9011.20",
                                    "prefix_cost": "9103.45",
                                    "data_read_per_join": "2M",
                                },
                                "used_columns": ["product_id"],
                            }
                        },
                        {
                            "table": {
                                "table_name": "p",
                                "access_type": "eq_ref",
                                "possible_keys": ["PRIMARY", "idx_products_brand"],
                                "key": "PRIMARY",
                                "used_key_parts": ["id"],
                                "key_length": "4",
                                "ref": ["shop.oi.product_id"],
                                "rows_examined_per_scan": 1,
                                "rows_produced_per_join": 90112,
                                "filtered": "100.00",
                                "cost_info": {
                                    "read_cost": "22528.00",
                                    "eval_cost": "9011.20",
                                    "prefix_cost": "40642.65",
                                    "data_read_per_join": "74M",
                                },
                                "used_columns": ["id", "brand"],
                            }
                        },
                    ],
                },
            }
        },
        contains=[
            "GROUP BY p.brand",
            "90,112 rows",
            "The join is read from oi",
            "even though idx_products_brand has it",
            "FROM (SELECT oi.product_id, COUNT(*) AS n FROM order_items oi GROUP BY oi.product_id) AS oi_agg "
            "JOIN products p ON p.id = oi_agg.product_id GROUP BY p.brand",
        ],
        note="MySQL 8 grouping_operation on a join",
    ),
    Case(
        "SELECT email FROM customers WHERE country = 'DE' UNION SELECT email FROM customers WHERE status = 'vip'",
        expect=True,
        plan={
            "query_block": {
                "union_result": {
                    "table_name": "<union1,2>",
                    "access_type": "ALL",
                    "query_specifications": [
                        {
                            "query_block": {
                                "select_id": 1,
                                "nested_loop": [
                                    {
                                        "table": {
                                            "table_name": "customers",
                                            "access_type": "ref",
                                            "possible_keys": ["idx_customers_country", "idx_customers_country_status"],
                                            "key": "idx_customers_country",
                                            "key_length": "8",
                                            "used_key_parts": ["country"],
                                            "ref": ["const"],
                                            "rows": 4120,
                                            "filtered": 100,
                                        }
                                    }
                                ],
                            }
                        },
                        {
                            "query_block": {
                                "select_id": 2,
                                "operation": "UNION",
                                "nested_loop": [
                                    {
                                        "table": {
                                            "table_name": "customers",
                                            "access_type": "ALL",
                                            "rows": 39768,
                                            "filtered": 100,
                                            "attached_condition": "customers.`status` = 'vip'",
                                        }
                                    }
                                ],
                            }
                        },
                    ],
                }
            }
        },
        contains=["UNION (duplicate removal)", "UNION ALL"],
        note="MariaDB union_result has no using_temporary_table flag",
    ),
    Case(
        "SELECT status, COUNT(*) FROM orders GROUP BY status",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "nested_loop": [
                    {
                        "table": {
                            "table_name": "orders",
                            "access_type": "index",
                            "key": "idx_orders_status",
                            "key_length": "66",
                            "used_key_parts": ["status"],
                            "rows": 29992,
                            "filtered": 100,
                            "using_index": True,
                        }
                    }
                ],
            }
        },
        note="MariaDB 10.11 (recorded): grouped while reading idx_orders_status in order",
    ),
    Case(
        "SELECT email FROM customers WHERE country = 'DE' UNION ALL SELECT email FROM customers WHERE status = 'vip'",
        expect=False,
        plan={
            "query_block": {
                "union_result": {
                    "using_temporary_table": False,
                    "query_specifications": [
                        {
                            "dependent": False,
                            "cacheable": True,
                            "query_block": {
                                "select_id": 1,
                                "cost_info": {"query_cost": "450.25"},
                                "table": {
                                    "table_name": "customers",
                                    "access_type": "ref",
                                    "possible_keys": ["idx_customers_country", "idx_customers_country_status"],
                                    "key": "idx_customers_country",
                                    "used_key_parts": ["country"],
                                    "key_length": "8",
                                    "ref": ["const"],
                                    "rows_examined_per_scan": 4120,
                                    "rows_produced_per_join": 4120,
                                    "filtered": "100.00",
                                    "cost_info": {
                                        "read_cost": "38.25",
                                        "eval_cost": "412.00",
                                        "prefix_cost": "450.25",
                                        "data_read_per_join": "5M",
                                    },
                                    "used_columns": ["email", "country"],
                                },
                            },
                        },
                        {
                            "dependent": False,
                            "cacheable": True,
                            "query_block": {
                                "select_id": 2,
                                "cost_info": {"query_cost": "4019.85"},
                                "table": {
                                    "table_name": "customers",
                                    "access_type": "ALL",
                                    "rows_examined_per_scan": 40210,
                                    "rows_produced_per_join": 4021,
                                    "filtered": "10.00",
                                    "cost_info": {
                                        "read_cost": "3617.75",
                                        "eval_cost": "402.10",
                                        "prefix_cost": "4019.85",
                                        "data_read_per_join": "5M",
                                    },
                                    "used_columns": ["email", "status"],
                                    "attached_condition": "(`shop`.`customers`.`status` = 'vip')",
                                },
                            },
                        },
                    ],
                }
            }
        },
        note="MySQL 8 UNION ALL streams without a temporary table",
    ),
]
