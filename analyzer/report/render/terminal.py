"""The rich terminal renderer of every report model (digest/collect, explain/advise, indexes, top).

Text that comes from a log or a server (queries, names, tags, plans) is always wrapped in
``rich.text.Text``, never formatted into markup, and made ``visible()`` first: ``[bold]``,
``[/]``, ``[link=...]`` and escape sequences inside a query are shown, not interpreted.
"""

from __future__ import annotations

import os
import re
from functools import singledispatch
from typing import Any, TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from analyzer.report import numbers as fmt
from analyzer.report.advice import AdviceClassView, AdviceReport
from analyzer.report.diff import METRIC_NAMES, DiffReport
from analyzer.report.digest import ClassReport, Report, SourceReport
from analyzer.report.health import HealthReport
from analyzer.report.history import PeriodsView, RunsView, TrendView
from analyzer.report.job import JobReport
from analyzer.report.options import RenderOptions
from analyzer.report.render.plan import node_text
from analyzer.report.text import visible
from analyzer.report.top import TopView
from analyzer.sources.explain import Plan, PlanNode
from analyzer.stats import HISTOGRAM_LABELS

EXAMPLE_MAX_CHARS = 4000
_BAR_WIDTH = 40
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def console_for(stream: TextIO) -> Console:
    """A rich console for a report: colour only on a terminal (and never with NO_COLOR).  Away
    from a terminal the lines are laid out for ``COLUMNS`` (120 when unset) but never padded:
    trailing spaces are dropped."""
    if stream.isatty():
        return _Console(file=stream, force_terminal=True, highlight=False, soft_wrap=False)
    width = int(os.environ.get("COLUMNS") or 120)
    return _Console(file=_Unpadded(stream), force_terminal=False, width=width, highlight=False, soft_wrap=False)


class _Console(Console):
    """A closed pipe (``mqa digest LOG | head``) is a ``BrokenPipeError`` for the caller to end the
    run quietly, not rich's own exit."""

    def on_broken_pipe(self) -> None:
        import errno

        raise BrokenPipeError(errno.EPIPE, "the reader closed the pipe")


class _Unpadded:
    """A text stream that drops the spaces rich pads each line with."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.pending = ""

    def write(self, text: str) -> int:
        lines = (self.pending + text).split("\n")
        self.pending = lines.pop()
        if lines:
            self.stream.write("\n".join(line.rstrip() for line in lines) + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.stream.write(self.pending.rstrip())
            self.pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.stream.fileno()


def render(model: Any, stream: TextIO, options: RenderOptions | None = None) -> None:
    """Print ``model`` on ``stream``."""
    render_on(console_for(stream), model, options)


def render_on(console: Console, model: Any, options: RenderOptions | None = None) -> None:
    """Print ``model`` on a rich ``console`` of the caller's."""
    _render(model, console, options or RenderOptions())


@singledispatch
def _render(model: Any, console: Console, options: RenderOptions) -> None:
    raise TypeError(f"no terminal rendering for {type(model).__name__}")


# --------------------------------------------------------------------------------------------
# digest / collect
# --------------------------------------------------------------------------------------------


def _digest(report: Report, console: Console, options: RenderOptions) -> None:
    """Header, profile of the ranked classes, details of the top ones."""
    console.print(_header(report))
    if not report.classes:
        console.print(Text("No query events found.", style="yellow"))
        return
    console.print(_profile(report))
    if report.group_by is not None:
        console.print()
        console.print(_groups(report))
    if report.routes:
        console.print()
        console.print(_routes(report))
    for cls in report.classes[: max(0, options.details)]:
        console.print(_details(cls))


