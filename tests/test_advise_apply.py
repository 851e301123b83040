"""`mqa advise --apply`: the one option that changes the application's tables, and only by the
DDL the report shows.  Run against its own database, so no other test sees the new indexes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.servers import GeneralLog, TestServer, is_read, slow_log_written
from tests.test_advisor import mqa

DB = "mqa_apply"


@pytest.fixture(scope="module")
def workload_log(server: TestServer, tmp_path_factory: pytest.TempPathFactory):
    from sample_workloads.shop import workload

    if server.local is None:
        skip_or_fail("needs the server's slow log file on this machine")
    conn = server.admin()
    workload.load(conn, scale=0.1, seed=42, database=DB, secondary_indexes=False)
    conn.close()
    with slow_log_written(server, tmp_path_factory.mktemp("apply") / "apply.slow.log") as log:
        conn = server.admin(DB)
        workload.replay(conn, statements=2000, seed=6, scale=0.1, database=DB, strict=False)
        conn.close()
    yield log
    server.execute(f"DROP DATABASE IF EXISTS `{DB}`")


def _indexes(server: TestServer) -> set[str]:
    rows = server.execute(
        f"SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '{DB}' "
        "AND INDEX_NAME <> 'PRIMARY'"
    )
    return {r[0] for r in rows}


def test_apply_runs_exactly_the_reported_ddl(server: TestServer, workload_log: Path) -> None:
    assert _indexes(server) == set()
    who = ["-S", server.local.socket, "-u", "root", "-D", DB, "--no-defaults"]
    with GeneralLog(server) as log:
        result = mqa("advise", str(workload_log), *who, "--apply", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    ddl = doc["advice"]["ddl"]
    assert ddl and all(d.startswith(f"ALTER TABLE `{DB}`.") for d in ddl)
    created = {s["name"] for s in doc["index_suggestions"]}
    assert _indexes(server) == created
    writes = [
        e.text
        for e in log.entries
        if e.command == "Query"
        and not is_read(e.text)
        and not e.text.startswith(("TRUNCATE TABLE mysql.general_log", "SET GLOBAL"))
    ]
    assert writes == ddl
    assert all(f"mqa: applying: {d}" in result.stderr for d in ddl)
    # advised again, the workload needs nothing more for what was applied
    again = json.loads(mqa("advise", str(workload_log), *who, "--format", "json").stdout)
    assert not (
        {(s["table"], tuple(s["columns"])) for s in again["index_suggestions"]}
        & {(s["table"], tuple(s["columns"])) for s in doc["index_suggestions"]}
    )
