"""IDX002: an index whose columns are the leftmost columns of another index."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import TableCase, TableCheck
from analyzer.advisor.checks._duplicates import duplicate_findings
from analyzer.advisor.checks._health import HealthContext, IndexFinding


class RedundantIndex(TableCheck):
    """An index whose columns are the leftmost columns of another index.

    **Anti-pattern**

    ```sql
    CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, created_at DATETIME,
                         KEY idx_customer (customer_id),
                         KEY idx_customer_created (customer_id, created_at));
    ```

    The longer index serves every lookup, range and sort the shorter one does: a B-tree on
    ``(customer_id, created_at)`` finds ``customer_id = 42`` as fast as one on ``customer_id``
    alone.  The shorter index only costs writes, memory and disk.

    **Fix**

    Drop the shorter one:

    ```sql
    ALTER TABLE orders DROP INDEX idx_customer;
    ```

    A unique index is never dropped in favour of a non-unique one unless another unique index
    already enforces its uniqueness, and an index a foreign key needs is kept until another
    index starts with the key's columns.
    """

    code = "IDX002"
    name = "redundant-index"
    severity = "warning"

    def run(self, context: HealthContext) -> Iterator[IndexFinding]:
        yield from (f for f in duplicate_findings(context) if f.check == self.code)


CASES = [
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, KEY ia (a), KEY iab (a, b)) ENGINE=InnoDB",
        expect=True,
        contains=["ia (`a`) is a left-prefix of iab (`a`,`b`)", "DROP INDEX `ia`"],
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, UNIQUE KEY ua (a), KEY iab (a, b)) ENGINE=InnoDB",
        expect=False,
        note="a unique index is a constraint: it stays",
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a VARCHAR(40), KEY ia (a), KEY ia10 (a(10))) ENGINE=InnoDB",
        expect=False,
        note="a prefix of a column is another index part (pt calls KEY (a) a left-prefix of "
        "KEY (a(10)) and drops the whole-column index)",
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, KEY ia (a), KEY iba (b, a)) ENGINE=InnoDB",
        expect=False,
        note="not the leftmost columns",
    ),
    TableCase(
        "CREATE TABLE p (b INT NOT NULL, a INT NOT NULL, PRIMARY KEY (b, a)) ENGINE=InnoDB;\n"
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, KEY ib (b), KEY iba (b, a), "
        "CONSTRAINT fk_b FOREIGN KEY (b) REFERENCES p (b)) ENGINE=InnoDB",
        expect=True,
        contains=["ib (`b`) is a left-prefix of iba"],
        note="the foreign key is served by the longer index too: safe to drop",
    ),
]
