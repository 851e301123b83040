"""The HTML report (``--format html``) in real headless Chromium (Debian's ``chromium`` driven by
Playwright): it loads from ``file://`` with no console error and no network request, the profile
sorts and filters as the contract says, printing opens every section, it works without
JavaScript, and hostile text from a log is shown literally and never runs.

Screenshots (light, dark, phone width) and a print-to-PDF of each report are written to
``tests/artifacts/html/`` (or ``$MQA_TEST_ARTIFACTS``) for a human to look at.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from tests.conftest import REPO, generate_slowlog, require_executable

LOG = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")
SCHEMA = str(REPO / "sample_workloads" / "shop" / "schema.sql")
ARTIFACTS = Path(os.environ.get("MQA_TEST_ARTIFACTS") or REPO / "tests" / "artifacts") / "html"

# Every payload a statement, a comment, a tag or a user name carries in the hostile log, and how
# it must read on the page (control characters are shown as \xNN, invalid UTF-8 as U+FFFD).
PAYLOADS = {
    "</script><script>alert(1)</script>": "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(2)>": "<img src=x onerror=alert(2)>",
    '"><svg/onload=alert(3)>': '"><svg/onload=alert(3)>',
    "{{7*7}}": "{{7*7}}",
    "{% raw %}": "{% raw %}",
    "[bold red]rich[/bold red]": "[bold red]rich[/bold red]",
    "\x1b[31mANSI\x1b[0m": "\\x1b[31mANSI\\x1b[0m",
    "<b>user</b>": "<b>user</b>",  # an account name: valid inline HTML where Markdown allows HTML
    "<i>tag</i>": "<i>tag</i>",  # a tag's value
}
RECORDERS = """
window.__calls = [];
for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
  window[name] = function () { window.__calls.push([name, String(arguments[0])]); };
}
"""


def mqa(*args: str, columns: int = 160) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        timeout=600,
        cwd=REPO,
        env={"HOME": "/nonexistent", "COLUMNS": str(columns), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result


def hostile_log(path: Path) -> Path:
    """A MySQL slow log whose statements, comments, tags and accounts carry markup of every output
    format, a terminal escape sequence and bytes that are not UTF-8."""
    events = [
        b"SELECT '</script><script>alert(1)</script>' AS a FROM t1 WHERE id = 1",
        b"SELECT * FROM t2 WHERE name = '<img src=x onerror=alert(2)>'",
        b"SELECT 1 FROM t3 /* \"><svg/onload=alert(3)> */ WHERE x = '{{7*7}}' AND y = '{% raw %}'",
        b"UPDATE t4 SET note = '[bold red]rich[/bold red] \x1b[31mANSI\x1b[0m' WHERE id = 2",
        b"SELECT * FROM t5 WHERE name = 'caf\xe9 \xff\xfe'",
        b"<img src=x onerror=alert(6)> {{7*7}} not sql at all",
        b"/* app=<i>tag</i>,route=</script> */ SELECT * FROM t6 WHERE id = 3",
    ]
    out = [
        b"/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:\n",
        b"Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n",
        b"Time                 Id Command    Argument\n",
    ]
    for i, statement in enumerate(events):
        user = b"<svg/onload=alert(8)>" if i == 2 else b"<b>user</b>" if i == 4 else b"app"
        out += [
            f"# Time: 2024-05-01T10:00:0{i}.000000Z\n".encode(),
            b"# User@Host: " + user + b"[" + user + b"] @ web1 [10.0.0.1]  Id:     7\n",
            b"# Query_time: 0.%d00000  Lock_time: 0.000010 Rows_sent: 1  Rows_examined: 100\n" % (i + 1),
            b"SET timestamp=1714557600;\n",
            statement + b";\n",
        ]
    path.write_bytes(b"".join(out))
    return path


# --------------------------------------------------------------------------------------------
# Without a browser: the page's structure
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """The HTML reports of the sample workload: digest, offline advise, offline explain."""
    out = tmp_path_factory.mktemp("html")
    paths = {name: out / f"{name}.html" for name in ("digest", "advise", "explain")}
    mqa("digest", LOG, "-f", "html", "-o", str(paths["digest"]))
    mqa("advise", LOG, "--schema-file", SCHEMA, "-f", "html", "-o", str(paths["advise"]))
    mqa(
        "explain",
        "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
        "--schema-file",
        SCHEMA,
        "-D",
        "shop",
        "-f",
        "html",
        "-o",
        str(paths["explain"]),
    )
    return paths


@pytest.fixture(scope="module")
def sample_json() -> dict:
    return json.loads(mqa("digest", LOG, "-f", "json").stdout)


def _inline(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)


@pytest.mark.parametrize("name", ["digest", "advise", "explain"])
def test_the_page_is_self_contained_with_a_strict_policy(reports, name) -> None:
    html = reports[name].read_text(encoding="utf-8")
    policy = unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html).group(1))
    assert policy.startswith("default-src 'none';") and "unsafe-inline" not in policy
    scripts, styles = _inline(html, "script"), _inline(html, "style")
    assert len(scripts) == 1 and len(styles) == 1 and html.count("<script") == 1
    for text, directive in ((scripts[0], "script-src"), (styles[0], "style-src")):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy  # the only script and style the page may run
    assert not re.search(r"""\s(?:src|href|action)=["']?(?:https?:|//)""", html)  # nothing remote
    assert not re.search(r"<[^>]*\son\w+=", html)  # no inline event handler
    assert "@import" not in styles[0] and "url(" not in styles[0]