def _header(report: Report) -> RenderableType:
    s = report.summary
    lines = Text()
    lines.append(report.title, style="bold")
    lines.append(f"  {s.events:,} events, {s.classes:,} classes")
    if s.start:
        lines.append(f", {visible(s.start)} to {visible(s.end or '')} ({fmt.span(s.span_seconds)})")
    lines.append("\n")
    if report.timed:
        lines.append(f"total query time {fmt.seconds(s.query_time_total)}")
    else:
        lines.append("no query times (a general log has none)", style="yellow")
    if s.qps is not None:
        lines.append(f", {s.qps:.3g} QPS")
    lines.append(f", {s.malformed:,} malformed events", style="yellow" if s.malformed else "")
    lines.append(f", fingerprint {report.fingerprint_mode}, ordered by {report.order_by}")
    if s.unparsed_classes:
        lines.append(f", {s.unparsed_classes} classes sqlglot could not parse")
    for src in report.sources:
        lines.append("\n")
        lines.append("source ", style="dim")
        lines.append(visible(src.name))
        lines.append(f": {src.events:,} events", style="dim")
        if src.kept != src.events:
            lines.append(f" ({src.kept:,} kept by the filters)", style="dim")
        if src.dialect:
            lines.append(f", {visible(src.dialect)}", style="dim")
        if src.kind == "generallog":
            lines.append(f", {_general_log_facts(src)}", style="dim")
        if src.malformed:
            lines.append(f", {src.malformed:,} malformed", style="yellow")
    for note in report.notes:
        lines.append("\nnote: ", style="yellow")
        lines.append(visible(note))
    malformed = [(src.name, line, reason) for src in report.sources for line, reason in src.malformed_samples]
    for name, line, reason in malformed[:10]:
        lines.append("\n  ")
        lines.append(f"{visible(name)}:{line}: {visible(reason)}", style="yellow")
    if s.malformed > 10:
        lines.append(f"\n  ... and {s.malformed - 10:,} more (all of them are listed in --format json)", style="yellow")
    return Padding(lines, (1, 0, 1, 0))


class RankedList:
    """Ranked rows of short cells (numbers) with each row's class text: on the row itself when the
    terminal leaves it room, else on its own indented line below the row (up to two lines, then
    cut with an ellipsis), so the text stays readable at 80 columns."""

    INDENT = 4
    MIN_TEXT = 100  # the class text goes on the row only with this much room
    TEXT_LINES = 2

    def __init__(
        self,
        title: str,
        headers: list[str],
        rows: list[list[Text]],
        texts: list[str],
        text_header: str = "Fingerprint",
        empty: str = "",
    ) -> None:
        self.title, self.headers, self.rows, self.texts = title, headers, rows, texts
        self.text_header, self.empty = text_header, empty

    def __rich_console__(self, console: Console, options: Any) -> Any:
        import textwrap

        width = options.max_width
        widths = [max([len(h)] + [len(r[i].plain) for r in self.rows]) for i, h in enumerate(self.headers)]
        sizes = "  ".join("{:>%d}" % w if i != 1 else "{:<%d}" % w for i, w in enumerate(widths))
        used = sum(widths) + 2 * (len(widths) - 1)
        inline = width - used - 2 >= self.MIN_TEXT
        yield Text(self.title, style="bold")
        head = Text(sizes.format(*self.headers), style="bold")
        if inline:
            head.append("  " + self.text_header)
        yield head
        yield Text("─" * min(width, used + (2 + self.MIN_TEXT if inline else 0)), style="dim")
        for cells, text in zip(self.rows, self.texts):
            line = Text()
            for i, (cell, w) in enumerate(zip(cells, widths)):
                if i:
                    line.append("  ")
                pad = " " * (w - len(cell.plain))
                line.append_text(Text(pad) + cell if i != 1 else cell + Text(pad))
            flat = " ".join(visible(text).split())
            if inline:
                room = width - used - 2
                line.append("  ")
                line.append(flat if len(flat) <= room else flat[: room - 1] + "…")
                yield line
                continue
            yield line
            room = max(20, width - self.INDENT)
            wrapped = textwrap.wrap(flat, room, break_long_words=True, break_on_hyphens=False) or [""]
            if len(wrapped) > self.TEXT_LINES:
                wrapped = wrapped[: self.TEXT_LINES]
                wrapped[-1] = wrapped[-1][: room - 1] + "…"
            for part in wrapped:
                yield Text(" " * self.INDENT + part, style="dim")
        if not self.rows and self.empty:
            yield Text(self.empty, style="dim")


def _general_log_facts(src: SourceReport) -> str:
    """A general log's layout and connections, for the header's source line."""
    layout = {"file": "file", "table-tsv": "table export, TSV", "table-csv": "table export, CSV"}
    conns = src.connections
    text = f"general log ({layout.get(src.format or '', src.format)}), {conns.get('seen', 0):,} connections"
    text += f" ({conns.get('opened', 0):,} opened in the log"
    if conns.get("failed"):
        text += f", {conns['failed']:,} refused"
    return text + ")"


