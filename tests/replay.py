"""Record a real server's answers once, answer the same questions from the recording later.

``RecordingServer(server)`` wraps an ``analyzer.sources.db.Server``: everything it is asked (``query``,
``select_db``) is passed on and written down with the answer (rows, or the error).  ``ReplayServer``
answers from such a recording, the same question with the same answer in the same order, and
fails loudly on a question the recording does not have: a behaviour change, not something to
paper over.  The golden tests (tests/test_golden.py) run the server commands against a replay, so
their JSON is the same on every run and on every machine, with or without a server.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import json
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql

from analyzer.sources.db import capabilities_of


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, raw),) = value.items()
            if tag == "$datetime":
                return dt.datetime.fromisoformat(raw)
            if tag == "$date":
                return dt.date.fromisoformat(raw)
            if tag == "$timedelta":
                return dt.timedelta(seconds=raw)
            if tag == "$decimal":
                return decimal.Decimal(raw)
            if tag == "$bytes":
                return base64.b64decode(raw)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _account(server: Any) -> str:
    """``Server.account``, asked through the wrapper so that it is recorded and replayed."""
    from analyzer.sources.db import _quote_account_part

    row = server.query_one("SELECT CURRENT_USER() AS account")
    user, _, host = str(row["account"] if row else "").rpartition("@")
    return f"{_quote_account_part(user)}@{_quote_account_part(host)}"


def _key(sql: str, args: Any) -> str:
    return json.dumps([sql, _encode(args)], sort_keys=True, default=str)


class _Conn:
    """The part of a PyMySQL connection the library touches directly."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner

    def select_db(self, name: str) -> None:
        self.owner._exchange("-- COM_INIT_DB", name)

    def thread_id(self) -> int:
        return int(self.owner.recording["connection_id"])


class RecordingServer:
    """An ``analyzer.sources.db.Server`` that writes down every question and answer."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.capabilities = server.capabilities
        self.description = server.description
        self.statement_timeout = server.statement_timeout
        self.warnings = list(server.warnings)
        self.recording: dict[str, Any] = {
            "version": server.capabilities.version_text,
            "comment": "Percona Server" if server.capabilities.flavor == "percona" else "",
            "performance_schema": server.capabilities.performance_schema,
            "description": server.description,
            "statement_timeout": server.statement_timeout,
            "connection_id": server.connection_id,
            "exchanges": [],
        }
        self.conn = _RecordingConn(self)

    def _exchange(self, sql: str, args: Any) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {"sql": sql, "args": _encode(args)}
        self.recording["exchanges"].append(entry)
        try:
            if sql == "-- COM_INIT_DB":
                self.server.conn.select_db(args)
                rows: list[dict[str, Any]] = []
            else:
                rows = self.server.query(sql, args)
        except pymysql.MySQLError as exc:
            entry["error"] = [exc.args[0] if exc.args else 0, str(exc.args[1]) if len(exc.args) > 1 else str(exc)]
            raise
        entry["rows"] = _encode(rows)
        return rows

    @property
    def connection_id(self) -> int:
        return self.server.connection_id

    @property
    def account(self) -> str:
        return _account(self)

    def translate_errors(self, purpose: str = "") -> Any:
        return self.server.translate_errors(purpose)

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        return self._exchange(sql, args)

    def query_one(self, sql: str, args: Any = None) -> dict[str, Any] | None:
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def close(self) -> None:
        self.server.close()

    def __enter__(self) -> RecordingServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.recording, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


class _RecordingConn(_Conn):
    def thread_id(self) -> int:
        return self.owner.server.connection_id


class ReplayServer:
    """Answers as the recorded server did; a question it was never asked is an AssertionError."""

    def __init__(self, recording: dict[str, Any]) -> None:
        self.recording = recording
        self.capabilities = capabilities_of(
            recording["version"], recording.get("comment", ""), recording.get("performance_schema", True)
        )
        self.description = recording["description"]
        self.statement_timeout = recording.get("statement_timeout")
        self.warnings: list[str] = []
        self.conn = _Conn(self)
        self.answers: dict[str, deque] = defaultdict(deque)
        for entry in recording["exchanges"]:
            self.answers[_key(entry["sql"], _decode(entry["args"]))].append(entry)
        self.asked: list[str] = []

    @classmethod
    def load(cls, path: Path) -> ReplayServer:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def _exchange(self, sql: str, args: Any) -> list[dict[str, Any]]:
        self.asked.append(sql)
        queue = self.answers.get(_key(sql, args))
        if not queue:
            raise AssertionError(f"the recording has no answer (left) for: {sql[:300]} {args!r}")
        entry = queue.popleft() if len(queue) > 1 else queue[0]  # the last answer stands for repeats
        if "error" in entry:
            code, message = entry["error"]
            raise pymysql.err.OperationalError(code, message)
        return _decode(entry["rows"])

    @property
    def connection_id(self) -> int:
        return int(self.recording["connection_id"])

    @property
    def account(self) -> str:
        return _account(self)

    @contextlib.contextmanager
    def translate_errors(self, purpose: str = "") -> Iterator[None]:
        from analyzer.sources.db import query_error

        try:
            yield
        except pymysql.MySQLError as exc:
            raise query_error(exc, self, purpose=purpose) from exc

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        return self._exchange(sql, args)

    def query_one(self, sql: str, args: Any = None) -> dict[str, Any] | None:
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def close(self) -> None:
        pass

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
