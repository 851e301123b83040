"""``mqa collect``: what a live server executed in a time window (performance_schema)."""

from __future__ import annotations

import sys
import time
from typing import Optional

import typer

from cli.common import command_line, fail, stderr_console
from cli.connection import ServerArgs, open_server, server_options
from cli.progress import WindowProgress
from cli.render import GROUP_BY_HELP, TZ_HELP, FingerprintMode, Format, OrderBy, time_zone, write_report


@server_options
def collect(
    window: str = typer.Option("60s", "--window", "-w", metavar="DURATION", help="How long to watch: 30s, 5m, 1h."),
    slow_logs: Optional[list[str]] = typer.Option(
        None,
        "--slow-log",
        metavar="LOG",
        help="Also read this slow log (repeatable) for the same window: counts stay performance_schema's, "
        "percentiles, examples, users, hosts and tags come from the log.",
    ),
    samples: bool = typer.Option(
        True, "--samples/--no-samples", help="Keep real statements from the statement history."
    ),
    fingerprint: FingerprintMode = typer.Option(
        FingerprintMode.sqlglot, "--fingerprint", help="Class fingerprints: sqlglot or pt."
    ),
    order_by: OrderBy = typer.Option("total", "--order-by", help="Rank classes by this."),  # type: ignore[valid-type]
    limit: int = typer.Option(20, "--limit", "-n", min=0, help="Report the top N classes (0: all)."),
    details: int = typer.Option(5, "--details", min=0, help="Detailed sections for the top N classes."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report here."),
    tz: Optional[str] = typer.Option(None, "--tz", metavar="ZONE", help=TZ_HELP),
    group_by: Optional[str] = typer.Option(None, "--group-by", metavar="DIM", help=GROUP_BY_HELP),
    progress: Optional[bool] = typer.Option(
        None, "--progress/--no-progress", help="Countdown on stderr (default: on a terminal)."
    ),
    *,
    server_args: ServerArgs,
) -> None:
    """Watch a live server for a window (performance_schema statement digests) and report its query classes."""
    from analyzer.digest.filters import EventFilter, TimeBound, parse_duration
    from analyzer.digest.window import window_result
    from analyzer.report.digest import build_report
    from analyzer.sources.db import PERFORMANCE_SCHEMA_SELECT, require_privileges
    from analyzer.sources.perfschema import collect_window

    seconds = parse_duration(window)
    if group_by is not None:
        from analyzer.digest.groups import parse_group_by

        group_by = parse_group_by(group_by)
        if group_by not in ("db", "table"):
            fail(
                f"--group-by {group_by}: performance_schema keeps no per-statement tags, users, hosts or files; "
                "a window groups by db or table (mqa digest groups a slow log by anything)"
            )
    zone = time_zone(tz)
    with open_server(server_args) as server:
        require_privileges(server, [PERFORMANCE_SCHEMA_SELECT])
        show = sys.stderr.isatty() if progress is None else progress
        with (
            WindowProgress(stderr_console(), seconds, enabled=show) as countdown,
            server.translate_errors("reading performance_schema"),
        ):
            collected = collect_window(server, seconds, sleep=countdown.sleep, clock=time.monotonic, samples=samples)
        result = window_result(collected, fingerprint.value)
        if slow_logs:
            from analyzer.digest import digest_logs
            from analyzer.digest.combine import combine

            same_time = EventFilter(  # and not mqa's own reads, which the window leaves out too
                since=TimeBound(collected.started_at, True, "window start"),
                until=TimeBound(collected.ended_at, True, "window end"),
                exclude_threads=frozenset({str(server.connection_id)}),
            )
            result = combine(result, digest_logs(slow_logs, mode=fingerprint.value, event_filter=same_time, jobs=None))
    title = f"mqa collect ({seconds:g}s window" + (" + slow log)" if slow_logs else ")")
    report = build_report(
        result,
        order_by=order_by.value,
        limit=limit or None,
        title=title,
        tz=zone,
        command=command_line(),
        group_by=group_by,
    )
    write_report(report, fmt, output, details=details)
