"""The offline schema loader (analyzer.sources.schema_ddl): DDL text in, the model of analyzer.sources.schema out.

Small DDL snippets pin down each construct and the names and rules the server applies on its
own (measured on MariaDB 10.11, see the module docstring); the shop and Sakila schemas are
parsed offline and, on the live test server, loaded for real and compared with what
``load_tables()`` reads back: columns, types, nullability, defaults, every index (names, parts
with prefixes and direction, uniqueness, type, order) and foreign keys must agree.

Every test that touches the server uses its own database and drops it at the end.
"""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path
from typing import Any

import pytest

from analyzer.errors import AnalyzerError
from analyzer.sources.schema import Table, load_tables
from analyzer.sources.schema_ddl import (
    DdlSchema,
    SchemaFileError,
    load_tables_from_ddl,
    load_tables_from_ddl_file,
    split_statements,
)
from tests.conftest import REPO
from tests.sakila import EXPECTED_ROWS, load_sakila
from tests.sakila import SCHEMA_FILE as SAKILA_SCHEMA
from tests.servers import TestServer, fresh_database, session
from tests.test_indexes import NOT_LOADABLE, PT, PT_FIXTURES

SHOP_SCHEMA = REPO / "sample_workloads" / "shop" / "schema.sql"


def ddl(text: str, **kwargs: Any) -> DdlSchema:
    return load_tables_from_ddl(text, **kwargs)


def table(text: str, name: str | None = None) -> Table:
    """The one table (or the table ``name``) the DDL defines; no warnings allowed."""
    schema = ddl(text)
    assert schema.warnings == []
    if name is None:
        assert len(schema.tables) == 1
        return schema.tables[0]
    return next(t for t in schema.tables if t.name == name)


def keys(t: Table) -> list[str]:
    """The indexes as SHOW CREATE TABLE prints them, in order."""
    return [i.ddl for i in t.indexes]


def columns(t: Table) -> list[tuple[str, str, bool, str | None, str]]:
    return [(c.name, c.type, c.nullable, c.default, c.extra) for c in t.columns]


# --------------------------------------------------------------------------------------------
# Splitting statements
# --------------------------------------------------------------------------------------------


def test_split_on_semicolons_outside_quotes_and_comments() -> None:
    text = (
        "SELECT 'a;b', \"c;d\", `e;f` FROM t; -- x; y\n"
        "SELECT 1 # z;\n; /* ; */ SELECT 'it''s', 'back\\'slash;';\nSELECT 2"
    )
    assert [s.text for s in split_statements(text)] == [
        "SELECT 'a;b', \"c;d\", `e;f` FROM t",
        "SELECT 1",
        "SELECT 'it''s', 'back\\'slash;'",
        "SELECT 2",
    ]


def test_split_numbers_statements_and_gives_their_first_line() -> None:
    text = "-- header\n\nCREATE TABLE a (x INT);\n\n/* c */ CREATE TABLE b\n(x INT);;\n"
    assert [(s.number, s.line, s.text) for s in split_statements(text)] == [
        (1, 3, "CREATE TABLE a (x INT)"),
        (2, 5, "CREATE TABLE b\n(x INT)"),
    ]


def test_split_honours_delimiter_blocks() -> None:
    text = (
        "DELIMITER ;;\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END;;\n"
        "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END $$\ndelimiter ;\nSELECT 3;"
    )
    assert [s.text for s in split_statements(text)] == [
        "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END",
        "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
        "SELECT 3",
    ]


def test_split_keeps_the_content_of_executable_comments() -> None:
    text = (
        "/*!40101 SET NAMES utf8 */;\nCREATE TABLE t (a INT,\n /*!50705 g GEOMETRY NOT NULL,*/ b INT);\n"
        "/*M!100100 SET x = 1 */; /*!50610 ALTER TABLE t ENGINE=InnoDB */;\n"
        "/*M!999999\\- enable the sandbox mode */\nSELECT 1;"
    )
    assert [" ".join(s.text.split()) for s in split_statements(text)] == [
        "SET NAMES utf8",
        "CREATE TABLE t (a INT, g GEOMETRY NOT NULL, b INT)",
        "SET x = 1",
        "ALTER TABLE t ENGINE=InnoDB",
        "SELECT 1",
    ]


def test_split_double_dash_needs_a_space_to_start_a_comment() -> None:
    assert [s.text for s in split_statements("SELECT 1--2;\nSELECT 3 --\n;")] == ["SELECT 1--2", "SELECT 3"]


def test_split_marks_an_unterminated_quote() -> None:
    statements = split_statements("SELECT 1;\nINSERT INTO t VALUES ('oops);\nCREATE TABLE t (a INT);")
    assert [(s.number, s.unterminated) for s in statements] == [(1, None), (2, "'")]


# --------------------------------------------------------------------------------------------
# CREATE TABLE: columns
# --------------------------------------------------------------------------------------------


