"""WRK001: a point lookup executed thousands of times (the N+1 query pattern)."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import catalog_table, ms, n, unique_on
from analyzer.advisor.query import TableRef


class NPlusOne(Check):
    """A cheap point lookup runs thousands of times: the N+1 query pattern of an application loop.

    **Anti-pattern**

    ```python
    for item in order.items:                                   # 1 query for the list ...
        product = db.query("SELECT * FROM products WHERE id = %s", item.product_id)   # ... N more
    ```

    Each ``SELECT ... WHERE id = ?`` takes a fraction of a millisecond on the server, so it
    never shows up as slow, but a page issues hundreds of them.  The time goes to network round
    trips, parsing, and per-statement overhead; together they add up to seconds of server time
    and, worse, latency in the application.  Slow-log and performance-schema totals show the
    class near the top by count with a tiny average.

    **Fix**

    Fetch the rows in one statement per page instead of one per row:

    ```sql
    SELECT id, name, price_cents FROM products WHERE id IN (17, 42, 58, 91);
    ```

    or join them into the query that produced the list
    (``SELECT oi.*, p.name FROM order_items oi JOIN products p ON p.id = oi.product_id WHERE
    oi.order_id = ?``).  ORMs do this with eager loading (``selectinload``, ``includes``,
    ``prefetch_related``).  Needs the class's workload facts; a statement alone is never reported.
    """

    code = "WRK001"
    name = "n-plus-one"
    severity = "warning"

    MIN_COUNT = 1_000
    MIN_CALLS_PER_SECOND = 50.0
    MAX_AVG_SECONDS = 0.005  # a lookup: 5 ms or less per call
    MIN_TOTAL_SECONDS = 5.0  # worth batching: 5 s of server time in the window
    MAX_IN_VALUES = 5

    def run(self, context: CheckContext) -> Iterator[Finding]:
        facts = context.facts
        shape = context.shape
        if facts is None or shape is None or shape.kind != "SELECT":
            return
        rate = facts.calls_per_second
        if facts.count < self.MIN_COUNT and (rate is None or rate < self.MIN_CALLS_PER_SECOND):
            return
        if facts.query_time_avg > self.MAX_AVG_SECONDS or facts.query_time_total < self.MIN_TOTAL_SECONDS:
            return
        lookup = self._lookup(context)
        if lookup is None:
            return
        ref, columns, how = lookup
        table = catalog_table(context, ref)
        name = table.name if table is not None else ref.name
        keys = " AND ".join(f"{c} = ?" for c in columns)
        message = (
            f"A point lookup of {name} by {', '.join(columns)} ({how}) ran {n(facts.count)} times"
            + (f" ({rate:,.0f}/s)" if rate else "")
            + f", {ms(facts.query_time_avg)} each, {ms(facts.query_time_total)} in total: one query per row "
            "of a loop in the application (N+1)."
        )
        if len(columns) == 1:
            c = columns[0]
            batched = f"WHERE {c} IN (?, ?, ...)"
            join = f"JOIN {name} ON {name}.{c} = <list>.{c if c != 'id' else name.rstrip('s') + '_id'}"
        else:
            batched = f"WHERE ({', '.join(columns)}) IN ((?, ?), ...)"
            join = f"JOIN {name} ON " + " AND ".join(f"{name}.{c} = <list>.{c}" for c in columns)
        fix = (
            f"Batch it: read all the rows a page needs at once with SELECT ... FROM {name} {batched} instead of "
            f"{keys} per row, or {join} in the query that produced the list (ORM eager loading)."
        )
        yield self.finding(
            context,
            message,
            fix=fix,
            table=name,
            count=facts.count,
            calls_per_second=rate,
            query_time_avg=facts.query_time_avg,
            query_time_total=facts.query_time_total,
        )

    def _lookup(self, context: CheckContext) -> tuple[TableRef, list[str], str] | None:
        main = context.shape.main
        if len(main.tables) != 1 or main.tables[0].derived or main.or_groups:
            return None
        ref = main.tables[0]
        eq = [
            p.column.column
            for p in main.predicates_on(ref)
            if p.kind == "eq" or (p.kind == "in" and p.values <= self.MAX_IN_VALUES)
        ]
        table = catalog_table(context, ref)
        if table is not None:
            index = unique_on(table, eq)
            if index is not None:
                cols = [c.name for c in index.columns if c.name]
                return ref, cols, "primary key" if index.primary else f"unique key {index.name}"
        elif "id" in eq:
            return ref, ["id"], "primary key by name"
        plan = context.plan
        if plan is not None and plan.tables:
            t = plan.tables[0]
            if len(plan.tables) == 1 and t.access_type in ("const", "eq_ref", "ref") and (t.rows or 0) <= 2 and eq:
                return ref, list(t.used_key_parts) or eq, f"{t.access_type} on {t.key}"
        return None


CASES = [
    Case(
        "SELECT id, name, price_cents FROM products WHERE id = 1042",
        expect=True,
        facts={
            "count": 48210,
            "query_time_total": 14.5,
            "query_time_avg": 0.0003,
            "rows_examined_avg": 1,
            "rows_sent_avg": 1,
            "window_seconds": 600,
        },
        contains=[
            "products by id (primary key)",
            "48,210 times",
            "(80/s)",
            "0.30 ms each",
            "14.5 s in total",
            "WHERE id IN (?, ?, ...)",
            "JOIN products ON products.id = <list>.product_id",
        ],
    ),
    Case(
        "SELECT id, first_name, last_name FROM customers WHERE email = 'ann@example.com'",
        expect=True,
        facts={"count": 900, "query_time_total": 6.3, "query_time_avg": 0.0007, "window_seconds": 12},
        contains=["customers by email (unique key uq_customers_email)", "(75/s)"],
        note="fewer than 1,000 calls but 75 per second",
    ),
    Case(
        "SELECT quantity, reserved FROM inventory WHERE product_id = 7 AND warehouse_id = 2",
        expect=True,
        facts={"count": 120000, "query_time_total": 21.0, "query_time_avg": 0.000175},
        contains=[
            "inventory by product_id, warehouse_id (primary key)",
            "WHERE (product_id, warehouse_id) IN ((?, ?), ...)",
        ],
    ),
    Case(
        "SELECT id, name, price_cents FROM products WHERE id = 1042",
        expect=False,
        facts={"count": 40, "query_time_total": 0.02, "query_time_avg": 0.0005, "window_seconds": 3600},
        note="a point lookup, but rare",
    ),
    Case(
        "SELECT id, total_cents FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
        expect=False,
        facts={"count": 52000, "query_time_total": 1900.0, "query_time_avg": 0.0365},
        note="frequent, but a list query that is slow per call (PLN001/PLN002 territory)",
    ),
    Case(
        "SELECT id, name, price_cents FROM products WHERE id = 1042",
        expect=False,
        note="no workload facts: a statement alone is never N+1",
    ),
]
