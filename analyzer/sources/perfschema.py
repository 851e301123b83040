"""performance_schema as a source: what the server executed in a time window, by digest.

    window = collect_window(server, 60)          # two snapshots of the digest table, 60 s apart
    for delta in window.deltas: ...               # what each digest row counted in the window

(``analyzer.digest.window`` folds the deltas into query classes, as the digest layer does with
a slow log's events.)

``events_statements_summary_by_digest`` holds one row per (``SCHEMA_NAME``, ``DIGEST``) with
counters since the row was created (or the table truncated).  A window is the difference of
two snapshots:

- counters (``COUNT_STAR``, ``SUM_*``) are subtracted; a row that is new in the second
  snapshot counts whole;
- a row whose ``FIRST_SEEN`` changed, or whose counters went down, was reset inside the window
  (``TRUNCATE TABLE performance_schema.events_statements_summary_by_digest``, a server restart,
  or the row was freed and reused): its second values are the window's (what ran between the
  first snapshot and the reset is lost, and said so in ``PerfSchemaWindow.notes``);
- ``MIN/MAX_TIMER_WAIT`` are the row's lifetime values: exact for the window only when the row
  was created inside it, or when the value moved during it (a new maximum or minimum);
  otherwise the lifetime maximum is kept as an upper bound (``DigestDelta.max_exact`` False);
- MySQL 8's ``QUANTILE_95/99/999`` (and ``MAX_*_MEMORY``) describe the row's whole life, not
  the window: they are kept in ``DigestDelta.lifetime`` under that name, never in the sketch.

Every statement sent is a read (``SELECT``/``SHOW``) through ``Server.query``; mqa never changes
performance_schema's configuration: when something is off, ``PerfSchemaError`` says which
statement (or server option) switches it on.

Real statements for EXPLAIN come from ``events_statements_history_long``/``_history`` (polled
during the window) and MySQL 8's ``QUERY_SAMPLE_TEXT``; the slowest one per digest is kept,
never a truncated text or one with ``?`` placeholders (prepared statements).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pymysql

from analyzer.errors import AnalyzerError
from analyzer.fingerprint.classifier import Fingerprinter
from analyzer.fingerprint.digest_text import DigestText, has_placeholder, read_digest_text
from analyzer.fingerprint.fastkey import fast_key

DIGEST_TABLE = "performance_schema.events_statements_summary_by_digest"
HISTORY_TABLES = ("events_statements_history_long", "events_statements_history")
PICOSECONDS = 1e-12

# Counters, in the order MySQL 8.0 lists them: column -> (metric name, factor to base unit).
COUNTERS: dict[str, tuple[str, float]] = {
    "SUM_TIMER_WAIT": ("query_time", PICOSECONDS),
    "SUM_LOCK_TIME": ("lock_time", PICOSECONDS),
    "SUM_ERRORS": ("errors", 1.0),
    "SUM_WARNINGS": ("warnings", 1.0),
    "SUM_ROWS_AFFECTED": ("rows_affected", 1.0),
    "SUM_ROWS_SENT": ("rows_sent", 1.0),
    "SUM_ROWS_EXAMINED": ("rows_examined", 1.0),
    "SUM_CREATED_TMP_DISK_TABLES": ("tmp_disk_tables", 1.0),
    "SUM_CREATED_TMP_TABLES": ("tmp_tables", 1.0),
    "SUM_SELECT_FULL_JOIN": ("select_full_join", 1.0),
    "SUM_SELECT_FULL_RANGE_JOIN": ("select_full_range_join", 1.0),
    "SUM_SELECT_RANGE": ("select_range", 1.0),
    "SUM_SELECT_RANGE_CHECK": ("select_range_check", 1.0),
    "SUM_SELECT_SCAN": ("select_scan", 1.0),
    "SUM_SORT_MERGE_PASSES": ("merge_passes", 1.0),
    "SUM_SORT_RANGE": ("sort_range", 1.0),
    "SUM_SORT_ROWS": ("sort_rows", 1.0),
    "SUM_SORT_SCAN": ("sort_scan", 1.0),
    "SUM_NO_INDEX_USED": ("no_index_used", 1.0),
    "SUM_NO_GOOD_INDEX_USED": ("no_good_index_used", 1.0),
    "SUM_CPU_TIME": ("cpu_time", PICOSECONDS),  # MySQL 8.0.28
    "COUNT_SECONDARY": ("secondary_engine", 1.0),  # MySQL 8.0.29
}
# Per-statement 0/1 values: their sum is the number of statements flagged.
FLAG_METRICS = frozenset({"errors", "no_index_used", "no_good_index_used", "secondary_engine"})
# Lifetime values of the row (never the window's): column -> (name, factor).
LIFETIME: dict[str, tuple[str, float]] = {
    "QUANTILE_95": ("quantile_95", PICOSECONDS),
    "QUANTILE_99": ("quantile_99", PICOSECONDS),
    "QUANTILE_999": ("quantile_999", PICOSECONDS),
    "MAX_CONTROLLED_MEMORY": ("max_controlled_memory", 1.0),  # MySQL 8.0.31, bytes
    "MAX_TOTAL_MEMORY": ("max_total_memory", 1.0),
}
_KEY_COLUMNS = ("SCHEMA_NAME", "DIGEST", "DIGEST_TEXT", "COUNT_STAR")
_TIMER_COLUMNS = ("MIN_TIMER_WAIT", "AVG_TIMER_WAIT", "MAX_TIMER_WAIT")
_TIME_COLUMNS = ("FIRST_SEEN", "LAST_SEEN", "QUERY_SAMPLE_SEEN")
_SAMPLE_COLUMNS = ("QUERY_SAMPLE_TEXT", "QUERY_SAMPLE_TIMER_WAIT")
OVERFLOW_LABEL = "/* statements not digested: events_statements_summary_by_digest was full */"


# ------------------------------------------------------------------------------ errors, setup
class PerfSchemaError(AnalyzerError):
    """performance_schema cannot give what was asked; the message says how to switch it on.

    ``statements`` holds the exact SQL an administrator can run (mqa never runs it), empty
    when only a server option and a restart help.
    """

    def __init__(self, message: str, statements: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.statements = tuple(statements)


@dataclass(frozen=True)
class SetupProblem:
    """Something switched off, what it costs, and the statement that switches it on."""

    message: str
    statements: tuple[str, ...] = ()
    blocks_digests: bool = False  # without it there is no digest table to read

    def __str__(self) -> str:
        if not self.statements:
            return self.message
        return self.message + "\n  " + "\n  ".join(self.statements)


@dataclass(frozen=True)
class PerfSchemaSetup:
    """What performance_schema on this server can give mqa."""

    enabled: bool
    problems: tuple[SetupProblem, ...] = ()
    samples: bool = False  # real statements available from the history tables

    @property
    def digests(self) -> bool:
        return self.enabled and not any(p.blocks_digests for p in self.problems)

    def require_digests(self) -> None:
        """Raise ``PerfSchemaError`` (message and statements included) unless digests work."""
        blocking = [p for p in self.problems if p.blocks_digests]
        if not blocking:
            return
        message = "\n".join(str(p) for p in blocking)
        raise PerfSchemaError(message, [s for p in blocking for s in p.statements])


_SERVER_OPTION_HINT = (
    "performance_schema is OFF on this server, and it cannot be switched on while the server runs: "
    "set performance_schema=ON under [mysqld] in the server's option file (my.cnf) and restart it "
    "(add performance-schema-consumer-events-statements-history-long=ON for statement samples)."
)


def check_setup(server: Any) -> PerfSchemaSetup:
    """Which consumers and instruments mqa needs are switched off, and how to switch them on.

    Only reads ``setup_consumers`` and ``setup_instruments``.  Digests need the
    ``global_instrumentation`` and ``statements_digest`` consumers and enabled ``statement/%``
    instruments; samples also need ``thread_instrumentation``, ``events_statements_current``
    (the history consumers get nothing without it) and one of the history consumers.
    """
    if not _performance_schema_on(server):
        return PerfSchemaSetup(False, (SetupProblem(_SERVER_OPTION_HINT, (), True),))
    consumers = {
        row["NAME"]: str(row["ENABLED"]).upper() == "YES"
        for row in _query(server, "SELECT NAME, ENABLED FROM performance_schema.setup_consumers")
    }
    problems: list[SetupProblem] = []
    needed = [n for n in ("global_instrumentation", "statements_digest") if not consumers.get(n, False)]
    if needed:
        problems.append(
            SetupProblem(
                f"the performance_schema consumer{'s' if len(needed) > 1 else ''} {', '.join(needed)} "
                f"{'are' if len(needed) > 1 else 'is'} disabled: statements are not digested. An administrator "
                "can switch them on (until the next restart; add performance-schema-consumer-<name>=ON to "
                "the option file to keep it):",
                (_enable_consumers(needed),),
                True,
            )
        )
    row = _query(
        server,
        "SELECT COUNT(*) AS total, SUM(ENABLED = 'YES') AS enabled, SUM(TIMED = 'YES') AS timed "
        "FROM performance_schema.setup_instruments WHERE NAME LIKE 'statement/%'",
    )[0]
    total, enabled, timed = int(row["total"] or 0), int(row["enabled"] or 0), int(row["timed"] or 0)
    enable_all = (
        "UPDATE performance_schema.setup_instruments SET ENABLED = 'YES', TIMED = 'YES' WHERE NAME LIKE 'statement/%';"
    )
    if total and not enabled:
        problems.append(
            SetupProblem(
                "every statement/% instrument is disabled: nothing is digested. To switch them on:", (enable_all,), True
            )
        )
    elif enabled < total or timed < total:
        problems.append(
            SetupProblem(
                f"{total - enabled} of {total} statement/% instruments are disabled and {total - timed} are "
                "not timed: those statements are missing or have no time. To switch them all on:",
                (enable_all,),
            )
        )
    history = [n for n in ("events_statements_history_long", "events_statements_history") if consumers.get(n)]
    sample_needs = [n for n in ("thread_instrumentation", "events_statements_current") if not consumers.get(n, False)]
    samples = bool(history) and not sample_needs and not needed
    if not samples and not needed:
        missing = sample_needs + ([] if history else ["events_statements_history_long"])
        problems.append(
            SetupProblem(
                "no statement samples: the history tables are not filled (they need "
                f"{', '.join(missing)}); EXPLAIN will have no real statements. To switch them on:",
                (_enable_consumers(missing),),
            )
        )
    return PerfSchemaSetup(True, tuple(problems), samples)


def _enable_consumers(names: list[str]) -> str:
    listed = ", ".join(f"'{n}'" for n in names)
    return f"UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE NAME IN ({listed});"


def _performance_schema_on(server: Any) -> bool:
    caps = getattr(server, "capabilities", None)
    if caps is not None and not caps.performance_schema:
        return False
    row = _query(server, "SELECT @@performance_schema AS on_")[0]
    return bool(int(row["on_"]))


def _query(server: Any, sql: str, args: Any = None) -> list[dict[str, Any]]:
    """``server.query`` with access errors turned into a message that says what to grant."""
    try:
        return server.query(sql, args) if args is not None else server.query(sql)
    except pymysql.err.MySQLError as exc:
        code = exc.args[0] if exc.args else None
        if code in (1142, 1143, 1044, 1227):
            raise PerfSchemaError(
                f"the account cannot read performance_schema ({exc.args[1] if len(exc.args) > 1 else exc}); "
                "an administrator can grant it: GRANT SELECT ON performance_schema.* TO <the mqa account>; "
                "(and PROCESS for SHOW GLOBAL STATUS on some servers)"
            ) from None
        raise


# ------------------------------------------------------------------------------ snapshots
@dataclass(frozen=True)
class DigestSettings:
    """Server variables that shape the digest table."""

    digests_size: int | None  # performance_schema_digests_size (rows; -1 = autosized)
    max_digest_length: int | None  # bytes of tokens kept per digest (min of the two variables)
    max_sql_text_length: int | None  # SQL_TEXT / QUERY_SAMPLE_TEXT are cut at this many bytes


def digest_settings(server: Any) -> DigestSettings:
    """``performance_schema_digests_size``, ``max_digest_length`` and the SQL text limit."""
    rows = _query(
        server,
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('performance_schema_digests_size', "
        "'max_digest_length', 'performance_schema_max_digest_length', 'performance_schema_max_sql_text_length')",
    )
    values = {r["Variable_name"].lower(): _int(r["Value"]) for r in rows}
    lengths = [v for k, v in values.items() if k.endswith("max_digest_length") and v is not None and v >= 0]
    return DigestSettings(
        values.get("performance_schema_digests_size"),
        min(lengths) if lengths else None,
        values.get("performance_schema_max_sql_text_length"),
    )


def digest_columns(server: Any) -> tuple[str, ...]:
    """The columns this server's digest table has, in table order (information_schema)."""
    rows = _query(
        server,
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'performance_schema' "
        "AND TABLE_NAME = 'events_statements_summary_by_digest' ORDER BY ORDINAL_POSITION",
    )
    return tuple(str(r["COLUMN_NAME"]).upper() for r in rows)


