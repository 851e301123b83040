"""Number formatting shared by the human-readable renderers."""

from __future__ import annotations

from analyzer.report.digest import MetricSummary


def seconds(value: float | None) -> str:
    """A duration with a unit that keeps three significant digits: 1.23s, 45.6ms, 789us."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if value >= 3600:
        return f"{value / 3600:.1f}h"
    if value >= 100:
        return f"{value:.0f}s"
    if value >= 1:
        return f"{_sig(value)}s"
    if value >= 1e-3:
        return f"{_sig(value * 1e3)}ms"
    return f"{_sig(value * 1e6)}us"


def _sig(value: float) -> str:
    """Three significant digits without switching to exponent notation."""
    return f"{value:.3g}" if value < 999.5 else f"{value:.0f}"


def count(value: float | None) -> str:
    """A count, shortened above ten thousand: 9876, 12.3k, 4.56M, 7.89G."""
    if value is None:
        return "-"
    if abs(value) < 10_000:
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{_sig(value / size)}{unit}"
    return f"{value:.0f}"  # pragma: no cover


def metric(summary: MetricSummary, value: float | None) -> str:
    if value is None:
        return "-"
    return seconds(value) if summary.time else count(value)


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def span(value: float | None) -> str:
    if value is None:
        return "-"
    value = round(value)
    days, rest = divmod(value, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{secs}s")
    return " ".join(parts)


def compared(metric: str, value: float | None) -> str:
    """A figure of a comparison (``analyzer.report.diff`` metrics) for people."""
    if value is None:
        return "-"
    if metric in ("p95", "avg"):
        return seconds(value)
    if metric == "calls_per_second":
        return f"{value:.3g}/s"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def change(value: float) -> str:
    """A relative change: ``+84%``, ``-12%``, ``+3.2x`` past +200%."""
    if value >= 2.0:
        return f"+{value + 1:.1f}x"
    return f"{value:+.0%}"
