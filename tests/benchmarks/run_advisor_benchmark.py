#!/usr/bin/env python3
"""Advisor effectiveness: how much of a careful DBA's gain do ``mqa advise``'s indexes deliver?

    python tests/benchmarks/run_advisor_benchmark.py                          # every case, 3 runs each
    python tests/benchmarks/run_advisor_benchmark.py --case hotel --runs 1     # one case, quick
    python tests/benchmarks/run_advisor_benchmark.py --case shop --scale 0.1 --statements 3000 --runs 1
    python tests/benchmarks/run_advisor_benchmark.py --json result.json --keep

Three cases, each a workload and a starting schema:

``shop``          the ``shop`` sample with primary keys only (the advisor must find every index)
``shop-shipped``  the ``shop`` sample with its own secondary indexes, as the README's quickstart
                  runs it: the advisor must close the gaps they leave (W1-W7 of its README)
``hotel``         the ``hotel`` sample (primary and unique keys, one secondary index), built to hold
                  the traps an advisor meets: an ORDER BY ... LIMIT index walk that EXPLAIN
                  underestimates, a join whose index belongs on the filtered table, two classes
                  competing for one table's indexes, frequent lookups on a small table, a
                  low-cardinality filter and a primary-key lookup

One throwaway MariaDB (``sample_workloads.localserver.LocalMariaDB``: performance_schema off, slow
log with ``long_query_time=0``). For every index set and run, the workload is loaded fresh into the
set's own database from the case's starting schema (same ``--scale`` and data seed), the set's
indexes are added, the tables are ANALYZEd, the slow log is switched to a fresh file and the same
statements (same seed) are replayed, one connection per logical session as the workload's own users.
That phase's log is digested with mqa's library, keeping the replayer's events only
(``EventFilter``: the set's database and users), for the rows examined and query time, in total and
per class.

Index sets:

``start``     the starting schema alone (the baseline)
``advisor``   ``mqa advise START_LOG --verify --scratch-schema mqa_scratch -S SOCK -u root -D START_DB
              --no-defaults --format json`` run on the first baseline phase; its ``advice.ddl``
              (verified suggestions, one ALTER TABLE per table) applied with the schema name rewritten
``hand``      the case's hand-picked set (below): what a careful DBA adds after reading the query
              mix and the workload's README, written down before looking at any advisor output
``shipped``   (case ``shop`` only, for reference) the schema's own secondary indexes

Targets, per case: the advisor's set achieves the case's share of the hand set's reduction in
rows examined (``shop`` 100%, the others 95%), with no more indexes than the hand set + 2; no
class examines more than 10% more rows per call than at the start; the classes that need no index
get none (``hotel``); and every planted gap is closed (``shop-shipped``: the class reaches at
least 90% of the hand set's reduction for it).  Rows examined are (nearly) deterministic; query
time is the median over ``--runs`` replays per set (runs interleaved round-robin between the
sets).  The result is printed as Markdown with a one-line verdict per case; ``--json FILE``
writes the raw numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SCRATCH_SCHEMA = "mqa_scratch"
TARGET_EXTRA_INDEXES = 2  # the advisor may use at most hand + 2 indexes
CLASS_WORSE_LIMIT = 0.10  # no class may examine more than 10% more rows per call than at the start
CLASS_WORSE_SLACK = 20.0  # ... give or take a few rows per call (a cheap class reading 3 rows instead of 2)
GAP_CLOSED_SHARE = 0.90  # a planted gap is closed when the advisor gets 90% of the hand set's reduction there

# The hand-picked sets, written down from the query mixes (sample_workloads/*/workload.py and their
# READMEs) before looking at any advisor output.  Each line: the statement, then the queries it
# serves.

# shop, from primary keys only.  W5 (DATE(created_at) = ...) and W6 (VARCHAR compared with numbers)
# need query rewrites, not indexes; ORDER BY RAND() and LIKE '%infix%' cannot use an index either.
HAND_SHOP: list[str] = [
    # login: customers WHERE email = ? LIMIT 1 (a natural key)
    "CREATE UNIQUE INDEX hand_customers_email ON customers (email)",
    # category page: categories WHERE slug = ? LIMIT 1
    "CREATE UNIQUE INDEX hand_categories_slug ON categories (slug)",
    # home page: categories WHERE parent_id IS NULL ORDER BY position
    "CREATE INDEX hand_categories_parent ON categories (parent_id, position)",
    # W3: API products WHERE sku = ? (SKUs are unique)
    "CREATE UNIQUE INDEX hand_products_sku ON products (sku)",
    # search: products WHERE name LIKE 'prefix%' AND is_active = 1 ORDER BY name LIMIT 20
    "CREATE INDEX hand_products_name ON products (name)",
    # home newest products (is_active = 1 ORDER BY created_at DESC LIMIT 12); never_ordered report (created_at < ? ORDER BY created_at)
    "CREATE INDEX hand_products_created_at ON products (created_at)",
    # category page: COUNT(*) and listing JOIN product_categories WHERE category_id = ?
    "CREATE INDEX hand_product_categories_category ON product_categories (category_id)",
    # W1: my orders: orders WHERE customer_id = ? ORDER BY created_at DESC LIMIT 10
    "CREATE INDEX hand_orders_customer_created ON orders (customer_id, created_at)",
    # W4: fulfillment (status = 'paid' AND created_at < ? ORDER BY created_at), admin list by status ORDER BY created_at DESC, status_counts, cancelled_customers IN (SELECT)
    "CREATE INDEX hand_orders_status_created ON orders (status, created_at)",
    # admin list ORDER BY created_at DESC LIMIT/OFFSET; daily_sales, top_products, category_revenue ranges; customers_without_orders NOT IN (SELECT ... created_at >= ?)
    "CREATE INDEX hand_orders_created_at ON orders (created_at)",
    # order page and my-orders N+1: order_items WHERE order_id = ?; top_products/category_revenue joins on order_id
    "CREATE INDEX hand_order_items_order ON order_items (order_id)",
    # never_ordered report: NOT EXISTS (SELECT 1 FROM order_items WHERE product_id = p.id)
    "CREATE INDEX hand_order_items_product ON order_items (product_id)",
    # order page: payments WHERE order_id = ?
    "CREATE INDEX hand_payments_order ON payments (order_id)",
    # W2: review widget (product_id, is_approved ORDER BY created_at DESC), API AVG/COUNT, brand_reviews correlated COUNT, review UPDATE's AVG subquery
    "CREATE INDEX hand_reviews_product ON reviews (product_id, is_approved, created_at)",
    # cart page: carts WHERE session_token = ? LIMIT 1
    "CREATE INDEX hand_carts_session ON carts (session_token)",
    # W7: abandoned-cart job: UPDATE carts WHERE status = 'active' AND updated_at < ?; DELETE ... IN (SELECT id FROM carts WHERE status = 'abandoned' AND updated_at < ?)
    "CREATE INDEX hand_carts_status_updated ON carts (status, updated_at)",
    # W7: session timeline: events WHERE session_token = ? ORDER BY created_at
    "CREATE INDEX hand_events_session_created ON events (session_token, created_at)",
    # events purge job: DELETE FROM events WHERE created_at < ? ORDER BY created_at LIMIT 500
    "CREATE INDEX hand_events_created_at ON events (created_at)",
]

# shop, from its shipped secondary indexes: the fixes of the weaknesses its README plants (W1-W4,
# W7; W5/W6 are rewrites, W8 a redundant index that costs writes, not reads).
HAND_SHOP_SHIPPED: list[str] = [
    # W1: my orders: WHERE customer_id = ? ORDER BY created_at DESC LIMIT 10 walks idx_orders_created_at today
    "CREATE INDEX hand_orders_customer_created ON orders (customer_id, created_at)",
    # W2: review widget, rating AVG/COUNT, the correlated review count, the review UPDATE's AVG subquery
    "CREATE INDEX hand_reviews_product ON reviews (product_id, is_approved, created_at)",
    # W3: API products WHERE sku = ?
    "CREATE UNIQUE INDEX hand_products_sku ON products (sku)",
    # W4: fulfillment and admin lists by status ORDER BY created_at; replaces the status-only index
    "ALTER TABLE orders DROP INDEX idx_orders_status, ADD INDEX hand_orders_status_created (status, created_at)",
    # W7: session timeline
    "CREATE INDEX hand_events_session_created ON events (session_token, created_at)",
    # W7: abandoned-cart job
    "CREATE INDEX hand_carts_status_updated ON carts (status, updated_at)",
]

# hotel: one index per situation of its README that an index fixes.
HAND_HOTEL: list[str] = [
    # guest_bookings: WHERE b.guest_id = ? ORDER BY b.booked_at DESC LIMIT 10 walks idx_bookings_booked_at
    # today and filters guest_id row by row (EXPLAIN says 10 rows, the log says most of the table)
    "CREATE INDEX hand_bookings_guest_booked ON bookings (guest_id, booked_at)",
    # arrivals: WHERE b.check_in = ? AND b.status = 'confirmed', joined to guests by primary key; status
    # first, so that recent_bookings (booked_at >= ? ORDER BY check_in LIMIT 20) is not lured into
    # walking a check_in-first index past everything booked long ago
    "CREATE INDEX hand_bookings_status_check_in ON bookings (status, check_in)",
    # hotels_in_city: a 600-row table, but read whole hundreds of times
    "CREATE INDEX hand_hotels_city ON hotels (city)",
]


@dataclass
class Case:
    name: str
    workload: str  # module under sample_workloads
    secondary_indexes: bool  # start from the schema's own secondary indexes
    hand: list[str]
    share: float  # advisor reduction / hand reduction needed
    scale: float
    statements: int
    no_index: dict[str, str] = field(default_factory=dict)  # label -> fingerprint start of classes needing none
    gaps: dict[str, str] = field(default_factory=dict)  # label -> fingerprint start of planted gaps
    reference: bool = False  # also measure the schema's shipped secondary indexes ("shipped")

    @property
    def sets(self) -> tuple[str, ...]:
        return ("start", "advisor", "hand") + (("shipped",) if self.reference else ())

    def module(self) -> Any:
        import importlib

        return importlib.import_module(f"sample_workloads.{self.workload}.workload")


CASES: dict[str, Case] = {
    "shop": Case("shop", "shop", False, HAND_SHOP, 1.00, 0.5, 20_000, reference=True),
    "shop-shipped": Case(
        "shop-shipped",
        "shop",
        True,
        HAND_SHOP_SHIPPED,
        0.95,
        0.5,
        20_000,
        gaps={
            "W1 my orders": "SELECT orders.* FROM orders WHERE orders.customer_id = ? ORDER BY orders.created_at DESC",
            "W2 review widget": "SELECT reviews.* FROM reviews WHERE reviews.product_id = ? AND reviews.is_approved",
            "W2 rating": "SELECT AVG(rating) AS rating, COUNT(*) AS n FROM reviews WHERE product_id = ?",
            "W3 product by SKU": "SELECT id, sku, name, price_cents FROM products WHERE sku = ?",
            "W7 session timeline": "SELECT events.* FROM events WHERE events.session_token = ?",
        },
    ),
    "hotel": Case(
        "hotel",
        "hotel",
        True,
        HAND_HOTEL,
        0.95,
        1.0,
        6_000,
        no_index={
            "low-cardinality filter": "SELECT COUNT(*) FROM guests WHERE loyalty_tier = ?",
            "primary-key lookup": "SELECT * FROM bookings WHERE id = ?",
        },
    ),
}


def fail(msg: str, code: int = 2) -> NoReturn:
    print(f"run_advisor_benchmark: ERROR: {msg}", file=sys.stderr)
    sys.exit(code)


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
def execute(conn: Any, sql: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall()) if cur.description else []


def secondary_indexes(conn: Any, database: str) -> list[str]:
    rows = execute(
        conn,
        "SELECT DISTINCT CONCAT(table_name, '.', index_name) FROM information_schema.statistics "
        f"WHERE table_schema = '{database}' AND index_name <> 'PRIMARY' ORDER BY 1",
    )
    return [r[0] for r in rows]


def rewrite_schema(ddl: str, old: str, new: str) -> str:
    """``ALTER TABLE `old`.`t` ...`` -> ``ALTER TABLE `new`.`t` ...`` (also unquoted ``old.t``)."""
    out = ddl.replace(f"`{old}`.", f"`{new}`.")
    return re.sub(rf"(?<![\w`]){re.escape(old)}\.", f"{new}.", out)


def digest_phase(log: Path, database: str, users: str) -> dict[str, Any]:
    """Totals of the replayed statements of ``database`` in one phase's slow log, and per class."""
    from analyzer.digest import digest_logs
    from analyzer.digest.filters import EventFilter
    from analyzer.report.digest import build_report

    flt = EventFilter(databases=(database,), users=(users,))
    result = digest_logs([str(log)], event_filter=flt)
    report = build_report(result, limit=None)
    classes = []
    for c in report.classes:
        classes.append(
            {
                "id": c.id,
                "fingerprint": c.fingerprint[:300],
                "count": c.count,
                "rows_examined": c.metric("rows_examined"),
                "query_time": c.metric("query_time"),
            }
        )
    classes.sort(key=lambda c: -c["rows_examined"])
    return {
        "events": report.summary.events,
        "events_read": report.summary.events_read,
        "rows_examined": int(sum(c["rows_examined"] for c in classes)),
        "query_time": report.summary.query_time_total,
        "classes": classes,
    }