@dataclass
class DigestRow:
    """One row of the digest table, in the table's own units (picoseconds, epoch seconds)."""

    schema: str | None
    digest: str | None
    digest_text: str | None
    count: int
    counters: dict[str, int] = field(default_factory=dict)  # SUM_* column -> value
    min_wait: int = 0
    max_wait: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    lifetime: dict[str, int] = field(default_factory=dict)  # QUANTILE_* / MAX_*_MEMORY column -> value
    sample_text: str | None = None
    sample_wait: int | None = None
    sample_seen: float | None = None

    @property
    def key(self) -> tuple[str | None, str | None]:
        return (self.schema, self.digest)


@dataclass
class DigestSnapshot:
    """Every row of the digest table at one moment (``taken_at``: the server's clock)."""

    taken_at: float
    rows: dict[tuple[str | None, str | None], DigestRow]
    columns: tuple[str, ...]
    digest_lost: int | None = None  # Performance_schema_digest_lost at that moment


def snapshot_sql(columns: Iterable[str]) -> str:
    """The SELECT that reads the digest table, for the columns the server has."""
    have = set(columns)
    wanted = [c for c in _KEY_COLUMNS + _TIMER_COLUMNS if c in have]
    wanted += [c for c in have if c not in COUNTERS and c.startswith("SUM_") and c not in wanted]
    wanted += [c for c in COUNTERS if c in have and c not in wanted]
    wanted += [c for c in LIFETIME if c in have]
    wanted += [c for c in _SAMPLE_COLUMNS if c in have]
    parts = [f"`{c}`" for c in wanted]
    parts += [f"UNIX_TIMESTAMP(`{c}`) AS `{c}`" for c in _TIME_COLUMNS if c in have]
    return f"SELECT {', '.join(parts)} FROM {DIGEST_TABLE}"


