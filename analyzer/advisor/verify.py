"""Verify index suggestions with the optimizer: re-EXPLAIN each class with the index in place.

Two ways, both explicit (``mqa advise --verify``), neither touching application data:

* **Scratch copy** (any server; the only way on MariaDB, which has no invisible indexes a
  session can use): every table the suggested indexes' classes read is copied into a scratch
  schema the user names (``--scratch-schema``, on the same server or on ``--verify-dsn``) with
  ``CREATE TABLE ... LIKE`` and its rows (all, or the first ``sample_rows``), analyzed, explained
  before, given the new indexes, explained after; then every table mqa created (and the schema,
  if mqa created it) is dropped.  The scratch schema must not be one the statements use.
* **Invisible indexes** (MySQL 8.0+): the index is added ``INVISIBLE`` to the application table,
  the class is explained in mqa's own session with ``optimizer_switch='use_invisible_indexes=on'``
  (nobody else's plans change), and the index is dropped again.

A suggestion is verified when the optimizer chooses its index for at least one of its classes;
otherwise it is marked ``verified=False`` (and left out of the DDL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from analyzer.advisor.indexes import IndexSuggestion, _scoped
from analyzer.advisor.query import QueryShape, analyze_query
from analyzer.advisor.workload import Advice
from analyzer.errors import AnalyzerError, UsageError
from analyzer.explain import Plan, explain
from analyzer.schema import Catalog, Table, quote_identifier

DEFAULT_SAMPLE_ROWS = 1_000_000


class VerifyError(AnalyzerError):
    """Verification cannot run safely with what was given."""


@dataclass
class Verification:
    method: str  # "scratch" | "invisible"
    target: str  # where the indexes were built
    writes: list[str] = field(default_factory=list)  # every statement that changed something, in order
    notes: list[str] = field(default_factory=list)
    sampled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "target": self.target, "writes": self.writes, "notes": self.notes,
                "sampled": self.sampled}


def rewrite_schemas(sql: str, mapping: dict[str, str]) -> str:
    """``sql`` with schema qualifiers renamed (``shop.orders`` -> ``scratch.orders``), changing only
    those identifier tokens of the original text (never regenerating it).

    >>> rewrite_schemas("SELECT * FROM `shop`.orders o JOIN shop.c ON o.shop = 1", {"shop": "tmp"})
    'SELECT * FROM `tmp`.orders o JOIN `tmp`.c ON o.shop = 1'
    """
    lowered = {k.lower(): v for k, v in mapping.items()}
    try:
        tokens = sqlglot.tokenize(sql, read="mysql")
    except TokenError:
        return sql
    out = []
    last = 0
    for i, token in enumerate(tokens):
        if token.token_type not in (TokenType.VAR, TokenType.IDENTIFIER) and not token.text.isidentifier():
            continue
        if i + 2 >= len(tokens) or tokens[i + 1].token_type != TokenType.DOT:
            continue
        if i > 0 and tokens[i - 1].token_type == TokenType.DOT:
            continue  # the middle of a.b.c: a table qualifier, not a schema
        # db.table.column or db.table (in FROM): a schema only when followed by two parts, or in a table position
        name = token.text.lower()
        if name not in lowered:
            continue
        third = i + 3 < len(tokens) and tokens[i + 3].token_type == TokenType.DOT
        prev = tokens[i - 1].token_type if i > 0 else None
        table_position = prev in (TokenType.FROM, TokenType.JOIN, TokenType.UPDATE, TokenType.INTO, TokenType.COMMA,
                                  TokenType.STRAIGHT_JOIN, TokenType.TABLE) if prev is not None else False
        if not (third or table_position):
            continue
        out.append(sql[last:token.start])
        out.append(quote_identifier(lowered[name]))
        last = token.end + 1
    out.append(sql[last:])
    return "".join(out)


def _classes_tables(advice: Advice, catalog: Catalog, suggestions: Sequence[IndexSuggestion]) -> dict[str, Table]:
    wanted_ids = {c for s in suggestions for c in s.class_ids}
    tables: dict[str, Table] = {s.table.full_name: s.table for s in suggestions}
    for ca in advice.classes:
        if ca.wc.class_id not in wanted_ids or not ca.wc.sample:
            continue
        shape = ca.shape or analyze_query(ca.wc.sample, catalog=_scoped(catalog, ca.wc.database),
                                          default_schema=ca.wc.database)
        scoped = _scoped(catalog, ca.wc.database)
        for ref in shape.all_tables():
            t = scoped.find(ref.name, ref.schema)
            if t is not None:
                tables[t.full_name] = t
    return tables


@dataclass
class _Explained:
    """One class explained on the verification target."""

    keys: dict[str, str | None]  # real table name (lower case) -> the key of the plan's first access to it
    rows: float  # the whole statement's estimated rows examined (nested loops included)
    sort: bool  # the plan sorts


def _explained(plan: Plan, shape: QueryShape | None) -> _Explained:
    labels = {ref.label.lower(): ref.name.lower() for scope in shape.scopes for ref in scope.tables} if shape else {}
    keys: dict[str, str | None] = {}
    for t in plan.tables:
        keys.setdefault(labels.get(t.table.lower(), t.table.lower()), t.key)
    return _Explained(keys, plan.rows_examined_estimate, plan.using_filesort)


def verify_in_scratch(advice: Advice, catalog: Catalog, *, source: Any, target: Any, scratch_schema: str,
                      sample_rows: int | None = DEFAULT_SAMPLE_ROWS) -> Verification:
    """Build the suggestions in copies of their tables in ``scratch_schema`` on ``target`` (a
    writable ``analyzer.db.Server``), explain each class before and after, and clean up.
    ``source`` is the read-only session on the application's server (rows are read from it)."""
    suggestions = [s for s in advice.indexes.suggestions]
    verification = Verification("scratch", f"{scratch_schema} on {target.description}")
    if not suggestions:
        return verification
    tables = _classes_tables(advice, catalog, suggestions)
    app_schemas = {t.schema.lower() for t in tables.values()} | {
        (c.wc.database or "").lower() for c in advice.classes if c.wc.database}
    same_server = source is target or getattr(source, "description", None) == getattr(target, "description", "")
    if scratch_schema.lower() in app_schemas and same_server:
        raise VerifyError(f"the scratch schema {scratch_schema} is one the workload uses: name another one "
                          "(mqa builds copies there and drops them afterwards)")
    names = [t.name.lower() for t in tables.values()]
    if len(set(names)) != len(names):
        raise VerifyError("tables with the same name in two schemas cannot share one scratch schema")
    existing = target.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                            (scratch_schema,))
    clash = sorted({r["t"].lower() for r in existing} & set(names))
    if clash:
        raise VerifyError(f"{scratch_schema} already has tables named {', '.join(clash)}: use an empty or new "
                          "scratch schema so mqa never drops something it did not create")
    schema_exists = bool(target.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                                      (scratch_schema,)))
    created: list[str] = []
    qs = quote_identifier(scratch_schema)

    def write(sql: str, args: Any = None) -> None:
        verification.writes.append(sql)
        with target.translate_errors("build the scratch copy"):
            target.query(sql, args)

    try:
        # the copies keep their foreign keys (CREATE TABLE ... LIKE); their parents may be copied
        # later or not at all, so the scratch session does not check them
        target.query("SET SESSION foreign_key_checks = 0")
        if not schema_exists:
            write(f"CREATE DATABASE {qs}")
        for table in tables.values():
            copy = f"{qs}.{quote_identifier(table.name)}"
            if same_server:
                write(f"CREATE TABLE {copy} LIKE {table.quoted_name}")
                created.append(copy)
                limit = f" LIMIT {int(sample_rows)}" if sample_rows else ""
                write(f"INSERT INTO {copy} SELECT * FROM {table.quoted_name}{limit}")
            else:
                ddl = source.query_one(f"SHOW CREATE TABLE {table.quoted_name}")
                create = list(ddl.values())[1]
                write(f"CREATE TABLE {copy}" + create[create.index("("):] if "(" in create else create)
                created.append(copy)
                _stream_rows(source, target, table, copy, sample_rows, verification)
            if sample_rows and table.rows and table.rows > sample_rows:
                verification.sampled = True
            write(f"ANALYZE TABLE {copy}")
        mapping = {s: scratch_schema for s in app_schemas if s}
        before = _explain_all(advice, catalog, target, scratch_schema, mapping, suggestions)
        for s in suggestions:
            copy = f"{qs}.{quote_identifier(s.table.name)}"
            parts = []
            if s.replaces is not None:
                parts.append(f"DROP INDEX {quote_identifier(s.replaces.name)}")
            parts.append(f"ADD INDEX {s.definition}")
            write(f"ALTER TABLE {copy} " + ", ".join(parts))
        for table in {s.table.full_name: s.table for s in suggestions}.values():
            write(f"ANALYZE TABLE {qs}.{quote_identifier(table.name)}")
        after = _explain_all(advice, catalog, target, scratch_schema, mapping, suggestions)
        _judge(suggestions, before, after)
    finally:
        for copy in reversed(created):
            try:
                write(f"DROP TABLE IF EXISTS {copy}")
            except AnalyzerError as exc:
                verification.notes.append(f"could not drop {copy}: {exc}")
        if not schema_exists and created is not None:
            try:
                write(f"DROP DATABASE IF EXISTS {qs}")
            except AnalyzerError as exc:
                verification.notes.append(f"could not drop {scratch_schema}: {exc}")
    if verification.sampled:
        verification.notes.append(f"tables larger than {sample_rows} rows were copied in part: the optimizer's "
                                  "choices on the copy may differ from the real table")
    return verification


