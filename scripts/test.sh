#!/usr/bin/env bash
# Run the whole test suite.  Installs what it needs when missing: Python venv support, the
# MariaDB server (the integration tests start a throwaway one), percona-toolkit
# (pt-query-digest is the oracle of the conformance tests) and Debian's chromium (the HTML
# reports are tested in a real headless browser), and a C compiler with Python's headers (mqa's
# compiled fast paths).  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
need=()
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ] \
   && ! command -v mysqld >/dev/null 2>&1 && [ ! -x /usr/sbin/mysqld ] && [ -z "${MQA_TEST_DSN:-}" ]; then
    need+=(mariadb-server)
fi
command -v pt-query-digest >/dev/null 2>&1 || need+=(percona-toolkit)
command -v chromium >/dev/null 2>&1 || [ -n "${MQA_CHROMIUM:-}" ] || need+=(chromium fonts-liberation)
apt_install "${need[@]}"
# the compiled fast paths must build here: the tests compare them with the pure-Python paths
export MQA_REQUIRE_SPEEDUPS=1
ensure_venv "[test,dask]"
# the habits first: lint, format, and the layers (cli -> report -> jobs -> advisor -> history -> digest -> sources -> model)
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/lint-imports --no-cache --no-logo
exec .venv/bin/python -m pytest "$@"
