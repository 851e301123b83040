"""IDX004: two foreign keys between the same columns of the same tables."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import TableCase, TableCheck
from analyzer.advisor.checks._health import HealthContext, IndexFinding
from analyzer.sources.schema import ForeignKey, Table, quote_identifier


class DuplicateForeignKey(TableCheck):
    """Two foreign key constraints between the same columns of the same tables.

    **Anti-pattern**

    ```sql
    ALTER TABLE order_items
      ADD CONSTRAINT fk_order FOREIGN KEY (order_id) REFERENCES orders (id),
      ADD CONSTRAINT order_items_ibfk_1 FOREIGN KEY (order_id) REFERENCES orders (id);
    ```

    Every insert, update and delete on either table checks both constraints: twice the lookups
    for one rule.  Such pairs come from migrations run twice or a constraint re-added under
    another name.

    **Fix**

    Drop one constraint (the first by name is kept):

    ```sql
    ALTER TABLE order_items DROP FOREIGN KEY order_items_ibfk_1;
    ```

    When the two differ in ``ON DELETE``/``ON UPDATE`` rules they act differently: the finding
    says so, and which one to keep is yours to choose.
    """

    code = "IDX004"
    name = "duplicate-foreign-key"
    severity = "warning"

    def run(self, context: HealthContext) -> Iterator[IndexFinding]:
        for t, table in enumerate(context.tables):
            for k, (fk, kept) in enumerate(_duplicate_foreign_keys(table)):
                finding = _fk_finding(table, fk, kept)
                finding.order = (0, t, 1, k)  # after the table's duplicate indexes, as pt reports them
                yield finding


def _duplicate_foreign_keys(table: Table) -> list[tuple[ForeignKey, ForeignKey]]:
    """pt's get_duplicate_fks(): (duplicate, kept) pairs of constraints from the same columns to
    the same columns of the same table."""
    fks = sorted(table.foreign_keys, key=lambda f: f.name)
    alive = [True] * len(fks)
    pairs = []
    for i in range(len(fks)):
        if not alive[i]:
            continue
        for j in range(i + 1, len(fks)):
            a, b = fks[i], fks[j]
            if not alive[j] or (a.ref_schema, a.ref_table) != (b.ref_schema, b.ref_table):
                continue
            if {(c.lower(), r.lower()) for c, r in zip(a.columns, a.ref_columns)} == {
                (c.lower(), r.lower()) for c, r in zip(b.columns, b.ref_columns)
            }:
                pairs.append((b, a))
                alive[j] = False
    return pairs


def _fk_finding(table: Table, fk: ForeignKey, kept: ForeignKey) -> IndexFinding:
    same_rules = (fk.on_update, fk.on_delete) == (kept.on_update, kept.on_delete)
    message = (
        f"Foreign key {fk.name} ({', '.join(fk.columns)}) -> {fk.ref_schema}.{fk.ref_table} duplicates "
        f"{kept.name}: drop {fk.name}, keep {kept.name} (the first by name)"
    )
    ddl = f"ALTER TABLE {table.quoted_name} DROP FOREIGN KEY {quote_identifier(fk.name)};"
    evidence = {
        "kind": "fk",
        "reason": f"FOREIGN KEY {fk.name} is a duplicate of FOREIGN KEY {kept.name}",
        "foreign_key_ddl": fk.ddl,
        "kept_ddl": kept.ddl,
        "rules": {"on_update": fk.on_update, "on_delete": fk.on_delete},
        "kept_rules": {"on_update": kept.on_update, "on_delete": kept.on_delete},
    }
    if not same_rules:
        message += f"; their rules differ (ON DELETE {fk.on_delete} / {kept.on_delete}): keep the one you mean"
        ddl = f"-- the two constraints act differently; drop the one whose rules you do not want: {ddl}"
    return IndexFinding("IDX004", "warning", table.full_name, message, ddl, same_rules, fk.name, kept.name, evidence)


_PARENT = "CREATE TABLE p (id INT NOT NULL PRIMARY KEY, b INT NOT NULL, UNIQUE KEY ub (b)) ENGINE=InnoDB;\n"
CASES = [
    TableCase(
        _PARENT + "CREATE TABLE c (id INT NOT NULL PRIMARY KEY, p_id INT, KEY ip (p_id), "
        "CONSTRAINT fk_a FOREIGN KEY (p_id) REFERENCES p (id), CONSTRAINT fk_b FOREIGN KEY (p_id) REFERENCES p (id))"
        " ENGINE=InnoDB",
        expect=True,
        contains=["Foreign key fk_b (p_id) -> db.p duplicates fk_a", "DROP FOREIGN KEY `fk_b`"],
    ),
    TableCase(
        _PARENT + "CREATE TABLE c (id INT NOT NULL PRIMARY KEY, p_id INT, KEY ip (p_id), "
        "CONSTRAINT fk_a FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE, "
        "CONSTRAINT fk_b FOREIGN KEY (p_id) REFERENCES p (id)) ENGINE=InnoDB",
        expect=True,
        contains=["their rules differ", "-- the two constraints act differently"],
    ),
    TableCase(
        _PARENT + "CREATE TABLE c (id INT NOT NULL PRIMARY KEY, p_id INT, p_b INT, KEY ip (p_id), KEY ib (p_b), "
        "CONSTRAINT fk_a FOREIGN KEY (p_id) REFERENCES p (id), CONSTRAINT fk_b FOREIGN KEY (p_b) REFERENCES p (b))"
        " ENGINE=InnoDB",
        expect=False,
        note="other columns: two rules",
    ),
    TableCase(
        _PARENT + "CREATE TABLE c (id INT NOT NULL PRIMARY KEY, p_id INT, KEY ip (p_id), "
        "CONSTRAINT fk_a FOREIGN KEY (p_id) REFERENCES p (id)) ENGINE=InnoDB",
        expect=False,
        note="one constraint",
    ),
]
