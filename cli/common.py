"""What every command shares: output streams, consoles, the one-line error."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import NoReturn, TextIO

from rich.console import Console

from analyzer.errors import UsageError


def fail(message: str) -> NoReturn:
    """A usage or input error: the entry point (cli.main) prints ``mqa: error: <message>`` and
    exits with status 2."""
    raise UsageError(message)


def check_output(path: str | None) -> None:
    """Fail before any work when ``--output`` (or ``--html``, ...) cannot be written: a missing
    or unwritable folder, a folder given as the file."""
    if path is None or path == "-":
        return
    if os.path.isdir(path):
        fail(f"{path}: is a directory; give a file name")
    if _special(path):
        if not os.access(path, os.W_OK):
            fail(f"{path}: cannot write (permission denied)")
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        fail(f"{path}: cannot write (no such directory: {folder})")
    if not os.access(folder, os.W_OK | os.X_OK):
        fail(f"{path}: cannot write (permission denied in {folder})")


def _special(path: str) -> bool:
    """An existing target that is not a regular file (a device such as /dev/stdout or /dev/full,
    a FIFO): written in place, never replaced by a rename."""
    try:
        import stat

        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def output_stream(path: str | None) -> Iterator[TextIO]:
    """stdout, or the ``--output`` file, written atomically: a temporary file in the same folder
    renamed over the target once the report is complete, so a failed run leaves the previous
    report as it was.  A device or FIFO is written in place."""
    if path is None or path == "-":
        yield sys.stdout
        return
    if _special(path):
        try:
            with open(path, "w", encoding="utf-8") as handle:
                yield handle
        except BrokenPipeError:
            raise  # /dev/stdout into a pipe that closed: quiet, as for stdout
        except OSError as exc:
            fail(f"{path}: cannot write ({exc.strerror or exc})")
        return
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8") as handle:
        yield handle


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file renamed into place)."""
    with atomic_path(path) as temp, open(temp, "wb") as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_path(path: str, suffix: str = ".tmp") -> Iterator[str]:
    """A temporary file name next to ``path`` for a writer that takes a name (pyarrow), renamed
    over ``path`` once the writer is done; removed on failure, so ``path`` stays as it was."""
    check_output(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(prefix=".mqa-", suffix=suffix, dir=folder)
        os.close(fd)
    except OSError as exc:
        fail(f"{path}: cannot write ({exc.strerror or exc})")
    try:
        yield temp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        fail(f"{path}: cannot write ({exc.strerror or exc})")
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class PendingOutput:
    """An output file written in two steps, for a job that writes several at once: ``write()``
    puts the whole text in a temporary file next to the target, ``commit()`` renames it into
    place.  Until then (a failure, a kill) the previous file stays as it was."""

    def __init__(self, path: str) -> None:
        check_output(path)
        self.path = path
        self.temp: str | None = None
        self.direct: str | None = None

    def write(self, text: str) -> None:
        if _special(self.path):
            self.direct = text  # written in place by commit()
            return
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            fd, self.temp = tempfile.mkstemp(prefix=".mqa-", suffix=".tmp", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.temp, 0o666 & ~umask)
        except OSError as exc:
            self.discard()
            fail(f"{self.path}: cannot write ({exc.strerror or exc})")

    def commit(self) -> None:
        if self.direct is not None:
            try:
                with open(self.path, "w", encoding="utf-8") as handle:
                    handle.write(self.direct)
            except OSError as exc:
                fail(f"{self.path}: cannot write ({exc.strerror or exc})")
            self.direct = None
            return
        if self.temp is None:
            return
        try:
            os.replace(self.temp, self.path)
        except OSError as exc:
            self.discard()
            fail(f"{self.path}: cannot write ({exc.strerror or exc})")
        self.temp = None

    def discard(self) -> None:
        if self.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)
            self.temp = None


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def redact_dsn_word(word: str, value_only: bool) -> str:
    """A command-line word holding a DSN (``mysql://u:PASS@h``, or ``--dsn=...``), password as ``***``."""
    from analyzer.sources.db import redact_dsn

    if value_only:
        return redact_dsn(word) if "://" in word else word
    name, _, value = word.partition("=")
    return f"{name}={redact_dsn(value)}"


def command_line(argv: list[str] | None = None) -> str:
    """The command as the user typed it, for a report's header: a password in a DSN is shown as
    ``***`` (and mqa refuses passwords anywhere else on the command line)."""
    import shlex

    from analyzer.sources.db import redact_dsn

    words = list(sys.argv[1:] if argv is None else argv)
    shown = []
    for i, word in enumerate(words):
        if i and words[i - 1] in ("--dsn", "--verify-dsn", "--history") and "://" in word:
            word = redact_dsn(word)
        elif word.startswith(("--dsn=", "--verify-dsn=", "--history=")):
            name, _, value = word.partition("=")
            word = f"{name}={redact_dsn(value)}"
        shown.append(shlex.quote(word))
    return " ".join(["mqa", *shown])
