"""``mqa digest``: slow logs (or general logs) in, ranked query classes out."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from analyzer.digest.filters import EventFilter, parse_time_bound
from analyzer.report.digest import build_report
from cli.common import check_output, command_line, fail, stderr_console, write_bytes
from cli.progress import ReadProgress
from cli.render import (
    FILTER_HELP,
    GROUP_BY_HELP,
    REQUEST_TAG_HELP,
    REQUESTS_HELP,
    ROUTE_TAG_HELP,
    TZ_HELP,
    DigestFormat,
    Engine,
    FingerprintMode,
    OrderBy,
    time_zone,
    views_for,
    write_report,
)


def digest(
    logs: list[str] = typer.Argument(
        ...,
        metavar="LOG...",
        help="Slow logs, or general query logs: plain, .gz, .bz2, .xz, .zst, - for stdin, or s3://... URLs; "
        "and state files (--save-state).",
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
    fmt: DigestFormat = typer.Option(
        DigestFormat.table, "--format", "-f", help="Output format (parquet: files for DuckDB, pandas, Spark)."
    ),
    output: Optional[str] = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FILE",
        help="Write the report here instead of stdout (parquet: a folder, or a .parquet file for the classes).",
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
    save_state: Optional[str] = typer.Option(
        None,
        "--save-state",
        metavar="FILE",
        help="Also write the digest's mergeable state here: state files are inputs like logs (a fleet's hosts merge exactly).",
    ),
    source: Optional[list[str]] = typer.Option(
        None,
        "--source",
        metavar="NAME",
        help="Only these inputs (glob; repeat for several): logs by path, state files whole by their sources' names.",
    ),
    source_name: Optional[str] = typer.Option(
        None,
        "--source-name",
        metavar="NAME",
        help="Name the logs' source NAME (the host they come from) instead of their path.",
    ),
    engine: Engine = typer.Option(
        Engine.local, "--engine", help="local: processes here (--jobs); dask: the work units on a Dask cluster."
    ),
    scheduler: Optional[str] = typer.Option(
        None,
        "--scheduler",
        metavar="ADDRESS",
        help="--engine dask: the cluster's scheduler (tcp://HOST:8786); without it a local cluster is started.",
    ),
    events: bool = typer.Option(
        False, "--events", help="--format parquet: also write one row per event (events.parquet)."
    ),
) -> None:
    """Digest slow query logs (or general query logs, without timings) into query classes with statistics."""
    from analyzer.digest import digest_logs  # imported here so `mqa --help` stays fast

    if logs.count("-") > 1:
        fail("stdin (-) can be given only once")
    if fmt is DigestFormat.parquet and not output:
        fail("--format parquet needs --output DIR (or FILE.parquet)")
    if events and fmt is not DigestFormat.parquet:
        fail("--events goes with --format parquet")
    if scheduler and engine is not Engine.dask:
        fail("--scheduler goes with --engine dask")
    check_output(save_state)
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
        sources=tuple(source or ()),
    )
    show_progress = sys.stderr.isatty() if progress is None else progress
    with ReadProgress(stderr_console(), enabled=show_progress) as bar:
        done_by: dict[str, list[int]] = {}
        if engine is Engine.dask:
            from analyzer.digest.dask_engine import digest_on_dask

            result = digest_on_dask(
                logs,
                scheduler=scheduler,
                mode=fingerprint.value,
                event_filter=event_filter,
                progress=bar.update,
                views=views,
                workers=jobs or None,
                on_unit=lambda unit, address, pid: done_by.setdefault(address, []).append(pid),
            )
        else:
            result = digest_logs(
                logs,
                mode=fingerprint.value,
                event_filter=event_filter,
                progress=bar.update,
                jobs=jobs or None,
                views=views,
            )
    if done_by:
        stderr_console().print(
            f"mqa: {sum(len(p) for p in done_by.values())} work units read by {len(done_by)} Dask workers: "
            + ", ".join(f"{address} (pid {pids[0]})" for address, pids in sorted(done_by.items())),
            markup=False,
            soft_wrap=True,
        )
    if source_name:
        from analyzer.digest.state import is_state_file, rename_sources

        rename_sources(result, source_name, {"<stdin>" if p == "-" else p for p in logs if not is_state_file(p)})
    if save_state:
        from analyzer.digest.state import state_file_bytes

        write_bytes(save_state, state_file_bytes(result))
    parquet = fmt is DigestFormat.parquet
    report = build_report(
        result,
        order_by=order_by.value,
        limit=None if parquet else limit or None,
        tz=zone,
        command=command_line(),
        group_by=views.group_by,
    )
    if parquet:
        from cli.parquet import write_parquet

        write_parquet(report, result, output, logs if events else None, fingerprint.value, event_filter)  # type: ignore[arg-type]
        return
    write_report(report, fmt, output, details=details)
