"""The bundled "shop" sample workload: deterministic statement generation (no server) and a
real replay into a throwaway MariaDB whose slow log must hold exactly the replayed statements."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from sample_workloads.shop import workload as w
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "sample_workloads" / "shop"


# ------------------------------------------------------------------------------ generation
@pytest.fixture(scope="module")
def mix() -> list[w.Statement]:
    return w.generate_statements(20000, seed=7, scale=0.05)


def test_same_seed_same_statements() -> None:
    a = w.generate_statements(3000, seed=7, scale=0.05)
    b = w.generate_statements(3000, seed=7, scale=0.05)
    assert a == b
    assert [s.sql for s in a] == [s.sql for s in b]


def test_different_seed_different_statements() -> None:
    a = [s.sql for s in w.generate_statements(500, seed=7, scale=0.05)]
    b = [s.sql for s in w.generate_statements(500, seed=8, scale=0.05)]
    assert a != b
    # another data seed changes the literals (e-mails, SKUs, tokens) too
    c = [s.sql for s in w.generate_statements(500, seed=7, scale=0.05, data_seed=43)]
    assert a != c


def test_exact_statement_count() -> None:
    for n in (0, 1, 2, 7, 300, 1234):
        assert len(w.generate_statements(n, seed=3, scale=0.02)) == n


def test_prefix_stable() -> None:
    """Asking for more statements extends the list; it does not reshuffle it (apart from the
    exact-count filler at the very end)."""
    short = w.generate_statements(200, seed=7, scale=0.05)
    long = w.generate_statements(400, seed=7, scale=0.05)
    same = 0
    for x, y in zip(short, long):
        if x != y:
            break
        same += 1
    assert same >= 180


def test_covers_every_query_kind_and_text_variant(mix: list[w.Statement]) -> None:
    seen = Counter(k for s in mix for k in s.kinds)
    missing = [k for k in w.QUERY_KINDS + w.TEXT_VARIANTS if not seen[k]]
    assert not missing, f"kinds never generated: {missing}"


def test_in_lists_vary_from_1_to_200(mix: list[w.Statement]) -> None:
    lengths = []
    for s in mix:
        if "in_list" not in s.kinds:
            continue
        for m in re.finditer(r"(?i)\bin \(([0-9, ']+)\)", s.sql):
            lengths.append(len(m.group(1).split(",")))
    assert min(lengths) == 1
    assert max(lengths) >= 150
    assert max(lengths) <= 200
    assert len(set(lengths)) > 50


def test_text_variants_look_right(mix: list[w.Statement]) -> None:
    by_kind: dict[str, list[str]] = {}
    for s in mix:
        for k in s.kinds:
            by_kind.setdefault(k, []).append(s.sql)
    assert all(re.search(r" /\*([a-z_]+='[^']*',?)+\*/$", x) for x in by_kind["sqlcommenter"])
    assert any("framework='rails%3A7.1.3'" in x for x in by_kind["sqlcommenter"])
    assert any("traceparent='00-" in x for x in by_kind["sqlcommenter"])
    assert all(x.startswith("/* app=") for x in by_kind["comment_tag"])
    assert all("/*application:ShopAdmin," in x for x in by_kind["marginalia"])
    assert all("/*!40001 SQL_NO_CACHE */" in x for x in by_kind["no_cache"])
    assert all("`" not in x for x in by_kind["lowercase"])
    assert any(re.search(r"\bselect\b.*\bfrom\b", x) for x in by_kind["lowercase"])
    assert all("\n" in x for x in by_kind["multiline"])
    # the same query class reaches the server spelled by both ORMs
    pk = [x for x in by_kind["pk_lookup"] if "products" in x]
    assert any(x.startswith("SELECT `products`.* FROM `products` WHERE `products`.`id` = ") for x in pk)
    assert any("select id, sku, name, price_cents, currency, is_active from products where id = " in x for x in pk)


def test_transactions_balanced(mix: list[w.Statement]) -> None:
    open_: dict[str, bool] = {}
    for s in mix:
        if s.sql in ("BEGIN", "START TRANSACTION"):
            assert not open_.get(s.session), "nested BEGIN"
            open_[s.session] = True
        elif s.sql in ("COMMIT", "ROLLBACK"):
            assert open_.get(s.session), "COMMIT without BEGIN"
            open_[s.session] = False
    assert not any(open_.values())


def test_n_plus_one_children_are_real_rows() -> None:
    """The N+1 loop of "my orders" walks the customer's actual orders, newest first."""
    model = w.ShopModel(0.05)
    stmts = w.generate_statements(5000, seed=11, model=model)
    for i, s in enumerate(stmts):
        m = re.match(r"SELECT `orders`\.\* FROM `orders` WHERE `orders`\.`customer_id` = (\d+) ", s.sql)
        if not m:
            continue
        children = []
        for t in stmts[i + 1 :]:
            if "n_plus_one" not in t.kinds or t.session != s.session:
                break
            children.append(int(re.search(r"`order_id` = (\d+)", t.sql).group(1)))
        own = model.customer_orders[int(m.group(1))]
        assert children and all(c in own or c > model.n["orders"] for c in children)
        break
    else:
        pytest.fail("no orders#index request generated")


def test_model_sizes_scale() -> None:
    full = w.ShopModel(1.0).n
    assert full["customers"] == 20_000 and full["products"] == 5_000 and full["orders"] == 100_000
    assert full["reviews"] == 50_000
    small = w.ShopModel(0.02).n
    assert small["orders"] == 2000 and small["products"] >= 60


