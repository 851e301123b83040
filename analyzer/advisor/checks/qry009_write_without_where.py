"""QRY009: UPDATE or DELETE with no WHERE and no LIMIT."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import catalog_table, n


class WriteWithoutWhere(Check):
    """An UPDATE or DELETE without WHERE and without LIMIT changes every row of the table.

    **Anti-pattern**

    ```sql
    DELETE FROM carts;
    UPDATE products SET is_active = 0;
    ```

    Every row is changed in one transaction: each row is locked (blocking the application until
    the commit), undo log grows with the table, replicas apply the whole change at once and lag,
    and a forgotten WHERE cannot be taken back.  Even when the intent is "all rows", one huge
    transaction is the slowest and riskiest way to do it.

    **Fix**

    Add the condition that was meant (``DELETE FROM carts WHERE status = 'abandoned' AND
    updated_at < NOW() - INTERVAL 30 DAY``).  To empty a table, ``TRUNCATE TABLE carts`` drops
    and recreates it without row-by-row undo.  For a large intended change, work in batches that
    each commit quickly, repeated until no row is affected:

    ```sql
    DELETE FROM carts WHERE updated_at < NOW() - INTERVAL 30 DAY ORDER BY id LIMIT 10000;
    ```
    """

    code = "QRY009"
    name = "write-without-where"
    severity = "critical"

    def run(self, context: CheckContext) -> Iterator[Finding]:
        shape = context.shape
        if shape is None or shape.kind not in ("UPDATE", "DELETE") or not shape.scopes:
            return
        main = shape.main
        if main.has_where or main.limit is not None:
            return
        ref = shape.written_table or (main.tables[0] if main.tables else None)
        table = catalog_table(context, ref)
        name = table.name if table is not None else (ref.name if ref is not None else "?")
        joined = len(main.tables) > 1
        verb = "updates" if shape.kind == "UPDATE" else "deletes"
        size = f" ({n(table.rows)} rows)" if table is not None and table.rows else ""
        if joined:
            message = (
                f"{shape.kind} of {name} joined with {', '.join(t.name for t in main.tables if t is not ref)} "
                f"has no WHERE and no LIMIT: it {verb} every row of {name}{size} that has a match, "
                "in one transaction."
            )
        else:
            message = (
                f"{shape.kind} on {name} has no WHERE and no LIMIT: it {verb} every row of {name}{size} "
                "in one transaction, locking them all until the commit."
            )
        if shape.kind == "DELETE":
            fix = (
                f"Add the WHERE condition that was meant. To empty the table use TRUNCATE TABLE {name}. For a "
                f"large purge, delete in batches: DELETE FROM {name} WHERE <condition> ORDER BY id LIMIT 10000, "
                "repeated until it affects 0 rows."
            )
        else:
            fix = (
                f"Add the WHERE condition that was meant. For a change of the whole table, update in batches by "
                f"primary key: UPDATE {name} SET ... WHERE id > ? AND id <= ? + 10000 (or ... ORDER BY id LIMIT "
                "10000 with a condition that excludes rows already changed), one short transaction each."
            )
        yield self.finding(
            context, message, fix=fix, table=name, severity="warning" if joined else "critical", kind=shape.kind
        )


CASES = [
    Case(
        "DELETE FROM carts",
        expect=True,
        rows={"carts": 182000},
        contains=[
            "DELETE on carts",
            "182,000 rows",
            "TRUNCATE TABLE carts",
            "DELETE FROM carts WHERE <condition> ORDER BY id LIMIT 10000",
        ],
    ),
    Case(
        "UPDATE products SET is_active = 0",
        expect=True,
        contains=["UPDATE on products", "updates every row of products", "UPDATE products SET ... WHERE id > ?"],
    ),
    Case(
        "UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.currency = 'EUR'",
        expect=True,
        contains=["UPDATE of orders joined with customers", "that has a match"],
    ),
    Case(
        "DELETE FROM carts WHERE status = 'abandoned' AND updated_at < NOW() - INTERVAL 30 DAY",
        expect=False,
        note="the purge with its condition",
    ),
    Case(
        "DELETE FROM events ORDER BY id LIMIT 10000",
        expect=False,
        note="a batch of a deliberate purge: LIMIT bounds it",
    ),
    Case("UPDATE products SET is_active = 0 WHERE id = 7", expect=False, note="a primary-key update"),
]
