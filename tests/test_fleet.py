"""Fleet scale (issue 13): state files that merge exactly, the Dask engine on a real cluster, and
Parquet output.  Every run is the real CLI (``python -m cli``) in a subprocess; the Dask cluster
is a real scheduler and two workers started here on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, generate_slowlog, skip_or_fail

SLOWLOGS = FIXTURES / "percona-toolkit" / "t" / "lib" / "samples" / "slowlogs"
# Three dialects: MariaDB 10.11 (the shop workload), MySQL (slow052), Percona Server (slow030).
LOGS = [
    str(REPO / "sample_workloads" / "shop" / "slow.log.gz"),
    str(SLOWLOGS / "slow052.txt"),
    str(SLOWLOGS / "slow030.txt"),
]
MQA = [sys.executable, "-m", "cli"]
ENV = {"HOME": "/nonexistent", "PATH": "/usr/bin:/bin", "COLUMNS": "120"}


def run(*args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([*MQA, *args], capture_output=True, text=True, cwd=REPO, env=ENV, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"mqa {' '.join(args)}: exit {done.returncode}: {done.stderr}")
    return done


def digest_json(*args: str) -> dict:
    return json.loads(run("digest", *args, "--format", "json", "--limit", "0").stdout)


def assert_same_digest(got: dict, want: dict) -> None:
    """Same classes (ids), counts, sums and percentiles of every metric, same totals and sources."""
    for field in ("events", "classes", "query_time_total", "start", "end", "malformed", "events_read"):
        assert got["summary"][field] == want["summary"][field], field
    assert [c["id"] for c in got["classes"]] == [c["id"] for c in want["classes"]]
    for a, b in zip(got["classes"], want["classes"]):
        assert a["count"] == b["count"], a["id"]
        assert a["sources"] == b["sources"], a["id"]
        assert a["metrics"].keys() == b["metrics"].keys(), a["id"]
        for name, m in a["metrics"].items():
            for figure in ("count", "sum", "min", "max", "avg", "p50", "p95", "p99", "stddev"):
                assert m[figure] == b["metrics"][name][figure], (a["id"], name, figure)
        for field in ("histogram", "databases", "users", "hosts", "first_seen", "last_seen", "pt_id", "example"):
            assert a[field] == b[field], (a["id"], field)
    assert sorted(s["name"] for s in got["sources"]) == sorted(s["name"] for s in want["sources"])


@pytest.fixture(scope="module")
def whole() -> dict:
    """The digest of the three logs together, read in one run."""
    return digest_json(*LOGS)


@pytest.fixture(scope="module")
def states(tmp_path_factory) -> list[str]:
    """One state file per log (host), written by ``--save-state``."""
    folder = tmp_path_factory.mktemp("states")
    out = []
    for k, log in enumerate(LOGS):
        state = folder / f"host{k + 1}.state"
        run("digest", log, "--save-state", str(state), "--format", "json", "--output", os.devnull)
        out.append(str(state))
    return out


def test_state_files_merge_into_the_digest_of_all_the_logs(states: list[str], whole: dict) -> None:
    dialects = {s["dialect"].split()[0] for s in whole["sources"]}
    assert dialects == {"mariadb", "mysql", "percona"}
    assert_same_digest(digest_json(*states), whole)
    # a state file starts with its header, and is small next to its log
    for state, log in zip(states, LOGS):
        data = Path(state).read_bytes()
        assert data.startswith(b"MQA-STATE 1\n")
        assert len(data) < Path(log).stat().st_size


def test_states_mix_with_logs_and_with_each_other(states: list[str], whole: dict, tmp_path: Path) -> None:
    assert_same_digest(digest_json(states[0], LOGS[1], states[2]), whole)
    # a merged state is a state too: saved again, it merges with the rest
    merged = tmp_path / "merged.state"
    run("digest", states[0], states[1], "--save-state", str(merged), "--output", os.devnull)
    assert_same_digest(digest_json(str(merged), LOGS[2]), whole)
    # recognized by content, whatever its name
    renamed = tmp_path / "host3.log"
    renamed.write_bytes(Path(states[2]).read_bytes())
    assert_same_digest(digest_json(states[0], states[1], str(renamed)), whole)


def test_each_class_says_which_sources_it_ran_on(states: list[str]) -> None:
    doc = digest_json(*states)
    names = {s["name"] for s in doc["sources"]}
    for c in doc["classes"]:
        assert set(c["sources"]) <= names and sum(c["sources"].values()) == c["count"]
    markdown = run("digest", *states, "--format", "markdown", "--limit", "1", "--details", "1").stdout
    top = doc["classes"][0]
    assert f"**Sources ({len(top['sources'])} of 3):**" in markdown
    table = run("digest", *states, "--limit", "1", "--details", "1").stdout
    assert f"Sources ({len(top['sources'])} of 3):" in table
    html = run("digest", *states, "--format", "html", "--limit", "1").stdout
    assert f"<dt>Sources ({len(top['sources'])} of 3)</dt>" in html
    # one log: no sources line (every class ran on it), but the JSON field is there
    single = run("digest", LOGS[1], "--format", "markdown", "--details", "1").stdout
    assert "Sources (" not in single
    first = digest_json(LOGS[1])["classes"][0]
    assert first["sources"] == {LOGS[1]: first["count"]}


def test_source_names_and_the_source_filter(tmp_path: Path) -> None:
    hosts = []
    for k, log in enumerate(LOGS):
        state = tmp_path / f"s{k}.state"
        run("digest", log, "--source-name", f"db-{k + 1}", "--save-state", str(state), "--output", os.devnull)
        hosts.append(str(state))
    doc = digest_json(*hosts)
    assert [s["name"] for s in doc["sources"]] == ["db-1", "db-2", "db-3"]
    assert all(set(c["sources"]) <= {"db-1", "db-2", "db-3"} for c in doc["classes"])
    assert all(c["example_meta"]["source"] in c["sources"] for c in doc["classes"])
    # --source-name names the logs of the run; the states given beside them keep their names
    mixed = digest_json(hosts[0], LOGS[2], "--source-name", "db-9")
    assert sorted(s["name"] for s in mixed["sources"]) == ["db-1", "db-9"]
    # --source keeps whole state files by their sources' names, and events of logs by their path
    only = digest_json(*hosts, "--source", "db-2")
    assert_same_digest(
        {**only, "sources": [{"name": LOGS[1]}]},
        {
            **digest_json(LOGS[1]),
            "classes": [{**c, "sources": {"db-2": c["count"]}} for c in digest_json(LOGS[1])["classes"]],
        },
    )
    logs_only = digest_json(*LOGS, "--source", "*slow052*")
    assert logs_only["summary"]["events"] == digest_json(LOGS[1])["summary"]["events"]
    # an event filter cannot apply to a state: it says so
    done = run("digest", hosts[0], "--since", "2020-01-01", check=False)
    assert done.returncode == 2 and done.stderr.startswith("mqa: error: ") and "state file" in done.stderr


def test_report_reads_state_files(states: list[str], whole: dict, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    run("report", *states, "--json", str(out))
    doc = json.loads(out.read_text())
    assert doc["summary"]["events"] == whole["summary"]["events"]
    assert {c["id"]: c["count"] for c in doc["classes"]} == {c["id"]: c["count"] for c in whole["classes"]}
    done = run("report", states[0], "--history", f"sqlite:///{tmp_path / 'h.sqlite'}", check=False)
    assert done.returncode == 2 and "without --history" in done.stderr


def _one_error_line(done: subprocess.CompletedProcess, *words: str) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mqa: error: "), done.stderr
    assert "Traceback" not in done.stderr and not done.stdout
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_damaged_truncated_foreign_or_other_version_states_are_refused(states: list[str], tmp_path: Path) -> None:
    good = Path(states[0]).read_bytes()
    cases = {
        "truncated": (good[: len(good) // 2], "damaged state file"),
        "header-only": (b"MQA-STATE 1\n", "damaged state file"),
        "cut-header": (b"MQA-STATE ", "damaged state file"),
        "flipped": (good[:40] + bytes([good[40] ^ 0xFF]) + good[41:], "damaged state file"),
        "foreign": (b"MQA-STATE 1\n" + b"\x28\xb5\x2f\xfd" + os.urandom(200), "damaged state file"),
        "not-json": (b"MQA-STATE 1\nhello world", "damaged state file"),
        "newer": (b"MQA-STATE 7\n" + good.partition(b"\n")[2], "newer mqa"),
        "older": (b"MQA-STATE 0\n" + good.partition(b"\n")[2], "older mqa"),
    }
    import zstandard

    payload = json.loads(zstandard.ZstdDecompressor().decompress(good.partition(b"\n")[2]))
    for name, change in {
        "old-payload": {"state_version": 0},
        "wrong-fields": {"classes": [{"info": 3}]},
    }.items():
        text = json.dumps({**payload, **change}).encode()
        cases[name] = (
            b"MQA-STATE 1\n" + zstandard.ZstdCompressor().compress(text),
            "older mqa" if name == "old-payload" else "damaged state file",
        )
    for name, (data, words) in cases.items():
        path = tmp_path / f"{name}.state"
        path.write_bytes(data)
        _one_error_line(run("digest", str(path), check=False), str(path), words)
        _one_error_line(run("digest", states[1], str(path), "--format", "json", check=False), str(path))


# --------------------------------------------------------------------------------------------
# Parquet
# --------------------------------------------------------------------------------------------


def test_parquet_classes_and_events_read_back_with_the_json_totals(whole: dict, tmp_path: Path) -> None:
    import pandas as pd

    from analyzer.report.parquet import CLASS_COLUMNS, EVENT_COLUMNS, METRIC_FIGURES

    out = tmp_path / "pq"
    run("digest", *LOGS, "--format", "parquet", "--output", str(out), "--events")
    doc = whole
    classes = pd.read_parquet(out / "classes.parquet")
    events = pd.read_parquet(out / "events.parquet")
    metrics = {m for c in doc["classes"] for m in c["metrics"]}
    assert list(classes.columns[: len(CLASS_COLUMNS)]) == list(CLASS_COLUMNS)
    assert set(classes.columns[len(CLASS_COLUMNS) :]) == {f"{m}_{f}" for m in metrics for f in METRIC_FIGURES}
    assert list(events.columns[: len(EVENT_COLUMNS)]) == list(EVENT_COLUMNS)
    assert set(events.columns[len(EVENT_COLUMNS) :]) == metrics
    # every class, with the JSON's figures
    assert len(classes) == doc["summary"]["classes"] == len(doc["classes"])
    assert int(classes["count"].sum()) == doc["summary"]["events"] == len(events)
    by_id = classes.set_index("id")
    for c in doc["classes"]:
        row = by_id.loc[c["id"]]
        assert row["count"] == c["count"] and row["fingerprint"] == c["fingerprint"]
        assert row["query_time_sum"] == pytest.approx(c["metrics"]["query_time"]["sum"], abs=1e-6)
        assert row["query_time_p95"] == pytest.approx(c["metrics"]["query_time"]["p95"], abs=1e-6)
        assert dict(row["sources"]) == c["sources"] and row["source_count"] == len(c["sources"])
    assert float(events["query_time"].sum()) == pytest.approx(doc["summary"]["query_time_total"], abs=1e-5)
    per_class = events.groupby("class_id").size().to_dict()
    assert per_class == {c["id"]: c["count"] for c in doc["classes"]}
    assert str(events["ts"].dtype) == "datetime64[us, UTC]"
    # a .parquet name is the classes file itself
    single = tmp_path / "classes-only.parquet"
    run("digest", LOGS[1], "--format", "parquet", "--output", str(single))
    assert len(pd.read_parquet(single)) == digest_json(LOGS[1])["summary"]["classes"]
    done = run("digest", LOGS[1], "--format", "parquet", check=False)
    _one_error_line(done, "--output")


def test_parquet_events_need_the_logs(states: list[str], tmp_path: Path) -> None:
    done = run("digest", states[0], "--format", "parquet", "--output", str(tmp_path / "x"), "--events", check=False)
    _one_error_line(done, "state file")


def test_an_fsspec_url_is_an_input() -> None:
    try:
        import fsspec  # noqa: F401
    except ImportError:
        skip_or_fail("fsspec is not installed (the [dask] extra brings it)")
    url = "file://" + LOGS[1]
    got, want = digest_json(url), digest_json(LOGS[1])
    assert [c["id"] for c in got["classes"]] == [c["id"] for c in want["classes"]]
    assert got["summary"]["events"] == want["summary"]["events"]
    assert got["sources"][0]["name"] == url


# --------------------------------------------------------------------------------------------
# Dask: a real scheduler and two real workers
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(path: Path, pattern: str, proc: subprocess.Popen, timeout: float = 90) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, path.read_text(errors="replace"))
        if match:
            return match
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited {proc.returncode}: {path.read_text()}")
        time.sleep(0.2)
    raise AssertionError(f"{proc.args}: no {pattern!r} in {timeout} s: {path.read_text()}")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes (no nanny: the worker is the process
    started here), on 127.0.0.1; yields (address, {worker address: pid}, log folder)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        skip_or_fail("distributed is not installed (pip install -e '.[test]' brings the [dask] extra)")
    dask = Path(sys.executable).parent / "dask"
    if not dask.exists():
        skip_or_fail(f"{dask} is missing (the [dask] extra installs it)")
    folder = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False", "PYTHONPATH": str(REPO)}
    procs: list[subprocess.Popen] = []
    try:
        log = folder / "scheduler.log"
        scheduler = subprocess.Popen(
            [str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            cwd=folder,
            env=env,
            start_new_session=True,
        )
        procs.append(scheduler)
        _wait_for(log, r"Scheduler at:\s+tcp://", scheduler)
        workers: dict[str, int] = {}
        for k in (1, 2):
            wlog = folder / f"worker{k}.log"
            worker = subprocess.Popen(
                [
                    str(dask),
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--name",
                    f"w{k}",
                    "--memory-limit",
                    "2GB",
                ],
                stdout=subprocess.DEVNULL,
                stderr=wlog.open("w"),
                cwd=folder,
                env=env,
                start_new_session=True,
            )
            procs.append(worker)
            match = _wait_for(wlog, r"Start worker at:\s+(tcp://[\d.:]+)", worker)
            workers[match.group(1)] = worker.pid
        yield address, workers, folder
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def large_log(tmp_path_factory) -> str:
    """A plain log over twice the parallel range size: read in byte ranges."""
    path = generate_slowlog(
        tmp_path_factory.mktemp("large") / "host4-slow.log", "--events", "110000", "--seed", "4", "--templates", "300"
    )
    from analyzer.digest.parallel import MIN_RANGE_BYTES

    assert path.stat().st_size >= 2 * MIN_RANGE_BYTES
    return str(path)


def test_dask_engine_on_a_real_cluster_gives_the_local_result(dask_cluster, large_log: str, tmp_path: Path) -> None:
    address, workers, _folder = dask_cluster
    inputs = [*LOGS, large_log]
    out = tmp_path / "dask.json"
    done = run(
        "digest",
        *inputs,
        "--engine",
        "dask",
        "--scheduler",
        address,
        "--format",
        "json",
        "--limit",
        "0",
        "--output",
        str(out),
        "--progress",
        timeout=600,
    )
    # the work was done in the workers: each unit names the worker and process that read it
    line = next(x for x in done.stderr.splitlines() if "Dask workers" in x)
    match = re.search(r"(\d+) work units read by (\d+) Dask workers: (.*)", line)
    assert match, line
    units = int(match.group(1))
    assert units >= len(inputs) + 1  # every file, and the large one in byte ranges
    seen = dict(re.findall(r"(tcp://[\d.:]+) \(pid (\d+)\)", match.group(3)))
    assert seen and set(seen) <= set(workers)
    assert all(int(pid) == workers[a] for a, pid in seen.items())
    assert all(int(pid) != os.getpid() for pid in seen.values())
    # the same report as a local run, sequential and in local processes
    got = json.loads(out.read_text())
    assert_same_digest(got, digest_json(*inputs, "--jobs", "1"))
    assert_same_digest(got, digest_json(*inputs, "--jobs", "2"))
    assert [s["name"] for s in got["sources"]] == inputs


def test_dask_engine_merges_state_files_and_reports_a_worker_error(dask_cluster, states, whole, tmp_path: Path) -> None:
    address, _, _ = dask_cluster
    got = digest_json(states[0], LOGS[1], LOGS[2], "--engine", "dask", "--scheduler", address)
    assert_same_digest(got, whole)
    # a file the workers cannot open: one line, exit 2
    done = run("digest", str(tmp_path / "missing.log"), "--engine", "dask", "--scheduler", address, check=False)
    _one_error_line(done, "no such file")
    done = run("digest", LOGS[1], "--engine", "dask", "--scheduler", f"tcp://127.0.0.1:{_free_port()}", check=False)
    _one_error_line(done, "--scheduler", "cannot connect")
