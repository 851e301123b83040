"""QRY010: an IN list with hundreds or thousands of values."""

from __future__ import annotations

import re
from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import all_predicates, catalog_column, n


class LongInList(Check):
    """An ``IN (...)`` list with more than 200 values: expensive to parse and optimize, and past the range optimizer's limits.

    **Anti-pattern**

    ```sql
    SELECT id, status FROM orders WHERE customer_id IN (17, 42, 58, ... 3,000 more ...);
    ```

    Every value is parsed, and for an indexed column each becomes a range the optimizer
    estimates: above ``eq_range_index_dive_limit`` (200 by default) it stops looking into the
    index and uses average statistics, so a skewed list gets a bad plan; a list whose ranges
    need more than ``range_optimizer_max_mem_size`` (8 MB by default in MySQL) is abandoned for
    a full table scan (warning 3170).  Huge lists also fill the statement digest and the slow
    log, and each distinct length is a distinct statement for the query cache and prepared
    statement caches.

    **Fix**

    Send the values in batches of at most 200, or load them into a temporary table and join:

    ```sql
    CREATE TEMPORARY TABLE tmp_ids (id INT UNSIGNED PRIMARY KEY);
    INSERT INTO tmp_ids VALUES (17), (42), (58), ...;
    SELECT o.id, o.status FROM orders o JOIN tmp_ids t ON t.id = o.customer_id;
    ```

    When the values come from another query, join to that query instead of round-tripping the ids.
    """

    code = "QRY010"
    name = "long-in-list"
    severity = "warning"

    MAX_VALUES = 200
    CRITICAL_VALUES = 5_000
    BATCH = 200  # within eq_range_index_dive_limit

    def run(self, context: CheckContext) -> Iterator[Finding]:
        shape = context.shape
        if shape is None or not shape.in_lists or max(shape.in_lists) <= self.MAX_VALUES:
            return
        found = False
        for scope in shape.scopes:
            for p in all_predicates(scope, context.catalog):
                if p.kind not in ("in", "ne") or p.values <= self.MAX_VALUES or p.column is None:
                    continue
                found = True
                yield self._finding(
                    context,
                    p.values,
                    p.column.column,
                    p.column.table.name if p.column.table else None,
                    negated=p.kind == "ne",
                    resolved=catalog_column(context, p.column),
                )
        if not found:
            longest = max(shape.in_lists)
            yield self._finding(context, longest, None, None, negated=False, resolved=(None, None))

    def _finding(
        self,
        context: CheckContext,
        values: int,
        column: str | None,
        table_name: str | None,
        *,
        negated: bool,
        resolved: tuple,
    ) -> Finding:
        table, col = resolved
        if table is not None:
            table_name = table.name
        target = f"{table_name}.{column}" if table_name and column else (column or "a column")
        message = (
            f"{'NOT IN' if negated else 'IN'} list of {n(values)} values on {target}: above "
            f"eq_range_index_dive_limit (200) the optimizer estimates the {n(values)} ranges from averages "
            "instead of index dives, parsing and range building cost grows with the list, and past "
            "range_optimizer_max_mem_size the range plan is dropped for a full scan."
        )
        # the column's type without the integer display width: int(10) unsigned -> INT UNSIGNED
        type_text = re.sub(r"^(\w*int)\(\d+\)", r"\1", col.type).upper() if col is not None else "INT UNSIGNED"
        batches = -(-values // self.BATCH)
        fix = (
            f"Send the values in batches of at most {self.BATCH} ({batches} statements), or load them into a temporary table and join: "
            f"CREATE TEMPORARY TABLE tmp_{column or 'ids'} ({column or 'id'} {type_text} PRIMARY KEY); "
            f"INSERT INTO tmp_{column or 'ids'} VALUES ...; then "
            f"JOIN tmp_{column or 'ids'} t ON t.{column or 'id'} = {target}"
            + (" (for NOT IN: LEFT JOIN ... WHERE t." + (column or "id") + " IS NULL)" if negated else "")
            + "."
        )
        return self.finding(
            context,
            message,
            fix=fix,
            table=table_name,
            severity="critical" if values > self.CRITICAL_VALUES else "warning",
            values=values,
        )


def _ids(count: int, start: int = 1000, step: int = 7) -> str:
    return ", ".join(str(start + i * step) for i in range(count))


CASES = [
    Case(
        f"SELECT id, status, total_cents FROM orders WHERE customer_id IN ({_ids(350)})",
        expect=True,
        contains=[
            "IN list of 350 values on orders.customer_id",
            "eq_range_index_dive_limit",
            "range_optimizer_max_mem_size",
            "batches of at most 200 (2 statements)",
            "CREATE TEMPORARY TABLE tmp_customer_id (customer_id INT UNSIGNED PRIMARY KEY)",
            "JOIN tmp_customer_id t ON t.customer_id = orders.customer_id",
        ],
    ),
    Case(
        f"SELECT p.id, p.name FROM products p WHERE p.id IN ({_ids(6000, 1, 1)}) AND p.is_active = 1",
        expect=True,
        contains=["6,000 values on products.id", "(30 statements)"],
        note="critical above 5,000",
    ),
    Case(
        f"DELETE FROM events WHERE id NOT IN ({_ids(240, 1, 3)})",
        expect=True,
        contains=["NOT IN list of 240 values on events.id", "LEFT JOIN ... WHERE t.id IS NULL"],
    ),
    Case(
        f"SELECT id, status FROM orders WHERE customer_id IN ({_ids(200)})",
        expect=False,
        note="exactly 200 values: at the dive limit, not past it",
    ),
    Case(
        "SELECT id, status FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE country = 'DE')",
        expect=False,
        note="a subquery, not a literal list",
    ),
]
