"""The folded fast key: a cache in front of the canonical fingerprint that never merges two
classes, and that makes sqlglot parse about once per class on a log of many spellings.

- Soundness: whenever a folded key is used (``canonicalize_folded`` returns a form), it is the
  canonical form of every fast key that folds to it.  Checked on every statement of the
  repository's slow logs, on the spellings log, and on random respellings of them (hypothesis).
- On the generator's many-spellings log, every query shape is exactly one class, event by event
  (the generator records each event's template).
"""

from __future__ import annotations

import collections
import importlib.util
import io
import re
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.digest import digest_logs
from analyzer.fingerprint import canonical
from analyzer.fingerprint.canonical import canonicalize, canonicalize_folded
from analyzer.fingerprint.classifier import Fingerprinter
from analyzer.fingerprint.fastkey import TEXT_MATCHED_WORDS, fast_key, folded_key
from analyzer.sources.inputs import open_log
from analyzer.sources.slowlog import SlowLogReader
from tests.conftest import FIXTURES, REPO, skip_or_fail

GEN_PATH = REPO / "tests" / "benchmarks" / "generate_slowlog.py"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_slowlog", GEN_PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_slowlog", mod)
    spec.loader.exec_module(mod)
    return mod


gen = _generator()


def _same(a, b) -> bool:
    return (a.fingerprint, a.kind, a.tables, a.parsed) == (b.fingerprint, b.kind, b.tables, b.parsed)


def _holds(key: str) -> bool:
    """The folded key of ``key``, when used, gives ``key``'s own canonical form."""
    folded = folded_key(key)
    if folded is None:
        return True
    form = canonicalize_folded(folded)
    return form is None or _same(form, canonicalize(key))


@cache
def spellings_log(events: int = 6000, templates: int = 400, seed: int = 3) -> tuple[str, dict]:
    buf = io.StringIO()
    truth: dict = {}
    gen.generate(
        buf, events, seed=seed, templates=templates, extra=True, spellings=True, truth=truth, record_templates=True
    )
    return buf.getvalue(), truth


@cache
def corpus_keys() -> tuple[str, ...]:
    """The fast keys of every statement in the repository's slow logs and of a spellings log."""
    paths = sorted(
        {*FIXTURES.glob("**/*slow*"), *FIXTURES.glob("**/*.log"), REPO / "sample_workloads/shop/slow.log.gz"}
    )
    keys: set[str] = set()
    for path in paths:
        if not path.is_file():
            continue
        try:
            for event in SlowLogReader(open_log(str(path))).events():
                if not event.admin:
                    keys.add(fast_key(event.query)[0])
        except Exception:  # a fixture that is no slow log at all
            continue
    text, _ = spellings_log()
    for statement in re.findall(r"\nSET timestamp=\d+;\n(.*?);\n(?=# Time: |\Z)", text, re.S):
        keys.add(fast_key(statement)[0])
    return tuple(sorted(keys))


def test_folded_keys_of_the_corpora_give_the_same_classes():
    keys = corpus_keys()
    assert len(keys) > 1000
    folded = [k for k in keys if folded_key(k) is not None]
    assert len(folded) > 0.9 * len(keys), "nearly every data statement folds"
    assert [k for k in folded if not _holds(k)] == []
    used = sum(1 for k in folded if canonicalize_folded(folded_key(k)) is not None)
    assert used > 0.95 * len(folded)


_WORD_CHOICES = ["select", "from", "where", "as", "order", "by", "key", "status", "name", "value", "date", "count"]
_WORD_CHOICES += ["max", "left", "set", "in", "null", "offset", "limit", "values", "mode", "share", "desc", "t", "x"]
_TOKEN = re.compile(r"`[^`]*`|[A-Za-z0-9_$]+|\?|<=>|<=|>=|<>|!=|->>|->|\|\||&&|<<|>>|[(),.*=<>!+\-/%&|^~]")


def respell(key: str, rnd) -> str:
    """A random respelling: case of any word, backticks added or removed, blanks, AS, signs
    and charset introducers on literals, and now and then a word replaced by a keyword."""
    out = []
    for token in _TOKEN.findall(key):
        if token[0].isalpha() or token[0] == "_":
            x = rnd.random()
            if x < 0.2:
                token = token.lower()
            elif x < 0.35:
                token = token.upper()
            elif x < 0.45:
                token = f"`{token}`"
            elif x < 0.5:
                token = rnd.choice(_WORD_CHOICES)
            elif x < 0.53:
                token = f"{token} AS {rnd.choice(_WORD_CHOICES)}"
        elif token == "?":
            x = rnd.random()
            if x < 0.15:
                token = "-?"
            elif x < 0.25:
                token = rnd.choice(["N?", "_utf8mb4 ?", "_latin1?", "X?", "_binary _binary ?"])
        elif token[0] == "`" and rnd.random() < 0.3:
            token = token[1:-1]
        out.append(token)
        out.append(rnd.choice(["", " ", " "]) if rnd.random() < 0.4 else " ")
    return fast_key("".join(out).strip())[0]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.randoms(use_true_random=False))
