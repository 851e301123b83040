"""Streaming reader for the general query log of MySQL and MariaDB: the server's file
(``log_output=FILE``) and exports of its table (``log_output=TABLE``, ``mysql.general_log``).

The general log records every command a server receives, when it receives it: connections
(``Connect``, ``Quit``, ``Change user``), ``Init DB``, statements (``Query``, and ``Prepare`` /
``Execute`` of prepared statements, the latter with the parameters in the text) and the rest
(``Ping``, ``Statistics``, ``Field List``, ``Close stmt``, ...).  It has no timings: no query time,
lock time or rows.  Only ``Query`` and ``Execute`` become ``QueryEvent`` objects (``metrics``
empty); the other commands are counted per command (``commands``), and ``Connect``, ``Init DB``
and ``USE db`` tell each connection's user, host and database, which its statements carry
together with the connection id (``thread_id``) and the time.

Three layouts, recognised by content (``sniff``):

- ``file``: what the server writes.  MariaDB (and MySQL up to 5.6) begin an entry with a local
  ``YYMMDD H:MM:SS`` time only when the second changed since the previous entry (``\\t\\t``
  otherwise: the time is carried); MySQL 5.7+ write an ISO time on every entry, in UTC
  (``...Z``) or with the offset of ``log_timestamps=SYSTEM``.  Then the connection id, the
  command and its argument; a statement is written verbatim, so it goes on over as many lines
  as it has.  Server start banners (``... Version: ... started with:``, ``Tcp port: ...``,
  ``Time  Id Command  Argument``) may come anywhere.
- ``table-tsv``: ``mysql -B -e 'SELECT * FROM mysql.general_log'`` (tab-separated, a header
  line of column names unless ``-N``; tab, newline, backslash and NUL escaped as ``\\t``,
  ``\\n``, ``\\\\``, ``\\0``), or ``SELECT * INTO OUTFILE`` with the default field options
  (a newline in a value written as a backslash and the newline).
- ``table-csv``: the table's own data file (``general_log.CSV`` in the server's ``mysql``
  folder: the table is a CSV-engine table) or ``SELECT * INTO OUTFILE ... FIELDS TERMINATED BY
  ',' OPTIONALLY ENCLOSED BY '"'``: comma-separated, strings in double quotes, backslash
  escapes.

A statement is written verbatim in the file layout, so a string literal or comment holding a
newline and then text shaped like an entry line (``\\t\\t  42 Query\\tDROP ...``) could forge
a statement by another connection.  An entry line starts a new entry only where the statement
before it is at the top SQL lexical level (no literal, quoted identifier or ``/* */`` comment
open: the reader follows the statement's lexical state, as the slow-log reader does).  Inside
an open literal it is statement text, unless the literal was cut short: a client can send a
statement with an unbalanced quote (``WHERE name = 'O'Brien'``: a syntax error, but logged,
because the general log is written before the statement is parsed).  The reader reads on as if
the literal went on until the statement would end, then reads the same lines again as entries
from the entry-like line (``GeneralLogReader._second_reading``): when that reading is whole up to
the entry holding the quote that closed the literal in the first reading (each statement ends at
the top level, that quote opens a literal, no backslash outside a literal, every other command's
argument well formed), the statement ended before that line; otherwise the entry-like lines were
text of the literal.  A literal still open ``lookahead_lines`` lines or ``lookahead_bytes`` bytes
later, or at the end of the input, was cut short.  The table layouts escape newlines: one record
is one entry, whatever it holds.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from analyzer.model import Malformed, QueryEvent, SourceSummary, plausible_time
from analyzer.sources.inputs import LogInput, iter_text_blocks, open_log

# The SQL lexer of the slow-log reader: the state a statement leaves open at a line's end.
from analyzer.sources.slowlog import (
    _BT,
    _CLOSERS,
    _DQ,
    _SQ,
    _TOP,
    _TOP_NO_BACKSLASH,
    _TOP_PATTERN,
    SlowLogReader,
    _lex_line,
    dialect_name,
)

FORMATS = ("file", "table-tsv", "table-csv")

# The command names the servers write (MariaDB's and MySQL's command_name[] arrays).
COMMANDS = (
    "Sleep", "Quit", "Init DB", "Query", "Field List", "Create DB", "Drop DB", "Refresh", "Shutdown",
    "Statistics", "Processlist", "Connect", "Kill", "Debug", "Ping", "Time", "Delayed insert",
    "Change user", "Binlog Dump", "Binlog Dump GTID", "Table Dump", "Connect Out", "Register Slave",
    "Register Replica", "Prepare", "Execute", "Long Data", "Close stmt", "Reset stmt", "Set option",
    "Fetch", "Daemon", "Unimpl get tid", "Reset connection", "Reset Connection", "Bulk_execute",
    "Slave_worker", "Slave_IO", "Slave_SQL", "Com_multi", "clone",
    "Group Replication Data Stream subscription", "Error",
)  # fmt: skip
# Commands whose argument is a statement: followed lexically, and a line after one may be its text.
SQL_COMMANDS = frozenset({"Query", "Prepare", "Execute", "Bulk_execute"})
# Commands that execute a statement: the events of the digest.
STATEMENT_COMMANDS = frozenset({"Query", "Execute", "Bulk_execute"})

_COMMAND_ALTERNATIVES = "|".join(re.escape(c) for c in sorted(COMMANDS, key=len, reverse=True))
# An entry line of the file layout: a time (old local or ISO) or leading blanks, the connection
# id, the command, then a tab (spaces in very old servers and hand-edited samples) and the argument.
_ENTRY = re.compile(
    r"(?:(\d{6}\s+\d{1,2}:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)|(?=[\t ]))"
    r"[\t ]+(\d+) (" + _COMMAND_ALTERNATIVES + r")(?:\t| +|$)"
).match
_BANNER = re.compile(
    r"(?:(?:[/A-Za-z].*[/\\])?(?:mysqld|mariadbd)(?:\.exe)?, Version: .*(?:started with:|embedded library)"
    r"|T[cC][pP] [pP]ort: \d+"
    r"|Time\s+Id\s+Command\s+Argument)"
).match
_VERSION = re.compile(r"Version: (\S+)(.*?)\. started with:")
_SLOW_HEADER = ("# Time:", "# User@Host:", "# Query_time:")

# A Connect (or Change user) argument: "user@host on db using Socket", MySQL's "user@host as
# account on db using TCP/IP", and "user@host on db" of servers before MySQL 5.7 / MariaDB 10.
_CONNECT = re.compile(r"(.*?)@(\S*) (?:as (\S*) )?on(?: (\S*))?(?: +(?:using|via) (.+?))?\s*")
_CONNECT_STRICT = re.compile(
    r"\S*@\S* (?:as \S* )?on \S*(?: using (?:Socket|TCP/IP|SSL/TLS|Named Pipe|Shared Memory|SSL))?\s*"
    r"|Access denied for user '[^']*'@'[^']*' \(using password: (?:YES|NO)\)"
)
_DENIED = "Access denied for user"
_USE = re.compile(r"\s*use\s+(`(?:[^`]|``)+`|[^\s;`]+)\s*;?\s*", re.IGNORECASE)
# "priv_user[user] @ host [ip]", the table's user_host (as in the slow log's "# User@Host:").
_USER_HOST = re.compile(r"(.*?)\[(.*?)\] @ (\S*) \[(.*?)\]")

# ---- table exports
_TSV_COLUMNS = ("event_time", "user_host", "thread_id", "server_id", "command_type", "argument")
_TIME_TEXT = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?"
_TSV_ROW = re.compile(_TIME_TEXT + r"\t[^\t]*\t\d+\t\d+\t[A-Za-z][\w ]*\t")
_CSV_ROW = re.compile(r'"' + _TIME_TEXT + r'","(?:[^"\\]|\\.)*","?\d+"?,"?\d+"?,"[A-Za-z][\w ]*",')
_TSV_FIELD = re.compile(r"(?:[^\t\\]|\\.)*", re.DOTALL).match
_CSV_QUOTED = re.compile(r'"((?:[^"\\]|\\.|"")*)"', re.DOTALL).match
_CSV_BARE = re.compile(r"(?:[^,\\\"]|\\.)*", re.DOTALL).match
_ESCAPE = re.compile(r"\\(.)", re.DOTALL).sub
_ESCAPED = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
_HEX = re.compile(r"0x((?:[0-9A-Fa-f]{2})+)")
_OLD_TIME = re.compile(r"(\d\d)(\d\d)(\d\d)\s+(\d{1,2}):(\d\d):(\d\d)")

SNIFF_BYTES = 1 << 16


def sniff(text: str) -> str | None:
    """The general-log layout of a log's first bytes (``file``, ``table-tsv``, ``table-csv``),
    or None when it is not a general log (a slow log, or nothing recognisable).

    The first line that decides wins: a slow-log header line (``# Time:``, ``# User@Host:``,
    ``# Query_time:``) makes it a slow log; a general-log entry line makes it a general log.
    Both start with the same server banner.

    >>> sniff("Time\\t\\t    Id Command\\tArgument\\n241201 10:00:00\\t     5 Query\\tSELECT 1\\n")
    'file'
    >>> sniff("# Time: 2024-12-01T10:00:00Z\\n# User@Host: a[a] @ h []\\n") is None
    True
    """
    lines = text.split("\n")
    if len(lines) > 1:
        lines.pop()  # it may be cut
    first = next((line for line in lines if line.strip()), "")
    if _is_tsv_header(first) or _TSV_ROW.match(first):
        return "table-tsv"
    if _CSV_ROW.match(first):
        return "table-csv"
    for line in lines[:2000]:
        if line.startswith(_SLOW_HEADER):
            return None
        if _ENTRY(line) is not None:
            return "file"
    return None


def _is_tsv_header(line: str) -> bool:
    """The column names ``mysql -B`` prints first: the table's, or a selection of them."""
    names = line.rstrip("\r").split("\t")
    return {"thread_id", "command_type", "argument"} <= set(names) and set(names) <= set(_TSV_COLUMNS)


def sniff_log(log: LogInput) -> str | None:
    """``sniff`` the first bytes of an opened log, which its reader then reads from the start (an
    error while decompressing them is raised when the reader gets there, as without a sniff)."""
    chunks: list[bytes] = []
    size = 0
    error: BaseException | None = None
    while size < SNIFF_BYTES:
        try:
            chunk = log.stream.read(min(1 << 13, SNIFF_BYTES - size))
        except Exception as exc:  # gzip, bz2, lzma and zstandard errors share no base class
            error = exc
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    head = b"".join(chunks)
    log.stream = _Replay(head, log.stream, log, error)  # type: ignore[assignment]
    return sniff(head.decode("utf-8", "surrogateescape"))


def log_kind(path: str) -> str | None:
    """``generallog`` or ``slowlog`` for a file by its content (None for stdin, which can be read
    only once; ``open_log`` errors are raised as they are)."""
    if path == "-":
        return None
    log = open_log(path)
    try:
        return "generallog" if sniff_log(log) is not None else "slowlog"
    finally:
        log.close()


def open_log_reader(path: str) -> SlowLogReader | GeneralLogReader:
    """The reader for ``path`` (or ``-``): a general log's reader when its content is one, else
    the slow-log reader."""
    log = open_log(path)
    try:
        layout = sniff_log(log)
    except BaseException:
        log.close()
        raise
    if layout is not None:
        return GeneralLogReader(log, layout)
    return SlowLogReader(log)


class _Replay(io.RawIOBase):
    """A stream that gives ``head`` again, then the rest of ``stream`` (after a sniff), raising
    the error the sniff met where it met it."""

    def __init__(self, head: bytes, stream, log: LogInput, error: BaseException | None = None) -> None:
        self.head, self.stream, self.log, self.error = head, stream, log, error

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        if self.head:
            if size is None or size < 0:
                out, self.head = self.head, b""
                return out + (self.read() if self.error is None else b"")
            out, self.head = self.head[:size], self.head[size:]
            return out
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.stream.read(size)

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self.stream is not self.log._raw:  # the raw file is LogInput's to close (stdin never)
            self.stream.close()
        super().close()


@dataclass
class _Record:
    """One entry of the log: a command of a connection, with its argument."""

    line: int
    ts: float | None
    tz: int | None
    thread: str
    command: str
    argument: str
    user_host: str | None = None


@dataclass
class _Entry:
    """The file layout's entry being read: its first line and the statement lines after it."""

    line: int
    time: str | None
    thread: str
    command: str
    parts: list[str]
    sql: bool
    state: int = _TOP

    def add(self, text: str) -> None:
        self.parts.append(text)
        if self.sql:
            self.state = _lex_line(text, self.state)[0]


@dataclass
class _Connection:
    user: str | None = None
    host: str | None = None
    db: str | None = None
    opened: bool = False  # its Connect entry is in this log


@dataclass
class GeneralLogReader:
    """Reads one general log (any layout) and yields ``QueryEvent`` objects.

    >>> reader = open_log_reader("general.log")        # doctest: +SKIP
    >>> for event in reader.events(): ...               # doctest: +SKIP

    After iteration: ``events_read`` (statements yielded), ``malformed`` / ``malformed_count``,
    ``commands`` (entries per command, statements included), ``connections_opened``,
    ``connections_failed`` (``Access denied``), ``connections_seen`` (connection ids that sent a
    statement), ``dialect`` and ``server_version`` (from a banner).
    """

    log: LogInput
    layout: str = "file"
    max_malformed: int = 1000
    lookahead_lines: int = 10_000
    lookahead_bytes: int = 8 << 20
    kind: str = field(default="generallog", init=False)
    malformed: list[Malformed] = field(default_factory=list, init=False)
    malformed_count: int = field(default=0, init=False)
    events_read: int = field(default=0, init=False)
    lines_read: int = field(default=0, init=False)
    commands: Counter[str] = field(default_factory=Counter, init=False)
    connections_opened: int = field(default=0, init=False)
    connections_failed: int = field(default=0, init=False)
    server_version: str | None = field(default=None, init=False)
    # What a parallel reader asks of every reader (a general log is never split in byte ranges).
    clean_end: bool = field(default=True, init=False)
    last_db: str | None = field(default=None, init=False)
    flag_metrics: frozenset[str] = field(default=frozenset(), init=False)

    def __post_init__(self) -> None:
        if self.layout not in FORMATS:
            raise ValueError(f"unknown general-log layout {self.layout!r}")
        self.name = self.log.name
        self._hints: set[str] = set()
        self._threads: set[str] = set()
        self._conns: dict[str, _Connection] = {}
        self._time_cache: tuple[str, tuple[float, int | None] | None] = ("", None)
        self._iso = False

    @classmethod
    def from_path(cls, path: str, layout: str | None = None, **kwargs: object) -> GeneralLogReader:
        log = open_log(path)
        found = sniff_log(log)
        return cls(log, layout or found or "file", **kwargs)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ results
    @property
    def connections_seen(self) -> int:
        return len(self._threads)

    @property
    def flavor_hints(self) -> frozenset[str]:
        return frozenset(self._hints)

    @property
    def dialect(self) -> str:
        """``mariadb``/``mysql``/``percona`` and the version when a banner or the times tell."""
        if self._hints or self.server_version:
            return dialect_name(self._hints, self.server_version)
        return "mysql" if self._iso else ""

    def describe(self, summary: SourceSummary) -> None:
        """What a digest's source summary says of a general log, after iteration."""
        summary.format = self.layout
        summary.connections = {
            "seen": self.connections_seen,
            "opened": self.connections_opened,
            "failed": self.connections_failed,
        }
        summary.commands = dict(sorted(self.commands.items(), key=lambda kv: (-kv[1], kv[0])))

    def _bad(self, line: int, reason: str) -> None:
        self.malformed_count += 1
        if len(self.malformed) < self.max_malformed:
            self.malformed.append(Malformed(self.name, line, reason))

    # ------------------------------------------------------------------ events
    def events(self, progress: Callable[[int], None] | None = None) -> Iterator[QueryEvent]:
        """Yield the log's statements in order.  ``progress`` gets the input bytes consumed so far
        after each block (about 256 KiB)."""
        try:
            records = self._file_records(progress) if self.layout == "file" else self._table_records(progress)
            yield from self._events(records)
        finally:
            self.log.close()

    def _events(self, records: Iterator[_Record]) -> Iterator[QueryEvent]:
        conns = self._conns
        commands = self.commands
        for rec in records:
            command = rec.command
            commands[command] += 1
            conn = conns.get(rec.thread)
            if conn is None:
                conn = conns[rec.thread] = _Connection()
            if rec.user_host is not None:
                self._user_host(conn, rec.user_host)
            if command in STATEMENT_COMMANDS:
                query = rec.argument.rstrip()
                self._threads.add(rec.thread)
                self.events_read += 1
                yield QueryEvent(
                    query,
                    {},
                    rec.ts,
                    rec.tz,
                    conn.user,
                    conn.host,
                    conn.db,
                    rec.thread,
                    {"command": command} if command != "Query" else {},
                    False,
                    None,
                    self.name,
                    rec.line,
                )
                if command == "Query" and query[:1] in "uU \t\n" and (m := _USE.fullmatch(query)) is not None:
                    conn.db = _unquote(m.group(1))  # the statements after it run in that database
            elif command == "Connect":
                self._connect(conn, rec, opened=True)
            elif command == "Change user":
                self._connect(conn, rec, opened=False)
            elif command == "Init DB":
                conn.db = rec.argument.strip() or None
            elif command == "Quit":
                conns.pop(rec.thread, None)

    def _connect(self, conn: _Connection, rec: _Record, opened: bool) -> None:
        argument = rec.argument.strip()
        if argument.startswith(_DENIED):
            self.connections_failed += 1
            if conn.opened:
                self.connections_opened -= 1  # MariaDB logs the attempt, then its refusal
            self._conns.pop(rec.thread, None)
            return
        m = _CONNECT.fullmatch(argument)
        if m is None:
            self._bad(rec.line, f"unreadable {rec.command} argument {argument[:60]!r}")
            return
        if opened and not conn.opened:
            self.connections_opened += 1
            conn.opened = True
        user, host, _account, db, _via = m.groups()
        if rec.user_host is None or conn.user is None:
            conn.user = user or None
            conn.host = host or None
        conn.db = db or None

    @staticmethod
    def _user_host(conn: _Connection, text: str) -> None:
        m = _USER_HOST.match(text)
        if m is None:
            return
        priv, user, host, ip = m.groups()
        conn.user = priv.strip() or user.strip() or conn.user
        conn.host = host or ip or conn.host

    # ------------------------------------------------------------------ times
    def _time(self, text: str) -> tuple[float, int | None] | None:
        cached, parsed = self._time_cache
        if cached == text:
            return parsed
        parsed = _parse_time(text)
        self._time_cache = (text, parsed)
        return parsed

    # ------------------------------------------------------------------ the file layout
    def _file_records(self, progress: Callable[[int], None] | None) -> Iterator[_Record]:
        lines = _Lines(self.log, progress)
        cur: _Entry | None = None
        ts: float | None = None
        tz: int | None = None
        orphan = 0  # the first line of text that belongs to no entry (a log starting mid-statement)
        for n, line in lines:
            m = _ENTRY(line)
            banner = m is None and _BANNER(line) is not None
            if cur is not None:
                if m is None and not banner:
                    cur.add(line)
                    continue
                if cur.sql and cur.state != _TOP:
                    # An entry-like line inside a literal or comment: text, or was it cut short?
                    taken, pushed = self._judge(cur, n, line, lines)
                    lines.push(pushed)
                    if taken:
                        for text in taken:
                            cur.add(text)
                        continue
                    record, ts, tz = self._file_record(cur, ts, tz)
                    yield record
                    cur = None
                    continue  # the statement ended before this line: read it again, as an entry
                record, ts, tz = self._file_record(cur, ts, tz)
                yield record
                cur = None
            if banner:
                self._banner(line)
                continue
            if m is None:
                if line.strip() and not orphan:
                    orphan = n
                    self._bad(n, "statement text without an entry line (log starts mid-statement?)")
                continue
            orphan = 0
            command = m.group(3)
            cur = _Entry(n, m.group(1), m.group(2), command, [], command in SQL_COMMANDS)
            cur.add(line[m.end() :])
        self.lines_read = lines.count
        if cur is not None:
            record, ts, tz = self._file_record(cur, ts, tz)
            yield record

    def _file_record(self, cur: _Entry, ts: float | None, tz: int | None) -> tuple[_Record, float | None, int | None]:
        """The finished entry as a record; the time carries over to entries without one."""
        if cur.time is not None:
            parsed = self._time(cur.time)
            if parsed is None:
                self._bad(cur.line, f"unreadable or impossible time {cur.time!r}")
            else:
                ts, tz = parsed
                if "T" in cur.time:
                    self._iso = True
        argument = "\n".join(cur.parts)
        return _Record(cur.line, ts, tz, cur.thread, cur.command, argument), ts, tz

    def _banner(self, line: str) -> None:
        m = _VERSION.search(line)
        if m:
            self.server_version = m.group(1)
            text = line.lower()
            if "mariadb" in text:
                self._hints.add("mariadb")
            elif "percona" in text:
                self._hints.add("percona")

    def _judge(self, cur: _Entry, n: int, line: str, lines: _Lines) -> tuple[list[str], list[tuple[int, str]]]:
        """An entry-like line ``n`` came while the statement ``cur`` has a literal or comment open.

        Returns (the lines that are text of the statement, the lines to read again).  Reads ahead
        as if the construct went on (the first reading) until the statement would end: a line
        ending at the top level followed by an entry-like line.  Then ``_second_reading`` tells
        a forged entry inside a literal (the lines are text) from a literal cut short (nothing
        is text: the statement ended before line ``n``).  A construct still open after the
        look-ahead budget or at the end of the input was cut short.
        """
        buf = [(n, line)]
        kind = cur.state
        state = kind
        close: tuple[int, int] | None = None  # (index in buf, column) of the quote that closed it
        size = 0
        i = 0
        while True:
            text = buf[i][1]
            if close is None and state == kind:
                at = _closing_quote(text, kind)
                if at is not None:
                    close = (i, at)
            state = _lex_line(text, state)[0]
            size += len(text) + 1
            i += 1
            if i == len(buf):
                nxt = lines.next()
                if nxt is None:
                    break
                buf.append(nxt)
            if state == _TOP and _starts_entry(buf[i][1]):
                break
            if i > self.lookahead_lines or size > self.lookahead_bytes:
                return [], buf  # never closes: cut short at line n
        if state != _TOP:
            return [], buf  # open at the end of the input: cut short at line n
        end = i  # buf[:end] would be text of the statement, buf[end:] the entries after it
        if close is not None and self._second_reading(buf[: end + 1], kind, close):
            return [], buf
        return [text for _, text in buf[:end]], buf[end:]

    def _second_reading(self, buf: list[tuple[int, str]], kind: int, close: tuple[int, int]) -> bool:
        """Do the lines ``buf`` read as whole entries on their own, up to the end of the entry that
        holds the quote that closed the literal in the first reading?

        They do when no entry-like line comes inside an open literal, each statement ends at the
        top level, there is no backslash outside a literal (forged text in a literal has its
        quotes escaped), that quote opens a literal here (or lies in a well-formed argument of
        another command), and every other command's argument is well formed.  Forged text cannot
        pass: the real closing quote, with the statement's own text after it, leaves a literal
        open in this reading.  Only the entries up to that one are read: what comes after it
        does not tell a forged entry from a cut literal, and may hold other statements whose
        literals hold entry-like lines.  A ``/* */`` comment closes at the same ``*/`` in both
        readings: they never differ, and the lines are text.
        """
        if kind not in (_SQ, _DQ, _BT):
            return False
        close_line, close_at = close
        state = _TOP
        sql = False
        for index, (_, text) in enumerate(buf):
            m = _ENTRY(text)
            start = 0
            if m is not None or _BANNER(text) is not None:
                if sql and state != _TOP:
                    return False  # an entry inside an open literal
                if index > close_line:
                    return True  # the entry holding the quote ended at the top level
                state = _TOP
                if m is None:  # a banner line
                    if index == close_line:
                        return False
                    sql = False
                    continue
                command = m.group(3)
                sql = command in SQL_COMMANDS
                start = m.end()
                if not sql and not _well_formed(command, text[start:]):
                    return False
            elif not sql:
                return False  # text after a command whose argument is one line
            if index == close_line:
                if not sql:
                    return True  # the quote is inside a well-formed argument (checked above)
                before = text[start:close_at]
                if _lex_line(before, state)[0] != _TOP or _lex_line(text[start : close_at + 1], state) != (kind, True):
                    return False
                # A line comment after it could hide the rest of the line (a second literal of the
                # same statement, holding "-- ", would otherwise pass for the end of the entry).
                if _line_comment_outside(text[close_at + 1 :], kind):
                    return False
            elif index > close_line and sql and _line_comment_outside(text[start:], state):
                return False
            if sql:
                segment = text[start:]
                if "\\" in segment and _backslash_outside(segment, state):
                    return False
                state = _lex_line(segment, state)[0]
        return not sql or state == _TOP  # the input ended

    # ------------------------------------------------------------------ table exports
    def _table_records(self, progress: Callable[[int], None] | None) -> Iterator[_Record]:
        csv = self.layout == "table-csv"
        split = _split_csv if csv else _split_tsv
        columns: dict[str, int] | None = None
        first = True
        pending = ""
        start = 0
        lines = _Lines(self.log, progress)
        for n, line in lines:
            if pending:
                record = pending + "\n" + line
            else:
                record, start = line, n
            fields = split(record)
            if fields is None:  # a value goes on in the next line (an escaped or quoted newline)
                pending = record
                continue
            pending = ""
            if first:
                first = False
                if not csv and _is_tsv_header(record):
                    columns = {name: k for k, name in enumerate(record.rstrip("\r").split("\t"))}
                    continue
                columns = {name: k for k, name in enumerate(_TSV_COLUMNS)}
            if not record.strip():
                continue
            rec = self._table_record(start, fields, columns)  # type: ignore[arg-type]
            if rec is not None:
                yield rec
        if pending:
            self._bad(start, "record cut short at the end of the input")
        self.lines_read = lines.count

    def _table_record(self, line: int, fields: list[str | None], columns: dict[str, int]) -> _Record | None:
        def get(name: str) -> str | None:
            k = columns.get(name)
            return fields[k] if k is not None and k < len(fields) else None

        command = get("command_type")
        thread = get("thread_id")
        if command is None or thread is None or not thread.strip().isdigit() or len(fields) != len(columns):
            self._bad(line, f"not a row of mysql.general_log ({len(fields)} fields)")
            return None
        argument = get("argument") or ""
        hexed = _HEX.fullmatch(argument)
        if hexed:  # mysql --binary-as-hex (MySQL 8's argument column is a BLOB)
            argument = bytes.fromhex(hexed.group(1)).decode("utf-8", "surrogateescape")
        when = get("event_time")
        ts = tz = None
        if when:
            parsed = self._time(when.strip())
            if parsed is None:
                self._bad(line, f"unreadable or impossible event_time {when[:40]!r}")
            else:
                ts, tz = parsed
        return _Record(line, ts, tz, thread.strip(), command.strip(), argument, get("user_host"))


_QUOTE_OF = {_SQ: "'", _DQ: '"', _BT: "`"}


def _closing_quote(text: str, kind: int) -> int | None:
    """Where the literal open at the start of ``text`` closes (None: it does not)."""
    closer, quote = _CLOSERS[kind], _QUOTE_OF.get(kind)
    if quote is None:
        return None
    pos = 0
    while (m := closer(text, pos)) is not None:
        if text[m.end() : m.end() + 1] != quote or kind == _BT:
            return m.end() - 1
        pos = m.end() + 1  # a doubled quote is an escaped one
    return None


# The top-level run of a statement, stopping at a "-- " or "#" comment.
_LINE_COMMENT = r"|--(?=[\x00-\x20]|\Z)[^\n]*|#[^\n]*|-)*"
if _LINE_COMMENT not in _TOP_PATTERN:  # pragma: no cover - a loud failure, never a silent misreading
    raise ImportError("the slow-log reader's lexer changed shape: update generallog._LINE_COMMENT")
_TOP_NO_LINE_COMMENT = re.compile(
    _TOP_PATTERN.replace(_LINE_COMMENT, r"|-(?!-(?:[\x00-\x20]|\Z)))*", 1), re.DOTALL
).match


def _line_comment_outside(segment: str, state: int) -> bool:
    """Does ``segment`` (starting in ``state``) have a ``-- `` or ``#`` comment outside a literal?"""
    pos = 0
    if state:
        m = _CLOSERS[state](segment)
        if m is None:
            return False
        pos = m.end()
    end = _TOP_NO_LINE_COMMENT(segment, pos).end()
    return end < len(segment) and segment[end] in "#-"


def _backslash_outside(segment: str, state: int) -> bool:
    """Does ``segment`` (starting in ``state``) have a backslash outside a literal?  (The top-level
    run stops at such a backslash, or at a construct left open, after which all is inside it.)"""
    pos = 0
    if state:
        m = _CLOSERS[state](segment)
        if m is None:
            return False
        pos = m.end()
    end = _TOP_NO_BACKSLASH(segment, pos).end()
    return end < len(segment) and segment[end] == "\\"


def _starts_entry(text: str) -> bool:
    return _ENTRY(text) is not None or _BANNER(text) is not None


def _well_formed(command: str, argument: str) -> bool:
    """The argument of a command other than a statement, as the server writes it."""
    if command in ("Connect", "Change user"):
        return _CONNECT_STRICT.fullmatch(argument) is not None
    if command == "Init DB":
        return bool(argument) and not any(c in argument for c in "'\"` \\")
    if command in ("Field List", "Kill", "Refresh", "Create DB", "Drop DB", "Set option", "Binlog Dump"):
        return "'" not in argument and '"' not in argument and "\\" not in argument
    return not argument.strip()


def _unquote(name: str) -> str:
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


def _parse_time(text: str) -> tuple[float, int | None] | None:
    """(UTC epoch, offset seconds or None) of an entry's time; local times without an offset are
    read as UTC wall-clock times with no known offset, as the slow-log reader does.  None for
    text that is no time, and for a time no server logs (before 1970, after 2199)."""
    parsed = _read_time(text)
    return parsed if parsed is not None and plausible_time(parsed[0]) else None


def _read_time(text: str) -> tuple[float, int | None] | None:
    m = _OLD_TIME.fullmatch(text)
    if m:
        yy, mo, dd, hh, mi, ss = map(int, m.groups())
        try:
            return datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=timezone.utc).timestamp(), None
        except ValueError:
            return None
    value = text[:-1] + "+00:00" if text.endswith("Z") else text
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc).timestamp(), None
    offset = dt.utcoffset()
    return dt.timestamp(), int(offset.total_seconds()) if offset is not None else 0


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE(lambda m: _ESCAPED.get(m.group(1), m.group(1)), text)


