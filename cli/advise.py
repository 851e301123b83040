"""``mqa explain`` (one statement) and ``mqa advise`` (a workload): plans, findings, indexes.

Thin: the options are parsed here, the work is ``analyzer.advisor.session``'s, the report is
rendered by the registry.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from cli.common import command_line, fail, stderr_console
from cli.connection import ServerArgs, open_server, server_options
from cli.render import (
    FILTER_HELP,
    REQUEST_TAG_HELP,
    REQUESTS_HELP,
    ROUTE_TAG_HELP,
    TZ_HELP,
    Format,
    time_zone,
    views_for,
    write_report,
)


def _warn(source: str, warnings: list[str]) -> None:
    for warning in warnings:
        sys.stderr.write(f"mqa: warning: {source}: {warning}\n")


@server_options
def explain(
    statement: Optional[str] = typer.Argument(
        None,
        metavar="SQL",
        help="One real statement (SELECT, INSERT, UPDATE, DELETE or REPLACE); - reads it from stdin.",
    ),
    log: Optional[list[str]] = typer.Option(
        None,
        "--log",
        metavar="LOG",
        help="Instead of SQL: explain the slowest statement of the costliest class in these slow logs (with --route or --tag, of that endpoint).",
    ),
    tag: Optional[list[str]] = typer.Option(
        None, "--tag", metavar="K=V", help="With --log: only statements whose comment carries this tag (repeatable)."
    ),
    route: Optional[str] = typer.Option(
        None, "--route", metavar="ROUTE", help="With --log: only statements of this route (its route tag's value)."
    ),
    route_tag: str = typer.Option("route", "--route-tag", metavar="KEY", help="The comment tag that names the route."),
    filter_expr: Optional[str] = typer.Option(None, "--filter", metavar="EXPR", help=FILTER_HELP),
    schema_file: Optional[str] = typer.Option(
        None,
        "--schema-file",
        "--schema",
        metavar="FILE",
        help="Work offline from this DDL file instead of a server (no plan; index advice unverified). (--schema: the old spelling.)",
    ),
    analyze: bool = typer.Option(
        False,
        "--analyze",
        help="Run the statement to get actual rows and times (MariaDB ANALYZE, MySQL EXPLAIN ANALYZE): SELECT only.",
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report here."),
    *,
    server_args: ServerArgs,
) -> None:
    """Explain one statement: its plan as a tree, what makes it slow, and the index that would help."""
    from analyzer.advisor.session import current_database, explain_one, load_catalog
    from analyzer.report.advice import build_advice_report

    if log:
        if statement is not None:
            fail("give either SQL or --log LOG, not both")
        sql = _statement_from_logs(log, tag, route, route_tag, filter_expr)
    elif tag or route or filter_expr:
        fail("--tag, --route and --filter pick a statement from --log LOG; give the slow logs")
    elif statement is None:
        fail("give the statement to explain (SQL, or - for stdin), or --log LOG to take one from slow logs")
    else:
        sql = sys.stdin.read() if statement == "-" else statement
    if not sql.strip():
        fail("no statement given")
    database = server_args.database
    if schema_file:
        if analyze:
            fail("--analyze needs a server, not --schema-file")
        catalog, warnings = load_catalog(schema_file=schema_file, database=database)
        _warn(schema_file, warnings)
        advice = explain_one(sql, catalog=catalog, database=database)
        where = f"offline, schema from {schema_file}"
    else:
        from analyzer.sources.explain import explainable

        check = explainable(sql)  # before connecting: a statement mqa will not explain needs no server
        if not check.ok:
            fail(f"cannot explain this statement: {check.reason}")
        with open_server(server_args) as server:
            catalog, _ = load_catalog(server=server, database=database or current_database(server))
            advice = explain_one(sql, catalog=catalog, server=server, database=catalog.default_schema, analyze=analyze)
            where = server.description
    write_report(
        build_advice_report(
            advice, title="mqa explain", subtitle=where, command="explain", statement=sql, invocation=command_line()
        ),
        fmt,
        output,
    )


def _statement_from_logs(
    logs: list[str], tag: Optional[list[str]], route: Optional[str], route_tag: str, filter_expr: Optional[str]
) -> str:
    """The slowest real statement of the costliest class in ``logs`` that passes the filters (the
    same tag, route and expression filters as advise and endpoint)."""
    from analyzer.digest import digest_logs
    from analyzer.digest.filters import EventFilter

    tags = tuple(tag or ()) + ((f"{route_tag}={route}",) if route else ())
    result = digest_logs(logs, event_filter=EventFilter(tags=tags, expression=filter_expr), jobs=None)
    explained = [c for c in result.classes if not c.admin and c.stats.example is not None]
    if not explained:
        wanted = f" carrying {' and '.join(tags)}" if tags else ""
        fail(f"no statement{wanted} in {', '.join(logs)} to explain")
    costliest = max(
        explained,
        key=lambda c: (c.stats.metrics["query_time"].total if "query_time" in c.stats.metrics else 0.0, c.stats.count),
    )
    return costliest.stats.example.query  # type: ignore[union-attr]


@server_options
def advise(
    logs: Optional[list[str]] = typer.Argument(
        None,
        metavar="[LOG...]",
        help="Slow logs of the workload (plain, .gz, .bz2, .xz, .zst, or - for stdin); without any, the workload is a performance_schema --window.",
    ),
    window: Optional[str] = typer.Option(
        None,
        "--window",
        "-w",
        metavar="DURATION",
        help="No logs: watch the server's performance_schema this long (30s, 5m) and advise on what ran.",
    ),
    schema_file: Optional[str] = typer.Option(
        None,
        "--schema-file",
        "--schema",
        metavar="FILE",
        help="Work offline from this DDL file instead of a server (no plans, suggestions unverified). (--schema: the old spelling.)",
    ),
    verify: bool = typer.Option(
        False,
        "--verify",
        help="Re-EXPLAIN each class with the suggested indexes built in a scratch copy (--scratch-schema) or, on MySQL 8, as invisible indexes.",
    ),
    scratch_schema: Optional[str] = typer.Option(
        None,
        "--scratch-schema",
        metavar="DB",
        help="Where --verify builds copies of the tables (created and dropped by mqa; never an application schema).",
    ),
    verify_dsn: Optional[str] = typer.Option(
        None,
        "--verify-dsn",
        metavar="DSN",
        help="Build the scratch copies on this server instead (needs CREATE, INSERT, ALTER, DROP there).",
    ),
    sample_rows: int = typer.Option(
        1_000_000,
        "--sample-rows",
        min=0,
        help="Copy at most this many rows per table into the scratch schema (0: all).",
    ),
    apply: bool = typer.Option(
        False, "--apply", help="Run the suggested DDL on the application tables (changes the server!)."
    ),
    top: int = typer.Option(50, "--top", min=0, help="Advise the top N classes by total time (0: all)."),
    max_per_table: int = typer.Option(3, "--max-per-table", min=1, help="At most this many new indexes per table."),
    since: Optional[str] = typer.Option(None, "--since", metavar="T", help="Only log events at or after T."),
    until: Optional[str] = typer.Option(None, "--until", metavar="T", help="Only log events at or before T."),
    details: int = typer.Option(
        5, "--details", min=0, help="Show plans and findings of the top N classes (table and markdown)."
    ),
    tag: Optional[list[str]] = typer.Option(
        None, "--tag", metavar="K=V", help="Only statements with this comment tag (repeatable)."
    ),
    route: Optional[str] = typer.Option(
        None, "--route", metavar="ROUTE", help="Only statements of this route (the route tag, or --route-tag)."
    ),
    route_tag: str = typer.Option("route", "--route-tag", metavar="KEY", help="The comment tag that names the route."),
    filter_expr: Optional[str] = typer.Option(None, "--filter", metavar="EXPR", help=FILTER_HELP),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report here."),
    tz: Optional[str] = typer.Option(None, "--tz", metavar="ZONE", help=TZ_HELP),
    *,
    server_args: ServerArgs,
) -> None:
    """Advise a workload: explain its expensive classes, run the checks, and propose the few indexes that save the most time."""
    from analyzer.digest.filters import EventFilter, parse_time_bound

    event_filter = EventFilter(
        since=parse_time_bound(since) if since else None,
        until=parse_time_bound(until) if until else None,
        tags=tuple(tag or ()) + ((f"{route_tag}={route}",) if route else ()),
        expression=filter_expr,
    )
    advise_workload(
        logs=logs,
        window=window,
        schema_file=schema_file,
        verify=verify,
        scratch_schema=scratch_schema,
        verify_dsn=verify_dsn,
        sample_rows=sample_rows,
        apply=apply,
        top=top,
        max_per_table=max_per_table,
        event_filter=event_filter,
        details=details,
        fmt=fmt,
        output=output,
        tz=tz,
        server_args=server_args,
        title="mqa advise",
        command="advise",
        route_tag=route_tag,
    )


def advise_workload(
    *,
    logs: Optional[list[str]],
    window: Optional[str],
    schema_file: Optional[str],
    verify: bool,
    scratch_schema: Optional[str],
    verify_dsn: Optional[str],
    sample_rows: int,
    apply: bool,
    top: int,
    max_per_table: int,
    event_filter,
    details: int,
    fmt: Format,
    output: Optional[str],
    tz: Optional[str],
    server_args: ServerArgs,
    title: str,
    command: str,
    route_tag: str = "route",
    views=None,
    required: str | None = None,  # what the logs must hold (an endpoint's tag): an error when nothing does
) -> None:
    """``advise`` and ``endpoint``: digest the workload, advise it, render the report."""
    from analyzer.advisor.session import apply_advice, load_catalog, watch_window, workload_database
    from analyzer.advisor.workload import advise as run_advise
    from analyzer.advisor.workload import workload_from_result
    from analyzer.digest import digest_logs
    from analyzer.digest.filters import parse_duration
    from analyzer.report.advice import build_advice_report
    from analyzer.report.digest import build_report

    if not logs and (schema_file or not window):
        fail(
            "give the workload's slow logs (LOG...), or - for stdin, or --window DURATION to watch a server's "
            "performance_schema"
        )
    if logs and window:
        fail("--window is for advising without logs: give either LOG... or --window")
    if schema_file and (verify or apply):
        fail("--verify and --apply need a server, not --schema-file")
    if (scratch_schema or verify_dsn) and not verify:
        fail("--scratch-schema and --verify-dsn are for --verify")
    zone = time_zone(tz)
    result = None
    if logs:
        result = digest_logs(logs, event_filter=event_filter, views=views, jobs=None)
        if required and not result.totals.count:
            fail(
                f"no statement in the logs carries the comment tag {required} "
                f"(mqa digest LOG --group-by tag:{route_tag} lists the routes)"
            )
    if schema_file:
        classes = workload_from_result(result)
        database = workload_database(classes, server_args.database)
        catalog, warnings = load_catalog(schema_file=schema_file, database=database)
        _warn(schema_file, warnings)
        for wc in classes:
            wc.database = wc.database or catalog.default_schema
        advice = run_advise(classes, catalog=catalog, server=None, top=top or None, max_per_table=max_per_table)
        where = f"offline, schema from {schema_file}"
    else:
        with open_server(server_args) as server:
            if result is None:
                from cli.progress import WindowProgress

                seconds = parse_duration(window or "60s")
                with WindowProgress(stderr_console(), seconds, enabled=sys.stderr.isatty()) as countdown:
                    result = watch_window(server, seconds, sleep=countdown.sleep)
                title = f"{title} ({seconds:g}s window)"
            classes = workload_from_result(result)
            catalog, _ = load_catalog(server=server, database=server_args.database)
            for wc in classes:
                wc.database = wc.database or server_args.database
            advice = run_advise(classes, catalog=catalog, server=server, top=top or None, max_per_table=max_per_table)
            if verify:
                _verify(advice, catalog, server, server_args, scratch_schema, verify_dsn, sample_rows or None)
            if apply:
                from analyzer.sources.db import connect

                with connect(server_args.connection_options(), writable=True) as target:
                    apply_advice(advice, target, before=lambda ddl: sys.stderr.write(f"mqa: applying: {ddl}\n"))
            where = server.description
    invocation = command_line()
    digest_title = "The endpoint's statements" if command == "endpoint" else title
    report = (
        build_report(result, limit=None, title=digest_title, tz=zone, command=invocation)
        if result is not None
        else None
    )
    write_report(
        build_advice_report(
            advice,
            title=title,
            subtitle=where,
            command=command,
            report=report,
            details=details,
            invocation=invocation,
        ),
        fmt,
        output,
        details=details,
    )
    if advice.interrupted:
        from analyzer.errors import AnalyzerError

        raise AnalyzerError(f"the report is partial: {advice.interrupted}")


def _verify(
    advice,
    catalog,
    server,
    server_args: ServerArgs,
    scratch_schema: Optional[str],
    verify_dsn: Optional[str],
    sample_rows: Optional[int],
) -> None:
    from analyzer.advisor.session import verify_advice
    from analyzer.sources.db import ConnectionOptions, connect

    options = (
        ConnectionOptions(dsn=verify_dsn, no_defaults=server_args.no_defaults)
        if verify_dsn
        else server_args.connection_options()
    )
    stderr_console().print(
        "mqa: verifying the suggestions" + (f" in {scratch_schema}" if scratch_schema else " with invisible indexes"),
        highlight=False,
    )
    with connect(options, writable=True) as target:
        advice.verification = verify_advice(
            advice, catalog, source=server, target=target, scratch_schema=scratch_schema, sample_rows=sample_rows
        )


@server_options
def endpoint(
    logs: list[str] = typer.Argument(..., metavar="LOG...", help="Slow logs (plain or compressed, - for stdin)."),
    route: Optional[str] = typer.Option(
        None, "--route", metavar="ROUTE", help="The endpoint: its route tag's value (/account/orders)."
    ),
    tag: Optional[list[str]] = typer.Option(
        None, "--tag", metavar="K=V", help="Or the endpoint's statements by another comment tag (controller=orders)."
    ),
    route_tag: str = typer.Option("route", "--route-tag", metavar="KEY", help=ROUTE_TAG_HELP),
    request_tag: Optional[str] = typer.Option(None, "--request-tag", metavar="KEY", help=REQUEST_TAG_HELP),
    requests: bool = typer.Option(False, "--requests", help=REQUESTS_HELP),
    schema_file: Optional[str] = typer.Option(
        None,
        "--schema-file",
        "--schema",
        metavar="FILE",
        help="Work offline from this DDL file instead of a server (no plans, suggestions unverified).",
    ),
    since: Optional[str] = typer.Option(None, "--since", metavar="T", help="Only log events at or after T."),
    until: Optional[str] = typer.Option(None, "--until", metavar="T", help="Only log events at or before T."),
    filter_expr: Optional[str] = typer.Option(None, "--filter", metavar="EXPR", help=FILTER_HELP),
    top: int = typer.Option(50, "--top", min=0, help="Advise the endpoint's top N classes by total time (0: all)."),
    details: int = typer.Option(5, "--details", min=0, help="Show plans and findings of the top N classes."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report here."),
    tz: Optional[str] = typer.Option(None, "--tz", metavar="ZONE", help=TZ_HELP),
    *,
    server_args: ServerArgs,
) -> None:
    """One endpoint: its query classes, what one request costs (statements and database time per request, the shapes it repeats), its plans, findings, index suggestions and rewrites."""
    from analyzer.digest.filters import EventFilter, parse_time_bound

    if not route and not tag:
        fail("name the endpoint: --route ROUTE (its route tag's value) or --tag K=V")
    tags = tuple(tag or ()) + ((f"{route_tag}={route}",) if route else ())
    event_filter = EventFilter(
        since=parse_time_bound(since) if since else None,
        until=parse_time_bound(until) if until else None,
        tags=tags,
        expression=filter_expr,
    )
    advise_workload(
        logs=logs,
        window=None,
        schema_file=schema_file,
        verify=False,
        scratch_schema=None,
        verify_dsn=None,
        sample_rows=0,
        apply=False,
        top=top,
        max_per_table=3,
        event_filter=event_filter,
        details=details,
        fmt=fmt,
        output=output,
        tz=tz,
        server_args=server_args,
        title=f"mqa endpoint {route or ', '.join(tags)}",
        command="endpoint",
        route_tag=route_tag,
        views=views_for(None, request_tag, route_tag, requests),
        required=" or ".join(tags),
    )
