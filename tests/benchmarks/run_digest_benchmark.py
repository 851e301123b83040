#!/usr/bin/env python3
"""Time ``mqa digest`` against ``pt-query-digest`` on the same generated MySQL 8.0 slow log.

    python tests/benchmarks/run_digest_benchmark.py                 # 1M events, 3 runs per tool
    python tests/benchmarks/run_digest_benchmark.py --events 100000 --runs 5
    python tests/benchmarks/run_digest_benchmark.py --log /path/to/slow.log --skip-pt
    python tests/benchmarks/run_digest_benchmark.py --mqa "/other/venv/bin/mqa" --json-out result.json

Rows timed (each run in a fresh process, runs interleaved round-robin between the tools):

    pt-query-digest --output json --limit 1000000 --no-version-check LOG > /dev/null
    mqa digest LOG --format json --output /dev/null
    mqa digest LOG --fingerprint pt --format json --output /dev/null
    env MQA_PURE_PYTHON=1 mqa digest LOG --format json --output /dev/null    (unless --skip-pure)

For every run: wall time, peak RSS of the whole process tree (the sum over the tool's processes,
sampled every 50 ms from /proc, so parallel workers count; never less than ``ru_maxrss`` of the
largest process) and CPU time (user + sys of the tree).  Measured with GNU ``/usr/bin/time``
when it is installed (``--timer auto``), otherwise with a small Python wrapper process that spawns
the tool and reports its own ``getrusage(RUSAGE_CHILDREN)``.  Before timing, every tool is run once
on the first events of the log and must exit 0 (pt-query-digest's JSON must also count them all).

The log is generated into ``tests/benchmarks/data/`` (git-ignored) by ``generate_slowlog.py`` unless
``--log`` is given.  The result is printed as a Markdown table, ready to paste into a README.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = HERE / "data"
GENERATOR = HERE / "generate_slowlog.py"
GNU_TIME = "/usr/bin/time"
PT = "pt-query-digest"
VERIFY_EVENTS = 2000

# Runs one command, reports its rusage as JSON on stdout.  argv[1] is a JSON spec.
RUSAGE_WRAPPER = r"""
import json, resource, subprocess, sys, time
spec = json.loads(sys.argv[1])
out = open(spec["stdout"], "wb")
err = open(spec["stderr"], "wb")
t0 = time.perf_counter()
p = subprocess.Popen(spec["argv"], stdin=subprocess.DEVNULL, stdout=out, stderr=err)
rc = p.wait()
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
maxrss = ru.ru_maxrss // 1024 if sys.platform == "darwin" else ru.ru_maxrss  # KiB
print(json.dumps({"rc": rc, "wall": wall, "maxrss_kib": maxrss, "user": ru.ru_utime, "sys": ru.ru_stime}))
"""


@dataclass
class Tool:
    key: str
    label: str
    argv: list[str]  # with the literal placeholder "{LOG}"
    stdout_devnull: bool  # pt writes its report to stdout
    runs: list[dict] = field(default_factory=list)

    def command(self, log: Path) -> list[str]:
        return [str(log) if a == "{LOG}" else a for a in self.argv]

    def display(self) -> str:
        cmd = " ".join(shlex.quote(a) if a != "{LOG}" else "LOG" for a in self.argv)
        return cmd + (" > /dev/null" if self.stdout_devnull else "")


# ---------------------------------------------------------------------------------------------
def fail(msg: str, code: int = 2) -> NoReturn:
    print(f"run_digest_benchmark: ERROR: {msg}", file=sys.stderr)
    sys.exit(code)


def count_events(path: Path) -> int:
    """Number of '# Query_time:' lines (one per event), counted in binary chunks."""
    pat = b"\n# Query_time: "
    n, tail = 0, b"\n"
    with open(path, "rb") as f:
        while True:
            chunk = f.read(16 << 20)
            if not chunk:
                break
            buf = tail + chunk
            n += buf.count(pat)
            tail = buf[-(len(pat) - 1) :]
    return n


def _head(path: Path, size: int = 8192) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def warm_page_cache(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def head_events(src: Path, dst: Path, events: int) -> int:
    """Copy the banner and the first ``events`` events of a slow log."""
    seen = 0
    with open(src, "rb") as f, open(dst, "wb") as out:
        for line in f:
            if line.startswith(b"# Time: "):
                if seen == events:
                    break
                seen += 1
            out.write(line)
    return seen


def generate_log(events: int, seed: int, templates: int, extra: bool, spellings: bool = False) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    name = (
        f"slow-mysql80-{events}ev-seed{seed}-t{templates}{'-extra' if extra else ''}"
        f"{'-spellings' if spellings else ''}.log"
    )
    path = DATA / name
    if path.exists() and path.stat().st_size > 0:
        print(f"using existing log {path}", file=sys.stderr)
        return path
    tmp = path.with_suffix(".log.partial")
    cmd = (
        [
            sys.executable,
            str(GENERATOR),
            "--events",
            str(events),
            "--seed",
            str(seed),
            "--templates",
            str(templates),
            "--output",
            str(tmp),
        ]
        + (["--extra"] if extra else [])
        + (["--spellings"] if spellings else [])
    )
    print("generating:", " ".join(shlex.quote(c) for c in cmd), file=sys.stderr)
    r = subprocess.run(cmd)
    if r.returncode != 0:
        fail(f"log generator exited with {r.returncode}")
    tmp.replace(path)
    return path


def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def _pss_kib(pid: int) -> int:
    """Proportional set size: resident memory with pages shared by n processes counted 1/n
    times, so forked workers sharing their parent's pages are not counted twice."""
    for path, field_name in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(field_name):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


