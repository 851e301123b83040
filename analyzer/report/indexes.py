"""Rendering an index-health report (``mqa indexes``): terminal, Markdown and JSON."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from analyzer import __version__
from analyzer.advisor.health import IndexReport
from analyzer.report import format as fmt
from analyzer.report.text import clean_json, visible

SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}  # findings of every report


def index_json(report: IndexReport, server: str, *, now: datetime | None = None) -> str:
    """The versioned JSON document of ``mqa indexes``."""
    doc: dict[str, Any] = {
        "schema_version": 1,
        "tool": {"name": "mqa", "version": __version__},
        "generated_at": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "server": server,
        **report.to_dict(),
        "statements": report.statements(),
    }
    return json.dumps(clean_json(doc), indent=2, ensure_ascii=False) + "\n"


def index_terminal(report: IndexReport, console: Console, server: str) -> None:
    head = Text()
    head.append("mqa indexes", style="bold")
    head.append(f"  {visible(server)}: {report.tables} tables, {report.indexes} indexes in "
                f"{', '.join(visible(s) for s in report.schemas) or 'no schema'}")
    if report.window is not None:
        head.append(f"\nindex reads counted for {fmt.span(report.window.uptime_seconds)} "
                    f"(server up since {report.window.server_started.isoformat(sep=' ')})", style="dim")
    for note in report.notes:
        head.append("\nnote: ", style="yellow")
        head.append(visible(note))
    console.print(Padding(head, (1, 0, 1, 0)))
    if not report.findings:
        console.print(Text("No index problems found.", style="green"))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Check", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Table", no_wrap=True)
    table.add_column("Finding")
    for f in report.findings:
        table.add_row(f"{f.check} {f.name}", Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")),
                      Text(visible(f.table)), Text(visible(f.message)))
    console.print(table)
    statements = report.statements()
    if statements:
        console.print(Text("\nStatements that fix the safe findings (review before running them):", style="bold"))
        for ddl in statements:
            console.print(Padding(Text(visible(ddl), style="green"), (0, 0, 0, 2)))
    advice = [f for f in report.findings if not f.safe and f.ddl]
    if advice:
        console.print(Text("\nAdvice to adapt (no safe automatic fix):", style="bold"))
        for f in advice:
            console.print(Padding(Text(f"{visible(f.table)}: {visible(f.ddl)}"), (0, 0, 0, 2)))


def index_markdown(report: IndexReport, server: str) -> str:
    out = ["# mqa indexes", "",
           f"{_md(server)}: {report.tables} tables, {report.indexes} indexes in "
           f"{', '.join(_md(s) for s in report.schemas) or 'no schema'}."]
    if report.window is not None:
        out.append(f"Index reads counted for {fmt.span(report.window.uptime_seconds)} "
                   f"(server up since {report.window.server_started.isoformat(sep=' ')}).")
    out.append("")
    out += [f"> **Note:** {_md(note)}" for note in report.notes]
    if not report.findings:
        return "\n".join(out + ["", "No index problems found.", ""])
    out += ["", "| Check | Severity | Table | Finding |", "|---|---|---|---|"]
    for f in report.findings:
        out.append(f"| {f.check} {f.name} | {f.severity} | {_md(f.table)} | {_md(f.message)} |")
    statements = report.statements()
    if statements:
        out += ["", "Statements that fix the safe findings (review before running them):", "", "```sql"]
        out += [visible(s) for s in statements] + ["```"]
    out.append("")
    return "\n".join(out)


def _md(text: str) -> str:
    return visible(text).replace("|", "\\|").replace("\n", " ")
