"""Verify index suggestions with the optimizer, as a set: every explained class before and after.

Two ways, both explicit (``mqa advise --verify``), neither touching application data:

* **Scratch copy** (any server; the only way on MariaDB, which has no invisible indexes a
  session can use): every table the explained classes read is copied into a scratch schema the
  user names (``--scratch-schema``, on the same server or on ``--verify-dsn``) with ``CREATE
  TABLE ... LIKE`` and its rows (all, or the first ``sample_rows``), analyzed, explained before,
  given the new indexes, explained after; then every table mqa created (and the schema, if mqa
  created it) is dropped.  The scratch schema must not be one the statements use.  On MariaDB,
  where running a SELECT on the copy is harmless, each class is also run there with ``ANALYZE
  FORMAT=JSON`` (writes through their SELECT equivalent, each bounded by a statement time
  limit), so before and after compare the rows really read, not the optimizer's estimates.
* **Invisible indexes** (MySQL 8.0+): the suggested indexes are added ``INVISIBLE`` to the
  application tables, the classes are explained in mqa's own session with
  ``optimizer_switch='use_invisible_indexes=on'`` (nobody else's plans change), and the indexes
  are dropped again.

A suggestion is verified when the optimizer chooses its index for at least one of its classes;
otherwise it is marked ``verified=False`` and left out of the DDL.  Then the whole set is checked
against **every** explained class, not only the ones it was made for: a class whose plan gets
worse with the set in place (more rows read, a new sort or temporary table where the rows do
not drop) is *protected*: the index that causes it is reordered (its equality columns can come
in any order, and another first column may stop luring the class into a worse plan), keeps the
index it was going to replace, or is dropped, whichever leaves no class worse.  What was found
and done is in ``Verification.protected``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from analyzer.advisor.query import QueryShape, analyze_query
from analyzer.advisor.suggest import IndexSuggestion, _scoped, index_name
from analyzer.advisor.workload import Advice, ClassAdvice
from analyzer.errors import AnalyzerError, UsageError
from analyzer.failpoints import failpoint
from analyzer.sources.explain import Plan, explain, explainable, parse_plan, select_equivalent
from analyzer.sources.schema import Catalog, Table, quote_identifier

DEFAULT_SAMPLE_ROWS = 1_000_000
MEASURE_TIMEOUT = 10.0  # seconds one ANALYZE of a class may take on the scratch copy
WORSE_TOLERANCE = 0.10  # a class reading up to 10% more is noise, not a regression ...
WORSE_MIN_ROWS = 20.0  # ... and so are a few more rows per execution of a cheap class (measured rows)
WORSE_MIN_ESTIMATED = 10.0  # the same for EXPLAIN estimates
STATEMENT_TIMEOUT_ERRORS = (1969, 3024)  # MariaDB max_statement_time, MySQL max_execution_time


class VerifyError(AnalyzerError):
    """Verification cannot run safely with what was given."""


@dataclass
class Protection:
    """A class the suggested set made worse, and what verification changed so that it is not."""

    class_id: str
    fingerprint: str
    index: str  # the suggestion that caused it: "idx_t_a_b (a, b)"
    worse: str  # what went wrong, e.g. "reads 142,467 rows instead of 2,643"
    action: str  # what was done: "reordered to (b, a)", "dropped from the set", "keeps idx_t_a instead of ..."
    resolved: bool
    rows_before: float | None = None
    rows_worse: float | None = None
    rows_after: float | None = None
    measured: bool = False  # rows really read (ANALYZE on the scratch copy), not estimates
    plan_before: str = ""  # the plans, in words: "reads 2,643 rows (bookings via idx_bookings_booked_at, filesort)"
    plan_worse: str = ""
    plan_after: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "fingerprint": self.fingerprint,
            "index": self.index,
            "worse": self.worse,
            "action": self.action,
            "resolved": self.resolved,
            "rows_before": _round(self.rows_before),
            "rows_worse": _round(self.rows_worse),
            "rows_after": _round(self.rows_after),
            "measured": self.measured,
            "plan_before": self.plan_before,
            "plan_worse": self.plan_worse,
            "plan_after": self.plan_after,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class Verification:
    method: str  # "scratch" | "invisible"
    target: str  # where the indexes were built
    writes: list[str] = field(default_factory=list)  # every statement that changed something, in order
    notes: list[str] = field(default_factory=list)
    sampled: bool = False
    classes_checked: int = 0  # explained classes compared before and after with the whole set
    measured: bool = False  # before/after are rows really read (ANALYZE), not estimates
    protected: list[Protection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "target": self.target,
            "writes": self.writes,
            "notes": self.notes,
            "sampled": self.sampled,
            "classes_checked": self.classes_checked,
            "measured": self.measured,
            "protected": [p.to_dict() for p in self.protected],
        }


def rewrite_schemas(sql: str, mapping: dict[str, str]) -> str:
    """``sql`` with schema qualifiers renamed (``shop.orders`` -> ``scratch.orders``), changing only
    those identifier tokens of the original text (never regenerating it).

    >>> rewrite_schemas("SELECT * FROM `shop`.orders o JOIN shop.c ON o.shop = 1", {"shop": "tmp"})
    'SELECT * FROM `tmp`.orders o JOIN `tmp`.c ON o.shop = 1'
    """
    lowered = {k.lower(): v for k, v in mapping.items()}
    try:
        tokens = sqlglot.tokenize(sql, read="mysql")
    except TokenError:
        return sql
    out = []
    last = 0
    for i, token in enumerate(tokens):
        if token.token_type not in (TokenType.VAR, TokenType.IDENTIFIER) and not token.text.isidentifier():
            continue
        if i + 2 >= len(tokens) or tokens[i + 1].token_type != TokenType.DOT:
            continue
        if i > 0 and tokens[i - 1].token_type == TokenType.DOT:
            continue  # the middle of a.b.c: a table qualifier, not a schema
        # db.table.column or db.table (in FROM): a schema only when followed by two parts, or in a table position
        name = token.text.lower()
        if name not in lowered:
            continue
        third = i + 3 < len(tokens) and tokens[i + 3].token_type == TokenType.DOT
        prev = tokens[i - 1].token_type if i > 0 else None
        table_position = (
            prev
            in (
                TokenType.FROM,
                TokenType.JOIN,
                TokenType.UPDATE,
                TokenType.INTO,
                TokenType.COMMA,
                TokenType.STRAIGHT_JOIN,
                TokenType.TABLE,
            )
            if prev is not None
            else False
        )
        if not (third or table_position):
            continue
        out.append(sql[last : token.start])
        out.append(quote_identifier(lowered[name]))
        last = token.end + 1
    out.append(sql[last:])
    return "".join(out)


# --------------------------------------------------------------------------------------------
# What one class looks like on the verification target
# --------------------------------------------------------------------------------------------


@dataclass
class _Observed:
    """One class explained (and, on a scratch copy, measured) on the verification target."""

    keys: dict[str, str | None]  # real table name (lower case) -> the key of the plan's first access to it
    rows: float  # the whole statement's estimated rows examined (nested loops included)
    sort: bool  # the plan sorts
    temporary: bool  # the plan builds a temporary table
    actual: float | None = None  # rows really read (ANALYZE), when measured
    timed_out: bool = False  # the measurement hit the time limit

    @property
    def cost(self) -> float:
        """Rows read: measured when it was, estimated otherwise."""
        return self.actual if self.actual is not None else self.rows

    def describe(self) -> str:
        """The plan in a few words: ``bookings via idx_bookings_booked_at, filesort``."""
        keys = ", ".join(f"{k} via {v}" if v else f"{k} scanned" for k, v in self.keys.items()) or "no table"
        return keys + (", filesort" if self.sort else "") + (", temporary" if self.temporary else "")

    def amount(self) -> str:
        if self.timed_out:
            return f"runs past the {MEASURE_TIMEOUT:g} s limit"
        return f"reads {self.actual:,.0f} rows" if self.actual is not None else f"~{self.rows:,.0f} rows estimated"


def _observed(plan: Plan, shape: QueryShape | None) -> _Observed:
    labels = {ref.label.lower(): ref.name.lower() for scope in shape.scopes for ref in scope.tables} if shape else {}
    keys: dict[str, str | None] = {}
    for t in plan.tables:
        keys.setdefault(labels.get(t.table.lower(), t.table.lower()), t.key)
    return _Observed(keys, plan.rows_examined_estimate, plan.using_filesort, plan.using_temporary)


def _worse(before: _Observed, after: _Observed, measured_before: float | None = None) -> str | None:
    """Why the class is worse with the set than without, or None.

    With rows measured on both sides, only the rows read count (a new sort of far fewer rows is
    an improvement).  With estimates, more estimated rows, or a new sort / temporary table that
    does not come with far fewer rows; a ``measured_before`` (the workload's rows examined) stands
    in for an estimate known to be too low (an index walk)."""
    if before.actual is not None or before.timed_out:
        if after.timed_out and not before.timed_out:
            return f"runs past the {MEASURE_TIMEOUT:g} s limit, where it read {before.cost:,.0f} rows before"
        if after.actual is None or before.actual is None:
            return None
        if after.actual > before.actual * (1 + WORSE_TOLERANCE) + WORSE_MIN_ROWS:
            return f"reads {after.actual:,.0f} rows instead of {before.actual:,.0f}"
        return None
    base = max(before.rows, measured_before or 0.0)
    if after.rows > base * (1 + WORSE_TOLERANCE) + WORSE_MIN_ESTIMATED:
        return f"~{after.rows:,.0f} rows estimated instead of ~{base:,.0f}"
    if after.rows >= base * 0.5:
        if after.sort and not before.sort:
            return f"a new sort (~{after.rows:,.0f} rows estimated, ~{base:,.0f} before)"
        if after.temporary and not before.temporary:
            return f"a new temporary table (~{after.rows:,.0f} rows estimated, ~{base:,.0f} before)"
    return None


# --------------------------------------------------------------------------------------------
# Where indexes are tried: a scratch copy, or invisible indexes
# --------------------------------------------------------------------------------------------


class _Lab:
    """Builds and removes suggested indexes on the verification target and observes classes there."""

    measures = False

    def __init__(self, target: Any, verification: Verification) -> None:
        self.target = target
        self.verification = verification

    def write(self, sql: str, purpose: str) -> None:
        self.verification.writes.append(sql)
        with self.target.translate_errors(purpose):
            self.target.query(sql)

    def reopen(self) -> None:
        """A new session on the target after an interrupted statement (Ctrl-C while a result was
        being read leaves the protocol out of step): the clean-up must still reach the server."""
        conn = getattr(self.target, "conn", None)
        if conn is None:
            return
        with contextlib.suppress(Exception):
            conn._force_close()
        with contextlib.suppress(Exception):
            conn.connect()

    def key_name(self, s: IndexSuggestion) -> str:
        return s.name

    def build(self, s: IndexSuggestion) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def unbuild(self, s: IndexSuggestion) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def refresh(self, tables: Iterable[Table]) -> None:
        """Statistics of tables whose indexes changed."""

    def observe(self, ca: ClassAdvice) -> _Observed | None:  # pragma: no cover - abstract
        raise NotImplementedError


class _ScratchLab(_Lab):
    def __init__(
        self, target: Any, verification: Verification, schema: str, mapping: dict[str, str], measure: bool
    ) -> None:
        super().__init__(target, verification)
        self.schema = schema
        self.mapping = mapping
        self.measures = measure

    def copy_of(self, table: Table) -> str:
        return f"{quote_identifier(self.schema)}.{quote_identifier(table.name)}"

    def build(self, s: IndexSuggestion) -> None:
        parts = [f"DROP INDEX {quote_identifier(s.replaces.name)}"] if s.replaces is not None else []
        self.write(
            f"ALTER TABLE {self.copy_of(s.table)} " + ", ".join(parts + [f"ADD INDEX {s.definition}"]),
            "build a suggested index in the scratch copy",
        )

    def unbuild(self, s: IndexSuggestion) -> None:
        parts = [f"DROP INDEX {quote_identifier(s.name)}"]
        if s.replaces is not None:
            parts.append(f"ADD {s.replaces.ddl}")
        self.write(
            f"ALTER TABLE {self.copy_of(s.table)} " + ", ".join(parts), "take a suggested index out of the scratch copy"
        )

    def refresh(self, tables: Iterable[Table]) -> None:
        for table in {t.full_name: t for t in tables}.values():
            self.write(f"ANALYZE TABLE {self.copy_of(table)}", "analyze the scratch copy")

    def observe(self, ca: ClassAdvice) -> _Observed | None:
        sql = rewrite_schemas(ca.wc.sample or "", self.mapping)
        try:
            plan = explain(self.target, sql, database=self.schema)
        except AnalyzerError:
            return None
        observed = _observed(plan, ca.shape)
        if self.measures:
            observed.actual, observed.timed_out = _measure(self.target, sql)
        return observed


def _measure(target: Any, sql: str) -> tuple[float | None, bool]:
    """Rows the statement really reads (MariaDB ANALYZE FORMAT=JSON of the statement, or of its
    SELECT equivalent for a write), within MEASURE_TIMEOUT: (rows, timed out)."""
    import pymysql

    check = explainable(sql)
    if not check.ok:
        return None, False
    text = sql.strip().rstrip(";") if check.kind == "SELECT" and not check.locking else select_equivalent(sql, check)
    if not text:
        return None, False
    try:
        rows = target.query(f"SET STATEMENT max_statement_time={MEASURE_TIMEOUT:g} FOR ANALYZE FORMAT=JSON {text}")
    except pymysql.MySQLError as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        return None, code in STATEMENT_TIMEOUT_ERRORS
    except AnalyzerError:
        return None, False
    if not rows:
        return None, False
    plan = parse_plan(next(iter(rows[0].values())), statement=text, flavor="mariadb", analyzed=True)
    return plan.actual_rows(), False


class _InvisibleLab(_Lab):
    def __init__(self, target: Any, verification: Verification) -> None:
        super().__init__(target, verification)
        self.names: dict[int, str] = {}
        self.counter = 0

    def key_name(self, s: IndexSuggestion) -> str:
        return self.names.get(id(s), s.name)

    def build(self, s: IndexSuggestion) -> None:
        self.counter += 1
        name = f"mqa_verify_{self.counter}"
        add, _drop = invisible_index_statements(s, name)
        self.names[id(s)] = name
        self.write(add, "add an invisible index to verify a suggestion")

    def unbuild(self, s: IndexSuggestion) -> None:
        name = self.names.pop(id(s), None)
        if name is not None:
            _add, drop = invisible_index_statements(s, name)
            self.write(drop, f"drop the invisible index {name} again")

    def observe(self, ca: ClassAdvice) -> _Observed | None:
        try:
            plan = explain(self.target, ca.wc.sample or "", database=ca.wc.database)
        except AnalyzerError:
            return None
        return _observed(plan, ca.shape)


# --------------------------------------------------------------------------------------------
# The set, verified
# --------------------------------------------------------------------------------------------


def _shape(ca: ClassAdvice, catalog: Catalog) -> QueryShape | None:
    if ca.shape is None and ca.wc.sample:
        try:
            ca.shape = analyze_query(
                ca.wc.sample, catalog=_scoped(catalog, ca.wc.database), default_schema=ca.wc.database
            )
        except AnalyzerError:
            return None
    return ca.shape


def _tables_read(ca: ClassAdvice, catalog: Catalog) -> dict[str, Table]:
    shape = _shape(ca, catalog)
    if shape is None:
        return {}
    scoped = _scoped(catalog, ca.wc.database)
    out: dict[str, Table] = {}
    for ref in shape.all_tables():
        t = scoped.find(ref.name, ref.schema)
        if t is not None:
            out[t.full_name] = t
    return out


def _explained_classes(advice: Advice) -> list[ClassAdvice]:
    """Every class with a real sample that can be explained, the ones beyond ``--top`` included:
    a new index may change any plan that reads its table, not only the plans it was made for."""
    advised = [ca for ca in advice.classes if ca.wc.sample and (ca.plan is not None or explainable(ca.wc.sample).ok)]
    rest = [ClassAdvice(wc) for wc in advice.unadvised if wc.sample and explainable(wc.sample).ok]
    return advised + rest


def _measured_before(ca: ClassAdvice) -> float | None:
    """The workload's rows examined per call, when EXPLAIN's estimate is known to be too low."""
    from analyzer.advisor.evidence import reconcile

    if ca.plan is None or ca.wc.rows_examined_avg is None:
        return None
    evidence = reconcile(ca.plan, ca.shape, ca.wc.rows_examined_avg)
    return evidence.measured if evidence.underestimated else None


class _SetVerifier:
    """Builds the suggested set in a lab, judges it, and protects the classes it makes worse."""

    MAX_REPAIRS = 12

    def __init__(self, advice: Advice, catalog: Catalog, lab: _Lab) -> None:
        self.advice = advice
        self.catalog = catalog
        self.lab = lab
        self.classes = _explained_classes(advice)
        self.reads = {id(ca): set(_tables_read(ca, catalog)) for ca in self.classes}
        self.built: list[IndexSuggestion] = []
        self.before: dict[int, _Observed] = {}
        self.after: dict[int, _Observed] = {}
        self.tolerated: set[int] = set()  # regressions nothing could prevent (reported once)

    def observe(self, classes: Iterable[ClassAdvice]) -> dict[int, _Observed]:
        out = {}
        for ca in classes:
            failpoint("verify.class")
            observed = self.lab.observe(ca)
            if observed is not None:
                out[id(ca)] = observed
        return out

    def readers(self, table: Table) -> list[ClassAdvice]:
        return [ca for ca in self.classes if table.full_name in self.reads[id(ca)]]

    def run(self, suggestions: Sequence[IndexSuggestion]) -> None:
        verification = self.lab.verification
        verification.classes_checked = len(self.classes)
        verification.measured = self.lab.measures
        self.before = self.observe(self.classes)
        for s in suggestions:
            self.lab.build(s)
            self.built.append(s)
        self.lab.refresh(s.table for s in suggestions)
        self.after = self.observe(self.classes)
        self.judge(suggestions)
        # what the optimizer never chooses is left out of the DDL: take it out of the lab too
        unused = [s for s in self.built if s.verified is False]
        for s in unused:
            self.lab.unbuild(s)
            self.built.remove(s)
        if unused:
            self.lab.refresh(s.table for s in unused)
            self.after.update(self.observe({id(ca): ca for s in unused for ca in self.readers(s.table)}.values()))
        for _ in range(self.MAX_REPAIRS):
            regressions = self.regressions()
            if not regressions:
                break
            ca, why = regressions[0]
            verification.protected.append(self.protect(ca, why))
        self.judge([s for s in suggestions if s in self.built])

    def worse(self, ca: ClassAdvice, after: dict[int, _Observed] | None = None) -> str | None:
        b, a = self.before.get(id(ca)), (after or self.after).get(id(ca))
        if b is None or a is None:
            return None
        return _worse(b, a, None if self.lab.measures else _measured_before(ca))

    def regressions(self) -> list[tuple[ClassAdvice, str]]:
        found = []
        for ca in self.classes:
            if id(ca) in self.tolerated:
                continue
            why = self.worse(ca)
            if why is not None:
                found.append((ca, why))
        found.sort(key=lambda item: -(self.after[id(item[0])].cost - self.before[id(item[0])].cost))
        return found

    def culprits(self, ca: ClassAdvice) -> list[IndexSuggestion]:
        """Built suggestions on the tables the class reads: first the ones its plan now uses, then
        the ones that replace an index it used, then the rest."""
        keys_after = {k.lower() for k in self.after[id(ca)].keys.values() if k}
        keys_before = {k.lower() for k in self.before[id(ca)].keys.values() if k}
        mine = [s for s in self.built if s.table.full_name in self.reads[id(ca)]]

        def rank(s: IndexSuggestion) -> int:
            if self.lab.key_name(s).lower() in keys_after:
                return 0
            if s.replaces is not None and s.replaces.name.lower() in keys_before:
                return 1
            return 2

        return sorted(mine, key=rank)

    def alternatives(self, s: IndexSuggestion, ca: ClassAdvice) -> list[tuple[str, tuple[str, ...] | None, bool]]:
        """(action, columns, keep the replaced index) to try instead of ``s``, the least change
        first; columns None means dropping it."""
        out: list[tuple[str, tuple[str, ...] | None, bool]] = []
        if s.replaces is not None:  # the replaced index (and its implicit primary-key suffix) may be what it needs
            out.append(
                (
                    f"keeps {s.replaces.name} ({', '.join(s.replaces.column_names)}) instead of replacing it",
                    s.columns,
                    True,
                )
            )
        if s.eq_count >= 2:
            head, tail = list(s.columns[: s.eq_count]), list(s.columns[s.eq_count :])
            for first in head[1:]:
                columns = tuple([first] + [c for c in head if c != first] + tail)
                out.append((f"reordered to ({', '.join(columns)})", columns, s.replaces is None))
        out.append(("dropped from the set", None, False))
        return out

    def protect(self, ca: ClassAdvice, why: str) -> Any:
        before = self.before[id(ca)]
        worse_after = self.after[id(ca)]
        for s in self.culprits(ca):
            label = f"{s.name} ({', '.join(s.columns)})"
            for action, columns, keep in self.alternatives(s, ca):
                original = (s.columns, s.name, s.replaces)
                self.lab.unbuild(s)
                if columns is not None:
                    s.columns, s.name = columns, index_name(s.table, columns) if columns != original[0] else s.name
                    if keep:
                        s.replaces = None
                    self.lab.build(s)
                self.lab.refresh([s.table])
                observed = self.observe(self.readers(s.table))
                trial = {**self.after, **observed}
                others_worse = [
                    c
                    for c in self.readers(s.table)
                    if c is not ca
                    and id(c) not in self.tolerated
                    and self.worse(c, trial) is not None
                    and self.worse(c) is None
                ]
                still_used = columns is None or any(
                    (
                        trial.get(id(c)) is not None
                        and (trial[id(c)].keys.get(s.table.name.lower()) or "").lower() == self.lab.key_name(s).lower()
                    )
                    for c in self.classes
                    if c.wc.class_id in s.class_ids
                )
                if self.worse(ca, trial) is None and not others_worse and still_used:
                    self.after = trial
                    if columns is None:
                        self.built.remove(s)
                        s.verified = False
                        s.verification_note = f"left out: with it, class {ca.wc.class_id[:12]} {why}"
                    now = trial.get(id(ca))
                    return Protection(
                        ca.wc.class_id,
                        ca.wc.fingerprint or ca.wc.sample or "",
                        label,
                        why,
                        action,
                        True,
                        before.cost,
                        worse_after.cost,
                        now.cost if now else None,
                        self.lab.measures,
                        before.describe(),
                        worse_after.describe(),
                        f"{now.amount()} ({now.describe()})" if now else "",
                    )
                # undo the trial
                if columns is not None:
                    self.lab.unbuild(s)
                s.columns, s.name, s.replaces = original
                self.lab.build(s)
                self.lab.refresh([s.table])
            self.after.update(self.observe(self.readers(s.table)))
        self.tolerated.add(id(ca))
        return Protection(
            ca.wc.class_id,
            ca.wc.fingerprint or ca.wc.sample or "",
            "",
            why,
            "no change of the suggested set prevented it: compare the plans before applying",
            False,
            before.cost,
            worse_after.cost,
            worse_after.cost,
            self.lab.measures,
            before.describe(),
            worse_after.describe(),
            worse_after.describe(),
        )

    def judge(self, suggestions: Sequence[IndexSuggestion]) -> None:
        by_id = {ca.wc.class_id: ca for ca in self.classes}
        for s in suggestions:
            chosen = 0
            table = s.table.name.lower()
            name = self.lab.key_name(s).lower()
            for c in s.classes:
                ca = by_id.get(c.class_id)
                b = self.before.get(id(ca)) if ca is not None else None
                a = self.after.get(id(ca)) if ca is not None else None
                if b is not None and table in b.keys:
                    c.chosen_key_before, c.verified_rows_before, c.sort_before = b.keys[table], b.rows, b.sort
                    c.actual_rows_before = b.actual
                if a is not None and table in a.keys:
                    c.chosen_key_after, c.verified_rows_after, c.sort_after = a.keys[table], a.rows, a.sort
                    c.actual_rows_after = a.actual
                    if a.keys[table] and a.keys[table].lower() == name:
                        chosen += 1
                        c.chosen_key_after = s.name  # the name the DDL gives it
            if chosen:
                s.verified = True
                s.verification_note = f"the optimizer chose it for {chosen} of {len(s.classes)} classes"
            elif s.verified is not False or not s.verification_note.startswith("left out"):
                s.verified = False
                s.verification_note = "the optimizer did not choose it for any of its classes"


def verify_in_scratch(
    advice: Advice,
    catalog: Catalog,
    *,
    source: Any,
    target: Any,
    scratch_schema: str,
    sample_rows: int | None = DEFAULT_SAMPLE_ROWS,
    measure: bool | None = None,
) -> Verification:
    """Build the suggestions in copies of the tables in ``scratch_schema`` on ``target`` (a
    writable ``analyzer.sources.db.Server``), explain every explained class before and after (and, on
    MariaDB or with ``measure``, run it there with ANALYZE), protect the classes the set makes
    worse, and clean up.  ``source`` is the read-only session on the application's server."""
    suggestions = list(advice.indexes.suggestions)
    verification = Verification("scratch", f"{scratch_schema} on {target.description}")
    if not suggestions:
        return verification
    tables: dict[str, Table] = {s.table.full_name: s.table for s in suggestions}
    for ca in _explained_classes(advice):
        tables.update(_tables_read(ca, catalog))
    app_schemas = {t.schema.lower() for t in tables.values()} | {
        (c.wc.database or "").lower() for c in advice.classes if c.wc.database
    }
    same_server = source is target or getattr(source, "description", None) == getattr(target, "description", "")
    if scratch_schema.lower() in app_schemas and same_server:
        raise VerifyError(
            f"the scratch schema {scratch_schema} is one the workload uses: name another one "
            "(mqa builds copies there and drops them afterwards)"
        )
    names = [t.name.lower() for t in tables.values()]
    if len(set(names)) != len(names):
        raise VerifyError("tables with the same name in two schemas cannot share one scratch schema")
    existing = target.query(
        "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (scratch_schema,)
    )
    clash = sorted({r["t"].lower() for r in existing} & set(names))
    if clash:
        raise VerifyError(
            f"{scratch_schema} already has tables named {', '.join(clash)}: use an empty or new "
            "scratch schema so mqa never drops something it did not create"
        )
    schema_exists = bool(
        target.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (scratch_schema,))
    )
    if measure is None:
        measure = bool(getattr(target.capabilities, "is_mariadb", False))
    mapping = {s: scratch_schema for s in app_schemas if s}
    lab = _ScratchLab(target, verification, scratch_schema, mapping, measure)
    created: list[str] = []
    qs = quote_identifier(scratch_schema)
    try:
        # the copies keep their foreign keys (CREATE TABLE ... LIKE); their parents may be copied
        # later or not at all, so the scratch session does not check them
        target.query("SET SESSION foreign_key_checks = 0")
        if not schema_exists:
            lab.write(f"CREATE DATABASE {qs}", "create the scratch schema")
        for table in tables.values():
            copy = lab.copy_of(table)
            if same_server:
                lab.write(f"CREATE TABLE {copy} LIKE {table.quoted_name}", "build the scratch copy")
                created.append(copy)
                limit = f" LIMIT {int(sample_rows)}" if sample_rows else ""
                lab.write(f"INSERT INTO {copy} SELECT * FROM {table.quoted_name}{limit}", "build the scratch copy")
            else:
                ddl = source.query_one(f"SHOW CREATE TABLE {table.quoted_name}")
                create = list(ddl.values())[1]
                lab.write(
                    f"CREATE TABLE {copy}" + create[create.index("(") :] if "(" in create else create,
                    "build the scratch copy",
                )
                created.append(copy)
                _stream_rows(source, target, table, copy, sample_rows, verification)
            if sample_rows and table.rows and table.rows > sample_rows:
                verification.sampled = True
        lab.refresh(tables.values())
        _SetVerifier(advice, catalog, lab).run(suggestions)
    finally:
        if created and not isinstance(sys.exc_info()[1], (AnalyzerError, type(None))):
            lab.reopen()  # interrupted (Ctrl-C, SIGTERM) in the middle of a statement
        for copy in reversed(created):
            try:
                lab.write(f"DROP TABLE IF EXISTS {copy}", "drop the scratch copy")
            except Exception as exc:
                verification.notes.append(f"could not drop {copy}: {exc}")
        if not schema_exists:
            try:
                lab.write(f"DROP DATABASE IF EXISTS {qs}", "drop the scratch schema")
            except Exception as exc:
                verification.notes.append(f"could not drop {scratch_schema}: {exc}")
    if verification.sampled:
        verification.notes.append(
            f"tables larger than {sample_rows} rows were copied in part: the optimizer's "
            "choices on the copy may differ from the real table"
        )
    return verification


