"""``python -m cli``: the same as the ``mqa`` command."""

from cli.main import run

run()
