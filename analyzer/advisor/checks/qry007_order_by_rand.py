"""QRY007: ORDER BY RAND() to pick random rows."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import catalog_table, n


class OrderByRand(Check):
    """``ORDER BY RAND()``: to pick a few random rows the server numbers and sorts every candidate row.

    **Anti-pattern**

    ```sql
    SELECT id, name FROM products WHERE is_active = 1 ORDER BY RAND() LIMIT 4;
    ```

    ``RAND()`` is evaluated for each row that passes the WHERE, the rows go into a temporary
    table and are sorted by that value (``Using temporary; Using filesort``), and all but four
    are thrown away.  No index can help because the order is new on every call, so the cost is
    the whole candidate set, on every page view that shows "random picks".

    **Fix**

    Pick random keys instead of sorting random rows:

    - a random id range: ``SELECT ... FROM products WHERE is_active = 1 AND id >= FLOOR(RAND() *
      (SELECT MAX(id) FROM products)) ORDER BY id LIMIT 4`` (one index range; slightly favours
      rows after gaps);
    - a precomputed random column: ``ALTER TABLE products ADD COLUMN rand_key DOUBLE NOT NULL
      DEFAULT (RAND()), ADD INDEX (rand_key)`` and ``WHERE rand_key >= RAND() ORDER BY rand_key
      LIMIT 4`` (refresh the column now and then);
    - or sample in the application: fetch the candidate ids once (cached), choose at random
      there, and read those rows by primary key.
    """

    code = "QRY007"
    name = "order-by-rand"
    severity = "warning"

    def run(self, context: CheckContext) -> Iterator[Finding]:
        for scope in self.scopes(context):
            if not scope.order_by_rand:
                continue
            ref = next((t for t in scope.tables if not t.derived), scope.tables[0] if scope.tables else None)
            table = catalog_table(context, ref)
            name = table.name if table is not None else (ref.name if ref else "the result")
            rows = table.rows if table is not None else None
            if context.plan is not None:
                found = [t for t in context.plan.tables if ref is not None and t.table.lower() == ref.label.lower()]
                if found and found[0].rows is not None:
                    rows = found[0].rows * (found[0].filtered or 100) / 100
            limit = f" LIMIT {scope.limit}" if scope.limit is not None else ""
            message = f"ORDER BY RAND(){limit} on {name}: RAND() is computed for every candidate row"
            if rows:
                message += f" (~{n(rows)} rows)"
            message += (
                ", all of them are sorted, and "
                + (f"all but {scope.limit} are discarded" if scope.limit else "the order is new on every call")
                + "."
            )
            pk = "id"
            if table is not None and table.primary_key is not None and len(table.primary_key.columns) == 1:
                pk = table.primary_key.columns[0].name or "id"
            label = ref.label if ref is not None else name
            where = "WHERE ... AND " if scope.has_where else "WHERE "
            fix = (
                f"Pick random keys instead: {where}{label}.{pk} >= FLOOR(RAND() * (SELECT MAX({pk}) FROM {name})) "
                f"ORDER BY {label}.{pk}{limit or ' LIMIT 1'}; or add an indexed random column (ALTER TABLE {name} "
                f"ADD COLUMN rand_key DOUBLE NOT NULL DEFAULT (RAND()), ADD INDEX idx_{name}_rand_key (rand_key)) "
                f"and read WHERE rand_key >= RAND() ORDER BY rand_key{limit or ' LIMIT 1'}; or sample the "
                f"{pk} values in the application and read those rows by primary key."
            )
            yield self.finding(context, message, fix=fix, table=name, rows=rows)


CASES = [
    Case(
        "SELECT id, name, price_cents FROM products WHERE is_active = 1 ORDER BY RAND() LIMIT 4",
        expect=True,
        rows={"products": 20112},
        contains=[
            "ORDER BY RAND() LIMIT 4 on products",
            "~20,112 rows",
            "all but 4 are discarded",
            "products.id >= FLOOR(RAND() * (SELECT MAX(id) FROM products))",
            "ADD INDEX idx_products_rand_key (rand_key)",
        ],
    ),
    Case(
        "SELECT r.id, r.title, r.rating FROM reviews r WHERE r.product_id = 7 AND r.is_approved = 1 "
        "ORDER BY RAND() LIMIT 3",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "filesort": {
                    "sort_key": "rand()",
                    "temporary_table": {
                        "nested_loop": [
                            {
                                "table": {
                                    "table_name": "r",
                                    "access_type": "ALL",
                                    "rows": 58511,
                                    "filtered": 100,
                                    "attached_condition": "r.product_id = 7 and r.is_approved = 1",
                                }
                            }
                        ]
                    },
                },
            }
        },
        contains=["on reviews", "~58,511 rows", "r.id >= FLOOR(RAND()"],
        note="MariaDB 10.11 (recorded): filesort over a temporary table",
    ),
    Case(
        "SELECT id, name FROM products WHERE is_active = 1 AND id >= FLOOR(RAND() * 20000) ORDER BY id LIMIT 4",
        expect=False,
        note="the random-range rewrite",
    ),
    Case(
        "SELECT id, name, RAND() AS r FROM products WHERE brand = 'Acme' ORDER BY name",
        expect=False,
        note="RAND() in the select list only",
    ),
]
