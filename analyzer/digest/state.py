"""A digest's mergeable state as bytes: every accumulator, exactly, so that a stored digest merges
with another as if both had been read in one pass.

The history store keeps each run's classes this way, and ``mqa history --merge`` folds stored
runs into one report without reading a log again.  The encoding is JSON (floats written with
``repr``, so they round-trip bit for bit) compressed with zstd: plain to inspect
(``zstd -dc``), compact (a class is a few hundred bytes), and with no schema compiler.
``STATE_VERSION`` names the layout; a reader refuses a layout it does not know.

>>> from analyzer.stats import GroupStats
>>> from analyzer.model import QueryEvent
>>> stats = GroupStats()
>>> stats.add(QueryEvent("SELECT 1", {"query_time": 0.25}, ts=1714557600.0, tz=0, user="app"))
>>> back = decode_stats(encode_stats(stats))
>>> stats_value(back) == stats_value(stats), back.metrics["query_time"].quantile(0.5)
(True, 0.25...)
"""

from __future__ import annotations

import io
import json
from array import array
from collections import Counter
from typing import Any

from analyzer.errors import InputError
from analyzer.model import ClassInfo, DigestResult, QueryClass, SourceSummary, plausible_time
from analyzer.stats import Buckets, Example, GroupStats, MetricStats, TimeBuckets

STATE_VERSION = 1


# --------------------------------------------------------------------------------------------
# Accumulators <-> JSON-able values
# --------------------------------------------------------------------------------------------


def _metric(m: MetricStats) -> list[Any]:
    return [m.n, m.total, m.min, m.max, m.shift, m.dsum, m.dsq, m.zeros, m.buckets.low, m.buckets.counts.tolist()]


# Readers of stored values: each returns the value with the type the accumulators need or raises
# TypeError/ValueError, which ``result_from_value`` turns into "damaged" (a state file is input).


def _count(v: Any) -> int:
    if type(v) is not int or v < 0:
        raise ValueError(f"not a count: {v!r}")
    return v


def _int(v: Any) -> int:
    if type(v) is not int:
        raise ValueError(f"not an integer: {v!r}")
    return v


def _num(v: Any) -> float:
    if type(v) not in (int, float) or v != v:
        raise ValueError(f"not a number: {v!r}")
    return float(v)


def _opt_num(v: Any) -> float | None:
    return None if v is None else _num(v)


def _opt_int(v: Any) -> int | None:
    return None if v is None else _int(v)


def _str(v: Any) -> str:
    if type(v) is not str:
        raise ValueError(f"not a string: {v!r}")
    return v


def _opt_str(v: Any) -> str | None:
    return None if v is None else _str(v)


def _bool(v: Any) -> bool:
    if type(v) is not bool:
        raise ValueError(f"not true or false: {v!r}")
    return v


def _counter(v: Any) -> Counter[str]:
    if type(v) is not dict:
        raise ValueError(f"not a mapping: {v!r}")
    return Counter({_str(k): _count(n) for k, n in v.items()})


def _list(v: Any) -> list[Any]:
    if type(v) is not list:
        raise ValueError(f"not a list: {v!r}")
    return v


def _metric_back(v: list[Any]) -> MetricStats:
    m = MetricStats()
    v = _list(v)
    m.n, m.zeros = _count(v[0]), _count(v[7])
    m.total, m.min, m.max, m.shift, m.dsum, m.dsq = (_num(x) for x in v[1:7])
    m.buckets = Buckets()
    m.buckets.low, m.buckets.counts = _int(v[8]), array("q", [_count(c) for c in _list(v[9])])
    if m.zeros > m.n:
        raise ValueError("more zero values than values")
    # the sketch's buckets cover the values a header can hold (below 2**63, above 1e-300)
    if not (m.buckets.low > -20_000 and m.buckets.low + len(m.buckets.counts) < 1_100):
        raise ValueError(f"a sketch out of range (bucket {m.buckets.low})")
    return m


