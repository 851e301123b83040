"""The advisor benchmark script parses its options (it needs a MariaDB server only when it runs)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "benchmarks" / "run_advisor_benchmark.py"


def test_help_runs():
    p = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "--statements" in p.stdout and "--runs" in p.stdout and "--json" in p.stdout
