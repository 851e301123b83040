"""The "hotel" sample workload: a booking system whose query mix is built to test index advice.

Where ``shop`` is a broad application, ``hotel`` is small and pointed: each query class stands
for one situation an index advisor meets in real schemas, and the one right answer for it is
known (see README.md).  The data set is a pure function of ``(scale, seed)``, the statement list
a pure function of ``(statements, seed, scale, data_seed)``::

    from sample_workloads.hotel import workload
    workload.load(conn, scale=0.2)                          # schema + data into `hotel`
    summary = workload.replay(conn, statements=3000, scale=0.2)

Command line::

    python -m sample_workloads.hotel.workload load   --socket /path/mysqld.sock --scale 1
    python -m sample_workloads.hotel.workload replay --socket /path/mysqld.sock --statements 6000
    python -m sample_workloads.hotel.workload statements --statements 20      # print, no server

The data has the correlations real booking data has and that make optimizers misjudge: bookings
are made 0-120 days ahead, so ``check_in`` follows ``booked_at``; a few guests book a lot, most
rarely; the legacy channel stopped two years before the data ends.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sample_workloads.shop.workload import split_sql

SCHEMA_PATH = Path(__file__).with_name("schema.sql")
DEFAULT_DATABASE = "hotel"
DEFAULT_DATA_SEED = 42
DEFAULT_REPLAY_SEED = 7
TABLES = ("hotels", "rooms", "guests", "bookings")
BASE_COUNTS = {"hotels": 600, "guests": 40_000, "bookings": 150_000}
MIN_COUNTS = {"hotels": 30, "guests": 500, "bookings": 3_000}

DATA_START = _dt.datetime(2021, 1, 1)
DATA_END = _dt.datetime(2025, 7, 1)  # bookings are made up to 2025-06-30
LEGACY_END = _dt.datetime(2023, 7, 1)  # the legacy channel was switched off then
TODAY = _dt.date(2025, 7, 1)  # the replay's "today" (check-ins, the recent-bookings window)

CITIES = (
    "Amsterdam",
    "Athens",
    "Barcelona",
    "Berlin",
    "Bologna",
    "Bordeaux",
    "Bratislava",
    "Bruges",
    "Brussels",
    "Bucharest",
    "Budapest",
    "Cologne",
    "Copenhagen",
    "Dresden",
    "Dublin",
    "Dubrovnik",
    "Edinburgh",
    "Florence",
    "Frankfurt",
    "Geneva",
    "Genoa",
    "Ghent",
    "Glasgow",
    "Gothenburg",
    "Graz",
    "Hamburg",
    "Hanover",
    "Heidelberg",
    "Helsinki",
    "Innsbruck",
    "Istanbul",
    "Kraków",
    "Leipzig",
    "Lille",
    "Lisbon",
    "Ljubljana",
    "London",
    "Luxembourg",
    "Lyon",
    "Madrid",
    "Malaga",
    "Malmö",
    "Manchester",
    "Marseille",
    "Milan",
    "Munich",
    "Nantes",
    "Naples",
    "Nice",
    "Nuremberg",
    "Oslo",
    "Palermo",
    "Paris",
    "Porto",
    "Prague",
    "Reykjavík",
    "Riga",
    "Rome",
    "Rotterdam",
    "Salzburg",
    "Seville",
    "Sofia",
    "Split",
    "Stockholm",
    "Strasbourg",
    "Stuttgart",
    "Tallinn",
    "The Hague",
    "Thessaloniki",
    "Toulouse",
    "Turin",
    "Utrecht",
    "Valencia",
    "Venice",
    "Verona",
    "Vienna",
    "Vilnius",
    "Warsaw",
    "Wrocław",
    "Zagreb",
    "Zürich",
    "Aarhus",
    "Antwerp",
    "Basel",
    "Bergen",
    "Bilbao",
    "Bonn",
    "Bristol",
    "Cork",
    "Gdańsk",
    "Granada",
    "Linz",
    "Lucerne",
    "Lübeck",
    "Mainz",
    "Montpellier",
    "Mostar",
    "Pisa",
    "Poznań",
    "Siena",
)
COUNTRIES = ("DE", "FR", "NL", "IT", "ES", "GB", "AT", "CH", "PL", "SE", "BE", "PT", "DK", "IE", "CZ", "US")
HOTEL_WORDS = (
    "Grand",
    "Park",
    "Central",
    "Royal",
    "Harbour",
    "Garden",
    "Old Town",
    "Riverside",
    "Station",
    "Palace",
    "Boutique",
    "City",
    "Plaza",
    "Lakeside",
    "Castle",
    "Opera",
)
FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Emma",
    "Finn",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Klara",
    "Liam",
    "Mia",
    "Noah",
    "Olivia",
    "Paul",
    "Quentin",
    "Rosa",
    "Sofia",
    "Tom",
    "Ute",
    "Victor",
    "Wiebke",
    "Xavier",
    "Yara",
    "Zoë",
    "Łukasz",
    "Siobhán",
    "José",
    "Ørjan",
)
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Dubois",
    "Martin",
    "de Vries",
    "Jansen",
    "Rossi",
    "Russo",
    "García",
    "López",
    "Smith",
    "Jones",
    "O'Brien",
    "Kowalski",
    "Nowak",
    "Andersson",
    "Nielsen",
    "Peeters",
    "Silva",
    "Santos",
    "Murphy",
    "Novák",
    "Horvat",
    "Virtanen",
    "Hansen",
    "Weber",
    "Fischer",
)
ROOM_KINDS = ("single",) * 4 + ("double",) * 4 + ("suite", "family")
KIND_CAPACITY = {"single": 1, "double": 2, "suite": 3, "family": 4}
KIND_PRICE = {"single": 7_000, "double": 11_000, "suite": 24_000, "family": 16_000}


def q(value: Any) -> str:
    """A SQL literal (strings quoted with doubled quotes; the names contain apostrophes)."""
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def counts(scale: float) -> dict[str, int]:
    return {t: max(MIN_COUNTS[t], round(n * scale)) for t, n in BASE_COUNTS.items()}


class HotelModel:
    """The generated data set: hotels, rooms, guests, bookings (deterministic per scale and seed)."""

    def __init__(self, scale: float = 1.0, seed: int = DEFAULT_DATA_SEED) -> None:
        self.scale, self.seed = scale, seed
        n = counts(scale)
        r = random.Random(seed)
        # hotels: a skewed number per city (capitals have many), 10-40 rooms each
        city_weights = [1.0 / (1 + i) ** 0.8 for i in range(len(CITIES))]
        self.hotels: list[tuple] = []
        self.rooms: list[tuple] = []
        names = set()
        for hid in range(1, n["hotels"] + 1):
            city = r.choices(CITIES, city_weights)[0]
            name = f"{r.choice(HOTEL_WORDS)} {city}"
            while name in names:
                name = f"{r.choice(HOTEL_WORDS)} {r.choice(HOTEL_WORDS)} {city} {r.randint(2, 99)}"
            names.add(name)
            opened = _dt.date(1950, 1, 1) + _dt.timedelta(days=r.randint(0, 26_000))
            self.hotels.append((hid, name, city, r.choice(COUNTRIES[:14]), r.randint(1, 5), opened))
            for room_no in range(1, r.randint(10, 40) + 1):
                kind = r.choice(ROOM_KINDS)
                price = int(KIND_PRICE[kind] * r.uniform(0.7, 1.6))
                self.rooms.append(
                    (
                        len(self.rooms) + 1,
                        hid,
                        100 * (1 + room_no // 20) + room_no % 20,
                        kind,
                        KIND_CAPACITY[kind],
                        price,
                    )
                )
        # guests: loyalty tiers 50/30/20
        self.guests: list[tuple] = []
        emails = set()
        span = int((DATA_END - DATA_START).total_seconds())
        for gid in range(1, n["guests"] + 1):
            first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
            email = f"{first.lower()}.{last.lower().replace(' ', '').replace(chr(39), '')}{gid}@example.com"
            emails.add(email)
            tier = r.choices(("basic", "silver", "gold"), (50, 30, 20))[0]
            created = DATA_START + _dt.timedelta(seconds=r.randint(0, span // 2))
            self.guests.append((gid, email, first, last, r.choice(COUNTRIES), tier, created))
        # bookings in booked_at order (ids grow with booked_at); a few guests book a lot
        guest_weights = [1.0 / (1 + i) ** 0.9 for i in range(n["guests"])]
        r.shuffle(guest_weights)
        times = sorted(r.randint(0, span - 1) for _ in range(n["bookings"]))
        guest_ids = r.choices(range(1, n["guests"] + 1), guest_weights, k=n["bookings"])
        self.bookings: list[tuple] = []
        for i, (t, gid) in enumerate(zip(times, guest_ids), 1):
            booked = DATA_START + _dt.timedelta(seconds=t)
            room = r.randrange(len(self.rooms))
            if booked < LEGACY_END and r.random() < 0.3:
                channel = "legacy"
            else:
                channel = r.choices(("web", "app", "agent"), (55, 35, 10))[0]
            check_in = booked.date() + _dt.timedelta(days=r.randint(0, 120))
            nights = r.randint(1, 7)
            check_out = check_in + _dt.timedelta(days=nights)
            if check_in >= TODAY:
                status = r.choices(("confirmed", "cancelled"), (88, 12))[0]
            else:
                status = r.choices(("completed", "cancelled", "no_show"), (82, 12, 6))[0]
            total = nights * self.rooms[room][5]
            self.bookings.append((i, room + 1, gid, channel, status, booked, check_in, check_out, total))
        self.guest_weights = guest_weights
        self.cities = sorted({h[2] for h in self.hotels})


TABLE_COLUMNS = {
    "hotels": "id,name,city,country,stars,opened_at",
    "rooms": "id,hotel_id,room_no,kind,capacity,price_cents",
    "guests": "id,email,first_name,last_name,country,loyalty_tier,created_at",
    "bookings": "id,room_id,guest_id,channel,status,booked_at,check_in,check_out,total_cents",
}


def _literal(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        return q(value.strftime("%Y-%m-%d %H:%M:%S"))
    if isinstance(value, _dt.date):
        return q(value.isoformat())
    return q(value)


def schema_statements(secondary_indexes: bool = True) -> tuple[list[str], list[str]]:
    """(CREATE TABLE statements, CREATE INDEX statements) of schema.sql."""
    statements = split_sql(SCHEMA_PATH.read_text(encoding="utf-8"))
    tables = [s for s in statements if s.upper().startswith("CREATE TABLE")]
    indexes = [s for s in statements if s.upper().startswith("CREATE INDEX")]
    return tables, indexes if secondary_indexes else []


def load(
    conn: Any,
    scale: float = 1.0,
    seed: int = DEFAULT_DATA_SEED,
    *,
    database: str = DEFAULT_DATABASE,
    secondary_indexes: bool = True,
    analyze: bool = True,
) -> dict[str, Any]:
    """Create the schema in ``database`` (dropped first) and load the generated data; the
    connection is left with ``database`` selected.  ``secondary_indexes=False`` leaves out the
    CREATE INDEX statements of schema.sql (primary and unique keys stay)."""
    t0 = time.monotonic()
    m = HotelModel(scale, seed)
    tables, indexes = schema_statements(secondary_indexes)
    rows: dict[str, int] = {}
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
        cur.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        cur.execute(f"USE `{database}`")
        for stmt in tables:
            cur.execute(stmt)
        for table, data in (("hotels", m.hotels), ("rooms", m.rooms), ("guests", m.guests), ("bookings", m.bookings)):
            for i in range(0, len(data), 2000):
                values = ",".join("(" + ",".join(_literal(v) for v in row) + ")" for row in data[i : i + 2000])
                cur.execute(f"INSERT INTO {table} ({TABLE_COLUMNS[table]}) VALUES {values}")
            rows[table] = len(data)
        for stmt in indexes:
            cur.execute(stmt)
        if analyze:
            cur.execute("ANALYZE TABLE " + ", ".join(TABLES))
            cur.fetchall()
    conn.commit()
    return {
        "database": database,
        "scale": scale,
        "seed": seed,
        "rows": rows,
        "indexes": len(indexes),
        "seconds": round(time.monotonic() - t0, 2),
    }


# ----------------------------------------------------------------------------------------------
# The query mix


@dataclass(frozen=True)
class Statement:
    sql: str
    kind: str  # the query kind (QUERY_KINDS)
    session: str  # logical connection: "web-0", "desk-0", "admin-0"


#: kind -> (weight in the mix, what it stands for).  The README explains each one.
QUERY_KINDS: dict[str, tuple[int, str]] = {
    "guest_bookings": (14, "ORDER BY ... LIMIT over an index walk: EXPLAIN says ~10 rows, the log says thousands"),
    "arrivals": (10, "a join whose best index is on the filtered table (bookings), not on the join column"),
    "recent_bookings": (6, "served today by idx_bookings_booked_at; a naive check_in index lures it into a walk"),
    "hotels_in_city": (30, "frequent lookups on a 600-row table"),
    "tier_count": (6, "a low-cardinality filter: no index helps"),
    "booking_by_id": (25, "a primary-key lookup: no index helps"),
    "guest_by_email": (10, "a unique-key lookup: no index helps"),
    "new_booking": (6, "INSERT: the write rate the advisor weighs"),
    "cancel_booking": (3, "UPDATE by primary key"),
}


class _Generator:
    def __init__(self, m: HotelModel, seed: int) -> None:
        self.m = m
        self.r = random.Random(seed)
        self.next_booking = len(m.bookings) + 1
        self.now = _dt.datetime.combine(TODAY, _dt.time(8, 0))

    def guest(self) -> int:
        return self.r.choices(range(1, len(self.m.guests) + 1), self.m.guest_weights)[0]

    def make(self, kind: str) -> tuple[str, str]:
        r, m = self.r, self.m
        if kind == "guest_bookings":
            return (
                "SELECT b.id, b.booked_at, b.check_in, h.name FROM bookings b JOIN rooms r ON r.id = b.room_id "
                f"JOIN hotels h ON h.id = r.hotel_id WHERE b.guest_id = {self.guest()} "
                "ORDER BY b.booked_at DESC LIMIT 10",
                "web",
            )
        if kind == "arrivals":
            day = TODAY + _dt.timedelta(days=r.randint(-3, 20))
            return (
                "SELECT b.id, g.first_name, g.last_name, b.room_id, b.check_out FROM bookings b "
                f"JOIN guests g ON g.id = b.guest_id WHERE b.check_in = {q(day.isoformat())} "
                "AND b.status = 'confirmed'",
                "desk",
            )
        if kind == "recent_bookings":
            since = self.now - _dt.timedelta(days=r.randint(20, 40))
            return (
                "SELECT id, guest_id, room_id, check_in FROM bookings "
                f"WHERE booked_at >= {q(since.strftime('%Y-%m-%d %H:%M:%S'))} ORDER BY check_in LIMIT 20",
                "admin",
            )
        if kind == "hotels_in_city":
            city = r.choice(m.cities)
            return f"SELECT id, name, stars FROM hotels WHERE city = {q(city)} ORDER BY stars DESC", "web"
        if kind == "tier_count":
            return (
                f"SELECT COUNT(*) FROM guests WHERE loyalty_tier = {q(r.choice(('basic', 'silver', 'gold')))}",
                "admin",
            )
        if kind == "booking_by_id":
            return f"SELECT * FROM bookings WHERE id = {r.randint(1, len(m.bookings))}", "web"
        if kind == "guest_by_email":
            return f"SELECT id, first_name, last_name FROM guests WHERE email = {q(r.choice(m.guests)[1])}", "web"
        if kind == "new_booking":
            room = r.choice(m.rooms)
            check_in = TODAY + _dt.timedelta(days=r.randint(1, 120))
            nights = r.randint(1, 7)
            self.next_booking += 1
            self.now += _dt.timedelta(seconds=r.randint(1, 30))
            return (
                "INSERT INTO bookings (room_id, guest_id, channel, status, booked_at, check_in, check_out, "
                f"total_cents) VALUES ({room[0]}, {self.guest()}, {q(r.choice(('web', 'app', 'agent')))}, "
                f"'confirmed', {q(self.now.strftime('%Y-%m-%d %H:%M:%S'))}, {q(check_in.isoformat())}, "
                f"{q((check_in + _dt.timedelta(days=nights)).isoformat())}, {nights * room[5]})",
                "web",
            )
        if kind == "cancel_booking":
            return (f"UPDATE bookings SET status = 'cancelled' WHERE id = {r.randint(1, len(m.bookings))}", "web")
        raise ValueError(kind)


def generate_statements(
    statements: int = 6000, seed: int = DEFAULT_REPLAY_SEED, scale: float = 1.0, data_seed: int = DEFAULT_DATA_SEED
) -> list[Statement]:
    """The replayed statements: a pure function of the arguments (no server)."""
    g = _Generator(HotelModel(scale, data_seed), seed)
    kinds = list(QUERY_KINDS)
    weights = [QUERY_KINDS[k][0] for k in kinds]
    sessions = Counter()
    out = []
    for kind in g.r.choices(kinds, weights, k=statements):
        sql, app = g.make(kind)
        sessions[app] += 1
        out.append(Statement(sql, kind, f"{app}-{sessions[app] % 2}"))
    return out


APPS = ("web", "desk", "admin")
APP_USERS = {app: (f"hotel_{app}", f"{app}-secret") for app in APPS}


def replay(
    conn: Any,
    statements: int = 6000,
    seed: int = DEFAULT_REPLAY_SEED,
    *,
    scale: float = 1.0,
    data_seed: int = DEFAULT_DATA_SEED,
    database: str = DEFAULT_DATABASE,
    connect: Callable[[str], Any] | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Replay the generated statements; ``connect(app)`` opens one connection per logical
    session (otherwise ``conn`` runs them all).  Returns counts per kind, errors and the time."""
    stmts = generate_statements(statements, seed, scale, data_seed)
    conns: dict[str, Any] = {}
    kinds: Counter = Counter()
    errors: list[dict[str, Any]] = []
    t0 = time.monotonic()
    try:
        for i, st in enumerate(stmts):
            c = conns.get(st.session)
            if c is None:
                c = conns[st.session] = conn if connect is None else connect(st.session.rsplit("-", 1)[0])
                c.autocommit(True)
                c.select_db(database)
            try:
                with c.cursor() as cur:
                    cur.execute(st.sql)
                    cur.fetchall()
            except Exception as e:  # pymysql.MySQLError and friends
                if strict:
                    raise RuntimeError(f"statement {i} ({st.kind}) failed: {e}\n  {st.sql[:300]}") from e
                errors.append({"index": i, "kind": st.kind, "error": str(e), "sql": st.sql[:300]})
            kinds[st.kind] += 1
    finally:
        if connect is not None:
            for c in conns.values():
                try:
                    c.close()
                except Exception:
                    pass
    return {
        "statements": len(stmts),
        "seed": seed,
        "scale": scale,
        "elapsed_seconds": round(time.monotonic() - t0, 3),
        "errors": len(errors),
        "error_samples": errors[:20],
        "by_kind": dict(sorted(kinds.items())),
    }


