"""The default (sqlglot) fingerprint: one class per query shape."""

from __future__ import annotations

import random
import sys

import pytest

from analyzer.fingerprint.canonical import canonicalize
from analyzer.fingerprint.classifier import Fingerprinter, class_id, class_tree
from analyzer.fingerprint.fastkey import comment_tags, fast_key
from tests.conftest import REPO


def fingerprint(sql: str) -> str:
    fp = Fingerprinter("sqlglot")
    key, _ = fp.key(sql)
    return fp.describe(key, sql).fingerprint


# Each group: statements that must land in one class.  No two groups may share a class.
SAME_SHAPE: dict[str, list[str]] = {
    "literals": [
        "SELECT name FROM customers WHERE id = 1",
        "SELECT name FROM customers WHERE id = 98765",
        "select name from customers where id=-4",
        "SELECT name FROM customers WHERE id = '17'",
        "SELECT name FROM customers WHERE id = 0x1F",
    ],
    "in lists": [
        "SELECT * FROM orders WHERE status IN ('new')",
        "SELECT * FROM orders WHERE status IN ('new', 'paid')",
        "SELECT * FROM orders WHERE status IN ('new','paid','shipped', 'x', 'y', 'z')",
        "SELECT * FROM orders WHERE status in ( 1 , 2 , 3 )",
    ],
    "spacing and case": [
        "SELECT id, total FROM orders WHERE customer_id = 5 ORDER BY created_at DESC LIMIT 10",
        "select id,total from orders where customer_id=5 order by created_at desc limit 10",
        "SELECT  id ,\n\ttotal\nFROM   orders\nWHERE customer_id = 7\nORDER BY created_at DESC\nLIMIT 20",
    ],
    "backticks": [
        "SELECT `id`, `email` FROM `customers` WHERE `email` = 'a@b.c'",
        "SELECT id, email FROM customers WHERE email = 'x@y.z'",
        "SELECT `id`,email FROM customers WHERE `email`='q'",
    ],
    "hints and comments": [
        "SELECT /*+ MAX_EXECUTION_TIME(1000) */ sku FROM products WHERE id = 3",
        "SELECT /*!40001 SQL_NO_CACHE */ sku FROM products WHERE id = 3",
        "SELECT sku FROM products WHERE id = 3 /*controller='products',action='show'*/",
        "/* app=web,route=/p */ SELECT sku FROM products WHERE id = 9",
        "SELECT sku -- trailing comment\nFROM products WHERE id = 1",
        "SELECT sku FROM products WHERE id = 1 # hash comment",
    ],
    "multi-row insert": [
        "INSERT INTO events (kind, at) VALUES ('a', NOW())",
        "INSERT INTO events (kind, at) VALUES ('a', NOW()), ('b', NOW())",
        "insert into events (kind, at) values ('a', now()),('b', now()),('c', now())",
    ],
    "replace": [
        "REPLACE INTO kv (k, v) VALUES ('a', 1)",
        "replace into kv (k, v) values ('b', 2), ('c', 3)",
    ],
    "string escapes": [
        r"UPDATE customers SET note = 'it\'s' WHERE id = 1",
        "UPDATE customers SET note = 'it''s' WHERE id = 2",
        'UPDATE customers SET note = "double -- quoted" WHERE id = 3',
    ],
    "booleans and nulls as values": [
        "UPDATE flags SET enabled = TRUE WHERE id = 1",
        "UPDATE flags SET enabled = 0 WHERE id = 2",
        "UPDATE flags SET enabled = NULL WHERE id = 3",
    ],
    "different columns": ["SELECT name FROM customers WHERE email = 'a'"],
    "different table": ["SELECT name FROM suppliers WHERE id = 1"],
    "is null is structure": ["SELECT name FROM customers WHERE id IS NULL"],
    "offset is structure": [
        "SELECT id, total FROM orders WHERE customer_id = 5 ORDER BY created_at DESC LIMIT 10 OFFSET 20"
    ],
    "asc is kept": ["SELECT id, total FROM orders WHERE customer_id = 5 ORDER BY created_at ASC LIMIT 10"],
    "join": ["SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.id = 1"],
    "left join": ["SELECT o.id FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id = 1"],
    "subquery": ["SELECT * FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE vip = 1)"],
    "digits in names": ["SELECT * FROM db2.t_21 WHERE c1 = 1"],
    "digits in names 2": ["SELECT * FROM db2.t_22 WHERE c1 = 1"],
    "digits in names 3": ["SELECT * FROM db3.t_21 WHERE c1 = 1"],
}


