"""PLN007: EXPLAIN's estimate of the rows read is 10x or more away from what was measured."""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.advisor.checks import Case, Check, CheckContext, Finding
from analyzer.advisor.checks._common import add_index_ddl, n
from analyzer.advisor.evidence import MISMATCH_RATIO, reconcile
from analyzer.sources.explain import Plan


class EstimateVsMeasured(Check):
    """EXPLAIN's estimate of the rows read is 10x or more away from what the workload measured.

    Without a measurement (one statement), an ORDER BY ... LIMIT index walk is compared with what
    the statistics of its filter columns imply instead.

    **Anti-pattern**

    ```sql
    SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10;
    -- EXPLAIN: orders  index  idx_orders_created_at  rows 10  Using where
    -- slow log: Rows_examined: 88,819
    ```

    The optimizer reads ``idx_orders_created_at`` backwards, so rows come out in ORDER BY order
    and no sort is needed, and checks ``customer_id = 42`` on every row it reads, stopping after
    10 matches.  It assumes the filter lets most rows through, so it estimates about 10 rows;
    when the customer's orders are few or old, the walk goes on through most of the index.
    The same gap opens with stale statistics, skewed values or correlated columns.  An advisor
    that believes the estimate sees nothing to fix in the workload's costliest query: mqa
    takes the measured rows examined (slow log, performance_schema) instead.

    **Fix**

    For an index walk, one index that serves the filter and the order together, so LIMIT stops
    after 10 index entries:

    ```sql
    ALTER TABLE orders ADD INDEX idx_orders_customer_id_created_at (customer_id, created_at);
    ```

    Otherwise refresh the statistics (``ANALYZE TABLE orders``) and give the optimizer the skew
    of unindexed filter columns: MariaDB ``ANALYZE TABLE orders PERSISTENT FOR COLUMNS (status)
    INDEXES ()``, MySQL 8 ``ANALYZE TABLE orders UPDATE HISTOGRAM ON status``.
    """

    code = "PLN007"
    name = "estimate-vs-measured"
    severity = "warning"

    MIN_ROWS = 1_000.0  # below this on both sides, a 10x gap costs nothing worth a finding
    CRITICAL_ROWS = 1_000_000.0

    def run(self, context: CheckContext) -> Iterator[Finding]:
        facts, plan = context.facts, context.plan
        if plan is None or not plan.tables:
            return
        if facts is None or facts.rows_examined_avg is None:
            yield from self._expected_walk(context, plan)
            return
        evidence = reconcile(plan, context.shape, facts.rows_examined_avg, context.catalog)
        measured, estimated = evidence.measured or 0.0, evidence.estimated or 0.0
        if not evidence.mismatch or max(measured, estimated) < self.MIN_ROWS:
            return
        ratio = f"{evidence.ratio:,.0f}x"
        if not evidence.underestimated:
            yield self.finding(
                context,
                f"EXPLAIN estimates {n(estimated)} rows examined per execution; the workload measured only "
                f"{n(measured)} ({ratio} fewer): the plan costs less than it looks (LIMIT stops early, a "
                "subquery cache hits) or the statistics are stale. mqa's advice uses the measurement.",
                fix="Nothing to fix in the statement; if the statistics are stale, ANALYZE TABLE "
                + ", ".join(sorted({t.table for t in plan.tables if not t.internal}))
                + ".",
                severity="info",
                estimated=estimated,
                measured=measured,
                ratio=evidence.ratio,
            )
            return
        message = (
            f"EXPLAIN estimates {n(estimated)} rows examined per execution; the workload measured "
            f"{n(measured)} ({ratio} more)."
        )
        walk = evidence.walk
        if walk is not None:
            order = ", ".join(walk.order_columns)
            message += (
                f" The plan walks {walk.key} ({', '.join(walk.key_columns)}) of {walk.table_name} in "
                f"ORDER BY {order} order and checks {', '.join(walk.filter_columns)} on every entry, "
                f"counting on LIMIT {walk.limit} matching rows coming early: they do not, so it reads "
                "most of the index. mqa's index advice uses the measured rows."
            )
            fix = (
                add_index_ddl(walk.table_name, walk.suggested_columns())
                + f": the filter and the order in one index, so the read stops after {walk.limit} entries."
            )
        else:
            tables = sorted({t.table for t in plan.tables if not t.internal})
            message += (
                " The optimizer's statistics do not describe the data (stale, skewed or correlated "
                "values), so its plan choice rests on a wrong count. mqa's index advice uses the "
                "measured rows."
            )
            fix = (
                f"ANALYZE TABLE {', '.join(tables)}; for skewed filter columns collect histograms (MariaDB: "
                "ANALYZE TABLE t PERSISTENT FOR COLUMNS (c) INDEXES (); MySQL 8: ANALYZE TABLE t UPDATE "
                "HISTOGRAM ON c), then compare EXPLAIN with the measured rows again."
            )
        yield self.finding(
            context,
            message,
            fix=fix,
            severity="critical" if measured >= self.CRITICAL_ROWS else "warning",
            estimated=estimated,
            measured=measured,
            ratio=evidence.ratio,
            index_walk=walk.key if walk is not None else None,
        )

    def _expected_walk(self, context: CheckContext, plan: Plan) -> Iterator[Finding]:
        """One statement, nothing measured: an index walk whose filters the statistics know to be
        selective will read far more than EXPLAIN's LIMIT-sized estimate."""
        evidence = reconcile(plan, context.shape, None, context.catalog)
        walk, expected, keep = evidence.walk, evidence.walk_expected, evidence.walk_keep
        if walk is None or expected is None or not keep:
            return
        estimated = evidence.estimated or 0.0
        if expected < self.MIN_ROWS or expected < MISMATCH_RATIO * max(estimated, 1.0):
            return
        filters = ", ".join(walk.filter_columns)
        yield self.finding(
            context,
            f"EXPLAIN estimates {n(estimated)} rows examined, counting on LIMIT {walk.limit} rows that pass "
            f"{filters} coming early while it walks {walk.key} ({', '.join(walk.key_columns)}) of {walk.table_name} "
            f"in ORDER BY order. By the statistics only one row in {n(1 / keep)} passes: "
            f"expect about {n(expected)} rows read per execution. mqa's index advice uses that.",
            fix=add_index_ddl(walk.table_name, walk.suggested_columns())
            + f": the filter and the order in one index, so the read stops after {walk.limit} entries.",
            estimated=estimated,
            expected=expected,
            index_walk=walk.key,
        )


