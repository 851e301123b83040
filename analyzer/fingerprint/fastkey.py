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

from analyzer.native import speedups

# Quoted strings, written as "unrolled loops" (much faster in Python's re than alternation).
_STRING = (
    r"'[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+(?:'|\Z)"
    r'|"[^"\\]*+(?:(?:\\.|"")[^"\\]*+)*+(?:"|\Z)'
)  # an unterminated string (a statement cut short) runs to the end
# Numbers not glued to an identifier (t1, 2024_sales and db2.t_21 keep their digits).  The
# lookbehind comes after the first digit so the engine can skip non-digits quickly.
_NUMBER = (
    r"[0-9](?<![\w$.][0-9])[0-9]*(?:[xX][0-9a-fA-F]+|[bB][01]+)?(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?(?![\w$])"
    r"|\.[0-9](?<![\w$.]\.[0-9])[0-9]*(?:[eE][+-]?[0-9]+)?(?![\w$])"
)
# The same alternatives behind one character class: Python's re then scans for the class's
# characters in C before it tries a branch (about 25% faster than the plain alternation, whose
# first branches it tries at every position).  Each branch looks behind at the character taken.
_LITERALS = re.compile(
    r"""['"0-9.](?:"""
    r"""(?<=')[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+(?:'|\Z)"""
    r"""|(?<=")[^"\\]*+(?:(?:\\.|"")[^"\\]*+)*+(?:"|\Z)"""
    r"""|(?<=[0-9])(?<![\w$.][0-9])[0-9]*(?:[xX][0-9a-fA-F]+|[bB][01]+)?(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?(?![\w$])"""
    r"""|(?<=\.)(?<![\w$.]\.)[0-9]+(?:[eE][+-]?[0-9]+)?(?![\w$])"""
    r""")""",
    re.S,
)
# Comments, skipping over strings and quoted identifiers so "--" or "#" inside them survive.
# MySQL needs whitespace (or the end of the line) after "--".
_COMMENTS = re.compile(
    r"(" + _STRING + r"|`(?:[^`]++|``)*+`)|/\*.*?(?:\*/|\Z)|--(?:[ \t\r][^\n]*)?(?=\n|\Z)|#[^\n]*", re.S
)
# True when no backquoted identifier holds anything but word characters: then literal
# patterns cannot start inside one, and the tokenizer below is not needed.
_PLAIN_BACKTICKS = re.compile(r"(?:[^`]*`[\w$]*`)*[^`]*")
_TOKENS = re.compile(r"(`(?:[^`]++|``)*+`)|" + _STRING + "|" + _NUMBER, re.S)
# After whitespace is collapsed: "IN (?, ?, ?)" and "VALUES (...), (...)".  Both patterns
# start with a literal character, which Python's re finds quickly.  Their repeats (and those
# of the string patterns) are possessive: a repeat that may backtrack keeps a stack entry per
# iteration, about 1.4 KB per row of a multi-row INSERT (a 10 MB statement took 1 GB).
_IN_LIST = re.compile(
    r"\((?:(?<=[^\w$][Ii][Nn] \()|(?<=[^\w$][Ii][Nn]\()) ?-?\?(?: ?, ?-?\?)++ ?\)"
)  # "(" first (fast to find), then look behind for the IN keyword
_ROW = r"\((?:[^()]++|\([^()]*+\))*+\)"
_VALUES = re.compile(r"\b([Vv][Aa][Ll][Uu][Ee][Ss]?) ?(" + _ROW + r")(?: ?, ?" + _ROW + ")++")

# Per-request trace context (W3C, as sqlcommenter adds it) is unique per statement: as a class
# attribute it is noise, so it is not kept as a tag.
_UNTAGGED_KEYS = frozenset({"traceparent", "tracestate"})
# Comment bodies (group 1); strings are matched too so that "/*" inside one is skipped.
_COMMENT_BODIES = re.compile(_STRING + r"|/\*(?![!+])(.*?)\*/", re.S)
_TAG_KEY = re.compile(r"[A-Za-z_][\w.\-]*")
_TAG = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*=\s*('(?:[^'\\]|\\.)*'|\"[^\"]*\"|[^,\s'\"]+)\s*(?:,|$)")


