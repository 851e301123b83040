"""What every command shares: error handling, output streams, consoles."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import NoReturn, TextIO

import typer
from rich.console import Console

from analyzer.errors import AnalyzerError


def fail(message: str) -> NoReturn:
    """One line on stderr, exit status 2 (the CLI contract for usage and input errors)."""
    sys.stderr.write(f"mqa: error: {message}\n")
    raise typer.Exit(2)


@contextlib.contextmanager
def errors_exit_2() -> Iterator[None]:
    """Turn the library's errors into one line on stderr and exit status 2."""
    try:
        yield
    except AnalyzerError as exc:
        fail(str(exc))


@contextlib.contextmanager
def output_stream(path: str | None) -> Iterator[TextIO]:
    """stdout, or the ``--output`` file (written only once the report is complete)."""
    if path is None or path == "-":
        yield sys.stdout
        return
    try:
        handle = open(path, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        fail(f"{path}: cannot write ({exc.strerror or exc})")
    with handle:
        yield handle


def console_for(stream: TextIO) -> Console:
    """A rich console for a report: colour only on a terminal (and never with NO_COLOR)."""
    is_tty = stream.isatty()
    width = None if is_tty else int(os.environ.get("COLUMNS", "140"))
    return Console(file=stream, force_terminal=is_tty, width=width, highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)
