"""QRY001: a function or arithmetic wraps a column in a predicate, so no index on it can be used."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from sqlglot import exp

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import (
    all_predicates,
    catalog_column,
    indexes_starting_with,
    sql,
)
from analyzer.advisor.query import Predicate

_FLIP = {
    exp.GT: exp.LT,
    exp.GTE: exp.LTE,
    exp.LT: exp.GT,
    exp.LTE: exp.GTE,
    exp.EQ: exp.EQ,
    exp.NEQ: exp.NEQ,
    exp.NullSafeEQ: exp.NullSafeEQ,
}
_OPS = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=", exp.EQ: "=", exp.NEQ: "<>", exp.NullSafeEQ: "<=>"}


def _unwrap(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _number(node: exp.Expression) -> Decimal | None:
    node = _unwrap(node)
    if isinstance(node, exp.Neg):
        inner = _number(node.this)
        return -inner if inner is not None else None
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return Decimal(node.this)
        except InvalidOperation:
            return None
    return None


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _has_column(node: exp.Expression) -> bool:
    return any(isinstance(x, exp.Column) for x in node.walk())


def _comparison(p: Predicate) -> tuple[type, exp.Expression, exp.Expression] | None:
    """(operator, the side with the column, the constant side), the column side on the left."""
    node = _unwrap(p.expression)
    if isinstance(node, exp.Between):
        return None
    op = type(node)
    if op not in _OPS:
        return None
    left, right = _unwrap(node.this), _unwrap(node.expression)
    if _has_column(left) and not _has_column(right):
        return op, left, right
    if _has_column(right) and not _has_column(left):
        return _FLIP[op], right, left
    return None


def _date_plus(value: exp.Expression, amount: str) -> str:
    return f"{sql(value)} + INTERVAL {amount}"


def _rewrite(p: Predicate) -> tuple[str | None, str]:
    """(the sargable rewrite, or None; a short explanation of what the function costs)."""
    node = _unwrap(p.expression)
    col_name = str(p.column) if p.column else "the column"
    if isinstance(node, exp.Between) and isinstance(_unwrap(node.this), (exp.TsOrDsToDate, exp.Date, exp.Year)):
        fn = _unwrap(node.this)
        low, high = node.args.get("low"), node.args.get("high")
        if isinstance(fn, exp.Year):
            lo, hi = _number(low), _number(high)
            if lo is not None and hi is not None:
                return (f"{col_name} >= '{int(lo)}-01-01' AND {col_name} < '{int(hi) + 1}-01-01'", "YEAR()")
            return None, "YEAR()"
        return (f"{col_name} >= {sql(low)} AND {col_name} < {_date_plus(high, '1 DAY')}", "DATE()")
    found = _comparison(p)
    if found is None:
        return None, p.function or "an expression"
    op, side, value = found
    sym = _OPS[op]
    # DATE(c) op 'd'
    if isinstance(side, (exp.TsOrDsToDate, exp.Date)) and isinstance(_unwrap(side.this), exp.Column):
        col = sql(_unwrap(side.this))
        nxt = _date_plus(value, "1 DAY")
        rewrite = {
            "=": f"{col} >= {sql(value)} AND {col} < {nxt}",
            ">=": f"{col} >= {sql(value)}",
            ">": f"{col} >= {nxt}",
            "<": f"{col} < {sql(value)}",
            "<=": f"{col} < {nxt}",
        }.get(sym)
        return rewrite, "DATE()"
    # YEAR(c) op 2024
    if isinstance(side, exp.Year):
        inner = _unwrap(side.this)
        if isinstance(inner, (exp.TsOrDsToDate, exp.Date)):
            inner = _unwrap(inner.this)
        year = _number(value)
        if isinstance(inner, exp.Column) and year is not None:
            col, y = sql(inner), int(year)
            rewrite = {
                "=": f"{col} >= '{y}-01-01' AND {col} < '{y + 1}-01-01'",
                ">=": f"{col} >= '{y}-01-01'",
                ">": f"{col} >= '{y + 1}-01-01'",
                "<": f"{col} < '{y}-01-01'",
                "<=": f"{col} < '{y + 1}-01-01'",
            }.get(sym)
            return rewrite, "YEAR()"
        return None, "YEAR()"
    # LOWER(c) = 'x' / UPPER(c) = 'X'
    if isinstance(side, (exp.Lower, exp.Upper)) and isinstance(_unwrap(side.this), exp.Column):
        col = sql(_unwrap(side.this))
        return f"{col} {sym} {sql(value)}", side.key.upper() + "()"
    # SUBSTRING(c, 1, n) = 'abc' / LEFT(c, n) = 'abc'
    if (
        isinstance(side, (exp.Substring, exp.Left))
        and isinstance(_unwrap(side.this), exp.Column)
        and sym == "="
        and isinstance(value, exp.Literal)
        and value.is_string
    ):
        start = _number(side.args.get("start")) if isinstance(side, exp.Substring) else Decimal(1)
        if start == 1:
            text = value.this.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("'", "''")
            return f"{sql(_unwrap(side.this))} LIKE '{text}%'", "SUBSTRING()" if isinstance(
                side, exp.Substring
            ) else "LEFT()"
    # c + k op v, c - k op v, c * k op v, c / k op v
    if isinstance(side, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
        a, b = _unwrap(side.this), _unwrap(side.expression)
        if isinstance(a, exp.Column) and not _has_column(b):
            col, k = a, b
            column_first = True
        elif isinstance(b, exp.Column) and not _has_column(a) and isinstance(side, (exp.Add, exp.Mul)):
            col, k = b, a
            column_first = False
        else:
            return None, "arithmetic"
        del column_first
        kn, vn = _number(k), _number(value)
        new_op = sym
        if isinstance(side, (exp.Mul, exp.Div)) and kn is not None and kn < 0:
            new_op = {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(sym, sym)
        if kn is not None and vn is not None:
            try:
                result = {exp.Add: vn - kn, exp.Sub: vn + kn, exp.Mul: vn / kn if kn else None, exp.Div: vn * kn}[
                    type(side)
                ]
            except (InvalidOperation, ZeroDivisionError):
                result = None
            if result is not None:
                return f"{sql(col)} {new_op} {_fmt(result)}", "arithmetic"
        inverse = {exp.Add: "-", exp.Sub: "+", exp.Mul: "/", exp.Div: "*"}[type(side)]
        if isinstance(side, (exp.Mul, exp.Div)) and kn is None:
            return None, "arithmetic"
        return f"{sql(col)} {new_op} {sql(value)} {inverse} {sql(k)}", "arithmetic"
    # DATEDIFF(NOW(), c) > 30  ->  c < NOW() - INTERVAL 30 DAY
    if isinstance(side, exp.DateDiff):
        a, b = _unwrap(side.this), _unwrap(side.expression)
        days = _number(value)
        if days is not None and isinstance(b, exp.Column) and not _has_column(a):
            flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(sym)
            if flipped:
                return f"{sql(b)} {flipped} {sql(a)} - INTERVAL {int(days)} DAY", "DATEDIFF()"
        return None, "DATEDIFF()"
    return None, p.function or "an expression"


class NonSargablePredicate(Check):
    """A function or arithmetic wraps a column in WHERE/ON, so an index on that column cannot be used.

    **Anti-pattern**

    ```sql
    SELECT id, total_cents FROM orders WHERE DATE(created_at) = '2024-05-01';
    SELECT id FROM orders WHERE YEAR(created_at) = 2024;
    SELECT id FROM customers WHERE LOWER(email) = 'ann@example.com';
    SELECT id FROM orders WHERE total_cents + 500 > 10000;
    ```

    A B-tree index is sorted by the column's value, not by ``DATE(value)``.  To evaluate the
    predicate the server computes the expression for every row, so ``idx_orders_created_at`` is
    useless and the table (or the whole index) is scanned.  The optimizer does not invert
    functions or move arithmetic to the other side.

    **Fix**

    Leave the column bare and move the work to the constant side:

    - ``DATE(c) = 'd'`` -> ``c >= 'd' AND c < 'd' + INTERVAL 1 DAY``
    - ``YEAR(c) = 2024`` -> ``c >= '2024-01-01' AND c < '2025-01-01'``
    - ``c + 1 > 5`` -> ``c > 4``
    - ``SUBSTRING(c, 1, 3) = 'abc'`` -> ``c LIKE 'abc%'``
    - ``LOWER(email) = 'x'`` -> ``email = 'x'``: a ``_ci`` collation already compares without case;
      otherwise index the expression: ``ALTER TABLE customers ADD INDEX ((LOWER(email)))`` (MySQL
      8.0.13+) or a generated column with an index (MariaDB).
    - ``DATEDIFF(NOW(), c) > 30`` -> ``c < NOW() - INTERVAL 30 DAY``

    For other expressions, index the expression (functional index or indexed generated column)
    or store the computed value.
    """

    code = "QRY001"
    name = "non-sargable-predicate"
    severity = "warning"

    def run(self, context: CheckContext) -> Iterator[Finding]:
        shape = context.shape
        if shape is None:
            return
        seen: set[str] = set()
        for scope in shape.scopes:
            for p in all_predicates(scope, context.catalog):
                if p.kind != "function" or p.column is None or p.column.outer:
                    continue
                text = p.sql
                if text in seen:
                    continue
                seen.add(text)
                yield self._finding(context, p)

    def _finding(self, context: CheckContext, p: Predicate) -> Finding:
        table, column = catalog_column(context, p.column)
        table_name = table.name if table is not None else (p.column.table.name if p.column and p.column.table else None)
        col = f"{table_name}.{p.column.column}" if table_name else p.column.column
        indexes = indexes_starting_with(table, p.column.column) if table is not None and column is not None else []
        rewrite, what = _rewrite(p)
        wrapped = p.function or what
        message = f"{p.sql}: {col} is wrapped in {wrapped}"
        severity = "warning"
        if indexes:
            message += (
                f", so {', '.join(i.name for i in indexes)} on {col} cannot be used and the expression "
                "is computed for every row."
            )
        elif table is not None and column is not None:
            message += (
                ", so no index on the column could be used; it has none either, so the rewrite needs an "
                f"index on {p.column.column} as well."
            )
            severity = "info"
        else:
            message += ", so an index on the column cannot be used and the expression is computed for every row."
        if p.in_or:
            message += " (It is one branch of an OR.)"
        if rewrite and what in ("LOWER()", "UPPER()"):
            fix = (
                f"Compare the column directly: {rewrite} (a case-insensitive _ci collation such as "
                f"utf8mb4_unicode_ci already ignores case). If the collation is case-sensitive, index the "
                f"expression: ALTER TABLE {table_name or '<table>'} ADD INDEX "
                f"idx_{table_name or 't'}_{p.column.column}_{what[:-2].lower()} (({sql(_unwrap(_comparison(p)[1]))}))"
                " on MySQL 8.0.13+, or a generated column with an index on MariaDB."
            )
        elif rewrite:
            fix = f"Rewrite it as a range on the bare column: {rewrite}"
            if not indexes and table is not None and column is not None:
                fix += (
                    f"; then ALTER TABLE {table_name} ADD INDEX idx_{table_name}_{p.column.column} ({p.column.column})"
                )
            fix += "."
        else:
            fix = (
                f"Keep {p.column.column} bare on one side and move the computation to the constant side; if that "
                f"is impossible, index the expression ({wrapped}) with a functional index (MySQL 8.0.13+) or an "
                "indexed generated column (MariaDB), or store the computed value in its own column."
            )
        return self.finding(
            context, message, fix=fix, table=table_name, severity=severity, column=p.column.column, expression=wrapped
        )


CASES = [
    Case(
        "SELECT id, total_cents FROM orders WHERE DATE(created_at) = '2024-05-01'",
        expect=True,
        contains=[
            "orders.created_at",
            "idx_orders_created_at",
            "created_at >= '2024-05-01' AND created_at < '2024-05-01' + INTERVAL 1 DAY",
        ],
    ),
    Case(
        "SELECT o.id FROM orders o WHERE YEAR(o.created_at) = 2024 AND o.status = 'paid'",
        expect=True,
        contains=["YEAR(o.created_at)", "o.created_at >= '2024-01-01' AND o.created_at < '2025-01-01'"],
    ),
    Case(
        "SELECT id, email FROM customers WHERE LOWER(email) = 'ann@example.com'",
        expect=True,
        contains=[
            "uq_customers_email",
            "email = 'ann@example.com'",
            "ADD INDEX idx_customers_email_lower ((LOWER(email)))",
        ],
    ),
    Case(
        "SELECT id FROM orders WHERE total_cents + 500 > 10000",
        expect=True,
        contains=["orders.total_cents", "total_cents > 9500", "ADD INDEX idx_orders_total_cents (total_cents)"],
    ),
    Case("SELECT id, name FROM products WHERE SUBSTRING(sku, 1, 3) = 'ABC'", expect=True, contains=["sku LIKE 'ABC%'"]),
    Case(
        "SELECT id FROM carts WHERE DATEDIFF(NOW(), updated_at) > 30 AND status = 'active'",
        expect=True,
        contains=["updated_at < NOW() - INTERVAL 30 DAY"],
    ),
    Case(
        "SELECT id, total_cents FROM orders WHERE created_at >= '2024-05-01' AND created_at < '2024-05-02'",
        expect=False,
        note="the sargable form of DATE(created_at) = '2024-05-01'",
    ),
    Case(
        "SELECT id FROM orders WHERE created_at >= NOW() - INTERVAL 7 DAY",
        expect=False,
        note="a function on the constant side is fine",
    ),
    Case(
        "SELECT DATE(created_at) AS day, COUNT(*) FROM orders WHERE status = 'paid' GROUP BY DATE(created_at)",
        expect=False,
        note="DATE() in the select list and GROUP BY, not in a filter",
    ),
]
