"""QRY008: NOT IN (SELECT col ...) where col can be NULL."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import all_predicates, conjuncts, sql


def _in_node(node: exp.Expression) -> exp.In | None:
    while isinstance(node, (exp.Paren, exp.Not)):
        node = node.this
    return node if isinstance(node, exp.In) and node.args.get("query") is not None else None


def _subquery_select(node: exp.In) -> exp.Select | None:
    query = node.args["query"]
    while isinstance(query, (exp.Subquery, exp.Paren)):
        query = query.this
    return query if isinstance(query, exp.Select) else None


def _tables(select: exp.Select) -> list[exp.Table]:
    out = []
    if select.args.get("from_") is not None and isinstance(select.args["from_"].this, exp.Table):
        out.append(select.args["from_"].this)
    out.extend(j.this for j in select.args.get("joins") or [] if isinstance(j.this, exp.Table))
    return out


def _excludes_null(select: exp.Select, column: exp.Column) -> bool:
    """The subquery's WHERE says ``column IS NOT NULL`` (or compares it with a constant, which is never true for NULL)."""
    where = select.args.get("where")
    if where is None:
        return False
    for c in conjuncts(where.this):
        inner = c.this if isinstance(c, exp.Paren) else c
        target = None
        if isinstance(inner, exp.Not) and isinstance(inner.this, exp.Is):
            target = inner.this.this
        elif isinstance(inner, (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between, exp.Like)):
            target = inner.this
        if isinstance(target, exp.Column) and target.name.lower() == column.name.lower():
            return True
    return False


class NotInNullableSubquery(Check):
    """``x NOT IN (SELECT col ...)`` where ``col`` can be NULL: the result is wrong as soon as one NULL appears, and the anti-join is harder to optimize.

    **Anti-pattern**

    ```sql
    SELECT c.id, c.email FROM customers c
    WHERE c.id NOT IN (SELECT customer_id FROM carts);      -- carts.customer_id is NULL for guests
    ```

    ``x NOT IN (1, 2, NULL)`` is never true: it is ``x <> 1 AND x <> 2 AND x <> NULL`` and the
    last term is unknown.  One guest cart makes the query return no customer at all, which is
    seldom what was meant.  To honour these semantics the optimizer must also check for NULLs
    on both sides, which blocks or complicates the anti-join rewrite (MySQL 8.0.17+ converts
    ``NOT EXISTS`` and ``NOT IN`` on NOT NULL columns to an anti-join; with nullable columns it
    may fall back to a dependent subquery per outer row).

    **Fix**

    Say what is meant with ``NOT EXISTS``, which ignores NULLs and becomes an anti-join:

    ```sql
    SELECT c.id, c.email FROM customers c
    WHERE NOT EXISTS (SELECT 1 FROM carts ca WHERE ca.customer_id = c.id);
    ```

    or keep ``NOT IN`` and exclude the NULLs: ``NOT IN (SELECT customer_id FROM carts WHERE
    customer_id IS NOT NULL)``.  A NOT NULL column (per the catalog) is not reported.
    """

    code = "QRY008"
    name = "not-in-nullable-subquery"
    severity = "warning"

    def run(self, context: CheckContext) -> Iterator[Finding]:
        for scope in self.scopes(context):
            for p in all_predicates(scope, context.catalog):
                if p.kind != "not_in_subquery":
                    continue
                node = _in_node(p.expression)
                select = _subquery_select(node) if node is not None else None
                if select is None or len(select.expressions) != 1:
                    continue
                item = select.expressions[0]
                item = item.this if isinstance(item, exp.Alias) else item
                if not isinstance(item, exp.Column):
                    continue
                tables = _tables(select)
                inner_table = None
                if item.table:
                    inner_table = next((t for t in tables if (t.alias or t.name).lower() == item.table.lower()), None)
                elif len(tables) == 1:
                    inner_table = tables[0]
                if inner_table is None:
                    continue
                nullable = None
                table_name = inner_table.name
                if context.catalog is not None:
                    table = context.catalog.find(
                        inner_table.name, inner_table.db or context.default_schema or None
                    ) or context.catalog.find(inner_table.name)
                    column = table.column(item.name) if table is not None else None
                    if column is not None:
                        nullable = column.nullable
                        table_name = table.name
                if nullable is False or _excludes_null(select, item):
                    continue
                yield self._finding(context, p, node, select, inner_table, item, table_name, nullable)

    def _finding(
        self,
        context: CheckContext,
        p,
        node: exp.In,
        select: exp.Select,
        inner_table: exp.Table,
        item: exp.Column,
        table_name: str,
        nullable: bool | None,
    ) -> Finding:
        inner_label = inner_table.alias or inner_table.name
        outer = node.this
        outer_text = sql(outer)
        if isinstance(outer, exp.Column) and not outer.table and p.column is not None and p.column.table is not None:
            outer_text = f"{p.column.table.label}.{outer.name}"
        what = "is nullable" if nullable else "may be NULL (its table is not in the catalog)"
        message = (
            f"{outer_text} NOT IN (SELECT {sql(item)} FROM {table_name} ...): {table_name}.{item.name} {what}; "
            "a single NULL among its values makes NOT IN unknown for every row, so the query returns "
            "nothing, and the NULL checks keep the optimizer from a plain anti-join."
        )
        exists = select.copy()
        exists.set("expressions", [exp.Literal.number(1)])
        exists.set("distinct", None)
        condition = exp.EQ(
            this=exp.column(item.name, inner_label), expression=exp.maybe_parse(outer_text, dialect="mysql")
        )
        where = exists.args.get("where")
        exists.set("where", exp.Where(this=exp.and_(where.this, condition) if where is not None else condition))
        fix = (
            f'Use NOT EXISTS ({sql(exists)}), which means "no matching row" whatever the NULLs; or add '
            f"WHERE {sql(item)} IS NOT NULL to the subquery."
        )
        return self.finding(context, message, fix=fix, table=table_name, column=item.name, nullable=nullable)


