"""The read-only audit of every command that connects, on the server's general log: each sends
only reads, except ``advise --verify`` (writes in the scratch schema only, left empty),
``advise --apply`` (exactly the reported DDL) and ``report`` with a MySQL history (writes in its
own history schema only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, skip_or_fail
from tests.servers import GeneralLog, LoggedStatement, TestServer, is_read, slow_log_written

DB = "mqa_audit"
SCRATCH = "mqa_audit_scratch"
HISTORY = "mqa_audit_history"
PASSWORD = "mqa-Audit-secret-9"
ACCOUNTS = {
    "mqa_r": [f"GRANT SELECT, SHOW VIEW ON `{DB}`.* TO {{a}}", "GRANT SELECT ON performance_schema.* TO {a}"],
    "mqa_v": [f"GRANT SELECT, SHOW VIEW ON `{DB}`.* TO {{a}}", f"GRANT ALL ON `{SCRATCH}`.* TO {{a}}"],
    "mqa_w": [f"GRANT SELECT, SHOW VIEW, ALTER, INDEX ON `{DB}`.* TO {{a}}"],
    "mqa_h": [
        f"GRANT SELECT, SHOW VIEW ON `{DB}`.* TO {{a}}",
        "GRANT SELECT ON performance_schema.* TO {a}",
        f"GRANT ALL ON `{HISTORY}`.* TO {{a}}",
    ],
}


def mqa(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MYSQL_PWD", "MYSQL_HOST", "MYSQL_TCP_PORT")}
    env.update({"HOME": "/nonexistent", "COLUMNS": "160", "MYSQL_PWD": PASSWORD})
    result = subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=600, env=env, cwd=REPO
    )
    assert result.returncode == 0, (args, result.stderr)
    return result


@pytest.fixture(scope="module")
def audit(server: TestServer, tmp_path_factory: pytest.TempPathFactory):
    """The shop data without its secondary indexes (so there is advice to apply), a replayed slow
    log, and one account per kind of command."""
    from sample_workloads.shop import workload

    if server.local is None:
        skip_or_fail("needs the server's slow log file on this machine")
    conn = server.admin()
    workload.load(conn, scale=0.05, seed=42, database=DB, secondary_indexes=False)
    conn.close()
    with slow_log_written(server, tmp_path_factory.mktemp("audit") / "slow.log") as log:
        conn = server.admin(DB)
        workload.replay(conn, statements=1500, seed=3, scale=0.05, database=DB, strict=False)
        conn.close()
    for user, grants in ACCOUNTS.items():
        account = f"'{user}'@'localhost'"
        server.execute(
            f"DROP USER IF EXISTS {account}",
            f"CREATE USER {account} IDENTIFIED BY '{PASSWORD}'",
            *(g.format(a=account) for g in grants),
        )
    server.execute(f"DROP DATABASE IF EXISTS `{HISTORY}`", f"CREATE DATABASE `{HISTORY}`")
    yield log
    server.execute(
        *(f"DROP USER IF EXISTS '{u}'@'localhost'" for u in ACCOUNTS),
        f"DROP DATABASE IF EXISTS `{DB}`",
        f"DROP DATABASE IF EXISTS `{SCRATCH}`",
        f"DROP DATABASE IF EXISTS `{HISTORY}`",
    )


def who(server: TestServer, user: str) -> list[str]:
    return ["-S", server.local.socket, "-u", user, "--no-defaults"]


def queries(entries: list[LoggedStatement]) -> list[str]:
    return [e.text for e in entries if e.command in ("Query", "Execute", "Prepare")]


def test_every_read_command_sends_only_reads(server: TestServer, audit: Path, tmp_path: Path) -> None:
    me = who(server, "mqa_r")
    sql = "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10"
    with GeneralLog(server) as log:
        mqa("collect", "--window", "1s", *me, "--slow-log", str(audit))
        mqa("top", "--interval", "0.3s", "--iterations", "2", *me)
        mqa("indexes", *me, "-D", DB)
        mqa("explain", sql, *me, "-D", DB)
        mqa("explain", "SELECT COUNT(*) FROM orders", "--analyze", *me, "-D", DB)
        mqa("advise", str(audit), *me, "-D", DB)
        mqa("endpoint", str(audit), "--route", "/account/orders", *me, "-D", DB)
        mqa(
            "report",
            str(audit),
            *me,
            "-D",
            DB,
            "--history",
            f"sqlite:///{tmp_path / 'h.sqlite'}",
            "--window",
            "1s",
            "--json",
            str(tmp_path / "r.json"),
        )
    sent = queries(log.statements_of("mqa_r"))
    assert len(sent) > 100
    assert [q for q in sent if not is_read(q)] == []
    assert sent.count("SET SESSION TRANSACTION READ ONLY") >= 8  # every session


def test_verify_writes_only_in_the_scratch_schema_and_leaves_it_empty(server: TestServer, audit: Path) -> None:
    with GeneralLog(server) as log:
        out = mqa(
            "advise", str(audit), *who(server, "mqa_v"), "-D", DB, "--verify", "--scratch-schema", SCRATCH, "-f", "json"
        )
    writes = [q for q in queries(log.statements_of("mqa_v")) if not is_read(q)]
    assert writes and all(SCRATCH in q for q in writes), [q for q in writes if SCRATCH not in q]
    assert json.loads(out.stdout)["advice"]["verification"] is not None
    assert server.execute(f"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{SCRATCH}'")[0][0] == 0


def test_apply_runs_exactly_the_reported_ddl(server: TestServer, audit: Path) -> None:
    before = {
        r[0]
        for r in server.execute(
            f"SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = '{DB}'"
        )
    }
    with GeneralLog(server) as log:
        out = mqa("advise", str(audit), *who(server, "mqa_w"), "-D", DB, "--apply", "-f", "json")
    ddl = json.loads(out.stdout)["advice"]["ddl"]
    writes = [q for q in queries(log.statements_of("mqa_w")) if not is_read(q)]
    assert ddl and writes == ddl
    after = {
        r[0]
        for r in server.execute(
            f"SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = '{DB}'"
        )
    }
    assert after > before
    for statement in ddl:  # back as it was, for the other tests
        table = statement.split("`")[3]
        for name in statement.split("ADD INDEX `")[1:]:
            server.execute(f"ALTER TABLE `{DB}`.`{table}` DROP INDEX `{name.split('`')[0]}`")


def test_report_with_a_mysql_history_writes_only_its_history(server: TestServer, audit: Path) -> None:
    dsn = server.local.dsn().split("?", 1)
    url = f"mysql://mqa_h@localhost/{HISTORY}" + (f"?{dsn[1]}" if len(dsn) > 1 else f"?socket={server.local.socket}")
    with GeneralLog(server) as log:
        mqa("report", str(audit), *who(server, "mqa_h"), "-D", DB, "--history", url, "--label", "audit")
        mqa("history", "--history", url)
    entries = log.statements_of("mqa_h")
    history_threads = {e.thread_id for e in entries if e.command == "Connect" and f" on {HISTORY}" in e.text}
    assert history_threads
    app = [q for q in queries([e for e in entries if e.thread_id not in history_threads]) if not is_read(q)]
    assert app == []  # the connection to the application's server: reads only
    writes = [q for q in queries([e for e in entries if e.thread_id in history_threads]) if not is_read(q)]
    assert any(q.startswith("INSERT INTO mqa_runs") for q in writes)
    assert server.execute(f"SELECT COUNT(*) FROM `{HISTORY}`.mqa_runs")[0][0] == 1