# ---------------------------------------------------------------------------------------------
class Bench:
    """One case: its index sets, replayed ``runs`` times each on the shared server."""

    def __init__(self, case: Case, a: argparse.Namespace, tmp: Path, srv: Any, admin: Any) -> None:
        self.case = case
        self.a = a
        self.tmp = tmp
        self.srv = srv
        self.admin = admin
        self.scale = a.scale if a.scale is not None else case.scale
        self.statements = a.statements if a.statements is not None else case.statements
        self.index_ddl: dict[str, list[str]] = {}
        self.phases: dict[str, list[dict[str, Any]]] = {s: [] for s in case.sets}
        self.advisor: dict[str, Any] = {}
        self.prefix = re.sub(r"\W", "_", case.name)

    @property
    def users(self) -> str:
        return f"{self.case.workload}_*"

    def create_users(self) -> None:
        wl = self.case.module()
        for app, (user, pw) in wl.APP_USERS.items():
            execute(self.admin, f"DROP USER IF EXISTS '{user}'@'localhost'")
            execute(self.admin, f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{pw}'")
            priv = "SELECT" if app == "report" else "SELECT, INSERT, UPDATE, DELETE"
            execute(self.admin, f"GRANT {priv} ON *.* TO '{user}'@'localhost'")
        if self.case.workload == "shop":
            execute(self.admin, "GRANT PROCESS, SLAVE MONITOR ON *.* TO 'shop_admin'@'localhost'")

    # -- one phase: load, index, analyze, replay with a fresh slow log, digest -------------------
    def phase(self, name: str, run: int) -> dict[str, Any]:
        import pymysql

        a, case, wl = self.a, self.case, self.case.module()
        db = f"bench_{self.prefix}_{name}"
        t0 = time.monotonic()
        load = wl.load(
            self.admin, self.scale, a.data_seed, database=db, secondary_indexes=case.secondary_indexes, analyze=False
        )
        t_load = time.monotonic() - t0
        t = time.monotonic()
        execute(self.admin, f"USE `{db}`")
        for ddl in self.index_ddl[name]:
            execute(self.admin, ddl)
        t_index = time.monotonic() - t
        execute(self.admin, "ANALYZE TABLE " + ", ".join(f"`{db}`.`{tb}`" for tb in wl.TABLES))
        indexes = secondary_indexes(self.admin, db)
        log = self.tmp / f"{self.prefix}-{name}-run{run}.slow.log"
        execute(self.admin, f"SET GLOBAL slow_query_log_file = '{log}'")
        execute(self.admin, "SET GLOBAL slow_query_log = ON")

        def connect(app: str) -> Any:
            user, pw = wl.APP_USERS[app]
            return pymysql.connect(
                unix_socket=self.srv.socket, user=user, password=pw, database=db, charset="utf8mb4", autocommit=True
            )

        kwargs: dict[str, Any] = {"index_hints": False} if case.workload == "shop" else {}
        try:
            summary = wl.replay(
                None,
                self.statements,
                a.seed,
                scale=self.scale,
                data_seed=a.data_seed,
                database=db,
                connect=connect,
                strict=False,
                **kwargs,
            )
        finally:
            execute(self.admin, "SET GLOBAL slow_query_log = OFF")
            execute(self.admin, "FLUSH SLOW LOGS")
        t = time.monotonic()
        dig = digest_phase(log, db, self.users)
        t_digest = time.monotonic() - t
        res = {
            "set": name,
            "run": run,
            "database": db,
            "indexes_added": len(indexes),
            "indexes": indexes,
            "rows_examined": dig["rows_examined"],
            "query_time": dig["query_time"],
            "events": dig["events"],
            "events_read": dig["events_read"],
            "replay_wall": summary["elapsed_seconds"],
            "replay_errors": summary["errors"],
            "replay_error_samples": summary["error_samples"][:5],
            "seconds": {"load": round(t_load, 2), "indexes": round(t_index, 2), "digest": round(t_digest, 2)},
            "log": str(log),
            "loaded_rows": load["rows"],
        }
        if run == 1:
            res["classes"] = dig["classes"]
        say(
            f"{case.name} run {run} {name:8s}: {len(indexes)} indexes, rows examined {dig['rows_examined']:,}, "
            f"query time {dig['query_time']:.2f} s, {dig['events']} events, replay {summary['elapsed_seconds']:.1f} s, "
            f"errors {summary['errors']}"
        )
        for e in summary["error_samples"][:3]:
            say(f"  replay error: {e['error']} :: {e['sql'][:120]}")
        return res

    def drop(self, name: str) -> None:
        execute(self.admin, f"DROP DATABASE IF EXISTS `bench_{self.prefix}_{name}`")

    def discard_log(self, res: dict[str, Any]) -> None:
        if not self.a.keep:
            try:
                os.unlink(res["log"])
            except OSError:
                pass

    # -- the advisor ---------------------------------------------------------------------------
    def run_advisor(self, base: dict[str, Any]) -> None:
        a = self.a
        out = self.tmp / f"{self.prefix}-advice.json"
        err = self.tmp / f"{self.prefix}-advice.stderr"
        argv = [
            a.mqa,
            "advise",
            base["log"],
            "--verify",
            "--scratch-schema",
            SCRATCH_SCHEMA,
            "-S",
            self.srv.socket,
            "-u",
            "root",
            "-D",
            base["database"],
            "--no-defaults",
            "--format",
            "json",
        ]
        say("advisor: " + " ".join(shlex.quote(x) for x in argv))
        t = time.perf_counter()
        with open(out, "wb") as fo, open(err, "wb") as fe:
            rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, cwd=REPO).returncode
        wall = time.perf_counter() - t
        if rc != 0:
            fail(f"mqa advise exited with {rc}\n{err.read_text(errors='replace')[-3000:]}")
        try:
            doc = json.loads(out.read_text())
        except ValueError as e:
            fail(f"mqa advise printed no JSON: {e}")
        target = f"bench_{self.prefix}_advisor"
        ddl = [rewrite_schema(d, base["database"], target) for d in doc["advice"]["ddl"]]
        sugg = doc.get("index_suggestions", [])
        self.index_ddl["advisor"] = ddl
        verification = doc["advice"].get("verification") or {}
        self.advisor = {
            "command": " ".join(shlex.quote(x) for x in argv),
            "wall_seconds": round(wall, 2),
            "ddl": doc["advice"]["ddl"],
            "suggestions": [
                {k: s.get(k) for k in ("table", "columns", "name", "verified", "verification", "class_ids", "replaces")}
                for s in sugg
            ],
            "verified_suggestions": sum(1 for s in sugg if s.get("verified")),
            "no_index_helps": doc["advice"].get("no_index_helps", []),
            "not_analyzed": doc["advice"].get("not_analyzed", []),
            "statistics": doc["advice"].get("statistics"),
            "classes_checked": verification.get("classes_checked"),
            "measured": verification.get("measured"),
            "protected": verification.get("protected", []),
            "stderr_tail": err.read_text(errors="replace")[-2000:],
        }
        say(
            f"advisor: {wall:.1f} s, {len(sugg)} suggestions ({self.advisor['verified_suggestions']} verified), "
            f"{len(ddl)} ALTER TABLE statements, {len(self.advisor['protected'])} classes protected"
        )

    # -- everything ----------------------------------------------------------------------------
    def run(self) -> None:
        wl = self.case.module()
        self.create_users()
        self.index_ddl["start"] = []
        self.index_ddl["hand"] = list(self.case.hand)
        if self.case.reference:
            self.index_ddl["shipped"] = wl.schema_statements(True)[1]
        for run in range(1, self.a.runs + 1):
            for name in self.case.sets:
                if name == "advisor" and run == 1:
                    self.run_advisor(self.phases["start"][0])
                    self.drop("start")
                    self.discard_log(self.phases["start"][0])
                res = self.phase(name, run)
                self.phases[name].append(res)
                if name == "start" and run == 1:
                    continue  # the advisor reads this phase's log and database
                self.discard_log(res)
                self.drop(name)


