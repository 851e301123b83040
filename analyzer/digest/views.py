"""What a digest measures beyond the classes: the per-request view (always, when statements carry
request ids; per-connection bursts when asked) and the per-group view (``--group-by``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Views:
    group_by: str | None = None  # tag:KEY | db | user | host | table | source
    request_tag: str | None = None  # a comment tag holding a request id (default: traceparent)
    route_tag: str = "route"  # the comment tag naming the endpoint
    infer_requests: bool = False  # without request ids, group each connection's statements into bursts
