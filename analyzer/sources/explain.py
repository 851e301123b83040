"""EXPLAIN runner and one plan model for MySQL 8 and MariaDB.

``explainable(sql)`` decides whether a statement may be explained at all: it must be a real
sample (no ``?`` placeholders, no ``...`` cut by performance_schema) that sqlglot parses into one
SELECT, INSERT, UPDATE, DELETE or REPLACE.  ``explain(server, sql)`` sends ``EXPLAIN
FORMAT=JSON`` with the original text (never sqlglot's regenerated SQL, which can misread MySQL),
and ``parse_plan(document)`` turns either server's JSON into a ``Plan``: a tree of ``PlanNode``
(what the tree view shows) and the flat list of ``PlanTable`` in join order (what checks and the
index advisor read).

MariaDB refuses ``EXPLAIN UPDATE/DELETE/INSERT`` inside a read-only transaction, and every mqa
session is read-only.  Such statements are then explained as the SELECT that reads the same rows
(``UPDATE t SET .. WHERE w ORDER BY o LIMIT n`` -> ``SELECT * FROM t WHERE w ORDER BY o LIMIT
n``), as Percona Toolkit does for servers that cannot explain writes; the plan says so.

>>> explainable("SELECT * FROM t WHERE id = ?").ok
False
>>> explainable("UPDATE t SET a = 1 WHERE b = 2").kind
'UPDATE'
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from analyzer.errors import AnalyzerError
from analyzer.fingerprint.digest_text import has_placeholder

logging.getLogger("sqlglot").setLevel(logging.ERROR)

EXPLAINABLE_KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE")
READ_ONLY_TRANSACTION_ERROR = 1792


class ExplainError(AnalyzerError):
    """A statement could not be explained (not explainable, or the server refused it)."""


# --------------------------------------------------------------------------------------------
# Which statements may be explained
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explainability:
    """Whether ``sql`` may be explained: ``kind`` is SELECT/INSERT/... when it parsed into one
    statement, ``reason`` says why not otherwise (shown to the user as is)."""

    ok: bool
    kind: str | None = None
    reason: str = ""
    expression: exp.Expression | None = field(default=None, compare=False, repr=False)
    locking: bool = False  # SELECT ... FOR UPDATE / LOCK IN SHARE MODE / FOR SHARE


_LOCKING_READ = re.compile(r"\bFOR\s+(UPDATE|SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b", re.IGNORECASE)
_LEADING_REPLACE = re.compile(r"^(\s*(?:/\*.*?\*/\s*)*)REPLACE\b", re.IGNORECASE | re.DOTALL)


def is_replace(sql: str) -> bool:
    """Whether the statement is a REPLACE (after any leading comments)."""
    return _LEADING_REPLACE.match(sql) is not None


def parse_statements(sql: str) -> list[exp.Expression]:
    """The statements of ``sql`` as sqlglot (MySQL dialect) parses them; sqlglot has no REPLACE, so
    one is read as the INSERT it is shaped like (same table, columns and SELECT).  Raises sqlglot's
    ``ParseError``/``TokenError``.

    >>> [type(s).__name__ for s in parse_statements("/* job */ REPLACE INTO t (a) SELECT b FROM u;")]
    ['Insert']
    """
    text = sql.strip().rstrip(";")
    replace = _LEADING_REPLACE.match(text)
    if replace:
        text = text[: replace.start()] + replace.group(1) + "INSERT" + text[replace.end() :]
    return [s for s in sqlglot.parse(text, read="mysql") if s is not None]


def _has_placeholder(sql: str) -> bool:
    """True when the text has a ``?`` placeholder (outside strings, quoted names and comments) or
    performance_schema's ``...`` (a cut text or a collapsed list)."""
    if has_placeholder(sql):
        return True
    return bool(re.search(r"(?<![.\w`'\"])\.\.\.\s*$", sql.strip())) or re.search(r"\(\s*\.\.\.\s*\)", sql) is not None


# Functions with effects beyond the statement's result: the optimizer may evaluate a constant
# subquery or expression while it plans (so even EXPLAIN could run them), and ANALYZE runs them.
_EFFECT_FUNCTIONS = frozenset(
    {
        "SLEEP",
        "BENCHMARK",
        "GET_LOCK",
        "RELEASE_LOCK",
        "RELEASE_ALL_LOCKS",
        "LOAD_FILE",
        "MASTER_POS_WAIT",
        "SOURCE_POS_WAIT",
        "MASTER_GTID_WAIT",
        "WAIT_FOR_EXECUTED_GTID_SET",
        "WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS",
        "NEXTVAL",
        "SETVAL",
        "LAST_INSERT_ID",
        "SYS_EXEC",
        "SYS_EVAL",
    }
)


