"""Connections as MySQL users expect them (analyzer/sources/db.py, cli/connection.py).

Unit tests: DSNs, the option-file reader (checked against MariaDB's ``my_print_defaults``),
login path files (encrypted here, and by the server's own ``AES_ENCRYPT``), TLS settings as
PyMySQL receives them, precedence, and passwords that never show. Integration tests (the
``server`` fixture): sockets, TCP, DSNs, option files with ``!include``, read-only and
time-limited sessions, ``program_name=mqa``, and the one-line errors.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import struct
import subprocess
import sys
from pathlib import Path

import pymysql
import pytest
import typer
from typer.testing import CliRunner

from analyzer.sources import db
from analyzer.sources.db import (
    PERFORMANCE_SCHEMA_SELECT,
    PROCESS,
    AccessDeniedError,
    ConnectionOptions,
    ConnectionOptionsError,
    DatabaseError,
    PrivilegeError,
    StatementTimeoutError,
    TLSError,
    TlsSettings,
    UnknownDatabaseError,
    UnreachableError,
    connect,
    decrypt_login_file,
    parse_dsn,
    query_error,
    read_login_file,
    read_option_files,
    redact_dsn,
    require_privileges,
    resolve_connection,
)
from cli.connection import COMMAND_SETTINGS, ServerArgs, open_server, server_options
from tests.conftest import FIXTURES, require_executable, skip_or_fail

OPTION_FIXTURES = FIXTURES / "optionfiles"
SECRET = "S3cret-never-shown"
#: The test account's password: '@', ':', '/' must be percent-encoded in a DSN, '#' quoted in an option file.
PASSWORD = "p@ss:w#rd/1"


def single_line(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text
    return text


def write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def isolated(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment without the user's ~/.my.cnf, ~/.mylogin.cnf or MYSQL_* variables."""
    return {"HOME": str(tmp_path), **extra}


# --------------------------------------------------------------------------------------------
# DSN URLs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        (
            "mysql://app:secret@db.example:3307/shop",
            {"user": "app", "password": "secret", "host": "db.example", "port": 3307, "database": "shop"},
        ),
        ("mariadb://app@db.example/shop", {"user": "app", "host": "db.example", "database": "shop"}),
        ("mysql://db.example", {"host": "db.example"}),
        ("mysql://db.example:3306/", {"host": "db.example", "port": 3306}),
        ("mysql:///shop?socket=/run/mysqld/mysqld.sock", {"socket": "/run/mysqld/mysqld.sock", "database": "shop"}),
        ("mysql://root@localhost/?socket=/tmp/s.sock", {"user": "root", "host": "localhost", "socket": "/tmp/s.sock"}),
        (
            "mysql://root@%2Frun%2Fmysqld%2Fmysqld.sock/shop",
            {"user": "root", "socket": "/run/mysqld/mysqld.sock", "database": "shop"},
        ),
        ("/run/mysqld/mysqld.sock", {"socket": "/run/mysqld/mysqld.sock"}),
        ("mysql://[::1]:3310/shop", {"host": "::1", "port": 3310, "database": "shop"}),
        (
            "mysql://app%40corp:p%40ss%3Aw%23rd%2F1@DB.Example/my%20db",
            {"user": "app@corp", "password": "p@ss:w#rd/1", "host": "DB.Example", "database": "my db"},
        ),
        ("mysql://app:@db/", {"user": "app", "password": "", "host": "db"}),
        (
            "mysql://db/?ssl-mode=verify_identity&ssl-ca=/etc/ca.pem&ssl_cert=/c.pem&ssl-key=/k.pem",
            {
                "host": "db",
                "ssl_mode": "VERIFY_IDENTITY",
                "ssl_ca": "/etc/ca.pem",
                "ssl_cert": "/c.pem",
                "ssl_key": "/k.pem",
            },
        ),
        (
            "mysql://db/?connect-timeout=2.5&statement-timeout=0",
            {"host": "db", "connect_timeout": 2.5, "statement_timeout": 0.0},
        ),
    ],
)
def test_dsn_forms(dsn: str, expected: dict) -> None:
    parts = parse_dsn(dsn)
    got = {name: getattr(parts, name) for name in parts.__dataclass_fields__ if getattr(parts, name) is not None}
    assert got == expected


@pytest.mark.parametrize(
    ("dsn", "problem"),
    [
        ("postgres://u:S3cret-never-shown@db/", "the scheme must be mysql:// or mariadb://, not postgres://"),
        ("u:S3cret-never-shown@db:3306/shop", "no scheme"),
        ("mysql://db:port/", "the port must be a number from 1 to 65535"),
        ("mysql://db:70000/", "the port must be a number from 1 to 65535"),
        ("mysql://db:0/", "the port must be a number from 1 to 65535"),
        ("mysql://u:S3cret#never-shown@db/", "the port must be a number"),  # an unencoded '#' in the password
        ("mysql://db/shop/extra", "the path is one database name"),
        ("mysql://db/?ssl_mod=REQUIRED", "unknown option 'ssl_mod'"),
        (
            "mysql://db/?ssl-mode=strict",
            "ssl-mode must be one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY",
        ),
        ("mysql://db/?connect-timeout=soon", "connect-timeout must be a number of seconds"),
        ("mysql://db/shop#frag", "a '#' must be percent-encoded"),
    ],
)
def test_bad_dsn_says_what_is_wrong_and_the_expected_form(dsn: str, problem: str) -> None:
    with pytest.raises(ConnectionOptionsError) as caught:
        parse_dsn(dsn)
    message = single_line(caught.value)
    assert message.startswith("bad DSN ")
    assert problem in message
    assert message.endswith(f"expected {db.DSN_FORMS}")
    assert "S3cret" not in message and "never-shown" not in message


def test_redact_dsn_hides_only_the_password() -> None:
    assert (
        redact_dsn("mysql://app:p%40ss@db:3306/shop?ssl-mode=REQUIRED")
        == "mysql://app:***@db:3306/shop?ssl-mode=REQUIRED"
    )
    assert redact_dsn("mysql://app@db/shop") == "mysql://app@db/shop"
    assert redact_dsn("mysql://app:a/b?c@db/") == "mysql://app:***@db/"
    assert redact_dsn("app:secret@db") == "app:***@db"


# --------------------------------------------------------------------------------------------
# Option files
# --------------------------------------------------------------------------------------------

# What MariaDB 10.11's `my_print_defaults --defaults-file=tricky.cnf client mqa` printed
# (the test below compares with the tool itself when it is installed).
TRICKY_EXPECTED = [
    "--user=alice",
    "--password=pa#ss word",
    "--host=db.example",
    "--Port=3307",
    "--ssl_ca=/path with space/ca.pem",
    "--bare-key",
    '--esc=a"b\\c\n\td ',
    "--esc2=a\tb\\x",
    "--esc3=it's",
    "--hash=ab",
    '--quote_mid=ab"cd#ef"gh',
    '--unterminated="abc',
    '--one_quote="',
    "--empty=",
    "--empty_quoted=",
    '--inner=a" "b',
    "--spaces=  padded  ",
    "--key with space=v",
    "--equals=a = b",
    "--trailing_backslash=ab\\",
    "--indented=yes",
    "--user=bob",
    "--database=d2",
    "--database=d3",
    "--after=1",
]


