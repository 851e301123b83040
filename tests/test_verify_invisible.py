"""MySQL 8 verification with invisible indexes (analyzer.advisor.verify).

No MySQL 8 server runs here, so the server is a stand-in that answers EXPLAIN FORMAT=JSON with
documents recorded by MySQL 8 (tests/fixtures/explain-samples/mysql8: a full scan before, the
recorded ref access after with its key named as mqa names the invisible index) and records every
statement it is sent.  What is checked is mqa's side: the order of the statements, that they touch
only the session and the one index, and that the index is dropped and the switch reset even when
something fails in between.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from analyzer.advisor.suggest import WorkloadClass
from analyzer.advisor.verify import verify_with_invisible_indexes
from analyzer.advisor.workload import advise
from analyzer.errors import AnalyzerError, UsageError
from analyzer.sources.db import capabilities_of
from analyzer.sources.schema import Catalog
from analyzer.sources.schema_ddl import load_tables_from_ddl
from tests.conftest import FIXTURES

MYSQL8 = FIXTURES / "explain-samples" / "mysql8"
SCHEMA = "CREATE TABLE t1 (pk INT NOT NULL PRIMARY KEY, c1_idx CHAR(1), c2 INT) ENGINE=InnoDB;"
SAMPLE = "SELECT * FROM t1 WHERE c1_idx = 'y' ORDER BY pk DESC LIMIT 2"


def _recorded(name: str) -> dict:
    return json.loads((MYSQL8 / name).read_text())


class RecordedMySQL8:
    """Answers like the MySQL 8.0 server the documents were recorded on; records what it is sent."""

    description = "mysql8 stand-in"

    def __init__(self, fail_explain_after_add: bool = False) -> None:
        self.capabilities = capabilities_of("8.0.36", "MySQL Community Server - GPL")
        self.sent: list[str] = []
        self.invisible: str | None = None
        self.fail_explain_after_add = fail_explain_after_add
        self.conn = self

    def select_db(self, name: str) -> None:
        self.sent.append(f"-- COM_INIT_DB {name}")

    @contextlib.contextmanager
    def translate_errors(self, purpose: str = "") -> Iterator[None]:
        yield

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        self.sent.append(sql)
        if " ADD INDEX " in sql and "INVISIBLE" in sql:
            self.invisible = sql.split("`")[5]
        elif " DROP INDEX " in sql:
            self.invisible = None
        if sql.startswith("EXPLAIN FORMAT=JSON"):
            if self.invisible is None:
                doc = _recorded("036-update-where-full-scan.json")
                doc["query_block"]["table"].pop("update")
                doc["query_block"]["table"]["rows_examined_per_scan"] = 100000
            elif self.fail_explain_after_add:
                raise AnalyzerError("EXPLAIN failed: lost connection")
            else:
                doc = _recorded("050-select-ref-backward-index-scan.json")
                table = doc["query_block"]["ordering_operation"]["table"]
                table["key"], table["possible_keys"] = self.invisible, [self.invisible]
            return [{"EXPLAIN": json.dumps(doc)}]
        return []


def _advice(server: RecordedMySQL8):
    tables = load_tables_from_ddl(SCHEMA, default_schema="app").tables
    tables[0].rows = 100_000
    catalog = Catalog(tables, default_schema="app")
    classes = [WorkloadClass("c1", SAMPLE, "app", count=1000, query_time_total=50.0)]
    return advise(classes, catalog=catalog, server=None, top=None), catalog


def test_each_suggestion_is_built_invisible_explained_in_mqas_session_and_dropped() -> None:
    server = RecordedMySQL8()
    advice, catalog = _advice(server)
    [suggestion] = advice.indexes.suggestions
    assert suggestion.columns == ("c1_idx",)
    verification = verify_with_invisible_indexes(advice, catalog, target=server)
    writes = [s for s in server.sent if not s.startswith(("EXPLAIN", "-- COM_INIT_DB"))]
    assert writes == [
        "SET SESSION optimizer_switch = 'use_invisible_indexes=on'",
        "ALTER TABLE `app`.`t1` ADD INDEX `mqa_verify_1` (`c1_idx`) INVISIBLE, ALGORITHM=INPLACE, LOCK=NONE",
        "ALTER TABLE `app`.`t1` DROP INDEX `mqa_verify_1`, ALGORITHM=INPLACE, LOCK=NONE",
        "SET SESSION optimizer_switch = 'use_invisible_indexes=off'",
    ]
    assert verification.writes == writes
    assert "-- COM_INIT_DB app" in server.sent  # the class's database, not a scratch schema
    assert suggestion.verified is True and suggestion.name == "idx_t1_c1_idx"
    [estimate] = suggestion.classes
    # the plan used mqa_verify_1; the report names the index as the DDL will create it
    assert (estimate.chosen_key_before, estimate.chosen_key_after) == (None, "idx_t1_c1_idx")
    assert estimate.verified_rows_after < estimate.verified_rows_before


def test_the_index_is_dropped_and_the_switch_reset_when_explain_fails() -> None:
    server = RecordedMySQL8(fail_explain_after_add=True)
    advice, catalog = _advice(server)
    verify_with_invisible_indexes(advice, catalog, target=server)
    assert server.invisible is None
    assert server.sent[-1] == "SET SESSION optimizer_switch = 'use_invisible_indexes=off'"
    assert advice.indexes.suggestions[0].verified is False  # not seen chosen: not claimed


def test_mariadb_has_no_usable_invisible_indexes() -> None:
    server = RecordedMySQL8()
    server.capabilities = capabilities_of("10.11.6-MariaDB", "Debian")
    advice, catalog = _advice(server)
    with pytest.raises(UsageError, match="--scratch-schema"):
        verify_with_invisible_indexes(advice, catalog, target=server)
    assert server.sent == []
