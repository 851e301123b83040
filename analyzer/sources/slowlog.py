"""Streaming reader for slow query logs of MySQL 5.1-9.x, MariaDB and Percona Server.

One pass, line by line, constant memory per event.  An event is a run of header lines
(``# Time:``, ``# User@Host:``, ``# Query_time: ...`` and the dialect's extra ``# Key: value``
lines), optional ``use db;`` and ``SET timestamp=...;`` lines, and the statement text.

The server writes a statement verbatim and then ``;``, so a string literal or comment may hold
lines that look like a header (a value typed into a search box can forge a whole event).  A
new event starts only where the server can have started one: after a statement line ending in
``;`` with no string literal, quoted identifier or ``/* */`` comment open (the reader follows
the statement's SQL lexical state), or after a server start banner, and only at a whole
header: ``#`` lines up to the ``# Query_time:`` line.  Anything else is statement text: ``#``
comment lines, a lone ``# User@Host:`` line, a forged header inside a literal.  A literal cut
short (a damaged log) costs only its event, reported malformed, and reading goes on from the
header after the cut: when it is still open ``lookahead_lines`` lines after a header inside it
or at the end of the input, or when a later statement's quote closes it while the lines from
that header read as whole events (``SlowLogReader._judge``).

Everything odd is survivable: server start banners mid-file are skipped, statement text with
no header (a log cut mid-event), a header with no statement (a dangling header at the end)
and unusable header values are recorded as ``Malformed`` with file and line, and reading
goes on.
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

from analyzer.model import MAX_EPOCH, Malformed, QueryEvent, plausible_time
from analyzer.native import speedups
from analyzer.sources.inputs import LogInput, iter_text_blocks, open_log

# A header line that may start an event after a statement: "# Key: ..." with a capitalised
# key (Percona indents its InnoDB lines), or MySQL's "# administrator command:".
_HEADER_LINE = re.compile(r"#\s+(?:[A-Z][A-Za-z_@]*:|administrator command:)")
# Server start banners (pt-query-digest's SlowLogParser uses the same three shapes).
_BANNER = re.compile(
    r"(?:(?:[/A-Za-z].*[/\\])?(?:mysqld|mariadbd)(?:\.exe)?, Version: .*(?:started with:|embedded library)"
    r"|T[cC][pP] [pP]ort: \d+"
    r"|Time\s+Id\s+Command)"
)


# The reason given for text met before any event header: a file with nothing else is no slow log.
HEADERLESS_STATEMENT = "statement text without an event header (log starts mid-event?)"


def _is_banner(line: str) -> bool:
    """A server start banner line (cheap substring tests before the regex)."""
    if "Version: " in line or line.startswith(("Tcp ", "TCP ", "Time")):
        return _BANNER.match(line) is not None
    return False


_VERSION = re.compile(r"Version: (\S+)(.*?)\. started with:")
_USER_HOST = re.compile(r"# User@Host: ([^\[]+|\[[^\[]+\]).*?@ (\S*) \[(.*?)\](?:\s*Id:\s*(\d+))?")
_OLD_TIME = re.compile(r"(\d\d)(\d\d)(\d\d)\s+(\d{1,2}):(\d\d):(\d\d)(?:\.(\d+))?")
_SET_HEADER = re.compile(r"SET\s+(?:last_insert_id|insert_id|timestamp)\s*=", re.IGNORECASE)
_USE = re.compile(r"use\s+(.+?);?\s*$")
_FAST_HEADER_PATTERN = (
    r"(?:# Time: ([^\n#]*)\n)?"
    r"(# User@Host: [^\n]*)\n"
    r"(?:# Query_time: ([\d.]+)\s+Lock_time: ([\d.]+)\s+Rows_sent: (\d+)\s+Rows_examined: (\d+)[ \t]*"
    r"|(# Query_time: [^\n]*))\n"
    r"(use [^\n]*\n)?"
    r"(SET (?:last_insert_id|insert_id|timestamp)=[^\n]*)\n"
)
_FAST_HEADER = re.compile(_FAST_HEADER_PATTERN).match
# A block's tail from an event the fast paths could not read is read again with the next block
# when it is shorter than this (the event goes on there); longer ones go to the line machine.
_CARRY_TAIL = 1 << 16
_SET_TIMESTAMP_ONLY = re.compile(r"SET timestamp=(\d+(?:\.\d+)?);").fullmatch
# What MySQL writes before an INSERT into an AUTO_INCREMENT table: "SET insert_id=N,timestamp=T;".
_SET_IDS_TIMESTAMP = re.compile(r"SET (?:(?:last_insert_id|insert_id)=\d+,)+timestamp=(\d+(?:\.\d+)?);").fullmatch
_NOT_A_FIRST_CHAR = frozenset(" \t\r\n#")
_CLASSIC_TIMES = re.compile(
    r"# Query_time: ([\d.]+)\s+Lock_time: ([\d.]+)\s+Rows_sent: (\d+)\s+Rows_examined: (\d+)\s*"
).fullmatch

# ---- The SQL lexical state of a statement, so that header-like text inside a string literal or
# a /* */ comment is not taken for an event header.  MySQL's rules: backslash escapes in '...'
# and "..." (a doubled quote closes and reopens: the same state), none in `...`; "-- " and "#"
# comments end at the line end; /*! and /*M! executable comments are SQL (only their markers
# are skipped).  Every pattern is unambiguous, so an unterminated construct costs one scan.
_TOP, _SQ, _DQ, _BT, _BLOCK = range(5)
_TOP_PATTERN = (
    r"""(?:[^'"`/#-]+"""
    r"""|'[^'\\]*(?:\\.[^'\\]*)*'"""
    r"""|"[^"\\]*(?:\\.[^"\\]*)*\""""
    r"|`[^`]*`"
    r"|/\*M?!|/\*.*?\*/|/(?!\*)"
    r"|--(?=[\x00-\x20]|\Z)[^\n]*|#[^\n]*|-)*"
)
_TOP_RUN = re.compile(_TOP_PATTERN, re.DOTALL).match
# The same, stopping at a backslash outside a literal (see _second_reading).
_TOP_NO_BACKSLASH = re.compile(_TOP_PATTERN.replace("[^'\"`/#-]+", "[^'\"`/#\\\\-]+", 1), re.DOTALL).match
_CLOSERS = {
    _SQ: re.compile(r"[^'\\]*(?:\\.[^'\\]*)*'", re.DOTALL).match,
    _DQ: re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL).match,
    _BT: re.compile(r"[^`]*`").match,
    _BLOCK: re.compile(r".*?\*/", re.DOTALL).match,
}
_OPENERS = {"'": _SQ, '"': _DQ, "`": _BT, "/": _BLOCK}
_QUOTELESS_IDENTIFIERS = re.compile(r"`[^`']*`").sub
_OPEN_NAMES = {
    _SQ: "string literal '...'",
    _DQ: 'string literal "..."',
    _BT: "quoted identifier `...`",
    _BLOCK: "comment /* ... */",
}


def _lex_line(text: str, state: int) -> tuple[int, bool]:
    """The lexical state after ``text`` (a line, or a whole statement) that starts in
    ``state``, and whether the construct open at its end was opened in ``text``."""
    if not state:
        quick = _lex_quick(text)
        if quick is not None:
            return quick, quick != _TOP
    pos = 0
    if state:
        m = _CLOSERS[state](text)
        if m is None:
            return state, False
        pos = m.end()
    end = _TOP_RUN(text, pos).end()
    if end == len(text):
        return _TOP, False
    return _OPENERS[text[end]], True


