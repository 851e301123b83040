"""Digesting on a Dask cluster (``mqa digest --engine dask``): the work units of a parallel
digest (whole files, byte ranges of large plain slow logs; ``parallel.plan``) run as tasks on
the cluster's workers, and this process merges their partial states exactly as a local
parallel digest does (``parallel._reconcile``, ``parallel._merge_in_order``): same classes,
same counts, sums and percentiles.

Each worker opens the inputs itself: a local path must be visible to every worker under the
same name (a shared file system), an fsspec URL (``s3://...``) needs the backend on every
worker.  Needs the ``dask`` extra (``pip install 'mysql-query-analyzer[dask]'``).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence

from analyzer.digest import parallel
from analyzer.digest.accumulator import DigestAccumulator
from analyzer.digest.filters import EventFilter
from analyzer.digest.views import Views
from analyzer.errors import InputError, UsageError
from analyzer.fingerprint.classifier import Mode
from analyzer.model import DigestResult

# Called with (unit, worker address, worker process id) as each unit comes back.
UnitCallback = Callable[[parallel.Unit, str, int], None]


def _run_unit(index: int, unit: parallel.Unit, mode: Mode, event_filter, views) -> tuple:
    """On a worker: digest one unit (grouped by fast key, like a local parallel unit) and say
    which worker did it."""
    from distributed import get_worker

    result = parallel._digest_unit(index, unit, mode, event_filter, None, views, True)
    return result, get_worker().address, os.getpid()


def _client(scheduler: str | None, workers: int | None):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--engine dask needs dask and distributed: pip install 'mysql-query-analyzer[dask]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="15s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect ({' '.join(str(exc).split())})") from None
    cluster = LocalCluster(
        n_workers=workers or parallel.default_workers(),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=50,  # logging.CRITICAL: the report's stderr stays the progress bar's
    )
    return Client(cluster), cluster


def digest_on_dask(
    paths: Sequence[str],
    *,
    scheduler: str | None = None,
    mode: Mode = "sqlglot",
    event_filter: EventFilter | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    views: Views | None = None,
    workers: int | None = None,
    on_unit: UnitCallback | None = None,
) -> DigestResult:
    """``digest_logs`` with the units read by a Dask cluster's workers (``scheduler``: its
    address; None starts a local cluster of ``workers`` processes).  State files among the
    inputs are read here and merged, as by ``digest_logs``."""
    from analyzer.digest import logs as logs_module
    from analyzer.digest.state import is_state_file

    started = time.perf_counter()
    if "-" in paths:
        raise UsageError("--engine dask reads files and URLs, not stdin (-): the workers cannot see it")
    stored = [p for p in paths if is_state_file(p)]
    if stored:
        return logs_module._with_states(
            paths,
            stored,
            mode,
            event_filter,
            started,
            lambda rest: digest_on_dask(
                rest,
                scheduler=scheduler,
                mode=mode,
                event_filter=event_filter,
                progress=progress,
                views=views,
                workers=workers,
                on_unit=on_unit,
            ),
        )
    from analyzer.sources.generallog import log_kind

    logs_module._same_kind({path: log_kind(path) for path in paths})
    client, cluster = _client(scheduler, workers)
    try:
        slots = max(2, sum(client.nthreads().values()) or 1)
        units = parallel.plan(paths, slots, event_filter)
        total = parallel.total_bytes(units)
        token = uuid.uuid4().hex[:8]
        futures = {
            client.submit(
                _run_unit, index, unit, mode, event_filter, views, key=f"mqa-unit-{token}-{index}", pure=False
            ): index
            for index, unit in enumerate(units)
        }
        from distributed import as_completed

        results: dict[int, parallel.UnitResult] = {}
        done = 0
        if progress is not None:
            progress(0, total)
        for future in as_completed(futures):
            index = futures[future]
            result, address, pid = future.result()  # re-raises a worker's error (an InputError) here
            results[index] = result
            if on_unit is not None:
                on_unit(units[index], address, pid)
            done += units[index].byte_count
            if progress is not None:
                progress(done, total)
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    units, results = parallel._reconcile(units, results, mode, event_filter, views)
    merged = DigestAccumulator(mode, event_filter, views)
    parallel._merge_in_order(merged, units, results)
    return logs_module._checked(merged.result(started))
