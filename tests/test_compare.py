"""Comparing runs (``analyzer.history.compare``): per-execution figures and rates, the noise
guards, and the ``--fail-on`` grammar."""

from __future__ import annotations

import pytest

from analyzer.errors import UsageError
from analyzer.history.compare import (
    ClassFigures,
    Guards,
    Snapshot,
    Threshold,
    compare,
    snapshot_from_json,
)
from analyzer.history.store import FindingFacts, PlanFacts


def snap(name: str, seconds: float | None, *classes: tuple, plans=None, findings=None) -> Snapshot:
    figures = {
        c[0]: ClassFigures(c[0], f"SELECT {c[0]}", c[1], c[1] * c[2], c[2], c[3], c[4] if len(c) > 4 else None)
        for c in classes
    }
    return Snapshot(
        name,
        "job",
        None,
        None,
        seconds,
        sum(c[1] for c in classes),
        sum(f.query_time for f in figures.values()),
        figures,
        plans or {},
        findings or [],
    )


def test_runs_of_different_length_compare_by_rates_and_per_call_figures() -> None:
    # an hour, then a day: ten times the calls and the time, the same rates and figures
    base = snap("hour", 3600, ("a", 1000, 0.010, 0.020, 5000.0))
    new = snap("day", 86400, ("a", 24000, 0.010, 0.020, 120000.0))
    c = compare(base, new)
    assert c.regressions == [] and c.improvements == []
    entry = c.common[0]
    assert entry["calls_per_second"] == pytest.approx((1000 / 3600, 24000 / 86400))
    assert entry["rows_examined_per_call"] == (5.0, 5.0)


def test_guards_keep_noise_out() -> None:
    base = snap("b", 60, ("rare", 10, 0.010, 0.010), ("fast", 500, 0.0001, 0.0002), ("slow", 500, 0.010, 0.020))
    new = snap("n", 60, ("rare", 10, 0.100, 0.500), ("fast", 500, 0.0003, 0.0008), ("slow", 500, 0.013, 0.045))
    c = compare(base, new)
    # rare: 10 calls < 30; fast: +300% but 0.6 ms; slow: avg +30% (3 ms) and p95 +125% (25 ms)
    assert {(r.class_id, r.metric) for r in c.regressions} == {("slow", "avg"), ("slow", "p95")}
    assert c.regressions[0].metric == "p95" and c.regressions[0].change == pytest.approx(1.25)
    assert compare(base, new, Guards(min_calls=5)).regressions[0].class_id == "rare"


def test_new_vanished_and_plan_changes() -> None:
    base = snap(
        "b", 60, ("a", 100, 0.01, 0.02), ("gone", 50, 0.01, 0.02), plans={"a": PlanFacts("a", "t:idx_x", "ref")}
    )
    new = snap("n", 60, ("a", 100, 0.01, 0.02), ("fresh", 40, 0.5, 0.9), plans={"a": PlanFacts("a", "t:-", "ALL")})
    c = compare(base, new)
    assert [x.class_id for x in c.new_classes] == ["fresh"] and [x.class_id for x in c.vanished_classes] == ["gone"]
    assert [(p.base_key, p.new_key, p.new_access) for p in c.plan_changes] == [("t:idx_x", "t:-", "ALL")]
    doc = c.to_json()
    assert set(doc) >= {
        "schema_version",
        "base",
        "new",
        "new_classes",
        "vanished_classes",
        "regressions",
        "improvements",
        "plan_changes",
    }
    assert doc["new_classes"][0] == {
        "class_id": "fresh",
        "fingerprint": "SELECT fresh",
        "count": 40,
        "query_time_sum": 20.0,
    }


@pytest.mark.parametrize(
    "text, crossed",
    [
        ("p95_regression>50%", True),  # slow: p95 +125%
        ("p95_regression>200%", False),
        ("avg_regression>25%", True),  # slow: avg +30%
        ("avg_regression>35%", False),
        ("regressions>0", True),
        ("regressions>1", False),  # one class (two metrics)
        ("new_classes>0", False),
        ("total_time>5s", True),  # 500*0.013 + 500*0.0003 = 6.65 s
        ("total_time>10m", False),
        ("finding>=warning", True),
        ("finding>=critical", False),
    ],
)
def test_fail_on_thresholds(text: str, crossed: bool) -> None:
    base = snap("b", 60, ("fast", 500, 0.0001, 0.0002), ("slow", 500, 0.010, 0.020))
    new = snap(
        "n",
        60,
        ("fast", 500, 0.0003, 0.0008),
        ("slow", 500, 0.013, 0.045),
        findings=[FindingFacts("slow", "QRY002", "warning", "...")],
    )
    why = Threshold.parse(text).crossed(new, compare(base, new))
    assert bool(why) is crossed, why
    if why and "regression" in text:
        assert "slow" in why and "fast" not in why


@pytest.mark.parametrize(
    "text, message",
    [
        ("p95>50%", "unknown name"),
        ("p95_regression>50", "percent"),
        ("regressions>1.5", "whole number"),
        ("finding>warning", "finding>=warning"),
        ("total_time>soon", "duration"),
        ("nonsense", "NAME>VALUE"),
    ],
)
def test_a_bad_expression_is_a_usage_error_that_lists_the_grammar(text: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        Threshold.parse(text)
    assert message in str(err.value) and "p95_regression>P%" in str(err.value)


def test_thresholds_that_need_a_baseline_are_silent_without_one() -> None:
    new = snap("n", 60, ("slow", 500, 0.013, 0.045))
    assert Threshold.parse("p95_regression>1%").crossed(new, None) is None
    assert Threshold.parse("total_time>1s").crossed(new, None)


def test_a_report_json_becomes_a_snapshot() -> None:
    from analyzer.digest import digest_logs
    from analyzer.report.digest import build_report
    from tests.conftest import REPO

    doc = build_report(
        digest_logs([str(REPO / "sample_workloads" / "shop" / "slow.log.gz")]), limit=None
    ).to_json_dict()
    s = snapshot_from_json(doc, "sample.json")
    assert s.events == 20009 and len(s.classes) == 87 and s.seconds == pytest.approx(43.02, abs=0.01)
    top = s.classes["31763a731dd625b5"]
    assert top.calls == 83 and top.p95 == doc["classes"][0]["metrics"]["query_time"]["p95"]
    with pytest.raises(Exception, match="not an mqa report"):
        snapshot_from_json({"hello": 1}, "x.json")
