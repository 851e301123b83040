"""Jobs: what a command that runs unattended does from start to end (``mqa report``: read what is
new, measure, advise, compare with the last run, keep the history), as library functions the
CLI calls and tests drive directly."""
