"""PLN006: the class reads far more rows than it returns."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import (
    add_index_ddl,
    catalog_table,
    describe_unindexed,
    existing_index,
    index_columns_for,
    index_for_filters,
    indexes_starting_with,
    n,
)


class RowsExaminedVsSent(Check):
    """The statement reads far more rows than it returns (rows examined / rows sent >= 1,000).

    **Anti-pattern**

    ```sql
    SELECT id, total_cents FROM orders WHERE customer_id = 42 AND status = 'paid';
    -- Rows_examined: 30,076  Rows_sent: 3
    ```

    The slow log and performance_schema count the rows the server read and the rows it sent.
    Reading 30,000 rows to return 3 means the filtering happens row by row after the read, not
    in an index: the work (and the buffer pool traffic and locks) is proportional to the table,
    not to the answer.  The ratio is measured, so it holds even where EXPLAIN's estimates lie.

    **Fix**

    An index on the filter columns, equality columns first, then one range or the ORDER BY
    columns, lets the server read only the rows it returns:

    ```sql
    ALTER TABLE orders ADD INDEX idx_orders_customer_id_status (customer_id, status);
    ```

    Make non-sargable predicates indexable first (QRY001, QRY003).  An aggregate over many rows
    (``COUNT(*)``, ``SUM`` per day) returns one row by design: keep a summary table or counter
    up to date instead of re-reading the rows.
    """

    code = "PLN006"
    name = "rows-examined-vs-sent"
    severity = "warning"

    MIN_RATIO = 1_000.0
    MIN_EXAMINED = 10_000.0
    CRITICAL_EXAMINED = 1_000_000.0

    def run(self, context: CheckContext) -> Iterator[Finding]:
        facts = context.facts
        if facts is None or facts.rows_examined_avg is None:
            return
        examined = facts.rows_examined_avg
        sent = facts.rows_sent_avg if facts.rows_sent_avg is not None else 0.0
        ratio = examined / max(sent, 1.0)
        if examined < self.MIN_EXAMINED or ratio < self.MIN_RATIO:
            return
        message = (
            f"Each execution examines {n(examined)} rows on average to send {n(sent)} "
            f"({n(ratio)} rows read per row returned)"
        )
        message += f", over {n(facts.count)} executions." if facts.count > 1 else "."
        fixes: list[str] = []
        shape = context.shape
        if shape is not None:
            main = shape.main
            filters: list[str] = []
            for ref in main.tables:
                if ref.derived:
                    continue
                table = catalog_table(context, ref)
                name = table.name if table is not None else ref.name
                eq, _order, rng = index_columns_for(main, ref)
                missing, reasons = describe_unindexed(context, main, ref)
                cols, _after_rewrite = index_for_filters(context, main, ref)
                filter_cols = eq + ([rng] if rng else [])
                if filter_cols or reasons:
                    filters.append(
                        f"{name}: "
                        + ", ".join(filter_cols + [r for r in reasons if r.split(" ")[0] not in filter_cols])
                    )
                non_sargable = [r for r in reasons if "wrapped" in r or "wildcard" in r]
                if non_sargable:
                    fixes.append(f"make {', '.join(non_sargable)} indexable first (QRY001/QRY003)")
                have = existing_index(table, cols)
                if cols and have is None and (table is None or missing or not indexes_starting_with(table, cols[0])):
                    fixes.append(("then " if non_sargable else "") + add_index_ddl(name, cols))
                elif have is not None:
                    fixes.append(
                        f"{have.name} ({', '.join(have.column_names)}) already serves these filters: check "
                        "with EXPLAIN why it is not used (statistics, type conversion, low selectivity)"
                    )
            if filters:
                message += " Filter columns: " + "; ".join(filters) + "."
            if main.aggregates and not main.group_by and not main.has_where:
                fixes.append(
                    "an aggregate over the whole table returns one row by design: keep a summary table "
                    "or a counter instead of re-reading it"
                )
            elif (main.aggregates or main.group_by) and sent <= 10 and not fixes:
                fixes.append(
                    "the statement aggregates many rows into a few: keep a summary table up to date, or "
                    "narrow the WHERE with an index on its columns"
                )
        if not fixes:
            fixes.append(
                "Index the columns the WHERE filters on (equality columns first, then one range column) "
                "so rows are found, not filtered after reading."
            )
        fix = "; ".join(fixes)
        yield self.finding(
            context,
            message,
            fix=fix[0].upper() + fix[1:] + ("" if fix.endswith(".") else "."),
            severity="critical" if examined >= self.CRITICAL_EXAMINED else "warning",
            rows_examined_avg=examined,
            rows_sent_avg=sent,
            ratio=ratio,
        )


CASES = [
    Case(
        "SELECT id, total_cents FROM orders WHERE customer_id = 42 AND status = 'paid'",
        expect=True,
        facts={
            "count": 5200,
            "query_time_total": 390.0,
            "query_time_avg": 0.075,
            "rows_examined_avg": 30076,
            "rows_sent_avg": 3,
        },
        contains=[
            "30,076 rows",
            "send 3",
            "10,025 rows read per row returned",
            "orders: customer_id, status",
            "ADD INDEX idx_orders_customer_id_status (customer_id, status)",
        ],
    ),
    Case(
        "SELECT id, session_token, event_type FROM events WHERE session_token = 'f3a9c1d2e4b5a6978812aa0b1c2d3e4f' "
        "ORDER BY created_at",
        expect=True,
        facts={
            "count": 800,
            "query_time_total": 960.0,
            "query_time_avg": 1.2,
            "rows_examined_avg": 2400000,
            "rows_sent_avg": 14,
        },
        contains=[
            "2,400,000 rows",
            "events: session_token",
            "ADD INDEX idx_events_session_token_created_at (session_token, created_at)",
        ],
        note="W7: critical",
    ),
    Case(
        "SELECT id FROM orders WHERE DATE(created_at) = '2024-05-01' AND status = 'paid'",
        expect=True,
        facts={
            "count": 24,
            "query_time_total": 7.0,
            "query_time_avg": 0.29,
            "rows_examined_avg": 30076,
            "rows_sent_avg": 12,
        },
        contains=[
            "created_at (wrapped in DATE(created_at))",
            "QRY001",
            "then ALTER TABLE orders ADD INDEX idx_orders_status_created_at (status, created_at)",
        ],
    ),
    Case(
        "SELECT id, total_cents FROM orders WHERE customer_id = 42",
        expect=False,
        facts={
            "count": 5200,
            "query_time_total": 2.0,
            "query_time_avg": 0.0004,
            "rows_examined_avg": 9,
            "rows_sent_avg": 9,
        },
        note="reads what it returns",
    ),
    Case(
        "SELECT id, name FROM products WHERE is_active = 1",
        expect=False,
        facts={
            "count": 60,
            "query_time_total": 30.0,
            "query_time_avg": 0.5,
            "rows_examined_avg": 20112,
            "rows_sent_avg": 19870,
        },
        note="many rows read, but nearly all are returned",
    ),
    Case(
        "SELECT id, total_cents FROM orders WHERE customer_id = 42 AND status = 'paid'",
        expect=False,
        facts={
            "count": 5200,
            "query_time_total": 39.0,
            "query_time_avg": 0.0075,
            "rows_examined_avg": 8000,
            "rows_sent_avg": 1,
        },
        note="a high ratio on a small read: below 10,000 rows examined",
    ),
]