def _split_tsv(record: str) -> list[str | None] | None:
    """The fields of a tab-separated record with the server's backslash escapes; None when a
    value goes on in the next line (a newline written as a backslash and the newline)."""
    if "\\" not in record:
        return record.split("\t")  # type: ignore[return-value]
    fields: list[str | None] = []
    pos, n = 0, len(record)
    while True:
        end = _TSV_FIELD(record, pos).end()
        value = record[pos:end]
        if end < n and record[end] == "\\":  # a lone backslash at the end: the record goes on
            return None
        fields.append(None if value == "\\N" else _unescape(value))
        if end >= n:
            return fields
        pos = end + 1


def _split_csv(record: str) -> list[str | None] | None:
    """The fields of a comma-separated record, strings in double quotes, backslash escapes (and
    doubled quotes); None when a quoted value goes on in the next line."""
    fields: list[str | None] = []
    pos, n = 0, len(record)
    while True:
        if pos < n and record[pos] == '"':
            m = _CSV_QUOTED(record, pos)
            if m is None:
                return None
            fields.append(_unescape(m.group(1).replace('""', '"')))
            end = m.end()
        else:
            end = _CSV_BARE(record, pos).end()
            if end < n and record[end] == "\\":
                return None
            value = record[pos:end]
            fields.append(None if value == "\\N" else _unescape(value))
        if end >= n:
            return fields
        if record[end] != ",":
            return fields + [record[end:]]  # not a CSV row: reported by the caller as too many fields
        pos = end + 1


class _Lines:
    """The input's lines with their numbers, and lines pushed back to be read again."""

    def __init__(self, log: LogInput, progress: Callable[[int], None] | None) -> None:
        self.log, self.progress = log, progress
        self.blocks = iter_text_blocks(log)
        self.buffer: list[str] = []
        self.at = 0
        self.count = 0  # the number of the last line read from the input
        self.pushed: list[tuple[int, str]] = []  # a stack: the next line last

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> tuple[int, str]:
        item = self.next()
        if item is None:
            raise StopIteration
        return item

    def next(self) -> tuple[int, str] | None:
        if self.pushed:
            return self.pushed.pop()
        while self.at >= len(self.buffer):
            block = next(self.blocks, None)
            if block is None:
                return None
            lines = block.split("\n")
            if block.endswith("\n"):
                lines.pop()
            self.buffer, self.at = lines, 0
            if self.progress is not None:
                self.progress(self.log.position())
        line = self.buffer[self.at]
        self.at += 1
        self.count += 1
        return self.count, line

    def push(self, items: list[tuple[int, str]]) -> None:
        self.pushed.extend(reversed(items))
