"""The live-server commands (collect, top, indexes) against the real test server, as a user runs them."""

from __future__ import annotations

import html
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, skip_or_fail
from tests.servers import GeneralLog, TestServer, is_read, slow_log_written

MQA = [sys.executable, "-m", "cli"]
PASSWORD = "mqa-ro-Secret-1"
# What the README says mqa needs: SELECT on performance_schema and on the application schemas.
GRANTS = ("GRANT SELECT ON performance_schema.* TO {account}", "GRANT SELECT, SHOW VIEW ON `{db}`.* TO {account}")


def mqa(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real command line in a fresh process (as a user or a cron job would)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("MYSQL_PWD", "MYSQL_HOST", "MYSQL_TCP_PORT")}
    full_env.update({"HOME": os.environ.get("MQA_TEST_HOME", "/nonexistent"), "COLUMNS": "160"})
    full_env.update(env or {})
    return subprocess.run(MQA + list(args), capture_output=True, text=True, timeout=timeout, env=full_env, cwd=REPO)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mqa: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def app_db(server: TestServer):
    """A small shop database and a least-privilege account for mqa on it."""
    from sample_workloads.shop import workload

    db = "shop_cmds"
    conn = server.admin()
    workload.load(conn, scale=0.02, seed=42, database=db)
    conn.close()
    account = "'mqa_ro'@'%'"
    server.execute(
        f"DROP USER IF EXISTS {account}",
        "DROP USER IF EXISTS 'mqa_ro'@'localhost'",
        f"CREATE USER {account} IDENTIFIED BY '{PASSWORD}'",
        f"CREATE USER 'mqa_ro'@'localhost' IDENTIFIED BY '{PASSWORD}'",
    )
    for host_account in (account, "'mqa_ro'@'localhost'"):
        server.execute(*(g.format(account=host_account, db=db) for g in GRANTS))
    yield db
    server.execute(
        "DROP USER IF EXISTS 'mqa_ro'@'%'",
        "DROP USER IF EXISTS 'mqa_ro'@'localhost'",
        f"DROP DATABASE IF EXISTS `{db}`",
    )


def _tcp(server: TestServer) -> tuple[str, int]:
    if server.local is not None:
        return "127.0.0.1", server.local.port
    args = server.connect_args
    if "host" not in args:
        skip_or_fail("the test server has no TCP port")
    return args["host"], args["port"]


# --------------------------------------------------------------------------- connecting
def test_connect_by_socket_tcp_dsn_and_option_file_with_include(
    server: TestServer, app_db: str, tmp_path: Path
) -> None:
    host, port = _tcp(server)
    pwd = {"MYSQL_PWD": PASSWORD}
    runs = {
        "tcp": mqa("indexes", "-h", host, "-P", str(port), "-u", "mqa_ro", "--schema", app_db, "-f", "json", env=pwd),
        "dsn": mqa(
            "indexes", "--dsn", f"mysql://mqa_ro@{host}:{port}/{app_db}", "--schema", app_db, "-f", "json", env=pwd
        ),
    }
    if server.local is not None:
        runs["socket"] = mqa(
            "indexes", "-S", server.local.socket, "-u", "mqa_ro", "--schema", app_db, "-f", "json", env=pwd
        )
    included = tmp_path / "conf.d" / "account.cnf"
    included.parent.mkdir()
    included.write_text(f'[client]\nuser = mqa_ro\npassword = "{PASSWORD}"  # inline comment\n')
    main = tmp_path / "my.cnf"
    main.write_text(f"[client]\nhost={host}\nport={port}\nuser=someone_else\n!include {included}\n")
    runs["option file"] = mqa("indexes", "--defaults-file", str(main), "--schema", app_db, "-f", "json")
    for how, result in runs.items():
        assert result.returncode == 0, (how, result.stderr)
        report = json.loads(result.stdout)
        assert report["schemas"] == [app_db] and report["tables"] >= 14, how
        assert PASSWORD not in result.stdout + result.stderr


