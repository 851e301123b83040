"""IDX006: an InnoDB table without a primary key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from analyzer.advisor.checks import TableCase, TableCheck
from analyzer.advisor.checks._health import HealthContext, IndexFinding
from analyzer.sources.schema import SYSTEM_SCHEMAS, Table, quote_identifier


class MissingPrimaryKey(TableCheck):
    """An InnoDB table without a primary key.

    **Anti-pattern**

    ```sql
    CREATE TABLE audit_log (created_at DATETIME, user_id INT, action VARCHAR(40)) ENGINE=InnoDB;
    ```

    InnoDB stores every table in the order of a clustered index: the primary key, else the
    first unique index on NOT NULL columns, else a hidden 6-byte row id that no query can use
    and that all such tables share one counter for.  Row-based replicas find each changed row
    by scanning such a table, and Galera and group replication refuse writes to it.

    **Fix**

    Add a primary key: promote a unique NOT NULL index (safe: InnoDB clusters by it already),
    make a unique index's columns NOT NULL and promote it, or add a column:

    ```sql
    ALTER TABLE audit_log ADD COLUMN id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY;
    ```
    """

    code = "IDX006"
    name = "missing-primary-key"
    severity = "warning"

    def run(self, context: HealthContext) -> Iterator[IndexFinding]:
        for n, finding in enumerate(find_missing_primary_keys(context.tables)):
            finding.order = (2, n)
            yield finding


def find_missing_primary_keys(tables: list[Table] | tuple[Table, ...] | Any) -> list[IndexFinding]:
    """InnoDB tables without a PRIMARY KEY, with the key to add.

    A unique index on NOT NULL columns (what InnoDB already clusters by) is promoted: the DDL is
    safe (``info``).  Otherwise the advice is to make a unique index's columns NOT NULL and
    promote it, to make an AUTO_INCREMENT column the key, or to add one (``warning``, not safe
    to run blindly).
    """
    findings = []
    for table in tables:
        if not table.is_innodb or table.primary_key is not None or table.schema.lower() in SYSTEM_SCHEMAS:
            continue
        clustered = table.clustered_index
        evidence: dict[str, Any] = {
            "engine": table.engine,
            "table_rows": table.rows,
            "clustered_by": clustered.name if clustered else "hidden row id (DB_ROW_ID)",
        }
        if clustered is not None:
            cols = ",".join(quote_identifier(c) for c in clustered.column_names)
            ddl = (
                f"ALTER TABLE {table.quoted_name} DROP INDEX {quote_identifier(clustered.name)}, "
                f"ADD PRIMARY KEY ({cols});"
            )
            message = (
                f"InnoDB table has no primary key; it is clustered by unique index {clustered.name} "
                f"({cols}) on NOT NULL columns: make that the primary key"
            )
            findings.append(
                IndexFinding("IDX006", "info", table.full_name, message, ddl, True, clustered.name, None, evidence)
            )
            continue
        unique = next(
            (
                i
                for i in table.indexes
                if i.unique and i.type == "BTREE" and all(p.name is not None and p.sub_part is None for p in i.columns)
            ),
            None,
        )
        auto = next((c for c in table.columns if "auto_increment" in c.extra.lower()), None)
        if unique is not None:
            cols = ",".join(quote_identifier(c) for c in unique.column_names)
            nullable = [c for c in unique.column_names if (col := table.column(c)) is not None and col.nullable]
            evidence["candidate"] = unique.name
            evidence["nullable_columns"] = nullable
            ddl = (
                f"-- after making {', '.join(nullable)} NOT NULL (no row may hold NULL there): "
                f"ALTER TABLE {table.quoted_name} DROP INDEX {quote_identifier(unique.name)}, ADD PRIMARY KEY ({cols});"
            )
            message = (
                f"InnoDB table has no primary key and is clustered by a hidden row id; unique index "
                f"{unique.name} ({cols}) could become it once its columns are NOT NULL"
            )
        elif auto is not None:
            evidence["candidate"] = auto.name
            ddl = f"ALTER TABLE {table.quoted_name} ADD PRIMARY KEY ({quote_identifier(auto.name)});"
            message = (
                f"InnoDB table has no primary key and is clustered by a hidden row id; AUTO_INCREMENT "
                f"column {auto.name} could be it (if its values are unique)"
            )
        else:
            taken = {c.name.lower() for c in table.columns}
            name = next(n for n in ("id", "row_id", "mqa_id", "mqa_row_id") if n not in taken)
            evidence["candidate"] = None
            ddl = (
                f"ALTER TABLE {table.quoted_name} ADD PRIMARY KEY (<columns that identify a row>); "
                f"-- or, when none do: ALTER TABLE {table.quoted_name} ADD COLUMN {quote_identifier(name)} "
                f"BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY;"
            )
            message = (
                "InnoDB table has no primary key and no unique index: it is clustered by a hidden row id; "
                "add a primary key on the columns that identify a row, or an AUTO_INCREMENT column"
            )
        findings.append(IndexFinding("IDX006", "warning", table.full_name, message, ddl, False, None, None, evidence))
    return findings


CASES = [
    TableCase(
        "CREATE TABLE t (x INT NOT NULL, y INT, UNIQUE KEY ux (x)) ENGINE=InnoDB",
        expect=True,
        contains=["clustered by unique index ux", "DROP INDEX `ux`, ADD PRIMARY KEY (`x`);"],
        note="promote the unique NOT NULL index: safe",
    ),
    TableCase(
        "CREATE TABLE t (x INT, y INT, UNIQUE KEY uxy (x, y)) ENGINE=InnoDB",
        expect=True,
        contains=["once its columns are NOT NULL", "-- after making x, y NOT NULL"],
    ),
    TableCase(
        "CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT, y INT, KEY iid (id)) ENGINE=InnoDB",
        expect=True,
        contains=["AUTO_INCREMENT column id could be it", "ADD PRIMARY KEY (`id`);"],
    ),
    TableCase(
        "CREATE TABLE t (x INT, y INT) ENGINE=InnoDB",
        expect=True,
        contains=["no unique index", "ADD COLUMN `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY"],
    ),
    TableCase("CREATE TABLE t (x INT, y INT) ENGINE=MyISAM", expect=False, note="not InnoDB: no clustered index"),
    TableCase("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, y INT) ENGINE=InnoDB", expect=False),
]
