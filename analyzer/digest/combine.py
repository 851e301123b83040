"""One report from a performance_schema window and a slow log of the same time.

The two sources see the same statements differently: performance_schema counts every
execution (exact counts and sums) but keeps no per-execution values and no literals; the slow
log has each execution (percentiles, the time histogram, real statements with their literals,
users, hosts, comment tags) but only those above ``long_query_time``.  Combined, every number
comes from one source, so nothing is counted twice:

- counts, sums, databases and time bounds: performance_schema;
- percentiles, spread and the histogram (``QueryClass.distribution``), the example, users,
  hosts and tags: the slow log's events of the same class id;
- slow-log classes that match no performance_schema class are left out of the totals (their
  statements are in performance_schema under some digest already) and named in a note.
"""

from __future__ import annotations

from analyzer.model import DigestResult, QueryClass


def combine(window: DigestResult, slowlog: DigestResult) -> DigestResult:
    """The window's classes, enriched with the slow log's per-execution detail."""
    slow_by_id: dict[str, QueryClass] = {c.id: c for c in slowlog.classes}
    matched_time = 0.0
    for cls in window.classes:
        slow = slow_by_id.pop(cls.id, None)
        if slow is None:
            continue
        matched_time += slow.stats.total("query_time")
        cls.distribution = slow.stats
        stats = cls.stats
        if slow.stats.example is not None:
            stats.example = slow.stats.example  # a real statement, full text, with its literals
        stats.users.update(slow.stats.users)
        stats.hosts.update(slow.stats.hosts)
        stats.tags.update(slow.stats.tags)
    notes = list(window.notes) + list(slowlog.notes)
    slow_time = slowlog.totals.total("query_time")
    if slow_by_id:
        left = sum(c.stats.total("query_time") for c in slow_by_id.values())
        notes.append(
            f"{len(slow_by_id)} slow-log classes ({_share(left, slow_time)} of the slow log's time) match no "
            "performance_schema digest of the window; they are not counted again (performance_schema "
            "counts every statement)"
        )
    if slow_time > 0:
        notes.append(
            f"percentiles and examples come from the slow log for the classes it shares with "
            f"performance_schema ({_share(matched_time, slow_time)} of the slow log's time)"
        )
    return DigestResult(
        window.mode,
        window.classes,
        list(window.sources) + list(slowlog.sources),
        window.totals,
        window.elapsed + slowlog.elapsed,
        notes,
    )


def _share(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole > 0 else "0%"