def test_column_types_are_written_as_the_server_prints_them() -> None:
    t = table("""CREATE TABLE t (
        a INT, b INT(10) UNSIGNED, c INTEGER UNSIGNED ZEROFILL, d TINYINT, e BOOLEAN, f BOOL,
        g SMALLINT UNSIGNED, h MEDIUMINT, i BIGINT UNSIGNED, j INT8, k SERIAL, l DECIMAL, m NUMERIC(5),
        n DEC(4,2) UNSIGNED, o FLOAT, p FLOAT(7,4), q FLOAT(30), r DOUBLE PRECISION, s REAL, u CHAR,
        v NATIONAL CHAR(3), w CHARACTER VARYING(9), x VARCHAR(40) BINARY, y BINARY, z VARBINARY(8),
        aa BIT, ab TEXT, ac LONGBLOB, ad BLOB(100), ae LONG VARCHAR, af DATETIME(0), ag TIMESTAMP(6),
        ah YEAR, ai ENUM('a','it''s'), aj SET('x','y'), ak JSON, al POINT, am GEOMCOLLECTION,
        an INET6, ao VARCHAR(5) CHARACTER SET latin1 COLLATE latin1_bin, ap CHAR(4) BYTE, aq MIDDLEINT)""")
    assert [(c.name, c.type) for c in t.columns] == [
        ("a", "int(11)"),
        ("b", "int(10) unsigned"),
        ("c", "int(10) unsigned zerofill"),
        ("d", "tinyint(4)"),
        ("e", "tinyint(1)"),
        ("f", "tinyint(1)"),
        ("g", "smallint(5) unsigned"),
        ("h", "mediumint(9)"),
        ("i", "bigint(20) unsigned"),
        ("j", "bigint(20)"),
        ("k", "bigint(20) unsigned"),
        ("l", "decimal(10,0)"),
        ("m", "decimal(5,0)"),
        ("n", "decimal(4,2) unsigned"),
        ("o", "float"),
        ("p", "float(7,4)"),
        ("q", "double"),
        ("r", "double"),
        ("s", "double"),
        ("u", "char(1)"),
        ("v", "char(3)"),
        ("w", "varchar(9)"),
        ("x", "varchar(40)"),
        ("y", "binary(1)"),
        ("z", "varbinary(8)"),
        ("aa", "bit(1)"),
        ("ab", "text"),
        ("ac", "longblob"),
        ("ad", "tinyblob"),
        ("ae", "mediumtext"),
        ("af", "datetime"),
        ("ag", "timestamp(6)"),
        ("ah", "year(4)"),
        ("ai", "enum('a','it''s')"),
        ("aj", "set('x','y')"),
        ("ak", "json"),
        ("al", "point"),
        ("am", "geometrycollection"),
        ("an", "inet6"),
        ("ao", "varchar(5)"),
        ("ap", "binary(4)"),
        ("aq", "mediumint(9)"),
    ]
    assert [c.ordinal for c in t.columns] == list(range(1, len(t.columns) + 1))


def test_column_nullability_defaults_and_extra() -> None:
    t = table("""CREATE TABLE t (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        a VARCHAR(10) NULL DEFAULT 'x''y', b INT DEFAULT -1, c DECIMAL(4,2) DEFAULT 4.99,
        d BOOLEAN NOT NULL DEFAULT TRUE, e TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        f DATETIME(3) NOT NULL DEFAULT NOW(3) ON UPDATE now(3), g INT DEFAULT NULL, h BIT(1) DEFAULT b'1',
        i INT DEFAULT (1 + 2), j CHAR(2) DEFAULT _utf8mb4'zz' COMMENT 'c', k INT AS (b + 1) STORED,
        l INT GENERATED ALWAYS AS (b * 2) VIRTUAL NOT NULL, m INT INVISIBLE, n SERIAL)""")
    assert columns(t) == [
        ("id", "int(11)", False, None, "auto_increment"),
        ("a", "varchar(10)", True, "x'y", ""),
        ("b", "int(11)", True, "-1", ""),
        ("c", "decimal(4,2)", True, "4.99", ""),
        ("d", "tinyint(1)", False, "1", ""),
        ("e", "timestamp", True, "CURRENT_TIMESTAMP", "on update CURRENT_TIMESTAMP"),
        ("f", "datetime(3)", False, "CURRENT_TIMESTAMP(3)", "on update CURRENT_TIMESTAMP(3)"),
        ("g", "int(11)", True, None, ""),
        ("h", "bit(1)", True, "b'1'", ""),
        ("i", "int(11)", True, "1 + 2", ""),
        ("j", "char(2)", True, "zz", ""),
        ("k", "int(11)", True, None, "STORED GENERATED"),
        ("l", "int(11)", False, None, "VIRTUAL GENERATED"),
        ("m", "int(11)", True, None, "INVISIBLE"),
        ("n", "bigint(20) unsigned", False, None, "auto_increment"),
    ]
    assert keys(t) == ["PRIMARY KEY (`id`)", "UNIQUE KEY `n` (`n`)"]


def test_engine_rows_and_schema() -> None:
    t = table("CREATE TABLE shop.t (a INT) ENGINE = myisam DEFAULT CHARSET=utf8mb4 COMMENT='x'")
    assert (t.schema, t.name, t.engine, t.rows) == ("shop", "t", "MyISAM", None)
    assert table("CREATE TABLE t (a INT) ROW_FORMAT=DYNAMIC").engine == "InnoDB"
    assert table("CREATE TABLE t (a INT) TYPE=MEMORY").engine == "MEMORY"


def test_quoted_and_keyword_like_names() -> None:
    t = table(
        "CREATE TABLE `we``ird` (`col``x` INT, `select` INT, status INT, type INT, KEY type (type), "
        "PRIMARY KEY (`col``x`))"
    )
    assert t.name == "we`ird"
    assert [c.name for c in t.columns] == ["col`x", "select", "status", "type"]
    assert keys(t) == ["PRIMARY KEY (`col``x`)", "KEY `type` (`type`)"]


# --------------------------------------------------------------------------------------------
# CREATE TABLE: keys
# --------------------------------------------------------------------------------------------


def test_every_kind_of_key() -> None:
    t = table("""CREATE TABLE t (
        id INT, a VARCHAR(100), b INT, g GEOMETRY NOT NULL, d TEXT,
        PRIMARY KEY (id), UNIQUE KEY u_a (a), UNIQUE INDEX u_b (b), KEY k1 (a(10), b DESC) USING BTREE,
        INDEX k2 USING HASH (b) COMMENT 'why', FULLTEXT KEY ft (a, d), SPATIAL INDEX sp (g),
        KEY k3 (b) INVISIBLE, KEY k4 (b) IGNORED, CONSTRAINT chk CHECK (b > 0))""")
    assert keys(t) == [
        "PRIMARY KEY (`id`)",
        "UNIQUE KEY `u_a` (`a`)",
        "UNIQUE KEY `u_b` (`b`)",
        "KEY `k1` (`a`(10),`b` DESC)",
        "KEY `k2` (`b`)",
        "SPATIAL KEY `sp` (`g`(32))",
        "KEY `k3` (`b`)",
        "KEY `k4` (`b`)",
        "FULLTEXT KEY `ft` (`a`,`d`)",
    ]
    assert [i.type for i in t.indexes] == ["BTREE"] * 5 + ["SPATIAL", "BTREE", "BTREE", "FULLTEXT"]
    assert t.index("k2").comment == "why"
    assert [i.visible for i in t.indexes if i.name.startswith("k")] == [True, True, False, False]
    assert t.column("id").nullable is False


