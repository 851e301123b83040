"""The real MySQL/MariaDB server the integration tests run against.

One server per test session, from the first of:

1. ``MQA_TEST_DSN`` (``mysql://user:password@host:port/`` or ``mysql://user@localhost/?socket=/path``):
   a server you run; tests need an account allowed to create databases and users;
2. a MySQL 8.0 container started with testcontainers, when a Docker engine answers;
3. a throwaway ``mariadbd``/``mysqld`` started in a temporary data directory
   (``sample_workloads/localserver.py``), with performance_schema, the slow log
   (``long_query_time=0``) and TCP on 127.0.0.1.

Without any of them a server test skips, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pymysql

MYSQL_IMAGE = "mysql:8.0"


@dataclass
class TestServer:
    """What a test knows about the server: how to reach it as an administrator, what it is,
    and (when it runs here) where its log files are."""

    __test__ = False  # not a test class, despite the name

    kind: str  # "dsn", "testcontainers" or "local"
    connect_args: dict[str, Any]  # pymysql.connect() keywords of an administrative account
    dsn: str  # the same account as an mqa DSN
    tcp_dsn: str | None = None  # the same account over TCP, when there is a port
    local: Any = None  # sample_workloads.localserver.LocalMariaDB when started here
    flavor: str = ""  # "mariadb" or "mysql"
    version: str = ""
    _closers: list = field(default_factory=list)

    def admin(self, database: str | None = None, **overrides: Any) -> pymysql.connections.Connection:
        """A new administrative connection (autocommit) for preparing what a test needs."""
        args = {**self.connect_args, "autocommit": True, "charset": "utf8mb4", **overrides}
        if database is not None:
            args["database"] = database
        return pymysql.connect(**args)

    def execute(self, *statements: str, database: str | None = None) -> list[tuple]:
        """Run statements as administrator; returns the rows of the last one."""
        conn = self.admin(database)
        try:
            rows: list[tuple] = []
            with conn.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
                    rows = list(cur.fetchall())
            return rows
        finally:
            conn.close()

    @property
    def slow_log_path(self) -> str | None:
        return self.local.slow_log_path if self.local is not None else None

    @property
    def general_log_path(self) -> str | None:
        return self.local.general_log_path if self.local is not None else None

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self._closers.clear()


class NoServer(Exception):
    """No way to get a server here; the message says what was tried."""


def connect_args_from_dsn(dsn: str) -> dict[str, Any]:
    """pymysql keywords for ``mysql://user:password@host:port/db?socket=/path``."""
    url = urlsplit(dsn)
    if url.scheme not in ("mysql", "mariadb"):
        raise NoServer(f"MQA_TEST_DSN must be a mysql:// URL, not {dsn.split(':', 1)[0]!r}")
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    args: dict[str, Any] = {"user": unquote(url.username or "root"), "password": unquote(url.password or "")}
    if "socket" in query:
        args["unix_socket"] = query["socket"]
    else:
        args["host"] = url.hostname or "127.0.0.1"
        args["port"] = url.port or 3306
    return args


def _from_dsn(dsn: str) -> TestServer:
    args = connect_args_from_dsn(dsn)
    server = TestServer("dsn", args, dsn)
    if "host" in args:
        server.tcp_dsn = dsn
    return server


def _docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:  # no client library, no socket, no engine: all mean "no Docker here"
        return False


def _from_container() -> TestServer:
    from testcontainers.mysql import MySqlContainer

    container = MySqlContainer(MYSQL_IMAGE, username="root", password="mqa-test", dbname="mysql")
    container.with_command(
        "--performance-schema=ON --slow-query-log=ON --long-query-time=0 --log-slow-extra=ON "
        "--performance-schema-consumer-events-statements-history-long=ON"
    )
    container.start()
    host, port = container.get_container_host_ip(), int(container.get_exposed_port(3306))
    args = {"host": host, "port": port, "user": "root", "password": "mqa-test"}
    dsn = f"mysql://root:mqa-test@{host}:{port}/"
    server = TestServer("testcontainers", args, dsn, tcp_dsn=dsn)
    server._closers.append(container.stop)
    return server


def _local() -> TestServer:
    from sample_workloads.localserver import LocalMariaDB, LocalServerError, server_binaries

    try:
        server_binaries()
    except LocalServerError as exc:
        raise NoServer(f"no MQA_TEST_DSN, no Docker engine, and no local server binary ({exc})") from None
    # A throwaway server: no fsync per commit, so a test's timings measure queries, not the disk
    # (a replay's COMMIT p95 swings tenfold with the disk's other writers otherwise).
    local = LocalMariaDB(
        tcp=True,
        log_slow_verbosity="query_plan,explain",
        long_query_time=0,
        options={"innodb_flush_log_at_trx_commit": 2, "sync_binlog": 0},
    )
    args = {"unix_socket": local.socket, "user": "root", "password": ""}
    server = TestServer("local", args, local.dsn(), tcp_dsn=local.dsn(tcp=True), local=local)
    server._closers.append(local.stop)
    return server


