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


@pytest.fixture(scope="session")
def server():
    """The real MySQL/MariaDB server of this test session (see tests/servers.py).

    Tests that use it are marked ``server``; without a server they skip, in CI they fail.
    """
    from tests.servers import NoServer, start_test_server

    try:
        test_server = start_test_server()
    except NoServer as exc:
        if IN_CI:
            pytest.fail(f"no test server: {exc}")
        pytest.skip(f"no test server: {exc}")
    yield test_server
    test_server.close()


def pytest_collection_modifyitems(config, items):
    """Every test that asks for the server is a server test (``-m "not server"`` skips them)."""
    for item in items:
        if "server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.server)


def pytest_addoption(parser):
    parser.addoption(
        "--record-golden",
        action="store_true",
        default=False,
        help="record tests/fixtures/golden again (needs the test server) instead of comparing",
    )
    parser.addoption(
        "--rewrite-golden-outputs",
        action="store_true",
        default=False,
        help="rewrite the golden outputs from the recorded server answers (a deliberate change of "
        "the JSON; no server needed) instead of comparing",
    )
