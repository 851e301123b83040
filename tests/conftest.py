"""Shared test helpers.

Tools the suite relies on (pt-query-digest, pt-fingerprint, a MariaDB/MySQL server) are
installed by the test command (scripts/test.sh).  Without them a test skips on a developer's
machine, but in CI (``CI=true``) a missing tool is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_executable(name: str, hint: str) -> str:
    """Path of an executable the test needs; skip without it, fail without it in CI."""
    path = shutil.which(name) or next(
        (str(p) for d in ("/usr/bin", "/usr/sbin", "/usr/local/bin") if (p := Path(d) / name).exists()), None
    )
    if path is None:
        message = f"{name} is not installed ({hint})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path
