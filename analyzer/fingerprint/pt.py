"""Exact port of pt-query-digest 3.2.1's ``QueryRewriter::fingerprint``.

pt-query-digest groups slow-log events by this fingerprint and prints
``upper(md5(fingerprint))`` as the class ID.  Every quirk of the Perl code is
kept on purpose (``db2.t_21`` -> ``d?t_?``, ``ORDER BY a ASCII`` -> ``order by
aii``, ...): in pt mode our classes and IDs must equal pt-query-digest's.

Perl works on the raw bytes of the log: ``lc`` and ``/i`` only touch ASCII
letters and ``\\s \\w \\d \\b`` are ASCII-only, hence ``re.ASCII`` everywhere and
an ASCII-only lower-casing.  Text decoded with ``errors="surrogateescape"``
keeps one character per non-ASCII byte or per valid UTF-8 sequence; no rule
below can tell those apart from one byte, so the output re-encodes to
exactly the bytes Perl prints.

Reference: /usr/bin/pt-query-digest (``package QueryRewriter``), Percona
Toolkit 3.2.1, GPL-2.0 (or the Perl Artistic License).
"""

from __future__ import annotations

import bisect
import hashlib
import re

__all__ = ["pt_checksum", "pt_fingerprint"]

_A = re.ASCII
_I = re.IGNORECASE | re.ASCII

_MYSQLDUMP_PREFIX = "SELECT /*!40001 SQL_NO_CACHE */ * FROM `"
_PT_TOOL_COMMENT = re.compile(r"/\*\w+\.\w+:[0-9]/[0-9]\*/", _A)
_CALL = re.compile(r"\s*(call\s+\S+)\(", _I)
# Shortens multi-row INSERT/REPLACE before anything else (see _multi_row_head).
_INSERT_HEAD = re.compile(r"(?:INSERT|REPLACE)(?: IGNORE)?\s+INTO", _I)
_VALUES_OPEN = re.compile(r"VALUES\s*\(", _I)
_NEXT_ROW = re.compile(r"\)\s*,\s*\(")
# $olc_re = (?:--|#)[^'"\r\n]*(?=[\r\n]|\Z), see _strip_line_comments.
_LINE_COMMENT_RUN = re.compile(r"(?:--|#)[^'\"\r\n]*(['\"])?")
# s/\Ause \S+\Z/use ?/i where Perl's \Z may stop before a final newline.
_USE = re.compile(r"use \S+(?=\n?\Z)", _I)
_ESCAPED_QUOTE = re.compile(r"\\[\"']")
# ".*?" and '.*?' with /s: up to the next quote of the same kind.
_DOUBLE_QUOTED = re.compile(r'"[^"]*"')
_SINGLE_QUOTED = re.compile(r"'[^']*'")
_BOOLEAN = re.compile(r"\bfalse\b|\btrue\b", _I)
_MD5_IN_WORD = re.compile(r"([._-])[a-f0-9]{32}")
# Runs before lower-casing, so 0xFF -> ?FF: hex digits are matched lower-case only.
_NUMBER = re.compile(r"[0-9+-][0-9a-f.xb+-]*")
_NUMBER_NOT_IN_WORD = re.compile(r"\b[0-9+-][0-9a-f.xb+-]*", _A)
_LEFTOVER = re.compile(r"[xb.+-]\?")
_LEFTOVER_MD5 = re.compile(r"[xb+-]\?")
_LEADING_SPACE = " \t\n\r\f\v"  # Perl's \s on bytes (VT included since 5.18)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_NULL = re.compile(r"\bnull\b", _A)
_LISTS = re.compile(r"\b(in|values?)(?:[\s,]*\([\s?,]*\))+", _A)
_UNION = re.compile(r"\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+", _A)
_SELECT_START = re.compile(r"\bselect\s", _A)
_UNION_AT = re.compile(r"\sunion", _A)
_WHITESPACE = frozenset(" \t\n\r\f\v")  # \s with re.ASCII, and Perl's \s on bytes
_SIGNATURE = 32  # characters of a repeated SELECT used to look up candidate UNIONs
# Below this (SELECTs x length, about the regex's worst-case work) the regex is quicker.
_UNION_REGEX_LIMIT = 100_000
_LIMIT = re.compile(r"\blimit \?(?:, ?\?| offset \?)?", _A)
_ORDER_BY = re.compile(r"\bORDER BY ", _I)
_ASC = re.compile(r"(.+?)\s+ASC", _I)


