"""QRY005: SELECT * on a wide table or one with TEXT/BLOB/JSON columns."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import catalog_table, is_wide


class SelectStarWideTable(Check):
    """``SELECT *`` (or ``t.*``) on a table with many columns or with TEXT/BLOB/JSON columns.

    **Anti-pattern**

    ```sql
    SELECT * FROM products WHERE brand = 'Acme' ORDER BY created_at DESC LIMIT 50;
    ```

    ``products`` has a ``description TEXT`` column: InnoDB stores long values off-page, so each
    row costs extra page reads, every byte travels to the client, and a sort or temporary table
    that carries the row spills to disk sooner (MySQL 5.7/MariaDB use on-disk temporary tables
    for BLOB/TEXT).  ``*`` also rules out a covering index, since no index holds every column,
    and silently changes the result when a column is added.

    **Fix**

    Name the columns the caller uses:

    ```sql
    SELECT id, sku, name, price_cents FROM products WHERE brand = 'Acme' ORDER BY created_at DESC LIMIT 50;
    ```

    and fetch large columns (``description``) only on the detail page that shows them.
    """

    code = "QRY005"
    name = "select-star-wide-table"
    severity = "info"

    MAX_COLUMNS = 10

    def run(self, context: CheckContext) -> Iterator[Finding]:
        shape = context.shape
        if shape is None or context.catalog is None:
            return
        for scope in shape.scopes:
            if not scope.select_star or scope.subquery_context in ("exists", "in"):
                continue
            refs = []
            for star in scope.select_star:
                refs.extend([t for t in scope.tables if not t.derived] if star is None else [star])
            for ref in refs:
                table = catalog_table(context, ref)
                if table is None:
                    continue
                wide = [c for c in table.columns if is_wide(c)]
                if len(table.columns) <= self.MAX_COLUMNS and not wide:
                    continue
                star_text = "*" if None in scope.select_star else f"{ref.label}.*"
                message = f"SELECT {star_text} reads all {len(table.columns)} columns of {table.name}"
                if wide:
                    message += ", including " + ", ".join(f"{c.name} ({c.type})" for c in wide)
                message += ": more bytes per row read, sent and sorted, and no covering index is possible."
                narrow = [c.name for c in table.columns if not is_wide(c)]
                prefix = f"{ref.label}." if len(scope.tables) > 1 else ""
                shown = narrow[:6]
                fix = (
                    f"Name the columns the caller uses, e.g. SELECT {', '.join(prefix + c for c in shown)}"
                    f"{', ...' if len(narrow) > len(shown) else ''} FROM {table.name}"
                )
                if wide:
                    fix += f"; leave out {', '.join(c.name for c in wide)} unless this page shows it"
                fix += "."
                single_row = scope.limit == 1 or (
                    table.primary_key is not None
                    and {c.name.lower() for c in table.primary_key.columns if c.name}
                    <= {p.column.column for p in scope.predicates_on(ref) if p.kind == "eq" and p.column}
                )
                if single_row:
                    message += " (One row per call: cheap unless called often.)"
                yield self.finding(
                    context,
                    message,
                    fix=fix,
                    table=table.name,
                    severity="warning" if wide and not single_row else "info",
                    columns=len(table.columns),
                    wide_columns=[c.name for c in wide],
                )


CASES = [
    Case(
        "SELECT * FROM products WHERE brand = 'Acme' ORDER BY created_at DESC LIMIT 50",
        expect=True,
        contains=[
            "all 12 columns of products",
            "description (text)",
            "SELECT id, sku, name, brand, price_cents, currency, ... FROM products",
            "leave out description",
        ],
    ),
    Case(
        "SELECT r.*, c.first_name FROM reviews r JOIN customers c ON c.id = r.customer_id WHERE r.product_id = 7",
        expect=True,
        contains=["SELECT r.*", "reviews", "body (text)", "r.id, r.product_id"],
    ),
    Case("SELECT * FROM warehouses WHERE city = 'Lyon'", expect=False, note="three narrow columns"),
    Case(
        "SELECT id, sku, name, price_cents FROM products WHERE brand = 'Acme'",
        expect=False,
        note="the columns are named",
    ),
    Case(
        "SELECT p.id FROM products p WHERE EXISTS (SELECT * FROM reviews r WHERE r.product_id = p.id)",
        expect=False,
        note="* inside EXISTS reads no column",
    ),
]
