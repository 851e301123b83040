"""How a report is rendered (the parts that are the reader's choice, not the report's content)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderOptions:
    details: int = 5  # detailed sections for the top N classes (terminal, Markdown, HTML)
    invocation: str = ""  # the command line, for reports whose model does not carry it
