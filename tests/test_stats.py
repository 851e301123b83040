"""Accumulators: exact merges, percentile accuracy, and the vectorised fold."""

from __future__ import annotations

import math
import random
import statistics
from pathlib import Path

import pytest

from analyzer.digest import DigestAccumulator
from analyzer.model import QueryEvent
from analyzer.sources.slowlog import SlowLogReader
from analyzer.stats import (
    RELATIVE_ACCURACY,
    TIMELINE_MAX_BUCKETS,
    GroupStats,
    MetricStats,
    TimeBuckets,
    fold_batch,
    histogram_bucket,
)
from tests.conftest import REPO

SAMPLE_LOG = REPO / "sample_workloads/shop/slow.log.gz"


def _values(seed: int, n: int = 20_000) -> list[float]:
    rng = random.Random(seed)
    values = [rng.lognormvariate(-6, 2.5) for _ in range(n)]
    values += [0.0] * 37 + [1e-12] * 5 + [12345.678]
    rng.shuffle(values)
    return values


def test_merge_of_parts_equals_one_pass() -> None:
    values = _values(1)
    whole = MetricStats()
    for v in values:
        whole.add(v)
    parts = [MetricStats() for _ in range(7)]
    for i, v in enumerate(values):
        parts[(i * 7919) % 7].add(v)
    merged = MetricStats()
    for part in parts:
        merged.merge(part)
    assert merged.n == whole.n == len(values)
    assert merged.total == pytest.approx(whole.total, rel=1e-12)
    assert (merged.min, merged.max) == (whole.min, whole.max)
    assert merged.buckets == whole.buckets and merged.zeros == whole.zeros
    assert merged.stddev == pytest.approx(statistics.pstdev(values), rel=1e-9)
    for q in (0.5, 0.95, 0.99):
        assert merged.quantile(q) == whole.quantile(q)


def test_stddev_is_sound_for_large_nearly_equal_values() -> None:
    acc = MetricStats()
    values = [1e9 + (i % 3) for i in range(10_000)]
    for v in values:
        acc.add(v)
    assert acc.stddev == pytest.approx(statistics.pstdev(values), rel=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quantiles_within_the_sketch_accuracy(seed: int) -> None:
    values = [v for v in _values(seed) if v > 1e-6]
    acc = MetricStats()
    for v in values:
        acc.add(v)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.95, 0.99, 0.999):
        exact = ordered[int(q * (len(ordered) - 1))]
        assert abs(acc.quantile(q) - exact) <= (RELATIVE_ACCURACY + 1e-9) * exact, q
    assert acc.quantile(0.0) == acc.min and acc.quantile(1.0) == acc.max


def test_histogram_buckets_are_pt_decades() -> None:
    assert [histogram_bucket(v) for v in (0.0, 5e-7, 1e-6, 9.9e-6, 1e-5, 5e-4, 0.002, 0.05, 0.5, 5, 10, 1e4)] == [
        0,
        0,
        0,
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        7,
    ]


def _per_event(events: list, keys: list[int], groups: int) -> list[GroupStats]:
    out = [GroupStats() for _ in range(groups)]
    for event, key in zip(events, keys):
        out[key].add(event)
    return out


def test_vectorised_fold_equals_event_by_event_add() -> None:
    events = list(SlowLogReader.from_path(str(SAMPLE_LOG)).events())
    keys = [hash(e.query.split(" ", 3)[:3].__str__()) % 50 for e in events]
    expected = _per_event(events, keys, 50)
    folded = [GroupStats() for _ in range(50)]
    for start in range(0, len(events), 3000):  # several batches, so folds also merge
        fold_batch(folded, keys[start : start + 3000], events[start : start + 3000], [])
    for want, got in zip(expected, folded):
        assert got.count == want.count
        assert got.histogram == want.histogram
        assert (got.first_ts, got.last_ts, got.first_tz, got.last_tz) == (
            want.first_ts,
            want.last_ts,
            want.first_tz,
            want.last_tz,
        )
        assert got.databases == want.databases and got.users == want.users and got.hosts == want.hosts
        assert got.timeline == want.timeline
        assert (got.example is None) == (want.example is None)
        if want.example is not None:
            assert (got.example.query, got.example.line) == (want.example.query, want.example.line)
        assert set(got.metrics) == set(want.metrics)
        for name, w in want.metrics.items():
            g = got.metrics[name]
            assert (g.n, g.min, g.max, g.zeros) == (w.n, w.min, w.max, w.zeros), name
            assert g.buckets == w.buckets, name
            assert g.total == pytest.approx(w.total, rel=1e-9, abs=1e-12), name
            assert g.stddev == pytest.approx(w.stddev, rel=1e-6, abs=1e-9), name


