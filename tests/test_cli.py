"""``mqa digest`` as a user runs it: formats, options, exit codes and exact messages."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from analyzer import __version__
from analyzer.digest import digest_logs
from analyzer.report.digest import build_report
from analyzer.report.options import RenderOptions
from analyzer.report.render.markdown import to_markdown
from analyzer.report.render.terminal import render_on
from analyzer.sources.slowlog import SlowLogReader
from cli.main import app
from tests.conftest import FIXTURES, REPO

SAMPLE = str(REPO / "sample_workloads/shop/slow.log.gz")
ELASTIC = FIXTURES / "slowlogs-elastic-beats/filebeat/module/mysql/slowlog/test"
runner = CliRunner()


def mqa(*args: str, input: bytes | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def test_version() -> None:
    result = mqa("--version")
    assert result.exit_code == 0 and result.stdout == f"mqa {__version__}\n"


def test_table_report_on_the_sample_workload() -> None:
    result = mqa("digest", SAMPLE, "--limit", "5", "--details", "2")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "20,009 events" in out and "mariadb 10.11" in out and "0 malformed events" in out
    assert "Profile: top 5 of" in out
    assert out.count("Fingerprint:") == 2 and "Query time distribution" in out and "Example (slowest" in out
    assert "SELECT orders.* FROM orders WHERE orders.customer_id = ?" in out  # the slowest class


def test_json_report_follows_the_contract() -> None:
    result = mqa("digest", SAMPLE, "--format", "json", "--limit", "0")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert doc["tool"] == {"name": "mqa", "version": __version__}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", doc["generated_at"])
    (source,) = doc["sources"]
    assert {"kind", "name", "events", "malformed", "dialect"} <= set(source)
    assert source["kind"] == "slowlog" and source["events"] == 20_009 and source["malformed"] == 0
    summary = doc["summary"]
    assert {"events", "classes", "start", "end", "query_time_total"} <= set(summary)
    assert summary["events"] == 20_009 and summary["classes"] == len(doc["classes"])
    assert sum(c["count"] for c in doc["classes"]) == summary["events"]
    assert sum(c["metrics"]["query_time"]["sum"] for c in doc["classes"]) == pytest.approx(summary["query_time_total"])
    assert doc["findings"] == [] and doc["index_suggestions"] == []
    for c in doc["classes"]:
        assert re.fullmatch(r"[0-9a-f]{16}", c["id"]) and re.fullmatch(r"[0-9A-F]{32}", c["pt_id"])
        assert {
            "fingerprint",
            "example",
            "count",
            "first_seen",
            "last_seen",
            "databases",
            "users",
            "hosts",
            "tags",
            "tables",
            "metrics",
        } <= set(c)
        for name in ("query_time", "lock_time", "rows_sent", "rows_examined"):
            assert {"sum", "min", "max", "avg", "p50", "p95", "p99", "stddev"} <= set(c["metrics"][name])
            m = c["metrics"][name]
            assert m["min"] <= m["p50"] <= m["p95"] <= m["p99"] <= m["max"]
        assert isinstance(c["metrics"]["query_time"]["sum"], float)
    ids = [c["id"] for c in doc["classes"]]
    assert len(set(ids)) == len(ids)


def test_markdown_report() -> None:
    result = mqa("digest", SAMPLE, "--format", "markdown", "--limit", "3", "--details", "1")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("# mqa digest\n")
    assert "| Rank | Class | Time | % | Count | Avg | p95 | Rows ex/sent | Fingerprint |" in out
    assert out.count("\n<details><summary><b>#") == 1 and out.count("\n</details>") == 1 and "```sql" in out


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = mqa("digest", SAMPLE, "--format", "json", "--output", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text())["summary"]["events"] == 20_009


@pytest.mark.parametrize(
    "args,message",
    [
        (["digest", "missing.log"], "mqa: error: missing.log: no such file\n"),
        (
            ["digest", "--since", "yesterday-ish", SAMPLE],
            "mqa: error: cannot read time 'yesterday-ish'; use ISO-8601 (2024-05-01T10:00:00, with an optional "
            "offset), a date (2024-05-01), a Unix epoch, or a duration back from now (30m, 12h, 7d)\n",
        ),
        (["digest", "-", "-"], "mqa: error: stdin (-) can be given only once\n"),
    ],
)
def test_input_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = mqa(*args)
    assert result.exit_code == 2
    assert result.stderr == message and result.stdout == ""


def test_directory_exits_2(tmp_path: Path) -> None:
    result = mqa("digest", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == f"mqa: error: {tmp_path}: is a directory; give the slow log file(s) inside it\n"


def test_usage_errors_exit_2() -> None:
    result = runner.invoke(app, ["digest", SAMPLE, "--order-by", "nonsense"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_stdin_and_several_files() -> None:
    data = gzip.decompress(Path(SAMPLE).read_bytes())
    result = mqa("digest", "-", "--format", "json", input=data)
    assert json.loads(result.stdout)["summary"]["events"] == 20_009
    two = [str(ELASTIC / "mysql-5.7.22.log"), str(ELASTIC / "mysql-ubuntu-8.0.15.log")]
    doc = json.loads(mqa("digest", *two, "--format", "json").stdout)
    assert doc["summary"]["events"] == 4 + 2 and [s["events"] for s in doc["sources"]] == [4, 2]


def test_order_by_and_limit() -> None:
    doc = json.loads(mqa("digest", SAMPLE, "--format", "json", "--order-by", "count", "--limit", "4").stdout)
    counts = [c["count"] for c in doc["classes"]]
    assert len(counts) == 4 and counts == sorted(counts, reverse=True)
    everything = json.loads(mqa("digest", SAMPLE, "--format", "json", "--limit", "0").stdout)
    assert counts[0] == max(c["count"] for c in everything["classes"])


def test_filters_select_the_right_events() -> None:
    events = list(SlowLogReader.from_path(SAMPLE).events())

    def events_with(*args: str) -> int:
        return json.loads(mqa("digest", SAMPLE, "--format", "json", *args).stdout)["summary"]["events"]

    assert events_with("--user", "shop_web") == sum(e.user == "shop_web" for e in events)
    assert events_with("--user", "shop_w*", "--user", "shop_api") == sum(
        e.user in ("shop_web", "shop_worker", "shop_api") for e in events
    )
    assert events_with("--database", "shop") == len(events)
    assert events_with("--database", "nope") == 0
    assert events_with("--host", "localhost") == len(events)
    tagged = sum("controller='orders'" in e.query for e in events)
    assert tagged and events_with("--tag", "controller=orders") == tagged
    middle = sorted(e.ts for e in events)[len(events) // 2]
    assert 0 < events_with("--since", str(middle)) < len(events)
    assert events_with("--since", str(middle)) + events_with("--until", str(middle - 1e-6)) == len(events)


def _hostile_log(tmp_path: Path) -> Path:
    query = (
        "SELECT '[bold]x[/]' AS a, '[link=javascript:alert(1)]y[/link]' AS b, '\x1b[31mRED\x1b[0m' AS c, 'a|b`c' FROM t"
    )
    path = tmp_path / "hostile.log"
    path.write_bytes(
        b"# Time: 2024-05-01T10:00:00Z\n# User@Host: [evil][x] @ h [1.2.3.4]\n"
        b"# Query_time: 1  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\n"
        + query.encode()
        + b" /*controller='[red]x[/red]'*/;\n"
    )
    return path


def test_query_text_is_never_interpreted_by_the_terminal(tmp_path: Path) -> None:
    report = build_report(digest_logs([str(_hostile_log(tmp_path))]))
    buffer = io.StringIO()
    render_on(Console(file=buffer, force_terminal=True, width=200, color_system="truecolor"), report)
    out = buffer.getvalue()
    assert "\x1b[31mRED" not in out  # the log's escape sequence is shown, not sent
    assert "\\x1b[31mRED" in out
    plain = re.sub(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\\\", "", out)
    assert "'[bold]x[/]'" in plain and "[link=javascript:alert(1)]y[/link]" in plain
    assert "javascript:" not in out.replace("[link=javascript:", "")  # no hyperlink was made
    assert "controller=[red]x[/red]" in plain


def test_markdown_escapes_table_cells(tmp_path: Path) -> None:
    report = build_report(digest_logs([str(_hostile_log(tmp_path))]))
    out = to_markdown(report, RenderOptions())
    profile_row = next(line for line in out.splitlines() if line.startswith("| 1 |"))
    assert profile_row.count(" | ") == 8  # the '|' inside the fingerprint did not add a column
    assert "\x1b" not in out


def test_invalid_utf8_gives_valid_json(tmp_path: Path) -> None:
    path = tmp_path / "latin1.log"
    path.write_bytes(
        b"# User@Host: a[a] @ h []\n# Query_time: 1  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\n"
        b"SELECT * FROM t WHERE name = '\xe9t\xe9';\n"
    )
    result = mqa("digest", str(path), "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["classes"][0]["example"] == "SELECT * FROM t WHERE name = '\ufffdt\ufffd'"


def test_malformed_events_are_listed_with_file_and_line() -> None:
    log = str(ELASTIC / "mysql-debian-5.7.19.log")
    result = mqa("digest", log)
    shown = " ".join(result.stdout.split())  # the terminal report may wrap long lines
    assert f"{log}:5: event header without a statement at end of file (log cut short?)" in shown
    doc = json.loads(mqa("digest", log, "--format", "json").stdout)
    assert doc["sources"][0]["malformed"] == 1
    assert doc["sources"][0]["malformed_samples"] == [
        {"line": 5, "reason": "event header without a statement at end of file (log cut short?)"}
    ]


def test_progress_bar_draws_on_a_terminal_only() -> None:
    from cli.progress import ReadProgress

    terminal = io.StringIO()
    with ReadProgress(Console(file=terminal, force_terminal=True, width=100), enabled=True) as bar:
        bar.update(512 << 10, 1 << 20)
        bar.update(1 << 20, 1 << 20)
    assert "reading" in terminal.getvalue()
    quiet = io.StringIO()
    with ReadProgress(Console(file=quiet, force_terminal=True, width=100), enabled=False) as bar:
        bar.update(1, 2)
    assert quiet.getvalue() == ""
    # mqa digest decides by whether stderr is a terminal; under the test runner it is not
    result = mqa("digest", SAMPLE, "--limit", "1", "--details", "0")
    assert result.stderr == ""


# --------------------------------------------------------------------------------------------
# One vocabulary, one-line usage errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["digest"], ["collect"], ["top"], ["indexes"], ["explain"], ["advise"]])
def test_help_is_dash_dash_help_everywhere_and_shows_no_type_placeholders(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout and "<int" not in result.stdout


def test_dash_h_is_the_host_of_the_server_commands() -> None:
    result = runner.invoke(app, ["collect", "-h"])
    assert (result.exit_code, result.stderr) == (2, "mqa: error: Option '-h' requires an argument.\n")
    assert runner.invoke(app, ["digest", "-h"]).exit_code == 2  # no -h help anywhere: one meaning


@pytest.mark.parametrize(
    "args",
    [
        ["digest", SAMPLE, "--bogus"],
        ["digest", SAMPLE, "--order-by", "bogus"],
        ["nosuch"],
        ["digest", SAMPLE, "--limit", "many"],
    ],
)
def test_usage_errors_are_one_line(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("mqa: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and "╭" not in result.stderr


def test_the_old_spellings_still_work() -> None:
    def events(*args: str) -> int:
        return json.loads(mqa("digest", SAMPLE, "--format", "json", *args).stdout)["summary"]["events"]

    assert events("--user", "shop_api") == events("-u", "shop_api") < events()
    assert events("-D", "shop", "--user", "shop_web") == events("-d", "shop", "-u", "shop_web")
    schema = str(REPO / "sample_workloads" / "shop" / "schema.sql")
    new = mqa("explain", "SELECT * FROM orders WHERE customer_id = 7", "--schema-file", schema, "--format", "json")
    old = mqa("explain", "SELECT * FROM orders WHERE customer_id = 7", "--schema", schema, "--format", "json")
    assert new.exit_code == old.exit_code == 0
    assert json.loads(new.stdout)["index_suggestions"] == json.loads(old.stdout)["index_suggestions"]


def test_redirected_reports_are_not_padded() -> None:
    out = mqa("digest", SAMPLE, "--limit", "3", "--details", "1").stdout
    assert out and all(line == line.rstrip() for line in out.splitlines())