# A statement longer than this (a bulk INSERT of a million rows, an IN list of a million ids) is
# keyed by its first LONG_STATEMENT characters: the key of a multi-row VALUES or an IN list cut
# there is the same as the whole statement's, and the work and memory per statement stay bounded.
LONG_STATEMENT = 1 << 20
_CUT_IN_LIST = re.compile(
    r"(?<=[^\w$][Ii][Nn] )\( ?-?\?(?: ?, ?-?\?)*+ ?,? ?\Z|(?<=[^\w$][Ii][Nn])\( ?-?\?(?: ?, ?-?\?)*+ ?,? ?\Z"
)
_CUT_ROW = re.compile(r" ?, ?(?:\([^()]*+)?\Z")
# _LITERALS.sub("?", query) when no backquoted identifier holds more than word characters, or None
_literals = speedups.literals if speedups is not None else None
# fast_key(query)[0] of a statement whose tags are () (no comment, lists only IN lists), or None:
# the digest's hot path calls it first (compiled only)
simple_key = speedups.simple_key if speedups is not None else None
# _fast_key(query)[0] before the list folds (with the body of its one comment, if any), or None
_plain_key = speedups.plain_key if speedups is not None else None


def fast_key(query: str) -> tuple[str, tuple[str, ...]]:
    """Return ``(key, tags)`` for one statement."""
    if len(query) > LONG_STATEMENT:
        key, tags = _fast_key(query[:LONG_STATEMENT])
        return _CUT_ROW.sub("", _CUT_IN_LIST.sub("(?)", key)), tags
    return _fast_key(query)


def _fast_key(query: str) -> tuple[str, tuple[str, ...]]:
    if _plain_key is not None:
        # compiled, up to the list folds: a statement without comments, or with one tag comment
        # before or after it (the comment's body comes back with the key)
        found = _plain_key(query)
        if found is not None:
            tags: tuple[str, ...] = ()
            if type(found) is tuple:
                found, body = found
                tags = _body_tags(body) if body[:1] not in ("!", "+") else ()
            return (_fold_lists(found) if "?," in found or "? ," in found else found), tags
    tags: tuple[str, ...] = ()
    if "/*" in query or "--" in query or "#" in query:
        query, tags = _without_comments(query)
    text = _literals(query) if _literals is not None else None  # the same, compiled, or None
    if text is None:
        if "`" in query and _PLAIN_BACKTICKS.fullmatch(query) is None:
            text = _TOKENS.sub(_replace_token, query)
        else:
            text = _LITERALS.sub("?", query)
    if "  " in text or "\n" in text or "\t" in text or "\r" in text or text[:1] == " " or text[-1:] == " ":
        key = " ".join(text.split())
    else:
        key = text  # already single-spaced: most statements are
    if "?," in key or "? ," in key:
        key = _fold_lists(key)
    return key, tags


def _fold_lists(key: str) -> str:
    """``IN (?, ?, ...)`` to ``IN (?)`` and multi-row ``VALUES`` to their first row."""
    key = _IN_LIST.sub("(?)", key)
    if "VALUE" in key or "value" in key or "Value" in key:
        key = _VALUES.sub(r"\1 \2", key)
    return key


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


# ---- The folded key: the fast key with the spelling differences the canonical form ignores
# folded away (keyword case, backticks, blanks at punctuation, unary minus and charset
# introducers on literals), so that sqlglot parses once per class, not once per spelling.
# Every rule below keeps sqlglot's token sequence, or changes it only where the canonical form
# does the same (see folded_key); tests/test_fastkey_spellings.py checks that the canonical form
# of a fast key and of its folded key are the same on corpora of real, generated and mutated
# statements.

