"""Schema facts: tables, columns, indexes and foreign keys.

The model (``Table``, ``Column``, ``Index``, ``IndexColumn``, ``ForeignKey``) says nothing about
where it came from: ``load_tables()`` reads it from a live server through ``Server.query``
(information_schema only, a fixed number of queries whatever the number of tables), and a DDL
file parsed with sqlglot can build the same objects.

>>> idx = Index("a_b", (IndexColumn("a"), IndexColumn("b", sub_part=10)), unique=False)
>>> idx.ddl
'KEY `a_b` (`a`,`b`(10))'
>>> Table("db", "t", "InnoDB", indexes=[idx]).index("A_B").name
'a_b'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

SYSTEM_SCHEMAS = frozenset({"mysql", "sys", "information_schema", "performance_schema"})
"""Schemas the server owns; ``load_tables()`` skips them unless asked for by name."""

INDEX_TYPES = ("BTREE", "HASH", "FULLTEXT", "SPATIAL")


class QueryRunner(Protocol):
    """What the loader needs of ``analyzer.sources.db.Server``."""

    capabilities: Any

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]: ...


def quote_identifier(name: str) -> str:
    """``name`` as a MySQL identifier in backticks.

    >>> quote_identifier("we`ird")
    '`we``ird`'
    """
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class Column:
    """A table column; ``type`` is the full column type as the server prints it (``int(10) unsigned``)."""

    name: str
    type: str
    nullable: bool
    ordinal: int
    default: str | None = None
    extra: str = ""  # auto_increment, VIRTUAL GENERATED, on update ...
    collation: str | None = None  # string columns: utf8mb4_unicode_ci...; None for others or when unknown

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "nullable": self.nullable,
            "ordinal": self.ordinal,
            "default": self.default,
            "extra": self.extra,
            "collation": self.collation,
        }


@dataclass(frozen=True)
class IndexColumn:
    """One part of an index: a column (with a prefix length in ``sub_part``) or, on MySQL 8, an
    expression (functional key part, ``name`` None)."""

    name: str | None
    sub_part: int | None = None
    descending: bool = False
    expression: str | None = None

    @property
    def ddl(self) -> str:
        """The part as SHOW CREATE TABLE prints it: ```c`(10)``, ```d` DESC``, ``(lower(e))``."""
        if self.name is None:
            text = f"({self.expression})"
        else:
            text = quote_identifier(self.name) + (f"({self.sub_part})" if self.sub_part else "")
        return text + (" DESC" if self.descending else "")

    def same_as(self, other: IndexColumn) -> bool:
        """Same column (names compare case-insensitively, as MySQL does), prefix and direction."""
        if self.name is None or other.name is None:
            return (
                self.name is None
                and other.name is None
                and self.expression == other.expression
                and self.descending == other.descending
            )
        return (
            self.name.lower() == other.name.lower()
            and self.sub_part == other.sub_part
            and self.descending == other.descending
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sub_part": self.sub_part,
            "descending": self.descending,
            "expression": self.expression,
        }


@dataclass(frozen=True)
class Index:
    """An index (``KEY``) of a table, its parts in order.

    ``type`` is BTREE, HASH, FULLTEXT or SPATIAL (what information_schema says: InnoDB's
    ``USING HASH`` is a BTREE, MariaDB's long unique keys are HASH).  ``visible`` is False for
    MySQL's INVISIBLE and MariaDB's IGNORED indexes.
    """

    name: str
    columns: tuple[IndexColumn, ...]
    unique: bool
    type: str = "BTREE"
    visible: bool = True
    comment: str = ""
    cardinality: int | None = None

    @property
    def primary(self) -> bool:
        return self.name.upper() == "PRIMARY"

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in order (expression parts appear as their expression)."""
        return tuple(c.name if c.name is not None else f"({c.expression})" for c in self.columns)

    @property
    def columns_ddl(self) -> str:
        """The parts as SHOW CREATE TABLE prints them between the parentheses: ```a`,`b`(10)``."""
        return ",".join(c.ddl for c in self.columns)

    @property
    def ddl(self) -> str:
        """The index as in SHOW CREATE TABLE: ``PRIMARY KEY (`a`)``, ``UNIQUE KEY `u` (`b`)``."""
        if self.primary:
            return f"PRIMARY KEY ({self.columns_ddl})"
        kind = {"FULLTEXT": "FULLTEXT KEY", "SPATIAL": "SPATIAL KEY"}.get(
            self.type, "UNIQUE KEY" if self.unique else "KEY"
        )
        using = " USING HASH" if self.type == "HASH" else ""
        return f"{kind} {quote_identifier(self.name)} ({self.columns_ddl}){using}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unique": self.unique,
            "primary": self.primary,
            "type": self.type,
            "columns": [c.to_dict() for c in self.columns],
            "visible": self.visible,
            "comment": self.comment,
            "cardinality": self.cardinality,
        }


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key constraint of a (child) table: ``columns`` reference ``ref_columns`` of
    ``ref_schema.ref_table``, pairwise in order."""

    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_update: str = "RESTRICT"
    on_delete: str = "RESTRICT"

    @property
    def ddl(self) -> str:
        cols = ", ".join(quote_identifier(c) for c in self.columns)
        refs = ", ".join(quote_identifier(c) for c in self.ref_columns)
        return (
            f"CONSTRAINT {quote_identifier(self.name)} FOREIGN KEY ({cols}) REFERENCES "
            f"{quote_identifier(self.ref_schema)}.{quote_identifier(self.ref_table)} ({refs})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": list(self.columns),
            "ref_schema": self.ref_schema,
            "ref_table": self.ref_table,
            "ref_columns": list(self.ref_columns),
            "on_update": self.on_update,
            "on_delete": self.on_delete,
        }


@dataclass
class Table:
    """A base table with its columns (in ordinal order), indexes (in the server's order:
    PRIMARY, then unique keys, then the others, as SHOW CREATE TABLE lists them) and foreign keys."""

    schema: str
    name: str
    engine: str | None
    rows: int | None = None  # the engine's estimate (information_schema.TABLES.TABLE_ROWS)
    columns: list[Column] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    data_length: int | None = None
    index_length: int | None = None
    create_time: datetime | None = None  # MariaDB/MySQL update it when ALTER TABLE rebuilds the table

    @property
    def full_name(self) -> str:
        """``db.t``, as reports show it."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def quoted_name(self) -> str:
        """```db`.`t```, for statements (```t``` when the schema is unknown: a DDL file without
        CREATE DATABASE or USE, and no ``--database``)."""
        if not self.schema:
            return quote_identifier(self.name)
        return f"{quote_identifier(self.schema)}.{quote_identifier(self.name)}"

    @property
    def is_innodb(self) -> bool:
        return (self.engine or "").lower() == "innodb"

    @property
    def primary_key(self) -> Index | None:
        return next((i for i in self.indexes if i.primary), None)

    def column(self, name: str) -> Column | None:
        """The column called ``name`` (case-insensitive), or None."""
        lname = name.lower()
        return next((c for c in self.columns if c.name.lower() == lname), None)

    def index(self, name: str) -> Index | None:
        """The index called ``name`` (case-insensitive, as index names are), or None."""
        lname = name.lower()
        return next((i for i in self.indexes if i.name.lower() == lname), None)

    def is_not_null_unique(self, index: Index) -> bool:
        """A unique BTREE index on whole NOT NULL columns: what InnoDB can cluster rows by."""
        if not index.unique or index.type not in ("BTREE",) or not index.columns:
            return False
        for part in index.columns:
            if part.name is None or part.sub_part is not None:
                return False
            col = self.column(part.name)
            if col is None or col.nullable:
                return False
        return True

    @property
    def clustered_index(self) -> Index | None:
        """The index InnoDB stores the rows in: the PRIMARY KEY, else the first unique index whose
        columns are all NOT NULL; None for other engines and for InnoDB tables clustered by the
        hidden row id."""
        if not self.is_innodb:
            return None
        pk = self.primary_key
        if pk is not None:
            return pk
        return next((i for i in self.indexes if self.is_not_null_unique(i)), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "engine": self.engine,
            "rows": self.rows,
            "data_length": self.data_length,
            "index_length": self.index_length,
            "create_time": self.create_time.isoformat() if self.create_time else None,
            "columns": [c.to_dict() for c in self.columns],
            "indexes": [i.to_dict() for i in self.indexes],
            "foreign_keys": [f.to_dict() for f in self.foreign_keys],
        }


