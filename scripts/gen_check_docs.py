"""Write docs/checks.md from the advisor checks' docstrings.

python scripts/gen_check_docs.py           # (re)write the file
python scripts/gen_check_docs.py --check   # exit 1 when the file is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analyzer.advisor.checks._docs import render_checks_markdown  # noqa: E402 - after the path is set

TARGET = REPO / "docs" / "checks.md"


def main(argv: list[str]) -> int:
    text = render_checks_markdown()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET.relative_to(REPO)} is stale: run python scripts/gen_check_docs.py")
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