def _stream_rows(
    source: Any,
    target: Any,
    table: Table,
    copy: str,
    sample_rows: int | None,
    verification: Verification,
    batch: int = 1000,
) -> None:
    """Copy rows between servers in batches (the scratch server is another server)."""
    limit = f" LIMIT {int(sample_rows)}" if sample_rows else ""
    columns = [c.name for c in table.columns]
    cols = ", ".join(quote_identifier(c) for c in columns)
    rows = source.query(f"SELECT {cols} FROM {table.quoted_name}{limit}")
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {copy} ({cols}) VALUES ({marks})"
    verification.writes.append(sql + f"  -- {len(rows)} rows in batches of {batch}")
    with target.conn.cursor() as cur:
        for i in range(0, len(rows), batch):
            cur.executemany(sql, [tuple(r[c] for c in columns) for r in rows[i : i + batch]])


def invisible_index_statements(suggestion: IndexSuggestion, name: str) -> tuple[str, str]:
    """(add, drop) statements of the MySQL 8 invisible-index verification of one suggestion.

    >>> from analyzer.sources.schema import Table
    >>> s = IndexSuggestion(Table("shop", "orders", "InnoDB"), ("customer_id", "created_at"), "idx")
    >>> invisible_index_statements(s, "mqa_verify_1")[0]
    'ALTER TABLE `shop`.`orders` ADD INDEX `mqa_verify_1` (`customer_id`, `created_at`) INVISIBLE, ALGORITHM=INPLACE, LOCK=NONE'
    """
    cols = ", ".join(quote_identifier(c) for c in suggestion.columns)
    table = suggestion.table.quoted_name
    return (
        f"ALTER TABLE {table} ADD INDEX {quote_identifier(name)} ({cols}) INVISIBLE, ALGORITHM=INPLACE, LOCK=NONE",
        f"ALTER TABLE {table} DROP INDEX {quote_identifier(name)}, ALGORITHM=INPLACE, LOCK=NONE",
    )