# Only data statements are folded: they are the classes with many spellings, and the ones whose
# grammar the rules were checked against.
_FOLDABLE = re.compile(r"(?:select|insert|update|delete|replace)\b", re.IGNORECASE)
# The canonical form's own first step (canonical._PREFIXED): _utf8mb4'x', N'x', X'..', B'..'.
_FOLD_PREFIXED = re.compile(r"(?<![\w$])(?:_[A-Za-z0-9]+ ?|[NnXxBb])\?")
# Tokens: a backquoted identifier, a word, ?, an operator (longest first), a blank.  Anything
# else (quotes, @variables, comments, ";", brackets, non-ASCII) leaves the key unfolded.
_FOLD_TOKEN = re.compile(r"`[^`]*`|[A-Za-z0-9_$]+|\?|<=>|<=|>=|<>|!=|->>|->|\|\||&&|<<|>>|[(),.*=<>!+\-/%&|^~]| ")
_FOLD_SAFE_CHARS = re.compile(r"[A-Za-z0-9_$`?(),.*=<>!+\-/%&|^~ ]*")
# MySQL reserved words that sqlglot's MySQL tokenizer reads as keywords in any case: a statement
# can only hold them as keywords (an identifier with such a name is backquoted), except after
# "." or "AS", where they are left as written.
_FOLD_WORDS = frozenset(
    "SELECT FROM WHERE AND OR NOT IN IS NULL BETWEEN LIKE HAVING LIMIT DESC ASC JOIN INNER LEFT RIGHT OUTER "
    "CROSS ON USING EXISTS DISTINCT AS INSERT INTO IGNORE VALUES KEY UPDATE SET DELETE FOR CASE WHEN THEN ELSE "
    "UNION ALL REPLACE WITH LOCK".split()
)
# Function names folded only in front of "(" (sqlglot knows them and writes them upper-case).
_FOLD_FUNCTIONS = frozenset("COUNT SUM AVG MIN MAX DATE DATE_FORMAT CONCAT COALESCE IFNULL NOW LOWER UPPER".split())
# Words that are keywords only after another one: (previous word, word).
_FOLD_AFTER = frozenset(
    {("ORDER", "BY"), ("GROUP", "BY"), ("ON", "DUPLICATE"), ("FOR", "SHARE"), ("IN", "SHARE"), ("SHARE", "MODE")}
)
_FOLD_BEFORE = frozenset({("ORDER", "BY"), ("GROUP", "BY")})
_FOLD_AFTER_SECOND = frozenset(b for _, b in _FOLD_AFTER)
_FOLD_BEFORE_FIRST = frozenset(a for a, _ in _FOLD_BEFORE)
# Every word the fold may upper-case (canonical._fold_holds checks none of them is a name).
FOLD_VOCABULARY = _FOLD_WORDS | _FOLD_FUNCTIONS | {w for pair in _FOLD_AFTER | _FOLD_BEFORE for w in pair} | {"OFFSET"}
# A backquoted identifier loses its backticks only when sqlglot reads the bare name as a plain
# identifier too: a name it takes for a keyword, or matches as text somewhere in its grammar
# (MODE, STATUS, NAME, ...), keeps them (see _keeps_backticks).
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_PUNCTUATION = frozenset({"(", ")", ","})
_COMPARISONS = frozenset({"=", "<", ">", "<=", ">=", "<>", "!=", "<=>"})
# The characters of a word end, and of what may follow a word without a blank between them.
_WORD_END = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$")
_WORDISH = _WORD_END | {"?", "`"}
_IN_LIST_TIGHT = re.compile(r"(?<=[^\w$][Ii][Nn]\()-?\?(?:,-?\?)+\)")
_VALUES_TIGHT = re.compile(r"\b([Vv][Aa][Ll][Uu][Ee][Ss]?)(" + _ROW + r")(?:," + _ROW + ")+")


