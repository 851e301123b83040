"""Sessions on a live MySQL / MariaDB / Percona server.

Every session mqa opens identifies itself (connection attribute ``program_name=mqa``), is
read-only (``SET SESSION TRANSACTION READ ONLY``) and has a statement time limit
(``max_execution_time`` on MySQL, ``max_statement_time`` on MariaDB).  What the server is
(flavour, version) becomes ``Capabilities`` that the rest of the library asks instead of
comparing version numbers itself.

How a session is reached (DSN, option files, login paths, TLS, passwords) is in
``ConnectionOptions`` and ``connect()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pymysql
import pymysql.cursors

from analyzer.errors import AnalyzerError


class DatabaseError(AnalyzerError):
    """A server could not be reached or used; the message says what to do."""


@dataclass(frozen=True)
class Capabilities:
    """What the server can do, as the rest of mqa needs to know it."""

    flavor: str  # "mysql", "mariadb" or "percona"
    version: tuple[int, int, int]
    version_text: str
    performance_schema: bool

    @property
    def is_mariadb(self) -> bool:
        return self.flavor == "mariadb"

    @property
    def digest_quantiles(self) -> bool:
        """QUANTILE_95/99/999 in events_statements_summary_by_digest (MySQL 8.0)."""
        return not self.is_mariadb and self.version >= (8, 0, 0)

    @property
    def query_sample_text(self) -> bool:
        """QUERY_SAMPLE_TEXT in the digest table (MySQL 8.0.3)."""
        return not self.is_mariadb and self.version >= (8, 0, 3)

    @property
    def digest_cpu_time(self) -> bool:
        """SUM_CPU_TIME in the digest table (MySQL 8.0.28)."""
        return not self.is_mariadb and self.version >= (8, 0, 28)

    @property
    def explain_analyze(self) -> bool:
        """EXPLAIN ANALYZE (MySQL 8.0.18); MariaDB has ANALYZE FORMAT=JSON instead."""
        return not self.is_mariadb and self.version >= (8, 0, 18)

    @property
    def invisible_indexes(self) -> bool:
        """INVISIBLE indexes and the use_invisible_indexes switch (MySQL 8.0)."""
        return not self.is_mariadb and self.version >= (8, 0, 0)

    @property
    def statement_time_variable(self) -> str:
        """The session variable that limits a statement's run time, and its unit."""
        return "max_statement_time" if self.is_mariadb else "max_execution_time"


_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def capabilities_of(version_text: str, version_comment: str = "", performance_schema: bool = True) -> Capabilities:
    """Capabilities from ``SELECT VERSION(), @@version_comment``.

    >>> capabilities_of("10.11.6-MariaDB-0+deb12u1").flavor
    'mariadb'
    >>> capabilities_of("8.0.36-28", "Percona Server (GPL), Release 28").flavor
    'percona'
    """
    text = f"{version_text} {version_comment}".lower()
    flavor = "mariadb" if "mariadb" in text else "percona" if "percona" in text else "mysql"
    m = _VERSION.search(version_text)
    version = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)
    return Capabilities(flavor, version, version_text, performance_schema)


class Server:
    """An open session on a server (read-only unless the caller explicitly asked otherwise).

    ``query()`` returns rows as dicts; every library module that talks to a server goes
    through it, so tests can check what was sent.
    """

    def __init__(self, conn: pymysql.connections.Connection, capabilities: Capabilities, description: str) -> None:
        self.conn = conn
        self.capabilities = capabilities
        self.description = description  # "user@host:port" (never with a password)

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        with self.conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def query_one(self, sql: str, args: Any = None) -> dict[str, Any] | None:
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def close(self) -> None:
        try:
            self.conn.close()
        except pymysql.MySQLError:
            pass

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_session(
    conn: pymysql.connections.Connection, description: str, *, statement_timeout: float | None = 30.0
) -> Server:
    """Turn a fresh connection into an mqa session: read-only, with a statement time limit."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION(), @@version_comment, @@performance_schema")
        version_text, comment, perf = cur.fetchone()
        caps = capabilities_of(version_text, comment or "", bool(int(perf)))
        cur.execute("SET SESSION TRANSACTION READ ONLY")
        if statement_timeout:
            if caps.is_mariadb:
                cur.execute("SET SESSION max_statement_time = %s", (float(statement_timeout),))
            else:
                cur.execute("SET SESSION max_execution_time = %s", (int(statement_timeout * 1000),))
    return Server(conn, caps, description)