def _lex_quick(text: str) -> int | None:
    """``_lex_line`` from the top level for the common statement, with str scans, many times
    faster than the regex: no escape, no double quote, no "#" or "--" comment, at most one
    /* */ comment (a service tag, an optimizer hint, an ORM's sqlcommenter tags), and no quote
    inside a backtick identifier.  None for anything else."""
    if "\\" in text or '"' in text or "#" in text or ("-" in text and "--" in text):
        return None
    if "/" in text and "/*" in text:
        start = text.find("/*")
        end = text.find("*/", start + 2)
        if end < 0 or text.find("/*", start + 2) >= 0 or text[start + 2 : start + 3] in ("!", "M"):
            return None
        if start and _quote_state(text[:start]) != _TOP:
            return None  # the "/*" may be inside a literal: the regex knows
        text = text[end + 2 :]  # the comment ends at the top level: go on from there
    return _quote_state(text)


def _quote_state(text: str) -> int | None:
    """The state after ``text``, which has no escape, comment or double quote."""
    if "`" not in text:
        return _SQ if text.count("'") & 1 else _TOP
    if "'" not in text:
        return _BT if text.count("`") & 1 else _TOP
    # A `...` run without a quote is neutral, an identifier or inside a literal: drop them; if
    # no backtick is left, the single quotes alone decide.
    text = _QUOTELESS_IDENTIFIERS("", text)
    if "`" in text:
        return None
    return _SQ if text.count("'") & 1 else _TOP


def _top_level(statement: str) -> bool:
    """True when ``statement`` leaves no string, quoted identifier or comment open."""
    return _lex_line(statement, _TOP)[0] == _TOP


# An event header is a run of "#" lines that reaches "# Query_time:" (or an administrator
# command); after a statement, anything else is statement text: "#" comment lines, a lone
# "# User@Host:".
_RUN_MAX = 32


def _header_run(lines: list[str], i: int, final: bool) -> bool | None:
    """Does an event header start at ``lines[i]``?  None: the lines end before that is
    decided and more may follow (with ``final`` none do, and a dangling header counts)."""
    if lines[i].startswith("# administrator command:"):
        return False  # the statement of an event, never its first line
    end = min(len(lines), i + _RUN_MAX)
    for j in range(i, end):
        line = lines[j]
        if line.startswith("#"):
            if line.startswith("# Query_time:") or (j > i and line.startswith("# administrator command:")):
                return True
        elif line and not line.isspace():
            return False
    if end < len(lines):
        return False  # a long run of "#" lines without a Query_time: comments
    return True if final else None


def _could_start(lines: list[str], i: int, after_statement: bool = True) -> bool:
    """Could an event start at ``lines[i]``, had no literal been open?  A whole header or a
    server start banner, after a line ending in ";" or a banner (unless not
    ``after_statement``: a statement cut short lacks its ";")."""
    line = lines[i]
    if line[:1] == "#":
        if not _may_head(line) or _header_run(lines, i, True) is not True:
            return False
    elif not _is_banner(line):
        return False
    if not after_statement:
        return True
    for k in range(i - 1, -1, -1):
        previous = lines[k]
        if previous and not previous.isspace():
            return previous.rstrip().endswith(";") or _is_banner(previous)
    return False


def _plain_statement(statement: str) -> bool:
    """Can the fast paths take ``statement`` (the text between an event's header and the next
    header) as the whole statement, as the line machine would?  It must have no line starting
    with "#", no blank first line, nothing like a server banner, no second "use"/"SET" header
    line, and end with ";" with no literal, quoted identifier or comment open: only then is
    the next "# Time:" a header and not statement text."""
    if not statement or "\n#" in statement:
        return False
    if statement[0] in _NOT_A_FIRST_CHAR and (
        statement[0] not in " \t" or not statement[: statement.find("\n")].strip()
    ):
        return False  # a blank first line, which the line machine skips, or a "#" line
    if "Version: " in statement or statement.startswith(("Tcp ", "TCP ", "Time")) or ("\nT" in statement):
        return False  # possibly a server banner: the line machine knows what to do
    if statement.startswith("use ") or (statement[:3].upper() == "SET" and _SET_HEADER.match(statement)):
        return False  # a second "use"/"SET" line: the line machine decides what it is
    if not (statement[-1] == ";" or statement.rstrip().endswith(";")):
        return False  # the next "# Time:" is statement text: the line machine decides
    if (
        "`" in statement
        or '"' in statement
        or "\\" in statement
        or "#" in statement
        or ("/" in statement and "/*" in statement)
        or ("-" in statement and "--" in statement)
    ):
        return _top_level(statement)  # else the next "# Time:" is inside a literal or comment
    return not statement.count("'") & 1  # only single quotes, no escape or comment: each opens or closes


def _may_head(line: str) -> bool:
    """A line that an event header could start with."""
    return line.startswith(("# Time:", "# User@Host:")) or (
        _HEADER_LINE.match(line) is not None and not line.startswith("# administrator command:")
    )


# How each header attribute is stored.  Unlisted keys are numeric metrics when their first
# value is a number, 0/1 flags when it is Yes/No, and string attributes otherwise.
_NUM, _MS, _FLAG, _NONZERO, _STR, _SCHEMA, _THREAD, _SKIP = range(8)
_KNOWN_KEYS: dict[str, tuple[str, int]] = {
    "Query_time": ("query_time", _NUM),
    "Lock_time": ("lock_time", _NUM),
    "Rows_sent": ("rows_sent", _NUM),
    "Rows_examined": ("rows_examined", _NUM),
    "Schema": ("db", _SCHEMA),
    "Thread_id": ("thread_id", _THREAD),
    "Id": ("thread_id", _THREAD),
    "InnoDB_trx_id": ("innodb_trx_id", _STR),
    "Log_slow_rate_type": ("log_slow_rate_type", _STR),
    "Log_slow_rate_limit": ("log_slow_rate_limit", _STR),
    "Start": ("start", _SKIP),
    "End": ("end", _SKIP),
    # MariaDB writes these two in milliseconds (pt-query-digest misreads them as seconds).
    "Pages_read_time": ("pages_read_time", _MS),
    "Engine_time": ("engine_time", _MS),
    # Error numbers and kill codes are not additive: count the statements that had one.
    "Errno": ("errors", _NONZERO),
    "Last_errno": ("errors", _NONZERO),
    "Killed": ("killed", _NONZERO),
    "QC_Hit": ("qc_hit", _FLAG),
    "QC_hit": ("qc_hit", _FLAG),
}
_YES_NO = {"Yes": 1.0, "No": 0.0, "yes": 1.0, "no": 0.0, "YES": 1.0, "NO": 0.0}


def _metric_name(key: str) -> str:
    return key.lower()