# ---------------------------------------------------------------------------------------------
def summarize(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def by_id(b: Bench, name: str) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in b.phases[name][0].get("classes", [])}


def per_call(c: dict[str, Any] | None) -> float | None:
    return c["rows_examined"] / c["count"] if c and c["count"] else None


def find_class(classes: dict[str, dict[str, Any]], prefix: str) -> dict[str, Any] | None:
    return next((c for c in classes.values() if c["fingerprint"].startswith(prefix)), None)


def compute(b: Bench) -> dict[str, Any]:
    case = b.case
    stats: dict[str, Any] = {}
    for name in case.sets:
        ph = b.phases[name]
        stats[name] = {
            "indexes_added": ph[0]["indexes_added"],
            "rows_examined": summarize([p["rows_examined"] for p in ph]),
            "query_time": summarize([p["query_time"] for p in ph]),
            "replay_wall": summarize([p["replay_wall"] for p in ph]),
            "events": summarize([p["events"] for p in ph]),
            "replay_errors": sum(p["replay_errors"] for p in ph),
        }
    base_rows = stats["start"]["rows_examined"]["median"]
    base_time = stats["start"]["query_time"]["median"]
    start_indexes = stats["start"]["indexes_added"]
    for name in case.sets:
        s = stats[name]
        s["rows_reduction"] = 1 - s["rows_examined"]["median"] / base_rows if base_rows else None
        s["time_reduction"] = 1 - s["query_time"]["median"] / base_time if base_time else None
        s["new_indexes"] = s["indexes_added"] - start_indexes
    adv, hand = stats["advisor"], stats["hand"]
    share_rows = adv["rows_reduction"] / hand["rows_reduction"] if hand["rows_reduction"] else None
    share_time = adv["time_reduction"] / hand["time_reduction"] if hand["time_reduction"] else None
    limit = hand["indexes_added"] + TARGET_EXTRA_INDEXES

    start, advisor, handc = by_id(b, "start"), by_id(b, "advisor"), by_id(b, "hand")
    worse = []
    for cid, c in start.items():
        before, after = per_call(c), per_call(advisor.get(cid))
        if before is None or after is None:
            continue
        if after > before * (1 + CLASS_WORSE_LIMIT) + CLASS_WORSE_SLACK:
            worse.append(
                {
                    "id": cid,
                    "fingerprint": c["fingerprint"][:160],
                    "count": c["count"],
                    "rows_per_call_start": round(before, 1),
                    "rows_per_call_advisor": round(after, 1),
                }
            )
    advice_ids = {cid for s in b.advisor.get("suggestions", []) if s.get("verified") for cid in s.get("class_ids", [])}
    no_index = []
    for label, prefix in case.no_index.items():
        c = find_class(start, prefix)
        no_index.append(
            {
                "label": label,
                "found": c is not None,
                "id": c["id"] if c else None,
                "indexed": c is not None and c["id"] in advice_ids,
            }
        )
    gaps = []
    for label, prefix in case.gaps.items():
        c = find_class(start, prefix)
        row: dict[str, Any] = {"label": label, "found": c is not None}
        if c is not None:
            s, a_, h = per_call(c), per_call(advisor.get(c["id"])), per_call(handc.get(c["id"]))
            row.update(id=c["id"], count=c["count"], start=s, advisor=a_, hand=h)
            hand_gain = (s or 0) - (h or 0)
            row["closed"] = (
                a_ is not None and h is not None and (hand_gain <= 0 or ((s or 0) - a_) >= GAP_CLOSED_SHARE * hand_gain)
            )
        gaps.append(row)
    met = (
        share_rows is not None
        and share_rows >= case.share - 1e-9
        and adv["indexes_added"] <= limit
        and not worse
        and all(n["found"] and not n["indexed"] for n in no_index)
        and all(g["found"] and g.get("closed") for g in gaps)
    )
    return {
        "sets": stats,
        "advisor_over_hand_rows": share_rows,
        "advisor_over_hand_time": share_time,
        "index_limit": limit,
        "worse_classes": worse,
        "no_index": no_index,
        "gaps": gaps,
        "target_met": met,
    }


