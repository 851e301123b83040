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


class FingerprintMode(str, Enum):
    sqlglot = "sqlglot"
    pt = "pt"


OrderBy = Enum("OrderBy", {name: name for name in ORDER_BY}, type=str)  # type: ignore[misc]


def write_report(model: Any, fmt: Format, output: str | None, *, details: int = 5) -> None:
    """Render ``model`` to stdout or ``output`` with the renderer the registry picks."""
    from analyzer.report.render import render

    with output_stream(output) as stream:
        render(model, fmt.value, stream, RenderOptions(details=details))
