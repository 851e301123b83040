"""``mqa report``, ``mqa history`` and ``mqa diff`` as a scheduled job runs them, against a real
server: replays of the sample workload, the third with one index dropped."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, skip_or_fail
from tests.servers import TestServer, slow_log_written

DB = "mqa_report_job"
DROPPED = ("idx_product_categories_category", "product_categories")


def mqa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("MYSQL_PWD", "MYSQL_HOST", "MYSQL_TCP_PORT")}
    full_env.update({"HOME": "/nonexistent", "COLUMNS": "160", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=600, env=full_env, cwd=REPO
    )


@pytest.fixture(scope="module")
def replays(server: TestServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three replays of the same statements (same seed): a and b unchanged, c after dropping the
    index two product listing classes use.  The index is back afterwards: each test drops it when
    its job would run after c (a job explains on the server as it is when the job runs)."""
    from sample_workloads.shop import workload

    if server.local is None:
        skip_or_fail("needs the server's slow log file on this machine")
    out = tmp_path_factory.mktemp("replays")
    conn = server.admin()
    workload.load(conn, scale=0.2, seed=42, database=DB, secondary_indexes=True)
    conn.close()
    logs = {}
    for name in ("a", "b", "c"):
        if name == "c":
            server.execute(f"DROP INDEX {DROPPED[0]} ON `{DB}`.{DROPPED[1]}", f"ANALYZE TABLE `{DB}`.{DROPPED[1]}")
        with slow_log_written(server, out / f"{name}.log") as log:
            conn = server.admin(DB)
            workload.replay(conn, statements=3000, seed=5, scale=0.2, database=DB, strict=False)
            conn.close()
        logs[name] = log
    server.execute(f"CREATE INDEX {DROPPED[0]} ON `{DB}`.{DROPPED[1]} (category_id)")  # as before c, for the reports
    yield logs
    server.execute(f"DROP DATABASE IF EXISTS `{DB}`")


