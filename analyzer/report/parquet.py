"""The digest as Parquet (``mqa digest --format parquet``), for DuckDB, pandas, Spark, ...

``classes.parquet``: one row per class, the JSON report's class fields as columns (the metrics
flattened to ``<metric>_<figure>``, e.g. ``query_time_p95``); ``events.parquet`` (``--events``):
one row per event with its class id, time, database, user, host, source and every metric.
Column lists: ``CLASS_COLUMNS``, ``EVENT_COLUMNS`` and the README.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from analyzer.errors import UsageError
from analyzer.model import QueryEvent
from analyzer.report.digest import Report

# Per class, before the metric columns (in this order).
CLASS_COLUMNS = (
    "id",
    "pt_id",
    "fingerprint",
    "example",
    "count",
    "first_seen",
    "last_seen",
    "databases",
    "users",
    "hosts",
    "tags",
    "tables",
    "rank",
    "kind",
    "parsed",
    "parse_error",
    "share",
    "qps",
    "variants",
    "sources",
    "source_count",
    "histogram",
)
# The type of each class column that is not a string: "counts" a map of name to count.
_CLASS_KINDS = {
    **dict.fromkeys(("databases", "users", "hosts", "tags", "sources", "histogram"), "counts"),
    **dict.fromkeys(("count", "rank", "variants", "source_count"), "int"),
    **dict.fromkeys(("share", "qps"), "float"),
    "parsed": "bool",
    "tables": "list",
}
METRIC_FIGURES = ("count", "sum", "min", "max", "avg", "p50", "p95", "p99", "stddev")
# Per event, before one float column per metric (query_time, lock_time, rows_sent, ...).
EVENT_COLUMNS = ("ts", "class_id", "database", "user", "host", "source", "line", "thread_id")
EVENT_BATCH = 65_536


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - a dependency
        raise UsageError("--format parquet needs pyarrow: pip install pyarrow") from None
    return pa, pq


def class_table(report: Report):
    """A pyarrow table of the report's classes (every class of the report)."""
    pa, _ = _pyarrow()
    classes = report.to_json_dict()["classes"]
    kinds = {
        "counts": pa.map_(pa.string(), pa.int64()),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "list": pa.list_(pa.string()),
    }
    fields: list[tuple[str, Any]] = [
        (name, kinds.get(_CLASS_KINDS.get(name, ""), pa.string())) for name in CLASS_COLUMNS
    ]
    metrics: list[str] = []
    for c in classes:
        metrics += [m for m in c["metrics"] if m not in metrics]
    columns: dict[str, list[Any]] = {name: [] for name, _ in fields}
    for c in classes:
        for name, _ in fields:
            if name == "source_count":
                value: Any = len(c["sources"])
            elif _CLASS_KINDS.get(name) == "counts":
                value = list(c[name].items())
            else:
                value = c[name]
            columns[name].append(value)
    for m in metrics:
        for figure in METRIC_FIGURES:
            name = f"{m}_{figure}"
            fields.append((name, pa.int64() if figure == "count" else pa.float64()))
            columns[name] = [None if c["metrics"].get(m) is None else c["metrics"][m][figure] for c in classes]
    schema = pa.schema(fields, metadata={"mqa.schema_version": "1", "mqa.order_by": report.order_by})
    return pa.table(columns, schema=schema)


def write_classes(report: Report, path: str) -> int:
    """``classes.parquet`` at ``path``; returns the number of rows."""
    _, pq = _pyarrow()
    table = class_table(report)
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


def write_events(rows: Iterable[tuple[QueryEvent, str]], metrics: Sequence[str], path: str) -> int:
    """``events.parquet`` at ``path`` from (event, class id) pairs, in batches; returns the rows."""
    pa, pq = _pyarrow()
    schema = pa.schema(
        [
            ("ts", pa.timestamp("us", tz="UTC")),
            ("class_id", pa.string()),
            ("database", pa.string()),
            ("user", pa.string()),
            ("host", pa.string()),
            ("source", pa.string()),
            ("line", pa.int64()),
            ("thread_id", pa.string()),
            *((m, pa.float64()) for m in metrics),
        ]
    )
    written = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        batch: list[tuple[QueryEvent, str]] = []

        def flush() -> None:
            columns: list[list[Any]] = [
                [None if e.ts is None else round(e.ts * 1_000_000) for e, _ in batch],
                [cid for _, cid in batch],
                [e.db for e, _ in batch],
                [e.user for e, _ in batch],
                [e.host for e, _ in batch],
                [e.source for e, _ in batch],
                [e.line for e, _ in batch],
                [e.thread_id for e, _ in batch],
                *([e.metrics.get(m) for e, _ in batch] for m in metrics),
            ]
            writer.write_batch(pa.record_batch(columns, schema=schema))

        for row in rows:
            batch.append(row)
            if len(batch) >= EVENT_BATCH:
                flush()
                written += len(batch)
                batch = []
        if batch:
            flush()
            written += len(batch)
    return written