def test_inline_primary_and_unique_keys() -> None:
    t = table("CREATE TABLE t (a INT, b INT UNIQUE, c INT UNIQUE KEY, d INT PRIMARY KEY)")
    assert keys(t) == ["PRIMARY KEY (`d`)", "UNIQUE KEY `b` (`b`)", "UNIQUE KEY `c` (`c`)"]
    assert table("CREATE TABLE t (a INT KEY)").primary_key.column_names == ("a",)


def test_unnamed_keys_are_named_after_their_first_column() -> None:
    # Measured on MariaDB 10.11: a, a_2, a_3; b (UNIQUE); B_2 taken, so the next b key is b_3;
    # `primary` is not a free name for a plain key.
    t = table(
        "CREATE TABLE t (a INT, b INT, c INT, `primary` INT, KEY (a), KEY (a), UNIQUE (b), KEY (a, b), "
        "KEY (c), KEY B_2 (a), KEY (b), KEY (A), KEY (`primary`))"
    )
    assert [i.name for i in t.indexes] == ["b", "a", "a_2", "a_3", "c", "B_2", "b_3", "a_4", "primary_2"]
    assert t.index("a_4").column_names == ("a",)  # the column's declared name, not the A written


def test_constraint_names_unique_keys() -> None:
    t = table(
        "CREATE TABLE t (a INT, b INT, c INT, CONSTRAINT c1 UNIQUE (a), CONSTRAINT c2 UNIQUE KEY k2 (b), "
        "CONSTRAINT pk PRIMARY KEY (c))"
    )
    assert keys(t) == ["PRIMARY KEY (`c`)", "UNIQUE KEY `c1` (`a`)", "UNIQUE KEY `k2` (`b`)"]


def test_prefixes_as_long_as_the_column_are_whole_columns() -> None:
    t = table("CREATE TABLE t (a VARCHAR(10), b CHAR(5), KEY ka (a(10)), KEY kb (b(5)), KEY kc (a(5)))")
    assert keys(t) == ["KEY `ka` (`a`)", "KEY `kb` (`b`)", "KEY `kc` (`a`(5))"]


def test_key_order_follows_the_server() -> None:
    t = table(
        "CREATE TABLE t (a INT, b INT NOT NULL, c VARCHAR(20) NOT NULL, d INT, FULLTEXT (c), KEY (a), "
        "UNIQUE (d), UNIQUE (c(5)), UNIQUE (b), PRIMARY KEY (a))"
    )
    assert [i.name for i in t.indexes] == ["PRIMARY", "b", "c_2", "d", "a", "c"]


def test_hash_keys_memory_engine_and_long_unique() -> None:
    memory = table("CREATE TABLE m (a INT, b INT, KEY (a), KEY kb (b) USING BTREE) ENGINE=MEMORY")
    assert [(i.name, i.type) for i in memory.indexes] == [("a", "HASH"), ("kb", "BTREE")]
    innodb = table("CREATE TABLE t (a TEXT, b BLOB, c INT, UNIQUE (a), UNIQUE KEY ub (b(10)), KEY (c) USING HASH)")
    assert [(i.name, i.type) for i in innodb.indexes] == [("a", "HASH"), ("ub", "BTREE"), ("c", "BTREE")]


def test_functional_key_parts() -> None:
    t = table("CREATE TABLE t (a VARCHAR(10), KEY f ((lower(a)), a DESC))")
    part = t.index("f").columns[0]
    assert (part.name, part.expression) == (None, "lower(a)")
    assert t.index("f").ddl == "KEY `f` ((lower(a)),`a` DESC)"


# --------------------------------------------------------------------------------------------
# Foreign keys and the indexes InnoDB adds for them
# --------------------------------------------------------------------------------------------

PARENT = "CREATE TABLE p (id INT PRIMARY KEY, a INT, b INT, KEY (a, b));\n"


def test_foreign_keys_with_actions() -> None:
    t = table(
        PARENT + "CREATE TABLE c (id INT, pid INT, CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id) "
        "ON DELETE SET NULL ON UPDATE CASCADE, FOREIGN KEY (id) REFERENCES other.p (id) ON DELETE NO ACTION)",
        "c",
    )
    assert [
        (f.name, f.columns, f.ref_schema, f.ref_table, f.ref_columns, f.on_delete, f.on_update) for f in t.foreign_keys
    ] == [
        ("c_ibfk_1", ("id",), "other", "p", ("id",), "NO ACTION", "RESTRICT"),
        ("fk_p", ("pid",), "", "p", ("id",), "SET NULL", "CASCADE"),
    ]