def test_schema_split() -> None:
    tables, indexes = w.schema_statements()
    assert len(tables) == len(w.TABLES) == 14
    assert all("PRIMARY KEY" in t and "ENGINE=InnoDB" in t and "utf8mb4" in t for t in tables)
    assert len(indexes) >= 20
    joined = "\n".join(indexes)
    # the deliberate gaps stay gaps
    assert "orders (customer_id" not in joined
    assert "reviews (product_id" not in joined
    assert "(sku)" not in joined
    assert w.schema_statements(secondary_indexes=False)[1] == []


def test_split_sql_handles_quotes_and_comments() -> None:
    text = "CREATE TABLE a (x INT DEFAULT 'a;b'); -- trailing; comment\n/* block; */ SELECT 1;\n# hash\nSELECT '--';"
    assert w.split_sql(text) == ["CREATE TABLE a (x INT DEFAULT 'a;b')", "SELECT 1", "SELECT '--'"]


def test_orm_b_spelling_keeps_literals() -> None:
    sql = "SELECT `a`.`b` FROM `t` WHERE `x` = 'SELECT `y` FROM z' AND `n` IN (1, 2) ORDER BY `a` DESC LIMIT 5"
    assert w.orm_b(sql) == "select a.b from t where x = 'SELECT `y` FROM z' and n in (1, 2) order by a desc limit 5"


def test_statements_cli_prints_without_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert w.main(["statements", "--statements", "5", "--scale", "0.02"]) == 0
    out = capsys.readouterr().out
    assert out.count(";\n") >= 5


# ------------------------------------------------------------------------------ recorded log
def test_bundled_recording_is_consistent() -> None:
    log, meta_path = SHOP / "slow.log.gz", SHOP / "slow.log.json"
    if not log.exists():
        skip_or_fail("no recording bundled")
    meta = json.loads(meta_path.read_text())
    assert log.stat().st_size == meta["log"]["stored_bytes"] < 5_000_000
    assert meta["workload"]["errors"] == 0
    with gzip.open(log, "rt", encoding="utf-8") as f:
        head = f.readline()
        events = sum(1 for line in f if line.startswith("# Query_time:"))
    assert "mariadbd, Version: " in head or "mysqld, Version: " in head
    assert events == meta["log"]["events"]
    assert events >= meta["workload"]["statements"]


# ------------------------------------------------------------------------------ real server
def _events(path: str) -> list[dict]:
    """Minimal MariaDB slow-log reader: thread id and query text of every event."""
    events: list[dict] = []
    cur: dict | None = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# User@Host:"):
                cur = {"user": line, "thread": None, "sql": [], "in_sql": False}
                events.append(cur)
            elif cur is None or line.startswith("# Time:"):
                continue
            elif line.startswith("# Thread_id:"):
                cur["thread"] = int(line.split()[2])
            elif line.startswith("SET timestamp="):
                cur["in_sql"] = True
            elif cur["in_sql"]:
                cur["sql"].append(line)
    for e in events:
        e["sql"] = "".join(e["sql"]).rstrip("\n")
    return events


def _server_or_skip():
    from sample_workloads import localserver

    try:
        localserver.server_binaries()
    except localserver.LocalServerError as e:
        skip_or_fail(str(e))
    return localserver


@pytest.mark.server
def test_replay_into_real_mariadb_logs_every_statement(tmp_path: Path) -> None:
    localserver = _server_or_skip()
    n = 300
    with localserver.LocalMariaDB(slow_query_log=False, long_query_time=0, log_slow_verbosity="query_plan") as srv:
        admin = srv.connect()
        summary = w.load(admin, scale=0.02, seed=42)
        model = w.ShopModel(0.02, 42)
        assert summary["rows"]["orders"] == model.n["orders"]
        with admin.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM shop.customers")
            assert cur.fetchone()[0] == model.n["customers"]
            cur.execute("SET GLOBAL slow_query_log = ON")
        conn = srv.connect(database="shop")
        result = w.replay(conn, statements=n, seed=7, scale=0.02)
        assert result["statements"] == n
        assert result["errors"] == 0
        thread = conn.thread_id()
        conn.close()
        admin.close()
        expected = [s.sql for s in w.generate_statements(n, seed=7, scale=0.02)]
        events = _events(srv.slow_log_path)
        mine = [e["sql"] for e in events if e["thread"] == thread and not e["sql"].startswith("SET NAMES")]
        assert len(mine) == n
        assert mine == [sql + ";" for sql in expected]
        with open(srv.slow_log_path, encoding="utf-8") as f:
            text = f.read()
        assert text.count("# Query_time:") >= n
        tmpdir = srv.tmpdir
        pid = srv.pid
    assert not os.path.exists(tmpdir)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.server
def test_load_without_secondary_indexes_and_tcp() -> None:
    localserver = _server_or_skip()
    with localserver.LocalMariaDB(tcp=True, slow_query_log=False) as srv:
        assert srv.port and srv.dsn().startswith("mysql://root@localhost/?socket=")
        conn = srv.connect(host="127.0.0.1", port=srv.port)
        w.load(conn, scale=0.02, database="shop_pk_only", secondary_indexes=False)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = 'shop_pk_only'"
            )
            assert {r[0] for r in cur.fetchall()} == {"PRIMARY"}
            cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shop_pk_only'")
            assert cur.fetchone()[0] == 14
        # a replay works on a PK-only database too (only slower)
        result = w.replay(conn, 300, seed=1, scale=0.02, database="shop_pk_only", index_hints=None)
        assert result["errors"] == 0 and result["index_hints"] is False
        conn.close()