class SlowLogReader:
    """Reads one slow log and yields ``QueryEvent`` objects.

    >>> reader = SlowLogReader.from_path("sample_workloads/shop/slow.log.gz")  # doctest: +SKIP
    >>> for event in reader.events(): ...                                      # doctest: +SKIP

    After iteration ``malformed`` holds the events that could not be used (at most
    ``max_malformed`` of them; ``malformed_count`` counts all), ``events_read`` the number of
    events yielded and ``dialect`` what the log looked like.

    Event headers inside a string literal or comment are statement text.  When a literal stays
    open for ``lookahead_lines`` lines or ``lookahead_bytes`` bytes after such a header (or is
    found cut short otherwise, see ``_judge``), the event is reported malformed and reading goes
    on from the header after the cut.
    """

    # How long a literal may stay open after a header-like line inside it before the reader
    # takes it for a literal that never closes.
    LOOKAHEAD_LINES = 10_000
    LOOKAHEAD_BYTES = 8 << 20

    def __init__(
        self,
        log: LogInput,
        *,
        max_malformed: int = 1000,
        lookahead_lines: int | None = None,
        lookahead_bytes: int | None = None,
    ) -> None:
        self.log = log
        self.name = log.name
        self.malformed: list[Malformed] = []
        self.malformed_count = 0
        self.max_malformed = max_malformed
        self.lookahead_lines = self.LOOKAHEAD_LINES if lookahead_lines is None else lookahead_lines
        self.lookahead_bytes = self.LOOKAHEAD_BYTES if lookahead_bytes is None else lookahead_bytes
        # A byte range that ends before the end of its file (a part of a parallel read): what
        # is open at its end may close after it, so it is not judged here (see clean_end).
        self.partial = log.end is not None and log.size is not None and log.end < log.size
        # After iteration: the input ended where an event ends (see _clean_end); if not, the
        # line the unfinished event began on (0: unknown).
        self.clean_end = True
        self.tail_start = 0
        self.events_read = 0
        self.lines_read = 0
        self.server_version: str | None = None
        self._flavor_hints: set[str] = set()
        self._detect = True
        self._keys: dict[str, tuple[str, int]] = dict(_KNOWN_KEYS)
        # Carried from event to event, as the server does: "use db;" is only written when the
        # database changes and MariaDB writes "# Time:" only when the second changes.
        self.last_db: str | None = None
        self.last_ts: float | None = None
        self.last_tz: int | None = None
        # The server's UTC offset, learned from a local "# Time" and the UTC "SET timestamp".
        self.naive_offset: int | None = None
        self._time_cache: tuple[str, tuple[float, int | None, bool] | None] = ("", None)
        self._utc_second = ""  # "YYYY-MM-DDTHH:MM:SS" of the last "# Time:" in UTC with microseconds
        self._utc_second_base = 0.0  # its epoch
        self._user_host_cache: dict[str, tuple[str, str | None, str | None]] = {}
        self._use_cache: dict[str, str] = {}
        self._shapes: dict[tuple[str, int], _Shape | object | None] = {}
        self._peek: tuple[str, int, re.Match[str]] | None = None  # the fast path's next header

    @classmethod
    def from_path(cls, path: str, **kwargs: object) -> SlowLogReader:
        return cls(open_log(path), **kwargs)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ results
    @property
    def dialect(self) -> str:
        """``mysql``, ``mariadb`` or ``percona``, with the server version when a banner gave it."""
        return dialect_name(self._flavor_hints, self.server_version)

    @property
    def flavor_hints(self) -> frozenset[str]:
        return frozenset(self._flavor_hints)

    def _bad(self, line: int, reason: str) -> None:
        self.malformed_count += 1
        if len(self.malformed) < self.max_malformed:
            self.malformed.append(Malformed(self.name, line, reason))

    # ------------------------------------------------------------------ parsing
    def events(self, progress: Callable[[int], None] | None = None) -> Iterator[QueryEvent]:
        """Yield the log's events in order.  ``progress`` is called with the number of input
        bytes consumed so far after each block (about 1 MiB)."""
        try:
            yield from self._parse(progress)
        finally:
            self.log.close()

    def _parse(self, progress: Callable[[int], None] | None) -> Iterator[QueryEvent]:
        header_line = _HEADER_LINE.match
        banner = _is_banner
        ev = _Pending(self)
        lineno = 0
        fast_event = self._fast_event
        scan_classic = speedups.scan_classic if speedups is not None else None
        source = iter_text_blocks(self.log)
        # Text to read again before the next block: the lines from one whose role depends on
        # lines not read yet (a header that may go on in the next block), or a statement cut
        # at a header after a literal that never closed.
        carry = ""
        final = False  # no block after this one
        while True:
            block = None if final else next(source, None)
            if block is None:
                final = True
                if not carry:
                    if ev.cand is not None and not self.partial:
                        # The input ends after a header inside a literal: was it cut short?
                        replay = self._judge(ev, at_end=True)
                        if replay is not None:
                            carry, lineno = replay
                            continue
                    break
                block, carry = carry, ""
            elif carry:
                block, carry = carry + block, ""
            offset = 0  # of lines[index] in block
            # The fast paths read the block itself; its lines are split when the line machine
            # needs them, from there on (the lines before are never read again: "" stands in).
            lines: list[str] | None = None
            count = block.count("\n") + (not block.endswith("\n"))
            index = 0
            while index < count:
                if ev.start == 0 and ev.qlines is None and block.startswith(("# Time: ", "# User@Host: "), offset):
                    if scan_classic is not None:
                        run = scan_classic(
                            block, offset, lineno, self._utc_second, self._utc_second_base,
                            self._user_host_cache, self._use_cache, self.last_db, self.name, QueryEvent,
                            self._learn,
                        )  # fmt: skip
                        if run is not None:  # a run of common events, read as _fast_event reads them
                            events, consumed, offset, self.last_db, self.last_ts, *second = run
                            self._utc_second, self._utc_second_base = second
                            self.last_tz = 0
                            self.events_read += len(events)
                            index += consumed
                            lineno += consumed
                            yield from events
                            continue
                    fast = fast_event(ev, block, offset, lineno)
                    if fast is not None:
                        event, consumed, offset = fast
                        index += consumed
                        lineno += consumed
                        if event is not None:
                            yield event
                        continue
                    if not final and len(block) - offset < _CARRY_TAIL:
                        # Most likely the block's last event, whose end is in the next block: read
                        # it there, whole, instead of splitting this block and the next into lines.
                        carry = block[offset:]
                        break
                if lines is None:
                    lines = [""] * index + block[offset:].split("\n")
                    if block.endswith("\n"):
                        lines.pop()
                line = lines[index]
                first = line[:1]
                qlines = ev.qlines
                if qlines is not None:
                    # Inside the statement: does this line end it?  A header after a line ending
                    # in ";" at the top lexical level (or a banner) does; anything else is text.
                    if first == "#":
                        if line.startswith(("# Time:", "# User@Host:")) or header_line(line) is not None:
                            ends = self._ends_statement(ev, lines, index, final)
                        else:
                            ends = False
                    elif ev.ends_stmt and banner(line):
                        ends = self._banner_ends_statement(ev)
                    else:
                        ends = False
                    if ends is None:  # decided by lines of the next block
                        carry = block[offset:]
                        break
                    if ev.cand is not None:
                        replay = None
                        if ends:
                            # The literal open at an earlier header has closed: was that header
                            # forged, or the literal cut short?
                            replay = self._judge(ev)
                        else:
                            ev.cand_lines += 1
                            ev.cand_bytes += len(line)
                            if ev.cand_lines > self.lookahead_lines or ev.cand_bytes > self.lookahead_bytes:
                                replay = self._judge(ev, at_end=True, budget=True)
                        if replay is not None:
                            text, lineno = replay
                            carry = text + block[offset:]
                            break
                    if not ends:
                        index += 1
                        offset += len(line) + 1
                        lineno += 1
                        qlines.append(line)
                        if line.endswith(";"):
                            ev.ends_stmt = True
                        else:
                            stripped = line.rstrip()
                            if stripped:  # a blank line changes nothing
                                ev.ends_stmt = stripped.endswith(";")
                        continue
                    event = ev.finish()
                    if event is not None:
                        yield event
                    continue  # this line starts the next event: the fast paths first, as above
                index += 1
                offset += len(line) + 1
                lineno += 1

                # ---- header state: no statement text yet
                if first == "#":
                    if line.startswith("# Time:"):
                        value = line[7:].strip()
                        uh = value.find("# User@Host:")
                        if uh >= 0:  # MySQL 5.0 could write both on one line
                            value, line = value[:uh].strip(), value[uh:]
                        event = ev.set_time(value, lineno)
                        if event is not None:
                            yield event
                        if uh < 0:
                            continue
                    if line.startswith("# User@Host:"):
                        event = ev.set_user_host(line, lineno)
                        if event is not None:
                            yield event
                        continue
                    if line.startswith("# administrator command:"):
                        event = ev.finish_admin(line, lineno)
                        if event is not None:
                            yield event
                        continue
                    if line.startswith("# explain:"):
                        if ev.explain is None:
                            ev.explain = []
                        ev.explain.append(line[10:].strip())
                        continue
                    if line.startswith(("# Warning ", "# Note ", "# Error ")) and ev.has_header:
                        # MariaDB's log_slow_verbosity=warnings block: count them.
                        ev.metrics["warnings"] = ev.metrics.get("warnings", 0.0) + 1.0
                        continue
                    if header_line(line) is None:
                        if ev.set_ts is not None:
                            # After "SET timestamp=" the statement begins, even with a comment.
                            ev.start_statement(line, lineno)
                        continue  # "#", "# No InnoDB statistics ...", "# Warnings", ...
                    if line.startswith("# Query_time:"):
                        if "query_time" in ev.metrics or ev.broken:
                            event = ev.flush_headerless()
                            if event is not None:
                                yield event
                    elif self._detect and self.events_read < 1000:
                        self._detect_flavor(line)
                    # Any header line opens an event: a log that starts in the middle of a
                    # header still has the rest of that event.
                    ev.open(lineno)
                    self._attributes(line, ev)
                    continue

                if not line or line.isspace():
                    continue
                if first == "u" and ev.has_header and ev.db_line is None and line.startswith("use "):
                    # The server writes "use db;" (lower case, once) when the database
                    # changes; "USE x" or a second "use" line is the statement itself.
                    m = _USE.match(line)
                    if m:
                        ev.db_line = self.last_db = m.group(1).strip().strip("`")
                        ev.use_line = line
                        continue
                elif first in "sS" and ev.has_header and _SET_HEADER.match(line):
                    ev.set_statement_settings(line, lineno)
                    continue
                elif banner(line):
                    self._note_banner(line)
                    if ev.start:
                        event = ev.flush_headerless()
                        if event is not None:
                            yield event
                    continue
                ev.start_statement(line, lineno)
            if progress is not None:
                progress(self.log.position())

        self.lines_read = lineno
        self.clean_end = self._clean_end(ev)
        self.tail_start = 0 if self.clean_end else ev.start  # where the event the input ended inside began
        if ev.qlines is not None:
            event = ev.finish()
            if event is not None:
                yield event
        elif ev.has_header:
            event = ev.flush_headerless("event header without a statement at end of file (log cut short?)")
            if event is not None:
                yield event

    # ------------------------------------------------------------------ event boundaries
    def _ends_statement(self, ev: _Pending, lines: list[str], index: int, final: bool) -> bool | None:
        """Does the header-like line ``lines[index]`` end the statement being read?

        Only where the server can have started an event: after a statement line that ends in
        ";" (the server writes one after every statement) with no literal or comment open, or
        after a server start banner; and only when a whole header follows, up to its
        "# Query_time:".  None: that depends on lines not read yet.
        """
        if not ev.has_header:
            return True  # statement text from before the log began: the first header ends it
        if ev.lex_state() == _TOP:
            if not ev.ends_stmt and not ev.after_banner():
                return False  # a "#" comment line inside the statement
            return _header_run(lines, index, final)
        # A header inside a literal or comment is text.  Remember the first one: if the
        # literal was cut short (a damaged log, where the statement lacks its ";" too), the
        # event is cut there after all (_give_up, _judge).
        if ev.cand is None and _may_head(lines[index]):
            self._candidate(ev)
        return False

    def _banner_ends_statement(self, ev: _Pending) -> bool:
        """A server start banner after a statement ended by ";" ends it, unless a literal is open."""
        if ev.lex_state() == _TOP:
            return True
        if ev.cand is None:
            self._candidate(ev)
        return False

    @staticmethod
    def _candidate(ev: _Pending) -> None:
        """Remember the current line as where the event would end if the open literal never
        closes (``lex_state`` is up to date)."""
        ev.cand = len(ev.qlines or ())
        ev.cand_lines = ev.cand_bytes = 0
        ev.cand_state, ev.cand_open = ev.lex, ev.qline + ev.open_at

    def _give_up(self, ev: _Pending) -> tuple[str, int] | None:
        """The look-ahead is over and the literal is still open: cut the statement where the
        input reads as events again, report the event malformed and return (the text to read
        again from there, the line number before it).  None when the literal has closed or no
        such place exists: the statement goes on.

        The cut is the first header after which the buffered lines read without a header
        inside an open literal: the first one inside the literal may be forged, with the rest
        of the literal (and its closing quote) after it."""
        qlines = ev.qlines or []
        state = ev.lex_state()
        i = ev.cand
        ev.cand = None
        if state == _TOP or i is None:
            return None
        n = len(qlines)
        after_statement = False  # the first try: a statement cut short lacks its ";"
        while True:
            while i < n and not _could_start(qlines, i, after_statement):
                i += 1
            if i >= n:
                return None
            state, j = _TOP, i + 1
            while j < n and (state == _TOP or not _could_start(qlines, j)):
                state = _lex_line(qlines[j], state)[0]
                j += 1
            if j >= n:
                break
            i, after_statement = j, True  # a header inside a literal opened after line i: from there
        cut = ev.qline + i
        ev.abandon(
            f"{_OPEN_NAMES[ev.cand_state]} opened on line {ev.cand_open} never closes: "
            f"the event is cut at the header on line {cut}"
        )
        return "\n".join(qlines[i:]) + "\n", cut - 1

    def _judge(self, ev: _Pending, at_end: bool = False, budget: bool = False) -> tuple[str, int] | None:
        """A header came inside a literal that was open (``ev.cand``), and now the statement
        would end (its literal has closed), or the look-ahead or the input is over.

        Usually that header was forged text in the literal: the event is whole.  But a literal
        cut short (a damaged log) is "closed" too, by the first quote of a later statement,
        with real events in between; the second reading, from that header as events, tells
        them apart (``_second_reading``).  A literal still open when the look-ahead or the
        input is over was cut short (``_give_up``).  Returns None (the statement ends here, or
        reading goes on) or (the text to read again, the line number before it).
        """
        if budget or (at_end and ev.lex_state() != _TOP):
            return self._give_up(ev)  # (None if the literal has closed: its headers were text)
        first, holds = self._second_reading(ev)
        ev.cand = None
        if not holds:
            return None
        cut = ev.qline + first
        qlines = ev.qlines or []
        ev.abandon(
            f"{_OPEN_NAMES[ev.cand_state]} opened on line {ev.cand_open} is cut short: "
            f"the event is cut at the header on line {cut}"
        )
        return "\n".join(qlines[first:]) + "\n", cut - 1

    def _second_reading(self, ev: _Pending) -> tuple[int, bool]:
        """Read the statement's lines as events from the first whole header after ``ev.cand``:
        returns (that line, does the reading hold).

        It holds when it never has a header inside an open literal, sees the quote that closed
        the literal in the first reading open a new one at the top level, has no backslash
        outside a literal, and ends at the top level.  Forged text cannot fake that: in it
        every quote of its literal's kind is escaped, so the real closing quote leaves a
        literal open at the end, unless a backslash, a comment or another open literal comes
        before that quote, which fails the other tests.
        """
        qlines = ev.qlines or []
        n = len(qlines)
        kind, start = ev.cand_state, ev.cand or 0
        if kind == _BLOCK:  # a "*/" closes one comment in either reading: they never differ
            return start, False
        close_line, close_at = -1, -1
        closer, quote = _CLOSERS[kind], "'" if kind == _SQ else '"' if kind == _DQ else "`"
        for j in range(start, n):
            line, pos = qlines[j], 0
            while (m := closer(line, pos)) is not None:
                if line[m.end() : m.end() + 1] != quote:
                    close_line, close_at = j, m.end() - 1
                    break
                pos = m.end() + 1  # a doubled quote is an escaped one
            if close_line >= 0:
                break
        first = start
        while first < n and not _could_start(qlines, first, False):
            first += 1
        if close_line < first:
            return first, False  # closed before any whole header: nothing to cut at
        state = _TOP
        for j in range(first, n):
            line = qlines[j]
            if state != _TOP and _could_start(qlines, j):
                return first, False
            if j == close_line and (
                _lex_line(line[:close_at], state)[0] != _TOP or _lex_line(line[: close_at + 1], state) != (kind, True)
            ):
                return first, False
            if "\\" in line:
                pos = 0
                if state:
                    m = _CLOSERS[state](line)
                    pos = len(line) if m is None else m.end()
                end = _TOP_NO_BACKSLASH(line, pos).end()
                if end < len(line) and line[end] == "\\":
                    return first, False
            state = _lex_line(line, state)[0]
        return first, state == _TOP

    def _clean_end(self, ev: _Pending) -> bool:
        """Did the input end where an event ends (a statement ended by ";" at the top lexical
        level, or no event pending)?  For a byte range of a log read in parallel: otherwise
        the range's last event may go on in the next range."""
        if ev.qlines is not None:
            return not ev.has_header or (ev.ends_stmt and ev.cand is None and ev.lex_state() == _TOP)
        return ev.start == 0 and not ev.has_header

    def _attributes(self, line: str, ev: _Pending) -> None:
        """Read a "# Key: value  Key: value" header line into the pending event."""
        metrics = ev.metrics
        m4 = _CLASSIC_TIMES(line)
        if m4 is not None:
            # The classic 4-field line (MySQL, MariaDB): no token loop needed.
            try:
                qt, lt, rs, rx = map(float, m4.groups())
            except ValueError:
                pass
            else:
                metrics["query_time"] = qt
                metrics["lock_time"] = lt
                metrics["rows_sent"] = rs
                metrics["rows_examined"] = rx
                return
        # Lines of one server repeat the same keys in the same order (MySQL 8's log_slow_extra
        # line has 22): recognise the shape by its key tokens and convert all the numbers in
        # one call, instead of walking the tokens one by one.
        signature = (line[: line.find(":")], line.count(":"))  # the first key, and how many
        shape = self._shapes.get(signature, _UNKNOWN)
        if shape is not None and shape is not _UNKNOWN:
            tokens = line.split()
            if len(tokens) == shape.size and tokens[1::2] == shape.keys:  # "#", key, value, key, value...
                values = tokens[2::2]
                flags = [_YES_NO.get(values[i]) for i in shape.flag_at] if shape.flag_at else ()
                if None not in flags:
                    try:
                        metrics.update(zip(shape.numbers, map(float, shape.pick(values))))
                    except ValueError:
                        pass  # a number that is not one: the general rules below decide
                    else:
                        if flags:
                            metrics.update(zip(shape.flags, flags))
                        for i, mname, kind in shape.others:
                            _store(ev, mname, kind, values[i])
                        return
        keys = self._attributes_generic(line, ev)
        if shape is _UNKNOWN and len(self._shapes) < 256:
            self._shapes[signature] = _Shape.of(keys, self._keys)

    def _attributes_generic(self, line: str, ev: _Pending) -> list[str]:
        """The token walk: a token ending in ":" is a key, the next token its value unless it is
        a key too.  Returns the keys in order."""
        metrics = ev.metrics
        keys = self._keys
        seen: list[str] = []
        plain = True  # only "Key: value" pairs (a shape can be learned from the line)
        tokens = line[1:].split()
        n = len(tokens)
        i = 0
        while i < n:
            tok = tokens[i]
            i += 1
            if tok[-1:] != ":":
                plain = False
                continue
            key = tok[:-1]
            seen.append(key)
            if i < n and tokens[i][-1:] != ":":
                value = tokens[i]
                i += 1
            else:
                value = ""
            spec = keys.get(key)
            if spec is None:
                spec = keys[key] = _classify(key, value)
            mname, kind = spec
            if kind == _NUM:
                try:
                    metrics[mname] = float(value)
                except ValueError:
                    flag = _YES_NO.get(value)
                    if flag is not None:
                        metrics[mname] = flag
                    elif mname == "query_time":
                        ev.broken = f"unusable Query_time {value[:40]!r}"
                    elif value:
                        ev.attrs[mname] = value
            else:
                _store(ev, mname, kind, value)
        return seen if plain else []

    def _fast_event(
        self, ev: _Pending, block: str, offset: int, lineno: int
    ) -> tuple[QueryEvent | None, int, int] | None:
        """Read a whole common event at ``offset`` in one go, or None to let the line machine do it.

        The common shape (MySQL 5.1-9.x): optional "# Time:", "# User@Host:", "# Query_time:"
        (any fields), optional "use db;", "SET timestamp=...;", then a statement that has no
        line starting with "#", ends with ";" and no literal or comment open, and is followed
        in this block by the header of another such event (whose match is kept for the next
        call).  It is read with the same helpers as the line machine, so the event is the same; anything
        else (MariaDB's and Percona's extra lines, comments, banners, header-like text in a
        literal, the end of a block) goes to the line machine.  Returns (event, lines
        consumed, next offset).
        """
        peek = self._peek
        if peek is not None and peek[0] is block and peek[1] == offset:
            m = peek[2]  # matched when the previous event was read
        else:
            m = _FAST_HEADER(block, offset)
            if m is None:
                return None
        body = m.end()
        nxt = block.find("\n# Time: ", body)
        other = block.find("\n# User@Host: ", body, nxt if nxt >= 0 else len(block))
        if other >= 0:
            nxt = other
        if nxt < 0:
            return None  # the statement may go on in the next block
        statement = block[body:nxt]
        if not _plain_statement(statement):
            return None
        time_value, user_host, qt, lt, rs, rx, attributes, use_line, settings = m.groups()
        following = _FAST_HEADER(block, nxt + 1)
        if following is None:
            return None  # a lone "# Time:" line, or a header that the line machine reads
        self._peek = (block, nxt + 1, following)
        event = self._direct_event(
            time_value, user_host, qt, lt, rs, rx, attributes, use_line, settings, statement, lineno
        )
        if event is not None:
            return event, block.count("\n", offset, nxt) + 1, nxt + 1
        line = lineno
        if time_value is not None:
            line += 1
            ev.set_time(time_value.strip(), line)
        line += 1
        ev.set_user_host(user_host, line)
        line += 1
        ev.open(line)
        if attributes is None:  # the classic four fields, already split by the pattern
            try:
                ev.metrics = {
                    "query_time": float(qt),
                    "lock_time": float(lt),
                    "rows_sent": float(rs),
                    "rows_examined": float(rx),
                }
            except ValueError:  # e.g. "1.2.3": the line machine reports it
                ev.reset()
                return None
        else:
            self._attributes(attributes, ev)
        if use_line is not None:
            line += 1
            use_line = use_line[:-1]
            db = self._use_db(use_line)
            if db is None:
                ev.reset()
                return None  # cannot happen for a line the header pattern accepted; be safe
            ev.db_line = self.last_db = db
            ev.use_line = use_line
        line += 1
        timestamp = _SET_TIMESTAMP_ONLY(settings)
        if timestamp is not None and ev.tz is not None:
            ev.set_ts = float(timestamp.group(1))  # the common case: nothing to learn from it
        else:
            ev.set_statement_settings(settings, line)
        query = statement.rstrip()
        if query.endswith(";"):
            query = query[:-1].rstrip()
        consumed = block.count("\n", offset, nxt) + 1
        return ev._build(query, False), consumed, nxt + 1

    def _direct_event(
        self,
        time_value: str | None,
        user_host: str,
        qt: str,
        lt: str,
        rs: str,
        rx: str,
        attributes: str | None,
        use_line: str | None,
        settings: str,
        statement: str,
        lineno: int,
    ) -> QueryEvent | None:
        """The fast path's fast path: the event built straight into a ``QueryEvent``, from the
        classic four fields or from a ``# Query_time:`` line of a shape seen before (MySQL 8's
        log_slow_extra line has 22 fields).

        Returns None whenever anything would need the general rules (an unreadable value, an
        offset still to learn, a Query_time out of range, a line shape not learned yet): the
        caller then goes the long way, through the same helpers as the line machine.
        """
        thread = schema = None
        attrs: dict[str, str] = {}
        if attributes is None:
            try:
                metrics = {
                    "query_time": float(qt),
                    "lock_time": float(lt),
                    "rows_sent": float(rs),
                    "rows_examined": float(rx),
                }
            except ValueError:
                return None
        else:
            shape = self._shapes.get((attributes[: attributes.find(":")], attributes.count(":")))
            if shape is None or shape is _UNKNOWN:
                return None
            tokens = attributes.split()
            if len(tokens) != shape.size or tokens[1::2] != shape.keys:  # "#", key, value, key, value...
                return None
            values = tokens[2::2]
            try:
                metrics = dict(zip(shape.numbers, map(float, shape.pick(values))))
            except ValueError:
                return None
            for i, name in zip(shape.flag_at, shape.flags):
                flag = _YES_NO.get(values[i])
                if flag is None:
                    return None
                metrics[name] = flag
            for i, mname, kind in shape.others:  # the same rules as _store
                value = values[i]
                if kind == _SKIP:
                    continue
                if kind == _NUM:  # Query_time
                    try:
                        metrics[mname] = float(value)
                    except ValueError:
                        return None
                elif kind == _NONZERO:
                    metrics[mname] = 0.0 if value in ("0", "No", "NO") else 1.0
                elif kind == _THREAD:
                    thread = value
                elif kind == _STR:
                    attrs[mname] = value
                elif kind == _SCHEMA:
                    schema = value.strip("`")
                else:
                    return None
        query_time = metrics["query_time"]
        if not 0.0 <= query_time < _MAX_QUERY_TIME or not _plausible(metrics):
            return None
        timestamp = _SET_TIMESTAMP_ONLY(settings) or _SET_IDS_TIMESTAMP(settings)
        if timestamp is None:
            return None
        if time_value is not None:
            if (
                time_value[:19] == self._utc_second
                and len(time_value) == 27
                and time_value[19] == "."
                and time_value[26] == "Z"
            ):
                # MySQL 5.7+'s "2024-05-01T10:00:00.123456Z" in the second seen last: what
                # _parse_time computes, without its general checks
                ts, tz = self._utc_second_base + float(time_value[19:26]), 0
            else:
                value = time_value.strip()
                cached_value, parsed = self._time_cache
                if cached_value != value:
                    parsed = _parse_time(value)
                    self._time_cache = (value, parsed)
                    if parsed is not None and _UTC_MICROSECONDS(value) is not None:
                        self._utc_second, self._utc_second_base = value[:19], _parse_time(value[:19] + "Z")[0]  # type: ignore[index]
                if parsed is None:
                    return None
                ts, tz, naive = parsed
                if naive:
                    if self.naive_offset is None:
                        return None  # the offset is learned from this event's SET timestamp
                    ts, tz = ts - self.naive_offset, self.naive_offset
        else:
            ts = float(timestamp.group(1)) + query_time
            tz = self.naive_offset if self.naive_offset is not None else self.last_tz or 0
        if not 0.0 <= ts < MAX_EPOCH:  # plausible_time, inline on the fast path
            return None
        user, host, user_thread = self._user_host_cache.get(user_host) or (None, None, None)
        if user is None:
            return None  # not cached yet: set_user_host parses and caches it
        if thread is None:
            thread = user_thread
        if use_line is not None:
            db = self._use_cache.get(use_line[:-1])
            if db is None:
                return None
            self.last_db = db
        else:
            db = schema or self.last_db
        self.last_ts, self.last_tz = ts, tz
        query = statement.rstrip()
        if query.endswith(";"):
            query = query[:-1].rstrip()
        start = lineno + 1
        self.events_read += 1
        return QueryEvent(query, metrics, ts, tz, user, host, db, thread, attrs, False, None, self.name, start)

    def _user_host(self, line: str) -> tuple[str, str | None, str | None]:
        """(user, host, thread id) of a ``# User@Host:`` line, cached: one entry per connection."""
        cache = self._user_host_cache
        parsed = cache.get(line)
        if parsed is None:
            m = _USER_HOST.match(line)
            parsed = (m.group(1).strip(), m.group(2) or m.group(3), m.group(4) or None) if m else ("", None, None)
            if len(cache) > 50_000:  # one entry per connection; bound it anyway
                cache.clear()
            cache[line] = parsed
        return parsed

    def _learn(self, line: str) -> tuple[str, str | None, str | None] | str | None:
        """What the compiled reader did not find in a cache: a ``# User@Host:`` line's user,
        host and thread id, or the database of a ``use db;`` line (None when it is none),
        read and cached as the Python fast path does."""
        return self._user_host(line) if line.startswith("# User@Host:") else self._use_db(line)

    def _use_db(self, line: str) -> str | None:
        """The database of a ``use db;`` line (None when it is none), cached."""
        db = self._use_cache.get(line)
        if db is None:
            use = _USE.match(line)
            if use is None:
                return None
            db = self._use_cache[line] = use.group(1).strip().strip("`")
        return db

    @property
    def flag_metrics(self) -> frozenset[str]:
        """Metric names that are Yes/No or non-zero flags (0/1 per event)."""
        flags = {name for name, kind in self._keys.values() if kind in (_FLAG, _NONZERO)}
        return frozenset(flags)

    def _detect_flavor(self, line: str) -> None:
        if line.startswith("# Thread_id:"):
            self._flavor_hints.add("mariadb")
        elif line.startswith("# Schema:") or "InnoDB_" in line or "Log_slow_rate" in line:
            self._flavor_hints.add("percona")
        else:
            return
        self._detect = False

    def _note_banner(self, line: str) -> None:
        m = _VERSION.search(line)
        if m:
            self.server_version = m.group(1).split("-log")[0]
            text = line.lower()
            if "mariadb" in text:
                self._flavor_hints.add("mariadb")
            elif "percona" in text:
                self._flavor_hints.add("percona")


