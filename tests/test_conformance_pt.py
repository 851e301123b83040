"""pt-query-digest is the oracle for ``--fingerprint pt``.

For every slow log of the corpora (tests/fixtures), the real pt-query-digest (``--output json``)
runs live, and ``mqa digest --fingerprint pt`` must report the same set of class IDs, and per
class the same count and the same sums of Query_time, Lock_time, Rows_sent and Rows_examined
(pt prints sums with 6 decimals; that is the precision compared).

A few logs are malformed in ways pt-query-digest misreads; ``DISAGREEMENTS`` lists each with
the exact classes on either side and why.  The test checks that those differences, and only
those, remain, so a change in either tool is noticed.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from analyzer.digest import digest_logs
from analyzer.errors import InputError
from analyzer.report.digest import build_report
from tests.conftest import FIXTURES, require_executable

LOG_GLOBS = (
    "percona-toolkit/t/lib/samples/slowlogs/*",
    "percona-toolkit/t/pt-index-usage/samples/slow*.txt",
    "go-mysql/test/slow-logs/*.log",
    "slowlogs-pmm-agent/**/*.log",
    "slowlogs-elastic-beats/**/*.log",
)
SUMS = (
    ("Query_time", "query_time"),
    ("Lock_time", "lock_time"),
    ("Rows_sent", "rows_sent"),
    ("Rows_examined", "rows_examined"),
)


def corpus_logs() -> list[Path]:
    """Every slow log in the fixtures, byte-identical copies listed once."""
    seen: set[str] = set()
    logs = []
    for pattern in LOG_GLOBS:
        for path in sorted(FIXTURES.glob(pattern)):
            if not path.is_file():
                continue
            digest = hashlib.md5(path.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                logs.append(path)
    return logs


@dataclass(frozen=True)
class Disagreement:
    pt_only: frozenset[str]
    mqa_only: frozenset[str]
    why: str


DISAGREEMENTS: dict[str, Disagreement] = {
    "go-mysql/test/slow-logs/slow016.log": Disagreement(
        frozenset(),
        frozenset({"EDBC971AEC392917AA353644DE4C4CB4"}),
        "The log starts in the middle of an event header, then '# administrator command: Quit;'. "
        "pt-query-digest aggregates that event but leaves classes without any Query_time out of its "
        "report; mqa reports the class (1 event, no timing).",
    ),
    "go-mysql/test/slow-logs/slow017.log": Disagreement(
        frozenset(),
        frozenset({"7296A5826DAE9625B90978440CC11CC7"}),
        "The log starts with a statement whose header was cut off. pt-query-digest, which splits "
        "records on ';\\n#', takes the next event's header lines for an 'administrator command' "
        "(a class without Query_time, so unreported) and loses the real SHOW /*!50002 GLOBAL */ "
        "STATUS event. mqa reports the fragment as malformed at line 1 and counts the SHOW.",
    ),
    "go-mysql/test/slow-logs/slow023.log": Disagreement(
        frozenset({"C0DF7B95E7AD1739C8D1557E592BBF97"}),
        frozenset(
            {"DD749893CA4A219A6C099B0B73EA7633", "3CB41A73F0666E10AC5C18B304F9DE87", "CA00D2BE677835D89FD5245EAE433B90"}
        ),
        "An event whose only statement is a client's 'use `dbnameb`'. pt-query-digest takes the "
        "line as the database marker, reads the next event's header as this event's statement "
        "(class 'user@host: backup[backup] ... set timestamp') and loses the two events after it. "
        "mqa counts 'use ?' and the two SELECTs.",
    ),
    "percona-toolkit/t/lib/samples/slowlogs/slow056.txt": Disagreement(
        frozenset({"D41D8CD98F00B204E9800998ECF8427E"}),
        frozenset({"DD749893CA4A219A6C099B0B73EA7633"}),
        "An event whose statement is 'use test_db'. pt-query-digest invents a '/* No query */' "
        "statement for it (empty fingerprint, the MD5 of ''); mqa counts it as 'use ?'.",
    ),
    "slowlogs-pmm-agent/agents/mysql/slowlog/parser/testdata/fuzz-empty-admin.log": Disagreement(
        frozenset({"95E360C59843467584F9CC21B2A59E5B"}),
        frozenset({"C96778396F385355FD44E046BB33B3CC", "B0947F6D4B41705B668E35544D067F86"}),
        "A fuzzed '# administrator command:' with no command and no ';'. pt-query-digest glues the "
        "next event's 'use dev_pct' into it and loses 'SELECT @@max_allowed_packet'; mqa counts "
        "'administrator command:' and the SELECT.",
    ),
}


def _plain_copy(path: Path, tmp_path: Path) -> Path:
    """pt-query-digest reads compressed logs as binary garbage: give it the decompressed bytes."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:3] == b"BZh":
        data = bz2.decompress(data)
    else:
        return path
    plain = tmp_path / (path.name + ".plain")
    plain.write_bytes(data)
    return plain


def _pt_classes(pt: str, path: Path) -> dict[str, dict]:
    proc = subprocess.run(
        [pt, "--output", "json", "--limit", "1000000", "--no-version-check", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = proc.stdout.strip()
    return {c["checksum"]: c for c in json.loads(out)["classes"]} if out else {}


def _mqa_classes(path: Path) -> dict[str, dict]:
    report = build_report(digest_logs([str(path)], mode="pt"), limit=None).to_json_dict()
    return {c["pt_id"]: c for c in report["classes"]}


@pytest.mark.oracle
@pytest.mark.parametrize("log", corpus_logs(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_pt_mode_matches_pt_query_digest(log: Path, tmp_path: Path) -> None:
    pt = require_executable("pt-query-digest", "apt-get install percona-toolkit")
    expected = _pt_classes(pt, _plain_copy(log, tmp_path))
    try:
        actual = _mqa_classes(log)
    except InputError as error:
        # A file without a single event header is refused by mqa where pt-query-digest reads it
        # as nothing: the only accepted difference, and only when pt found no class either.
        assert "not a slow log" in str(error) and expected == {}, str(error)
        return

    known = DISAGREEMENTS.get(str(log.relative_to(FIXTURES)))
    pt_only = frozenset(expected) - frozenset(actual)
    mqa_only = frozenset(actual) - frozenset(expected)
    if known is None:
        assert pt_only == frozenset() and mqa_only == frozenset(), "class IDs differ"
    else:
        assert (pt_only, mqa_only) == (known.pt_only, known.mqa_only), known.why

    for checksum in frozenset(expected) & frozenset(actual):
        want, got = expected[checksum], actual[checksum]
        assert got["fingerprint"] == want["fingerprint"]
        assert got["count"] == want["query_count"], f"count of {checksum}"
        for pt_name, mqa_name in SUMS:
            want_sum = float(want["metrics"].get(pt_name, {}).get("sum", 0))
            got_sum = float(got["metrics"].get(mqa_name, {}).get("sum", 0))
            assert abs(got_sum - want_sum) <= 5e-7 + 1e-12 * abs(want_sum), f"{pt_name} sum of {checksum}"


def test_disagreements_name_real_fixtures() -> None:
    logs = {str(p.relative_to(FIXTURES)) for p in corpus_logs()}
    assert set(DISAGREEMENTS) <= logs
