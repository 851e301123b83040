"""How runs end when something goes wrong around them: Ctrl-C, ``kill``, a closed pipe, an
output that cannot be written, input that is not a slow log.  Each ends with one line (or, for a
closed pipe, quietly), the documented exit status, and nothing half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, generate_slowlog, terminal_signals

SAMPLE = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")
MQA = [sys.executable, "-m", "cli"]
ENV = {"HOME": "/nonexistent", "PATH": "/usr/bin:/bin", "COLUMNS": "120"}


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*MQA, *args], capture_output=True, text=True, cwd=REPO, env=ENV, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def big_log(tmp_path_factory) -> Path:
    """A log large enough to be read in parallel byte ranges, and for a few seconds."""
    return generate_slowlog(tmp_path_factory.mktemp("big") / "slow.log", "--events", "400000")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


@pytest.mark.parametrize(
    "sig, code, message",
    [
        (signal.SIGINT, 130, "mqa: interrupted"),
        (signal.SIGTERM, 143, "mqa: terminated"),
    ],
)
def test_a_signal_ends_a_parallel_digest_with_its_workers(big_log: Path, tmp_path: Path, sig, code, message) -> None:
    out = tmp_path / "report.txt"
    out.write_text("the previous report\n")
    proc = subprocess.Popen(
        [*MQA, "digest", str(big_log), "--jobs", "2", "-o", str(out)],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=terminal_signals,
    )
    workers: list[int] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not workers:
        time.sleep(0.2)
        workers = _children(proc.pid)
    assert workers, "the digest never started a worker"
    time.sleep(0.5)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C in a terminal reaches the whole process group
    else:
        proc.send_signal(sig)  # kill PID: the parent only
    _, err = proc.communicate(timeout=60)  # returns: no worker holds the pipes open
    assert proc.returncode == code
    assert err.strip() == message  # one line, no traceback
    time.sleep(0.5)
    assert not [w for w in workers if _alive(w)], "a worker outlived its parent"
    assert out.read_text() == "the previous report\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mqa-")]


def test_ctrl_c_during_a_report_run_leaves_the_history_and_outputs_as_they_were(big_log: Path, tmp_path: Path) -> None:
    import sqlite3

    history = tmp_path / "history.sqlite"
    out = tmp_path / "report.json"
    first = run("report", SAMPLE, "--history", f"sqlite:///{history}", "--label", "hourly", "--json", str(out))
    assert first.returncode == 0, first.stderr
    before = out.read_bytes()

    def rows() -> tuple[int, int]:
        with sqlite3.connect(history) as db:
            return tuple(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("mqa_runs", "mqa_positions"))

    saved = rows()
    proc = subprocess.Popen(
        [*MQA, "report", str(big_log), "--history", f"sqlite:///{history}", "--label", "hourly", "--json", str(out)],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=terminal_signals,
    )
    time.sleep(1.5)  # reading the 400,000 events
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.strip()) == (130, "mqa: interrupted")
    assert rows() == saved  # no run, no moved position: the next run reads the log again
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mqa-")]


def test_a_closed_pipe_ends_the_run_quietly() -> None:
    result = subprocess.run(
        f"{sys.executable} -m cli digest {SAMPLE} | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        cwd=REPO,
        env=ENV,
        timeout=300,
    )
    assert result.returncode == 141 and result.stderr == ""


def test_an_output_that_cannot_be_written_fails_before_reading(tmp_path: Path) -> None:
    # stdin stays open: if mqa read it before checking the output, it would wait until the timeout
    proc = subprocess.Popen(
        [*MQA, "digest", "-", "-o", str(tmp_path / "missing" / "r.txt")],
        cwd=REPO,
        env=ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, err = proc.communicate(timeout=30)
    assert (
        proc.returncode == 2
        and err
        == f"mqa: error: {tmp_path / 'missing' / 'r.txt'}: cannot write (no such directory: {tmp_path / 'missing'})\n"
    )
    assert (
        run("digest", SAMPLE, "-o", str(tmp_path)).stderr
        == f"mqa: error: {tmp_path}: is a directory; give a file name\n"
    )


def test_a_full_disk_is_one_line_and_no_device_is_replaced() -> None:
    for args in (["digest", SAMPLE, "-o", "/dev/full"], ["report", SAMPLE, "--json", "/dev/full"]):
        result = run(*args)
        assert (
            result.returncode == 2
            and result.stderr == "mqa: error: /dev/full: cannot write (No space left on device)\n"
        )
    assert os.path.exists("/dev/full") and not Path("/dev/full").is_file()  # written in place, never renamed over
    assert not [p for p in Path("/dev").iterdir() if p.name.startswith(".mqa-")]


def test_input_that_is_not_a_slow_log(tmp_path: Path) -> None:
    for path in ("/bin/ls", str(tmp_path / "prose.txt")):
        Path(tmp_path / "prose.txt").write_text("Dear reader,\nthis is prose, not a log.\n")
        result = run("digest", path)
        assert result.returncode == 2 and result.stderr.startswith(
            f"mqa: error: {path}: not a slow log (no event found"
        )
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    result = run("digest", str(empty))
    assert result.returncode == 0 and f"note: {empty}: empty (no events)" in result.stdout


def test_a_slow_log_whose_every_event_is_damaged_is_a_note(tmp_path: Path) -> None:
    """Headers were met, so it is a slow log: nothing usable in it is a note, as pt-query-digest
    reads it as no events (a truncated header, an absurd Query_time)."""
    damaged = tmp_path / "damaged.log"
    damaged.write_text(
        "# Time: 081116 15:07:11\n# User@Host: user[user] @ host [10.1.65.120]\n"
        "# Query_time: 18446744073708.796870.000036  Lock_time: 0  Rows_sent: 1  Rows_examined: 127\n"
        "SELECT * FROM t;\n"
    )
    result = run("digest", str(damaged))
    assert result.returncode == 0, result.stderr
    assert f"note: {damaged}: no usable event (1 malformed)" in result.stdout


def test_since_after_until_is_a_usage_error() -> None:
    result = run("digest", SAMPLE, "--since", "2024-05-02", "--until", "2024-05-01")
    assert result.returncode == 2
    assert result.stderr == "mqa: error: --since 2024-05-02 is later than --until 2024-05-01: no event is in between\n"


_EVENT = (
    "# Time: 2024-05-01T10:00:0{n}.000000Z\n# User@Host: app[app] @ localhost []  Id: 1\n"
    "# Query_time: {qt}  Lock_time: 0.000010  Rows_sent: 1  Rows_examined: {rx}\n"
    "SET timestamp={ts};\nSELECT c FROM t{n} WHERE id = 1;\n"
)


@pytest.mark.parametrize(
    "qt, rx, ts, reason",
    [
        ("1e308", "5", "1714557600", "implausible Query_time 1e+308"),
        ("-1", "5", "1714557600", "implausible Query_time -1.0"),
        ("nan", "5", "1714557600", "implausible Query_time nan"),
        ("inf", "5", "1714557600", "implausible Query_time inf"),
        ("0.5", "18446744073709551616", "1714557600", "implausible rows_examined 1.8446744073709552e+19"),
        ("0.5", "1e308", "1714557600", "implausible rows_examined 1e+308"),
        ("0.5", "-3", "1714557600", "implausible rows_examined -3.0"),
        ("0.5", "5", "1000000000000000", "impossible time 1000000000000000.5"),
    ],
)
@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "html"])
def test_absurd_header_values_are_malformed_events(tmp_path: Path, qt, rx, ts, reason, fmt) -> None:
    """An event with a value no server writes is one malformed event with its line; the events
    around it are read as usual, in every output format."""
    log = tmp_path / "absurd.log"
    damaged = _EVENT.format(n=2, qt=qt, rx=rx, ts=ts)
    if ts != "1714557600":  # no "# Time:" line: the SET timestamp dates the event
        damaged = "".join(line + "\n" for line in damaged.splitlines() if not line.startswith("# Time"))
    log.write_text(_EVENT.format(n=1, qt="0.25", rx="5", ts="1714557600") + damaged)
    result = run("digest", str(log), "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"))
    assert result.returncode == 0, result.stderr
    json_result = run("digest", str(log), "--format", "json")
    report = json.loads(json_result.stdout)
    source = report["sources"][0]
    assert (source["events"], source["malformed"]) == (1, 1)
    sample = source["malformed_samples"][0]
    assert sample["line"] == 6 and sample["reason"].startswith(reason)
    assert [c["count"] for c in report["classes"]] == [1]


def test_a_plain_mariadbd_banner_is_not_an_event(tmp_path: Path) -> None:
    """The official MariaDB container starts ``mariadbd`` by its bare name: the banner tells the
    version and is no malformed event."""
    log = tmp_path / "container.log"
    log.write_text(
        "mariadbd, Version: 11.4.2-MariaDB-ubu2404-log (mariadb.org binary distribution). started with:\n"
        "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\nTime                 Id Command    Argument\n"
        + _EVENT.format(n=1, qt="0.25", rx="5", ts="1714557600")
    )
    report = json.loads(run("digest", str(log), "--format", "json").stdout)
    source = report["sources"][0]
    assert (source["events"], source["malformed"]) == (1, 0)
    assert source["dialect"] == "mariadb 11.4.2-MariaDB-ubu2404"
