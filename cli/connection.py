"""The connection options every server command shares, spelled as the ``mysql`` client spells them.

A command takes them with one decorator and one parameter, and opens its session with one call::

    from cli.connection import COMMAND_SETTINGS, ServerArgs, open_server, server_options

    @server_options
    def indexes(fmt: Format = typer.Option(...), *, server_args: ServerArgs) -> None:
        with open_server(server_args) as server:          # exit 2 with one line when it cannot connect
            report = find_unused_indexes(server)

    app.command("indexes", context_settings=COMMAND_SETTINGS)(indexes)   # in cli/main.py

``--dsn``, ``--defaults-file``, ``--defaults-extra-file``, ``--login-path``, ``-h/--host``,
``-P/--port``, ``-u/--user``, ``-p/--password``, ``-S/--socket``, ``-D/--database``,
``--protocol``, ``--ssl-mode``, ``--ssl-ca``, ``--ssl-cert``, ``--ssl-key``,
``--statement-timeout``, ``--connect-timeout`` and ``--no-defaults`` are added to the command
(shown under "Connection" in its help). ``-h`` is the host, as in ``mysql``; ``--help`` still
shows the help.

``-p`` takes no value: it asks for the password on the terminal. A password on the command line
(``-pSECRET``, ``--password=SECRET``) is refused, because every user of the machine can read it
(``ps``, shell history). The non-interactive ways are ``MYSQL_PWD``, an option file
(``[client]`` or ``[mqa]`` ``password=...`` in ``~/.my.cnf`` or ``--defaults-file``) and
``mysql_config_editor``'s login paths (``--login-path``).
"""

from __future__ import annotations

import functools
import getpass
import inspect
import sys
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Optional

import typer

from cli.common import fail

if TYPE_CHECKING:  # analyzer.sources.db imports PyMySQL: only when a command connects (keeps `mqa --help` fast)
    from analyzer.sources.db import ConnectionOptions, Server

PANEL = "Connection"
#: Settings for ``app.command(..., context_settings=COMMAND_SETTINGS)``: ``-h`` is the host in a
#: server command (as in mysql), so its help is ``--help`` only (and error hints say so).
COMMAND_SETTINGS: dict[str, Any] = {"help_option_names": ["--help"]}
NON_INTERACTIVE_PASSWORD = (
    "use -p alone to type it, or MYSQL_PWD, an option file ([client] password=... in ~/.my.cnf or "
    "--defaults-file) or --login-path"
)


class SslMode(str, Enum):
    DISABLED = "DISABLED"
    PREFERRED = "PREFERRED"
    REQUIRED = "REQUIRED"
    VERIFY_CA = "VERIFY_CA"
    VERIFY_IDENTITY = "VERIFY_IDENTITY"


class Protocol(str, Enum):
    TCP = "TCP"
    SOCKET = "SOCKET"


@dataclass
class ServerArgs:
    """The shared connection options of one command invocation (``password`` is the ``-p``
    switch: prompt for it; the password itself never comes from the command line)."""

    dsn: Optional[str] = None
    defaults_file: Optional[str] = None
    defaults_extra_file: Optional[str] = None
    login_path: Optional[str] = None
    host: Optional[str] = None
    port: Optional[int] = None
    user: Optional[str] = None
    password: bool = False
    socket: Optional[str] = None
    database: Optional[str] = None
    protocol: Optional[Protocol] = None
    ssl_mode: Optional[SslMode] = None
    ssl_ca: Optional[str] = None
    ssl_cert: Optional[str] = None
    ssl_key: Optional[str] = None
    statement_timeout: Optional[float] = None
    connect_timeout: Optional[float] = None
    no_defaults: bool = False

    def given(self) -> bool:
        """Did the user give any connection option (for commands where a server is optional)?"""
        return any(value not in (None, False) for value in asdict(self).values())

    def connection_options(self) -> ConnectionOptions:
        """The library's ``ConnectionOptions`` for these arguments (no password: see ``open_server``)."""
        from analyzer.sources.db import ConnectionOptions

        values = asdict(self)
        del values["password"]
        for name in ("protocol", "ssl_mode"):  # enums from typer, or plain strings (any case) from Python
            values[name] = getattr(values[name], "value", values[name])
        return ConnectionOptions(**values)


