"""What an advisor session needs around the advice itself: the catalog (from a live server or a
DDL file), the default database, a performance_schema window as the workload, verification on
a scratch copy or with invisible indexes, and applying the DDL.  ``mqa explain`` and ``mqa
advise`` are these functions in a row; nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from analyzer.advisor.suggest import WorkloadClass
from analyzer.advisor.workload import Advice, advise
from analyzer.errors import UsageError
from analyzer.model import DigestResult
from analyzer.sources.schema import Catalog, load_tables


def load_catalog(
    *,
    schema_file: str | None = None,
    server: Any = None,
    database: str | None = None,
    schemas: Sequence[str] | None = None,
) -> tuple[Catalog, list[str]]:
    """The tables the statements read, from ``schema_file`` (a DDL file) or from ``server``, and
    the warnings reading the file gave (statements it could not use)."""
    if schema_file:
        from analyzer.sources.schema_ddl import load_tables_from_ddl_file

        loaded = load_tables_from_ddl_file(schema_file, default_schema=database or "")
        default = database or (loaded.tables[0].schema if len({t.schema for t in loaded.tables}) == 1 else None)
        return Catalog(loaded.tables, default_schema=default, source="ddl"), list(loaded.warnings)
    with server.translate_errors("read table and index metadata"):
        return Catalog(
            load_tables(server, list(schemas) if schemas else None), default_schema=database, source="live"
        ), []


def current_database(server: Any) -> str | None:
    """The session's default database (``DATABASE()``), if any."""
    row = server.query_one("SELECT DATABASE() AS db")
    return row["db"] if row else None


def workload_database(classes: Sequence[WorkloadClass], given: str | None = None) -> str | None:
    """The database the workload's statements run in: ``given``, else the one most classes use
    (a schema file without CREATE DATABASE/USE describes that one)."""
    if given:
        return given
    used = [wc.database for wc in classes if wc.database]
    return max(set(used), key=used.count) if used else None


def watch_window(
    server: Any,
    seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    samples: bool = True,
) -> DigestResult:
    """What performance_schema sees run in the next ``seconds``, as query classes with real
    samples from the statement history (or MySQL 8's QUERY_SAMPLE_TEXT): the workload of
    ``mqa advise --window``."""
    from analyzer.digest.window import window_result
    from analyzer.sources.db import PERFORMANCE_SCHEMA_SELECT, require_privileges
    from analyzer.sources.perfschema import collect_window

    require_privileges(server, [PERFORMANCE_SCHEMA_SELECT])
    with server.translate_errors("reading performance_schema"):
        collected = collect_window(server, seconds, sleep=sleep, clock=clock, samples=samples)
    return window_result(collected)


def explain_one(
    sql: str, *, catalog: Catalog, server: Any = None, database: str | None = None, analyze: bool = False
) -> Advice:
    """``mqa explain``: one statement's plan (on ``server``, or none offline), findings and
    index advice."""
    from analyzer.fingerprint.classifier import Fingerprinter
    from analyzer.sources.explain import explain, explainable

    check = explainable(sql)
    if not check.ok:
        raise UsageError(f"cannot explain this statement: {check.reason}")
    if analyze and server is None:
        raise UsageError("--analyze needs a server, not --schema")
    fingerprinter = Fingerprinter()
    info = fingerprinter.describe(fingerprinter.key(sql)[0], sql)
    wc = WorkloadClass(info.id, sql, database or catalog.default_schema, count=0, fingerprint=info.fingerprint)
    if analyze:
        wc.plan = explain(server, sql, database=wc.database, analyze=True)
    return advise([wc], catalog=catalog, server=server, top=None, with_facts=False)


def verify_advice(
    advice: Advice, catalog: Catalog, *, source: Any, target: Any, scratch_schema: str | None, sample_rows: int | None
) -> Any:
    """Verify the suggestions on ``target`` (a writable session): in copies in ``scratch_schema``,
    or, without one, with MySQL 8's invisible indexes (MariaDB has none a session can use)."""
    from analyzer.advisor.verify import verify_in_scratch, verify_with_invisible_indexes

    if scratch_schema is None:
        if not getattr(target.capabilities, "invisible_indexes", False):
            raise UsageError(
                "this server cannot use invisible indexes (MariaDB): give --scratch-schema DB, an empty "
                "or new schema where mqa copies the tables, builds the indexes, explains, and drops "
                "everything again"
            )
        return verify_with_invisible_indexes(advice, catalog, target=target)
    return verify_in_scratch(
        advice, catalog, source=source, target=target, scratch_schema=scratch_schema, sample_rows=sample_rows
    )


def apply_advice(advice: Advice, target: Any, *, before: Callable[[str], None] | None = None) -> list[str]:
    """Run the suggested DDL on the application's tables (``--apply``): one ALTER TABLE per table,
    exactly the statements the report shows; ``before(ddl)`` is called before each."""
    statements = advice.indexes.ddl_statements()
    for ddl in statements:
        if before is not None:
            before(ddl)
        with target.translate_errors("apply the index DDL"):
            target.query(ddl)
    return statements
