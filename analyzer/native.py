"""mqa's optional compiled fast paths (``analyzer/_speedups.c``), or None.

Each compiled function is the exact equivalent of a pure-Python path that stays the reference:
it returns what that path returns, or None to hand the case back.  ``MQA_PURE_PYTHON=1`` turns
them off (the tests compare both ways); a build without a C compiler has none.
"""

from __future__ import annotations

import os
from types import ModuleType


def _load() -> ModuleType | None:
    if os.environ.get("MQA_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from analyzer import _speedups
    except ImportError:
        return None
    return _speedups


speedups: ModuleType | None = _load()