def test_the_header_and_profile_follow_the_report(reports, sample_json) -> None:
    html = reports["digest"].read_text(encoding="utf-8")
    summary = sample_json["summary"]
    assert f"<dt>Events</dt><dd>{summary['events']:,}" in html
    assert f"<dt>Classes</dt><dd>{summary['classes']:,}" in html
    assert "mqa digest " + LOG in html and "-f html -o" in html  # the command that produced it
    assert "mariadb 10.11" in html  # the source's dialect
    ids = re.findall(r'<tr data-class-id="([0-9a-f]{16})"', html)
    assert ids == [c["id"] for c in sample_json["classes"]]
    # each class's details: every metric's eight numbers, its charts, its example with a copy button
    first = sample_json["classes"][0]
    section = html[html.index(f'<details id="c-{first["id"]}"') :]
    section = section[: section.index("</details>")]
    assert section.count('<tr><th scope="row">') == len(
        [m for m, v in first["metrics"].items() if v.get("kind") != "flag"]
    )
    assert section.count("<svg") == 2 and "<title>Query time distribution" in section
    assert f'data-copy="ex-{first["id"]}"' in section


def test_times_are_the_logs_own_or_the_chosen_zone(tmp_path) -> None:
    own = tmp_path / "own.html"
    mqa("digest", LOG, "-f", "html", "-o", str(own))
    assert "<dt>Time span</dt><dd>2026-11-27T11:57:00+00:00 to" in own.read_text(encoding="utf-8")
    india = tmp_path / "india.html"
    mqa("digest", LOG, "-f", "html", "-o", str(india), "--tz", "+05:30")
    assert "<dt>Time span</dt><dd>2026-11-27T17:27:00+05:30 to" in india.read_text(encoding="utf-8")


def test_size_of_a_two_thousand_class_report(tmp_path) -> None:
    """Every class in the profile, details as many as fit: under 4 MB with --limit 0, under 500 KB
    with the default --limit (the load time is measured by tests/benchmarks/run_html_benchmark.py)."""
    log = generate_slowlog(tmp_path / "shapes.log", "--events", "60000", "--templates", "2000", timeout=600)
    every, default = tmp_path / "every.html", tmp_path / "default.html"
    mqa("digest", str(log), "--limit", "0", "-f", "html", "-o", str(every))
    mqa("digest", str(log), "-f", "html", "-o", str(default))
    html = every.read_text(encoding="utf-8")
    classes = int(re.search(r"<dt>Classes</dt><dd>([\d,]+)", html).group(1).replace(",", ""))
    assert classes >= 1800
    assert html.count("<tr data-class-id=") == classes
    assert every.stat().st_size < 4_000_000
    assert default.stat().st_size < 500_000
    details = html.count('<details id="c-')
    assert 500 <= details <= classes
    if details < classes:
        assert f"The details of the last {classes - details} classes" in html


