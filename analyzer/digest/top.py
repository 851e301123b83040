"""The busiest query classes interval after interval (``mqa top``).

Each interval is the difference of two snapshots of performance_schema's digest table, the
second of one interval being the first of the next, so nothing between them is lost or
counted twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from analyzer.digest.window import window_result
from analyzer.fingerprint.classifier import Mode
from analyzer.model import DigestResult
from analyzer.sources import perfschema as ps


@dataclass
class Interval:
    """One refresh of ``mqa top``: the classes of the interval and how long it was."""

    number: int
    seconds: float
    result: DigestResult
    window: ps.PerfSchemaWindow


class TopMonitor:
    """Snapshots the digest table; ``next_interval()`` sleeps and returns the interval's classes."""

    def __init__(self, server: Any, *, mode: Mode = "sqlglot", sleep: Callable[[float], None] | None = None) -> None:
        import time

        self._session = ps._CountingSession(server)
        self._server = server
        self.mode = mode
        self._sleep = sleep or time.sleep
        setup = ps.check_setup(self._session)
        setup.require_digests()
        self.setup = setup
        self.settings = ps.digest_settings(self._session)
        self.columns = ps.digest_columns(self._session)
        self._widths = ps.TableWidths(self._session)
        self._session.counting = True
        self._before = ps.take_snapshot(self._session, self.columns)
        self.intervals = 0

    def next_interval(self, seconds: float) -> Interval:
        """Wait ``seconds`` and return what the server executed meanwhile."""
        self._sleep(seconds)
        after = ps.take_snapshot(self._session, self.columns)
        before, self._before = self._before, after
        deltas = ps.diff_snapshots(before, after)
        deltas = ps._without_own(deltas, self._session.executed, getattr(self._server, "conn", None), self.settings)
        self._session.executed.clear()
        for delta in deltas:
            if delta.digest_text is not None:
                delta.text = ps.read_digest_text(
                    delta.digest_text, self.settings.max_digest_length, self._widths.for_schema(delta.schema)
                )
        lost = None
        if before.digest_lost is not None and after.digest_lost is not None:
            lost = max(0, after.digest_lost - before.digest_lost)
        caps = getattr(self._server, "capabilities", None)
        window = ps.PerfSchemaWindow(
            server=getattr(self._server, "description", ""),
            flavor=getattr(caps, "flavor", ""),
            version=getattr(caps, "version_text", ""),
            started_at=before.taken_at,
            ended_at=after.taken_at,
            deltas=deltas,
            settings=self.settings,
            digest_lost=lost,
            rows_used=len(after.rows),
            columns=self.columns,
            setup=self.setup,
        )
        self.intervals += 1
        return Interval(self.intervals, window.seconds, window_result(window, self.mode, use_samples=False), window)
