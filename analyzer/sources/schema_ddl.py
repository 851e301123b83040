"""Schema facts from a DDL file: the offline twin of ``analyzer.sources.schema.load_tables()``.

``load_tables_from_ddl(text)`` replays a schema file (``mysqldump --no-data`` output, a migration
script, ``schema.sql``) statement by statement, as a MySQL/MariaDB server would, and returns the
same ``Table`` objects ``load_tables()`` reads from a live server, so the index checks run in CI
with no server at all.  ``rows`` stays None (unknown) for every table.

>>> schema = load_tables_from_ddl("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(20), KEY (a(10)));")
>>> [(c.name, c.type, c.nullable) for c in schema.tables[0].columns]
[('id', 'int(11)', False), ('a', 'varchar(20)', True)]
>>> schema.tables[0].index("a").ddl
'KEY `a` (`a`(10))'

What is replayed
    ``CREATE TABLE`` (also ``... LIKE``), ``CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX``, ``ALTER TABLE``
    (ADD/DROP/MODIFY/CHANGE/RENAME COLUMN, ADD/DROP/RENAME INDEX|KEY, ADD/DROP PRIMARY KEY,
    ADD/DROP FOREIGN KEY, ENGINE=, RENAME TO), ``DROP TABLE``, ``DROP INDEX ... ON``,
    ``RENAME TABLE``, ``USE db`` and ``DROP DATABASE``.  ``CREATE DATABASE`` selects nothing, as on
    the server.  Views, triggers, routines, events, data (INSERT, LOAD), SET, LOCK and the like are
    ignored without a word; a statement that is no SQL at all, or table DDL that cannot be read or
    that the server would refuse (unknown column in a key, duplicate key name, a foreign key left
    without an index...), is skipped with one line in ``DdlSchema.warnings``.

What the server adds on its own, measured on MariaDB 10.11 (the tested server)
    * an unnamed key is named after its first column, then ``_2``, ``_3``... on a clash with an
      earlier key (case-insensitive); ``CONSTRAINT c UNIQUE (a)`` is named ``c``;
    * a FOREIGN KEY gets an index on its columns unless another key (whatever its order in the
      statement, not ``USING HASH``, whole columns) starts with them; that index is named after the
      constraint (else the ``FOREIGN KEY name``, else the first column) and is dropped again when a
      later key makes it redundant; an unnamed constraint becomes ``<table>_ibfk_<n>``; a column's
      ``REFERENCES`` clause is a foreign key too (MySQL 8.0 ignores it);
    * PRIMARY KEY columns become NOT NULL; a prefix as long as the column counts as the whole
      column; SPATIAL parts report a 32-byte prefix; a UNIQUE key on a whole TEXT/BLOB column is
      a HASH key (MariaDB's long unique); keys of MEMORY tables are HASH unless USING BTREE;
    * foreign keys are kept only for InnoDB tables (other engines parse and drop them);
    * ``explicit_defaults_for_timestamp`` is ON (the default of MySQL 8 and MariaDB 10.10+): a
      TIMESTAMP column is nullable unless declared NOT NULL.

Executable comments (``/*!50705 ... */``, ``/*M!100100 ... */``) keep their content whatever the
version, as MySQL 8 runs them.  MariaDB skips five-digit versions from 50700 on: fed to MariaDB
as it is, Sakila's schema has no ``address.location`` column nor its SPATIAL key; read here (or
loaded with ``split_statements``, which unwraps them) it has both.

Column facts are written the way MariaDB / MySQL 5.7 print them, lower-case, always with the
integer display width: ``Column.type`` is ``int(10) unsigned``, ``tinyint(1)`` for BOOLEAN,
``bigint(20) unsigned`` for SERIAL, ``decimal(10,0)`` for DECIMAL, ``year(4)``, ``double`` for
REAL, ``varchar(40)``, ``enum('a','b')`` (MySQL 8.0.19+ leaves the widths out: ``int unsigned``).
JSON stays ``json`` (MariaDB shows ``longtext``).  ``Column.default`` is the value as MySQL's
information_schema gives it: strings unquoted, None for no default and for DEFAULT NULL,
``CURRENT_TIMESTAMP`` for NOW()/CURRENT_TIMESTAMP(), expressions as written;
``Column.extra`` holds ``auto_increment``, ``on update CURRENT_TIMESTAMP``, ``VIRTUAL GENERATED``
/ ``STORED GENERATED`` and ``INVISIBLE``.

Why a token-level reader and not sqlglot's parser
    Statements are split here (the mysql client's rules: DELIMITER, comments, quotes, executable
    ``/*! */`` comments) and read from the tokens of sqlglot's MySQL tokenizer, which knows the
    quoting and literal rules.  sqlglot's parser (30.x) is not used for table DDL because it
    misreads or rejects MySQL DDL that real dumps contain: ``CREATE [UNIQUE] INDEX`` always falls
    back to an opaque Command, as do ``ALTER IGNORE TABLE``, ``ADD COLUMN (a INT, b INT)`` and
    ``DROP TABLES``; ``INT8`` becomes TINYINT and ``REAL`` FLOAT; POINT, POLYGON and the other
    spatial types, ``NATIONAL CHAR``, ``LONG VARCHAR``, ``SERIAL DEFAULT VALUE``, MariaDB's
    ``IGNORED`` keys, ``ADD INDEX IF NOT EXISTS`` and ``DROP INDEX i ON t ALGORITHM=INPLACE`` are
    parse errors; TIMESTAMP comes back as TIMESTAMPTZ; ``CREATE SCHEMA s`` and ``CREATE DATABASE s``
    put the name in different places.  A column type is therefore taken from its tokens as
    written and normalised here, and every statement kind is read by one reader.
"""

from __future__ import annotations

import bisect
import copy
import gzip
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlglot.dialects.mysql import MySQL
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from analyzer.errors import AnalyzerError
from analyzer.sources.schema import Column, ForeignKey, Index, IndexColumn, Table, sort_indexes

__all__ = [
    "DdlSchema",
    "SchemaFileError",
    "Statement",
    "load_tables_from_ddl",
    "load_tables_from_ddl_file",
    "split_statements",
]


class SchemaFileError(AnalyzerError):
    """A schema (DDL) file cannot be used: missing, unreadable, not UTF-8, or it defines no table.
    The message is one line naming the file and the reason."""