def sort_indexes(table_columns: Sequence[Column], indexes: Iterable[Index]) -> list[Index]:
    """Indexes in the order the server keeps them (``sort_keys()`` of sql_table.cc): PRIMARY,
    unique keys on NOT NULL columns, other unique keys (whole columns before prefixes), plain
    keys, FULLTEXT keys; ties keep the given (creation) order."""
    nullable = {c.name.lower() for c in table_columns if c.nullable}

    def rank(index: Index) -> int:
        if index.primary:
            return 0
        if index.unique:
            has_null = any(p.name is None or p.name.lower() in nullable for p in index.columns)
            partial = any(p.sub_part is not None for p in index.columns)
            return 1 + (2 if has_null else 0) + (1 if partial else 0)
        return 6 if index.type == "FULLTEXT" else 5

    return sorted(indexes, key=rank)


def _in_clause(column: str, values: Sequence[str], negate: bool = False) -> tuple[str, list[str]]:
    marks = ", ".join(["%s"] * len(values))
    return f"{column} {'NOT IN' if negate else 'IN'} ({marks})", list(values)


def _schema_filter(column: str, schemas: Sequence[str] | None) -> tuple[str, list[str]]:
    if schemas:
        return _in_clause(column, list(schemas))
    return _in_clause(column, sorted(SYSTEM_SCHEMAS), negate=True)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _statistics_extras(capabilities: Any) -> tuple[str, str]:
    """Extra STATISTICS columns this server has: (visibility expression, expression column)."""
    flavor = getattr(capabilities, "flavor", "mariadb")
    version = tuple(getattr(capabilities, "version", (0, 0, 0)))
    if flavor == "mariadb":
        visible = "IF(IGNORED = 'YES', 0, 1)" if version >= (10, 6, 0) else "1"
        return visible, "NULL"
    visible = "IF(IS_VISIBLE = 'NO', 0, 1)" if version >= (8, 0, 0) else "1"
    expression = "EXPRESSION" if version >= (8, 0, 13) else "NULL"
    return visible, expression


