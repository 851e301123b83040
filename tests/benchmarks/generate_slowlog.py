#!/usr/bin/env python3
"""Deterministic generator of a realistic MySQL 8.0 slow query log.

    python tests/benchmarks/generate_slowlog.py --events 1000000 --seed 1 \
        --output tests/benchmarks/data/slow-1m.log [--templates 2000] [--extra]

The output is written the way MySQL 8.0 ``File_query_log::write_slow`` (sql/log.cc)
writes it:

    /usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:
    Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock
    Time                 Id Command    Argument
    # Time: 2024-05-01T10:00:00.123456Z
    # User@Host: shop_app[shop_app] @  [10.0.1.12]  Id:  1042
    # Query_time: 0.001234  Lock_time: 0.000010 Rows_sent: 1  Rows_examined: 1
    use shop;
    SET timestamp=1714557600;
    SELECT ... ;

Details that follow the server's code rather than intuition:

* ``Id:`` is ``%5u``; ``# Time:`` is the end of the statement (``Start`` + ``Query_time``).
* ``use db;`` is written when the session's database differs from the *last one written to
  this file* (``File_query_log::db`` is per log file, not per thread); sessions without a
  default database (the monitoring user) write no ``use`` line.
* ``SET timestamp=`` is the statement's start second; INSERTs into AUTO_INCREMENT tables get
  ``SET insert_id=N,timestamp=T;``.
* administrator commands are written as ``# administrator command: Quit;``.
* with ``--extra`` (``log_slow_extra=ON``) the ``# Query_time:`` line carries Thread_id ...
  Created_tmp_tables, Start, End in the server's order; ``Bytes_received`` is 0 as in every
  real MySQL 8.0 sample (the counter is snapshotted after the packet was read).

With ``--inject-headers FRACTION`` about that share of the statements carry text that looks
like slow-log event headers (a value typed into a search box, a comment an application
copies user text into), as the server writes it verbatim: a forged ``# Time:`` /
``# User@Host: evil`` / ``# Query_time: 99`` header (MySQL's, MariaDB's with ``# Thread_id``, one
ending in ``# administrator command:``, or a lone ``# User@Host:`` line) after a line ending in
``;``, inside a single- or double-quoted string, a backticked alias or a ``/* */`` comment, or on
``#`` comment lines after a ``--`` comment, with ``\n``, ``\r\n`` or ``\r`` line ends.  A reader
that takes them for events reports more events than were written, a user ``evil`` and 99-second
queries.  Injection uses a random stream of its own: the rest of the log is unchanged.

Same arguments -> byte-identical output (only ``random.Random`` and integer/float arithmetic
are used; no hash-order dependence).  The module also exposes :func:`generate` for tests.
"""

from __future__ import annotations

import argparse
import bisect
import bz2
import gzip
import io
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

MYSQL_VERSION = "8.0.36"
BANNER = (
    f"/usr/sbin/mysqld, Version: {MYSQL_VERSION} (MySQL Community Server - GPL). started with:\n"
    "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n"
    "Time                 Id Command    Argument\n"
)
DEFAULT_START = "2024-05-01T10:00:00"

# ---------------------------------------------------------------------------------------------
# Synthetic schema: 40 tables in 3 databases.  "table": (rows, "col:type col:type ...").
# Types: pk (implicit `id`), ref:<table>, int:<lo>:<hi>, qty, money, bool, email, first, last,
# username, hash, uuid, ip, ua, url, city, country, currency, sku, product, company, coupon,
# text, word, postal, tracking, perm, json, date, dt, enum:<a>|<b>|...
# ---------------------------------------------------------------------------------------------
SCHEMA: dict[str, dict[str, tuple[int, str]]] = {
    "shop": {
        "customers": (
            2_000_000,
            "email:email first_name:first last_name:last country:country "
            "status:enum:active|inactive|banned|pending loyalty_points:int:0:50000 "
            "created_at:dt updated_at:dt last_login_at:dt",
        ),
        "addresses": (
            3_000_000,
            "customer_id:ref:customers street:text city:city postal_code:postal "
            "country:country is_default:bool created_at:dt",
        ),
        "categories": (500, "name:word parent_id:ref:categories slug:word position:int:0:100"),
        "products": (
            200_000,
            "sku:sku name:product category_id:ref:categories supplier_id:ref:suppliers "
            "price:money status:enum:active|draft|archived weight_grams:int:1:50000 "
            "created_at:dt updated_at:dt",
        ),
        "product_categories": (400_000, "product_id:ref:products category_id:ref:categories position:int:0:100"),
        "warehouses": (40, "name:city country:country capacity:int:1000:500000"),
        "inventory": (
            800_000,
            "product_id:ref:products warehouse_id:ref:warehouses quantity:int:0:5000 reserved:int:0:200 updated_at:dt",
        ),
        "orders": (
            10_000_000,
            "customer_id:ref:customers "
            "status:enum:pending|paid|shipped|delivered|cancelled|refunded total:money "
            "currency:currency coupon_id:ref:coupons shipping_address_id:ref:addresses "
            "placed_at:dt updated_at:dt",
        ),
        "order_items": (
            30_000_000,
            "order_id:ref:orders product_id:ref:products quantity:qty unit_price:money discount:money",
        ),
        "payments": (
            9_000_000,
            "order_id:ref:orders provider:enum:stripe|paypal|adyen|klarna "
            "amount:money status:enum:authorized|captured|failed|refunded reference:uuid "
            "created_at:dt",
        ),
        "shipments": (
            8_000_000,
            "order_id:ref:orders warehouse_id:ref:warehouses "
            "carrier:enum:ups|dhl|fedex|usps|postnl tracking_number:tracking "
            "status:enum:label_created|in_transit|delivered|returned shipped_at:dt "
            "delivered_at:dt",
        ),
        "carts": (
            5_000_000,
            "customer_id:ref:customers session_token:hash "
            "status:enum:open|converted|abandoned created_at:dt updated_at:dt",
        ),
        "cart_items": (12_000_000, "cart_id:ref:carts product_id:ref:products quantity:qty added_at:dt"),
        "reviews": (
            1_500_000,
            "product_id:ref:products customer_id:ref:customers rating:int:1:5 "
            "title:text body:text status:enum:visible|hidden|pending created_at:dt",
        ),
        "coupons": (
            20_000,
            "code:coupon discount_pct:int:5:50 valid_from:date valid_until:date "
            "max_uses:int:1:10000 used_count:int:0:10000",
        ),
        "coupon_redemptions": (
            600_000,
            "coupon_id:ref:coupons order_id:ref:orders customer_id:ref:customers redeemed_at:dt",
        ),
        "suppliers": (2_000, "name:company country:country email:email rating:int:1:5"),
        "price_history": (4_000_000, "product_id:ref:products price:money valid_from:dt changed_by:ref:users"),
    },
    "accounts": {
        "users": (
            3_000_000,
            "email:email username:username password_hash:hash "
            "status:enum:active|locked|disabled|unverified failed_logins:int:0:10 "
            "created_at:dt updated_at:dt last_login_at:dt",
        ),
        "sessions": (
            20_000_000,
            "user_id:ref:users token:hash ip_address:ip user_agent:ua revoked:bool created_at:dt expires_at:dt",
        ),
        "roles": (50, "name:word description:text"),
        "user_roles": (3_500_000, "user_id:ref:users role_id:ref:roles granted_at:dt"),
        "permissions": (400, "name:perm resource:word action:enum:read|write|delete|admin"),
        "role_permissions": (3_000, "role_id:ref:roles permission_id:ref:permissions"),
        "api_keys": (100_000, "user_id:ref:users key_hash:hash label:word revoked:bool created_at:dt last_used_at:dt"),
        "login_attempts": (50_000_000, "user_id:ref:users ip_address:ip success:bool attempted_at:dt"),
        "password_resets": (500_000, "user_id:ref:users token:hash created_at:dt used_at:dt"),
        "audit_log": (
            80_000_000,
            "user_id:ref:users "
            "action:enum:login|logout|update_profile|change_password|grant_role|revoke_role "
            "target:word ip_address:ip created_at:dt",
        ),
        "notifications": (40_000_000, "user_id:ref:users kind:enum:email|sms|push subject:text sent_at:dt read_at:dt"),
        "preferences": (2_800_000, "user_id:ref:users name:word value:word updated_at:dt"),
    },
    "analytics": {
        "events": (
            500_000_000,
            "user_id:ref:users session_id:hash "
            "name:enum:page_view|click|add_to_cart|checkout|purchase|signup|search "
            "properties:json country:country device:enum:desktop|mobile|tablet created_at:dt",
        ),
        "page_views": (200_000_000, "session_id:hash url:url referrer:url duration_ms:int:0:600000 viewed_at:dt"),
        "daily_stats": (
            50_000,
            "day:date metric:enum:revenue|orders|signups|sessions|conversion dimension:word value:money",
        ),
        "campaigns": (
            3_000,
            "name:text channel:enum:email|search|social|display budget:money "
            "status:enum:active|paused|ended starts_on:date ends_on:date",
        ),
        "ad_clicks": (60_000_000, "campaign_id:ref:campaigns session_id:hash cost:money country:country clicked_at:dt"),
        "funnels": (200, "name:word steps:int:2:8 created_at:dt"),
        "experiments": (500, "name:word status:enum:running|stopped|draft started_at:dt"),
        "experiment_assignments": (
            30_000_000,
            "experiment_id:ref:experiments user_id:ref:users variant:enum:control|a|b assigned_at:dt",
        ),
        "search_queries": (25_000_000, "session_id:hash query:word results:int:0:500 searched_at:dt"),
        "sessions_agg": (10_000_000, "day:date user_id:ref:users sessions:int:0:50 page_views:int:0:500 revenue:money"),
    },
}