def start_test_server() -> TestServer:
    """The session's server, from the first source that works (see the module docstring)."""
    dsn = os.environ.get("MQA_TEST_DSN")
    if dsn:
        server = _from_dsn(dsn)
    elif _docker_answers():
        server = _from_container()
    else:
        server = _local()
    try:
        row = server.execute("SELECT VERSION()")[0]
    except pymysql.MySQLError as exc:
        server.close()
        raise NoServer(f"the {server.kind} server does not answer: {exc}") from None
    server.version = row[0]
    server.flavor = "mariadb" if "mariadb" in row[0].lower() else "mysql"
    return server


def session(server: TestServer, **overrides: Any):
    """An mqa session (``analyzer.sources.db.Server``: read-only, time-limited) on the test server as
    administrator, for library tests that do not go through the connection options."""
    from analyzer.sources.db import open_session

    conn = server.admin(**overrides)
    return open_session(conn, f"{server.kind} test server")


@dataclass
class LoggedStatement:
    user: str
    thread_id: int
    command: str  # "Query", "Connect", "Quit", "Init DB", ...
    text: str


class GeneralLog:
    """The server's general query log between ``start()`` and ``stop()``, read from the
    ``mysql.general_log`` table (so it works for local and remote test servers alike)."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.entries: list[LoggedStatement] = []
        self._saved: tuple[str, str] | None = None

    def start(self) -> GeneralLog:
        output, enabled = self.server.execute("SELECT @@GLOBAL.log_output, @@GLOBAL.general_log")[0]
        self._saved = (output, str(enabled))
        outputs = {o for o in str(output).upper().split(",") if o and o != "NONE"}
        self.server.execute(
            "TRUNCATE TABLE mysql.general_log",
            f"SET GLOBAL log_output = '{','.join(sorted(outputs | {'TABLE'}))}'",
            "SET GLOBAL general_log = ON",
        )
        return self

    def stop(self) -> list[LoggedStatement]:
        assert self._saved is not None, "start() first"
        self.server.execute("SET GLOBAL general_log = OFF")
        rows = self.server.execute(
            "SELECT user_host, thread_id, command_type, CONVERT(argument USING utf8mb4) FROM mysql.general_log "
            "ORDER BY event_time"
        )
        output, enabled = self._saved
        self.server.execute(
            f"SET GLOBAL log_output = '{output}'",
            f"SET GLOBAL general_log = {'ON' if enabled in ('1', 'ON') else 'OFF'}",
        )
        self.entries = [
            LoggedStatement(str(user_host).split("[", 1)[0], int(thread), str(command), text or "")
            for user_host, thread, command, text in rows
        ]
        return self.entries

    def statements_of(self, user: str) -> list[LoggedStatement]:
        """What the connections of ``user`` sent, in order (Connect and Quit lines included)."""
        threads = {e.thread_id for e in self.entries if e.command == "Connect" and e.text.startswith(f"{user}@")}
        return [e for e in self.entries if e.thread_id in threads]

    def __enter__(self) -> GeneralLog:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def fresh_database(server: TestServer, name: str) -> Iterator[str]:
    """A new, empty database for one test, dropped at the end whatever happens."""
    server.execute(f"DROP DATABASE IF EXISTS `{name}`", f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        server.execute(f"DROP DATABASE IF EXISTS `{name}`")


@contextlib.contextmanager
def slow_log_written(server: TestServer, into: Path) -> Iterator[Path]:
    """What the local test server writes to its slow log while the block runs, copied to ``into``
    when the block ends (``long_query_time=0``: every statement of that time)."""
    slow_log = Path(server.slow_log_path)
    start = slow_log.stat().st_size
    yield into
    with open(slow_log, "rb") as handle:
        handle.seek(start)
        into.write_bytes(handle.read())


_READ_STATEMENT = re.compile(
    r"\s*(?:/\*.*?\*/\s*)*(?:SELECT|SHOW|EXPLAIN|DESCRIBE|DESC|WITH)\b"
    r"|\s*ANALYZE\s+FORMAT\s*=\s*JSON\s+(?:SELECT|WITH|\()"  # MariaDB's ANALYZE of a SELECT runs a read
    r"|\s*SET\s+(?!GLOBAL\b|PERSIST\b|PERSIST_ONLY\b|@@GLOBAL\.|@@PERSIST)",
    re.IGNORECASE | re.DOTALL,
)


def is_read(statement: str) -> bool:
    """A statement that reads, or sets a session variable: what a read-only tool may send."""
    return _READ_STATEMENT.match(statement) is not None
