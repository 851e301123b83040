"""Measurements over estimates (analyzer.advisor.evidence) and what the index advisor makes of
them: recorded MariaDB plans, the shop and hotel schemas, and measured rows as the slow log
gives them."""

from __future__ import annotations

import json

import pytest

from analyzer.advisor.evidence import find_index_walk, reconcile
from analyzer.advisor.query import analyze_query
from analyzer.advisor.suggest import WorkloadClass, advise_indexes
from analyzer.sources.explain import parse_plan
from analyzer.sources.schema import Catalog
from analyzer.sources.schema_ddl import load_tables_from_ddl
from tests.conftest import FIXTURES, REPO

PLANS = FIXTURES / "plans"
MY_ORDERS = "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10"
GUEST_BOOKINGS = (
    "SELECT b.id, b.booked_at, b.check_in, h.name FROM bookings b JOIN rooms r ON r.id = b.room_id "
    "JOIN hotels h ON h.id = r.hotel_id WHERE b.guest_id = 17 ORDER BY b.booked_at DESC LIMIT 10"
)


def _catalog(workload: str, rows: dict[str, int]) -> Catalog:
    ddl = (REPO / "sample_workloads" / workload / "schema.sql").read_text()
    tables = load_tables_from_ddl(ddl, default_schema=workload).tables
    for t in tables:
        t.rows = rows.get(t.name, t.rows)
    return Catalog(tables, default_schema=workload, source="live")


def _plan(name: str, sql: str):
    return parse_plan(json.loads((PLANS / name).read_text()), statement=sql)


@pytest.fixture()
def shop() -> Catalog:
    return _catalog("shop", {"orders": 100_000, "customers": 20_000, "categories": 141, "products": 5_000})


@pytest.fixture()
def hotel() -> Catalog:
    return _catalog("hotel", {"hotels": 600, "rooms": 15_000, "guests": 40_000, "bookings": 150_000})


def test_the_index_walk_is_recognized_with_what_it_filters(shop: Catalog) -> None:
    plan = _plan("pln007-shop-my-orders.mariadb.json", MY_ORDERS)
    access, walk = find_index_walk(plan, analyze_query(MY_ORDERS, catalog=shop, default_schema="shop"), shop)
    assert access is plan.tables[0] and walk is not None
    assert (walk.key, walk.key_columns, walk.order_columns, walk.filter_columns, walk.limit, walk.descending) == (
        "idx_orders_created_at",
        ("created_at",),
        ("created_at",),
        ("customer_id",),
        10,
        True,
    )
    assert walk.suggested_columns() == ("customer_id", "created_at")


def test_the_measurement_goes_to_the_walk_not_to_the_joined_tables(hotel: Catalog) -> None:
    """30 rows estimated (10 bookings, then one room and one hotel each), 73,081 measured: the
    difference is the walk over bookings going on; the lookups stay at 10 each."""
    plan = _plan("pln007-hotel-index-walk.mariadb.json", GUEST_BOOKINGS)
    shape = analyze_query(GUEST_BOOKINGS, catalog=hotel, default_schema="hotel")
    evidence = reconcile(plan, shape, 73_081.0, hotel)
    assert evidence.estimated == 30 and evidence.mismatch and evidence.underestimated
    assert evidence.rows_for("b") == pytest.approx(73_061) and evidence.rows_for("r") == evidence.rows_for("h") == 10
    assert evidence.total == 73_081


def test_without_a_walk_the_measurement_is_split_by_the_estimates(shop: Catalog) -> None:
    sql = "SELECT id FROM orders WHERE status = 'paid' AND total_cents > 100000"
    plan = _plan("pln007-shop-status.mariadb.json", sql)
    evidence = reconcile(plan, analyze_query(sql, catalog=shop, default_schema="shop"), 25_000.0, shop)
    assert evidence.walk is None and evidence.rows_for("orders") == 25_000
    assert "disagrees" in evidence.source()
    within = reconcile(plan, None, 900.0, shop)  # 4x apart: no mismatch, still the measurement
    assert not within.mismatch and within.rows_for("orders") == 900


def test_without_a_measurement_the_statistics_expect_the_walk(shop: Catalog) -> None:
    plan = _plan("pln007-shop-my-orders.mariadb.json", MY_ORDERS)
    shape = analyze_query(MY_ORDERS, catalog=shop, default_schema="shop")
    assert reconcile(plan, shape, None, shop).walk_expected is None  # customer_id's distinct count unknown
    shop.distinct[("shop", "orders", "customer_id")] = 20_000.0
    evidence = reconcile(plan, shape, None, shop)
    assert evidence.walk_expected == 100_000 and evidence.rows_for("orders") == 100_000  # capped at the table
    assert evidence.measured is None and evidence.total == 100_000