def _lc(text: str) -> str:
    # Perl's lc on a byte string changes A-Z only; str.lower() would also
    # lower-case non-ASCII letters (and can change the length).
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _rejoin(text: str) -> str:
    # Deleting text (a comment, \', " ASC") between two stray bytes of a UTF-8
    # sequence makes valid UTF-8 of them in Perl's bytes; decoding again makes
    # our text equal to what decoding pt's output gives (and \1 compare alike
    # in the UNION rule, which runs after the deletions of comments and \').
    if text.isascii():
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no byte decodes to
        return text


def _squeeze_whitespace(text: str) -> str:
    # tr[ \n\t\r\f][ ]s: each of the five becomes a space and any run of them
    # one space (VT is not in the list).  str.replace beats a regex here.
    for char in "\n\t\r\f":
        if char in text:
            text = text.replace(char, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def _multi_row_head(query: str) -> str | None:
    """Group 1 of pt's m/\\A((?:INSERT|REPLACE)(?: IGNORE)?\\s+INTO.+?VALUES\\s*\\(.*?\\))\\s*,\\s*\\(/is.

    Done in three linear searches instead of one regex because the regex
    backtracks over every VALUES and every ')' of a long single-row INSERT
    (e.g. ON DUPLICATE KEY UPDATE a=VALUES(a), ...).  Same answer: the lazy
    .+? settles on the first "VALUES\\s*(" at least one character after INTO
    if any ')' after it is followed by \\s*,\\s*( (and if none is, no later
    VALUES can do better), then the lazy .*? takes the first such ')'.
    """
    head = _INSERT_HEAD.match(query)
    if head is None:
        return None
    values = _VALUES_OPEN.search(query, head.end() + 1)
    if values is None:
        return None
    row_end = _NEXT_ROW.search(query, values.end())
    if row_end is None:
        return None
    return query[: row_end.start() + 1]


def _strip_block_comments(query: str) -> str:
    """s#/\\*[^!].*?\\*/##sg without regex backtracking.

    In Python the regex rescans to the end of the text for every "/*" when no
    "*/" follows (Perl's optimizer checks for the "*/" first); once one "/*"
    has no closing "*/" after it, no later one can have one either.
    """
    if "/" not in query:
        return query
    start = query.find("/*")
    if start < 0:
        return query
    parts = []
    copied = 0
    length = len(query)
    while start >= 0:
        if start + 2 < length and query[start + 2] != "!":
            end = query.find("*/", start + 3)
            if end < 0:
                break
            parts.append(query[copied:start])
            copied = end + 2
            start = query.find("/*", copied)
        else:
            start = query.find("/*", start + 1)
    if not parts:
        return query
    parts.append(query[copied:])
    return "".join(parts)


def _strip_line_comments(query: str) -> str:
    r"""s/(?:--|#)[^'"\r\n]*(?=[\r\n]|\Z)//g in linear time.

    The character run after a marker either stops at a quote (no match, for
    this marker and for every later marker in the same run) or at CR, LF or
    the end (a match).  Perl's \Z (end or before a final newline) needs no
    care: a final newline already satisfies [\r\n].  Matching the marker, the
    whole run and an optional quote, then keeping the text when the quote is
    there, resumes the search after the run as the regex would, instead of
    retrying every later "-" of a long "-----" run (quadratic in Perl too).
    """
    return _LINE_COMMENT_RUN.sub(lambda m: m.group(0) if m.group(1) else "", query)


def _same_text(text: str, first: int, second: int, length: int) -> bool:
    # text[first:first+length] == text[second:second+length], usually deciding
    # on a short prefix (like the regex's \1, which stops at the first difference).
    size = 16
    while size < length:
        if text[first : first + size] != text[second : second + size]:
            return False
        size *= 8
    return text[first : first + length] == text[second : second + length]


def _union_step(query: str, at: int, start: int, length: int) -> tuple[int, str] | None:
    r"""One (\sunion(?:\sall)?)\s\1 at ``at``, \1 = query[start:start+length]: (end, $2)."""
    size = len(query)
    if not (at < size and query[at] in _WHITESPACE and query.startswith("union", at + 1)):
        return None
    after = at + 6
    if after >= size or query[after] not in _WHITESPACE:
        return None
    # (?:\sall)? is greedy: "union all" first, then "union" alone.
    if (
        query.startswith("all", after + 1)
        and after + 4 < size
        and query[after + 4] in _WHITESPACE
        and _same_text(query, start, after + 5, length)
    ):
        return after + 5 + length, query[at : after + 4]
    if _same_text(query, start, after + 1, length):
        return after + 1 + length, query[at:after]
    return None


def _collapse_unions(query: str) -> str:
    r"""s{\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+}{$1 /*repeat$2*/}g without the rescans.

    The regex tries every end of the lazy .*? up to the end of the line for
    every SELECT, so a long statement with many SELECTs and one UNION takes
    O(selects x length).  A match can only end .*? where "\sunion" starts,
    and, when .*? is at least _SIGNATURE characters long, only where the text
    after "union " or "union all " starts like the SELECT: those candidates
    are looked up in an index, in the order the regex would try them.
    """
    selects = [m.start() for m in _SELECT_START.finditer(query)]
    unions = [m.start() for m in _UNION_AT.finditer(query)]
    if not selects or not unions:
        return query
    index: dict[str, list[int]] | None = None
    if len(selects) * len(unions) > 64:
        index = {}
        for at in unions:
            after = at + 6
            if after < len(query) and query[after] in _WHITESPACE:
                for rest in (after + 1, after + 5):  # "union " and "union all "
                    index.setdefault(query[rest : rest + _SIGNATURE], []).append(at)
    parts = []
    copied = 0
    for start in selects:
        if start < copied:
            continue  # inside the previous match
        first = start + 7  # .*? starts after "select" and one \s
        line_end = query.find("\n", first)  # . does not match a newline
        last = len(query) if line_end < 0 else line_end
        low = bisect.bisect_left(unions, first)
        if index is None:
            candidates = unions[low : bisect.bisect_right(unions, last)]
        else:
            # Short .*? (shorter than the signature): every UNION in reach.
            near = unions[low : bisect.bisect_right(unions, min(last, start + _SIGNATURE - 1))]
            far = index.get(query[start : start + _SIGNATURE], ())
            far_low = bisect.bisect_left(far, max(first, start + _SIGNATURE))
            far = [at for at in far[far_low:] if at <= last]
            candidates = sorted(set(near).union(far))
        for at in candidates:
            length = at - start
            step = _union_step(query, at, start, length)
            if step is None:
                continue
            end, separator = step
            while (step := _union_step(query, end, start, length)) is not None:
                end, separator = step  # greedy +; $2 is the last repetition's
            parts.append(query[copied:at])
            parts.append(" /*repeat" + separator + "*/")
            copied = end
            break
    if not parts:
        return query
    parts.append(query[copied:])
    return "".join(parts)


def _strip_order_by_asc(query: str) -> str:
    # pt: if ($query =~ m/\bORDER BY /gi) { 1 while $query =~ s/\G(.+?)\s+ASC/$1/gi && pos $query; }
    # The m//g leaves pos() just after the first "order by "; the s///g
    # starts there (\G) and each further match must start where the previous
    # one ended.  A successful s/// resets pos() to undef, so the "1 while"
    # body runs once.  No \b after ASC: "b ascii" loses its "asc" too.
    order_by = _ORDER_BY.search(query)
    if order_by is None:
        return query
    pos = order_by.end()
    match = _ASC.match(query, pos)
    if match is None:
        return query
    parts = [query[:pos]]
    while match is not None:
        parts.append(match.group(1))
        pos = match.end()
        match = _ASC.match(query, pos)
    parts.append(query[pos:])
    return "".join(parts)


def pt_fingerprint(
    query: str,
    *,
    match_md5_checksums: bool = False,
    match_embedded_numbers: bool = False,
) -> str:
    """Return pt-query-digest 3.2.1's fingerprint of ``query``.

    ``match_embedded_numbers`` is what ``--preserve-embedded-numbers`` sets;
    ``match_md5_checksums`` replaces ``_<32 hex digits>`` in identifiers.

    >>> pt_fingerprint("SELECT * FROM db2.t_21 WHERE id IN (1, 2, 3) LIMIT 5, 10")
    'select * from d?t_? where id in(?+) limit ?'
    """
    return _rejoin(_fingerprint(query, match_md5_checksums, match_embedded_numbers))


def _fingerprint(query: str, match_md5_checksums: bool, match_embedded_numbers: bool) -> str:
    # Special cases first, in pt's order.
    if query.startswith(_MYSQLDUMP_PREFIX):
        return "mysqldump"
    # One-character "in" tests are memchr-fast; two-character ones are not.
    if "/" in query and _PT_TOOL_COMMENT.search(query):
        return "percona-toolkit"
    if query.startswith("administrator command: "):
        return query
    call = _CALL.match(query)
    if call is not None:
        return _lc(call.group(1))
    head = _multi_row_head(query)
    if head is not None:
        query = head

    stripped = _strip_block_comments(query)
    if "#" in stripped or ("-" in stripped and "--" in stripped):
        stripped = _strip_line_comments(stripped)
    if stripped is not query:
        query = _rejoin(stripped)
    use = _USE.match(query)
    if use is not None:
        # Returned as is: not lower-cased, a final newline kept.
        return "use ?" + query[use.end() :]

    if "\\" in query:
        query = _rejoin(_ESCAPED_QUOTE.sub("", query))
    if '"' in query:
        query = _DOUBLE_QUOTED.sub("?", query)
    if "'" in query:
        query = _SINGLE_QUOTED.sub("?", query)
    query = _BOOLEAN.sub("?", query)

    if match_md5_checksums:
        query = _MD5_IN_WORD.sub(r"\1?", query)
    if match_embedded_numbers:
        query = _NUMBER_NOT_IN_WORD.sub("?", query)
    else:
        query = _NUMBER.sub("?", query)
    if "?" in query:
        query = (_LEFTOVER_MD5 if match_md5_checksums else _LEFTOVER).sub("?", query)

    query = query.lstrip(_LEADING_SPACE)
    if query.endswith("\n"):  # chomp: one newline only
        query = query[:-1]
    query = _squeeze_whitespace(query)
    query = _lc(query)
    if "null" in query:
        query = _NULL.sub("?", query)
    query = _LISTS.sub(r"\1(?+)", query)
    if "union" in query:
        if query.count("select") * len(query) < _UNION_REGEX_LIMIT:
            query = _UNION.sub(r"\1 /*repeat\2*/", query)
        else:
            query = _collapse_unions(query)
    if "limit ?" in query:
        query = _LIMIT.sub("limit ?", query, count=1)  # no /g in pt
    if "order by " in query:
        query = _strip_order_by_asc(query)
    return query


def pt_checksum(fingerprint: str) -> str:
    """Return the class ID pt-query-digest prints for ``fingerprint``.

    ``make_checksum``: upper-case hex MD5 of the fingerprint's bytes.

    >>> pt_checksum("mysqldump")
    'E3C753C2F267B2D767A347A2812914DF'
    """
    return hashlib.md5(fingerprint.encode("utf-8", "surrogateescape")).hexdigest().upper()