def verify_with_invisible_indexes(advice: Advice, catalog: Catalog, *, target: Any) -> Verification:
    """MySQL 8: the suggested set as INVISIBLE indexes, used only by mqa's session, then dropped.
    An index a suggestion replaces stays during the check (dropping it would change every
    session's plans), so the check is the set added to today's indexes."""
    if not getattr(target.capabilities, "invisible_indexes", False):
        raise UsageError(
            "this server has no invisible indexes a session can use (MariaDB's IGNORED indexes "
            "cannot be used by anyone): verify in a scratch copy with --scratch-schema NAME"
        )
    verification = Verification("invisible", f"invisible indexes on {target.description}")
    suggestions = list(advice.indexes.suggestions)
    if not suggestions:
        return verification
    lab = _InvisibleLab(target, verification)
    verifier = _SetVerifier(advice, catalog, lab)
    switch = "SET SESSION optimizer_switch = 'use_invisible_indexes={}'"
    verifier.before = verifier.observe(verifier.classes)
    try:
        target.query(switch.format("on"))
        verification.writes.append(switch.format("on"))
        run_before = verifier.before
        verifier.observe = _keep_before(verifier.observe, run_before)  # type: ignore[method-assign]
        verifier.run(suggestions)
    finally:
        for s in list(verifier.built):
            try:
                lab.unbuild(s)
            except AnalyzerError as exc:
                verification.notes.append(f"could not drop an invisible index: {exc}")
        target.query(switch.format("off"))
        verification.writes.append(switch.format("off"))
    if any(s.replaces is not None for s in suggestions):
        verification.notes.append(
            "indexes a suggestion replaces stayed in place during the check (dropping them "
            "would change every session's plans)"
        )
    return verification


def _keep_before(observe: Any, before: dict[int, _Observed]) -> Any:
    """The first observation of ``_SetVerifier.run`` (its "before") is the one made without the
    invisible switch: hand that back instead of explaining again with the switch on."""
    state = {"first": True}

    def wrapped(classes: Iterable[ClassAdvice]) -> dict[int, _Observed]:
        if state["first"]:
            state["first"] = False
            return before
        return observe(classes)

    return wrapped
