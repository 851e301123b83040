"""The JSON renderer: the versioned contract of DESIGN.md (``schema_version: 1``)."""

from __future__ import annotations

import json

from analyzer.report.model import Report
from analyzer.report.text import clean_json


def render_json(report: Report, *, indent: int | None = 2) -> str:
    """The report as JSON text (UTF-8 safe; invalid bytes from the log become U+FFFD)."""
    return json.dumps(clean_json(report.to_json_dict()), indent=indent, ensure_ascii=False) + "\n"
