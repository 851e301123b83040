"""Per request and per group (``analyzer.digest.requests``, ``analyzer.digest.groups``): on the
sample workload, in every format, merged across byte ranges exactly, and inferred from
connections when statements carry no request id."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.digest import digest_logs
from analyzer.digest.requests import RequestAccumulator
from analyzer.digest.views import Views
from analyzer.model import QueryEvent
from tests.conftest import REPO

SAMPLE = REPO / "sample_workloads" / "shop" / "slow.log.gz"
ORDER_ITEMS = "SELECT order_items.* FROM order_items WHERE order_items.order_id = ?"
INVENTORY = "SELECT SUM(inventory.quantity - inventory.reserved) FROM inventory WHERE inventory.product_id = ?"


def mqa(*args: str) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env={"HOME": "/nonexistent", "PATH": "/usr/bin:/bin", "COLUMNS": "140"},
    )
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def sample_json() -> dict:
    return json.loads(mqa("digest", str(SAMPLE), "--group-by", "tag:route", "--limit", "0", "-f", "json").stdout)


def _truth() -> dict[str, list[int]]:
    """Statements per traced request of the two N+1 routes, counted from the log text itself."""
    text = gzip.decompress(SAMPLE.read_bytes()).decode("utf-8", "surrogateescape")
    counts: dict[tuple[str, str], int] = {}
    for statement in re.findall(r"^SELECT .*$", text, re.M):
        m = re.search(r"route='([^']*)',traceparent='00-([0-9a-f]{32})-", statement)
        if not m:
            continue
        if statement.startswith("SELECT `order_items`.* FROM `order_items` WHERE `order_items`.`order_id` ="):
            counts[("/account/orders", m.group(2))] = counts.get(("/account/orders", m.group(2)), 0) + 1
    per_request: dict[str, list[int]] = {}
    for (route, _), n in counts.items():
        per_request.setdefault(route, []).append(n)
    return per_request


def test_group_by_route_ranks_the_routes(sample_json: dict) -> None:
    groups = sample_json["groups"]
    assert groups[0]["by"] == "tag:route" and groups[0]["value"] == "/account/orders"
    assert groups[0]["share"] == pytest.approx(0.30, abs=0.01) and groups[0]["class_ids"][0] == "31763a731dd625b5"
    by_value = {g["value"]: g for g in groups}
    assert {"/products/:id", "/c/:slug", "/v1/orders", "/checkout", "(none)"} <= set(by_value)
    assert sum(g["count"] for g in groups) == sample_json["summary"]["events"]  # every event in one group
    assert sum(g["query_time_sum"] for g in groups) == pytest.approx(
        sample_json["summary"]["query_time_total"], abs=1e-3
    )


def test_the_per_request_view_finds_the_n_plus_one_endpoints(sample_json: dict) -> None:
    routes = {r["route"]: r for r in sample_json["requests"]}
    orders = routes["/account/orders"]
    [repeated] = [x for x in orders["repeated"] if x["fingerprint"] == ORDER_ITEMS]
    truth = sorted(_truth()["/account/orders"])
    assert repeated["requests"] == len(truth)
    assert repeated["per_request"]["max"] == max(truth)
    assert abs(repeated["per_request"]["p50"] - truth[(len(truth) - 1) // 2]) <= 1
    assert "IN (?, ?, ...)" in repeated["fix"]
    listing = routes["/c/:slug"]
    [inventory] = [x for x in listing["repeated"] if x["fingerprint"] == INVENTORY]
    assert inventory["per_request"]["p50"] >= 10 and "GROUP BY inventory.product_id" in inventory["fix"]
    assert not routes["/products/:id"]["repeated"]  # one of each per request: nothing repeated
    assert orders["statements_per_request"]["max"] >= repeated["per_request"]["max"]


def test_the_views_in_the_terminal_and_markdown() -> None:
    out = mqa("digest", str(SAMPLE), "--group-by", "tag:route", "--details", "0").stdout
    assert "Groups by tag:route: 20" in out and "/account/orders" in out
    assert re.search(r"repeats 5× per request \(max 10, in 43 requests\)", out)
    md = mqa("digest", str(SAMPLE), "--group-by", "tag:route", "--details", "0", "-f", "markdown").stdout
    assert "## Groups by tag:route" in md and "## Per request" in md and "| /account/orders |" in md


def test_byte_ranges_in_parallel_give_the_sequential_views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analyzer.digest import parallel
    from analyzer.report.digest import build_report

    log = tmp_path / "slow.log"
    log.write_bytes(gzip.decompress(SAMPLE.read_bytes()))
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1 << 20)
    views = Views(group_by="tag:route")
    docs = [
        build_report(digest_logs([str(log)], jobs=jobs, views=views), limit=None, group_by="tag:route").to_json_dict()
        for jobs in (1, 3)
    ]
    assert len(parallel.plan([str(log)], 3, None)) == 3
    assert docs[0]["requests"] == docs[1]["requests"]
    assert docs[0]["groups"] == docs[1]["groups"]


def test_requests_split_between_parts_merge_into_one() -> None:
    events = [
        QueryEvent(
            f"SELECT {i} /*route='/r',traceparent='00-{'a' * 31}{i % 3}-{'b' * 16}-01'*/",
            {"query_time": 0.01},
            ts=1000.0 + i,
        )
        for i in range(30)
    ]
    whole = RequestAccumulator()
    for e in events:
        whole.add(e, "k", ("route=/r",))
    [b] = whole.finish()
    assert (b.requests, b.statements.total, b.shapes["k"].max) == (3, 30.0, 10.0)
    for cut in (1, 7, 15, 29):
        first, second = RequestAccumulator(), RequestAccumulator()
        for e in events[:cut]:
            first.add(e, "k", ("route=/r",))
        for e in events[cut:]:
            second.add(e, "k", ("route=/r",))
        first.merge(second)
        [a] = first.finish()
        assert (a.requests, a.statements.total, a.shapes["k"].max) == (3, 30.0, 10.0), cut


def test_idle_requests_of_the_first_minute_stay_open_and_come_back() -> None:
    """A request that began in a part's first minute may have begun in the previous part: it
    stays open when it goes idle (parked), comes back when its id is seen again, goes on in
    the next part, and log times that go back a little stop nothing that should stay."""

    def event(trace: int, ts: float) -> QueryEvent:
        query = f"SELECT 1 /*route='/r',traceparent='00-{trace:032x}-{'b' * 16}-01'*/"
        return QueryEvent(query, {"query_time": 0.5}, ts=ts)

    # trace 1: at 0 and again at 200 (idle in between: parked, then back); trace 2: at 10
    # only; traces 3..11: one statement a minute apart each; trace 5 comes back at 601, after
    # it finished (a new request); trace 12's statement at 150 comes last (log times go back).
    times = [(1, 0.0), (2, 10.0)] + [(t, 60.0 * (t - 2)) for t in range(3, 12)]
    times += [(1, 200.0), (13, 600.0), (5, 601.0)]
    events = [event(t, ts) for t, ts in sorted(times, key=lambda x: x[1])] + [event(12, 150.0)]
    whole = RequestAccumulator()
    for e in events:
        whole.add(e, "k", ("route=/r",))
    assert set(whole.parked) <= whole.edge
    [b] = whole.finish()
    assert (b.requests, b.statements.total, b.statements.max, b.time.total) == (14, 15.0, 2.0, 7.5)
    # Parked requests on either side of a merge (a cut inside would split trace 1's request,
    # idle for over a minute: the approximation the module describes).
    for cut in (0, len(events)):
        first, second = RequestAccumulator(), RequestAccumulator()
        for e in events[:cut]:
            first.add(e, "k", ("route=/r",))
        for e in events[cut:]:
            second.add(e, "k", ("route=/r",))
        assert (first if cut else second).parked
        first.merge(second)
        [a] = first.finish()
        assert (a.requests, a.statements.total, a.statements.max) == (14, 15.0, 2.0), cut


def test_without_request_ids_bursts_per_connection_are_inferred(tmp_path: Path) -> None:
    text = gzip.decompress(SAMPLE.read_bytes())
    log = tmp_path / "untraced.log"
    log.write_bytes(re.sub(rb",traceparent='[^']*'", b"", text))
    traced = json.loads(mqa("digest", str(log), "-f", "json").stdout)
    assert "requests" not in traced  # no request ids, and bursts only when asked
    doc = json.loads(mqa("digest", str(log), "--requests", "-f", "json").stdout)
    routes = {r["route"]: r for r in doc["requests"]}
    assert all(r["inferred"] for r in doc["requests"])
    [repeated] = [x for x in routes["/account/orders"]["repeated"] if x["fingerprint"] == ORDER_ITEMS]
    assert repeated["per_request"]["p50"] >= 3  # the loop shows in the bursts too
    out = mqa("digest", str(log), "--requests", "--details", "0").stdout
    assert "Per request (inferred: bursts of statements per connection, no request ids)" in out


def test_group_by_other_dimensions() -> None:
    for by, expected in (("db", {"shop"}), ("user", {"shop_web", "shop_api"}), ("table", {"shop.orders"})):
        doc = json.loads(mqa("digest", str(SAMPLE), "--group-by", by, "-f", "json").stdout)
        assert expected <= {g["value"] for g in doc["groups"]}, by
        assert all(g["by"] == by for g in doc["groups"])
    bad = subprocess.run(
        [sys.executable, "-m", "cli", "digest", str(SAMPLE), "--group-by", "route"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert (
        bad.returncode == 2 and "--group-by 'route': choose one of tag:KEY, db, user, host, table, source" in bad.stderr
    )


def test_endpoint_offline_from_the_schema_file() -> None:
    schema = str(REPO / "sample_workloads" / "shop" / "schema.sql")
    doc = json.loads(mqa("endpoint", str(SAMPLE), "--route", "/c/:slug", "--schema-file", schema, "-f", "json").stdout)
    assert doc["summary"]["events"] == 4905 and doc["advice"]["command"] == "endpoint"
    [route] = doc["requests"]
    assert route["route"] == "/c/:slug" and route["repeated"][0]["fingerprint"] == INVENTORY
