#!/usr/bin/env bash
# Install mqa into ./.venv and digest the bundled sample workload's slow log (no server needed).
# Extra arguments go to `mqa digest`, e.g. scripts/quickstart.sh --format markdown
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
ensure_venv ""
exec .venv/bin/mqa digest sample_workloads/shop/slow.log.gz "$@"