def _effect_function(sql: str) -> str | None:
    """The first call of a function with side effects (``SLEEP(``, ``GET_LOCK(``), or ``NEXT VALUE FOR``."""
    try:
        tokens = sqlglot.tokenize(sql, read="mysql")
    except (TokenError, ParseError):
        return None
    for i, token in enumerate(tokens[:-1]):
        word = token.text.upper()
        if (
            word in _EFFECT_FUNCTIONS
            and tokens[i + 1].token_type == TokenType.L_PAREN
            and token.token_type not in (TokenType.STRING, TokenType.IDENTIFIER)
        ):
            reads_only = (
                word == "LAST_INSERT_ID" and i + 2 < len(tokens) and tokens[i + 2].token_type == TokenType.R_PAREN
            )
            if not reads_only:  # LAST_INSERT_ID() reads; LAST_INSERT_ID(expr) sets it
                return word
        if word == "NEXT" and tokens[i + 1].text.upper() == "VALUE":
            return "NEXT VALUE FOR"
    return None


def explainable(sql: str) -> Explainability:
    """Whether ``sql`` is one real statement mqa may EXPLAIN, and which kind it is.

    >>> explainable("SELECT 1; SELECT 2").reason
    'two or more statements: explain one at a time'
    >>> explainable("DROP TABLE t").reason
    'DROP statements are not explained: only SELECT, INSERT, UPDATE, DELETE and REPLACE'
    """
    text = sql.strip()
    if not text:
        return Explainability(False, reason="empty statement")
    if _has_placeholder(text):
        return Explainability(
            False,
            reason="no sample is available: the text has ? placeholders "
            "(a normalized digest), and EXPLAIN needs a real statement",
        )
    try:
        statements = parse_statements(text)
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Explainability(False, reason=f"the statement does not parse: {first[:160]}")
    if len(statements) != 1:
        return Explainability(
            False, reason="two or more statements: explain one at a time" if statements else "no statement"
        )
    effect = _effect_function(text)
    if effect is not None:
        return Explainability(
            False,
            reason=f"the statement calls {effect}(), which has effects beyond its result "
            "(the optimizer may evaluate it while planning): not explained",
        )
    node = statements[0]
    if isinstance(node, exp.Command):
        word = (node.this or "").split()[0].upper() if node.this else "this"
        return Explainability(
            False, reason=f"{word} statements are not explained: only SELECT, INSERT, UPDATE, DELETE and REPLACE"
        )
    if isinstance(node, (exp.Select, exp.SetOperation, exp.Subquery)):
        if node.args.get("into") is not None or re.search(r"\bINTO\s+(OUTFILE|DUMPFILE|@)", text, re.IGNORECASE):
            return Explainability(False, reason="SELECT ... INTO is not explained (it writes a file or variables)")
        return Explainability(True, "SELECT", expression=node, locking=bool(_LOCKING_READ.search(text)))
    kinds = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE"}
    for cls, kind in kinds.items():
        if isinstance(node, cls):
            if kind == "INSERT" and is_replace(text):
                kind = "REPLACE"
            return Explainability(True, kind, expression=node)
    word = _first_word(text)
    if not isinstance(node, _STATEMENT_NODES) and word not in _OTHER_STATEMENT_WORDS:
        # sqlglot reads an unknown first word as an expression: "SELEC broken" is a column alias
        return Explainability(
            False,
            reason=f"the statement does not parse: {word or text[:20]!r} does not start a SQL statement (a typo?)",
        )
    return Explainability(
        False,
        reason=f"{word or node.key.upper()} statements are not explained: only SELECT, "
        "INSERT, UPDATE, DELETE and REPLACE",
    )