def test_foreign_key_index_is_generated_and_named_like_innodb() -> None:
    # Each case measured on MariaDB 10.11 (SHOW CREATE TABLE).
    cases = {
        "FOREIGN KEY (a) REFERENCES p (id), FOREIGN KEY (b) REFERENCES p (id), "
        "CONSTRAINT cc FOREIGN KEY (a) REFERENCES p (id)": ["KEY `b` (`b`)", "KEY `cc` (`a`)"],
        "CONSTRAINT cx FOREIGN KEY fi (a) REFERENCES p (id), FOREIGN KEY fj (b) REFERENCES p (id)": [
            "KEY `cx` (`a`)",
            "KEY `fj` (`b`)",
        ],
        "FOREIGN KEY (a) REFERENCES p (id), KEY kab (a, b)": ["KEY `kab` (`a`,`b`)"],
        "KEY kab (a, b), FOREIGN KEY (a) REFERENCES p (id)": ["KEY `kab` (`a`,`b`)"],
        "KEY k (a DESC), FOREIGN KEY (a) REFERENCES p (id)": ["KEY `k` (`a` DESC)"],
        "KEY k (a) USING HASH, FOREIGN KEY (a) REFERENCES p (id)": ["KEY `k` (`a`)", "KEY `a` (`a`)"],
        "KEY k (b, a), FOREIGN KEY (a, b) REFERENCES p (a, b)": ["KEY `k` (`b`,`a`)", "KEY `a` (`a`,`b`)"],
        "FOREIGN KEY (a, b) REFERENCES p (a, b), FOREIGN KEY (a) REFERENCES p (id)": ["KEY `a` (`a`,`b`)"],
        "FOREIGN KEY (a) REFERENCES p (id), FOREIGN KEY (a, b) REFERENCES p (a, b)": ["KEY `a` (`a`,`b`)"],
        "PRIMARY KEY (a, b), FOREIGN KEY (a) REFERENCES p (id)": ["PRIMARY KEY (`a`,`b`)"],
        "UNIQUE KEY u (a, b), FOREIGN KEY (a) REFERENCES p (id)": ["UNIQUE KEY `u` (`a`,`b`)"],
    }
    for body, expected in cases.items():
        t = table(PARENT + f"CREATE TABLE c (a INT, b INT, {body})", "c")
        assert keys(t) == expected, body
    names = table(
        PARENT + "CREATE TABLE c (a INT, b INT, FOREIGN KEY (a) REFERENCES p (id), "
        "FOREIGN KEY (b) REFERENCES p (id), CONSTRAINT cc FOREIGN KEY (a) REFERENCES p (id))",
        "c",
    )
    assert [f.name for f in names.foreign_keys] == ["c_ibfk_1", "c_ibfk_2", "cc"]


def test_prefix_key_does_not_serve_a_foreign_key() -> None:
    t = table(
        "CREATE TABLE p (s VARCHAR(50), KEY (s));\n"
        "CREATE TABLE c (s VARCHAR(50), KEY kc (s(10)), FOREIGN KEY (s) REFERENCES p (s))",
        "c",
    )
    assert keys(t) == ["KEY `kc` (`s`(10))", "KEY `s` (`s`)"]


def test_column_references_clause_is_a_foreign_key_on_mariadb() -> None:
    t = table(PARENT + "CREATE TABLE c (a INT REFERENCES p (id), b INT)", "c")
    assert keys(t) == ["KEY `a` (`a`)"]
    assert [f.name for f in t.foreign_keys] == ["c_ibfk_1"]


def test_foreign_keys_only_on_innodb() -> None:
    t = table(
        PARENT + "CREATE TABLE c (a INT, b INT, CONSTRAINT cm FOREIGN KEY (a) REFERENCES p (id), "
        "FOREIGN KEY (b) REFERENCES p (id)) ENGINE=MyISAM",
        "c",
    )
    assert keys(t) == ["KEY `cm` (`a`)", "KEY `b` (`b`)"]
    assert t.foreign_keys == []


# --------------------------------------------------------------------------------------------
# Other statements
# --------------------------------------------------------------------------------------------


def test_create_table_like_copies_columns_and_keys_not_foreign_keys() -> None:
    schema = ddl(
        PARENT + "CREATE TABLE c (a INT, CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)) ENGINE=InnoDB;\n"
        "CREATE TABLE d LIKE c; CREATE TABLE e (LIKE p);"
    )
    d, e = (next(t for t in schema.tables if t.name == n) for n in "de")
    assert (columns(d), keys(d), d.foreign_keys) == ([("a", "int(11)", True, None, "")], ["KEY `f` (`a`)"], [])
    assert keys(e) == ["PRIMARY KEY (`id`)", "KEY `a` (`a`,`b`)"]


def test_create_index_statements() -> None:
    t = table(
        "CREATE TABLE t (a VARCHAR(20), b INT, c TEXT, g POINT NOT NULL);\n"
        "CREATE INDEX i1 ON t (a(10), b DESC) USING BTREE;\n"
        "CREATE UNIQUE INDEX u1 USING BTREE ON t (b) ALGORITHM=INPLACE LOCK=NONE;\n"
        "CREATE FULLTEXT INDEX f1 ON t (c);\nCREATE SPATIAL INDEX s1 ON t (g);\n"
        "CREATE INDEX IF NOT EXISTS i1 ON t (b);\nCREATE OR REPLACE INDEX i2 ON t (b);"
    )
    assert keys(t) == [
        "UNIQUE KEY `u1` (`b`)",
        "KEY `i1` (`a`(10),`b` DESC)",
        "SPATIAL KEY `s1` (`g`(32))",
        "KEY `i2` (`b`)",
        "FULLTEXT KEY `f1` (`c`)",
    ]


def test_alter_table_adds_and_drops() -> None:
    t = table(
        "CREATE TABLE t (id INT, a INT, b INT, KEY ka (a), KEY kb (b));\n"
        "ALTER TABLE t ADD PRIMARY KEY (id), ADD UNIQUE INDEX u (a), ADD KEY (b, a), DROP INDEX ka, "
        "DROP KEY kb, ADD COLUMN c VARCHAR(5) NOT NULL DEFAULT 'x' AFTER id, ADD d INT FIRST, "
        "ADD INDEX IF NOT EXISTS u (b), ALGORITHM=INPLACE, LOCK=NONE;\n"
        "ALTER TABLE t ADD COLUMN (e INT, f INT), ADD FULLTEXT KEY ft (c);\n"
        "ALTER IGNORE TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, a), ENGINE=InnoDB;"
    )
    assert [c.name for c in t.columns] == ["d", "id", "c", "a", "b", "e", "f"]
    assert keys(t) == ["PRIMARY KEY (`id`,`a`)", "UNIQUE KEY `u` (`a`)", "KEY `b` (`b`,`a`)", "FULLTEXT KEY `ft` (`c`)"]
    assert (t.column("id").nullable, t.column("a").nullable) == (False, False)