def folded_key(key: str) -> str | None:
    """The fast key of a data statement with its spelling folded, or None to use it as it is.

    Folds what sqlglot's canonical form ignores and the fast key keeps: the case of reserved
    words and of known functions, backticks around plain names, blanks next to ``(``, ``)``,
    ``,`` and ``=``, a minus in front of a literal after an operator, and charset introducers.
    Two keys with the same folded key have the same canonical form (the rules change nothing
    sqlglot's parser sees but letter case of keywords it reads by type, quoting it removes
    itself, and literals it makes ``?``); a statement sqlglot cannot parse is described from
    its own fast key (``Fingerprinter.class_of``).

    >>> folded_key("select `a`, b from `t` where x = -? and y IN (N?, ?) order by b")
    'SELECT a,b FROM t WHERE x=? AND y IN(?)ORDER BY b'
    """
    if _FOLDABLE.match(key) is None or not key.isascii() or _FOLD_SAFE_CHARS.fullmatch(key) is None:
        return None
    if "``" in key:
        return None  # a backtick inside a quoted name (`a``b`), or two names with nothing between
    if "?" in key:
        key = _FOLD_PREFIXED.sub("?", key)
    tokens = _FOLD_TOKEN.findall(key)
    if "".join(tokens) != key:
        return None  # something the tokenizer does not know (a doubled backtick, ...)
    words: list[str] = []  # tokens without blanks
    blank_before: list[bool] = []
    blank = False
    for token in tokens:
        if token == " ":
            blank = True
            continue
        words.append(token)
        blank_before.append(blank)
        blank = False
    n = len(words)
    out: list[str] = []
    previous = ""  # the previous token as written out
    lists: list[bool] = []  # for each open "(": does it hold an IN list or a VALUES row?
    i = 0
    while i < n:
        token = words[i]
        following = words[i + 1] if i + 1 < n else ""
        first = token[0]
        if first == "`":
            name = token[1:-1]
            # In front of "(" only a table's (INSERT INTO `t`(a, b)): `f`(x) is no function call.
            if (
                (following != "(" or previous.upper() == "INTO")
                and _SAFE_NAME.fullmatch(name)
                and not _keeps_backticks(name)
            ):
                token = name
        elif first.isalpha() and previous != "." and following != ".":
            upper = token.upper()
            if upper in _FOLD_WORDS:
                if previous.upper() != "AS" or upper == "SELECT":
                    token = upper
            elif upper in _FOLD_FUNCTIONS:
                if following == "(":
                    token = upper
            elif (
                (upper in _FOLD_AFTER_SECOND and (previous.upper(), upper) in _FOLD_AFTER)
                or (upper in _FOLD_BEFORE_FIRST and (upper, following.upper()) in _FOLD_BEFORE)
                or (upper == "OFFSET" and previous == "?" and i >= 2 and words[i - 2].upper() == "LIMIT")
            ):
                token = upper
        elif (
            token == "-"
            and following == "?"
            and (previous in _COMPARISONS or (previous in ("(", ",") and lists and lists[-1]))
        ):
            i += 1
            continue  # "= -?", "IN (-?, ...)": "?" in the canonical form
        elif token == "(":
            lists.append(previous.upper() in ("IN", "VALUES", "VALUE"))
        elif token == ")" and lists:
            lists.pop()
        if token == "AS" and _is_name(previous) and _is_name(following) and (i + 2 >= n or words[i + 2] not in "(."):
            i += 1
            continue  # "t AS a" is "t a" (the canonical form writes AS in both)
        if out and (
            (
                blank_before[i]
                and not (
                    token in _PUNCTUATION
                    or previous in _PUNCTUATION
                    or (token in _COMPARISONS and previous[-1:] in _WORDISH)
                    or (previous in _COMPARISONS and token[0] in _WORDISH)
                )
            )
            or (previous[-1:] in _WORD_END and token[0] in _WORDISH)  # `a`FROM: keep them apart
        ):
            out.append(" ")
        out.append(token)
        previous = token
        i += 1
    text = "".join(out)
    if "?" in text and _FOLD_PREFIXED.search(text) is not None:
        return None  # the canonical form would fold this introducer again ("_a _b ?", "`N`?")
    if "?," in text:
        text = _IN_LIST_TIGHT.sub("?)", text)
        if "VALUE" in text:
            text = _VALUES_TIGHT.sub(r"\1\2", text)
    return text


_KEPT_BACKTICKS: frozenset[str] | None = None


def bare_names(key: str) -> dict[str, int]:
    """How often each bare name (an identifier without backticks; in front of "(" only after
    INTO, where it is a table) occurs in a folded key: canonical._fold_holds checks that sqlglot
    reads each as a name."""
    tokens = [t for t in _FOLD_TOKEN.findall(key) if t != " "]
    counts: dict[str, int] = {}
    for i, token in enumerate(tokens):
        if token[0] != "`" and _is_name(token):
            if i + 1 < len(tokens) and tokens[i + 1] == "(" and (i == 0 or tokens[i - 1].upper() != "INTO"):
                continue  # a function's name
            counts[token] = counts.get(token, 0) + 1
    return counts


def _is_name(token: str) -> bool:
    """An identifier as written out by folded_key: backquoted, or a bare name that is no word
    of sqlglot's grammar."""
    if token[:1] == "`":
        return True
    return _SAFE_NAME.fullmatch(token) is not None and not _keeps_backticks(token)


def prepare_folding() -> None:
    """Read now the words ``folded_key`` needs from sqlglot (importing it), instead of at the
    first key folded (a process about to fork workers that fold keys shares them so)."""
    _keeps_backticks("")


def _keeps_backticks(name: str) -> bool:
    global _KEPT_BACKTICKS
    if _KEPT_BACKTICKS is None:
        _KEPT_BACKTICKS = _sqlglot_words()
    return name.upper() in _KEPT_BACKTICKS


def _sqlglot_words() -> frozenset[str]:
    """Names sqlglot's MySQL reader treats specially when they are not backquoted: its
    tokenizer's keywords, and the words its parser matches as text (TEXT_MATCHED_WORDS)."""
    words = set(TEXT_MATCHED_WORDS)
    try:
        from sqlglot.dialects.mysql import MySQL

        words.update(k for k in MySQL.tokenizer_class.KEYWORDS if " " not in k)
    except ImportError:  # pragma: no cover - sqlglot is a dependency
        pass
    return frozenset(words)


