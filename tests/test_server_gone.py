"""The server goes away in the middle of a command (the test kills its own throwaway server):
what was done is kept and marked, and the run ends with one line and exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, skip_or_fail

SAMPLE = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")


@pytest.fixture()
def doomed(tmp_path: Path):
    """A throwaway MariaDB with the shop schema (tiny), to be killed by the test."""
    from sample_workloads.localserver import LocalMariaDB, LocalServerError
    from sample_workloads.shop import workload

    try:
        srv = LocalMariaDB(slow_query_log=False, base_dir=str(tmp_path))
    except LocalServerError as exc:
        skip_or_fail(f"no local MariaDB to kill: {exc}")
    conn = srv.connect()
    workload.load(conn, scale=0.02, database="shop")
    conn.close()
    yield srv
    srv.stop()


def start(srv, *args: str, failpoints: str = "") -> subprocess.Popen:
    env = {
        "HOME": "/nonexistent",
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "120",
        "MQA_DEBUG": os.environ.get("MQA_DEBUG", ""),
    }
    if failpoints:
        env["MQA_FAILPOINTS"] = failpoints
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args, "-S", srv.socket, "-u", "root", "--no-defaults"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after(srv, seconds: float, proc: subprocess.Popen) -> tuple[str, str]:
    """Kill the server ``seconds`` after mqa's session appeared on it."""
    conn = srv.connect()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM performance_schema.session_connect_attrs "
                "WHERE ATTR_NAME = 'program_name' AND ATTR_VALUE = 'mqa'"
            )
            if cur.fetchone()[0]:
                break
        time.sleep(0.1)
    conn.close()
    time.sleep(seconds)
    assert proc.poll() is None, "the command ended before the server was killed"
    srv._kill()
    return proc.communicate(timeout=120)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mqa: error: "), err
    return lines[0]


def test_advise_keeps_what_it_explained_and_marks_the_rest(doomed, tmp_path: Path) -> None:
    out = tmp_path / "advice.json"
    proc = start(
        doomed, "advise", SAMPLE, "-D", "shop", "-f", "json", "-o", str(out), failpoints="advise.explain=sleep(0.3)"
    )
    _, err = kill_after(doomed, 1.5, proc)
    assert proc.returncode == 2
    assert "the report is partial" in one_line(err)
    doc = json.loads(out.read_text())
    explained = [c for c in doc["advice"]["classes"] if c.get("plan")]
    marked = [c for c in doc["advice"]["classes"] if (c.get("explain_note") or "").startswith("not explained")]
    assert explained and marked
    assert any(note.startswith("partial: the server went away after") for note in doc["advice"]["notes"])


def test_report_keeps_its_run_and_marks_it(doomed, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    proc = start(
        doomed,
        "report",
        SAMPLE,
        "-D",
        "shop",
        "--history",
        url,
        "--json",
        str(tmp_path / "r.json"),
        failpoints="advise.explain=sleep(0.3)",
    )
    _, err = kill_after(doomed, 1.5, proc)
    assert proc.returncode == 2 and "the report is partial" in one_line(err)
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["summary"]["events"] == 20009  # the logs were read whole
    assert any("partial" in note for note in doc["summary"]["notes"] + doc.get("advice", {}).get("notes", []))


def test_top_keeps_the_intervals_it_printed(doomed) -> None:
    proc = start(doomed, "top", "--interval", "0.5s", "--iterations", "50")
    out, err = kill_after(doomed, 1.5, proc)
    assert proc.returncode == 2
    one_line(err)
    assert out.count("# interval ") >= 2


def test_collect_ends_with_one_line(doomed) -> None:
    proc = start(doomed, "collect", "--window", "5s")
    _, err = kill_after(doomed, 1, proc)
    assert proc.returncode == 2
    line = one_line(err)
    assert "lost the connection to" in line, line
    assert os.path.exists(doomed.tmpdir)
