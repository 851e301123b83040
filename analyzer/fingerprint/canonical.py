"""The canonical class text, computed with sqlglot once per distinct fast key.

sqlglot parses the fast key (whose literals are already ``?``) and regenerates it: keywords
upper-case, identifiers unquoted where MySQL allows it, comments and hints gone, remaining
literals (``TRUE``, ``NULL`` outside ``IS NULL``, negative numbers) turned into ``?``, IN
lists shown as ``IN (...)`` and multi-row VALUES reduced to one row.  Statements sqlglot
cannot parse, or only understands as an opaque command, keep their fast key as class text and
are marked ``parsed=False``; they are counted, never dropped.

Never EXPLAIN the regenerated text: sqlglot rewrites some MySQL syntax (``LOCK IN SHARE
MODE`` becomes ``FOR SHARE``).  The advisor uses the original sample.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError

# sqlglot logs a warning for every statement it falls back to an opaque Command for.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_PREFIXED = re.compile(r"(?<![\w$])(?:_[A-Za-z0-9]+ ?|[NnXxBb])\?")
_SAFE_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_REPLACE = re.compile(r"\s*REPLACE\b", re.IGNORECASE)
_IN_PLACEHOLDER = "IN (?)"
_IN_DISPLAY = "IN (...)"
_DML = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "REPLACE"})
_QUERY = frozenset({"SELECT", "WITH"})
_KIND_BY_NODE: dict[type, str] = {
    exp.Select: "SELECT",
    exp.Union: "SELECT",
    exp.Intersect: "SELECT",
    exp.Except: "SELECT",
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
}


@dataclass(frozen=True, slots=True)
class CanonicalForm:
    """What sqlglot made of one fast key."""

    fingerprint: str
    kind: str  # SELECT, INSERT, REPLACE, UPDATE, DELETE, SHOW, SET, BEGIN, COMMIT, ... or OTHER
    tables: tuple[str, ...]  # as written: "db.t" or "t" (resolve "t" with the class's database)
    parsed: bool
    error: str | None = None


@functools.lru_cache(maxsize=256)
def canonical_tree(key: str) -> exp.Expression | None:
    """The canonical syntax tree of a fast key (one statement), for the advisor.

    Trees are rebuilt on demand rather than kept for every class: a digest can have tens of
    thousands of classes, and the advisor looks at a few.
    """
    trees = _canonical_trees(key)
    return trees[0] if trees is not None and len(trees) == 1 else None


def canonicalize(key: str) -> CanonicalForm:
    """Canonical class text for a fast key.

    >>> canonicalize("select `a`,b from `t` where id in (?) and c = 'x' limit ?").fingerprint
    'SELECT a, b FROM t WHERE id IN (...) AND c = ? LIMIT ?'
    """
    replace = _REPLACE.match(key) is not None
    try:
        trees = _canonical_trees(key)
    except _Unparsable as exc:
        return _unparsed(key, str(exc))
    try:
        sql = "; ".join(t.sql(dialect="mysql", comments=False) for t in trees)
    except (SqlglotError, RecursionError, ValueError, TypeError, AttributeError) as exc:
        return _unparsed(key, f"{type(exc).__name__}: {_first_line(exc)}")
    if replace:
        sql = "REPLACE" + sql[len("INSERT") :]
    written, generated = _first_word(key), _first_word(sql)
    if written in _DML and generated != written and not (written in _QUERY and generated in _QUERY):
        # e.g. sqlglot turns SELECT ... INTO @var into CREATE TABLE ... AS SELECT
        return _unparsed(key, f"sqlglot would rewrite this {written} as {generated}")
    sql = sql.replace(_IN_PLACEHOLDER, _IN_DISPLAY)
    root = trees[0]
    kind = "REPLACE" if replace else _KIND_BY_NODE.get(type(root)) or generated
    return CanonicalForm(sql, kind, _tables(trees) if kind != "USE" else (), True, None)


class _Unparsable(Exception):
    pass


def _canonical_trees(key: str) -> list[exp.Expression]:
    """Parse a fast key with sqlglot and normalise the trees; ``_Unparsable`` says why not."""
    text = _PREFIXED.sub("?", key) if "?" in key else key
    match = _REPLACE.match(text)
    if match is not None:  # sqlglot only knows REPLACE INTO as an opaque command; it is an INSERT.
        text = "INSERT" + text[match.end() :]
    try:
        trees = [t for t in sqlglot.parse(text, read="mysql") if t is not None]
    except (ParseError, TokenError) as exc:
        raise _Unparsable(_first_line(exc)) from None
    except (SqlglotError, RecursionError, ValueError) as exc:  # sqlglot bugs must not stop a digest
        raise _Unparsable(f"{type(exc).__name__}: {_first_line(exc)}") from None
    if not trees:
        raise _Unparsable("empty statement")
    if any(isinstance(t, exp.Command) for t in trees):
        raise _Unparsable("sqlglot reads it only as an opaque command")
    try:
        return [t.transform(_normalize, copy=False) for t in trees]
    except (SqlglotError, RecursionError, ValueError, TypeError, AttributeError) as exc:
        raise _Unparsable(f"{type(exc).__name__}: {_first_line(exc)}") from None


def _normalize(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal | exp.Boolean):
        return exp.Placeholder()
    if isinstance(node, exp.Null) and not isinstance(node.parent, exp.Is):
        return exp.Placeholder()
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Placeholder | exp.Literal):
        return exp.Placeholder()
    if isinstance(node, exp.Identifier):
        if node.args.get("quoted") and _SAFE_IDENTIFIER.fullmatch(node.name):
            node.set("quoted", False)
        return node
    if isinstance(node, exp.In):
        items = node.args.get("expressions")
        if items and all(isinstance(i, exp.Placeholder | exp.Literal | exp.Neg | exp.Null) for i in items):
            node.set("expressions", [exp.Placeholder()])
        return node
    if isinstance(node, exp.Values):
        rows = node.expressions
        if len(rows) > 1:
            node.set("expressions", rows[:1])
        return node
    return node


def _tables(trees: list[exp.Expression]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tree in trees:
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            name = table.name
            if not name or (not table.db and name.lower() in ctes) or name.upper() == "DUAL":
                continue
            seen[f"{table.db}.{name}" if table.db else name] = None
    return tuple(seen)


def _unparsed(key: str, error: str) -> CanonicalForm:
    return CanonicalForm(key, _first_word(key), (), False, error)


def _first_word(sql: str) -> str:
    word = sql.split(None, 1)[0] if sql.strip() else ""
    word = word.strip("(").upper()
    return word if word.isalpha() else "OTHER"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
