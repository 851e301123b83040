"""The Markdown renderer (GitHub-flavoured) of every report model: for pull requests, wikis and
tickets.  Text from logs and servers goes into code spans and fenced blocks longer than any
backtick run inside it, or is escaped; nothing from a log becomes Markdown or HTML."""

from __future__ import annotations

import html
import re
from functools import singledispatch
from typing import Any, TextIO

from analyzer.report import numbers as fmt
from analyzer.report.advice import AdviceReport
from analyzer.report.diff import METRIC_NAMES, DiffReport
from analyzer.report.digest import ClassReport, Report
from analyzer.report.health import HealthReport
from analyzer.report.history import PeriodsView, RunsView, TrendView
from analyzer.report.job import JobReport
from analyzer.report.options import RenderOptions
from analyzer.report.render.plan import node_text
from analyzer.report.text import visible
from analyzer.report.top import TopView
from analyzer.sources.explain import PlanNode
from analyzer.stats import HISTOGRAM_LABELS

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def render(model: Any, stream: TextIO, options: RenderOptions | None = None) -> None:
    stream.write(to_markdown(model, options or RenderOptions()))


@singledispatch
def to_markdown(model: Any, options: RenderOptions) -> str:
    raise TypeError(f"no Markdown rendering for {type(model).__name__}")


# --------------------------------------------------------------------------------------------
# digest / collect
# --------------------------------------------------------------------------------------------


