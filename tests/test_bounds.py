"""Long input stays correct when it is handled in bounded pieces (the time and memory it takes are
measured by ``tests/benchmarks/run_bounds.py``, not here)."""

from __future__ import annotations

import io

from analyzer.fingerprint.fastkey import LONG_STATEMENT, fast_key
from analyzer.sources.inputs import LogInput, iter_text_blocks


def test_a_long_bulk_insert_or_in_list_is_the_class_of_a_short_one() -> None:
    rows = "(1, 'abc', 2.5), " * (LONG_STATEMENT // 8)
    long_insert = f"INSERT INTO t (a, b, c) VALUES {rows}(1, 'x', 2)"
    assert len(long_insert) > LONG_STATEMENT
    assert fast_key(long_insert) == fast_key("INSERT INTO t (a, b, c) VALUES (1, 'x', 2), (3, 'y', 4)")
    ids = ", ".join(["12345"] * (LONG_STATEMENT // 5))
    assert fast_key(f"SELECT a FROM t WHERE id IN ({ids})") == fast_key("SELECT a FROM t WHERE id IN (1, 2)")
    cut_in_string = "SELECT '" + "x" * (2 * LONG_STATEMENT) + "' FROM t"
    assert fast_key(cut_in_string)[0] == "SELECT ?"


def test_a_line_longer_than_many_reads_comes_out_whole() -> None:
    line = b"SELECT '" + b"#-- '\"*/ " * 50_000 + b"'\n"
    data = b"# Time: 1\n" + line + b"SELECT 2;\nno line end at the end"
    stream = io.BytesIO(data)
    log = LogInput("mem.log", stream, None, len(data), stream)
    blocks = list(iter_text_blocks(log, block_size=4096))
    assert "".join(blocks) == data.decode()
    assert all(b.endswith("\n") for b in blocks[:-1])