def test_a_folded_key_never_changes_the_class_of_a_respelling(data, rnd):
    key = respell(data.draw(st.sampled_from(corpus_keys())), rnd)
    assert _holds(key), (key, folded_key(key))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.randoms(use_true_random=False))
def test_two_spellings_share_a_folded_key_only_within_one_class(data, rnd):
    base = data.draw(st.sampled_from(corpus_keys()))
    a, b = respell(base, rnd), respell(base, rnd)
    fa, fb = folded_key(a), folded_key(b)
    if fa is not None and fa == fb and canonicalize_folded(fa) is not None:
        assert _same(canonicalize(a), canonicalize(b)), (a, b)


@pytest.mark.parametrize(
    "spellings",
    [
        [
            "select `id`, total from `orders` where customer_id = -5 order by created_at desc limit 10",
            "SELECT id,total FROM orders WHERE customer_id=? ORDER BY created_at DESC LIMIT 20",
            "Select  `id` , `total` From orders Where customer_id =N'7' Order By created_at Desc Limit 1",
        ],
        [
            "insert into t (a, b) values (-1, _utf8mb4'x'), (2, 'y')",
            'INSERT INTO `t`(`a`,`b`) VALUES (3,"z")',
        ],
        [
            "SELECT a.x, b.y FROM t a JOIN u b ON b.id = a.u_id WHERE a.k IN (1, -2, 0x1F)",
            "select a.x,b.y from t AS a join u as b on b.id=a.u_id where a.k in (N'1')",
        ],
        [
            "insert into t (a) values (1) on duplicate key update a = values(a)",
            "INSERT INTO t (a) VALUES (?) ON DUPLICATE KEY UPDATE a=VALUES(a)",
        ],
    ],
)
def test_spellings_of_one_class_share_one_folded_key(spellings):
    keys = [fast_key(s)[0] for s in spellings]
    assert len(set(keys)) == len(keys), "the fast keys differ ..."
    folded = {folded_key(k) for k in keys}
    assert len(folded) == 1, folded  # ... the folded key does not
    form = canonicalize_folded(folded.pop())
    assert form is not None
    assert all(_same(form, canonicalize(k)) for k in keys)


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("SELECT `a``b` FROM t", "a backtick inside a quoted name"),
        ("SELECT a FROM t WHERE b = ? # x", "a character the fold does not know"),
        ("SELECT a FROM t WHERE b = _utf8mb4 _utf8mb4 ?", "an introducer the canonical form would fold again"),
        ("SHOW TABLES", "not a data statement"),
        ("SELECT a FROM t WHERE b = 'x'", "a literal the fast key did not replace"),
        ("SELECT é FROM t", "not ASCII"),
    ],
)
def test_what_is_not_folded(key, why):
    assert folded_key(key) is None, why


@pytest.mark.parametrize(
    "key",
    [
        "INSERT INTO t (a, set) VALUES (?, ?)",  # sqlglot reads the reserved word SET as a column
        "SELECT a FROM t WHERE b IN (SELECT in FROM u)",
        "SELECT id FROM t ORDER BY x DESC, desc",
    ],
)
def test_a_reserved_word_read_as_a_name_is_not_folded(key):
    folded = folded_key(key)
    assert folded is None or canonicalize_folded(folded) is None
    assert _holds(key)


def test_names_sqlglot_reads_as_grammar_keep_their_backticks():
    assert folded_key("SELECT `status`, `id` FROM `t`") == "SELECT `status`,id FROM t"
    assert folded_key("SELECT `count`(*) FROM t") == "SELECT `count`(*)FROM t"


