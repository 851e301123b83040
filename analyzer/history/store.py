"""The history database: runs, their classes with every mergeable accumulator, plans seen,
findings, and where each log was read up to.

Two backends with one schema: SQLite (a file; the default, under the user's data directory) and
MySQL/MariaDB for teams (``mysql://user@host:port/db``).  mqa creates and migrates the tables
itself (``mqa_meta.schema_version``).  A run is saved in one transaction, with the log
positions it read up to: a run killed at any point leaves no partial run and no position
advanced, and a run that finds another run read the same logs meanwhile saves nothing.

Tables (all prefixed ``mqa_``):

- ``runs``: one row per run (label, times, the events' span, totals, the command, the sources,
  the digest's totals as state);
- ``classes``: every class ever seen (id, fingerprint, kind, tables, first and last run);
- ``run_classes``: per run and class, the figures comparisons use (count, query time, avg, p95,
  rows examined and sent) and the class's full mergeable state (``analyzer.digest.state``);
- ``plans``: per run and explained class, the index the plan used and its access type;
- ``findings``: per run, the advisor's and the index checks' findings;
- ``positions``: per label and log content, how far it was read (``analyzer.history.positions``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.digest.state import (  # the underscored readers: how stored values are checked
    _int,
    _list,
    _num,
    _str,
    class_from_value,
    class_value,
    pack,
    source_from_value,
    source_value,
    stats_from_value,
    stats_value,
    unpack,
    views_from_value,
    views_value,
)
from analyzer.errors import AnalyzerError, InputError, UsageError
from analyzer.failpoints import failpoint
from analyzer.model import DigestResult, plausible_time

SCHEMA_VERSION = 1


class HistoryError(AnalyzerError):
    """The history database cannot be opened, read or written (one line, what to do)."""


class ConcurrentRunError(HistoryError):
    """Another run read the same logs while this one ran: this run's figures would count them twice."""


@dataclass
class Position:
    """How far one log's content was read, identified by its content, not its name: a hash of
    its first ``head_len`` bytes and of the ``head_len`` bytes before ``offset`` (decompressed
    bytes).  ``size`` is the content's size when it was read; ``state`` what the reader carries
    from event to event (the database, the last time, the server's offset, line numbers)."""

    head_len: int
    head_hash: str
    offset: int
    tail_hash: str
    size: int
    path: str
    state: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None

    @property
    def key(self) -> tuple[int, str]:
        return self.head_len, self.head_hash


@dataclass
class PlanFacts:
    """What a class's plan was in a run: the index it used and how it read the table."""

    class_id: str
    key: str | None
    access: str | None
    rows: float | None = None
    table: str | None = None
    statement: str | None = None  # the statement explained (a real sample of the class)


@dataclass
class FindingFacts:
    class_id: str | None
    check: str
    severity: str
    message: str


@dataclass
class RunInfo:
    id: int
    label: str
    started_at: str
    finished_at: str
    span_start: float | None
    span_end: float | None
    events: int
    classes: int
    query_time: float
    mode: str
    command: str
    tool_version: str

    @property
    def seconds(self) -> float | None:
        """The span of the run's events (at least one second), for rates."""
        if self.span_start is None or self.span_end is None:
            return None
        return max(1.0, self.span_end - self.span_start)


@dataclass
class RunRecord:
    """Everything a run saves, in one transaction."""

    label: str
    started_at: str
    finished_at: str
    result: DigestResult
    command: str
    tool_version: str
    span: tuple[float | None, float | None] = (None, None)
    plans: list[PlanFacts] = field(default_factory=list)
    findings: list[FindingFacts] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)  # where each log was read up to now
    started_from: list[Position] = field(default_factory=list)  # the stored positions the run read from
    known_positions: dict[tuple[int, str], tuple[int, int | None]] = field(default_factory=dict)  # at the start