def test_indexes_html_shows_findings_with_their_ddl_and_no_password(
    server: TestServer, app_db: str, tmp_path: Path
) -> None:
    host, port = _tcp(server)
    out = tmp_path / "indexes.html"
    result = mqa(
        "indexes",
        "--dsn",
        f"mysql://mqa_ro:{PASSWORD}@{host}:{port}/{app_db}",
        "-D",
        app_db,
        "-f",
        "html",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    doc = json.loads(
        mqa(
            "indexes",
            "--dsn",
            f"mysql://mqa_ro@{host}:{port}/{app_db}",
            "-D",
            app_db,
            "-f",
            "json",
            env={"MYSQL_PWD": PASSWORD},
        ).stdout
    )
    assert PASSWORD not in page and f"mysql://mqa_ro:***@{host}:{port}/{app_db}" in page  # the command, redacted
    assert doc["findings"], "the shop schema as shipped has redundant and unused indexes"
    for finding in doc["findings"]:
        assert f"<strong>{finding['check']}</strong>" in page
    assert page.count('<div class="finding">') == len(doc["findings"])
    for statement in doc["statements"]:
        assert html.escape(statement, quote=True) in page or html.escape(statement, quote=False) in page


def test_wrong_password_unreachable_host_and_missing_privileges_exit_2(server: TestServer, app_db: str) -> None:
    host, port = _tcp(server)
    line = one_line_error(
        mqa("collect", "--window", "0s", "-h", host, "-P", str(port), "-u", "mqa_ro", env={"MYSQL_PWD": "wrong"})
    )
    assert "access denied" in line.lower() and "mqa_ro" in line and "wrong" not in line

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    line = one_line_error(
        mqa("top", "--iterations", "1", "-h", "127.0.0.1", "-P", str(closed), "-u", "x", "--connect-timeout", "3")
    )
    assert f"127.0.0.1:{closed}" in line

    server.execute(
        "DROP USER IF EXISTS 'mqa_noperf'@'%'",
        "CREATE USER 'mqa_noperf'@'%' IDENTIFIED BY 'pw-1'",
        f"GRANT SELECT ON `{app_db}`.* TO 'mqa_noperf'@'%'",
    )
    try:
        line = one_line_error(
            mqa("collect", "--window", "0s", "-h", host, "-P", str(port), "-u", "mqa_noperf", env={"MYSQL_PWD": "pw-1"})
        )
        assert "performance_schema" in line and "GRANT SELECT ON performance_schema.*" in line
    finally:
        server.execute("DROP USER IF EXISTS 'mqa_noperf'@'%'")


def test_password_on_the_command_line_is_refused(server: TestServer) -> None:
    line = one_line_error(mqa("indexes", "-psecret", "-u", "x"))
    assert "visible to every user" in line and "secret" not in line


# --------------------------------------------------------------------------- read-only
def test_collect_top_and_indexes_send_only_reads(server: TestServer, app_db: str) -> None:
    host, port = _tcp(server)
    who = ["-h", host, "-P", str(port), "-u", "mqa_ro"]
    pwd = {"MYSQL_PWD": PASSWORD}
    with GeneralLog(server) as log:
        results = [
            mqa("collect", "--window", "1s", *who, "--slow-log", server.slow_log_path or "/dev/null", env=pwd),
            mqa("top", "--interval", "0.3s", "--iterations", "2", *who, env=pwd),
            mqa("indexes", *who, "--schema", app_db, env=pwd),
        ]
    for result in results:
        assert result.returncode == 0, result.stderr
    sent = log.statements_of("mqa_ro")
    queries = [e.text for e in sent if e.command in ("Query", "Execute", "Prepare")]
    assert len(queries) > 10
    assert {e.command for e in sent} <= {"Connect", "Query", "Quit", "Init DB", "Field List"}
    writes = [q for q in queries if not is_read(q)]
    assert writes == []
    assert "SET SESSION TRANSACTION READ ONLY" in queries


# --------------------------------------------------------------------------- one class id across sources
def test_slow_log_and_collect_window_agree_on_class_ids(server: TestServer, app_db: str, tmp_path: Path) -> None:
    """The sample workload replayed while `mqa collect` watches: the slow log's classes of the
    same statements and the window's classes share ids for at least 95% of the time."""
    if server.local is None:
        skip_or_fail("needs the server's slow log file on this machine")
    from sample_workloads.shop import workload

    host, port = _tcp(server)
    report_file = tmp_path / "window.json"
    with slow_log_written(server, tmp_path / "replay.slow.log") as replay_log:
        collect = subprocess.Popen(
            MQA
            + [
                "collect",
                "--window",
                "12s",
                "-h",
                host,
                "-P",
                str(port),
                "-u",
                "mqa_ro",
                "--limit",
                "0",
                "-f",
                "json",
                "-o",
                str(report_file),
                "--no-progress",
            ],
            env={**os.environ, "MYSQL_PWD": PASSWORD, "HOME": "/nonexistent"},
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(2.5)  # the first snapshot is taken
            conn = server.admin(app_db)
            summary = workload.replay(conn, statements=1500, seed=7, scale=0.02, database=app_db, id_base="probe")
            conn.close()
            assert summary["errors"] == 0 if "errors" in summary else True
            _, err = collect.communicate(timeout=60)
        finally:
            if collect.poll() is None:
                collect.kill()
    assert collect.returncode == 0, err
    # The slow log also holds mqa's own reads (as mqa_ro), which the window leaves out by design.
    replayer = server.connect_args["user"]
    digested = mqa("digest", str(replay_log), "--user", replayer, "--limit", "0", "-f", "json")
    assert digested.returncode == 0, digested.stderr

    from_log = {c["id"]: c["metrics"]["query_time"]["sum"] for c in json.loads(digested.stdout)["classes"]}
    window = json.loads(report_file.read_text())
    from_window = {c["id"]: c["metrics"]["query_time"]["sum"] for c in window["classes"]}
    assert sum(c["count"] for c in window["classes"]) >= 1500
    log_time = sum(from_log.values())
    window_time = sum(from_window.values())
    matched_log = sum(t for i, t in from_log.items() if i in from_window)
    matched_window = sum(t for i, t in from_window.items() if i in from_log)
    assert matched_log / log_time >= 0.95, sorted(set(from_log) - set(from_window))
    assert matched_window / window_time >= 0.95, sorted(set(from_window) - set(from_log))


def _watch_a_replay(
    server: TestServer, app_db: str, tmp_path: Path, args: list[str], statements: int, warmup: float = 2.5
) -> tuple[subprocess.CompletedProcess, Path]:
    """Run ``mqa args`` (as mqa_ro over TCP) while the shop workload replays ``statements``;
    returns the finished command and the slow log of that time (every statement: long_query_time=0)."""
    from sample_workloads.shop import workload

    if server.local is None:
        skip_or_fail("needs the server's slow log file on this machine")
    host, port = _tcp(server)
    with slow_log_written(server, tmp_path / "replay.slow.log") as tail:
        command = subprocess.Popen(
            MQA + args + ["-h", host, "-P", str(port), "-u", "mqa_ro"],
            env={**os.environ, "MYSQL_PWD": PASSWORD, "HOME": "/nonexistent", "COLUMNS": "160"},
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(warmup)  # the first snapshot is taken
            conn = server.admin(app_db)
            workload.replay(conn, statements=statements, seed=11, scale=0.02, database=app_db, id_base="probe")
            conn.close()
            out, err = command.communicate(timeout=90)
        finally:
            if command.poll() is None:
                command.kill()
    return subprocess.CompletedProcess(command.args, command.returncode, out, err), tail


def _log_classes(log: Path, user: str) -> dict[str, dict]:
    digested = mqa("digest", str(log), "--user", user, "--limit", "0", "-f", "json")
    assert digested.returncode == 0, digested.stderr
    return {c["id"]: c for c in json.loads(digested.stdout)["classes"]}


def test_collect_with_the_slow_log_counts_once_and_takes_distributions_from_the_log(
    server: TestServer, app_db: str, tmp_path: Path
) -> None:
    """`collect --slow-log`: counts stay performance_schema's (not window + log), percentiles,
    real examples and users come from the log's events of the same class."""
    slow_log = server.slow_log_path or "/nonexistent"
    result, tail = _watch_a_replay(
        server,
        app_db,
        tmp_path,
        ["collect", "--window", "9s", "--slow-log", slow_log, "--limit", "0", "-f", "json", "--no-progress"],
        800,
    )
    assert result.returncode == 0, result.stderr
    combined = {c["id"]: c for c in json.loads(result.stdout)["classes"]}
    replayer = server.connect_args["user"]
    from_log = _log_classes(tail, replayer)
    assert len(from_log) > 30
    for class_id, logged in from_log.items():
        cls = combined[class_id]
        assert cls["count"] == logged["count"], cls["fingerprint"]  # once, not twice
        assert replayer in cls["users"]
        query_time = cls["metrics"]["query_time"]
        assert query_time["p95"] is not None and query_time["p50"] <= query_time["p95"] <= query_time["max"] * 1.02
        assert cls["example"] == logged["example"]  # the slowest real statement, with its literals
    document = json.loads(result.stdout)
    assert any("percentiles and examples come from the slow log" in note for note in document["summary"]["notes"])


def test_top_shows_every_replayed_statement_once_across_its_intervals(
    server: TestServer, app_db: str, tmp_path: Path
) -> None:
    """`mqa top` piped: one header per interval, then one line per class; calls/s x interval
    summed over the intervals gives back the statements the replay ran, per class."""
    result, tail = _watch_a_replay(
        server, app_db, tmp_path, ["top", "--interval", "2s", "--iterations", "4", "--limit", "500"], 600, warmup=1.0
    )
    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith("# interval ")]
    assert [h.split()[2] for h in headers] == ["1", "2", "3", "4"]
    seen: dict[str, float] = {}
    seconds = 0.0
    for line in result.stdout.splitlines():
        if line.startswith("# interval "):
            seconds = float(line.split()[3].rstrip("s"))
        elif line and not line.startswith("#"):
            _rank, class_id, _load, _share, rate, *_ = line.split("\t")
            seen[class_id] = seen.get(class_id, 0.0) + float(rate.rstrip("/s")) * seconds
    from_log = _log_classes(tail, server.connect_args["user"])
    assert from_log and set(from_log) <= set(seen)
    for class_id, logged in from_log.items():
        assert abs(seen[class_id] - logged["count"]) <= 0.05 * logged["count"] + 0.5, logged["fingerprint"]
