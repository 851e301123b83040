#!/usr/bin/env python3
"""Advisor effectiveness: how much of a careful DBA's gain do ``mqa advise``'s indexes deliver?

    python tests/benchmarks/run_advisor_benchmark.py                       # scale 0.5, 20k statements, 3 runs
    python tests/benchmarks/run_advisor_benchmark.py --statements 2000 --runs 1 --scale 0.1   # quick trial
    python tests/benchmarks/run_advisor_benchmark.py --json result.json --keep

One throwaway MariaDB (``sample_workloads.localserver.LocalMariaDB``: performance_schema off, slow
log with ``long_query_time=0``). For every index set and run, the ``shop`` sample workload is loaded
fresh into the set's own database with primary keys only (same ``--scale`` and data seed), the set's
indexes are added, the tables are ANALYZEd, the slow log is switched to a fresh file and the same
``--statements`` (same seed) are replayed, one connection per logical session as the workload's own
users (``shop_web``, ``shop_api``, ...). That phase's log is digested with mqa's library, keeping the
replayer's events only (``EventFilter``: the set's database and the ``shop_*`` users), for the total
rows examined and the total query time.

Index sets:

``none``      primary keys only (the baseline)
``advisor``   ``mqa advise BASELINE_LOG --verify --scratch-schema mqa_scratch -S SOCK -u root -D BASELINE_DB
              --no-defaults --format json`` run on the first baseline phase; its ``advice.ddl`` (verified
              suggestions, one ALTER TABLE per table) applied with the schema name rewritten
``hand``      ``HAND_INDEXES`` below: what a careful DBA adds after reading the query mix and the README
``shipped``   the secondary indexes of ``sample_workloads/shop/schema.sql`` (for reference)

Target: the advisor achieves >= 90% of the hand set's reduction in rows examined (vs ``none``), with
no more indexes than the hand set + 2. Rows examined are (nearly) deterministic; query time is the
median over ``--runs`` replays per set (runs interleaved round-robin between the sets). The result is
printed as a Markdown table and a one-line verdict; ``--json FILE`` writes the raw numbers.
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
from pathlib import Path
from typing import Any, NoReturn

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SETS = ("none", "advisor", "hand", "shipped")
TARGET_SHARE = 0.90          # advisor reduction / hand reduction, rows examined
TARGET_EXTRA_INDEXES = 2     # advisor may use at most hand + 2 indexes
SCRATCH_SCHEMA = "mqa_scratch"
REPLAY_USERS = "shop_*"

# The hand-picked set, written down from the query mix in sample_workloads/shop/workload.py and the
# README (W1-W7) before looking at any advisor output. Each line: the statement, then the queries it
# serves. W5 (DATE(created_at) = ...) and W6 (VARCHAR compared with numbers) need query rewrites, not
# indexes; ORDER BY RAND() and LIKE '%infix%' cannot use an index either.
HAND_INDEXES: list[str] = [
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
    rows = execute(conn, "SELECT DISTINCT CONCAT(table_name, '.', index_name) FROM information_schema.statistics "
                         f"WHERE table_schema = '{database}' AND index_name <> 'PRIMARY' ORDER BY 1")
    return [r[0] for r in rows]


def rewrite_schema(ddl: str, old: str, new: str) -> str:
    """``ALTER TABLE `old`.`t` ...`` -> ``ALTER TABLE `new`.`t` ...`` (also unquoted ``old.t``)."""
    out = ddl.replace(f"`{old}`.", f"`{new}`.")
    return re.sub(rf"(?<![\w`]){re.escape(old)}\.", f"{new}.", out)


def digest_phase(log: Path, database: str) -> dict[str, Any]:
    """Totals of the replayed statements of ``database`` in one phase's slow log, and per class."""
    from analyzer.digest import digest_logs
    from analyzer.filters import EventFilter
    from analyzer.report.model import build_report

    flt = EventFilter(databases=(database,), users=(REPLAY_USERS,))
    result = digest_logs([str(log)], event_filter=flt)
    report = build_report(result, limit=None)
    classes = []
    for c in report.classes:
        classes.append({"id": c.id, "fingerprint": c.fingerprint[:300], "count": c.count,
                        "rows_examined": c.metric("rows_examined"), "query_time": c.metric("query_time")})
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
    def __init__(self, a: argparse.Namespace, tmp: Path) -> None:
        self.a = a
        self.tmp = tmp
        self.srv: Any = None
        self.admin: Any = None
        self.index_ddl: dict[str, list[str]] = {}
        self.phases: dict[str, list[dict[str, Any]]] = {s: [] for s in SETS}
        self.advisor: dict[str, Any] = {}
        self.verbosity: str | None = None

    # -- server --------------------------------------------------------------------------------
    def start(self) -> None:
        from sample_workloads.localserver import LocalMariaDB
        from sample_workloads.shop import workload

        self.srv = LocalMariaDB(slow_query_log=False, long_query_time=0, performance_schema=False,
                                options={"innodb_buffer_pool_size": self.a.buffer_pool, "max_connections": 100})
        say(f"server {self.srv.version} up at {self.srv.socket}")
        self.admin = self.srv.connect()
        execute(self.admin, "SET SESSION long_query_time = 100000")  # keep our own statements out
        for app, (user, pw) in workload.APP_USERS.items():
            execute(self.admin, f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{pw}'")
            priv = "SELECT" if app == "report" else "SELECT, INSERT, UPDATE, DELETE"
            execute(self.admin, f"GRANT {priv} ON *.* TO '{user}'@'localhost'")
        execute(self.admin, "GRANT PROCESS, SLAVE MONITOR ON *.* TO 'shop_admin'@'localhost'")
        if self.a.log_slow_verbosity == "auto":
            accepted = workload.accepted_verbosity(self.admin) if self.srv.flavor == "mariadb" else []
            self.verbosity = ",".join(v for v in accepted if v != "full") or None
        else:
            self.verbosity = self.a.log_slow_verbosity or None
        if self.verbosity and self.srv.flavor == "mariadb":
            with self.admin.cursor() as cur:
                cur.execute("SET GLOBAL log_slow_verbosity = %s", (self.verbosity,))
        execute(self.admin, "SET GLOBAL long_query_time = 0")
        execute(self.admin, "SET GLOBAL slow_query_log = OFF")

    def stop(self) -> None:
        try:
            if self.admin is not None:
                self.admin.close()
        except Exception:  # noqa: BLE001
            pass
        if self.srv is not None:
            try:
                self.srv.stop(keep=False)
            except Exception as e:  # noqa: BLE001
                print(f"run_advisor_benchmark: warning: stopping the server: {e}", file=sys.stderr)

    # -- one phase: load, index, analyze, replay with a fresh slow log, digest -------------------
    def phase(self, name: str, run: int) -> dict[str, Any]:
        import pymysql
        from sample_workloads.shop import workload

        a = self.a
        db = f"bench_{name}"
        t0 = time.monotonic()
        load = workload.load(self.admin, a.scale, a.data_seed, database=db, secondary_indexes=False, analyze=False)
        t_load = time.monotonic() - t0
        t = time.monotonic()
        execute(self.admin, f"USE `{db}`")
        for ddl in self.index_ddl[name]:
            execute(self.admin, ddl)
        t_index = time.monotonic() - t
        execute(self.admin, "ANALYZE TABLE " + ", ".join(f"`{db}`.`{tb}`" for tb in workload.TABLES))
        indexes = secondary_indexes(self.admin, db)
        log = self.tmp / f"{name}-run{run}.slow.log"
        execute(self.admin, f"SET GLOBAL slow_query_log_file = '{log}'")
        execute(self.admin, "SET GLOBAL slow_query_log = ON")

        def connect(app: str) -> Any:
            user, pw = workload.APP_USERS[app]
            return pymysql.connect(unix_socket=self.srv.socket, user=user, password=pw, database=db,
                                   charset="utf8mb4", autocommit=True)

        try:
            summary = workload.replay(None, a.statements, a.seed, scale=a.scale, data_seed=a.data_seed, database=db,
                                      connect=connect, index_hints=False, strict=False)
        finally:
            execute(self.admin, "SET GLOBAL slow_query_log = OFF")
            execute(self.admin, "FLUSH SLOW LOGS")
        t = time.monotonic()
        dig = digest_phase(log, db)
        t_digest = time.monotonic() - t
        res = {
            "set": name, "run": run, "database": db, "indexes_added": len(indexes), "indexes": indexes,
            "rows_examined": dig["rows_examined"], "query_time": dig["query_time"], "events": dig["events"],
            "events_read": dig["events_read"], "replay_wall": summary["elapsed_seconds"],
            "replay_errors": summary["errors"], "replay_error_samples": summary["error_samples"][:5],
            "seconds": {"load": round(t_load, 2), "indexes": round(t_index, 2), "digest": round(t_digest, 2)},
            "log": str(log), "loaded_rows": load["rows"],
        }
        if run == 1:
            res["classes"] = dig["classes"]
        say(f"run {run} {name:8s}: {len(indexes)} indexes, rows examined {dig['rows_examined']:,}, "
            f"query time {dig['query_time']:.2f} s, {dig['events']} events, replay {summary['elapsed_seconds']:.1f} s, "
            f"errors {summary['errors']}")
        if summary["errors"]:
            for e in summary["error_samples"][:3]:
                say(f"  replay error: {e['error']} :: {e['sql'][:120]}")
        return res

    def drop(self, name: str) -> None:
        execute(self.admin, f"DROP DATABASE IF EXISTS `bench_{name}`")

    def discard_log(self, res: dict[str, Any]) -> None:
        if not self.a.keep:
            try:
                os.unlink(res["log"])
            except OSError:
                pass

    # -- the advisor ---------------------------------------------------------------------------
    def run_advisor(self, base: dict[str, Any]) -> None:
        a = self.a
        out = self.tmp / "advice.json"
        err = self.tmp / "advice.stderr"
        argv = [a.mqa, "advise", base["log"], "--verify", "--scratch-schema", SCRATCH_SCHEMA, "-S", self.srv.socket,
                "-u", "root", "-D", base["database"], "--no-defaults", "--format", "json"]
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
        ddl = [rewrite_schema(d, base["database"], "bench_advisor") for d in doc["advice"]["ddl"]]
        sugg = doc.get("index_suggestions", [])
        self.index_ddl["advisor"] = ddl
        self.advisor = {
            "command": " ".join(shlex.quote(x) for x in argv),
            "wall_seconds": round(wall, 2),
            "ddl": doc["advice"]["ddl"],
            "suggestions": [{k: s.get(k) for k in ("table", "columns", "name", "verified", "verification",
                                                    "class_ids", "replaces")} for s in sugg],
            "verified_suggestions": sum(1 for s in sugg if s.get("verified")),
            "no_index_helps": doc["advice"].get("no_index_helps", []),
            "not_analyzed": doc["advice"].get("not_analyzed", []),
            "statistics": doc["advice"].get("statistics"),
            "stderr_tail": err.read_text(errors="replace")[-2000:],
        }
        if a.keep:
            say(f"advisor JSON kept at {out}")
        say(f"advisor: {wall:.1f} s, {len(sugg)} suggestions ({self.advisor['verified_suggestions']} verified), "
            f"{len(ddl)} ALTER TABLE statements")

    # -- everything ----------------------------------------------------------------------------
    def run(self) -> None:
        from sample_workloads.shop import workload

        self.index_ddl["none"] = []
        self.index_ddl["hand"] = list(HAND_INDEXES)
        self.index_ddl["shipped"] = workload.schema_statements(True)[1]
        for run in range(1, self.a.runs + 1):
            for name in SETS:
                if name == "advisor" and run == 1:
                    self.run_advisor(self.phases["none"][0])
                    self.drop("none")
                    self.discard_log(self.phases["none"][0])
                res = self.phase(name, run)
                self.phases[name].append(res)
                if name == "none" and run == 1:
                    continue  # the advisor reads this phase's log and database
                self.discard_log(res)
                self.drop(name)


# ---------------------------------------------------------------------------------------------
def summarize(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def compute(b: Bench) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for name in SETS:
        ph = b.phases[name]
        stats[name] = {
            "indexes_added": ph[0]["indexes_added"],
            "rows_examined": summarize([p["rows_examined"] for p in ph]),
            "query_time": summarize([p["query_time"] for p in ph]),
            "replay_wall": summarize([p["replay_wall"] for p in ph]),
            "events": summarize([p["events"] for p in ph]),
            "replay_errors": sum(p["replay_errors"] for p in ph),
        }
    base_rows = stats["none"]["rows_examined"]["median"]
    base_time = stats["none"]["query_time"]["median"]
    for name in SETS:
        s = stats[name]
        s["rows_reduction"] = 1 - s["rows_examined"]["median"] / base_rows if base_rows else None
        s["time_reduction"] = 1 - s["query_time"]["median"] / base_time if base_time else None
    adv, hand = stats["advisor"], stats["hand"]
    share_rows = adv["rows_reduction"] / hand["rows_reduction"] if hand["rows_reduction"] else None
    share_time = adv["time_reduction"] / hand["time_reduction"] if hand["time_reduction"] else None
    limit = hand["indexes_added"] + TARGET_EXTRA_INDEXES
    met = share_rows is not None and share_rows >= TARGET_SHARE and adv["indexes_added"] <= limit
    return {"sets": stats, "advisor_over_hand_rows": share_rows, "advisor_over_hand_time": share_time,
            "index_limit": limit, "target_met": met}


def class_gaps(b: Bench, top: int = 12) -> list[dict[str, Any]]:
    """Classes where the advisor set examines the most rows more than the hand set (run 1)."""
    def by_id(name: str) -> dict[str, dict[str, Any]]:
        return {c["id"]: c for c in b.phases[name][0].get("classes", [])}

    adv, hand, none = by_id("advisor"), by_id("hand"), by_id("none")
    gaps = []
    for cid, h in hand.items():
        a_rows = adv.get(cid, {}).get("rows_examined", 0)
        if a_rows > h["rows_examined"]:
            gaps.append({"id": cid, "fingerprint": h["fingerprint"][:160], "count": h["count"],
                         "rows_none": none.get(cid, {}).get("rows_examined"), "rows_advisor": a_rows,
                         "rows_hand": h["rows_examined"], "gap": a_rows - h["rows_examined"]})
    gaps.sort(key=lambda g: -g["gap"])
    return gaps[:top]


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def render(b: Bench, r: dict[str, Any], facts: dict[str, Any]) -> str:
    a = b.a
    s = r["sets"]
    lines = [f"### `mqa advise` effectiveness: shop workload, scale {a.scale:g}, {a.statements:,} statements "
             f"(seed {a.seed}), {a.runs} run{'s' if a.runs != 1 else ''} per set", "",
             "| index set | indexes added | rows examined (median) | rows examined vs none | "
             "query time s, median (min–max) | query time vs none | replay wall s (median) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name in SETS:
        x = s[name]
        qt = x["query_time"]
        red_rows = "—" if name == "none" else f"−{pct(x['rows_reduction'])}"
        red_time = "—" if name == "none" else f"−{pct(x['time_reduction'])}"
        err = f" ({x['replay_errors']} replay errors)" if x["replay_errors"] else ""
        lines.append(f"| {name}{err} | {x['indexes_added']} | {x['rows_examined']['median']:,.0f} | {red_rows} | "
                     f"{qt['median']:.2f} ({qt['min']:.2f}–{qt['max']:.2f}) | {red_time} | "
                     f"{x['replay_wall']['median']:.1f} |")
    lines.append("")
    share = r["advisor_over_hand_rows"]
    lines.append(f"- advisor reduction / hand reduction: rows examined **{pct(share)}**, "
                 f"query time {pct(r['advisor_over_hand_time'])}")
    lines.append(f"- advisor run time (`mqa advise --verify`, baseline log of run 1): "
                 f"{b.advisor.get('wall_seconds', float('nan')):.1f} s; "
                 f"{b.advisor.get('verified_suggestions', 0)} verified of {len(b.advisor.get('suggestions', []))} "
                 f"suggestions")
    lines.append("")
    verdict = "TARGET MET" if r["target_met"] else "TARGET MISSED"
    lines.append(f"**Verdict: {verdict}** — the advisor's {s['advisor']['indexes_added']} indexes achieve "
                 f"{pct(share)} of the hand set's rows-examined reduction (target ≥ {TARGET_SHARE:.0%}) with "
                 f"{s['advisor']['indexes_added']} indexes (limit: hand {s['hand']['indexes_added']} + "
                 f"{TARGET_EXTRA_INDEXES} = {r['index_limit']}).")
    lines.append("")
    lines.append(f"Server: {facts.get('server')}, performance_schema off, long_query_time=0, "
                 f"log_slow_verbosity={b.verbosity}, innodb_buffer_pool_size={a.buffer_pool}. "
                 f"Data seed {a.data_seed}; every phase loads fresh (PK only), adds its indexes, ANALYZEs, "
                 f"replays without index hints as the shop_* users; totals from `digest_logs` filtered on the "
                 f"phase's database and users. Machine: {facts['cpu']}, {facts['cores']} cores. "
                 f"Total wall time {facts['total_seconds']:.0f} s. Date: {facts['date']}.")
    return "\n".join(lines)


def machine_facts() -> dict[str, Any]:
    from run_digest_benchmark import cpu_model  # the sibling script (this directory is on sys.path)

    cpu = cpu_model()
    facts: dict[str, Any] = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu,
                             "cores": os.cpu_count(), "python": platform.python_version(),
                             "platform": platform.platform()}
    if os.path.exists("/proc/loadavg"):
        facts["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[:3]
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True,
                               text=True, timeout=30).stdout.strip()
        facts["git"] = rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return facts


# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Measure how much of a hand-picked index set's gain the indexes of "
                                             "`mqa advise` achieve on the shop sample workload.")
    ap.add_argument("--scale", type=float, default=0.5, help="data scale (default 0.5)")
    ap.add_argument("--statements", type=int, default=20000, help="statements replayed per phase (default 20000)")
    ap.add_argument("--seed", type=int, default=7, help="replay seed (default 7)")
    ap.add_argument("--data-seed", type=int, default=42, help="data seed (default 42)")
    ap.add_argument("--runs", type=int, default=3, help="replays per index set (default 3; median query time)")
    ap.add_argument("--mqa", help="mqa command (default: mqa next to this Python)")
    ap.add_argument("--buffer-pool", default="512M", help="innodb_buffer_pool_size (default 512M)")
    ap.add_argument("--log-slow-verbosity", default="auto",
                    help="'auto' (everything the server accepts, as the recorded sample log), '' or a list")
    ap.add_argument("--json", type=Path, metavar="FILE", help="write the raw numbers here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder with the slow logs and advice")
    a = ap.parse_args(argv)
    if a.runs < 1:
        ap.error("--runs must be >= 1")
    if a.statements < 1 or a.scale <= 0:
        ap.error("--statements and --scale must be positive")
    a.mqa = a.mqa or str(Path(sys.executable).parent / "mqa")
    if shutil.which(a.mqa) is None:
        fail(f"mqa command not found: {a.mqa} (pass --mqa)")

    facts = machine_facts()
    t_all = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="mqa-advbench-"))
    bench = Bench(a, tmp)
    try:
        bench.start()
        facts["server"] = bench.srv.version
        bench.run()
    except KeyboardInterrupt:
        print("run_advisor_benchmark: interrupted", file=sys.stderr)
        return 130
    finally:
        bench.stop()
        if a.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    facts["total_seconds"] = time.monotonic() - t_all
    result = compute(bench)
    gaps = class_gaps(bench)
    print(render(bench, result, facts))
    if gaps and not result["target_met"]:
        print("\nClasses where the advisor set examines more rows than the hand set (run 1):", file=sys.stderr)
        for g in gaps:
            print(f"  {g['gap']:>12,.0f}  n={g['count']:<5} {g['id']}  {g['fingerprint'][:110]}", file=sys.stderr)
    if a.json:
        doc = {
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
            "machine": facts, "log_slow_verbosity": bench.verbosity,
            "target": {"share": TARGET_SHARE, "extra_indexes": TARGET_EXTRA_INDEXES},
            "result": result, "advisor": bench.advisor, "index_ddl": bench.index_ddl,
            "phases": bench.phases, "class_gaps_advisor_vs_hand": gaps,
        }
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(doc, indent=2, default=str) + "\n")
        say(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