class _Pending:
    """The event being assembled, and how to finish it."""

    __slots__ = (
        "attrs",
        "broken",
        "cand",
        "cand_bytes",
        "cand_lines",
        "cand_open",
        "cand_state",
        "db_line",
        "ends_stmt",
        "explain",
        "has_header",
        "host",
        "lex",
        "lexed",
        "metrics",
        "open_at",
        "qline",
        "qlines",
        "reader",
        "schema",
        "set_ts",
        "start",
        "thread",
        "ts",
        "tz",
        "use_line",
        "user",
    )

    def __init__(self, reader: SlowLogReader) -> None:
        self.reader = reader
        self.reset()

    def reset(self) -> None:
        self.start = 0  # line number of the event's first line; 0 = nothing open
        self.has_header = False
        self.qlines: list[str] | None = None
        self.ends_stmt = False
        self.metrics: dict[str, float] = {}
        self.attrs: dict[str, str] = {}
        self.ts: float | None = None
        self.tz: int | None = None
        self.set_ts: float | None = None
        self.user: str | None = None
        self.host: str | None = None
        self.thread: str | None = None
        self.schema: str | None = None
        self.db_line: str | None = None
        self.use_line: str | None = None
        self.explain: list[str] | None = None
        self.broken: str | None = None
        # The statement's lexical state, known up to line ``lexed`` of ``qlines`` (found when it
        # matters, at a header-like line), and where the construct open there began.
        self.qline = 0  # line number of qlines[0]
        self.lex = _TOP
        self.lexed = 0
        self.open_at = 0
        # The first line of qlines that would have started an event had no literal been open,
        # and how much statement text came since: the bounded look-ahead.
        self.cand: int | None = None
        self.cand_lines = 0
        self.cand_bytes = 0
        self.cand_state = _TOP  # what was open there, and since which line
        self.cand_open = 0

    def lex_state(self) -> int:
        """The statement's lexical state after its last line (``_TOP``: nothing open)."""
        qlines = self.qlines or ()
        state, i, n = self.lex, self.lexed, len(qlines)
        while i < n:
            state, opened = _lex_line(qlines[i], state)
            if opened:
                self.open_at = i
            i += 1
        self.lex, self.lexed = state, n
        return state

    def after_banner(self) -> bool:
        """Is the last non-blank statement line a server start banner (a restart after a crash
        that cut the statement)?"""
        for line in reversed(self.qlines or ()):
            if line and not line.isspace():
                return _is_banner(line)
        return False

    def open(self, lineno: int) -> None:
        if not self.start:
            self.start = lineno
        self.has_header = True

    def abandon(self, reason: str) -> None:
        self.reader._bad(self.start, reason)
        self.reset()

    def flush_headerless(self, reason: str = "event header without a statement") -> QueryEvent | None:
        """An event whose header is followed by another header instead of a statement.

        When its only line was ``use db;``, that was the statement (a client's USE): the
        server wrote no separate database marker.  Otherwise it is malformed.
        """
        if self.use_line is not None:
            query = self.use_line.rstrip()
            return self._build(query[:-1].rstrip() if query.endswith(";") else query, False)
        self.abandon(reason)
        return None

    def set_time(self, value: str, lineno: int) -> QueryEvent | None:
        flushed = None
        if self.has_header and (self.user is not None or self.metrics):
            flushed = self.flush_headerless()
        reader = self.reader
        cached_value, parsed = reader._time_cache
        if cached_value != value:
            parsed = _parse_time(value)
            reader._time_cache = (value, parsed)
        if parsed is None:
            reader._bad(lineno, f"unreadable time {value[:40]!r}")
        else:
            ts, tz, naive = parsed
            if naive and reader.naive_offset is not None:
                ts, tz = ts - reader.naive_offset, reader.naive_offset
            self.ts, self.tz = ts, tz
        self.open(lineno)
        return flushed

    def set_user_host(self, line: str, lineno: int) -> QueryEvent | None:
        flushed = None
        if self.user is not None or (self.has_header and self.metrics):
            flushed = self.flush_headerless()
        self.user, self.host, thread = self.reader._user_host(line)
        if thread is not None:
            self.thread = thread
        self.open(lineno)
        return flushed

    def set_statement_settings(self, line: str, lineno: int) -> None:
        """``SET timestamp=...;`` (and insert_id / last_insert_id) written before the statement."""
        if line.startswith("SET timestamp=") and line.endswith(";") and "," not in line:
            try:
                self.set_ts = float(line[14:-1])
            except ValueError:
                self.reader._bad(lineno, f"unreadable SET timestamp {line[14:54]!r}")
            parts: list[str] = []
        else:
            parts = line[4:].rstrip().rstrip(";").split(",")
        for part in parts:
            key, _, value = part.partition("=")
            if key.strip().lower() == "timestamp":
                try:
                    self.set_ts = float(value)
                except ValueError:
                    self.reader._bad(lineno, f"unreadable SET timestamp {value.strip()[:40]!r}")
        reader = self.reader
        if self.set_ts is not None and self.ts is not None and self.tz is None and reader.naive_offset is None:
            offset = _learn_offset(self.ts, self.set_ts, self.metrics.get("query_time", 0.0))
            if offset is not None:
                reader.naive_offset = offset
                self.ts, self.tz = self.ts - offset, offset

    def start_statement(self, line: str, lineno: int) -> None:
        if not self.start:
            self.start = lineno
        self.qlines = [line]
        self.qline = lineno
        self.ends_stmt = line.endswith(";") or line.rstrip().endswith(";")

    def finish(self) -> QueryEvent | None:
        """Close the event at the end of its statement; None (and a Malformed) if unusable."""
        if not self.has_header:
            self.abandon(HEADERLESS_STATEMENT)
            return None
        query = "\n".join(self.qlines or ()).rstrip()
        if query.endswith(";"):
            query = query[:-1].rstrip()
        return self._build(query, False)

    def finish_admin(self, line: str, lineno: int) -> QueryEvent | None:
        """``# administrator command: Quit;`` is the whole statement of its event.

        It stays an event even when the log starts right at it (its header cut off): the
        statement is complete, only its measurements are unknown.  The server reports the
        previous statement's row counts for administrator commands, so they are zeroed, as
        pt-query-digest does.
        """
        if not self.start:
            self.start = lineno
        query = line[2:].rstrip()
        if query.endswith(";"):
            query = query[:-1].rstrip()
        metrics = self.metrics
        for stale in ("rows_sent", "rows_examined", "rows_read", "rows_affected"):
            if stale in metrics:
                metrics[stale] = 0.0
        return self._build(query, True)

    def _build(self, query: str, admin: bool) -> QueryEvent | None:
        reader = self.reader
        if self.broken:
            self.abandon(self.broken)
            return None
        metrics = self.metrics
        qt = metrics.get("query_time")
        if qt is not None and not (0.0 <= qt < _MAX_QUERY_TIME):
            self.abandon(f"implausible Query_time {qt!r}")
            return None
        if not _plausible(metrics):
            self.abandon(_implausible(metrics))
            return None
        ts, tz = self.ts, self.tz
        if ts is None and self.set_ts is not None:
            ts = self.set_ts + (qt or 0.0)
            # An exact UTC instant: show it in the server's offset when known, else in UTC.
            tz = reader.naive_offset if reader.naive_offset is not None else reader.last_tz or 0
        if ts is not None and not plausible_time(ts):
            self.abandon(f"impossible time {ts!r} (before 1970 or after 2199)")
            return None
        if ts is None:
            ts, tz = reader.last_ts, reader.last_tz
        else:
            reader.last_ts, reader.last_tz = ts, tz
        event = QueryEvent(
            query,
            metrics,
            ts,
            tz,
            self.user,
            self.host,
            self.db_line or self.schema or reader.last_db,
            self.thread,
            self.attrs,
            admin,
            self.explain,
            reader.name,
            self.start,
        )
        reader.events_read += 1
        self.reset()
        return event