@dataclass(frozen=True)
class Retention:
    """``--keep``: runs younger than ``seconds``, or the last ``runs`` runs, per label."""

    seconds: float | None = None
    runs: int | None = None

    @classmethod
    def parse(cls, text: str) -> Retention:
        from analyzer.digest.filters import parse_duration

        text = text.strip()
        if text.isdigit():
            if int(text) < 1:
                raise UsageError("--keep: keep at least 1 run")
            return cls(runs=int(text))
        try:
            return cls(seconds=parse_duration(text))
        except Exception:
            raise UsageError(f"--keep {text!r}: give a duration (90d, 12h) or a number of runs (30)") from None


# --------------------------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------------------------


class _Backend:
    """The SQL dialect and connection of one database kind."""

    name = ""
    description = ""

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        raise NotImplementedError

    def executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        raise NotImplementedError

    def begin(self) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def last_id(self) -> int:
        raise NotImplementedError

    def tables(self) -> set[str]:
        raise NotImplementedError

    def ddl(self) -> list[str]:
        raise NotImplementedError


def _ddl(auto: str, blob: str, text_key: str, tail: str) -> list[str]:
    return [
        f"CREATE TABLE mqa_meta (name {text_key} PRIMARY KEY, value TEXT){tail}",
        f"""CREATE TABLE mqa_runs (
            id {auto},
            label {text_key} NOT NULL,
            started_at VARCHAR(40) NOT NULL,
            finished_at VARCHAR(40) NOT NULL,
            span_start DOUBLE PRECISION,
            span_end DOUBLE PRECISION,
            events BIGINT NOT NULL,
            classes INTEGER NOT NULL,
            query_time DOUBLE PRECISION NOT NULL,
            mode VARCHAR(16) NOT NULL,
            tool_version VARCHAR(40) NOT NULL,
            command TEXT NOT NULL,
            sources TEXT NOT NULL,
            notes TEXT NOT NULL,
            totals {blob} NOT NULL,
            views {blob}){tail}""",
        "CREATE INDEX mqa_runs_label ON mqa_runs (label, id)",
        f"""CREATE TABLE mqa_classes (
            class_id VARCHAR(64) NOT NULL PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            kind VARCHAR(32) NOT NULL,
            tables_json TEXT NOT NULL,
            first_run BIGINT NOT NULL,
            last_run BIGINT NOT NULL){tail}""",
        f"""CREATE TABLE mqa_run_classes (
            run_id BIGINT NOT NULL,
            class_id VARCHAR(64) NOT NULL,
            admin SMALLINT NOT NULL,
            calls BIGINT NOT NULL,
            query_time DOUBLE PRECISION NOT NULL,
            avg_time DOUBLE PRECISION,
            p95_time DOUBLE PRECISION,
            rows_examined DOUBLE PRECISION,
            rows_sent DOUBLE PRECISION,
            state {blob} NOT NULL,
            PRIMARY KEY (run_id, class_id, admin)){tail}""",
        f"""CREATE TABLE mqa_plans (
            run_id BIGINT NOT NULL,
            class_id VARCHAR(64) NOT NULL,
            table_name TEXT,
            key_name TEXT,
            access TEXT,
            plan_rows DOUBLE PRECISION,
            statement TEXT,
            PRIMARY KEY (run_id, class_id)){tail}""",
        f"""CREATE TABLE mqa_findings (
            run_id BIGINT NOT NULL,
            seq INTEGER NOT NULL,
            class_id VARCHAR(64),
            check_code VARCHAR(16) NOT NULL,
            severity VARCHAR(16) NOT NULL,
            message TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)){tail}""",
        f"""CREATE TABLE mqa_positions (
            label {text_key} NOT NULL,
            head_len INTEGER NOT NULL,
            head_hash CHAR(64) NOT NULL,
            read_to BIGINT NOT NULL,
            tail_hash CHAR(64) NOT NULL,
            size_seen BIGINT NOT NULL,
            path TEXT NOT NULL,
            reader_state TEXT NOT NULL,
            run_id BIGINT NOT NULL,
            PRIMARY KEY (label, head_len, head_hash)){tail}""",
    ]


