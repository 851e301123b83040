"""Golden JSON of every command: the report a command writes stays byte for byte what it was when
the golden files were recorded (``generated_at`` aside).

The commands that read logs run on the repository's logs.  The server commands (collect, explain,
advise, indexes) run against a ``ReplayServer`` (tests/replay.py) that answers exactly as the real
server did when the files were recorded, so the comparison needs no server and cannot drift with
the server's statistics.  To record again (after a deliberate change of the JSON), with a test
server available:

    .venv/bin/python -m pytest tests/test_golden.py --record-golden

which rewrites tests/fixtures/golden/ (the outputs, the server recordings and the slow log the
live advice reads); review the diff before committing it.  When only the JSON changed (an
extension), ``--rewrite-golden-outputs`` rewrites the outputs from the recorded server answers,
with no server.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer.sources.db import connect as _REAL_CONNECT
from tests.conftest import FIXTURES, REPO, skip_or_fail
from tests.replay import RecordingServer, ReplayServer

GOLDEN = FIXTURES / "golden"
SAMPLE_LOG = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")
SHOP_SCHEMA = str(REPO / "sample_workloads" / "shop" / "schema.sql")
PT_LOGS = FIXTURES / "percona-toolkit" / "t" / "lib" / "samples" / "slowlogs"
DB = "mqa_golden"
SAKILA = "mqa_golden_sakila"
PROBLEMS = "mqa_golden_indexes"
PROBLEM_TABLES = [  # one or more of every index-health finding, foreign keys in the way included
    "CREATE TABLE parent (a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a), KEY b_a (b, a)) ENGINE=InnoDB",
    "CREATE TABLE child (id INT NOT NULL, a INT NOT NULL, b INT NOT NULL, c INT, PRIMARY KEY (a), KEY k_ba (b, a), "
    "KEY k_b (b), KEY k_c (c), KEY k_c2 (c), KEY k_cid (c, id), "
    "CONSTRAINT fk_ba FOREIGN KEY (b, a) REFERENCES parent (b, a), "
    "CONSTRAINT fk_ba2 FOREIGN KEY (b, a) REFERENCES parent (b, a)) ENGINE=InnoDB",
    "CREATE TABLE dup (id INT NOT NULL PRIMARY KEY, a INT, b INT, KEY ia (a), KEY ia_again (a), KEY iab (a, b), "
    "KEY ib_desc (b DESC), KEY ib (b), UNIQUE KEY ua (a), KEY iua (a, id)) ENGINE=InnoDB",
    "CREATE TABLE clustered_by_unique (x INT NOT NULL, y INT, UNIQUE KEY ux (x)) ENGINE=InnoDB",
    "CREATE TABLE hidden_row_id (x INT, y INT) ENGINE=InnoDB",
    "CREATE TABLE nullable_unique (x INT, y INT, UNIQUE KEY uxy (x, y)) ENGINE=InnoDB",
]
ADVISE_LOG = GOLDEN / "advise.slow.log.gz"
MY_ORDERS = "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10"


@dataclass
class GoldenCase:
    name: str
    args: list[str]
    server: bool = False  # runs against a recorded server
    during: Callable[[Any], None] | None = None  # what runs on the server while it is recorded
    notes: list[str] = field(default_factory=list)


def _pt_log(name: str) -> str:
    return str(PT_LOGS / name)


CASES = [
    GoldenCase("digest-sample", ["digest", SAMPLE_LOG, "--format", "json"]),
    GoldenCase(
        "digest-sample-pt-all", ["digest", SAMPLE_LOG, "--fingerprint", "pt", "--limit", "0", "--format", "json"]
    ),
    GoldenCase(
        "digest-sample-filtered",
        [
            "digest",
            SAMPLE_LOG,
            "--user",
            "shop_api",
            "--order-by",
            "count",
            "--limit",
            "7",
            "--tag",
            "app=api",
            "--format",
            "json",
        ],
    ),
    GoldenCase("digest-pt-slow002", ["digest", _pt_log("slow002.txt"), "--limit", "0", "--format", "json"]),
    GoldenCase("digest-pt-slow023", ["digest", _pt_log("slow023.txt"), "--limit", "0", "--format", "json"]),
    GoldenCase("advise-offline", ["advise", SAMPLE_LOG, "--schema", SHOP_SCHEMA, "--format", "json"]),
    GoldenCase("explain-offline", ["explain", MY_ORDERS, "--schema", SHOP_SCHEMA, "-D", "shop", "--format", "json"]),
    GoldenCase("explain-live", ["explain", MY_ORDERS, "-D", DB, "--format", "json"], server=True),
    GoldenCase("advise-live", ["advise", str(ADVISE_LOG), "-D", DB, "--format", "json"], server=True),
    GoldenCase("indexes-live", ["indexes", "--schema", SAKILA, "--schema", DB, "--format", "json"], server=True),
    GoldenCase(
        "indexes-live-problems",
        ["indexes", "--schema", PROBLEMS, "--min-window", "0s", "--format", "json"],
        server=True,
    ),
    GoldenCase("collect-live", ["collect", "--window", "2s", "--format", "json", "--limit", "0"], server=True),
]


def _write(path: Path, text: str) -> None:
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def _read(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def _normalized(text: str) -> str:
    """The JSON without what differs from run to run: the time it was made, and where the clone
    is (file names of the repository's logs are absolute)."""
    text = re.sub(r'"generated_at": "[^"]*"', '"generated_at": "-"', text)
    return re.sub(r'/[^"\s]*?/(sample_workloads|tests)/', r"<repo>/\1/", text)


class _FakeClock:
    """time.monotonic that advances exactly by what time.sleep was asked for (sleeping for real
    while recording, so that the workload runs during a window), so windows last exactly their length."""

    def __init__(self, real_sleep: bool) -> None:
        self.now = 1000.0
        self.real_sleep = real_sleep
        self._sleep = time.sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.real_sleep:
            self._sleep(seconds)
        self.now += seconds


def _run(case: GoldenCase, monkeypatch: pytest.MonkeyPatch, connect: Callable[..., Any] | None) -> str:
    from cli.main import app

    if connect is not None:
        monkeypatch.setattr("analyzer.sources.db.connect", connect)
    result = CliRunner().invoke(app, case.args, catch_exceptions=False)
    assert result.exit_code == 0, (case.name, result.output)
    return result.stdout


@pytest.mark.parametrize("case", [c for c in CASES if not c.server], ids=lambda c: c.name)
def test_log_command_json_is_golden(
    case: GoldenCase, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _run(case, monkeypatch, None)
    path = GOLDEN / f"{case.name}.json.gz"
    if request.config.getoption("--record-golden") or request.config.getoption("--rewrite-golden-outputs"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        _write(path, out)
    assert _normalized(out) == _normalized(_read(path))


@pytest.mark.parametrize("case", [c for c in CASES if c.server], ids=lambda c: c.name)
def test_server_command_json_is_golden(
    case: GoldenCase, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = GOLDEN / f"{case.name}.server.json.gz"
    path = GOLDEN / f"{case.name}.json.gz"
    record = request.config.getoption("--record-golden")
    clock = _FakeClock(real_sleep=record)
    monkeypatch.setattr(time, "monotonic", clock.monotonic)
    monkeypatch.setattr(time, "sleep", clock.sleep)
    if record:
        server = request.getfixturevalue("golden_server")
        recorders: list[RecordingServer] = []

        def connect(options: Any, **kwargs: Any) -> RecordingServer:
            from analyzer.sources.db import ConnectionOptions

            target = ConnectionOptions(**{**options.__dict__, "dsn": server.dsn, "no_defaults": True})
            recorder = RecordingServer(_REAL_CONNECT(target, **kwargs))
            recorders.append(recorder)
            return recorder

        if case.name == "advise-live":
            ADVISE_LOG.write_bytes(server.advise_log.read_bytes())
        with _workload_during(server, case.name == "collect-live"):
            out = _run(case, monkeypatch, connect)
        [recorder] = recorders
        _write(recording, json.dumps(recorder.recording, indent=1, ensure_ascii=False) + "\n")
        _write(path, out)
    else:
        replay = ReplayServer(json.loads(_read(recording)))
        out = _run(case, monkeypatch, lambda options, **kwargs: replay)
        if request.config.getoption("--rewrite-golden-outputs"):
            _write(path, out)
    assert _normalized(out) == _normalized(_read(path))


@pytest.fixture(scope="module")
def golden_server(server, tmp_path_factory):
    """The databases the server recordings were made on: the shop sample (scale 0.05, primary
    keys only, a replay's slow log for advise) and sakila."""
    from sample_workloads.shop import workload
    from tests.sakila import load_sakila
    from tests.servers import slow_log_written

    if server.local is None:
        skip_or_fail("recording needs the local test server's slow log")
    conn = server.admin()
    workload.load(conn, scale=0.05, seed=42, database=DB, secondary_indexes=False)
    load_sakila(conn, SAKILA)
    conn.close()
    server.execute(f"DROP DATABASE IF EXISTS `{PROBLEMS}`", f"CREATE DATABASE `{PROBLEMS}`")
    server.execute("SET SESSION foreign_key_checks = 0", *PROBLEM_TABLES, database=PROBLEMS)
    log = tmp_path_factory.mktemp("golden") / "advise.slow.log"
    with slow_log_written(server, log):
        conn = server.admin(DB)
        workload.replay(conn, statements=600, seed=3, scale=0.05, database=DB, strict=False)
        conn.close()
    server.advise_log = log.with_suffix(".log.gz")  # advise-live records with it (and copies it here)
    server.advise_log.write_bytes(gzip.compress(log.read_bytes(), mtime=0))
    yield server
    server.execute(
        f"DROP DATABASE IF EXISTS `{DB}`",
        f"DROP DATABASE IF EXISTS `{SAKILA}`",
        f"DROP DATABASE IF EXISTS `{PROBLEMS}`",
    )


class _workload_during:
    """Replays part of the shop workload on the server in a thread (for the collect window)."""

    def __init__(self, server: Any, active: bool) -> None:
        self.server, self.active = server, active
        self.thread: threading.Thread | None = None

    def __enter__(self) -> None:
        if not self.active:
            return

        def run() -> None:
            from sample_workloads.shop import workload

            conn = self.server.admin(DB)
            try:
                workload.replay(conn, statements=300, seed=9, scale=0.05, database=DB, strict=False, id_base="probe")
            finally:
                conn.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def __exit__(self, *exc: object) -> None:
        if self.thread is not None:
            self.thread.join(timeout=120)


def test_every_command_has_a_golden_case() -> None:
    commands = {c.args[0] for c in CASES}
    assert commands >= {"digest", "collect", "explain", "advise", "indexes"}


def test_the_replay_refuses_a_question_it_was_never_asked() -> None:
    replay = ReplayServer(json.loads(_read(GOLDEN / "explain-live.server.json.gz")))
    with pytest.raises(AssertionError, match="no answer"):
        replay.query("SELECT 'something else'")


def test_recordings_hold_no_password() -> None:
    recordings = list(GOLDEN.glob("*.server.json.gz"))
    assert len(recordings) == sum(1 for c in CASES if c.server)
    for path in recordings:
        assert "password" not in json.loads(_read(path))["description"].lower()
