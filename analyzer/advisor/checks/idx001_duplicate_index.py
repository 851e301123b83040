"""IDX001: two indexes on the same columns."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import TableCase, TableCheck
from analyzer.advisor.checks._duplicates import duplicate_findings
from analyzer.advisor.checks._health import HealthContext, IndexFinding


class DuplicateIndex(TableCheck):
    """Two indexes on the same columns in the same order (or one is the other read backwards).

    **Anti-pattern**

    ```sql
    CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT,
                         KEY idx_customer (customer_id), KEY customer_id (customer_id));
    -- or KEY (a, b) next to KEY (a DESC, b DESC): the same index read backwards
    ```

    Every write maintains both copies, both take memory in the buffer pool and space on disk,
    and the optimizer gains nothing from the second one.  Such pairs appear when an ORM adds an
    index a migration already created, or a foreign key creates its own.

    **Fix**

    Drop one.  The primary key and a unique index are kept over a plain one, because they also
    enforce a constraint; an index a foreign key needs is kept until another index serves it
    (the finding then gives advice instead of a statement):

    ```sql
    ALTER TABLE orders DROP INDEX customer_id;
    ```

    Which index of a pair stays follows pt-duplicate-key-checker, so its users see the same
    advice.
    """

    code = "IDX001"
    name = "duplicate-index"
    severity = "warning"

    def run(self, context: HealthContext) -> Iterator[IndexFinding]:
        yield from (f for f in duplicate_findings(context) if f.check == self.code)


CASES = [
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, KEY ia (a), KEY ia2 (a)) ENGINE=InnoDB",
        expect=True,
        contains=["ia2 (`a`) is a duplicate of ia (`a`)", "DROP INDEX `ia2`"],
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, KEY ia (a), UNIQUE KEY ua (a)) ENGINE=InnoDB",
        expect=True,
        contains=["drop ia, keep ua (ua also enforces uniqueness)"],
        note="the unique index stays",
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, KEY iab (a, b), KEY iab_desc (a DESC, b DESC))"
        " ENGINE=InnoDB",
        expect=True,
        contains=["the same index read backwards"],
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, KEY iab (a, b), KEY iba (b, a)) ENGINE=InnoDB",
        expect=False,
        note="other column order: another index",
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, KEY ia (a), KEY iab (a, b)) ENGINE=InnoDB",
        expect=False,
        note="a left-prefix is IDX002, not a duplicate",
    ),
    TableCase(
        "CREATE TABLE p (a INT NOT NULL PRIMARY KEY) ENGINE=InnoDB;\n"
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, KEY ia (a), KEY ia2 (a), "
        "CONSTRAINT fk_a FOREIGN KEY (a) REFERENCES p (a)) ENGINE=InnoDB",
        expect=True,
        contains=["ia2 (`a`) is a duplicate of ia"],
        note="a foreign key needs one of them, not both: the duplicate still goes",
    ),
]