def test_alter_table_foreign_keys_and_their_indexes() -> None:
    schema = ddl(
        PARENT + "CREATE TABLE c (a INT, b INT, FOREIGN KEY (a) REFERENCES p (id));\n"
        "ALTER TABLE c ADD KEY kab (a, b);\n"  # the generated index `a` goes
        "ALTER TABLE c ADD FOREIGN KEY (b) REFERENCES p (id), ADD CONSTRAINT named FOREIGN KEY (a) "
        "REFERENCES p (id);\n"
        "CREATE TABLE d (a INT, CONSTRAINT zz FOREIGN KEY (a) REFERENCES p (id));\n"
        "CREATE INDEX i5 ON d (a, b2);\n"  # refused: no column b2
        "ALTER TABLE d ADD KEY (a);\n"  # replaces the generated zz
        "ALTER TABLE c DROP FOREIGN KEY c_ibfk_2, DROP INDEX b;"
    )
    c, d = (next(t for t in schema.tables if t.name == n) for n in "cd")
    assert keys(c) == ["KEY `kab` (`a`,`b`)"]
    assert [f.name for f in c.foreign_keys] == ["c_ibfk_1", "named"]
    assert keys(d) == ["KEY `a` (`a`)"]
    assert len(schema.warnings) == 1 and "no column b2" in schema.warnings[0]


def test_alter_table_refused_statement_changes_nothing() -> None:
    schema = ddl(
        PARENT + "CREATE TABLE c (a INT, b INT, KEY kab (a, b), CONSTRAINT zz FOREIGN KEY (a) "
        "REFERENCES p (id));\nALTER TABLE c ADD COLUMN x INT, DROP INDEX kab;"
    )
    c = next(t for t in schema.tables if t.name == "c")
    assert keys(c) == ["KEY `kab` (`a`,`b`)"] and [col.name for col in c.columns] == ["a", "b"]
    assert "foreign key zz would have no index on (a)" in schema.warnings[0]


def test_alter_table_modify_change_rename() -> None:
    t = table(
        "CREATE TABLE t (a INT, b INT, c INT, KEY kb (b), KEY kc (c));\n"
        "ALTER TABLE t MODIFY a BIGINT NOT NULL, CHANGE COLUMN b b2 VARCHAR(10) DEFAULT 'q', "
        "RENAME COLUMN c TO c2, RENAME INDEX kc TO kc2, ALTER COLUMN a SET DEFAULT 5, DROP COLUMN IF EXISTS zz;\n"
        "ALTER TABLE t RENAME TO t2;"
    )
    assert t.name == "t2"
    assert columns(t) == [
        ("a", "bigint(20)", False, "5", ""),
        ("b2", "varchar(10)", True, "q", ""),
        ("c2", "int(11)", True, None, ""),
    ]
    assert keys(t) == ["KEY `kb` (`b2`)", "KEY `kc2` (`c2`)"]


def test_drop_column_takes_it_out_of_keys() -> None:
    t = table("CREATE TABLE t (a INT, b INT, c INT, KEY kab (a, b), KEY kc (c));\nALTER TABLE t DROP COLUMN a, DROP c;")
    assert keys(t) == ["KEY `kab` (`b`)"]


def test_drop_table_drop_index_rename_table() -> None:
    schema = ddl(
        "CREATE TABLE a (x INT, KEY kx (x)); CREATE TABLE b (x INT); CREATE TABLE c (x INT);\n"
        "DROP TABLE IF EXISTS b, nope; DROP INDEX kx ON a ALGORITHM=INPLACE; RENAME TABLE c TO d;\n"
        "DROP TEMPORARY TABLE IF EXISTS a; CREATE TEMPORARY TABLE tmp (x INT);"
    )
    assert [(t.name, keys(t)) for t in schema.tables] == [("a", []), ("d", [])]
    assert schema.warnings == []


def test_use_create_database_and_qualified_names() -> None:
    schema = ddl(
        "CREATE TABLE t0 (a INT); CREATE DATABASE IF NOT EXISTS s1; CREATE TABLE t1 (a INT);\n"
        "USE s1; CREATE TABLE t2 (a INT); CREATE TABLE s2.t3 (a INT);\n"
        "CREATE SCHEMA `s 3`; USE `s 3`; CREATE TABLE t4 (a INT);\n"
        "DROP DATABASE IF EXISTS s2;",
        default_schema="app",
    )
    assert [t.full_name for t in schema.tables] == ["app.t0", "app.t1", "s 3.t4", "s1.t2"]


def test_other_statements_are_ignored_without_a_warning() -> None:
    schema = ddl("""SET NAMES utf8mb4; LOCK TABLES t WRITE; UNLOCK TABLES; INSERT INTO t VALUES (1);
        CREATE TABLE t (a INT);
        CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW v AS SELECT 1;
        CREATE OR REPLACE VIEW v2 AS SELECT a FROM t;
        DELIMITER ;;
        CREATE DEFINER='root'@'%' TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END;;
        CREATE PROCEDURE p() BEGIN CREATE TABLE inside (x INT); END;;
        CREATE FUNCTION f() RETURNS INT RETURN 1;;
        CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t;;
        DELIMITER ;
        /* only a comment */;
        START TRANSACTION; COMMIT; DROP VIEW v; GRANT SELECT ON *.* TO x; ANALYZE TABLE t;""")
    assert [t.name for t in schema.tables] == ["t"]
    assert schema.warnings == []


# --------------------------------------------------------------------------------------------
# Hostile input
# --------------------------------------------------------------------------------------------


def test_unreadable_table_ddl_is_skipped_with_one_warning_line() -> None:
    schema = ddl(
        "CREATE TABLE ok (a INT);\nCREATE TABLE bad (a INT,, b INT);\nCREATE TABLE t2 (a INT, KEY (nope));\n"
        "CREATE TABLE ok (b INT);\nALTER TABLE missing ADD KEY (a);\nTHIS IS NOT SQL;\n"
        "CREATE TABLE dup (a INT, a INT);\nCREATE TABLE pk2 (a INT PRIMARY KEY, b INT, PRIMARY KEY (b));\n"
        "CREATE TABLE kn (a INT, KEY k (a), KEY K (a));\nCREATE TABLE sel SELECT 1 AS a;",
        source="schema.sql",
    )
    assert [t.name for t in schema.tables] == ["ok"]
    assert [c.name for c in schema.tables[0].columns] == ["a"]
    assert len(schema.warnings) == 9
    for n, warning in enumerate(schema.warnings, start=2):
        assert warning.startswith(f"schema.sql: statement {n} (line {n}) ")
        assert "\n" not in warning
    for expected, warning in zip(
        [
            "empty definition",
            "no column nope",
            "already defined",
            "no table missing",
            "not a SQL statement",
            "duplicate column a",
            "more than one PRIMARY KEY",
            "duplicate key name K",
            "no column list",
        ],
        schema.warnings,
    ):
        assert expected in warning, (expected, warning)
        assert warning.endswith("; skipped") or "SELECT" in warning


