"""``mqa explain`` (one statement) and ``mqa advise`` (a workload): plans, findings, indexes."""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from cli.common import console_for, errors_exit_2, fail, output_stream, stderr_console
from cli.connection import ServerArgs, open_server, server_options
from cli.render import Format


def _catalog(schema_file: Optional[str], server: Any, database: Optional[str], schemas: list[str] | None = None):  # noqa: ANN202
    from analyzer.sources.schema import Catalog, load_tables

    if schema_file:
        from analyzer.sources.schema_ddl import load_tables_from_ddl_file

        loaded = load_tables_from_ddl_file(schema_file, default_schema=database or "")
        for warning in loaded.warnings:
            sys.stderr.write(f"mqa: warning: {schema_file}: {warning}\n")
        default = database or (loaded.tables[0].schema if len({t.schema for t in loaded.tables}) == 1 else None)
        return Catalog(loaded.tables, default_schema=default, source="ddl")
    with server.translate_errors("read table and index metadata"):
        return Catalog(load_tables(server, schemas or None), default_schema=database, source="live")


def _render(advice: Any, fmt: Format, output: Optional[str], *, title: str, subtitle: str, statement: Optional[str],
            report: Any = None, details: int = 5, command: str) -> None:
    with output_stream(output) as stream:
        if fmt is Format.json:
            from analyzer.report.advice import advice_json

            stream.write(advice_json(advice, report=report, statement=statement, command=command))
        elif fmt is Format.markdown:
            from analyzer.report.advice import advice_markdown

            stream.write(advice_markdown(advice, title=title, statement=statement, details=details))
        else:
            from analyzer.report.advice import advice_terminal

            advice_terminal(advice, console_for(stream), title=title, subtitle=subtitle, statement=statement,
                            details=details)


