"""A performance_schema window as query classes: the digest layer's side of ``mqa collect``.

``analyzer.sources.perfschema`` reads the digest table and returns what changed in a window
(``PerfSchemaWindow`` with one ``DigestDelta`` per digest row); here those deltas are folded
into query classes with the slow log's class ids, as ``digest_logs()`` folds events::

    window = collect_window(server, 60)          # analyzer.sources.perfschema
    result = window_result(window)                # a DigestResult, as digest_logs() returns
    for cls in result.classes: ...                # PerfSchemaClass: a QueryClass with extras
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from analyzer.fingerprint.classifier import Fingerprinter, Mode, class_id
from analyzer.fingerprint.digest_text import DigestText, read_digest_text
from analyzer.fingerprint.fastkey import fast_key
from analyzer.model import ClassInfo, DigestResult, QueryClass, SourceSummary
from analyzer.sources.perfschema import FLAG_METRICS, OVERFLOW_LABEL, DigestDelta, PerfSchemaWindow
from analyzer.stats import Example, GroupStats, MetricStats


@dataclass
class PerfSchemaClass(QueryClass):
    """A query class measured by performance_schema: a ``QueryClass`` plus what only it has.

    ``stats`` holds exact counts and sums for the window.  Per-execution distributions are
    not in performance_schema: the metrics' sketches and the time histogram are empty (the
    sketch's quantiles then fall back to the maximum, an upper bound), row metrics have only
    sums (``min``/``max`` are set to the average), and ``exact`` says which time bounds are
    exact.  MySQL 8's quantiles describe each
    digest's whole life and are in ``lifetime``, never in ``stats``.
    """

    digests: list[tuple[str | None, str | None]] = field(default_factory=list)
    digest_texts: list[str] = field(default_factory=list)
    truncated: bool = False  # the digest text was cut at max_digest_length
    lossy: bool = False  # the digest text lost literal counts (the class may be a guess)
    key_source: str = "digest_text"  # or "sample": the class came from a real statement
    exact: dict[str, bool] = field(default_factory=dict)  # "min_time", "max_time", "first_seen"
    lifetime: dict[str, dict[str, float]] = field(default_factory=dict)  # digest -> lifetime values

    def known_bounds(self, metric: str) -> bool:
        """performance_schema has a minimum and maximum for the statement time only."""
        return metric == "query_time" and self.exact.get("min_time", False) and self.exact.get("max_time", False)

    def details(self) -> dict[str, Any]:
        return {
            "perfschema": {
                "digests": [{"schema": schema, "digest": digest} for schema, digest in self.digests],
                "digest_texts": self.digest_texts,
                "truncated": self.truncated,
                "lossy": self.lossy,
                "class_from": self.key_source,
                "exact": dict(self.exact),
                "lifetime": self.lifetime,
            }
        }


def delta_stats(delta: DigestDelta, window_start: float | None = None) -> GroupStats:
    """A window's digest row as ``GroupStats``: counts and sums exact, no distribution."""
    stats = GroupStats()
    stats.count = delta.count
    n = delta.count
    for name, total in delta.sums.items():
        acc = MetricStats()
        acc.n = n
        acc.total = float(total)
        avg = total / n if n else 0.0
        if name == "query_time":
            acc.min, acc.max = delta.min_time, delta.max_time
        else:
            acc.min = acc.max = avg
        acc.shift = avg  # no spread is known: the standard deviation reads 0
        stats.metrics[name] = acc
    # The histogram stays empty too: performance_schema has no per-execution times.
    if delta.created_in_window and delta.first_seen is not None:
        stats.first_ts = delta.first_seen
    else:
        stats.first_ts = window_start if window_start is not None else delta.first_seen
    stats.last_ts = delta.last_seen
    if delta.schema is not None:
        stats.databases[delta.schema] += n
    sample = delta.sample
    if sample is not None:
        stats.example = Example(
            sample.query,
            sample.query_time,
            sample.ts,
            None,
            sample.schema,
            None,
            None,
            f"performance_schema.{sample.source}"
            if sample.source != "QUERY_SAMPLE_TEXT"
            else "performance_schema.events_statements_summary_by_digest.QUERY_SAMPLE_TEXT",
            0,
        )
    return stats


