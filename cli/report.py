"""``mqa report``: the command for cron, systemd timers and CI.

Thin: the options are parsed here; reading, measuring, advising and comparing are
``analyzer.jobs.report``'s; the outputs are written to temporary files inside the run's history
transaction and renamed into place once it is committed.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from cli.common import PendingOutput, command_line, fail, stderr_console
from cli.connection import ServerArgs, open_server, server_options
from cli.progress import ReadProgress
from cli.render import (
    FILTER_HELP,
    GROUP_BY_HELP,
    REQUEST_TAG_HELP,
    REQUESTS_HELP,
    ROUTE_TAG_HELP,
    TZ_HELP,
    FingerprintMode,
    OrderBy,
    time_zone,
    views_for,
)

HISTORY_HELP = (
    "Keep the runs in this history and read only what is new: sqlite:///PATH or mysql://user@host:port/db; "
    "alone (--history), a SQLite file under ~/.local/share/mqa."
)


@server_options
def report(
    logs: Optional[list[str]] = typer.Argument(
        None,
        metavar="[LOG...]",
        help="Slow logs (plain or compressed, - for stdin); with --history only new events are read.",
    ),
    window: Optional[str] = typer.Option(
        None, "--window", "-w", metavar="DURATION", help="Also watch the server's performance_schema this long (5m)."
    ),
    history: Optional[str] = typer.Option(None, "--history", metavar="URL", help=HISTORY_HELP),
    label: str = typer.Option(
        "default",
        "--label",
        metavar="NAME",
        help="The job's name: runs compare with the previous run of the same label.",
    ),
    baseline: str = typer.Option(
        "previous", "--baseline", metavar="previous|LABEL|RUN_ID", help="What to compare with (needs --history)."
    ),
    html_out: Optional[str] = typer.Option(None, "--html", metavar="FILE", help="Write the HTML report here."),
    json_out: Optional[str] = typer.Option(
        None, "--json", metavar="FILE", help="Write the JSON report here (every class)."
    ),
    markdown_out: Optional[str] = typer.Option(
        None, "--markdown", metavar="FILE", help="Write the Markdown report here."
    ),
    fail_on: Optional[list[str]] = typer.Option(
        None,
        "--fail-on",
        metavar="EXPR",
        help="Exit 1 when crossed (repeatable): p95_regression>50%, regressions>0, finding>=critical, ...",
    ),
    keep: Optional[str] = typer.Option(
        None,
        "--keep",
        metavar="90d|N",
        help="Retention: drop this label's runs older than a duration, or beyond the last N.",
    ),
    since: Optional[str] = typer.Option(None, "--since", metavar="T", help="Only log events at or after T."),
    until: Optional[str] = typer.Option(None, "--until", metavar="T", help="Only log events at or before T."),
    only_database: Optional[list[str]] = typer.Option(
        None, "--only-database", metavar="D", help="Only events of this database (glob, repeatable)."
    ),
    only_user: Optional[list[str]] = typer.Option(
        None, "--only-user", metavar="U", help="Only events of this user (glob, repeatable)."
    ),
    only_host: Optional[list[str]] = typer.Option(
        None, "--only-host", metavar="H", help="Only events from this client host (glob, repeatable)."
    ),
    tag: Optional[list[str]] = typer.Option(
        None, "--tag", metavar="K=V", help="Only statements with this comment tag (repeatable)."
    ),
    filter_expr: Optional[str] = typer.Option(None, "--filter", metavar="EXPR", help=FILTER_HELP),
    group_by: Optional[str] = typer.Option(None, "--group-by", metavar="DIM", help=GROUP_BY_HELP),
    request_tag: Optional[str] = typer.Option(None, "--request-tag", metavar="KEY", help=REQUEST_TAG_HELP),
    route_tag: str = typer.Option("route", "--route-tag", metavar="KEY", help=ROUTE_TAG_HELP),
    requests: bool = typer.Option(False, "--requests", help=REQUESTS_HELP),
    fingerprint: FingerprintMode = typer.Option(
        FingerprintMode.sqlglot, "--fingerprint", help="Query class definition."
    ),
    order_by: OrderBy = typer.Option("total", "--order-by", help="Rank classes by this."),  # type: ignore[valid-type]
    limit: int = typer.Option(
        20, "--limit", "-n", min=0, help="Classes in the terminal and Markdown report (0: all; JSON and HTML have all)."
    ),
    details: int = typer.Option(5, "--details", min=0, help="Detailed sections for the top N classes."),
    top: int = typer.Option(20, "--top", min=0, help="With a server: explain and advise the top N classes (0: all)."),
    health: bool = typer.Option(True, "--health/--no-health", help="With a server: run the index-health checks."),
    min_calls: int = typer.Option(
        30, "--min-calls", min=1, help="A class must run this often in both runs before a change counts."
    ),
    tz: Optional[str] = typer.Option(None, "--tz", metavar="ZONE", help=TZ_HELP),
    progress: Optional[bool] = typer.Option(
        None, "--progress/--no-progress", help="Progress on stderr (default: on a terminal)."
    ),
    *,
    server_args: ServerArgs,
) -> None:
    """Read what is new, report it, compare it with the last run, keep the history, and fail on regressions: the command for cron and CI."""
    from analyzer.digest.filters import EventFilter, parse_duration, parse_time_bound
    from analyzer.history.compare import Guards, Threshold
    from analyzer.history.store import HistoryStore, Retention
    from analyzer.jobs.report import ReportSpec, run_report_job, save_run
    from analyzer.report.job import build_job_report
    from analyzer.report.options import RenderOptions

    thresholds = [Threshold.parse(t) for t in fail_on or []]
    views = views_for(group_by, request_tag, route_tag, requests)
    if window and views.group_by not in (None, "db", "table"):
        fail(f"--group-by {views.group_by} with --window: performance_schema groups by db or table only")
    retention = Retention.parse(keep) if keep else None
    zone = time_zone(tz)
    seconds = parse_duration(window) if window else None
    if retention is not None and history is None:
        fail("--keep is the history's retention: give --history too")
    if baseline != "previous" and history is None:
        fail("--baseline needs --history (the runs to compare with)")
    if not logs and seconds is None:
        fail("give the slow logs to read (LOG...), or --window DURATION with connection options")
    if logs and logs.count("-") > 1:
        fail("stdin (-) can be given only once")
    outputs = [
        (fmt, PendingOutput(path))
        for fmt, path in (("html", html_out), ("json", json_out), ("markdown", markdown_out))
        if path
    ]
    event_filter = EventFilter(
        since=parse_time_bound(since) if since else None,
        until=parse_time_bound(until) if until else None,
        databases=tuple(only_database or ()),
        users=tuple(only_user or ()),
        hosts=tuple(only_host or ()),
        tags=tuple(tag or ()),
        expression=filter_expr,
    )
    spec = ReportSpec(
        logs=list(logs or []),
        window=seconds,
        label=label,
        baseline=baseline,
        mode=fingerprint.value,
        event_filter=event_filter,
        top=top,
        database=server_args.database,
        health=health,
        guards=Guards(min_calls=min_calls),
        command=command_line(),
        views=views,
    )
    store = HistoryStore.open(history) if history is not None else None
    server = None
    try:
        if seconds is not None or server_args.given():
            server = open_server(server_args)
        show = sys.stderr.isatty() if progress is None else progress
        with ReadProgress(stderr_console(), enabled=show) as bar:
            job = run_report_job(spec, store=store, server=server, progress=bar.update)
    finally:
        if server is not None:
            server.close()
    crossed = job.crossed(thresholds)
    options = RenderOptions(details=details)

    def write_outputs(run_id: int | None = None) -> None:
        from io import StringIO

        from analyzer.report.render import render

        model = build_job_report(job, limit=limit or None, order_by=order_by.value, tz=zone, crossed=crossed)
        for fmt, pending in outputs:
            buffer = StringIO()
            render(model, fmt, buffer, options)
            pending.write(buffer.getvalue())

    try:
        if store is not None:
            try:
                save_run(job, store, retention, before_commit=write_outputs)
            finally:
                store.close()
        else:
            write_outputs()
        from analyzer.failpoints import failpoint

        failpoint("report.rename")
        for _, pending in outputs:
            pending.commit()
    finally:
        for _, pending in outputs:
            pending.discard()
    if not outputs:
        from analyzer.report.render import render

        model = build_job_report(job, limit=limit or None, order_by=order_by.value, tz=zone, crossed=crossed)
        render(model, "table", sys.stdout, options)
    if thresholds and job.comparison is None and any(t.needs_baseline for t in thresholds):
        sys.stderr.write(
            "mqa: note: no baseline to compare with"
            + (" (the first run of this label)" if store is not None else " (give --history)")
            + ": the comparison thresholds were not evaluated\n"
        )
    for line in crossed:
        sys.stderr.write(f"mqa: fail-on {line}\n")
    if job.interrupted:
        from analyzer.errors import AnalyzerError

        raise AnalyzerError(f"the report is partial: {job.interrupted}")
    if crossed:
        raise typer.Exit(1)