@server_options
def explain(
    statement: str = typer.Argument(..., metavar="SQL", help="One real statement (SELECT, INSERT, UPDATE, DELETE or REPLACE); - reads it from stdin."),
    schema_file: Optional[str] = typer.Option(None, "--schema", metavar="FILE", help="Work offline from this DDL file instead of a server (no plan; index advice unverified)."),
    analyze: bool = typer.Option(False, "--analyze", help="Run the statement to get actual rows and times (MariaDB ANALYZE, MySQL EXPLAIN ANALYZE): SELECT only."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report here."),
    *,
    server_args: ServerArgs,
) -> None:
    """Explain one statement: its plan as a tree, what makes it slow, and the index that would help."""
    from analyzer.advisor.suggest import WorkloadClass
    from analyzer.advisor.workload import advise
    from analyzer.sources.explain import explain as run_explain
    from analyzer.sources.explain import explainable
    from analyzer.fingerprint.classifier import Fingerprinter

    sql = sys.stdin.read() if statement == "-" else statement
    if not sql.strip():
        fail("no statement given")
    check = explainable(sql)
    if not check.ok:
        fail(f"cannot explain this statement: {check.reason}")
    if analyze and schema_file:
        fail("--analyze needs a server, not --schema")
    fingerprinter = Fingerprinter()
    info = fingerprinter.describe(fingerprinter.key(sql)[0], sql)
    database = server_args.database
    wc = WorkloadClass(info.id, sql, database, count=0, fingerprint=info.fingerprint)
    if schema_file:
        with errors_exit_2():
            catalog = _catalog(schema_file, None, database)
            result = advise([wc], catalog=catalog, server=None, top=None, with_facts=False)
        where = f"offline, schema from {schema_file}"
    else:
        with open_server(server_args) as server, errors_exit_2():
            catalog = _catalog(None, server, database or _current_database(server))
            wc.database = wc.database or catalog.default_schema
            if analyze:
                wc.plan = run_explain(server, sql, database=wc.database, analyze=True)
            result = advise([wc], catalog=catalog, server=server, top=None, with_facts=False)
            where = server.description
    _render(result, fmt, output, title="mqa explain", subtitle=where, statement=sql, command="explain")


def _current_database(server: Any) -> Optional[str]:
    row = server.query_one("SELECT DATABASE() AS db")
    return row["db"] if row else None


@server_options
def advise(
    logs: Optional[list[str]] = typer.Argument(None, metavar="[LOG...]", help="Slow logs of the workload (plain, .gz, .bz2, .xz, .zst, or - for stdin); without any, the workload is a performance_schema --window."),
    window: Optional[str] = typer.Option(None, "--window", "-w", metavar="DURATION", help="No logs: watch the server's performance_schema this long (30s, 5m) and advise on what ran."),
    schema_file: Optional[str] = typer.Option(None, "--schema", metavar="FILE", help="Work offline from this DDL file instead of a server (no plans, suggestions unverified)."),
    verify: bool = typer.Option(False, "--verify", help="Re-EXPLAIN each class with the suggested indexes built in a scratch copy (--scratch-schema) or, on MySQL 8, as invisible indexes."),
    scratch_schema: Optional[str] = typer.Option(None, "--scratch-schema", metavar="DB", help="Where --verify builds copies of the tables (created and dropped by mqa; never an application schema)."),
    verify_dsn: Optional[str] = typer.Option(None, "--verify-dsn", metavar="DSN", help="Build the scratch copies on this server instead (needs CREATE, INSERT, ALTER, DROP there)."),
    sample_rows: int = typer.Option(1_000_000, "--sample-rows", min=0, help="Copy at most this many rows per table into the scratch schema (0: all)."),
    apply: bool = typer.Option(False, "--apply", help="Run the suggested DDL on the application tables (changes the server!)."),
    top: int = typer.Option(50, "--top", min=0, help="Advise the top N classes by total time (0: all)."),
    max_per_table: int = typer.Option(3, "--max-per-table", min=1, help="At most this many new indexes per table."),
    since: Optional[str] = typer.Option(None, "--since", metavar="T", help="Only log events at or after T."),
    until: Optional[str] = typer.Option(None, "--until", metavar="T", help="Only log events at or before T."),
    details: int = typer.Option(5, "--details", min=0, help="Show plans and findings of the top N classes (table and markdown)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report here."),
    *,
    server_args: ServerArgs,
) -> None:
    """Advise a workload: explain its expensive classes, run the checks, and propose the few indexes that save the most time."""
    from analyzer.advisor.workload import advise as run_advise
    from analyzer.advisor.workload import workload_from_report
    from analyzer.digest import digest_logs
    from analyzer.digest.filters import EventFilter, parse_time_bound
    from analyzer.report.model import build_report

    if not logs and (schema_file or not window):
        fail("give the workload's slow logs (LOG...), or - for stdin, or --window DURATION to watch a server's "
             "performance_schema")
    if logs and window:
        fail("--window is for advising without logs: give either LOG... or --window")
    if schema_file and (verify or apply):
        fail("--verify and --apply need a server, not --schema")
    if (scratch_schema or verify_dsn) and not verify:
        fail("--scratch-schema and --verify-dsn are for --verify")
    report = classes = None
    if logs:
        with errors_exit_2():
            event_filter = EventFilter(since=parse_time_bound(since) if since else None,
                                       until=parse_time_bound(until) if until else None)
            result = digest_logs(logs, event_filter=event_filter)
            report = build_report(result, limit=None, title="mqa advise")
            classes = workload_from_report(report)
    if schema_file:
        with errors_exit_2():
            # a schema file without CREATE DATABASE/USE describes the workload's (most used) database
            used = [wc.database for wc in classes if wc.database]
            database = server_args.database or (max(set(used), key=used.count) if used else None)
            catalog = _catalog(schema_file, None, database)
            for wc in classes:
                wc.database = wc.database or catalog.default_schema
            advice = run_advise(classes, catalog=catalog, server=None, top=top or None, max_per_table=max_per_table)
        where = f"offline, schema from {schema_file}"
    else:
        with open_server(server_args) as server, errors_exit_2():
            if classes is None:
                report = _watch(server, window or "60s")
                classes = workload_from_report(report)
            catalog = _catalog(None, server, server_args.database)
            for wc in classes:
                wc.database = wc.database or server_args.database
            advice = run_advise(classes, catalog=catalog, server=server, top=top or None, max_per_table=max_per_table)
            if verify:
                advice.verification = _verify(advice, catalog, server, server_args, scratch_schema, verify_dsn,
                                              sample_rows or None)
            if apply:
                _apply(advice, server_args)
            where = server.description
    _render(advice, fmt, output, title="mqa advise", subtitle=where, statement=None, report=report, details=details,
            command="advise")


def _watch(server: Any, window: str) -> Any:
    """The classes a performance_schema window saw, with real samples from the statement history
    (or MySQL 8's QUERY_SAMPLE_TEXT): what ``mqa collect`` reports."""
    import time

    from analyzer.sources.db import PERFORMANCE_SCHEMA_SELECT, require_privileges
    from analyzer.digest.filters import parse_duration
    from analyzer.report.model import build_report
    from analyzer.digest.window import window_result
    from analyzer.sources.perfschema import collect_window
    from cli.progress import WindowProgress

    seconds = parse_duration(window)
    require_privileges(server, [PERFORMANCE_SCHEMA_SELECT])
    with WindowProgress(stderr_console(), seconds, enabled=sys.stderr.isatty()) as countdown, \
            server.translate_errors("reading performance_schema"):
        collected = collect_window(server, seconds, sleep=countdown.sleep, clock=time.monotonic, samples=True)
    return build_report(window_result(collected), limit=None, title=f"mqa advise ({seconds:g}s window)")


def _verify(advice: Any, catalog: Any, server: Any, server_args: ServerArgs, scratch_schema: Optional[str],
            verify_dsn: Optional[str], sample_rows: Optional[int]) -> Any:
    from analyzer.advisor.verify import verify_in_scratch, verify_with_invisible_indexes
    from analyzer.sources.db import ConnectionOptions, connect

    if verify_dsn:
        options = ConnectionOptions(dsn=verify_dsn, no_defaults=server_args.no_defaults)
    else:
        options = server_args.connection_options()
    if scratch_schema is None and not getattr(server.capabilities, "invisible_indexes", False):
        fail("this server cannot use invisible indexes (MariaDB): give --scratch-schema DB, an empty or new "
             "schema where mqa copies the tables, builds the indexes, explains, and drops everything again")
    stderr_console().print("mqa: verifying the suggestions" + (f" in {scratch_schema}" if scratch_schema else
                                                               " with invisible indexes"), highlight=False)
    with errors_exit_2():
        target = connect(options, writable=True)
    with target:
        with errors_exit_2():
            if scratch_schema is None:
                return verify_with_invisible_indexes(advice, catalog, target=target)
            return verify_in_scratch(advice, catalog, source=server, target=target, scratch_schema=scratch_schema,
                                     sample_rows=sample_rows)


def _apply(advice: Any, server_args: ServerArgs) -> None:
    from analyzer.sources.db import connect

    statements = advice.indexes.ddl_statements()
    with errors_exit_2():
        target = connect(server_args.connection_options(), writable=True)
    with target:
        for ddl in statements:
            sys.stderr.write(f"mqa: applying: {ddl}\n")
            with errors_exit_2(), target.translate_errors("apply the index DDL"):
                target.query(ddl)
