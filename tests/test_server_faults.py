"""Faults on a live server, each with the behaviour a DBA can rely on: a database that does not
exist, an account without grants, a missing privilege on one table, an EXPLAIN blocked by a
metadata lock, Ctrl-C during ``advise --verify``.  The test runs its own throwaway server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, skip_or_fail, terminal_signals

SAMPLE = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")
PASSWORD = "mqa-Faults-9"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from sample_workloads.localserver import LocalMariaDB, LocalServerError
    from sample_workloads.shop import workload

    try:
        server = LocalMariaDB(slow_query_log=False, base_dir=str(tmp_path_factory.mktemp("faults")))
    except LocalServerError as exc:
        skip_or_fail(f"no local MariaDB: {exc}")
    conn = server.connect()
    workload.load(conn, scale=0.02, database="shop")
    with conn.cursor() as cur:
        for sql in (
            "CREATE USER 'nogrant'@'localhost' IDENTIFIED BY '{p}'",
            "CREATE USER 'partial'@'localhost' IDENTIFIED BY '{p}'",
            "GRANT SELECT ON performance_schema.* TO 'partial'@'localhost'",
            "CREATE USER 'verifier'@'localhost' IDENTIFIED BY '{p}'",
            "GRANT SELECT, SHOW VIEW ON shop.* TO 'verifier'@'localhost'",
            "GRANT ALL ON mqa_faults_scratch.* TO 'verifier'@'localhost'",
        ):
            cur.execute(sql.format(p=PASSWORD))
        cur.execute("SHOW TABLES FROM shop")
        for (table,) in cur.fetchall():
            if table != "orders":  # every table but orders
                cur.execute(f"GRANT SELECT ON shop.`{table}` TO 'partial'@'localhost'")
    conn.close()
    yield server
    server.stop()


def mqa(srv, *args: str, user: str = "root", env: dict | None = None) -> subprocess.CompletedProcess:
    full = {
        "HOME": "/nonexistent",
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "140",
        "MYSQL_PWD": PASSWORD if user != "root" else "",
    }
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli", *args, "-S", srv.socket, "-u", user, "--no-defaults"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=full,
        timeout=300,
    )


def test_indexes_names_a_missing_database_and_the_grant_an_account_lacks(srv) -> None:
    missing = mqa(srv, "indexes", "--schema", "nosuchdb")
    assert missing.returncode == 2 and missing.stderr.startswith("mqa: error: unknown database 'nosuchdb'")
    bare = mqa(srv, "indexes", user="nogrant")
    assert bare.returncode == 2
    assert bare.stderr == (
        "mqa: error: 'nogrant'@'localhost' sees no table in any application database: "
        "GRANT SELECT, SHOW VIEW ON <database>.* TO 'nogrant'@'localhost'\n"
    )


def test_a_missing_privilege_on_one_table_skips_its_classes_only(srv) -> None:
    out = mqa(srv, "advise", SAMPLE, "-D", "shop", "-f", "json", user="partial")
    assert out.returncode == 0, out.stderr
    classes = json.loads(out.stdout)["advice"]["classes"]
    on_orders = [c for c in classes if "FROM orders" in (c["fingerprint"] or "") and " JOIN " not in c["fingerprint"]]
    others = [c for c in classes if "orders" not in (c["fingerprint"] or "")]
    assert on_orders and all(not c.get("plan") for c in on_orders)
    notes = [c["explain_note"] or "" for c in on_orders]
    assert all("GRANT SELECT ON shop.* TO 'partial'@'localhost'" in n for n in notes), notes
    assert sum(1 for c in others if c.get("plan")) >= 10  # the rest is explained
    writes = [c for c in classes if (c["fingerprint"] or "").startswith(("UPDATE products", "DELETE FROM cart_items"))]
    assert writes and all(c.get("plan") for c in writes)  # explained through their SELECT: no UPDATE grant needed


def test_an_explain_blocked_by_a_metadata_lock_ends_at_the_time_limit(srv) -> None:
    holder = srv.connect(database="shop")
    ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLES reviews WRITE")  # EXPLAIN of a reviews query now waits for the lock
            ready.set()
            release.wait(30)
            cur.execute("UNLOCK TABLES")
        holder.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    ready.wait(10)
    started = time.monotonic()
    out = mqa(srv, "advise", SAMPLE, "-D", "shop", "-f", "json", "--statement-timeout", "1", "--top", "8")
    elapsed = time.monotonic() - started
    release.set()
    thread.join(10)
    assert out.returncode == 0, out.stderr
    classes = json.loads(out.stdout)["advice"]["classes"]
    blocked = [c for c in classes if "reviews" in (c["fingerprint"] or "")]
    notes = [c["explain_note"] or "" for c in blocked]
    assert sum("stopped after 1 s by the statement time limit" in n for n in notes) >= 2, notes
    assert all(c.get("plan") or c["explain_note"] for c in classes)  # each class explained, or says why not
    assert any(c.get("plan") for c in classes if "reviews" not in (c["fingerprint"] or ""))
    assert elapsed < 25


def test_ctrl_c_during_verify_drops_the_scratch_schema_and_writes_nothing(srv, tmp_path: Path) -> None:
    out = tmp_path / "advice.json"
    env = {
        "HOME": "/nonexistent",
        "PATH": "/usr/bin:/bin",
        "MYSQL_PWD": PASSWORD,
        "MQA_FAILPOINTS": "verify.class=sleep(0.5)",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "advise",
            SAMPLE,
            "-D",
            "shop",
            "--verify",
            "--scratch-schema",
            "mqa_faults_scratch",
            "-f",
            "json",
            "-o",
            str(out),
            "-S",
            srv.socket,
            "-u",
            "verifier",
            "--no-defaults",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=terminal_signals,
    )
    conn = srv.connect()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the scratch copies exist
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mqa_faults_scratch'")
            if cur.fetchone()[0]:
                break
        time.sleep(0.2)
    time.sleep(1)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip().splitlines()[-1] == "mqa: interrupted" and "Traceback" not in err
    assert not out.exists()
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'mqa_faults_scratch'")
        assert cur.fetchone()[0] == 0
    conn.close()
