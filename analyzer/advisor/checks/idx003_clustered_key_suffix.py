"""IDX003: an InnoDB secondary index that ends with the primary key's columns."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import TableCase, TableCheck
from analyzer.advisor.checks._duplicates import duplicate_findings
from analyzer.advisor.checks._health import HealthContext, IndexFinding


class ClusteredKeySuffix(TableCheck):
    """An InnoDB secondary index that ends with the columns of the primary key.

    **Anti-pattern**

    ```sql
    CREATE TABLE order_items (id INT PRIMARY KEY, order_id INT,
                              KEY idx_order (order_id, id)) ENGINE=InnoDB;
    ```

    InnoDB appends the primary key's columns to every secondary index anyway (that is how an
    index entry finds its row), so ``(order_id, id)`` is stored as ``(order_id, id, id)``.
    Spelling the suffix out makes the index wider for nothing.

    **Fix**

    Shorten the index to its other columns; lookups, ranges and the order by ``id`` within one
    ``order_id`` stay the same:

    ```sql
    ALTER TABLE order_items DROP INDEX idx_order, ADD INDEX idx_order (order_id);
    ```

    Where the clustered index is not the primary key (InnoDB then clusters by the first unique
    index on NOT NULL columns), that index's columns are the suffix.  An index a foreign key
    needs whole is left as it is (the finding gives advice instead).
    """

    code = "IDX003"
    name = "clustered-key-suffix"
    severity = "info"

    def run(self, context: HealthContext) -> Iterator[IndexFinding]:
        yield from (f for f in duplicate_findings(context) if f.check == self.code)


CASES = [
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, KEY ia_id (a, id)) ENGINE=InnoDB",
        expect=True,
        contains=[
            "ends with the columns of the clustered index PRIMARY",
            "shorten it to (`a`)",
            "ADD INDEX `ia_id` (`a`)",
        ],
    ),
    TableCase(
        "CREATE TABLE t (x INT NOT NULL, a INT, UNIQUE KEY ux (x), KEY ia_x (a, x)) ENGINE=InnoDB",
        expect=True,
        contains=["clustered index ux (`x`)"],
        note="no primary key: InnoDB clusters by the first unique NOT NULL index",
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, KEY ia_id (a, id)) ENGINE=MyISAM",
        expect=False,
        note="MyISAM does not append the primary key",
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, KEY iid_a (id, a)) ENGINE=InnoDB",
        expect=False,
        note="the primary key first is not a suffix",
    ),
    TableCase(
        "CREATE TABLE p (b INT NOT NULL, a INT NOT NULL, PRIMARY KEY (a), KEY b_a (b, a)) ENGINE=InnoDB;\n"
        "CREATE TABLE c (a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a), KEY k_ba (b, a), "
        "CONSTRAINT fk_ba FOREIGN KEY (b, a) REFERENCES p (b, a)) ENGINE=InnoDB",
        expect=True,
        contains=["foreign key fk_ba", "-- keep `k_ba`"],
        note="the foreign key needs (b, a) whole on both sides: advice, not a statement",
    ),
]
