"""``--filter EXPR`` (``analyzer.digest.expression``): the grammar, its errors, hostile input, and
the filter on a real log."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from analyzer.digest.expression import parse_filter
from analyzer.digest.filters import EventFilter
from analyzer.errors import UsageError
from analyzer.model import QueryEvent
from tests.conftest import REPO

EVENTS = {
    "slow_api": (
        QueryEvent(
            "SELECT * FROM orders",
            {"query_time": 0.9, "rows_examined": 5000.0},
            db="shop",
            user="api",
            host="10.0.0.1",
            thread_id="7",
        ),
        ("route=/api/orders", "app=api"),
    ),
    "fast_api": (
        QueryEvent("select 1", {"query_time": 0.001, "rows_examined": 0.0}, db="shop", user="api"),
        ("route=/api/ping",),
    ),
    "slow_web": (
        QueryEvent("UPDATE carts SET x = 1", {"query_time": 2.5, "rows_examined": 20.0}, db="shop", user="web"),
        ("route=/cart",),
    ),
    "other_db": (QueryEvent("SELECT * FROM t", {"query_time": 0.7}, db="analytics", user="bi"), ()),
}


def kept(expression: str) -> set[str]:
    keep = parse_filter(expression)
    return {name for name, (event, tags) in EVENTS.items() if keep(event, tags)}


@pytest.mark.parametrize(
    "expression, names",
    [
        ("query_time > 0.5", {"slow_api", "slow_web", "other_db"}),
        ("query_time >= 900ms and query_time < 1s", {"slow_api"}),
        ('query_time > 0.5 and rows_examined > 1000 and db = "shop" and tag.route ~ "^/api/"', {"slow_api"}),
        ("rows_examined > 1000 or user = 'web'", {"slow_api", "slow_web"}),
        ("not db = 'shop'", {"other_db"}),
        ("db != 'shop'", {"other_db"}),
        ('user = "api" and (query_time > 0.5 or tag.route = "/api/ping")', {"slow_api", "fast_api"}),
        ('user = "api" and query_time > 0.5 or user = "web"', {"slow_api", "slow_web"}),  # and binds tighter
        ("rows_examined < 10", {"fast_api"}),  # other_db has no rows_examined: false, not zero
        ("lock_time >= 0", set()),  # no event has the attribute
        ("tag.app = 'api'", {"slow_api"}),
        ("tag.route !~ 'api'", {"slow_web"}),  # only events that have the tag
        ("query ~ '(?i)^select'", {"slow_api", "fast_api", "other_db"}),
        ("kind = 'UPDATE'", {"slow_web"}),
        ("thread = '7' AND Host ~ '^10\\.'", {"slow_api"}),
        ("query_time > 1e-2", {"slow_api", "slow_web", "other_db"}),
    ],
)
def test_expressions_keep_what_they_say(expression: str, names: set[str]) -> None:
    assert kept(expression) == names


@pytest.mark.parametrize(
    "expression, why",
    [
        ("", "an empty expression"),
        ("query_time", "expected an operator"),
        ("query_time >", "expected a number or a quoted string"),
        ("query_time >> 1", "expected a number or a quoted string"),
        ("> 1", "expected a field"),
        ("query_time > 1 and", "expected a field"),
        ("(query_time > 1", "expected )"),
        ("query_time > 1)", "expected and, or or the end"),
        ("db = shop", "expected a number or a quoted string"),
        ("db ~ 5", "take a quoted regular expression"),
        ("query ~ '('", "not a regular expression"),
        ("query_time > 1 $ 2", "cannot read this"),
        ("db = 'unterminated", "cannot read this"),
    ],
)
def test_a_bad_expression_says_where_and_gives_the_grammar(expression: str, why: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_filter(expression)
    message = str(err.value)
    assert why in message and "the grammar" in message


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('touch /tmp/mqa-pwned')",
        "query_time > 0 or ().__class__.__bases__",
        "eval('1')",
        "db = 'x'; import os",
        "query_time > 0 and exec",
        "{{7*7}} = 49",
        "tag.route = '</script><script>alert(1)</script>'",  # a valid expression: text, never code
    ],
)
def test_hostile_expressions_are_refused_or_compared_as_text(expression: str) -> None:
    try:
        keep = parse_filter(expression)
    except UsageError:
        return
    event, tags = EVENTS["slow_api"]
    assert keep(event, tags) is False


def test_random_token_soup_parses_or_is_a_usage_error() -> None:
    rng = random.Random(7)
    atoms = [
        "query_time",
        "db",
        "tag.route",
        ">",
        "<=",
        "=",
        "!~",
        "~",
        "and",
        "or",
        "not",
        "(",
        ")",
        "'x'",
        '"y"',
        "0.5",
        "2s",
        "-1",
        "1e3",
        "\\",
        "'",
        '"',
        "$",
        "é",
        "\x00",
        " ",
    ]
    for _ in range(3000):
        text = " ".join(rng.choice(atoms) for _ in range(rng.randint(1, 9)))
        try:
            keep = parse_filter(text)
        except UsageError:
            continue
        for event, tags in EVENTS.values():
            assert keep(event, tags) in (True, False)


def test_too_long_is_refused() -> None:
    with pytest.raises(UsageError, match="longer than"):
        parse_filter(" or ".join(["query_time > 1"] * 500))


def test_the_filter_travels_to_worker_processes() -> None:
    import pickle

    f = EventFilter(expression="query_time > 1")
    g = pickle.loads(pickle.dumps(f))
    assert g.keeps(QueryEvent("x", {"query_time": 2.0})) and not g.keeps(QueryEvent("x", {"query_time": 0.5}))


def test_digest_filter_on_the_sample_log() -> None:
    import json

    log = str(REPO / "sample_workloads" / "shop" / "slow.log.gz")
    expr = 'query_time > 0.05 and tag.controller = "orders"'

    def run(*extra: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "cli", "digest", log, "--filter", expr, "-f", "json", "--limit", "0", *extra],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    doc = run()
    assert 0 < doc["summary"]["events"] < 20009
    assert all(c["metrics"]["query_time"]["min"] > 0.05 for c in doc["classes"])
    assert all(set(c["tags"]) >= {"controller=orders"} for c in doc["classes"])
    bad = subprocess.run(
        [sys.executable, "-m", "cli", "digest", log, "--filter", "query_time >"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("mqa: error: --filter 'query_time >': expected")