def _stream_rows(source: Any, target: Any, table: Table, copy: str, sample_rows: int | None,
                 verification: Verification, batch: int = 1000) -> None:
    """Copy rows between servers in batches (the scratch server is another server)."""
    limit = f" LIMIT {int(sample_rows)}" if sample_rows else ""
    columns = [c.name for c in table.columns]
    cols = ", ".join(quote_identifier(c) for c in columns)
    rows = source.query(f"SELECT {cols} FROM {table.quoted_name}{limit}")
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {copy} ({cols}) VALUES ({marks})"
    verification.writes.append(sql + f"  -- {len(rows)} rows in batches of {batch}")
    with target.conn.cursor() as cur:
        for i in range(0, len(rows), batch):
            cur.executemany(sql, [tuple(r[c] for c in columns) for r in rows[i:i + batch]])


def _explain_all(advice: Advice, catalog: Catalog, target: Any, scratch_schema: str, mapping: dict[str, str],
                 suggestions: Sequence[IndexSuggestion]) -> dict[str, _Explained]:
    wanted = {c for s in suggestions for c in s.class_ids}
    out: dict[str, _Explained] = {}
    for ca in advice.classes:
        if ca.wc.class_id not in wanted or not ca.wc.sample:
            continue
        sql = rewrite_schemas(ca.wc.sample, mapping)
        try:
            plan = explain(target, sql, database=scratch_schema or ca.wc.database)
        except AnalyzerError:
            continue
        out[ca.wc.class_id] = _explained(plan, ca.shape)
    return out


