"""The rich terminal renderer.

Text that comes from a log (queries, names, tags) is always wrapped in ``rich.text.Text``,
never formatted into markup, and made ``visible()`` first: ``[bold]``, ``[/]``,
``[link=...]`` and escape sequences inside a query are shown, not interpreted.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from analyzer.report import format as fmt
from analyzer.report.model import ClassReport, Report
from analyzer.report.text import visible
from analyzer.stats import HISTOGRAM_LABELS

EXAMPLE_MAX_CHARS = 4000
_BAR_WIDTH = 40


def render_terminal(report: Report, console: Console, *, details: int = 5) -> None:
    """Print the report: header, profile of the ranked classes, details of the top ones."""
    console.print(_header(report))
    if not report.classes:
        console.print(Text("No query events found.", style="yellow"))
        return
    console.print(_profile(report))
    for cls in report.classes[: max(0, details)]:
        console.print(_details(cls))


def _header(report: Report) -> RenderableType:
    s = report.summary
    lines = Text()
    lines.append(report.title, style="bold")
    lines.append(f"  {s.events:,} events, {s.classes:,} classes")
    if s.start:
        lines.append(f", {visible(s.start)} to {visible(s.end or '')} ({fmt.span(s.span_seconds)})")
    lines.append("\n")
    lines.append(f"total query time {fmt.seconds(s.query_time_total)}")
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


def _profile(report: Report) -> RenderableType:
    title = f"Profile: top {len(report.classes)} of {report.summary.classes} classes"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Rank", justify="right", no_wrap=True)
    table.add_column("Class", no_wrap=True, min_width=16)
    for heading in ("Time", "%", "Count", "Avg", "p95", "Ex/Sent"):
        table.add_column(heading, justify="right", no_wrap=True)
    # Wrappable, so rich gives it the width left over; each cell ellipsizes instead of wrapping.
    table.add_column("Fingerprint", min_width=20)
    for cls in report.classes:
        qt = cls.metrics.get("query_time")
        table.add_row(
            str(cls.rank),
            Text(cls.id, style="cyan"),
            fmt.seconds(qt.sum if qt else None),
            fmt.percent(cls.share),
            fmt.count(cls.count),
            fmt.seconds(qt.avg if qt else None),
            fmt.seconds(qt.p95 if qt else None),
            fmt.ratio(cls.rows_examined_per_sent),
            Text(visible(cls.fingerprint).replace("\n", " "), no_wrap=True, overflow="ellipsis"),
        )
    return table


def _details(cls: ClassReport) -> RenderableType:
    parts: list[RenderableType] = []
    title = Text()
    title.append(f"#{cls.rank} ", style="bold")
    title.append(cls.id, style="bold cyan")
    title.append(f"  pt 0x{cls.pt_id}  {cls.kind}", style="dim")
    title.append(f"  {fmt.percent(cls.share)} of time, {cls.count:,} events")
    if cls.qps is not None:
        title.append(f", {cls.qps:.3g} QPS")
    if cls.first_seen:
        title.append(f"\nseen {visible(cls.first_seen)} to {visible(cls.last_seen or '')}", style="dim")
    if cls.variants > 1:
        title.append(f", {cls.variants} textual variants", style="dim")
    parts.append(title)

    metrics = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for heading in ("Metric", "Total", "Min", "Max", "Avg", "p50", "p95", "p99", "Stddev"):
        metrics.add_column(heading, justify="left" if heading == "Metric" else "right")
    for name, m in cls.metrics.items():
        if m.kind != "flag":
            metrics.add_row(
                name, *(fmt.metric(m, v) for v in (m.sum, m.min, m.max, m.avg, m.p50, m.p95, m.p99, m.stddev))
            )
    parts.append(metrics)
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
    for label, values in (("Databases", cls.databases), ("Users", cls.users), ("Hosts", cls.hosts), ("Tags", cls.tags)):
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
        label = Text(f"Example (slowest, {fmt.seconds(ex.query_time)}", style="bold")
        if ex.ts:
            label.append(f" at {visible(ex.ts)}")
        label.append(f", {visible(ex.source)}:{ex.line}):")
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
