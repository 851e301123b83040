"""A password given in each supported way (the prompt, ``MYSQL_PWD``, an option file, a login
path, a DSN) appears in no output, no report file (JSON, HTML, Markdown), no history row, no
error message and no process title."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, skip_or_fail
from tests.servers import TestServer, slow_log_written
from tests.test_db import write_login_file

DB = "mqa_secrets"
USER = "mqa_secret_user"
PASSWORD = "Pa55-W0rd-Never-Shown-42"


@pytest.fixture(scope="module")
def account(server: TestServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sample_workloads.shop import workload

    if server.local is None:
        skip_or_fail("needs the server's slow log and socket on this machine")
    conn = server.admin()
    workload.load(conn, scale=0.02, seed=42, database=DB)
    conn.close()
    with slow_log_written(server, tmp_path_factory.mktemp("secrets") / "slow.log") as log:
        conn = server.admin(DB)
        workload.replay(conn, statements=300, seed=4, scale=0.02, database=DB, strict=False)
        conn.close()
    server.execute(
        f"DROP USER IF EXISTS '{USER}'@'localhost'",
        f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}'",
        f"GRANT SELECT, SHOW VIEW ON `{DB}`.* TO '{USER}'@'localhost'",
        f"GRANT SELECT ON performance_schema.* TO '{USER}'@'localhost'",
    )
    yield log
    server.execute(f"DROP USER IF EXISTS '{USER}'@'localhost'", f"DROP DATABASE IF EXISTS `{DB}`")


def _ways(server: TestServer, home: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    sock = server.local.socket
    option_file = home / "secret.cnf"
    option_file.write_text(f'[client]\nuser={USER}\npassword="{PASSWORD}"\nsocket={sock}\n')
    option_file.chmod(0o600)
    write_login_file(home / ".mylogin.cnf", f"[prod]\nuser = {USER}\npassword = {PASSWORD}\nsocket = {sock}\n")
    return {
        "MYSQL_PWD": (["-S", sock, "-u", USER, "--no-defaults"], {"MYSQL_PWD": PASSWORD}),
        "option file": (["--defaults-file", str(option_file)], {}),
        "login path": (["--login-path", "prod", "--no-defaults"], {}),
        "DSN": (["--dsn", f"mysql://{USER}:{PASSWORD}@localhost/{DB}?socket={sock}"], {}),
    }


def _run(args: list[str], env: dict[str, str], home: Path) -> tuple[int, str, list[bytes]]:
    """Run mqa, sampling its process title (and its workers') while it runs."""
    full = {"HOME": str(home), "PATH": "/usr/bin:/bin", "COLUMNS": "140", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=REPO,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    titles: list[bytes] = []
    while proc.poll() is None:
        for pid in [proc.pid, *_children(proc.pid)]:
            try:
                titles.append(Path(f"/proc/{pid}/cmdline").read_bytes())
            except OSError:
                pass
        time.sleep(0.05)
    out = proc.stdout.read() if proc.stdout else ""
    return proc.returncode, out, titles


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_no_output_file_history_row_message_or_process_title_shows_the_password(
    server: TestServer, account: Path, tmp_path: Path
) -> None:
    for way, (connection, env) in _ways(server, tmp_path).items():
        out_dir = tmp_path / way.replace(" ", "_")
        out_dir.mkdir()
        history = out_dir / "history.sqlite"
        runs = [
            [
                "report",
                str(account),
                *connection,
                "-D",
                DB,
                "--history",
                f"sqlite:///{history}",
                "--json",
                str(out_dir / "r.json"),
                "--html",
                str(out_dir / "r.html"),
                "--markdown",
                str(out_dir / "r.md"),
            ],
            ["indexes", *connection, "-D", DB, "-f", "html", "-o", str(out_dir / "i.html")],
            ["advise", str(account), *connection, "-D", DB, "-f", "json", "-o", str(out_dir / "a.json")],
            ["explain", "SELECT * FROM no_such_table", *connection, "-D", DB],  # an error message
            ["indexes", *connection, "-D", "no_such_db"],  # another
        ]
        for args in runs:
            code, output, titles = _run(args, env, tmp_path)
            assert code in (0, 2), (way, args, output)
            assert PASSWORD not in output, (way, args)
            assert titles
            if way == "DSN":
                # The shell started mqa with the password in its arguments; mqa starts itself again
                # at once without it: only titles from before that may show it.
                first_hidden = next(i for i, t in enumerate(titles) if b"***" in t)
                assert all(PASSWORD.encode() not in t for t in titles[first_hidden:]), (way, args)
                assert first_hidden <= 10  # sampled every 50 ms: gone within about half a second
            else:
                assert all(PASSWORD.encode() not in t for t in titles), (way, args)
        for path in out_dir.iterdir():
            assert PASSWORD.encode() not in path.read_bytes(), (way, path.name)
        doc = json.loads((out_dir / "r.json").read_text())
        assert doc["run"]["id"] == 1 and doc["classes"]  # the run really happened, with this account


def test_the_prompt(server: TestServer, account: Path, tmp_path: Path) -> None:
    """``-p``: typed at the terminal (a pseudo-terminal here), never echoed or printed."""
    args = [
        sys.executable,
        "-m",
        "cli",
        "indexes",
        "-S",
        server.local.socket,
        "-u",
        USER,
        "-p",
        "--no-defaults",
        "-D",
        DB,
        "-f",
        "json",
        "-o",
        str(tmp_path / "i.json"),
    ]
    pid, fd = pty.fork()
    if pid == 0:  # the child: mqa on the terminal
        os.chdir(REPO)
        os.execve(sys.executable, args, {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    seen = b""
    deadline = time.monotonic() + 60
    typed = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if not typed and b"Enter password" in seen:
                os.write(fd, PASSWORD.encode() + b"\n")
                typed = True
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
    assert typed, seen
    assert PASSWORD.encode() not in seen  # not echoed, not printed
    assert PASSWORD.encode() not in (tmp_path / "i.json").read_bytes()
    assert json.loads((tmp_path / "i.json").read_text())["tables"] >= 14