def class_key(
    delta: DigestDelta, max_digest_length: int | None = None, *, use_samples: bool = True
) -> tuple[str, DigestText | None, str]:
    """The fast key a digest's statements belong to: ``(key, what DIGEST_TEXT gave, source)``.

    The key comes from ``DIGEST_TEXT``; when that text is truncated, lost literal counts, or
    does not parse, and a real statement of the digest is at hand, the statement's own fast
    key is used instead (``source == "sample"``).
    """
    if delta.digest_text is None:
        return OVERFLOW_LABEL, None, "overflow"
    read = delta.text or read_digest_text(delta.digest_text, max_digest_length)
    sample = delta.sample
    if use_samples and sample is not None and (read.truncated or read.lossy or not _parses(read.key)):
        return fast_key(sample.query)[0], read, "sample"
    return read.key, read, "digest_text"


def _parses(key: str) -> bool:
    from analyzer.fingerprint.canonical import canonicalize

    return canonicalize(key).parsed


def window_classes(
    window: PerfSchemaWindow, mode: Mode = "sqlglot", *, use_samples: bool = True
) -> list[PerfSchemaClass]:
    """The window's digests folded into query classes, with the slow log's class ids."""
    fp = Fingerprinter(mode)
    by_fingerprint: dict[str, PerfSchemaClass] = {}
    for delta in window.deltas:
        key, read, source = class_key(delta, window.settings.max_digest_length, use_samples=use_samples)
        example = delta.sample.query if delta.sample is not None else key
        if source == "overflow":
            info = ClassInfo(class_id(key), key, "OTHER", (), False, "no digest: the digest table was full", key)
        elif read is not None and read.truncated and source == "digest_text":
            info = ClassInfo(
                class_id(read.key),
                read.key,
                read.key.split(None, 1)[0].upper() if read.key else "OTHER",
                (),
                False,
                read.notes[-1] if read.notes else "digest text truncated",
                read.key,
            )
        elif mode == "pt":
            info = fp.describe(fp.key(example)[0], example)
        else:
            info = fp.describe(key, example)
        stats = delta_stats(delta, window.started_at)
        cls = by_fingerprint.get(info.fingerprint)
        if cls is None:
            cls = by_fingerprint[info.fingerprint] = PerfSchemaClass(info, GroupStats(), "", 0)
            cls.exact = {"min_time": True, "max_time": True, "first_seen": True}
        cls.stats.merge(stats)
        cls.keys += 1
        cls.digests.append((delta.schema, delta.digest))
        if delta.digest_text is not None:
            cls.digest_texts.append(delta.digest_text)
        cls.truncated = cls.truncated or bool(read is not None and read.truncated)
        cls.lossy = cls.lossy or bool(read is not None and read.lossy and source != "sample")
        if source == "sample":
            cls.key_source = "sample"
        cls.exact["min_time"] = cls.exact["min_time"] and delta.min_exact
        cls.exact["max_time"] = cls.exact["max_time"] and delta.max_exact
        cls.exact["first_seen"] = cls.exact["first_seen"] and delta.created_in_window
        if delta.lifetime and delta.digest is not None:
            cls.lifetime[delta.digest] = dict(delta.lifetime)
    classes = list(by_fingerprint.values())
    for cls in classes:
        example = cls.stats.example.query if cls.stats.example is not None else cls.fingerprint
        cls.pt_id = fp.pt_id(example)
    return classes


def window_summary(window: PerfSchemaWindow) -> SourceSummary:
    """The ``sources`` entry of a report (``kind: "perfschema"``)."""
    return SourceSummary(
        kind="perfschema",
        name=window.server or "performance_schema",
        events=window.statements,
        kept=window.statements,
        malformed=0,
        dialect=f"{window.flavor} {window.version}".strip(),
        flag_metrics=FLAG_METRICS,
        flavor_hints=frozenset({window.flavor}) if window.flavor else frozenset(),
        server_version=window.version or None,
    )


def window_result(window: PerfSchemaWindow, mode: Mode = "sqlglot", *, use_samples: bool = True) -> DigestResult:
    """A ``DigestResult`` for reports: the window's classes and one ``perfschema`` source."""
    started = time.perf_counter()
    classes: list[QueryClass] = list(window_classes(window, mode, use_samples=use_samples))
    totals = GroupStats()
    for cls in classes:
        totals.merge(cls.stats)
    result = DigestResult(
        mode, classes, [window_summary(window)], totals, time.perf_counter() - started, list(window.notes)
    )
    # The window, not the statements' own first/last seen, is the time the counts cover.
    totals.first_ts, totals.first_tz = window.started_at, None
    totals.last_ts, totals.last_tz = window.ended_at, None
    return result