def _profile(report: Report) -> RenderableType:
    title = f"Profile: top {len(report.classes)} of {report.summary.classes} classes"
    if not report.timed:
        rows = [
            [Text(str(c.rank)), Text(c.id, style="cyan"), Text(fmt.count(c.count)), Text(fmt.percent(c.call_share))]
            for c in report.classes
        ]
        texts = [c.fingerprint for c in report.classes]
        return RankedList(title + ", by executions", ["Rank", "Class", "Count", "% calls"], rows, texts)
    rows, texts = [], []
    for cls in report.classes:
        qt = cls.metrics.get("query_time")
        rows.append(
            [
                Text(str(cls.rank)),
                Text(cls.id, style="cyan"),
                Text(fmt.seconds(qt.sum if qt else None)),
                Text(fmt.percent(cls.share)),
                Text(fmt.count(cls.count)),
                Text(fmt.seconds(qt.avg if qt else None)),
                Text(fmt.seconds(qt.p95 if qt else None)),
                Text(fmt.ratio(cls.rows_examined_per_sent)),
            ]
        )
        texts.append(cls.fingerprint)
    return RankedList(title, ["Rank", "Class", "Time", "%", "Count", "Avg", "p95", "Ex/Sent"], rows, texts)


def _groups(report: Report) -> RenderableType:
    """The profile by group (--group-by): each group's figures, its top classes as its text."""
    title = f"Groups by {report.group_by}: {len(report.groups)}"
    rows, texts = [], []
    timed = report.timed  # without timings (a general log) no time is shown: "-"
    for g in report.groups[:50]:
        rows.append(
            [
                Text(str(g.rank)),
                Text(visible(g.value)[:40], style="cyan"),
                Text(fmt.seconds(g.query_time if timed else None)),
                Text(fmt.percent(g.share) if timed else "-"),
                Text(fmt.count(g.count)),
                Text(fmt.seconds(g.p95)),
                Text(fmt.ratio(g.rows_examined_per_sent)),
            ]
        )
        top = ", ".join(c.class_id[:12] + (f" {fmt.seconds(c.query_time)}" if timed else "") for c in g.classes[:3])
        more = f" (+{g.class_count - 3} more)" if g.class_count > 3 else ""
        texts.append(f"{g.class_count} class{'es' if g.class_count != 1 else ''}: {top}{more}")
    return RankedList(title, ["Rank", "Group", "Time", "%", "Count", "p95", "Ex/Sent"], rows, texts, "Top classes")


def _routes(report: Report) -> RenderableType:
    """Per request: what one call of each route costs, and the shapes it repeats (N+1)."""
    inferred = all(r.inferred for r in report.routes)
    title = "Per request" + (" (inferred: bursts of statements per connection, no request ids)" if inferred else "")
    lines: list[RenderableType] = [Text(title, style="bold")]
    for r in report.routes[:30]:
        head = Text()
        head.append(visible(r.route), style="cyan")
        head.append(f"  {r.requests:,} requests", style="dim")
        head.append(
            f"\n  per request: {r.statements.p50:.0f} statements (p95 {r.statements.p95:.0f}, max {r.statements.max:.0f})"
            + (
                f", {fmt.seconds(r.db_time.p50)} database time (p95 {fmt.seconds(r.db_time.p95)}, "
                f"max {fmt.seconds(r.db_time.max)})"
                if report.timed
                else ""
            )
        )
        lines.append(head)
        for x in r.repeated[:5]:
            rep = Text("  repeats ", style="yellow")
            rep.append(f"{x.p50}× per request", style="bold yellow")
            rep.append(f" (max {x.max}, in {x.requests:,} requests) ", style="yellow")
            rep.append(x.class_id[:12])
            rep.append(f"\n      {' '.join(visible(x.fingerprint).split())}", style="dim")
            rep.append(f"\n      fix: {visible(x.fix)}", style="green")
            lines.append(rep)
    if len(report.routes) > 30:
        lines.append(Text(f"... and {len(report.routes) - 30} more routes (all of them in --format json)", style="dim"))
    return Group(*lines)


