"""IDX005: an index performance_schema saw no read through."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from analyzer.advisor.checks import TableCase, TableCheck
from analyzer.advisor.checks._health import (
    ForeignKeyGuard,
    HealthContext,
    IndexFinding,
    UsageWindow,
    cols_text,
    drop_index_ddl,
    duration,
    needs_evidence,
    needs_text,
)
from analyzer.sources.schema import SYSTEM_SCHEMAS, Index, Table, quote_identifier


class UnusedIndex(TableCheck):
    """An index (neither primary nor unique) that performance_schema saw no read through.

    **Anti-pattern**

    ```sql
    -- performance_schema.table_io_waits_summary_by_index_usage, 30 days after the server started:
    -- OBJECT_NAME  INDEX_NAME            COUNT_READ
    -- orders       idx_orders_coupon     0
    ```

    An index nobody reads still costs every insert, update and delete on the table, memory in
    the buffer pool and space on disk (and in every backup and replica).  Indexes outlive the
    queries they were made for.

    **Fix**

    Drop it once the counting window covers every job (month-end reports, replicas that run
    other queries: their reads are not in this server's counters):

    ```sql
    ALTER TABLE orders DROP INDEX idx_orders_coupon;
    ```

    The window starts at the server's start or the table's last rebuild, whichever is later (a
    ``TRUNCATE`` of the summary table resets it too and leaves no trace).  Under ``--min-window``
    (default a week) the finding is advice to confirm, not a statement; an index a foreign key
    needs is kept (the key's checks on writes are not reads); FULLTEXT indexes are not judged,
    because ``MATCH ... AGAINST`` reads are not counted.  Making the index invisible first (MySQL
    8 ``ALTER TABLE ... ALTER INDEX ... INVISIBLE``, MariaDB ``IGNORED``) is a cheap way back.
    """

    code = "IDX005"
    name = "unused-index"
    severity = "info"

    def run(self, context: HealthContext) -> Iterator[IndexFinding]:
        usage = context.usage
        if usage is None or usage.skipped or usage.window is None:
            return
        window = usage.window
        n = 0
        for table in context.tables:
            if table.schema.lower() in SYSTEM_SCHEMAS or (table.schema, table.name) not in usage.instrumented:
                continue
            rows = usage.counters.get((table.schema, table.name), {})
            since = window.server_started
            if table.create_time is not None and table.create_time > since:
                since = table.create_time
            for index in table.indexes:
                if index.primary or index.unique or index.type == "FULLTEXT":
                    continue
                row = rows.get(index.name)
                if row is not None and int(row["count_star"]):
                    continue
                finding = _unused_finding(table, index, row, since, window, context.guard, context.min_window)
                finding.order = (1, n)
                n += 1
                yield finding


def _unused_finding(
    table: Table,
    index: Index,
    row: dict[str, Any] | None,
    since: datetime,
    window: UsageWindow,
    guard: ForeignKeyGuard,
    min_window: float,
) -> IndexFinding:
    counting = (window.checked_at - since).total_seconds()
    evidence: dict[str, Any] = {
        "count_star": int(row["count_star"]) if row is not None else 0,
        "counter_row": row is not None,
        "counting_since": since,
        "counting_seconds": int(counting),
        "uptime_seconds": window.uptime_seconds,
        "table_create_time": table.create_time,
        "table_rows": table.rows,
        "columns": list(index.column_names),
        "index_ddl": index.ddl,
        "visible": index.visible,
    }
    message = (
        f"Index {index.name} {cols_text(index.columns)} had no reads in {duration(counting)} "
        f"(since {since:%Y-%m-%d %H:%M:%S}; server up {duration(window.uptime_seconds)})"
    )
    if not index.visible:
        message += "; it is already invisible/ignored"
    ddl = drop_index_ddl(table, index)
    safe = True
    if guard.is_dropped(table, index):
        evidence["also_redundant"] = True
    elif counting < min_window:
        evidence["min_window_seconds"] = int(min_window)
        message += f"; too short a window to act on (less than {duration(min_window)})"
        ddl = (
            f"-- confirm over at least {duration(min_window)} of counting (jobs that run weekly or monthly "
            f"may need it), then: {ddl}"
        )
        safe = False
    else:
        blockers = guard.blockers(table, index)
        if blockers:
            evidence["needed_by_foreign_keys"] = needs_evidence(blockers)
            message += f"; foreign key {needs_text(blockers)} needs it"
            ddl = (
                f"-- keep {quote_identifier(index.name)} on {table.quoted_name}: foreign key "
                f"{', '.join(n.fk.name for n in blockers)} needs it (checks on writes do not count as reads)"
            )
            safe = False
        else:
            guard.apply(table, index)
    return IndexFinding("IDX005", "info", table.full_name, message, ddl, safe, index.name, None, evidence)


_TABLE = (
    "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, b INT, c TEXT, KEY ia (a), KEY ib (b), "
    "UNIQUE KEY ua (a, b), FULLTEXT KEY fc (c)) ENGINE=InnoDB"
)
_MONTH = 30 * 86400
CASES = [
    TableCase(
        _TABLE,
        expect=True,
        usage={"uptime": _MONTH, "reads": {"t.ia": 120, "t.PRIMARY": 9}},
        contains=["Index ib (`b`) had no reads in 30d", "ALTER TABLE `db`.`t` DROP INDEX `ib`;"],
        note="ia was read; ib never: primary, unique and FULLTEXT indexes are not judged",
    ),
    TableCase(
        _TABLE,
        expect=True,
        usage={"uptime": 3600, "reads": {"t.ia": 120}},
        contains=["too short a window to act on (less than 7d)", "-- confirm over at least 7d"],
        note="an hour of counting: advice, not a statement",
    ),
    TableCase(_TABLE, expect=False, usage={"uptime": _MONTH, "reads": {"t.ia": 120, "t.ib": 4}}, note="all read"),
    TableCase(_TABLE, expect=False, usage=None, note="performance_schema not read (or off): nothing to tell"),
    TableCase(
        "CREATE TABLE p (a INT NOT NULL PRIMARY KEY) ENGINE=InnoDB;\n"
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, KEY ia (a), "
        "CONSTRAINT fk_a FOREIGN KEY (a) REFERENCES p (a)) ENGINE=InnoDB",
        expect=True,
        usage={"uptime": _MONTH, "reads": {}},
        contains=["foreign key fk_a", "-- keep `ia`"],
        note="the foreign key's index: its checks on writes are not reads",
    ),
]
