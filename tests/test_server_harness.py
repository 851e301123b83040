"""The integration-test server itself: reachable, with what the tests rely on switched on."""

from __future__ import annotations

import pytest

from tests.conftest import skip_or_fail
from tests.servers import NoServer, connect_args_from_dsn


def test_server_answers_with_performance_schema_and_slow_log(server) -> None:
    variables = dict(
        server.execute(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('performance_schema', 'slow_query_log', 'long_query_time')"
        )
    )
    assert variables["performance_schema"] == "ON"
    if server.kind != "dsn":  # a server of the user's may log differently
        assert variables["slow_query_log"] == "ON" and float(variables["long_query_time"]) == 0
    assert server.flavor in ("mariadb", "mysql") and server.version


def test_local_server_has_its_files_here(server) -> None:
    if server.local is None:
        skip_or_fail(f"the {server.kind} server's files are not on this machine")
    server.execute("SELECT 'harness-probe'")
    with open(server.slow_log_path, encoding="utf-8", errors="replace") as handle:
        assert "harness-probe" in handle.read()


def test_dsn_parsing() -> None:
    assert connect_args_from_dsn("mysql://u:p%40ss@db.example:3307/x") == {
        "user": "u",
        "password": "p@ss",
        "host": "db.example",
        "port": 3307,
    }
    assert connect_args_from_dsn("mysql://root@localhost/?socket=/tmp/s.sock") == {
        "user": "root",
        "password": "",
        "unix_socket": "/tmp/s.sock",
    }
    with pytest.raises(NoServer):
        connect_args_from_dsn("postgres://x@y/")


def test_general_log_capture_and_read_classification(server) -> None:
    from tests.servers import GeneralLog, is_read

    server.execute(
        "CREATE USER IF NOT EXISTS 'harness_probe'@'localhost'", "GRANT SELECT ON *.* TO 'harness_probe'@'localhost'"
    )
    try:
        with GeneralLog(server) as log:
            conn = server.admin(user="harness_probe", password="")
            with conn.cursor() as cur:
                cur.execute("SELECT 42")
                cur.execute("SET SESSION sql_mode = ''")
            conn.close()
        sent = [e.text for e in log.statements_of("harness_probe") if e.command == "Query"]
        assert "SELECT 42" in sent and "SET SESSION sql_mode = ''" in sent
        assert all(is_read(text) for text in sent)
    finally:
        server.execute("DROP USER IF EXISTS 'harness_probe'@'localhost'")
    for text in (
        "SELECT 1",
        "show tables",
        "/* x */ SELECT 1",
        "SET NAMES utf8mb4",
        "SET SESSION TRANSACTION READ ONLY",
        "EXPLAIN FORMAT=JSON SELECT 1",
        "SET autocommit=0",
    ):
        assert is_read(text), text
    for text in (
        "INSERT INTO t VALUES (1)",
        "SET GLOBAL general_log = ON",
        "SET @@GLOBAL.x = 1",
        "UPDATE t SET a = 1",
        "TRUNCATE TABLE x",
        "CREATE INDEX i ON t (a)",
        "SET PERSIST x = 1",
    ):
        assert not is_read(text), text
