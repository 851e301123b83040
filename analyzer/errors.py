"""One error hierarchy.  The CLI catches ``AnalyzerError`` in one place and exits 2 with its message."""


class AnalyzerError(Exception):
    """Base class of every error the library raises on purpose; messages say what to do next."""


class InputError(AnalyzerError):
    """A file, stream or argument the user gave cannot be used (missing file, directory, bad value)."""


class UsageError(AnalyzerError):
    """Options that contradict each other or values out of range."""
