"""The HTML renderer of the digest, advice and index-health report models: one self-contained
file a DBA opens in a browser, attaches to a ticket or publishes from a nightly job.

- Self-contained: no CDN, fonts or remote images; the style and the script are inline and the
  page's Content-Security-Policy (``default-src 'none'``) allows exactly those two, by hash, so a
  statement's text can never run as script or style.  No inline event handlers.
- Hostile text is inert: every value goes through jinja2's autoescape (and SVG text through
  ``markupsafe.escape``); nothing from a log or a server is ever marked safe.
- Works without JavaScript: every class's details are a ``<details>`` element; the script only
  sorts (``th[data-sort]``), filters (``input#filter``), copies, and opens every section for
  printing.
- Times are the report model's strings (the log's own offset, or ``--tz``): the browser's time
  zone is never used.
- Charts (the time-lines, the query-time histogram, the profile's sparklines) are inline SVG
  drawn here from the model's numbers, with a title and a text description each.

The contract others test against: ``table#profile`` with one ``tbody tr[data-class-id]`` per
class, ``th[data-sort]`` headers (numbers sort as numbers: ``td[data-v]``), ``input#filter``
matching the class text, databases, users, hosts, tables and tags (and sources, with several).
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache, singledispatch
from typing import Any, TextIO

from markupsafe import Markup, escape

from analyzer import __version__
from analyzer.report import numbers as fmt
from analyzer.report.advice import AdviceReport
from analyzer.report.diff import METRIC_NAMES, DiffReport
from analyzer.report.digest import ClassReport, Report, TimelineReport
from analyzer.report.health import HealthReport
from analyzer.report.history import PeriodsView, RunsView, TrendView
from analyzer.report.job import JobReport
from analyzer.report.options import RenderOptions
from analyzer.report.render.plan import node_text
from analyzer.report.text import valid_unicode, visible
from analyzer.report.top import TopView
from analyzer.sources.explain import PlanNode
from analyzer.stats import HISTOGRAM_LABELS

EXAMPLE_MAX_CHARS = 4000  # longer examples are cut in the page (the JSON has them whole)


@cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("analyzer.report.render", "templates"),
        autoescape=True,  # every value is escaped; nothing from a log is ever marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = fmt.seconds
    env.filters["count"] = fmt.count
    env.filters["percent"] = fmt.percent
    env.filters["ratio"] = fmt.ratio
    env.filters["span"] = fmt.span
    env.filters["visible"] = lambda text: visible(str(text)) if text is not None else ""
    env.globals.update(metric_names=METRIC_NAMES, compared=fmt.compared, change=fmt.change)
    return env


@cache
def _asset(name: str) -> tuple[str, str]:
    """An inline asset (style or script) and its CSP source: ``'sha256-...'`` of its exact text."""
    from importlib.resources import files

    text = files("analyzer.report.render").joinpath("templates", name).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return text, f"'sha256-{digest}'"


def _page(template: str, **context: Any) -> str:
    css, css_hash = _asset("report.css")
    js, js_hash = _asset("report.js")
    policy = f"default-src 'none'; style-src {css_hash}; script-src {js_hash}; base-uri 'none'; form-action 'none'"
    html = (
        _environment()
        .get_template(template)
        .render(css=Markup(css), js=Markup(js), csp=policy, version=__version__, **context)
    )
    return valid_unicode(html)


def render(model: Any, stream: TextIO, options: RenderOptions | None = None) -> None:
    stream.write(to_html(model, options or RenderOptions()))


@singledispatch
def to_html(model: Any, options: RenderOptions) -> str:
    raise TypeError(f"no HTML rendering for {type(model).__name__}")


@to_html.register
def _top(model: TopView, options: RenderOptions) -> str:
    from analyzer.errors import UsageError

    raise UsageError("mqa top has no HTML format: use table, json or markdown")


# --------------------------------------------------------------------------------------------
# Charts: inline SVG from the model's numbers, compact enough for a page of 2,000 classes (one
# path per series, a scaled viewBox so coordinates are small integers)
# --------------------------------------------------------------------------------------------

CLASS_TIMELINE_BARS = 64  # a class's time-line is drawn with at most this many bars (adjacent buckets summed)
WORKLOAD_TIMELINE_BARS = 256
CHART_HEIGHT = 100


def _svg(view: str, title: str, desc: str, body: str, css: str, scaled: bool = False) -> Markup:
    aspect = ' preserveAspectRatio="none"' if scaled else ""
    return Markup(
        f'<svg viewBox="{view}" class="{css}"{aspect} role="img"><title>{escape(title)}</title>'
        f"<desc>{escape(desc)}</desc>{body}</svg>"
    )


def _y(value: float, peak: float, height: int = CHART_HEIGHT) -> int:
    """The top of a bar (or a line's point) of ``value`` in a chart ``height`` high; a non-zero
    value is never drawn as zero."""
    if not value:
        return height
    return min(height - 1, round(height - height * value / peak))


def _steps(values: list[float] | list[int], peak: float, height: int, unit: int) -> str:
    """Path commands drawing ``values`` as steps ``unit`` wide (equal neighbours merged)."""
    out: list[str] = []
    last, run = None, 0
    for value in values:
        y = _y(value, peak, height)
        if y != last and run:
            out.append(f"V{last}h{run * unit}")
            run = 0
        last = y
        run += 1
    if run:
        out.append(f"V{last}h{run * unit}")
    return "".join(out)


HISTOGRAM_BAR, HISTOGRAM_STEP, HISTOGRAM_TOP, HISTOGRAM_HEIGHT = 28, 34, 12, 50


def histogram_svg(counts: list[int]) -> Markup:
    """Executions per decade of query time (pt-query-digest's buckets) as labelled bars."""
    peak = max(counts) or 1
    base = HISTOGRAM_TOP + HISTOGRAM_HEIGHT
    bars, numbers = [], []
    for i, n in enumerate(counts):
        if not n:
            continue
        h = max(1, round(HISTOGRAM_HEIGHT * n / peak))
        x = i * HISTOGRAM_STEP
        bars.append(f"M{x} {base}v-{h}h{HISTOGRAM_BAR}v{h}z")
        numbers.append(f'<text x="{x + HISTOGRAM_BAR // 2}" y="{base - h - 2}">{n}</text>')
    desc = ", ".join(f"{label}: {n}" for label, n in zip(HISTOGRAM_LABELS, counts))
    labels = "".join(
        f'<text x="{i * HISTOGRAM_STEP + HISTOGRAM_BAR // 2}" y="{base + 11}">{label}</text>'
        for i, label in enumerate(HISTOGRAM_LABELS)
    )
    body = f'<path class="bar" d="{"".join(bars)}"/><g text-anchor="middle">{"".join(numbers)}{labels}</g>'
    return _svg(
        f"0 0 {len(counts) * HISTOGRAM_STEP} {base + 14}",
        "Query time distribution (executions per decade)",
        desc,
        body,
        "histogram",
    )


def _rebin(timeline: TimelineReport, bars: int) -> tuple[int, list[int], list[float]]:
    """Adjacent buckets summed so that at most ``bars`` remain (exact: sums of sums)."""
    factor = max(1, -(-len(timeline.calls) // bars))
    if factor == 1:
        return timeline.bucket_seconds, timeline.calls, timeline.query_time
    calls = [sum(timeline.calls[i : i + factor]) for i in range(0, len(timeline.calls), factor)]
    times = [sum(timeline.query_time[i : i + factor]) for i in range(0, len(timeline.query_time), factor)]
    return timeline.bucket_seconds * factor, calls, times


def timeline_svg(
    timeline: TimelineReport, title: str, bars: int = CLASS_TIMELINE_BARS, css: str = "timeline"
) -> Markup:
    """Calls per bucket as bars and query time per bucket as a line, on one time axis (each bucket
    two units wide: the line's points are the buckets' middles)."""
    width, calls, times = _rebin(timeline, bars)
    peak_calls, peak_time = max(calls) or 1, max(times) or 1.0
    skyline = _steps(calls, peak_calls, CHART_HEIGHT, 2)
    body = f'<path class="bar" d="M0 {CHART_HEIGHT}{skyline}V{CHART_HEIGHT}z"/>'
    desc = f"{len(calls)} buckets of {fmt.span(width)} from {timeline.start} to {timeline.end}; "
    desc += f"at most {peak_calls:,} calls"
    if timeline.timed:  # without timings (a general log) no query-time line: it would be a flat zero
        line = " ".join(f"{2 * i + 1} {_y(t, peak_time)}" for i, t in enumerate(times))
        body += f'<path class="line" d="M{line}"/>'
        desc += f" and {fmt.seconds(peak_time)} of query time"
    desc += " in one bucket"
    return _svg(f"0 0 {2 * len(calls)} {CHART_HEIGHT}", title, desc, body, css, scaled=True)


def sparkline_svg(values: list[float], timed: bool = True) -> Markup:
    """A class's query time (without timings: its calls) over the workload's span, for the profile:
    a step line 20 units high."""
    if not values:
        return Markup("")
    peak = max(values) or 1.0
    return _svg(
        f"0 -1 {len(values)} 22",
        "Query time over the report's span" if timed else "Calls over the report's span",
        f"peak {fmt.seconds(peak)}" if timed else f"peak {peak:,.0f} calls",
        f'<path d="M0 20{_steps(values, peak, 20, 1)}"/>',
        "spark",
        scaled=True,
    )


# --------------------------------------------------------------------------------------------
# Views of the models (formatting only: every number comes from the model)
# --------------------------------------------------------------------------------------------

PROFILE_TEXT_CHARS = 300  # the profile shows this much of a class's text (its details show it whole)
CHARTED_CLASSES = 200  # the classes whose details have a histogram and a time-line
DETAILED_CLASSES = 500  # the classes with a details section (the page's parse time grows with them)


def _number(value: float | None) -> str:
    return "0" if value is None else f"{value:.6g}"


def _class_view(cls: ClassReport) -> dict[str, Any]:
    qt = cls.metrics.get("query_time")
    fingerprint = visible(cls.fingerprint)
    shown = fingerprint if len(fingerprint) <= PROFILE_TEXT_CHARS else fingerprint[:PROFILE_TEXT_CHARS] + "…"
    extra = [*cls.databases, *cls.users, *cls.hosts, *cls.tables, *cls.tags]
    if cls.sources_label:  # a fleet's report: the filter finds a host's classes too
        extra += list(cls.sources)
    if shown != fingerprint:
        extra.append(fingerprint)
    return {
        "c": cls,
        "time": qt.sum if qt else 0.0,
        "avg": qt.avg if qt else None,
        "p95": qt.p95 if qt else None,
        "ratio": cls.rows_examined_per_sent,
        "n": _number,
        "text": shown,
        "search": " ".join(visible(" ".join(extra)).lower().split()),
        "spark": sparkline_svg(cls.activity, cls.timed),
        "timed": cls.timed,
    }


def _details_view(cls: ClassReport, charts: bool) -> dict[str, Any]:
    example = cls.example
    text = ""
    cut = 0
    if example is not None:
        text = visible(example.query)
        if len(text) > EXAMPLE_MAX_CHARS:
            cut = len(text) - EXAMPLE_MAX_CHARS
            text = text[:EXAMPLE_MAX_CHARS]
    return {
        "c": cls,
        "metrics": [(name, _metric_cells(m)) for name, m in cls.metrics.items() if m.kind != "flag"],
        "flags": [(name, m) for name, m in cls.metrics.items() if m.kind == "flag"],
        "histogram": histogram_svg(cls.histogram) if charts and any(cls.histogram) else None,
        "timeline": timeline_svg(cls.timeline, f"Class {cls.id} over time") if charts and cls.timeline else None,
        "charts": charts,
        "example": text,
        "example_cut": cut,
    }


def _metric_cells(m: Any) -> list[str]:
    return [fmt.metric(m, v) for v in (m.sum, m.min, m.max, m.avg, m.p50, m.p95, m.p99, m.stddev)]


PAGE_BUDGET = 3_800_000  # bytes: a page stays under 4 MB whatever the number of classes


def _macro(name: str) -> Any:
    return getattr(_environment().get_template("_macros.html.j2").module, name)


def _size(text: str) -> int:
    """Bytes of ``text`` in the page (a byte that was not UTF-8 is U+FFFD there: 3 bytes)."""
    return len(valid_unicode(text).encode("utf-8"))


def _digest_context(report: Report, options: RenderOptions) -> dict[str, Any]:
    row = _macro("profile_row")
    return {
        "r": report,
        "rows": [row(_class_view(c)) for c in report.classes],
        "details": [],
        "details_left_out": 0,
        "charted": 0,
        "workload": timeline_svg(
            report.summary.timeline, "The workload over time", WORKLOAD_TIMELINE_BARS, "timeline workload"
        )
        if report.summary.timeline
        else None,
        "malformed": [(s.name, line, reason) for s in report.sources for line, reason in s.malformed_samples][:50],
    }


def _with_details(
    template: str,
    context: dict[str, Any],
    classes: list[ClassReport],
    open_first: int,
    advised: frozenset[str] = frozenset(),
) -> str:
    """The page with each class's details, in rank order, at most ``DETAILED_CLASSES`` and as many
    as fit in ``PAGE_BUDGET`` (the profile always lists every class; the JSON report has every
    class's details)."""
    budget = PAGE_BUDGET - _size(_page(template, **context)) - 2_000
    details = _macro("class_details")
    parts: list[Markup] = []
    for index, cls in enumerate(classes[:DETAILED_CLASSES]):
        part = details(_details_view(cls, index < CHARTED_CLASSES), index < open_first, cls.id[:16] in advised)
        budget -= _size(part)
        if budget < 0:
            break
        parts.append(part)
    context.update(details=parts, details_left_out=len(classes) - len(parts), charted=min(CHARTED_CLASSES, len(parts)))
    return _page(template, **context)


@to_html.register
def _digest(report: Report, options: RenderOptions) -> str:
    context = _digest_context(report, options)
    return _with_details("digest.html.j2", {"title": report.title, **context}, report.classes, options.details)


def plan_items(node: PlanNode) -> list[dict[str, Any]]:
    """A plan tree as nested items of plain text (each node one line)."""
    return [{"text": node_text(child).plain, "children": plan_items(child)} for child in node.children]


@to_html.register
def _advice(report: AdviceReport, options: RenderOptions) -> str:
    context: dict[str, Any] = {"a": report, "plan_items": plan_items}
    if report.digest is None:
        return _page("advice.html.j2", title=report.title, **context)
    context.update(_digest_context(report.digest, options))
    advised = frozenset(ca.class_id[:16] for ca in report.shown)
    return _with_details("advice.html.j2", {"title": report.title, **context}, report.digest.classes, 0, advised)


def _by_table(report: HealthReport) -> dict[str, list[Any]]:
    tables: dict[str, list[Any]] = {}
    for f in report.findings:
        tables.setdefault(f.table, []).append(f)
    return tables


@to_html.register
def _health(report: HealthReport, options: RenderOptions) -> str:
    return _page("health.html.j2", title=report.title, h=report, tables=_by_table(report))


@to_html.register
def _diff(report: DiffReport, options: RenderOptions) -> str:
    return _page("diff.html.j2", title=report.title, d=report, invocation=options.invocation)


@to_html.register
def _job(report: JobReport, options: RenderOptions) -> str:
    context: dict[str, Any] = {
        "j": report,
        "a": report.advice,
        "h": report.health,
        "health_tables": _by_table(report.health) if report.health is not None else {},
        "plan_items": plan_items,
        **_digest_context(report.digest, options),
    }
    return _with_details("job.html.j2", {"title": report.title, **context}, report.digest.classes, options.details)


def series_svg(values: list[float | None], title: str, metric: str) -> Markup:
    """A metric over runs as a line with a dot per run (gaps where a run has no value)."""
    known = [v for v in values if v is not None]
    n = max(len(values), 2)
    peak = max(known) if known else 1.0
    peak = peak or 1.0
    points = []
    dots = []
    for i, v in enumerate(values):
        if v is None:
            points.append(None)
            continue
        x, y = round(i * 200 / (n - 1)), _y(v, peak)
        points.append(f"{x} {y}")
        dots.append(f'<circle cx="{x}" cy="{y}" r="2"/>')
    paths, run = [], []
    for p in [*points, None]:
        if p is None:
            if run:
                paths.append("M" + " L".join(run))
            run = []
        else:
            run.append(p)
    desc = ", ".join(fmt.compared(metric, v) for v in values)
    body = (
        f'<line class="axis" x1="0" y1="{CHART_HEIGHT}" x2="200" y2="{CHART_HEIGHT}"/>'
        f'<line class="axis" x1="0" y1="0" x2="200" y2="0"/>'
        f'<text x="0" y="-6">{escape(fmt.compared(metric, peak if known else None))}</text>'
        f'<text x="0" y="{CHART_HEIGHT + 12}">0</text>'
        f'<path class="line" d="{" ".join(paths)}"/><g class="dots">{"".join(dots)}</g>'
    )
    return _svg(f"-4 -18 208 {CHART_HEIGHT + 34}", title, f"per run, oldest first: {desc}", body, "series")


def _history_page(kind: str, view: Any, options: RenderOptions, **extra: Any) -> str:
    return _page("history.html.j2", title=view.title, kind=kind, view=view, invocation=options.invocation, **extra)


@to_html.register
def _runs(view: RunsView, options: RenderOptions) -> str:
    return _history_page("runs", view, options)


@to_html.register
def _trend(view: TrendView, options: RenderOptions) -> str:
    labels = {
        "calls_per_second": "calls per second",
        "avg": "average time",
        "p95": "p95 time",
        "rows_examined_per_call": "rows examined per call",
    }
    charts = [{"label": label, "svg": series_svg(view.series[m], f"{label} per run", m)} for m, label in labels.items()]
    return _history_page("trend", view, options, charts=charts)


@to_html.register
def _periods(view: PeriodsView, options: RenderOptions) -> str:
    return _history_page("periods", view, options)