WORDS = (
    "alpha amber anchor apple arrow atlas autumn azure badge bamboo banner basil beacon berry "
    "birch blaze bloom breeze bridge bronze canyon cedar chalk cherry cinder citrus clover cobalt "
    "comet coral cosmos cotton crane crystal dawn delta desert dune eagle ember falcon fern fig "
    "flint forest fossil frost galaxy garnet ginger glacier granite harbor hazel heron horizon "
    "indigo iris island ivory jade jasmine juniper kelp kernel lagoon lantern lava lemon lilac "
    "linen lotus lunar maple marble meadow mint mist moss nebula nectar nova oak oasis ocean olive "
    "onyx orbit orchid pearl pepper pine plum polar prism quartz quill raven reef ridge river "
    "robin ruby saffron sage sand sapphire shadow sierra silver slate solar spruce storm summit "
    "thunder tidal timber topaz tulip tundra valley velvet violet willow winter zephyr"
).split()
FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
    "Sandra Mark Ashley Paul Emily Steven Donna Andrew Michelle Kenneth Carol Joshua Amanda Kevin "
    "Melissa Brian Deborah George Stephanie Timothy Rebecca Ronald Sharon Jason Laura Edward "
    "Cynthia Jeffrey Amy Ryan Kathleen José Zoë Łukasz Søren Ana Hiroshi Mei Ngozi Priya"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller Schäfer "
    "Kowalski Yamamoto Okafor Patel Svensson O\\'Brien D\\'Souza O\\'Neill"
).split()
CITIES = (
    "Amsterdam Berlin Chicago Dublin Lisbon Madrid Oslo Paris Prague Rome Seattle Tokyo "
    "Toronto Vienna Warsaw Zürich Austin Denver Boston Lyon Porto Milan Kyoto Sydney"
).split()
COUNTRIES = "US GB DE FR NL ES IT PL SE NO DK IE PT CA JP AU BR IN MX CH AT BE".split()
CURRENCIES = "USD EUR GBP JPY CAD AUD CHF SEK".split()
DOMAINS = "example.com mail.test inbox.example corp.example shop.test".split()
ADJECTIVES = (
    "Classic Deluxe Eco Ultra Mini Pro Smart Vintage Compact Premium Rustic Modern Portable Organic Wireless"
).split()
NOUNS = (
    "Lamp Chair Backpack Kettle Headphones Blender Jacket Notebook Bottle Speaker Watch "
    "Sneakers Tent Mug Drone Keyboard Monitor Pillow"
).split()
SENTENCE_WORDS = WORDS[:60] + [
    "don\\'t",
    "it\\'s",
    "great",
    "quality",
    "fast",
    "shipping",
    "would",
    "buy",
    "again",
    "not",
    "as",
    "described",
    "100%",
    "love",
]
USER_AGENTS = (
    "'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'",
    "'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15'",
    "'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148'",
    "'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0'",
    "'okhttp/4.12.0'",
    "'python-requests/2.31.0'",
)
URL_PATHS = (
    "/",
    "/cart",
    "/checkout",
    "/search",
    "/account",
    "/orders",
    "/product/",
    "/category/",
    "/help/faq",
    "/blog/",
)

# ---------------------------------------------------------------------------------------------
# Connections: (pool name, user, host, ip list, connections, default db)
# ---------------------------------------------------------------------------------------------
POOLS = (
    ("shop_rw", "shop_app", "", [f"10.0.1.{i}" for i in range(11, 19)], 24, "shop"),
    ("shop_ro", "reporting", "report-01.internal", ["10.0.2.5"], 4, "shop"),
    ("acct_rw", "auth_svc", "", [f"10.0.3.{i}" for i in range(21, 25)], 12, "accounts"),
    ("an_rw", "etl", "etl-worker-1.internal", ["10.0.4.7"], 4, "analytics"),
    ("an_ro", "bi_reader", "", ["10.0.4.50"], 4, "analytics"),
    ("monitor", "monitor", "localhost", [""], 2, None),
    ("admin", "root", "localhost", [""], 1, "shop"),
)
RW_POOL_FOR_DB = {"shop": "shop_rw", "accounts": "acct_rw", "analytics": "an_rw"}
RO_POOL_FOR_DB = {"shop": "shop_ro", "accounts": "acct_rw", "analytics": "an_ro"}


