"""``mqa indexes``: unused, duplicate and redundant indexes, and tables without a primary key."""

from __future__ import annotations

from typing import Optional

import typer

from cli.common import console_for, errors_exit_2, output_stream
from cli.connection import ServerArgs, open_server, server_options
from cli.render import Format


@server_options
def indexes(
    schemas: Optional[list[str]] = typer.Option(None, "--schema", metavar="DB", help="Only this schema (repeatable; default: all but the system schemas)."),
    unused: bool = typer.Option(True, "--unused/--no-unused", help="Report indexes performance_schema saw no read through."),
    min_window: str = typer.Option(
        "7d", "--min-window", metavar="DURATION",
        help="Counting time before an unused index is a safe drop (shorter windows get advice only)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report here."),
    *,
    server_args: ServerArgs,
) -> None:
    """Find unused, duplicate and redundant indexes and tables without a primary key, each with the DDL that fixes it (never run by mqa)."""
    from analyzer.digest.filters import parse_duration
    from analyzer.indexes import check_indexes

    with errors_exit_2():
        min_window_seconds = parse_duration(min_window)
    with open_server(server_args) as server, errors_exit_2(), server.translate_errors("reading index metadata"):
        report = check_indexes(server, schemas or None, unused=unused, min_window=min_window_seconds)
        where = server.description
    with output_stream(output) as stream:
        if fmt is Format.json:
            from analyzer.report.indexes import index_json

            stream.write(index_json(report, where))
        elif fmt is Format.markdown:
            from analyzer.report.indexes import index_markdown

            stream.write(index_markdown(report, where))
        else:
            from analyzer.report.indexes import index_terminal

            index_terminal(report, console_for(stream), where)