def _details(cls: ClassReport) -> RenderableType:
    parts: list[RenderableType] = []
    title = Text()
    title.append(f"#{cls.rank} ", style="bold")
    title.append(cls.id, style="bold cyan")
    title.append(f"  pt 0x{cls.pt_id}  {cls.kind}", style="dim")
    if cls.timed:
        title.append(f"  {fmt.percent(cls.share)} of time, {cls.count:,} events")
    else:
        title.append(f"  {fmt.percent(cls.call_share)} of executions, {cls.count:,} events")
    if cls.qps is not None:
        title.append(f", {cls.qps:.3g} QPS")
    if cls.first_seen:
        title.append(f"\nseen {visible(cls.first_seen)} to {visible(cls.last_seen or '')}", style="dim")
    if cls.variants > 1:
        title.append(f", {cls.variants} textual variants", style="dim")
    parts.append(title)

    names = [name for name, m in cls.metrics.items() if m.kind != "flag"]
    if names:
        parts.append(_metrics_table(cls, names))
    flags = [(name, m) for name, m in cls.metrics.items() if m.kind == "flag"]
    if flags:
        line = Text("Flags: ", style="bold")
        raised = [f"{name} {fmt.percent(m.avg)} ({m.sum:,.0f})" for name, m in flags if m.sum]
        never = [name for name, m in flags if not m.sum]
        line.append(", ".join(raised) if raised else "none raised")
        if never:
            line.append(f"; never: {', '.join(never)}", style="dim")
        parts.append(line)

    if any(cls.histogram):
        parts.append(_histogram(cls.histogram))
    attributes = Text()
    for label, values in cls.attribute_counts:
        if values:
            attributes.append(f"{label}: ", style="bold")
            shown = list(values.items())[:5]
            attributes.append(", ".join(f"{visible(k)} ({v:,})" for k, v in shown))
            if len(values) > 5:
                attributes.append(f", and {len(values) - 5} more", style="dim")
            attributes.append("\n")
    if cls.tables:
        attributes.append("Tables: ", style="bold")
        attributes.append(", ".join(visible(t) for t in cls.tables))
        attributes.append("\n")
    if not cls.parsed and cls.parse_error and cls.kind != "ADMIN":
        attributes.append("sqlglot could not parse this class: ", style="yellow")
        attributes.append(visible(cls.parse_error), style="yellow")
        attributes.append("\n")
    if attributes:
        attributes.rstrip()
        parts.append(attributes)
    parts.append(Text("Fingerprint:", style="bold"))
    parts.append(Padding(Text(visible(cls.fingerprint), style="green"), (0, 0, 0, 2)))
    if cls.example is not None:
        ex = cls.example
        if cls.timed:
            label = Text(f"Example (slowest, {fmt.seconds(ex.query_time)}", style="bold")
            if ex.ts:
                label.append(f" at {visible(ex.ts)}")
            label.append(f", {visible(ex.source)}:{ex.line}):")
        else:  # nothing was timed: the class's first execution
            label = Text("Example (", style="bold")
            label.append(f"at {visible(ex.ts)}, " if ex.ts else "")
            label.append(f"{visible(ex.source)}:{ex.line}):")
        parts.append(label)
        text = visible(ex.query)
        if len(text) > EXAMPLE_MAX_CHARS:
            text = text[:EXAMPLE_MAX_CHARS]
            more = len(ex.query) - EXAMPLE_MAX_CHARS
            body = Text(text)
            body.append(f" ... ({more:,} more characters in --format json)", style="dim")
        else:
            body = Text(text)
        parts.append(Padding(body, (0, 0, 0, 2)))
    return Padding(Group(*parts), (1, 0, 0, 0))


def _metrics_table(cls: ClassReport, names: list[str]) -> RenderableType:
    metrics = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1))
    metrics.add_column("Metric", justify="left", no_wrap=True, min_width=max(map(len, names), default=6))
    for heading in ("Total", "Min", "Max", "Avg", "p50", "p95", "p99", "Stddev"):
        metrics.add_column(heading, justify="right", no_wrap=True)
    for name, m in cls.metrics.items():
        if m.kind != "flag":
            metrics.add_row(
                name, *(fmt.metric(m, v) for v in (m.sum, m.min, m.max, m.avg, m.p50, m.p95, m.p99, m.stddev))
            )
    return metrics


def _histogram(counts: list[int]) -> RenderableType:
    peak = max(counts) or 1
    text = Text("Query time distribution\n", style="bold")
    for label, n in zip(HISTOGRAM_LABELS, counts):
        bar = "#" * (round(n / peak * _BAR_WIDTH) if n else 0)
        if n and not bar:
            bar = "."
        text.append(f"  {label:>6} ")
        text.append(bar, style="magenta")
        if n:
            text.append(f" {n:,}", style="dim")
        text.append("\n")
    text.rstrip()
    return text


_render.register(Report, _digest)


# --------------------------------------------------------------------------------------------
# explain / advise
# --------------------------------------------------------------------------------------------


def plan_tree(plan: Plan) -> Tree:
    """The plan as a rich Tree (tables in join order under their operations and blocks)."""
    title = Text("plan", style="bold")
    if plan.query_cost is not None:
        title.append(f"  cost {plan.query_cost:,.2f}", style="dim")
    title.append(f"  ~{plan.rows_examined_estimate:,.0f} rows examined (estimate)", style="dim")
    if plan.explained_as_select:
        title.append("  explained as the equivalent SELECT", style="yellow")
    tree = Tree(title)

    def add(parent: Tree, node: PlanNode) -> None:
        for child in node.children:
            add(parent.add(node_text(child)), child)

    add(tree, plan.root)
    analyze_tree = plan.root.details.get("analyze_tree")
    if analyze_tree:
        tree.add(Text(visible(str(analyze_tree)), style="cyan"))
    return tree