def stats_value(s: GroupStats) -> dict[str, Any]:
    """``GroupStats`` as JSON-able values (every accumulator, nothing derived)."""
    out: dict[str, Any] = {
        "count": s.count,
        "metrics": {name: _metric(m) for name, m in s.metrics.items()},
        "histogram": list(s.histogram),
        "first": [s.first_ts, s.first_tz],
        "last": [s.last_ts, s.last_tz],
        "databases": dict(s.databases),
        "users": dict(s.users),
        "hosts": dict(s.hosts),
        "tags": dict(s.tags),
        "sources": dict(s.sources),
    }
    if s.example is not None:
        e = s.example
        out["example"] = [e.query, e.query_time, e.ts, e.tz, e.db, e.user, e.host, e.source, e.line, e.explain]
    if s.timeline.calls:
        keys = sorted(s.timeline.calls)
        out["timeline"] = [
            s.timeline.level,
            keys,
            [s.timeline.calls[k] for k in keys],
            [s.timeline.times[k] for k in keys],
        ]
    return out


def stats_from_value(v: dict[str, Any]) -> GroupStats:
    s = GroupStats()
    s.count = _count(v["count"])
    s.metrics = {_str(name): _metric_back(m) for name, m in v["metrics"].items()}
    s.histogram = [_count(n) for n in _list(v["histogram"])]
    if len(s.histogram) != len(GroupStats().histogram):
        raise ValueError("a histogram of another size")
    first, last = _list(v["first"]), _list(v["last"])
    s.first_ts, s.first_tz = _opt_num(first[0]), _opt_int(first[1])
    s.last_ts, s.last_tz = _opt_num(last[0]), _opt_int(last[1])
    for ts in (s.first_ts, s.last_ts):
        if ts is not None and not plausible_time(ts):
            raise ValueError(f"an impossible time {ts!r}")
    s.databases, s.users, s.hosts, s.tags = (_counter(v[k]) for k in ("databases", "users", "hosts", "tags"))
    s.sources = _counter(v.get("sources", {}))  # not in states written before the per-class sources
    if "example" in v:
        e = _list(v["example"])
        if len(e) != 10:
            raise ValueError("an example of another shape")
        s.example = Example(
            _str(e[0]),
            _num(e[1]),
            _opt_num(e[2]),
            _opt_int(e[3]),
            _opt_str(e[4]),
            _opt_str(e[5]),
            _opt_str(e[6]),
            _opt_str(e[7]),  # type: ignore[arg-type]
            _opt_int(e[8]),  # type: ignore[arg-type]
            None if e[9] is None else [_str(line) for line in _list(e[9])],
        )
    if "timeline" in v:
        level, keys, calls, times = _list(v["timeline"])
        s.timeline = TimeBuckets()
        s.timeline.level = _count(level)
        keys = [_int(k) for k in _list(keys)]
        if s.timeline.level > 40 or any(abs(k) >= 2**33 for k in keys):
            raise ValueError("a time-line out of range")
        s.timeline.calls = dict(zip(keys, (_count(c) for c in _list(calls)), strict=True))
        s.timeline.times = dict(zip(keys, (_num(t) for t in _list(times)), strict=True))
    return s


def _info(i: ClassInfo) -> list[Any]:
    return [i.id, i.fingerprint, i.kind, list(i.tables), i.parsed, i.parse_error, i.key]


def _info_back(v: list[Any]) -> ClassInfo:
    v = _list(v)
    return ClassInfo(
        _str(v[0]), _str(v[1]), _str(v[2]), tuple(_str(t) for t in _list(v[3])), _bool(v[4]), _opt_str(v[5]), _str(v[6])
    )


def class_value(c: QueryClass) -> dict[str, Any]:
    """A class: what it is, its statistics, and what its source knows beyond them."""
    out: dict[str, Any] = {
        "info": _info(c.info),
        "pt_id": c.pt_id,
        "keys": c.keys,
        "admin": c.admin,
        "stats": stats_value(c.stats),
    }
    if c.distribution is not None:
        out["distribution"] = stats_value(c.distribution)
    bounds = sorted(name for name in c.stats.metrics if not c.known_bounds(name))
    if bounds:
        out["unknown_bounds"] = bounds
    details = c.details()
    if details:
        out["details"] = details
    return out


def class_from_value(v: dict[str, Any]) -> QueryClass:
    cls = StoredClass(
        _info_back(v["info"]),
        stats_from_value(v["stats"]),
        _str(v["pt_id"]),
        _count(v["keys"]),
        _bool(v["admin"]),
        stats_from_value(v["distribution"]) if "distribution" in v else None,
    )
    cls.unknown_bounds = frozenset(_str(b) for b in _list(v.get("unknown_bounds", [])))
    cls.extra = v.get("details", {})
    if type(cls.extra) is not dict:
        raise ValueError("details that are not a mapping")
    return cls


