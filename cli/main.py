"""The ``mqa`` command: a thin typer layer over the ``analyzer`` library."""

from __future__ import annotations

import sys

import typer

from analyzer import __version__
from cli import advise as advise_command
from cli import collect as collect_command
from cli import digest as digest_command
from cli import indexes as indexes_command
from cli import top as top_command
from cli.connection import COMMAND_SETTINGS, refuse_password_argument

app = typer.Typer(
    name="mqa",
    help="MySQL / MariaDB query performance analyzer: digest slow logs into query classes, explain and advise.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mqa {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """MySQL / MariaDB query performance analyzer."""


app.command("digest", no_args_is_help=True)(digest_command.digest)
app.command("collect", context_settings=COMMAND_SETTINGS)(collect_command.collect)
app.command("top", context_settings=COMMAND_SETTINGS)(top_command.top)
app.command("indexes", context_settings=COMMAND_SETTINGS)(indexes_command.indexes)
app.command("explain", context_settings=COMMAND_SETTINGS, no_args_is_help=True)(advise_command.explain)
app.command("advise", context_settings=COMMAND_SETTINGS, no_args_is_help=True)(advise_command.advise)


def run() -> None:
    """Console-script entry point."""
    try:
        try:
            refuse_password_argument(sys.argv[1:])
        except typer.Exit as stop:
            sys.exit(stop.exit_code)
        app()
    except KeyboardInterrupt:
        sys.stderr.write("mqa: interrupted\n")
        sys.exit(130)