# --------------------------------------------------------------------------------------------
# In Chromium
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    chromium = os.environ.get("MQA_CHROMIUM") or require_executable(
        "chromium", "apt-get install chromium (scripts/test.sh installs it)"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class Page:
    """A page with its console errors, uncaught exceptions and network requests recorded."""

    def __init__(
        self,
        browser,
        path: Path,
        *,
        scheme: str = "light",
        width: int = 1280,
        javascript: bool = True,
        init_script: str | None = None,
        timezone: str = "Pacific/Auckland",
    ) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 800},
            color_scheme=scheme,
            java_script_enabled=javascript,
            timezone_id=timezone,
        )
        if init_script:
            self.context.add_init_script(init_script)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url, wait_until="load")

    def visible_ids(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#profile tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.classId)"
        )

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("name", ["digest", "advise", "explain"])
def test_reports_load_offline_without_errors(browser, reports, name) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page = Page(browser, reports[name], scheme=scheme)
        assert page.errors == []
        assert page.requests == [page.url]  # the page itself and nothing else
        page.page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}.png"), full_page=False)
        if scheme == "light":
            page.page.pdf(path=str(ARTIFACTS / f"{name}.pdf"))
        page.close()
    phone = Page(browser, reports[name], width=390)
    overflow = phone.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the page scrolls sideways at phone width"
    phone.page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"))
    phone.close()


def test_the_page_is_accessible(browser, reports) -> None:
    page = Page(browser, reports["advise"])
    problems = page.page.evaluate("""() => {
      const out = [];
      for (const t of document.querySelectorAll("table")) if (!t.caption) out.push("table without caption");
      for (const th of document.querySelectorAll("th")) if (!th.getAttribute("scope")) out.push("th without scope: " + th.textContent);
      for (const s of document.querySelectorAll("svg")) {
        if (!s.querySelector(":scope > title") || !s.querySelector(":scope > desc")) out.push("svg without title/desc");
        if (s.getAttribute("role") !== "img") out.push("svg without role=img");
      }
      for (const e of document.querySelectorAll("input")) if (!document.querySelector(`label[for="${e.id}"]`)) out.push("unlabelled input");
      return out;
    }""")
    assert problems == []
    # severity and verification are text, not only colour
    assert page.page.locator(".sev").first.inner_text() in ("critical", "warning", "info")
    page.close()


def _column(page: Page, header: str) -> int:
    names = page.page.eval_on_selector_all("#profile thead th", "ths => ths.map(t => t.textContent.trim())")
    return names.index(header)


def _cells(page: Page, column: int) -> list[str]:
    return page.page.eval_on_selector_all(
        "#profile tbody tr",
        f"rows => rows.filter(r => !r.hidden).map(r => r.cells[{column}].dataset.v ?? r.cells[{column}].textContent)",
    )


def test_clicking_a_header_sorts_the_profile(browser, reports, sample_json) -> None:
    page = Page(browser, reports["digest"])
    by_count = sorted(sample_json["classes"], key=lambda c: -c["count"])
    page.page.click("#profile th:text-is('Count')")
    assert page.page.get_attribute("#profile th:text-is('Count')", "aria-sort") == "descending"
    counts = [int(v) for v in _cells(page, _column(page, "Count"))]
    assert counts == [c["count"] for c in by_count]  # numbers as numbers: 83 after 336, 1000 before 999
    page.page.click("#profile th:text-is('Count')")
    assert [int(v) for v in _cells(page, _column(page, "Count"))] == sorted(counts)
    page.page.click("#profile th:text-is('Rank')")
    page.page.click("#profile th:text-is('Rank')")  # ascending: 1, 2, ... 10, not 1, 10, 2
    assert page.visible_ids() == [c["id"] for c in sample_json["classes"]]
    page.page.click("#profile th:text-is('Class text')")
    texts = _cells(page, _column(page, "Class text"))
    assert len(set(texts)) > 10
    assert texts == page.page.evaluate("t => t.slice().sort((a, b) => b.localeCompare(a))", texts)
    assert page.errors == []
    page.close()


@pytest.mark.parametrize(
    "query, field",
    [
        ("reviews", "text or table"),
        ("shop_api", "user"),
        ("route=/v1/orders", "tag"),
        ("localhost", "host"),
        ("shop.order_items", "table"),
        ("no such text anywhere", "none"),
    ],
)
def test_typing_a_filter_keeps_the_matching_rows(browser, reports, sample_json, query, field) -> None:
    def matches(c: dict) -> bool:
        fields = [
            c["id"],
            c["fingerprint"],
            *c["databases"],
            *c["users"],
            *c["hosts"],
            *c["tables"],
            *c.get("tags", {}),
        ]
        return any(query.lower() in f.lower() for f in fields)

    expected = [c["id"] for c in sample_json["classes"] if matches(c)]
    assert field == "none" or expected, "the case must match something"
    page = Page(browser, reports["digest"])
    page.page.fill("#filter", query)
    assert page.visible_ids() == expected
    assert page.page.inner_text("#shown") == f"{len(expected)} of {len(sample_json['classes'])} classes shown"
    page.page.fill("#filter", "")
    assert len(page.visible_ids()) == len(sample_json["classes"])
    page.close()