def _digest(report: Report, options: RenderOptions) -> str:
    details = options.details
    s = report.summary
    out: list[str] = [f"# {report.title}", ""]
    facts = [
        f"**{s.events:,}** events, **{s.classes:,}** classes",
        f"total query time **{fmt.seconds(s.query_time_total)}**" if report.timed else "no query times",
    ]
    if s.start:
        facts.append(f"from {_escape(s.start)} to {_escape(s.end or '')} ({fmt.span(s.span_seconds)})")
    if s.qps is not None:
        facts.append(f"{s.qps:.3g} QPS")
    out.append(", ".join(facts) + ".")
    out.append("")
    out.append(
        f"Fingerprint mode `{report.fingerprint_mode}`, ordered by {report.order_by}"
        + (f"; {s.unparsed_classes} classes sqlglot could not parse" if s.unparsed_classes else "")
        + "."
    )
    out.append("")
    out.append("| Source | Dialect | Events | Kept | Malformed |")
    out.append("|---|---|---:|---:|---:|")
    for src in report.sources:
        dialect = _escape(src.dialect)
        if src.kind == "generallog":
            conns = src.connections
            dialect += f"{'; ' if dialect else ''}general log ({_escape(src.format or '')}), "
            dialect += f"{conns.get('seen', 0):,} connections ({conns.get('opened', 0):,} opened in the log"
            dialect += f", {conns['failed']:,} refused)" if conns.get("failed") else ")"
        out.append(f"| {_escape(src.name)} | {dialect} | {src.events:,} | {src.kept:,} | {src.malformed:,} |")
    if report.notes:
        out.append("")
        out += [f"> **Note:** {_escape(note)}" for note in report.notes]
    malformed = [(src.name, line, reason) for src in report.sources for line, reason in src.malformed_samples]
    if malformed:
        out.append("")
        out.append("Malformed events (skipped):")
        out.append("")
        for name, line, reason in malformed[:20]:
            out.append(f"- {_escape(name)}:{line}: {_escape(reason)}")
        if s.malformed > 20:
            out.append(f"- ... and {s.malformed - 20:,} more")
    if not report.classes:
        out += ["", "No query events found.", ""]
        return "\n".join(out)

    out += ["", f"## Profile: top {len(report.classes)} of {s.classes} classes", ""]
    if not report.timed:  # without timings (a general log): counts and shares of calls
        out.append("| Rank | Class | Count | % of calls | Fingerprint |")
        out.append("|---:|---|---:|---:|---|")
        for cls in report.classes:
            out.append(
                f"| {cls.rank} | `{cls.id}` | {fmt.count(cls.count)} | {fmt.percent(cls.call_share)} "
                f"| {_code_span(_profile_text(cls.fingerprint))} |"
            )
    else:
        out.append("| Rank | Class | Time | % | Count | Avg | p95 | Rows ex/sent | Fingerprint |")
        out.append("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for cls in report.classes if report.timed else ():
        qt = cls.metrics.get("query_time")
        fingerprint = _profile_text(cls.fingerprint)
        out.append(
            f"| {cls.rank} | `{cls.id}` | {fmt.seconds(qt.sum if qt else None)} | {fmt.percent(cls.share)} "
            f"| {fmt.count(cls.count)} | {fmt.seconds(qt.avg if qt else None)} | {fmt.seconds(qt.p95 if qt else None)} "
            f"| {fmt.ratio(cls.rows_examined_per_sent)} | {_code_span(fingerprint)} |"
        )
    if report.group_by is not None:
        out += ["", *_groups(report)]
    if report.routes:
        out += ["", *_routes(report)]
    for cls in report.classes[: max(0, details)]:
        out += [""] + _details(cls)
    out.append("")
    return "\n".join(out)


def _profile_text(fingerprint: str) -> str:
    text = visible(fingerprint).replace("\n", " ")
    return text[:117] + "..." if len(text) > 120 else text


def _summary(text: str) -> str:
    """Text inside a ``<summary>`` (HTML, where Markdown is not read): escaped as HTML."""
    return html.escape(visible(text), quote=False)


def _groups(report: Report) -> list[str]:
    out = [f"## Groups by {_md_cell(report.group_by or '')}", ""]
    out.append("| Rank | Group | Time | % | Count | p95 | Rows ex/sent | Top classes |")
    out.append("|---:|---|---:|---:|---:|---:|---:|---|")
    timed = report.timed  # without timings (a general log) no time is shown: "-"
    for g in report.groups[:100]:
        top = ", ".join(
            f"`{c.class_id[:12]}`" + (f" {fmt.seconds(c.query_time)}" if timed else "") for c in g.classes[:3]
        )
        more = f" (+{g.class_count - 3})" if g.class_count > 3 else ""
        out.append(
            f"| {g.rank} | {_md_cell(g.value)} | {fmt.seconds(g.query_time if timed else None)} | "
            f"{fmt.percent(g.share) if timed else '-'} | "
            f"{fmt.count(g.count)} | {fmt.seconds(g.p95)} | {fmt.ratio(g.rows_examined_per_sent)} | {top}{more} |"
        )
    return out


def _routes(report: Report) -> list[str]:
    inferred = all(r.inferred for r in report.routes)
    out = ["## Per request" + (" (inferred: bursts per connection, no request ids)" if inferred else ""), ""]
    out.append("| Route | Requests | Statements p50 / p95 / max | DB time p50 / p95 / max | Repeated in one request |")
    out.append("|---|---:|---:|---:|---|")
    for r in report.routes[:50]:
        repeated = "; ".join(f"`{x.class_id[:12]}` {x.p50}× (max {x.max})" for x in r.repeated[:3]) or "-"
        out.append(
            f"| {_md_cell(r.route)} | {r.requests:,} | {r.statements.p50:.0f} / {r.statements.p95:.0f} / "
            f"{r.statements.max:.0f} | "
            + (
                f"{fmt.seconds(r.db_time.p50)} / {fmt.seconds(r.db_time.p95)} / {fmt.seconds(r.db_time.max)}"
                if report.timed
                else "-"
            )
            + f" | {repeated} |"
        )
    fixes = [(r, x) for r in report.routes for x in r.repeated]
    if fixes:
        out.append("")
        for r, x in fixes[:20]:
            out.append(
                f"- **{_md_cell(r.route)}** runs {_code_span(' '.join(x.fingerprint.split()))} "
                f"{x.p50} times per request (max {x.max}). {_md_cell(x.fix)}"
            )
    return out


def _details(cls: ClassReport) -> list[str]:
    """A class's section: a ``<details>`` element (GitHub renders the Markdown inside it when blank
    lines surround it), closed but for its summary line."""
    share = f"{fmt.percent(cls.share)} of query time" if cls.timed else f"{fmt.percent(cls.call_share)} of executions"
    out = [
        f"<details><summary><b>#{cls.rank}</b> <code>{_summary(cls.id)}</code> {_summary(cls.kind)}: "
        f"{share}, {cls.count:,} events</summary>",
        "",
    ]
    line = f"pt-query-digest ID `0x{cls.pt_id}`; {share}, {cls.count:,} events"
    if cls.qps is not None:
        line += f", {cls.qps:.3g} QPS"
    if cls.first_seen:
        line += f"; seen {_escape(cls.first_seen)} to {_escape(cls.last_seen or '')}"
    out.append(line + ".")
    if any(m.kind != "flag" for m in cls.metrics.values()):
        out += ["", "| Metric | Total | Min | Max | Avg | p50 | p95 | p99 | Stddev |"]
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, m in cls.metrics.items():
        if m.kind == "flag":
            continue
        cells = " | ".join(fmt.metric(m, v) for v in (m.sum, m.min, m.max, m.avg, m.p50, m.p95, m.p99, m.stddev))
        out.append(f"| {_escape(name)} | {cells} |")
    flags = [(name, m) for name, m in cls.metrics.items() if m.kind == "flag"]
    if flags:
        shown = ", ".join(f"{_escape(name)} {fmt.percent(m.avg)}" for name, m in flags if m.sum) or "none raised"
        out += ["", f"Flags (share of events): {shown}."]
    if any(cls.histogram):
        peak = max(cls.histogram)
        out += ["", "Query time distribution:", "", "```"]
        for label, n in zip(HISTOGRAM_LABELS, cls.histogram):
            bar = "#" * round(n / peak * 40) if n else ""
            out.append(f"{label:>6} {bar or ('.' if n else '')}{f' {n:,}' if n else ''}")
        out.append("```")
    out.append("")
    for label, values in cls.attribute_counts:
        if values:
            shown = ", ".join(f"{_escape(k)} ({v:,})" for k, v in list(values.items())[:10])
            more = f", and {len(values) - 10} more" if len(values) > 10 else ""
            out.append(f"- **{label}:** {shown}{more}")
    if cls.tables:
        out.append(f"- **Tables:** {', '.join(_escape(t) for t in cls.tables)}")
    out += ["", "Fingerprint:", ""] + code_block(cls.fingerprint)
    if cls.example is not None:
        ex = cls.example
        where = f"{_escape(ex.source)}:{ex.line}"
        when = f" at {_escape(ex.ts)}" if ex.ts else ""
        if cls.timed:
            out += ["", f"Example (slowest, {fmt.seconds(ex.query_time)}{when}, {where}):", ""]
        else:
            out += ["", f"Example ({when[1:] + ', ' if when else ''}{where}):", ""]
        out += code_block(ex.query)
    return out + ["", "</details>"]


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", visible(text)).replace("\n", " ")


def _code_span(text: str) -> str:
    """Inline code that survives backticks and pipes inside the text (GFM table cells)."""
    text = visible(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str) -> list[str]:
    """A fenced block whose fence is longer than any backtick run inside the text."""
    text = visible(text)
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}sql", text, fence]