class _SQLite(_Backend):
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"sqlite:///{path}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(path), timeout=60, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode").fetchone()  # opens the file: errors show here
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"{self.description}: cannot open the history database ({_one_line(exc)})") from None

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        return self.conn.execute(sql, tuple(args)).fetchall()

    def executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")  # the write lock now: two runs never interleave

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    def last_id(self) -> int:
        return int(self.conn.execute("SELECT last_insert_rowid()").fetchone()[0])

    def tables(self) -> set[str]:
        return {r[0] for r in self.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def ddl(self) -> list[str]:
        return _ddl("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB", "TEXT", "")


class _MySQL(_Backend):
    name = "mysql"

    def __init__(self, url: str) -> None:
        from analyzer.sources.db import ConnectionOptions, connect, parse_dsn, redact_dsn

        self.description = redact_dsn(url)
        if not parse_dsn(url).database:
            raise UsageError(f"--history {self.description}: name the database (mysql://user@host:port/DB)")
        self.server = connect(ConnectionOptions(dsn=url, statement_timeout=0), writable=True)
        self.conn = self.server.conn

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(self._sql(sql), tuple(args))
            return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cur.fetchall()]

    def executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self._sql(sql), rows)

    def begin(self) -> None:
        self.execute("START TRANSACTION")

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.rollback()

    def close(self) -> None:
        self.server.close()

    def last_id(self) -> int:
        return int(self.execute("SELECT LAST_INSERT_ID()")[0][0])

    def tables(self) -> set[str]:
        return {
            r[0]
            for r in self.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
        }

    def ddl(self) -> list[str]:
        return _ddl(
            "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
            "LONGBLOB",
            "VARCHAR(191)",
            " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        )


def default_path() -> Path:
    """Where ``--history`` without a URL keeps its SQLite file: ``$XDG_DATA_HOME/mqa`` (by default
    ``~/.local/share/mqa``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "mqa" / "history.sqlite"


def describe_url(url: str | None) -> str:
    """The URL as reports show it (a password never appears)."""
    if not url or url == "default":
        return f"sqlite:///{default_path()}"
    if url.startswith("mysql://"):
        from analyzer.sources.db import redact_dsn

        return redact_dsn(url)
    return url


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class HistoryStore:
    """Runs and their statistics in a SQLite or MySQL/MariaDB database.

    >>> store = HistoryStore.open("sqlite:////tmp/mqa-doctest-history.sqlite")  # doctest: +SKIP
    >>> store.runs(label="hourly")                                                # doctest: +SKIP
    """

    def __init__(self, backend: _Backend) -> None:
        self.db = backend
        self.description = backend.description
        self._migrate()

    @classmethod
    def open(cls, url: str | None) -> HistoryStore:
        """``None`` or ``"default"``: the SQLite file under the user's data directory;
        ``sqlite:///PATH``; ``mysql://user@host:port/db`` (passwords as for ``--dsn``)."""
        if not url or url == "default":
            return cls(_SQLite(default_path()))
        if url.startswith("sqlite:///"):
            return cls(_SQLite(Path(url[len("sqlite:///") :])))
        if url.startswith("sqlite://"):
            return cls(_SQLite(Path(url[len("sqlite://") :]).expanduser()))
        if url.startswith(("mysql://", "mariadb://")):
            return cls(_MySQL("mysql://" + url.split("://", 1)[1]))
        raise UsageError(
            f"--history {describe_url(url)!r}: give sqlite:///PATH or mysql://user@host:port/db (or no URL: "
            f"{default_path()})"
        )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema
    def _migrate(self) -> None:
        try:
            tables = self.db.tables()
            if "mqa_meta" in tables:
                row = self.db.execute("SELECT value FROM mqa_meta WHERE name = 'schema_version'")
                version = int(row[0][0]) if row else 0
                if version > SCHEMA_VERSION:
                    raise HistoryError(
                        f"{self.description}: history schema version {version} is newer than this mqa "
                        f"(version {SCHEMA_VERSION}): upgrade mqa"
                    )
                return  # version 1 is the first: nothing to migrate yet
            self.db.begin()
            try:
                for statement in self.db.ddl():
                    self.db.execute(statement)
                self.db.execute(
                    "INSERT INTO mqa_meta (name, value) VALUES (?, ?)", ("schema_version", str(SCHEMA_VERSION))
                )
                self.db.commit()
            except BaseException:
                self.db.rollback()
                raise
        except HistoryError:
            raise
        except Exception as exc:
            raise HistoryError(f"{self.description}: cannot create the history tables ({_one_line(exc)})") from None

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        try:
            yield
        except (HistoryError, InputError):
            raise
        except Exception as exc:
            raise HistoryError(f"{self.description}: cannot read {what} ({_one_line(exc)})") from None

    # ------------------------------------------------------------------ runs
    def runs(self, label: str | None = None, limit: int | None = None) -> list[RunInfo]:
        """Runs, newest first."""
        sql = f"SELECT {_RUN_COLUMNS} FROM mqa_runs"
        args: list[Any] = []
        if label is not None:
            sql += " WHERE label = ?"
            args.append(label)
        sql += " ORDER BY id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._reading("the runs"):
            return [_row(RunInfo, row) for row in self.db.execute(sql, args)]

    def run(self, run_id: int) -> RunInfo:
        with self._reading(f"run {run_id}"):
            rows = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM mqa_runs WHERE id = ?", (run_id,))
            if not rows:
                raise InputError(f"{self.description}: there is no run {run_id} (mqa history lists the runs)")
            return _row(RunInfo, rows[0])

    def latest(self, label: str, before: int | None = None) -> RunInfo | None:
        sql = f"SELECT {_RUN_COLUMNS} FROM mqa_runs WHERE label = ?"
        args: list[Any] = [label]
        if before is not None:
            sql += " AND id < ?"
            args.append(before)
        with self._reading("the runs"):
            rows = self.db.execute(sql + " ORDER BY id DESC LIMIT 1", args)
            return _row(RunInfo, rows[0]) if rows else None

    def labels(self) -> list[str]:
        with self._reading("the labels"):
            return [_str(r[0]) for r in self.db.execute("SELECT DISTINCT label FROM mqa_runs ORDER BY label")]

    def run_result(self, run_id: int) -> DigestResult:
        """The run's digest with every accumulator, as it was saved."""
        info = self.run(run_id)
        with self._reading(f"run {run_id}"):
            head = self.db.execute("SELECT sources, notes, totals, views FROM mqa_runs WHERE id = ?", (run_id,))[0]
            rows = self.db.execute("SELECT state FROM mqa_run_classes WHERE run_id = ?", (run_id,))
            sources = [source_from_value(s) for s in json.loads(head[0])]
            classes = [class_from_value(unpack(bytes(r[0]))) for r in rows]
            notes = json.loads(head[1])
            if type(notes) is not list or not all(type(n) is str for n in notes):
                raise ValueError("notes that are not a list of texts")
            result = DigestResult(info.mode, classes, sources, stats_from_value(unpack(bytes(head[2]))), 0.0, notes)
            if head[3] is not None:
                views_from_value(result, unpack(bytes(head[3])))
            return result

    def class_figures(self, run_ids: Sequence[int]) -> list[tuple]:
        """(run_id, class_id, calls, query_time, avg, p95, rows_examined, rows_sent) of the runs."""
        if not run_ids:
            return []
        marks = ",".join("?" * len(run_ids))
        with self._reading("the runs' classes"):
            rows = self.db.execute(
                "SELECT run_id, class_id, calls, query_time, avg_time, p95_time, rows_examined, rows_sent "
                f"FROM mqa_run_classes WHERE run_id IN ({marks}) AND admin = 0",
                list(run_ids),
            )
            return [tuple(_typed(row, _FIGURE_TYPES, "a class's figures")) for row in rows]

    def class_info(self, class_ids: Sequence[str] | None = None) -> dict[str, tuple[str, str, list[str]]]:
        """class id -> (fingerprint, kind, tables)."""
        sql = "SELECT class_id, fingerprint, kind, tables_json FROM mqa_classes"
        args: list[Any] = []
        if class_ids is not None:
            if not class_ids:
                return {}
            sql += f" WHERE class_id IN ({','.join('?' * len(class_ids))})"
            args = list(class_ids)
        with self._reading("the classes"):
            out = {}
            for r in self.db.execute(sql, args):
                tables = json.loads(r[3])
                if type(tables) is not list or not all(type(t) is str for t in tables):
                    raise ValueError("tables that are not a list of names")
                out[_str(r[0])] = (_str(r[1]), _str(r[2]), tables)
            return out

    def plans(self, run_id: int) -> dict[str, PlanFacts]:
        with self._reading(f"the plans of run {run_id}"):
            rows = self.db.execute(
                "SELECT class_id, key_name, access, plan_rows, table_name, statement FROM mqa_plans WHERE run_id = ?",
                (run_id,),
            )
            return {r[0]: _row(PlanFacts, r) for r in rows}

    def findings(self, run_id: int) -> list[FindingFacts]:
        with self._reading(f"the findings of run {run_id}"):
            rows = self.db.execute(
                "SELECT class_id, check_code, severity, message FROM mqa_findings WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
            return [_row(FindingFacts, r) for r in rows]

    def positions(self, label: str) -> list[Position]:
        with self._reading("the log positions"):
            rows = self.db.execute(
                "SELECT head_len, head_hash, read_to, tail_hash, size_seen, path, reader_state, run_id "
                "FROM mqa_positions WHERE label = ?",
                (label,),
            )
            return [_row(Position, (*r[:6], _reader_state(json.loads(r[6])), r[7])) for r in rows]

    # ------------------------------------------------------------------ writing
    def save_run(
        self,
        record: RunRecord,
        retention: Retention | None = None,
        before_commit: Callable[[int], None] | None = None,
    ) -> int:
        """Save a run in one transaction; returns its id.  ``before_commit(run_id)`` runs inside
        the transaction (the report files are written there, under the run's id); if it fails,
        nothing is saved.  Raises ``ConcurrentRunError`` (and saves nothing) when another run
        moved one of the positions this run started from."""
        result = record.result
        db = self.db
        try:
            db.begin()
        except Exception as exc:
            raise HistoryError(f"{self.description}: cannot start a transaction ({_one_line(exc)})") from None
        try:
            self._check_positions(record)
            totals = pack(stats_value(result.totals))
            db.execute(
                "INSERT INTO mqa_runs (label, started_at, finished_at, span_start, span_end, events, classes, "
                "query_time, mode, tool_version, command, sources, notes, totals, views) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.label,
                    record.started_at,
                    record.finished_at,
                    record.span[0],
                    record.span[1],
                    result.totals.count,
                    len(result.classes),
                    result.totals.total("query_time"),
                    result.mode,
                    record.tool_version,
                    record.command,
                    json.dumps([source_value(s) for s in result.sources]),
                    json.dumps(list(result.notes)),
                    totals,
                    pack(views_value(result)),
                ),
            )
            run_id = db.last_id()
            rows = []
            for c in result.classes:
                qt = c.stats.metrics.get("query_time")
                p95 = None
                if qt is not None and qt.has_distribution:
                    p95 = qt.quantile(0.95)
                elif c.distribution is not None and "query_time" in c.distribution.metrics:
                    p95 = c.distribution.metrics["query_time"].quantile(0.95)
                rows.append(
                    (
                        run_id,
                        c.id,
                        int(c.admin),
                        c.stats.count,
                        c.stats.total("query_time"),
                        qt.avg if qt is not None else None,
                        p95,
                        c.stats.total("rows_examined") if "rows_examined" in c.stats.metrics else None,
                        c.stats.total("rows_sent") if "rows_sent" in c.stats.metrics else None,
                        pack(class_value(c)),
                    )
                )
            if rows:
                db.executemany(
                    "INSERT INTO mqa_run_classes (run_id, class_id, admin, calls, query_time, avg_time, p95_time, "
                    "rows_examined, rows_sent, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            self._upsert_classes(result, run_id)
            if record.plans:
                db.executemany(
                    "INSERT INTO mqa_plans (run_id, class_id, table_name, key_name, access, plan_rows, statement) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (run_id, p.class_id, p.table, p.key, p.access, p.rows, p.statement)
                        for p in _unique_plans(record.plans)
                    ],
                )
            if record.findings:
                db.executemany(
                    "INSERT INTO mqa_findings (run_id, seq, class_id, check_code, severity, message) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(run_id, i, f.class_id, f.check, f.severity, f.message) for i, f in enumerate(record.findings)],
                )
            self._save_positions(record, run_id)
            if retention is not None:
                self._retain(record.label, retention, run_id)
            if before_commit is not None:
                before_commit(run_id)
            failpoint("history.commit")
            db.commit()
            return run_id
        except BaseException as exc:
            db.rollback()
            if isinstance(exc, (AnalyzerError, KeyboardInterrupt, SystemExit, OSError)):
                raise
            raise HistoryError(f"{self.description}: cannot save the run ({_one_line(exc)})") from None

    def _check_positions(self, record: RunRecord) -> None:
        """Every record this run moves or creates is as it was when the run began (no other run
        of the label read the same content meanwhile)."""
        stored = {p.key: (p.offset, p.run_id) for p in self.positions(record.label)}
        for p in [*record.started_from, *record.positions]:
            if stored.get(p.key) != record.known_positions.get(p.key):
                raise ConcurrentRunError(
                    f"{self.description}: another run of label {record.label!r} read {p.path} while this one ran; "
                    "this run is not saved (its events would be counted twice): run it again"
                )

    def _save_positions(self, record: RunRecord, run_id: int) -> None:
        db = self.db
        for p in record.started_from:
            db.execute(
                "DELETE FROM mqa_positions WHERE label = ? AND head_len = ? AND head_hash = ?",
                (record.label, p.head_len, p.head_hash),
            )
        for p in record.positions:
            db.execute(
                "DELETE FROM mqa_positions WHERE label = ? AND head_len = ? AND head_hash = ?",
                (record.label, p.head_len, p.head_hash),
            )
            db.execute(
                "INSERT INTO mqa_positions (label, head_len, head_hash, read_to, tail_hash, size_seen, path, "
                "reader_state, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.label,
                    p.head_len,
                    p.head_hash,
                    p.offset,
                    p.tail_hash,
                    p.size,
                    p.path,
                    json.dumps(p.state),
                    run_id,
                ),
            )

    def _upsert_classes(self, result: DigestResult, run_id: int) -> None:
        ids = sorted({c.id for c in result.classes})
        known: set[str] = set()
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            rows = self.db.execute(
                f"SELECT class_id FROM mqa_classes WHERE class_id IN ({','.join('?' * len(part))})", part
            )
            known.update(r[0] for r in rows)
        new = {}
        for c in result.classes:
            if c.id not in known and c.id not in new:
                new[c.id] = (c.id, c.fingerprint, c.info.kind, json.dumps(list(c.info.tables)), run_id, run_id)
        if new:
            self.db.executemany(
                "INSERT INTO mqa_classes (class_id, fingerprint, kind, tables_json, first_run, last_run) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                list(new.values()),
            )
        seen = [i for i in ids if i in known]
        for chunk in range(0, len(seen), 500):
            part = seen[chunk : chunk + 500]
            self.db.execute(
                f"UPDATE mqa_classes SET last_run = ? WHERE class_id IN ({','.join('?' * len(part))})", [run_id, *part]
            )

    def _retain(self, label: str, retention: Retention, newest: int) -> None:
        """Drop the label's runs that ``retention`` no longer keeps (never the new one)."""
        runs = self.db.execute("SELECT id, finished_at FROM mqa_runs WHERE label = ? ORDER BY id DESC", (label,))
        drop: list[int] = []
        if retention.runs is not None:
            drop += [r[0] for r in runs[retention.runs :]]
        if retention.seconds is not None:
            from datetime import datetime, timezone

            cutoff = time.time() - retention.seconds
            for run_id, finished in runs:
                when = datetime.fromisoformat(finished)
                if when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc)
                if when.timestamp() < cutoff and run_id != newest:
                    drop.append(run_id)
        drop = sorted(set(drop) - {newest})
        for chunk in range(0, len(drop), 500):
            part = drop[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            for table in ("mqa_run_classes", "mqa_plans", "mqa_findings"):
                self.db.execute(f"DELETE FROM {table} WHERE run_id IN ({marks})", part)
            self.db.execute(f"DELETE FROM mqa_runs WHERE id IN ({marks})", part)
        if drop:
            oldest = self.db.execute("SELECT MIN(id) FROM mqa_runs WHERE label = ?", (label,))[0][0]
            # positions no kept run has touched belong to logs rotated away long ago
            self.db.execute("DELETE FROM mqa_positions WHERE label = ? AND run_id < ?", (label, oldest))
            self.db.execute(
                "DELETE FROM mqa_classes WHERE NOT EXISTS "
                "(SELECT 1 FROM mqa_run_classes rc WHERE rc.class_id = mqa_classes.class_id)"
            )


_RUN_COLUMNS = (
    "id, label, started_at, finished_at, span_start, span_end, events, classes, query_time, mode, command, tool_version"
)


def _unique_plans(plans: list[PlanFacts]) -> list[PlanFacts]:
    seen: dict[str, PlanFacts] = {}
    for p in plans:
        seen.setdefault(p.class_id, p)
    return list(seen.values())


# --------------------------------------------------------------------------------------------
# Rows read back: each value checked for the type the report needs (a history database is input:
# a damaged one is an error naming it, never a traceback)
# --------------------------------------------------------------------------------------------


def _mapping(v: Any) -> dict[str, Any]:
    if type(v) is not dict:
        raise ValueError(f"not a mapping: {v!r}")
    return v


# The state codec's readers of stored values, by the annotation of the field they fill.
_READERS: dict[str, Callable[[Any], Any]] = {"int": _int, "str": _str, "float": _num, "dict[str, Any]": _mapping}
_FIGURE_TYPES = ("int", "str", "int", "float", "float | None", "float | None", "float | None", "float | None")


def _typed(row: Sequence[Any], types: Sequence[str], what: str) -> list[Any]:
    out = []
    for value, annotation in zip(row, types, strict=True):
        kinds = [k.strip() for k in annotation.split("|")]
        if value is None and "None" in kinds:
            out.append(None)
            continue
        try:
            out.append(_READERS[kinds[0]](value))
        except ValueError:
            raise ValueError(
                f"{what} holds {type(value).__name__} {str(value)[:40]!r} where {annotation} belongs"
            ) from None
    return out


_TIMES = frozenset({"span_start", "span_end"})  # epoch seconds: dates a report can show


def _row(cls: type, row: Sequence[Any]) -> Any:
    """A dataclass from a row whose values have its fields' types (and times in 1970-2199)."""
    fs = dataclasses.fields(cls)
    values = _typed(row, [str(f.type) for f in fs[: len(row)]], cls.__name__)
    for f, value in zip(fs, values):
        if f.name in _TIMES and value is not None and not plausible_time(value):
            raise ValueError(f"{cls.__name__}.{f.name} holds an impossible time {value!r}")
    return cls(*values)


_STATE_TYPES = {
    "last_db": "str | None",
    "last_ts": "float | None",
    "last_tz": "int | None",
    "naive_offset": "int | None",
    "server_version": "str | None",
    "lines": "int",
}


def _reader_state(state: Any) -> dict[str, Any]:
    """A stored log position's reader state, checked."""
    if type(state) is not dict:
        raise ValueError("a log position's reader state is not a mapping")
    for key, annotation in _STATE_TYPES.items():
        if key in state:
            _typed([state[key]], [annotation], f"a log position's {key}")
    last_ts = state.get("last_ts")
    if last_ts is not None and not plausible_time(last_ts):
        raise ValueError(f"a log position's last time is impossible: {last_ts!r}")
    for hint in _list(state.get("flavor_hints", [])):
        _str(hint)
    return state


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