def _connect(args: argparse.Namespace) -> Any:
    import os

    import pymysql

    kw: dict[str, Any] = {
        "user": args.user,
        "password": os.environ.get("MYSQL_PWD", ""),
        "charset": "utf8mb4",
        "autocommit": True,
    }
    if args.socket:
        kw["unix_socket"] = args.socket
    else:
        kw.update(host=args.host, port=args.port)
    return pymysql.connect(**kw)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sample_workloads.hotel.workload", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("load", "replay", "statements"):
        p = sub.add_parser(name)
        p.add_argument("--scale", type=float, default=1.0)
        p.add_argument("--data-seed", type=int, default=DEFAULT_DATA_SEED)
        if name != "load":
            p.add_argument("--statements", type=int, default=6000)
            p.add_argument("--seed", type=int, default=DEFAULT_REPLAY_SEED)
        if name != "statements":
            p.add_argument("--socket")
            p.add_argument("--host", default="127.0.0.1")
            p.add_argument("--port", type=int, default=3306)
            p.add_argument("--user", default="root")
            p.add_argument("--database", default=DEFAULT_DATABASE)
            p.add_argument("--no-secondary-indexes", action="store_true")
    a = ap.parse_args(argv)
    if a.command == "statements":
        for st in generate_statements(a.statements, a.seed, a.scale, a.data_seed):
            print(f"{st.sql};")
        return 0
    conn = _connect(a)
    if a.command == "load":
        print(
            json.dumps(
                load(conn, a.scale, a.data_seed, database=a.database, secondary_indexes=not a.no_secondary_indexes),
                indent=2,
            )
        )
    else:
        print(
            json.dumps(
                replay(conn, a.statements, a.seed, scale=a.scale, data_seed=a.data_seed, database=a.database), indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
