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

import contextlib
import getpass
import os
import re
import socket
import ssl
import stat
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pymysql
import pymysql.cursors

from analyzer.errors import AnalyzerError


class DatabaseError(AnalyzerError):
    """A server could not be reached or used; the message says what to do."""


class ConnectionOptionsError(DatabaseError):
    """A DSN, option file, login path file or connection option cannot be used."""


class AccessDeniedError(DatabaseError):
    """The server refused the account (wrong password, unknown user, host not allowed)."""


class UnreachableError(DatabaseError):
    """No server answered at the address (refused, unknown host, timeout, missing socket)."""


class TLSError(DatabaseError):
    """The TLS handshake failed, or the server cannot do the TLS the ssl-mode requires."""


class UnknownDatabaseError(DatabaseError):
    """The database to connect to does not exist (or the account may not see it)."""


class ServerGoneError(DatabaseError):
    """The server closed the connection."""


class PrivilegeError(DatabaseError):
    """The account lacks a privilege; the message names it and the GRANT that fixes it."""


class StatementTimeoutError(DatabaseError):
    """A statement ran into the session's statement time limit."""


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
        self.statement_timeout: float | None = None  # seconds; set by open_session()
        self.warnings: list[str] = []  # from connect(): option files ignored, TLS settings that do nothing
        self._account: str | None = None

    @property
    def connection_id(self) -> int:
        """This session's id on the server (``CONNECTION_ID()``, the slow log's Thread_id / Id)."""
        return int(self.conn.thread_id())

    @property
    def account(self) -> str:
        """The account the server matched, quoted for a GRANT: ``'mqa'@'%'`` (from ``CURRENT_USER()``)."""
        if self._account is None:
            row = self.query_one("SELECT CURRENT_USER() AS account")
            user, _, host = str(row["account"] if row else "").rpartition("@")
            self._account = f"{_quote_account_part(user)}@{_quote_account_part(host)}"
        return self._account

    @contextlib.contextmanager
    def translate_errors(self, purpose: str = "") -> Iterator[None]:
        """Turn server errors inside the block into one-line ``DatabaseError``s.

        ``purpose`` says what the statements are for ("read statement digests"); a missing
        privilege becomes a ``PrivilegeError`` naming the GRANT that fixes it::

            with server.translate_errors("read statement digests"):
                rows = server.query("SELECT ... FROM performance_schema.events_statements_summary_by_digest")
        """
        try:
            yield
        except pymysql.MySQLError as exc:
            raise query_error(exc, self, purpose=purpose) from exc

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
    conn: pymysql.connections.Connection,
    description: str,
    *,
    statement_timeout: float | None = 30.0,
    read_only: bool = True,
) -> Server:
    """Turn a fresh connection into an mqa session: read-only (unless the caller must write, and
    says so), with a statement time limit."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION(), @@version_comment, @@performance_schema")
        version_text, comment, perf = cur.fetchone()
        caps = capabilities_of(version_text, comment or "", bool(int(perf)))
        if read_only:
            cur.execute("SET SESSION TRANSACTION READ ONLY")
        if statement_timeout:
            if caps.is_mariadb:
                cur.execute("SET SESSION max_statement_time = %s", (float(statement_timeout),))
            else:
                cur.execute("SET SESSION max_execution_time = %s", (int(statement_timeout * 1000),))
    server = Server(conn, caps, description)
    server.statement_timeout = float(statement_timeout) if statement_timeout else None
    return server


# --------------------------------------------------------------------------------------------
# Connection options
# --------------------------------------------------------------------------------------------

SSL_MODES = ("DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")
DEFAULT_STATEMENT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_PORT = 3306
#: Seconds the client waits for a result beyond the statement time limit before giving up.
READ_TIMEOUT_MARGIN = 30.0
#: Option-file groups mqa reads, weakest first: ``[mqa]`` overrides ``[client]``.
OPTION_GROUPS = ("client", "mqa")
#: Where a MySQL or MariaDB server usually puts its socket (Debian/Ubuntu, RHEL, tarballs, macOS).
DEFAULT_SOCKETS = (
    "/run/mysqld/mysqld.sock",
    "/var/run/mysqld/mysqld.sock",
    "/var/lib/mysql/mysql.sock",
    "/tmp/mysql.sock",
)
DSN_FORMS = (
    "mysql://user[:password]@host[:port]/[database][?ssl-mode=...&ssl-ca=...] or mysql:///[database]?socket=/path"
)
_DSN_SCHEMES = ("mysql", "mariadb")
_PROTOCOLS = ("tcp", "socket")


@dataclass(repr=False)
class ConnectionOptions:
    """How to reach a server, as the ``mysql`` client takes it; ``connect()`` resolves the rest.

    Fields left ``None`` come from, strongest first: the DSN, the login path
    (``--login-path`` in ``~/.mylogin.cnf``), option files (``[mqa]`` over ``[client]``), the
    environment (``MYSQL_HOST``, ``MYSQL_TCP_PORT``, ``MYSQL_UNIX_PORT``, ``MYSQL_PWD``), and
    the client's defaults (the Unix socket for ``localhost``, port 3306, the login name).
    ``statement_timeout`` and ``connect_timeout`` are seconds (``None``: 30 and 10, unless the
    DSN or the ``[mqa]`` group says otherwise; a statement timeout of 0 means no limit).
    The password never appears in ``repr()``.

    >>> ConnectionOptions(dsn="mysql://app:s3cret@db.example/shop", password="typed")
    ConnectionOptions(dsn='mysql://app:***@db.example/shop', password='***')
    """

    dsn: str | None = None
    defaults_file: str | None = None
    defaults_extra_file: str | None = None
    login_path: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    socket: str | None = None
    database: str | None = None
    protocol: str | None = None  # "tcp" or "socket", as mysql --protocol
    ssl_mode: str | None = None
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    statement_timeout: float | None = None
    connect_timeout: float | None = None
    no_defaults: bool = False

    def __repr__(self) -> str:
        parts = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None or (name == "no_defaults" and not value):
                continue
            if name == "password":
                value = "***"
            elif name == "dsn":
                value = redact_dsn(value)
            parts.append(f"{name}={value!r}")
        return f"ConnectionOptions({', '.join(parts)})"

    __str__ = __repr__


def redact_dsn(dsn: str) -> str:
    """The DSN with its password replaced by ``***`` (safe to show in messages and logs).

    >>> redact_dsn("mysql://app:p%40ss@db:3306/shop")
    'mysql://app:***@db:3306/shop'
    >>> redact_dsn("mysql://db:3306/shop"), redact_dsn("mysql://app:secret/shop")
    ('mysql://db:3306/shop', 'mysql://app:***')
    """
    scheme, sep, rest = dsn.partition("://")
    if not sep:
        scheme, rest = "", dsn
    netloc_end = len(rest)
    for ch in "/?#":
        pos = rest.find(ch)
        if pos >= 0:
            netloc_end = min(netloc_end, pos)
    at = rest.rfind("@", 0, netloc_end)
    if at < 0:
        # An unescaped "/", "?" or "#" in the password ends the netloc early; any "@" then
        # still marks credentials, so hide everything before the last one.
        at = rest.rfind("@")
        if at < 0:
            # No "@": "host:port" unless what follows the ":" is not a port, which is then
            # taken for a password typed without its host (mysql://app:secret): hidden, with
            # everything after it.
            colon = rest.find(":", 0, netloc_end)
            if colon < 0 or rest[colon + 1 : netloc_end].isdigit():
                return dsn
            return f"{scheme}{sep}{rest[:colon]}:***"
    userinfo = rest[:at]
    if ":" not in userinfo:
        return dsn
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***{rest[at:]}"


# --------------------------------------------------------------------------------------------
# DSN URLs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class DsnParts:
    """What a DSN URL says; ``None`` where it says nothing."""

    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    socket: str | None = None
    database: str | None = None
    ssl_mode: str | None = None
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    connect_timeout: float | None = None
    statement_timeout: float | None = None

    def __repr__(self) -> str:
        shown = {
            k: ("***" if k == "password" else v)
            for k in self.__dataclass_fields__
            if (v := getattr(self, k)) is not None
        }
        return "DsnParts(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


_DSN_QUERY_KEYS = {
    "socket",
    "ssl-mode",
    "ssl-ca",
    "ssl-cert",
    "ssl-key",
    "connect-timeout",
    "statement-timeout",
    "database",
}


def parse_dsn(dsn: str) -> DsnParts:
    """Parse ``mysql://user:password@host:port/db?ssl-mode=...&ssl-ca=...&socket=/path``.

    Also ``mariadb://``, ``mysql:///db?socket=/path`` (the socket form), a percent-encoded
    socket path as the host (``mysql://root@%2Frun%2Fmysqld%2Fmysqld.sock/db``) and a bare
    absolute socket path. User, password, database and socket are percent-decoded. A DSN that
    cannot be used raises ``ConnectionOptionsError`` whose message shows the expected form.

    >>> parse_dsn("mysql://app:p%40ss@db.example:3307/shop?ssl-mode=required").port
    3307
    """
    if dsn.startswith("/"):
        return DsnParts(socket=dsn)
    shown = redact_dsn(dsn)

    def bad(problem: str) -> ConnectionOptionsError:
        return ConnectionOptionsError(f"bad DSN {shown!r}: {problem}; expected {DSN_FORMS}")

    if "://" not in dsn:
        raise bad("no scheme")
    scheme = dsn.split("://", 1)[0].lower()
    if scheme not in _DSN_SCHEMES:
        raise bad(f"the scheme must be mysql:// or mariadb://, not {scheme}://")
    try:
        url = urlsplit(dsn)
        port = url.port
        hostname = url.hostname
    except ValueError as exc:
        reason = (
            "the port must be a number from 1 to 65535 (a '/', '?' or '#' in the password must be percent-encoded)"
            if "port" in str(exc).lower()
            # the parser's own words quote the text around the host, the password included
            else "the host is neither a name nor an address (an IPv6 address goes in brackets: [::1])"
        )
        raise bad(reason) from None
    if url.fragment:
        raise bad("a '#' must be percent-encoded (%23)")
    if port == 0:
        raise bad("the port must be a number from 1 to 65535")
    path = url.path.removeprefix("/")
    if "/" in path:
        raise bad("the path is one database name (a '/' inside it must be %2F)")
    database = unquote(path) or None
    query: dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        norm = key.strip().lower().replace("_", "-")
        if norm not in _DSN_QUERY_KEYS:
            known = ", ".join(sorted(_DSN_QUERY_KEYS))
            raise bad(f"unknown option {key!r} (known: {known})")
        query[norm] = value
    host: str | None = None
    socket_path = query.get("socket") or None
    if url.netloc.rpartition("@")[2].startswith("%2F") or url.netloc.rpartition("@")[2].startswith("%2f"):
        socket_path = socket_path or unquote(url.netloc.rpartition("@")[2])
    elif hostname:
        raw_host = url.netloc.rpartition("@")[2]  # urlsplit lower-cases .hostname; keep what was typed
        host = hostname if raw_host.startswith("[") else (unquote(raw_host.split(":", 1)[0]) or None)
    ssl_mode = query.get("ssl-mode") or None
    if ssl_mode is not None:
        ssl_mode = ssl_mode.upper().replace("-", "_")
        if ssl_mode not in SSL_MODES:
            raise bad(f"ssl-mode must be one of {', '.join(SSL_MODES)}")
    timeouts: dict[str, float | None] = {}
    for key in ("connect-timeout", "statement-timeout"):
        if key in query:
            try:
                timeouts[key] = float(query[key])
            except ValueError:
                raise bad(f"{key} must be a number of seconds") from None
    return DsnParts(
        user=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password is not None else None,
        host=host,
        port=port,
        socket=socket_path,
        database=query.get("database") or database,
        ssl_mode=ssl_mode,
        ssl_ca=query.get("ssl-ca") or None,
        ssl_cert=query.get("ssl-cert") or None,
        ssl_key=query.get("ssl-key") or None,
        connect_timeout=timeouts.get("connect-timeout"),
        statement_timeout=timeouts.get("statement-timeout"),
    )


# --------------------------------------------------------------------------------------------
# Option files, read the way the mysql client reads them (mysys/my_default.c)
# --------------------------------------------------------------------------------------------

_SPACE = " \t\n\r\v\f"  # my_isspace() in latin1
_MAX_INCLUDE_DEPTH = 10  # the client's max_recursion_level
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "s": " ", '"': '"', "'": "'", "\\": "\\"}


@dataclass(frozen=True, repr=False)
class OptionEntry:
    """One option line of a group mqa reads: ``key`` as written, ``value`` None for a bare key."""

    group: str  # the group as mqa asked for it ("client", "mqa", a login path)
    key: str
    value: str | None
    source: str  # the file
    line: int

    @property
    def name(self) -> str:
        """The option name as the client compares it: lower case, ``_`` as ``-``."""
        return self.key.lower().replace("_", "-")

    def __repr__(self) -> str:
        value = "***" if self.name == "password" and self.value is not None else self.value
        return f"OptionEntry({self.group!r}, {self.key!r}, {value!r}, {self.source!r}, line {self.line})"


@dataclass
class OptionFiles:
    """What a set of option files says for some groups, in the order the client reads it."""

    entries: list[OptionEntry] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file read, includes too
    warnings: list[str] = field(default_factory=list)

    def as_arguments(self) -> list[str]:
        """``--key=value`` lines as ``my_print_defaults`` prints them."""
        return [f"--{e.key}" if e.value is None else f"--{e.key}={e.value}" for e in self.entries]

    def merged(self, groups: Iterable[str] = OPTION_GROUPS) -> dict[str, OptionEntry]:
        """The winning entry per option name: a later group in ``groups`` beats an earlier one
        (``[mqa]`` over ``[client]``); within a group the last one read wins."""
        rank = {g.lower(): i for i, g in enumerate(groups)}
        ordered = sorted(
            (e for e in self.entries if e.group in rank),
            key=lambda e: rank[e.group],  # stable: keeps reading order within a group
        )
        return {e.name: e for e in ordered}


def _remove_end_comment(line: str) -> str:
    """Cut a ``#`` comment that is not inside quotes (my_default.c ``remove_end_comment``)."""
    quote = ""
    escape = False
    for i, ch in enumerate(line):
        if ch in "'\"" and not escape:
            if not quote:
                quote = ch
            elif quote == ch:
                quote = ""
        if not quote and ch == "#":
            return line[:i]
        escape = bool(quote) and ch == "\\" and not escape
    return line


def _unquote_option_value(value: str) -> str:
    value = value.strip(_SPACE)
    if len(value) > 1 and value[0] in "'\"" and value[-1] == value[0]:
        value = value[1:-1]
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i < len(value) - 1:
            i += 1
            nxt = value[i]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def display_path(path: str) -> str:
    """A path as messages show it: the home directory as ``~``."""
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


class _OptionFileReader:
    def __init__(self, groups: Iterable[str]) -> None:
        self.groups = {g.lower() for g in groups}
        self.result = OptionFiles()

    def read_file(self, path: str, *, required: bool, depth: int = 0) -> None:
        try:
            info = os.stat(path)
        except (OSError, ValueError) as exc:  # ValueError: a NUL or unencodable character in the name
            if required:
                raise ConnectionOptionsError(
                    f"cannot read option file {display_path(path)}: {getattr(exc, 'strerror', None) or exc}"
                ) from None
            return
        if not stat.S_ISREG(info.st_mode):
            if required:
                raise ConnectionOptionsError(f"option file {display_path(path)} is not a regular file")
            return
        if info.st_mode & stat.S_IWOTH:
            self.result.warnings.append(
                f"world-writable option file {display_path(path)} is ignored, as the mysql client does "
                f"(chmod o-w {display_path(path)})"
            )
            return
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except (OSError, ValueError) as exc:
            if required:
                raise ConnectionOptionsError(
                    f"cannot read option file {display_path(path)}: {getattr(exc, 'strerror', None) or exc}"
                ) from None
            return
        self.read_text(data.decode("utf-8", "surrogateescape"), path, depth=depth)

    def read_text(self, text: str, source: str, *, depth: int = 0) -> None:
        self.result.files.append(source)
        found_group = False
        group: str | None = None
        for number, raw in enumerate(text.split("\n"), start=1):
            line = raw.lstrip(_SPACE)
            if not line or line[0] in "#;":
                continue
            where = f"{display_path(source)}:{number}"
            if line[0] == "!":
                self._directive(line, where, source, depth)
                continue
            if line[0] == "[":
                end = line.find("]")
                if end < 0:
                    raise ConnectionOptionsError(f"{where}: bad group line {line.strip(_SPACE)!r} (no closing ])")
                found_group = True
                name = line[1:end].rstrip(_SPACE).lower()
                group = name if name in self.groups else None
                continue
            if not found_group:
                raise ConnectionOptionsError(f"{where}: option outside any [group]")
            if group is None:
                continue
            body = _remove_end_comment(line)
            key, eq, value = body.partition("=")
            key = key.rstrip(_SPACE)
            if not key:
                continue
            self.result.entries.append(
                OptionEntry(group, key, _unquote_option_value(value) if eq else None, source, number)
            )

    def _directive(self, line: str, where: str, source: str, depth: int) -> None:
        if depth >= _MAX_INCLUDE_DEPTH:
            self.result.warnings.append(f"{where}: {line.strip(_SPACE)} skipped: includes nested too deeply")
            return
        rest = line[1:].lstrip(_SPACE)
        for keyword in ("includedir", "include"):
            if rest.startswith(keyword) and (len(rest) == len(keyword) or rest[len(keyword)] in _SPACE):
                argument = rest[len(keyword) :].strip(_SPACE)
                break
        else:
            return  # unknown directives are ignored, as by the client
        if not argument:
            raise ConnectionOptionsError(f"{where}: !{keyword} without a file name")
        if keyword == "include":
            # A missing included file is skipped silently, as by the client.
            self.read_file(argument, required=False, depth=depth + 1)
            return
        try:
            names = os.listdir(os.fsencode(argument))
        except (OSError, ValueError) as exc:
            raise ConnectionOptionsError(
                f"{where}: cannot read directory {argument} (!includedir): {getattr(exc, 'strerror', None) or exc}"
            ) from None
        for name in sorted(names):  # bytes: the client sorts with strcmp()
            if name.endswith(b".cnf"):
                path = os.path.join(argument, os.fsdecode(name))
                if os.path.isfile(path):
                    self.read_file(path, required=False, depth=depth + 1)


def read_option_files(
    paths: Iterable[str], groups: Iterable[str] = OPTION_GROUPS, *, required: Iterable[str] = ()
) -> OptionFiles:
    """Read option files as the mysql client does and keep the lines of ``groups``.

    ``!include FILE`` (a missing file is skipped), ``!includedir DIR`` (its ``*.cnf`` files in
    ``strcmp`` order; a missing directory is an error), ``[group]`` names compared without
    regard to case, ``#``/``;`` comment lines, ``#`` comments after a value unless quoted,
    ``key``, ``key=value`` and ``key = value``, one pair of matching quotes removed, backslash
    escapes (``\\n \\t \\r \\b \\s \\" \\' \\\\``), world-writable files ignored (with a
    warning). Files in ``required`` must exist; others are skipped when missing.
    ``OptionFiles.merged()`` gives the winning value per option.
    """
    reader = _OptionFileReader(groups)
    must = set(required)
    for path in paths:
        reader.read_file(path, required=path in must)
    return reader.result


def default_option_files(environ: Mapping[str, str] | None = None, *, extra_file: str | None = None) -> list[str]:
    """The option files the client reads, in order: ``/etc/my.cnf``, ``/etc/mysql/my.cnf``,
    ``$MYSQL_HOME/my.cnf`` (``$MARIADB_HOME`` first), ``--defaults-extra-file``, ``~/.my.cnf``."""
    env = os.environ if environ is None else environ
    files = ["/etc/my.cnf", "/etc/mysql/my.cnf"]
    home_dir = env.get("MARIADB_HOME") or env.get("MYSQL_HOME")
    if home_dir:
        files.append(os.path.join(home_dir, "my.cnf"))
    if extra_file:
        files.append(extra_file)
    files.append(os.path.join(_home(env), ".my.cnf"))
    return files


def _home(env: Mapping[str, str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


# --------------------------------------------------------------------------------------------
# Login paths: ~/.mylogin.cnf written by mysql_config_editor
# --------------------------------------------------------------------------------------------

_LOGIN_HEADER = 4 + 20  # 4 unused bytes, then the 20-byte key


def login_file_path(environ: Mapping[str, str] | None = None) -> str:
    """``$MYSQL_TEST_LOGIN_FILE``, else ``~/.mylogin.cnf``."""
    env = os.environ if environ is None else environ
    return env.get("MYSQL_TEST_LOGIN_FILE") or os.path.join(_home(env), ".mylogin.cnf")


def decrypt_login_file(data: bytes, source: str = ".mylogin.cnf") -> str:
    """The text of a ``mysql_config_editor`` login path file.

    Format: 4 unused bytes, a 20-byte key, then for each line a little-endian 4-byte length
    and that many bytes of AES-128-ECB cipher text (PKCS#7 padding). The AES key is the 20
    bytes folded into 16 by XOR (``key[i % 16] ^= file_key[i]``), as MySQL's
    ``my_aes_create_key``. Needs the ``cryptography`` package.
    """
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:  # pragma: no cover - cryptography is a dependency
        raise ConnectionOptionsError(
            f"reading {display_path(source)} needs the 'cryptography' package: pip install cryptography"
        ) from None
    if len(data) < _LOGIN_HEADER:
        raise ConnectionOptionsError(f"{display_path(source)} is not a login path file (too short)")
    aes_key = bytearray(16)
    for i, byte in enumerate(data[4:_LOGIN_HEADER]):
        aes_key[i % 16] ^= byte
    cipher = Cipher(algorithms.AES(bytes(aes_key)), modes.ECB())
    pos = _LOGIN_HEADER
    lines = []
    while pos + 4 <= len(data):
        (length,) = struct.unpack_from("<i", data, pos)
        pos += 4
        if length <= 0 or length % 16 or pos + length > len(data):
            raise ConnectionOptionsError(
                f"{display_path(source)} is not a valid login path file (bad line length at byte {pos - 4}): "
                "recreate it with mysql_config_editor"
            )
        decryptor = cipher.decryptor()
        plain = decryptor.update(data[pos : pos + length]) + decryptor.finalize()
        pos += length
        pad = plain[-1]
        if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
            raise ConnectionOptionsError(
                f"{display_path(source)} is not a valid login path file (it does not decrypt): "
                "recreate it with mysql_config_editor"
            )
        lines.append(plain[:-pad])
    return b"".join(lines).decode("utf-8", "surrogateescape")


def read_login_file(path: str, groups: Iterable[str]) -> OptionFiles:
    """The lines of ``groups`` in a login path file (see ``decrypt_login_file``). A file that
    others may read is ignored with a warning, as the client does."""
    reader = _OptionFileReader(groups)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ConnectionOptionsError(f"cannot read {display_path(path)}: {exc.strerror or exc}") from None
    if info.st_mode & (stat.S_IXUSR | stat.S_IRWXG | stat.S_IRWXO):
        reader.result.warnings.append(
            f"{display_path(path)} is ignored: it must be readable and writable only by you "
            f"(chmod 600 {display_path(path)})"
        )
        return reader.result
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConnectionOptionsError(f"cannot read {display_path(path)}: {exc.strerror or exc}") from None
    reader.read_text(decrypt_login_file(data, path), path)
    return reader.result


# --------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsSettings:
    """TLS as ``--ssl-mode`` and the ``--ssl-*`` files ask for it.

    ``DISABLED``: no TLS. ``PREFERRED``: TLS when the server offers it, no verification,
    plain otherwise (PyMySQL's default). ``REQUIRED``: TLS or fail, no verification.
    ``VERIFY_CA``: TLS, the server certificate must chain to ``ca`` (the system's CAs when
    no ``ca`` is given), any host name. ``VERIFY_IDENTITY``: as VERIFY_CA and the certificate
    must name the host connected to. ``cert``/``key`` are the client certificate (for
    accounts ``REQUIRE X509``) in every mode but DISABLED.
    """

    mode: str = "PREFERRED"
    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    def context(self) -> ssl.SSLContext | None:
        """The ``ssl.SSLContext`` of this mode (None for DISABLED and for plain PREFERRED)."""
        if self.mode == "DISABLED" or (self.mode == "PREFERRED" and not self.cert):
            return None
        verify = self.mode in ("VERIFY_CA", "VERIFY_IDENTITY")
        try:
            if verify:
                ctx = ssl.create_default_context(cafile=self.ca)
                ctx.check_hostname = self.mode == "VERIFY_IDENTITY"
                ctx.verify_mode = ssl.CERT_REQUIRED
            else:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
        except (OSError, ssl.SSLError) as exc:
            raise ConnectionOptionsError(f"cannot load --ssl-ca {self.ca}: {_reason(exc)}") from None
        # Python 3.13 turns on strict X.509 checks that the certificates MySQL generates for
        # itself fail (PyMySQL relaxes them the same way).
        ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
        if self.cert:
            try:
                ctx.load_cert_chain(self.cert, keyfile=self.key)
            except (OSError, ssl.SSLError) as exc:
                raise ConnectionOptionsError(
                    f"cannot load --ssl-cert {self.cert}"
                    + (f" / --ssl-key {self.key}" if self.key else "")
                    + f": {_reason(exc)}"
                ) from None
        return ctx

    def pymysql_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``pymysql.connect()`` (PREFERRED with a client certificate
        also needs ``preferred_context()`` set on the connection, see ``connect()``)."""
        if self.mode == "DISABLED":
            return {"ssl_disabled": True}
        if self.mode == "PREFERRED":
            return {}
        return {"ssl": self.context()}

    def preferred_context(self) -> ssl.SSLContext | None:
        """For PREFERRED with a client certificate: the context PyMySQL's opportunistic TLS
        should use instead of its own (which has no client certificate)."""
        return self.context() if self.mode == "PREFERRED" and self.cert else None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return _one_line(str(exc)) or type(exc).__name__


# --------------------------------------------------------------------------------------------
# Resolution: every source folded into what connect() will do
# --------------------------------------------------------------------------------------------


@dataclass(repr=False)
class ResolvedConnection:
    """Everything ``connect()`` will use, with where the password came from (never the password
    itself in ``repr()``, ``description`` or messages)."""

    user: str
    host: str  # the host name for TCP, "localhost" for a socket
    port: int
    socket: str | None  # set: connect through this Unix socket
    database: str | None
    tls: TlsSettings
    connect_timeout: float
    statement_timeout: float | None
    password: str | None = None
    password_source: str = "no password given"
    option_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    socket_fallback: tuple[str, ...] = ()  # default sockets looked for when TCP was chosen for localhost

    @property
    def address(self) -> str:
        """``host:port`` or the socket path."""
        if self.socket:
            return self.socket
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def description(self) -> str:
        """``user@host:port`` or ``user@localhost via /path/to/socket`` (never a password)."""
        if self.socket:
            return f"{self.user}@localhost via {self.socket}"
        return f"{self.user}@{self.address}"

    def __repr__(self) -> str:
        return (
            f"ResolvedConnection({self.description!r}, database={self.database!r}, tls={self.tls.mode}, "
            f"password={'***' if self.password is not None else None}, {self.password_source})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class _Setting:
    value: Any
    source: str


def _parse_bool(value: str | None) -> bool:
    if value is None:
        return True
    text = value.strip().lower()
    if text in ("1", "on", "true", "yes"):
        return True
    if text in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"must be 0 or 1, ON or OFF, TRUE or FALSE, not {value!r}")


def _parse_port(value: Any) -> int | None:
    try:
        port = int(str(value).strip())
    except ValueError:
        raise ValueError(f"the port must be a number, not {value!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"the port must be from 1 to 65535, not {port}")
    return port or None  # 0: the default, as in the client


def _parse_seconds(value: Any, name: str) -> float:
    try:
        seconds = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {value!r}") from None
    if seconds < 0:
        raise ValueError(f"{name} must not be negative")
    return seconds


def _parse_ssl_mode(value: Any) -> str:
    mode = str(value).strip().upper().replace("-", "_")
    if mode not in SSL_MODES:
        raise ValueError(f"ssl-mode must be one of {', '.join(SSL_MODES)}, not {value!r}")
    return mode


def _parse_protocol(value: Any) -> str:
    protocol = str(value).strip().lower()
    if protocol not in _PROTOCOLS:
        raise ValueError(f"protocol must be TCP or SOCKET, not {value!r}")
    return protocol


_STRING_OPTIONS = ("user", "password", "host", "socket", "database", "ssl-ca", "ssl-cert", "ssl-key")


def _file_settings(entry: OptionEntry, source: str) -> dict[str, _Setting]:
    """The settings one option-file line makes (nothing for options mqa does not use)."""
    name, value = entry.name, entry.value
    if name in _STRING_OPTIONS:
        if value is None:
            if name == "password":  # a bare "password" makes the client prompt; mqa prompts with -p
                return {}
            raise ValueError(f"{entry.key} needs a value")
        return {name: _Setting(value, source)}
    if name == "port":
        return {name: _Setting(_parse_port(value), source)} if value is not None else {}
    if name == "ssl-mode":
        return {name: _Setting(_parse_ssl_mode(value), source)}
    if name in ("ssl", "skip-ssl", "disable-ssl", "enable-ssl"):  # MariaDB's switch
        on = _parse_bool(value) != (name in ("skip-ssl", "disable-ssl"))
        return {} if on else {"ssl-mode": _Setting("DISABLED", source)}
    if name == "ssl-verify-server-cert":  # MariaDB's name for VERIFY_IDENTITY
        return {"ssl-mode": _Setting("VERIFY_IDENTITY", source)} if _parse_bool(value) else {}
    if name == "protocol":
        return {name: _Setting(_parse_protocol(value), source)}
    if name in ("connect-timeout", "statement-timeout"):
        return {name: _Setting(_parse_seconds(value, name), source)}
    return {}


def resolve_connection(options: ConnectionOptions, *, environ: Mapping[str, str] | None = None) -> ResolvedConnection:
    """Fold the options, DSN, login path, option files and environment into one connection.

    Strongest first: ``options`` fields, the DSN, option files and the login path file
    (``[NAME]`` of ``--login-path`` over ``[mqa]`` over ``[client]``; within a group the last
    read wins, and ``~/.mylogin.cnf`` is read last), then ``MYSQL_HOST``, ``MYSQL_TCP_PORT``,
    ``MYSQL_UNIX_PORT`` and ``MYSQL_PWD``. ``localhost`` (or no host) means the Unix socket,
    as in the mysql client, unless a port is given in the DSN or options (then TCP) or no
    socket is found. Raises ``ConnectionOptionsError`` for anything unusable.
    """
    env = os.environ if environ is None else environ
    settings: dict[str, _Setting] = {}
    warnings: list[str] = []

    # 4. the environment (weakest)
    for variable, name in (
        ("MYSQL_HOST", "host"),
        ("MYSQL_TCP_PORT", "port"),
        ("MYSQL_UNIX_PORT", "socket"),
        ("MYSQL_PWD", "password"),
    ):
        if env.get(variable):
            try:
                value = _parse_port(env[variable]) if name == "port" else env[variable]
            except ValueError as exc:
                raise ConnectionOptionsError(f"{variable}: {exc}") from None
            if value is not None:
                settings[name] = _Setting(value, variable)

    # 3. option files, then the login path file
    groups = OPTION_GROUPS
    if options.login_path and options.login_path.lower() not in OPTION_GROUPS:
        groups += (options.login_path.lower(),)
    files = OptionFiles()
    if not options.no_defaults:
        if options.defaults_file:
            paths, required = [options.defaults_file], [options.defaults_file]
        else:
            paths = default_option_files(env, extra_file=options.defaults_extra_file)
            required = [options.defaults_extra_file] if options.defaults_extra_file else []
        files = read_option_files(paths, OPTION_GROUPS, required=required)
    login_file = login_file_path(env)
    login = OptionFiles()
    if os.path.exists(login_file):
        try:
            login = read_login_file(login_file, groups)
        except ConnectionOptionsError as exc:
            if options.login_path:
                raise
            warnings.append(f"{exc} (ignored)")  # the file was not asked for: go on without it
        if login.warnings and options.login_path:
            raise ConnectionOptionsError(login.warnings[0])
    elif options.login_path:
        raise ConnectionOptionsError(
            f"--login-path={options.login_path}: {display_path(login_file)} does not exist "
            f"(create it with: mysql_config_editor set --login-path={options.login_path} --host=... --user=... -p)"
        )
    if options.login_path and not any(e.group == options.login_path.lower() for e in login.entries):
        raise ConnectionOptionsError(
            f"login path [{options.login_path}] is not in {display_path(login_file)} "
            "(mysql_config_editor print --all lists the login paths)"
        )
    warnings += files.warnings + login.warnings
    rank = {g.lower(): i for i, g in enumerate(groups)}
    read = [(e, display_path(e.source)) for e in files.entries]
    read += [(e, f"login path [{e.group}] in {display_path(e.source)}") for e in login.entries]
    for entry, source in sorted(read, key=lambda item: rank[item[0].group]):
        try:
            settings.update(_file_settings(entry, source))
        except ValueError as exc:
            raise ConnectionOptionsError(f"{display_path(entry.source)}:{entry.line}: {exc}") from None

    # 2. the DSN, 1. the options themselves
    explicit: dict[str, _Setting] = {}
    if options.dsn:
        dsn = parse_dsn(options.dsn)
        for name, value in (
            ("user", dsn.user),
            ("password", dsn.password),
            ("host", dsn.host),
            ("port", dsn.port),
            ("socket", dsn.socket),
            ("database", dsn.database),
            ("ssl-mode", dsn.ssl_mode),
            ("ssl-ca", dsn.ssl_ca),
            ("ssl-cert", dsn.ssl_cert),
            ("ssl-key", dsn.ssl_key),
            ("connect-timeout", dsn.connect_timeout),
            ("statement-timeout", dsn.statement_timeout),
        ):
            if value is not None:
                explicit[name] = _Setting(value, "the DSN")
    try:
        for name, value in (
            ("user", options.user),
            ("password", options.password),
            ("host", options.host),
            ("port", None if options.port is None else _parse_port(options.port)),
            ("socket", options.socket),
            ("database", options.database),
            ("protocol", None if options.protocol is None else _parse_protocol(options.protocol)),
            ("ssl-mode", None if options.ssl_mode is None else _parse_ssl_mode(options.ssl_mode)),
            ("ssl-ca", options.ssl_ca),
            ("ssl-cert", options.ssl_cert),
            ("ssl-key", options.ssl_key),
            (
                "connect-timeout",
                None if options.connect_timeout is None else _parse_seconds(options.connect_timeout, "connect-timeout"),
            ),
            (
                "statement-timeout",
                None
                if options.statement_timeout is None
                else _parse_seconds(options.statement_timeout, "statement-timeout"),
            ),
        ):
            if value is not None:
                explicit[name] = _Setting(value, "the options")
    except ValueError as exc:
        raise ConnectionOptionsError(str(exc)) from None
    settings.update(explicit)

    def get(name: str, default: Any = None) -> Any:
        return settings[name].value if name in settings else default

    # Transport, as the client chooses it.
    host = get("host") or "localhost"
    port = get("port") or DEFAULT_PORT
    protocol = get("protocol")
    local = host == "localhost"
    explicit_socket = "socket" in explicit
    explicit_remote_host = "host" in explicit and explicit["host"].value not in ("", "localhost")
    socket_path: str | None = None
    fallback: tuple[str, ...] = ()
    if protocol == "socket" or (
        protocol is None and ((explicit_socket and not explicit_remote_host) or (local and "port" not in explicit))
    ):
        socket_path = get("socket")
        if socket_path is None:
            found = next((p for p in DEFAULT_SOCKETS if os.path.exists(p)), None)
            if found is not None or protocol == "socket":
                socket_path = found or DEFAULT_SOCKETS[0]
            else:
                fallback = DEFAULT_SOCKETS  # no socket anywhere: try TCP on localhost, as a last resort
    if socket_path is not None:
        host = "localhost"

    # TLS: --ssl-ca without --ssl-mode means VERIFY_CA, as in the mysql client.
    ca, cert, key = get("ssl-ca"), get("ssl-cert"), get("ssl-key")
    mode = get("ssl-mode") or ("VERIFY_CA" if ca else "PREFERRED")
    if mode in ("PREFERRED", "REQUIRED") and ca:
        warnings.append(
            f"--ssl-ca is not checked with --ssl-mode={mode}: use VERIFY_CA or VERIFY_IDENTITY to verify "
            "the server certificate"
        )
    if key and not cert:
        raise ConnectionOptionsError("--ssl-key needs --ssl-cert (the client certificate it belongs to)")
    if mode == "DISABLED" and (ca or cert):
        warnings.append("--ssl-mode=DISABLED: the --ssl-* files are not used")

    connect_timeout = get("connect-timeout", DEFAULT_CONNECT_TIMEOUT) or DEFAULT_CONNECT_TIMEOUT
    statement_timeout = get("statement-timeout", DEFAULT_STATEMENT_TIMEOUT) or None
    user = get("user")
    if user is None:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no login name anywhere (containers)
            user = ""
    password = settings.get("password")
    return ResolvedConnection(
        user=user,
        host=host,
        port=port,
        socket=socket_path,
        database=get("database") or None,
        tls=TlsSettings(mode, ca, cert, key),
        connect_timeout=min(float(connect_timeout), 31536000.0),
        statement_timeout=statement_timeout,
        password=password.value if password else None,
        password_source=_password_source(password.source) if password else "no password given",
        option_files=files.files + login.files,
        warnings=warnings,
        socket_fallback=fallback,
    )


def _password_source(source: str) -> str:
    if source == "the options":
        return "password given by the caller"
    return f"password from {source}"


# --------------------------------------------------------------------------------------------
# connect()
# --------------------------------------------------------------------------------------------


def connect(
    options: ConnectionOptions,
    *,
    password_prompt: Callable[[str], str] | None = None,
    environ: Mapping[str, str] | None = None,
    writable: bool = False,
) -> Server:
    """Open an mqa session (read-only, time-limited, ``program_name=mqa``) as the mysql client would.

    ``password_prompt`` (e.g. ``getpass.getpass``) is asked for the password unless
    ``options.password`` is set: like ``mysql -p``, a typed password overrides option files,
    login paths and ``MYSQL_PWD``.  ``writable`` leaves out ``SET SESSION TRANSACTION READ ONLY``:
    only for the scratch target of ``advise --verify`` and for ``--apply``. Every failure is a ``DatabaseError`` subclass with one
    line saying what to do.

    >>> server = connect(ConnectionOptions(dsn="mysql://mqa@db.example/shop"))  # doctest: +SKIP
    """
    resolved = resolve_connection(options, environ=environ)
    if password_prompt is not None and options.password is None:
        try:
            typed = password_prompt(f"Enter password for {resolved.description}: ")
        except EOFError:
            raise ConnectionOptionsError(
                "no password typed (standard input is closed): set MYSQL_PWD or put the password in an "
                "option file ([client] password=...) instead of -p"
            ) from None
        resolved.password = typed
        resolved.password_source = "password typed at the prompt"
    conn = _new_connection(resolved)
    try:
        conn.connect()
    except (pymysql.MySQLError, OSError) as exc:
        raise connect_error(exc, resolved) from exc
    # The handshake had connect_timeout; a statement may take its time limit, plus a margin
    # for the server to notice. Then the client stops waiting too (a server that vanished
    # without closing the connection would otherwise hang mqa until TCP gives up, hours later).
    conn._read_timeout = resolved.statement_timeout + READ_TIMEOUT_MARGIN if resolved.statement_timeout else None
    conn._write_timeout = None
    try:
        server = open_session(
            conn, resolved.description, statement_timeout=resolved.statement_timeout, read_only=not writable
        )
    except pymysql.MySQLError as exc:
        with contextlib.suppress(Exception):
            conn.close()
        raise connect_error(exc, resolved) from exc
    server.warnings = list(resolved.warnings)
    return server


def _new_connection(resolved: ResolvedConnection) -> pymysql.connections.Connection:
    """A PyMySQL connection object for ``resolved``, not connected yet."""
    password = (resolved.password or "").encode("utf-8", "surrogateescape")  # bytes as typed, like the client
    kwargs: dict[str, Any] = {
        "user": resolved.user,
        "password": password,
        "database": resolved.database,
        "connect_timeout": resolved.connect_timeout,
        # PyMySQL's connect_timeout covers only the TCP connect; the greeting and the login are
        # reads. As in the mysql client, the whole handshake gets connect_timeout.
        "read_timeout": resolved.connect_timeout,
        "write_timeout": resolved.connect_timeout,
        "charset": "utf8mb4",
        # One statement, one (read-only) transaction: without autocommit a long-lived session
        # would keep reading an old InnoDB snapshot.
        "autocommit": True,
        "program_name": "mqa",
        "defer_connect": True,
        **resolved.tls.pymysql_arguments(),
    }
    if resolved.socket:
        kwargs["unix_socket"] = resolved.socket
    else:
        kwargs["host"] = resolved.host
        kwargs["port"] = resolved.port
    conn = pymysql.connections.Connection(**kwargs)
    preferred = resolved.tls.preferred_context()
    if preferred is not None:
        conn.ctx = preferred  # PyMySQL's opportunistic TLS uses conn.ctx
    return conn


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _quote_account_part(part: str) -> str:
    return "'" + part.replace("\\", "\\\\").replace("'", "\\'") + "'"


_ACCOUNT_IN_MESSAGE = re.compile(r"'(?P<user>[^']*)'@'(?P<host>[^']*)'")


def _error_code(exc: BaseException) -> int:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else 0


def _error_text(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if len(args) > 1:
        return _one_line(args[1])
    return _one_line(str(exc))


def connect_error(exc: BaseException, resolved: ResolvedConnection) -> DatabaseError:
    """The one-line ``DatabaseError`` for a failed connection attempt."""
    code, text = _error_code(exc), _error_text(exc)
    address = resolved.address
    original = getattr(exc, "original_exception", None) if isinstance(exc, pymysql.MySQLError) else exc
    match = _ACCOUNT_IN_MESSAGE.search(text)
    account = (
        f"'{match['user']}'@'{match['host']}'"
        if match
        else f"{_quote_account_part(resolved.user)}@{_quote_account_part(resolved.host)}"
    )
    if code == 1045:
        if resolved.password:
            hint = "check the password, or give --user/--password"
        else:
            hint = (
                "give -p/--password to type the password, or set it in an option file "
                "([client] password=...) or MYSQL_PWD"
            )
        return AccessDeniedError(f"access denied for {account} on {address} ({resolved.password_source}): {hint}")
    if code == 1044:
        database = re.search(r"to database '([^']*)'", text)
        name = database.group(1) if database else resolved.database
        return UnknownDatabaseError(
            f"access denied for {account} to database {name!r} on {address}: it does not exist or the account "
            f"may not use it; check --database, or GRANT SELECT ON `{name}`.* TO {account}"
        )
    if code == 1049:
        return UnknownDatabaseError(
            f"unknown database {resolved.database!r} on {address}: check --database (SHOW DATABASES lists them)"
        )
    if code == 1130:
        host = re.search(r"Host '([^']*)'", text)
        client = host.group(1) if host else "this host"
        return AccessDeniedError(
            f"{address} does not let {client} connect: create the account for that host "
            f"(CREATE USER '{resolved.user}'@'{client}' ...) or connect from a host it allows"
        )
    if code in (1862, 1820):
        return AccessDeniedError(
            f"the password of {account} has expired: set a new one with the mysql client (ALTER USER ...), "
            "then try again"
        )
    if code == 1040:
        return DatabaseError(f"{address} has too many connections: try again later, or raise max_connections")
    if code == 1226:
        return AccessDeniedError(f"{account} has used up a resource limit on {address}: {text}")
    if code == 2026 or isinstance(original, ssl.SSLError):
        return _tls_error(original if isinstance(original, ssl.SSLError) else None, resolved, text)
    if code in (1251, 2059) or ("auth" in text.lower() and "plugin" in text.lower()):
        return AccessDeniedError(
            f"cannot log in as {account} on {address}: {text} (PyMySQL knows mysql_native_password, "
            "caching_sha2_password, sha256_password and client_ed25519)"
        )
    if isinstance(original, OSError) or code == 2003:
        return _unreachable(original if isinstance(original, OSError) else None, resolved, text)
    if code == 2013 and "timed out" in text:
        return UnreachableError(
            f"cannot reach {address}: no greeting from the server within {resolved.connect_timeout:g} s; is a MySQL "
            "server listening there, and not overloaded? (--connect-timeout waits longer)"
        )
    if code in (2006, 2013, 2055) or (isinstance(exc, pymysql.err.InterfaceError) and not text):
        # InterfaceError without a text: PyMySQL's answer once the connection is already closed
        text = text or "the connection is closed"
        return ServerGoneError(
            f"cannot talk to {address}: the connection was closed during the handshake ({text}); "
            "is a MySQL server (not a proxy or the X protocol port) listening there?"
        )
    return DatabaseError(f"cannot connect to {address} as {account}: {text} (error {code})")


def _tls_error(original: ssl.SSLError | None, resolved: ResolvedConnection, text: str) -> TLSError:
    address, mode = resolved.address, resolved.tls.mode
    if original is None:  # 2026: the server offers no TLS
        return TLSError(
            f"{address} does not offer TLS, but --ssl-mode={mode} requires it: enable TLS on the server, "
            "or use --ssl-mode=PREFERRED"
        )
    reason = getattr(original, "verify_message", None) or _reason(original)
    if isinstance(original, ssl.SSLCertVerificationError):
        if "hostname" in str(original).lower() or "ip address mismatch" in str(original).lower():
            return TLSError(
                f"TLS: the certificate of {address} is not for {resolved.host!r} ({reason}; --ssl-mode={mode}): "
                "connect with the name the certificate has, or use --ssl-mode=VERIFY_CA"
            )
        return TLSError(
            f"TLS: cannot verify the certificate of {address} ({reason}; --ssl-mode={mode}): give the CA that "
            "signed it with --ssl-ca, or use --ssl-mode=REQUIRED to encrypt without verification"
        )
    return TLSError(f"TLS handshake with {address} failed ({reason}; --ssl-mode={mode}): check the --ssl-* options")


def _unreachable(original: OSError | None, resolved: ResolvedConnection, text: str) -> UnreachableError:
    address = resolved.address
    if resolved.socket:
        if isinstance(original, FileNotFoundError):
            return UnreachableError(
                f"no server socket at {resolved.socket}: is the server running? Give --socket with its path "
                "(SELECT @@socket shows it), or --host 127.0.0.1 for TCP"
            )
        if isinstance(original, PermissionError):
            return UnreachableError(
                f"no permission to use the socket {resolved.socket}: run as a user who may, or connect over TCP "
                "with --host 127.0.0.1"
            )
        if isinstance(original, ConnectionRefusedError):
            return UnreachableError(
                f"cannot reach the server through {resolved.socket}: connection refused; is the server running?"
            )
        reason = original.strerror if original is not None and original.strerror else text
        return UnreachableError(f"cannot reach the server through {resolved.socket}: {reason}")
    also = (
        f" (and there is no server socket at {', '.join(resolved.socket_fallback[:2])})"
        if resolved.socket_fallback
        else ""
    )
    if isinstance(original, ConnectionRefusedError):
        return UnreachableError(
            f"cannot reach {address}: connection refused{also}; is the server running and listening on TCP?"
        )
    if isinstance(original, socket.gaierror):
        return UnreachableError(f"cannot reach {address}: unknown host {resolved.host!r}; check --host")
    if isinstance(original, (TimeoutError, socket.timeout)):
        return UnreachableError(
            f"cannot reach {address}: no answer within {resolved.connect_timeout:g} s; is the host up, and is a "
            "firewall in the way? (--connect-timeout waits longer)"
        )
    reason = original.strerror if original is not None and original.strerror else text
    return UnreachableError(f"cannot reach {address}: {reason}{also}")


# --------------------------------------------------------------------------------------------
# Errors while querying, privileges
# --------------------------------------------------------------------------------------------

_PRIVILEGE_CODES = (1044, 1142, 1143, 1227, 1370)


@dataclass(frozen=True)
class PrivilegeCheck:
    """A privilege a command needs, and a cheap statement that fails without it."""

    privilege: str  # "SELECT", "PROCESS"
    on: str  # "performance_schema.*", "*.*"
    probe: str  # e.g. "SELECT 1 FROM performance_schema.events_statements_summary_by_digest LIMIT 0"
    purpose: str = ""  # "read statement digests"

    def grant(self, account: str) -> str:
        return f"GRANT {self.privilege} ON {self.on} TO {account}"


#: SELECT on performance_schema: statement digests, waits, connection attributes.
PERFORMANCE_SCHEMA_SELECT = PrivilegeCheck(
    "SELECT",
    "performance_schema.*",
    "SELECT 1 FROM performance_schema.events_statements_summary_by_digest LIMIT 0",
    "read statement digests from performance_schema",
)
#: PROCESS: other sessions' statements (processlist, InnoDB transactions, EXPLAIN FOR CONNECTION).
PROCESS = PrivilegeCheck(
    "PROCESS",
    "*.*",
    "SHOW ENGINE INNODB STATUS",  # information_schema.INNODB_TRX is silently empty instead
    "see the statements of other sessions",
)


def require_privileges(server: Server, checks: Iterable[PrivilegeCheck]) -> None:
    """Run each check's probe; raise one ``PrivilegeError`` naming every missing privilege and
    the GRANT statements that fix them (other server errors become ``DatabaseError``s)."""
    missing: list[PrivilegeCheck] = []
    for check in checks:
        try:
            server.query(check.probe)
        except pymysql.MySQLError as exc:
            if _error_code(exc) in _PRIVILEGE_CODES:
                missing.append(check)
            else:
                raise query_error(exc, server, purpose=check.purpose) from exc
    if not missing:
        return
    account = _account_or_fallback(server, None)
    needs = " and ".join(
        f"{c.privilege}" + ("" if c.on == "*.*" else f" on {c.on}") + (f" (to {c.purpose})" if c.purpose else "")
        for c in missing
    )
    grants = "; ".join(c.grant(account) for c in missing)
    raise PrivilegeError(f"{account} lacks {needs}: {grants}")


def _account_or_fallback(server: Server | None, text: str | None) -> str:
    if server is not None:
        try:
            return server.account
        except (pymysql.MySQLError, AttributeError):  # AttributeError: a session without an account (a test double)
            pass
    match = _ACCOUNT_IN_MESSAGE.search(text or "")
    return f"'{match['user']}'@'{match['host']}'" if match else "the account"


def privilege_error(exc: BaseException, server: Server | None = None, *, purpose: str = "") -> PrivilegeError | None:
    """A ``PrivilegeError`` naming the missing privilege and its GRANT, for errors 1044, 1142,
    1143, 1227 and 1370; None for any other error."""
    code, text = _error_code(exc), _error_text(exc)
    if code not in _PRIVILEGE_CODES:
        return None
    account = _account_or_fallback(server, text)
    why = f" (to {purpose})" if purpose else ""
    if code == 1227:
        match = re.search(r"you need \(at least one of\) the (.+?) privilege", text, re.IGNORECASE)
        privilege = match.group(1).split(",")[0].strip() if match else "a global"
        return PrivilegeError(f"{account} lacks the {privilege} privilege{why}: GRANT {privilege} ON *.* TO {account}")
    if code == 1044:
        match = re.search(r"to database '([^']*)'", text)
        database = match.group(1) if match else "?"
        return PrivilegeError(
            f"{account} may not use database {database!r}{why}: GRANT SELECT ON `{database}`.* TO {account}"
        )
    match = re.match(
        r"(?P<command>[\w ]+?) command denied to user .*? for (?:column '(?P<column>[^']*)' in )?"
        r"(?:table|routine) (?P<object>.+)$",
        text,
        re.IGNORECASE,
    )
    if not match:
        return PrivilegeError(f"{account} lacks a privilege{why}: {text}")
    command = match["command"].upper()
    parts = [p for p in re.split(r"[`'.]+", match["object"]) if p]
    database, name = (parts[0], parts[-1]) if len(parts) > 1 else (None, parts[0] if parts else "?")
    target = f"{database}.{name}" if database else name
    on = f"{database}.*" if database else f"<database>.{name}"
    column = f" (column {match['column']})" if match["column"] else ""
    return PrivilegeError(f"{account} lacks {command} on {target}{column}{why}: GRANT {command} ON {on} TO {account}")


def query_error(exc: BaseException, server: Server | None = None, *, purpose: str = "") -> DatabaseError:
    """The one-line ``DatabaseError`` for a server error raised by a query."""
    found = privilege_error(exc, server, purpose=purpose)
    if found is not None:
        return found
    code, text = _error_code(exc), _error_text(exc)
    what = f"{purpose}: " if purpose else ""
    where = server.description if server is not None else "the server"
    if code in (1969, 3024):
        limit = server.statement_timeout if server is not None else None
        after = f" after {limit:g} s" if limit else ""
        return StatementTimeoutError(
            f"{what}the statement was stopped{after} by the statement time limit: give a larger "
            "--statement-timeout (0: no limit)"
        )
    if code in (2006, 2013, 2055) or (isinstance(exc, pymysql.err.InterfaceError) and not text):
        # InterfaceError without a text: PyMySQL's answer once the connection is already closed
        text = text or "the connection is closed"
        return ServerGoneError(
            f"{what}lost the connection to {where} ({text}): the server restarted, closed the "
            "idle session, or the network dropped it; run again"
        )
    if code == 1792:
        return DatabaseError(f"{what}the statement tried to write, but mqa sessions are read-only ({text})")
    return DatabaseError(f"{what}{text} (error {code} on {where})" if code else f"{what}{text} (on {where})")