assert MISMATCH_RATIO == 10.0  # the docstring's "10x"

_MY_ORDERS_FACTS = {
    "count": 83,
    "query_time_total": 10.95,
    "query_time_avg": 0.132,
    "rows_examined_avg": 88_819,
    "rows_sent_avg": 6,
}
_HOTEL_SCHEMA = """
CREATE TABLE hotels (id INT NOT NULL, name VARCHAR(120) NOT NULL, city VARCHAR(60) NOT NULL, PRIMARY KEY (id));
CREATE TABLE rooms (id INT NOT NULL, hotel_id INT NOT NULL, room_no SMALLINT NOT NULL, PRIMARY KEY (id),
  UNIQUE KEY uq_rooms_hotel_room (hotel_id, room_no));
CREATE TABLE bookings (id INT NOT NULL, room_id INT NOT NULL, guest_id INT NOT NULL, booked_at DATETIME NOT NULL,
  check_in DATE NOT NULL, PRIMARY KEY (id), KEY idx_bookings_booked_at (booked_at));
"""

CASES = [
    Case(
        "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
        expect=True,
        plan="pln007-shop-my-orders.mariadb.json",
        facts=_MY_ORDERS_FACTS,
        contains=[
            "estimates 10 rows",
            "measured 88,819",
            "8,882x more",
            "walks idx_orders_created_at (created_at)",
            "checks customer_id on every entry",
            "LIMIT 10",
            "ALTER TABLE orders ADD INDEX idx_orders_customer_id_created_at (customer_id, created_at)",
        ],
        note="the bundled sample's costliest class (MariaDB 10.11 plan, recorded)",
    ),
    Case(
        "SELECT b.id, b.booked_at, b.check_in, h.name FROM bookings b JOIN rooms r ON r.id = b.room_id "
        "JOIN hotels h ON h.id = r.hotel_id WHERE b.guest_id = 17 ORDER BY b.booked_at DESC LIMIT 10",
        expect=True,
        schema=_HOTEL_SCHEMA,
        plan="pln007-hotel-index-walk.mariadb.json",
        facts={
            "count": 200,
            "query_time_total": 9.0,
            "query_time_avg": 0.045,
            "rows_examined_avg": 73_081,
            "rows_sent_avg": 8,
        },
        contains=[
            "estimates 30 rows",
            "walks idx_bookings_booked_at (booked_at) of bookings",
            "ADD INDEX idx_bookings_guest_id_booked_at (guest_id, booked_at)",
        ],
        note="the walk on the first table of a three-table join (recorded)",
    ),
    Case(
        "SELECT id FROM orders WHERE status = 'paid' AND total_cents > 100000",
        expect=True,
        plan="pln007-shop-status.mariadb.json",
        facts={
            "count": 40,
            "query_time_total": 2.0,
            "query_time_avg": 0.05,
            "rows_examined_avg": 25_000,
            "rows_sent_avg": 40,
        },
        contains=[
            "estimates 225 rows",
            "measured 25,000",
            "statistics do not describe the data",
            "ANALYZE TABLE orders",
        ],
        note="no walk: stale or skewed statistics",
    ),
    Case(
        "SELECT id FROM orders WHERE note IS NULL LIMIT 10",
        expect=True,
        plan={
            "query_block": {
                "select_id": 1,
                "table": {
                    "table_name": "orders",
                    "access_type": "ALL",
                    "rows": 99433,
                    "filtered": 100,
                    "attached_condition": "orders.note is null",
                },
            }
        },
        facts={
            "count": 40,
            "query_time_total": 0.2,
            "query_time_avg": 0.005,
            "rows_examined_avg": 12,
            "rows_sent_avg": 10,
        },
        contains=["estimates 99,433", "only 12", "fewer"],
        note="LIMIT stops the scan early: info, nothing to fix",
    ),
    Case(
        "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
        expect=False,
        plan="pln007-shop-my-orders.mariadb.json",
        facts={
            "count": 83,
            "query_time_total": 0.2,
            "query_time_avg": 0.002,
            "rows_examined_avg": 40,
            "rows_sent_avg": 10,
        },
        note="10 estimated, 40 measured: within 10x",
    ),
    Case(
        "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
        expect=False,
        plan="pln007-shop-my-orders.mariadb.json",
        facts={
            "count": 83,
            "query_time_total": 0.2,
            "query_time_avg": 0.002,
            "rows_examined_avg": 900,
            "rows_sent_avg": 10,
        },
        note="90x apart, but under 1,000 rows either way: not worth a finding",
    ),
    Case(
        "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
        expect=False,
        facts=_MY_ORDERS_FACTS,
        note="no plan: nothing to compare",
    ),
    Case(
        "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
        expect=True,
        plan="pln007-shop-my-orders.mariadb.json",
        rows={"orders": 100_000},
        distinct={"orders.customer_id": 20_000},
        contains=[
            "estimates 10 rows",
            "only one row in 20,000 passes",
            "about 100,000 rows",
            "ADD INDEX idx_orders_customer_id_created_at (customer_id, created_at)",
        ],
        note="mqa explain of one statement: no measurement, the statistics say the walk is long",
    ),
    Case(
        "SELECT * FROM orders WHERE status = 'paid' ORDER BY created_at DESC LIMIT 10",
        expect=False,
        plan={
            "query_block": {
                "select_id": 1,
                "table": {
                    "table_name": "orders",
                    "access_type": "index",
                    "key": "idx_orders_created_at",
                    "used_key_parts": ["created_at"],
                    "rows": 10,
                    "filtered": 100,
                    "attached_condition": "orders.status = 'paid'",
                },
            }
        },
        rows={"orders": 100_000},
        distinct={"orders.status": 5},
        note="a filter most rows pass: the walk stops early, as EXPLAIN says",
    ),
]
