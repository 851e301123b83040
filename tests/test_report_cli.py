"""``mqa report``, ``history`` and ``diff`` without a server: the default history, outputs, exit
codes, and one-line usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LOG = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")


def mqa(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env={"HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )


def test_history_alone_is_a_sqlite_file_in_the_users_data_directory(tmp_path: Path) -> None:
    first = mqa("report", LOG, "--history", "--json", str(tmp_path / "1.json"), home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "data" / "mqa" / "history.sqlite").is_file()
    doc = json.loads((tmp_path / "1.json").read_text())
    assert doc["run"] == {**doc["run"], "id": 1, "label": "default"}
    assert doc["run"]["history"] == f"sqlite:///{tmp_path / 'data' / 'mqa' / 'history.sqlite'}"
    assert doc["summary"]["classes"] == len(doc["classes"]) == 87  # every class: the JSON is for machines
    assert doc["comparison"] is None and "first run" in doc["provenance"]["baseline"]
    again = mqa(
        "report", "--history", LOG, "--markdown", str(tmp_path / "2.md"), "--fail-on", "new_classes>0", home=tmp_path
    )
    assert again.returncode == 0, again.stderr  # nothing new: no events, nothing compared
    text = (tmp_path / "2.md").read_text()
    assert text.startswith("# mqa report (default)") and "Run **2**" in text and "read no new events" in text
    listed = mqa("history", "-f", "json", home=tmp_path)
    assert [r["events"] for r in json.loads(listed.stdout)["runs"]] == [0, 20009]


def test_the_terminal_report_without_outputs(tmp_path: Path) -> None:
    result = mqa("report", LOG, "--limit", "3", "--details", "0", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no --history: nothing saved, nothing compared" in result.stdout
    assert "Profile: top 3 of 87 classes" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["report", LOG, "--fail-on", "p95>5"], "--fail-on 'p95>5': unknown name 'p95'; the expressions are"),
        (["report", LOG, "--keep", "30d"], "--keep is the history's retention: give --history too"),
        (["report", LOG, "--baseline", "7"], "--baseline needs --history"),
        (["report", LOG, "--history", "ftp://x"], "--history 'ftp://x': give sqlite:///PATH or mysql://"),
        (["report", "--label", "x"], "give the slow logs to read (LOG...), or --window"),
        (["report", "--window", "5m", "--no-defaults", "-S", "/nonexistent.sock"], "/nonexistent.sock"),
        (["diff", "1", "2"], "1: no such file; for run 1 give --history"),
        (["diff", LOG, LOG], "not JSON"),
        (["history", "--period", "2026-W01"], "--period is a period of --merge"),
        (["history", "--run", "9"], "there is no run 9"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = mqa(*args, home=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mqa: error: ") and message in lines[0], result.stderr


def test_diff_of_two_reports_and_its_gate(tmp_path: Path) -> None:
    import gzip

    from tests.test_history_incremental import parts_of

    first, second = parts_of(gzip.decompress(Path(LOG).read_bytes()), 2)
    for name, part in (("a", first), ("b", second)):
        (tmp_path / f"{name}.log").write_bytes(part)
        assert (
            mqa(
                "digest",
                str(tmp_path / f"{name}.log"),
                "--limit",
                "0",
                "-f",
                "json",
                "-o",
                str(tmp_path / f"{name}.json"),
                home=tmp_path,
            ).returncode
            == 0
        )
    out = mqa("diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-f", "json", home=tmp_path)
    doc = json.loads(out.stdout)
    assert doc["schema_version"] == 1 and doc["base"]["events"] + doc["new"]["events"] == 20009
    assert all(r["change"] > 0 for r in doc["regressions"]) and all(r["change"] < 0 for r in doc["improvements"])
    gate = mqa("diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--fail-on", "regressions>0", home=tmp_path)
    assert gate.returncode == (1 if doc["regressions"] else 0)
    if doc["regressions"]:
        assert gate.stderr.startswith("mqa: fail-on regressions>0: ")


def test_retention_keeps_the_last_runs_of_the_label(tmp_path: Path) -> None:
    import gzip
    import sqlite3

    from tests.test_history_incremental import parts_of

    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    log = tmp_path / "slow.log"
    grown = b""
    for part in parts_of(gzip.decompress(Path(LOG).read_bytes()), 4):
        grown += part
        log.write_bytes(grown)
        assert (
            mqa(
                "report", str(log), "--history", url, "--keep", "2", "--json", str(tmp_path / "r.json"), home=tmp_path
            ).returncode
            == 0
        )
    assert mqa("report", LOG, "--history", url, "--label", "other", "--keep", "90d", home=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "h.sqlite") as db:
        assert db.execute("SELECT id, label FROM mqa_runs ORDER BY id").fetchall() == [
            (3, "default"),
            (4, "default"),
            (5, "other"),
        ]
        assert {r[0] for r in db.execute("SELECT DISTINCT run_id FROM mqa_run_classes")} == {3, 4, 5}
    # the kept runs still read on where the dropped ones stopped: nothing new, nothing counted
    assert mqa("report", str(log), "--history", url, "--json", str(tmp_path / "r.json"), home=tmp_path).returncode == 0
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["events"] == 0
