"""QRY003: LIKE with a leading wildcard ('%x', '%x%'): no B-tree index can find the rows."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import all_predicates, catalog_column, n


def _pattern(node: exp.Expression) -> str | None:
    while isinstance(node, (exp.Paren, exp.Not)):
        node = node.this
    if isinstance(node, exp.Like) and isinstance(node.expression, exp.Literal) and node.expression.is_string:
        return node.expression.this
    return None


class LeadingWildcardLike(Check):
    """``LIKE '%x'`` or ``LIKE '%x%'``: a pattern that starts with a wildcard cannot use any B-tree index.

    **Anti-pattern**

    ```sql
    SELECT id, name FROM products WHERE name LIKE '%phone%';
    ```

    An index on ``name`` is sorted from the first character; a pattern that starts with ``%``
    (or ``_``) could match anywhere, so the server reads every row (or every index entry) and
    tests the pattern on each.  The cost grows with the table and no index mqa could suggest
    changes that: a prefix pattern (``'phone%'``) can use an index, a leading wildcard cannot.

    **Fix**

    Use a text index built for searching inside values:

    ```sql
    ALTER TABLE products ADD FULLTEXT INDEX ft_products_name (name);
    SELECT id, name FROM products WHERE MATCH(name) AGAINST ('+phone*' IN BOOLEAN MODE);
    ```

    FULLTEXT finds words and word prefixes; for arbitrary substrings (codes, CJK text) use
    MySQL's ``WITH PARSER ngram``, and for suffix searches (``'%@example.com'``) store the
    reversed value in an indexed generated column and search it with a prefix
    (``email_rev LIKE 'moc.elpmaxe@%'``).  Heavy search traffic belongs in a search engine
    (Elasticsearch/OpenSearch, Manticore, Meilisearch).  mqa suggests no B-tree index for these.
    """

    code = "QRY003"
    name = "leading-wildcard-like"
    severity = "warning"

    def run(self, context: CheckContext) -> Iterator[Finding]:
        for scope in self.scopes(context):
            for p in all_predicates(scope, context.catalog):
                if p.kind != "like_infix" or p.column is None:
                    continue
                pattern = _pattern(p.expression)
                table, column = catalog_column(context, p.column)
                table_name = table.name if table is not None else (p.column.table.name if p.column.table else "?")
                col = p.column.column
                size = f" ({n(table.rows)} rows)" if table is not None and table.rows else ""
                message = (
                    f"{p.sql} starts with a wildcard: no B-tree index on {table_name}.{col} can find the "
                    f"matching rows, so every row of {table_name}{size} is read and tested. No index is "
                    "suggested for it."
                )
                word = (pattern or "").strip("%_")
                suffix_only = pattern is not None and pattern.startswith("%") and not pattern.endswith("%")
                if suffix_only:
                    rev = word[::-1]
                    fix = (
                        f"For a suffix search, store the reversed value and search it by prefix: ALTER TABLE "
                        f"{table_name} ADD COLUMN {col}_rev {column.type if column else 'VARCHAR(255)'} AS "
                        f"(REVERSE({col})) STORED, ADD INDEX idx_{table_name}_{col}_rev ({col}_rev); then "
                        f"WHERE {col}_rev LIKE '{rev}%'."
                    )
                else:
                    fix = (
                        f"ALTER TABLE {table_name} ADD FULLTEXT INDEX ft_{table_name}_{col} ({col}) and search "
                        f"words with WHERE MATCH({col}) AGAINST ('+{word}*' IN BOOLEAN MODE); for substrings "
                        "inside words use FULLTEXT ... WITH PARSER ngram (MySQL) or an external search engine."
                    )
                yield self.finding(context, message, fix=fix, table=table_name, column=col, pattern=pattern)


CASES = [
    Case(
        "SELECT id, name, price_cents FROM products WHERE name LIKE '%phone%' AND is_active = 1",
        expect=True,
        rows={"products": 20112},
        contains=[
            "name LIKE '%phone%'",
            "products.name",
            "20,112 rows",
            "No index is suggested",
            "ADD FULLTEXT INDEX ft_products_name (name)",
            "MATCH(name) AGAINST ('+phone*' IN BOOLEAN MODE)",
        ],
    ),
    Case(
        "SELECT id, first_name FROM customers WHERE email LIKE '%@example.com'",
        expect=True,
        contains=["customers.email", "email_rev LIKE 'moc.elpmaxe@%'", "REVERSE(email)"],
        note="suffix search",
    ),
    Case(
        "SELECT id, name FROM products WHERE sku LIKE 'AB-12%'",
        expect=False,
        note="a prefix pattern can use an index on sku",
    ),
    Case(
        "SELECT id, name FROM products WHERE MATCH(name) AGAINST ('+phone*' IN BOOLEAN MODE)",
        expect=False,
        note="the FULLTEXT rewrite",
    ),
]