def load_tables(server: QueryRunner, schemas: Sequence[str] | None = None) -> list[Table]:
    """Every base table of ``schemas`` (default: all but mysql, sys, information_schema and
    performance_schema) with columns, indexes and foreign keys, in four information_schema
    queries.  Views and sequences are left out.  Tables come sorted by schema and name.

    ``server`` is an ``analyzer.sources.db.Server`` (anything with ``query()`` and ``capabilities``).
    Row counts are the engine's estimates; MySQL 8 also caches them for
    ``information_schema_stats_expiry`` seconds.
    """
    where, args = _schema_filter("TABLE_SCHEMA", schemas)
    tables: dict[tuple[str, str], Table] = {}
    for row in server.query(
        "SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, ENGINE AS engine, "
        "TABLE_ROWS AS table_rows, DATA_LENGTH AS data_length, INDEX_LENGTH AS index_length, "
        "CREATE_TIME AS create_time FROM information_schema.TABLES "
        f"WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND {where}",
        args,
    ):
        key = (row["table_schema"], row["table_name"])
        tables[key] = Table(
            key[0],
            key[1],
            row["engine"],
            _int_or_none(row["table_rows"]),
            data_length=_int_or_none(row["data_length"]),
            index_length=_int_or_none(row["index_length"]),
            create_time=row["create_time"],
        )
    if not tables:
        return []

    for row in server.query(
        "SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, COLUMN_NAME AS column_name, "
        "ORDINAL_POSITION AS ordinal, COLUMN_TYPE AS column_type, IS_NULLABLE AS is_nullable, "
        "COLUMN_DEFAULT AS column_default, EXTRA AS extra, COLLATION_NAME AS collation "
        "FROM information_schema.COLUMNS "
        f"WHERE {where}",
        args,
    ):
        table = tables.get((row["table_schema"], row["table_name"]))
        if table is not None:
            table.columns.append(
                Column(
                    row["column_name"],
                    row["column_type"],
                    row["is_nullable"] == "YES",
                    int(row["ordinal"]),
                    row["column_default"],
                    row["extra"] or "",
                    row.get("collation"),
                )
            )
    for table in tables.values():
        table.columns.sort(key=lambda c: c.ordinal)

    visible, expression = _statistics_extras(server.capabilities)
    # No ORDER BY on the index: the server returns each table's indexes in its own key order,
    # which sort_indexes() then makes explicit.
    parts: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for row in server.query(
        "SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, INDEX_NAME AS index_name, "
        "NON_UNIQUE AS non_unique, SEQ_IN_INDEX AS seq, COLUMN_NAME AS column_name, SUB_PART AS sub_part, "
        "COLLATION AS collation, INDEX_TYPE AS index_type, CARDINALITY AS cardinality, "
        f"INDEX_COMMENT AS index_comment, {visible} AS visible, {expression} AS expression "
        f"FROM information_schema.STATISTICS WHERE {where}",
        args,
    ):
        key = (row["table_schema"], row["table_name"])
        if key in tables:
            parts.setdefault(key, {}).setdefault(row["index_name"], []).append(row)
    for key, by_name in parts.items():
        table = tables[key]
        indexes = []
        for name, rows in by_name.items():
            rows.sort(key=lambda r: int(r["seq"]))
            first, last = rows[0], rows[-1]
            index_type = (first["index_type"] or "BTREE").upper()
            if index_type == "RTREE":
                index_type = "SPATIAL"
            indexes.append(
                Index(
                    name=name,
                    columns=tuple(
                        IndexColumn(
                            r["column_name"], _int_or_none(r["sub_part"]), r["collation"] == "D", r["expression"]
                        )
                        for r in rows
                    ),
                    unique=int(first["non_unique"]) == 0,
                    type=index_type,
                    visible=bool(int(first["visible"])),
                    comment=first["index_comment"] or "",
                    cardinality=_int_or_none(last["cardinality"]),
                )
            )
        table.indexes = sort_indexes(table.columns, indexes)

    fk_where, fk_args = _schema_filter("k.TABLE_SCHEMA", schemas)
    fk_rows: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in server.query(
        "SELECT k.TABLE_SCHEMA AS table_schema, k.TABLE_NAME AS table_name, k.CONSTRAINT_NAME AS name, "
        "k.COLUMN_NAME AS column_name, k.ORDINAL_POSITION AS ordinal, "
        "k.REFERENCED_TABLE_SCHEMA AS ref_schema, k.REFERENCED_TABLE_NAME AS ref_table, "
        "k.REFERENCED_COLUMN_NAME AS ref_column, r.UPDATE_RULE AS update_rule, r.DELETE_RULE AS delete_rule "
        "FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
        "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "AND r.TABLE_NAME = k.TABLE_NAME "
        f"WHERE k.REFERENCED_TABLE_NAME IS NOT NULL AND {fk_where}",
        fk_args,
    ):
        fk_rows.setdefault((row["table_schema"], row["table_name"], row["name"]), []).append(row)
    for (schema, table_name, name), rows in sorted(fk_rows.items()):
        table = tables.get((schema, table_name))
        if table is None:
            continue
        rows.sort(key=lambda r: int(r["ordinal"]))
        table.foreign_keys.append(
            ForeignKey(
                name=name,
                columns=tuple(r["column_name"] for r in rows),
                ref_schema=rows[0]["ref_schema"],
                ref_table=rows[0]["ref_table"],
                ref_columns=tuple(r["ref_column"] for r in rows),
                on_update=rows[0]["update_rule"] or "RESTRICT",
                on_delete=rows[0]["delete_rule"] or "RESTRICT",
            )
        )

    return [tables[k] for k in sorted(tables)]


