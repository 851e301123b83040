"""mqa: a MySQL / MariaDB query performance analyzer (the library).

The library never prints and never exits; the command-line interface in ``cli/`` is a thin
layer over it.  Data flows as in ``DESIGN.md``: sources -> QueryEvent stream -> fingerprint ->
per-class statistics -> report model -> renderers.
"""

__version__ = "0.1.0"
