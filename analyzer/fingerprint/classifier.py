"""From statements to query classes: the per-event key and the per-class description."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal

from analyzer.fingerprint.fastkey import comment_tags, fast_key, folded_key
from analyzer.fingerprint.pt import pt_checksum, pt_fingerprint
from analyzer.model import ClassInfo

if TYPE_CHECKING:
    from sqlglot import exp

# sqlglot (canonical.py) is imported only when classes are described: pt mode needs it only for
# the final report, and it is the largest import (about 35 MB).

_CACHE_ENTRIES = 4_096
# Classes remembered per folded key and per fast key (bounded: a log can have more classes than
# memory should hold descriptions for; a forgotten one is described again when it comes back).
_CLASS_CACHE_ENTRIES = 32_000
_UNFOLDED = ClassInfo("", "", "", (), False, None, "")  # the folded key does not hold: use the fast key

Mode = Literal["sqlglot", "pt"]
MODES: tuple[str, ...] = ("sqlglot", "pt")


def class_id(fingerprint: str) -> str:
    """The stable class ID: 16 hex digits of the SHA-1 of the class text."""
    return hashlib.sha1(fingerprint.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def class_tree(info: ClassInfo) -> exp.Expression | None:
    """The class's canonical sqlglot tree (``?`` for literals), or None if sqlglot cannot parse it."""
    if not info.parsed:
        return None
    from analyzer.fingerprint.canonical import canonical_tree

    return canonical_tree(info.key)


class Fingerprinter:
    """Assigns events to classes.

    ``key()`` runs once per event and must be cheap: in ``sqlglot`` mode it is the fast
    token-level key, in ``pt`` mode pt-query-digest's own fingerprint.  In ``sqlglot`` mode
    ``class_of()`` turns a fast key into its class (sqlglot about once per class, see
    ``fastkey.folded_key``); ``describe()`` does the expensive work for one key.
    """

    def __init__(self, mode: Mode = "sqlglot") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown fingerprint mode {mode!r}; choose one of {', '.join(MODES)}")
        self.mode = mode
        # Statements repeat verbatim (COMMIT, config lookups, health checks): remember their
        # keys.  Bounded, because most statements carry literals that never repeat.
        self._cache: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.cached_keys = self._cache  # read-only for callers: key() of the statements it holds
        self._folded: dict[str, ClassInfo] = {}  # folded key -> class (or _UNFOLDED)
        self._described: dict[str, ClassInfo] = {}  # fast key -> class, when its folded key does not hold

    def key(self, query: str, admin: bool = False) -> tuple[str, tuple[str, ...]]:
        """Group key and comment tags of one statement."""
        if admin:
            return query, ()
        cache = self._cache
        cached = cache.get(query)
        if cached is None:
            if self.mode == "sqlglot":
                cached = fast_key(query)
            else:
                cached = pt_fingerprint(query), comment_tags(query) if "/*" in query else ()
            if len(cache) >= _CACHE_ENTRIES:
                cache.clear()
            cache[query] = cached
        return cached

    def class_of(self, key: str, folded: str | bool | None = False) -> ClassInfo:
        """The class of a fast key (``sqlglot`` mode, not an administrator command).

        sqlglot runs once per folded key (``fastkey.folded_key``; pass it as ``folded`` when it
        is known): the spellings of one class share it, so it parses about once per class.  A
        fast key whose folded key sqlglot cannot parse, or may read otherwise, is described on
        its own, as ``describe`` does.
        """
        if folded is False:
            folded = folded_key(key)
        if folded is not None:
            info = self._folded.get(folded)
            if info is None:
                info = self._describe_folded(folded)
            if info is not _UNFOLDED:
                return info
        info = self._described.get(key)
        if info is None:
            info = self.describe(key, key)
            if len(self._described) >= _CLASS_CACHE_ENTRIES:
                self._described.clear()
            self._described[key] = info
        return info

    def _describe_folded(self, folded: str) -> ClassInfo:
        """The class of a folded key (``_UNFOLDED`` when the fold does not hold), remembered."""
        from analyzer.fingerprint.canonical import canonicalize_folded

        form = canonicalize_folded(folded)
        if form is None:
            info = _UNFOLDED
        else:
            fingerprint = form.fingerprint
            info = ClassInfo(class_id(fingerprint), fingerprint, form.kind, form.tables, True, None, folded)
        self._remember_folded(folded, info)
        return info

    def _remember_folded(self, folded: str, info: ClassInfo) -> None:
        if len(self._folded) >= _CLASS_CACHE_ENTRIES:
            self._folded.clear()
        self._folded[folded] = info

    def folded_class(self, folded: str) -> ClassInfo | None:
        """The class of a folded key, or None when the fold does not hold (its fast keys are
        then described one by one, see ``class_of``): for a process that describes folded keys
        for another one (``learn_folded``)."""
        info = self._folded.get(folded)
        if info is None:
            info = self._describe_folded(folded)
        return None if info is _UNFOLDED else info

    def learn_folded(self, classes: dict[str, ClassInfo]) -> None:
        """Take the classes of folded keys that another process described (``folded_class``)."""
        for folded, info in classes.items():
            if folded not in self._folded:
                self._remember_folded(folded, info)

    def describe(self, key: str, example: str, admin: bool = False) -> ClassInfo:
        """Class text, kind and tables for a group key (``example`` is one of its statements)."""
        if admin:
            fingerprint = pt_fingerprint(key) if self.mode == "pt" else key
            return ClassInfo(class_id(fingerprint), fingerprint, "ADMIN", (), False, None, key)
        if not key.strip():  # only comments: nothing to parse, one class for them all
            label = "/* statement with comments only */"
            return ClassInfo(class_id(label), label, "COMMENT", (), False, "no statement, only comments", key)
        from analyzer.fingerprint.canonical import canonicalize

        if self.mode == "sqlglot":
            form = canonicalize(key)
            return ClassInfo(
                class_id(form.fingerprint), form.fingerprint, form.kind, form.tables, form.parsed, form.error, key
            )
        # pt mode: the class is pt's fingerprint; sqlglot still reads the example for its
        # kind and tables.
        fast = fast_key(example)[0]
        form = canonicalize(fast)
        return ClassInfo(class_id(key), key, form.kind, form.tables, form.parsed, form.error, fast)

    @staticmethod
    def pt_id(example: str) -> str:
        """The class ID pt-query-digest would print for a statement (32 upper-case hex)."""
        return pt_checksum(pt_fingerprint(example))
