"""Run history: what scheduled report jobs read, measured and found, kept so that the next run
reads only what is new, compares with the last one, and any span of runs merges into one report.

- ``store``: the history database (SQLite or MySQL/MariaDB), one transaction per run.
- ``positions``: incremental reading of logs that rotate (content identity and offsets).
- ``compare``: the comparison of two runs or reports, and the ``--fail-on`` thresholds.
"""