def test_the_advisor_takes_the_measured_walk_and_suggests_filter_then_order(shop: Catalog) -> None:
    """The sample's costliest class: EXPLAIN says 10 rows, the log 88,819 per call."""
    plan = _plan("pln007-shop-my-orders.mariadb.json", MY_ORDERS)
    measured = WorkloadClass(
        "w1", MY_ORDERS, "shop", count=83, query_time_total=10.95, rows_examined_avg=88_819, rows_sent_avg=6, plan=plan
    )
    [s] = advise_indexes([measured], shop).suggestions
    assert s.columns == ("customer_id", "created_at") and s.classes[0].rows_before == 88_819
    believed = WorkloadClass("w1", MY_ORDERS, "shop", count=83, query_time_total=10.95, plan=plan)
    assert advise_indexes([believed], shop).suggestions == []  # the estimate alone hides it


def _lookups(count: int, writes: int = 0) -> list[WorkloadClass]:
    classes = [
        WorkloadClass(
            "city",
            "SELECT id, name, stars FROM hotels WHERE city = 'Paris'",
            "hotel",
            count=count,
            query_time_total=count * 0.0004,
            rows_examined_avg=600,
            rows_sent_avg=6,
        )
    ]
    if writes:
        classes.append(
            WorkloadClass(
                "upd",
                "UPDATE hotels SET stars = 4 WHERE id = 7",
                "hotel",
                count=writes,
                query_time_total=writes * 0.0002,
                rows_examined_avg=1,
            )
        )
    return classes


def test_a_small_table_read_often_gets_its_index(hotel: Catalog) -> None:
    """600 rows x 400 calls = 240,000 rows examined where an index reads a handful per call."""
    advice = advise_indexes(_lookups(400), hotel)
    assert [s.columns for s in advice.suggestions] == [("city",)]


def test_a_small_table_read_rarely_does_not(hotel: Catalog) -> None:
    advice = advise_indexes(_lookups(3), hotel)
    assert advice.suggestions == []
    [reason] = [n.reason for n in advice.no_help if n.class_id == "city"]
    assert reason.startswith("small table (600 rows)") and "reading it whole is cheap" in reason


def test_a_small_table_written_more_than_the_index_saves_does_not(hotel: Catalog) -> None:
    """40 reads save ~24,000 rows; 5,000 writes would each pay for the index."""
    advice = advise_indexes(_lookups(40, writes=5_000), hotel)
    assert advice.suggestions == []
    assert any("less than its upkeep on 5,000 writes" in n.reason for n in advice.no_help)


def test_inserts_count_as_writes_to_their_table(hotel: Catalog) -> None:
    classes = _lookups(40) + [
        WorkloadClass(
            "ins",
            "INSERT INTO hotels (name, city, country, stars, opened_at) VALUES ('X', 'Y', 'DE', 3, '2020-01-01')",
            "hotel",
            count=5_000,
            query_time_total=1.0,
        )
    ]
    assert advise_indexes(classes, hotel).suggestions == []


def test_a_frequent_narrow_lookup_gets_a_covering_index_where_writes_are_rare(shop: Catalog) -> None:
    sql = "SELECT id, total_cents FROM orders WHERE customer_id = 42 AND status = 'paid'"
    frequent = WorkloadClass(
        "f", sql, "shop", count=5_000, query_time_total=40.0, rows_examined_avg=30_000, rows_sent_avg=5
    )
    shop.distinct[("shop", "orders", "customer_id")] = 20_000.0
    [s] = advise_indexes([frequent], shop).suggestions
    assert s.columns == ("customer_id", "status", "total_cents") and "covering" in s.reason
    rare = WorkloadClass("f", sql, "shop", count=20, query_time_total=1.0, rows_examined_avg=30_000, rows_sent_avg=5)
    [s] = advise_indexes([rare], shop).suggestions
    assert s.columns == ("customer_id", "status")
    writes = [
        WorkloadClass(
            "w",
            "UPDATE orders SET status = 'shipped' WHERE id = 7",
            "shop",
            count=5_000,
            query_time_total=1.0,
            rows_examined_avg=1,
        )
    ]
    [s] = advise_indexes([frequent] + writes, shop).suggestions
    assert s.columns == ("customer_id", "status")  # written as often as read: no covering columns


def test_the_advice_names_the_other_classes_whose_plans_may_change(shop: Catalog) -> None:
    plan = _plan("pln007-shop-my-orders.mariadb.json", MY_ORDERS)
    classes = [
        WorkloadClass(
            "w1",
            MY_ORDERS,
            "shop",
            count=83,
            query_time_total=10.95,
            rows_examined_avg=88_819,
            rows_sent_avg=6,
            plan=plan,
        ),
        WorkloadClass(
            "list",
            "SELECT id FROM orders WHERE created_at >= '2025-06-01' ORDER BY created_at LIMIT 20",
            "shop",
            count=50,
            query_time_total=0.1,
            rows_examined_avg=20,
        ),
        WorkloadClass(
            "cust",
            "SELECT email FROM customers WHERE id = 5",
            "shop",
            count=500,
            query_time_total=0.1,
            rows_examined_avg=1,
        ),
    ]
    [s] = advise_indexes(classes, shop).suggestions
    assert s.may_change == ["list"]
    assert s.to_dict("ddl")["may_change_plans"] == ["list"]
