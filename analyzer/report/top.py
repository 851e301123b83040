"""The report model of ``mqa top``: one refresh, ranked for display (renderers only format it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analyzer.digest.top import Interval


@dataclass(frozen=True)
class TopRow:
    rank: int
    id: str
    fingerprint: str
    load: float  # seconds of statement time per second of the interval (average active sessions)
    share: float  # of the interval's statement time
    calls_per_second: float
    avg: float | None
    rows_examined_per_call: float | None


@dataclass(frozen=True)
class TopView:
    """What one refresh of ``mqa top`` shows (computed here; the renderer only formats)."""

    number: int
    seconds: float
    server: str
    statements_per_second: float
    load: float
    rows: list[TopRow]
    notes: list[str]

    def to_json_dict(self) -> dict[str, Any]:
        """One interval as JSON (``mqa top --format json`` writes one object per line)."""
        return {
            "interval": self.number,
            "seconds": round(self.seconds, 6),
            "server": self.server,
            "statements_per_second": round(self.statements_per_second, 4),
            "load": round(self.load, 6),
            "classes": [
                {
                    "rank": r.rank,
                    "id": r.id,
                    "fingerprint": r.fingerprint,
                    "load": round(r.load, 6),
                    "share": round(r.share, 6),
                    "calls_per_second": round(r.calls_per_second, 4),
                    "avg": None if r.avg is None else round(r.avg, 6),
                    "rows_examined_per_call": None
                    if r.rows_examined_per_call is None
                    else round(r.rows_examined_per_call, 4),
                }
                for r in self.rows
            ],
            "notes": self.notes,
        }


_ORDER = {
    "total": lambda r: r.load,
    "count": lambda r: r.calls_per_second,
    "avg": lambda r: r.avg or 0.0,
}


def top_view(interval: Interval, *, limit: int = 15, order_by: str = "total") -> TopView:
    """Rank the interval's classes for display."""
    seconds = interval.seconds if interval.seconds > 0 else 1e-9
    rows = []
    total_time = interval.result.totals.total("query_time")
    for cls in interval.result.classes:
        qt = cls.stats.metrics.get("query_time")
        time_sum = qt.total if qt is not None else 0.0
        examined = cls.stats.metrics.get("rows_examined")
        count = cls.stats.count
        rows.append(
            TopRow(
                0,
                cls.id,
                cls.fingerprint,
                time_sum / seconds,
                time_sum / total_time if total_time else 0.0,
                count / seconds,
                time_sum / count if count and qt is not None else None,
                examined.total / count if examined is not None and count else None,
            )
        )
    key = _ORDER.get(order_by, _ORDER["total"])
    rows.sort(key=lambda r: (-key(r), -r.load, r.id))
    ranked = [
        TopRow(
            i,
            *(
                getattr(r, f)
                for f in ("id", "fingerprint", "load", "share", "calls_per_second", "avg", "rows_examined_per_call")
            ),
        )
        for i, r in enumerate(rows[:limit], 1)
    ]
    count = interval.result.totals.count
    return TopView(
        interval.number,
        interval.seconds,
        interval.window.server,
        count / seconds,
        total_time / seconds,
        ranked,
        list(interval.window.notes),
    )