class StoredClass(QueryClass):
    """A class read back from stored state: what its source said about its bounds and details
    travels with it (a performance_schema class keeps sums only)."""

    unknown_bounds: frozenset[str] = frozenset()
    extra: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance, never mutated

    def known_bounds(self, metric: str) -> bool:
        return metric not in self.unknown_bounds

    def details(self) -> dict[str, Any]:
        return self.extra


def source_value(s: SourceSummary) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "name": s.name,
        "events": s.events,
        "kept": s.kept,
        "malformed": s.malformed,
        "malformed_samples": [[m.source, m.line, m.reason] for m in s.malformed_samples],
        "dialect": s.dialect,
        "compression": s.compression,
        "bytes": s.bytes,
        "flag_metrics": sorted(s.flag_metrics),
        "flavor_hints": sorted(s.flavor_hints),
        "server_version": s.server_version,
    }


def source_from_value(v: dict[str, Any]) -> SourceSummary:
    from analyzer.model import Malformed

    return SourceSummary(
        kind=_str(v["kind"]),
        name=_str(v["name"]),
        events=_count(v["events"]),
        kept=_count(v["kept"]),
        malformed=_count(v["malformed"]),
        malformed_samples=[Malformed(_str(m[0]), _count(m[1]), _str(m[2])) for m in _list(v["malformed_samples"])],
        dialect=_str(v["dialect"]),
        compression=_opt_str(v["compression"]),
        bytes=None if v["bytes"] is None else _count(v["bytes"]),
        flag_metrics=frozenset(_str(f) for f in _list(v["flag_metrics"])),
        flavor_hints=frozenset(_str(f) for f in _list(v["flavor_hints"])),
        server_version=_opt_str(v["server_version"]),
    )


def _route_value(r: Any) -> list[Any]:
    return [
        r.route,
        r.inferred,
        r.requests,
        _metric(r.statements),
        _metric(r.time),
        [[k, _metric(m)] for k, m in r.shapes.items()],
    ]


def _route_back(v: list[Any]) -> Any:
    from analyzer.digest.requests import RouteRequests

    v = _list(v)
    r = RouteRequests(_str(v[0]), _bool(v[1]), _count(v[2]), _metric_back(v[3]), _metric_back(v[4]))
    r.shapes = {_str(k): _metric_back(m) for k, m in _list(v[5])}
    return r


def views_value(r: DigestResult) -> dict[str, Any]:
    """The per-request and per-group views (by class id), as JSON-able values."""
    out: dict[str, Any] = {"requests": [_route_value(x) for x in r.requests]}
    if r.groups is not None:
        g = r.groups
        out["groups"] = {
            "by": g.by,  # type: ignore[attr-defined]
            "parts": [
                [value, key, p.count, _metric(p.query_time), p.rows_examined, p.rows_sent]
                for (value, key), p in g.parts.items()  # type: ignore[attr-defined]
            ],
        }
    return out


def views_from_value(result: DigestResult, v: dict[str, Any]) -> None:
    from analyzer.digest.groups import GroupAccumulator, GroupPart

    result.requests = [_route_back(x) for x in _list(v.get("requests", []))]
    if "groups" in v:
        g = GroupAccumulator(_str(v["groups"]["by"]))
        g.parts = {
            (_str(p[0]), _str(p[1])): GroupPart(_count(p[2]), _metric_back(p[3]), _num(p[4]), _num(p[5]))
            for p in _list(v["groups"]["parts"])
        }
        result.groups = g


def result_value(r: DigestResult) -> dict[str, Any]:
    return {
        "state_version": STATE_VERSION,
        "mode": r.mode,
        "classes": [class_value(c) for c in r.classes],
        "sources": [source_value(s) for s in r.sources],
        "totals": stats_value(r.totals),
        "notes": list(r.notes),
        "views": views_value(r),
    }


