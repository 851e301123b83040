"""``mqa digest --format parquet --output DIR_OR_FILE [--events]``: Parquet files, written atomically."""

from __future__ import annotations

import os

from cli.common import atomic_path, fail


def parquet_paths(output: str, events: bool) -> tuple[str, str | None]:
    """Where the files go: ``FILE.parquet`` is the classes (and ``FILE.events.parquet`` the
    events); anything else is a folder (made when missing) holding ``classes.parquet`` and
    ``events.parquet``."""
    if output.endswith(".parquet") and not os.path.isdir(output):
        return output, (output[: -len(".parquet")] + ".events.parquet") if events else None
    if os.path.exists(output) and not os.path.isdir(output):
        fail(f"{output}: not a folder; give a folder, or a file name ending in .parquet")
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as exc:
        fail(f"{output}: cannot make the folder ({exc.strerror or exc})")
    return os.path.join(output, "classes.parquet"), os.path.join(output, "events.parquet") if events else None


def write_parquet(report, result, output: str, logs: list[str] | None, mode: str, event_filter) -> None:
    from analyzer.report.parquet import write_classes, write_events

    if logs is not None:
        from analyzer.digest.state import is_state_file

        stored = next((p for p in logs if is_state_file(p)), None)
        if stored is not None:
            fail(f"--events needs the logs: {stored} is a state file, which keeps classes, not events")
        if "-" in logs:
            fail("--events reads the logs a second time: give files, not stdin (-)")
    classes_path, events_path = parquet_paths(output, logs is not None)
    with atomic_path(classes_path, ".parquet") as temp:
        write_classes(report, temp)
    if events_path is not None and logs is not None:
        from analyzer.digest.events import events_with_class

        metrics = sorted(result.totals.metrics)
        with atomic_path(events_path, ".parquet") as temp:
            write_events(events_with_class(logs, mode, event_filter), metrics, temp)