@dataclass
class DdlSchema:
    """What a DDL file defines: its tables (sorted by schema and name, as ``load_tables()``
    returns them) and one line per statement that was skipped or only partly understood."""

    tables: list[Table]
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Splitting a file into statements, as the mysql client does
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL file: its 1-based number, the line it starts on, and its text with
    comments removed and executable comments (``/*!50604 ... */``, ``/*M!100100 ... */``)
    unwrapped.  ``unterminated`` is the quote character when the file ended inside a quoted
    string or identifier (the statement then runs to the end of the file)."""

    number: int
    line: int
    text: str
    unterminated: str | None = None


# Possessive quantifiers: an unterminated string fails in linear time instead of backtracking.
_QUOTED = {
    "'": re.compile(r"'(?:[^'\\]++|\\.|'')*+'", re.DOTALL),
    '"': re.compile(r'"(?:[^"\\]++|\\.|"")*+"', re.DOTALL),
    "`": re.compile(r"`(?:[^`]++|``)*+`"),
}
_BLANK = re.compile(r"\s+")
_DELIMITER_COMMAND = re.compile(r"delimiter[ \t]+(\S+)[^\n]*", re.IGNORECASE)
_EXECUTABLE_COMMENT = re.compile(r"/\*(M?)!(\d*)")
# MariaDB's dumps start with /*M!999999\- enable the sandbox mode */: no server runs that.
_NEVER_VERSION = 999999


class _Splitter:
    """The mysql client's statement splitter: the delimiter ends a statement outside quotes and
    comments, ``DELIMITER xx`` at the start of a statement changes it, ``--``/``#``/``/* */``
    comments are dropped and executable comments keep their content (whatever the version
    number: dump tools only write versions every MySQL 8 / MariaDB 10 server runs)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.delimiter = ";"
        self.scan = self._scanner()
        self.in_executable = False
        self.parts: list[str] = []
        self.start = 0
        self.unterminated: str | None = None
        self.statements: list[Statement] = []
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def _scanner(self) -> re.Pattern[str]:
        return re.compile(r"['\"`#]|--|/\*|\*/|" + re.escape(self.delimiter))

    def run(self) -> list[Statement]:
        while self.pos < len(self.text):
            self._skip_blank()
            if self.pos < len(self.text):
                self._body()
        return self.statements

    def _skip_blank(self) -> None:
        """Whitespace, comments and DELIMITER commands before a statement."""
        text = self.text
        while self.pos < len(text):
            if m := _BLANK.match(text, self.pos):
                self.pos = m.end()
            elif text.startswith("#", self.pos) or self._dash_comment_at(self.pos):
                self._skip_line()
            elif text.startswith("/*", self.pos) and not _EXECUTABLE_COMMENT.match(text, self.pos):
                end = text.find("*/", self.pos + 2)
                self.pos = len(text) if end < 0 else end + 2
            elif m := _DELIMITER_COMMAND.match(text, self.pos):
                self.delimiter = m.group(1)
                self.scan = self._scanner()
                self.pos = m.end()
            else:
                return

    def _dash_comment_at(self, pos: int) -> bool:
        """``--`` starts a comment only when followed by whitespace, a control character or the end."""
        if not self.text.startswith("--", pos):
            return False
        return pos + 2 >= len(self.text) or self.text[pos + 2] <= " "

    def _skip_line(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def _body(self) -> None:
        """One statement, from its first character to the delimiter (or the end of the text)."""
        self.start = self.pos
        text = self.text
        while True:
            m = self.scan.search(text, self.pos)
            if m is None:
                self.parts.append(text[self.pos :])
                self.pos = len(text)
                break
            self.parts.append(text[self.pos : m.start()])
            self.pos = m.end()
            token = m.group()
            if token == self.delimiter:
                break
            self._special(token, m.start())
        self._finish()

    def _special(self, token: str, at: int) -> None:
        if token in _QUOTED:
            self._quoted(token, at)
        elif token == "#" or (token == "--" and self._dash_comment_at(at)):
            self.parts.append(" ")
            self.pos = at
            self._skip_line()
        elif token == "/*":
            self._block_comment(at)
        elif token == "*/" and self.in_executable:
            self.parts.append(" ")
            self.in_executable = False
        else:  # "--" as two minus signs, or "*/" outside an executable comment
            self.parts.append(token[0])
            self.pos = at + 1

    def _quoted(self, quote: str, at: int) -> None:
        m = _QUOTED[quote].match(self.text, at)
        if m is None:
            self.parts.append(self.text[at:])
            self.pos = len(self.text)
            self.unterminated = quote
        else:
            self.parts.append(m.group())
            self.pos = m.end()

    def _block_comment(self, at: int) -> None:
        m = _EXECUTABLE_COMMENT.match(self.text, at)
        if m is not None and (not m.group(2) or int(m.group(2)) < _NEVER_VERSION):
            self.parts.append(" ")
            self.pos = m.end()
            self.in_executable = True
            return
        end = self.text.find("*/", at + 2)
        self.parts.append(" ")
        self.pos = len(self.text) if end < 0 else end + 2

    def _finish(self) -> None:
        statement = "".join(self.parts).strip()
        if statement:
            line = bisect.bisect_left(self.newlines, self.start) + 1
            self.statements.append(Statement(len(self.statements) + 1, line, statement, self.unterminated))
        self.parts = []
        self.unterminated = None


def split_statements(text: str) -> list[Statement]:
    """The statements of a SQL file, split as the mysql client splits them.

    >>> [s.text for s in split_statements("SELECT ';' -- c\\n; DELIMITER ;;\\nBEGIN; END;;\\n"
    ...                                   "DELIMITER ;\\n/*!40101 SET x=1 */;")]
    ["SELECT ';'", 'BEGIN; END', 'SET x=1']
    """
    return _Splitter(text).run()


# --------------------------------------------------------------------------------------------
# Tokens (sqlglot's MySQL tokenizer) and a cursor over them
# --------------------------------------------------------------------------------------------


class _DdlError(Exception):
    """A statement cannot be read or would be refused by the server; the message says why."""


@dataclass(frozen=True)
class _Tok:
    kind: str  # word (unquoted name or keyword), quoted (`identifier`), string, number, literal, introducer, punct
    text: str  # the word, the identifier or string content, the punctuation
    start: int
    end: int  # inclusive offsets into the statement text

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


_STRING_TYPES = {TokenType.STRING, TokenType.NATIONAL_STRING}
_LITERAL_TYPES = {TokenType.HEX_STRING, TokenType.BIT_STRING, TokenType.BYTE_STRING}
_WORDS = re.compile(r"[\w$]+(?:\s+[\w$]+)*")
_MYSQL = MySQL()


def _tokens(sql: str, offset: int = 0) -> list[_Tok]:
    """``sql`` as tokens; sqlglot's multi-word keywords (``PRIMARY KEY``) become one token per word.

    sqlglot reads everything after a command keyword that starts a statement (RENAME, as in
    ``RENAME TABLE a TO b``) as one string: the rest is then tokenized on its own."""
    tokenizer = _MYSQL.tokenizer_class(dialect=_MYSQL)  # a tokenizer keeps state: one per call
    raw = tokenizer.tokenize(sql[offset:])
    if offset == 0 and len(raw) == 2 and raw[0].token_type in tokenizer.COMMANDS:
        return [_Tok("word", raw[0].text, raw[0].start, raw[0].end), *_tokens(sql, raw[0].end + 1)]
    result = []
    for t in raw:
        start, end = t.start + offset, t.end + offset
        if t.token_type == TokenType.IDENTIFIER:
            result.append(_Tok("quoted", t.text, start, end))
        elif t.token_type in _STRING_TYPES:
            result.append(_Tok("string", t.text, start, end))
        elif t.token_type in _LITERAL_TYPES:
            result.append(_Tok("literal", sql[start : end + 1], start, end))
        elif t.token_type == TokenType.NUMBER:
            result.append(_Tok("number", t.text, start, end))
        elif t.token_type == TokenType.INTRODUCER:
            result.append(_Tok("introducer", t.text, start, end))
        elif _WORDS.fullmatch(t.text):
            result.extend(_Tok("word", w, start, end) for w in t.text.split())
        else:
            result.append(_Tok("punct", t.text, start, end))
    return result


class _Cursor:
    """Reads a token list left to right; every ``expect``/``name`` failure is a ``_DdlError``
    that names what was expected and where."""

    def __init__(self, toks: list[_Tok], sql: str) -> None:
        self.toks = toks
        self.sql = sql
        self.i = 0

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def word(self, offset: int = 0) -> str:
        tok = self.peek(offset)
        return tok.upper if tok is not None else ""

    def done(self) -> bool:
        return self.i >= len(self.toks)

    def advance(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise _DdlError("unexpected end of statement")
        self.i += 1
        return tok

    def at(self, *items: str) -> bool:
        """The next tokens are these keywords (unquoted, any case) or punctuation."""
        for offset, item in enumerate(items):
            tok = self.peek(offset)
            if tok is None or (tok.upper != item and not (tok.kind == "punct" and tok.text == item)):
                return False
        return True

    def accept(self, *items: str) -> bool:
        if self.at(*items):
            self.i += len(items)
            return True
        return False

    def expect(self, *items: str) -> None:
        if not self.accept(*items):
            raise _DdlError(f"expected {' '.join(items)} {self.near()}")

    def near(self) -> str:
        tok = self.peek()
        if tok is None:
            return "at the end of the statement"
        snippet = " ".join(self.sql[tok.start : tok.start + 40].split())
        return f"near {snippet!r}"

    def name(self, what: str) -> str:
        tok = self.peek()
        if tok is None or tok.kind not in ("word", "quoted"):
            raise _DdlError(f"expected {what} {self.near()}")
        self.i += 1
        return tok.text

    def qualified(self, what: str) -> tuple[str | None, str]:
        """``db.name`` or ``name``."""
        first = self.name(what)
        if self.accept("."):
            return first, self.name(what)
        return None, first

    def string(self, what: str) -> str:
        """A string literal's content (a ``_charset`` introducer before it is skipped)."""
        tok = self.peek()
        if tok is not None and tok.kind == "introducer":
            self.i += 1
            tok = self.peek()
        if tok is None or tok.kind != "string":
            raise _DdlError(f"expected {what} {self.near()}")
        self.i += 1
        return tok.text

    def group(self) -> list[_Tok]:
        """The tokens between a ``(`` and its matching ``)``."""
        self.expect("(")
        start, depth = self.i, 1
        while depth:
            tok = self.advance()
            if tok.kind == "punct":
                depth += {"(": 1, ")": -1}.get(tok.text, 0)
        return self.toks[start : self.i - 1]

    def raw(self, toks: list[_Tok]) -> str:
        """The source text the tokens were read from."""
        return self.sql[toks[0].start : toks[-1].end + 1] if toks else ""

    def skip_value(self) -> None:
        """One option value: a parenthesised group or a single token."""
        if self.at("("):
            self.group()
        else:
            self.advance()

    def end(self) -> None:
        if not self.done():
            raise _DdlError(f"unexpected {self.near()}")


def _split_commas(toks: list[_Tok]) -> list[list[_Tok]]:
    """Top-level comma-separated pieces of a token list (commas inside parentheses stay)."""
    pieces: list[list[_Tok]] = [[]]
    depth = 0
    for tok in toks:
        if tok.kind == "punct":
            if tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
            elif tok.text == "," and depth == 0:
                pieces.append([])
                continue
        pieces[-1].append(tok)
    return pieces


# --------------------------------------------------------------------------------------------
# Column types, as the server prints them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Type:
    text: str  # COLUMN_TYPE, e.g. "int(10) unsigned"
    base: str  # "int", "varchar", "text", ...
    length: int | None = None  # characters (bytes) of char/varchar/binary/varbinary

    @property
    def is_lob(self) -> bool:
        """TEXT/BLOB-like: a UNIQUE key on the whole column is MariaDB's long unique (HASH)."""
        return self.base.endswith(("text", "blob")) or self.base == "json"


_INT_WIDTHS = {"tinyint": (4, 3), "smallint": (6, 5), "mediumint": (9, 8), "int": (11, 10), "bigint": (20, 20)}
_BASE_NAMES = {
    "INTEGER": "int",
    "INT1": "tinyint",
    "INT2": "smallint",
    "INT3": "mediumint",
    "MIDDLEINT": "mediumint",
    "INT4": "int",
    "INT8": "bigint",
    "DEC": "decimal",
    "NUMERIC": "decimal",
    "FIXED": "decimal",
    "REAL": "double",
    "FLOAT4": "float",
    "FLOAT8": "double",
    "CHARACTER": "char",
    "NCHAR": "char",
    "NVARCHAR": "varchar",
    "VARCHARACTER": "varchar",
    "BOOL": "boolean",
    "GEOMCOLLECTION": "geometrycollection",
}
_PLAIN_TYPES = {
    "date",
    "tinytext",
    "text",
    "mediumtext",
    "longtext",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
    "json",
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
}
_TYPE_MODIFIERS = ("UNSIGNED", "SIGNED", "ZEROFILL")


def _type_words(cur: _Cursor) -> str:
    """The type name, multi-word forms folded into one: ``DOUBLE PRECISION`` is ``double``,
    ``NATIONAL CHAR VARYING`` and ``CHARACTER VARYING`` are ``varchar``, ``LONG`` is mediumtext."""
    tok = cur.peek()
    if tok is None or tok.kind != "word":
        raise _DdlError(f"expected a column type {cur.near()}")
    cur.advance()
    word = tok.upper
    if word == "NATIONAL":
        word = cur.name("a character type").upper()
    if word == "DOUBLE":
        cur.accept("PRECISION")
    if word == "LONG":
        if cur.accept("VARBINARY"):
            return "mediumblob"
        cur.accept("VARCHAR") or cur.accept("CHAR", "VARYING")
        return "mediumtext"
    base = _BASE_NAMES.get(word, word.lower())
    if base == "char" and cur.accept("VARYING"):
        base = "varchar"
    return base


def _type_params(cur: _Cursor, base: str) -> list[str]:
    """The parenthesised parameters: numbers, or the values of an ENUM/SET."""
    if not cur.at("("):
        return []
    inner = cur.group()
    values = []
    for piece in _split_commas(inner):
        pc = _Cursor(piece, cur.sql)
        if base in ("enum", "set"):
            values.append("'" + pc.string("an ENUM/SET value").replace("'", "''") + "'")
        else:
            tok = pc.peek()
            if tok is None or tok.kind != "number":
                raise _DdlError(f"expected a number in the {base} type {pc.near()}")
            pc.advance()
            values.append(tok.text)
        pc.end()
    return values


def _read_type(cur: _Cursor) -> _Type:
    base = _type_words(cur)
    params = _type_params(cur, base)
    if base == "char" and cur.accept("BYTE"):
        base = "binary"
    modifiers = set()
    while cur.word() in _TYPE_MODIFIERS:
        modifiers.add(cur.advance().upper)
    return _canonical_type(
        base, params, zerofill="ZEROFILL" in modifiers, unsigned="UNSIGNED" in modifiers or "ZEROFILL" in modifiers
    )


def _numeric_suffix(unsigned: bool, zerofill: bool) -> str:
    return (" unsigned" if unsigned else "") + (" zerofill" if zerofill else "")


def _canonical_type(base: str, params: list[str], *, unsigned: bool, zerofill: bool) -> _Type:
    """The type as MariaDB / MySQL 5.7 print it in information_schema.COLUMNS.COLUMN_TYPE."""
    suffix = _numeric_suffix(unsigned, zerofill)
    if base in ("boolean", "serial"):
        return _Type(
            "tinyint(1)" if base == "boolean" else "bigint(20) unsigned", "tinyint" if base == "boolean" else "bigint"
        )
    if base in _INT_WIDTHS:
        width = params[0] if params else str(_INT_WIDTHS[base][1 if unsigned else 0])
        return _Type(f"{base}({width}){suffix}", base)
    if base == "decimal":
        precision, scale = (params + ["10", "0"][len(params) :])[:2] if params else ("10", "0")
        return _Type(f"decimal({precision},{scale}){suffix}", base)
    if base in ("float", "double"):
        if len(params) == 1:  # FLOAT(p): a single-precision float up to 24 bits of precision
            base = "float" if base == "float" and int(params[0]) <= 24 else "double"
            return _Type(base + suffix, base)
        return _Type(base + (f"({params[0]},{params[1]})" if len(params) == 2 else "") + suffix, base)
    if base in ("char", "binary", "bit"):
        length = params[0] if params else "1"
        return _Type(f"{base}({length})", base, int(length))
    if base in ("varchar", "varbinary"):
        if not params:
            raise _DdlError(f"{base.upper()} needs a length")
        return _Type(f"{base}({params[0]})", base, int(params[0]))
    if base in ("time", "datetime", "timestamp"):
        fsp = params[0] if params and params[0] != "0" else ""
        return _Type(base + (f"({fsp})" if fsp else ""), base)
    if base == "year":
        return _Type(f"year({params[0] if params else 4})", base)
    if base in ("enum", "set"):
        return _Type(f"{base}({','.join(params)})", base)
    if base == "blob" and params:
        size = int(params[0])
        base = "tinyblob" if size < 256 else "blob" if size < 65536 else "mediumblob" if size < 1 << 24 else "longblob"
    if base in _PLAIN_TYPES:
        return _Type(base, base)
    return _Type(base + (f"({','.join(params)})" if params else "") + suffix, base)  # inet6, uuid, vector(3)...


# --------------------------------------------------------------------------------------------
# Definitions: columns, keys, foreign keys
# --------------------------------------------------------------------------------------------


@dataclass
class _Key:
    """A key as declared; ``name`` is None until the server would name it."""

    kind: str  # PRIMARY, UNIQUE, KEY, FULLTEXT, SPATIAL
    name: str | None
    parts: list[IndexColumn]
    algorithm: str | None = None  # USING BTREE|HASH|RTREE as written
    comment: str = ""
    visible: bool = True
    generated: bool = False  # the index the server adds for a foreign key
    if_not_exists: bool = False


@dataclass
class _ForeignKeyDef:
    symbol: str | None  # CONSTRAINT symbol
    index_name: str | None  # FOREIGN KEY index_name (...)
    columns: list[str]
    ref_schema: str | None
    ref_table: str
    ref_columns: list[str]
    on_delete: str = "RESTRICT"
    on_update: str = "RESTRICT"
    if_not_exists: bool = False


@dataclass
class _Col:
    name: str
    type: _Type
    nullable: bool = True
    default: str | None = None
    extra: list[str] = field(default_factory=list)
    keys: list[_Key | _ForeignKeyDef] = field(default_factory=list)  # inline PRIMARY KEY, UNIQUE, REFERENCES
    position: tuple[str, str | None] | None = None  # ("FIRST", None) or ("AFTER", column), ALTER TABLE only
    collation: str | None = None  # an explicit COLLATE


_KEY_WORDS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "KEY", "INDEX", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK"}
_NOW_FUNCTIONS = {"CURRENT_TIMESTAMP", "NOW", "LOCALTIME", "LOCALTIMESTAMP"}
_FK_ACTIONS = (("SET", "NULL"), ("SET", "DEFAULT"), ("NO", "ACTION"), ("RESTRICT",), ("CASCADE",))


def _read_now(cur: _Cursor) -> str | None:
    """CURRENT_TIMESTAMP[(n)], NOW([n]), LOCALTIME... as ``CURRENT_TIMESTAMP[(n)]``; None otherwise."""
    if cur.word() not in _NOW_FUNCTIONS:
        return None
    cur.advance()
    precision = ""
    if cur.at("("):
        inner = cur.group()
        precision = inner[0].text if len(inner) == 1 and inner[0].kind == "number" and inner[0].text != "0" else ""
    return "CURRENT_TIMESTAMP" + (f"({precision})" if precision else "")


def _read_default(cur: _Cursor) -> str | None:
    """The DEFAULT value as information_schema gives it on MySQL (see the module docstring)."""
    if cur.at("("):
        return cur.raw(cur.group()).strip()
    now = _read_now(cur)
    if now is not None:
        return now
    tok = cur.advance()
    if tok.upper == "NULL":
        return None
    if tok.upper in ("TRUE", "FALSE"):
        return "1" if tok.upper == "TRUE" else "0"
    if tok.kind == "introducer":
        return cur.string("a string")
    if tok.kind == "string":
        return tok.text
    if tok.kind == "punct" and tok.text in ("-", "+"):
        number = cur.advance()
        if number.kind != "number":
            raise _DdlError(f"expected a number after DEFAULT {tok.text}")
        return ("-" if tok.text == "-" else "") + number.text
    if tok.kind in ("number", "literal"):
        return tok.text
    if tok.kind == "word" and cur.at("("):  # MariaDB allows a function call without parentheses around it
        cur.group()
        return cur.sql[tok.start : cur.toks[cur.i - 1].end + 1]
    raise _DdlError(f"cannot read the DEFAULT value {tok.text!r}")


def _skip_option_value(cur: _Cursor) -> None:
    cur.accept("=")
    cur.skip_value()


def _read_column(cur: _Cursor, *, in_alter: bool = False) -> _Col:
    """``name type [attributes]``; inline PRIMARY KEY / UNIQUE / REFERENCES become keys."""
    col = _Col(cur.name("a column name"), _Type("", ""))
    serial = cur.word() == "SERIAL"
    col.type = _read_type(cur)
    if serial:
        _serial(col)
    while not cur.done():
        if in_alter and cur.word() in ("FIRST", "AFTER"):
            col.position = ("FIRST", None) if cur.advance().upper == "FIRST" else ("AFTER", cur.name("a column name"))
        elif not _column_attribute(cur, col):
            raise _DdlError(f"column {col.name}: unexpected {cur.near()}")
    return col


def _serial(col: _Col) -> None:
    """SERIAL and SERIAL DEFAULT VALUE: NOT NULL AUTO_INCREMENT UNIQUE."""
    col.nullable = False
    col.extra.append("auto_increment")
    col.keys.append(_Key("UNIQUE", None, [IndexColumn(col.name)]))


def _column_attribute(cur: _Cursor, col: _Col) -> bool:
    """Reads one attribute into ``col``; False when the next tokens are no column attribute."""
    if cur.accept("NOT", "NULL"):
        col.nullable = False
    elif cur.accept("NULL"):
        col.nullable = True
    elif cur.accept("SERIAL", "DEFAULT", "VALUE"):
        _serial(col)
    elif cur.accept("DEFAULT"):
        col.default = _read_default(cur)
    elif cur.accept("AUTO_INCREMENT"):
        col.extra.append("auto_increment")
    elif cur.accept("ON", "UPDATE"):
        now = _read_now(cur)
        if now is None:
            raise _DdlError(f"column {col.name}: ON UPDATE takes CURRENT_TIMESTAMP {cur.near()}")
        col.extra.append(f"on update {now}")
    elif cur.accept("PRIMARY", "KEY") or cur.accept("KEY"):
        col.keys.append(_Key("PRIMARY", "PRIMARY", [IndexColumn(col.name)]))
    elif cur.accept("UNIQUE"):
        cur.accept("KEY")
        col.keys.append(_Key("UNIQUE", None, [IndexColumn(col.name)]))
    elif cur.at("REFERENCES"):
        col.keys.append(_read_references(cur, _ForeignKeyDef(None, None, [col.name], None, "", [])))
    else:
        return _column_modifier(cur, col)
    return True


def _column_modifier(cur: _Cursor, col: _Col) -> bool:
    """Attributes that do not change what the model holds, and generated columns."""
    if cur.accept("GENERATED", "ALWAYS") or cur.at("AS"):
        cur.expect("AS")
        cur.group()
        stored = cur.word() in ("STORED", "PERSISTENT")
        if cur.word() in ("STORED", "PERSISTENT", "VIRTUAL"):
            cur.advance()
        col.extra.append("STORED GENERATED" if stored else "VIRTUAL GENERATED")
    elif cur.accept("INVISIBLE"):
        col.extra.append("INVISIBLE")
    elif cur.accept("COMMENT"):
        cur.string("a comment")
    elif cur.accept("COLLATE"):
        cur.accept("=")
        col.collation = cur.advance().text.strip("`'\"").lower()
    elif cur.accept("CHARSET") or cur.accept("CHARACTER", "SET"):
        cur.accept("=")
        cur.advance()
    elif cur.accept("CONSTRAINT"):
        if not cur.at("CHECK"):
            cur.name("a constraint name")
    elif cur.accept("CHECK"):
        cur.group()
        cur.accept("NOT", "ENFORCED") or cur.accept("ENFORCED")
    elif cur.word() in ("COLUMN_FORMAT", "STORAGE", "SRID", "ENGINE_ATTRIBUTE", "SECONDARY_ENGINE_ATTRIBUTE"):
        cur.advance()
        _skip_option_value(cur)
    elif cur.accept("COMPRESSED"):  # MariaDB: COMPRESSED[=zlib]
        if cur.accept("="):
            cur.advance()
    elif cur.word() in ("BINARY", "ASCII", "UNICODE", "BYTE", "VISIBLE", "SECONDARY"):
        cur.advance()
    else:
        return (
            cur.accept("WITH", "SYSTEM", "VERSIONING")
            or cur.accept("WITHOUT", "SYSTEM", "VERSIONING")
            or cur.accept("NOT", "SECONDARY")
        )
    return True


def _read_name_list(cur: _Cursor, what: str) -> list[str]:
    names = []
    for piece in _split_commas(cur.group()):
        pc = _Cursor(piece, cur.sql)
        names.append(pc.name(what))
        pc.end()
    return names


def _read_references(cur: _Cursor, fk: _ForeignKeyDef) -> _ForeignKeyDef:
    """``REFERENCES [db.]t (cols) [MATCH ...] [ON DELETE action] [ON UPDATE action]`` into ``fk``."""
    cur.expect("REFERENCES")
    fk.ref_schema, fk.ref_table = cur.qualified("a table name")
    fk.ref_columns = _read_name_list(cur, "a column name")
    if cur.accept("MATCH"):
        cur.advance()
    while cur.accept("ON"):
        event = cur.advance().upper
        if event not in ("DELETE", "UPDATE"):
            raise _DdlError(f"expected ON DELETE or ON UPDATE, not ON {event}")
        action = next((a for a in _FK_ACTIONS if cur.accept(*a)), None)
        if action is None:
            raise _DdlError(f"expected a foreign key action {cur.near()}")
        setattr(fk, "on_delete" if event == "DELETE" else "on_update", " ".join(action))
    return fk


def _read_key_parts(cur: _Cursor) -> list[IndexColumn]:
    """``(col[(len)] [ASC|DESC], (expr) [DESC], ...)``."""
    parts = []
    for piece in _split_commas(cur.group()):
        pc = _Cursor(piece, cur.sql)
        if pc.at("("):
            part = IndexColumn(None, expression=pc.raw(pc.group()).strip())
        else:
            name, sub_part = pc.name("a key column"), None
            if pc.at("("):
                inner = pc.group()
                if len(inner) != 1 or inner[0].kind != "number" or not inner[0].text.isdigit():
                    raise _DdlError(f"key column {name}: the prefix length must be a number")
                sub_part = int(inner[0].text)
            part = IndexColumn(name, sub_part)
        descending = pc.accept("DESC")
        if not descending:
            pc.accept("ASC")
        pc.end()
        parts.append(IndexColumn(part.name, part.sub_part, descending, part.expression))
    if not parts:
        raise _DdlError("a key needs at least one column")
    return parts


def _read_index_options(cur: _Cursor, key: _Key, *, statement_options: bool = False) -> None:
    """USING, COMMENT, KEY_BLOCK_SIZE, WITH PARSER, VISIBLE/INVISIBLE, IGNORED; for CREATE/DROP
    INDEX also ALGORITHM, LOCK, WAIT and NOWAIT."""
    while not cur.done():
        if _at_index_type(cur):
            cur.advance()
            key.algorithm = cur.name("an index type").upper()
        elif cur.accept("COMMENT"):
            key.comment = cur.string("a comment")
        elif cur.accept("WITH", "PARSER"):
            cur.name("a parser name")
        elif cur.word() in ("VISIBLE", "INVISIBLE", "IGNORED"):
            key.visible = cur.advance().upper == "VISIBLE"
        elif cur.accept("NOT", "IGNORED"):
            key.visible = True
        elif cur.word() in ("KEY_BLOCK_SIZE", "CLUSTERING", "ENGINE_ATTRIBUTE", "SECONDARY_ENGINE_ATTRIBUTE") or (
            statement_options and cur.word() in ("ALGORITHM", "LOCK", "WAIT")
        ):
            cur.advance()
            _skip_option_value(cur)
        elif statement_options and cur.accept("NOWAIT"):
            pass
        else:
            raise _DdlError(f"unexpected {cur.near()}")


def _read_key(cur: _Cursor, *, statement_options: bool = False) -> _Key | _ForeignKeyDef | None:
    """A table-level key, FOREIGN KEY or CHECK (None: nothing the model keeps)."""
    symbol = None
    if cur.accept("CONSTRAINT") and cur.word() not in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK"):
        symbol = cur.name("a constraint name")
    if cur.accept("CHECK"):
        cur.i = len(cur.toks)  # (expr) [[NOT] ENFORCED]: not part of the model
        return None
    if cur.accept("FOREIGN"):
        cur.expect("KEY")
        return _read_foreign_key(cur, symbol)
    kind = _key_kind(cur)
    if symbol is not None and kind not in ("PRIMARY", "UNIQUE"):
        raise _DdlError(f"CONSTRAINT {symbol} cannot name a {kind} key")
    if_not_exists = cur.accept("IF", "NOT", "EXISTS")
    name = None
    if not cur.at("(") and not _at_index_type(cur):
        name = cur.name("an index name")
    key = _Key(kind, name, [], if_not_exists=if_not_exists)
    if _at_index_type(cur):
        cur.advance()
        key.algorithm = cur.name("an index type").upper()
    key.parts = _read_key_parts(cur)
    _read_index_options(cur, key, statement_options=statement_options)
    if kind == "PRIMARY":
        key.name = "PRIMARY"
    elif kind == "UNIQUE" and key.name is None:
        key.name = symbol
    return key


def _at_index_type(cur: _Cursor) -> bool:
    """``USING BTREE`` or the old ``TYPE BTREE`` (TYPE is no reserved word: ``KEY type (type)``
    is a key named type)."""
    return cur.word() == "USING" or (cur.word() == "TYPE" and cur.word(1) in ("BTREE", "HASH", "RTREE"))


def _key_kind(cur: _Cursor) -> str:
    if cur.accept("PRIMARY"):
        cur.expect("KEY")
        return "PRIMARY"
    for kind in ("UNIQUE", "FULLTEXT", "SPATIAL"):
        if cur.accept(kind):
            cur.accept("INDEX") or cur.accept("KEY")
            return kind
    if cur.accept("INDEX") or cur.accept("KEY"):
        return "KEY"
    raise _DdlError(f"expected a key definition {cur.near()}")


def _read_foreign_key(cur: _Cursor, symbol: str | None) -> _ForeignKeyDef:
    if_not_exists = cur.accept("IF", "NOT", "EXISTS")
    index_name = None if cur.at("(") else cur.name("an index name")
    columns = _read_name_list(cur, "a column name")
    fk = _read_references(cur, _ForeignKeyDef(symbol, index_name, columns, None, "", [], if_not_exists=if_not_exists))
    cur.end()
    return fk


def _read_definition(cur: _Cursor, *, in_alter: bool = False) -> _Col | _Key | _ForeignKeyDef | None:
    """One element of a CREATE TABLE body (or of ALTER TABLE ... ADD): a column or a key."""
    tok = cur.peek()
    if tok is None:
        raise _DdlError("empty definition (two commas in a row?)")
    if cur.at("PERIOD", "FOR"):  # MariaDB's PERIOD FOR SYSTEM_TIME (a, b): nothing to keep
        return None
    if tok.upper in _KEY_WORDS:
        definition = _read_key(cur)
        cur.end()
        return definition
    return _read_column(cur, in_alter=in_alter)


# --------------------------------------------------------------------------------------------
# A table being built, and the rules the server applies to its keys
# --------------------------------------------------------------------------------------------

_ENGINES = {
    "innodb": "InnoDB",
    "myisam": "MyISAM",
    "memory": "MEMORY",
    "heap": "MEMORY",
    "aria": "Aria",
    "csv": "CSV",
    "archive": "ARCHIVE",
    "blackhole": "BLACKHOLE",
    "federated": "FEDERATED",
    "mrg_myisam": "MRG_MyISAM",
    "merge": "MRG_MyISAM",
    "rocksdb": "ROCKSDB",
    "tokudb": "TokuDB",
    "ndb": "ndbcluster",
    "ndbcluster": "ndbcluster",
    "spider": "SPIDER",
    "connect": "CONNECT",
}
_SPATIAL_PREFIX = 32  # what information_schema.STATISTICS.SUB_PART shows for a SPATIAL key part
# The server's limits; enforcing them also keeps hostile input from taking quadratic time.
_MAX_COLUMNS = 4096
_MAX_KEYS = 64


@dataclass
class _TableState:
    schema: str
    name: str
    engine: str = "InnoDB"
    collation: str | None = None  # the table's default COLLATE, when the DDL says it
    columns: list[_Col] = field(default_factory=list)
    keys: list[_Key] = field(default_factory=list)  # named, deduplicated
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def column(self, name: str) -> _Col | None:
        lname = name.lower()
        return next((c for c in self.columns if c.name.lower() == lname), None)

    def key_index(self, name: str) -> int | None:
        lname = name.lower()
        return next((i for i, k in enumerate(self.keys) if (k.name or "").lower() == lname), None)


def _engine_name(written: str) -> str:
    return _ENGINES.get(written.lower(), written)


def _fk_prefix(a: _Key, b: _Key) -> bool:
    """One of the keys is a generated foreign key index whose columns start the other key
    (``foreign_key_prefix()`` of sql_table.cc; a USING HASH key never counts, measured)."""
    if a.generated:
        if b.generated and len(a.parts) > len(b.parts):
            a, b = b, a
    elif b.generated:
        a, b = b, a
    else:
        return False
    if "HASH" in (a.algorithm, b.algorithm) or len(a.parts) > len(b.parts):
        return False
    return all(
        x.name is not None and y.name is not None and x.name.lower() == y.name.lower() and x.sub_part == y.sub_part
        for x, y in zip(a.parts, b.parts)
    )


def _drop_redundant_generated(keys: list[_Key]) -> list[_Key]:
    """Generated foreign key indexes another key makes redundant, left out (the server's rule:
    compare each key with the earlier ones, drop the generated or the shorter one)."""
    dropped: set[int] = set()
    for i, key in enumerate(keys):
        for j in range(i):
            if j in dropped or not _fk_prefix(key, keys[j]):
                continue
            other = keys[j]
            if not other.generated or (key.generated and len(key.parts) < len(other.parts)):
                dropped.add(i)
            else:
                dropped.add(j)
            break
    return [k for i, k in enumerate(keys) if i not in dropped]


def _unique_key_name(base: str, taken: list[str]) -> str:
    """``make_unique_key_name()``: the column name, else ``name_2`` ... ``name_99``."""
    lowered = {t.lower() for t in taken}
    if base.lower() not in lowered and base.lower() != "primary":
        return base
    for n in range(2, 100):
        candidate = f"{base}_{n}"
        if candidate.lower() not in lowered:
            return candidate
    raise _DdlError(f"no free key name for column {base}")


def _name_keys(keys: list[_Key]) -> None:
    """Names unnamed keys as the server does and refuses what it refuses."""
    taken: list[str] = []
    for key in keys:
        if key.kind == "PRIMARY":
            if any(t == "PRIMARY" for t in taken):
                raise _DdlError("more than one PRIMARY KEY")
            key.name = "PRIMARY"
        elif key.name is None:
            first = key.parts[0].name or "functional_index"
            key.name = _unique_key_name(first, taken)
        elif key.name.lower() == "primary":
            raise _DdlError("a key other than the PRIMARY KEY cannot be named PRIMARY")
        elif key.name.lower() in (t.lower() for t in taken):
            raise _DdlError(f"duplicate key name {key.name}")
        taken.append(key.name)


def _resolve_columns(state: _TableState) -> None:
    """Key parts and foreign key columns take the column's declared name; an unknown column is
    the server's 'Key column doesn't exist' error.  PRIMARY KEY columns become NOT NULL."""
    for key in state.keys:
        parts = []
        for part in key.parts:
            if part.name is None:
                parts.append(part)
                continue
            col = state.column(part.name)
            if col is None:
                raise _DdlError(f"key {key.name or part.name}: no column {part.name} in table {state.name}")
            parts.append(IndexColumn(col.name, part.sub_part, part.descending, part.expression))
            if key.kind == "PRIMARY":
                col.nullable = False
        key.parts = parts


def _fk_has_index(state: _TableState, fk: ForeignKey) -> bool:
    """InnoDB needs an index starting with the foreign key's columns (whole columns)."""
    wanted = [c.lower() for c in fk.columns]
    for key in state.keys:
        if key.kind in ("FULLTEXT", "SPATIAL") or len(key.parts) < len(wanted):
            continue
        if all(p.name is not None and p.name.lower() == w and p.sub_part is None for p, w in zip(key.parts, wanted)):
            return True
    return False


def _next_fk_number(state: _TableState) -> int:
    pattern = re.compile(re.escape(state.name) + r"_ibfk_(\d+)", re.IGNORECASE)
    numbers = [int(m.group(1)) for f in state.foreign_keys if (m := pattern.fullmatch(f.name))]
    return max(numbers, default=0) + 1


def _add_keys(state: _TableState, items: Iterable[_Key | _ForeignKeyDef]) -> None:
    """Adds keys and foreign keys (each with the index the server generates for it), in order,
    then applies the server's rules: redundant generated indexes go, unnamed keys get names."""
    number = _next_fk_number(state)
    for item in items:
        if isinstance(item, _Key):
            if item.if_not_exists and item.name is not None and state.key_index(item.name) is not None:
                continue
            state.keys.append(item)
            continue
        if item.if_not_exists and any(f.name == (item.symbol or item.index_name) for f in state.foreign_keys):
            continue
        name = item.symbol or item.index_name
        if name is None:
            name, number = f"{state.name}_ibfk_{number}", number + 1
        if any(f.name.lower() == name.lower() for f in state.foreign_keys):
            raise _DdlError(f"duplicate foreign key name {name}")
        state.foreign_keys.append(
            ForeignKey(
                name,
                tuple(item.columns),
                item.ref_schema or state.schema,
                item.ref_table,
                tuple(item.ref_columns),
                on_update=item.on_update,
                on_delete=item.on_delete,
            )
        )
        state.keys.append(
            _Key("KEY", item.symbol or item.index_name, [IndexColumn(c) for c in item.columns], generated=True)
        )
    if len(state.keys) > _MAX_KEYS * 2:  # generated keys may still go
        raise _DdlError(f"more than {_MAX_KEYS} keys")
    state.keys = _drop_redundant_generated(state.keys)
    if len(state.keys) > _MAX_KEYS:
        raise _DdlError(f"more than {_MAX_KEYS} keys")
    _resolve_columns(state)
    _name_keys(state.keys)


def _check_table(state: _TableState) -> None:
    """What the server checks at the end of CREATE/ALTER TABLE: foreign key columns exist and
    have an index; only InnoDB keeps foreign keys."""
    if state.engine != "InnoDB":
        state.foreign_keys = []
        return
    for fk in state.foreign_keys:
        for name in fk.columns:
            if state.column(name) is None:
                raise _DdlError(f"foreign key {fk.name}: no column {name} in table {state.name}")
        if not _fk_has_index(state, fk):
            raise _DdlError(
                f"foreign key {fk.name} would have no index on ({', '.join(fk.columns)}); the server refuses that"
            )
    state.foreign_keys = [
        ForeignKey(
            f.name,
            tuple(_declared_name(state, c) for c in f.columns),
            f.ref_schema,
            f.ref_table,
            f.ref_columns,
            f.on_update,
            f.on_delete,
        )
        for f in state.foreign_keys
    ]


def _declared_name(state: _TableState, name: str) -> str:
    """The column's name as declared (``FOREIGN KEY (A)`` on column ``a`` is reported as ``a``)."""
    col = state.column(name)
    return col.name if col is not None else name


def _index_type(state: _TableState, key: _Key) -> str:
    if key.kind in ("FULLTEXT", "SPATIAL"):
        return key.kind
    if state.engine == "MEMORY" and key.algorithm != "BTREE":
        return "HASH"
    if key.kind == "UNIQUE":
        for part in key.parts:
            col = state.column(part.name) if part.name else None
            if col is not None and col.type.is_lob and part.sub_part is None:
                return "HASH"
    return "BTREE"


def _model_part(state: _TableState, key: _Key, part: IndexColumn) -> IndexColumn:
    sub_part = part.sub_part
    if key.kind == "SPATIAL":
        sub_part = _SPATIAL_PREFIX
    elif key.kind == "FULLTEXT":
        sub_part = None
    elif sub_part is not None and part.name is not None:
        col = state.column(part.name)
        if col is not None and col.type.length == sub_part:
            sub_part = None
    return IndexColumn(part.name, sub_part, part.descending, part.expression)


_STRING_TYPE = re.compile(r"^(var)?char|^(tiny|medium|long)?text|^enum|^set", re.IGNORECASE)


def _collation(col: _Col, state: _TableState) -> str | None:
    """A string column's collation when the DDL states it (on the column, or as the table's
    default); None otherwise (a charset's default collation differs between servers)."""
    if not _STRING_TYPE.match(col.type.text):
        return None
    return col.collation or state.collation


def _to_table(state: _TableState) -> Table:
    columns = [
        Column(c.name, c.type.text, c.nullable, n, c.default, " ".join(c.extra), _collation(c, state))
        for n, c in enumerate(state.columns, start=1)
    ]
    indexes = [
        Index(
            k.name or "",
            tuple(_model_part(state, k, p) for p in k.parts),
            unique=k.kind in ("PRIMARY", "UNIQUE"),
            type=_index_type(state, k),
            visible=k.visible,
            comment=k.comment,
        )
        for k in state.keys
    ]
    return Table(
        state.schema,
        state.name,
        state.engine,
        rows=None,
        columns=columns,
        indexes=sort_indexes(columns, indexes),
        foreign_keys=sorted(state.foreign_keys, key=lambda f: f.name),
    )


# --------------------------------------------------------------------------------------------
# ALTER TABLE
# --------------------------------------------------------------------------------------------

_TableEdit = Callable[[_TableState], None]


@dataclass
class _AlterPlan:
    """An ALTER TABLE in the order the server applies it: column changes, key drops, new keys."""

    column_edits: list[_TableEdit] = field(default_factory=list)
    key_edits: list[_TableEdit] = field(default_factory=list)
    new_keys: list[_Key | _ForeignKeyDef] = field(default_factory=list)
    engine: str | None = None
    rename: tuple[str | None, str] | None = None


def _place_column(state: _TableState, col: _Col, replacing: str | None = None) -> None:
    index = None
    if replacing is not None:
        old = state.column(replacing)
        if old is None:
            raise _DdlError(f"no column {replacing} in table {state.name}")
        index = state.columns.index(old)
        state.columns.remove(old)
        _rename_in_keys(state, old.name, col.name)
    elif state.column(col.name) is not None:
        raise _DdlError(f"duplicate column {col.name}")
    elif len(state.columns) == _MAX_COLUMNS:
        raise _DdlError(f"more than {_MAX_COLUMNS} columns")
    if col.position is not None:
        kind, after = col.position
        if kind == "FIRST":
            index = 0
        else:
            anchor = state.column(after or "")
            if anchor is None:
                raise _DdlError(f"AFTER {after}: no such column")
            index = state.columns.index(anchor) + 1
    state.columns.insert(len(state.columns) if index is None else index, col)


def _rename_in_keys(state: _TableState, old: str, new: str) -> None:
    lold = old.lower()
    for key in state.keys:
        key.parts = [
            IndexColumn(new, p.sub_part, p.descending, p.expression)
            if p.name is not None and p.name.lower() == lold
            else p
            for p in key.parts
        ]
    state.foreign_keys = [
        ForeignKey(
            f.name,
            tuple(new if c.lower() == lold else c for c in f.columns),
            f.ref_schema,
            f.ref_table,
            f.ref_columns,
            f.on_update,
            f.on_delete,
        )
        for f in state.foreign_keys
    ]


def _drop_column(state: _TableState, name: str, if_exists: bool) -> None:
    col = state.column(name)
    if col is None:
        if if_exists:
            return
        raise _DdlError(f"no column {name} in table {state.name}")
    state.columns.remove(col)
    lname = col.name.lower()
    for key in state.keys:
        key.parts = [p for p in key.parts if p.name is None or p.name.lower() != lname]
    state.keys = [k for k in state.keys if k.parts]


def _set_default(state: _TableState, name: str, default: str | None) -> None:
    col = state.column(name)
    if col is None:
        raise _DdlError(f"no column {name} in table {state.name}")
    col.default = default


def _rename_column(state: _TableState, old: str, new: str) -> None:
    col = state.column(old)
    if col is None:
        raise _DdlError(f"no column {old} in table {state.name}")
    col.name = new
    _rename_in_keys(state, old, new)


def _drop_key(state: _TableState, name: str, if_exists: bool) -> None:
    index = state.key_index(name)
    if index is None:
        if if_exists:
            return
        raise _DdlError(f"no key {name} in table {state.name}")
    del state.keys[index]


def _drop_foreign_key(state: _TableState, name: str, if_exists: bool) -> None:
    kept = [f for f in state.foreign_keys if f.name.lower() != name.lower()]
    if len(kept) == len(state.foreign_keys) and not if_exists:
        raise _DdlError(f"no foreign key {name} in table {state.name}")
    state.foreign_keys = kept


def _drop_constraint(state: _TableState, name: str) -> None:
    """DROP CONSTRAINT: a foreign key, else a unique key of that name, else a CHECK (nothing)."""
    if any(f.name.lower() == name.lower() for f in state.foreign_keys):
        _drop_foreign_key(state, name, False)
    elif (index := state.key_index(name)) is not None and state.keys[index].kind == "UNIQUE":
        del state.keys[index]


def _rename_key(state: _TableState, old: str, new: str) -> None:
    index = state.key_index(old)
    if index is None:
        raise _DdlError(f"no key {old} in table {state.name}")
    state.keys[index].name = new


def _set_key_visibility(state: _TableState, name: str, visible: bool) -> None:
    index = state.key_index(name)
    if index is None:
        raise _DdlError(f"no key {name} in table {state.name}")
    state.keys[index].visible = visible


def _alter_add(cur: _Cursor, plan: _AlterPlan) -> None:
    """ADD [COLUMN] [IF NOT EXISTS] definition | ADD [COLUMN] (definitions) | ADD key."""
    if cur.word() in ("PARTITION", "PERIOD", "SYSTEM"):  # partitions, MariaDB periods, system versioning
        cur.i = len(cur.toks)
        return
    if not cur.accept("COLUMN") and cur.word() in _KEY_WORDS:
        definition = _read_key(cur)
        cur.end()
        if definition is not None:
            plan.new_keys.append(definition)
        return
    if_not_exists = cur.accept("IF", "NOT", "EXISTS")
    if cur.at("("):
        _alter_add_list(cur, plan)
        return
    col = _read_column(cur, in_alter=True)
    plan.column_edits.append(partial(_add_column_if, col=col, if_not_exists=if_not_exists))
    plan.new_keys.extend(col.keys)


def _add_column_if(state: _TableState, *, col: _Col, if_not_exists: bool) -> None:
    if if_not_exists and state.column(col.name) is not None:
        return
    _place_column(state, copy.deepcopy(col))


def _alter_add_list(cur: _Cursor, plan: _AlterPlan) -> None:
    """ADD [COLUMN] (definition, ...)."""
    for piece in _split_commas(cur.group()):
        definition = _read_definition(_Cursor(piece, cur.sql), in_alter=True)
        if isinstance(definition, _Col):
            plan.column_edits.append(partial(_add_column_if, col=definition, if_not_exists=False))
            plan.new_keys.extend(definition.keys)
        elif definition is not None:
            plan.new_keys.append(definition)
    cur.end()


def _alter_drop(cur: _Cursor, plan: _AlterPlan) -> None:
    if cur.accept("PRIMARY", "KEY"):
        plan.key_edits.append(partial(_drop_key, name="PRIMARY", if_exists=False))
    elif cur.accept("INDEX") or cur.accept("KEY"):
        if_exists = cur.accept("IF", "EXISTS")
        plan.key_edits.append(partial(_drop_key, name=cur.name("an index name"), if_exists=if_exists))
    elif cur.accept("FOREIGN", "KEY"):
        if_exists = cur.accept("IF", "EXISTS")
        plan.key_edits.append(partial(_drop_foreign_key, name=cur.name("a constraint name"), if_exists=if_exists))
    elif cur.accept("CONSTRAINT"):
        cur.accept("IF", "EXISTS")
        plan.key_edits.append(partial(_drop_constraint, name=cur.name("a constraint name")))
    elif cur.word() in ("CHECK", "PARTITION", "SYSTEM", "PERIOD"):
        cur.i = len(cur.toks)
        return
    else:
        cur.accept("COLUMN")
        if_exists = cur.accept("IF", "EXISTS")
        plan.column_edits.append(partial(_drop_column, name=cur.name("a column name"), if_exists=if_exists))
    cur.accept("RESTRICT") or cur.accept("CASCADE")
    cur.end()


def _alter_change(cur: _Cursor, plan: _AlterPlan, *, rename: bool) -> None:
    """MODIFY [COLUMN] col definition, CHANGE [COLUMN] old new definition."""
    cur.accept("COLUMN")
    if_exists = cur.accept("IF", "EXISTS")
    old = cur.name("a column name") if rename else None
    col = _read_column(cur, in_alter=True)
    plan.column_edits.append(partial(_change_column, old=old or col.name, col=col, if_exists=if_exists))
    plan.new_keys.extend(col.keys)


def _change_column(state: _TableState, *, old: str, col: _Col, if_exists: bool) -> None:
    if if_exists and state.column(old) is None:
        return
    _place_column(state, copy.deepcopy(col), replacing=old)


def _alter_alter(cur: _Cursor, plan: _AlterPlan) -> None:
    """ALTER [COLUMN] c SET DEFAULT v | DROP DEFAULT; ALTER INDEX i [IN]VISIBLE | [NOT] IGNORED."""
    if cur.accept("INDEX") or cur.accept("KEY"):
        name = cur.name("an index name")
        visible = cur.accept("VISIBLE") or cur.accept("NOT", "IGNORED")
        if not visible and not (cur.accept("INVISIBLE") or cur.accept("IGNORED")):
            raise _DdlError(f"expected VISIBLE or INVISIBLE {cur.near()}")
        plan.key_edits.append(partial(_set_key_visibility, name=name, visible=visible))
    elif cur.word() in ("CHECK", "CONSTRAINT"):
        cur.i = len(cur.toks)
        return
    else:
        cur.accept("COLUMN")
        cur.accept("IF", "EXISTS")
        name = cur.name("a column name")
        if cur.accept("SET", "DEFAULT"):
            plan.column_edits.append(partial(_set_default, name=name, default=_read_default(cur)))
        elif cur.accept("DROP", "DEFAULT"):
            plan.column_edits.append(partial(_set_default, name=name, default=None))
        else:
            cur.i = len(cur.toks)  # SET VISIBLE / INVISIBLE
            return
    cur.end()


def _alter_rename(cur: _Cursor, plan: _AlterPlan) -> None:
    if cur.accept("COLUMN"):
        old = cur.name("a column name")
        cur.expect("TO")
        new = cur.name("a column name")
        plan.column_edits.append(partial(_rename_column, old=old, new=new))
    elif cur.accept("INDEX") or cur.accept("KEY"):
        old = cur.name("an index name")
        cur.expect("TO")
        plan.key_edits.append(partial(_rename_key, old=old, new=cur.name("an index name")))
    else:
        cur.accept("TO") or cur.accept("AS") or cur.accept("=")
        plan.rename = cur.qualified("a table name")
    cur.end()


def _table_options(cur: _Cursor, found: dict[str, str] | None = None) -> str | None:
    """The ENGINE among table options (``ENGINE [=] x``, old ``TYPE = x``); ``found`` also gets
    the table's default ``collate``; the rest is skipped."""
    engine = None
    while not cur.done():
        if cur.word() in ("ENGINE", "TYPE") and cur.peek(1) is not None:
            cur.advance()
            cur.accept("=")
            tok = cur.advance()
            engine = _engine_name(tok.text)
        elif cur.word() == "COLLATE" and cur.peek(1) is not None:
            cur.advance()
            cur.accept("=")
            tok = cur.advance()
            if found is not None:
                found["collate"] = tok.text.strip("`'\"").lower()
        else:
            cur.skip_value()
    return engine


def _read_alter_spec(cur: _Cursor, plan: _AlterPlan) -> None:
    word = cur.word()
    if word in ("ADD", "DROP", "MODIFY", "CHANGE", "ALTER", "RENAME"):
        cur.advance()
        if word == "ADD":
            _alter_add(cur, plan)
        elif word == "DROP":
            _alter_drop(cur, plan)
        elif word in ("MODIFY", "CHANGE"):
            _alter_change(cur, plan, rename=word == "CHANGE")
        elif word == "ALTER":
            _alter_alter(cur, plan)
        else:
            _alter_rename(cur, plan)
        return
    engine = _table_options(cur)  # ENGINE=, ALGORITHM=, LOCK=, FORCE, ORDER BY, partitioning...
    if engine is not None:
        plan.engine = engine


# --------------------------------------------------------------------------------------------
# The reader: statements applied to a catalog of tables
# --------------------------------------------------------------------------------------------

_TABLE_DDL = re.compile(
    r"""(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?TABLE
       |CREATE\s+(?:OR\s+REPLACE\s+)?(?:ONLINE\s+|OFFLINE\s+)?(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX
       |ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE
       |DROP\s+(?:TEMPORARY\s+)?TABLES?
       |DROP\s+(?:ONLINE\s+|OFFLINE\s+)?INDEX
       |RENAME\s+TABLES?
       |(?:DROP|CREATE)\s+(?:DATABASE|SCHEMA)
       |USE)\b""",
    re.IGNORECASE | re.VERBOSE,
)
# First words of statements that are SQL but define no table: ignored without a warning.
_OTHER_SQL = frozenset(
    (
        "CREATE",
        "ALTER",
        "DROP",
        "RENAME",
        "INSERT",
        "REPLACE",
        "UPDATE",
        "DELETE",
        "SELECT",
        "WITH",
        "VALUES",
        "TABLE",
        "SET",
        "LOCK",
        "UNLOCK",
        "START",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "GRANT",
        "REVOKE",
        "FLUSH",
        "ANALYZE",
        "OPTIMIZE",
        "CHECK",
        "CHECKSUM",
        "REPAIR",
        "CALL",
        "DO",
        "LOAD",
        "SHOW",
        "EXPLAIN",
        "DESCRIBE",
        "DESC",
        "HANDLER",
        "PREPARE",
        "EXECUTE",
        "DEALLOCATE",
        "RESET",
        "PURGE",
        "CHANGE",
        "STOP",
        "KILL",
        "INSTALL",
        "UNINSTALL",
        "XA",
        "SIGNAL",
        "RESIGNAL",
        "DECLARE",
        "TRUNCATE",
        "HELP",
        "SOURCE",
        "SHUTDOWN",
        "RESTART",
        "CLONE",
        "IMPORT",
        "BINLOG",
        "CACHE",
        "GET",
        "BACKUP",
        "CHARSET",
        "END",
        "IF",
        "WHILE",
        "REPEAT",
        "LOOP",
        "LEAVE",
        "ITERATE",
        "RETURN",
        "OPEN",
        "CLOSE",
        "FETCH",
        "CASE",
    )
)
_FIRST_WORD = re.compile(r"[A-Za-z_]+")


class _Catalog:
    """The tables a DDL file has defined so far, and the current schema (USE)."""

    def __init__(self, default_schema: str) -> None:
        self.default_schema = default_schema
        self.current = default_schema
        self.tables: dict[tuple[str, str], _TableState] = {}
        self.notes: list[str] = []  # non-fatal remarks about the statement being applied

    def key(self, schema: str | None, name: str) -> tuple[str, str]:
        return (schema if schema is not None else self.current, name)

    def get(self, schema: str | None, name: str) -> _TableState:
        state = self.tables.get(self.key(schema, name))
        if state is None:
            raise _DdlError(f"no table {name if schema is None else schema + '.' + name} defined before")
        return state

    # -- statements ------------------------------------------------------------------------

    def apply(self, cur: _Cursor) -> None:
        word = cur.advance().upper
        if word == "USE":
            self.current = cur.name("a database name")
            cur.end()
        elif word == "CREATE":
            self._create(cur)
        elif word == "ALTER":
            cur.accept("ONLINE")
            cur.accept("IGNORE")
            cur.expect("TABLE")
            self._alter(cur)
        elif word == "DROP":
            self._drop(cur)
        elif word == "RENAME":
            self._rename(cur)

    def _create(self, cur: _Cursor) -> None:
        replace = cur.accept("OR", "REPLACE")
        if cur.accept("TEMPORARY"):
            return  # gone at the end of the session: not part of the schema
        if cur.accept("TABLE"):
            self._create_table(cur, replace=replace)
        elif cur.word() in ("DATABASE", "SCHEMA"):
            return  # CREATE DATABASE does not select the database
        else:
            self._create_index(cur, replace=replace)

    def _drop(self, cur: _Cursor) -> None:
        if cur.accept("DATABASE") or cur.accept("SCHEMA"):
            cur.accept("IF", "EXISTS")
            schema = cur.name("a database name")
            self.tables = {k: v for k, v in self.tables.items() if k[0] != schema}
            if self.current == schema:
                self.current = self.default_schema
            return
        cur.accept("ONLINE") or cur.accept("OFFLINE")
        if cur.accept("INDEX"):
            self._drop_index(cur)
            return
        if cur.accept("TEMPORARY"):
            return
        cur.accept("TABLE") or cur.expect("TABLES")
        if_exists = cur.accept("IF", "EXISTS")
        names = [self._qualified_in(piece, cur.sql) for piece in _split_commas(cur.toks[cur.i :])]
        for schema, name in names:
            if self.key(schema, name) not in self.tables and not if_exists:
                raise _DdlError(f"no table {name} defined before")
        for schema, name in names:
            self.tables.pop(self.key(schema, name), None)

    @staticmethod
    def _qualified_in(piece: list[_Tok], sql: str) -> tuple[str | None, str]:
        pc = _Cursor(piece, sql)
        name = pc.qualified("a table name")
        pc.accept("RESTRICT") or pc.accept("CASCADE") or pc.accept("FORCE")
        pc.end()
        return name

    def _rename(self, cur: _Cursor) -> None:
        cur.accept("TABLE") or cur.expect("TABLES")
        moved = dict(self.tables)
        for piece in _split_commas(cur.toks[cur.i :]):
            pc = _Cursor(piece, cur.sql)
            source = self.key(*pc.qualified("a table name"))
            pc.expect("TO")
            target = self.key(*pc.qualified("a table name"))
            pc.end()
            if source not in moved or target in moved:
                raise _DdlError(f"cannot rename {source[1]} to {target[1]}: no such table, or the new name is taken")
            state = copy.deepcopy(moved.pop(source))
            state.schema, state.name = target
            moved[target] = state
        self.tables = moved

    # -- CREATE TABLE ------------------------------------------------------------------------

    def _create_table(self, cur: _Cursor, *, replace: bool) -> None:
        if_not_exists = cur.accept("IF", "NOT", "EXISTS")
        key = self.key(*cur.qualified("a table name"))
        if key in self.tables and not replace:
            if if_not_exists:
                return
            raise _DdlError(f"table {key[1]} is already defined")
        if cur.accept("LIKE") or (cur.at("(", "LIKE") and cur.accept("(") and cur.accept("LIKE")):
            state = self._like(cur, key)
        elif cur.at("("):
            state = self._table_body(cur, key)
        else:
            raise _DdlError("no column list (CREATE TABLE ... SELECT: the columns are not known)")
        self.tables[key] = state

    def _like(self, cur: _Cursor, key: tuple[str, str]) -> _TableState:
        """CREATE TABLE t LIKE u: columns, keys and engine, not the foreign keys."""
        source = self.get(*cur.qualified("a table name"))
        cur.accept(")")
        cur.end()
        state = copy.deepcopy(source)
        state.schema, state.name = key
        state.foreign_keys = []
        return state

    def _table_body(self, cur: _Cursor, key: tuple[str, str]) -> _TableState:
        state = _TableState(key[0], key[1])
        items: list[_Key | _ForeignKeyDef] = []
        names: set[str] = set()
        for piece in _split_commas(cur.group()):
            definition = _read_definition(_Cursor(piece, cur.sql))
            if isinstance(definition, _Col):
                if definition.name.lower() in names:
                    raise _DdlError(f"duplicate column {definition.name}")
                if len(names) == _MAX_COLUMNS:
                    raise _DdlError(f"more than {_MAX_COLUMNS} columns")
                names.add(definition.name.lower())
                state.columns.append(definition)
                items.extend(definition.keys)
            elif definition is not None:
                items.append(definition)
        if not state.columns:
            raise _DdlError("a table needs at least one column")
        rest = cur.toks[cur.i :]
        if any(t.upper in ("SELECT", "AS", "IGNORE", "REPLACE") for t in _top_level(rest)):
            self.notes.append(f"CREATE TABLE {key[1]} ... SELECT: only the declared columns are known")
        options: dict[str, str] = {}
        state.engine = _table_options(cur, options) or state.engine
        state.collation = options.get("collate")
        _add_keys(state, items)
        _check_table(state)
        return state

    # -- ALTER TABLE, CREATE INDEX, DROP INDEX ------------------------------------------------

    def _alter(self, cur: _Cursor) -> None:
        if_exists = cur.accept("IF", "EXISTS")
        schema, name = cur.qualified("a table name")
        if self.key(schema, name) not in self.tables and if_exists:
            return
        state = self.get(schema, name)
        plan = _AlterPlan()
        for piece in _split_commas(cur.toks[cur.i :]):
            if piece:
                _read_alter_spec(_Cursor(piece, cur.sql), plan)
        self._apply_plan(state, plan)

    def _apply_plan(self, original: _TableState, plan: _AlterPlan) -> None:
        """Applies an ALTER to a copy, so that a refused statement leaves the table as it was."""
        state = copy.deepcopy(original)
        for edit in plan.column_edits + plan.key_edits:
            edit(state)
        if plan.engine is not None:
            state.engine = plan.engine
        _add_keys(state, copy.deepcopy(plan.new_keys))
        _check_table(state)
        old_key = (original.schema, original.name)
        if plan.rename is not None:
            new_key = self.key(*plan.rename)
            if new_key != old_key and new_key in self.tables:
                raise _DdlError(f"cannot rename {original.name} to {new_key[1]}: that table exists")
            state.schema, state.name = new_key
            del self.tables[old_key]
            old_key = new_key
        self.tables[old_key] = state

    def _create_index(self, cur: _Cursor, *, replace: bool) -> None:
        """CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX name [USING t] ON tbl (parts) [options]."""
        cur.accept("ONLINE") or cur.accept("OFFLINE")
        kind = "KEY"
        for candidate in ("UNIQUE", "FULLTEXT", "SPATIAL"):
            if cur.accept(candidate):
                kind = candidate
        cur.expect("INDEX")
        key = _Key(kind, None, [], if_not_exists=cur.accept("IF", "NOT", "EXISTS"))
        key.name = cur.name("an index name")
        if _at_index_type(cur):
            cur.advance()
            key.algorithm = cur.name("an index type").upper()
        cur.expect("ON")
        state = self.get(*cur.qualified("a table name"))
        key.parts = _read_key_parts(cur)
        _read_index_options(cur, key, statement_options=True)
        plan = _AlterPlan(new_keys=[key])
        if replace:
            plan.key_edits.append(partial(_drop_key, name=key.name, if_exists=True))
        self._apply_plan(state, plan)

    def _drop_index(self, cur: _Cursor) -> None:
        if_exists = cur.accept("IF", "EXISTS")
        name = cur.name("an index name")
        cur.expect("ON")
        state = self.get(*cur.qualified("a table name"))
        _read_index_options(cur, _Key("KEY", None, []), statement_options=True)
        self._apply_plan(state, _AlterPlan(key_edits=[partial(_drop_key, name=name, if_exists=if_exists)]))


def _top_level(toks: list[_Tok]) -> list[_Tok]:
    """The tokens outside any parentheses."""
    result, depth = [], 0
    for tok in toks:
        if tok.kind == "punct" and tok.text in ("(", ")"):
            depth += 1 if tok.text == "(" else -1
        elif depth == 0:
            result.append(tok)
    return result


class _DdlReader:
    """Applies statements one by one; a statement that fails leaves the catalog unchanged and
    becomes one warning line."""

    def __init__(self, default_schema: str, source: str) -> None:
        self.catalog = _Catalog(default_schema)
        self.source = source
        self.warnings: list[str] = []

    def warn(self, statement: Statement, why: str) -> None:
        head = " ".join(statement.text[:60].split())
        head = head if len(statement.text) <= 60 else head + "..."
        self.warnings.append(f"{self.source}: statement {statement.number} (line {statement.line}) {head!r}: {why}")

    def apply(self, statement: Statement) -> None:
        if statement.unterminated:
            self.warn(statement, f"unterminated {statement.unterminated} quote runs to the end of the file; skipped")
            return
        if not _TABLE_DDL.match(statement.text):
            first = _FIRST_WORD.match(statement.text)
            if not statement.text.startswith("(") and (first is None or first.group().upper() not in _OTHER_SQL):
                self.warn(statement, "not a SQL statement; skipped")
            return
        catalog = self.catalog
        saved = (dict(catalog.tables), catalog.current)
        catalog.notes = []
        try:
            catalog.apply(_Cursor(_tokens(statement.text), statement.text))
        except (_DdlError, SqlglotError, ValueError, RecursionError) as exc:
            catalog.tables, catalog.current = saved
            why = " ".join(str(exc).split()) or type(exc).__name__
            self.warn(statement, f"{why}; skipped")
            return
        for note in catalog.notes:
            self.warn(statement, note)

    def tables(self) -> list[Table]:
        return [_to_table(self.catalog.tables[k]) for k in sorted(self.catalog.tables)]


def load_tables_from_ddl(text: str, *, default_schema: str = "", source: str = "<ddl>") -> DdlSchema:
    """The tables a DDL script defines, as ``analyzer.sources.schema.load_tables()`` would read them from
    a server that ran the script (see the module docstring for the rules followed).

    Tables without a database (no ``USE``, no ``db.t``) go to ``default_schema``.  Statements
    that cannot be read are skipped, each with one line in ``warnings`` naming ``source``, the
    statement number and line.  Raises ``SchemaFileError`` when no table is left at the end.

    >>> s = load_tables_from_ddl("CREATE TABLE p (id INT PRIMARY KEY);"
    ...                          "CREATE TABLE c (id INT, p_id INT, FOREIGN KEY (p_id) REFERENCES p (id));",
    ...                          default_schema="shop")
    >>> [(t.full_name, [i.name for i in t.indexes], [f.name for f in t.foreign_keys]) for t in s.tables]
    [('shop.c', ['p_id'], ['c_ibfk_1']), ('shop.p', ['PRIMARY'], [])]
    """
    statements = split_statements(text)
    reader = _DdlReader(default_schema, source)
    for statement in statements:
        reader.apply(statement)
    tables = reader.tables()
    if not tables:
        if not statements:
            raise SchemaFileError(f"{source}: no SQL statement in the file (is it empty?)")
        skipped = f", {len(reader.warnings)} skipped with a warning" if reader.warnings else ""
        raise SchemaFileError(f"{source}: defines no table ({len(statements)} statements read{skipped})")
    return DdlSchema(tables, reader.warnings)


def _read_text(path: Path) -> str:
    """The file as text: UTF-8 (a byte-order mark is dropped), gunzipped when it ends in .gz."""
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            data = f.read()
    else:
        data = path.read_bytes()
    return data.decode("utf-8-sig")


def load_tables_from_ddl_file(path: str | Path, *, default_schema: str = "") -> DdlSchema:
    """``load_tables_from_ddl()`` on a file (UTF-8, ``.gz`` allowed); a file that is missing or
    cannot be read raises ``SchemaFileError`` with a one-line message."""
    path = Path(path)
    try:
        text = _read_text(path)
    except FileNotFoundError:
        raise SchemaFileError(f"schema file {path}: no such file") from None
    except IsADirectoryError:
        raise SchemaFileError(f"schema file {path}: is a directory, not a file") from None
    except PermissionError:
        raise SchemaFileError(f"schema file {path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise SchemaFileError(f"schema file {path}: not UTF-8 text (byte {exc.start})") from None
    except (OSError, EOFError, zlib.error) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SchemaFileError(f"schema file {path}: cannot read it ({reason})") from None
    return load_tables_from_ddl(text, default_schema=default_schema, source=str(path))