def tree_rss_kib(root: int) -> int:
    """Memory (PSS) of every descendant of ``root`` (not root itself, the timer)."""
    children = _proc_children()
    total, stack = 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        total += _pss_kib(pid)
        stack.extend(children.get(pid, []))
    return total


def _run_sampled(argv: list[str], stdout, stderr) -> tuple[int, float, int]:
    """Run argv; return (exit status, wall seconds, peak memory of its whole process tree in KiB:
    the sum of PSS over its processes, sampled every 50 ms; worker processes count, unlike
    in ru_maxrss)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    peak = 0
    while proc.poll() is None:
        if os.path.isdir("/proc"):
            peak = max(peak, tree_rss_kib(proc.pid))
        time.sleep(0.05)
    return proc.returncode, time.perf_counter() - t0, peak


def run_once(tool: Tool, log: Path, timer: str, tmpdir: Path) -> dict:
    argv = tool.command(log)
    out_path = os.devnull  # pt's report goes to stdout; mqa writes to --output /dev/null
    err_path = tmpdir / f"{tool.key}.stderr"
    if timer == "gnu-time":
        tfile = tmpdir / "time.out"
        full = [GNU_TIME, "-o", str(tfile), "-f", "%e %U %S %M", "--"] + argv
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            rc, outer_wall, tree_peak = _run_sampled(full, out, err)
        lines = tfile.read_text().strip().splitlines() if tfile.exists() else []
        try:
            e, u, s, m = lines[-1].split()
            # wall: the parent's perf_counter (GNU time's %e has 10 ms resolution)
            res = {
                "rc": rc,
                "wall": outer_wall,
                "time_e": float(e),
                "user": float(u),
                "sys": float(s),
                "maxrss_kib": int(m),
            }
        except (IndexError, ValueError):
            res = {
                "rc": rc if rc else 1,
                "wall": outer_wall,
                "user": 0.0,
                "sys": 0.0,
                "maxrss_kib": 0,
                "timer_output": lines,
            }
        res["tree_rss_kib"] = tree_peak
    else:
        spec = json.dumps({"argv": argv, "stdout": out_path, "stderr": str(err_path)})
        with tempfile.TemporaryFile("w+") as captured:
            rc, _, tree_peak = _run_sampled(
                [sys.executable, "-I", "-S", "-c", RUSAGE_WRAPPER, spec], captured, subprocess.DEVNULL
            )
            captured.seek(0)
            output = captured.read()
        if rc != 0:
            fail(f"measurement wrapper failed for {tool.label}")
        res = json.loads(output.strip().splitlines()[-1])
        res["tree_rss_kib"] = tree_peak
    if res["rc"] != 0:
        err = err_path.read_text(errors="replace")[-3000:] if err_path.exists() else ""
        fail(
            f"{tool.label} exited with status {res['rc']} during a timed run\n"
            f"command: {' '.join(shlex.quote(a) for a in argv)}\n--- stderr (tail) ---\n{err}"
        )
    return res


def verify(tool: Tool, sample: Path, sample_events: int, tmpdir: Path) -> str:
    """Run the tool on a small log; it must exit 0.  Returns a short note."""
    argv = tool.command(sample)
    if tool.key == "pt":
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True)
        if p.returncode != 0:
            fail(f"{tool.label} exited {p.returncode} on {sample}\n{p.stderr.decode(errors='replace')[-3000:]}")
        try:
            qc = int(json.loads(p.stdout)["global"]["query_count"])
        except (ValueError, KeyError, TypeError) as e:
            fail(f"{tool.label} printed no usable JSON on {sample}: {e}")
        if qc != sample_events:
            fail(f"{tool.label} counted {qc} events in a {sample_events}-event sample log")
        return f"ok, query_count={qc}"
    out = tmpdir / f"verify-{tool.key}.json"
    argv = [str(out) if a == os.devnull else a for a in argv]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True)
    if p.returncode != 0:
        fail(
            f"{tool.label} exited {p.returncode} on {sample}\n"
            f"command: {' '.join(shlex.quote(a) for a in argv)}\n"
            f"{(p.stderr or p.stdout).decode(errors='replace')[-3000:]}"
        )
    note = "ok"
    try:
        json.loads(out.read_text())
        note += ", JSON output"
    except (OSError, ValueError):
        note += ", WARNING: output is not JSON"
    return note


# ---------------------------------------------------------------------------------------------
def sh(cmd: list[str], timeout: float = 60) -> str | None:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (p.stdout or p.stderr).strip()
    return text.splitlines()[0].strip() if p.returncode == 0 and text else None


def cpu_model() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts(mqa: list[str] | None, with_pt: bool) -> dict:
    cpu = cpu_model()
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    facts = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
    }
    if os.path.exists("/proc/loadavg"):
        facts["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[:3]
    if with_pt:
        facts["pt_query_digest"] = sh([PT, "--version"])
        facts["perl"] = sh(["perl", "-e", "print $^V"])
    if mqa:
        v = sh(mqa + ["--version"])
        if not v:
            try:
                from importlib.metadata import version

                v = f"mysql-query-analyzer {version('mysql-query-analyzer')} (package metadata)"
            except Exception:
                v = None
        facts["mqa"] = v
        facts["mqa_command"] = " ".join(mqa)
        python = Path(shutil.which(mqa[0]) or mqa[0]).parent / "python"
        if python.exists():  # were mqa's compiled fast paths (analyzer/_speedups.c) built?
            built = sh([str(python), "-c", "from analyzer.native import speedups; print(speedups is not None)"])
            facts["mqa_compiled"] = built == "True"
    rev = sh(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    if rev:
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        ).stdout.strip()
        facts["git"] = rev + ("-dirty" if dirty else "")
    return facts


def summarize(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt_range(s: dict, fmt: str) -> str:
    return f"{s['median']:{fmt}} ({s['min']:{fmt}}–{s['max']:{fmt}})"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b > 0 else "n/a"


def render_markdown(tools: list[Tool], stats: dict, facts: dict, log: dict, runs: int, timer: str) -> str:
    lines = []
    size_mb = log["bytes"] / 1e6
    kind = " with log_slow_extra" if log.get("extra") else ""
    kind += ", every query shape in many spellings" if log.get("spellings") else ""
    lines.append(
        f"### `mqa digest` vs `pt-query-digest`: {log['events']:,} events, {size_mb:,.0f} MB MySQL 8.0 slow log{kind}"
    )
    lines.append("")
    lines.append(
        "| tool | wall s, median (min–max) | peak memory MiB (PSS, all processes), median (min–max) "
        "| largest process peak RSS MiB, median | CPU s, median | events/s |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|")
    for t in tools:
        s = stats[t.key]
        eps = f"{log['events'] / s['wall']['median']:,.0f}" if s["wall"]["median"] > 0 else "n/a"
        wf = ".2f" if s["wall"]["median"] >= 1 else ".3f"
        lines.append(
            f"| {t.label} | {fmt_range(s['wall'], wf)} | {fmt_range(s['rss_mib'], '.0f')} | "
            f"{s['largest_process_rss_mib']['median']:.0f} | {s['cpu']['median']:.2f} | {eps} |"
        )
    lines.append("")
    if "pt" in stats:
        for t in tools:
            if t.key == "pt":
                continue
            s, p = stats[t.key], stats["pt"]
            rw = ratio(p["wall"]["median"], s["wall"]["median"])
            rr = ratio(p["rss_mib"]["median"], s["rss_mib"]["median"])
            lines.append(
                f"- pt/mqa ratio, {t.label}: wall **{rw}**, peak memory **{rr}** (> 1 means mqa is faster / smaller)"
            )
        lines.append("")
    lines.append("Commands (LOG = the generated log):")
    lines.append("")
    for t in tools:
        lines.append(f"- {t.label}: `{t.display()}`")
    lines.append("")
    mach = (
        f"{facts['cpu']}, {facts['cores']} cores ({facts['usable_cores']} usable), {facts.get('memory')}, {facts['os']}"
    )
    lines.append(f"Machine: {mach}; load average at start {' '.join(facts.get('loadavg_at_start', []))}.")
    vers = [f"Python {facts['python']}"]
    if facts.get("pt_query_digest"):
        vers.append(f"{facts['pt_query_digest']} (Perl {facts.get('perl')})")
    if facts.get("mqa"):
        compiled = {True: ", compiled fast paths built", False: ", compiled fast paths NOT built"}
        vers.append(f"mqa: {facts['mqa']}{compiled.get(facts.get('mqa_compiled'), '')}")
    if facts.get("git"):
        vers.append(f"git {facts['git']}")
    lines.append(f"Versions: {'; '.join(vers)}.")
    lines.append(
        f"Log: `{log['name']}`, {log['events']:,} events, {log['bytes']:,} bytes "
        f"({log['bytes'] / max(log['events'], 1):.0f} bytes/event){log.get('origin', '')}."
    )
    lines.append(
        f"Method: {runs} runs per tool, each a fresh process, interleaved round-robin, page cache warm; "
        f"peak memory = the largest sum of PSS over the tool's whole process tree (workers "
        f"included), sampled every 50 ms; largest process = ru_maxrss ({timer}). "
        f"Date: {facts['date']}."
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
def _repo_relative(text: str) -> str:
    """Results are committed: paths inside this repository are written relative to it (the
    machine's checkout path means nothing to a reader)."""
    return text.replace(f"{REPO}/", "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Time `mqa digest` against `pt-query-digest` on the same slow log.")
    ap.add_argument("--events", type=int, default=1_000_000, help="events in the generated log (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--templates", type=int, default=2000, help="generator --templates (default 2000)")
    ap.add_argument("--extra", action="store_true", help="generate the log with log_slow_extra fields")
    ap.add_argument(
        "--spellings", action="store_true", help="generate the log with every query shape in many spellings"
    )
    ap.add_argument("--log", type=Path, help="use this existing slow log instead of generating one")
    ap.add_argument("--mqa", help="mqa command (default: mqa next to this Python, %(prog)s's venv)")
    ap.add_argument("--skip-pt", action="store_true", help="do not run pt-query-digest")
    ap.add_argument(
        "--skip-pure", action="store_true", help="do not time mqa without its compiled fast paths (MQA_PURE_PYTHON=1)"
    )
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool (default 3)")
    ap.add_argument(
        "--timer",
        choices=("auto", "gnu-time", "rusage"),
        default="auto",
        help="auto = GNU /usr/bin/time if present, else a Python rusage wrapper",
    )
    ap.add_argument("--json-out", type=Path, help="also write all measurements as JSON here")
    a = ap.parse_args(argv)
    if a.runs < 1:
        ap.error("--runs must be >= 1")

    # tools ----------------------------------------------------------------------------------
    mqa = shlex.split(a.mqa) if a.mqa else [str(Path(sys.executable).parent / "mqa")]
    if shutil.which(mqa[0]) is None:
        fail(f"mqa command not found: {mqa[0]} (install the project into the venv, or pass --mqa CMD)")
    tools: list[Tool] = []
    if not a.skip_pt:
        if shutil.which(PT) is None:
            fail(f"{PT} not found on PATH (install percona-toolkit, or pass --skip-pt)")
        tools.append(
            Tool(
                "pt",
                "pt-query-digest",
                [PT, "--output", "json", "--limit", "1000000", "--no-version-check", "{LOG}"],
                True,
            )
        )
    tools.append(
        Tool(
            "mqa", "mqa digest (sqlglot)", mqa + ["digest", "{LOG}", "--format", "json", "--output", os.devnull], False
        )
    )
    tools.append(
        Tool(
            "mqa_pt",
            "mqa digest --fingerprint pt",
            mqa + ["digest", "{LOG}", "--fingerprint", "pt", "--format", "json", "--output", os.devnull],
            False,
        )
    )
    if not a.skip_pure:
        # what an install without a C compiler gets: the pure-Python paths (same results)
        tools.append(
            Tool(
                "mqa_pure",
                "mqa digest, pure Python",
                ["env", "MQA_PURE_PYTHON=1", *mqa, "digest", "{LOG}", "--format", "json", "--output", os.devnull],
                False,
            )
        )

    timer = a.timer
    if timer == "auto":
        timer = "gnu-time" if os.access(GNU_TIME, os.X_OK) else "rusage"
    elif timer == "gnu-time" and not os.access(GNU_TIME, os.X_OK):
        fail(f"{GNU_TIME} not found")

    # log ------------------------------------------------------------------------------------
    if a.log:
        log_path = a.log.resolve()
        if not log_path.is_file():
            fail(f"log not found: {log_path}")
        origin = ""
    else:
        log_path = generate_log(a.events, a.seed, a.templates, a.extra, a.spellings)
        origin = (
            f", generated by `generate_slowlog.py --events {a.events} --seed {a.seed}"
            f" --templates {a.templates}{' --extra' if a.extra else ''}{' --spellings' if a.spellings else ''}`"
        )
    print(f"counting events in {log_path} ...", file=sys.stderr)
    events = count_events(log_path)
    log = {
        "path": str(log_path),
        "name": log_path.name,
        "events": events,
        "bytes": log_path.stat().st_size,
        "origin": origin,
        "extra": a.extra or b" Thread_id: " in _head(log_path),
        "spellings": a.spellings,
    }
    if events == 0:
        fail(f"no '# Query_time:' lines in {log_path}")

    facts = machine_facts(mqa, not a.skip_pt)
    with tempfile.TemporaryDirectory(prefix="mqa-bench-") as td:
        tmpdir = Path(td)
        # verify -------------------------------------------------------------------------------
        sample = tmpdir / "sample.log"
        n_sample = head_events(log_path, sample, VERIFY_EVENTS)
        for t in tools:
            note = verify(t, sample, n_sample, tmpdir)
            print(f"verified {t.label} on a {n_sample}-event sample: {note}", file=sys.stderr)

        # time ---------------------------------------------------------------------------------
        warm_page_cache(log_path)
        for i in range(a.runs):
            for t in tools:
                res = run_once(t, log_path, timer, tmpdir)
                t.runs.append(res)
                print(
                    f"run {i + 1}/{a.runs} {t.label}: {res['wall']:.2f} s, {res['maxrss_kib'] / 1024:.0f} MiB",
                    file=sys.stderr,
                )

    stats = {}
    for t in tools:
        stats[t.key] = {
            "wall": summarize([r["wall"] for r in t.runs]),
            "rss_mib": summarize([r["tree_rss_kib"] / 1024 for r in t.runs]),
            "largest_process_rss_mib": summarize([r["maxrss_kib"] / 1024 for r in t.runs]),
            "cpu": summarize([r["user"] + r["sys"] for r in t.runs]),
        }
    md = _repo_relative(render_markdown(tools, stats, facts, log, a.runs, timer))
    print(md)
    if a.json_out:
        doc = {
            "log": log,
            "machine": facts,
            "timer": timer,
            "runs_per_tool": a.runs,
            "tools": [
                {"key": t.key, "label": t.label, "command": t.display(), "runs": t.runs, "stats": stats[t.key]}
                for t in tools
            ],
        }
        if "pt" in stats:
            pt = stats["pt"]
            doc["ratios_pt_over_mqa"] = {
                t.key: {
                    "wall": (
                        pt["wall"]["median"] / stats[t.key]["wall"]["median"]
                        if stats[t.key]["wall"]["median"]
                        else None
                    ),
                    "rss": (
                        pt["rss_mib"]["median"] / stats[t.key]["rss_mib"]["median"]
                        if stats[t.key]["rss_mib"]["median"]
                        else None
                    ),
                }
                for t in tools
                if t.key != "pt"
            }
        a.json_out.parent.mkdir(parents=True, exist_ok=True)
        a.json_out.write_text(_repo_relative(json.dumps(doc, indent=2)) + "\n")
        print(f"wrote {a.json_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