# ---------------------------------------------------------------------------------------------
# Literal generators.  Each factory returns a zero-argument callable producing the literal as
# it appears in SQL text; they share one event RNG (``Literals.r``).
# ---------------------------------------------------------------------------------------------
class Literals:
    def __init__(self, rng: random.Random, start_epoch: int, structured: bool = False):
        self.rng = rng
        # --spellings: IN lists and VALUES rows come as lists of items, each spelled per event
        self.structured = structured
        r = self.r = rng.random
        self.getrandbits = rng.getrandbits
        day0 = start_epoch // 86400 - 485  # dates cover the ~16 months before the log starts
        self.dates = [time.strftime("%Y-%m-%d", time.gmtime((day0 + d) * 86400)) for d in range(486)]
        self.quoted_dates = ["'" + d + "'" for d in self.dates]
        self.words = ["'" + w + "'" for w in WORDS]
        self.cities = ["'" + c + "'" for c in CITIES]
        self.countries = ["'" + c + "'" for c in COUNTRIES]
        self.currencies = ["'" + c + "'" for c in CURRENCIES]
        self.firsts = ["'" + f + "'" for f in FIRST]
        self.lasts = ["'" + s + "'" for s in LAST]
        self.products = ["'" + a + " " + n + "'" for a in ADJECTIVES for n in NOUNS]
        self.companies = [
            "'" + w.capitalize() + s + "'" for w in WORDS[:40] for s in (" Ltd", " GmbH", " Inc.", " & Sons")
        ]
        # sentences: pre-built pool (texts vary per event by pick; 4096 distinct ones)
        self.texts = []
        for _ in range(4096):
            n = 3 + int(r() * 9)
            self.texts.append("'" + " ".join(SENTENCE_WORDS[int(r() * len(SENTENCE_WORDS))] for _ in range(n)) + "'")
        self.emails_user = [f.lower().replace("\\'", "") for f in FIRST]
        self.lasts_email = [s.lower().replace("\\'", "") for s in LAST]

    # -- factories -------------------------------------------------------------------------
    def int_range(self, lo: int, hi: int) -> Callable[[], int]:
        r, span = self.r, hi - lo + 1
        return lambda: lo + int(r() * span)

    def ref(self, rows: int) -> Callable[[], int]:
        # skew towards recent (high) ids, as hot rows usually are
        r = self.r
        return lambda: rows - int(rows * r() ** 3)

    def choice(self, pool: list[str]) -> Callable[[], str]:
        r, n = self.r, len(pool)
        return lambda: pool[int(r() * n)]

    def money(self) -> Callable[[], str]:
        r = self.r
        return lambda: "%d.%02d" % (int(r() ** 2 * 2000), int(r() * 100))

    def qty(self) -> Callable[[], int]:
        r = self.r
        return lambda: 1 + int(r() ** 3 * 10)

    def boolean(self) -> Callable[[], int]:
        r = self.r
        return lambda: 1 if r() < 0.3 else 0

    def email(self) -> Callable[[], str]:
        r, f, s, d = self.r, self.emails_user, self.lasts_email, DOMAINS
        nf, ns, nd = len(f), len(s), len(d)
        return lambda: "'%s.%s%d@%s'" % (f[int(r() * nf)], s[int(r() * ns)], int(r() * 1000), d[int(r() * nd)])

    def username(self) -> Callable[[], str]:
        r, w, n = self.r, WORDS, len(WORDS)
        return lambda: "'%s_%s%d'" % (w[int(r() * n)], w[int(r() * n)], int(r() * 100))

    def hexstr(self, bits: int) -> Callable[[], str]:
        g, fmt = self.getrandbits, "'%0" + str(bits // 4) + "x'"
        return lambda: fmt % g(bits)

    def uuid(self) -> Callable[[], str]:
        g = self.getrandbits

        def f() -> str:
            h = "%032x" % g(128)
            return "'%s-%s-4%s-a%s-%s'" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:])

        return f

    def ip(self) -> Callable[[], str]:
        r = self.r
        return lambda: "'%d.%d.%d.%d'" % (1 + int(r() * 223), int(r() * 256), int(r() * 256), 1 + int(r() * 254))

    def url(self) -> Callable[[], str]:
        r, p, n = self.r, URL_PATHS, len(URL_PATHS)
        return lambda: "'https://www.shop.test%s%d'" % (p[int(r() * n)], int(r() * 5000))

    def sku(self) -> Callable[[], str]:
        r = self.r
        return lambda: "'SKU-%06d'" % int(r() * 1_000_000)

    def coupon(self) -> Callable[[], str]:
        r, w, n = self.r, WORDS, len(WORDS)
        return lambda: "'%s%d'" % (w[int(r() * n)].upper(), 5 * (1 + int(r() * 10)))

    def postal(self) -> Callable[[], str]:
        r = self.r
        return lambda: "'%05d'" % int(r() * 100000)

    def tracking(self) -> Callable[[], str]:
        g = self.getrandbits
        return lambda: "'1Z%016X'" % g(64)

    def perm(self) -> Callable[[], str]:
        r, w, n = self.r, WORDS, len(WORDS)
        acts = ("read", "write", "delete", "admin")
        return lambda: "'%s.%s'" % (w[int(r() * n)], acts[int(r() * 4)])

    def json(self) -> Callable[[], str]:
        r, w, n = self.r, WORDS, len(WORDS)
        return lambda: '\'{"source": "%s", "step": %d}\'' % (w[int(r() * n)], int(r() * 9))

    def dt(self) -> Callable[[], str]:
        r, d, n = self.r, self.dates, len(self.dates)

        def f() -> str:
            s = int(r() * 86400)
            return "'%s %02d:%02d:%02d'" % (d[n - 1 - int(r() ** 2 * n)], s // 3600, s // 60 % 60, s % 60)

        return f

    def date(self) -> Callable[[], str]:
        r, d, n = self.r, self.quoted_dates, len(self.quoted_dates)
        return lambda: d[n - 1 - int(r() ** 2 * n)]

    def like(self, pool: list[str]) -> Callable[[], str]:
        r, n = self.r, len(pool)

        def f() -> str:
            w = pool[int(r() * n)][1:4]
            return "'%s%%'" % w if r() < 0.7 else "'%%%s%%'" % w

        return f

    def in_list(self, item: Callable[[], object], sep: str) -> Callable[[], object]:
        r = self.r
        structured = self.structured

        def f() -> object:
            x = r()
            if x < 0.55:
                n = 1 + int(r() * 5)
            elif x < 0.9:
                n = 6 + int(r() * 25)
            else:
                n = 31 + int(r() * 70)
            if structured:
                return InList([item() for _ in range(n)])
            return sep.join([str(item()) for _ in range(n)])

        return f

    def rows(self, row: list[Callable[[], object]], sep: str) -> Callable[[], object]:
        r = self.r
        structured = self.structured

        def f() -> object:
            n = 2 + int(r() ** 2.5 * 49)
            if structured:
                return Rows([[g() for g in row] for _ in range(n)])
            return sep.join(["(" + ",".join([str(g()) for g in row]) + ")" for _ in range(n)])

        return f

    def traceparent(self) -> Callable[[], str]:
        g = self.getrandbits
        return lambda: "%032x-%016x" % (g(128), g(64))

    def for_type(self, ctype: str) -> Callable[[], object]:
        kind, _, arg = ctype.partition(":")
        if kind == "pk":
            return self.ref(int(arg))
        if kind == "ref":
            return self.ref(TABLE_ROWS[arg])
        if kind == "int":
            lo, hi = arg.split(":")
            return self.int_range(int(lo), int(hi))
        if kind == "enum":
            return self.choice(["'" + v + "'" for v in arg.split("|")])
        simple = {
            "qty": self.qty,
            "money": self.money,
            "bool": self.boolean,
            "email": self.email,
            "username": self.username,
            "uuid": self.uuid,
            "ip": self.ip,
            "url": self.url,
            "sku": self.sku,
            "coupon": self.coupon,
            "postal": self.postal,
            "tracking": self.tracking,
            "perm": self.perm,
            "json": self.json,
            "dt": self.dt,
            "date": self.date,
        }
        if kind in simple:
            return simple[kind]()
        if kind == "hash":
            return self.hexstr(160)
        pools = {
            "first": self.firsts,
            "last": self.lasts,
            "city": self.cities,
            "country": self.countries,
            "currency": self.currencies,
            "product": self.products,
            "company": self.companies,
            "text": self.texts,
            "word": self.words,
            "ua": list(USER_AGENTS),
        }
        return self.choice(pools[kind])


TABLE_ROWS = {t: rows for tables in SCHEMA.values() for t, (rows, _) in tables.items()}


class InList(list):
    """The items of an IN list (--spellings: each is spelled when the statement is written)."""


class Rows(list):
    """The rows of a multi-row VALUES (--spellings), each a list of items."""


@dataclass
class Table:
    db: str
    name: str
    rows: int
    cols: list[tuple[str, str]]  # (name, type) including ("id", "pk:<rows>")

    def of(self, *kinds: str) -> list[tuple[str, str]]:
        return [c for c in self.cols if c[1].split(":")[0] in kinds]


def load_schema() -> list[Table]:
    tables = []
    for db, specs in SCHEMA.items():
        for name, (rows, spec) in specs.items():
            cols = [("id", f"pk:{rows}")]
            for item in spec.split():
                cname, _, ctype = item.partition(":")
                cols.append((cname, ctype))
            tables.append(Table(db, name, rows, cols))
    return tables


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------
SLOT = "\x00"  # slot marker in template text: \x00<n>\x00
BRK = "\x01"  # clause break: a space, or a newline + indent in multi-line templates

# per kind: (median query time in microseconds, per-event sigma, access path, sorts, tmp table)
KIND_PROFILE = {
    "point": (150, 0.5),
    "fk": (500, 0.7),
    "range": (3000, 1.0),
    "join": (2500, 0.9),
    "group": (60000, 1.1),
    "order_limit": (8000, 1.0),
    "in": (900, 0.7),
    "like": (40000, 1.0),
    "subquery": (15000, 1.0),
    "count": (20000, 1.0),
    "insert": (350, 0.6),
    "insert_multi": (2000, 0.7),
    "upsert": (500, 0.6),
    "update": (600, 0.7),
    "update_counter": (400, 0.6),
    "delete": (800, 0.8),
    "for_update": (300, 0.6),
    "txn": (15, 0.5),
    "commit": (1800, 0.9),
    "admin": (6, 0.5),
    "show": (900, 0.6),
    "driver": (40, 0.5),
    "dump": (4_000_000, 0.3),
}
KIND_WEIGHTS = (
    ("point", 14),
    ("fk", 14),
    ("range", 8),
    ("join", 10),
    ("group", 6),
    ("order_limit", 6),
    ("in", 6),
    ("like", 3),
    ("subquery", 4),
    ("count", 4),
    ("insert", 8),
    ("insert_multi", 3),
    ("upsert", 2),
    ("update", 8),
    ("update_counter", 2),
    ("delete", 3),
    ("for_update", 2),
)
WRITE_KINDS = {"insert", "insert_multi", "upsert", "update", "update_counter", "delete"}

# access codes for the log_slow_extra handler counters
A_NONE, A_CONST, A_REF, A_SCAN, A_INDEX, A_INDEX_DESC, A_WRITE_KEY = range(7)


@dataclass
class Template:
    kind: str
    db: str | None
    pool: str
    fmt: str  # %-format string (or the constant statement when no gens)
    gens: tuple  # slot generators
    shape: str = ""  # normalised text used for de-duplication
    qt_us: float = 100.0  # median query time
    sigma: float = 0.5
    lock_us: float = 10.0
    sent_mu: float = 0.0  # 0 = never sends rows
    sent_sigma: float = 0.0
    sent_cap: int = 1 << 30
    zero_p: float = 0.0  # probability of an empty result
    exam_ratio: float = 1.0
    exam_base: float = 0.0
    access: int = A_NONE
    sort: bool = False
    tmp: bool = False
    row_bytes: int = 0
    meta_bytes: int = 11
    insert_table: str | None = None
    tokens: list | None = None  # --spellings: the statement as tokens (spell_tokens)
    profiles: list = field(default_factory=list)  # --spellings: the clients' spelling profiles
    admin: bool = False
    weight: float = 0.0
    conns: list = field(default_factory=list)


def compile_text(text: str, slots: list) -> tuple[str, tuple]:
    """Turn builder text (with \x00n\x00 slot markers) into a %-format string + generators."""
    parts = text.split(SLOT)
    out, gens = [], []
    for i, p in enumerate(parts):
        if i % 2 == 0:
            out.append(p.replace("%", "%%"))
        else:
            out.append("%s")
            gens.append(slots[int(p)])
    fmt = "".join(out)
    if not gens:
        fmt = fmt.replace("%%", "%")
    return fmt, tuple(gens)


def shape_of(text: str) -> str:
    import re

    s = re.sub(SLOT + r"\d+" + SLOT, "?", text)
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    s = re.sub(r"--[^\n]*", " ", s)
    s = s.replace("`", "").replace(BRK, " ").lower()
    return " ".join(s.split())


_SAME_CLASS = (("!=", "<>"), (" inner join ", " join "), (" left outer join ", " left join "))
_ONE_ROW = None


def canonical_shape(shape: str) -> str:
    """A shape with the spellings a canonical fingerprint treats as one folded together
    (``!=`` and ``<>``, ``JOIN`` and ``INNER JOIN``, one row of VALUES and many)."""
    global _ONE_ROW
    if _ONE_ROW is None:
        import re

        _ONE_ROW = re.compile(r" values \(\?(?:, \?)*\)")
    for a, b in _SAME_CLASS:
        shape = shape.replace(a, b)
    return _ONE_ROW.sub(" values ?", shape)


class Builder:
    """Builds one random statement template.  Text uses SLOT markers for literals."""

    def __init__(self, rng: random.Random, lit: Literals, tables: list[Table]):
        self.rng, self.lit, self.tables = rng, lit, tables
        self.by_name = {t.name: t for t in tables}
        self.by_db: dict[str, list[Table]] = {}
        for t in tables:
            self.by_db.setdefault(t.db, []).append(t)
        self.gen_cache: dict[tuple[str, str], Callable] = {}

    # -- helpers -----------------------------------------------------------------------------
    def _reset(self) -> None:
        rng = self.rng
        self.slots: list = []
        self.backticks = rng.random() < 0.25
        self.lower = rng.random() < 0.07
        self.multiline = rng.random() < 0.12
        self.in_sep = ", " if rng.random() < 0.4 else ","

    def slot(self, gen: Callable) -> str:
        self.slots.append(gen)
        return f"{SLOT}{len(self.slots) - 1}{SLOT}"

    def colgen(self, table: Table, col: tuple[str, str]) -> Callable:
        key = (table.name, col[0])
        if key not in self.gen_cache:
            self.gen_cache[key] = self.lit.for_type(col[1])
        return self.gen_cache[key]

    def val(self, table: Table, col: tuple[str, str]) -> str:
        return self.slot(self.colgen(table, col))

    def q(self, name: str) -> str:
        return f"`{name}`" if self.backticks else name

    def qc(self, alias: str | None, col: str) -> str:
        return f"{alias}.{self.q(col)}" if alias else self.q(col)

    def kw(self, s: str) -> str:
        return s.lower() if self.lower else s

    def pick(self, seq):
        return seq[int(self.rng.random() * len(seq))]

    def sample(self, seq, k):
        return self.rng.sample(seq, min(k, len(seq)))

    def table(self, db: str | None = None) -> Table:
        return self.pick(self.by_db[db] if db else self.tables)

    def select_list(self, t: Table, alias: str | None, allow_star: bool = True) -> tuple[str, int]:
        if allow_star and self.rng.random() < 0.2:
            return (f"{alias}.*" if alias else "*"), len(t.cols)
        k = 1 + int(self.rng.random() * min(7, len(t.cols)))
        idx = sorted(self.sample(range(len(t.cols)), k))
        return ", ".join(self.qc(alias, t.cols[i][0]) for i in idx), k

    def predicate(self, t: Table, alias: str | None, kinds=("eq", "range", "in", "null")) -> str:
        rng = self.rng
        for attempt in range(30):
            kind = self.pick(kinds) if attempt < 29 else "eq"
            if kind == "eq":
                c = self.pick(t.cols[1:] or t.cols)
                op = "=" if rng.random() < 0.85 else self.pick(("<>", "!="))
                return f"{self.qc(alias, c[0])} {op} {self.val(t, c)}"
            if kind == "range":
                cs = t.of("dt", "date", "int", "money")
                if not cs:
                    continue
                c = self.pick(cs)
                x = rng.random()
                col = self.qc(alias, c[0])
                if x < 0.4:
                    return f"{col} >= {self.val(t, c)}"
                if x < 0.6:
                    return f"{col} < {self.val(t, c)}"
                if x < 0.85:
                    return f"{col} {self.kw('BETWEEN')} {self.val(t, c)} {self.kw('AND')} {self.val(t, c)}"
                return f"{col} >= {self.val(t, c)} {self.kw('AND')} {col} < {self.val(t, c)}"
            if kind == "in":
                cs = t.of("ref", "pk", "enum")
                c = self.pick(cs)
                return (
                    f"{self.qc(alias, c[0])} {self.kw('IN')} "
                    f"({self.slot(self.lit.in_list(self.colgen(t, c), self.in_sep))})"
                )
            if kind == "null":
                cs = t.of("dt", "ref")
                if not cs:
                    continue
                c = self.pick(cs)
                neg = self.kw(" NOT") if rng.random() < 0.4 else ""
                return f"{self.qc(alias, c[0])} {self.kw('IS')}{neg} {self.kw('NULL')}"
            if kind == "like":
                cs = t.of(*self.LIKE_TYPES)
                if not cs:
                    continue
                c = self.pick(cs)
                pool = self.lit.words if c[1] in ("word", "username") else self.lit.lasts
                return f"{self.qc(alias, c[0])} {self.kw('LIKE')} {self.slot(self.lit.like(pool))}"
        raise AssertionError("unreachable")

    LIKE_TYPES = ("first", "last", "product", "company", "word", "email", "text", "city", "username")

    def where(
        self, t: Table, alias: str | None, first: str | None, extra_max: int = 2, kinds=("eq", "range", "in", "null")
    ) -> str:
        preds = [first] if first else []
        for _ in range(int(self.rng.random() * (extra_max + 1))):
            preds.append(self.predicate(t, alias, kinds))
        if not preds:
            preds.append(self.predicate(t, alias, kinds))
        if len(preds) >= 3 and self.rng.random() < 0.2:
            preds = preds[:-2] + [f"({preds[-2]} {self.kw('OR')} {preds[-1]})"]
        return f"{BRK}{self.kw('WHERE')} " + f" {self.kw('AND')} ".join(preds)

    def limit(self) -> str:
        lim = self.slot(self.lit.choice(["10", "20", "25", "50", "100"]))
        if self.rng.random() < 0.25:
            off = self.slot(self.lit.int_range(0, 200))
            if self.rng.random() < 0.5:
                return f"{BRK}{self.kw('LIMIT')} {off}, {lim}"
            return f"{BRK}{self.kw('LIMIT')} {lim} {self.kw('OFFSET')} {off}"
        return f"{BRK}{self.kw('LIMIT')} {lim}"

    def fk_pair(self, db: str) -> tuple[Table, tuple[str, str], Table] | None:
        cands = [(t, c) for t in self.by_db[db] for c in t.of("ref") if self.by_name[c[1].split(":")[1]].db == db]
        if not cands:
            return None
        t, c = self.pick(cands)
        return t, c, self.by_name[c[1].split(":")[1]]

    # -- statement kinds ---------------------------------------------------------------------
    def build(self, kind: str) -> Template:
        self._reset()
        rng, kw, q = self.rng, self.kw, self.q
        db = self.pick(("shop", "shop", "shop", "accounts", "accounts", "analytics"))
        t = self.table(db)
        tname = q(t.name)
        if rng.random() < 0.05:
            tname = f"{q(t.db)}.{q(t.name)}"
        tp = dict(access=A_REF, sent_mu=1.0, exam_ratio=1.0, exam_base=0.0, sort=False, tmp=False)
        ncols = len(t.cols)
        sel = f"{kw('SELECT')} "
        if rng.random() < 0.02:
            sel += "/*+ MAX_EXECUTION_TIME(%d) */ " % (1000 * (1 + int(rng.random() * 10)))
        if kind == "point":
            cols, ncols = self.select_list(t, None)
            text = f"{sel}{cols}{BRK}{kw('FROM')} {tname}{BRK}{kw('WHERE')} {q('id')} = {self.val(t, t.cols[0])}"
            if rng.random() < 0.3:
                text += f" {kw('LIMIT')} 1"
            tp.update(access=A_CONST, zero_p=0.05)
        elif kind == "fk":
            refs = t.of("ref") or t.of("enum") or [t.cols[1]]
            c = self.pick(refs)
            cols, ncols = self.select_list(t, None)
            first = f"{q(c[0])} = {self.val(t, c)}"
            text = f"{sel}{cols}{BRK}{kw('FROM')} {tname}" + self.where(t, None, first, 1)
            if rng.random() < 0.5:
                oc = self.pick(t.of("dt", "pk"))
                text += f"{BRK}{kw('ORDER BY')} {q(oc[0])} {kw('DESC')}"
                tp.update(sort=rng.random() < 0.4)
                if rng.random() < 0.7:
                    text += self.limit()
            tp.update(sent_mu=math.exp(rng.random() * 3.0), sent_sigma=0.9, exam_ratio=1 + rng.random() * 3, zero_p=0.1)
        elif kind == "range":
            cols, ncols = self.select_list(t, None)
            first = self.predicate(t, None, ("range",))
            text = f"{sel}{cols}{BRK}{kw('FROM')} {tname}" + self.where(t, None, first, 2)
            if rng.random() < 0.4:
                text += f"{BRK}{kw('ORDER BY')} {q(self.pick(t.cols)[0])}" + self.limit()
                tp.update(sort=True)
            tp.update(
                sent_mu=math.exp(1 + rng.random() * 4.5), sent_sigma=1.0, exam_ratio=1 + rng.random() * 20, zero_p=0.05
            )
        elif kind in ("join", "subquery"):
            pair = self.fk_pair(db)
            if pair is None:
                return self.build("range")
            a, c, b = pair
            if kind == "join":
                ca, na = self.select_list(a, "a", allow_star=False)
                cb, nb = self.select_list(b, "b", allow_star=False)
                ncols = na + nb
                jt = self.pick(("JOIN", "JOIN", "INNER JOIN", "LEFT JOIN", "LEFT OUTER JOIN"))
                text = (
                    f"{sel}{ca}, {cb}{BRK}{kw('FROM')} {q(a.name)} a{BRK}{kw(jt)} {q(b.name)} b "
                    f"{kw('ON')} b.{q('id')} = a.{q(c[0])}"
                )
                text += self.where(a, "a", None, 1)
                if rng.random() < 0.5:
                    text += f" {kw('AND')} " + self.predicate(b, "b")
                if rng.random() < 0.4:
                    text += f"{BRK}{kw('ORDER BY')} a.{q(self.pick(a.cols)[0])} {kw('DESC')}" + self.limit()
                    tp.update(sort=True, tmp=rng.random() < 0.3)
                tp.update(
                    sent_mu=math.exp(rng.random() * 4), sent_sigma=1.0, exam_ratio=2 + rng.random() * 40, zero_p=0.08
                )
            else:
                cols, ncols = self.select_list(b, None)
                inner = self.where(a, None, None, 1)
                if rng.random() < 0.6:
                    text = (
                        f"{sel}{cols}{BRK}{kw('FROM')} {q(b.name)}{BRK}{kw('WHERE')} {q('id')} {kw('IN')} "
                        f"({kw('SELECT')} {q(c[0])} {kw('FROM')} {q(a.name)}{inner.replace(BRK, ' ')})"
                    )
                else:
                    text = (
                        f"{sel}{cols}{BRK}{kw('FROM')} {q(b.name)} b{BRK}{kw('WHERE')} {kw('EXISTS')} "
                        f"({kw('SELECT')} 1 {kw('FROM')} {q(a.name)} a {kw('WHERE')} a.{q(c[0])} = b.{q('id')}"
                        f" {kw('AND')} " + self.predicate(a, "a") + ")"
                    )
                if rng.random() < 0.5:
                    text += self.limit()
                tp.update(
                    sent_mu=math.exp(rng.random() * 4),
                    sent_sigma=1.0,
                    exam_base=math.exp(7 + rng.random() * 6),
                    access=A_INDEX,
                    tmp=rng.random() < 0.5,
                )
        elif kind == "group":
            gcs = t.of("enum", "ref", "country", "currency", "date", "bool", "word", "city")
            if not gcs:
                return self.build("count")
            g = self.pick(gcs)
            aggs = [f"{kw('COUNT')}(*)"]
            nums = t.of("money", "int", "qty")
            if nums and rng.random() < 0.7:
                n = self.pick(nums)
                aggs.append(f"{kw(self.pick(('SUM', 'AVG', 'MAX', 'MIN')))}({q(n[0])})")
            dts = t.of("dt")
            gexpr = q(g[0])
            if dts and rng.random() < 0.25:
                gexpr = f"{kw('DATE')}({q(dts[0][0])})"
            elif dts and rng.random() < 0.1:
                gexpr = f"{kw('DATE_FORMAT')}({q(dts[0][0])}, '%Y-%m')"
            text = f"{sel}{gexpr}, {', '.join(aggs)}{BRK}{kw('FROM')} {tname}"
            text += self.where(t, None, None, 1)
            text += f"{BRK}{kw('GROUP BY')} {gexpr}"
            if rng.random() < 0.2:
                text += f"{BRK}{kw('HAVING')} {kw('COUNT')}(*) > {self.slot(self.lit.int_range(1, 100))}"
            if rng.random() < 0.5:
                text += f"{BRK}{kw('ORDER BY')} 2 {kw('DESC')}"
                if rng.random() < 0.6:
                    text += self.limit()
            ncols = len(aggs) + 1
            gtype = g[1].split(":")[0]
            card = {
                "enum": len(g[1].split("|")),
                "bool": 2,
                "country": len(COUNTRIES),
                "currency": len(CURRENCIES),
                "city": len(CITIES),
                "word": len(WORDS),
            }.get(gtype, 1 << 30)
            tp.update(
                sent_mu=math.exp(1 + rng.random() * 4),
                sent_sigma=0.5,
                sent_cap=card,
                exam_base=math.exp(8 + rng.random() * 6),
                exam_ratio=0,
                access=A_INDEX,
                sort=True,
                tmp=True,
            )
            if rng.random() < 0.5:
                tp["pool_ro"] = True
        elif kind == "order_limit":
            cols, ncols = self.select_list(t, None)
            oc = self.pick(t.of("dt", "pk", "money", "int") or t.cols)
            desc = rng.random() < 0.7
            text = f"{sel}{cols}{BRK}{kw('FROM')} {tname}"
            if rng.random() < 0.7:
                text += self.where(t, None, None, 1)
            text += f"{BRK}{kw('ORDER BY')} {q(oc[0])}{' ' + kw('DESC') if desc else ''}" + self.limit()
            tp.update(
                sent_mu=20,
                sent_sigma=0.6,
                sent_cap=100,
                exam_base=math.exp(5 + rng.random() * 8),
                exam_ratio=1,
                access=A_INDEX_DESC if desc else A_INDEX,
                sort=rng.random() < 0.5,
            )
        elif kind == "in":
            cols, ncols = self.select_list(t, None)
            c = self.pick(t.of("pk", "ref"))
            first = f"{q(c[0])} {kw('IN')} ({self.slot(self.lit.in_list(self.colgen(t, c), self.in_sep))})"
            text = f"{sel}{cols}{BRK}{kw('FROM')} {tname}" + self.where(t, None, first, 1)
            tp.update(sent_mu=8, sent_sigma=1.0, sent_cap=100, exam_ratio=1.2)
        elif kind == "like":
            if not t.of(*self.LIKE_TYPES):
                return self.build("range")
            cols, ncols = self.select_list(t, None)
            first = self.predicate(t, None, ("like",))
            text = f"{sel}{cols}{BRK}{kw('FROM')} {tname}" + self.where(t, None, first, 1)
            if rng.random() < 0.6:
                text += self.limit()
            tp.update(
                sent_mu=math.exp(rng.random() * 3),
                sent_sigma=1.0,
                exam_base=min(t.rows, math.exp(9 + rng.random() * 5)),
                access=A_SCAN,
                zero_p=0.2,
            )
        elif kind == "count":
            what = self.pick(("COUNT(*)", "COUNT(1)", f"COUNT(DISTINCT {q(self.pick(t.cols)[0])})"))
            text = f"{sel}{kw(what) if '(' in what and 'DISTINCT' not in what else what}{BRK}{kw('FROM')} {tname}"
            text += self.where(t, None, None, 2)
            ncols = 1
            tp.update(sent_mu=1, exam_base=math.exp(4 + rng.random() * 9), exam_ratio=0, access=A_INDEX)
        elif kind in ("insert", "insert_multi", "upsert"):
            cs = [c for c in t.cols[1:]]
            k = max(1, len(cs) - int(rng.random() * 2))
            cs = sorted(self.sample(cs, k), key=t.cols.index)
            collist = ", ".join(q(c[0]) for c in cs)
            verb = kw("INSERT INTO") if rng.random() < 0.93 else kw("INSERT IGNORE INTO")
            head = f"{verb} {tname} ({collist}){BRK}{kw('VALUES')} "
            if kind == "insert_multi":
                sep = ", " if rng.random() < 0.5 else ","
                text = head + self.slot(self.lit.rows([self.colgen(t, c) for c in cs], sep))
            else:
                text = head + "(" + ", ".join(self.val(t, c) for c in cs) + ")"
            if kind == "upsert":
                up = self.sample(cs, 1 + int(rng.random() * 2))
                text += f"{BRK}{kw('ON DUPLICATE KEY UPDATE')} " + ", ".join(
                    f"{q(c[0])} = {kw('VALUES')}({q(c[0])})" for c in up
                )
            tp.update(sent_mu=0, exam_ratio=0, access=A_NONE, insert_table=t.name)
        elif kind in ("update", "update_counter"):
            if kind == "update_counter" and t.of("int", "qty"):
                c = self.pick(t.of("int", "qty"))
                sets = f"{q(c[0])} = {q(c[0])} {self.pick(('+', '-'))} {self.slot(self.lit.int_range(1, 5))}"
            else:
                cs = self.sample(t.cols[1:], 1 + int(rng.random() * 3))
                sets = ", ".join(f"{q(c[0])} = {self.val(t, c)}" for c in cs)
            text = f"{kw('UPDATE')} {tname}{BRK}{kw('SET')} {sets}"
            if rng.random() < 0.75:
                text += f"{BRK}{kw('WHERE')} {q('id')} = {self.val(t, t.cols[0])}"
                tp.update(exam_ratio=0, exam_base=1.0)
            else:
                text += self.where(t, None, None, 1)
                tp.update(exam_ratio=0, exam_base=math.exp(rng.random() * 6))
            tp.update(sent_mu=0, access=A_WRITE_KEY)
        elif kind == "delete":
            text = f"{kw('DELETE FROM')} {tname}"
            if rng.random() < 0.5:
                text += f"{BRK}{kw('WHERE')} {q('id')} = {self.val(t, t.cols[0])}"
                tp.update(exam_ratio=0, exam_base=1.0)
            else:
                dts = t.of("dt", "date")
                if dts:
                    text += f"{BRK}{kw('WHERE')} {q(dts[0][0])} < {self.val(t, dts[0])}"
                    text += f"{BRK}{kw('LIMIT')} {self.slot(self.lit.choice(['500', '1000', '5000', '10000']))}"
                else:
                    text += self.where(t, None, None, 1)
                tp.update(exam_ratio=0, exam_base=math.exp(2 + rng.random() * 7))
            tp.update(sent_mu=0, access=A_WRITE_KEY)
        elif kind == "for_update":
            cols, ncols = self.select_list(t, None)
            text = (
                f"{sel}{cols}{BRK}{kw('FROM')} {tname}{BRK}{kw('WHERE')} {q('id')} = "
                f"{self.val(t, t.cols[0])}{BRK}{kw(self.pick(('FOR UPDATE', 'FOR UPDATE', 'FOR SHARE')))}"
            )
            tp.update(access=A_CONST)
        else:  # pragma: no cover
            raise ValueError(kind)

        # comments: application tag in front, or sqlcommenter tags (with a per-event trace id)
        x = rng.random()
        if x < 0.05:
            svc = self.pick(
                {
                    "shop": ("checkout", "catalog", "billing", "reports"),
                    "accounts": ("auth", "identity"),
                    "analytics": ("tracking", "reports"),
                }[db]
            )
            text = f"/* {svc}-service */ " + text
        elif x < 0.12:
            ctl = self.pick(("orders", "users", "products", "carts", "sessions", "reports"))
            act = self.pick(("index", "show", "create", "update", "destroy"))
            fw = self.pick(("django%3A4.2.11", "rails%3A7.1", "spring%3A6.1"))
            tag = (
                f" /*action='{act}',controller='{ctl}',framework='{fw}',"
                f"traceparent='00-{self.slot(self.lit.traceparent())}-01'*/"
            )
            text = text + tag
        elif x < 0.14 and self.multiline:
            text = f"-- {self.pick(('report', 'batch', 'cron'))}: {self.pick(WORDS)}\n" + text

        if self.multiline:
            indent = self.pick(("\n", "\n  ", "\n    ", "\n\t"))
            text = text.replace(BRK, indent)
        else:
            text = text.replace(BRK, " ")

        tp["exam_base"] = min(tp["exam_base"], float(t.rows))
        fmt, gens = compile_text(text, self.slots)
        base_us, sigma = KIND_PROFILE[kind]
        pool = RW_POOL_FOR_DB[db]
        if tp.pop("pool_ro", False) or (kind in ("group", "count", "like") and rng.random() < 0.5):
            pool = RO_POOL_FOR_DB[db]
        row_bytes = 8 + 12 * ncols
        return Template(
            kind=kind,
            db=db,
            pool=pool,
            fmt=fmt,
            gens=gens,
            shape=f"{db}:{shape_of(text)}",
            qt_us=base_us * math.exp(0.8 * self.normal()),
            sigma=sigma,
            lock_us=(8 + 60 * rng.random()) if kind in WRITE_KINDS or kind == "for_update" else 2 + 20 * rng.random(),
            sent_mu=tp["sent_mu"],
            sent_sigma=tp.get("sent_sigma", 0.0),
            sent_cap=tp.get("sent_cap", 1 << 30),
            zero_p=tp.get("zero_p", 0.0),
            exam_ratio=tp["exam_ratio"],
            exam_base=tp["exam_base"],
            access=tp["access"],
            sort=tp["sort"],
            tmp=tp["tmp"],
            row_bytes=row_bytes,
            meta_bytes=11 if tp["sent_mu"] == 0 else 60 + 45 * ncols,
            insert_table=tp.get("insert_table"),
        )

    def normal(self) -> float:
        # Box-Muller from random(): stable across Python versions
        u1 = 1.0 - self.rng.random()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * self.rng.random())


