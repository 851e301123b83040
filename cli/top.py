"""``mqa top``: the busiest query classes, refreshed every interval."""

from __future__ import annotations

import enum
import sys

import typer

from cli.common import errors_exit_2
from cli.connection import ServerArgs, open_server, server_options


class TopOrder(str, enum.Enum):
    total = "total"
    count = "count"
    avg = "avg"


@server_options
def top(
    interval: str = typer.Option("5s", "--interval", "-i", metavar="DURATION", help="Refresh every DURATION (e.g. 2s, 1m)."),
    iterations: int = typer.Option(0, "--iterations", min=0, help="Stop after N intervals (0: until Ctrl-C)."),
    limit: int = typer.Option(15, "--limit", "-n", min=1, help="Classes shown per interval."),
    order_by: TopOrder = typer.Option(TopOrder.total, "--order-by", case_sensitive=False,
                                      help="total (load), count (calls/s) or avg (time per call)."),
    *,
    server_args: ServerArgs,
) -> None:
    """Show the busiest query classes of a live server, interval after interval (performance_schema)."""
    from analyzer.sources.db import PERFORMANCE_SCHEMA_SELECT, require_privileges
    from analyzer.errors import UsageError
    from analyzer.digest.filters import parse_duration
    from analyzer.report.top import top_table, top_text
    from analyzer.digest.top import TopMonitor, top_view

    with errors_exit_2():
        seconds = parse_duration(interval)
        if seconds <= 0:
            raise UsageError("the interval must be longer than zero")
    with open_server(server_args) as server, errors_exit_2(), server.translate_errors("reading performance_schema"):
        require_privileges(server, [PERFORMANCE_SCHEMA_SELECT])
        monitor = TopMonitor(server)
        count = 0
        if sys.stdout.isatty():
            from rich.console import Console
            from rich.live import Live

            with Live(console=Console(), auto_refresh=False) as live:
                while not iterations or count < iterations:
                    view = top_view(monitor.next_interval(seconds), limit=limit, order_by=order_by.value)
                    live.update(top_table(view), refresh=True)
                    count += 1
        else:
            while not iterations or count < iterations:
                view = top_view(monitor.next_interval(seconds), limit=limit, order_by=order_by.value)
                sys.stdout.write(top_text(view))
                sys.stdout.flush()
                count += 1