def result_from_value(v: dict[str, Any]) -> DigestResult:
    """The digest a stored value holds; ``InputError`` when it is of another version or damaged
    (every value is checked for the type and range its accumulator needs)."""
    version = v.get("state_version") if type(v) is dict else None
    if version != STATE_VERSION:
        raise InputError(f"digest state version {version!r}: this mqa reads version {STATE_VERSION}")
    try:
        mode = _str(v["mode"])
        if mode not in ("sqlglot", "pt"):
            raise ValueError(f"unknown fingerprint mode {mode!r}")
        result = DigestResult(
            mode,
            [class_from_value(c) for c in _list(v["classes"])],
            [source_from_value(s) for s in _list(v["sources"])],
            stats_from_value(v["totals"]),
            0.0,
            [_str(n) for n in _list(v["notes"])],
        )
        views = v.get("views", {})
        if type(views) is not dict:
            raise ValueError("views that are not a mapping")
        views_from_value(result, views)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise InputError(f"stored digest state is damaged ({type(exc).__name__}: {str(exc)[:120]})") from None
    return result


# --------------------------------------------------------------------------------------------
# Bytes
# --------------------------------------------------------------------------------------------


def pack(value: Any) -> bytes:
    """JSON, zstd-compressed (floats as ``repr``: exact)."""
    import zstandard

    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    return zstandard.ZstdCompressor(level=6).compress(text.encode("utf-8", "surrogatepass"))


def unpack(data: bytes) -> Any:
    import zstandard

    try:
        # streamed: a damaged frame header may claim any size, which decompress() would allocate
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
            raw = reader.read()
        declared = zstandard.frame_content_size(data)
        if declared >= 0 and len(raw) != declared:
            raise ValueError(f"cut short: {len(raw):,} of {declared:,} bytes")
        return json.loads(raw.decode("utf-8", "surrogatepass"))
    except (zstandard.ZstdError, UnicodeDecodeError, ValueError, MemoryError, RecursionError) as exc:
        raise InputError(f"stored digest state is damaged ({type(exc).__name__}: {str(exc)[:120]})") from None


def encode_stats(stats: GroupStats) -> bytes:
    return pack(stats_value(stats))


def decode_stats(data: bytes) -> GroupStats:
    return stats_from_value(unpack(data))


def encode_result(result: DigestResult) -> bytes:
    return pack(result_value(result))


def decode_result(data: bytes) -> DigestResult:
    return result_from_value(unpack(data))


# --------------------------------------------------------------------------------------------
# State files (``mqa digest --save-state FILE``): inputs like logs, recognized by content
# --------------------------------------------------------------------------------------------

# A state file is one header line, then the zstd-compressed JSON of ``result_value``:
#     MQA-STATE 1\n<zstd frame>
# The header names the file's layout (``STATE_FILE_VERSION``); the JSON its own
# (``state_version``).  No slow log, general log or compressed file starts with it.
STATE_MAGIC = b"MQA-STATE "
STATE_FILE_VERSION = 1


def state_file_bytes(result: DigestResult) -> bytes:
    """A digest as the bytes of a state file (header line + ``encode_result``)."""
    return STATE_MAGIC + str(STATE_FILE_VERSION).encode() + b"\n" + encode_result(result)


def is_state_file(path: str) -> bool:
    """Whether ``path`` is an mqa state file, by its first bytes (never stdin; a file that cannot
    be opened is not one: reading it as a log reports why)."""
    import os

    from analyzer.sources.inputs import is_url

    if path == "-" or not (is_url(path) or os.path.isfile(path)):  # a FIFO or a device is read once, as a log
        return False
    try:
        from analyzer.sources.inputs import open_raw

        with open_raw(path) as handle:
            return handle.read(len(STATE_MAGIC)) == STATE_MAGIC
    except (OSError, InputError):
        return False


def read_state_file(path: str) -> DigestResult:
    """A state file's digest; ``InputError`` (one line, naming the file) when it is damaged,
    truncated, not a state file, or written in a layout this mqa does not read."""
    from analyzer.sources.inputs import open_raw

    try:
        with open_raw(path) as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return state_from_bytes(data, path)


