"""The advisor on the hotel sample (sample_workloads/hotel): a workload built around the traps an
index advisor meets, replayed on the real test server and advised through the command line.

What it must show: the ORDER BY ... LIMIT index walk that EXPLAIN underestimates gets its index,
from the measured rows; the small table read hundreds of times gets one; the low-cardinality
filter and the primary-key lookup get none; and ``--verify``, comparing every class without and
with the whole set, protects the class that a naive column order lures into a walk past every
old booking, and says how.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sample_workloads.hotel import workload
from tests.conftest import REPO, skip_or_fail
from tests.servers import TestServer, slow_log_written

DB = "mqa_hotel"
SCRATCH = "mqa_hotel_scratch"
SCALE = 0.4  # 60,000 bookings: enough for MariaDB to take the lure (at 0.2 it does not)
MQA = [sys.executable, "-m", "cli"]

GUEST_BOOKINGS = "SELECT b.id, b.booked_at, b.check_in, h.name FROM bookings AS b JOIN rooms AS r"
RECENT_BOOKINGS = "SELECT id, guest_id, room_id, check_in FROM bookings WHERE booked_at >= ?"
TIER_COUNT = "SELECT COUNT(*) FROM guests WHERE loyalty_tier = ?"
BOOKING_BY_ID = "SELECT * FROM bookings WHERE id = ?"
HOTELS_IN_CITY = "SELECT id, name, stars FROM hotels WHERE city = ?"


def mqa(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MYSQL_PWD", "MYSQL_HOST", "MYSQL_TCP_PORT")}
    env.update({"HOME": "/nonexistent", "COLUMNS": "160"})
    return subprocess.run(MQA + list(args), capture_output=True, text=True, timeout=600, env=env, cwd=REPO)


@pytest.fixture(scope="module")
def hotel(server: TestServer, tmp_path_factory: pytest.TempPathFactory):
    if server.local is None:
        skip_or_fail("needs the server's slow log file on this machine")
    conn = server.admin()
    workload.load(conn, scale=SCALE, database=DB)
    conn.close()
    with slow_log_written(server, tmp_path_factory.mktemp("hotel") / "hotel.slow.log") as log:
        conn = server.admin(DB)
        workload.replay(conn, statements=1500, scale=SCALE, database=DB)
        conn.close()
    yield log
    server.execute(f"DROP DATABASE IF EXISTS `{DB}`", f"DROP DATABASE IF EXISTS `{SCRATCH}`")


def _who(server: TestServer) -> list[str]:
    return ["-S", server.local.socket, "-u", "root", "-D", DB, "--no-defaults"]


def _class_id(doc: dict, start: str) -> str:
    return next(c["id"] for c in doc["classes"] if c["fingerprint"].startswith(start))


@pytest.fixture(scope="module")
def verified(server: TestServer, hotel: Path) -> dict:
    result = mqa("advise", str(hotel), *_who(server), "--verify", "--scratch-schema", SCRATCH, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_index_walk_gets_its_index_from_the_measured_rows(verified: dict) -> None:
    walk = _class_id(verified, GUEST_BOOKINGS)
    [finding] = [f for f in verified["findings"] if f["check"] == "PLN007" and f["class_id"] == walk]
    assert finding["evidence"]["index_walk"] == "idx_bookings_booked_at"
    assert finding["evidence"]["measured"] > 100 * finding["evidence"]["estimated"]
    [s] = [s for s in verified["index_suggestions"] if walk in s["class_ids"]]
    assert s["columns"] == ["guest_id", "booked_at"] and s["verified"] is True
    [c] = [c for c in s["classes"] if c["class_id"] == walk]
    assert c["actual_rows_after"] < c["actual_rows_before"] / 100  # measured on the scratch copy


def test_verify_protects_the_class_a_naive_column_order_makes_worse(verified: dict) -> None:
    verification = verified["advice"]["verification"]
    assert verification["measured"] is True
    assert verification["classes_checked"] >= 7
    recent = _class_id(verified, RECENT_BOOKINGS)
    [p] = [p for p in verification["protected"] if p["class_id"] == recent]
    assert p["index"].startswith("idx_bookings_check_in_status (check_in, status)")
    assert p["action"] == "reordered to (status, check_in)" and p["resolved"] is True
    assert p["rows_worse"] > 10 * p["rows_before"] and p["rows_after"] <= 1.1 * p["rows_before"] + 20
    columns = [tuple(s["columns"]) for s in verified["index_suggestions"]]
    assert ("status", "check_in") in columns and ("check_in", "status") not in columns
    assert any("`idx_bookings_status_check_in` (`status`, `check_in`)" in d for d in verified["advice"]["ddl"])


def test_small_table_lookups_add_up_but_low_cardinality_and_primary_key_get_nothing(verified: dict) -> None:
    indexed = {cid for s in verified["index_suggestions"] if s["verified"] for cid in s["class_ids"]}
    assert _class_id(verified, HOTELS_IN_CITY) in indexed
    assert _class_id(verified, TIER_COUNT) not in indexed
    assert _class_id(verified, BOOKING_BY_ID) not in indexed
    reasons = {n["class_id"]: n["reason"] for n in verified["advice"]["no_index_helps"]}
    assert reasons[_class_id(verified, TIER_COUNT)].startswith("low-cardinality filter: loyalty_tier")
    assert reasons[_class_id(verified, BOOKING_BY_ID)].startswith("primary-key lookup")


def test_without_verify_the_report_names_the_classes_whose_plans_may_change(server: TestServer, hotel: Path) -> None:
    result = mqa("advise", str(hotel), *_who(server), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    recent = _class_id(doc, RECENT_BOOKINGS)
    on_bookings = [s for s in doc["index_suggestions"] if s["table"] == f"{DB}.bookings"]
    assert on_bookings and all(recent in s["may_change_plans"] for s in on_bookings)
    text = mqa("advise", str(hotel), *_who(server), "--details", "0")
    assert text.returncode == 0 and "may change the plans of" in text.stdout and recent[:12] in text.stdout


def test_the_terminal_report_says_whom_verify_protected_and_how(server: TestServer, hotel: Path) -> None:
    result = mqa("advise", str(hotel), *_who(server), "--verify", "--scratch-schema", SCRATCH, "--details", "0")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "protected" in out and "reordered to (status, check_in)" in out
    assert "compared without and with the whole set (rows really read, measured with ANALYZE" in out


def test_the_statements_are_a_pure_function_of_their_arguments() -> None:
    first = workload.generate_statements(400, seed=3, scale=0.1)
    assert first == workload.generate_statements(400, seed=3, scale=0.1)
    assert {s.kind for s in first} == set(workload.QUERY_KINDS)