def _findings_table(findings: list[Any]) -> RenderableType:
    """Each finding as a short block: severity and check, then the message and the fix, indented
    (readable at any width, unlike a table whose text column shrinks)."""
    blocks: list[RenderableType] = []
    for f in findings:
        head = Text()
        head.append(f"{f.severity:<8}", style=SEVERITY_STYLE.get(f.severity, ""))
        head.append(f" {f.check} {f.name}", style="bold")
        body = Text(visible(f.message))
        if f.fix:
            body.append("\nfix: ", style="bold green")
            body.append(visible(f.fix))
        blocks += [head, Padding(body, (0, 0, 0, 4))]
    return Group(*blocks)


def _suggestions_table(report: AdviceReport) -> RenderableType:
    """Each suggestion as a block: the index, what it saves and how sure that is, then its notes."""
    blocks: list[RenderableType] = []
    for s in report.suggestions:
        head = Text()
        head.append(f"{s.number:>2}  ", style="bold")
        head.append(f"{visible(s.table)} ({visible(', '.join(s.columns))})", style="bold")
        verified = {
            None: ("not verified", "dim"),
            True: ("verified", "green"),
            False: ("not chosen by the optimizer", "red"),
        }[s.verified]
        head.append(f"  {verified[0]}", style=verified[1])
        facts = Text(
            f"{s.classes} class{'es' if s.classes != 1 else ''}, est. {s.time_saved:,.3f} s saved, "
            f"rows {s.rows_before:,.0f} → {s.rows_after:,.0f}"
        )
        if s.explain_rows is not None:
            facts.append(f"; EXPLAIN {s.explain_rows[0]:,.0f} → {s.explain_rows[1]:,.0f}")
        if s.actual_rows is not None:
            facts.append(f"; read {s.actual_rows[0]:,.0f} → {s.actual_rows[1]:,.0f}", style="cyan")
        notes = Text()
        for w in s.warnings:
            notes.append(f"\n{visible(w)}", style="yellow")
        if s.may_change:
            ids = ", ".join(c[:12] for c in s.may_change[:4]) + (", ..." if len(s.may_change) > 4 else "")
            notes.append(
                f"\nmay change the plans of {len(s.may_change)} other "
                f"class{'es' if len(s.may_change) > 1 else ''} reading {visible(s.table_name)}: {ids} "
                "(--verify checks them)",
                style="dim",
            )
        if s.left_out:
            notes.append(f"\n{visible(s.left_out)}", style="red")
        blocks += [head, Padding(facts + notes, (0, 0, 0, 4))]
    return Group(*blocks)


def _advice(report: AdviceReport, console: Console, options: RenderOptions) -> None:
    head = Text(report.title, style="bold")
    if report.subtitle:
        head.append("  " + visible(report.subtitle))
    for note in report.notes:
        head.append("\nnote: ", style="yellow")
        head.append(visible(note))
    console.print(Padding(head, (1, 0, 1, 0)))
    if report.digest is not None and report.command == "endpoint":
        console.print(_header(report.digest))
        if report.digest.routes:
            console.print(_routes(report.digest))
            console.print()
    if report.statement is not None and report.shown:
        ca = report.shown[0]
        console.print(Text(visible(report.statement), style="bold"))
        if ca.plan is not None:
            console.print(plan_tree(ca.plan))
        elif ca.explain_note:
            console.print(Text(f"not explained: {visible(ca.explain_note)}", style="yellow"))
        console.print()
        if ca.findings:
            console.print(_findings_table(ca.findings))
        else:
            console.print(Text("No findings.", style="green"))
    elif report.statement is None:
        for rank, ca in enumerate(report.shown, 1):
            _class_section(console, rank, ca)
    console.print()
    if report.suggestions:
        console.print(Text("Index suggestions", style="bold"))
        console.print(_suggestions_table(report))
        console.print()
        console.print(Text("DDL (mqa never runs it unless --apply is given):", style="bold"))
        for ddl in report.ddl:
            console.print(Text(ddl + ";"))
    else:
        console.print(Text("No index suggestions.", style="green"))
    if report.no_help or report.lookups:
        console.print()
        console.print(Text("Where no index helps", style="bold"))
        for n in report.no_help[:20]:
            console.print(Text(f"  {n.class_id[:12]} {visible(n.table or '')}: {visible(n.reason)}"))
        if len(report.no_help) > 20:
            console.print(
                Text(f"  ... and {len(report.no_help) - 20} more (all of them in --format json)", style="dim")
            )
        if report.lookups:
            accesses, classes = report.lookups
            console.print(
                Text(
                    f"  {accesses} table accesses of {classes} classes are primary-key or unique "
                    "lookups: already the fastest access",
                    style="dim",
                )
            )
    v = report.verification
    if v is not None:
        console.print()
        console.print(
            Text(
                f"Verified with {v.method} ({visible(v.target)}): {v.writes} statements, "
                "all on the scratch target and cleaned up"
                if v.method == "scratch"
                else f"Verified with {v.method} ({visible(v.target)})",
                style="dim",
            )
        )
        console.print(Text(v.summary, style="dim"))
        for p in v.protections:
            line = Text("protected ", style="bold yellow")
            line.append(visible(p.who))
            line.append(f"\n  {visible(p.what)}", style="yellow")
            line.append(f"\n  → {visible(p.done)}", style="green")
            console.print(line)
        for note in v.notes:
            console.print(Text(f"note: {visible(note)}", style="yellow"))


