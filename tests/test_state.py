"""The digest's state as bytes (``analyzer.digest.state``): a stored digest reads back to the same
report, and stored digests of parts merge into the digest of the whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.digest import digest_logs
from analyzer.digest.state import decode_result, encode_result, merge_results
from analyzer.errors import InputError
from analyzer.report.digest import build_report
from tests.conftest import FIXTURES, REPO

SAMPLE = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")


def _json(result, **kwargs) -> dict:
    doc = build_report(result, limit=None, **kwargs).to_json_dict()
    doc.pop("generated_at")
    return doc


def test_a_stored_digest_reads_back_to_the_same_report() -> None:
    result = digest_logs([SAMPLE])
    data = encode_result(result)
    assert len(data) < 200_000  # 87 classes with every accumulator, compressed
    assert _json(decode_result(data)) == _json(result)


def test_a_performance_schema_like_class_keeps_its_unknown_bounds() -> None:
    from analyzer.digest.state import class_from_value, class_value

    result = digest_logs([SAMPLE])
    cls = result.classes[0]
    cls.known_bounds = lambda metric: metric == "query_time"  # type: ignore[method-assign]
    back = class_from_value(json.loads(json.dumps(class_value(cls))))
    assert back.known_bounds("query_time") and not back.known_bounds("rows_examined")


def _split_log(path: Path, parts: int, tmp_path: Path) -> list[str]:
    """The log cut at event headers into ``parts`` files."""
    lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("# Time:")]
    cuts = [starts[len(starts) * k // parts] for k in range(1, parts)]
    out = []
    for k, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(lines)])):
        part = tmp_path / f"part{k}.log"
        part.write_text("".join(lines[a:b]), encoding="utf-8", errors="surrogateescape")
        out.append(str(part))
    return out


@pytest.mark.parametrize("log", ["slow006.txt", "slow033.txt"])
def test_stored_parts_merge_into_the_whole(tmp_path: Path, log: str) -> None:
    path = FIXTURES / "percona-toolkit" / "t" / "lib" / "samples" / "slowlogs" / log
    parts = _split_log(path, 3, tmp_path)
    stored = [decode_result(encode_result(digest_logs([p]))) for p in parts]
    merged, whole = _json(merge_results(stored)), _json(digest_logs([str(path)]))
    assert merged["summary"] == whole["summary"]
    assert [c["id"] for c in merged["classes"]] == [c["id"] for c in whole["classes"]]
    for got, want in zip(merged["classes"], whole["classes"]):
        for field in (
            "count",
            "metrics",
            "histogram",
            "databases",
            "users",
            "hosts",
            "first_seen",
            "last_seen",
            "example",
            "timeline",
            "pt_id",
        ):
            assert got.get(field) == want.get(field), (got["id"], field)


def test_damaged_or_unknown_state_is_an_input_error() -> None:
    from analyzer.digest.state import pack

    with pytest.raises(InputError, match="damaged"):
        decode_result(b"not zstd at all")
    with pytest.raises(InputError, match="version 99"):
        decode_result(pack({"state_version": 99}))
