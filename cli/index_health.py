"""``mqa indexes``: unused, duplicate and redundant indexes, and tables without a primary key
(the index-health checks IDX001-IDX006)."""

from __future__ import annotations

from typing import Optional

import typer

from cli.common import command_line
from cli.connection import ServerArgs, open_server, server_options
from cli.render import Format, write_report


@server_options
def indexes(
    schemas: Optional[list[str]] = typer.Option(
        None,
        "--schema",
        metavar="DB",
        hidden=True,
        help="The old spelling of -D/--database (repeatable): only this database.",
    ),
    unused: bool = typer.Option(
        True, "--unused/--no-unused", help="Report indexes performance_schema saw no read through."
    ),
    min_window: str = typer.Option(
        "7d",
        "--min-window",
        metavar="DURATION",
        help="Counting time before an unused index is a safe drop (shorter windows get advice only).",
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report here."),
    *,
    server_args: ServerArgs,
) -> None:
    """Find unused, duplicate and redundant indexes and tables without a primary key, each with the DDL that fixes it (never run by mqa).

    Every database but the system ones, or only the one given with -D/--database.
    """
    from analyzer.advisor.health import check_indexes
    from analyzer.digest.filters import parse_duration
    from analyzer.report.health import build_health_report

    min_window_seconds = parse_duration(min_window)
    with open_server(server_args) as server, server.translate_errors("reading index metadata"):
        only = list(schemas or []) + ([server_args.database] if server_args.database else [])
        report = check_indexes(server, only or None, unused=unused, min_window=min_window_seconds)
        where = server.description
    write_report(build_health_report(report, where, invocation=command_line()), fmt, output)
