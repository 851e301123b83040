"""The digest layer: events in, query classes with statistics out.

    events = SlowLogReader(...).events()         # one pass, streamed
    key, tags = fingerprinter.key(event.query)    # cheap, per event
    groups[key].add(event, tags)                  # mergeable accumulators
    ... then, once per distinct key:
    info = fingerprinter.describe(key, example)   # sqlglot, once
    classes[info.fingerprint].merge(groups[key])  # several fast keys can be one class

Modules: ``accumulator`` (the mergeable state: files, byte ranges or processes digested
separately merge exactly), ``logs`` (slow logs, sequentially or in parallel), ``parallel``
(worker processes over files and byte ranges), ``window`` (a performance_schema window's digests
as classes), ``combine`` (a window and a slow log of the same time), ``top`` (intervals of a
live server), ``filters`` (which events count).
"""

from analyzer.digest.accumulator import DigestAccumulator
from analyzer.digest.logs import ProgressCallback, digest_logs

__all__ = ["DigestAccumulator", "ProgressCallback", "digest_logs"]