CASES = [
    Case(
        "SELECT c.id, c.email FROM customers c WHERE c.id NOT IN (SELECT customer_id FROM carts)",
        expect=True,
        contains=[
            "c.id NOT IN",
            "carts.customer_id is nullable",
            "NOT EXISTS (SELECT 1 FROM carts WHERE carts.customer_id = c.id)",
        ],
    ),
    Case(
        "SELECT id, name FROM products WHERE id NOT IN (SELECT e.product_id FROM events e "
        "WHERE e.event_type = 'add_to_cart')",
        expect=True,
        contains=[
            "products.id NOT IN",
            "events.product_id is nullable",
            "NOT EXISTS (SELECT 1 FROM events AS e WHERE e.event_type = 'add_to_cart' AND e.product_id = products.id)",
        ],
    ),
    Case(
        "SELECT id FROM accounts WHERE id NOT IN (SELECT account_id FROM bans)",
        expect=True,
        schema="CREATE TABLE accounts (id INT NOT NULL, PRIMARY KEY (id));",
        contains=["bans.account_id may be NULL", "NOT EXISTS (SELECT 1 FROM bans WHERE bans.account_id = accounts.id)"],
        note="the subquery's table is unknown: reported",
    ),
    Case(
        "SELECT id, name FROM products WHERE id NOT IN (SELECT product_id FROM reviews)",
        expect=False,
        note="reviews.product_id is NOT NULL",
    ),
    Case(
        "SELECT c.id FROM customers c WHERE c.id NOT IN (SELECT customer_id FROM carts WHERE customer_id IS NOT NULL)",
        expect=False,
        note="NULLs excluded in the subquery",
    ),
    Case(
        "SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM carts ca WHERE ca.customer_id = c.id)",
        expect=False,
        note="the NOT EXISTS form",
    ),
]
