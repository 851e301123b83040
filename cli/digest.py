"""``mqa digest``: slow logs (or general logs) in, ranked query classes out."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from analyzer.digest.filters import EventFilter, parse_time_bound
from analyzer.report.digest import build_report
from cli.common import command_line, fail, stderr_console
from cli.progress import ReadProgress
from cli.render import (
    FILTER_HELP,
    GROUP_BY_HELP,
    REQUEST_TAG_HELP,
    REQUESTS_HELP,
    ROUTE_TAG_HELP,
    TZ_HELP,
    FingerprintMode,
    Format,
    OrderBy,
    time_zone,
    views_for,
    write_report,
)


def digest(
    logs: list[str] = typer.Argument(
        ..., metavar="LOG...", help="Slow logs, or general query logs: plain, .gz, .bz2, .xz, .zst, or - for stdin."
    ),
    since: Optional[str] = typer.Option(
        None,
        "--since",
        metavar="T",
        help="Only events at or after T: ISO-8601 time or date, Unix epoch, or a duration back from now (12h, 7d).",
    ),
    until: Optional[str] = typer.Option(
        None, "--until", metavar="T", help="Only events at or before T (same forms as --since)."
    ),
    database: Optional[list[str]] = typer.Option(
        None, "--database", "-D", metavar="D", help="Only this database (glob; repeat for several)."
    ),
    user: Optional[list[str]] = typer.Option(
        None, "--user", metavar="U", help="Only this user (glob; repeat for several)."
    ),
    host: Optional[list[str]] = typer.Option(
        None, "--host", metavar="H", help="Only this client host (glob; repeat for several)."
    ),
    tag: Optional[list[str]] = typer.Option(
        None, "--tag", metavar="K=V", help="Only statements carrying this comment tag (K=V, or K for any value)."
    ),
    filter_expr: Optional[str] = typer.Option(None, "--filter", metavar="EXPR", help=FILTER_HELP),
    group_by: Optional[str] = typer.Option(None, "--group-by", metavar="DIM", help=GROUP_BY_HELP),
    request_tag: Optional[str] = typer.Option(None, "--request-tag", metavar="KEY", help=REQUEST_TAG_HELP),
    route_tag: str = typer.Option("route", "--route-tag", metavar="KEY", help=ROUTE_TAG_HELP),
    requests: bool = typer.Option(False, "--requests", help=REQUESTS_HELP),
    fingerprint: FingerprintMode = typer.Option(
        FingerprintMode.sqlglot,
        "--fingerprint",
        help="sqlglot: canonical classes (default); pt: pt-query-digest's fingerprints and IDs exactly.",
    ),
    order_by: OrderBy = typer.Option("total", "--order-by", help="Rank classes by this."),  # type: ignore[valid-type]
    limit: int = typer.Option(20, "--limit", "-n", min=0, help="Report the top N classes (0: all)."),
    details: int = typer.Option(
        5, "--details", min=0, help="Detailed sections for the top N classes (table and markdown)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the report here instead of stdout."
    ),
    tz: Optional[str] = typer.Option(None, "--tz", metavar="ZONE", help=TZ_HELP),
    progress: Optional[bool] = typer.Option(
        None, "--progress/--no-progress", help="Progress bar on stderr (default: when stderr is a terminal)."
    ),
    database_old: Optional[list[str]] = typer.Option(None, "-d", hidden=True, help="The old spelling of -D."),
    user_old: Optional[list[str]] = typer.Option(
        None, "-u", hidden=True, help="The old spelling of --user (-u is the account elsewhere)."
    ),
    jobs: int = typer.Option(
        0, "--jobs", "-j", min=0, help="Processes reading large or many logs in parallel (0: one per CPU, at most 4)."
    ),
) -> None:
    """Digest slow query logs (or general query logs, without timings) into query classes with statistics."""
    from analyzer.digest import digest_logs  # imported here so `mqa --help` stays fast

    if logs.count("-") > 1:
        fail("stdin (-) can be given only once")
    zone = time_zone(tz)
    views = views_for(group_by, request_tag, route_tag, requests)
    event_filter = EventFilter(
        since=parse_time_bound(since) if since else None,
        until=parse_time_bound(until) if until else None,
        databases=tuple((database or []) + (database_old or [])),
        users=tuple((user or []) + (user_old or [])),
        hosts=tuple(host or ()),
        tags=tuple(tag or ()),
        expression=filter_expr,
    )
    show_progress = sys.stderr.isatty() if progress is None else progress
    with ReadProgress(stderr_console(), enabled=show_progress) as bar:
        result = digest_logs(
            logs,
            mode=fingerprint.value,
            event_filter=event_filter,
            progress=bar.update,
            jobs=jobs or None,
            views=views,
        )
    report = build_report(
        result,
        order_by=order_by.value,
        limit=limit or None,
        tz=zone,
        command=command_line(),
        group_by=views.group_by,
    )
    write_report(report, fmt, output, details=details)
