"""QRY006: LIMIT ... OFFSET with a large offset (deep pagination)."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import catalog_table, n


class DeepOffsetPagination(Check):
    """``LIMIT n OFFSET m`` with a large offset: the server reads and throws away ``m`` rows for every page.

    **Anti-pattern**

    ```sql
    SELECT id, total_cents, created_at FROM orders
    ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 50000;
    ```

    There is no way to jump to the 50,000th row of an index: the server walks (and, without a
    covering index, looks up) 50,020 rows in order and discards the first 50,000.  Page 2,500
    costs 2,500 times page 1, crawlers and "last page" links hit exactly those pages, and rows
    inserted between two requests shift the pages (duplicates and gaps).

    **Fix**

    Keyset ("seek") pagination: remember the sort key of the last row shown and continue from
    it, with a unique tie-breaker (the primary key) in ORDER BY:

    ```sql
    SELECT id, total_cents, created_at FROM orders
    WHERE (created_at, id) < ('2024-05-01 10:22:31', 918273)
    ORDER BY created_at DESC, id DESC LIMIT 20;
    ```

    With an index on ``(created_at)`` (InnoDB appends the primary key to it) every page reads
    only 20 rows.  MariaDB does not use an index range for row comparisons: write
    ``created_at < ? OR (created_at = ? AND id < ?)`` there.  Offsets below 1,000 are not reported.
    """

    code = "QRY006"
    name = "deep-offset-pagination"
    severity = "warning"

    MIN_OFFSET = 1_000
    CRITICAL_OFFSET = 100_000

    def run(self, context: CheckContext) -> Iterator[Finding]:
        for scope in self.scopes(context):
            if scope.offset is None or scope.offset < self.MIN_OFFSET:
                continue
            yield self._finding(context, scope)

    def _finding(self, context: CheckContext, scope) -> Finding:
        offset, limit = scope.offset, scope.limit
        table_ref = scope.tables[0] if scope.tables else None
        table = catalog_table(context, table_ref)
        name = table.name if table is not None else (table_ref.name if table_ref else "?")
        page = f"LIMIT {limit} OFFSET {offset}" if limit is not None else f"OFFSET {offset}"
        message = (
            f"{page} on {name}: every call reads {n(offset + (limit or 0))} rows in order and discards the "
            f"first {n(offset)}"
        )
        if limit:
            message += f" (page {n(offset // limit + 1)} of {limit} rows)"
        message += "; the cost grows with each page."
        # keyset columns: the ORDER BY columns, plus the primary key as a tie-breaker
        order = [(c.column, desc) for c, desc in scope.order_by]
        prefix = f"{table_ref.label}." if table_ref is not None and (table_ref.alias or len(scope.tables) > 1) else ""
        pk_cols: list[str] = []
        if table is not None and table.primary_key is not None:
            pk_cols = [c.name for c in table.primary_key.columns if c.name]
        elif table is None:
            pk_cols = ["id"]
        if not order:
            order = [(c, False) for c in pk_cols] or [("id", False)]
            note = " (the statement has no ORDER BY: pages are not even stable; order by the primary key)"
        else:
            note = ""
        names = [c for c, _ in order]
        if scope.order_by and all(c.table == table_ref for c, _ in scope.order_by):
            for pk in pk_cols:
                if pk not in names:
                    order.append((pk, order[-1][1]))
                    names.append(pk)
        directions = {d for _, d in order}
        cols = ", ".join(prefix + c for c in names)
        marks = ", ".join("?" for _ in names)
        order_sql = ", ".join(f"{prefix}{c}{' DESC' if d else ''}" for c, d in order)
        where = "WHERE ... AND " if scope.has_where else "WHERE "
        if len(directions) == 1:
            op = "<" if directions.pop() else ">"
            seek = f"({cols}) {op} ({marks})" if len(names) > 1 else f"{cols} {op} ?"
            expanded = ""
            if len(names) == 2:
                a, b = prefix + names[0], prefix + names[1]
                expanded = f"; on MariaDB write the seek as {a} {op} ? OR ({a} = ? AND {b} {op} ?)"
        else:
            seek = " OR ".join(
                "("
                + " AND ".join(
                    [f"{prefix}{c} = ?" for c, _ in order[:i]]
                    + [f"{prefix}{order[i][0]} {'<' if order[i][1] else '>'} ?"]
                )
                + ")"
                for i in range(len(order))
            )
            expanded = ""
        fix = (
            f"Use keyset pagination: remember {cols} of the last row shown and ask for the next page with "
            f"{where}{seek} ORDER BY {order_sql} LIMIT {limit or 20}{note}{expanded}."
        )
        if (
            table is not None
            and scope.order_by
            and not any(
                i.columns and i.columns[0].name and i.columns[0].name.lower() == names[0].lower() for i in table.indexes
            )
        ):
            fix += f" Index the sort: ALTER TABLE {name} ADD INDEX idx_{name}_{names[0]} ({names[0]})."
        severity = "critical" if offset >= self.CRITICAL_OFFSET else "warning"
        return self.finding(context, message, fix=fix, table=name, severity=severity, offset=offset, limit=limit)


CASES = [
    Case(
        "SELECT id, total_cents, created_at FROM orders ORDER BY created_at DESC LIMIT 20 OFFSET 50000",
        expect=True,
        contains=[
            "LIMIT 20 OFFSET 50000 on orders",
            "50,020 rows",
            "page 2,501",
            "WHERE (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT 20",
            "created_at < ? OR (created_at = ? AND id < ?)",
        ],
    ),
    Case(
        "SELECT o.id, o.total_cents FROM orders o WHERE o.status = 'shipped' ORDER BY o.id LIMIT 250000, 50",
        expect=True,
        contains=["LIMIT 50 OFFSET 250000", "WHERE ... AND o.id > ? ORDER BY o.id LIMIT 50"],
        note="MySQL LIMIT offset, count; critical",
    ),
    Case(
        "SELECT id, name FROM products WHERE brand = 'Acme' ORDER BY rating_avg DESC LIMIT 24 OFFSET 2400",
        expect=True,
        contains=[
            "(rating_avg, id) < (?, ?) ORDER BY rating_avg DESC, id DESC LIMIT 24",
            "ADD INDEX idx_products_rating_avg (rating_avg)",
        ],
    ),
    Case(
        "SELECT id, total_cents, created_at FROM orders ORDER BY created_at DESC LIMIT 20 OFFSET 480",
        expect=False,
        note="page 25: a shallow offset",
    ),
    Case(
        "SELECT id, total_cents, created_at FROM orders WHERE (created_at, id) < ('2024-05-01 10:22:31', 918273) "
        "ORDER BY created_at DESC, id DESC LIMIT 20",
        expect=False,
        note="already keyset pagination",
    ),
    Case("SELECT id FROM events ORDER BY id DESC LIMIT 5000", expect=False, note="a large LIMIT without OFFSET"),
]