def class_gaps(b: Bench, top: int = 12) -> list[dict[str, Any]]:
    """Classes where the advisor set examines the most rows more than the hand set (run 1)."""
    adv, hand, start = by_id(b, "advisor"), by_id(b, "hand"), by_id(b, "start")
    gaps = []
    for cid, h in hand.items():
        a_rows = adv.get(cid, {}).get("rows_examined", 0)
        if a_rows > h["rows_examined"]:
            gaps.append(
                {
                    "id": cid,
                    "fingerprint": h["fingerprint"][:160],
                    "count": h["count"],
                    "rows_start": start.get(cid, {}).get("rows_examined"),
                    "rows_advisor": a_rows,
                    "rows_hand": h["rows_examined"],
                    "gap": a_rows - h["rows_examined"],
                }
            )
    gaps.sort(key=lambda g: -g["gap"])
    return gaps[:top]


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def render(b: Bench, r: dict[str, Any]) -> str:
    a, case = b.a, b.case
    s = r["sets"]
    start = "primary keys only" if not case.secondary_indexes else "its shipped indexes"
    lines = [
        f"### `mqa advise` effectiveness: {case.name} ({case.workload} workload from {start}), scale "
        f"{b.scale:g}, {b.statements:,} statements (seed {a.seed}), {a.runs} run{'s' if a.runs != 1 else ''} "
        "per set",
        "",
        "| index set | new indexes | rows examined (median) | rows examined vs start | "
        "query time s, median (min–max) | query time vs start | replay wall s (median) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in case.sets:
        x = s[name]
        qt = x["query_time"]
        red_rows = "—" if name == "start" else f"−{pct(x['rows_reduction'])}"
        red_time = "—" if name == "start" else f"−{pct(x['time_reduction'])}"
        err = f" ({x['replay_errors']} replay errors)" if x["replay_errors"] else ""
        lines.append(
            f"| {name}{err} | {x['new_indexes']} | {x['rows_examined']['median']:,.0f} | {red_rows} | "
            f"{qt['median']:.2f} ({qt['min']:.2f}–{qt['max']:.2f}) | {red_time} | "
            f"{x['replay_wall']['median']:.1f} |"
        )
    lines.append("")
    share = r["advisor_over_hand_rows"]
    lines.append(
        f"- advisor reduction / hand reduction: rows examined **{pct(share)}** (target ≥ "
        f"{case.share:.0%}), query time {pct(r['advisor_over_hand_time'])}"
    )
    lines.append(
        f"- advisor run time (`mqa advise --verify`, baseline log of run 1): "
        f"{b.advisor.get('wall_seconds', float('nan')):.1f} s; "
        f"{b.advisor.get('verified_suggestions', 0)} verified of {len(b.advisor.get('suggestions', []))} "
        f"suggestions; {b.advisor.get('classes_checked')} classes compared without and with the set"
        + (" (rows measured with ANALYZE)" if b.advisor.get("measured") else "")
    )
    for p in b.advisor.get("protected", []):
        lines.append(
            f"- `--verify` protected `{p['fingerprint'][:90]}`: with {p['index']} it {p['worse']}; {p['action']}"
        )
    worse = r["worse_classes"]
    lines.append(
        f"- classes examining more than {CLASS_WORSE_LIMIT:.0%} more rows per call than at the start: "
        + (
            ", ".join(
                f"`{w['fingerprint'][:60]}` ({w['rows_per_call_start']:,.0f} → {w['rows_per_call_advisor']:,.0f})"
                for w in worse
            )
            if worse
            else "none"
        )
    )
    for n in r["no_index"]:
        lines.append(
            f"- {n['label']} (`{case.no_index[n['label']]}`): "
            + ("class not found" if not n["found"] else "indexed (wrong)" if n["indexed"] else "no index")
        )
    if r["gaps"]:
        lines += [
            "",
            "| planted gap | calls | rows per call: start | hand | advisor | closed |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for g in r["gaps"]:
            if not g["found"]:
                lines.append(f"| {g['label']} | class not found | | | | no |")
                continue
            lines.append(
                f"| {g['label']} | {g['count']} | {g['start']:,.0f} | {g['hand']:,.0f} | "
                f"{g['advisor']:,.0f} | {'yes' if g['closed'] else 'no'} |"
            )
    lines.append("")
    verdict = "TARGET MET" if r["target_met"] else "TARGET MISSED"
    lines.append(
        f"**Verdict ({case.name}): {verdict}** — the advisor's {s['advisor']['new_indexes']} new indexes "
        f"achieve {pct(share)} of the hand set's rows-examined reduction (target ≥ {case.share:.0%}); "
        f"{len(worse)} classes worse than at the start."
    )
    lines.append("")
    ddl = b.advisor.get("ddl", [])
    if ddl:
        lines.append("Advisor DDL: " + "; ".join(f"`{d}`" for d in ddl))
        lines.append("")
    return "\n".join(lines)


def machine_facts() -> dict[str, Any]:
    from run_digest_benchmark import cpu_model  # the sibling script (this directory is on sys.path)

    cpu = cpu_model()
    facts: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if os.path.exists("/proc/loadavg"):
        facts["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[:3]
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
        facts["git"] = rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return facts


def start_server(a: argparse.Namespace) -> tuple[Any, Any, str | None]:
    from sample_workloads.localserver import LocalMariaDB
    from sample_workloads.shop import workload as shop

    srv = LocalMariaDB(
        slow_query_log=False,
        long_query_time=0,
        performance_schema=False,
        options={"innodb_buffer_pool_size": a.buffer_pool, "max_connections": 100},
    )
    say(f"server {srv.version} up at {srv.socket}")
    admin = srv.connect()
    execute(admin, "SET SESSION long_query_time = 100000")  # keep our own statements out
    verbosity = None
    if a.log_slow_verbosity == "auto":
        accepted = shop.accepted_verbosity(admin) if srv.flavor == "mariadb" else []
        verbosity = ",".join(v for v in accepted if v != "full") or None
    else:
        verbosity = a.log_slow_verbosity or None
    if verbosity and srv.flavor == "mariadb":
        with admin.cursor() as cur:
            cur.execute("SET GLOBAL log_slow_verbosity = %s", (verbosity,))
    execute(admin, "SET GLOBAL long_query_time = 0")
    execute(admin, "SET GLOBAL slow_query_log = OFF")
    return srv, admin, verbosity


# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Measure how much of a hand-picked index set's gain the indexes of "
        "`mqa advise` achieve, per workload and starting schema."
    )
    ap.add_argument(
        "--case", action="append", choices=sorted(CASES), help="the case(s) to run (repeatable; default: all of them)"
    )
    ap.add_argument("--scale", type=float, help="data scale (default: the case's, shop 0.5, hotel 1)")
    ap.add_argument("--statements", type=int, help="statements replayed per phase (default: shop 20000, hotel 6000)")
    ap.add_argument("--seed", type=int, default=7, help="replay seed (default 7)")
    ap.add_argument("--data-seed", type=int, default=42, help="data seed (default 42)")
    ap.add_argument("--runs", type=int, default=3, help="replays per index set (default 3; median query time)")
    ap.add_argument("--mqa", help="mqa command (default: mqa next to this Python)")
    ap.add_argument("--buffer-pool", default="512M", help="innodb_buffer_pool_size (default 512M)")
    ap.add_argument(
        "--log-slow-verbosity",
        default="auto",
        help="'auto' (everything the server accepts, as the recorded sample log), '' or a list",
    )
    ap.add_argument("--json", type=Path, metavar="FILE", help="write the raw numbers here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder with the slow logs and advice")
    a = ap.parse_args(argv)
    if a.runs < 1:
        ap.error("--runs must be >= 1")
    if (a.statements is not None and a.statements < 1) or (a.scale is not None and a.scale <= 0):
        ap.error("--statements and --scale must be positive")
    a.mqa = a.mqa or str(Path(sys.executable).parent / "mqa")
    if shutil.which(a.mqa) is None:
        fail(f"mqa command not found: {a.mqa} (pass --mqa)")
    cases = [CASES[c] for c in (a.case or list(CASES))]

    facts = machine_facts()
    t_all = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="mqa-advbench-"))
    benches: list[Bench] = []
    srv = admin = None
    try:
        srv, admin, verbosity = start_server(a)
        facts["server"] = srv.version
        facts["log_slow_verbosity"] = verbosity
        for case in cases:
            bench = Bench(case, a, tmp, srv, admin)
            benches.append(bench)
            bench.run()
    except KeyboardInterrupt:
        print("run_advisor_benchmark: interrupted", file=sys.stderr)
        return 130
    finally:
        if admin is not None:
            try:
                admin.close()
            except Exception:
                pass
        if srv is not None:
            try:
                srv.stop(keep=False)
            except Exception as e:
                print(f"run_advisor_benchmark: warning: stopping the server: {e}", file=sys.stderr)
        if a.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    facts["total_seconds"] = time.monotonic() - t_all
    results = {}
    for bench in benches:
        result = compute(bench)
        results[bench.case.name] = result
        print(render(bench, result))
        gaps = class_gaps(bench)
        if gaps and not result["target_met"]:
            print(
                f"\nClasses where the advisor set examines more rows than the hand set ({bench.case.name}, run 1):",
                file=sys.stderr,
            )
            for g in gaps:
                print(f"  {g['gap']:>12,.0f}  n={g['count']:<5} {g['id']}  {g['fingerprint'][:110]}", file=sys.stderr)
    print(
        f"Server: {facts.get('server')}, performance_schema off, long_query_time=0, "
        f"log_slow_verbosity={facts.get('log_slow_verbosity')}, innodb_buffer_pool_size={a.buffer_pool}. "
        f"Data seed {a.data_seed}; every phase loads fresh, adds its indexes, ANALYZEs, replays without index "
        f"hints as the workload's own users; totals from `digest_logs` filtered on the phase's database and users. "
        f"Machine: {facts['cpu']}, {facts['cores']} cores. Total wall time {facts['total_seconds']:.0f} s. "
        f"Date: {facts['date']}."
    )
    if a.json:
        doc = {
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
            "machine": facts,
            "targets": {
                "extra_indexes": TARGET_EXTRA_INDEXES,
                "class_worse_limit": CLASS_WORSE_LIMIT,
                "gap_closed_share": GAP_CLOSED_SHARE,
            },
            "cases": {
                b.case.name: {
                    "share_target": b.case.share,
                    "scale": b.scale,
                    "statements": b.statements,
                    "result": results[b.case.name],
                    "advisor": b.advisor,
                    "index_ddl": b.index_ddl,
                    "phases": b.phases,
                    "class_gaps_advisor_vs_hand": class_gaps(b),
                }
                for b in benches
            },
        }
        a.json.parent.mkdir(parents=True, exist_ok=True)
        # committed: paths inside this repository are written relative to it
        a.json.write_text(json.dumps(doc, indent=2, default=str).replace(f"{REPO}/", "") + "\n")
        say(f"wrote {a.json}")
    return 0 if all(r["target_met"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