def test_option_file_syntax_as_the_client_reads_it() -> None:
    read = read_option_files([str(OPTION_FIXTURES / "tricky.cnf")])
    assert read.as_arguments() == TRICKY_EXPECTED
    assert read.warnings == []
    merged = {name: entry.value for name, entry in read.merged().items()}
    assert merged["user"] == "bob"  # repeated: the last one wins
    assert merged["database"] == "d3"  # [MQA] matches without regard to case; "[ mqa ]" is another group
    assert merged["ssl-ca"] == "/path with space/ca.pem"  # ssl_ca and ssl-ca are one option
    assert merged["port"] == "3307"


def test_crlf_line_ends() -> None:
    read = read_option_files([str(OPTION_FIXTURES / "crlf.cnf")])
    assert read.as_arguments() == ["--user=crlf", "--password=q r"]


def test_mqa_group_beats_client_group_wherever_it_is(tmp_path: Path) -> None:
    cnf = write(
        tmp_path / "my.cnf", "[mqa]\nuser = from-mqa\n[client]\nuser = from-client\nhost = h1\n[client]\nhost = h2\n"
    )
    merged = read_option_files([str(cnf)]).merged()
    assert merged["user"].value == "from-mqa" and merged["user"].group == "mqa"
    assert merged["host"].value == "h2"


def include_tree(tmp_path: Path) -> Path:
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    write(conf_d / "b.cnf", "[client]\nuser = from-b\n")
    write(conf_d / "a.cnf", "[client]\nhost = from-a\n")
    write(conf_d / "B.cnf", "[client]\nport = 3001\n")  # 'B' sorts before 'a' (strcmp)
    write(conf_d / ".hidden.cnf", "[client]\nsocket = /tmp/hidden.sock\n")  # read: it ends in .cnf
    write(conf_d / "ignored.txt", "[client]\nhost = not-read\n")
    write(conf_d / "ignored.cnf.bak", "[client]\nhost = not-read\n")
    (conf_d / "dir.cnf").mkdir()  # a directory named *.cnf is not a file
    write(tmp_path / "secret.cnf", '[mqa]\npassword = "p#1"\n!include ' + str(tmp_path / "deeper.cnf") + "\n")
    write(tmp_path / "deeper.cnf", "[client]\ndatabase = deep\n")
    return write(
        tmp_path / "main.cnf",
        "\n".join(
            [
                "[client]",
                "user = main",
                f"!include {tmp_path / 'missing.cnf'}",  # missing: skipped silently, as by the client
                f"!includedir {conf_d}",
                f"  !  include   {tmp_path / 'secret.cnf'}   ",
                "after = 1",
                "",
            ]
        ),
    )


def test_include_and_includedir(tmp_path: Path) -> None:
    main = include_tree(tmp_path)
    read = read_option_files([str(main)])
    assert read.as_arguments() == [
        "--user=main",
        "--socket=/tmp/hidden.sock",
        "--port=3001",
        "--host=from-a",
        "--user=from-b",
        "--password=p#1",
        "--database=deep",
        "--after=1",
    ]
    assert read.files == [
        str(main),
        *(str(tmp_path / "conf.d" / n) for n in (".hidden.cnf", "B.cnf", "a.cnf", "b.cnf")),
        str(tmp_path / "secret.cnf"),
        str(tmp_path / "deeper.cnf"),
    ]
    assert read.warnings == []


def test_world_writable_files_are_ignored_with_a_warning(tmp_path: Path) -> None:
    cnf = write(tmp_path / "open.cnf", "[client]\nuser = anyone\n", mode=0o666)
    read = read_option_files([str(cnf)])
    assert read.entries == []
    assert read.warnings == [f"world-writable option file {cnf} is ignored, as the mysql client does (chmod o-w {cnf})"]


def test_include_recursion_stops(tmp_path: Path) -> None:
    loop = tmp_path / "loop.cnf"
    write(loop, f"[client]\n!include {loop}\nu = 1\n")
    read = read_option_files([str(loop)])
    assert read.as_arguments() == ["--u=1"] * 11  # as my_print_defaults: 10 levels of includes, then a warning
    assert len(read.warnings) == 1 and "nested too deeply" in read.warnings[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("user = x\n[client]\n", ":1: option outside any [group]"),
        ("[client\nuser = x\n", ":1: bad group line '[client' (no closing ])"),
        ("[client]\n!include\n", ":2: !include without a file name"),
        (
            "[client]\n!includedir /no/such/dir\n",
            ":2: cannot read directory /no/such/dir (!includedir): No such file or directory",
        ),
    ],
)
def test_option_file_errors_name_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    cnf = write(tmp_path / "bad.cnf", text)
    with pytest.raises(ConnectionOptionsError) as caught:
        read_option_files([str(cnf)])
    assert single_line(caught.value) == f"{cnf}{problem}"


