"""Shared test helpers.

Tools the suite relies on (pt-query-digest, pt-fingerprint, a MariaDB/MySQL server) are
installed by the test command (scripts/test.sh).  Without them a test skips on a developer's
machine, but in CI (``CI=true``) a missing tool is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"


def terminal_signals() -> None:
    """``preexec_fn`` of a child that a test interrupts as a terminal would: SIGINT and SIGQUIT
    back to their defaults (a test run started in the background of a non-interactive shell
    inherits them ignored, and Python then never turns Ctrl-C into KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def skip_or_fail(reason: str) -> NoReturn:
    """The one way a test gives up for something missing (a server, a server's files on this
    machine, a tool): a skip on a developer's machine, a failure in CI (``CI=true``), never a
    silent skip there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: what a test needs must be there)")
    pytest.skip(reason)


def require_executable(name: str, hint: str) -> str:
    """Path of an executable the test needs; skip without it, fail without it in CI."""
    path = shutil.which(name) or next(
        (str(p) for d in ("/usr/bin", "/usr/sbin", "/usr/local/bin") if (p := Path(d) / name).exists()), None
    )
    if path is None:
        skip_or_fail(f"{name} is not installed ({hint})")
    return path


def generate_slowlog(path: Path, *options: str, timeout: float = 300) -> Path:
    """Write a deterministic generated slow log to ``path`` (``generate_slowlog.py`` options, such as
    ``--events N``); the benchmarks' generator, run as its own process."""
    subprocess.run(
        [
            sys.executable,
            str(REPO / "tests" / "benchmarks" / "generate_slowlog.py"),
            *options,
            "--output",
            str(path),
            "--quiet",
        ],
        check=True,
        timeout=timeout,
    )
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
        skip_or_fail(f"no test server: {exc}")
    _TESTED_AGAINST.append(f"{test_server.flavor} {test_server.version} ({test_server.kind})")
    yield test_server
    test_server.close()


_TESTED_AGAINST: list[str] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say which server the run tested against (or that none was needed)."""
    if _TESTED_AGAINST:
        terminalreporter.write_line(f"mqa: tested against the server {', '.join(_TESTED_AGAINST)}")
    from tests import fuzzing

    for line in fuzzing.summary_lines():
        terminalreporter.write_line(line)
    fuzzing.save(REPO / "tests" / "artifacts")


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