def take_snapshot(server: Any, columns: tuple[str, ...] | None = None) -> DigestSnapshot:
    """Read the whole digest table (and ``Performance_schema_digest_lost``)."""
    columns = columns or digest_columns(server)
    lost = _digest_lost(server)
    rows = [parse_row(r) for r in _query(server, snapshot_sql(columns))]
    # Read after the rows: every row of the snapshot was first seen before this moment.
    taken_at = float(_query(server, "SELECT UNIX_TIMESTAMP(NOW(6)) AS now_")[0]["now_"])
    return DigestSnapshot(taken_at, {r.key: r for r in rows}, columns, lost)


def _digest_lost(server: Any) -> int | None:
    rows = _query(server, "SHOW GLOBAL STATUS LIKE 'Performance_schema_digest_lost'")
    return _int(rows[0]["Value"]) if rows else None


def parse_row(raw: dict[str, Any]) -> DigestRow:
    """A ``DigestRow`` from a dict keyed by the table's column names (any letter case).

    Timestamps are epoch seconds (the snapshot selects ``UNIX_TIMESTAMP(...)``); text values
    of timestamps (``'2021-06-03 11:04:10.553945'``, as recorded outputs show them) are read
    as UTC.
    """
    row = {str(k).upper(): v for k, v in raw.items()}
    counters = {}
    for name, value in row.items():
        if name in COUNTERS or (name.startswith("SUM_") and name not in _TIMER_COLUMNS):
            number = _int(value)
            if number is not None:
                counters[name] = number
    lifetime = {name: _int(row[name]) or 0 for name in LIFETIME if name in row}
    return DigestRow(
        schema=_text(row.get("SCHEMA_NAME")),
        digest=_text(row.get("DIGEST")),
        digest_text=_text(row.get("DIGEST_TEXT")),
        count=_int(row.get("COUNT_STAR")) or 0,
        counters=counters,
        min_wait=_int(row.get("MIN_TIMER_WAIT")) or 0,
        max_wait=_int(row.get("MAX_TIMER_WAIT")) or 0,
        first_seen=_epoch(row.get("FIRST_SEEN")),
        last_seen=_epoch(row.get("LAST_SEEN")),
        lifetime=lifetime,
        sample_text=_text(row.get("QUERY_SAMPLE_TEXT")),
        sample_wait=_int(row.get("QUERY_SAMPLE_TIMER_WAIT")),
        sample_seen=_epoch(row.get("QUERY_SAMPLE_SEEN")),
    )


