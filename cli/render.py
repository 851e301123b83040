"""Writing a report model in the format the user asked for (every reporting command)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from analyzer.report.digest import ORDER_BY
from analyzer.report.options import RenderOptions
from cli.common import output_stream


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


class StreamFormat(str, Enum):
    """The formats of a report that is written interval after interval (``mqa top``): no HTML."""

    table = "table"
    json = "json"
    markdown = "markdown"


def time_zone(text: str | None):
    """``--tz``: None keeps the log's own offset."""
    if not text:
        return None
    from analyzer.report.digest import parse_time_zone

    return parse_time_zone(text)


TZ_HELP = "Show times in this zone (UTC, +02:00, Europe/Berlin) instead of the log's own offset; never in the reader's."


class FingerprintMode(str, Enum):
    sqlglot = "sqlglot"
    pt = "pt"


OrderBy = Enum("OrderBy", {name: name for name in ORDER_BY}, type=str)  # type: ignore[misc]


def write_report(model: Any, fmt: Format, output: str | None, *, details: int = 5, invocation: str = "") -> None:
    """Render ``model`` to stdout or ``output`` with the renderer the registry picks."""
    from analyzer.report.render import render

    with output_stream(output) as stream:
        render(model, fmt.value, stream, RenderOptions(details=details, invocation=invocation))


FILTER_HELP = (
    "Only events this expression keeps: comparisons on metrics and attributes joined with and/or/not, e.g. "
    '\'query_time > 0.5 and db = "shop" and tag.route ~ "^/api/"\' (see the README).'
)
