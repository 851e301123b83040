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
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError, TokenError

# sqlglot logs a warning for every statement it falls back to an opaque Command for.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_MYSQL = Dialect.get_or_raise("mysql")
_WORD = re.compile(r"(?<![`\w$])[A-Z_][A-Z0-9_]*(?![\w$`])")  # upper-case bare words (a folded key's keywords)
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
    try:
        trees = _canonical_trees(key)
    except _Unparsable as exc:
        return _unparsed(key, str(exc))
    return _form(key, trees)


def canonicalize_folded(key: str) -> CanonicalForm | None:
    """``canonicalize`` of a folded key (``fastkey.folded_key``), or None when its class must be
    taken from each fast key instead: sqlglot cannot parse it (an unparsed class keeps the text
    of its own fast key), or the parsed tree shows that the fold may have changed what sqlglot
    reads (see ``_fold_holds``).
    """
    try:
        trees = _canonical_trees(key)
    except _Unparsable:
        return None
    verdicts = [_fold_holds(key, tree) for tree in trees]
    if False in verdicts:
        return None
    form = _form(key, trees)
    if not form.parsed:
        return None
    if None in verdicts:
        # A variable named like a folded keyword (sqlglot keeps ON DUPLICATE KEY UPDATE as the
        # variable UPDATE): the class must not depend on the keywords' case.
        lower = canonicalize(_WORD.sub(_lower_folded, key))
        if not lower.parsed or lower.fingerprint != form.fingerprint:
            return None
    return form


def _lower_folded(match: re.Match[str]) -> str:
    from analyzer.fingerprint.fastkey import FOLD_VOCABULARY

    word = match.group()
    return word.lower() if word in FOLD_VOCABULARY else word


def _form(key: str, trees: list[exp.Expression]) -> CanonicalForm:
    """Class text, kind and tables of parsed, normalised trees (consumed: they are not copied)."""
    replace = _REPLACE.match(key) is not None
    root = trees[0]
    tables = _tables(trees)  # before generating: the generator may rewrite the trees it is given
    try:
        sql = "; ".join(_MYSQL.generate(t, copy=False, comments=False) for t in trees)
    except (SqlglotError, RecursionError, ValueError, TypeError, AttributeError) as exc:
        return _unparsed(key, f"{type(exc).__name__}: {_first_line(exc)}")
    if replace:
        sql = "REPLACE" + sql[len("INSERT") :]
    written, generated = _first_word(key), _first_word(sql)
    if written in _DML and generated != written and not (written in _QUERY and generated in _QUERY):
        # e.g. sqlglot turns SELECT ... INTO @var into CREATE TABLE ... AS SELECT
        return _unparsed(key, f"sqlglot would rewrite this {written} as {generated}")
    sql = sql.replace(_IN_PLACEHOLDER, _IN_DISPLAY)
    kind = "REPLACE" if replace else _KIND_BY_NODE.get(type(root)) or generated
    return CanonicalForm(sql, kind, tables if kind != "USE" else (), True, None)


def _fold_holds(key: str, tree: exp.Expression) -> bool | None:
    """Does the tree read every folded word as a keyword and every bare name as a name?

    The fold upper-cases reserved words and removes backticks around plain names; both keep
    the canonical form only when sqlglot reads the word as grammar and the name as a name,
    which it decides from the position, the same way for every spelling: so one tree tells.
    False: an identifier named like a folded word, or a bare name of the key (not in front of
    "(") that is not among the identifiers.  None: a variable named like a folded word, which
    may be the parser's own constant or the word as written (the caller compares the class of
    the key with its folded words in lower case).  Function names need no look: the MySQL
    generator writes them upper-case.
    """
    from analyzer.fingerprint.fastkey import FOLD_VOCABULARY, bare_names

    words = set(_WORD.findall(key)) & FOLD_VOCABULARY
    seen: dict[str, int] = {}
    verdict: bool | None = True
    for node in tree.walk():
        if isinstance(node, exp.Identifier):
            name = node.this
            if name.upper() in words:
                return False
            seen[name] = seen.get(name, 0) + 1
        elif isinstance(node, exp.Var) and node.name.upper() in words:
            verdict = None
    if not all(seen.get(name, 0) >= count for name, count in bare_names(key).items()):
        return False
    return verdict


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