# sqlglot nodes that are statements; anything else at the top (an Alias, a Column) means the
# first word was not a statement keyword
_STATEMENT_NODES = (
    exp.DDL,
    exp.Command,
    exp.Set,
    exp.Show,
    exp.Use,
    exp.Describe,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Alter,
    exp.Drop,
    exp.Merge,
    exp.Grant,
)
# MySQL/MariaDB statements sqlglot misreads as an expression (FLUSH TABLES parses as an alias)
_OTHER_STATEMENT_WORDS = frozenset(
    "ANALYZE BACKUP BEGIN BINLOG CACHE CALL CHANGE CHECK CHECKSUM CLONE DEALLOCATE DO EXECUTE FLUSH GET HANDLER "
    "HELP IMPORT INSTALL KILL LOAD LOCK OPTIMIZE PREPARE PURGE RELEASE RENAME REPAIR RESET RESIGNAL RESTART "
    "REVOKE SAVEPOINT SHUTDOWN SIGNAL START STOP TABLE TRUNCATE UNINSTALL UNLOCK VALUES XA".split()
)


def _first_word(sql: str) -> str:
    """The first word of the statement after comments, upper-case."""
    match = re.match(r"\s*(?:/\*.*?\*/\s*|--[^\n]*\n\s*|#[^\n]*\n\s*)*([A-Za-z_]+)", sql, re.DOTALL)
    return match.group(1).upper() if match else ""


def select_equivalent(sql: str, check: Explainability | None = None) -> str | None:
    """The SELECT that reads the rows a write would touch, or None (INSERT ... VALUES reads nothing).

    >>> select_equivalent("UPDATE t SET a = 1 WHERE b = 2 ORDER BY c LIMIT 5")
    'SELECT * FROM t WHERE b = 2 ORDER BY c LIMIT 5'
    >>> select_equivalent("DELETE FROM t WHERE id IN (1, 2)")
    'SELECT * FROM t WHERE id IN (1, 2)'
    >>> select_equivalent("INSERT INTO t (a) SELECT b FROM u WHERE c > 1")
    'SELECT b FROM u WHERE c > 1'
    """
    check = check or explainable(sql)
    node = check.expression
    if node is None or check.kind == "SELECT":
        return None
    if isinstance(node, exp.Insert):
        source = node.expression
        if isinstance(source, (exp.Select, exp.SetOperation)):
            return source.sql(dialect="mysql")
        return None
    if not isinstance(node, (exp.Update, exp.Delete)):
        return None
    # sqlglot keeps a multi-table UPDATE/DELETE's joins on the Table in "this"; DELETE ... USING
    # keeps them in "using".
    using = node.args.get("using")
    source = using[0] if isinstance(using, list) and using else node.this
    select = exp.Select(expressions=[exp.Star()])
    select.set("from_", exp.From(this=source.copy()))
    for arg in ("where", "order", "limit"):
        if node.args.get(arg) is not None:
            select.set(arg, node.args[arg].copy())
    return select.sql(dialect="mysql")


# --------------------------------------------------------------------------------------------
# The plan model
# --------------------------------------------------------------------------------------------


@dataclass
class PlanTable:
    """One table access of a plan, in join order.

    ``rows`` is the optimizer's estimate of rows read per scan (MySQL ``rows_examined_per_scan``,
    MariaDB ``rows``); ``loops`` how many scans the tables before it imply (the product of the
    earlier rows x filtered, which is what makes nested loops expensive).  ``r_*`` come from
    ANALYZE (actual numbers).  ``context`` says where in the statement the access happens:
    ``""`` for the main query, ``subquery``, ``dependent subquery`` (re-run per outer row),
    ``derived`` or ``materialized`` (built into a temporary table once), ``union``.
    """

    table: str
    select_id: int | None = None
    access_type: str | None = None
    possible_keys: tuple[str, ...] = ()
    key: str | None = None
    key_length: str | None = None
    used_key_parts: tuple[str, ...] = ()
    ref: tuple[str, ...] = ()
    rows: float | None = None
    rows_produced: float | None = None
    filtered: float | None = None
    cost: float | None = None
    attached_condition: str | None = None
    index_condition: str | None = None
    using_index: bool = False
    using_join_buffer: str | None = None
    using_filesort: bool = False
    using_temporary: bool = False
    context: str = ""
    dependent: bool = False
    operation: str | None = None  # update / delete / insert / replace when the access is the write's
    materialized_from: int | None = None  # select id of the derived table / subquery it was built from
    message: str | None = None
    r_rows: float | None = None
    r_loops: float | None = None
    r_filtered: float | None = None
    r_time_ms: float | None = None

    @property
    def full_scan(self) -> bool:
        """Every row of the table is read (``ALL``) or every entry of an index (``index``)."""
        return self.access_type in ("ALL", "index")

    @property
    def internal(self) -> bool:
        """A derived/materialized/union temporary table (``<derived2>``, ``<subquery3>``, or MySQL 8's
        alias of a derived table), not a base table."""
        return self.table.startswith("<") or self.materialized_from is not None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items()}
        for key in ("possible_keys", "used_key_parts", "ref"):
            out[key] = list(out[key])
        return out


