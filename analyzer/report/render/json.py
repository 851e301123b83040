"""The JSON renderer of every report model: the versioned contract (``schema_version: 1``).

Every model gives its document (``to_json_dict()``); this module only writes it, with invalid
bytes from a log as U+FFFD.  ``mqa top`` writes one compact document per interval and line.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from analyzer.report.options import RenderOptions
from analyzer.report.text import clean_json
from analyzer.report.top import TopView


def to_json(model: Any, *, indent: int | None = 2) -> str:
    """The model's document as JSON text."""
    return json.dumps(clean_json(model.to_json_dict()), indent=indent, ensure_ascii=False) + "\n"


def render(model: Any, stream: TextIO, options: RenderOptions | None = None) -> None:
    stream.write(to_json(model, indent=None if isinstance(model, TopView) else 2))
    stream.flush()