# ------------------------------------------------------------------------------ the window
@dataclass
class Sample:
    """A real statement of a digest, for EXPLAIN."""

    query: str
    query_time: float  # seconds
    schema: str | None
    digest: str
    source: str  # the table (or column) it came from
    ts: float | None = None  # epoch when it was seen, when the source says
    thread_id: int | None = None


@dataclass
class DigestDelta:
    """What one digest row did inside a window (times in seconds, as the slow log has them)."""

    schema: str | None
    digest: str | None
    digest_text: str | None
    count: int
    sums: dict[str, float]  # metric name -> sum over the window
    min_time: float
    max_time: float
    min_exact: bool  # False: min_time is the row's lifetime minimum (a lower bound)
    max_exact: bool  # False: max_time is the row's lifetime maximum (an upper bound)
    first_seen: float | None  # the row's FIRST_SEEN
    last_seen: float | None
    new: bool  # the row did not exist at the first snapshot
    reset: bool  # the row was reset (truncate, restart) inside the window: its values are the window's
    lifetime: dict[str, float] = field(default_factory=dict)  # whole-life values (MySQL 8 quantiles...)
    sample: Sample | None = None
    text: DigestText | None = None  # what DIGEST_TEXT gave (set by collect_window)

    @property
    def overflow(self) -> bool:
        """The row that collects statements once the digest table is full (no digest)."""
        return self.digest is None

    @property
    def created_in_window(self) -> bool:
        return self.new or self.reset

    @property
    def avg_time(self) -> float:
        return self.sums.get("query_time", 0.0) / self.count if self.count else 0.0


