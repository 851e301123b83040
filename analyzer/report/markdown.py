"""The Markdown renderer (GitHub-flavoured): for pull requests, wikis and tickets."""

from __future__ import annotations

import re

from analyzer.report import format as fmt
from analyzer.report.model import ClassReport, Report
from analyzer.report.text import visible
from analyzer.stats import HISTOGRAM_LABELS

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def render_markdown(report: Report, *, details: int = 5) -> str:
    s = report.summary
    out: list[str] = [f"# {report.title}", ""]
    facts = [
        f"**{s.events:,}** events, **{s.classes:,}** classes",
        f"total query time **{fmt.seconds(s.query_time_total)}**",
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
        out.append(
            f"| {_escape(src.name)} | {_escape(src.dialect)} | {src.events:,} | {src.kept:,} | {src.malformed:,} |"
        )
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
    out.append("| Rank | Class | Time | % | Count | Avg | p95 | Rows ex/sent | Fingerprint |")
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for cls in report.classes:
        qt = cls.metrics.get("query_time")
        fingerprint = visible(cls.fingerprint).replace("\n", " ")
        if len(fingerprint) > 120:
            fingerprint = fingerprint[:117] + "..."
        out.append(
            f"| {cls.rank} | `{cls.id}` | {fmt.seconds(qt.sum if qt else None)} | {fmt.percent(cls.share)} "
            f"| {fmt.count(cls.count)} | {fmt.seconds(qt.avg if qt else None)} | {fmt.seconds(qt.p95 if qt else None)} "
            f"| {fmt.ratio(cls.rows_examined_per_sent)} | {_code_span(fingerprint)} |"
        )
    for cls in report.classes[: max(0, details)]:
        out += [""] + _details(cls)
    out.append("")
    return "\n".join(out)


def _details(cls: ClassReport) -> list[str]:
    out = [f"## #{cls.rank} `{cls.id}` ({cls.kind})", ""]
    line = f"pt-query-digest ID `0x{cls.pt_id}`; {fmt.percent(cls.share)} of query time, {cls.count:,} events"
    if cls.qps is not None:
        line += f", {cls.qps:.3g} QPS"
    if cls.first_seen:
        line += f"; seen {_escape(cls.first_seen)} to {_escape(cls.last_seen or '')}"
    out += [line + ".", ""]
    out.append("| Metric | Total | Min | Max | Avg | p50 | p95 | p99 | Stddev |")
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
    for label, values in (("Databases", cls.databases), ("Users", cls.users), ("Hosts", cls.hosts), ("Tags", cls.tags)):
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
        out += ["", f"Example (slowest, {fmt.seconds(ex.query_time)}{when}, {where}):", ""]
        out += code_block(ex.query)
    return out


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