def open_server(args: ServerArgs, *, prompt: Callable[[str], str] | None = None) -> Server:
    """Connect as ``args`` say (asking for the password when ``-p`` was given) and return the
    read-only session (a failure is a ``DatabaseError``: one line, exit 2). Warnings (option files ignored,
    TLS settings that do nothing) go to stderr."""
    from analyzer.sources.db import connect

    password_prompt = (prompt or getpass.getpass) if args.password else None
    server = connect(args.connection_options(), password_prompt=password_prompt)
    for warning in server.warnings:
        sys.stderr.write(f"mqa: warning: {warning}\n")
    return server


SERVER_COMMANDS = ("collect", "top", "indexes", "explain", "advise", "report", "endpoint")


def refuse_password_argument(argv: list[str], commands: tuple[str, ...] | None = SERVER_COMMANDS) -> None:
    """``-p`` is a switch, so ``-pSECRET`` would be read as ``-p`` plus other short options
    (``-phunter2`` = ``-p -h unter2``) and click would echo part of the secret in its usage
    error. Refuse such arguments of the server commands before click parses anything."""
    words = [arg for arg in argv if not arg.startswith("-")]
    if commands is not None and (not words or words[0] not in commands):
        return
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("--password=") or (arg.startswith("-p") and not arg.startswith("--") and len(arg) > 2):
            fail(f"a password on the command line is visible to every user of this machine: {NON_INTERACTIVE_PASSWORD}")


def _refuse_password_value(value: bool) -> bool:
    if value:
        refuse_password_argument(sys.argv[1:], commands=None)  # this command has the option
    return value


