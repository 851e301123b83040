"""The ``mqa`` command: a thin typer layer over the ``analyzer`` library.

Errors are caught here, once: a library error (``AnalyzerError``), a usage error and an
interrupt each end in one line on stderr and the documented exit status, never a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from analyzer import __version__
from analyzer.errors import AnalyzerError
from cli import advise as advise_command
from cli import collect as collect_command
from cli import digest as digest_command
from cli import history as history_command
from cli import index_health as indexes_command
from cli import report as report_command
from cli import top as top_command
from cli.connection import COMMAND_SETTINGS, refuse_password_argument


def _plain_metavars(params: list[Any]) -> list[Any]:
    """Help without type placeholders: a flag shows no ``<bool>``, a number ``N``, a list its
    element's metavar."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif (
            getattr(param, "metavar", None) is None
            and getattr(getattr(param, "type_descriptor", None), "annotation", None) is int
        ):
            param.metavar = "N"
    return params


class MqaCommand(TyperCommand):
    """A command of mqa: its help names values plainly (see ``_plain_metavars``), and an output
    file that cannot be written is an error before any work (not after a long read)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        from cli.common import check_output

        for name in ("output", "html_out", "json_out", "markdown_out"):
            check_output(ctx.params.get(name))
        return super().invoke(ctx)


class MqaGroup(TyperGroup):
    """The command group whose ``main`` turns every expected error into ``mqa: error: ...``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx))

    def main(self, args: Any = None, *rest: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        from typer import Abort
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        code: int
        try:
            # -pSECRET would be parsed as -p plus short options, and click would echo part of the
            # secret in its usage error: refuse it before click sees anything
            args = list(sys.argv[1:] if args is None else args)
            refuse_password_argument(args)
            result = super().main(_history_default(args), *rest, standalone_mode=False, **kwargs)
            code = result if isinstance(result, int) else 0
            if code == INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130) on its own
                sys.stderr.write(f"mqa: {_interruption()}\n")
                code = _interrupted_code()
        except NoArgsIsHelpError as exc:
            sys.stdout.write(exc.ctx.get_help() + "\n" if exc.ctx is not None else "")
            code = 0
        except AnalyzerError as exc:
            if os.environ.get("MQA_DEBUG"):  # for a bug report: where the error came from
                import traceback

                traceback.print_exc()
            sys.stderr.write(f"mqa: error: {exc}\n")
            code = 2
        except ClickException as exc:
            sys.stderr.write(f"mqa: error: {_usage_message(exc)}\n")
            code = exc.exit_code
        except (KeyboardInterrupt, Abort):
            sys.stderr.write(f"mqa: {_interruption()}\n")
            code = _interrupted_code()
        except BrokenPipeError:
            code = _broken_pipe()
        except SystemExit:
            from typer._click.utils import PacifyFlushWrapper

            if isinstance(sys.stdout, PacifyFlushWrapper):  # typer's answer to a closed pipe (| head)
                code = _broken_pipe()
            else:
                raise
        if not standalone_mode:
            return code
        sys.exit(code)


INTERRUPTED = 130  # 128 + SIGINT
TERMINATED = 143  # 128 + SIGTERM
BROKEN_PIPE = 141  # 128 + SIGPIPE
_terminated = False


def _broken_pipe() -> int:
    """The reader of stdout went away (``| head``): end quietly, as a Unix tool killed by SIGPIPE,
    with stdout on /dev/null so that nothing fails again while the interpreter exits."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return BROKEN_PIPE


def _interruption() -> str:
    return "terminated" if _terminated else "interrupted"


def _interrupted_code() -> int:
    return TERMINATED if _terminated else INTERRUPTED


def _on_sigterm(signum: int, frame: Any) -> None:
    """``kill PID`` ends the run as Ctrl-C does: outputs not renamed into place, history not
    committed, scratch tables dropped, worker processes stopped, one line on stderr."""
    global _terminated
    _terminated = True
    raise KeyboardInterrupt


def _history_default(args: list[str]) -> list[str]:
    """``--history`` takes an optional URL: alone (followed by an option, a log or nothing) it
    means the default SQLite history.  A URL has ``://``."""
    out = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg == "--":
            out += args[i + 1 :]
            break
        if arg == "--history" and (i + 1 >= len(args) or "://" not in args[i + 1]):
            out.append("default")
    return out


