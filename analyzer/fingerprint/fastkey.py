"""The fast grouping key: a token-level normalisation cheap enough to run on every event.

Literals become ``?`` (a character-set introducer or N/X/B prefix stays in front of its
``?``: the key only has to be the same for the same shape; ``canonical.py`` folds it),
comments (optimizer hints and ``/*!NNNNN ... */`` included) are
dropped, whitespace is collapsed, ``IN (?, ?, ...)`` lists collapse to ``IN (?)`` and
multi-row ``VALUES`` to their first row.  Identifiers and keywords are left as written:
folding them is sqlglot's job, done once per distinct key (see ``canonical.py``).

Comment tags written by sqlcommenter (``/*controller='users',action='show'*/``) or by hand
(``/* app=web,route=/x */``) are returned separately so they become class attributes.

>>> fast_key("SELECT * FROM t WHERE id IN (1, 2,3) AND name = 'x' /* app=web */")
('SELECT * FROM t WHERE id IN (?) AND name = ?', ('app=web',))
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# Quoted strings, written as "unrolled loops" (much faster in Python's re than alternation).
_STRING = (
    r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*(?:'|\Z)"
    r'|"[^"\\]*(?:(?:\\.|"")[^"\\]*)*(?:"|\Z)'
)  # an unterminated string (a statement cut short) runs to the end
# Numbers not glued to an identifier (t1, 2024_sales and db2.t_21 keep their digits).  The
# lookbehind comes after the first digit so the engine can skip non-digits quickly.
_NUMBER = (
    r"[0-9](?<![\w$.][0-9])[0-9]*(?:[xX][0-9a-fA-F]+|[bB][01]+)?(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?(?![\w$])"
    r"|\.[0-9](?<![\w$.]\.[0-9])[0-9]*(?:[eE][+-]?[0-9]+)?(?![\w$])"
)
_LITERALS = re.compile(_STRING + "|" + _NUMBER, re.S)
# Comments, skipping over strings and quoted identifiers so "--" or "#" inside them survive.
# MySQL needs whitespace (or the end of the line) after "--".
_COMMENTS = re.compile(
    r"(" + _STRING + r"|`(?:[^`]|``)*`)|/\*.*?(?:\*/|\Z)|--(?:[ \t\r][^\n]*)?(?=\n|\Z)|#[^\n]*", re.S
)
# True when no backquoted identifier holds anything but word characters: then literal
# patterns cannot start inside one, and the tokenizer below is not needed.
_PLAIN_BACKTICKS = re.compile(r"(?:[^`]*`[\w$]*`)*[^`]*")
_TOKENS = re.compile(r"(`(?:[^`]|``)*`)|" + _STRING + "|" + _NUMBER, re.S)
# After whitespace is collapsed: "IN (?, ?, ?)" and "VALUES (...), (...)".  Both patterns
# start with a literal character, which Python's re finds quickly.
_IN_LIST = re.compile(
    r"\((?:(?<=[^\w$][Ii][Nn] \()|(?<=[^\w$][Ii][Nn]\()) ?-?\?(?: ?, ?-?\?)+ ?\)"
)  # "(" first (fast to find), then look behind for the IN keyword
_ROW = r"\((?:[^()]|\([^()]*\))*\)"
_VALUES = re.compile(r"\b([Vv][Aa][Ll][Uu][Ee][Ss]?) ?(" + _ROW + r")(?: ?, ?" + _ROW + ")+")

# Per-request trace context (W3C, as sqlcommenter adds it) is unique per statement: as a class
# attribute it is noise, so it is not kept as a tag.
_UNTAGGED_KEYS = frozenset({"traceparent", "tracestate"})
# Comment bodies (group 1); strings are matched too so that "/*" inside one is skipped.
_COMMENT_BODIES = re.compile(_STRING + r"|/\*(?![!+])(.*?)\*/", re.S)
_TAG_KEY = re.compile(r"[A-Za-z_][\w.\-]*")
_TAG = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*=\s*('(?:[^'\\]|\\.)*'|\"[^\"]*\"|[^,\s'\"]+)\s*(?:,|$)")


def fast_key(query: str) -> tuple[str, tuple[str, ...]]:
    """Return ``(key, tags)`` for one statement."""
    tags: tuple[str, ...] = ()
    if "/*" in query or "--" in query or "#" in query:
        query, tags = _without_comments(query)
    if "`" in query and _PLAIN_BACKTICKS.fullmatch(query) is None:
        text = _TOKENS.sub(_replace_token, query)
    else:
        text = _LITERALS.sub("?", query)
    if "  " in text or "\n" in text or "\t" in text or "\r" in text or text[:1] == " " or text[-1:] == " ":
        key = " ".join(text.split())
    else:
        key = text  # already single-spaced: most statements are
    if "?," in key or "? ," in key:
        key = _IN_LIST.sub("(?)", key)
        if "VALUE" in key or "value" in key or "Value" in key:
            key = _VALUES.sub(r"\1 \2", key)
    return key, tags


def _without_comments(query: str) -> tuple[str, tuple[str, ...]]:
    """The statement without comments, and the tags those comments carried."""
    # Fast path for the common case: one block comment, before or after the statement
    # (sqlcommenter appends one), and not inside a string literal.
    if "--" not in query and "#" not in query and query.count("/*") == 1:
        start = query.find("/*")
        end = query.find("*/", start + 2)
        if end > 0 and query.find("*/", end + 2) < 0:
            head, tail = query[:start], query[end + 2 :]
            if (
                (not head.strip() or not tail.strip())
                and "\\" not in query
                and (head.count("'") % 2 == 0 and head.count('"') % 2 == 0)
            ):
                body = query[start + 2 : end]
                tags = _body_tags(body) if body[:1] not in ("!", "+") else ()
                return f"{head} {tail}", tags
    tags = comment_tags(query) if "/*" in query else ()
    return _COMMENTS.sub(_keep_literal, query), tags


def _keep_literal(match: re.Match[str]) -> str:
    kept = match.group(1)
    return kept if kept is not None else " "


def _replace_token(match: re.Match[str]) -> str:
    quoted_identifier = match.group(1)
    return quoted_identifier if quoted_identifier is not None else "?"


def comment_tags(query: str) -> tuple[str, ...]:
    """``key=value`` tags from comments made only of such pairs (sqlcommenter and the like).

    Values are unquoted and URL-decoded as sqlcommenter encodes them; a comment that is
    prose rather than pairs yields nothing; ``traceparent``/``tracestate`` are left out.
    """
    found: list[str] = []
    for body in _COMMENT_BODIES.findall(query):
        if body:  # empty for a string literal: comment markers inside it are text
            found.extend(_body_tags(body))
    return tuple(found)


def _body_tags(body: str) -> tuple[str, ...]:
    body = body.strip()
    if "=" not in body:
        return ()
    if "trace" in body:
        # The trace context differs for every request, the rest of a tag comment repeats:
        # cache on what is left once it is cut out.
        body = _TRACE_PAIR.sub("", body).strip(", ")
    cached = _TAG_CACHE.get(body)
    if cached is None:
        cached = _parse_tag_body(body)
        if len(_TAG_CACHE) >= 4096:
            _TAG_CACHE.clear()
        _TAG_CACHE[body] = cached
    return cached


_TRACE_PAIR = re.compile(r"(?:^|,)\s*trace(?:parent|state)\s*=\s*(?:'[^']*'|\"[^\"]*\"|[^,]*)")
_TAG_CACHE: dict[str, tuple[str, ...]] = {}


def _parse_tag_body(body: str) -> tuple[str, ...]:
    if not body:
        return ()
    pairs: list[str] = []
    if "\\" not in body:
        # Fast path: "k='v',k2=v2" with no comma or '=' inside values (sqlcommenter
        # URL-encodes them).
        for piece in body.split(","):
            key, eq, value = piece.partition("=")
            key, value = key.strip(), value.strip()
            if not eq or not _TAG_KEY.fullmatch(key) or not value:
                break
            if value[0] in ("'", '"'):
                if len(value) < 2 or value[-1] != value[0] or value[0] in value[1:-1]:
                    break
                value = value[1:-1]
            elif "'" in value or '"' in value or " " in value:
                break
            if key not in _UNTAGGED_KEYS:
                pairs.append(f"{key}={unquote(value)}" if "%" in value else f"{key}={value}")
        else:
            return tuple(pairs)
        pairs = []
    pos = 0
    while pos < len(body):
        m = _TAG.match(body, pos)
        if m is None or m.end() == pos:
            return ()
        key, value = m.group(1), m.group(2)
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        key = unquote(key)
        if key not in _UNTAGGED_KEYS:
            pairs.append(f"{key}={unquote(value)}")
        pos = m.end()
    return tuple(pairs)