@dataclass
class PlanNode:
    """A node of the plan tree: an operation (``sort``, ``temporary table``, ``union``, ...), a
    query block or subquery, or a table access (``table`` set)."""

    label: str
    kind: str = "operation"  # block | operation | table | message
    table: PlanTable | None = None
    children: list[PlanNode] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def walk(self) -> Iterator[PlanNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "kind": self.kind}
        if self.details:
            out["details"] = self.details
        if self.table is not None:
            out["table"] = self.table.to_dict()
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


@dataclass
class Plan:
    """A parsed EXPLAIN: the tree, the table accesses in join order, and the facts checks ask about."""

    flavor: str  # mysql | mariadb
    root: PlanNode
    tables: list[PlanTable]
    query_cost: float | None = None
    document: dict[str, Any] = field(default_factory=dict, repr=False)
    analyzed: bool = False
    statement: str = ""  # the text that was explained
    explained_as_select: bool = False  # a write explained through its SELECT equivalent
    message: str | None = None  # "Impossible WHERE", "No tables used", ...
    r_total_time_ms: float | None = None

    @property
    def using_filesort(self) -> bool:
        return any(t.using_filesort for t in self.tables) or any(
            n.details.get("using_filesort") for n in self.root.walk()
        )

    @property
    def using_temporary(self) -> bool:
        return any(t.using_temporary for t in self.tables) or any(
            n.details.get("using_temporary") for n in self.root.walk()
        )

    def table_named(self, name: str) -> list[PlanTable]:
        """Accesses of the table or alias ``name`` (case-insensitive)."""
        lname = name.lower()
        return [t for t in self.tables if t.table.lower() == lname]

    @property
    def rows_examined_estimate(self) -> float:
        """Estimated rows read by the whole statement: in each select, every access's rows times the
        number of times the accesses before it make it run (nested loops); a dependent subquery's
        select once per row the main select produces (an upper bound: MariaDB caches results)."""
        return sum(self.access_rows().values())

    def access_rows(self) -> dict[int, float]:
        """Estimated rows each access (by ``id()``) reads in one execution of the statement: its
        rows per scan times its loops, times the main select's rows for a dependent subquery."""
        loops = self.loops()
        outer = max(self.rows_produced_by(self.tables[0].select_id), 1.0) if self.tables else 1.0
        dependent = {t.select_id for t in self.tables if t.dependent}
        return {
            id(t): loops[id(t)] * (t.rows or 0.0) * (outer if t.select_id in dependent else 1.0) for t in self.tables
        }

    def actual_rows(self) -> float | None:
        """Rows the statement really read (ANALYZE: every access's ``r_rows`` x ``r_loops``), or None
        when the plan was not analyzed."""
        if not self.analyzed or not any(t.r_rows is not None for t in self.tables):
            return None
        return sum((t.r_rows or 0.0) * (t.r_loops if t.r_loops is not None else 1.0) for t in self.tables)

    def loops(self) -> dict[int, float]:
        """How many times each access (by ``id()``) runs within its select: the rows the accesses
        before it in the same select produce."""
        out: dict[int, float] = {}
        running: dict[int | None, float] = {}
        for t in self.tables:
            loops = running.get(t.select_id, 1.0)
            out[id(t)] = loops
            rows = t.rows or 0.0
            produced = (
                t.rows_produced
                if t.rows_produced is not None
                else loops * rows * (t.filtered if t.filtered is not None else 100.0) / 100.0
            )
            running[t.select_id] = max(produced, 1.0)
        return out

    def rows_produced_by(self, select_id: int | None) -> float:
        """Rows the join of one select produces (before GROUP BY/LIMIT)."""
        produced = 1.0
        for t in self.tables:
            if t.select_id == select_id:
                produced = (
                    t.rows_produced
                    if t.rows_produced is not None
                    else produced * (t.rows or 0.0) * (t.filtered if t.filtered is not None else 100.0) / 100.0
                )
        return produced

    def to_dict(self) -> dict[str, Any]:
        return {
            "flavor": self.flavor,
            "query_cost": self.query_cost,
            "analyzed": self.analyzed,
            "statement": self.statement,
            "explained_as_select": self.explained_as_select,
            "message": self.message,
            "using_filesort": self.using_filesort,
            "using_temporary": self.using_temporary,
            "rows_examined_estimate": self.rows_examined_estimate,
            "tables": [t.to_dict() for t in self.tables],
            "tree": self.root.to_dict(),
        }