def _report(server: TestServer, history: str, log: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return mqa(
        "report",
        str(log),
        "--history",
        history,
        "--label",
        "ci",
        "--dsn",
        server.dsn,
        "-D",
        DB,
        "--top",
        "0",
        "--json",
        str(out),
        *extra,
    )


def test_a_dropped_index_fails_the_job_names_the_classes_and_the_plan_change(
    server: TestServer, replays: dict[str, Path], tmp_path: Path
) -> None:
    history = f"sqlite:///{tmp_path / 'history.sqlite'}"
    gate = "p95_regression>50%"
    first = _report(server, history, replays["a"], tmp_path / "1.json", "--fail-on", gate)
    assert first.returncode == 0, first.stderr
    assert "no baseline to compare with" in first.stderr
    same = _report(server, history, replays["b"], tmp_path / "2.json", "--fail-on", gate, "--fail-on", "plan_changes>0")
    assert same.returncode == 0, same.stderr  # the same workload again: no alarm
    doc2 = json.loads((tmp_path / "2.json").read_text())
    # the replay's own speed moves calls per second; per-execution figures and plans stay put
    assert [r for r in doc2["comparison"]["regressions"] if r["metric"] != "calls_per_second"] == []
    assert doc2["comparison"]["plan_changes"] == []
    assert doc2["run"]["id"] == 2 and doc2["provenance"]["baseline"].startswith("run 1 (ci")

    server.execute(f"DROP INDEX {DROPPED[0]} ON `{DB}`.{DROPPED[1]}", f"ANALYZE TABLE `{DB}`.{DROPPED[1]}")
    worse = _report(
        server, history, replays["c"], tmp_path / "3.json", "--fail-on", gate, "--html", str(tmp_path / "3.html")
    )
    assert worse.returncode == 1, worse.stderr
    doc3 = json.loads((tmp_path / "3.json").read_text())
    listing = [c["id"] for c in doc3["classes"] if "product_categories" in c["fingerprint"]]
    regressed = {r["class_id"] for r in doc3["comparison"]["regressions"] if r["metric"] == "p95"}
    assert regressed and regressed <= set(listing)
    reasons = [line for line in worse.stderr.splitlines() if line.startswith("mqa: fail-on p95_regression>50%:")]
    assert len(reasons) == 1 and all(class_id in reasons[0] for class_id in regressed)
    changes = {p["class_id"]: p for p in doc3["comparison"]["plan_changes"]}
    assert regressed & set(changes), doc3["comparison"]["plan_changes"]
    for class_id in regressed & set(changes):
        assert DROPPED[0] in (changes[class_id]["base_key"] or "") and DROPPED[0] not in (
            changes[class_id]["new_key"] or ""
        )
    page = (tmp_path / "3.html").read_text()
    assert 'id="fail-on"' in page and 'id="plan-changes"' in page

    diff = mqa("diff", "2", "3", "--history", history, "-f", "json")
    assert diff.returncode == 0, diff.stderr
    listed = json.loads(diff.stdout)
    assert {r["class_id"] for r in listed["regressions"] if r["metric"] == "p95"} == regressed
    assert {p["class_id"] for p in listed["plan_changes"]} == set(changes)
    # run 3 is stored with the plans it was compared by: the statements run 2 explained, explained again
    with sqlite3.connect(tmp_path / "history.sqlite") as db:
        stored = {
            run: dict(db.execute("SELECT class_id, statement FROM mqa_plans WHERE run_id = ?", (run,)).fetchall())
            for run in (2, 3)
        }
    assert stored[2] and all(stored[3].get(class_id) == statement for class_id, statement in stored[2].items())
    files = mqa("diff", str(tmp_path / "2.json"), str(tmp_path / "3.json"), "--fail-on", gate)
    assert files.returncode == 1 and all(c[:16] in files.stdout for c in regressed)

    runs = json.loads(mqa("history", "--history", history, "-f", "json").stdout)["runs"]
    assert [r["id"] for r in runs] == [3, 2, 1]
    trend = mqa("history", sorted(regressed)[0][:8], "--history", history)
    assert trend.returncode == 0 and sorted(regressed)[0] in trend.stdout


def test_the_mysql_history_backend(server: TestServer, replays: dict[str, Path], tmp_path: Path) -> None:
    """The same job with its history in the test server (tables created by mqa)."""
    history_db = "mqa_report_history"
    server.execute(f"DROP DATABASE IF EXISTS `{history_db}`", f"CREATE DATABASE `{history_db}`")
    url = _with_database(server.dsn, history_db)
    try:
        for k, name in enumerate(("a", "c"), 1):
            result = mqa(
                "report",
                str(replays[name]),
                "--history",
                url,
                "--label",
                "mysql",
                "--json",
                str(tmp_path / f"{k}.json"),
                "--fail-on",
                "p95_regression>50%",
            )
            assert result.returncode == (0 if k == 1 else 1), result.stderr
        doc = json.loads((tmp_path / "2.json").read_text())
        assert doc["run"]["id"] == 2 and doc["comparison"]["regressions"]
        tables = {
            r[0]
            for r in server.execute(
                f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{history_db}'"
            )
        }
        assert {"mqa_meta", "mqa_runs", "mqa_run_classes", "mqa_positions", "mqa_plans", "mqa_findings"} <= tables
        assert server.execute(f"SELECT COUNT(*) FROM `{history_db}`.mqa_runs")[0][0] == 2
        merged = mqa("history", "--history", url, "--merge", "monthly", "--period", "latest", "-f", "json")
        assert merged.returncode == 0, merged.stderr
        assert (
            json.loads(merged.stdout)["summary"]["events"]
            == doc["summary"]["events"] + json.loads((tmp_path / "1.json").read_text())["summary"]["events"]
        )
    finally:
        server.execute(f"DROP DATABASE IF EXISTS `{history_db}`")


def _with_database(dsn: str, database: str) -> str:
    scheme, rest = dsn.split("://", 1)
    netloc, _, tail = rest.partition("/")
    query = tail.partition("?")[2]
    return f"{scheme}://{netloc}/{database}" + (f"?{query}" if query else "")


def test_a_run_killed_mid_write_leaves_the_history_and_the_reports_as_they_were(
    replays: dict[str, Path], tmp_path: Path
) -> None:
    history = tmp_path / "history.sqlite"
    url = f"sqlite:///{history}"
    out = tmp_path / "report.json"
    assert mqa("report", str(replays["a"]), "--history", url, "--json", str(out)).returncode == 0
    before = out.read_bytes()
    for point in ("history.commit", "report.rename"):
        killed = mqa(
            "report", str(replays["b"]), "--history", url, "--json", str(out), env={"MQA_FAILPOINTS": f"{point}=kill"}
        )
        assert killed.returncode == -signal.SIGKILL
        assert out.read_bytes() == before  # the previous report is intact
    with sqlite3.connect(history) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = db.execute("SELECT id FROM mqa_runs ORDER BY id").fetchall()
    # history.commit: nothing saved (its id is free again); report.rename: the run was committed
    # and its files not renamed
    assert [r[0] for r in runs] == [1, 2]
    again = mqa("report", str(replays["b"]), "--history", url, "--json", str(out))
    assert again.returncode == 0
    assert json.loads(out.read_text())["summary"]["events"] == 0  # run 2 read b already: nothing counted twice


def test_a_performance_schema_window_with_a_server(
    server: TestServer, replays: dict[str, Path], tmp_path: Path
) -> None:
    """No logs: the run is what performance_schema saw in the window, with plans and index health."""
    import threading

    from sample_workloads.shop import workload

    stop = threading.Event()

    def traffic() -> None:  # the application, until the job is done
        conn = server.admin(DB)
        seed = 9
        while not stop.is_set():
            workload.replay(conn, statements=200, seed=seed, scale=0.2, database=DB, strict=False)
            seed += 1
        conn.close()

    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        result = mqa(
            "report",
            "--window",
            "3s",
            "--dsn",
            server.dsn,
            "-D",
            DB,
            "--history",
            url,
            "--json",
            str(tmp_path / "w.json"),
            "--no-progress",
        )
    finally:
        stop.set()
        worker.join()
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "w.json").read_text())
    assert [s["kind"] for s in doc["sources"]] == ["perfschema"]
    assert "performance_schema of" in doc["provenance"]["window"] and "index checks on" in doc["provenance"]["health"]
    assert doc["summary"]["events"] > 0 and any(c.get("plan") for c in doc["classes"])
    assert doc["health"]["findings"]  # the shop schema as shipped has redundant and unused indexes