def test_text_matched_words_cover_the_installed_sqlglot():
    import sqlglot

    root = Path(sqlglot.__file__).parent
    sources = [root / "parser.py", root / "parsers" / "mysql.py"]
    if not all(p.is_file() for p in sources):
        skip_or_fail("sqlglot's parser sources are not installed")
    found: set[str] = set()
    for path in sources:
        text = path.read_text()
        for m in re.finditer(r"_match_text(?:_seq|s)\(([^()]*(?:\([^()]*\))?[^()]*)\)", text):
            for word in re.findall(r'"([A-Za-z_ ]+)"', m.group(1)):
                found.update(word.upper().split())
    assert found <= TEXT_MATCHED_WORDS, sorted(found - TEXT_MATCHED_WORDS)


# ---- the many-spellings log: one class per shape, event by event


def test_every_shape_of_the_spellings_log_is_one_class_event_by_event(tmp_path, monkeypatch):
    text, truth = spellings_log()
    log = tmp_path / "spellings.log"
    log.write_text(text, encoding="utf-8")
    events = list(SlowLogReader(open_log(str(log))).events())
    templates = truth["templates"]
    assert len(events) == len(templates)
    fp = Fingerprinter("sqlglot")
    class_of_template: dict[int, set[str]] = collections.defaultdict(set)
    templates_of_class: dict[str, set[int]] = collections.defaultdict(set)
    fast_keys = set()
    for event, template in zip(events, templates):
        key, _ = fp.key(event.query, event.admin)
        fast_keys.add(key)
        info = fp.describe(key, key, True) if event.admin else fp.class_of(key)
        class_of_template[template].add(info.fingerprint)
        templates_of_class[info.fingerprint].add(template)
    split = {t: c for t, c in class_of_template.items() if len(c) > 1}
    merged = {c: t for c, t in templates_of_class.items() if len(t) > 1}
    assert not split, [truth["shapes"][t] for t in split]
    assert not merged, merged
    assert len(fast_keys) > 2 * len(class_of_template), "the log has many spellings per shape"

    # The same through the digest, sequential and in parallel (4 byte ranges; the helper
    # processes group by fast key and the merge turns their keys into classes): counts per
    # class are the counts per template, found through each class's example (its line).
    from analyzer.digest import parallel

    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", log.stat().st_size // 5)
    assert len(parallel.plan([str(log)], 4, None)) == 4
    template_at_line = {e.line: t for e, t in zip(events, templates)}
    want = collections.Counter(templates)
    results = [digest_logs([str(log)], jobs=jobs) for jobs in (1, 4)]
    for result in results:
        assert len(result.classes) == len(want)
        for cls in result.classes:
            assert cls.stats.count == want[template_at_line[cls.stats.example.line]], cls.fingerprint
    sequential, parallel_result = ({c.id: c for c in r.classes} for r in results)
    for cid, cls in sequential.items():
        other = parallel_result[cid]
        assert (cls.keys, cls.stats.example.line, cls.stats.first_ts, cls.stats.last_ts) == (
            other.keys,
            other.stats.example.line,
            other.stats.first_ts,
            other.stats.last_ts,
        )


def test_sqlglot_parses_about_once_per_class(tmp_path, monkeypatch):
    text, _ = spellings_log()
    log = tmp_path / "spellings.log"
    log.write_text(text, encoding="utf-8")
    parses = []
    real = canonical._canonical_trees
    monkeypatch.setattr(canonical, "_canonical_trees", lambda key: parses.append(key) or real(key))
    result = digest_logs([str(log)], jobs=1)
    keys = sum(cls.keys for cls in result.classes)
    assert keys > 2 * len(result.classes), "many textual variants per class"
    assert len(parses) < 1.5 * len(result.classes), (len(parses), len(result.classes), keys)


def test_variants_count_distinct_fast_keys(tmp_path):
    header = "# Time: 2024-05-01T10:00:0{i}.000000Z\n# User@Host: u[u] @  [1.2.3.4]  Id:     1\n"
    header += "# Query_time: 0.001000  Lock_time: 0.000000 Rows_sent: 1  Rows_examined: 1\nSET timestamp=1714557600;\n"
    statements = ["SELECT a FROM t WHERE b = 1", "select a from t where b = 2", "SELECT `a` FROM t WHERE b=3"]
    statements += ["SELECT a FROM t WHERE b = 4", "SELECT c FROM t"]
    log = tmp_path / "slow.log"
    log.write_text("".join(header.format(i=i) + s + ";\n" for i, s in enumerate(statements)))
    result = digest_logs([str(log)], jobs=1)
    variants = {cls.fingerprint: (cls.stats.count, cls.keys) for cls in result.classes}
    assert variants == {"SELECT a FROM t WHERE b = ?": (4, 3), "SELECT c FROM t": (1, 1)}
