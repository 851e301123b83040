"""QRY004: OR between conditions on different columns of one table."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import catalog_table, or_groups, sql
from analyzer.advisor.query import INDEXABLE, Predicate, Scope


def _or_root(p: Predicate) -> exp.Expression | None:
    """The outermost OR (with its parentheses) that ``p`` is a branch of."""
    node = p.expression
    top = None
    parent = node.parent
    while parent is not None and isinstance(parent, (exp.Or, exp.Paren, exp.And)):
        if isinstance(parent, exp.Or):
            top = parent
        elif isinstance(parent, exp.And) and top is not None:
            break
        parent = parent.parent
    if top is not None and isinstance(top.parent, exp.Paren):
        return top.parent
    return top


def _branches(node: exp.Expression) -> list[exp.Expression]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Or):
        return _branches(node.this) + _branches(node.expression)
    return [node]


def _merge_same_column(branches: list[exp.Expression]) -> list[exp.Expression]:
    """``a = 1 OR a = 2 OR b = 3`` -> ``a IN (1, 2)``, ``b = 3``."""
    groups: dict[str, list[exp.Expression]] = {}
    order: list[str] = []
    for b in branches:
        inner = b.this if isinstance(b, exp.Paren) else b
        if (
            isinstance(inner, exp.EQ)
            and isinstance(inner.this, exp.Column)
            and not list(inner.expression.find_all(exp.Column))
        ):
            key = sql(inner.this)
        else:
            key = f"#{len(order)}:{sql(b)}"
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append(inner)
    out = []
    for key in order:
        items = groups[key]
        if len(items) == 1:
            out.append(items[0])
        else:
            out.append(exp.In(this=items[0].this.copy(), expressions=[i.expression.copy() for i in items]))
    return out


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class OrAcrossColumns(Check):
    """An OR between conditions on different columns of one table: at best an index merge, often a full scan.

    **Anti-pattern**

    ```sql
    SELECT id, first_name FROM customers WHERE email = 'ann@example.com' OR phone = '+4915112345678';
    ```

    One index range can only follow one column.  With OR across ``email`` and ``phone`` the
    optimizer either reads both indexes and merges the row ids (``index_merge`` union/sort_union,
    only when every branch has its own index and the estimates favour it) or, far more often,
    gives up and scans the table.  One unindexed branch is enough to force the scan.

    **Fix**

    Split the OR into one query per branch, each able to use its own index, and glue them with
    ``UNION ALL``; exclude rows an earlier branch already returned:

    ```sql
    SELECT id, first_name FROM customers WHERE email = 'ann@example.com'
    UNION ALL
    SELECT id, first_name FROM customers WHERE phone = '+4915112345678' AND (email = 'ann@example.com') IS NOT TRUE;
    ```

    (``UNION`` without ALL also removes duplicates, at the cost of a temporary table.)  Branches on
    the same column are one ``IN`` list: ``status = 'paid' OR status = 'shipped'`` ->
    ``status IN ('paid', 'shipped')``.
    """

    code = "QRY004"
    name = "or-across-columns"
    severity = "warning"

    def run(self, context: CheckContext) -> Iterator[Finding]:
        for scope in self.scopes(context):
            for group in or_groups(scope, context.catalog):
                by_table: dict[object, list[str]] = {}
                for p in group:
                    if p.column is None or p.column.table is None or p.column.outer:
                        continue
                    columns = by_table.setdefault(p.column.table, [])
                    if p.column.column not in columns:
                        columns.append(p.column.column)
                for ref, columns in by_table.items():
                    if len(columns) < 2:
                        continue
                    if any(p.kind not in INDEXABLE for p in group if p.column is not None and p.column.table == ref):
                        continue  # a branch no index can serve (QRY001/QRY003): splitting the OR does not help
                    yield self._finding(context, scope, group, ref, columns)
                    break

    def _finding(self, context: CheckContext, scope: Scope, group: list[Predicate], ref, columns: list[str]) -> Finding:
        table = catalog_table(context, ref)
        name = table.name if table is not None else ref.name
        root = _or_root(group[0])
        or_text = sql(root) if root is not None else " OR ".join(p.sql for p in group)
        indexed = []
        unindexed = []
        if table is not None:
            for c in columns:
                (
                    indexed
                    if any(i.columns and i.columns[0].name and i.columns[0].name.lower() == c for i in table.indexes)
                    else unindexed
                ).append(c)
        message = f"{or_text} combines {_words(columns)} of {name} with OR: no single index range serves it"
        if unindexed:
            message += (
                f"; {_words(unindexed)} {'has' if len(unindexed) == 1 else 'have'} no index, so {name} is scanned"
            )
        elif indexed:
            message += ", so the best plan is an index merge of " + _words(indexed) + ", often a full scan"
        message += "."
        fix = self._union_rewrite(context, scope, root)
        if fix is None:
            fix = (
                "Split the OR into one SELECT per branch and combine them with UNION ALL (excluding rows of the "
                "earlier branches with AND (<earlier branch>) IS NOT TRUE), or UNION to deduplicate."
            )
        if unindexed:
            fix += (
                " Each branch needs its own index: "
                + "; ".join(f"ALTER TABLE {name} ADD INDEX idx_{name}_{c} ({c})" for c in unindexed)
                + "."
            )
        return self.finding(context, message, fix=fix, table=name, columns=columns)

    def _union_rewrite(self, context: CheckContext, scope: Scope, root: exp.Expression | None) -> str | None:
        shape = context.shape
        if shape is None or root is None or scope is not shape.main or shape.kind != "SELECT" or len(shape.scopes) != 1:
            return None
        select = shape.expression
        if not isinstance(select, exp.Select) or select.args.get("group") is not None:
            return None
        branches = _merge_same_column(_branches(root))
        if len(branches) < 2:
            return None
        where_sql = sql(select.args["where"].this)
        root_sql = sql(root)
        if root_sql not in where_sql:
            return None
        parts = []
        for i, branch in enumerate(branches):
            cond = sql(branch)
            excluded = " AND ".join(f"({sql(b)}) IS NOT TRUE" for b in branches[:i])
            if excluded:
                cond = f"{cond} AND {excluded}"
            copy = select.copy()
            copy.set("order", None)
            copy.set("limit", None)
            copy.set("offset", None)
            new_where = where_sql.replace(root_sql, f"({cond})" if where_sql != root_sql else cond, 1)
            copy.set("where", exp.Where(this=exp.column("__mqa_branch__")))
            parts.append(sql(copy).replace("__mqa_branch__", new_where))
        order = select.args.get("order")
        limit = select.args.get("limit")
        if order is not None or limit is not None:
            text = " UNION ALL ".join(
                f"({p}{' ' + sql(order) if order is not None else ''}{' ' + sql(limit) if limit is not None else ''})"
                for p in parts
            )
            text += (f" {sql(order)}" if order is not None else "") + (f" {sql(limit)}" if limit is not None else "")
        else:
            text = " UNION ALL ".join(parts)
        return f"Rewrite as one indexed query per branch: {text}."


CASES = [
    Case(
        "SELECT id, first_name FROM customers WHERE email = 'ann@example.com' OR phone = '+4915112345678'",
        expect=True,
        contains=[
            "email and phone of customers",
            "index merge of email and phone",
            "SELECT id, first_name FROM customers WHERE email = 'ann@example.com' UNION ALL "
            "SELECT id, first_name FROM customers WHERE phone = '+4915112345678' AND "
            "(email = 'ann@example.com') IS NOT TRUE",
        ],
    ),
    Case(
        "SELECT id, total_cents FROM orders WHERE created_at >= '2024-05-01' AND "
        "(customer_id = 42 OR coupon_code = 'SPRING24' OR customer_id = 43) ORDER BY created_at DESC LIMIT 20",
        expect=True,
        contains=[
            "customer_id and coupon_code of orders",
            "customer_id and coupon_code have no index",
            "customer_id IN (42, 43)",
            "coupon_code = 'SPRING24' AND (customer_id IN (42, 43)) IS NOT TRUE",
            "ORDER BY created_at DESC LIMIT 20)",
            "ALTER TABLE orders ADD INDEX idx_orders_customer_id (customer_id)",
        ],
    ),
    Case(
        "SELECT id, total_cents FROM orders WHERE status = 'paid' OR status = 'shipped'",
        expect=False,
        note="OR on one column is a list of ranges of one index (IN)",
    ),
    Case(
        "SELECT id, email FROM customers WHERE country = 'DE' AND (status = 'active' OR status = 'vip')",
        expect=False,
        note="the OR stays on one column; country is ANDed",
    ),
    Case(
        "SELECT id, name, price_cents FROM products WHERE (name LIKE '%walnut%' OR description LIKE '%walnut%') "
        "AND is_active = 1 LIMIT 20",
        expect=False,
        note="no branch can use an index anyway: QRY003 reports the wildcards",
    ),
]