def diff_snapshots(before: DigestSnapshot, after: DigestSnapshot) -> list[DigestDelta]:
    """What happened between two snapshots, per (SCHEMA_NAME, DIGEST) (see the module docstring)."""
    deltas: list[DigestDelta] = []
    for key, row in after.rows.items():
        old = before.rows.get(key)
        new = old is None
        reset = False
        if old is not None:
            reset = (
                row.count < old.count
                or (row.first_seen is not None and old.first_seen is not None and row.first_seen != old.first_seen)
                or (old.first_seen is None and row.first_seen is not None and row.first_seen > before.taken_at)
                or any(value < old.counters.get(name, 0) for name, value in row.counters.items())
            )
        whole = new or reset
        count = row.count if whole else row.count - old.count  # type: ignore[union-attr]
        if count <= 0:
            continue
        sums: dict[str, float] = {}
        for column, value in row.counters.items():
            name, factor = _metric_of(column)
            base = value if whole else value - old.counters.get(column, 0)  # type: ignore[union-attr]
            sums[name] = base * factor
        if whole:
            min_exact = max_exact = True
        else:
            min_exact = row.min_wait < old.min_wait  # type: ignore[union-attr]
            max_exact = row.max_wait > old.max_wait  # type: ignore[union-attr]
        lifetime = {LIFETIME[c][0]: v * LIFETIME[c][1] for c, v in row.lifetime.items()}
        if not whole:
            lifetime["count_star"] = float(row.count)
        deltas.append(
            DigestDelta(
                schema=row.schema,
                digest=row.digest,
                digest_text=row.digest_text,
                count=count,
                sums=sums,
                min_time=row.min_wait * PICOSECONDS,
                max_time=row.max_wait * PICOSECONDS,
                min_exact=min_exact,
                max_exact=max_exact,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                new=new,
                reset=reset,
                lifetime=lifetime,
            )
        )
    return deltas