def state_from_bytes(data: bytes, name: str = "state") -> DigestResult:
    if not data.startswith(STATE_MAGIC):
        raise InputError(f"{name}: not an mqa state file (no MQA-STATE header)")
    header, newline, payload = data.partition(b"\n")
    word = header[len(STATE_MAGIC) :]
    if not newline or not word.isdigit():
        raise InputError(f"{name}: damaged state file (its header line is cut or garbled)")
    version = int(word)
    if version > STATE_FILE_VERSION:
        raise InputError(
            f"{name}: state file version {version} was written by a newer mqa (this one reads version "
            f"{STATE_FILE_VERSION}): upgrade mqa, or digest the logs again"
        )
    if version < STATE_FILE_VERSION:
        raise InputError(
            f"{name}: state file version {version} was written by an older mqa (this one reads version "
            f"{STATE_FILE_VERSION}): digest the logs again with --save-state"
        )
    try:
        value = unpack(payload)
    except InputError as exc:
        raise InputError(f"{name}: damaged state file ({_cause(exc)})") from None
    if not isinstance(value, dict):
        raise InputError(f"{name}: damaged state file (not a digest)")
    stored = value.get("state_version")
    if stored != STATE_VERSION:
        older = isinstance(stored, int) and stored < STATE_VERSION
        raise InputError(
            f"{name}: digest state version {stored!r} was written by {'an older' if older else 'another'} mqa "
            f"(this one reads version {STATE_VERSION}): digest the logs again with --save-state"
        )
    try:
        return result_from_value(value)
    except InputError as exc:  # a value of the wrong type or out of range
        raise InputError(f"{name}: damaged state file ({_cause(exc)})") from None


def rename_sources(result: DigestResult, name: str, only: set[str] | None = None) -> None:
    """Call the inputs of ``result`` (those named in ``only``, default all) ``name``
    (``--source-name``: the host a copied log came from), in its summaries, its classes' sources
    and examples."""
    old = {s.name for s in result.sources if only is None or s.name in only}
    for source in result.sources:
        if source.name in old:
            source.name = name
    for stats in [c.stats for c in result.classes] + [result.totals]:
        moved = sum(n for k, n in stats.sources.items() if k in old)
        for k in old:
            stats.sources.pop(k, None)
        if moved:
            stats.sources[name] += moved
        if stats.example is not None and stats.example.source in old:
            stats.example.source = name


def _cause(exc: InputError) -> str:
    text = str(exc)
    inner = text.partition("(")[2].rpartition(")")[0]
    return " ".join((inner or text).split())


def merge_results(results: list[DigestResult]) -> DigestResult:
    """Several digests (of the same fingerprint mode) as one: classes with the same id and kind
    merge exactly, sources are listed together, notes kept once each."""
    if not results:
        raise ValueError("nothing to merge")
    mode = results[0].mode
    if any(r.mode != mode for r in results):
        raise InputError("cannot merge digests made with different fingerprint modes")
    by_id: dict[tuple[str, bool], QueryClass] = {}
    totals = GroupStats()
    sources: list[SourceSummary] = []
    notes: list[str] = []
    for r in results:
        for c in r.classes:
            mine = by_id.get((c.id, c.admin))
            if mine is None:
                stats = GroupStats()
                stats.merge(c.stats)
                mine = by_id[(c.id, c.admin)] = StoredClass(c.info, stats, c.pt_id, c.keys, c.admin, None)
                mine.unknown_bounds = frozenset(n for n in c.stats.metrics if not c.known_bounds(n))
                mine.extra = c.details()
            else:
                mine.stats.merge(c.stats)
                mine.keys = max(mine.keys, c.keys)
                if c.stats.example is not None and mine.stats.example is c.stats.example:
                    mine.pt_id = c.pt_id  # the class's id follows its example, as in one pass
                mine.unknown_bounds |= frozenset(n for n in c.stats.metrics if not c.known_bounds(n))
            if c.distribution is not None:
                if mine.distribution is None:
                    mine.distribution = GroupStats()
                mine.distribution.merge(c.distribution)
        totals.merge(r.totals)
        sources.extend(r.sources)
        notes.extend(n for n in r.notes if n not in notes)
    merged = DigestResult(mode, list(by_id.values()), sources, totals, sum(r.elapsed for r in results), notes)
    import copy

    routes: dict[tuple[str, bool], Any] = {}
    for r in results:
        for route in r.requests:
            mine = routes.get((route.route, route.inferred))
            if mine is None:
                routes[(route.route, route.inferred)] = copy.deepcopy(route)
            else:
                mine.merge(route)
    merged.requests = sorted(routes.values(), key=lambda x: -x.time.total)
    groups = [r.groups for r in results if r.groups is not None]
    if groups and all(g.by == groups[0].by for g in groups):  # type: ignore[attr-defined]
        merged.groups = copy.deepcopy(groups[0])
        for other in groups[1:]:
            merged.groups.merge(copy.deepcopy(other))  # type: ignore[attr-defined]
    return merged
