"""Rendering ``mqa top``'s view: a rich table for a live terminal, plain text otherwise."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from analyzer.report import format as fmt
from analyzer.report.text import visible
from analyzer.digest.top import TopView


def top_table(view: TopView) -> Table:
    title = (
        f"mqa top  {visible(view.server)}  interval {view.number} ({view.seconds:.1f}s): "
        f"{view.statements_per_second:,.1f} statements/s, load {view.load:.2f}"
    )
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Rank", justify="right", no_wrap=True)
    table.add_column("Class", no_wrap=True, min_width=16)
    for heading in ("Load", "%", "Calls/s", "Avg", "Rows ex/call"):
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("Fingerprint", min_width=20)
    for row in view.rows:
        table.add_row(
            str(row.rank), Text(row.id, style="cyan"), f"{row.load:.3f}", fmt.percent(row.share),
            f"{row.calls_per_second:,.1f}", fmt.seconds(row.avg), fmt.ratio(row.rows_examined_per_call),
            Text(visible(row.fingerprint).replace("\n", " "), no_wrap=True, overflow="ellipsis"),
        )
    if not view.rows:
        table.add_row("", "", "", "", "", "", "", Text("no statements in this interval", style="dim"))
    return table


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