def test_digests_of_parts_merge_into_the_digest_of_the_whole(tmp_path: Path) -> None:
    events = list(SlowLogReader.from_path(str(SAMPLE_LOG)).events())
    whole = DigestAccumulator()
    whole.add_events(events)
    first, second = DigestAccumulator(), DigestAccumulator()
    first.add_events(events[: len(events) // 3])
    second.add_events(events[len(events) // 3 :])
    first.merge(second)
    assert set(first.groups) == set(whole.groups)
    for key, want in whole.groups.items():
        got = first.groups[key]
        assert got.count == want.count
        assert got.metrics["query_time"].total == pytest.approx(want.metrics["query_time"].total, rel=1e-9)
        assert got.metrics["rows_examined"].buckets == want.metrics["rows_examined"].buckets
        assert got.example.query == want.example.query  # type: ignore[union-attr]
    classes = {c.id: c.stats.count for c in first.classes()}
    assert classes == {c.id: c.stats.count for c in whole.classes()}
    assert sum(classes.values()) == len(events)


def test_empty_accumulators() -> None:
    acc = MetricStats()
    assert (acc.avg, acc.stddev, acc.quantile(0.5)) == (0.0, 0.0, 0.0)
    merged = MetricStats()
    merged.merge(acc)
    assert merged.n == 0 and math.isinf(merged.min)


def test_parallel_ranges_give_the_sequential_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte ranges of one file in worker processes merge into exactly the sequential digest,
    including line numbers and the database of events before a range's first 'use db;'
    (the MariaDB log writes 'use `shop`;' once, at its first event)."""
    import gzip

    from analyzer.digest import digest_logs, parallel
    from analyzer.report.digest import build_report

    plain = tmp_path / "slow.log"
    plain.write_bytes(gzip.decompress(SAMPLE_LOG.read_bytes()))
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1 << 20)
    units = parallel.plan([str(plain)], 4, None)
    assert len(units) == 4 and all(u.is_range for u in units)

    def report(jobs: int) -> dict:
        return build_report(digest_logs([str(plain)], jobs=jobs), limit=None).to_json_dict()

    sequential, concurrent = report(1), report(4)
    assert concurrent["summary"]["events"] == sequential["summary"]["events"] == 20_009
    assert concurrent["sources"] == sequential["sources"]
    by_id = {c["id"]: c for c in sequential["classes"]}
    assert [c["id"] for c in concurrent["classes"]] == [c["id"] for c in sequential["classes"]]
    for got in concurrent["classes"]:
        want = by_id[got["id"]]
        for field in (
            "count",
            "databases",
            "users",
            "hosts",
            "tags",
            "first_seen",
            "last_seen",
            "example",
            "example_meta",
            "histogram",
        ):
            assert got[field] == want[field], field
        assert got["databases"] == {"shop": got["count"]}
        for name, metric in want["metrics"].items():
            numbers = {k: v for k, v in metric.items() if k != "kind"}
            assert got["metrics"][name]["kind"] == metric["kind"]
            # JSON rounds times to 6 decimals, so a different summation order may move the last one
            assert {k: got["metrics"][name][k] for k in numbers} == pytest.approx(numbers, rel=1e-9, abs=1.01e-6), name


# --------------------------------------------------------------------------------------------
# Time-lines: adaptive buckets that merge exactly
# --------------------------------------------------------------------------------------------


def _timed_events(seed: int, n: int, span: float, start: float = 1_700_000_000.0) -> list[QueryEvent]:
    rng = random.Random(seed)
    times = sorted(start + rng.random() * span for _ in range(n))
    return [QueryEvent("SELECT 1", {"query_time": rng.lognormvariate(-5, 1)}, ts=t) for t in times]


@pytest.mark.parametrize(("span", "level"), [(40, 0), (255, 0), (300, 1), (86_400, 9), (31 * 86_400, 14)])
def test_a_time_line_has_at_most_a_few_hundred_buckets_at_the_finest_level_that_fits(span: float, level: int) -> None:
    timeline = TimeBuckets()
    timeline.add(1_700_000_000.0)  # an epoch multiple of every width: the span alone decides
    timeline.add(1_700_000_000.0 + span - 0.5)
    start, width, calls, _ = timeline.dense()  # type: ignore[misc]
    assert (timeline.level, width) == (level, 2**level)
    assert len(calls) <= TIMELINE_MAX_BUCKETS and sum(calls) == 2
    assert start == (1_700_000_000 // width) * width


def test_time_lines_of_any_split_merge_into_the_one_pass_time_line() -> None:
    events = _timed_events(3, 5_000, span=3 * 86_400)
    whole = GroupStats()
    for e in events:
        whole.add(e)
    rng = random.Random(5)
    cuts = sorted(rng.sample(range(1, len(events)), 7))
    parts = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)])]
    rng.shuffle(parts)
    merged = GroupStats()
    for part in parts:  # parts of any size, merged in any order
        stats = GroupStats()
        for e in part:
            stats.add(e)
        merged.merge(stats)
    assert merged.timeline == whole.timeline
    assert sum(whole.timeline.calls.values()) == len(events)
    assert sum(whole.timeline.times.values()) == pytest.approx(sum(e.metrics["query_time"] for e in events))
    folded = [GroupStats()]  # the vectorised fold, in batches, gives the same time-line
    for start in range(0, len(events), 700):
        fold_batch(folded, [0] * len(events[start : start + 700]), events[start : start + 700], [])
    assert folded[0].timeline == whole.timeline


def test_an_old_event_after_new_ones_coarsens_the_time_line_as_one_pass_would() -> None:
    late, early = _timed_events(7, 200, span=60), _timed_events(8, 10, span=60, start=1_690_000_000.0)
    one = GroupStats()
    for e in early + late:
        one.add(e)
    late_first = GroupStats()
    for e in late + early:
        late_first.add(e)
    assert late_first.timeline == one.timeline and one.timeline.level > 10


def test_parallel_units_describe_their_share_of_the_folded_keys(tmp_path: Path) -> None:
    """Each unit of a parallel digest describes the folded keys of its share (by hash), so the
    merging process does not parse them all: the shares are disjoint, every folded key that
    holds is in the share of the unit that saw it, and each class is the one the merging
    process would have found itself."""
    import gzip

    from analyzer.digest import parallel
    from analyzer.digest.accumulator import key_hash
    from analyzer.fingerprint.classifier import Fingerprinter

    plain = tmp_path / "slow.log"
    plain.write_bytes(gzip.decompress(SAMPLE_LOG.read_bytes()))
    unit = parallel.Unit(str(plain), plain.stat().st_size)
    results = [parallel._digest_unit(0, unit, "sqlglot", None, raw=True, share=(k, 2)) for k in (0, 1)]
    first, second = (r.classes for r in results)
    assert first and second and not first.keys() & second.keys()
    fresh = Fingerprinter()
    holding = {f for f in results[0].folded.values() if f is not None and fresh.folded_class(f) is not None}
    assert first.keys() | second.keys() == holding
    assert all(key_hash(f) % 2 == k for k, shared in enumerate((first, second)) for f in shared)
    for key, folded in results[0].folded.items():
        if folded in holding:
            assert (first | second)[folded] == Fingerprinter().class_of(key), key


def _sum_all(np, keys, columns, pending):
    """The reference: every key and chunk sorted together, summed in one pass."""
    all_keys = np.concatenate([keys] + [c[0] for c in pending])
    unique, inverse = np.unique(all_keys, return_inverse=True)
    return unique, [
        np.bincount(inverse, weights=np.concatenate([col] + [c[i] for c in pending]), minlength=len(unique)).astype(
            col.dtype
        )
        for i, col in enumerate(columns, start=1)
    ]


@pytest.mark.parametrize("seed", range(40))
def test_folding_pending_chunks_equals_sorting_everything_to_the_last_bit(seed: int) -> None:
    import numpy as np

    from analyzer.stats import _fold_pending

    rng = np.random.default_rng(seed)
    universe = int(rng.integers(1, 5_000))

    def chunk(n: int) -> tuple:
        keys = np.unique(rng.integers(-(1 << 40), universe, n) if seed % 7 == 0 else rng.integers(0, universe, n))
        return keys, rng.integers(1, 1_000, len(keys)), rng.lognormal(-6, 3, len(keys))

    known = chunk(int(rng.integers(0, 3_000))) if seed % 5 else chunk(0)
    pending = [chunk(int(rng.integers(0, 2_000))) for _ in range(int(rng.integers(1, 12)))]
    want_keys, want = _sum_all(np, known[0], [known[1], known[2]], pending)
    got_keys, got = _fold_pending(np, known[0].copy(), [known[1].copy(), known[2].copy()], pending)
    assert np.array_equal(got_keys, want_keys)
    assert got[0].dtype == np.int64 and np.array_equal(got[0], want[0])
    assert got[1].tobytes() == want[1].tobytes()  # the same sums in the same order: bit for bit


def test_a_time_line_consolidates_as_one_sort_of_everything_would() -> None:
    """Many folds over a long span (groups coarsen several times): the same buckets, levels and
    sums as the former consolidation, which sorted every entry again each time."""
    import numpy as np

    from analyzer.stats import _TL_OFFSET, _TL_SPAN, TIMELINE_BASE_SECONDS, _TimelineColumns

    def reference(level, keys, calls, times, pending):
        keys, (calls, times) = _sum_all(np, keys, [calls, times], pending)
        while len(keys):
            owners = keys // _TL_SPAN
            index = keys % _TL_SPAN - _TL_OFFSET
            low = np.full(len(level), np.iinfo(np.int64).max)
            high = np.full(len(level), np.iinfo(np.int64).min)
            np.minimum.at(low, owners, index)
            np.maximum.at(high, owners, index)
            over = (high - low + 1 > TIMELINE_MAX_BUCKETS) & (high >= low)
            if not over.any():
                break
            level[over] += 1
            index = np.where(over[owners], index >> 1, index)
            keys, (calls, times) = _sum_all(np, owners * _TL_SPAN + index + _TL_OFFSET, [calls, times], [])
        return level, keys, calls, times

    rng = np.random.default_rng(7)
    groups = 40
    tl = _TimelineColumns(np, groups)
    level, keys, calls, times = np.zeros(groups, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    start = 1.7e9
    for step in range(60):
        n = 3_000
        g = rng.integers(0, groups, n)
        # the span widens step by step (and a few events come from far back): levels go up
        ts = start + rng.uniform(-5.0 * step, 40.0 * TIMELINE_BASE_SECONDS * step**2 + 1, n)
        qt = rng.lognormal(-5, 2, n)
        tl.fold(g, ts, qt)
        tl.consolidate()
        pending_keys = g * _TL_SPAN + (np.floor(ts / TIMELINE_BASE_SECONDS).astype(np.int64) >> level[g]) + _TL_OFFSET
        unique, inverse = np.unique(pending_keys, return_inverse=True)
        chunk = (
            unique,
            np.bincount(inverse, minlength=len(unique)).astype(np.int64),
            np.bincount(inverse, weights=qt, minlength=len(unique)),
        )
        level, keys, calls, times = reference(level, keys, calls, times, [chunk])
        assert np.array_equal(tl.level, level) and np.array_equal(tl.keys, keys), step
        assert np.array_equal(tl.calls, calls) and tl.times.tobytes() == times.tobytes(), step
    assert level.max() >= 3  # the test coarsened groups several times
