"""``--filter EXPR``: which events a digest keeps, as pt-query-digest users write it, parsed by
a small grammar (never ``eval``).

    expr        := term ("or" term)*
    term        := factor ("and" factor)*
    factor      := "not" factor | "(" expr ")" | comparison
    comparison  := field op value
    field       := a metric (query_time, lock_time, rows_sent, rows_examined, ... any the log has)
                 | db | user | host | query | source | thread | kind | tag.KEY
    op          := = | == | != | < | <= | > | >= | ~ (regular expression search) | !~
    value       := a number (0.5, 1e3, -1), a duration (500ms, 2s, 1m: in seconds),
                   or a string in '...' or "..." (backslash escapes the quote)

Keywords (``and``, ``or``, ``not``) are case-insensitive.  A comparison on a metric or an
attribute the event does not have is false (``!=`` and ``!~`` too): ``rows_examined > 1000``
keeps no event of a log without that attribute.  Strings compare with ``=``/``!=`` exactly and
with ``~``/``!~`` as a Python regular expression searched anywhere in the text; numbers compare
numerically.  ``tag.route`` is a comment tag's value (sqlcommenter values are URL-decoded).

>>> keep = parse_filter('query_time > 0.5 and rows_examined > 1000 and db = "shop" and tag.route ~ "^/api/"')
>>> from analyzer.model import QueryEvent
>>> keep(QueryEvent("SELECT 1", {"query_time": 0.9, "rows_examined": 5000.0}, db="shop"), ("route=/api/orders",))
True
>>> keep(QueryEvent("SELECT 1", {"query_time": 0.1, "rows_examined": 5000.0}, db="shop"), ("route=/api/orders",))
False
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from analyzer.errors import UsageError
from analyzer.model import QueryEvent

Predicate = Callable[[QueryEvent, tuple[str, ...]], bool]

MAX_LENGTH = 2000  # an expression longer than this is refused (a typo in a script, not a filter)
GRAMMAR = (
    "FIELD OP VALUE joined with and/or/not and parentheses; FIELD: a metric (query_time, rows_examined, ...), "
    "db, user, host, query, source, thread, kind or tag.KEY; OP: = != < <= > >= ~ !~; VALUE: a number, a "
    "duration (500ms, 2s) or a quoted string"
)
_ATTRIBUTES = {"db", "user", "host", "query", "source", "thread", "kind"}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:ms|s|m|h)?(?![\w.]))
      | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>==|!=|<=|>=|!~|[=<>~])
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_][\w]*(?:\.[\w.\-]+)?)
    )""",
    re.VERBOSE,
)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_NUMERIC_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass
class _Token:
    kind: str  # num | str | op | paren | word | end
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    out = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _error(text, pos, "cannot read this")
        kind = m.lastgroup or ""
        out.append(_Token(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    out.append(_Token("end", "", len(text)))
    return out


def _error(text: str, at: int, why: str) -> UsageError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    near = text[at : at + 20] or "the end"
    return UsageError(f"--filter {shown!r}: {why} at {near!r} (character {at + 1}); the grammar: {GRAMMAR}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "word" and token.text.lower() == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.expr()
        token = self.peek()
        if token.kind != "end":
            raise _error(self.text, token.at, "expected and, or or the end")
        return predicate

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.keyword("or"):
            parts.append(self.term())
        if len(parts) == 1:
            return parts[0]
        return lambda e, t: any(p(e, t) for p in parts)

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.keyword("and"):
            parts.append(self.factor())
        if len(parts) == 1:
            return parts[0]
        return lambda e, t: all(p(e, t) for p in parts)

    def factor(self) -> Predicate:
        if self.keyword("not"):
            inner = self.factor()
            return lambda e, t: not inner(e, t)
        token = self.peek()
        if token.kind == "paren" and token.text == "(":
            self.take()
            inner = self.expr()
            close = self.take()
            if close.kind != "paren" or close.text != ")":
                raise _error(self.text, close.at, "expected )")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        field = self.take()
        if field.kind != "word" or field.text.lower() in ("and", "or", "not"):
            raise _error(self.text, field.at, "expected a field (a metric, db, user, host, query, tag.KEY, ...)")
        op = self.take()
        if op.kind != "op":
            raise _error(self.text, op.at, "expected an operator (= != < <= > >= ~ !~)")
        value = self.take()
        if value.kind not in ("num", "str"):
            raise _error(self.text, value.at, "expected a number or a quoted string")
        get = _getter(field.text)
        if op.text in ("~", "!~"):
            if value.kind != "str":
                raise _error(self.text, value.at, "~ and !~ take a quoted regular expression")
            try:
                pattern = re.compile(_unquote(value.text))
            except re.error as exc:
                raise _error(self.text, value.at, f"not a regular expression ({exc})") from None
            negate = op.text == "!~"

            def regex(e: QueryEvent, t: tuple[str, ...]) -> bool:
                v = get(e, t)
                if v is None:
                    return False
                return (pattern.search(str(v)) is None) if negate else (pattern.search(str(v)) is not None)

            return regex
        compare = _NUMERIC_OPS[op.text]
        if value.kind == "num":
            number = _number(value.text)

            def numeric(e: QueryEvent, t: tuple[str, ...]) -> bool:
                v = get(e, t)
                if v is None:
                    return False
                try:
                    return compare(float(v), number)
                except (TypeError, ValueError):
                    return False

            return numeric
        text = _unquote(value.text)

        def textual(e: QueryEvent, t: tuple[str, ...]) -> bool:
            v = get(e, t)
            return v is not None and compare(str(v), text)

        return textual


def _number(text: str) -> float:
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit) and not text.endswith("e" + unit):
            return float(text[: -len(unit)]) * _UNITS[unit]
    return float(text)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _getter(name: str) -> Callable[[QueryEvent, tuple[str, ...]], Any]:
    lowered = name.lower()
    if lowered.startswith("tag."):
        key = name[4:] + "="

        def tag(e: QueryEvent, tags: tuple[str, ...]) -> str | None:
            for t in tags:
                if t.startswith(key):
                    return t[len(key) :]
            return None

        return tag
    if lowered in _ATTRIBUTES:
        if lowered == "thread":
            return lambda e, t: e.thread_id
        if lowered == "kind":
            return lambda e, t: e.query.lstrip().split(None, 1)[0].upper() if e.query.strip() else None
        return lambda e, t: getattr(e, lowered)
    return lambda e, t: e.metrics.get(lowered)


def parse_filter(text: str) -> Predicate:
    """The predicate an expression describes (``UsageError`` with the grammar when it is not one)."""
    if not text or not text.strip():
        raise UsageError(f"--filter: an empty expression; the grammar: {GRAMMAR}")
    if len(text) > MAX_LENGTH:
        raise UsageError(f"--filter: the expression is longer than {MAX_LENGTH} characters")
    return _Parser(text).parse()
