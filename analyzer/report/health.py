"""The report model of ``mqa indexes``: index health, ready to render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from analyzer import __version__
from analyzer.advisor.health import IndexFinding, IndexReport
from analyzer.report.text import clean_json


@dataclass
class HealthReport:
    """What ``mqa indexes`` shows: where it looked, the findings, the statements that fix the
    safe ones, and the advice to adapt for the others."""

    server: str
    tables: int
    indexes: int
    schemas: list[str]
    uptime_seconds: int | None  # how long index reads have been counted (None: not read)
    server_started: str | None
    notes: list[str]
    findings: list[IndexFinding]
    statements: list[str]  # the safe findings' DDL, each once, in order
    advice: list[IndexFinding]  # findings whose DDL is advice to adapt, not a statement
    generated_at: str
    title: str = "mqa indexes"
    invocation: str = ""  # the command line that produced the report (a DSN's password redacted)
    document: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json_dict(self) -> dict[str, Any]:
        """The versioned JSON document of ``mqa indexes``."""
        return self.document


def build_health_report(
    report: IndexReport, server: str, *, now: datetime | None = None, invocation: str = ""
) -> HealthReport:
    generated = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    statements = report.statements()
    document: dict[str, Any] = clean_json(
        {
            "schema_version": 1,
            "tool": {"name": "mqa", "version": __version__},
            "generated_at": generated,
            "server": server,
            **report.to_dict(),
            "statements": statements,
        }
    )
    window = report.window
    return HealthReport(
        server=server,
        tables=report.tables,
        indexes=report.indexes,
        schemas=list(report.schemas),
        uptime_seconds=window.uptime_seconds if window is not None else None,
        server_started=window.server_started.isoformat(sep=" ") if window is not None else None,
        notes=list(report.notes),
        findings=list(report.findings),
        statements=statements,
        advice=[f for f in report.findings if not f.safe and f.ddl],
        generated_at=generated,
        document=document,
        invocation=invocation,
    )
