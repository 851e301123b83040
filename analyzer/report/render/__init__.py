"""The renderers: one module per format, each rendering every report model, and the registry
that picks one.

    from analyzer.report.render import render
    render(report, "markdown", sys.stdout)          # any report model, any format

``terminal`` (rich; plain lines when the stream is not a terminal), ``markdown``
(GitHub-flavoured), ``json`` (the versioned contract), ``html`` (one self-contained file).  A
renderer only formats what the model holds; nothing is computed there.
"""

from __future__ import annotations

import importlib
from typing import Any, TextIO

from analyzer.errors import UsageError
from analyzer.report.options import RenderOptions

#: --format value -> renderer module
RENDERERS = {"table": "terminal", "json": "json", "markdown": "markdown", "html": "html"}


def render(model: Any, fmt: str, stream: TextIO, options: RenderOptions | None = None) -> None:
    """Write ``model`` to ``stream`` in the format ``fmt`` (a key of ``RENDERERS``)."""
    name = RENDERERS.get(fmt)
    if name is None:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(RENDERERS)}")
    module = importlib.import_module(f"analyzer.report.render.{name}")
    module.render(model, stream, options or RenderOptions())
