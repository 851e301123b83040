"""performance_schema's ``DIGEST_TEXT`` turned into the fast key a slow-log statement gets.

The server normalises a statement into a token stream, hashes it (``DIGEST``) and prints
it back (``DIGEST_TEXT``).  That text is *almost* SQL; this module rewrites it into what
``fastkey.fast_key()`` makes of the original statement, so that
``Fingerprinter("sqlglot").describe(key, ...)`` gives the class id the slow log gives.

What the server prints, and the rule applied here (measured on MariaDB 10.11, read in
MySQL 8.0's ``sql/sql_digest.cc`` and the mysql-server test results):

=================================  ===============================================  ==========================
DIGEST_TEXT                        meaning                                          becomes
=================================  ===============================================  ==========================
`` `t` . `c` ``                    every identifier, as written, in backticks       kept; spaces around ``.``
                                                                                    dropped
``NAME``, ``STATUS``, ``EVENTS``   an identifier that is also a keyword: printed    lower-cased (the original
                                   as the keyword, upper-case, unquoted             case is lost; lower is
                                                                                    the usual spelling)
``SQL_TSI_DAY``, ``SYSTEM_USER``,  a keyword printed under a synonym's name         ``day`` ..., ``user``,
``DISTINCTROW``, ``VARCHARACTER``  (``day``, ``user``, ``DISTINCT``, ``VARCHAR``)   ``DISTINCT``, ``VARCHAR``
``NOW`` / ``CURDATE`` (no parens)  ``CURRENT_TIMESTAMP`` / ``CURRENT_DATE``         those
``CREATE SCHEMA``                  ``CREATE DATABASE`` or ``CREATE SCHEMA``         ``CREATE DATABASE`` (the
                                                                                    usual spelling)
``?``                              one literal (MySQL 8 also folds ``-1``)          ``?``
``?, ...``                         two or more literals in a row, e.g. ``1, 2``     ``?, ?`` (the count is
                                   or ``LIMIT 5, 10``                               lost; see below)
``(?)``                            one parenthesised literal                        ``(?)``
``(...)``                          a parenthesised list of two or more literals     ``IN (?)`` after IN;
                                                                                    otherwise ``(?, ?)``
``/* , ... */``                    more rows/lists of the same shape follow         dropped (the fast key
                                                                                    keeps the first row)
``(_charset) ?``                   a literal with a character-set introducer        ``?``
``(unknown)``                      a token without a printable name (MariaDB:       ``?``
                                   ``X'ab'`` hex strings)
``/*+ ... */``                     MySQL 8 optimizer hints                          dropped, as the fast key
                                                                                    drops comments
``SQL_NO_CACHE`` / ``SQL_CACHE``   usually from ``/*!40001 SQL_NO_CACHE */``,       dropped
                                   which the fast key drops as a comment
=================================  ===============================================  ==========================

How many literals ``?, ...`` and ``(...)`` stood for is not in the text.  In ``INSERT``/
``REPLACE`` rows with a column list the count is the number of columns (less the row's
other items); without a column list it is the table's column count when the caller gives
``table_width``; elsewhere the key guesses two and ``DigestText.lossy`` is set, so a caller
that has a real statement of the digest (``events_statements_history``,
``QUERY_SAMPLE_TEXT``) can use that statement's fast key instead.  User variables print
as ``@?`` and lose their name (also lossy).

The key has unquoted words in lower case (sqlglot restores keyword case; identifiers keep
what the key says).  When sqlglot cannot parse it, the key is the text as the server printed
it, with ordinary spacing and safe identifiers unquoted (``SET @@SESSION.sql_mode = ...``):
such a statement's class is its fast key, so the spelling has to be the usual one.

Truncation: the server keeps at most ``max_digest_length`` bytes of tokens (2 bytes a
token, 4 plus the name's bytes an identifier) and prints what it kept, with no marker
(MariaDB 10.11 and MySQL 8.0 alike; a trailing ``...`` is taken as a marker too).  A text
whose token bytes reach the limit, or come within one identifier of it and do not parse (or
end with a token no statement ends with, such as ``,`` or ``AND``), is truncated: it cannot be
parsed into its real class, so its key is the text with a trailing `` ...`` and
``DigestText.truncated`` is set; it stays a class of its own.

>>> key_from_digest_text("SELECT `p` . `id` , NAME FROM `products` `p` WHERE ID IN (...) ")
'select `p`.`id`, name from `products` `p` where id in (?)'
>>> key_from_digest_text("INSERT INTO `t` ( `a` , `b` , `c` ) VALUES (...) /* , ... */ ")
'insert into `t` (`a`, `b`, `c`) values (?, ?, ?)'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

# One token of a digest text.  Composite tokens (``?, ...``, ``(...)``, ``/* , ... */``)
# come first so they are not split into punctuation.
_TOKEN = re.compile(
    r"""
      (?P<ident>`[^`]*`)
    | (?P<list>\?,\ \.\.\.)
    | (?P<rows>\(\.\.\.\))
    | (?P<row1>\(\?\))
    | (?P<more>/\*\ ,\ \.\.\.\ \*/)
    | (?P<charset>\(_charset\))
    | (?P<unknown>\(unknown\))
    | (?P<hint>/\*\+)
    | (?P<ellipsis>\.\.\.)
    | (?P<value>\?)
    | (?P<word>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<number>[0-9]+(?:\.[0-9]*)?)
    | (?P<op><=>|:=|<=|>=|<>|!=|\|\||&&|<<|>>|->>|->|@@|\*/|\S)
    """,
    re.VERBOSE,
)

# Keywords the server prints under another name of the same token (MariaDB 10.11).
_SYNONYMS = {
    "SQL_TSI_SECOND": "second",
    "SQL_TSI_MINUTE": "minute",
    "SQL_TSI_HOUR": "hour",
    "SQL_TSI_DAY": "day",
    "SQL_TSI_WEEK": "week",
    "SQL_TSI_MONTH": "month",
    "SQL_TSI_QUARTER": "quarter",
    "SQL_TSI_YEAR": "year",
    "SYSTEM_USER": "user",
    "DISTINCTROW": "DISTINCT",
    "VARCHARACTER": "VARCHAR",
    "CHARACTER": "CHAR",
}
# Printed without parentheses, these are the SQL-standard niladic forms.
_NILADIC = {"NOW": "CURRENT_TIMESTAMP", "CURDATE": "CURRENT_DATE", "CURTIME": "CURRENT_TIME"}
# Keywords that only change what the query cache does; usually written as /*!40001 ... */.
_DROPPED_WORDS = frozenset({"SQL_NO_CACHE", "SQL_CACHE"})
# Words after which "(" opens a list rather than a function's arguments (for spacing only).
_SPACE_BEFORE_PAREN = frozenset(
    {
        "IN",
        "VALUES",
        "VALUE",
        "AND",
        "OR",
        "NOT",
        "XOR",
        "ON",
        "AS",
        "USING",
        "EXISTS",
        "WHERE",
        "SELECT",
        "FROM",
        "JOIN",
        "INTO",
        "SET",
        "BY",
        "WHEN",
        "THEN",
        "ELSE",
        "HAVING",
        "UNION",
        "ALL",
        "ANY",
        "SOME",
        "WITH",
        "INDEX",
        "KEY",
        "TABLE",
        "RETURN",
        "CALL",
        "IS",
        "LIKE",
        "BETWEEN",
        "CASE",
        "DISTINCT",
        "OVER",
        "PARTITION",
        "LATERAL",
        "RECURSIVE",
    }
)
_INSERT_WORDS = frozenset({"INSERT", "REPLACE"})
_INSERT_MODIFIERS = frozenset({"INTO", "IGNORE", "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY"})
_SAFE_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
# Tokens that cannot end a statement: a text near the limit ending with one was cut.
_DANGLING_OPS = frozenset(
    {
        ",",
        "(",
        ".",
        "=",
        "<",
        ">",
        "<=",
        ">=",
        "<>",
        "!=",
        "<=>",
        "+",
        "-",
        "/",
        "%",
        "||",
        "&&",
        ":=",
        "@",
        "@@",
        "->",
        "->>",
    }
)
_DANGLING_WORDS = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "XOR",
        "WHERE",
        "FROM",
        "SELECT",
        "BY",
        "ON",
        "SET",
        "JOIN",
        "AS",
        "IN",
        "LIKE",
        "BETWEEN",
        "IS",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "VALUES",
        "VALUE",
        "INTO",
        "UPDATE",
        "HAVING",
        "LIMIT",
        "OFFSET",
        "UNION",
        "DISTINCT",
        "USING",
        "INNER",
        "LEFT",
        "RIGHT",
        "OUTER",
        "CROSS",
        "STRAIGHT_JOIN",
        "ORDER",
        "GROUP",
        "INTERVAL",
        "WITH",
        "INSERT",
        "REPLACE",
        "DELETE",
        "IGNORE",
        "ALL",
        "EXISTS",
    }
)
# An identifier of at most 64 characters costs up to 4 + 64 bytes of token storage: a digest
# that came this close to the limit may have lost its next token.
_IDENTIFIER_MARGIN = 4 + 64


@dataclass(frozen=True, slots=True)
class DigestText:
    """What ``read_digest_text`` made of one ``DIGEST_TEXT``."""

    key: str  # the fast key (what ``Fingerprinter.describe`` takes)
    truncated: bool  # the server cut the text at max_digest_length: a class of its own
    lossy: bool  # literal counts or variable names were lost; the key guesses them
    token_bytes: int  # estimated size of the server's token storage for this text
    notes: tuple[str, ...] = ()


TableWidth = Callable[[str | None, str], "int | None"]
"""Number of columns ``INSERT INTO t VALUES (...)`` fills: called with (database or None, table)."""


def key_from_digest_text(text: str, max_digest_length: int | None = None, table_width: TableWidth | None = None) -> str:
    """The fast key of the statements behind a ``DIGEST_TEXT`` (see the module docstring).

    ``max_digest_length`` (the server's, in bytes) lets truncated texts be recognised;
    ``table_width`` gives the column count of tables that ``INSERT ... VALUES (...)`` rows
    without a column list fill.
    """
    return read_digest_text(text, max_digest_length, table_width).key


def read_digest_text(
    text: str, max_digest_length: int | None = None, table_width: TableWidth | None = None
) -> DigestText:
    """``DIGEST_TEXT`` -> fast key, with whether it was truncated or lost literal counts."""
    if table_width is None:
        return _read_cached(text, max_digest_length)
    return _read(text, max_digest_length, table_width)


@functools.lru_cache(maxsize=8192)
def _read_cached(text: str, max_digest_length: int | None) -> DigestText:
    return _read(text, max_digest_length, None)


def _read(text: str, max_digest_length: int | None, table_width: TableWidth | None) -> DigestText:
    tokens = _tokenize(text)
    token_bytes = _token_bytes(tokens)
    notes: list[str] = []
    explicit_cut = bool(tokens) and tokens[-1][0] == "ellipsis"
    if explicit_cut:
        tokens = tokens[:-1]
    tokens, lossy = _rewrite(tokens, notes, table_width)
    parsed_key = _render(tokens, lower=True)
    display_key = _render(tokens, lower=False)
    truncated = explicit_cut
    near_limit = max_digest_length is not None and token_bytes > max_digest_length - _IDENTIFIER_MARGIN
    if max_digest_length is not None and token_bytes >= max_digest_length - 1:
        truncated = True  # not even a 2-byte token would have fitted after this one
    parses = None
    if not truncated:
        parses = _parses(parsed_key)
        if near_limit and (not parses or _dangling(tokens)):
            truncated = True
    if truncated:
        limit = f" ({max_digest_length} bytes)" if max_digest_length else ""
        notes.append(f"digest text truncated at max_digest_length{limit}")
        return DigestText(display_key + " ...", True, lossy, token_bytes, tuple(notes))
    key = parsed_key if parses else display_key
    return DigestText(key, False, lossy, token_bytes, tuple(notes))


def digest_token_bytes(text: str) -> int:
    """Estimated bytes of token storage the server used for a digest text.

    >>> digest_token_bytes("SELECT `a` + `a`")
    14
    """
    return _token_bytes(_tokenize(text))


# ------------------------------------------------------------------------------ internals
Token = tuple[str, str]  # (kind, text)


def _tokenize(text: str) -> list[Token]:
    return [(m.lastgroup or "op", m.group()) for m in _TOKEN.finditer(text)]


def _token_bytes(tokens: list[Token]) -> int:
    total = 0
    for kind, text in tokens:
        if kind == "ident":
            total += 4 + len(text[1:-1].encode("utf-8"))
        elif kind in ("more", "ellipsis"):
            continue  # part of the preceding row token / not a token
        else:
            total += 2
    return total


def _dangling(tokens: list[Token]) -> bool:
    """The text ends with a token no statement ends with (sqlglot forgives "SELECT a, b,")."""
    if not tokens:
        return False
    kind, text = tokens[-1]
    if kind == "op":
        return text in _DANGLING_OPS
    return kind == "word" and text.upper() in _DANGLING_WORDS


def _parses(key: str) -> bool:
    from analyzer.fingerprint.canonical import canonicalize

    return canonicalize(key).parsed


def _rewrite(tokens: list[Token], notes: list[str], table_width: TableWidth | None) -> tuple[list[Token], bool]:
    """Token-level rules of the module docstring; returns the new tokens and ``lossy``."""
    out: list[Token] = []
    lossy = False
    i = 0
    n = len(tokens)
    while i < n:
        kind, text = tokens[i]
        if kind == "hint":  # MySQL 8 optimizer hint: skip to its "*/"
            while i < n and tokens[i] != ("op", "*/"):
                i += 1
            i += 1
            continue
        if kind in ("more", "charset"):
            i += 1
            continue
        if kind == "unknown":
            out.append(("value", "?"))
        elif kind == "word":
            upper = text.upper()
            if upper in _DROPPED_WORDS:
                i += 1
                continue
            following = tokens[i + 1][1] if i + 1 < n else ""
            before = out[-1][1].upper() if out else ""
            if upper in ("SCHEMA", "SCHEMAS") and before in ("CREATE", "DROP", "ALTER", "SHOW"):
                out.append(("word", "DATABASE" if upper == "SCHEMA" else "DATABASES"))
            elif upper in _NILADIC and following != "(" and not following.startswith("(") and kind == "word":
                out.append(("word", _NILADIC[upper]))
            else:
                out.append(("word", _SYNONYMS.get(upper, text)))
        elif kind == "op" and text == "@" and i + 1 < n and tokens[i + 1][0] == "value":
            lossy = True  # "@?": a user variable whose name was replaced
            notes.append("user variable names are not in the digest text")
            out.append(("op", "@"))
            out.append(("word", "_var"))
            i += 2
            continue
        else:
            out.append((kind, text))
        i += 1
    out, values_lossy = _expand_values(out, notes, table_width)
    return out, lossy or values_lossy


def _expand_values(tokens: list[Token], notes: list[str], table_width: TableWidth | None) -> tuple[list[Token], bool]:
    """Replace ``(...)``, ``(?)`` and ``?, ...`` with explicit placeholders."""
    lossy = False
    width = _insert_width(tokens)
    values_at = _values_position(tokens)
    if width is None and values_at is not None and table_width is not None:
        target = _insert_target(tokens, values_at)
        if target is not None:
            width = table_width(*target)
    row_tokens, row_spans = _value_rows(tokens, values_at)
    out: list[Token] = []
    for i, (kind, text) in enumerate(tokens):
        prev = out[-1][1].upper() if out else ""
        if kind == "row1" or (kind == "rows" and prev == "IN"):
            out.extend([("op", "("), ("value", "?"), ("op", ")")])
        elif kind == "rows":
            count = width if i in row_tokens else None
            if count is None:
                lossy = True
                notes.append("a parenthesised list of literals '(...)' lost its length")
                count = 2
            out.append(("op", "("))
            out.extend(_placeholders(count))
            out.append(("op", ")"))
        elif kind == "list":
            span = next((s for s in row_spans if s[0] < i < s[1]), None)
            count = _list_width(tokens, span, width) if span is not None else None
            if count is None:
                lossy = True
                notes.append("a run of literals '?, ...' lost its length")
                count = 2
            out.extend(_placeholders(count))
        else:
            out.append((kind, text))
    if values_at is not None:
        out = _first_row_only(out)
    return out, lossy


def _value_rows(tokens: list[Token], values_at: int | None) -> tuple[set[int], list[tuple[int, int]]]:
    """The rows after VALUES: indices of one-token rows, and (open, close) of the others."""
    singles: set[int] = set()
    spans: list[tuple[int, int]] = []
    if values_at is None:
        return singles, spans
    i = values_at + 1
    while i < len(tokens):
        kind, text = tokens[i]
        if kind in ("rows", "row1"):
            singles.add(i)
            end = i
        elif text == "(":
            depth = 0
            end = None
            for j in range(i, len(tokens)):
                if tokens[j][1] == "(":
                    depth += 1
                elif tokens[j][1] == ")":
                    depth -= 1
                    if depth == 0:
                        end = j
                        break
            if end is None:
                break
            spans.append((i, end))
        else:
            break
        if end + 1 < len(tokens) and tokens[end + 1][1] == ",":
            i = end + 2
        else:
            break
    return singles, spans


def _placeholders(count: int) -> list[Token]:
    items: list[Token] = []
    for k in range(count):
        if k:
            items.append(("op", ","))
        items.append(("value", "?"))
    return items


def _values_position(tokens: list[Token]) -> int | None:
    """Index of the VALUES/VALUE keyword of an INSERT/REPLACE (None for other statements)."""
    if not tokens or tokens[0][1].upper() not in _INSERT_WORDS:
        return None
    depth = 0
    for i, (kind, text) in enumerate(tokens):
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif depth == 0 and kind == "word" and text.upper() in ("VALUES", "VALUE"):
            return i
        elif depth == 0 and kind == "word" and text.upper() in ("SELECT", "SET"):
            return None
    return None


def _insert_width(tokens: list[Token]) -> int | None:
    """Number of columns in an INSERT/REPLACE column list, when there is one."""
    values_at = _values_position(tokens)
    if values_at is None:
        return None
    # The column list is the parenthesised group right before VALUES.
    end = values_at - 1
    if end < 0 or tokens[end][1] != ")":
        return None
    depth = 0
    items = 1
    for j in range(end, -1, -1):
        text = tokens[j][1]
        if text == ")":
            depth += 1
        elif text == "(":
            depth -= 1
            if depth == 0:
                return items if j + 1 < end else None
        elif text == "," and depth == 1:
            items += 1
    return None


def _insert_target(tokens: list[Token], values_at: int) -> tuple[str | None, str] | None:
    """``(database, table)`` of ``INSERT [IGNORE] INTO db.t VALUES``, when written that way."""
    names = [t for t in tokens[1:values_at] if t[1].upper() not in _INSERT_MODIFIERS]
    if len(names) == 1 and names[0][0] == "ident":
        return None, names[0][1][1:-1]
    if len(names) == 3 and names[0][0] == names[2][0] == "ident" and names[1][1] == ".":
        return names[0][1][1:-1], names[2][1][1:-1]
    return None


def _list_width(tokens: list[Token], span: tuple[int, int], width: int | None) -> int | None:
    """How many literals a ``?, ...`` inside the VALUES row ``span`` stood for."""
    if width is None:
        return None
    visible = 1
    lists = 0
    depth = 0
    for j in range(span[0] + 1, span[1]):
        kind, text = tokens[j]
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif depth == 0 and text == ",":
            visible += 1
        elif depth == 0 and kind == "list":
            lists += 1
    if lists != 1:
        return None
    count = width - visible + 1
    return count if count >= 2 else None


def _closing_paren(tokens: list[Token], start: int) -> int | None:
    """Index of the ``)`` that closes the ``(`` at ``start``, or None when it is never closed."""
    depth = 0
    for j in range(start, len(tokens)):
        text = tokens[j][1]
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
            if depth == 0:
                return j
    return None


def _first_row_only(tokens: list[Token]) -> list[Token]:
    """``VALUES (row), (row), ...`` -> ``VALUES (row)``, as the fast key does."""
    values_at = _values_position(tokens)
    if values_at is None or values_at + 1 >= len(tokens) or tokens[values_at + 1][1] != "(":
        return tokens
    end = _closing_paren(tokens, values_at + 1)
    if end is None:
        return tokens
    k = end + 1
    while k + 1 < len(tokens) and tokens[k][1] == "," and tokens[k + 1][1] == "(":
        row_end = _closing_paren(tokens, k + 1)
        if row_end is None:
            return tokens
        k = row_end + 1
    return tokens[: end + 1] + tokens[k:]


def _render(tokens: list[Token], *, lower: bool) -> str:
    """Tokens as SQL text with ordinary spacing.

    ``lower``: unquoted words in lower case (the form sqlglot reads, which restores keyword
    case itself); otherwise as printed, with safe identifiers unquoted (the form an
    unparsable statement's fast key most likely had).
    """
    parts: list[str] = []
    prev_kind, prev_text = "", ""
    for kind, text in tokens:
        if kind == "word" and lower:
            out = text.lower()
        elif kind == "ident" and not lower and _SAFE_IDENTIFIER.fullmatch(text[1:-1]):
            out = text[1:-1]
        else:
            out = text
        if parts:
            glue = " "
            if text in (",", ")", ".") or prev_text in ("(", ".", "@", "@@"):
                glue = ""
            elif text == "(" and prev_kind in ("word", "ident") and prev_text.upper() not in _SPACE_BEFORE_PAREN:
                glue = "" if prev_kind == "word" or _function_like(parts) else " "
            parts.append(glue)
        parts.append(out)
        prev_kind, prev_text = kind, text
    return "".join(parts)


def _function_like(parts: list[str]) -> bool:
    """A backquoted name before "(" is a function unless it names a table or index."""
    words = [p for p in parts if p.strip()]
    before = words[-2].upper() if len(words) >= 2 else ""
    return before not in ("INTO", "TABLE", "JOIN", "FROM", "UPDATE", "ON", "REFERENCES", "INDEX", "KEY", ",")


_PLACEHOLDER_SCAN = re.compile(
    r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`[^`]*`|/\*.*?\*/|--[^\n]*|#[^\n]*|(\?)", re.DOTALL
)


def has_placeholder(sql: str) -> bool:
    """A ``?`` outside strings, quoted identifiers and comments (a prepared statement's text).

    >>> has_placeholder("SELECT * FROM t WHERE a = ? AND b = 'what?'")
    True
    >>> has_placeholder("SELECT 'what?' /* ? */")
    False
    """
    if "?" not in sql:
        return False
    return any(m.group(1) for m in _PLACEHOLDER_SCAN.finditer(sql))