def _class_section(console: Console, rank: int, ca: AdviceClassView) -> None:
    head = Text(f"#{rank} {ca.class_id[:16]}", style="bold")
    head.append(f"  {ca.count} calls" + (f", {ca.query_time_total:,.3f} s total" if ca.timed else ""), style="dim")
    parts: list[Any] = [head, Text(visible(ca.text), style="dim")]
    if ca.plan is not None:
        parts.append(plan_tree(ca.plan))
    elif ca.explain_note:
        parts.append(Text(f"not explained: {visible(ca.explain_note)}", style="yellow"))
    if ca.findings:
        parts.append(_findings_table(ca.findings))
    console.print(Group(*parts))
    console.print()


_render.register(AdviceReport, _advice)


# --------------------------------------------------------------------------------------------
# indexes
# --------------------------------------------------------------------------------------------


def _health(report: HealthReport, console: Console, options: RenderOptions) -> None:
    head = Text()
    head.append(report.title, style="bold")
    head.append(
        f"  {visible(report.server)}: {report.tables} tables, {report.indexes} indexes in "
        f"{', '.join(visible(s) for s in report.schemas) or 'no schema'}"
    )
    if report.uptime_seconds is not None:
        head.append(
            f"\nindex reads counted for {fmt.span(report.uptime_seconds)} (server up since {report.server_started})",
            style="dim",
        )
    for note in report.notes:
        head.append("\nnote: ", style="yellow")
        head.append(visible(note))
    console.print(Padding(head, (1, 0, 1, 0)))
    if not report.findings:
        console.print(Text("No index problems found.", style="green"))
        return
    table_name = None
    for f in report.findings:
        if f.table != table_name:
            table_name = f.table
            console.print(Text(visible(f.table), style="bold"))
        head = Text("  ")
        head.append(f"{f.severity:<8}", style=SEVERITY_STYLE.get(f.severity, ""))
        head.append(f" {f.check} {f.name}")
        console.print(head)
        console.print(Padding(Text(visible(f.message)), (0, 0, 0, 6)))
    if report.statements:
        console.print(Text("\nStatements that fix the safe findings (review before running them):", style="bold"))
        for ddl in report.statements:
            console.print(Padding(Text(visible(ddl), style="green"), (0, 0, 0, 2)))
    if report.advice:
        console.print(Text("\nAdvice to adapt (no safe automatic fix):", style="bold"))
        for f in report.advice:
            console.print(Padding(Text(f"{visible(f.table)}: {visible(f.ddl)}"), (0, 0, 0, 2)))


_render.register(HealthReport, _health)


# --------------------------------------------------------------------------------------------
# diff and report
# --------------------------------------------------------------------------------------------


def _side(side: Any) -> str:
    when = f", {visible(side.start or '?')} to {visible(side.end or '?')}" if side.start or side.end else ""
    return f"{visible(side.name)}: {side.events:,} events{when}"