def _metric_of(column: str) -> tuple[str, float]:
    known = COUNTERS.get(column)
    if known is not None:
        return known
    name = column.lower().removeprefix("sum_")
    return (name, PICOSECONDS) if name.endswith(("_time", "_wait")) else (name, 1.0)


@dataclass
class PerfSchemaWindow:
    """A time window of performance_schema digests, with what limits its accuracy."""

    server: str  # the session's description ("user@host:port")
    flavor: str
    version: str
    started_at: float  # server clock, epoch seconds
    ended_at: float
    deltas: list[DigestDelta]
    settings: DigestSettings
    digest_lost: int | None  # growth of Performance_schema_digest_lost in the window
    rows_used: int  # rows in the digest table at the end
    columns: tuple[str, ...]
    samples: dict[tuple[str | None, str], Sample] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    setup: PerfSchemaSetup | None = None

    @property
    def seconds(self) -> float:
        return self.ended_at - self.started_at

    @property
    def table_full(self) -> bool:
        """The digest table had no free row: new statements went to the overflow row."""
        size = self.settings.digests_size
        full = size is not None and size > 0 and self.rows_used >= size
        return full or bool(self.digest_lost) or any(d.overflow for d in self.deltas)

    @property
    def statements(self) -> int:
        return sum(d.count for d in self.deltas)