def test_printing_opens_every_section(browser, reports) -> None:
    page = Page(browser, reports["digest"])
    page.page.evaluate("""() => { window.__closedAtPrint = -1;
      addEventListener("beforeprint", () => { window.__closedAtPrint = document.querySelectorAll("details:not([open])").length; }); }""")
    assert page.page.evaluate("document.querySelectorAll('details:not([open])').length") > 0
    page.page.pdf(path=str(ARTIFACTS / "digest-printed.pdf"))
    assert page.page.evaluate("window.__closedAtPrint") == 0
    assert page.page.evaluate("document.querySelectorAll('details:not([open])').length") > 0  # closed again after
    page.close()


def test_the_report_works_without_javascript(browser, reports, sample_json) -> None:
    page = Page(browser, reports["digest"], javascript=False)
    assert len(page.page.locator("#profile tbody tr").all()) == len(sample_json["classes"])
    last = sample_json["classes"][-1]["id"]
    section = page.page.locator(f"#c-{last}")
    assert section.get_attribute("open") is None
    section.locator("summary").click()  # <details> opens without a script
    assert section.get_attribute("open") is not None
    assert "Slowest example" in section.inner_text()
    page.close()


def test_a_link_to_a_class_opens_its_section(browser, reports, sample_json) -> None:
    page = Page(browser, reports["digest"])
    last = sample_json["classes"][-1]["id"]
    assert page.page.get_attribute(f"#c-{last}", "open") is None
    page.page.click(f"#profile a[href='#c-{last}']")
    # the page opens the target on "hashchange", which fires after the click returns: wait for it
    page.page.wait_for_selector(f"#c-{last}[open]", state="attached", timeout=5_000)
    page.close()
    advise = Page(browser, reports["advise"])
    target = advise.page.locator("#details a[href^='#a-']").first.get_attribute("href")[1:]
    advise.page.evaluate(f"document.getElementById('{target}').open = false")
    advise.page.evaluate(f"location.hash = '{target}'")  # what the link in a class's details does
    advise.page.wait_for_selector(f"#{target}[open]", state="attached", timeout=5_000)
    advise.close()


