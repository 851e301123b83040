"""``mqa history`` (the runs, a class's trend, reports merged by period) and ``mqa diff`` (two
reports or two runs compared).  Thin: the work is ``analyzer.jobs.history``'s and
``analyzer.history.compare``'s."""

from __future__ import annotations

import enum
import os
import sys
from typing import Optional

import typer

from cli.common import command_line, fail
from cli.render import TZ_HELP, Format, OrderBy, time_zone, write_report
from cli.report import HISTORY_HELP


class Merge(str, enum.Enum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


def history(
    class_id: Optional[str] = typer.Argument(
        None, metavar="[CLASS_ID]", help="Show this class's trend over the runs (an id or a prefix of 6+ characters)."
    ),
    history_url: Optional[str] = typer.Option(None, "--history", metavar="URL", help=HISTORY_HELP),
    label: Optional[str] = typer.Option(None, "--label", metavar="NAME", help="Only the runs of this label."),
    runs: int = typer.Option(30, "--runs", min=1, help="The last N runs (the run list and a trend)."),
    merge: Optional[Merge] = typer.Option(None, "--merge", help="Group the runs by period and merge their statistics."),
    period: Optional[str] = typer.Option(
        None,
        "--period",
        metavar="PERIOD",
        help="With --merge: the report of this period (2026-W49, 2026-12-06, 2026-12, or latest).",
    ),
    run: Optional[int] = typer.Option(None, "--run", metavar="ID", help="The report of one stored run."),
    order_by: OrderBy = typer.Option(
        "total", "--order-by", help="Rank classes by this (a period's or a run's report)."
    ),  # type: ignore[valid-type]
    limit: int = typer.Option(20, "--limit", "-n", min=0, help="Classes in a period's or a run's report (0: all)."),
    details: int = typer.Option(5, "--details", min=0, help="Detailed sections for the top N classes."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report here."),
    tz: Optional[str] = typer.Option(None, "--tz", metavar="ZONE", help=TZ_HELP + " Periods are cut in this zone too."),
) -> None:
    """The stored runs, one class's trend over them, or reports merged by day, week or month (no log is read again)."""
    from analyzer.history.store import HistoryStore
    from analyzer.jobs import history as jobs
    from analyzer.report.digest import build_report
    from analyzer.report.history import periods_view, runs_view, trend_view

    zone = time_zone(tz)
    if period is not None and merge is None:
        fail("--period is a period of --merge daily|weekly|monthly")
    if sum(x is not None for x in (class_id, merge, run)) > 1:
        fail("give one of CLASS_ID, --merge or --run")
    invocation = command_line()
    with HistoryStore.open(history_url) as store:
        if run is not None:
            info = store.run(run)
            model = build_report(
                store.run_result(run),
                order_by=order_by.value,
                limit=limit or None,
                title=f"mqa history: run {run} ({info.label})",
                tz=zone,
                command=invocation,
            )
        elif merge is not None:
            grouped = jobs.periods(store, merge.value, label=label, tz=zone)
            if not grouped:
                fail(f"{store.description}: no runs to merge" + (f" with label {label!r}" if label else ""))
            if period is None:
                model = periods_view(store.description, merge.value, grouped)
            else:
                chosen = grouped[-1] if period == "latest" else next((p for p in grouped if p.key == period), None)
                if chosen is None:
                    fail(f"no run in period {period!r}; the periods are: {', '.join(p.key for p in grouped)}")
                model = build_report(
                    jobs.merged(store, chosen),
                    order_by=order_by.value,
                    limit=limit or None,
                    title=f"mqa history: {chosen.key} ({len(chosen.runs)} runs merged)",
                    tz=zone,
                    command=invocation,
                )
        elif class_id is not None:
            full, points = jobs.class_trend(store, class_id, label=label, runs=runs)
            fingerprint = store.class_info([full]).get(full, ("", "", []))[0]
            model = trend_view(store.description, full, fingerprint, points, zone)
        else:
            model = runs_view(store.description, store.runs(label=label, limit=runs), zone)
    write_report(model, fmt, output, details=details, invocation=invocation)


def diff(
    base: str = typer.Argument(
        ..., metavar="BASE", help="A JSON report (digest, collect, report) or, with --history, a run id."
    ),
    new: str = typer.Argument(..., metavar="NEW", help="The same, to compare with BASE."),
    history_url: Optional[str] = typer.Option(
        None, "--history", metavar="URL", help="Where the run ids are: " + HISTORY_HELP
    ),
    fail_on: Optional[list[str]] = typer.Option(
        None, "--fail-on", metavar="EXPR", help="Exit 1 when crossed (repeatable), as in mqa report."
    ),
    min_calls: int = typer.Option(
        30, "--min-calls", min=1, help="A class must run this often in both before a change counts."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the comparison here."),
) -> None:
    """Compare two reports or two stored runs: new and vanished classes, regressions, improvements, plan changes."""
    from analyzer.history.compare import Guards, Threshold, compare
    from analyzer.report.diff import build_diff_report

    thresholds = [Threshold.parse(t) for t in fail_on or []]
    sides = [_snapshot(arg, history_url) for arg in (base, new)]
    comparison = compare(sides[0], sides[1], Guards(min_calls=min_calls))
    report = build_diff_report(comparison, title=f"mqa diff: {sides[0].name} → {sides[1].name}")
    write_report(report, fmt, output, invocation=command_line())
    crossed = [f"{t.text}: {why}" for t in thresholds if (why := t.crossed(sides[1], comparison))]
    for line in crossed:
        sys.stderr.write(f"mqa: fail-on {line}\n")
    if crossed:
        raise typer.Exit(1)


def _snapshot(arg: str, history_url: str | None):
    import json

    from analyzer.errors import InputError
    from analyzer.history.compare import snapshot_from_json

    if os.path.exists(arg) or arg == "-" or not arg.isdigit():
        try:
            if arg == "-":
                text = sys.stdin.buffer.read()
            else:
                with open(arg, "rb") as handle:
                    text = handle.read()
        except FileNotFoundError:
            raise InputError(f"{arg}: no such file (a run id needs --history)") from None
        except OSError as exc:
            raise InputError(f"{arg}: cannot read ({exc.strerror or exc})") from None
        try:
            doc = json.loads(text)
        except ValueError as exc:  # UnicodeDecodeError too
            raise InputError(f"{arg}: not JSON ({str(exc)[:120]})") from None
        return snapshot_from_json(doc, os.path.basename(arg) if arg != "-" else "stdin")
    if history_url is None:
        fail(f"{arg}: no such file; for run {arg} give --history")
    from analyzer.history.store import HistoryStore
    from analyzer.jobs.report import snapshot_from_run

    with HistoryStore.open(history_url) as store:
        return snapshot_from_run(store, store.run(int(arg)))