def test_endpoint_on_the_slowest_route_with_a_server(
    server: TestServer, replays: dict[str, Path], tmp_path: Path
) -> None:
    out = mqa("endpoint", str(replays["a"]), "--route", "/account/orders", "--dsn", server.dsn, "-D", DB, "-f", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["advice"]["command"] == "endpoint"
    fingerprints = {c["fingerprint"] for c in doc["classes"]}
    assert any(f.startswith("SELECT orders.* FROM orders WHERE orders.customer_id = ?") for f in fingerprints)
    assert all(set(c["tags"]) >= {"route=/account/orders"} for c in doc["classes"])  # only the endpoint's statements
    [route] = doc["requests"]
    assert route["route"] == "/account/orders" and route["repeated"][0]["fingerprint"].startswith("SELECT order_items")
    assert any(f["check"] in ("PLN006", "PLN007") for f in doc["findings"])
    assert any(
        s["table"] == f"{DB}.orders" and s["columns"][:2] == ["customer_id", "created_at"]
        for s in doc["index_suggestions"]
    )
    page = tmp_path / "endpoint.html"
    html = mqa(
        "endpoint",
        str(replays["a"]),
        "--route",
        "/account/orders",
        "--dsn",
        server.dsn,
        "-D",
        DB,
        "-f",
        "html",
        "-o",
        str(page),
    )
    assert html.returncode == 0, html.stderr
    text = page.read_text()
    assert 'id="requests"' in text and 'id="indexes"' in text and "mqa endpoint /account/orders" in text
    missing = mqa("endpoint", str(replays["a"]), "--route", "/nowhere", "--dsn", server.dsn)
    assert (
        missing.returncode == 2 and "no statement in the logs carries the comment tag route=/nowhere" in missing.stderr
    )