def test_copy_buttons_copy_the_text(browser, reports) -> None:
    page = Page(browser, reports["explain"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.page.click("button[data-copy='ddl-all']")
    copied = page.page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("ALTER TABLE `shop`.`orders` ADD INDEX") and copied.endswith(";")
    assert page.page.inner_text("button[data-copy='ddl-all']") == "Copied"
    page.close()


# --------------------------------------------------------------------------------------------
# Hostile text
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    return hostile_log(tmp_path_factory.mktemp("hostile") / "hostile.log")


def _open_everything(page: Page) -> None:
    page.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")


def _assert_inert(page: Page, scripts: int) -> None:
    assert page.page.evaluate("window.__calls") == []
    injected = page.page.evaluate("""() => ({
      elements: document.querySelectorAll("img, iframe, object, embed, foreignObject").length,
      scripts: document.scripts.length,
      handlers: [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
    })""")
    assert injected == {"elements": 0, "scripts": scripts, "handlers": 0}


def test_hostile_text_in_the_html_report_is_inert_and_literal(browser, hostile, tmp_path) -> None:
    out = tmp_path / "hostile.html"
    mqa("digest", str(hostile), "-f", "html", "-o", str(out))
    html = out.read_text(encoding="utf-8")
    assert html.count("<script") == 1 and "<img" not in html and "<svg/" not in html
    page = Page(browser, out, init_script=RECORDERS)
    _open_everything(page)
    for header in ("Rank", "Class text", "Count"):
        page.page.click(f"#profile th:text-is('{header}')")
    page.page.fill("#filter", "<img src=x")
    assert page.visible_ids(), "the filter finds the class whose text holds the payload"
    page.page.fill("#filter", "")
    _assert_inert(page, scripts=1)
    text = page.page.inner_text("body")
    for shown in PAYLOADS.values():
        assert shown in text
    assert "caf\ufffd \ufffd\ufffd" in text
    assert page.errors == []
    page.close()


def test_hostile_text_in_markdown_stays_text(browser, hostile, tmp_path) -> None:
    """The Markdown as GitHub would render it before sanitising (raw HTML passed through): nothing
    in it becomes an element or runs."""
    from markdown_it import MarkdownIt

    markdown = mqa("digest", str(hostile), "-f", "markdown", "--details", "10").stdout.decode()
    assert "\x1b" not in markdown
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    page_path = tmp_path / "markdown.html"
    page_path.write_text(f"<!doctype html><meta charset=utf-8><body>{rendered}</body>", encoding="utf-8")
    page = Page(browser, page_path, init_script=RECORDERS)
    _open_everything(page)
    _assert_inert(page, scripts=0)
    text = page.page.inner_text("body")
    for shown in PAYLOADS.values():
        assert shown in text
    assert page.page.locator("details").count() >= 7  # one per class, GitHub-style
    page.close()


def test_hostile_text_in_the_terminal_is_literal(hostile) -> None:
    out = mqa("digest", str(hostile), "--details", "10", columns=300).stdout.decode()
    assert "\x1b" not in out  # the log's escape sequence is shown, not sent (and no colour when piped)
    flat = " ".join(out.split())
    for shown in PAYLOADS.values():
        assert " ".join(shown.split()) in flat


@pytest.fixture(scope="module")
def history_pages(tmp_path_factory) -> dict[str, Path]:
    """The pages of a scheduled job: two runs of mqa report (the sample log in two halves), the
    diff of the two runs, a class's trend and the daily merge."""
    import gzip

    from tests.test_history_incremental import parts_of

    out = tmp_path_factory.mktemp("history")
    url = f"sqlite:///{out / 'history.sqlite'}"
    log = out / "slow.log"
    first, second = parts_of(gzip.decompress(Path(LOG).read_bytes()), 2)
    log.write_bytes(first)
    mqa("report", str(log), "--history", url, "--html", str(out / "run1.html"))
    log.write_bytes(first + second)
    mqa("report", str(log), "--history", url, "--html", str(out / "report.html"), "--json", str(out / "run2.json"))
    pages = {"report": out / "report.html"}
    for name, args in {
        "diff": ["diff", "1", "2", "--history", url],
        "trend": ["history", "31763a731dd625b5", "--history", url],
        "runs": ["history", "--history", url],
        "periods": ["history", "--merge", "daily", "--history", url],
    }.items():
        pages[name] = out / f"{name}.html"
        mqa(*args, "-f", "html", "-o", str(pages[name]))
    return pages


@pytest.mark.parametrize("name", ["report", "diff", "trend", "runs", "periods"])
def test_the_scheduled_job_pages_load_offline_without_errors(browser, history_pages, name) -> None:
    html = history_pages[name].read_text(encoding="utf-8")
    assert html.count("<script") == 1 and not re.search(r"""\s(?:src|href)=["']?(?:https?:|//)""", html)
    page = Page(browser, history_pages[name])
    assert page.errors == [] and page.requests == [page.url]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / f"history-{name}.png"), full_page=False)
    text = page.page.inner_text("body")
    expected = {
        "report": "Changes since the baseline",
        "diff": "regressions",
        "trend": "31763a731dd625b5",
        "runs": "Runs",
        "periods": "Periods (daily)",
    }[name]
    assert expected in text
    if name == "trend":
        assert page.page.locator("svg.series").count() == 4
    if name == "report":
        assert page.page.locator("#profile tbody tr").count() > 50  # every class of the run
    page.close()


def test_the_profile_switches_between_classes_and_groups(browser, tmp_path) -> None:
    page_path = tmp_path / "groups.html"
    mqa("digest", LOG, "--group-by", "tag:route", "-f", "html", "-o", str(page_path))
    page = Page(browser, page_path)
    assert page.page.is_visible("#classes") and not page.page.is_visible("#groups")
    page.page.check("#view-switch input[value=groups]")
    assert page.page.is_visible("#groups") and not page.page.is_visible("#classes")
    assert page.page.locator("#group-table tbody tr").first.get_attribute("data-group") == "/account/orders"
    assert "5× per request" in page.page.inner_text("#requests")
    assert page.errors == []
    page.close()
    no_js = Page(browser, page_path, javascript=False)  # without a script both are there
    assert no_js.page.is_visible("#classes") and no_js.page.is_visible("#groups")
    no_js.close()
