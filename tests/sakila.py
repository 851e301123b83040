"""The Sakila sample database (tests/fixtures/sakila, see SOURCE.txt) on a live MySQL/MariaDB server.

``load_sakila(conn, database)`` runs the schema file (tables, triggers, views, routines) and the
data file in ``database``, dropped and created again first, so that loading twice gives the same
database.  The files are split here, as the mysql client splits them (``DELIMITER ;;`` and ``$$``
blocks of the triggers and routines, executable ``/*!50705 ... */`` comments unwrapped), with
``analyzer.sources.schema_ddl.split_statements``; no mysql client is needed.

Executable comments are unwrapped whatever their version, so the server gets what MySQL 8 runs:
MariaDB, given the files as they are, would skip the ``/*!50705 */`` parts (it ignores five-digit
versions from 50700 on) and leave out ``address.location``, its SPATIAL key and the location
values of the address rows.  Nothing else in the files is refused by MariaDB 10.11.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from typing import Any

from analyzer.sources.schema import quote_identifier
from analyzer.sources.schema_ddl import split_statements
from tests.conftest import FIXTURES

SAKILA = FIXTURES / "sakila"
SCHEMA_FILE = SAKILA / "sakila-mv-schema.sql"
DATA_FILE = SAKILA / "sakila-mv-data.sql.gz"

# Rows of the data file (SOURCE.txt); film_text is filled by the ins_film trigger.
EXPECTED_ROWS = {
    "actor": 200,
    "address": 603,
    "category": 16,
    "city": 600,
    "country": 109,
    "customer": 599,
    "film": 1000,
    "film_actor": 5462,
    "film_category": 1000,
    "film_text": 1000,
    "inventory": 4581,
    "language": 6,
    "payment": 16049,
    "rental": 16044,
    "staff": 2,
    "store": 2,
}

# The files create, drop and select the database "sakila" themselves: left out, so that
# everything lands in the database asked for.
_DATABASE_STATEMENT = re.compile(r"(?:DROP|CREATE)\s+(?:SCHEMA|DATABASE)\b|USE\b", re.IGNORECASE)
# The actor_info view names its tables sakila.film, sakila.actor...: MariaDB checks a view's
# tables when it is created, so in another database the view would fail; in CREATE statements
# the qualifier becomes the database asked for.
_SAKILA_QUALIFIER = re.compile(r"\bsakila\.", re.IGNORECASE)


def sakila_statements(database: str = "sakila", *, with_data: bool = True) -> Iterator[str]:
    """The statements to run in ``database``: the schema file's, then (``with_data``) the data file's."""
    texts = [SCHEMA_FILE.read_text(encoding="utf-8")]
    if with_data:
        with gzip.open(DATA_FILE, "rt", encoding="utf-8") as f:
            texts.append(f.read())
    qualifier = quote_identifier(database) + "."
    for text in texts:
        for statement in split_statements(text):
            if _DATABASE_STATEMENT.match(statement.text):
                continue
            if statement.text[:6].upper() == "CREATE":
                yield _SAKILA_QUALIFIER.sub(lambda _: qualifier, statement.text)
            else:
                yield statement.text


def row_counts(conn: Any, database: str) -> dict[str, int]:
    """``SELECT COUNT(*)`` of every base table of ``database``."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            (database,),
        )
        names = [row[0] for row in cur.fetchall()]
        counts = {}
        for name in names:
            cur.execute(f"SELECT COUNT(*) FROM {quote_identifier(database)}.{quote_identifier(name)}")
            counts[name] = int(cur.fetchone()[0])
    return counts


def load_sakila(conn: Any, database: str = "sakila", *, with_data: bool = True) -> dict[str, int]:
    """Loads Sakila into ``database`` on the pymysql connection ``conn`` (an account that may
    create databases, triggers and routines) and returns the row count of each table.

    The database is dropped and created again first.  ``with_data=False`` loads the schema only
    (every count 0).  The connection is left on ``database`` with its autocommit mode as it was
    (the data file turns autocommit off).
    """
    autocommit = conn.get_autocommit()
    name = quote_identifier(database)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name} DEFAULT CHARACTER SET utf8mb4")
        cur.execute(f"USE {name}")
        for statement in sakila_statements(database, with_data=with_data):
            cur.execute(statement)
    conn.commit()
    conn.autocommit(autocommit)
    return row_counts(conn, database)
