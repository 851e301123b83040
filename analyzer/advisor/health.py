"""Index health: duplicate and redundant indexes, unused indexes, InnoDB tables without a
primary key.  The library part of ``mqa indexes``.

Each problem is an ``IndexFinding`` of one of the index-health checks IDX001-IDX006, which live
in the advisor's check registry like every other check (``analyzer/advisor/checks/idx*.py``: one
module each, with its documentation and fixture cases): a severity, the table, a one-line
message, its evidence and the DDL that fixes it.  ``safe`` says whether that
DDL can be run as it is; when it is False the DDL is advice to adapt (a primary key to choose,
an index a foreign key still needs).

Duplicate and redundant indexes follow the rules of pt-duplicate-key-checker 3.2.1 (its
``DuplicateKeyFinder``), including which index of a pair is kept; ``checks/_duplicates.py``
says where, and why, mqa differs from it.  This module loads what the checks read (the tables,
performance_schema's index usage counters) and runs them.

    from analyzer.advisor.health import check_indexes

    report = check_indexes(server, ["shop"])       # server: an open analyzer.sources.db.Server
    for finding in report.findings:
        print(finding.check, finding.table, finding.message)
    print("\\n".join(report.statements()))          # the safe fixes, each once
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from analyzer.advisor.checks import check_named, run_table_checks
from analyzer.advisor.checks._health import (
    DEFAULT_MIN_WINDOW,
    SEVERITIES,
    ForeignKeyGuard,
    HealthContext,
    IndexFinding,
    IndexUsage,
    UsageWindow,
)
from analyzer.sources.schema import SYSTEM_SCHEMAS, QueryRunner, Table, load_tables

__all__ = [
    "DEFAULT_MIN_WINDOW",
    "SEVERITIES",
    "ForeignKeyGuard",
    "IndexFinding",
    "IndexReport",
    "IndexUsage",
    "UnusedIndexes",
    "UsageWindow",
    "check_indexes",
    "find_duplicate_indexes",
    "find_missing_primary_keys",
    "find_unused_indexes",
    "read_index_usage",
]


@dataclass
class UnusedIndexes:
    """What ``find_unused_indexes()`` found, the window it covers, or why it could not look."""

    findings: list[IndexFinding] = field(default_factory=list)
    window: UsageWindow | None = None
    skipped: str | None = None  # why there are no findings at all (performance_schema off, ...)
    not_instrumented: list[str] = field(default_factory=list)  # db.t that performance_schema does not count
    notes: list[str] = field(default_factory=list)


@dataclass
class IndexReport:
    """Everything ``check_indexes()`` found."""

    findings: list[IndexFinding]
    tables: int
    indexes: int
    schemas: list[str]
    window: UsageWindow | None = None
    notes: list[str] = field(default_factory=list)  # checks skipped or failed, and why

    def statements(self) -> list[str]:
        """The DDL of the safe findings, in order, each statement once."""
        seen: dict[str, None] = {}
        for finding in self.findings:
            if finding.safe and finding.ddl:
                seen.setdefault(finding.ddl, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schemas": list(self.schemas),
            "tables": self.tables,
            "indexes": self.indexes,
            "usage_window": self.window.to_dict() if self.window else None,
            "notes": list(self.notes),
            "findings": [f.to_dict() for f in self.findings],
        }


# --------------------------------------------------------------------------------------------
# Index usage (performance_schema.table_io_waits_summary_by_index_usage).
# --------------------------------------------------------------------------------------------

_LOST_COUNTERS = (
    "Performance_schema_index_stat_lost",
    "Performance_schema_table_instances_lost",
    "Performance_schema_table_handles_lost",
)


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


def _like(pattern: str, value: str) -> bool:
    """SQL LIKE (``%`` and ``_``), as setup_objects patterns are matched."""
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _instrumented(objects: Sequence[dict[str, Any]], schema: str, table: str) -> bool:
    """performance_schema.setup_objects: the most specific matching row decides; no row, no counting."""
    best: tuple[int, int] | None = None
    enabled = False
    for row in objects:
        if _like(row["object_schema"], schema) and _like(row["object_name"], table):
            rank = (int(row["object_schema"] != "%"), int(row["object_name"] != "%"))
            if best is None or rank > best:
                best, enabled = rank, str(row["enabled"]).upper() == "YES"
    return enabled


def read_index_usage(server: QueryRunner, tables: Sequence[Table]) -> IndexUsage:
    """performance_schema's index read counters for ``tables``, the window they cover, and the
    tables it does not count (or why it counts nothing: ``skipped``).  Reads only.

    An index with no counter row at all (the table was not opened since the counters started,
    or the index is newer than the table's counters) counts as unused.  Each table's window
    starts at the later of the server's start and the table's CREATE_TIME (a rebuild by ALTER
    TABLE resets its counters); a TRUNCATE of the summary table also resets them and leaves no
    trace.  The counters are this server's only: a replica's reads are not in them.  When
    performance_schema is off, or the table I/O instrument or the global_instrumentation
    consumer is disabled, ``skipped`` says why.
    """
    usage = IndexUsage()
    if not getattr(server.capabilities, "performance_schema", False):
        usage.skipped = (
            "performance_schema is OFF on this server, so index reads are not counted; "
            "start it with performance_schema=ON (my.cnf) to find unused indexes"
        )
        return usage
    candidates = [t for t in tables if t.schema.lower() not in SYSTEM_SCHEMAS]

    status = {
        r["Variable_name"]: r["Value"]
        for r in server.query(
            f"SHOW GLOBAL STATUS WHERE Variable_name IN ({_marks(1 + len(_LOST_COUNTERS))})",
            ["Uptime", *_LOST_COUNTERS],
        )
    }
    now = server.query("SELECT NOW() AS now")[0]["now"]
    uptime = int(status.get("Uptime", 0))
    lost = {k: int(v) for k, v in status.items() if k in _LOST_COUNTERS and int(v) > 0}
    usage.window = UsageWindow(uptime, now - timedelta(seconds=uptime), now, lost)
    if lost:
        usage.notes.append(
            "performance_schema lost some counters ("
            + ", ".join(f"{k}={v}" for k, v in lost.items())
            + "): an index without a counter row may have been used; raise the "
            "performance_schema_max_* limits"
        )

    switches = {
        r["name"]: str(r["enabled"]).upper() == "YES"
        for r in server.query(
            "SELECT NAME AS name, ENABLED AS enabled FROM performance_schema.setup_instruments "
            "WHERE NAME = 'wait/io/table/sql/handler' UNION ALL "
            "SELECT NAME, ENABLED FROM performance_schema.setup_consumers WHERE NAME = 'global_instrumentation'"
        )
    }
    off = [name for name in ("wait/io/table/sql/handler", "global_instrumentation") if not switches.get(name, False)]
    if off:
        usage.skipped = (
            "performance_schema does not count table I/O here ("
            + " and ".join(off)
            + " disabled in setup_instruments/setup_consumers), so unused indexes cannot be told"
        )
        return usage
    if not candidates:
        return usage

    objects = server.query(
        "SELECT OBJECT_SCHEMA AS object_schema, OBJECT_NAME AS object_name, ENABLED AS enabled "
        "FROM performance_schema.setup_objects WHERE OBJECT_TYPE = 'TABLE'"
    )
    schemas = sorted({t.schema for t in candidates})
    for row in server.query(
        "SELECT OBJECT_SCHEMA AS object_schema, OBJECT_NAME AS object_name, INDEX_NAME AS index_name, "
        "COUNT_STAR AS count_star, COUNT_READ AS count_read, COUNT_WRITE AS count_write "
        "FROM performance_schema.table_io_waits_summary_by_index_usage "
        f"WHERE OBJECT_TYPE = 'TABLE' AND OBJECT_SCHEMA IN ({_marks(len(schemas))})",
        schemas,
    ):
        usage.counters.setdefault((row["object_schema"], row["object_name"]), {})[row["index_name"]] = row
    for table in candidates:
        if _instrumented(objects, table.schema, table.name):
            usage.instrumented.add((table.schema, table.name))
        else:
            usage.not_instrumented.append(table.full_name)
    return usage


# --------------------------------------------------------------------------------------------
# The checks, alone or all at once.
# --------------------------------------------------------------------------------------------


def _run(context: HealthContext, codes: Sequence[str]) -> list[IndexFinding]:
    findings, notes = run_table_checks(context, [check_named(c) for c in codes])  # type: ignore[misc]
    if notes:
        raise RuntimeError("; ".join(notes))
    return findings


def find_duplicate_indexes(
    tables: Sequence[Table],
    *,
    clustered: bool = True,
    ignore_order: bool = False,
    all_structs: bool = False,
    foreign_keys: bool = True,
    guard: ForeignKeyGuard | None = None,
) -> list[IndexFinding]:
    """Duplicate (IDX001), left-prefix redundant (IDX002) and clustered-suffix (IDX003) indexes,
    and duplicate foreign keys (IDX004), by the rules of pt-duplicate-key-checker 3.2.1 (see
    ``analyzer/advisor/checks/_duplicates.py`` for where mqa differs, on purpose).  The options
    are pt's: ``clustered`` (``--[no]clustered``), ``ignore_order`` (``--ignore-order``),
    ``all_structs`` (``--all-structs``); ``foreign_keys=False`` is ``--key-types k``.  Works on
    any ``Table`` (live or from DDL); no server needed."""
    context = HealthContext(
        list(tables),
        guard or ForeignKeyGuard(tables),
        clustered=clustered,
        ignore_order=ignore_order,
        all_structs=all_structs,
    )
    return _run(context, ("IDX001", "IDX002", "IDX003", "IDX004") if foreign_keys else ("IDX001", "IDX002", "IDX003"))


def find_unused_indexes(
    server: QueryRunner,
    tables: Sequence[Table],
    *,
    guard: ForeignKeyGuard | None = None,
    min_window: float = DEFAULT_MIN_WINDOW,
) -> UnusedIndexes:
    """Indexes (not PRIMARY, not unique, not FULLTEXT) of ``tables`` with no read counted by
    performance_schema (IDX005), with the window the counters cover (``read_index_usage()``).
    A finding counted over less than ``min_window`` seconds is reported but not ``safe``: its
    DROP is shown as advice to confirm over a longer window."""
    usage = read_index_usage(server, tables)
    result = UnusedIndexes(
        window=usage.window,
        skipped=usage.skipped,
        not_instrumented=list(usage.not_instrumented),
        notes=list(usage.notes),
    )
    if usage.skipped is None:
        context = HealthContext(list(tables), guard or ForeignKeyGuard(tables), usage=usage, min_window=min_window)
        result.findings = _run(context, ("IDX005",))
    return result


def find_missing_primary_keys(tables: Sequence[Table]) -> list[IndexFinding]:
    """InnoDB tables without a PRIMARY KEY (IDX006), with the key to add."""
    return _run(HealthContext.of(tables), ("IDX006",))


def _refuse_nothing_to_check(server: QueryRunner, schemas: Sequence[str] | None, tables: list) -> None:
    """No table to check is an error that says why: a database that does not exist (for this
    account), or an account that may see no table at all (then the GRANT that fixes it).  An
    existing database without tables is just that: nothing to check."""
    from analyzer.errors import UsageError

    seen = {t.schema for t in tables}
    for name in schemas or ():
        if name in seen:
            continue
        rows = server.query("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
        if not rows or not rows[0]["n"]:
            raise UsageError(
                f"unknown database {name!r}: check the name, or the account's grants "
                "(SHOW DATABASES lists the ones it may see)"
            )
    if not tables and not schemas:
        account = getattr(server, "account", "this account")
        raise UsageError(
            f"{account} sees no table in any application database: GRANT SELECT, SHOW VIEW ON <database>.* TO {account}"
        )


def check_indexes(
    server: QueryRunner,
    schemas: Sequence[str] | None = None,
    *,
    clustered: bool = True,
    unused: bool = True,
    min_window: float = DEFAULT_MIN_WINDOW,
) -> IndexReport:
    """Load the tables of ``schemas`` (default: every schema but the system ones) and run every
    index-health check of the registry.  Redundant indexes are chosen first, then unused ones,
    sharing one ``ForeignKeyGuard`` so that the safe statements together never leave a foreign key
    without its index.  Unused indexes are safe drops only after ``min_window`` seconds of
    counting.  A check that fails is recorded in ``notes`` and the others still run.
    """
    tables = load_tables(server, schemas)
    _refuse_nothing_to_check(server, schemas, tables)
    report = IndexReport(
        [],
        len(tables),
        sum(len(t.indexes) for t in tables),
        sorted({t.schema for t in tables}) if schemas is None else list(schemas),
    )
    context = HealthContext(list(tables), ForeignKeyGuard(tables), clustered=clustered, min_window=min_window)
    if unused:
        try:
            context.usage = read_index_usage(server, tables)
        except Exception as exc:
            from analyzer.sources.db import privilege_error

            found = privilege_error(exc, server, purpose="read index usage")
            why = str(found) if found is not None else f"{type(exc).__name__}: {exc}"
            report.notes.append(f"unused indexes not checked: {why}")
        else:
            report.window = context.usage.window
            if context.usage.skipped:
                report.notes.append(f"unused indexes: {context.usage.skipped}")
            if context.usage.not_instrumented:
                report.notes.append(
                    "unused indexes: performance_schema.setup_objects excludes "
                    + ", ".join(context.usage.not_instrumented)
                )
            report.notes.extend(f"unused indexes: {n}" for n in context.usage.notes)
    report.findings, failed = run_table_checks(context)
    report.notes.extend(failed)
    return report
