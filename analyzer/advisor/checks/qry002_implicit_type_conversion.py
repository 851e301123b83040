"""QRY002: a string column compared with a number, or a join between columns of different types."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import (
    all_predicates,
    catalog_column,
    indexes_starting_with,
    is_string,
    sql,
    type_family,
)
from analyzer.advisor.query import Predicate
from analyzer.sources.schema import Column, Table


def _quoted(p: Predicate) -> str:
    """The predicate with every number literal compared to the column written as a string."""
    node = p.expression.copy()
    for literal in list(node.find_all(exp.Literal)):
        if literal.is_string:
            continue
        parent = literal.parent
        if isinstance(parent, exp.Neg):
            parent.replace(exp.Literal.string("-" + literal.this))
        else:
            literal.replace(exp.Literal.string(literal.this))
    return sql(node)


class ImplicitTypeConversion(Check):
    """A string column is compared with a number (or two join columns have different types), so the server converts every row's value.

    **Anti-pattern**

    ```sql
    SELECT id FROM orders WHERE external_ref = 40012345;      -- external_ref is VARCHAR(32)
    SELECT * FROM orders o JOIN legacy_orders l ON l.order_ref = o.id;  -- VARCHAR = INT
    ```

    When a string column meets a number, MySQL and MariaDB compare both as floating-point
    numbers: every row's string is converted, so the index on ``external_ref`` cannot be used
    (a full scan), and the result is wrong as well: ``'40012345abc'``, ``' 40012345'`` and
    ``'040012345'`` all equal ``40012345``.  A join between an INT and a VARCHAR column does the
    same per row of the join, and columns of different character sets or collations cannot use
    the index of the inner table either.

    **Fix**

    Compare the string column with a string, as the application stores it:

    ```sql
    SELECT id FROM orders WHERE external_ref = '40012345';
    ```

    (with a driver, bind the value as a string).  For joins, make both columns the same type,
    character set and collation (``ALTER TABLE legacy_orders MODIFY order_ref INT UNSIGNED``).
    A number column compared with a quoted number is harmless: the constant is converted once.
    """

    code = "QRY002"
    name = "implicit-type-conversion"
    severity = "warning"

    def run(self, context: CheckContext) -> Iterator[Finding]:
        shape = context.shape
        if shape is None or context.catalog is None:
            return
        seen: set[str] = set()
        for scope in shape.scopes:
            for p in all_predicates(scope, context.catalog):
                if p.column is None or p.column.outer:
                    continue
                if p.kind in ("eq", "in", "range") and p.literal == "number":
                    table, column = catalog_column(context, p.column)
                    if column is None or not is_string(column) or p.sql in seen:
                        continue
                    seen.add(p.sql)
                    indexes = indexes_starting_with(table, column.name)
                    col = f"{table.name}.{column.name}"
                    message = (
                        f"{p.sql} compares {col} ({column.type}) with a number: every row's value is "
                        "converted to a number"
                    )
                    if indexes:
                        message += f", so {', '.join(i.name for i in indexes)} cannot be used (full scan)"
                    message += ", and strings such as '12abc' or ' 12' match 12 as well."
                    yield self.finding(
                        context,
                        message,
                        table=table.name,
                        fix=f"Quote the value: {_quoted(p)} (bind it as a string).",
                        column=column.name,
                        column_type=column.type,
                    )
                elif p.kind == "join" and p.other is not None and not p.other.outer:
                    key = " ".join(sorted([str(p.column), str(p.other)]))
                    if key in seen:
                        continue
                    seen.add(key)
                    ta, ca = catalog_column(context, p.column)
                    tb, cb = catalog_column(context, p.other)
                    if ca is None or cb is None:
                        continue
                    fa, fb = type_family(ca), type_family(cb)
                    if (
                        fa == fb == "string"
                        and ca.collation
                        and cb.collation
                        and ca.collation.lower() != cb.collation.lower()
                    ):
                        yield self._collation_mismatch(context, p, ta, ca, tb, cb)
                        continue
                    if fa == fb or "unknown" in (fa, fb):
                        continue
                    a, b = f"{ta.name}.{ca.name}", f"{tb.name}.{cb.name}"
                    string_side, other_col = (a, cb) if fa == "string" else (b, ca)
                    yield self.finding(
                        context,
                        f"{p.sql} joins {a} ({ca.type}) with {b} ({cb.type}): the values are converted per row "
                        "of the join, so an index on the converted side cannot be used for the lookup.",
                        fix=(
                            f"Make both columns the same type: ALTER TABLE {string_side.split('.')[0]} MODIFY "
                            f"{string_side.split('.')[1]} {other_col.type}"
                            f"{'' if (ca if fa == 'string' else cb).nullable else ' NOT NULL'} "
                            f"(after checking every value converts), or join on a column of type {other_col.type}."
                        ),
                        table=ta.name,
                        severity="warning",
                        columns=[a, b],
                    )

    def _collation_mismatch(
        self, context: CheckContext, p: Predicate, ta: Table, ca: Column, tb: Table, cb: Column
    ) -> Finding:
        a, b = f"{ta.name}.{ca.name}", f"{tb.name}.{cb.name}"
        message = (
            f"{p.sql} joins {a} ({ca.collation}) with {b} ({cb.collation}): the collations differ, so one "
            "side is converted per row of the join and an index on it cannot be used for the lookup."
        )
        # convert the narrower side: utf8mb4 holds everything latin1 and utf8mb3 can
        rank = {"utf8mb4": 3, "utf8mb3": 2, "utf8": 2}
        (t_from, c_from), (_, c_to) = ((ta, ca), (tb, cb))
        if rank.get(str(ca.collation).split("_")[0], 1) > rank.get(str(cb.collation).split("_")[0], 1):
            (t_from, c_from), (_, c_to) = ((tb, cb), (ta, ca))
        collation = str(c_to.collation)
        charset = collation.split("_")[0]
        fix = (
            f"Give both columns the same character set and collation: ALTER TABLE {t_from.name} MODIFY "
            f"{c_from.name} {c_from.type} CHARACTER SET {charset} COLLATE {collation}"
            f"{'' if c_from.nullable else ' NOT NULL'} (or the whole table: ALTER TABLE {t_from.name} "
            f"CONVERT TO CHARACTER SET {charset} COLLATE {collation})."
        )
        return self.finding(
            context, message, fix=fix, table=t_from.name, columns=[a, b], collations=[ca.collation, cb.collation]
        )


_LATIN1 = """
CREATE TABLE customers (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  email VARCHAR(190) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_customers_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE newsletter_signups (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  email VARCHAR(190) NOT NULL,
  created_at DATETIME NOT NULL,
  PRIMARY KEY (id),
  KEY idx_signups_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
CREATE TABLE newsletter_optouts (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  email VARCHAR(190) COLLATE utf8mb4_unicode_ci NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
"""

_LEGACY = """
CREATE TABLE orders (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  customer_id INT UNSIGNED NOT NULL,
  created_at DATETIME NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB;
CREATE TABLE legacy_invoices (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_ref VARCHAR(20) NOT NULL,
  amount_cents INT NOT NULL,
  PRIMARY KEY (id),
  KEY idx_legacy_invoices_order_ref (order_ref)
) ENGINE=InnoDB;
"""

CASES = [
    Case(
        "SELECT id, status FROM orders WHERE external_ref = 40012345",
        expect=True,
        contains=["orders.external_ref (varchar(32))", "idx_orders_external_ref", "external_ref = '40012345'"],
        note="W6: marketplace numbers stored as VARCHAR",
    ),
    Case(
        "SELECT id, email FROM customers WHERE phone IN (4915112345678, 4917655512345)",
        expect=True,
        contains=["customers.phone", "idx_customers_phone", "phone IN ('4915112345678', '4917655512345')"],
    ),
    Case(
        "SELECT o.id, l.amount_cents FROM orders o JOIN legacy_invoices l ON l.order_ref = o.id",
        expect=True,
        schema=_LEGACY,
        contains=["legacy_invoices.order_ref (varchar(20))", "orders.id (int", "MODIFY order_ref int"],
        note="join INT with VARCHAR",
    ),
    Case(
        "SELECT id, status FROM orders WHERE external_ref = '40012345'",
        expect=False,
        note="quoted: the index on external_ref is used",
    ),
    Case(
        "SELECT id, sku FROM products WHERE price_cents = '1999'",
        expect=False,
        note="a number column compared with a quoted number: converted once, harmless",
    ),
    Case(
        "SELECT o.id, i.quantity FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = 1042",
        expect=False,
        note="join columns of the same type",
    ),
    Case(
        "SELECT c.id, s.created_at FROM customers c JOIN newsletter_signups s ON s.email = c.email WHERE c.id = 7",
        expect=True,
        schema=_LATIN1,
        contains=[
            "newsletter_signups.email (latin1_swedish_ci)",
            "customers.email (utf8mb4_unicode_ci)",
            "COLLATE utf8mb4_unicode_ci",
        ],
        note="mismatched collations in a join (a legacy latin1 table)",
    ),
    Case(
        "SELECT c.id FROM customers c JOIN newsletter_optouts o ON o.email = c.email",
        expect=False,
        schema=_LATIN1,
        note="the column's own COLLATE matches, whatever the table default",
    ),
]