class Catalog:
    """Tables by name, for the advisor: ``find("orders", schema="shop")``.

    Names compare case-insensitively (as on case-insensitive file systems and for most
    deployments' ``lower_case_table_names``).  A name without a schema is looked up in
    ``default_schema``, then in any schema when exactly one has such a table.  ``source`` says
    where the facts come from: ``live`` (a server; row counts and cardinalities known) or
    ``ddl`` (a schema file; no statistics).

    >>> cat = Catalog([Table("shop", "orders", "InnoDB")], default_schema="shop")
    >>> cat.find("ORDERS").full_name
    'shop.orders'
    """

    def __init__(self, tables: Iterable[Table], *, default_schema: str | None = None, source: str = "live") -> None:
        self.tables = list(tables)
        self.default_schema = default_schema
        self.source = source
        self._by_key = {(t.schema.lower(), t.name.lower()): t for t in self.tables}
        self._by_name: dict[str, list[Table]] = {}
        for t in self.tables:
            self._by_name.setdefault(t.name.lower(), []).append(t)
        # Distinct-value estimates of columns, (schema, table, column) -> distinct count; filled
        # by the advisor from cardinalities or sampled counts.
        self.distinct: dict[tuple[str, str, str], float] = {}

    def find(self, name: str, schema: str | None = None) -> Table | None:
        lname = name.lower()
        if schema:
            return self._by_key.get((schema.lower(), lname))
        if self.default_schema:
            found = self._by_key.get((self.default_schema.lower(), lname))
            if found is not None:
                return found
        candidates = self._by_name.get(lname, [])
        return candidates[0] if len(candidates) == 1 else None

    @property
    def has_statistics(self) -> bool:
        return self.source == "live"

    def column_distinct(self, table: Table, column: str) -> float | None:
        """Distinct values of ``column``: a sampled or recorded estimate, else the cardinality of
        an index that starts with the column, else None (unknown)."""
        key = (table.schema.lower(), table.name.lower(), column.lower())
        if key in self.distinct:
            return self.distinct[key]
        best = None
        for index in table.indexes:
            if index.columns and index.columns[0].name and index.columns[0].name.lower() == column.lower():
                if len(index.columns) == 1 and index.cardinality is not None:
                    return float(index.cardinality)
                if index.unique and len(index.columns) == 1 and table.rows:
                    best = float(table.rows)
        return best