def collect_window(
    server: Any,
    seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    samples: bool = True,
    sample_interval: float = 1.0,
    exclude_own: bool = True,
) -> PerfSchemaWindow:
    """Two snapshots of the digest table ``seconds`` apart, and their difference.

    ``samples`` polls the statement history tables every ``sample_interval`` seconds of the
    window (they keep only the last statements) and takes ``QUERY_SAMPLE_TEXT`` on MySQL 8.
    ``exclude_own`` leaves out the digests of mqa's own reads when nothing else ran them.
    ``sleep`` and ``clock`` are injectable for tests.  Raises ``PerfSchemaError`` when
    performance_schema cannot digest statements (the message has the SQL to fix it).
    """
    if seconds < 0:
        raise ValueError("the window must be zero seconds or longer")
    session = _CountingSession(server)
    setup = check_setup(session)
    setup.require_digests()
    settings = digest_settings(session)
    columns = digest_columns(session)
    notes = [str(p) for p in setup.problems]
    want_samples = samples and setup.samples
    collected: dict[tuple[str | None, str], Sample] = {}

    before = take_snapshot(session, columns)
    session.counting = True
    start = clock()
    deadline = start + seconds
    while True:
        now = clock()
        if now >= deadline:
            break
        pause = deadline - now if not want_samples else min(sample_interval, deadline - now)
        sleep(pause)
        if want_samples:
            _merge_samples(collected, read_history_samples(session, settings))
    if want_samples and seconds == 0:
        _merge_samples(collected, read_history_samples(session, settings))
    after = take_snapshot(session, columns)
    session.counting = False

    deltas = diff_snapshots(before, after)
    if exclude_own:
        deltas = _without_own(deltas, session.executed, getattr(server, "conn", None), settings)
    for row in after.rows.values():
        if row.digest is not None and row.sample_text:
            sample = _usable(row.sample_text, settings)
            if sample is not None:
                _merge_samples(
                    collected,
                    {
                        (row.schema, row.digest): Sample(
                            sample,
                            (row.sample_wait or 0) * PICOSECONDS,
                            row.schema,
                            row.digest,
                            "QUERY_SAMPLE_TEXT",
                            row.sample_seen,
                        )
                    },
                )
    widths = TableWidths(session)
    for delta in deltas:
        if delta.digest is not None:
            delta.sample = collected.get((delta.schema, delta.digest))
        if delta.digest_text is not None:
            width = widths.for_schema(delta.schema)
            delta.text = read_digest_text(delta.digest_text, settings.max_digest_length, width)
    lost = None
    if before.digest_lost is not None and after.digest_lost is not None:
        lost = max(0, after.digest_lost - before.digest_lost)
    resets = sum(1 for d in deltas if d.reset)
    gone = sum(1 for k in before.rows if k not in after.rows)
    if resets or gone:
        notes.append(
            f"{resets + gone} digest rows were reset or removed inside the window (TRUNCATE of the digest "
            "table or a restart): statements between the first snapshot and the reset are not counted"
        )
    caps = getattr(server, "capabilities", None)
    window = PerfSchemaWindow(
        server=getattr(server, "description", ""),
        flavor=getattr(caps, "flavor", ""),
        version=getattr(caps, "version_text", ""),
        started_at=before.taken_at,
        ended_at=after.taken_at,
        deltas=deltas,
        settings=settings,
        digest_lost=lost,
        rows_used=len(after.rows),
        columns=columns,
        samples=collected,
        notes=notes,
        setup=setup,
    )
    if window.table_full:
        notes.append(
            f"the digest table is full ({window.rows_used} rows, performance_schema_digests_size="
            f"{settings.digests_size}; Performance_schema_digest_lost grew by {lost or 0}): new statement "
            "shapes are only counted in the overflow row; raise performance_schema_digests_size (server "
            "option, restart) or truncate the table between windows"
        )
    return window


class TableWidths:
    """Column counts of tables, read from information_schema once each (for digest texts of
    ``INSERT INTO t VALUES (...)``, which do not say how many values a row had)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.cache: dict[tuple[str, str], int | None] = {}

    def width(self, db: str | None, table: str) -> int | None:
        if db is None:
            return None
        key = (db, table)
        if key not in self.cache:
            rows = _query(
                self.server,
                "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                "AND TABLE_NAME = %s AND EXTRA NOT LIKE '%%INVISIBLE%%'",
                (db, table),
            )
            n = _int(rows[0]["n"]) if rows else None
            self.cache[key] = n or None
        return self.cache[key]

    def for_schema(self, schema: str | None) -> Callable[[str | None, str], int | None]:
        return lambda db, table: self.width(db or schema, table)


class _CountingSession:
    """The caller's session, counting the statements mqa itself sends (to leave them out)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.capabilities = getattr(server, "capabilities", None)
        self.description = getattr(server, "description", "")
        self.counting = False
        self.executed: Counter[str] = Counter()

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        rows = self.server.query(sql, args) if args is not None else self.server.query(sql)
        if self.counting:
            self.executed[sql] += 1
        return rows


