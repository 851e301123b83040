"""From statements to query classes: the per-event key and the per-class description."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from analyzer.fingerprint.canonical import canonical_tree, canonicalize
from analyzer.fingerprint.fastkey import comment_tags, fast_key
from analyzer.fingerprint.pt import pt_checksum, pt_fingerprint

Mode = Literal["sqlglot", "pt"]
MODES: tuple[str, ...] = ("sqlglot", "pt")


def class_id(fingerprint: str) -> str:
    """The stable class ID: 16 hex digits of the SHA-1 of the class text."""
    return hashlib.sha1(fingerprint.encode("utf-8", "surrogateescape")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """What a class is, independent of what was measured."""

    id: str
    fingerprint: str
    kind: str
    tables: tuple[str, ...]
    parsed: bool  # sqlglot understood the statement
    parse_error: str | None
    key: str  # a fast key of the class: what its canonical tree is rebuilt from

    def tree(self) -> exp.Expression | None:
        """The canonical sqlglot tree (``?`` for literals), or None if sqlglot cannot parse it."""
        return canonical_tree(self.key) if self.parsed else None


class Fingerprinter:
    """Assigns events to classes.

    ``key()`` runs once per event and must be cheap: in ``sqlglot`` mode it is the fast
    token-level key, in ``pt`` mode pt-query-digest's own fingerprint.  ``describe()`` runs
    once per distinct key and does the expensive work (sqlglot).  Groups whose keys describe
    to the same fingerprint are one class.
    """

    def __init__(self, mode: Mode = "sqlglot") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown fingerprint mode {mode!r}; choose one of {', '.join(MODES)}")
        self.mode = mode
        self._pt_cache: dict[str, str] = {}

    def key(self, query: str, admin: bool = False) -> tuple[str, tuple[str, ...]]:
        """Group key and comment tags of one statement."""
        if admin:
            return query, ()
        if self.mode == "sqlglot":
            return fast_key(query)
        cached = self._pt_cache.get(query)
        if cached is None:
            cached = pt_fingerprint(query)
            if len(self._pt_cache) < 100_000:
                self._pt_cache[query] = cached
        return cached, comment_tags(query) if "/*" in query else ()

    def describe(self, key: str, example: str, admin: bool = False) -> ClassInfo:
        """Class text, kind and tables for a group key (``example`` is one of its statements)."""
        if admin:
            fingerprint = pt_fingerprint(key) if self.mode == "pt" else key
            return ClassInfo(class_id(fingerprint), fingerprint, "ADMIN", (), False, None, key)
        if not key.strip():  # only comments: nothing to parse, one class for them all
            label = "/* statement with comments only */"
            return ClassInfo(class_id(label), label, "COMMENT", (), False, "no statement, only comments", key)
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
