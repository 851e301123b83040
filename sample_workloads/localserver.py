"""Throwaway local MariaDB (or MySQL) servers for tests, benchmarks and recordings.

``LocalMariaDB`` initialises a fresh data directory in a temporary folder, starts
``mariadbd`` (or ``mysqld``) on a private Unix socket (and optionally on a free TCP
port of 127.0.0.1), waits until it accepts connections and shuts it down again::

    from sample_workloads.localserver import LocalMariaDB

    with LocalMariaDB(long_query_time=0, log_slow_verbosity="query_plan,explain") as srv:
        conn = srv.connect(database="mysql")
        ...
        print(open(srv.slow_log_path).read())
    # the server is stopped and its temporary folder removed here

Enabled by default: performance_schema (with the statements current and history-long consumers),
the slow query log to ``slow_log_path`` with ``long_query_time=0``. The general log
goes to ``general_log_path`` when ``general_log=True``.

The only dependencies are the standard library and PyMySQL. Servers never outlive the
Python process: every start is wrapped in try/except, an ``atexit`` hook stops what is
still running, and on Linux the server gets ``SIGTERM`` if the thread that started it
dies (``die_with_parent=True``; pass False when you start servers from a short-lived
thread).

MariaDB is the tested flavour. Oracle MySQL 8 works where the two agree: the data
directory is created with ``mysqld --initialize-insecure`` instead of
``mariadb-install-db``, and ``log_slow_verbosity`` (MariaDB only) becomes
``log_slow_extra=ON``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import pymysql

__all__ = ["LocalMariaDB", "LocalServerError", "find_binary", "server_binaries"]

SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/mysql/bin", "/usr/local/bin", "/usr/local/sbin")

# Unix socket paths are limited to 107 bytes (sun_path); keep the temp folder short.
_MAX_SOCKET_PATH = 100

_live: set[LocalMariaDB] = set()
_live_lock = threading.Lock()


class LocalServerError(RuntimeError):
    """The local server could not be initialised, started or stopped."""


def find_binary(*names: str, extra_dirs: Iterable[str] = ()) -> str | None:
    """Return the first of ``names`` found on PATH or in the usual server folders."""
    dirs = list(extra_dirs) + list(SEARCH_DIRS)
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for d in dirs:
            p = os.path.join(d, name)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                return p
    return None


def server_binaries(basedir: str | None = None) -> dict[str, str | None]:
    """Locate the server, the install-db script and the client.

    Returns ``{"server": ..., "install_db": ..., "client": ..., "flavor": "mariadb"|"mysql"}``;
    ``install_db`` is None for Oracle MySQL (it initialises with ``mysqld --initialize-insecure``).
    """
    extra = [os.path.join(basedir, "bin"), os.path.join(basedir, "sbin")] if basedir else []
    server = find_binary("mariadbd", "mysqld", extra_dirs=extra)
    if server is None:
        raise LocalServerError(
            "no mariadbd/mysqld binary found on PATH or in "
            + ", ".join(SEARCH_DIRS)
            + " (Debian/Ubuntu: apt-get install -y mariadb-server)"
        )
    flavor = _flavor(server)
    install_db = None
    if flavor == "mariadb":
        install_db = find_binary("mariadb-install-db", "mysql_install_db", extra_dirs=extra)
        if install_db is None:
            raise LocalServerError("mariadb-install-db not found next to " + server)
    client = find_binary("mariadb", "mysql", extra_dirs=extra)
    return {"server": server, "install_db": install_db, "client": client, "flavor": flavor}


_flavor_cache: dict[str, tuple[str, str]] = {}


def _version_line(server: str) -> tuple[str, str]:
    real = os.path.realpath(server)
    if real not in _flavor_cache:
        try:
            out = subprocess.run([server, "--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError) as e:  # pragma: no cover - broken install
            raise LocalServerError(f"cannot run {server} --version: {e}") from e
        _flavor_cache[real] = ("mariadb" if "mariadb" in out.lower() else "mysql", out.strip())
    return _flavor_cache[real]


def _flavor(server: str) -> str:
    return _version_line(server)[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return "(no log at %s)" % path
    return "\n".join(data.splitlines()[-lines:])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass
    # Own process group: a Ctrl-C in the terminal reaches Python, which then shuts the
    # server down cleanly, instead of killing the server in the middle of a statement.
    try:
        os.setpgid(0, 0)
    except OSError:
        pass


def _own_group() -> None:  # pragma: no cover - runs in the child
    try:
        os.setpgid(0, 0)
    except OSError:
        pass


class LocalMariaDB:
    """A throwaway MariaDB/MySQL server in a temporary data directory.

    Parameters (all keyword-only):

    ``long_query_time``     slow-log threshold in seconds (default 0: every statement).
    ``slow_query_log``      start with the slow log on (default True). The file is
                            ``slow_log_path`` either way, so ``SET GLOBAL slow_query_log=1``
                            later writes there.
    ``log_slow_verbosity``  MariaDB ``log_slow_verbosity`` (e.g. ``"query_plan,innodb,explain"``);
                            None leaves the server default. On MySQL any true value turns on
                            ``log_slow_extra``.
    ``general_log``         also write the general query log (default False).
    ``tcp``                 listen on 127.0.0.1 as well (``port`` picks the port, default a free
                            one); otherwise ``--skip-networking``.
    ``performance_schema``  default True (with ``events_statements_history_long`` on).
    ``options``             extra server options, ``{"innodb_buffer_pool_size": "256M"}``
                            (underscores or dashes; True becomes ``--name``, None skips).
    ``extra_args``          extra raw command-line arguments.
    ``base_dir``            parent folder for the temporary folder (default: $TMPDIR, or /tmp
                            when that would make the socket path too long).
    ``keep``                keep the temporary folder after ``stop()`` (default False).
    ``startup_timeout``     seconds to wait for the server to accept connections.
    ``basedir``             installation prefix to look for binaries in first.
    ``start``               start immediately (default True); otherwise call ``start()``.
    """

    def __init__(
        self,
        *,
        long_query_time: float = 0,
        slow_query_log: bool = True,
        log_slow_verbosity: str | None = None,
        general_log: bool = False,
        tcp: bool = False,
        port: int | None = None,
        performance_schema: bool = True,
        options: Mapping[str, Any] | None = None,
        extra_args: Iterable[str] = (),
        base_dir: str | None = None,
        keep: bool = False,
        startup_timeout: float = 60.0,
        basedir: str | None = None,
        die_with_parent: bool = True,
        start: bool = True,
    ) -> None:
        self.long_query_time = long_query_time
        self.slow_query_log = slow_query_log
        self.log_slow_verbosity = log_slow_verbosity
        self.general_log = general_log
        self.tcp = tcp or port is not None
        self._requested_port = port
        self.performance_schema = performance_schema
        self.options = dict(options or {})
        self.extra_args = list(extra_args)
        self.keep = keep
        self.startup_timeout = startup_timeout
        self.die_with_parent = die_with_parent
        self.binaries = server_binaries(basedir)
        self.flavor: str = self.binaries["flavor"]  # type: ignore[assignment]

        self.tmpdir = self._make_tmpdir(base_dir)
        self.datadir = os.path.join(self.tmpdir, "data")
        self.socket = os.path.join(self.tmpdir, "mysqld.sock")
        self.slow_log_path = os.path.join(self.tmpdir, "slow.log")
        self.general_log_path = os.path.join(self.tmpdir, "general.log")
        self.error_log_path = os.path.join(self.tmpdir, "error.log")
        self.pid_file = os.path.join(self.tmpdir, "mysqld.pid")
        self._console_log = os.path.join(self.tmpdir, "console.log")
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.command: list[str] = []
        self.version: str | None = None
        self._removed = False
        if start:
            try:
                self.start()
            except BaseException:
                self._cleanup_after_failure()
                raise

    # ------------------------------------------------------------------ lifecycle
    @staticmethod
    def _make_tmpdir(base_dir: str | None) -> str:
        parent = base_dir or tempfile.gettempdir()
        if len(os.path.join(parent, "mqa-db-XXXXXXXX", "mysqld.sock")) > _MAX_SOCKET_PATH and base_dir is None:
            parent = "/tmp"
        path = tempfile.mkdtemp(prefix="mqa-db-", dir=parent)
        if len(os.path.join(path, "mysqld.sock")) > _MAX_SOCKET_PATH:
            shutil.rmtree(path, ignore_errors=True)
            raise LocalServerError(f"socket path under {parent!r} would be too long for a Unix socket")
        return path

    @property
    def is_root(self) -> bool:
        return hasattr(os, "geteuid") and os.geteuid() == 0

    def _user_args(self) -> list[str]:
        # --user only means something (and is only accepted quietly) when run as root.
        return ["--user=root"] if self.is_root else []

    def _initialize(self) -> None:
        os.makedirs(self.datadir, exist_ok=True)
        log = os.path.join(self.tmpdir, "install-db.log")
        if self.flavor == "mariadb":
            cmd = [
                self.binaries["install_db"],
                "--no-defaults",
                *self._user_args(),
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ]
            server_dir = os.path.dirname(os.path.realpath(self.binaries["server"]))
            # Non-standard prefixes (tarballs) need --basedir to find share/ and the server.
            prefix = os.path.dirname(server_dir)
            if prefix not in ("/usr", "/"):
                cmd.append(f"--basedir={prefix}")
        else:
            cmd = [
                self.binaries["server"],
                "--no-defaults",
                *self._user_args(),
                "--initialize-insecure",
                f"--datadir={self.datadir}",
                f"--log-error={log}.err",
            ]
        with open(log, "wb") as out:
            rc = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=300
            ).returncode
        if rc != 0:
            tail = _tail(log) + ("\n" + _tail(log + ".err") if os.path.exists(log + ".err") else "")
            raise LocalServerError(f"{os.path.basename(cmd[0])} failed with exit code {rc}:\n{tail}")

    def _server_args(self) -> list[str]:
        mariadb = self.flavor == "mariadb"
        args = [
            self.binaries["server"],
            "--no-defaults",
            *self._user_args(),
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--pid-file={self.pid_file}",
            f"--log-error={self.error_log_path}",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            f"--performance-schema={'ON' if self.performance_schema else 'OFF'}",
            f"--slow-query-log={'ON' if self.slow_query_log else 'OFF'}",
            f"--slow-query-log-file={self.slow_log_path}",
            f"--long-query-time={self.long_query_time:g}",
            f"--general-log={'ON' if self.general_log else 'OFF'}",
            f"--general-log-file={self.general_log_path}",
        ]
        if mariadb:
            args.append("--collation-server=utf8mb4_unicode_ci")
        else:
            args.append("--mysqlx=OFF")
        if self.performance_schema:
            args.append("--performance-schema-consumer-events-statements-history-long=ON")
            # MariaDB fills the history tables only when the "current" consumer is on too.
            args.append("--performance-schema-consumer-events-statements-current=ON")
        if self.log_slow_verbosity is not None:
            if mariadb:
                args.append(f"--log-slow-verbosity={self.log_slow_verbosity}")
            elif self.log_slow_verbosity:
                args.append("--log-slow-extra=ON")
        if self.tcp:
            args += [f"--port={self.port}", "--bind-address=127.0.0.1"]
        else:
            args.append("--skip-networking")
        for name, value in self.options.items():
            opt = "--" + name.replace("_", "-")
            if value is None or value is False:
                continue
            args.append(opt if value is True else f"{opt}={value}")
        args += self.extra_args
        return args

    def start(self) -> LocalMariaDB:
        """Initialise the data directory (first time) and start the server; wait until it is up."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        if not os.path.isdir(os.path.join(self.datadir, "mysql")):
            self._initialize()
        attempts = 3 if (self.tcp and self._requested_port is None) else 1
        for attempt in range(attempts):
            if self.tcp:
                self.port = self._requested_port or _free_port()
            self._spawn()
            try:
                self._wait_ready()
                break
            except LocalServerError as e:
                self._kill()
                port_clash = "Address already in use" in _tail(self.error_log_path, 15)
                if attempt + 1 < attempts and port_clash:
                    continue
                raise e
        return self

    def _spawn(self) -> None:
        self.command = self._server_args()
        console = open(self._console_log, "ab")
        try:
            self.proc = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent
                if (self.die_with_parent and sys.platform.startswith("linux"))
                else _own_group,
                close_fds=True,
            )
        finally:
            console.close()
        with _live_lock:
            _live.add(self)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise LocalServerError(
                    f"{os.path.basename(self.command[0])} exited with code {self.proc.returncode} while starting "
                    f"(command: {' '.join(self.command)}); last lines of its error log:\n{_tail(self.error_log_path)}"
                )
            if os.path.exists(self.socket):
                try:
                    conn = pymysql.connect(unix_socket=self.socket, user="root", password="", connect_timeout=2)
                except pymysql.MySQLError as e:
                    last_error = e
                else:
                    try:
                        with conn.cursor() as cur:
                            cur.execute("SELECT VERSION()")
                            self.version = cur.fetchone()[0]
                    finally:
                        conn.close()
                    return
            if time.monotonic() > deadline:
                self._kill()
                raise LocalServerError(
                    f"server did not accept connections on {self.socket} within {self.startup_timeout:g} s"
                    f" (last error: {last_error}); last lines of its error log:\n{_tail(self.error_log_path)}"
                )
            time.sleep(0.05)

    def stop(self, keep: bool | None = None, timeout: float = 60.0) -> None:
        """Shut the server down cleanly (SIGTERM, then SIGKILL after ``timeout``) and remove
        the temporary folder unless ``keep`` (default: the constructor's ``keep``)."""
        try:
            self._shutdown(timeout)
        finally:
            keep = self.keep if keep is None else keep
            if not keep:
                self.cleanup()

    def _shutdown(self, timeout: float) -> None:
        # SIGTERM is the server's normal clean shutdown; unlike a SHUTDOWN statement it leaves
        # no trace (connect, SET NAMES, SHUTDOWN) in the slow and general logs.
        proc = self.proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._kill()
        finally:
            with _live_lock:
                _live.discard(self)

    def _kill(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        with _live_lock:
            _live.discard(self)

    def _cleanup_after_failure(self) -> None:
        self._kill()
        if not self.keep:
            self.cleanup()

    def cleanup(self) -> None:
        """Remove the temporary folder (data directory and logs). The server must be stopped."""
        if self.running:
            raise LocalServerError("cleanup() while the server is running: call stop() first")
        if not self._removed:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self._removed = True

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def __enter__(self) -> LocalMariaDB:
        if not self.running:
            try:
                self.start()
            except BaseException:
                self._cleanup_after_failure()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:  # last resort; atexit and stop() are the real paths
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = f"port {self.port}" if self.port else self.socket
        return f"<LocalMariaDB {self.version or self.flavor} {state} at {where}>"

    # ------------------------------------------------------------------ clients
    def connect(self, **kw: Any) -> pymysql.connections.Connection:
        """A PyMySQL connection as root over the Unix socket (keywords override)."""
        params: dict[str, Any] = {
            "unix_socket": self.socket,
            "user": "root",
            "password": "",
            "charset": "utf8mb4",
            "autocommit": True,
        }
        if "host" in kw or "port" in kw:
            params.pop("unix_socket")
            params.setdefault("host", "127.0.0.1")
        params.update(kw)
        return pymysql.connect(**params)

    def dsn(self, database: str = "", *, tcp: bool = False) -> str:
        """``mysql://root@localhost/DB?socket=/path`` (or ``mysql://root@127.0.0.1:PORT/DB`` with tcp)."""
        if tcp:
            if not self.port:
                raise LocalServerError("server was started without TCP (pass tcp=True)")
            return f"mysql://root@127.0.0.1:{self.port}/{database}"
        return f"mysql://root@localhost/{database}?socket={self.socket}"

    def query(self, sql: str, database: str | None = None) -> list[tuple]:
        """Run one statement as root and return its rows (convenience for scripts and tests)."""
        conn = self.connect(database=database) if database else self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall())
        finally:
            conn.close()

    def variables(self, *names: str) -> dict[str, str]:
        """GLOBAL values of the named server variables."""
        rows = self.query(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN (%s)" % ", ".join("'%s'" % n.replace("'", "") for n in names)
        )
        return {k: v for k, v in rows}


@atexit.register
def _stop_all() -> None:
    with _live_lock:
        live = list(_live)
    for srv in live:
        try:
            srv.stop(timeout=20)
        except Exception:
            try:
                srv._kill()
            except Exception:
                pass