# --------------------------------------------------------------------------------------------
# Parsing EXPLAIN FORMAT=JSON (MySQL 5.7/8.x and MariaDB 10.x/11.x)
# --------------------------------------------------------------------------------------------

_END_MARKER = re.compile(r"/\*.*?\*/", re.DOTALL)

# Lists of subqueries, with the context their blocks run in.
_SUBQUERY_LISTS = {
    "attached_subqueries": "subquery",
    "optimized_away_subqueries": "subquery (optimized away)",
    "select_list_subqueries": "subquery",
    "having_subqueries": "subquery",
    "order_by_subqueries": "subquery",
    "group_by_subqueries": "subquery",
    "update_value_subqueries": "subquery",
    "insert_values_subqueries": "subquery",
    "insert_update_subqueries": "subquery",
    "subqueries": "subquery",
}


def load_document(text: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """The JSON document of an EXPLAIN, from its text (with MySQL's ``/* x */`` end markers, which
    ``end_markers_in_json=ON`` adds, removed) or as already decoded."""
    if isinstance(text, dict):
        return text
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        try:
            return json.loads(_strip_end_markers(text))
        except json.JSONDecodeError as exc:
            raise ExplainError(f"the EXPLAIN output is not JSON: {exc}") from exc


def _strip_end_markers(text: str) -> str:
    """Remove ``/* ... */`` outside JSON strings."""
    out, i, n, in_string = [], 0, len(text), False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


class _PlanBuilder:
    def __init__(self) -> None:
        self.tables: list[PlanTable] = []
        self.flavor = "mysql"

    # One query_block -> a block node.
    def block(self, block: dict[str, Any], context: str, dependent: bool, label: str | None = None) -> PlanNode:
        select_id = block.get("select_id")
        cost = _num((block.get("cost_info") or {}).get("query_cost"))
        title = label or (f"select #{select_id}" if select_id is not None else "query")
        if context:
            title = f"{context} {title}".strip()
        node = PlanNode(title, "block", details={"select_id": select_id})
        if cost is not None:
            node.details["cost"] = cost
        if block.get("message"):
            node.children.append(PlanNode(str(block["message"]), "message"))
        if "r_total_time_ms" in block:
            node.details["r_total_time_ms"] = _num(block["r_total_time_ms"])
        for key in ("having_condition", "outer_ref_condition", "const_condition"):
            if block.get(key):
                node.details[key] = block[key]
        self.content(block, node, select_id, context, dependent)
        return node

    def content(
        self,
        obj: dict[str, Any],
        parent: PlanNode,
        select_id: Any,
        context: str,
        dependent: bool,
        sort: bool = False,
        temporary: bool = False,
    ) -> None:
        """Walk the keys of a block or an operation, adding children to ``parent``."""
        for key, value in obj.items():
            if key == "table":
                if isinstance(value, dict):
                    parent.children.append(self.table(value, select_id, context, dependent, sort, temporary))
            elif key == "nested_loop":
                for item in value or ():
                    if isinstance(item, dict):
                        self.content(item, parent, select_id, context, dependent, sort, temporary)
                        sort = temporary = False  # only the first table of a join is sorted/buffered
            elif key in (
                "ordering_operation",
                "grouping_operation",
                "duplicates_removal",
                "windowing",
                "buffer_result",
                "filesort",
                "temporary_table",
                "read_sorted_file",
                "duplicate_removal",
            ):
                self.operation(key, value, parent, select_id, context, dependent)
            elif key in ("union_result", "unary_result", "intersect_result", "except_result"):
                self.union(value, parent, context, dependent, key.split("_")[0])
            elif key in _SUBQUERY_LISTS:
                for item in value or ():
                    self.subquery(item, parent, _SUBQUERY_LISTS[key])
            elif key == "query_block" and isinstance(value, dict):
                parent.children.append(self.block(value, context, dependent))
            elif key == "block-nl-join" and isinstance(value, dict):
                self.flavor = "mariadb"
                inner = dict(value)
                table = inner.pop("table", None)
                if isinstance(table, dict):
                    node = self.table(table, select_id, context, dependent)
                    if node.table is not None:
                        node.table.using_join_buffer = (
                            f"{inner.get('buffer_type', '')} {inner.get('join_type', '')}".strip() or "join buffer"
                        )
                        if inner.get("attached_condition"):
                            node.table.attached_condition = inner["attached_condition"]
                    parent.children.append(node)
            elif (key == "insert_from" and isinstance(value, dict)) or (
                key in ("range-checked-for-each-record",) and isinstance(value, dict)
            ):  # MySQL: INSERT/REPLACE ... SELECT
                self.content(value, parent, select_id, context, dependent)

    def operation(self, key: str, value: Any, parent: PlanNode, select_id: Any, context: str, dependent: bool) -> None:
        if not isinstance(value, dict):
            return
        if key in ("filesort", "temporary_table", "read_sorted_file"):
            self.flavor = "mariadb"
        using_filesort = bool(value.get("using_filesort")) or key == "filesort"
        using_temporary = bool(value.get("using_temporary_table")) or key == "temporary_table"
        if key == "windowing":
            for window in value.get("windows") or ():
                using_filesort = using_filesort or bool(window.get("using_filesort"))
                using_temporary = using_temporary or bool(window.get("using_temporary_table"))
        labels = {
            "ordering_operation": "order",
            "grouping_operation": "group",
            "duplicates_removal": "distinct",
            "duplicate_removal": "distinct",
            "windowing": "window",
            "buffer_result": "buffer result",
            "filesort": "sort",
            "temporary_table": "temporary table",
            "read_sorted_file": "read sorted",
        }
        label = labels[key]
        extras = []
        if using_filesort and key != "filesort":
            extras.append("filesort")
        if using_temporary and key != "temporary_table":
            extras.append("temporary table")
        if extras:
            label += " (" + ", ".join(extras) + ")"
        if key == "filesort" and value.get("sort_key"):
            label += f" by {value['sort_key']}"
        node = PlanNode(
            label, "operation", details={"using_filesort": using_filesort, "using_temporary": using_temporary}
        )
        for detail in ("sort_key", "r_loops", "r_total_time_ms", "r_used_priority_queue", "r_output_rows"):
            if detail in value:
                node.details[detail] = value[detail]
        parent.children.append(node)
        # A sort or temporary table applies to the tables under it: mark the first one.
        before = len(self.tables)
        self.content(value, node, select_id, context, dependent)
        if len(self.tables) > before:
            first = self.tables[before]
            first.using_filesort = first.using_filesort or using_filesort
            first.using_temporary = first.using_temporary or using_temporary

    def union(self, value: Any, parent: PlanNode, context: str, dependent: bool, kind: str = "union") -> None:
        if not isinstance(value, dict):
            return
        # MySQL says whether the union result is a temporary table; MariaDB never does, and its
        # <unionN,M> result always is one.
        using_temporary = (
            bool(value.get("using_temporary_table"))
            if "using_temporary_table" in value
            else str(value.get("table_name", "")).startswith("<union")
        )
        using_filesort = bool(value.get("using_filesort"))
        node = PlanNode(
            f"{kind} {value.get('table_name', '')}".strip(),
            "operation",
            details={"using_temporary": using_temporary, "using_filesort": using_filesort},
        )
        parent.children.append(node)
        if value.get("table_name"):
            sid = value.get("select_id")
            self.tables.append(
                PlanTable(
                    table=str(value["table_name"]),
                    select_id=int(sid) if isinstance(sid, (int, float)) else None,
                    access_type=value.get("access_type"),
                    rows=_num(value.get("rows_examined_per_scan", value.get("rows"))),
                    using_filesort=using_filesort,
                    using_temporary=using_temporary,
                    context=f"{kind} result",
                    dependent=dependent,
                )
            )
        for spec in value.get("query_specifications") or ():
            if not isinstance(spec, dict):
                continue
            block = spec.get("query_block")
            dep = dependent or bool(spec.get("dependent"))
            if isinstance(block, dict):
                node.children.append(self.block(block, context or "", dep))
            else:  # a nested union / intersect / except
                self.content(spec, node, None, context, dep)
        if isinstance(value.get("query_block"), dict):  # UNION result with ORDER BY (MySQL)
            node.children.append(self.block(value["query_block"], context, dependent))

    def subquery(self, item: Any, parent: PlanNode, context: str) -> None:
        if not isinstance(item, dict):
            return
        dependent = bool(item.get("dependent"))
        block = item.get("query_block")
        if "expression_cache" in item:  # MariaDB caches correlated subqueries' results per outer value
            self.flavor = "mariadb"
            block = item["expression_cache"].get("query_block")
            dependent = True
        for key in ("materialized", "materialization"):  # MariaDB: a non-correlated IN subquery built once
            if isinstance(item.get(key), dict):
                self.flavor = "mariadb"
                block = item[key].get("query_block")
                context = "materialized"
        if isinstance(block, dict):
            label_context = "dependent subquery" if dependent and context == "subquery" else context
            parent.children.append(self.block(block, label_context, dependent))

    def table(
        self,
        t: dict[str, Any],
        select_id: Any,
        context: str,
        dependent: bool,
        sort: bool = False,
        temporary: bool = False,
    ) -> PlanNode:
        name = str(t.get("table_name") or t.get("alias") or "")
        cost_info = t.get("cost_info") or {}
        if "rows_examined_per_scan" not in t and "rows" in t:
            self.flavor = "mariadb"
        operation = next((op for op in ("update", "delete", "insert", "replace") if t.get(op)), None)
        table = PlanTable(
            table=name,
            select_id=int(select_id) if isinstance(select_id, (int, float)) else None,
            access_type=t.get("access_type"),
            possible_keys=_strs(t.get("possible_keys")),
            key=t.get("key"),
            key_length=None if t.get("key_length") in (None, "") else str(t.get("key_length")),
            used_key_parts=_strs(t.get("used_key_parts")),
            ref=_strs(t.get("ref")),
            rows=_num(t.get("rows_examined_per_scan", t.get("rows"))),
            rows_produced=_num(t.get("rows_produced_per_join")),
            filtered=_num(t.get("filtered")),
            cost=_num(cost_info.get("prefix_cost")),
            attached_condition=t.get("attached_condition"),
            index_condition=t.get("index_condition"),
            using_index=bool(t.get("using_index")),
            using_join_buffer=t.get("using_join_buffer"),
            using_filesort=sort,
            using_temporary=temporary,
            context=context,
            dependent=dependent,
            operation=operation,
            message=t.get("message"),
            r_rows=_num(t.get("r_rows")),
            r_loops=_num(t.get("r_loops")),
            r_filtered=_num(t.get("r_filtered")),
            r_time_ms=_num(t.get("r_table_time_ms", t.get("r_total_time_ms"))),
        )
        if not name and table.message:
            node = PlanNode(table.message, "message")
            return node
        self.tables.append(table)
        node = PlanNode(name, "table", table=table)
        derived = t.get("materialized_from_subquery") or t.get("materialized")
        if isinstance(derived, dict) and isinstance(derived.get("query_block"), dict):
            dep = bool(derived.get("dependent"))
            sid = _first_select_id(derived["query_block"])
            table.materialized_from = int(sid) if isinstance(sid, (int, float)) else None
            kind = "derived" if name.startswith("<derived") or "materialized_from_subquery" in t else "materialized"
            node.children.append(self.block(derived["query_block"], kind, dep))
        for key, ctx in _SUBQUERY_LISTS.items():
            for item in t.get(key) or ():
                self.subquery(item, node, ctx)
        return node


def _first_select_id(obj: Any) -> int | None:
    """The first select id inside a block (a union's block has none of its own)."""
    if isinstance(obj, dict):
        sid = obj.get("select_id")
        if isinstance(sid, (int, float)):
            return int(sid)
        for value in obj.values():
            found = _first_select_id(value)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for value in obj:
            found = _first_select_id(value)
            if found is not None:
                return found
    return None


def parse_plan(
    document: str | bytes | dict[str, Any], *, statement: str = "", flavor: str | None = None, analyzed: bool = False
) -> Plan:
    """A ``Plan`` from an EXPLAIN FORMAT=JSON (or MariaDB ANALYZE FORMAT=JSON) document.

    >>> plan = parse_plan('{"query_block": {"select_id": 1, "table": {"table_name": "t", '
    ...                   '"access_type": "ALL", "rows": 1000, "filtered": 100}}}')
    >>> (plan.tables[0].table, plan.tables[0].access_type, plan.tables[0].rows, plan.flavor)
    ('t', 'ALL', 1000.0, 'mariadb')
    """
    doc = load_document(document)
    builder = _PlanBuilder()
    block = doc.get("query_block")
    if not isinstance(block, dict):
        raise ExplainError("the EXPLAIN document has no query_block")
    root = builder.block(block, "", False)
    message = next((node.label for node in root.walk() if node.kind == "message"), None)
    if message is None:
        message = next((t.message for t in builder.tables if t.message), None)
    cost = _num((block.get("cost_info") or {}).get("query_cost"))
    detected = (
        "mysql" if (cost is not None or any(t.rows_produced is not None for t in builder.tables)) else builder.flavor
    )
    plan = Plan(
        flavor=flavor or detected,
        root=root,
        tables=builder.tables,
        query_cost=cost,
        document=doc,
        analyzed=analyzed or "r_loops" in block,
        statement=statement,
        message=message,
        r_total_time_ms=_num(block.get("r_total_time_ms")),
    )
    return plan


# --------------------------------------------------------------------------------------------
# Running EXPLAIN
# --------------------------------------------------------------------------------------------


def _error_code(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def explain(server: Any, sql: str, *, database: str | None = None, analyze: bool = False) -> Plan:
    """EXPLAIN FORMAT=JSON of one real statement on ``server`` (an ``analyzer.sources.db.Server``).

    ``analyze`` runs the statement (MariaDB ``ANALYZE FORMAT=JSON``, MySQL 8.0.18+ ``EXPLAIN
    ANALYZE``) and is allowed for plain SELECTs only, never for writes or locking reads.
    ``database`` is the default database the statement runs in (its ``use db``); it is selected
    with ``USE``, which changes nothing on the server.
    """
    import pymysql

    check = explainable(sql)
    if not check.ok:
        raise ExplainError(check.reason)
    if analyze and (check.kind != "SELECT" or check.locking):
        raise ExplainError(
            "--analyze runs the statement, so it is only allowed for a plain SELECT "
            f"(this is {'a locking read' if check.locking else check.kind})"
        )
    caps = server.capabilities
    if database:
        # COM_INIT_DB (what USE sends): selects the default database, changes nothing
        with server.translate_errors(f"use database {database}"):
            server.conn.select_db(database)
    text = sql.strip().rstrip(";")
    explained_as_select = False
    if analyze and not caps.is_mariadb:
        return _mysql_explain_analyze(server, text)
    prefix = "ANALYZE FORMAT=JSON " if analyze else "EXPLAIN FORMAT=JSON "
    try:
        rows = server.query(prefix + text)
    except pymysql.MySQLError as exc:
        # A write is explained through its SELECT when the read-only session refuses it, or when
        # the account may read but not write (EXPLAIN UPDATE needs UPDATE): SELECT is enough then.
        if _error_code(exc) not in (READ_ONLY_TRANSACTION_ERROR, 1142) or check.kind == "SELECT":
            from analyzer.sources.db import query_error

            raise ExplainError(f"EXPLAIN failed: {query_error(exc, server, purpose='explain the statement')}") from exc
        text = select_equivalent(sql, check) or ""
        if not text:
            return Plan(
                flavor="mariadb" if caps.is_mariadb else "mysql",
                root=PlanNode("no table is read (INSERT ... VALUES)", "message"),
                tables=[],
                statement=sql,
                message="no table is read",
                explained_as_select=True,
            )
        explained_as_select = True
        try:
            rows = server.query("EXPLAIN FORMAT=JSON " + text)
        except pymysql.MySQLError as exc2:
            from analyzer.sources.db import query_error

            raise ExplainError(
                f"EXPLAIN failed: {query_error(exc2, server, purpose='explain the statement')}"
            ) from exc2
    if not rows:
        raise ExplainError("EXPLAIN returned nothing")
    document = next(iter(rows[0].values()))
    plan = parse_plan(document, statement=text, flavor="mariadb" if caps.is_mariadb else "mysql", analyzed=analyze)
    plan.explained_as_select = explained_as_select
    return plan


def _mysql_explain_analyze(server: Any, text: str) -> Plan:
    """MySQL 8's EXPLAIN ANALYZE prints a TREE, not JSON: keep the JSON plan and attach the tree."""
    plan = parse_plan(
        next(iter(server.query("EXPLAIN FORMAT=JSON " + text)[0].values())), statement=text, flavor="mysql"
    )
    rows = server.query("EXPLAIN ANALYZE " + text)
    tree = next(iter(rows[0].values())) if rows else ""
    plan.analyzed = True
    plan.root.details["analyze_tree"] = tree
    return plan