to_markdown.register(Report, _digest)


# --------------------------------------------------------------------------------------------
# explain / advise
# --------------------------------------------------------------------------------------------

_MD_HTML = re.compile(r"([<>&|\\`*_\[\]])")


def _md_cell(text: str) -> str:
    """Plain text in Markdown (a table cell, a list item): nothing in it can become HTML, a link
    or emphasis."""
    return _MD_HTML.sub(r"\\\1", visible(text)).replace("\n", " ")


def _md_code(text: str) -> str:
    return "\n".join(code_block(text))


def _md_tree(node: PlanNode, depth: int = 0) -> list[str]:
    lines = []
    for child in node.children:
        lines.append("  " * depth + "- " + _md_cell(node_text(child).plain))
        lines.extend(_md_tree(child, depth + 1))
    return lines


def _advice(report: AdviceReport, options: RenderOptions) -> str:
    out = [f"# {report.title}", ""]
    for note in report.notes:
        out.append(f"> note: {_md_cell(note)}")
    if report.notes:
        out.append("")
    for rank, ca in enumerate(report.shown, 1):
        if report.statement is None:
            out += [
                f"<details><summary><b>#{rank}</b> <code>{_summary(ca.class_id[:16])}</code>: {ca.count:,} calls"
                + (f", {fmt.seconds(ca.query_time_total)} in all" if ca.timed else "")
                + "</summary>",
                "",
            ]
        out += [_md_code(report.statement if report.statement is not None else (ca.sample or ca.text)), ""]
        if ca.plan is not None:
            out += ["Plan:", "", *_md_tree(ca.plan.root), ""]
        elif ca.explain_note:
            out += [f"Not explained: {_md_cell(ca.explain_note)}", ""]
        if ca.findings:
            out += ["| Check | Severity | Finding | Fix |", "| --- | --- | --- | --- |"]
            for f in ca.findings:
                out.append(f"| {f.check} {f.name} | {f.severity} | {_md_cell(f.message)} | {_md_cell(f.fix or '')} |")
            out.append("")
        if report.statement is None:
            out += ["</details>", ""]
    out += ["## Index suggestions", ""]
    if report.suggestions:
        out += [
            "| # | Table | Columns | Classes | Est. time saved (s) | Rows before → after | Verified |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for s in report.suggestions:
            verified = {None: "no", True: "yes", False: "not chosen"}[s.verified]
            out.append(
                f"| {s.number} | {_md_cell(s.table)} | {_md_cell(', '.join(s.columns))} | {s.classes} | "
                f"{s.time_saved:,.3f} | {s.rows_before:,.0f} → {s.rows_after:,.0f} | {verified} |"
            )
        out += ["", "```sql", *[d + ";" for d in report.ddl], "```", ""]
    else:
        out += ["No index suggestions.", ""]
    v = report.verification
    if v is not None:
        out += ["## Verification", "", _md_cell(v.summary), ""]
        for p in v.protections:
            out.append(
                f"- protected `{_md_cell(p.who[:12])}` {_md_cell(p.who[13:])}: {_md_cell(p.what)}; "
                f"**{_md_cell(p.done)}**"
            )
        out.append("")
    if report.no_help_all:
        out += ["## Where no index helps", ""]
        out += [f"- `{n.class_id[:12]}` {_md_cell(n.table or '')}: {_md_cell(n.reason)}" for n in report.no_help_all]
        out.append("")
    return "\n".join(out) + "\n"


to_markdown.register(AdviceReport, _advice)


# --------------------------------------------------------------------------------------------
# indexes
# --------------------------------------------------------------------------------------------


def _health(report: HealthReport, options: RenderOptions) -> str:
    out = [
        f"# {report.title}",
        "",
        f"{_md(report.server)}: {report.tables} tables, {report.indexes} indexes in "
        f"{', '.join(_md(s) for s in report.schemas) or 'no schema'}.",
    ]
    if report.uptime_seconds is not None:
        out.append(
            f"Index reads counted for {fmt.span(report.uptime_seconds)} (server up since {report.server_started})."
        )
    out.append("")
    out += [f"> **Note:** {_md(note)}" for note in report.notes]
    if not report.findings:
        return "\n".join(out + ["", "No index problems found.", ""])
    out += ["", "| Check | Severity | Table | Finding |", "|---|---|---|---|"]
    for f in report.findings:
        out.append(f"| {f.check} {f.name} | {f.severity} | {_md(f.table)} | {_md(f.message)} |")
    if report.statements:
        out += ["", "Statements that fix the safe findings (review before running them):", "", "```sql"]
        out += [visible(s) for s in report.statements] + ["```"]
    out.append("")
    return "\n".join(out)


_md = _md_cell


to_markdown.register(HealthReport, _health)


# --------------------------------------------------------------------------------------------
# top
# --------------------------------------------------------------------------------------------


def _top(view: TopView, options: RenderOptions) -> str:
    out = [
        f"## mqa top: interval {view.number} ({view.seconds:.1f}s)",
        "",
        f"{_md(view.server)}: {view.statements_per_second:,.1f} statements/s, load {view.load:.2f}.",
        "",
        "| Rank | Class | Load | % | Calls/s | Avg | Rows ex/call | Fingerprint |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in view.rows:
        out.append(
            f"| {row.rank} | `{row.id}` | {row.load:.3f} | {fmt.percent(row.share)} | "
            f"{row.calls_per_second:,.1f} | {fmt.seconds(row.avg)} | {fmt.ratio(row.rows_examined_per_call)} | "
            f"{_code_span(row.fingerprint)} |"
        )
    out += [f"> **Note:** {_md(note)}" for note in view.notes]
    return "\n".join(out) + "\n\n"


to_markdown.register(TopView, _top)


# --------------------------------------------------------------------------------------------
# diff and report
# --------------------------------------------------------------------------------------------


def _side(side: Any) -> str:
    when = f", {_md_cell(side.start or '?')} to {_md_cell(side.end or '?')}" if side.start or side.end else ""
    return f"{_md_cell(side.name)}: {side.events:,} events{when}"


def _fp(text: str, width: int = 90) -> str:
    text = " ".join(visible(text).split())
    return _code_span(text if len(text) <= width else text[: width - 1] + "…")


def _diff(report: DiffReport, options: RenderOptions, level: str = "#") -> str:
    out = [f"{level} {_md_cell(report.title)}", "", f"- base: {_side(report.base)}", f"- new: {_side(report.new)}", ""]
    out.append(
        f"**{len(report.regressions)}** regressions, **{len(report.improvements)}** improvements, "
        f"**{len(report.new_classes)}** new classes, **{len(report.vanished_classes)}** vanished, "
        f"**{len(report.plan_changes)}** plan changes."
    )
    for title, rows in (("Regressions", report.regressions), ("Improvements", report.improvements)):
        if rows:
            out += [
                "",
                f"{level}# {title}",
                "",
                "| Class | Metric | Base | New | Change | Class text |",
                "|---|---|---:|---:|---:|---|",
            ]
            for c in rows:
                out.append(
                    f"| `{c.class_id[:16]}` | {METRIC_NAMES[c.metric]} | {fmt.compared(c.metric, c.base)} | "
                    f"{fmt.compared(c.metric, c.new)} | {fmt.change(c.change)} | {_fp(c.fingerprint)} |"
                )
    for title, classes in (("New classes", report.new_classes), ("Vanished classes", report.vanished_classes)):
        if classes:
            out += ["", f"{level}# {title}", "", "| Class | Calls | Time | Class text |", "|---|---:|---:|---|"]
            for c in classes[:50]:
                out.append(
                    f"| `{c.class_id[:16]}` | {c.count:,} | {fmt.seconds(c.query_time)} | {_fp(c.fingerprint)} |"
                )
            if len(classes) > 50:
                out.append(f"| … | | | {len(classes) - 50} more in the JSON |")
    if report.plan_changes:
        out += ["", f"{level}# Plan changes", "", "| Class | Base plan | New plan | Class text |", "|---|---|---|---|"]
        for p in report.plan_changes:
            out.append(
                f"| `{p.class_id[:16]}` | {_md_cell(p.base_key or '-')} ({_md_cell(p.base_access or '-')}) | "
                f"{_md_cell(p.new_key or '-')} ({_md_cell(p.new_access or '-')}) | {_fp(p.fingerprint)} |"
            )
    out += ["", *[f"> note: {_md_cell(n)}" for n in report.notes]]
    out += ["", f"_{_md_cell(report.guards)}_", ""]
    return "\n".join(out)


to_markdown.register(DiffReport, _diff)


def _job(report: JobReport, options: RenderOptions) -> str:
    out = [f"# {_md_cell(report.title)}", ""]
    if report.run_id is not None:
        out.append(
            f"Run **{report.run_id}** in {_md_cell(report.history or '')}; baseline: {_md_cell(report.baseline)}."
        )
    else:
        out.append("No history: nothing saved, nothing compared." if not report.history else "Not saved.")
    out.append("")
    out += [
        f"- **{_md_cell(what)}**: {_md_cell(where)}" for what, where in report.provenance.items() if what != "baseline"
    ]
    out += [f"> note: {_md_cell(n)}" for n in report.notes]
    if report.crossed:
        out += ["", "**Thresholds crossed (`--fail-on`):**", ""] + [f"- {_md_cell(line)}" for line in report.crossed]
    parts = ["\n".join(out)]
    if report.diff is not None:
        parts.append(_diff(report.diff, options, level="##"))
    parts.append(_demote(_digest(report.shown, options)))
    if report.advice is not None:
        parts.append(_demote(_advice(report.advice, options)))
    if report.health is not None:
        parts.append(_demote(_health(report.health, options)))
    return "\n\n".join(p.strip("\n") for p in parts) + "\n"


def _demote(markdown: str) -> str:
    """A whole report as a section: its headings one level down (outside code blocks)."""
    out, fence = [], None
    for line in markdown.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("```"):
            run = stripped[: len(stripped) - len(stripped.lstrip("`"))]
            fence = run if fence is None else (None if run.startswith(fence) else fence)
        elif fence is None and line.startswith("#"):
            line = "#" + line
        out.append(line)
    return "\n".join(out)


to_markdown.register(JobReport, _job)


# --------------------------------------------------------------------------------------------
# history
# --------------------------------------------------------------------------------------------


def _runs(view: RunsView, options: RenderOptions) -> str:
    out = [f"# {view.title}", "", f"History: {_md_cell(view.history)}", ""]
    out += [
        "| Run | Label | Finished | Events from | to | Events | Classes | Time |",
        "|---:|---|---|---|---|---:|---:|---:|",
    ]
    for r in view.runs:
        out.append(
            f"| {r.id} | {_md_cell(r.label)} | {r.finished_at} | {_md_cell(r.start or '-')} | {_md_cell(r.end or '-')} "
            f"| {r.events:,} | {r.classes:,} | {fmt.seconds(r.query_time)} |"
        )
    return "\n".join(out) + "\n"


def _trend(view: TrendView, options: RenderOptions) -> str:
    out = [f"# {_md_cell(view.title)}", "", _code_span(view.fingerprint), ""]
    out += [
        "| Run | Label | From | Calls | Calls/s | Avg | p95 | Rows ex./call |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in view.rows:
        out.append(
            f"| {r.run_id} | {_md_cell(r.label)} | {_md_cell(r.start or '-')} | {r.calls:,} | "
            f"{fmt.compared('calls_per_second', r.calls_per_second)} | {fmt.seconds(r.avg)} | {fmt.seconds(r.p95)} | "
            f"{fmt.compared('rows_examined_per_call', r.rows_examined_per_call)} |"
        )
    return "\n".join(out) + "\n"


def _periods(view: PeriodsView, options: RenderOptions) -> str:
    out = [f"# {view.title}", "", f"History: {_md_cell(view.history)}", ""]
    out += ["| Period | Runs | Events | Time |", "|---|---|---:|---:|"]
    for r in view.rows:
        out.append(f"| {r.period} | {', '.join(map(str, r.runs))} | {r.events:,} | {fmt.seconds(r.query_time)} |")
    return "\n".join(out) + "\n"


to_markdown.register(RunsView, _runs)
to_markdown.register(TrendView, _trend)
to_markdown.register(PeriodsView, _periods)