def _usage_message(exc: Any) -> str:
    """click's usage error as one line, with the command whose --help tells more."""
    message = " ".join(exc.format_message().split()).replace(": Value error, ", ": ")
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.command_path:
        message += f" (see: {ctx.command_path} --help)"
    return message


app = typer.Typer(
    name="mqa",
    cls=MqaGroup,
    help="MySQL / MariaDB query performance analyzer: digest slow logs into query classes, explain and advise.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # -h is the host in the server commands, as in the mysql client: help is --help everywhere
    context_settings={"help_option_names": ["--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mqa {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """MySQL / MariaDB query performance analyzer."""


app.command("digest", cls=MqaCommand, no_args_is_help=True)(digest_command.digest)
app.command("collect", cls=MqaCommand, context_settings=COMMAND_SETTINGS)(collect_command.collect)
app.command("top", cls=MqaCommand, context_settings=COMMAND_SETTINGS)(top_command.top)
app.command("indexes", cls=MqaCommand, context_settings=COMMAND_SETTINGS)(indexes_command.indexes)
app.command("explain", cls=MqaCommand, context_settings=COMMAND_SETTINGS, no_args_is_help=True)(advise_command.explain)
app.command("advise", cls=MqaCommand, context_settings=COMMAND_SETTINGS, no_args_is_help=True)(advise_command.advise)
app.command("endpoint", cls=MqaCommand, context_settings=COMMAND_SETTINGS, no_args_is_help=True)(
    advise_command.endpoint
)
app.command("report", cls=MqaCommand, context_settings=COMMAND_SETTINGS, no_args_is_help=True)(report_command.report)
app.command("history", cls=MqaCommand)(history_command.history)
app.command("diff", cls=MqaCommand, no_args_is_help=True)(history_command.diff)


_SECRETS_ENV = "MQA_ARGV_SECRETS"
_DSN_OPTIONS = ("--dsn", "--verify-dsn", "--history")


def _hide_argv_passwords() -> None:
    """A password in a DSN on the command line (``--dsn mysql://u:PASS@h/db``) is in the process
    title that every user of the machine can read (``ps``).  mqa starts itself again at once with
    the password replaced by ``***`` in its arguments and the real ones handed over in its
    environment (readable by the same user only), and restores them in memory: for the life of
    the run the process title shows no password."""
    from cli.common import redact_dsn_word

    restored = os.environ.pop(_SECRETS_ENV, None)
    if restored is not None:
        import json

        originals = json.loads(restored)
        sys.argv[:] = [originals.get(str(i), word) for i, word in enumerate(sys.argv)]
        return
    hidden: dict[str, str] = {}
    shown = list(sys.argv)
    for i, word in enumerate(sys.argv):
        if i == 0:
            continue
        after_option = sys.argv[i - 1] in _DSN_OPTIONS
        if after_option or word.startswith(tuple(f"{o}=" for o in _DSN_OPTIONS)):
            redacted = redact_dsn_word(word, after_option)
            if redacted != word:
                hidden[str(i)] = word
                shown[i] = redacted
    orig = getattr(sys, "orig_argv", None)
    if not hidden or not orig or len(orig) < len(sys.argv) or sys.platform != "linux":
        return
    import json

    prefix = orig[: len(orig) - len(sys.argv) + 1]  # the interpreter, its options, and the script or -m cli
    env = dict(os.environ)
    env[_SECRETS_ENV] = json.dumps(hidden)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [*prefix, *shown[1:]], env)


def run() -> None:
    """Console-script entry point."""
    import signal

    _hide_argv_passwords()
    signal.signal(signal.SIGTERM, _on_sigterm)
    app()
