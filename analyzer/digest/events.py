"""Events with their class, one by one (``mqa digest --format parquet --events``): the logs read
again, each kept event paired with the id of the class the digest put it in."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from analyzer.digest.filters import EventFilter
from analyzer.fingerprint.classifier import Fingerprinter, Mode
from analyzer.model import QueryEvent
from analyzer.sources.generallog import open_log_reader


def events_with_class(
    paths: Sequence[str], mode: Mode = "sqlglot", event_filter: EventFilter | None = None
) -> Iterator[tuple[QueryEvent, str]]:
    """Every event of ``paths`` that ``event_filter`` keeps, with its class id (the same id as
    the digest's: sqlglot describes each distinct fast key once)."""
    fp = Fingerprinter(mode)
    keep = event_filter.keeps if event_filter is not None and event_filter.active else None
    ids: dict[tuple[str, bool], str] = {}
    for path in paths:
        for event in open_log_reader(path).events():  # closes the log when done
            admin = event.admin
            key, tags = fp.key(event.query, admin)
            if keep is not None and not keep(event, tags):
                continue
            cid = ids.get((key, admin))
            if cid is None:
                if mode == "sqlglot" and not admin:
                    cid = fp.class_of(key).id
                else:
                    cid = fp.describe(key, event.query, admin).id
                ids[(key, admin)] = cid
            yield event, cid
