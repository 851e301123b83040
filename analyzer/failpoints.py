"""Fault injection for tests: ``MQA_FAILPOINTS="history.commit=kill"`` makes the process die at the
named point as ``kill -9`` would kill it (or ``=sleep(2)`` pause there), so a test can prove that
a run killed at the worst moment leaves nothing half-done.  Unset (always, outside tests), a
failpoint costs one dictionary lookup.

Points: ``history.commit`` (the run's rows are written, the transaction not yet committed),
``report.rename`` (the history is committed, the report files not yet renamed into place),
``advise.explain`` (before each class's EXPLAIN), ``verify.class`` (before each class is explained
or measured on the scratch copy).
"""

from __future__ import annotations

import os
import signal
import time


def failpoint(name: str) -> None:
    spec = os.environ.get("MQA_FAILPOINTS")
    if not spec:
        return
    for item in spec.split(","):
        point, _, action = item.partition("=")
        if point.strip() != name:
            continue
        action = action.strip()
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif action.startswith("sleep"):
            time.sleep(float(action[len("sleep") :].strip("() ") or 1))