def _cut(text: str, width: int = 100) -> str:
    """One line of at most ``width`` characters."""
    text = " ".join(visible(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _diff(report: DiffReport, console: Console, options: RenderOptions) -> None:
    head = Text(report.title, style="bold")
    head.append(f"\nbase {_side(report.base)}\nnew  {_side(report.new)}", style="dim")
    head.append(
        f"\n{len(report.regressions)} regressions, {len(report.improvements)} improvements, "
        f"{len(report.new_classes)} new classes, {len(report.vanished_classes)} vanished, "
        f"{len(report.plan_changes)} plan changes"
    )
    console.print(Padding(head, (1, 0, 0, 0)))
    for title, rows, style in (
        ("Regressions", report.regressions, "red"),
        ("Improvements", report.improvements, "green"),
    ):
        if not rows:
            continue
        console.print(Text(f"\n{title}", style="bold"))
        for c in rows[:30]:
            line = Text(f"  {c.class_id[:16]}  ")
            line.append(f"{METRIC_NAMES[c.metric]:<21}")
            line.append(f"{fmt.compared(c.metric, c.base):>9} → {fmt.compared(c.metric, c.new):<9} ")
            line.append(f"{fmt.change(c.change):>6}", style=style)
            console.print(line)
            console.print(Text(f"      {_cut(c.fingerprint, console.width - 7)}", style="dim"))
        if len(rows) > 30:
            console.print(Text(f"  ... and {len(rows) - 30} more (all of them in --format json)", style="dim"))
    for title, classes in (("New classes", report.new_classes), ("Vanished classes", report.vanished_classes)):
        if not classes:
            continue
        console.print(Text(f"\n{title}", style="bold"))
        for c in classes[:15]:
            console.print(Text(f"  {c.class_id[:16]}  {c.count:>8,} calls  {fmt.seconds(c.query_time):>8}"))
            console.print(Text(f"      {_cut(c.fingerprint, console.width - 7)}", style="dim"))
        if len(classes) > 15:
            console.print(Text(f"  ... and {len(classes) - 15} more (all of them in --format json)", style="dim"))
    if report.plan_changes:
        console.print(Text("\nPlan changes", style="bold"))
        for p in report.plan_changes:
            line = Text(f"  {p.class_id[:16]}  ")
            line.append(f"{visible(p.base_key or '-')} ({visible(p.base_access or '-')})")
            line.append(" → ")
            line.append(f"{visible(p.new_key or '-')} ({visible(p.new_access or '-')})", style="yellow")
            console.print(line)
            console.print(Text(f"      {_cut(p.fingerprint, console.width - 7)}", style="dim"))
    for note in report.notes:
        console.print(Text(f"note: {visible(note)}", style="yellow"))
    console.print(Text(f"\n{report.guards}", style="dim"))


_render.register(DiffReport, _diff)


def _job(report: JobReport, console: Console, options: RenderOptions) -> None:
    head = Text(report.title, style="bold")
    if report.run_id is not None:
        head.append(f"  run {report.run_id} in {visible(report.history or '')}")
    elif report.history:
        head.append(f"  not saved in {visible(report.history)}", style="yellow")
    else:
        head.append("  no --history: nothing saved, nothing compared", style="dim")
    head.append(f"\nbaseline: {visible(report.baseline)}", style="dim")
    for what, where in report.provenance.items():
        if what != "baseline":
            head.append(f"\n{what}: {visible(where)}", style="dim")
    for note in report.notes:
        head.append(f"\nnote: {visible(note)}", style="yellow")
    console.print(Padding(head, (1, 0, 0, 0)))
    if report.crossed:
        alarm = Text("\nThresholds crossed (--fail-on):", style="bold red")
        for line in report.crossed:
            alarm.append(f"\n  {visible(line)}", style="red")
        console.print(alarm)
    if report.diff is not None:
        _diff(report.diff, console, options)
    _digest(report.shown, console, options)
    if report.advice is not None:
        _advice(report.advice, console, options)
    if report.health is not None:
        _health(report.health, console, options)


_render.register(JobReport, _job)


# --------------------------------------------------------------------------------------------
# history
# --------------------------------------------------------------------------------------------

_SPARKS = "▁▂▃▄▅▆▇█"


def spark(values: list[float | None]) -> str:
    """A sparkline of block characters (a space where a run has no value)."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(0.0, min(known)), max(known)  # from zero: a 1% wobble must not look like a cliff
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            out.append(_SPARKS[0 if high == low else round((v - low) / (high - low) * (len(_SPARKS) - 1))])
    return "".join(out)


def _short(when: str | None) -> str:
    """An ISO time to the second, without its offset when it is UTC (the JSON has it whole)."""
    if not when:
        return "-"
    text = re.sub(r"\.\d+", "", visible(when).replace("T", " "))
    return text[:-6] if text.endswith("+00:00") else text


def _runs(view: RunsView, console: Console, options: RenderOptions) -> None:
    console.print(Text(f"{view.title}  {visible(view.history)}", style="bold"))
    if not view.runs:
        console.print(Text("No runs yet.", style="yellow"))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in (
        ("Run", "right"),
        ("Label", "left"),
        ("Finished", "left"),
        ("Events from", "left"),
        ("to", "left"),
        ("Events", "right"),
        ("Classes", "right"),
        ("Time", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in view.runs:
        table.add_row(
            str(r.id),
            Text(visible(r.label)),
            _short(r.finished_at),
            Text(_short(r.start)),
            Text(_short(r.end)),
            f"{r.events:,}",
            f"{r.classes:,}",
            fmt.seconds(r.query_time),
        )
    console.print(table)


def _trend(view: TrendView, console: Console, options: RenderOptions) -> None:
    head = Text(view.title, style="bold")
    head.append(f"  {visible(view.history)}\n")
    head.append(visible(view.fingerprint), style="dim")
    console.print(Padding(head, (1, 0, 1, 0)))
    for metric, label in (
        ("calls_per_second", "calls/s"),
        ("avg", "avg"),
        ("p95", "p95"),
        ("rows_examined_per_call", "rows ex./call"),
    ):
        values = view.series[metric]
        known = [v for v in values if v is not None]
        last = fmt.compared(metric, known[-1]) if known else "-"
        line = Text(f"{label:<14}")
        line.append(spark(values), style="cyan")
        line.append(f"  last {last}", style="dim")
        if known:
            line.append(
                f", min {fmt.compared(metric, min(known))}, max {fmt.compared(metric, max(known))}", style="dim"
            )
        console.print(line)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("Run", "Label", "From", "Calls", "Calls/s", "Avg", "p95", "Rows ex./call"):
        table.add_column(name, justify="left" if name in ("Label", "From") else "right")
    for r in view.rows:
        table.add_row(
            str(r.run_id),
            Text(visible(r.label)),
            Text(_short(r.start)),
            f"{r.calls:,}",
            fmt.compared("calls_per_second", r.calls_per_second),
            fmt.seconds(r.avg),
            fmt.seconds(r.p95),
            fmt.compared("rows_examined_per_call", r.rows_examined_per_call),
        )
    console.print(table)


def _periods(view: PeriodsView, console: Console, options: RenderOptions) -> None:
    console.print(Text(f"{view.title}  {visible(view.history)}", style="bold"))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("Period", "Runs", "Events", "Time"):
        table.add_column(name, justify="left" if name == "Period" else "right")
    for r in view.rows:
        ids = f"{r.runs[0]}-{r.runs[-1]} ({len(r.runs)})" if len(r.runs) > 1 else str(r.runs[0])
        table.add_row(r.period, ids, f"{r.events:,}", fmt.seconds(r.query_time))
    console.print(table)
    console.print(Text("One period's report: --period PERIOD (any --format).", style="dim"))


_render.register(RunsView, _runs)
_render.register(TrendView, _trend)
_render.register(PeriodsView, _periods)


# --------------------------------------------------------------------------------------------
# top
# --------------------------------------------------------------------------------------------


def top_table(view: TopView) -> RenderableType:
    """One refresh of ``mqa top`` for a live terminal."""
    title = (
        f"mqa top  {visible(view.server)}  interval {view.number} ({view.seconds:.1f}s): "
        f"{view.statements_per_second:,.1f} statements/s, load {view.load:.2f}"
    )
    rows = [
        [
            Text(str(r.rank)),
            Text(r.id, style="cyan"),
            Text(f"{r.load:.3f}"),
            Text(fmt.percent(r.share)),
            Text(f"{r.calls_per_second:,.1f}"),
            Text(fmt.seconds(r.avg)),
            Text(fmt.ratio(r.rows_examined_per_call)),
        ]
        for r in view.rows
    ]
    return RankedList(
        title,
        ["Rank", "Class", "Load", "%", "Calls/s", "Avg", "Rows ex/call"],
        rows,
        [r.fingerprint for r in view.rows],
        empty="no statements in this interval",
    )


def top_text(view: TopView) -> str:
    """Plain text for pipes and logs: one header line, one line per class."""
    lines = [
        f"# interval {view.number} {view.seconds:.1f}s {view.statements_per_second:.1f} statements/s "
        f"load {view.load:.3f} server {visible(view.server)}"
    ]
    for row in view.rows:
        lines.append(
            f"{row.rank}\t{row.id}\t{row.load:.4f}\t{row.share * 100:.1f}%\t{row.calls_per_second:.2f}/s\t"
            f"{fmt.seconds(row.avg)}\t{visible(row.fingerprint).replace(chr(10), ' ')}"
        )
    lines.extend(f"# note: {visible(note)}" for note in view.notes)
    return "\n".join(lines) + "\n"


def _top(view: TopView, console: Console, options: RenderOptions) -> None:
    if console.is_terminal:
        console.print(top_table(view))
    else:
        console.file.write(top_text(view))
        console.file.flush()


_render.register(TopView, _top)