def test_missing_defaults_file_is_an_error_but_missing_default_files_are_not(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.cnf")
    assert read_option_files([missing]).entries == []
    with pytest.raises(ConnectionOptionsError) as caught:
        read_option_files([missing], required=[missing])
    assert single_line(caught.value) == f"cannot read option file {missing}: No such file or directory"


def my_print_defaults(path: Path) -> subprocess.CompletedProcess:
    tool = require_executable("my_print_defaults", "apt-get install -y mariadb-client")
    return subprocess.run(
        [tool, f"--defaults-file={path}", "client", "mqa"], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize("name", ["tricky.cnf", "crlf.cnf", "include-tree", "world-writable"])
def test_reader_agrees_with_my_print_defaults(tmp_path: Path, name: str) -> None:
    if name == "include-tree":
        path = include_tree(tmp_path)
    elif name == "world-writable":
        path = write(tmp_path / "open.cnf", "[client]\nuser = anyone\n", mode=0o666)
    else:
        path = OPTION_FIXTURES / name
    tool = my_print_defaults(path)
    assert tool.returncode == 0, tool.stderr
    # one argument a line (a value may hold a newline, so compare the whole text)
    assert "".join(f"{argument}\n" for argument in read_option_files([str(path)]).as_arguments()) == tool.stdout


@pytest.mark.parametrize(
    "text", ["user = x\n[client]\n", "[client\n", "[client]\n!include\n", "[client]\n!includedir /no/such/dir\n"]
)
def test_reader_refuses_what_my_print_defaults_refuses(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "bad.cnf", text)
    assert my_print_defaults(path).returncode != 0
    with pytest.raises(ConnectionOptionsError):
        read_option_files([str(path)])


# --------------------------------------------------------------------------------------------
# Login paths (~/.mylogin.cnf)
# --------------------------------------------------------------------------------------------

#: A key as mysql_config_editor makes them (20 bytes below 32); bytes 17-20 fold onto bytes 1-4.
LOGIN_KEY = bytes([7, 31, 0, 12, 19, 3, 28, 1, 9, 14, 22, 5, 30, 17, 2, 11, 25, 8, 16, 4])


def encrypt_login_file(text: str, key: bytes = LOGIN_KEY) -> bytes:
    """mysql_config_editor's format, written independently of analyzer.sources.db: every line with its
    newline, AES-128-ECB with PKCS#7 padding, the 20-byte key XOR-folded into 16."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    aes_key = bytearray(16)
    for i, byte in enumerate(key):
        aes_key[i % 16] ^= byte
    out = bytearray(b"\0\0\0\0" + key)
    for line in text.splitlines(keepends=True):
        padder = padding.PKCS7(128).padder()
        plain = padder.update(line.encode()) + padder.finalize()
        encryptor = Cipher(algorithms.AES(bytes(aes_key)), modes.ECB()).encryptor()
        cipher = encryptor.update(plain) + encryptor.finalize()
        out += struct.pack("<i", len(cipher)) + cipher
    return bytes(out)


#: The plain text mysql_config_editor keeps, as MySQL's own test suite prints it
#: (mysql-test/r/mysql_config_editor.result: values quoted), plus a quote escaped inside a value
#: (the case of PyMySQL/myloginpath's test_special.mylogin.cnf).
PUBLISHED_LOGIN_TEXT = (
    '[client]\nuser = "test_user1"\nhost = "localhost"\n'
    '[test-login-path1]\nuser = "test_user2"\nhost = "127.0.0.1"\n'
    '[special]\nhost = "host with \\" quote"\npassword = "pw with # and spaces"\nport = 3310\n'
)


def write_login_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_bytes(encrypt_login_file(text))
    path.chmod(mode)
    return path


def test_login_file_decrypts(tmp_path: Path) -> None:
    data = encrypt_login_file(PUBLISHED_LOGIN_TEXT)
    assert data[:4] == b"\0\0\0\0" and data[4:24] == LOGIN_KEY
    assert decrypt_login_file(data) == PUBLISHED_LOGIN_TEXT


def test_login_path_values(tmp_path: Path) -> None:
    path = write_login_file(tmp_path / ".mylogin.cnf", PUBLISHED_LOGIN_TEXT)
    read = read_login_file(str(path), ["client", "mqa", "special"])
    values = {(e.group, e.name): e.value for e in read.entries}
    assert values == {
        ("client", "user"): "test_user1",
        ("client", "host"): "localhost",
        ("special", "host"): 'host with " quote',
        ("special", "password"): "pw with # and spaces",
        ("special", "port"): "3310",
    }


def test_login_path_in_resolution(tmp_path: Path) -> None:
    write_login_file(tmp_path / ".mylogin.cnf", PUBLISHED_LOGIN_TEXT)
    resolved = resolve_connection(
        ConnectionOptions(login_path="test-login-path1", no_defaults=True), environ=isolated(tmp_path)
    )
    assert (resolved.user, resolved.host, resolved.port, resolved.socket) == ("test_user2", "127.0.0.1", 3306, None)
    special = resolve_connection(ConnectionOptions(login_path="special", no_defaults=True), environ=isolated(tmp_path))
    assert special.password == "pw with # and spaces"
    assert special.password_source == f"password from login path [special] in {tmp_path / '.mylogin.cnf'}"
    assert (special.user, special.port) == ("test_user1", 3310)  # [client] of the login file still applies
    # Without --login-path the file's [client] is read too (as mysql does, even with --no-defaults).
    plain = resolve_connection(ConnectionOptions(no_defaults=True, protocol="tcp"), environ=isolated(tmp_path))
    assert plain.user == "test_user1"


def test_login_path_file_from_mysql_test_login_file(tmp_path: Path) -> None:
    path = write_login_file(tmp_path / "elsewhere.cnf", '[prod]\nuser = "produser"\n')
    resolved = resolve_connection(
        ConnectionOptions(login_path="prod", no_defaults=True),
        environ=isolated(tmp_path, MYSQL_TEST_LOGIN_FILE=str(path)),
    )
    assert resolved.user == "produser"


def test_login_path_problems_are_one_line(tmp_path: Path) -> None:
    env = isolated(tmp_path)
    with pytest.raises(ConnectionOptionsError) as caught:
        resolve_connection(ConnectionOptions(login_path="prod", no_defaults=True), environ=env)
    assert single_line(caught.value).startswith(f"--login-path=prod: {tmp_path}/.mylogin.cnf does not exist")
    path = write_login_file(tmp_path / ".mylogin.cnf", PUBLISHED_LOGIN_TEXT)
    with pytest.raises(ConnectionOptionsError) as caught:
        resolve_connection(ConnectionOptions(login_path="prod", no_defaults=True), environ=env)
    assert single_line(caught.value) == (
        f"login path [prod] is not in {path} (mysql_config_editor print --all lists the login paths)"
    )
    path.chmod(0o644)  # the client ignores a login file others can read
    with pytest.raises(ConnectionOptionsError) as caught:
        resolve_connection(ConnectionOptions(login_path="special", no_defaults=True), environ=env)
    assert (
        single_line(caught.value)
        == f"{path} is ignored: it must be readable and writable only by you (chmod 600 {path})"
    )
    resolved = resolve_connection(ConnectionOptions(no_defaults=True, user="me"), environ=env)
    assert resolved.warnings == [str(caught.value)]
    path.write_bytes(encrypt_login_file("[client]\nuser = x\n")[:-3])  # truncated
    path.chmod(0o600)
    with pytest.raises(ConnectionOptionsError) as caught:
        resolve_connection(ConnectionOptions(login_path="client", no_defaults=True), environ=env)
    assert "is not a valid login path file" in single_line(caught.value)


# --------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------


def make_certificates(directory: Path) -> dict[str, str]:
    """A CA, a server certificate for DNS:localhost signed by it, a client certificate, and an
    unrelated CA, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    files: dict[str, str] = {}

    def save(name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (directory / f"{name}-key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        files[name], files[f"{name}-key"] = str(directory / f"{name}.pem"), str(directory / f"{name}-key.pem")

    def build(
        common_name: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Certificate | None,
        issuer_key: ec.EllipticCurvePrivateKey | None,
        san: list[str] | None,
    ) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False
            )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), critical=False)
        return builder.sign(issuer_key or key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("mqa test CA", ca_key, None, None, None)
    save("ca", ca, ca_key)
    for name, san in (("server", ["localhost"]), ("client", None)):
        key = ec.generate_private_key(ec.SECP256R1())
        save(name, build(f"mqa test {name}", key, ca, ca_key, san), key)
    other_key = ec.generate_private_key(ec.SECP256R1())
    save("other-ca", build("another CA", other_key, None, None, None), other_key)
    return files


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def pymysql_connection(tls: TlsSettings, host: str = "db.example") -> pymysql.connections.Connection:
    resolved = db.ResolvedConnection(
        user="u", host=host, port=3306, socket=None, database=None, tls=tls, connect_timeout=1, statement_timeout=None
    )
    return db._new_connection(resolved)


@pytest.mark.parametrize(
    ("mode", "encrypt", "required", "verify", "check_hostname"),
    [
        ("DISABLED", False, False, None, None),
        ("PREFERRED", True, False, ssl.CERT_NONE, False),
        ("REQUIRED", True, True, ssl.CERT_NONE, False),
        ("VERIFY_CA", True, True, ssl.CERT_REQUIRED, False),
        ("VERIFY_IDENTITY", True, True, ssl.CERT_REQUIRED, True),
    ],
)
def test_ssl_mode_as_pymysql_receives_it(
    certificates: dict[str, str],
    mode: str,
    encrypt: bool,
    required: bool,
    verify: ssl.VerifyMode | None,
    check_hostname: bool | None,
) -> None:
    conn = pymysql_connection(TlsSettings(mode, ca=certificates["ca"] if "VERIFY" in mode else None))
    assert conn.ssl is encrypt  # PyMySQL: try TLS at all
    assert conn._ssl_required is required  # PyMySQL: fail without TLS
    if encrypt:
        assert (conn.ctx.verify_mode, conn.ctx.check_hostname) == (verify, check_hostname)
    assert conn._connect_attrs["program_name"] == "mqa"


def test_client_certificate_in_every_mode_but_disabled(certificates: dict[str, str]) -> None:
    for mode in ("PREFERRED", "REQUIRED", "VERIFY_CA"):
        tls = TlsSettings(mode, ca=certificates["ca"], cert=certificates["client"], key=certificates["client-key"])
        conn = pymysql_connection(tls)
        assert conn.ssl and conn.ctx is not None
        assert conn._ssl_required is (mode != "PREFERRED")
        assert conn.ctx.verify_mode == (ssl.CERT_REQUIRED if mode == "VERIFY_CA" else ssl.CERT_NONE)


def test_ssl_settings_resolution(tmp_path: Path, certificates: dict[str, str]) -> None:
    def resolve(**kwargs: object) -> db.ResolvedConnection:
        kwargs.setdefault("no_defaults", True)
        return resolve_connection(ConnectionOptions(host="db", **kwargs), environ=isolated(tmp_path))

    assert resolve().tls == TlsSettings("PREFERRED")
    assert resolve(ssl_ca=certificates["ca"]).tls.mode == "VERIFY_CA"  # as mysql: --ssl-ca implies VERIFY_CA
    assert resolve(ssl_mode="verify_identity").tls.mode == "VERIFY_IDENTITY"
    required = resolve(ssl_mode="REQUIRED", ssl_ca=certificates["ca"])
    assert required.warnings == [
        (
            "--ssl-ca is not checked with --ssl-mode=REQUIRED: use VERIFY_CA or VERIFY_IDENTITY "
            "to verify the server certificate"
        )
    ]
    with pytest.raises(ConnectionOptionsError) as caught:
        resolve(ssl_key=certificates["client-key"])
    assert single_line(caught.value) == "--ssl-key needs --ssl-cert (the client certificate it belongs to)"
    with pytest.raises(ConnectionOptionsError) as caught:
        resolve(ssl_mode="sometimes")
    assert "ssl-mode must be one of DISABLED, PREFERRED" in single_line(caught.value)
    cnf = write(tmp_path / "tls.cnf", "[client]\nssl-ca = /etc/ca.pem\n[mqa]\nskip-ssl\n")
    assert resolve(defaults_file=str(cnf), no_defaults=False).tls.mode == "DISABLED"
    cnf = write(tmp_path / "tls2.cnf", "[client]\nssl-verify-server-cert\n")
    assert resolve(defaults_file=str(cnf), no_defaults=False).tls.mode == "VERIFY_IDENTITY"


def test_unreadable_ssl_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConnectionOptionsError) as caught:
        TlsSettings("VERIFY_CA", ca=str(tmp_path / "missing-ca.pem")).context()
    assert single_line(caught.value) == f"cannot load --ssl-ca {tmp_path}/missing-ca.pem: No such file or directory"
    with pytest.raises(ConnectionOptionsError) as caught:
        TlsSettings("REQUIRED", cert=str(tmp_path / "c.pem")).context()
    assert single_line(caught.value) == f"cannot load --ssl-cert {tmp_path}/c.pem: No such file or directory"


# --------------------------------------------------------------------------------------------
# Resolution: precedence, transport, passwords that never show
# --------------------------------------------------------------------------------------------


def test_precedence(tmp_path: Path) -> None:
    write(tmp_path / "inc.cnf", "[mqa]\nuser = mqa-user\n")
    cnf = write(
        tmp_path / "my.cnf",
        "\n".join(
            [
                "[client]",
                "user = client-user",
                "password = file-pw",
                "host = file-host",
                "port = 3301",
                f"!include {tmp_path / 'inc.cnf'}",
                "[mqa]",
                "database = file-db",
                "statement-timeout = 12",
                "",
            ]
        ),
    )
    env = isolated(tmp_path, MYSQL_PWD="env-pw", MYSQL_HOST="env-host", MYSQL_TCP_PORT="3399")

    resolved = resolve_connection(ConnectionOptions(defaults_file=str(cnf)), environ=env)
    assert (resolved.user, resolved.host, resolved.port, resolved.database) == (
        "mqa-user",
        "file-host",
        3301,
        "file-db",
    )
    assert resolved.statement_timeout == 12
    assert (resolved.password, resolved.password_source) == ("file-pw", f"password from {cnf}")

    dsn = resolve_connection(
        ConnectionOptions(defaults_file=str(cnf), dsn="mysql://dsn-user:dsn-pw@dsn-host/dsn-db"), environ=env
    )
    assert (dsn.user, dsn.host, dsn.port, dsn.database, dsn.password) == (
        "dsn-user",
        "dsn-host",
        3301,
        "dsn-db",
        "dsn-pw",
    )
    assert dsn.password_source == "password from the DSN"

    explicit = resolve_connection(
        ConnectionOptions(
            defaults_file=str(cnf),
            dsn="mysql://dsn-user@dsn-host/",
            user="me",
            host="cli-host",
            port=3302,
            statement_timeout=0,
        ),
        environ=env,
    )
    assert (explicit.user, explicit.host, explicit.port, explicit.statement_timeout) == ("me", "cli-host", 3302, None)

    no_files = resolve_connection(ConnectionOptions(no_defaults=True), environ=env)
    assert (no_files.host, no_files.port, no_files.password) == ("env-host", 3399, "env-pw")
    assert no_files.password_source == "password from MYSQL_PWD"
    assert (no_files.statement_timeout, no_files.connect_timeout) == (30.0, 10.0)


def test_option_file_values_are_checked(tmp_path: Path) -> None:
    cnf = write(tmp_path / "my.cnf", "[client]\nuser = x\n[mqa]\nport = 33o6\n")
    with pytest.raises(ConnectionOptionsError) as caught:
        resolve_connection(ConnectionOptions(defaults_file=str(cnf)), environ=isolated(tmp_path))
    assert single_line(caught.value) == f"{cnf}:4: the port must be a number, not '33o6'"


def test_transport_as_the_mysql_client_chooses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local_socket = write(tmp_path / "mysqld.sock", "")
    monkeypatch.setattr(db, "DEFAULT_SOCKETS", (str(tmp_path / "absent.sock"), str(local_socket)))
    env = isolated(tmp_path)

    def transport(**kwargs: object) -> str:
        resolved = resolve_connection(
            ConnectionOptions(no_defaults=kwargs.pop("no_defaults", True), **kwargs), environ=env
        )
        return resolved.description

    user = "u"
    assert transport(user=user) == f"u@localhost via {local_socket}"  # no host: the default socket
    assert transport(user=user, host="localhost", socket="/s.sock") == "u@localhost via /s.sock"
    assert transport(user=user, host="localhost", port=3307) == "u@localhost:3307"  # an explicit port means TCP
    assert transport(user=user, protocol="TCP") == "u@localhost:3306"
    assert transport(user=user, host="127.0.0.1") == "u@127.0.0.1:3306"
    assert transport(user=user, host="db.example", socket="/s.sock") == "u@db.example:3306"
    assert transport(dsn="mysql://u@[::1]:3310/") == "u@[::1]:3310"
    cnf = write(tmp_path / "my.cnf", "[client]\nhost = db.example\nsocket = /file.sock\n")
    assert transport(user=user, defaults_file=str(cnf), no_defaults=False) == "u@db.example:3306"
    assert (
        transport(user=user, defaults_file=str(cnf), no_defaults=False, socket="/s.sock") == "u@localhost via /s.sock"
    )
    monkeypatch.setattr(db, "DEFAULT_SOCKETS", (str(tmp_path / "absent.sock"),))
    fallback = resolve_connection(ConnectionOptions(user=user, no_defaults=True), environ=env)
    assert fallback.description == "u@localhost:3306" and fallback.socket_fallback  # no socket: TCP, as a last try


def test_password_never_shows(tmp_path: Path) -> None:
    options = ConnectionOptions(dsn=f"mysql://app:{SECRET}@db.example/shop", password=SECRET, host="db")
    assert SECRET not in repr(options) and SECRET not in str(options)
    assert repr(options) == "ConnectionOptions(dsn='mysql://app:***@db.example/shop', host='db', password='***')"
    parts = parse_dsn(options.dsn)
    assert SECRET not in repr(parts)
    resolved = resolve_connection(options, environ=isolated(tmp_path))
    assert resolved.password == SECRET
    for shown in (repr(resolved), str(resolved), resolved.description, resolved.address):
        assert SECRET not in shown
    cnf = write(tmp_path / "my.cnf", f"[client]\npassword = {SECRET}\n")
    read = read_option_files([str(cnf)])
    assert SECRET not in repr(read.entries) and SECRET not in repr(read)


def test_password_prompt_overrides_files_and_eof_is_one_line(tmp_path: Path) -> None:
    port = closed_port()
    cnf = write(tmp_path / "my.cnf", f"[client]\nuser = app\nhost = 127.0.0.1\nport = {port}\npassword = from-file\n")
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return SECRET

    with pytest.raises(UnreachableError) as caught:
        connect(ConnectionOptions(defaults_file=str(cnf)), password_prompt=prompt, environ=isolated(tmp_path))
    assert asked == [f"Enter password for app@127.0.0.1:{port}: "]
    assert SECRET not in str(caught.value)

    def no_terminal(text: str) -> str:
        raise EOFError

    with pytest.raises(ConnectionOptionsError) as caught:
        connect(ConnectionOptions(defaults_file=str(cnf)), password_prompt=no_terminal, environ=isolated(tmp_path))
    assert single_line(caught.value).startswith("no password typed (standard input is closed): set MYSQL_PWD")


# --------------------------------------------------------------------------------------------
# Errors without a server
# --------------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused(tmp_path: Path) -> None:
    port = closed_port()
    with pytest.raises(UnreachableError) as caught:
        connect(
            ConnectionOptions(host="127.0.0.1", port=port, user="app", no_defaults=True), environ=isolated(tmp_path)
        )
    assert single_line(caught.value) == (
        f"cannot reach 127.0.0.1:{port}: connection refused; is the server running and listening on TCP?"
    )


def test_unknown_host(tmp_path: Path) -> None:
    with pytest.raises(UnreachableError) as caught:
        connect(
            ConnectionOptions(host="no-such-host.invalid", user="app", no_defaults=True, connect_timeout=3),
            environ=isolated(tmp_path),
        )
    assert single_line(caught.value) == (
        "cannot reach no-such-host.invalid:3306: unknown host 'no-such-host.invalid'; check --host"
    )


def test_missing_socket(tmp_path: Path) -> None:
    path = tmp_path / "gone" / "mysqld.sock"
    with pytest.raises(UnreachableError) as caught:
        connect(ConnectionOptions(socket=str(path), user="app", no_defaults=True), environ=isolated(tmp_path))
    assert single_line(caught.value) == (
        f"no server socket at {path}: is the server running? Give --socket with its path (SELECT @@socket shows it), "
        "or --host 127.0.0.1 for TCP"
    )


def test_connect_timeout(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:  # accepts, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(DatabaseError) as caught:
            connect(
                ConnectionOptions(host="127.0.0.1", port=port, user="app", no_defaults=True, connect_timeout=0.5),
                environ=isolated(tmp_path),
            )
    assert isinstance(caught.value, UnreachableError)
    assert single_line(caught.value) == (
        f"cannot reach 127.0.0.1:{port}: no greeting from the server within 0.5 s; is a MySQL server listening there, "
        "and not overloaded? (--connect-timeout waits longer)"
    )


def test_privilege_error_messages_from_server_texts() -> None:
    cases = {
        (
            1142,
            (
                "SELECT command denied to user 'mqa'@'10.0.0.5' for table "
                "`performance_schema`.`events_statements_summary_by_digest`"
            ),
        ): "'mqa'@'10.0.0.5' lacks SELECT on performance_schema.events_statements_summary_by_digest (to read "
        "digests): GRANT SELECT ON performance_schema.* TO 'mqa'@'10.0.0.5'",
        (
            1142,
            "SELECT command denied to user 'mqa'@'localhost' for table 'events_statements_summary_by_digest'",
        ): "'mqa'@'localhost' lacks SELECT on events_statements_summary_by_digest (to read digests): "
        "GRANT SELECT ON <database>.events_statements_summary_by_digest TO 'mqa'@'localhost'",
        (
            1227,
            "Access denied; you need (at least one of) the PROCESS privilege(s) for this operation",
        ): "the account lacks the PROCESS privilege (to read digests): GRANT PROCESS ON *.* TO the account",
        (
            1044,
            "Access denied for user 'mqa'@'%' to database 'shop'",
        ): "'mqa'@'%' may not use database 'shop' (to read digests): GRANT SELECT ON `shop`.* TO 'mqa'@'%'",
        (
            1370,
            "execute command denied to user 'mqa'@'%' for routine 'sys.format_time'",
        ): "'mqa'@'%' lacks EXECUTE on sys.format_time (to read digests): GRANT EXECUTE ON sys.* TO 'mqa'@'%'",
    }
    for (code, text), expected in cases.items():
        error = query_error(pymysql.err.OperationalError(code, text), purpose="read digests")
        assert isinstance(error, PrivilegeError)
        assert single_line(error) == expected
    other = query_error(pymysql.err.ProgrammingError(1146, "Table 'x.y' doesn't exist"))
    assert type(other) is DatabaseError
    assert single_line(other) == "Table 'x.y' doesn't exist (error 1146 on the server)"


# --------------------------------------------------------------------------------------------
# Integration: the real server
# --------------------------------------------------------------------------------------------


def tcp_address(server) -> tuple[str, int]:
    if server.local is not None and server.local.port:
        return "127.0.0.1", server.local.port
    if "host" in server.connect_args:
        return server.connect_args["host"], int(server.connect_args.get("port", 3306))
    skip_or_fail("the test server has no TCP port")


@pytest.fixture(scope="module")
def account(server):
    """A password account 'mqa_t' (for any host and for localhost) with SELECT and INSERT on one database."""
    quoted = PASSWORD.replace("'", "''")
    server.execute(
        "DROP USER IF EXISTS 'mqa_t'@'%'",
        "DROP USER IF EXISTS 'mqa_t'@'localhost'",
        "DROP DATABASE IF EXISTS mqa_t_db",
        "CREATE DATABASE mqa_t_db",
        "CREATE TABLE mqa_t_db.t (a INT)",
        f"CREATE USER 'mqa_t'@'%' IDENTIFIED BY '{quoted}'",
        f"CREATE USER 'mqa_t'@'localhost' IDENTIFIED BY '{quoted}'",
        "GRANT SELECT, INSERT ON mqa_t_db.* TO 'mqa_t'@'%'",
        "GRANT SELECT, INSERT ON mqa_t_db.* TO 'mqa_t'@'localhost'",
    )
    yield "mqa_t"
    server.execute(
        "DROP USER IF EXISTS 'mqa_t'@'%'", "DROP USER IF EXISTS 'mqa_t'@'localhost'", "DROP DATABASE IF EXISTS mqa_t_db"
    )


def connect_attribute(server, session: db.Server, name: str) -> str | None:
    connection_id = session.query_one("SELECT CONNECTION_ID() AS id")["id"]
    rows = server.execute(
        f"SELECT ATTR_VALUE FROM performance_schema.session_connect_attrs "
        f"WHERE PROCESSLIST_ID = {int(connection_id)} AND ATTR_NAME = '{name}'"
    )
    return rows[0][0] if rows else None


def test_connect_by_socket(server, tmp_path: Path) -> None:
    if server.local is None:
        skip_or_fail("the test server's socket is not on this machine")
    with connect(
        ConnectionOptions(socket=server.local.socket, user="root", no_defaults=True), environ=isolated(tmp_path)
    ) as session:
        assert session.description == f"root@localhost via {server.local.socket}"
        assert session.query_one("SELECT CURRENT_USER() AS u")["u"] == "root@localhost"
        assert session.capabilities.flavor == server.flavor
        assert session.warnings == []


def test_connect_by_tcp_with_mysql_pwd(server, account: str, tmp_path: Path) -> None:
    host, port = tcp_address(server)
    env = isolated(tmp_path, MYSQL_PWD=PASSWORD)
    with connect(
        ConnectionOptions(host=host, port=port, user=account, database="mqa_t_db", no_defaults=True), environ=env
    ) as session:
        assert session.description == f"mqa_t@{host}:{port}"
        assert session.query_one("SELECT DATABASE() AS d")["d"] == "mqa_t_db"
        assert session.account == "'mqa_t'@'%'"  # the account that matched, as a GRANT names it


def test_connect_by_dsn(server, account: str, tmp_path: Path) -> None:
    from urllib.parse import quote

    with connect(ConnectionOptions(dsn=server.dsn, no_defaults=True), environ=isolated(tmp_path)) as session:
        assert session.query_one("SELECT 1 AS one")["one"] == 1
    host, port = tcp_address(server)
    dsn = f"mysql://{account}:{quote(PASSWORD, safe='')}@{host}:{port}/mqa_t_db"
    with connect(ConnectionOptions(dsn=dsn, no_defaults=True), environ=isolated(tmp_path)) as session:
        assert session.query_one("SELECT CURRENT_USER() AS u")["u"] == "mqa_t@%"
        assert PASSWORD not in session.description


def test_connect_by_option_file_with_include(server, account: str, tmp_path: Path) -> None:
    host, port = tcp_address(server)
    secret = write(tmp_path / "secret.cnf", f'[client]\npassword = "{PASSWORD}"  # quoted: it has a #\n', mode=0o600)
    main = write(
        tmp_path / "main.cnf",
        "\n".join(
            [
                "[client]",
                f"user = {account}",
                f"host = {host}",
                f"port = {port}",
                f"!include {secret}",
                "[mqa]",
                "database = mqa_t_db",
                "",
            ]
        ),
    )
    with connect(ConnectionOptions(defaults_file=str(main)), environ=isolated(tmp_path)) as session:
        assert session.query_one("SELECT CURRENT_USER() AS u, DATABASE() AS d") == {"u": "mqa_t@%", "d": "mqa_t_db"}


def test_session_is_read_only_time_limited_and_named(server, account: str, tmp_path: Path) -> None:
    host, port = tcp_address(server)
    options = ConnectionOptions(host=host, port=port, user=account, password=PASSWORD, no_defaults=True)
    with connect(options, environ=isolated(tmp_path)) as session:
        with pytest.raises(pymysql.MySQLError) as raw:
            session.query("INSERT INTO mqa_t_db.t VALUES (1)")  # the account may write; the session may not
        assert raw.value.args[0] == 1792
        with pytest.raises(DatabaseError) as caught, session.translate_errors("store a row"):
            session.query("INSERT INTO mqa_t_db.t VALUES (1)")
        assert single_line(caught.value).startswith(
            "store a row: the statement tried to write, but mqa sessions are read-only"
        )
        variable = session.capabilities.statement_time_variable
        value = session.query_one(f"SELECT @@SESSION.{variable} AS v")["v"]
        assert float(value) == (30.0 if session.capabilities.is_mariadb else 30000)
        assert session.query_one("SELECT @@autocommit AS a")["a"] == 1
        assert connect_attribute(server, session, "program_name") == "mqa"
    assert server.execute("SELECT COUNT(*) FROM mqa_t_db.t")[0][0] == 0


def test_connect_timeout_is_only_for_the_handshake(server, tmp_path: Path) -> None:
    options = ConnectionOptions(dsn=server.dsn, connect_timeout=0.5, no_defaults=True)
    with connect(options, environ=isolated(tmp_path)) as session:
        assert session.query_one("SELECT SLEEP(1.2) AS s")["s"] == 0  # longer than connect_timeout: still answered
        assert session.conn._read_timeout == 30 + db.READ_TIMEOUT_MARGIN


def test_statement_time_limit_stops_a_statement(server, tmp_path: Path) -> None:
    if server.flavor != "mariadb":
        pytest.skip("MySQL's max_execution_time does not stop SLEEP()")  # capability: the flavour behaves otherwise
    with connect(
        ConnectionOptions(dsn=server.dsn, statement_timeout=0.5, no_defaults=True), environ=isolated(tmp_path)
    ) as session:
        with pytest.raises(StatementTimeoutError) as caught, session.translate_errors("wait"):
            session.query("SELECT SLEEP(5)")
        assert single_line(caught.value) == (
            "wait: the statement was stopped after 0.5 s by the statement time limit: "
            "give a larger --statement-timeout (0: no limit)"
        )


def test_wrong_password(server, account: str, tmp_path: Path) -> None:
    host, port = tcp_address(server)
    with pytest.raises(AccessDeniedError) as caught:
        connect(
            ConnectionOptions(host=host, port=port, user=account, no_defaults=True),
            environ=isolated(tmp_path, MYSQL_PWD=SECRET),
        )
    message = single_line(caught.value)
    client_host = "127.0.0.1" if server.kind == "local" else message.split("'@'")[1].split("'")[0]
    assert message == (
        f"access denied for 'mqa_t'@'{client_host}' on {host}:{port} (password from MYSQL_PWD): "
        "check the password, or give --user/--password"
    )
    assert SECRET not in message and SECRET not in repr(caught.value)

    cnf = write(tmp_path / "my.cnf", f"[client]\nuser = {account}\nhost = {host}\nport = {port}\n")
    with pytest.raises(AccessDeniedError) as caught:
        connect(ConnectionOptions(defaults_file=str(cnf)), environ=isolated(tmp_path))
    assert single_line(caught.value).endswith(
        "(no password given): give -p/--password to type the password, or set it in an option file "
        "([client] password=...) or MYSQL_PWD"
    )


def test_unknown_database(server, tmp_path: Path) -> None:
    options = ConnectionOptions(dsn=server.dsn, database="mqa_no_such_db", no_defaults=True)
    with pytest.raises(UnknownDatabaseError) as caught:
        connect(options, environ=isolated(tmp_path))
    address = resolve_connection(options, environ=isolated(tmp_path)).address
    assert single_line(caught.value) == (
        f"unknown database 'mqa_no_such_db' on {address}: check --database (SHOW DATABASES lists them)"
    )


def test_database_the_account_may_not_use(server, account: str, tmp_path: Path) -> None:
    host, port = tcp_address(server)
    with pytest.raises(UnknownDatabaseError) as caught:
        connect(
            ConnectionOptions(
                host=host, port=port, user=account, password=PASSWORD, database="mysql", no_defaults=True
            ),
            environ=isolated(tmp_path),
        )
    message = single_line(caught.value)
    assert message.startswith("access denied for 'mqa_t'@")
    assert message.endswith(
        "to database 'mysql' on "
        f"{host}:{port}: it does not exist or the account may not use it; check --database, or "
        f"GRANT SELECT ON `mysql`.* TO {message.split(' ')[3]}"
    )


def test_server_without_tls_and_ssl_mode_required(server, tmp_path: Path) -> None:
    host, port = tcp_address(server)
    have_ssl = server.execute("SELECT @@have_ssl")[0][0] if server.flavor == "mariadb" else "?"
    if have_ssl == "YES":
        pytest.skip("the test server offers TLS")  # capability: the case needs a server without TLS
    with pytest.raises(TLSError) as caught:
        connect(
            ConnectionOptions(host=host, port=port, user="root", ssl_mode="REQUIRED", no_defaults=True),
            environ=isolated(tmp_path),
        )
    assert single_line(caught.value) == (
        f"{host}:{port} does not offer TLS, but --ssl-mode=REQUIRED requires it: "
        "enable TLS on the server, or use --ssl-mode=PREFERRED"
    )


def test_missing_privileges_name_the_grant_that_fixes_them(server, account: str, tmp_path: Path) -> None:
    host, port = tcp_address(server)
    options = ConnectionOptions(host=host, port=port, user=account, password=PASSWORD, no_defaults=True)
    with connect(options, environ=isolated(tmp_path)) as session:
        with pytest.raises(PrivilegeError) as caught, session.translate_errors("read statement digests"):
            session.query("SELECT * FROM performance_schema.events_statements_summary_by_digest")
        assert single_line(caught.value) == (
            "'mqa_t'@'%' lacks SELECT on performance_schema.events_statements_summary_by_digest (to read statement "
            "digests): GRANT SELECT ON performance_schema.* TO 'mqa_t'@'%'"
        )
        with pytest.raises(PrivilegeError) as caught:
            require_privileges(session, [PERFORMANCE_SCHEMA_SELECT, PROCESS])
        message = single_line(caught.value)
    assert message == (
        "'mqa_t'@'%' lacks SELECT on performance_schema.* (to read statement digests from performance_schema) and "
        "PROCESS (to see the statements of other sessions): GRANT SELECT ON performance_schema.* TO 'mqa_t'@'%'; "
        "GRANT PROCESS ON *.* TO 'mqa_t'@'%'"
    )
    server.execute(*message.split(": ", 1)[1].split("; "))  # the GRANTs the message gives are the fix
    with connect(options, environ=isolated(tmp_path)) as session:
        require_privileges(session, [PERFORMANCE_SCHEMA_SELECT, PROCESS])
        assert session.query("SELECT * FROM performance_schema.events_statements_summary_by_digest LIMIT 1") is not None


def test_login_file_encrypted_by_the_server_itself(server, tmp_path: Path) -> None:
    """mysql_config_editor encrypts with my_aes_encrypt(), the function behind AES_ENCRYPT():
    a file built from the server's AES_ENCRYPT output must decrypt to the same text."""
    text = '[client]\nuser = "root"\n[prod]\nhost = "db.example"\npassword = "p#ss word"\nport = 3310\n'
    conn = server.admin()
    try:
        data = bytearray(b"\0\0\0\0" + LOGIN_KEY)
        with conn.cursor() as cur:
            for line in text.splitlines(keepends=True):
                cur.execute("SELECT AES_ENCRYPT(%s, %s)", (line, LOGIN_KEY))
                cipher = cur.fetchone()[0]
                data += struct.pack("<i", len(cipher)) + cipher
    finally:
        conn.close()
    assert bytes(data) == encrypt_login_file(text)  # this test's own encryption agrees with the server
    assert decrypt_login_file(bytes(data)) == text
    path = tmp_path / ".mylogin.cnf"
    path.write_bytes(bytes(data))
    path.chmod(0o600)
    resolved = resolve_connection(ConnectionOptions(login_path="prod", no_defaults=True), environ=isolated(tmp_path))
    assert (resolved.user, resolved.host, resolved.port, resolved.password) == ("root", "db.example", 3310, "p#ss word")


# --------------------------------------------------------------------------------------------
# TLS against a server with certificates
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(certificates: dict[str, str]):
    require_executable("mariadbd", "apt-get install -y mariadb-server")
    from sample_workloads.localserver import LocalMariaDB

    local = LocalMariaDB(
        tcp=True,
        slow_query_log=False,
        performance_schema=False,
        options={
            "ssl_ca": certificates["ca"],
            "ssl_cert": certificates["server"],
            "ssl_key": certificates["server-key"],
        },
    )
    try:
        yield local
    finally:
        local.stop()


def tls_cipher(session: db.Server) -> str:
    return session.query_one("SHOW SESSION STATUS LIKE 'Ssl_cipher'")["Value"]


@pytest.mark.server
def test_tls_modes_against_a_server_with_certificates(tls_server, certificates: dict[str, str], tmp_path: Path) -> None:
    env = isolated(tmp_path)

    def options(host: str = "127.0.0.1", **kwargs: object) -> ConnectionOptions:
        return ConnectionOptions(host=host, port=tls_server.port, user="root", no_defaults=True, **kwargs)

    def cipher(**kwargs: object) -> str:
        with connect(options(**kwargs), environ=env) as session:
            return tls_cipher(session)

    assert cipher(ssl_mode="DISABLED") == ""
    assert cipher() != ""  # PREFERRED: the server offers TLS
    assert cipher(ssl_mode="REQUIRED") != ""
    assert cipher(ssl_ca=certificates["ca"]) != ""  # VERIFY_CA
    assert cipher(host="localhost", protocol="tcp", ssl_mode="VERIFY_IDENTITY", ssl_ca=certificates["ca"]) != ""
    assert cipher(ssl_mode="REQUIRED", ssl_cert=certificates["client"], ssl_key=certificates["client-key"]) != ""

    with pytest.raises(TLSError) as caught:
        connect(options(ssl_ca=certificates["other-ca"]), environ=env)
    assert single_line(caught.value).startswith(f"TLS: cannot verify the certificate of 127.0.0.1:{tls_server.port} (")
    assert single_line(caught.value).endswith(
        "; --ssl-mode=VERIFY_CA): give the CA that signed it with --ssl-ca, or use "
        "--ssl-mode=REQUIRED to encrypt without verification"
    )
    with pytest.raises(TLSError) as caught:
        connect(options(ssl_mode="VERIFY_IDENTITY", ssl_ca=certificates["ca"]), environ=env)
    assert single_line(caught.value).startswith(
        f"TLS: the certificate of 127.0.0.1:{tls_server.port} is not for '127.0.0.1' ("
    )
    assert single_line(caught.value).endswith("connect with the name the certificate has, or use --ssl-mode=VERIFY_CA")


# --------------------------------------------------------------------------------------------
# The CLI layer
# --------------------------------------------------------------------------------------------


def probe_app() -> typer.Typer:
    """A command as the server commands are written: a decorator and one call."""
    from cli.main import MqaGroup  # the entry point's error handling, as mqa's own commands have it

    app = typer.Typer(
        cls=MqaGroup,
        context_settings={"help_option_names": ["-h", "--help"]},
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def main() -> None:
        """Test app."""

    @app.command("probe", context_settings=COMMAND_SETTINGS)
    @server_options
    def probe(query: str = typer.Argument("SELECT CURRENT_USER()"), *, server_args: ServerArgs) -> None:
        with open_server(server_args) as session:
            row = session.query_one(query)
            typer.echo(f"{session.description} {next(iter(row.values()))}")

    return app


def test_cli_options_build_connection_options() -> None:
    args = ServerArgs(host="db", port=3307, user="app", password=True, ssl_mode="verify_ca", protocol="tcp")
    options = args.connection_options()
    assert (options.host, options.port, options.user, options.password, options.ssl_mode, options.protocol) == (
        "db",
        3307,
        "app",
        None,
        "verify_ca",
        "tcp",
    )
    resolved = resolve_connection(options, environ={"HOME": "/nonexistent"})
    assert (resolved.tls.mode, resolved.description) == ("VERIFY_CA", "app@db:3307")


def test_cli_connects_with_an_option_file(server, account: str, tmp_path: Path) -> None:
    host, port = tcp_address(server)
    cnf = write(
        tmp_path / "mqa.cnf", f"[client]\nuser = {account}\nhost = {host}\nport = {port}\npassword = '{PASSWORD}'\n"
    )
    result = CliRunner().invoke(
        probe_app(), ["probe", "--defaults-file", str(cnf)], env={"HOME": str(tmp_path), "MYSQL_PWD": None}
    )
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"mqa_t@{host}:{port} mqa_t@%\n", "")

    result = CliRunner().invoke(
        probe_app(),
        ["probe", "-h", host, "-P", str(port), "-u", account, "--no-defaults"],
        env={"HOME": str(tmp_path), "MYSQL_PWD": "wrong-" + SECRET},
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("mqa: error: access denied for 'mqa_t'@")
    assert result.stderr.endswith(" (password from MYSQL_PWD): check the password, or give --user/--password\n")
    assert SECRET not in result.stderr


def test_cli_prompts_with_p(server, account: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host, port = tcp_address(server)
    prompts: list[str] = []
    monkeypatch.setattr("cli.connection.getpass.getpass", lambda prompt: prompts.append(prompt) or PASSWORD)
    monkeypatch.setattr(sys, "argv", ["mqa", "probe", "-p"])
    result = CliRunner().invoke(
        probe_app(),
        ["probe", "-h", host, "-P", str(port), "-u", account, "-p", "--no-defaults"],
        env={"HOME": str(tmp_path), "MYSQL_PWD": None},
    )
    assert (result.exit_code, result.stderr) == (0, "")
    assert prompts == [f"Enter password for mqa_t@{host}:{port}: "]


@pytest.mark.parametrize("argv", [["-phunter2"], ["-pSecret"], ["-pP4ss"]])
def test_cli_refuses_a_password_on_the_command_line(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["mqa", "probe", *argv])
    result = CliRunner().invoke(probe_app(), ["probe", *argv])
    assert result.exit_code == 2
    assert result.stderr == (
        "mqa: error: a password on the command line is visible to every user of this machine: use -p alone to type "
        "it, or MYSQL_PWD, an option file ([client] password=... in ~/.my.cnf or --defaults-file) or --login-path\n"
    )


def test_cli_bad_dsn_and_unreachable_exit_2_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        probe_app(), ["probe", "--dsn", f"postgres://app:{SECRET}@db/"], env={"HOME": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"mqa: error: bad DSN 'postgres://app:***@db/': the scheme must be mysql:// or mariadb://, "
        f"not postgres://; expected {db.DSN_FORMS}\n"
    )
    port = closed_port()
    result = CliRunner().invoke(
        probe_app(), ["probe", "-h", "127.0.0.1", "-P", str(port), "--no-defaults"], env={"HOME": str(tmp_path)}
    )
    assert (result.exit_code, result.stderr) == (
        2,
        f"mqa: error: cannot reach 127.0.0.1:{port}: connection refused; is the server running and listening on TCP?\n",
    )


def test_cli_help_keeps_h_for_the_host() -> None:
    result = CliRunner().invoke(probe_app(), ["probe", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--host" in result.stdout and "-h" in result.stdout and "--statement-timeout" in result.stdout
    result = CliRunner().invoke(probe_app(), ["probe", "--bogus"])
    # one line, naming the help option that works here (-h is the host)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert (
        result.stderr.startswith("mqa: error: No such option: --bogus") and "(see: root probe --help)" in result.stderr
    )