def test_same_shape_is_one_class_and_different_shapes_never_share() -> None:
    owner: dict[str, str] = {}
    for group, statements in SAME_SHAPE.items():
        fingerprints = {fingerprint(s) for s in statements}
        assert len(fingerprints) == 1, f"{group}: {fingerprints}"
        (fp,) = fingerprints
        assert fp not in owner, f"{group} and {owner.get(fp)} share the class {fp!r}"
        owner[fp] = group


def test_canonical_text_reads_like_sql() -> None:
    assert fingerprint("select `a`,b from `t` where id in (1,2) and c = 'x' limit 5") == (
        "SELECT a, b FROM t WHERE id IN (...) AND c = ? LIMIT ?"
    )
    # reserved words and names that need them keep their backticks
    assert fingerprint("SELECT `order`, `my col` FROM `t` WHERE `key` = 1") == (
        "SELECT `order`, `my col` FROM t WHERE `key` = ?"
    )
    assert fingerprint("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')") == "INSERT INTO t (a, b) VALUES (?, ?)"
    assert fingerprint("REPLACE INTO t (a) VALUES (1)") == "REPLACE INTO t (a) VALUES (?)"


def test_tables_and_kind() -> None:
    form = canonicalize(
        fast_key("WITH c AS (SELECT * FROM o WHERE x = 1) SELECT * FROM c JOIN shop.t2 ON t2.a = c.a")[0]
    )
    assert form.kind == "SELECT"
    assert set(form.tables) == {"o", "shop.t2"}  # the CTE is not a table
    assert canonicalize("UPDATE t SET a = ? WHERE id = ?").kind == "UPDATE"
    assert canonicalize("DELETE FROM t WHERE id = ?").kind == "DELETE"
    assert canonicalize("REPLACE INTO t (a) VALUES (?)").kind == "REPLACE"
    assert canonicalize("COMMIT").kind == "COMMIT"


@pytest.mark.parametrize(
    "sql",
    [
        "CALL refresh_stats(1, 'x')",
        "LOAD DATA INFILE '/tmp/x' INTO TABLE t",
        "HANDLER t READ FIRST WHERE a = 1",
        "DO SLEEP(1)",
    ],
)
def test_statements_sqlglot_cannot_parse_keep_their_fast_key(sql: str) -> None:
    key, _ = fast_key(sql)
    form = canonicalize(key)
    assert not form.parsed and form.error
    assert form.fingerprint == key
    assert "'" not in key and "1" not in key  # literals are still gone from the fast key


def test_sqlglot_rewrites_that_change_the_statement_kind_are_not_trusted() -> None:
    # sqlglot reads SELECT ... INTO @var as CREATE TABLE ... AS SELECT
    form = canonicalize(fast_key("select count(*) into @discard from information_schema.tables")[0])
    assert not form.fingerprint.upper().startswith("CREATE")
    assert form.kind == "SELECT"


def test_comment_tags() -> None:
    assert comment_tags("SELECT 1 /*controller='users',action='show',route='%2Fusers%2F%3Aid'*/") == (
        "controller=users",
        "action=show",
        "route=/users/:id",
    )
    assert comment_tags("/* app=web,route=/cart */ SELECT 1") == ("app=web", "route=/cart")
    assert comment_tags("SELECT 1 /* just a note, a=b and prose */") == ()
    assert comment_tags("SELECT 1 /*traceparent='00-ab-cd-01',action='x'*/") == ("action=x",)
    # a tag-like string literal is not a comment
    assert comment_tags("SELECT '/* a=b */'") == ()