def test_unterminated_quote_is_a_warning() -> None:
    schema = ddl("CREATE TABLE a (x INT);\nCREATE TABLE b (x INT COMMENT 'oops);\nCREATE TABLE c (x INT);")
    assert [t.name for t in schema.tables] == ["a"]
    assert schema.warnings == [
        (
            '<ddl>: statement 2 (line 2) "CREATE TABLE b (x INT COMMENT \'oops); CREATE TABLE c (x INT)...": '
            "unterminated ' quote runs to the end of the file; skipped"
        )
    ]


def test_garbage_and_empty_input_raise_schema_file_error() -> None:
    with pytest.raises(SchemaFileError, match=r"^<ddl>: no SQL statement in the file"):
        ddl("")
    with pytest.raises(SchemaFileError, match=r"^x\.sql: no SQL statement"):
        ddl("  -- only comments\n/* and this */\n", source="x.sql")
    with pytest.raises(SchemaFileError, match=r"^<ddl>: defines no table \(2 statements read, 1 skipped"):
        ddl("SELECT 1; \x00\x01 garbage ((( '")
    with pytest.raises(SchemaFileError, match="defines no table"):
        ddl("CREATE TABLE t (a INT); DROP TABLE t;")
    assert issubclass(SchemaFileError, AnalyzerError)


def test_mutated_ddl_never_crashes() -> None:
    """Truncated, shuffled and duplicated tokens of the Sakila schema: every result is either
    tables with warnings or SchemaFileError, never another exception."""
    text = SAKILA_SCHEMA.read_text(encoding="utf-8")
    words = re.findall(r"\w+|[^\w\s]", text)
    rng = random.Random(20240601)
    for _ in range(300):
        start = rng.randrange(len(words))
        chunk = words[start : start + rng.randrange(1, 400)]
        for _ in range(rng.randrange(0, 6)):
            i = rng.randrange(len(chunk))
            action = rng.randrange(3)
            if action == 0:
                del chunk[i]
            elif action == 1:
                chunk.insert(i, rng.choice(words))
            else:
                chunk[i] = rng.choice(["(", ")", ",", "'", "`", "KEY", "CREATE TABLE", ";", "DEFAULT", "/*!"])
        try:
            ddl("CREATE TABLE " + " ".join(chunk))
        except SchemaFileError:
            pass


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def test_file_helper_reads_plain_and_gzip_files(tmp_path: Path) -> None:
    plain = tmp_path / "schema.sql"
    plain.write_text("\ufeffCREATE TABLE t (a INT);", encoding="utf-8")
    packed = tmp_path / "schema.sql.gz"
    packed.write_bytes(gzip.compress(b"CREATE TABLE u (a INT);"))
    assert [t.name for t in load_tables_from_ddl_file(plain).tables] == ["t"]
    assert [t.full_name for t in load_tables_from_ddl_file(packed, default_schema="db").tables] == ["db.u"]


def test_file_helper_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "latin1.sql").write_bytes(b"CREATE TABLE t (a INT COMMENT '\xe9');")
    (tmp_path / "broken.sql.gz").write_bytes(b"not gzip at all")
    (tmp_path / "empty.sql").write_text("", encoding="utf-8")
    cases = {
        tmp_path / "missing.sql": r"^schema file .*missing\.sql: no such file$",
        tmp_path: r"^schema file .*: is a directory, not a file$",
        tmp_path / "latin1.sql": r"^schema file .*latin1\.sql: not UTF-8 text \(byte 31\)$",
        tmp_path / "broken.sql.gz": r"^schema file .*broken\.sql\.gz: cannot read it \(.*\)$",
        tmp_path / "empty.sql": r"empty\.sql: no SQL statement in the file",
    }
    for path, pattern in cases.items():
        with pytest.raises(SchemaFileError, match=pattern) as info:
            load_tables_from_ddl_file(path)
        assert "\n" not in str(info.value)


# --------------------------------------------------------------------------------------------
# Real schemas, offline
# --------------------------------------------------------------------------------------------

# The secondary indexes schema.sql creates (CREATE [UNIQUE] INDEX name ON table (columns)).
SHOP_INDEXES = re.compile(r"^CREATE (UNIQUE )?INDEX (\w+) ON (\w+) \(([^)]*)\);", re.MULTILINE)


def test_shop_schema_offline() -> None:
    schema = load_tables_from_ddl_file(SHOP_SCHEMA, default_schema="shop")
    assert schema.warnings == []
    assert len(schema.tables) == 14
    assert all(t.schema == "shop" and t.engine == "InnoDB" and t.rows is None for t in schema.tables)
    by_name = {t.name: t for t in schema.tables}
    declared = SHOP_INDEXES.findall(SHOP_SCHEMA.read_text(encoding="utf-8"))
    assert len(declared) == 23
    for unique, name, table_name, cols in declared:
        index = by_name[table_name].index(name)
        assert index is not None, name
        assert (index.unique, index.column_names) == (bool(unique), tuple(c.strip() for c in cols.split(",")))
    secondary = sum(len(t.indexes) - 1 for t in schema.tables)
    assert secondary == len(declared)
    assert all(t.indexes[0].primary for t in schema.tables)
    assert by_name["inventory"].primary_key.column_names == ("product_id", "warehouse_id")