def special_templates(lit: Literals, tables: list[Table]) -> list[Template]:
    """Driver chatter, transactions, administrator commands, SHOW and monitoring statements,
    with fixed shares of all events (they are not ranked by the Zipf law)."""
    var_names = lit.choice(
        [
            "'max_connections'",
            "'innodb_buffer_pool_size'",
            "'read_only'",
            "'version'",
            "'long_query_time'",
            "'%timeout%'",
        ]
    )
    autocommit = lit.choice(["0", "1"])
    big = [t for t in tables if t.name in ("orders", "customers", "products", "users")]
    # (text, kind, share, pool, sent_mu, exam_base, admin)
    specs: list[tuple] = [
        ("BEGIN", "txn", 0.012, "rw", 0, 0, False),
        ("COMMIT", "commit", 0.011, "rw", 0, 0, False),
        ("Quit", "admin", 0.006, "any", 0, 0, True),
        ("SELECT 1", "driver", 0.004, "rw", 1, 0, False),
        ("SELECT @@session.transaction_read_only", "driver", 0.003, "rw", 1, 0, False),
        ("SET autocommit=%s", "driver", 0.0015, "rw", 0, 0, False),
        ("ROLLBACK", "txn", 0.0008, "rw", 0, 0, False),
        ("SET NAMES utf8mb4", "driver", 0.001, "rw", 0, 0, False),
        ("SHOW GLOBAL STATUS", "show", 0.0004, "monitor", 480, 480, False),
        (
            "SELECT EVENT_NAME, COUNT_STAR, SUM_TIMER_WAIT FROM performance_schema."
            "events_statements_summary_global_by_event_name WHERE COUNT_STAR > 0",
            "show",
            0.0003,
            "monitor",
            120,
            1300,
            False,
        ),
        ("SHOW GLOBAL VARIABLES LIKE %s", "show", 0.0003, "monitor", 1, 640, False),
        ("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", "driver", 0.0005, "rw", 0, 0, False),
        ("SHOW ENGINE INNODB STATUS", "show", 0.0002, "monitor", 1, 0, False),
        ("SHOW FULL PROCESSLIST", "show", 0.0002, "monitor", 60, 60, False),
        ("SHOW REPLICA STATUS", "show", 0.0002, "monitor", 1, 0, False),
        ("SHOW WARNINGS", "show", 0.0001, "admin", 1, 0, False),
        ("SHOW DATABASES", "show", 0.00005, "admin", 6, 6, False),
        ("Ping", "admin", 0.0003, "monitor", 0, 0, True),
    ]
    for t in big[:3]:
        specs.append((f"SHOW CREATE TABLE `{t.name}`", "show", 0.00003, "admin", 1, 0, False))
        specs.append((f"SHOW INDEX FROM `{t.name}`", "show", 0.00003, "admin", 5, 5, False))
    for t in big[:2]:
        specs.append(
            (f"SELECT /*!40001 SQL_NO_CACHE */ * FROM `{t.name}`", "dump", 0.000002, "admin", t.rows, t.rows, False)
        )
    out = []
    for text, kind, share, pool, sent, exam, admin in specs:
        gens: tuple = ()
        if "%s" in text:
            gens = (autocommit,) if "autocommit" in text else (var_names,)
        base_us, sigma = KIND_PROFILE[kind]
        out.append(
            Template(
                kind=kind,
                db=None,
                pool=pool,
                fmt=("# administrator command: " + text) if admin else text,
                gens=gens,
                shape="special:" + text.lower(),
                qt_us=base_us,
                sigma=sigma,
                lock_us=0 if admin else 1,
                sent_mu=sent,
                sent_sigma=0.2 if sent > 1 else 0.0,
                exam_ratio=0,
                exam_base=exam,
                access=A_SCAN if exam else A_NONE,
                row_bytes=60,
                meta_bytes=11 if sent == 0 else 150,
                admin=admin,
                weight=share,
            )
        )
    return out