def _judge(suggestions: Sequence[IndexSuggestion], before: dict[str, _Explained],
           after: dict[str, _Explained]) -> None:
    for s in suggestions:
        chosen = 0
        table = s.table.name.lower()
        for c in s.classes:
            b, a = before.get(c.class_id), after.get(c.class_id)
            if b is not None and table in b.keys:
                c.chosen_key_before, c.verified_rows_before, c.sort_before = b.keys[table], b.rows, b.sort
            if a is not None and table in a.keys:
                c.chosen_key_after, c.verified_rows_after, c.sort_after = a.keys[table], a.rows, a.sort
                if a.keys[table] and a.keys[table].lower() == s.name.lower():
                    chosen += 1
        if chosen:
            s.verified = True
            s.verification_note = f"the optimizer chose it for {chosen} of {len(s.classes)} classes"
        else:
            s.verified = False
            s.verification_note = "the optimizer did not choose it for any of its classes"


def invisible_index_statements(suggestion: IndexSuggestion, name: str) -> tuple[str, str]:
    """(add, drop) statements of the MySQL 8 invisible-index verification of one suggestion.

    >>> from analyzer.schema import Table
    >>> s = IndexSuggestion(Table("shop", "orders", "InnoDB"), ("customer_id", "created_at"), "idx")
    >>> invisible_index_statements(s, "mqa_verify_1")[0]
    'ALTER TABLE `shop`.`orders` ADD INDEX `mqa_verify_1` (`customer_id`, `created_at`) INVISIBLE, ALGORITHM=INPLACE, LOCK=NONE'
    """
    cols = ", ".join(quote_identifier(c) for c in suggestion.columns)
    table = suggestion.table.quoted_name
    return (f"ALTER TABLE {table} ADD INDEX {quote_identifier(name)} ({cols}) INVISIBLE, ALGORITHM=INPLACE, LOCK=NONE",
            f"ALTER TABLE {table} DROP INDEX {quote_identifier(name)}, ALGORITHM=INPLACE, LOCK=NONE")


def verify_with_invisible_indexes(advice: Advice, catalog: Catalog, *, target: Any) -> Verification:
    """MySQL 8: each suggestion as an INVISIBLE index, used only by mqa's session, then dropped."""
    if not getattr(target.capabilities, "invisible_indexes", False):
        raise UsageError("this server has no invisible indexes a session can use (MariaDB's IGNORED indexes "
                         "cannot be used by anyone): verify in a scratch copy with --scratch-schema NAME")
    verification = Verification("invisible", f"invisible indexes on {target.description}")
    suggestions = list(advice.indexes.suggestions)
    before = _explain_all(advice, catalog, target, "", {}, suggestions)
    switch = "SET SESSION optimizer_switch = 'use_invisible_indexes={}'"
    target.query(switch.format("on"))
    verification.writes.append(switch.format("on"))
    try:
        for n, s in enumerate(suggestions, 1):
            name = f"mqa_verify_{n}"
            add, drop = invisible_index_statements(s, name)
            verification.writes.append(add)
            with target.translate_errors("add an invisible index to verify a suggestion"):
                target.query(add)
            try:
                after = _explain_all(advice, catalog, target, "", {}, [s])
            finally:
                verification.writes.append(drop)
                with target.translate_errors(f"drop the invisible index {name} again"):
                    target.query(drop)
            real = s.name
            s.name = name  # the optimizer chooses it under its verification name
            _judge([s], before, after)
            s.name = real
    finally:
        target.query(switch.format("off"))
        verification.writes.append(switch.format("off"))
    return verification
