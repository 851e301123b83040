#!/usr/bin/env python3
"""The HTML report's size and load time on a log of 2,000 statement shapes.

    python tests/benchmarks/run_html_benchmark.py                   # 200,000 events, 5 loads per page
    python tests/benchmarks/run_html_benchmark.py --events 50000 --runs 3
    python tests/benchmarks/run_html_benchmark.py --json result.json

The log is made by ``generate_slowlog.py`` (``--templates 2000``, seeded, so every run reads the
same log) into ``tests/benchmarks/data/``.  ``mqa digest LOG -f html`` writes two pages: with
``--limit 0`` (every class) and with the default ``--limit``.  Each page is loaded ``--runs``
times from ``file://`` in headless Chromium (Debian's ``chromium``, through Playwright; a new
page each time, the two pages interleaved) and the load time is the navigation's
``loadEventEnd`` (parsing, style, layout and the report's script).  Targets: under 4 MB and 3 s
with ``--limit 0``, under 500 KB with the default.  The result is printed as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TARGETS = {"every class (--limit 0)": (4_000_000, 3.0), "default --limit": (500_000, 3.0)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000, help="events in the log (default 200,000)")
    parser.add_argument("--templates", type=int, default=2000, help="statement shapes (default 2,000)")
    parser.add_argument("--runs", type=int, default=5, help="loads of each page (default 5; the median counts)")
    parser.add_argument(
        "--chromium",
        default=os.environ.get("MQA_CHROMIUM") or shutil.which("chromium"),
        help="the browser (default: chromium on PATH, or $MQA_CHROMIUM)",
    )
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where the log and pages are written")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if not args.chromium:
        parser.error("no chromium found: apt-get install chromium, or give --chromium PATH")

    args.data.mkdir(parents=True, exist_ok=True)
    log = args.data / f"html-{args.events}-{args.templates}.log"
    if not log.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate_slowlog.py"),
                "--events",
                str(args.events),
                "--templates",
                str(args.templates),
                "--output",
                str(log),
                "--quiet",
            ],
            check=True,
        )
    pages = {
        "every class (--limit 0)": (args.data / "html-every.html", ["--limit", "0"]),
        "default --limit": (args.data / "html-default.html", []),
    }
    rendered = {}
    for name, (path, extra) in pages.items():
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cli", "digest", str(log), "-f", "html", "-o", str(path), *extra],
            check=True,
            cwd=REPO,
        )
        rendered[name] = time.perf_counter() - start
    html = pages["every class (--limit 0)"][0].read_text(encoding="utf-8")
    classes = html.count("<tr data-class-id=")
    details = html.count('<details id="c-')

    from playwright.sync_api import sync_playwright

    loads: dict[str, list[float]] = {name: [] for name in pages}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        for _ in range(args.runs):
            for name, (path, _) in pages.items():
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(path.resolve().as_uri(), wait_until="load")
                timing = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                loads[name].append(timing / 1000)
                page.close()
        version = browser.version
        browser.close()

    rows = []
    result = {
        "events": args.events,
        "templates": args.templates,
        "classes": classes,
        "details_in_page": details,
        "runs": args.runs,
        "chromium": version,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "pages": {},
    }
    ok = True
    for name, (path, _) in pages.items():
        size = path.stat().st_size
        median = statistics.median(loads[name])
        max_size, max_load = TARGETS[name]
        met = size < max_size and median < max_load
        ok &= met
        result["pages"][name] = {
            "bytes": size,
            "load_seconds": loads[name],
            "median_load_seconds": median,
            "render_seconds": rendered[name],
            "target_met": met,
        }
        rows.append(
            f"| {name} | {size / 1e6:.2f} MB (< {max_size / 1e6:g} MB) | {median:.2f} s (< {max_load:g} s) "
            f"| {min(loads[name]):.2f}-{max(loads[name]):.2f} s | {'yes' if met else 'NO'} |"
        )
    print(f"# HTML report: {classes:,} classes ({args.events:,} events of {args.templates:,} shapes)\n")
    print(
        f"Chromium {version}, {result['machine']}; {args.runs} loads per page, interleaved; the page with every "
        f"class holds the details of the top {details:,}.\n"
    )
    print("| Page | Size | Median load | Range | Target met |\n|---|---:|---:|---:|---|")
    print("\n".join(rows))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
