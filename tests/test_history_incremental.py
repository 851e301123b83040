"""Incremental reading with a history (``analyzer.history.positions``): a log fed in parts across
runs, with logrotate's rename, a later gzip of a rotated file, copytruncate and an event caught
half-written, gives per class exactly what one digest of the whole log gives."""

from __future__ import annotations

import gzip
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from analyzer.digest import digest_logs
from analyzer.history.store import HistoryStore
from analyzer.jobs.report import ReportSpec, run_report_job, save_run
from tests.conftest import FIXTURES, REPO

SAMPLE = REPO / "sample_workloads" / "shop" / "slow.log.gz"


def event_starts(lines: list[bytes]) -> list[int]:
    """Indexes of the lines events begin on (MariaDB writes "# Time:" only when the second changes)."""
    starts = []
    for i, line in enumerate(lines):
        if line.startswith(b"# Time:") or (
            line.startswith(b"# User@Host:") and not lines[i - 1].startswith(b"# Time:")
        ):
            starts.append(i)
    return starts


def parts_of(data: bytes, n: int) -> list[bytes]:
    """``data`` cut at event starts into ``n`` parts (the first keeps the banner)."""
    lines = data.splitlines(keepends=True)
    starts = event_starts(lines)
    cuts = [starts[len(starts) * k // n] for k in range(1, n)]
    return [b"".join(lines[a:b]) for a, b in zip([0, *cuts], [*cuts, len(lines)])]


class Runs:
    """Runs of one label against one SQLite history, their per-class counts and sums added up."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'history.sqlite'}"
        self.counts: Counter[str] = Counter()
        self.sums: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.events: list[int] = []

    def run(self, *paths: Path) -> int:
        with HistoryStore.open(self.url) as store:
            job = run_report_job(ReportSpec(logs=[str(p) for p in paths], label="hourly"), store=store)
            save_run(job, store)
        for c in job.result.classes:
            self.counts[c.id] += c.stats.count
            self.sums[c.id] += c.stats.total("query_time")
            self.rows[c.id] += c.stats.total("rows_examined")
        self.events.append(job.result.totals.count)
        return job.result.totals.count


def test_parts_across_runs_with_every_rotation_add_up_to_the_whole(tmp_path: Path) -> None:
    data = gzip.decompress(SAMPLE.read_bytes())
    p = parts_of(data, 8)
    logs = tmp_path / "logs"
    logs.mkdir()
    live = logs / "slow.log"
    runs = Runs(tmp_path)

    live.write_bytes(p[0])
    runs.run(live)  # 1: the first part

    cut = p[2].index(b"\nSELECT") + 20  # the third part's first statement, half-written
    live.write_bytes(p[0] + p[1] + p[2][:cut])
    runs.run(live)  # 2: the second part; the half-written event is left for the next run

    live.write_bytes(p[0] + p[1] + p[2])
    runs.run(live)  # 3: the third part, its first event whole

    live.rename(logs / "slow.log.1")  # logrotate (create): the log is renamed, a new one begins
    with open(logs / "slow.log.1", "ab") as f:
        f.write(p[3])  # the server wrote on into the renamed file before it reopened its log
    live.write_bytes(p[4])
    runs.run(live, logs / "slow.log.1")  # 4: the renamed file's tail and the new file

    with open(live, "ab") as f:
        f.write(p[5])
    (logs / "slow.log.1").rename(logs / "slow.log.2")
    live.rename(logs / "slow.log.1")
    with open(logs / "slow.log.2", "rb") as src, gzip.open(logs / "slow.log.2.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.remove(logs / "slow.log.2")  # delaycompress: the older rotation is compressed now
    live.write_bytes(b"")
    assert runs.run(*sorted(logs.iterdir())) > 0  # 5: p[5], from the renamed file; nothing from the .gz

    with open(live, "ab") as f:
        f.write(p[6][: len(p[6]) // 2].rsplit(b"\n# User@Host:", 1)[0] + b"\n")
    runs.run(*sorted(logs.iterdir()))  # 6: half of p[6] in the live file
    rest = p[6][len(p[6][: len(p[6]) // 2].rsplit(b"\n# User@Host:", 1)[0]) + 1 :]
    with open(live, "ab") as f:
        f.write(rest)
    shutil.copyfile(live, logs / "slow.log.1.copy")  # copytruncate: copy, then truncate in place
    with open(live, "r+b") as f:
        f.truncate(0)
    live.write_bytes(p[7])
    runs.run(*sorted(logs.iterdir()))  # 7: the copy's unread tail and the truncated file's new content

    assert runs.run(*sorted(logs.iterdir())) == 0  # 8: nothing new, nothing counted

    whole = digest_logs([str(SAMPLE)])
    assert sum(runs.events) == whole.totals.count == 20009
    assert runs.counts == Counter({c.id: c.stats.count for c in whole.classes})
    for c in whole.classes:
        assert runs.sums[c.id] == pytest.approx(c.stats.total("query_time"), rel=1e-9, abs=1e-9)
        assert runs.rows[c.id] == c.stats.total("rows_examined")


def test_the_same_content_given_twice_is_read_once(tmp_path: Path) -> None:
    """slow.log.1 and slow.log.1.gz side by side (logrotate compressing), in either order."""
    log = FIXTURES / "percona-toolkit" / "t" / "lib" / "samples" / "slowlogs" / "slow033.txt"
    plain = tmp_path / "slow.log.1"
    shutil.copyfile(log, plain)
    with open(plain, "rb") as src, gzip.open(tmp_path / "slow.log.1.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    for k, order in enumerate(([plain, tmp_path / "slow.log.1.gz"], [tmp_path / "slow.log.1.gz", plain])):
        (tmp_path / f"history{k}").mkdir()
        runs = Runs(tmp_path / f"history{k}")
        runs.run(*order)
        assert runs.events == [digest_logs([str(log)]).totals.count]


def test_a_log_cut_short_for_good_is_read_at_the_next_run(tmp_path: Path) -> None:
    """A growing file's unfinished last event waits one run; if the file has not grown by then,
    its tail is final and is read (and reported) as it is."""
    data = gzip.decompress(SAMPLE.read_bytes())
    first = parts_of(data, 50)[0]
    cut = first.rindex(b"\nSELECT") + 15
    log = tmp_path / "slow.log"
    log.write_bytes(first[:cut])
    runs = Runs(tmp_path)
    n1 = runs.run(log)
    n2 = runs.run(log)  # not grown: the cut event is read now
    assert n2 == 1
    assert n1 + n2 == digest_logs([str(log)]).totals.count


def test_a_weekly_merge_of_stored_runs_is_the_digest_of_the_whole_log(tmp_path: Path) -> None:
    """Three hourly-style runs, merged from the history alone: counts, sums, percentiles,
    histograms, time-lines and examples are those of one digest of the concatenated log."""
    import json
    import subprocess
    import sys

    def mqa(*args: str) -> dict:
        result = subprocess.run(
            [sys.executable, "-m", "cli", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if args[-1] == "json" else {}

    data = gzip.decompress(SAMPLE.read_bytes())
    live = tmp_path / "slow.log"
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    grown = b""
    for part in parts_of(data, 3):
        grown += part
        live.write_bytes(grown)
        mqa("report", str(live), "--history", url, "--label", "hourly", "--json", str(tmp_path / "run.json"))
    merged = mqa("history", "--history", url, "--merge", "weekly", "--period", "latest", "--limit", "0", "-f", "json")
    whole = mqa("digest", str(SAMPLE), "--limit", "0", "-f", "json")
    assert merged["summary"]["events"] == whole["summary"]["events"] == 20009
    for key in ("classes", "start", "end"):
        assert merged["summary"][key] == whole["summary"][key], key
    assert merged["summary"]["query_time_total"] == pytest.approx(whole["summary"]["query_time_total"], abs=2e-6)
    assert [c["id"] for c in merged["classes"]] == [c["id"] for c in whole["classes"]]
    for got, want in zip(merged["classes"], whole["classes"]):
        for field in (
            "count",
            "histogram",
            "databases",
            "users",
            "hosts",
            "tags",
            "first_seen",
            "last_seen",
            "example",
            "pt_id",
        ):
            assert got[field] == want[field], (got["id"], field)
        assert got["timeline"]["calls"] == want["timeline"]["calls"]
        assert got["timeline"]["query_time"] == pytest.approx(want["timeline"]["query_time"], abs=2e-6)
        assert got["metrics"].keys() == want["metrics"].keys()
        for name, m in want["metrics"].items():
            for stat, value in m.items():
                # counts, minimums, maximums and the sketch's percentiles are exact; float sums
                # added up in another order may differ in the last printed (6th) decimal
                if stat in ("sum", "avg", "stddev"):
                    assert got["metrics"][name][stat] == pytest.approx(value, rel=1e-9, abs=2e-6), (
                        got["id"],
                        name,
                        stat,
                    )
                else:
                    assert got["metrics"][name][stat] == value, (got["id"], name, stat)


def test_two_runs_reading_the_same_logs_at_once_save_once(tmp_path: Path) -> None:
    """Overlapping cron runs: the second to commit finds the first moved the log's position and
    saves nothing (its events would be counted twice)."""
    from analyzer.history.store import ConcurrentRunError

    data = gzip.decompress(SAMPLE.read_bytes())
    log = tmp_path / "slow.log"
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    for grown in (parts_of(data, 2)[0], data):  # new content, then content read on from a position
        log.write_bytes(grown)
        with HistoryStore.open(url) as a, HistoryStore.open(url) as b:
            first = run_report_job(ReportSpec(logs=[str(log)], label="cron"), store=a)
            second = run_report_job(ReportSpec(logs=[str(log)], label="cron"), store=b)
            save_run(first, a)
            with pytest.raises(ConcurrentRunError, match="another run of label 'cron' read"):
                save_run(second, b)
    with HistoryStore.open(url) as store:
        assert sum(r.events for r in store.runs()) == 20009
