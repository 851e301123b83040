"""``mqa top``: the busiest query classes, refreshed every interval."""

from __future__ import annotations

import enum
import sys

import typer

from cli.connection import ServerArgs, open_server, server_options
from cli.render import StreamFormat as Format


class TopOrder(str, enum.Enum):
    total = "total"
    count = "count"
    avg = "avg"


@server_options
def top(
    interval: str = typer.Option(
        "5s", "--interval", "-i", metavar="DURATION", help="Refresh every DURATION (e.g. 2s, 1m)."
    ),
    iterations: int = typer.Option(0, "--iterations", min=0, help="Stop after N intervals (0: until Ctrl-C)."),
    limit: int = typer.Option(15, "--limit", "-n", min=1, help="Classes shown per interval."),
    order_by: TopOrder = typer.Option(
        TopOrder.total, "--order-by", case_sensitive=False, help="total (load), count (calls/s) or avg (time per call)."
    ),
    fmt: Format = typer.Option(
        Format.table,
        "--format",
        "-f",
        help="table: a live table on a terminal, plain lines otherwise; json: one object per "
        "interval and line; markdown: one table per interval.",
    ),
    *,
    server_args: ServerArgs,
) -> None:
    """Show the busiest query classes of a live server, interval after interval (performance_schema)."""
    from analyzer.digest.filters import parse_duration
    from analyzer.digest.top import TopMonitor
    from analyzer.errors import UsageError
    from analyzer.report.render import render
    from analyzer.report.top import top_view
    from analyzer.sources.db import PERFORMANCE_SCHEMA_SELECT, require_privileges

    seconds = parse_duration(interval)
    if seconds <= 0:
        raise UsageError("the interval must be longer than zero")
    with open_server(server_args) as server, server.translate_errors("reading performance_schema"):
        require_privileges(server, [PERFORMANCE_SCHEMA_SELECT])
        monitor = TopMonitor(server)
        count = 0
        if fmt is Format.table and sys.stdout.isatty():
            from rich.console import Console
            from rich.live import Live

            from analyzer.report.render.terminal import top_table

            with Live(console=Console(), auto_refresh=False) as live:
                while not iterations or count < iterations:
                    view = top_view(monitor.next_interval(seconds), limit=limit, order_by=order_by.value)
                    live.update(top_table(view), refresh=True)
                    count += 1
        else:
            while not iterations or count < iterations:
                view = top_view(monitor.next_interval(seconds), limit=limit, order_by=order_by.value)
                render(view, fmt.value, sys.stdout)
                sys.stdout.flush()
                count += 1
