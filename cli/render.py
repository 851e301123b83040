"""Writing a report in the format the user asked for (shared by every reporting command)."""

from __future__ import annotations

from enum import Enum

from analyzer.report.model import ORDER_BY, Report
from cli.common import console_for, output_stream


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class FingerprintMode(str, Enum):
    sqlglot = "sqlglot"
    pt = "pt"


OrderBy = Enum("OrderBy", {name: name for name in ORDER_BY}, type=str)  # type: ignore[misc]


def write_report(report: Report, fmt: Format, output: str | None, *, details: int) -> None:
    """Render ``report`` to stdout or ``output`` (renderers are imported when used)."""
    with output_stream(output) as stream:
        if fmt is Format.json:
            from analyzer.report.jsonout import render_json

            stream.write(render_json(report))
        elif fmt is Format.markdown:
            from analyzer.report.markdown import render_markdown

            stream.write(render_markdown(report, details=details))
        else:
            from analyzer.report.terminal import render_terminal

            render_terminal(report, console_for(stream), details=details)