def test_sakila_schema_offline() -> None:
    schema = load_tables_from_ddl_file(SAKILA_SCHEMA)
    assert schema.warnings == []
    assert [t.name for t in schema.tables] == sorted(EXPECTED_ROWS)
    assert {t.schema for t in schema.tables} == {"sakila"}
    by_name = {t.name: t for t in schema.tables}
    film_text = by_name["film_text"]
    assert film_text.engine == "InnoDB"  # the /*!50610 ALTER TABLE film_text engine=InnoDB */
    assert keys(film_text) == [
        "PRIMARY KEY (`film_id`)",
        "FULLTEXT KEY `idx_title_description` (`title`,`description`)",
    ]
    assert by_name["address"].column("location").type == "geometry"
    assert by_name["address"].index("idx_location").type == "SPATIAL"
    assert by_name["rental"].index("rental_date").column_names == ("rental_date", "inventory_id", "customer_id")
    # pt-duplicate-key-checker's --key-types samples count 41 keys and 22 foreign keys on a server
    # that skipped the /*!50705 */ comments (as MariaDB does); this loader keeps them, as MySQL 8
    # does, so address also has its SPATIAL key.
    assert (sum(len(t.indexes) for t in schema.tables), sum(len(t.foreign_keys) for t in schema.tables)) == (42, 22)
    payment = by_name["payment"]
    assert payment.index("fk_payment_rental").column_names == ("rental_id",)  # generated for the foreign key
    assert [(f.name, f.ref_table, f.on_delete, f.on_update) for f in payment.foreign_keys] == [
        ("fk_payment_customer", "customer", "RESTRICT", "CASCADE"),
        ("fk_payment_rental", "rental", "SET NULL", "CASCADE"),
        ("fk_payment_staff", "staff", "RESTRICT", "CASCADE"),
    ]


# --------------------------------------------------------------------------------------------
# Against the live server
# --------------------------------------------------------------------------------------------

_DISPLAY_WIDTH = re.compile(r"^(tinyint|smallint|mediumint|int|bigint)\(\d+\)")


def _comparable_type(text: str, flavor: str) -> str:
    """MySQL 8.0.19+ prints integer types without their display width (tinyint(1) excepted) and
    YEAR as ``year``, where the loader writes MariaDB's ``int(10) unsigned`` and ``year(4)``: on
    MySQL both sides lose the widths before the comparison; MariaDB's text is compared as it is."""
    if flavor != "mysql":
        return text
    if text == "year(4)":
        return "year"
    return text if text.startswith("tinyint(1)") else _DISPLAY_WIDTH.sub(r"\1", text)


_NOW = re.compile(r"current_timestamp\((\d*)\)")


def _now(value: str) -> str:
    """MariaDB's ``current_timestamp()`` / ``current_timestamp(6)`` as MySQL's ``CURRENT_TIMESTAMP[(6)]``."""
    return _NOW.sub(lambda m: "CURRENT_TIMESTAMP" + (f"({m.group(1)})" if m.group(1) else ""), value)


def _server_default(value: str | None) -> str | None:
    """MariaDB's COLUMN_DEFAULT (``'active'``, ``NULL``, ``current_timestamp()``) as MySQL's."""
    if value is None or value == "NULL":
        return None
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return _now(value)


def _server_extra(value: str) -> str:
    """MariaDB's ``on update current_timestamp()``, MySQL's ``DEFAULT_GENERATED``, as the loader writes them."""
    return _now(value.replace("DEFAULT_GENERATED", "").strip())


def facts(t: Table, flavor: str, *, from_server: bool) -> dict[str, Any]:
    """What both loaders must agree on, as plain data.  Server values are normalised where the
    server prints differently from the loader (see _comparable_type, _server_default)."""
    cols = []
    for c in t.columns:
        if from_server:
            cols.append(
                (
                    c.name,
                    _comparable_type(c.type, flavor),
                    c.nullable,
                    _server_default(c.default),
                    _server_extra(c.extra),
                )
            )
        else:
            cols.append((c.name, _comparable_type(c.type, flavor), c.nullable, c.default, c.extra))
    return {
        "engine": t.engine,
        "columns": cols,
        "indexes": [
            (i.name, i.unique, i.type, i.visible, [(p.name, p.sub_part, p.descending) for p in i.columns])
            for i in t.indexes
        ],
        "foreign_keys": [
            (f.name, f.columns, f.ref_schema, f.ref_table, f.ref_columns, f.on_update, f.on_delete)
            for f in sorted(t.foreign_keys, key=lambda f: f.name)
        ],
    }


def assert_same_tables(server: TestServer, database: str, offline: DdlSchema) -> None:
    with session(server) as mqa:
        live = load_tables(mqa, [database])
    assert offline.warnings == []
    assert [t.full_name for t in offline.tables] == [t.full_name for t in live]
    for ours, theirs in zip(offline.tables, live):
        assert facts(ours, server.flavor, from_server=False) == facts(theirs, server.flavor, from_server=True), (
            ours.name
        )
        assert ours.rows is None


def test_shop_schema_agrees_with_the_server(server: TestServer) -> None:
    text = SHOP_SCHEMA.read_text(encoding="utf-8")
    with fresh_database(server, "mqa_ddl_shop") as db:
        server.execute(*(s.text for s in split_statements(text)), database=db)
        assert_same_tables(server, db, load_tables_from_ddl(text, default_schema=db, source=str(SHOP_SCHEMA)))


def test_sakila_schema_agrees_with_the_server(server: TestServer) -> None:
    db = "mqa_ddl_sakila"
    conn = server.admin()
    try:
        load_sakila(conn, db, with_data=False)
        # The file says USE sakila: what it defines there is what load_sakila put in db.
        text = SAKILA_SCHEMA.read_text(encoding="utf-8").replace("USE sakila;", f"USE {db};")
        offline = load_tables_from_ddl(text, source=str(SAKILA_SCHEMA))
        assert_same_tables(server, db, offline)
    finally:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{db}`")
        conn.close()


def test_load_sakila_loads_every_row_and_is_idempotent(server: TestServer) -> None:
    db = "mqa_ddl_sakila_rows"
    conn = server.admin()
    try:
        assert load_sakila(conn, db) == EXPECTED_ROWS
        assert load_sakila(conn, db) == EXPECTED_ROWS
        with conn.cursor() as cur:
            # 3 triggers in the schema file (film_text), 3 created by the data file after its rows
            cur.execute("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s", (db,))
            assert cur.fetchone()[0] == 6
            cur.execute("SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s", (db,))
            assert cur.fetchone()[0] == 7
            cur.execute("SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s", (db,))
            assert cur.fetchone()[0] == 6
            cur.execute(f"SELECT COUNT(*) FROM `{db}`.actor_info")
            assert cur.fetchone()[0] == 200
    finally:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{db}`")
        conn.close()