# A longer "Query_time" is a server bug (a negative duration wrapped around), not a query.
_MAX_QUERY_TIME = 10_000_000.0

# A header value no server writes: a count of 2**63 or more (Rows_examined: 18446744073709551616,
# 1e308), a negative value, nan or inf.  Such an event is damage (or a forgery), not a measurement.
_MAX_COUNT = 2.0**63


def _plausible(metrics: dict[str, float]) -> bool:
    """Whether every header value is a number a server writes (one cheap test per event: nan
    fails the comparison of the sum, a negative value the minimum)."""
    if not metrics:
        return True
    values = metrics.values()
    return min(values) >= 0.0 and sum(values) < _MAX_COUNT


def _implausible(metrics: dict[str, float]) -> str:
    """The reason an event whose header values are not ``_plausible`` is malformed."""
    for name, value in metrics.items():
        if not 0.0 <= value < _MAX_COUNT:
            return f"implausible {name} {value!r}"
    return "implausible header values (their sum is 2**63 or more)"


_EVENT_START = re.compile(rb"\n(?=# Time: |# User@Host: )")


def event_boundaries(path: str, parts: int, *, min_part: int = 1 << 24) -> list[int]:
    """Byte offsets that cut an uncompressed slow log into up to ``parts`` ranges at event
    starts, for reading in parallel: ``[0, cut1, ..., size]``.

    A cut is placed at a ``# Time:`` or ``# User@Host:`` line whose previous line ends a
    statement (``;``) and that starts a whole header (up to its ``# Query_time:``), where the
    sequential reader starts an event unless a string literal or comment is open there, which
    these bytes alone cannot tell.  The reader of a range reports whether its input ended
    where an event ends (``SlowLogReader.clean_end``); when one did not, the caller reads that
    range and the next as one (``analyzer.digest.parallel``).  Ranges are at least ``min_part``
    bytes; fewer cuts are returned when none is found in a window.
    """
    size = os.path.getsize(path)
    parts = max(1, min(parts, size // max(1, min_part)))
    cuts = [0]
    with open(path, "rb") as handle:
        for k in range(1, parts):
            target = max(size * k // parts, cuts[-1] + 1)
            cut = _next_event_start(handle, target, size)
            if cut is None or cut >= size:
                break
            if cut > cuts[-1]:
                cuts.append(cut)
    cuts.append(size)
    return cuts


def _next_event_start(handle, offset: int, size: int, window: int = 1 << 20) -> int | None:
    position = offset
    while position < size:
        # Start 64 KiB early so the line before the first candidate is there (only its end matters).
        start = max(0, position - 65536)
        handle.seek(start)
        data = handle.read(position - start + window)
        for m in _EVENT_START.finditer(data, position - start):
            newline = m.start()
            previous = data[data.rfind(b"\n", 0, newline) + 1 : newline].rstrip()
            if previous.endswith(b";") and _starts_header(data, newline + 1, start + len(data) >= size):
                return start + newline + 1
        if len(data) <= position - start:
            return None
        position = start + len(data)
    return None


def _starts_header(data: bytes, at: int, final: bool) -> bool:
    """Does a whole event header start at byte ``at`` of ``data`` (see ``_header_run``)?
    ``final``: ``data`` ends where the file ends."""
    chunk = data[at : at + 8192]
    final = final and at + len(chunk) == len(data)
    lines = chunk.decode("utf-8", "surrogateescape").split("\n")
    if not final:
        lines.pop()  # it may be cut
    return bool(lines) and _header_run(lines, 0, final) is True


def _store(ev: _Pending, mname: str, kind: int, value: str) -> None:
    """Keep one header attribute that is not a plain number."""
    if kind == _FLAG:
        flag = _YES_NO.get(value)
        if flag is not None:
            ev.metrics[mname] = flag
    elif kind == _SCHEMA:
        if value:
            ev.schema = value.strip("`")
    elif kind == _THREAD:
        ev.thread = value or None
    elif kind == _MS:
        try:
            ev.metrics[mname] = float(value) / 1000.0
        except ValueError:
            pass
    elif kind == _NONZERO:
        if value:
            ev.metrics[mname] = 0.0 if value in ("0", "No", "NO") else 1.0
    elif kind == _STR:
        if value:
            ev.attrs[mname] = value
    elif kind == _NUM:  # Query_time from a line shape (see _Shape.others)
        try:
            ev.metrics[mname] = float(value)
        except ValueError:
            if value in _YES_NO:
                ev.metrics[mname] = _YES_NO[value]
            elif mname == "query_time":
                ev.broken = f"unusable Query_time {value[:40]!r}"
            elif value:
                ev.attrs[mname] = value


_UNKNOWN = object()  # a line shape not seen yet (None: seen, and not worth compiling)


class _Shape:
    """A "# Key: value ..." line shape: its key tokens, and which values are plain numbers."""

    __slots__ = ("flag_at", "flags", "keys", "numbers", "others", "pick", "size")

    @classmethod
    def of(cls, keys: list[str], specs: dict[str, tuple[str, int]]) -> _Shape | None:
        if not keys:
            return None
        shape = cls()
        shape.keys = [k + ":" for k in keys]
        shape.size = 2 * len(keys) + 1  # "#", then a key and a non-empty value each
        kinds = [specs[k] for k in keys]
        at = [i for i, (name, kind) in enumerate(kinds) if kind == _NUM and name != "query_time"]
        shape.numbers = [kinds[i][0] for i in at]
        shape.pick = operator.itemgetter(*at) if len(at) > 1 else (lambda values, at=at: [values[i] for i in at])
        shape.flag_at = [i for i, (name, kind) in enumerate(kinds) if kind == _FLAG]
        shape.flags = [kinds[i][0] for i in shape.flag_at]
        # Query_time stays out of the bulk conversion: an unusable one must mark the event.
        shape.others = [
            (i, name, kind)
            for i, (name, kind) in enumerate(kinds)
            if (kind != _NUM and kind != _FLAG) or name == "query_time"
        ]
        return shape


def dialect_name(hints: set[str] | frozenset[str], version: str | None) -> str:
    flavor = "mariadb" if "mariadb" in hints else "percona" if "percona" in hints else "mysql"
    return f"{flavor} {version}" if version else flavor


def _classify(key: str, value: str) -> tuple[str, int]:
    name = _metric_name(key)
    if value in _YES_NO:
        return name, _FLAG
    if _is_plain_number(value) or not value:
        return name, _NUM
    return name, _STR


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _is_plain_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None


_UTC_MICROSECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z").fullmatch
_ISO_SECOND = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d")
_ISO_FRACTION = re.compile(r"(\.\d+)?(Z|[+-]\d\d:?\d\d)?")
_last_second: tuple[str, tuple[float, int | None, bool] | None] = ("", None)


def _parse_time(value: str) -> tuple[float, int | None, bool] | None:
    """Parse a ``# Time:`` value into (UTC epoch, offset seconds or None, naive?).

    An ISO time is parsed once per second (logs are in time order): only the fraction
    differs between the events of one second.
    """
    global _last_second
    second, rest = value[:19], value[19:]
    if rest.endswith("Z") and (rest == "Z" or rest[0] == "."):  # the common MySQL 5.7+ form
        fraction, offset = rest[:-1], "Z"
    else:
        m = _ISO_FRACTION.fullmatch(rest)
        if m is None:
            return _parse_time_slow(value)
        fraction, offset = m.group(1) or "", m.group(2) or ""
    cache_key = second + offset
    cached_key, base = _last_second
    if cached_key != cache_key:
        if _ISO_SECOND.fullmatch(second) is None:
            return _parse_time_slow(value)
        base = _parse_time_slow(cache_key)
        _last_second = (cache_key, base)
    if base is None or not fraction:
        return base
    try:
        return base[0] + float(fraction), base[1], base[2]
    except ValueError:
        return None


def _parse_time_slow(value: str) -> tuple[float, int | None, bool] | None:
    if "T" in value or (value[:4].isdigit() and value[4:5] == "-"):
        text = value.replace("Z", "+00:00") if value.endswith("Z") else value
        try:
            dt = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
        except ValueError:
            return None
        if dt.tzinfo is None:
            return dt.replace(tzinfo=timezone.utc).timestamp(), None, True
        offset = dt.utcoffset()
        return dt.timestamp(), int(offset.total_seconds()) if offset is not None else 0, False
    m = _OLD_TIME.fullmatch(value)
    if not m:
        return None
    yy, mo, dd, hh, mi, ss, frac = m.groups()
    try:
        dt = datetime(2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss), tzinfo=timezone.utc)
    except ValueError:
        return None
    epoch = dt.timestamp()
    if frac:
        epoch += float("0." + frac)
    return epoch, None, True


def _learn_offset(naive_epoch: float, set_ts: float, query_time: float) -> int | None:
    """The server's UTC offset, from a local ``# Time`` and the UTC ``SET timestamp``.

    ``SET timestamp`` is when the statement started and ``# Time`` when it was logged, so
    the difference is the offset plus the query time; offsets are whole quarter hours.
    """
    delta = naive_epoch - set_ts - query_time
    if not abs(delta) < 15 * 3600:  # also nan and inf: values the event itself is malformed for
        return None
    offset = round(delta / 900.0) * 900
    if abs(offset) > 14 * 3600 or abs(delta - offset) > 120:
        return None
    return offset


def format_ts(ts: float | None, tz: int | None) -> str | None:
    """ISO-8601 text for an event time, with the offset the log implies (none if unknown)."""
    if ts is None:
        return None
    if tz is None:
        return datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None).isoformat()
    return datetime.fromtimestamp(ts, timezone(timedelta(seconds=tz))).isoformat()