def _without_own(
    deltas: list[DigestDelta], executed: Counter[str], conn: Any, settings: DigestSettings
) -> list[DigestDelta]:
    """Drop digests that only mqa's own statements (in its own default schema) account for."""
    if not executed:
        return deltas
    own_schema = None
    if conn is not None:
        db = getattr(conn, "db", None)
        own_schema = db.decode() if isinstance(db, bytes) else db
    own_ids: Counter[str] = Counter()
    fp = Fingerprinter("sqlglot")
    for sql, times in executed.items():
        key = fast_key(sql)[0]
        own_ids[fp.describe(key, sql).id] += times
    # The first snapshot's own statement finishes after it was read: it counts in the window.
    kept = []
    for delta in deltas:
        if delta.digest_text is not None and delta.schema == own_schema:
            info = fp.describe(read_digest_text(delta.digest_text, settings.max_digest_length).key, "")
            if info.id in own_ids and delta.count <= own_ids[info.id] + 1:
                continue
        kept.append(delta)
    return kept


# ------------------------------------------------------------------------------ samples
# Strings, quoted identifiers and comments are skipped; a "?" anywhere else is group 1.
def _usable(text: str | None, settings: DigestSettings) -> str | None:
    """The text, if it can stand for its digest in EXPLAIN: complete, no placeholders."""
    if not text or not text.strip():
        return None
    limit = settings.max_sql_text_length
    if text.endswith("...") and (limit is None or len(text.encode("utf-8")) >= limit - 8):
        return None  # cut at performance_schema_max_sql_text_length
    if has_placeholder(text):
        return None
    return text


def read_history_samples(server: Any, settings: DigestSettings) -> dict[tuple[str | None, str], Sample]:
    """The slowest complete statement per (schema, digest) in the statement history tables."""
    found: dict[tuple[str | None, str], Sample] = {}
    for table in HISTORY_TABLES:
        try:
            rows = _query(
                server,
                f"SELECT THREAD_ID, CURRENT_SCHEMA, DIGEST, SQL_TEXT, TIMER_WAIT FROM performance_schema.{table} "
                "WHERE DIGEST IS NOT NULL AND SQL_TEXT IS NOT NULL",
            )
        except pymysql.err.MySQLError:
            continue  # a table this server does not have
        for r in rows:
            text = _usable(_text(r["SQL_TEXT"]), settings)
            if text is None:
                continue
            sample = Sample(
                text,
                (_int(r["TIMER_WAIT"]) or 0) * PICOSECONDS,
                _text(r["CURRENT_SCHEMA"]),
                str(r["DIGEST"]),
                table,
                None,
                _int(r["THREAD_ID"]),
            )
            _merge_samples(found, {(sample.schema, sample.digest): sample})
    return found


def _merge_samples(into: dict[tuple[str | None, str], Sample], new: dict[tuple[str | None, str], Sample]) -> None:
    for key, sample in new.items():
        mine = into.get(key)
        if mine is None or sample.query_time > mine.query_time:
            into[key] = sample


# ------------------------------------------------------------------------------ to the data model
# ------------------------------------------------------------------------------ helpers
def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return int(number) if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _epoch(value: Any) -> float | None:
    """Epoch seconds from UNIX_TIMESTAMP() output, a datetime (UTC) or its text; 0 is None."""
    if value is None:
        return None
    if hasattr(value, "timestamp") and hasattr(value, "tzinfo"):
        from datetime import timezone

        return value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp()
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str) and ("-" in value or ":" in value):
        from datetime import datetime, timezone

        if value.startswith("0000-00-00"):
            return None
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc).timestamp()
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