# Words sqlglot 30's parser (parser.py, parsers/mysql.py) compares token text with
# (_match_text_seq, _match_texts): read bare, such a name may be taken for part of the grammar.
# tests/test_fastkey_spellings.py checks the list against the installed sqlglot's source.
TEXT_MATCHED_WORDS = frozenset(
    """ACCESS ACTION ADD AFTER AGGREGATE ALIAS ALL ALWAYS AMP AND AS ASYMMETRIC ASYNC AT AUTO AUTOTEMP AVRO
    BEFORE BINDING BOOLEAN BUCKET BUCKETS BY BYTES CACHE CASCADE CASESPECIFIC CHAIN CHAINED CHANNEL CHARACTER
    CHECK CHECKSUM CLUSTER CLUSTERED COLLATE COLLECTION COLUMNS COLUMNSTORE COMMIT COMPLETE COMPOUND CONCURRENT
    CONCURRENTLY CONFLICT CONNECTION CONSTRAINT CONSTRAINTS CONTAINED CONTINUE CONVERSION CORRESPONDING COUNT
    CREDENTIALS CURRENT CYCLE DANGLING DATA DATABASE DATA_CONSISTENCY_CHECK DEFAULT DEFERRED DEFINE DEFINED DELETE
    DELIMITED DELTA DETERMINISTIC DIRECTED DIRECTORY DISK DISTINCT DISTKEY DROP DUAL DUPLICATE EACH EMPTY ENCODING
    ENCRYPTION ENFORCED ENGINE_ATTRIBUTE ERROR ESCAPED EVALNAME EVEN EXCL EXCLUDE EXCLUDING EXCLUSIVE EXECUTE
    EXISTS EXPANSION EXTEND EXTERNAL FAST FIELDS FILE FILEFORMAT FILES FILESTREAM_ON FILL FILTER_COLUMN FINAL FIRST
    FOO FOR FORCE FORMAT FORMAT_NAME FROM GRANT GRANTS GROUP GROUPS HASH HIDDEN HISTOGRAM HISTORY_RETENTION_PERIOD
    HISTORY_TABLE IAM_ROLE ICEBERG IDENTITY IF IGNORE IMMEDIATE IN INCLUDE INCLUDING INCREMENT INDEX INDEXED
    INITIALLY INPATH INPUT INPUTFORMAT INTERPOLATE INTO INVISIBLE ISOLATED ITEMS JOURNAL JSON KBYTES KEY KEYS
    KEY_BLOCK_SIZE KILOBYTES LANGUAGE LAST LAZY LENGTH LESS LIKE LIMIT LINES LIST LOADING LOCAL LOCATION LOCK
    LOCKED LOGGED MANUAL MAP MATCH MATCHED MATCHES MATERIALIZED MAX MAXIMUM MAXVALUE MEASURES METHOD MIN MINIMUM
    MINVALUE MODE MUTEX NAME NATURAL NESTED NEVER NEXT NO NOCYCLE NONCLUSTERED NONE NOORDER NOSCAN NOT NOWAIT NULL
    NULLS OF OFF OFFLINE OFFSET OIDS OMIT ON ONE ONLINE ONLY OPTION OPTIONS OR ORDER ORDINALITY OUT OUTFILE
    OUTPUTFORMAT OVERFLOW OVERRIDE OWNED PANDAS PARAMETER PARSER PARTITION PASSING PAST PATH PATTERN PER PERSISTED
    PRESERVE PRIMARY PROPERTIES PROTECTION PURGE QUERY RANDOM RANGE READ RECOMPRESS REF REFERENCING REFRESH REGION
    REMAINDER REPEATABLE REPLACE REPLICATION RESPECT RESTART RESTRICT RETENTION_PERIOD RETURN RETURNING ROLE ROW
    ROWS RUNNING SAMPLE SAVEPOINT SCHEMA SEARCH SECONDARY_ENGINE_ATTRIBUTE SEED SEQUENCE SERDE SET SETTINGS SHALLOW
    SHARE SHOW SIGNED SKIP SORTED SORTKEY SOUNDS SOURCE SQL STAGE_COPY_OPTIONS STAGE_FILE_FORMAT START STATEMENT
    STATISTICS STATUS STEP STORAGE_INTEGRATION STORED STRICT STRUCT STRUCTURE STYLE SYMMETRIC SYNC SYSTEM
    SYSTEM_TIME TABLE TABLES TABLESPACE TAG TAGS TARGET TERMINATED THAN TIES TIME TO TOTALS TRANSACTION TRUNCATE
    TYPE UESCAPE UNBOUNDED UNIQUE UNLOGGED UNMATCHED UNSET UNSIGNED UPDATE USER USING VALID VALUE VALUES VAR
    VARIABLE VIEW VIRTUAL VISIBLE VOLUME WAIT WHEN WHILE WITH WITHIN WITHOUT WORK WRITE ZONE""".split()
)