_DATABASE_STATEMENT = re.compile(r"(?:DROP|CREATE)\s+(?:DATABASE|SCHEMA)\b|USE\b", re.IGNORECASE)


@pytest.mark.parametrize("fixture", [f for f in PT_FIXTURES if f not in NOT_LOADABLE])
def test_pt_duplicate_key_fixtures_agree_with_the_server(server: TestServer, fixture: str) -> None:
    """pt-duplicate-key-checker's schemas (written by others, for another tool): each loaded for
    real and read offline must give the same tables."""
    statements = [
        s.text
        for s in split_statements((PT / fixture).read_text(encoding="utf-8"))
        if not _DATABASE_STATEMENT.match(s.text)
    ]
    name = "mqa_ddl_pt_" + re.sub(r"[^a-z0-9]+", "_", Path(fixture).stem.lower())
    with fresh_database(server, name) as db:
        server.execute("SET SESSION foreign_key_checks = 0", *statements, database=db)
        assert_same_tables(server, db, load_tables_from_ddl(";\n".join(statements), default_schema=db))


def test_mariadb_naming_rules_agree_with_the_server(server: TestServer) -> None:
    """The generated names and foreign key indexes of the unit tests above, checked live."""
    statements = [
        "CREATE TABLE p (id INT PRIMARY KEY, a INT, b INT, KEY (a, b))",
        (
            "CREATE TABLE t1 (a INT, b INT, c INT, `primary` INT, KEY (a), KEY (a), UNIQUE (b), KEY (a, b), KEY (c), "
            "KEY B_2 (a), KEY (b), KEY (A), KEY (`primary`))"
        ),
        (
            "CREATE TABLE t2 (a INT, b INT, FOREIGN KEY (a) REFERENCES p (id), FOREIGN KEY (b) REFERENCES p (id), "
            "CONSTRAINT cc FOREIGN KEY (a) REFERENCES p (id))"
        ),
        (
            "CREATE TABLE t3 (a INT, b INT, CONSTRAINT cx FOREIGN KEY fi (a) REFERENCES p (id), "
            "FOREIGN KEY fj (b) REFERENCES p (id))"
        ),
        (
            "CREATE TABLE t4 (a INT, b INT, KEY k (a) USING HASH, KEY k2 (b, a), FOREIGN KEY (a) REFERENCES p (id), "
            "FOREIGN KEY (b, a) REFERENCES p (a, b))"
        ),
        "CREATE TABLE t5 (a INT, b INT, FOREIGN KEY (a) REFERENCES p (id), FOREIGN KEY (a, b) REFERENCES p (a, b))",
        (
            "CREATE TABLE t6 (a INT NOT NULL, b INT, c VARCHAR(10), UNIQUE KEY u (a, b), KEY (c(10)), "
            "FOREIGN KEY (a) REFERENCES p (id), CONSTRAINT c7 UNIQUE (b))"
        ),
        "CREATE TABLE t7 (a INT REFERENCES p (id), b INT UNIQUE, c INT KEY, d TEXT, UNIQUE (d))",
        "CREATE TABLE t8 (a INT, b INT, CONSTRAINT cm FOREIGN KEY (a) REFERENCES p (id)) ENGINE=MyISAM",
        "CREATE TABLE t9 (a INT, b INT, CONSTRAINT z9 FOREIGN KEY (a) REFERENCES p (id))",
        "ALTER TABLE t9 ADD KEY (a), ADD FOREIGN KEY (b) REFERENCES p (id), ADD COLUMN c INT FIRST",
        (
            "ALTER TABLE t9 ADD KEY kba (b, a), DROP FOREIGN KEY t9_ibfk_1, ADD CONSTRAINT n9 FOREIGN KEY (b) "
            "REFERENCES p (id)"
        ),
        "CREATE TABLE t10 LIKE t9",
        "CREATE INDEX i10 ON t10 (c DESC, a)",
        (
            "CREATE TABLE t11 (a INT8, b REAL, c SERIAL, d NATIONAL CHAR(3), e LONG VARCHAR, f YEAR, g FLOAT(30), "
            "h DEC, i BOOL DEFAULT TRUE, j INTEGER UNSIGNED ZEROFILL, k CHAR(4) BYTE, l BLOB(100), m TIME(0), "
            "n DATETIME(6) DEFAULT NOW(6) ON UPDATE NOW(6), o ENUM('a','it''s') DEFAULT 'it''s', p POINT NOT NULL, "
            "q MIDDLEINT DEFAULT -3, r DECIMAL(6,2) DEFAULT 4.50, s BIT(1) DEFAULT b'1', "
            "t TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, u VARCHAR(30) NOT NULL DEFAULT '', "
            "v FLOAT(7,4) UNSIGNED, w INT AS (q + 1) VIRTUAL, x INT AS (q * 2) PERSISTENT, "
            "KEY kp (u(5), a DESC), SPATIAL KEY (p), FULLTEXT (e, u), KEY ki (q) IGNORED, UNIQUE (l(10)))"
        ),
        "CREATE TABLE t12 (a INT, b INT, KEY (a), KEY kb (b) USING BTREE, PRIMARY KEY (b)) ENGINE=MEMORY",
    ]
    if server.flavor != "mariadb":
        why = "the naming rules are MariaDB's (MySQL 8 ignores a column's REFERENCES and FOREIGN KEY names)"
        pytest.skip(why)  # capability: MySQL 8 names these indexes otherwise
    with fresh_database(server, "mqa_ddl_rules") as db:
        server.execute("SET SESSION foreign_key_checks = 1", *statements, database=db)
        assert_same_tables(server, db, load_tables_from_ddl(";\n".join(statements), default_schema=db))