def test_fast_key_keeps_identifiers_and_literal_free_text() -> None:
    key, _ = fast_key("SELECT t1.a2 FROM db2.t_21 t1 WHERE t1.`c 3` = 5 AND x = 'a--b' -- c\n")
    assert key == "SELECT t1.a2 FROM db2.t_21 t1 WHERE t1.`c 3` = ? AND x = ?"
    key, _ = fast_key("SELECT * FROM t WHERE id IN (" + ",".join(map(str, range(5000))) + ")")
    assert key == "SELECT * FROM t WHERE id IN (?)"
    key, _ = fast_key("SELECT COALESCE(1, 2) FROM t")
    assert key == "SELECT COALESCE(?, ?) FROM t"  # a function's arguments are not an IN list


def test_a_statement_cut_short_inside_a_string_has_no_literal_in_its_key() -> None:
    assert fast_key("SELECT * FROM t WHERE a = 'abc")[0] == "SELECT * FROM t WHERE a = ?"
    assert fast_key('SELECT * FROM t WHERE a = "abc')[0] == "SELECT * FROM t WHERE a = ?"


def test_class_ids_are_stable() -> None:
    # The id is part of the JSON contract that scheduled jobs diff across runs: never change it.
    # (= the first 16 hex digits of `printf %s "SELECT * FROM t WHERE id = ?" | sha1sum`)
    assert class_id("SELECT * FROM t WHERE id = ?") == "cbd083708a34d661"
    assert class_id("SELECT * FROM t WHERE id = ?") != class_id("SELECT * FROM t WHERE id IN (...)")


def test_generated_templates_map_one_to_one_onto_classes() -> None:
    """The benchmark generator's query templates (distinct by construction): every statement
    of a template lands in the template's one class, and no two templates share a class, save
    single- and multi-row INSERTs of the same columns, which are one shape by design."""
    sys.path.insert(0, str(REPO / "tests" / "benchmarks"))
    try:
        import generate_slowlog as gen
    finally:
        sys.path.pop(0)
    lit = gen.Literals(random.Random(3), gen._utc_epoch(gen.DEFAULT_START))
    templates = [t for t in gen.build_templates(400, 3, lit) if not t.admin]
    classes_of: dict[int, set[str]] = {}
    templates_of: dict[str, set[int]] = {}
    for i, tp in enumerate(templates):
        for _ in range(4):
            sql = tp.fmt % tuple(g() for g in tp.gens) if tp.gens else tp.fmt
            fp = fingerprint(sql)
            classes_of.setdefault(i, set()).add(fp)
            templates_of.setdefault(fp, set()).add(i)
    split = {i: fps for i, fps in classes_of.items() if len(fps) > 1}
    assert not split
    for fp, owners in templates_of.items():
        if len(owners) > 1:
            assert fp.startswith(("INSERT", "REPLACE")), fp
            heads = {templates[i].shape.split(" values")[0] for i in owners}
            assert len(heads) == 1, fp


def test_class_tree_is_rebuilt_on_demand() -> None:
    fp = Fingerprinter("sqlglot")
    key, _ = fp.key("SELECT a FROM t WHERE id IN (1, 2) AND b = 'x'")
    info = fp.describe(key, "")
    tree = class_tree(info)
    assert tree is not None and tree.sql(dialect="mysql") == "SELECT a FROM t WHERE id IN (?) AND b = ?"
    unparsed = fp.describe(fp.key("DO SLEEP(1)")[0], "DO SLEEP(1)")
    assert class_tree(unparsed) is None


def test_comment_only_statements_are_one_class() -> None:
    fp = Fingerprinter("sqlglot")
    infos = {fp.describe(fp.key(q)[0], q).fingerprint for q in ("/* ping */", "-- nothing\n", "# x")}
    assert infos == {"/* statement with comments only */"}
