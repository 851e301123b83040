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


class DigestFormat(str, Enum):
    """``mqa digest``'s formats: the report's, and Parquet files (``--format parquet``)."""

    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"
    parquet = "parquet"


class Engine(str, Enum):
    """Where ``mqa digest`` reads: processes on this machine, or a Dask cluster."""

    local = "local"
    dask = "dask"


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


def write_report(
    model: Any, fmt: Format | DigestFormat, output: str | None, *, details: int = 5, invocation: str = ""
) -> None:
    """Render ``model`` to stdout or ``output`` with the renderer the registry picks."""
    from analyzer.report.render import render

    with output_stream(output) as stream:
        render(model, fmt.value, stream, RenderOptions(details=details, invocation=invocation))


FILTER_HELP = (
    "Only events this expression keeps: comparisons on metrics and attributes joined with and/or/not, e.g. "
    '\'query_time > 0.5 and db = "shop" and tag.route ~ "^/api/"\' (see the README).'
)

GROUP_BY_HELP = (
    "Also rank groups of statements: tag:KEY (e.g. tag:route), db, user, host, table or source, each with its top "
    "classes."
)
REQUEST_TAG_HELP = "The comment tag holding a request id (default: the trace id of sqlcommenter's traceparent)."
ROUTE_TAG_HELP = "The comment tag naming the endpoint in the per-request view (default: route)."
REQUESTS_HELP = (
    "Without request ids in the statements, group each connection's statements into bursts (less than 0.5 s "
    "apart) and show the per-request view as inferred."
)


def views_for(group_by: str | None, request_tag: str | None, route_tag: str, requests: bool):
    """The digest's views from the command line (``--group-by`` checked here: one error line)."""
    from analyzer.digest.groups import parse_group_by
    from analyzer.digest.views import Views

    return Views(
        group_by=parse_group_by(group_by) if group_by else None,
        request_tag=request_tag,
        route_tag=route_tag,
        infer_requests=requests,
    )