# (name, annotation, default) in the order of the help screen.
_OPTIONS: list[tuple[str, Any, Any]] = [
    (
        "dsn",
        Optional[str],
        typer.Option(
            None,
            "--dsn",
            metavar="DSN",
            rich_help_panel=PANEL,
            help="mysql://user@host:port/db?ssl-mode=...&ssl-ca=... or mysql:///db?socket=/path "
            "(a password in it is visible to other users: prefer an option file)",
        ),
    ),
    (
        "defaults_file",
        Optional[str],
        typer.Option(
            None,
            "--defaults-file",
            metavar="FILE",
            rich_help_panel=PANEL,
            help="Read only this option file (its \\[client] and \\[mqa] groups), as mysql --defaults-file.",
        ),
    ),
    (
        "defaults_extra_file",
        Optional[str],
        typer.Option(
            None,
            "--defaults-extra-file",
            metavar="FILE",
            rich_help_panel=PANEL,
            help="Also read this option file, before ~/.my.cnf.",
        ),
    ),
    (
        "login_path",
        Optional[str],
        typer.Option(
            None,
            "--login-path",
            metavar="NAME",
            rich_help_panel=PANEL,
            help="Read this login path of ~/.mylogin.cnf (made by mysql_config_editor).",
        ),
    ),
    (
        "host",
        Optional[str],
        typer.Option(
            None,
            "--host",
            "-h",
            metavar="HOST",
            rich_help_panel=PANEL,
            help="Server host (default: localhost, through the Unix socket).",
        ),
    ),
    (
        "port",
        Optional[int],
        typer.Option(
            None,
            "--port",
            "-P",
            metavar="PORT",
            min=0,
            max=65535,
            rich_help_panel=PANEL,
            help="TCP port (default 3306).",
        ),
    ),
    (
        "user",
        Optional[str],
        typer.Option(
            None, "--user", "-u", metavar="USER", rich_help_panel=PANEL, help="Account name (default: your login name)."
        ),
    ),
    (
        "password",
        bool,
        typer.Option(
            False,
            "--password",
            "-p",
            is_eager=True,
            callback=_refuse_password_value,
            rich_help_panel=PANEL,
            help="Ask for the password. It is never taken from the command line: without a terminal use "
            "MYSQL_PWD, an option file or --login-path.",
        ),
    ),
    (
        "socket",
        Optional[str],
        typer.Option(
            None, "--socket", "-S", metavar="PATH", rich_help_panel=PANEL, help="Unix socket of a local server."
        ),
    ),
    (
        "database",
        Optional[str],
        typer.Option(
            None, "--database", "-D", metavar="DB", rich_help_panel=PANEL, help="Default database of the session."
        ),
    ),
    (
        "protocol",
        Optional[Protocol],
        typer.Option(
            None,
            "--protocol",
            case_sensitive=False,
            rich_help_panel=PANEL,
            help="TCP or SOCKET (TCP reaches localhost over the network instead of the socket).",
        ),
    ),
    (
        "ssl_mode",
        Optional[SslMode],
        typer.Option(
            None,
            "--ssl-mode",
            case_sensitive=False,
            rich_help_panel=PANEL,
            help="TLS, as in mysql: default PREFERRED (VERIFY_CA when --ssl-ca is given).",
        ),
    ),
    (
        "ssl_ca",
        Optional[str],
        typer.Option(
            None,
            "--ssl-ca",
            metavar="FILE",
            rich_help_panel=PANEL,
            help="CA certificate(s) that signed the server certificate (PEM).",
        ),
    ),
    (
        "ssl_cert",
        Optional[str],
        typer.Option(None, "--ssl-cert", metavar="FILE", rich_help_panel=PANEL, help="Client certificate (PEM)."),
    ),
    (
        "ssl_key",
        Optional[str],
        typer.Option(None, "--ssl-key", metavar="FILE", rich_help_panel=PANEL, help="Client certificate key (PEM)."),
    ),
    (
        "statement_timeout",
        Optional[float],
        typer.Option(
            None,
            "--statement-timeout",
            metavar="SECONDS",
            min=0,
            rich_help_panel=PANEL,
            help="Stop any statement of mqa after this long (default 30; 0: no limit).",
        ),
    ),
    (
        "connect_timeout",
        Optional[float],
        typer.Option(
            None,
            "--connect-timeout",
            metavar="SECONDS",
            min=0,
            rich_help_panel=PANEL,
            help="Give up connecting after this long (default 10).",
        ),
    ),
    (
        "no_defaults",
        bool,
        typer.Option(
            False,
            "--no-defaults",
            rich_help_panel=PANEL,
            help="Read no option files (~/.mylogin.cnf is still read, as by mysql).",
        ),
    ),
]


def server_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared connection options to a typer command.

    The command declares one parameter annotated ``ServerArgs`` (any name, usually keyword-only
    ``*, server_args: ServerArgs``); it receives the options given on the command line.
    """
    hints = typing.get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    target = next((name for name in signature.parameters if hints.get(name) is ServerArgs), None)
    if target is None:
        raise TypeError(f"{func.__name__}() needs a parameter annotated ServerArgs")
    kept = [
        p.replace(annotation=hints.get(name, p.annotation))
        for name, p in signature.parameters.items()
        if name != target
    ]
    clash = {name for name, _, _ in _OPTIONS} & {p.name for p in kept}
    if clash:
        raise TypeError(f"{func.__name__}() has parameters named like connection options: {', '.join(sorted(clash))}")
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        for name, annotation, default in _OPTIONS
    ]
    positional = [p for p in kept if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keyword = [p for p in kept if p.kind is p.KEYWORD_ONLY]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name, _, _ in _OPTIONS if name in kwargs}
        kwargs[target] = ServerArgs(**values)
        return func(*args, **kwargs)

    parameters = [*positional, *keyword, *added]
    command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    if "return" in hints:
        command.__annotations__["return"] = hints["return"]
    return command
