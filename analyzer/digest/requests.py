"""Per request: the statements of one application request, grouped by its request id, and what
one call of each endpoint (route) costs the database.

A request id is the trace id of the W3C ``traceparent`` that sqlcommenter adds to every
statement of a traced request (``traceparent='00-<trace id>-<span id>-01'``), or the value of a
comment tag named by ``--request-tag``.  Per route (the ``route`` tag, or ``--route-tag``):
requests seen, statements and database time per request (p50, p95, max), and the statement
shapes repeated within one request, the N+1 pattern (``GET /products/:id`` runs the reviews
lookup 48 times per request), with how often per request.

Without request ids, statements are grouped by connection into bursts (statements less than
``BURST_GAP`` seconds apart on one connection): the same figures, marked as inferred.

A request is complete when its id has not been seen for ``IDLE`` seconds of log time; memory
holds the open requests only.  Accumulators merge exactly across files, byte ranges and
processes: a request near the start or the end of a part may go on in the neighbouring part, so
it stays open there and is finished once the parts are merged in order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from analyzer.model import QueryEvent
from analyzer.stats import MetricStats

IDLE = 60.0  # seconds of log time after which a request is complete
BURST_GAP = 0.5  # seconds between statements of one connection that end an inferred request
_TRACEPARENT = re.compile(r"traceparent\s*=\s*'?\s*[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
NO_ROUTE = "(no route)"


def trace_id(query: str) -> str | None:
    """The trace id of a sqlcommenter ``traceparent`` in the statement's comments.

    >>> trace_id("SELECT 1 /*route='%2F',traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/")
    '4bf92f3577b34da6a3ce929d0e0e4736'
    """
    if "traceparent" not in query:
        return None
    m = _TRACEPARENT.search(query)
    return m.group(1) if m else None


@dataclass
class _Open:
    """A request being read: its route, statements and time so far."""

    route: str
    first: float
    last: float
    statements: int = 0
    time: float = 0.0
    shapes: Counter = field(default_factory=Counter)  # class key -> statements in this request

    def add(self, other: _Open) -> None:
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.statements += other.statements
        self.time += other.time
        self.shapes.update(other.shapes)
        if self.route == NO_ROUTE:
            self.route = other.route


@dataclass
class RouteRequests:
    """What one call of a route costs, over the requests seen."""

    route: str
    inferred: bool
    requests: int = 0
    statements: MetricStats = field(default_factory=MetricStats)  # per request
    time: MetricStats = field(default_factory=MetricStats)  # database time per request
    shapes: dict[Hashable, MetricStats] = field(default_factory=dict)  # class key -> statements per request

    def add(self, request: _Open) -> None:
        self.requests += 1
        self.statements.add(float(request.statements))
        self.time.add(request.time)
        for key, n in request.shapes.items():
            stats = self.shapes.get(key)
            if stats is None:
                stats = self.shapes[key] = MetricStats()
            stats.add(float(n))

    def merge(self, other: RouteRequests) -> None:
        self.requests += other.requests
        self.statements.merge(other.statements)
        self.time.merge(other.time)
        for key, stats in other.shapes.items():
            mine = self.shapes.get(key)
            if mine is None:
                mine = self.shapes[key] = MetricStats()
            mine.merge(stats)


class RequestAccumulator:
    """Per-request figures of an event stream (see the module's docstring)."""

    def __init__(self, *, request_tag: str | None = None, route_tag: str = "route", infer: bool = False) -> None:
        self.request_tag = request_tag + "=" if request_tag else None
        self.infer = infer  # group statements without a request id into bursts per connection
        self.route_tag = route_tag + "="
        self.open: dict[Hashable, _Open] = {}  # by request id, in order of last statement
        # Requests of the edge (below) that went idle: still open, kept apart so that each
        # statement does not walk past them again.  They come before ``open`` in the order
        # of last statement (``_pending``): they went idle before everything in it.
        self.parked: dict[Hashable, _Open] = {}
        self._parked_last = -math.inf  # the latest ``last`` among them
        self.routes: dict[tuple[str, bool], RouteRequests] = {}
        self.first_ts: float | None = None  # the part's first event time: requests that began
        self.edge: set[Hashable] = set()  # near it may have begun in the previous part
        self.traced = False  # request ids were seen (then bursts are not inferred)

    def _request(self, event: QueryEvent, tags: tuple[str, ...]) -> tuple[Hashable, bool] | None:
        rid: str | None = None
        if self.request_tag is not None:
            rid = next((t[len(self.request_tag) :] for t in tags if t.startswith(self.request_tag)), None)
        else:
            rid = trace_id(event.query)
        if rid is not None:
            return ("r", rid), False
        if not self.infer or event.thread_id is None or event.ts is None:
            return None
        return ("c", event.source, event.thread_id), True

    def add(self, event: QueryEvent, key: Hashable, tags: tuple[str, ...]) -> None:
        ts = event.ts
        if ts is None:
            return
        found = self._request(event, tags)
        if found is None:
            return
        rid, inferred = found
        if not inferred:
            self.traced = True
        if self.first_ts is None:
            self.first_ts = ts
        route = next((unquote(t[len(self.route_tag) :]) for t in tags if t.startswith(self.route_tag)), NO_ROUTE)
        request = self.open.get(rid)
        if request is None and self.parked:
            request = self._unpark(rid)
        if request is not None and inferred and ts - request.last > BURST_GAP:
            self._finish(rid)  # a pause on the connection: the burst is over
            request = None
        if request is None:
            request = self.open[rid] = _Open(route, ts, ts)
            if ts < self.first_ts + IDLE:
                self.edge.add(rid)
        else:
            self.open.pop(rid)  # move it to the end: the dict stays in order of last statement
            self.open[rid] = request
            request.last = max(request.last, ts)
            if request.route == NO_ROUTE:
                request.route = route
        request.statements += 1
        request.time += event.metrics.get("query_time", 0.0)
        request.shapes[key] += 1
        self._expire(ts)

    def _expire(self, now: float) -> None:
        """Finish the requests idle since ``now - IDLE``: those in order of last statement up
        to the first one that is not (an edge request stays open, see ``edge``)."""
        limit = now - IDLE
        if self._parked_last >= limit:
            return  # a parked request is not idle (log times go back): it stops the walk
        idle: list[Hashable] = []
        for rid, request in self.open.items():
            if request.last >= limit:
                break
            idle.append(rid)
        if not idle:
            return
        edge, parked = self.edge, self.parked
        for rid in idle:
            if rid in edge:  # may have begun in the previous part: finished when the parts merge
                request = parked[rid] = self.open.pop(rid)
                if request.last > self._parked_last:
                    self._parked_last = request.last
            else:
                self._finish(rid)

    def _unpark(self, rid: Hashable) -> _Open | None:
        """A parked request seen again: back into ``open`` (the caller moves it to the end)."""
        request = self.parked.pop(rid, None)
        if request is not None:
            self.open[rid] = request
            self._parked_last = max((r.last for r in self.parked.values()), default=-math.inf)
        return request

    def _pending(self) -> list[tuple[Hashable, _Open]]:
        """Every open request, parked ones included, in order of last statement."""
        return [*self.parked.items(), *self.open.items()]

    def _finish(self, rid: Hashable) -> None:
        request = self.open.pop(rid, None)
        if request is None:
            request = self.parked.pop(rid)
        self.edge.discard(rid)
        inferred = rid[0] == "c"  # type: ignore[index]
        routes = self.routes.get((request.route, inferred))
        if routes is None:
            routes = self.routes[(request.route, inferred)] = RouteRequests(request.route, inferred)
        routes.add(request)

    def merge(self, other: RequestAccumulator) -> None:
        """Fold the next part (in input order) into this one."""
        for k, routes in other.routes.items():
            mine = self.routes.get(k)
            if mine is None:
                self.routes[k] = routes
            else:
                mine.merge(routes)
        for rid, request in other._pending():
            mine_open = self.open.pop(rid, None)
            if mine_open is None and self.parked:
                mine_open = self._unpark(rid)
                if mine_open is not None:
                    del self.open[rid]
            if mine_open is not None:
                mine_open.add(request)
                request = mine_open
            self.open[rid] = request
        self.traced = self.traced or other.traced

    def finish(self) -> list[RouteRequests]:
        """Every request complete: the per-route figures (traced routes only, when any request
        id was seen; else the inferred bursts)."""
        for rid, _ in self._pending():
            self._finish(rid)
        out = [r for r in self.routes.values() if r.inferred != self.traced]
        return sorted(out, key=lambda r: -r.time.total)

    def wants(self, query: str) -> bool:
        """Whether ``add()`` has anything to do with a statement (cheap: most have no trace)."""
        return self.infer or self.request_tag is not None or "traceparent" in query

    def rekey(self, mapping: dict[Any, Hashable]) -> None:
        """Replace the class keys the shapes were counted by (``mapping``: key -> class id),
        merging the keys of one class."""
        for routes in self.routes.values():
            merged: dict[Hashable, MetricStats] = {}
            for key, stats in routes.shapes.items():
                target = mapping.get(key, key)
                mine = merged.get(target)
                if mine is None:
                    merged[target] = stats
                else:
                    mine.merge(stats)  # two spellings of a class counted apart: an approximation
            routes.shapes = merged
        for _, request in self._pending():
            shapes: Counter = Counter()
            for key, n in request.shapes.items():
                shapes[mapping.get(key, key)] += n
            request.shapes = shapes