def build_templates(n_templates: int, seed: int, lit: Literals, canonical_shapes: bool = False) -> list[Template]:
    """``canonical_shapes``: two templates whose statements differ only in ways a canonical
    fingerprint ignores (``!=`` and ``<>``, ``JOIN`` and ``INNER JOIN``, ...) are one shape, so
    the log has one class per shape whatever the spelling (--spellings)."""
    rng = random.Random(seed * 1_000_003 + 17)
    tables = load_schema()
    specials = special_templates(lit, tables)
    if n_templates < 2 * len(specials):
        specials = specials[: max(0, n_templates // 2)]
    n_regular = n_templates - len(specials)
    builder = Builder(rng, lit, tables)
    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    seen: set[str] = set()
    regular: list[Template] = []
    attempts = 0
    while len(regular) < n_regular:
        attempts += 1
        if attempts > 200 * n_regular + 1000:
            raise RuntimeError(f"could not build {n_regular} distinct templates")
        tp = builder.build(kinds[int(rng.random() * len(kinds))])
        if canonical_shapes:
            tp.shape = canonical_shape(tp.shape)
        if tp.shape in seen:
            continue
        seen.add(tp.shape)
        regular.append(tp)
    # Zipf-like weights: regular template at (shuffled) rank k gets 1/k^1.05 of the regular share
    rng.shuffle(regular)
    special_share = sum(t.weight for t in specials)
    h = sum(1.0 / (k**1.05) for k in range(1, len(regular) + 1)) or 1.0
    for k, tp in enumerate(regular, start=1):
        tp.weight = (1.0 - special_share) / (k**1.05) / h
    return regular + specials


# ---------------------------------------------------------------------------------------------
# Many spellings (--spellings): each event writes its template's statement in a spelling of its
# own, the way different drivers, ORMs, people and versions of one application write the same
# query.  Every spelling keeps the statement's canonical class (keywords in any case, any layout,
# comments, hints and version comments, backticks, "AS" or not before an alias, literal forms).
# ---------------------------------------------------------------------------------------------
SPELL_KEYWORDS = frozenset(
    "SELECT FROM WHERE AND OR IN IS NOT NULL BETWEEN LIKE ORDER BY GROUP HAVING LIMIT OFFSET DESC ASC "
    "JOIN INNER LEFT OUTER ON EXISTS COUNT SUM AVG MAX MIN DATE DATE_FORMAT INSERT INTO IGNORE VALUES "
    "DUPLICATE KEY UPDATE SET DELETE FOR SHARE DISTINCT AS".split()
)
# Keywords a pretty-printed statement starts a new line with.
CLAUSE_KEYWORDS = frozenset("FROM WHERE GROUP ORDER HAVING LIMIT VALUES JOIN INNER LEFT".split())
_SPELL_TOKEN = None  # compiled on first use


def _spell_token_re():
    global _SPELL_TOKEN
    if _SPELL_TOKEN is None:
        import re

        _SPELL_TOKEN = re.compile(
            r"(?P<slot>%s)|(?P<pct>%%)|(?P<block>/\*.*?\*/)|(?P<line>--[^\n]*\n)|(?P<bq>`[^`]*`)"
            r"|(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_$]*)"
            r"|(?P<ws>\s+)|(?P<op><>|!=|>=|<=|.)",
            re.S,
        )
    return _SPELL_TOKEN


def spell_tokens(fmt: str, has_gens: bool) -> list[tuple[str, str, int]]:
    """A template's statement as tokens: (kind, text, slots consumed by a comment).

    Kinds: ``kw`` (a keyword whose case may vary), ``id`` (an identifier, as written or in
    backticks), ``alias`` (a table alias, "AS" optional), ``slot`` (a literal of the event),
    ``limit`` (a LIMIT/OFFSET literal: plain digits), ``lit`` (a fixed literal), ``ws``, ``op``,
    ``comment`` (kept as written, with the slots inside it) and ``line`` (a "-- " comment line).
    """
    tokens: list[tuple[str, str, int]] = []
    text = fmt if has_gens else fmt.replace("%", "%%")
    for m in _spell_token_re().finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind == "pct":
            kind, value = "op", "%"
        elif kind == "block":
            slots = value.count("%s")
            tokens.append(("comment", value if slots else value.replace("%%", "%"), slots))
            continue
        elif kind == "bq":
            kind, value = "id", value[1:-1]
        elif kind == "word":
            kind = "kw" if value.upper() in SPELL_KEYWORDS else "id"
        elif kind in ("str", "num", "line"):
            kind = "lit" if kind != "line" else kind
            value = value.replace("%%", "%")
        tokens.append((kind, value, 0))
    # A table alias: an identifier after a table name (FROM orders a, JOIN customers b).
    for i in range(2, len(tokens)):
        kind, value, _ = tokens[i]
        after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if (
            kind == "id"
            and value in ("a", "b")
            and tokens[i - 1][0] == "ws"
            and tokens[i - 2][0] == "id"
            and after != "."
        ):
            tokens[i] = ("alias", value, 0)
    # LIMIT and OFFSET values stay plain digits (MySQL accepts no other form there).
    for i, (kind, value, n) in enumerate(tokens):
        if kind == "slot":
            before = [t for t in tokens[:i] if t[0] not in ("ws", "comment", "line")][-3:]
            after_keyword = bool(before) and before[-1][0] == "kw" and before[-1][1].upper() in ("LIMIT", "OFFSET")
            count_after_offset = len(before) == 3 and before[-1][1] == "," and before[-2][0] == "limit"
            if after_keyword or count_after_offset:  # LIMIT n, LIMIT offset, n, OFFSET n
                tokens[i] = ("limit", value, n)
    return tokens


_HINTS = ("MAX_EXECUTION_TIME(%d)", "NO_INDEX_MERGE()", "BKA()", "SET_VAR(sort_buffer_size = %d)")
_VERSION_COMMENTS = ("/*!40001 SQL_NO_CACHE */", "/*!80000 SQL_BUFFER_RESULT */")
_SERVICES = ("checkout", "catalog", "billing", "reports", "auth", "tracking", "admin-ui", "cron")


def _spell_number(text: str, r: Callable[[], float], negative_ok: bool) -> str:
    x = r()
    if x < 0.55:
        return text
    if x < 0.65 and negative_ok:
        return "-" + text
    if "." in text:  # a decimal: another way to write it
        whole, _, frac = text.partition(".")
        if x < 0.8:
            return text + "0"
        return f"{whole}{frac}e-{len(frac)}"
    if x < 0.75:
        return text + ".0"
    if x < 0.83:
        return text + "e0"
    if x < 0.95:
        return "0x%X" % int(text)
    return text + ".00"


def _spell_string(text: str, r: Callable[[], float]) -> str:
    x = r()
    if x < 0.5:
        return text
    body = text[1:-1]
    if x < 0.7:
        return '"' + body.replace("\\'", "'").replace('"', '\\"') + '"'
    if x < 0.78:
        return "'" + body.replace("\\'", "''") + "'"
    if x < 0.88:
        return "_utf8mb4" + text
    if x < 0.95:
        return "N" + text
    return "_binary" + text


def _spell_value(value: object, r: Callable[[], float], negative_ok: bool) -> str:
    text = str(value)
    if text[:1] == "'":
        return _spell_string(text, r)
    if text[:1].isdigit():
        return _spell_number(text, r, negative_ok)
    return text


class Speller:
    """Writes a template's tokens in one of its spellings (one ``spell()`` call per event).

    A spelling profile (an integer, see ``profiles``) fixes what one client always does the
    same way: keyword case, layout, backticks, "AS" before aliases, spaces around "=", inside
    parentheses and after commas.  What differs from event to event: comments and their text,
    optimizer hints, version comments, literal forms (negative, decimal, exponent, hex, double
    quotes, doubled quotes, charset introducers), IN list and VALUES lengths, runs of blanks.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.r = rng.random
        self.getrandbits = rng.getrandbits

    def profiles(self) -> list[int]:
        """The spelling profiles of one template: 1 to 12 clients writing it."""
        return [self.getrandbits(32) for _ in range(1 + int(self.r() ** 2 * 12))]

    @staticmethod
    def _bits(profile: int, i: int) -> int:
        """Two bits of a per-token choice a profile makes the same way every time."""
        return ((profile * (2 * i + 1) * 2654435761) >> 13) & 3

    def _case(self, word: str, style: int, profile: int, i: int) -> str:
        if style == 3:
            style = min(2, self._bits(profile, i))
        if style == 0:
            return word.upper()
        if style == 1:
            return word.lower()
        return word.capitalize()

    def _blank(self) -> str:
        x = self.r()
        return " " if x < 0.5 else "  " if x < 0.7 else "\t" if x < 0.8 else " \t " if x < 0.9 else "   "

    def spell(self, tokens: list[tuple[str, str, int]], values: tuple, profile: int) -> str:
        r = self.r
        case = profile & 3  # upper, lower, capitalised, mixed
        layout = (0, 0, 1, 2)[(profile >> 2) & 3]  # flat, pretty, sloppy
        quote = (profile >> 4) & 3  # no backticks, none, some, all
        use_as = (profile >> 6) & 1
        list_sep = (",", ", ")[(profile >> 7) & 1]
        tight_eq = layout == 2 and (profile >> 8) & 1
        padded = layout == 2 and (profile >> 9) & 1
        sloppy_sep = (",", ", ", " , ", ",  ")[(profile >> 10) & 3]
        sep = sloppy_sep if layout == 2 else list_sep
        out: list[str] = []
        if r() < 0.3:  # a leading comment whose text differs from event to event
            x = r()
            if x < 0.4:
                out.append("/* %s request %08x */ " % (_SERVICES[int(r() * len(_SERVICES))], self.getrandbits(32)))
            elif x < 0.7:
                out.append("-- job %d, attempt %d\n" % (int(r() * 100000), 1 + int(r() * 3)))
            else:
                out.append(
                    "/* ApplicationName=DBeaver 23.%d.%d - SQLEditor <Script-%d.sql> */ "
                    % (int(r() * 4), int(r() * 5), int(r() * 60))
                )
        if layout == 2 and r() < 0.3:
            out.append(" " * (1 + int(r() * 3)))
        vi = 0
        first_keyword = True
        n = len(tokens)
        for i, (kind, text, slots) in enumerate(tokens):
            if kind == "kw":
                out.append(self._case(text, case, profile, i))
                if first_keyword:
                    first_keyword = False
                    if text.upper() == "SELECT":
                        x = r()
                        if x < 0.12 and "/*+" not in "".join(t[1] for t in tokens[i + 1 : i + 4]):
                            hint = _HINTS[int(r() * len(_HINTS))]
                            out.append(" /*+ %s */" % (hint % (1000 * (1 + int(r() * 30))) if "%d" in hint else hint))
                        elif x < 0.2:
                            out.append(" " + _VERSION_COMMENTS[int(r() * len(_VERSION_COMMENTS))])
            elif kind == "id":
                quoted = quote == 3 or (quote == 2 and self._bits(profile, i) & 1)
                out.append(f"`{text}`" if quoted else text)
            elif kind == "alias":
                if use_as:
                    out.append(self._case("AS", case, profile, i) + " ")
                out.append(f"`{text}`" if quote == 3 else text)
            elif kind == "ws":
                following = tokens[i + 1] if i + 1 < n else None
                if layout == 1 and following is not None and following[0] == "kw":
                    word = following[1].upper()
                    previous = tokens[i - 1][1].upper() if i else ""
                    if (word in CLAUSE_KEYWORDS and previous not in ("INNER", "LEFT", "OUTER")) or (
                        word == "SET" and previous != "KEY"
                    ):
                        out.append("\n  ")
                        continue
                if layout == 2:
                    if tight_eq and (
                        (i and tokens[i - 1][1] == "=" and following is not None and following[0] in ("id", "slot"))
                        or (following is not None and following[1] == "=" and tokens[i - 1][0] in ("id", "slot"))
                    ):
                        continue  # "a=1"
                    out.append(self._blank())
                elif "\n" in text and layout == 1:
                    out.append(text)
                else:
                    out.append(" ")
            elif kind == "op":
                if padded and text == "(":
                    out.append("( ")
                elif padded and text == ")":
                    out.append(" )")
                elif text == "," and layout == 2:
                    out.append(sloppy_sep)
                else:
                    out.append(text)
            elif kind == "slot" or kind == "limit":
                value = values[vi]
                vi += 1
                if kind == "limit":
                    out.append(str(value))
                elif isinstance(value, Rows):
                    rows = ["(" + sep.join([_spell_value(v, r, True) for v in row]) + ")" for row in value]
                    out.append(sep.join(rows))
                elif isinstance(value, InList):
                    out.append(sep.join([_spell_value(v, r, True) for v in value]))
                else:
                    previous = next((t for t in reversed(tokens[:i]) if t[0] != "ws"), ("", "", 0))
                    compared = previous[0] == "op" and previous[1] in ("=", "<", ">", "<=", ">=", "<>", "!=")
                    out.append(_spell_value(value, r, compared))
            elif kind == "comment":
                if slots:
                    text = text % tuple(values[vi : vi + slots])
                    vi += slots
                out.append(text)
            else:  # lit, line
                out.append(text)
        if r() < 0.2:  # a trailing comment
            out.append(" /* %s */" % ("retry %d" % int(r() * 5) if r() < 0.5 else "%016x" % self.getrandbits(64)))
        if layout == 2 and r() < 0.3:
            out.append(" " * (1 + int(r() * 2)))
        return "".join(out)


# ---------------------------------------------------------------------------------------------
# Event loop
# ---------------------------------------------------------------------------------------------
def make_connections(rng: random.Random) -> tuple[dict[str, list[list]], int]:
    """Connections are lists [user_host, thread_id, db]; returns pools and the next thread id."""
    pools: dict[str, list[list]] = {}
    tid = 8 + int(rng.random() * 40)
    for name, user, host, ips, n, db in POOLS:
        conns = []
        for i in range(n):
            ip = ips[i % len(ips)]
            uh = f"{user}[{user}] @ {host} [{ip}]"
            conns.append([uh, tid, db])
            tid += 1 + int(rng.random() * 3)
        pools[name] = conns
    return pools, tid


def iso_prefix(sec: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))


def generate(
    out: TextIO,
    events: int,
    seed: int = 1,
    templates: int = 2000,
    extra: bool = False,
    start: str = DEFAULT_START,
    hours: float = 3.0,
    inject: float = 0.0,
    truth: dict | None = None,
    spellings: bool = False,
    record_templates: bool = False,
    template_seed: int | None = None,
) -> int:
    """Write the banner and ``events`` events to ``out``; return the number of characters written.

    ``inject``: the share of statements that carry forged event headers (see the module
    docstring).  ``truth``, when given, is filled with what a correct reader must find:
    ``events``, ``query_time_us`` (the sum of Query_time in microseconds), ``users`` (events per
    user), ``injected`` (how many statements carry forged headers), ``variants`` (how many of
    each kind) and ``injected_statements`` (their text, as a reader reports it).

    ``spellings``: every event writes its statement in a spelling of its own (``Speller``; the
    server's special statements stay as they are).  ``record_templates`` adds to ``truth`` the
    template of every event (``templates``, one index per event, administrator commands
    included) and each template's ``shapes`` and ``kinds``.
    """
    start_epoch = _utc_epoch(start)
    lit_rng = random.Random(seed)
    lit = Literals(lit_rng, start_epoch, structured=spellings)
    # template_seed: the statements of the application (hosts of one fleet share them; default: seed)
    tps = build_templates(templates, seed if template_seed is None else template_seed, lit, canonical_shapes=spellings)
    speller = Speller(random.Random(seed * 19 + 7)) if spellings else None
    if spellings:
        for tp in tps:
            if not tp.shape.startswith("special:"):
                tp.tokens = spell_tokens(tp.fmt, bool(tp.gens))
                tp.profiles = speller.profiles()  # type: ignore[union-attr]
    index_of = {id(tp): i for i, tp in enumerate(tps)}
    per_event: list[int] | None = [] if truth is not None and record_templates else None
    rng = lit_rng  # literals and event attributes share the event stream
    r = rng.random
    pools, next_tid = make_connections(random.Random(seed * 31 + 5))
    rw_conns = pools["shop_rw"] + pools["acct_rw"] + pools["an_rw"]
    any_conns = [c for p in pools.values() for c in p]
    for tp in tps:
        tp.conns = rw_conns if tp.pool == "rw" else any_conns if tp.pool == "any" else pools[tp.pool]
    cum = []
    acc = 0.0
    for tp in tps:
        acc += tp.weight
        cum.append(acc)
    total_w = acc
    auto_inc = {name: rows + 1 for name, rows in TABLE_ROWS.items()}

    # 64k standard normal deviates (Box-Muller on random()): per-event noise by lookup
    nrng = random.Random(seed * 7 + 3)
    normals = []
    for _ in range(32768):
        u1, u2 = 1.0 - nrng.random(), nrng.random()
        rad = math.sqrt(-2.0 * math.log(u1))
        normals.append(rad * math.cos(2 * math.pi * u2))
        normals.append(rad * math.sin(2 * math.pi * u2))
    exp_ = math.exp
    log_ = math.log
    bisect_ = bisect.bisect_right
    getbits = rng.getrandbits
    xr = random.Random(seed * 13 + 11).random  # --extra counters: own stream, so --extra changes nothing else
    ir = random.Random(seed * 17 + 29).random  # --inject-headers: own stream too
    if truth is not None:
        truth.update(events=events, query_time_us=0, users={}, injected=0, variants={}, injected_statements=[])
        if per_event is not None:
            truth.update(templates=per_event, shapes=[tp.shape for tp in tps], kinds=[tp.kind for tp in tps])

    t_us = start_epoch * 1_000_000
    mean_gap = hours * 3600e6 / max(events, 1)
    last_db = None
    iso_cache: dict[int, str] = {}
    written = 0
    buf: list[str] = []
    out.write(BANNER)
    written += len(BANNER)
    head_fmt = "# Time: %s.%06dZ\n# User@Host: %s  Id: %5d\n# Query_time: %.6f  Lock_time: %.6f Rows_sent: %d  Rows_examined: %d"
    extra_fmt = (
        " Thread_id: %d Errno: %d Killed: %d Bytes_received: 0 Bytes_sent: %d Read_first: %d Read_last: %d"
        " Read_key: %d Read_next: %d Read_prev: %d Read_rnd: %d Read_rnd_next: %d"
        " Sort_merge_passes: %d Sort_range_count: %d Sort_rows: %d Sort_scan_count: %d"
        " Created_tmp_disk_tables: %d Created_tmp_tables: %d Start: %s.%06dZ End: %s.%06dZ"
    )

    for _ in range(events):
        t_us += int(-log_(1.0 - r()) * mean_gap)
        tp = tps[bisect_(cum, r() * total_w)]
        conns = tp.conns
        conn = conns[int(r() * len(conns))]
        z = normals[getbits(16)]
        qt = tp.qt_us * exp_(tp.sigma * z)
        if r() < 0.003:  # long tail: Pareto(alpha=1.25) multiplier
            qt *= (1.0 - r()) ** -0.8
        qt_us = int(qt) + 1
        lock_us = 0
        errno = 0
        kind = tp.kind
        if not tp.admin:
            lock_us = int(tp.lock_us * exp_(0.4 * normals[getbits(16)])) + 1
            if kind in WRITE_KINDS or kind == "for_update":
                x = r()
                if x < 0.004:  # row lock wait
                    wait = min(int(1000 * (1.0 - r()) ** -1.5), 50_000_000)
                    qt_us += wait
                    lock_us += wait
                    if wait >= 50_000_000:
                        errno = 1205
                elif x < 0.0045:
                    errno = 1213 if kind != "insert" else 1062
        if qt_us > 3_600_000_000:
            qt_us = 3_600_000_000
        if lock_us > qt_us:
            lock_us = qt_us
        # rows
        sent = 0
        if tp.sent_mu:
            if tp.zero_p and r() < tp.zero_p:
                sent = 0
            elif tp.sent_sigma:
                sent = int(tp.sent_mu * exp_(tp.sent_sigma * normals[getbits(16)])) + 1
                if sent > tp.sent_cap:
                    sent = tp.sent_cap
            else:
                sent = int(tp.sent_mu)
        exam = int(sent * tp.exam_ratio)
        if tp.exam_base:
            exam += int(tp.exam_base * exp_(0.5 * z)) if tp.exam_base > 1 else 1
        if errno:
            sent = 0
        end_us = t_us
        start_us = end_us - qt_us
        sec = end_us // 1_000_000
        pre = iso_cache.get(sec)
        if pre is None:
            pre = iso_cache[sec] = iso_prefix(sec)
        head = head_fmt % (pre, end_us % 1_000_000, conn[0], conn[1], qt_us / 1e6, lock_us / 1e6, sent, exam)
        if extra:
            ssec = start_us // 1_000_000
            spre = iso_cache.get(ssec)
            if spre is None:
                spre = iso_cache[ssec] = iso_prefix(ssec)
            head += extra_fmt % (
                (conn[1], errno, 0, bytes_sent(tp, sent, errno))
                + handler_counts(tp, sent, exam, xr)
                + (spre, start_us % 1_000_000, pre, end_us % 1_000_000)
            )
        db = conn[2]
        if db is not None and db != last_db:
            head += "\nuse %s;" % db
            last_db = db
        if tp.insert_table and not errno:
            ai = auto_inc[tp.insert_table]
            auto_inc[tp.insert_table] = ai + 1 + int(r() * 3)
            head += "\nSET insert_id=%d,timestamp=%d;\n" % (ai, start_us // 1_000_000)
        else:
            head += "\nSET timestamp=%d;\n" % (start_us // 1_000_000)
        gens = tp.gens
        if tp.tokens is not None:
            profiles = tp.profiles
            profile = profiles[int(speller.r() * len(profiles))]  # type: ignore[union-attr]  # its own stream
            stmt = speller.spell(tp.tokens, tuple([g() for g in gens]), profile)  # type: ignore[union-attr]
        elif gens:
            stmt = tp.fmt % tuple([g() for g in gens])
        else:
            stmt = tp.fmt
        if inject and not tp.admin and ir() < inject:
            stmt, variant = forge_headers(stmt, ir, pre, start_us // 1_000_000)
            if truth is not None:
                truth["injected"] += 1
                truth["variants"][variant] = truth["variants"].get(variant, 0) + 1
                truth["injected_statements"].append(stmt)
        if per_event is not None:
            per_event.append(index_of[id(tp)])
        if truth is not None:
            truth["query_time_us"] += qt_us
            user = conn[0].split("[", 1)[0]
            truth["users"][user] = truth["users"].get(user, 0) + 1
        buf.append(head + stmt + ";\n")
        if tp.admin and tp.fmt.endswith("Quit"):
            conn[1] = next_tid  # the session ended; the pool reconnects with a new thread id
            next_tid += 1 + int(r() * 3)
        if len(buf) >= 2048:
            s = "".join(buf)
            out.write(s)
            written += len(s)
            buf.clear()
    if buf:
        s = "".join(buf)
        out.write(s)
        written += len(s)
    return written


FORGED_KINDS = ("mysql", "mariadb", "admin", "lone")
FORGED_PLACES = ("single", "double", "backtick", "comment", "dashdash")
LINE_ENDS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def forged_header(kind: str, iso: str, ts: int) -> list[str]:
    """The lines of a forged event header of ``kind``, with no quote of any kind in them."""
    lines = [f"# Time: {iso}.000000Z", "# User@Host: evil[evil] @  [6.6.6.6]  Id:   666"]
    if kind == "lone":
        return lines[1:]
    if kind == "mariadb":
        lines.append("# Thread_id: 666  Schema: evil  QC_hit: No")
    lines.append("# Query_time: 99.000000  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0")
    if kind == "admin":
        return lines + ["# administrator command: Quit;"]
    return lines + [f"SET timestamp={ts};", "SELECT * FROM evil.secrets;"]


def _first_literal(stmt: str) -> tuple[int, int] | None:
    """(start, end) of the first '...' literal outside /* */ comments, or None."""
    i = 0
    while True:
        quote, comment = stmt.find("'", i), stmt.find("/*", i)
        if quote < 0:
            return None
        if 0 <= comment < quote:
            close = stmt.find("*/", comment + 2)
            if close < 0:
                return None
            i = close + 2
            continue
        j = quote + 1
        while j < len(stmt):
            if stmt[j] == "\\":
                j += 2
            elif stmt[j] == "'":
                return quote, j
            else:
                j += 1
        return None


def forge_headers(stmt: str, rnd: Callable[[], float], iso: str, ts: int) -> tuple[str, str]:
    """``stmt`` with a forged event header inside it; returns (statement, variant name).

    Inside a literal, identifier or comment the forged header follows a line ending in ";", as
    a real one follows a statement; after a "--" comment it is made of "#" comment lines that
    follow a line without ";" (both are SQL comments, so the statement stays valid).
    """
    kind = FORGED_KINDS[int(rnd() * len(FORGED_KINDS))]
    place = FORGED_PLACES[int(rnd() * len(FORGED_PLACES))]
    ending = ("lf", "crlf", "cr")[int(rnd() * 3)]
    nl = LINE_ENDS[ending]
    header = forged_header(kind, iso, ts)
    literal = _first_literal(stmt)
    if place in ("single", "double") and literal is None:
        place = "comment"
    if place == "backtick" and stmt[:7].upper() != "SELECT ":
        place = "comment"
    if place == "double" and literal is not None and '"' in stmt[literal[0] : literal[1]]:
        place = "single"
    if place == "dashdash":
        # "#" lines only: a "SET timestamp" or statement line would be SQL outside the comment
        header = [line for line in header if line.startswith("#") and not line.startswith("# admin")]
        return "-- search form" + nl + nl.join(header) + nl + stmt, f"{place}-{kind}-{ending}"
    forged = "search;" + nl + nl.join(header) + nl
    if place == "single":
        a, _ = literal  # type: ignore[misc]
        stmt = stmt[: a + 1] + forged + stmt[a + 1 :]
    elif place == "double":
        a, b = literal  # type: ignore[misc]
        stmt = stmt[:a] + '"' + forged + stmt[a + 1 : b] + '"' + stmt[b + 1 :]
    elif place == "backtick":
        stmt = stmt[:7] + "1 AS `" + forged + "`, " + stmt[7:]
    else:
        stmt = "/* " + forged + " */ " + stmt
    return stmt, f"{place}-{kind}-{ending}"


def _utc_epoch(iso: str) -> int:
    import calendar

    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%S"))


def bytes_sent(tp: Template, sent: int, errno: int) -> int:
    if errno:
        return 60
    if tp.sent_mu == 0:
        return tp.meta_bytes
    return tp.meta_bytes + sent * tp.row_bytes


def handler_counts(tp: Template, sent: int, exam: int, r: Callable[[], float]) -> tuple:
    """(Read_first, Read_last, Read_key, Read_next, Read_prev, Read_rnd, Read_rnd_next,
    Sort_merge_passes, Sort_range_count, Sort_rows, Sort_scan_count, Created_tmp_disk_tables,
    Created_tmp_tables) consistent with the template's access path."""
    a = tp.access
    rf = rl = rk = rn = rp = rr = rrn = 0
    if a == A_CONST:
        rk = 1
    elif a == A_REF or a == A_WRITE_KEY:
        rk = 1 if exam else 0
        rn = exam - 1 if exam > 1 else 0
        if a == A_WRITE_KEY:
            rk, rn = exam, 0
    elif a == A_INDEX:
        rf, rn = 1, exam
    elif a == A_INDEX_DESC:
        rl, rp = 1, exam
    elif a == A_SCAN:
        rrn = exam + 1
    smp = srange = srows = sscan = 0
    if tp.sort:
        srows = sent
        if a == A_SCAN or a == A_INDEX:
            sscan = 1
        else:
            srange = 1
        if exam > 200_000:
            smp = 1 + int(r() * 4)
        rr = sent
    disk = tmpt = 0
    if tp.tmp:
        tmpt = 1
        if exam > 500_000 and r() < 0.3:
            disk = 1
    return (rf, rl, rk, rn, rp, rr, rrn, smp, srange, srows, sscan, disk, tmpt)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def open_output(path: str) -> TextIO:
    if path == "-":
        return io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n", write_through=False)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix == ".gz":
        raw = open(p, "wb")
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
        gz._mqa_raw = raw  # type: ignore[attr-defined]
        return io.TextIOWrapper(gz, encoding="utf-8", newline="\n")
    if p.suffix == ".bz2":
        return io.TextIOWrapper(bz2.open(p, "wb"), encoding="utf-8", newline="\n")
    if p.suffix == ".zst":
        import zstandard  # optional; the project depends on it

        fh = zstandard.ZstdCompressor(level=3).stream_writer(open(p, "wb"), closefd=True)
        return io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
    return open(p, "w", encoding="utf-8", newline="\n", buffering=1 << 20)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate a deterministic, realistic MySQL 8.0 slow query log.")
    ap.add_argument("--events", type=int, default=1_000_000, help="number of events (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--output", "-o", default="-", help="output file ('-' = stdout; .gz/.bz2/.zst compress)")
    ap.add_argument("--templates", type=int, default=2000, help="distinct statement shapes (default 2000)")
    ap.add_argument("--extra", action="store_true", help="log_slow_extra=ON fields on the Query_time line")
    ap.add_argument("--start", default=DEFAULT_START, help="UTC start, YYYY-MM-DDTHH:MM:SS (default %(default)s)")
    ap.add_argument("--hours", type=float, default=3.0, help="time span of the log (default 3)")
    ap.add_argument(
        "--inject-headers",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="share of statements that carry forged event headers in a string literal or "
        "comment, e.g. 0.01 (default 0)",
    )
    ap.add_argument(
        "--spellings",
        action="store_true",
        help="every event spells its statement its own way: keyword case, layout, comments, hints, "
        "version comments, backticks, aliases with or without AS, literal forms, quoting, "
        "charset introducers (the special statements stay as the server's clients write them)",
    )
    ap.add_argument(
        "--template-seed",
        type=int,
        default=None,
        help="seed of the statement templates only (default: --seed): the hosts of one fleet share their "
        "application's statements and differ in their events",
    )
    ap.add_argument("--quiet", "-q", action="store_true", help="no summary on stderr")
    a = ap.parse_args(argv)
    if a.events < 0 or a.templates < 1:
        ap.error("--events must be >= 0 and --templates >= 1")
    if not 0.0 <= a.inject_headers <= 1.0:
        ap.error("--inject-headers must be between 0 and 1")
    truth: dict = {}
    t0 = time.perf_counter()
    out = open_output(a.output)
    if a.output == "-":
        try:
            generate(
                out,
                a.events,
                seed=a.seed,
                templates=a.templates,
                extra=a.extra,
                start=a.start,
                hours=a.hours,
                inject=a.inject_headers,
                truth=truth,
                spellings=a.spellings,
                template_seed=a.template_seed,
            )
            out.flush()
            out.detach()
        except BrokenPipeError:  # e.g. `... | head`: stop quietly, as `cat` would
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
    else:
        gz_raw = getattr(getattr(out, "buffer", None), "_mqa_raw", None)
        try:
            generate(
                out,
                a.events,
                seed=a.seed,
                templates=a.templates,
                extra=a.extra,
                start=a.start,
                hours=a.hours,
                inject=a.inject_headers,
                truth=truth,
                spellings=a.spellings,
                template_seed=a.template_seed,
            )
        finally:
            out.close()
            if gz_raw is not None:
                gz_raw.close()
    dt = time.perf_counter() - t0
    if not a.quiet:
        size = Path(a.output).stat().st_size if a.output != "-" else None
        msg = f"generate_slowlog: {a.events:,} events in {dt:.1f} s ({a.events / max(dt, 1e-9):,.0f} events/s)"
        if size is not None:
            msg += f", {size:,} bytes ({size / max(a.events, 1):.0f} bytes/event) -> {a.output}"
        if a.inject_headers:
            msg += f"; {truth['injected']:,} statements with forged event headers"
        print(msg, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
