"""A progress bar on stderr while logs are read."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn


class ReadProgress:
    """Context manager whose ``update(done, total)`` drives a rich progress bar, or nothing."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task = None
        self._console = console

    def __enter__(self) -> ReadProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("reading"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("read", total=None)
        return self

    def update(self, done: int, total: int | None) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done, total=total)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


class WindowProgress:
    """A countdown on stderr while a time window passes; ``sleep`` advances it."""

    def __init__(self, console: Console, seconds: float, *, enabled: bool) -> None:
        self.seconds = seconds
        self.enabled = enabled and seconds > 0
        self._console = console
        self._progress: Progress | None = None
        self._task = None
        self._elapsed = 0.0

    def __enter__(self) -> WindowProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("watching"), BarColumn(), TimeRemainingColumn(), console=self._console, transient=True
            )
            self._progress.start()
            self._task = self._progress.add_task("window", total=self.seconds)
        return self

    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(seconds)
        self._elapsed += seconds
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=min(self._elapsed, self.seconds))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
