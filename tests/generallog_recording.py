"""Recording general query logs from a real server, with the truth of what was sent.

``record(server, out)`` switches the general log on with ``log_output=FILE,TABLE`` (the file in
``out``), replays part of the shop sample workload through one connection per application (each
application its own user; ``web`` over TCP, the others over the socket), then sends hand-written
statements from three more connections: ``USE db``, multi-line statements, string literals
holding newlines and forged entry lines, a block comment holding them, a statement with an
unbalanced quote (a syntax error, logged all the same), binary-protocol prepared statements,
``COM_PING``, a refused login.  It then exports ``mysql.general_log`` the documented ways (``mysql
-B``, the CSV-engine data file, ``SELECT ... INTO OUTFILE`` in its default and CSV forms) and
returns the truth: for each connection its id, user, host and every statement it sent, in order,
with the database it ran in.  ``tests/test_generallog.py`` uses it live and on the committed
recordings in ``tests/fixtures/generallog/`` (written by ``python -m tests.generallog_recording
DIR``, which starts a throwaway server of the test chain).
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pymysql

SHOP_DB = "mqa_genlog_shop"
OTHER_DB = "mqa_genlog_notes"
PASSWORD = "genlog-pw-1"
APPS = ("web", "api", "report", "worker", "admin")
REPLAYED = 150  # statements of the shop workload
FILES = {
    "file": "general.log",
    "tsv": "general_log.tsv",  # mysql -B -e 'SELECT * FROM mysql.general_log'
    "csv": "general_log.CSV",  # the CSV-engine table's data file
    "outfile": "general_log.outfile.tsv",  # SELECT * INTO OUTFILE (default field options)
    "outfile_csv": "general_log.outfile.csv",  # ... FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"'
}

# Statement text a string literal or comment carries: a newline, then lines shaped like entries.
FORGED_FILE_LINES = (
    "\n\t\t     99 Query\tDROP TABLE forged_in_a_literal\n261231 23:59:59\t     77 Connect\tevil@h on x using Socket"
)
_USE = re.compile(r"\s*use\s+`?([^`\s;]+)`?\s*;?\s*", re.IGNORECASE)


class RecordingConnection(pymysql.connections.Connection):
    """A PyMySQL connection that notes every statement it sends (``SET NAMES`` of its own
    handshake included) with the database it runs in."""

    def __init__(self, *args: Any, sent: list[dict], user_host: tuple[str, str], **kwargs: Any) -> None:
        self._sent, self._who, self._db = sent, user_host, kwargs.get("database")
        super().__init__(*args, **kwargs)

    def _note(self, sql: str) -> None:
        user, host = self._who
        self._sent.append({"thread": self.thread_id(), "user": user, "host": host, "db": self._db, "sql": sql})

    def set_character_set(self, charset, collation=None):  # sent by PyMySQL on every connect
        self._note(f"SET NAMES {charset}" + (f" COLLATE {collation}" if collation else ""))
        return super().set_character_set(charset, collation)

    def query(self, sql, unbuffered=False):
        text = sql.decode() if isinstance(sql, bytes) else sql
        self._note(text)
        try:
            return super().query(sql, unbuffered)
        finally:
            m = _USE.fullmatch(text)
            if m:
                self._db = m.group(1)

    def select_db(self, db):  # COM_INIT_DB: an "Init DB" entry, not a statement
        super().select_db(db)
        self._db = db

    # ---- the binary protocol (COM_STMT_*), which PyMySQL does not speak: a few packets by hand
    def prepare(self, sql: str) -> tuple[int, int, int]:
        self._execute_command(0x16, sql)
        data = self._read_packet().get_all_data()
        if data[:1] == b"\xff":
            raise pymysql.err.OperationalError(0, data[3:].decode(errors="replace"))
        stmt_id, columns, params = struct.unpack("<IHH", data[1:9])
        for present in (params, columns):
            if present:
                while not self._read_packet().is_eof_packet():
                    pass
        return stmt_id, params, columns

    def execute_prepared(self, stmt: tuple[int, int, int], params: list[int | str], logged: str) -> None:
        """COM_STMT_EXECUTE; ``logged`` is the statement with its parameters as the server writes
        it in the general log (the truth)."""
        stmt_id, count, _ = stmt
        body = struct.pack("<IBI", stmt_id, 0, 1)
        if count:
            body += b"\x00" * ((count + 7) // 8) + b"\x01"
            types, values = b"", b""
            for value in params:
                if isinstance(value, int):
                    types += struct.pack("<BB", 8, 0)
                    values += struct.pack("<q", value)
                else:
                    raw = value.encode()
                    types += struct.pack("<BB", 0xFD, 0)
                    values += bytes([len(raw)]) + raw
            body += types + values
        self._note(logged)
        self._execute_command(0x17, body)
        packet = self._read_packet()
        if packet.is_ok_packet():
            return
        if packet.is_error_packet():
            packet.raise_for_error()
        while not self._read_packet().is_eof_packet():  # column definitions
            pass
        while not self._read_packet().is_eof_packet():  # rows
            pass

    def close_prepared(self, stmt: tuple[int, int, int]) -> None:
        self._execute_command(0x19, struct.pack("<I", stmt[0]))  # COM_STMT_CLOSE: no answer


def _connect(server, sent: list[dict], user: str, tcp: bool, database: str | None = None) -> RecordingConnection:
    args: dict[str, Any] = {"user": user, "password": PASSWORD, "autocommit": True, "charset": "utf8mb4"}
    if tcp:
        args.update(host="127.0.0.1", port=server.local.port)
        host = "127.0.0.1"
    else:
        args["unix_socket"] = server.connect_args["unix_socket"]
        host = "localhost"
    if database is not None:
        args["database"] = database
    return RecordingConnection(sent=sent, user_host=(user, host), **args)


def prepare_server(server) -> None:
    """The shop data, a second database and one user per application (all read and write both)."""
    from sample_workloads.shop import workload

    conn = server.admin()
    try:
        workload.load(conn, scale=0.02, seed=42, database=SHOP_DB)
    finally:
        conn.close()
    server.execute(
        f"DROP DATABASE IF EXISTS {OTHER_DB}",
        f"CREATE DATABASE {OTHER_DB}",
        f"CREATE TABLE {OTHER_DB}.notes (id INT PRIMARY KEY AUTO_INCREMENT, body TEXT, author VARCHAR(40))",
        *(f"CREATE USER IF NOT EXISTS 'gl_{app}'@'%' IDENTIFIED BY '{PASSWORD}'" for app in APPS),
        *(f"GRANT ALL ON {db}.* TO 'gl_{app}'@'%'" for app in APPS for db in (SHOP_DB, OTHER_DB)),
        "GRANT PROCESS ON *.* TO 'gl_admin'@'%'",  # the admin application's SHOW ENGINE INNODB STATUS
    )


def clean_up(server) -> None:
    """Drop what ``prepare_server`` made (the test server is shared by the session's tests)."""
    server.execute(
        f"DROP DATABASE IF EXISTS {SHOP_DB}",
        f"DROP DATABASE IF EXISTS {OTHER_DB}",
        *(f"DROP USER IF EXISTS 'gl_{app}'@'%'" for app in APPS),
    )


def _hand_written(server, sent: list[dict]) -> list[str]:
    """The hand-written part; returns notes of what each connection did (for SOURCE.txt)."""
    a = _connect(server, sent, "gl_admin", tcp=False)
    with a.cursor() as cur:
        cur.execute(f"USE {OTHER_DB}")
        cur.execute("SELECT id,\n       body\nFROM notes\nWHERE id = 1\nORDER BY id")
        cur.execute(f"INSERT INTO notes (body, author) VALUES ('first line{FORGED_FILE_LINES}\nlast line', 'a')")
        cur.execute(f"INSERT INTO notes (body, author) VALUES (\"double{FORGED_FILE_LINES}\", 'b')")
        cur.execute(f"SELECT COUNT(*) FROM notes /* a comment{FORGED_FILE_LINES}\n*/ WHERE author = 'a'")
        cur.execute("SELECT body FROM notes WHERE body = 'O''Brien' OR author = 'it\\'s'")
        try:
            cur.execute("SELECT body FROM notes WHERE author = 'O'Brien'")  # unbalanced: a syntax error
        except pymysql.err.ProgrammingError:
            pass
    try:  # a refused login right after it: the "Access denied" entry holds quotes
        pymysql.connect(unix_socket=server.connect_args["unix_socket"], user="gl_admin", password="wrong")
    except pymysql.err.OperationalError:
        pass
    with a.cursor() as cur:
        cur.execute("SELECT 'after the unbalanced one', author FROM notes WHERE id = 2")
        cur.execute(f"USE `{SHOP_DB}`")
        cur.execute("SELECT COUNT(*) FROM customers")
    a.ping()

    b = _connect(server, sent, "gl_worker", tcp=True, database=SHOP_DB)
    stmt = b.prepare("SELECT id, sku FROM products WHERE id = ?")
    for k in (1, 2, 3):
        b.execute_prepared(stmt, [k], f"SELECT id, sku FROM products WHERE id = {k}")
    b.close_prepared(stmt)
    stmt = b.prepare(f"INSERT INTO {OTHER_DB}.notes (body, author) VALUES (?, ?)")
    b.execute_prepared(
        stmt, ["two\nlines", "w"], f"INSERT INTO {OTHER_DB}.notes (body, author) VALUES ('two\\nlines', 'w')"
    )
    b.close_prepared(stmt)
    with b.cursor() as cur:
        cur.execute("SELECT id FROM products\nWHERE id IN (1, 2)\n  AND id > 0")
    b.select_db(OTHER_DB)
    with b.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM notes")

    c = _connect(server, sent, "gl_report", tcp=False, database=OTHER_DB)
    with c.cursor() as cur:
        cur.execute("SELECT author, COUNT(*) FROM notes GROUP BY author")
        cur.execute("SELECT 1")
    for conn in (a, b, c):
        conn.close()
    return [
        "gl_admin (socket): USE, a multi-line SELECT, literals ('...' and \"...\") and a /* */ comment holding a "
        "newline and forged entry lines, a doubled quote, an unbalanced quote (syntax error), a refused login, "
        "USE `db`, COM_PING",
        "gl_worker (TCP, connected to the shop db): binary-protocol Prepare / Execute x3 / Close stmt, an INSERT "
        "executed with a newline in a parameter, a multi-line SELECT, COM_INIT_DB",
        "gl_report (socket, connected to the notes db): two statements",
    ]


def record(server, out: Path, statements: int = REPLAYED) -> dict:
    """Record the general log of a replay and the hand-written statements into ``out`` (every
    layout of ``FILES``); returns the truth (also written to ``out/truth.json``)."""
    from sample_workloads.shop import workload

    out.mkdir(parents=True, exist_ok=True)
    log_file = out / FILES["file"]
    for name in FILES.values():
        (out / name).unlink(missing_ok=True)
    prepare_server(server)
    saved = server.execute("SELECT @@GLOBAL.log_output, @@GLOBAL.general_log, @@GLOBAL.general_log_file")[0]
    sent: list[dict] = []
    started = time.time()
    server.execute(
        "SET GLOBAL general_log = OFF",
        "TRUNCATE TABLE mysql.general_log",
        f"SET GLOBAL general_log_file = '{log_file}'",
        "SET GLOBAL log_output = 'FILE,TABLE'",
        "SET GLOBAL general_log = ON",
    )
    try:
        admin = server.admin()
        try:
            summary = workload.replay(
                admin,
                statements=statements,
                seed=11,
                scale=0.02,
                database=SHOP_DB,
                connect=lambda app: _connect(
                    server, sent, f"gl_{app}", tcp=app == "web", database=SHOP_DB if app == "api" else None
                ),
            )
        finally:
            admin.close()
        notes = _hand_written(server, sent)
        time.sleep(0.5)  # the Quit of the last connection closed
    finally:
        output, enabled, file = saved
        server.execute(
            "SET GLOBAL general_log = OFF",
            f"SET GLOBAL general_log_file = '{file}'",
            f"SET GLOBAL log_output = '{output}'",
            f"SET GLOBAL general_log = {'ON' if str(enabled) in ('1', 'ON') else 'OFF'}",
        )
    finished = time.time()
    _export_table(server, out)
    truth = {
        "server": server.version,
        "recorded": {"start": started, "end": finished},
        "replayed": {"statements": statements, "seed": 11, "scale": 0.02, "errors": summary["errors"]},
        "hand_written": notes,
        "statements": sent,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    return truth


def _export_table(server, out: Path) -> None:
    """``mysql.general_log`` exported the documented ways."""
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        raise RuntimeError("no mariadb/mysql client to export mysql.general_log with")
    with open(out / FILES["tsv"], "wb") as handle:
        subprocess.run(
            [client, "--no-defaults", "-S", server.connect_args["unix_socket"], "-u", "root", "-B", "-e",
             "SELECT * FROM mysql.general_log"],
            stdout=handle, check=True, timeout=60,
        )  # fmt: skip
    datadir = Path(server.execute("SELECT @@datadir")[0][0])
    shutil.copyfile(datadir / "mysql" / "general_log.CSV", out / FILES["csv"])
    server.execute(
        f"SELECT * INTO OUTFILE '{out / FILES['outfile']}' FROM mysql.general_log",
        f"SELECT * INTO OUTFILE '{out / FILES['outfile_csv']}' FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
        "FROM mysql.general_log",
    )


def main(argv: list[str]) -> int:
    """``python -m tests.generallog_recording DIR``: record with a throwaway server of the test chain."""
    from tests.servers import start_test_server

    out = Path(argv[0] if argv else "tests/fixtures/generallog").resolve()
    server = start_test_server()
    try:
        if server.local is None:
            raise SystemExit("recording needs a server on this machine (it writes the general log file here)")
        truth = record(server, out)
    finally:
        server.close()
    print(f"recorded {len(truth['statements'])} statements from {truth['server']} into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
