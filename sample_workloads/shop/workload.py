"""The "shop" sample workload: data generator, query replayer and slow-log recorder.

Everything here is deterministic. The data set is a pure function of ``(scale, data_seed)``
and the replayed statement list a pure function of ``(statements, seed, scale, data_seed)``:

    from sample_workloads.shop import workload
    workload.load(conn, scale=0.1)                          # schema + data into `shop`
    stmts = workload.generate_statements(500, seed=7, scale=0.1)   # no server needed
    summary = workload.replay(conn, statements=500, seed=7, scale=0.1)

Command line (see README.md)::

    python -m sample_workloads.shop.workload load   --socket /path/mysqld.sock --scale 1
    python -m sample_workloads.shop.workload replay --socket /path/mysqld.sock --statements 20000
    python -m sample_workloads.shop.workload record --out sample_workloads/shop/slow.log.gz
    python -m sample_workloads.shop.workload statements --statements 40    # print, no server

The replayer assumes a freshly loaded database: new rows get the ids the generator predicts
(``id_base=None``). To replay again on the same database, pass ``id_base="probe"`` (CLI:
``--probe-ids``) so that new ids (and signup e-mails) continue after what is there.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as _dt
import gzip
import hashlib
import itertools
import json
import os
import platform
import queue
import random
import re
import shutil
import sys
import threading
import time
import unicodedata
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pymysql.converters import escape_string

SCHEMA_PATH = Path(__file__).with_name("schema.sql")
DEFAULT_DATABASE = "shop"
DEFAULT_DATA_SEED = 42
DEFAULT_REPLAY_SEED = 7

#: Every query kind the replayed mix contains (the unit tests check the coverage).
QUERY_KINDS: tuple[str, ...] = (
    "pk_lookup",
    "secondary_index_lookup",
    "missing_index_lookup",
    "date_range",
    "join",
    "join_3plus",
    "top_n",
    "deep_offset",
    "group_by",
    "in_list",
    "like_prefix",
    "like_infix",
    "subquery_in",
    "exists",
    "correlated_subquery",
    "not_in",
    "non_sargable_date",
    "implicit_conversion",
    "order_by_rand",
    "insert",
    "insert_multi",
    "upsert",
    "update_pk",
    "update_range",
    "delete",
    "transaction",
    "show",
    "set",
    "n_plus_one",
)
#: Ways the text of one query varies between callers.
TEXT_VARIANTS: tuple[str, ...] = (
    "sqlcommenter",
    "marginalia",
    "comment_tag",
    "optimizer_hint",
    "index_hint",
    "no_cache",
    "backticks",
    "lowercase",
    "multiline",
    "quoted_number",
)

# ----------------------------------------------------------------------------------------------
# Time: everything is seconds since EPOCH, rendered as 'YYYY-MM-DD HH:MM:SS'.
EPOCH = _dt.datetime(2020, 1, 1)
ORDERS_START = 3 * 365 * 86400 + 86400  # 2023-01-01
DATA_END = int((_dt.datetime(2025, 7, 1) - EPOCH).total_seconds())  # data ends 2025-06-30 23:59:59
REPLAY_START = DATA_END + 8 * 3600  # replay clock starts 2025-07-01 08:00:00


def ts(seconds: int) -> str:
    return str(EPOCH + _dt.timedelta(seconds=int(seconds)))


def day(seconds: int) -> str:
    return str((EPOCH + _dt.timedelta(seconds=int(seconds))).date())


def q(value: Any) -> str:
    """A SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return "'" + escape_string(str(value)) + "'"


# ----------------------------------------------------------------------------------------------
# Vocabulary
FIRST_NAMES = (
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elif",
    "Fatima",
    "Georg",
    "Hannah",
    "Ivan",
    "Jana",
    "Karim",
    "Laura",
    "Mehmet",
    "Nina",
    "Oskar",
    "Paula",
    "Quentin",
    "Rosa",
    "Sven",
    "Tina",
    "Ugo",
    "Vera",
    "Wei",
    "Xenia",
    "Yusuf",
    "Zoë",
    "José",
    "Łukasz",
    "Søren",
    "Chloé",
    "Siobhán",
    "Jürgen",
    "Ana",
    "Mateo",
    "Sofia",
    "Liam",
    "Emma",
    "Noah",
    "Olivia",
    "Lucas",
    "Mia",
    "Elias",
    "Lea",
    "Jonas",
)
LAST_NAMES = (
    "O'Brien",
    "D'Angelo",
    "Müller",
    "García",
    "Nowak",
    "Dubois",
    "Rossi",
    "Jansen",
    "Kowalski",
    "Smith",
    "Johnson",
    "Schmidt",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schulz",
    "Novak",
    "Silva",
    "Santos",
    "Costa",
    "Martin",
    "Bernard",
    "Lefebvre",
    "Moreau",
    "Andersen",
    "Nielsen",
    "Virtanen",
    "Horvat",
    "Popescu",
    "Ivanova",
    "Yılmaz",
    "Kaya",
    "Papadopoulos",
    "Nguyen",
    "Tanaka",
    "Kim",
    "Li",
    "van der Berg",
    "Brown",
    "Taylor",
    "Lambert",
)
DOMAINS = ("example.com", "mail.example.org", "inbox.example.net", "post.example.de", "webmail.example.fr")
COUNTRIES = (
    ("DE",) * 8 + ("FR",) * 4 + ("NL",) * 3 + ("AT",) * 2 + ("IT", "ES", "PL", "BE", "CH", "SE", "DK", "IE", "PT")
)
CITIES = {
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Leipzig"),
    "FR": ("Paris", "Lyon", "Marseille"),
    "NL": ("Amsterdam", "Utrecht"),
    "AT": ("Wien", "Graz"),
    "IT": ("Milano", "Roma"),
    "ES": ("Madrid", "Valencia"),
    "PL": ("Warszawa", "Kraków"),
    "BE": ("Bruxelles",),
    "CH": ("Zürich",),
    "SE": ("Stockholm",),
    "DK": ("København",),
    "IE": ("Dublin",),
    "PT": ("Lisboa",),
}
STREETS = (
    "Hauptstraße",
    "Bahnhofstraße",
    "Rue de la Paix",
    "Kerkstraat",
    "Via Roma",
    "Calle Mayor",
    "Lindenweg",
    "Market Street",
    "Gartenstraße",
    "Schillerstraße",
)
ADJECTIVES = (
    "Ergonomic",
    "Rustic",
    "Sleek",
    "Compact",
    "Deluxe",
    "Classic",
    "Modern",
    "Vintage",
    "Portable",
    "Premium",
    "Smart",
    "Organic",
    "Handmade",
    "Durable",
    "Lightweight",
    "Wireless",
    "Foldable",
    "Heavy-Duty",
    "Eco",
    "Mini",
    "Ultra",
    "Pro",
    "Essential",
    "Everyday",
    "Outdoor",
    "Nordic",
    "Urban",
    "Retro",
    "Soft",
    "Waterproof",
)
MATERIALS = (
    "Steel",
    "Wooden",
    "Cotton",
    "Leather",
    "Bamboo",
    "Ceramic",
    "Glass",
    "Wool",
    "Linen",
    "Aluminium",
    "Copper",
    "Granite",
    "Rubber",
    "Silk",
    "Plastic",
    "Oak",
    "Walnut",
    "Carbon",
    "Marble",
    "Denim",
)
NOUNS = (
    "Chair",
    "Table",
    "Lamp",
    "Backpack",
    "Mug",
    "Kettle",
    "Jacket",
    "Blanket",
    "Headphones",
    "Speaker",
    "Watch",
    "Wallet",
    "Bottle",
    "Pan",
    "Knife",
    "Shelf",
    "Desk",
    "Pillow",
    "Towel",
    "Sneakers",
    "Scarf",
    "Gloves",
    "Notebook",
    "Pen",
    "Bike Light",
    "Tent",
    "Sleeping Bag",
    "Umbrella",
    "Keyboard",
    "Mouse",
    "Monitor Stand",
    "Plant Pot",
    "Vase",
    "Clock",
    "Mirror",
    "Rug",
    "Candle",
    "Cutting Board",
    "Teapot",
    "Coffee Grinder",
)
BRANDS = (
    "Acme",
    "Nordlicht",
    "Globex",
    "Initech",
    "Umbrella Co",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Soylent",
    "Cyberdyne",
    "Gringotts",
    "Monarch",
    "Oceanic",
    "Aperture",
    "Black Mesa",
    "Wonka",
    "Duff",
    "Pied Piper",
    "Massive Dynamic",
    "Virtucon",
    "Zorg",
    "Lumon",
    "Dunder",
    "Bluth",
    "Prestige",
    "Sirius",
    "Hanso",
    "Kruger",
    "Ollivander",
    "Krusty",
    "Nakatomi",
    "Weyland",
    "Rekall",
    "Omni",
    "Abstergo",
    "Genco",
    "Gekko",
    "Paper Street",
)
CATEGORY_WORDS = (
    "Home",
    "Kitchen",
    "Garden",
    "Outdoor",
    "Office",
    "Fashion",
    "Shoes",
    "Bags",
    "Electronics",
    "Audio",
    "Sports",
    "Camping",
    "Toys",
    "Books",
    "Beauty",
    "Health",
    "Pets",
    "Tools",
    "Lighting",
    "Furniture",
    "Decor",
    "Travel",
    "Kids",
    "Coffee & Tea",
)
SENTENCES = (
    "Built to last and easy to clean.",
    "Ships in recycled packaging.",
    "A customer favourite since launch.",
    "Designed in Berlin, made in Portugal.",
    "Fits in every backpack.",
    "Backed by a two-year warranty.",
    "Perfect as a gift.",
    "Available in several colours.",
    "Dishwasher safe.",
    "Water-resistant finish.",
    "Assembly takes about ten minutes.",
    "Each piece is unique.",
    "Made from certified materials.",
    "Pairs well with the rest of the collection.",
    "Limited edition while stocks last.",
)
REVIEW_TITLES = (
    "Great value",
    "Exactly as described",
    "Would buy again",
    "Not bad",
    "Disappointed",
    "Love it!",
    "Broke after a week",
    "Fast delivery",
    "Good quality",
    "Too small",
    "Perfect gift",
    "Meh",
    "Five stars",
    "Better than expected",
    "Returned it",
)
REVIEW_WORDS = (
    "quality",
    "price",
    "delivery",
    "packaging",
    "colour",
    "size",
    "material",
    "support",
    "design",
    "comfort",
    "battery",
    "smell",
    "sturdy",
    "flimsy",
    "recommend",
    "daughter",
    "office",
    "kitchen",
    "gift",
    "weekend",
)
ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")
PAYMENT_PROVIDERS = ("card", "card", "card", "paypal", "paypal", "klarna", "giftcard")
EVENT_TYPES = ("page_view",) * 6 + ("search", "add_to_cart", "checkout")
COUPONS = ("WELCOME10", "SUMMER24", "FREESHIP", "VIP15", "BLACKFRIDAY")
BCRYPT_CHARS = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
SEARCH_TERMS = tuple(w.lower() for w in MATERIALS + NOUNS[:20]) + ("usb", "xl", "set", "kids", "grey")


def _slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


# ----------------------------------------------------------------------------------------------
# The data model: sizes and the columns the replayer needs, regenerated cheaply from the seed.
BASE_COUNTS = {
    "customers": 20_000,
    "products": 5_000,
    "orders": 100_000,
    "reviews": 50_000,
    "carts": 15_000,
    "events": 50_000,
}
MIN_COUNTS = {"customers": 100, "products": 60, "orders": 400, "reviews": 100, "carts": 40, "events": 200}


class ShopModel:
    """Sizes and the deterministic values of the columns that queries refer to.

    ``load()`` writes exactly these values; ``generate_statements()`` draws its literals from
    them, so lookups hit rows that exist and N+1 loops iterate over the real child rows.
    Each column comes from its own ``random.Random("shop:<seed>:<stream>")`` stream.
    """

    def __init__(self, scale: float = 1.0, seed: int = DEFAULT_DATA_SEED) -> None:
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self.scale = scale
        self.seed = seed
        self.n = {k: max(MIN_COUNTS[k], round(v * scale)) for k, v in BASE_COUNTS.items()}
        self.n["categories"] = max(12, round(200 * min(1.0, scale) ** 0.5))
        self.n["warehouses"] = 4

    def rng(self, stream: str) -> random.Random:
        return random.Random(f"shop:{self.seed}:{stream}")

    # -- customers
    @cached_property
    def customer_names(self) -> list[tuple[str, str]]:
        r = self.rng("customers.name")
        return [(r.choice(FIRST_NAMES), r.choice(LAST_NAMES)) for _ in range(self.n["customers"])]

    @cached_property
    def customer_emails(self) -> list[str]:
        r = self.rng("customers.email")
        out = []
        for i, (first, last) in enumerate(self.customer_names, start=1):
            out.append(f"{_slug(first)}.{_slug(last).replace('-', '')}{i}@{r.choice(DOMAINS)}")
        return out

    @cached_property
    def customer_phones(self) -> list[str | None]:
        r = self.rng("customers.phone")
        out: list[str | None] = []
        for _ in range(self.n["customers"]):
            x = r.random()
            if x < 0.15:
                out.append(None)
            elif x < 0.9:
                out.append(f"49{r.randint(1500000000, 1799999999)}")
            elif x < 0.95:
                out.append(f"+49{r.randint(1500000000, 1799999999)}")
            else:
                out.append(f"0{r.randint(150, 179)} {r.randint(1000000, 9999999)}")
        return out

    # -- categories: 1/10 top-level, the rest children of a top-level one
    @cached_property
    def categories(self) -> list[tuple[int, int | None, str, str, int]]:
        """(id, parent_id, name, slug, position)"""
        r = self.rng("categories")
        n = self.n["categories"]
        n_top = max(3, n // 10)
        out = []
        for i in range(1, n + 1):
            if i <= n_top:
                name = CATEGORY_WORDS[(i - 1) % len(CATEGORY_WORDS)]
                if i > len(CATEGORY_WORDS):
                    name += f" {i // len(CATEGORY_WORDS) + 1}"
                out.append((i, None, name, _slug(name), i))
            else:
                parent = r.randint(1, n_top)
                name = f"{r.choice(ADJECTIVES)} {r.choice(NOUNS)}s"
                out.append((i, parent, name, f"{_slug(name)}-{i}", i % 17))
        return out

    @cached_property
    def leaf_categories(self) -> list[int]:
        return [c[0] for c in self.categories if c[1] is not None]

    # -- products
    @cached_property
    def products(self) -> list[tuple[str, str, str, int, bool]]:
        """(sku, name, brand, price_cents, is_active) for ids 1..n"""
        r = self.rng("products")
        out = []
        for i in range(1, self.n["products"] + 1):
            brand = r.choice(BRANDS)
            name = f"{r.choice(ADJECTIVES)} {r.choice(MATERIALS)} {r.choice(NOUNS)}"
            if r.random() < 0.2:
                name += f" {r.choice(('XL', 'S', 'M', 'Set of 2', 'Set of 4', '2.0', 'Plus'))}"
            price = int(round(r.lognormvariate(3.3, 0.8), 0)) * 100 + r.choice((0, 49, 90, 95, 99))
            sku = f"{_slug(brand)[:3].upper()}-{(i * 7919) % 1_000_000:06d}"
            out.append((sku, name, brand, max(199, price), r.random() > 0.06))
        return out

    @cached_property
    def product_popularity(self) -> list[int]:
        """Product ids ordered from most to least popular (a seeded permutation)."""
        ids = list(range(1, self.n["products"] + 1))
        self.rng("products.popularity").shuffle(ids)
        return ids

    def popular_product(self, r: random.Random, skew: float = 2.2) -> int:
        pop = self.product_popularity
        return pop[int(len(pop) * r.random() ** skew)]

    @cached_property
    def product_categories(self) -> list[tuple[int, int]]:
        r = self.rng("product_categories")
        leaves = self.leaf_categories
        out = []
        for pid in range(1, self.n["products"] + 1):
            k = 1 if r.random() < 0.45 else 2
            for cid in sorted(set(r.choice(leaves) for _ in range(k))):
                out.append((pid, cid))
        return out

    @cached_property
    def category_products(self) -> dict[int, list[int]]:
        """Active products per category, cheapest first (the listing's ORDER BY)."""
        out: dict[int, list[int]] = {}
        for pid, cid in self.product_categories:
            if self.products[pid - 1][4]:
                out.setdefault(cid, []).append(pid)
        for pids in out.values():
            pids.sort(key=lambda p: (self.products[p - 1][3], p))
        return out

    # -- orders: ids increase with created_at; customers are skewed (old customers buy more)
    @cached_property
    def orders(self) -> tuple[list[int], list[int]]:
        """(customer_id, created_at seconds) for order ids 1..n"""
        r = self.rng("orders")
        n, nc = self.n["orders"], self.n["customers"]
        span = DATA_END - ORDERS_START
        customers, created = [], []
        for i in range(n):
            customers.append(1 + int(nc * r.random() ** 1.7))
            created.append(ORDERS_START + int((i + r.random()) * span / n))
        return customers, created

    @cached_property
    def customer_orders(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for oid, cid in enumerate(self.orders[0], start=1):
            out.setdefault(cid, []).append(oid)
        return out

    @cached_property
    def order_external_refs(self) -> list[str | None]:
        r = self.rng("orders.external_ref")
        return [
            str(r.randint(4_000_000_000, 4_999_999_999)) if r.random() < 0.3 else None for _ in range(self.n["orders"])
        ]

    # -- carts
    @cached_property
    def carts(self) -> list[tuple[str, int | None]]:
        """(session_token, customer_id) for cart ids 1..n"""
        r = self.rng("carts")
        nc = self.n["customers"]
        return [
            ("%032x" % r.getrandbits(128), r.randint(1, nc) if r.random() < 0.6 else None)
            for _ in range(self.n["carts"])
        ]


# ----------------------------------------------------------------------------------------------
# Schema handling
def split_sql(text: str) -> list[str]:
    """Split a SQL script into statements (handles quotes and -- / # / /* */ comments)."""
    out, buf = [], []
    i, n = 0, len(text)
    quote = None
    while i < n:
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and quote != "`":
                buf.append(text[i + 1 : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in "'\"`":
            quote = ch
            buf.append(ch)
        elif (text.startswith("--", i) and (i + 2 >= n or text[i + 2] in " \t\r\n")) or ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif text.startswith("/*", i) and not text.startswith("/*!", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        elif ch == ";":
            stmt = "".join(buf).strip()
            if stmt:
                out.append(stmt)
            buf = []
        else:
            buf.append(ch)
        i += 1
    stmt = "".join(buf).strip()
    if stmt:
        out.append(stmt)
    return out


def schema_statements(secondary_indexes: bool = True) -> tuple[list[str], list[str]]:
    """(CREATE TABLE statements, CREATE INDEX statements) from schema.sql."""
    tables, indexes = [], []
    for stmt in split_sql(SCHEMA_PATH.read_text(encoding="utf-8")):
        if re.match(r"(?is)^\s*CREATE\s+(UNIQUE\s+)?INDEX\b", stmt):
            if secondary_indexes:
                indexes.append(stmt)
        else:
            tables.append(stmt)
    return tables, indexes


# ----------------------------------------------------------------------------------------------
# Data generation: row streams of SQL literal tuples, in primary-key order.
def _rows_customers(m: ShopModel) -> Iterator[str]:
    r = m.rng("customers.rest")
    n = m.n["customers"]
    start = 0  # 2020-01-01
    span = DATA_END - start
    for i in range(1, n + 1):
        first, last = m.customer_names[i - 1]
        created = start + int((i - 1 + r.random()) * span / n)
        pw = "$2b$12$" + "".join(r.choices(BCRYPT_CHARS, k=53))
        status = "active" if r.random() < 0.93 else r.choice(("inactive", "blocked", "unverified"))
        last_login = None if r.random() < 0.1 else ts(created + int((DATA_END - created) * r.random()))
        yield (
            f"({i},{q(m.customer_emails[i - 1])},'{pw}',{q(first)},{q(last)},{q(m.customer_phones[i - 1])},"
            f"'{r.choice(COUNTRIES)}','{status}',{1 if r.random() < 0.35 else 0},'{ts(created)}','{ts(created)}',"
            f"{q(last_login)})"
        )


def _rows_addresses(m: ShopModel) -> Iterator[str]:
    r = m.rng("addresses")
    aid = 0
    for cid in range(1, m.n["customers"] + 1):
        first, last = m.customer_names[cid - 1]
        for k in range(1 if r.random() < 0.55 else 2):
            aid += 1
            country = r.choice(COUNTRIES)
            line2 = q(f"Apt {r.randint(1, 120)}") if r.random() < 0.25 else "NULL"
            yield (
                f"({aid},{cid},'{'shipping' if k == 0 else 'billing'}',{q(first + ' ' + last)},"
                f"{q(f'{r.choice(STREETS)} {r.randint(1, 180)}')},{line2},{q(r.choice(CITIES[country]))},"
                f"'{r.randint(1000, 99999):05d}','{country}',{1 if k == 0 else 0},"
                f"'{ts(ORDERS_START - 86400 * r.randint(0, 900))}')"
            )


def _rows_categories(m: ShopModel) -> Iterator[str]:
    for cid, parent, name, slug, pos in m.categories:
        yield f"({cid},{q(parent)},{q(name)},{q(slug)},{pos})"


def _rows_products(m: ShopModel) -> Iterator[str]:
    r = m.rng("products.rest")
    n = m.n["products"]
    span = DATA_END - 86400 * 365
    for i, (sku, name, brand, price, active) in enumerate(m.products, start=1):
        desc = " ".join(r.sample(SENTENCES, r.randint(2, 6)))
        created = int((i - 1 + r.random()) * span / n)
        nrev = 0
        yield (
            f"({i},{q(sku)},{q(name)},{q(brand)},{q(desc)},{price},'EUR',{1 if active else 0},"
            f"{q(f'{r.uniform(2.5, 5):.2f}') if r.random() < 0.8 else 'NULL'},{nrev},"
            f"'{ts(created)}','{ts(created + r.randint(0, DATA_END - created))}')"
        )


def _rows_product_categories(m: ShopModel) -> Iterator[str]:
    for pid, cid in m.product_categories:
        yield f"({pid},{cid})"


def _rows_warehouses(m: ShopModel) -> Iterator[str]:
    for wid, (code, city) in enumerate(
        (("BER1", "Berlin"), ("HAM1", "Hamburg"), ("AMS1", "Amsterdam"), ("MXP1", "Milano")), start=1
    ):
        yield f"({wid},'{code}','{city}')"


def _rows_inventory(m: ShopModel) -> Iterator[str]:
    r = m.rng("inventory")
    for pid in range(1, m.n["products"] + 1):
        for wid in range(1, m.n["warehouses"] + 1):
            if wid == 1 or r.random() < 0.67:
                qty = 0 if r.random() < 0.08 else int(r.expovariate(1 / 60))
                yield f"({pid},{wid},{qty},{min(qty, int(r.expovariate(1 / 3)))},'{ts(DATA_END - r.randint(0, 86400 * 60))}')"


def _order_status(r: random.Random, age: int) -> str:
    x = r.random()
    if age < 3 * 86400:
        return "pending" if x < 0.3 else "paid" if x < 0.7 else "shipped" if x < 0.97 else "cancelled"
    if age < 14 * 86400:
        return "paid" if x < 0.08 else "shipped" if x < 0.5 else "delivered" if x < 0.96 else "cancelled"
    return "delivered" if x < 0.93 else "cancelled" if x < 0.995 else "pending"


def _rows_orders_items_payments(m: ShopModel) -> Iterator[tuple[str, list[str], str | None]]:
    """Per order: (orders row, order_items rows, payments row or None)."""
    r = m.rng("orders.rest")
    customers, created = m.orders
    refs = m.order_external_refs
    products = m.products
    item_id = 0
    pay_id = 0
    for oid in range(1, m.n["orders"] + 1):
        cts = created[oid - 1]
        status = _order_status(r, DATA_END - cts)
        k = min(12, 1 + int(r.expovariate(1 / 2.6)))
        items = []
        subtotal = 0
        for pid in sorted(set(m.popular_product(r) for _ in range(k))):
            item_id += 1
            qty = 1 if r.random() < 0.75 else r.randint(2, 4)
            price = products[pid - 1][3]
            disc = price // 10 if r.random() < 0.1 else 0
            subtotal += qty * (price - disc)
            items.append(f"({item_id},{oid},{pid},{qty},{price},{disc})")
        shipping = 0 if subtotal >= 5000 else 495
        coupon = q(r.choice(COUPONS)) if r.random() < 0.07 else "NULL"
        updated = min(DATA_END, cts + r.randint(0, 86400 * 5))
        order = (
            f"({oid},{customers[oid - 1]},'{status}','EUR',{subtotal},{shipping},{subtotal + shipping},"
            f"{coupon},NULL,{q(refs[oid - 1])},'{ts(cts)}','{ts(updated)}')"
        )
        payment = None
        if status != "pending":
            pay_id += 1
            provider = r.choice(PAYMENT_PROVIDERS)
            pstatus = (
                "refunded"
                if status == "cancelled" and r.random() < 0.7
                else "failed"
                if status == "cancelled"
                else "captured"
            )
            payment = (
                f"({pay_id},{oid},'{provider}','{provider[:2]}_{r.getrandbits(64):016x}','{pstatus}',"
                f"{subtotal + shipping},'{ts(cts + r.randint(5, 600))}')"
            )
        yield order, items, payment


def _rows_reviews(m: ShopModel) -> Iterator[str]:
    r = m.rng("reviews")
    n, nc = m.n["reviews"], m.n["customers"]
    span = DATA_END - ORDERS_START
    for i in range(1, n + 1):
        pid = m.popular_product(r, 1.8)
        rating = r.choices((5, 4, 3, 2, 1), (45, 30, 12, 6, 7))[0]
        body = " ".join(r.choices(REVIEW_WORDS, k=r.randint(4, 30))).capitalize() + "."
        yield (
            f"({i},{pid},{r.randint(1, nc)},{rating},{q(r.choice(REVIEW_TITLES))},{q(body)},"
            f"{0 if r.random() < 0.04 else 1},'{ts(ORDERS_START + int((i - 1 + r.random()) * span / n))}')"
        )


def _rows_carts_items(m: ShopModel) -> Iterator[tuple[str, list[str]]]:
    r = m.rng("carts.rest")
    n = m.n["carts"]
    for cid, (token, customer) in enumerate(m.carts, start=1):
        created = DATA_END - 86400 * 120 + int((cid - 1 + r.random()) * 86400 * 120 / n)
        updated = min(DATA_END, created + r.randint(0, 86400 * 2))
        age = DATA_END - updated
        status = "active" if age < 86400 * 3 or r.random() < 0.1 else r.choice(("ordered", "abandoned"))
        cart = f"({cid},'{token}',{q(customer)},'{status}','{ts(created)}','{ts(updated)}')"
        items = [
            f"({cid},{pid},{1 if r.random() < 0.8 else r.randint(2, 3)},'{ts(created + r.randint(0, 3600))}')"
            for pid in sorted(set(m.popular_product(r) for _ in range(r.randint(1, 5))))
        ]
        yield cart, items


def _rows_events(m: ShopModel) -> Iterator[str]:
    r = m.rng("events")
    n = m.n["events"]
    carts = m.carts
    start = DATA_END - 86400 * 90
    for i in range(1, n + 1):
        token, customer = carts[int(len(carts) * r.random() ** 0.7)]
        et = r.choice(EVENT_TYPES)
        pid = m.popular_product(r)
        path = (
            f"/products/{pid}"
            if et in ("page_view", "add_to_cart")
            else f"/search?q={urllib.parse.quote(r.choice(SEARCH_TERMS))}"
            if et == "search"
            else "/checkout"
        )
        yield (
            f"({i},'{token}',{q(customer)},'{et}',{q(path)},{pid if et != 'search' else 'NULL'},"
            f"'{ts(start + int((i - 1 + r.random()) * 86400 * 90 / n))}')"
        )


TABLE_COLUMNS = {
    "customers": "id,email,password_hash,first_name,last_name,phone,country,status,marketing_opt_in,created_at,updated_at,last_login_at",
    "addresses": "id,customer_id,kind,full_name,line1,line2,city,postal_code,country,is_default,created_at",
    "categories": "id,parent_id,name,slug,position",
    "products": "id,sku,name,brand,description,price_cents,currency,is_active,rating_avg,review_count,created_at,updated_at",
    "product_categories": "product_id,category_id",
    "warehouses": "id,code,city",
    "inventory": "product_id,warehouse_id,quantity,reserved,updated_at",
    "orders": "id,customer_id,status,currency,subtotal_cents,shipping_cents,total_cents,coupon_code,shipping_address_id,external_ref,created_at,updated_at",
    "order_items": "id,order_id,product_id,quantity,unit_price_cents,discount_cents",
    "payments": "id,order_id,provider,provider_ref,status,amount_cents,created_at",
    "reviews": "id,product_id,customer_id,rating,title,body,is_approved,created_at",
    "carts": "id,session_token,customer_id,status,created_at,updated_at",
    "cart_items": "cart_id,product_id,quantity,added_at",
    "events": "id,session_token,customer_id,event_type,path,product_id,created_at",
}
TABLES = tuple(TABLE_COLUMNS)


class _BatchWriter:
    """Multi-row INSERTs of about ``max_bytes`` each, per table.

    The statements are executed by a background thread on ``conn`` so that generating the next
    batch in Python overlaps with the server inserting the previous one. Nothing else may use
    ``conn`` until ``close()``.
    """

    def __init__(self, conn: Any, max_bytes: int = 1 << 20) -> None:
        self.conn = conn
        self.max_bytes = max_bytes
        self.buf: dict[str, list[str]] = {}
        self.size: dict[str, int] = {}
        self.rows: Counter = Counter()
        self.error: BaseException | None = None
        self._q: queue.Queue[str | None] = queue.Queue(maxsize=4)
        self._thread = threading.Thread(target=self._run, name="shop-loader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        cur = self.conn.cursor()
        try:
            while True:
                sql = self._q.get()
                if sql is None:
                    return
                if self.error is None:
                    try:
                        cur.execute(sql)
                    except BaseException as e:  # reported to the producer
                        self.error = e
        finally:
            cur.close()

    def add(self, table: str, row: str) -> None:
        b = self.buf.setdefault(table, [])
        b.append(row)
        self.size[table] = self.size.get(table, 0) + len(row) + 1
        self.rows[table] += 1
        if self.size[table] >= self.max_bytes:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for t in [table] if table else list(self.buf):
            rows = self.buf.get(t)
            if rows:
                if self.error is not None:
                    raise self.error
                self._q.put(f"INSERT INTO {t} ({TABLE_COLUMNS[t]}) VALUES " + ",".join(rows))
                self.buf[t] = []
                self.size[t] = 0

    def sync(self) -> None:
        """Wait until everything queued so far is executed."""
        self.flush()
        self.close()
        self._thread = threading.Thread(target=self._run, name="shop-loader", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._q.put(None)
            self._thread.join()
        if self.error is not None:
            raise self.error


def load(
    conn: Any,
    scale: float = 1.0,
    seed: int = DEFAULT_DATA_SEED,
    *,
    database: str = DEFAULT_DATABASE,
    secondary_indexes: bool = True,
    drop: bool = True,
    analyze: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Create the schema in ``database`` and load the generated data.

    Secondary indexes are created after the data (faster); ``secondary_indexes=False`` leaves
    them out (only primary keys). ``drop`` drops and recreates the database first. The
    connection is left with ``database`` selected. Returns ``{"rows": {table: n}, "seconds":
    {...}, "indexes": n}`` (per-phase seconds are the generating side's; the INSERTs run in a
    background thread on ``conn``, overlapped with generation).
    """
    say = progress or (lambda _msg: None)
    t0 = time.monotonic()
    m = ShopModel(scale, seed)
    tables, indexes = schema_statements(secondary_indexes)
    timings: dict[str, float] = {}
    w: _BatchWriter | None = None
    cur = conn.cursor()
    try:
        if drop:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        cur.execute(f"USE `{database}`")
        for stmt in tables:
            cur.execute(stmt)
        cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
        w = _BatchWriter(conn)
        simple = (
            ("customers", _rows_customers),
            ("addresses", _rows_addresses),
            ("categories", _rows_categories),
            ("products", _rows_products),
            ("product_categories", _rows_product_categories),
            ("warehouses", _rows_warehouses),
            ("inventory", _rows_inventory),
        )
        for table, gen in simple:
            t = time.monotonic()
            for row in gen(m):
                w.add(table, row)
            w.flush()
            timings[table] = time.monotonic() - t
            say(f"loaded {table}: {w.rows[table]} rows")
        t = time.monotonic()
        for order, items, payment in _rows_orders_items_payments(m):
            w.add("orders", order)
            for it in items:
                w.add("order_items", it)
            if payment:
                w.add("payments", payment)
        w.flush()
        timings["orders+order_items+payments"] = time.monotonic() - t
        say(f"loaded orders: {w.rows['orders']}, order_items: {w.rows['order_items']}, payments: {w.rows['payments']}")
        t = time.monotonic()
        for row in _rows_reviews(m):
            w.add("reviews", row)
        w.sync()
        # products.review_count / rating_avg from the reviews, as the application maintains them
        cur.execute(
            "UPDATE products p JOIN (SELECT product_id, COUNT(*) AS n, AVG(rating) AS a FROM reviews "
            "GROUP BY product_id) r ON r.product_id = p.id SET p.review_count = r.n, p.rating_avg = r.a"
        )
        timings["reviews"] = time.monotonic() - t
        t = time.monotonic()
        for cart, items in _rows_carts_items(m):
            w.add("carts", cart)
            for it in items:
                w.add("cart_items", it)
        for row in _rows_events(m):
            w.add("events", row)
        w.flush()
        w.close()
        timings["carts+cart_items+events"] = time.monotonic() - t
        say(
            f"loaded reviews: {w.rows['reviews']}, carts: {w.rows['carts']}, cart_items: {w.rows['cart_items']}, "
            f"events: {w.rows['events']}"
        )
        cur.execute("SET SESSION unique_checks = 1, foreign_key_checks = 1")
        t = time.monotonic()
        for stmt in indexes:
            cur.execute(stmt)
        timings["indexes"] = time.monotonic() - t
        if indexes:
            say(f"created {len(indexes)} secondary indexes in {timings['indexes']:.1f} s")
        if analyze:
            t = time.monotonic()
            cur.execute("ANALYZE TABLE " + ", ".join(TABLES))
            cur.fetchall()
            timings["analyze"] = time.monotonic() - t
        conn.commit()  # in case the connection is not in autocommit mode
    finally:
        if w is not None:
            try:
                w.close()
            except BaseException:
                pass
        cur.close()
    timings["total"] = time.monotonic() - t0
    return {
        "database": database,
        "scale": scale,
        "seed": seed,
        "rows": dict(w.rows),
        "indexes": len(indexes),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }


# ----------------------------------------------------------------------------------------------
# Statement generation (pure: no server involved)
@dataclass(frozen=True)
class Statement:
    sql: str
    endpoint: str  # logical endpoint, e.g. "web products#show"
    session: str  # logical connection, e.g. "web-2" (app name, dash, pool slot)
    kinds: frozenset[str]  # QUERY_KINDS and TEXT_VARIANTS this statement exercises

    @property
    def app(self) -> str:
        return self.session.rsplit("-", 1)[0]


APPS = {"web": 4, "api": 2, "report": 1, "worker": 1, "admin": 1}  # app -> connection pool size

_KEYWORDS = frozenset(
    """SELECT FROM WHERE AND OR NOT IN IS NULL LIMIT OFFSET ORDER BY GROUP HAVING ASC DESC
INNER LEFT JOIN ON AS COUNT SUM AVG MAX MIN DISTINCT INSERT INTO VALUES VALUE UPDATE SET DELETE LIKE BETWEEN
EXISTS DUPLICATE KEY FOR CASE WHEN THEN ELSE END START TRANSACTION COMMIT ROLLBACK BEGIN""".split()
)
_LITERAL_RE = re.compile(r"('(?:[^'\\]|\\.|'')*')")
_WORD_RE = re.compile(r"\b[A-Z]+\b")


def orm_b(sql: str) -> str:
    """Second ORM's spelling: no backticks, lower-case keywords (string literals untouched)."""
    parts = _LITERAL_RE.split(sql)
    for i in range(0, len(parts), 2):
        parts[i] = _WORD_RE.sub(
            lambda mo: mo.group(0).lower() if mo.group(0) in _KEYWORDS else mo.group(0), parts[i].replace("`", "")
        )
    return "".join(parts)


def sqlcommenter(**tags: str) -> str:
    """A sqlcommenter comment: sorted keys, URL-encoded values in single quotes."""
    return "/*" + ",".join(f"{k}='{urllib.parse.quote(str(v), safe='')}'" for k, v in sorted(tags.items())) + "*/"


class _Request:
    def __init__(
        self,
        gen: _Generator,
        endpoint: str,
        app: str,
        style: str,
        comment: str = "",
        comment_kind: str = "",
        prefix: bool = False,
    ) -> None:
        self.gen, self.endpoint, self.style = gen, endpoint, style
        self.session = f"{app}-{gen.r.randrange(APPS[app])}"
        self.comment, self.comment_kind, self.prefix = comment, comment_kind, prefix
        self.out: list[Statement] = []

    def add(self, sql: str, *kinds: str, raw: bool = False) -> None:
        ks = set(kinds)
        if not raw:
            if self.style == "B":
                sql = orm_b(sql)
                ks.add("lowercase")
            if self.comment:
                sql = f"{self.comment} {sql}" if self.prefix else f"{sql} {self.comment}"
                ks.add(self.comment_kind)
        if "`" in sql:
            ks.add("backticks")
        if "\n" in sql:
            ks.add("multiline")
        self.out.append(Statement(sql, self.endpoint, self.session, frozenset(ks)))


def _in_len(r: random.Random) -> int:
    x = r.random()
    if x < 0.6:
        return r.randint(1, 10)
    if x < 0.9:
        return r.randint(11, 50)
    return r.randint(51, 200)


class _Generator:
    """Requests of a small e-commerce application: storefront (ORM A + sqlcommenter), mobile API
    (ORM B + /* app=... */ tags), reports, background worker and admin/monitoring."""

    def __init__(self, seed: int, model: ShopModel, id_base: dict[str, int] | None, index_hints: bool = True) -> None:
        self.r = random.Random(f"shop-replay:{seed}")
        self.index_hints = index_hints
        self.m = model
        base = id_base or {}
        n = model.n
        self.next_id = {
            "customers": base.get("customers", n["customers"]) + 1,
            "orders": base.get("orders", n["orders"]) + 1,
            "reviews": base.get("reviews", n["reviews"]) + 1,
            "carts": base.get("carts", n["carts"]) + 1,
        }
        self.clock = REPLAY_START
        self.new_orders: dict[int, list[int]] = {}
        self.sessions_seen: set[str] = set()
        self.endpoints: list[tuple[str, float, Callable[[], list[Statement]]]] = [
            ("web home#index", 6, self.home),
            ("web products#show", 14, self.product_show),
            ("web categories#show", 9, self.category_show),
            ("web search#index", 7, self.search),
            ("web carts#show", 7, self.cart_show),
            ("web cart_items#create", 6, self.cart_add),
            ("web cart_items#destroy", 2, self.cart_remove),
            ("web checkouts#create", 2, self.checkout),
            ("web sessions#create", 4, self.login),
            ("web registrations#create", 1, self.signup),
            ("web orders#index", 1.0, self.my_orders),
            ("web orders#show", 4, self.order_show),
            ("web reviews#create", 1, self.review_create),
            ("api GET /v1/products/:id", 6, self.api_product),
            ("api GET /v1/products?sku=", 2, self.api_product_sku),
            ("api GET /v1/products?ids=", 4, self.api_products_ids),
            ("api GET /v1/inventory?ids=", 2, self.api_inventory),
            ("api GET /v1/orders?external_ref=", 0.8, self.api_order_ref),
            ("api GET /v1/customers?phone=", 0.6, self.api_customer_phone),
            ("api POST /v1/events", 5, self.api_events),
            ("report daily_sales", 0.6, self.report_daily),
            ("report orders_on_day", 0.35, self.report_on_day),
            ("report top_products", 0.25, self.report_top_products),
            ("report category_revenue", 0.15, self.report_category_revenue),
            ("report status_counts", 0.4, self.report_status),
            ("report cancelled_customers", 0.2, self.report_cancelled_customers),
            ("report products_in_stock", 0.25, self.report_exists),
            ("report never_ordered", 0.1, self.report_never_ordered),
            ("report customers_without_orders", 0.12, self.report_not_in),
            ("report brand_reviews", 0.12, self.report_correlated),
            ("admin orders#index", 0.5, self.admin_orders),
            ("admin customers#export", 0.15, self.admin_export),
            ("admin products#update", 0.5, self.admin_product_update),
            ("admin events#timeline", 0.25, self.admin_timeline),
            ("admin monitoring", 1.0, self.monitoring),
            ("worker FulfillmentJob", 0.6, self.worker_fulfillment),
            ("worker AbandonedCartJob", 0.2, self.worker_abandoned_carts),
            ("worker RestockJob", 0.3, self.worker_restock),
            ("worker EventsPurgeJob", 0.1, self.worker_purge_events),
        ]
        self._cum = list(itertools.accumulate(w for _, w, _ in self.endpoints))

    # -- helpers
    def tick(self) -> int:
        self.clock += 1 + int(self.r.expovariate(1 / 2.0))
        return self.clock

    def now(self) -> str:
        return q(ts(self.clock))

    def customer(self) -> int:
        return 1 + int(self.m.n["customers"] * self.r.random() ** 1.7)

    def product(self) -> int:
        return self.m.popular_product(self.r)

    def traceparent(self) -> str:
        return f"00-{self.r.getrandbits(128):032x}-{self.r.getrandbits(64):016x}-01"

    def web(self, endpoint: str, controller: str, action: str, route: str) -> _Request:
        tags = {
            "application": "Shop",
            "controller": controller,
            "action": action,
            "framework": "rails:7.1.3",
            "route": route,
            "db_driver": "mysql2",
        }
        if self.r.random() < 0.5:
            tags["traceparent"] = self.traceparent()
        return _Request(self, endpoint, "web", "A", sqlcommenter(**tags), "sqlcommenter")

    def api(self, endpoint: str, route: str) -> _Request:
        return _Request(self, endpoint, "api", "B", f"/* app=api,route={route} */", "comment_tag", prefix=True)

    def report(self, endpoint: str) -> _Request:
        return _Request(self, endpoint, "report", "R")

    def worker(self, endpoint: str, job: str) -> _Request:
        return _Request(self, endpoint, "worker", "B", f"/* app=worker,job={job} */", "comment_tag", prefix=True)

    def admin(self, endpoint: str, controller: str, action: str) -> _Request:
        return _Request(
            self,
            endpoint,
            "admin",
            "A",
            f"/*application:ShopAdmin,controller:{controller},action:{action}*/",
            "marginalia",
        )

    def session_init(self, req: _Request) -> None:
        """What a driver/ORM sends on a fresh connection."""
        if req.session in self.sessions_seen:
            return
        self.sessions_seen.add(req.session)
        app = req.session.rsplit("-", 1)[0]
        if app in ("web", "admin"):
            req.add(
                "SET  @@SESSION.sql_mode = CONCAT(CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), ',NO_AUTO_VALUE_ON_ZERO'),"
                "  @@SESSION.wait_timeout = 2147483",
                "set",
                raw=True,
            )
        elif app == "api":
            req.add("SET SESSION time_zone = '+00:00'", "set", raw=True)
        elif app == "worker":
            req.add("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", "set", raw=True)
        else:
            req.add("SET SESSION group_concat_max_len = 1048576", "set", raw=True)

    def pick(self) -> tuple[str, Callable[[], list[Statement]]]:
        i = bisect.bisect_right(self._cum, self.r.random() * self._cum[-1])
        name, _, fn = self.endpoints[min(i, len(self.endpoints) - 1)]
        return name, fn

    def run(self, n: int) -> list[Statement]:
        out: list[Statement] = []
        while len(out) < n:
            self.tick()
            _, fn = self.pick()
            stmts = fn()
            if len(out) + len(stmts) > n:
                # fill up exactly with single-statement requests (a pooled connection's ping)
                while len(out) < n:
                    req = self.api("api GET /v1/products/:id", "/v1/products/:id")
                    req.add(
                        f"SELECT id, sku, name, price_cents, currency, is_active FROM products "
                        f"WHERE id = {self.product()}",
                        "pk_lookup",
                    )
                    out += req.out
                break
            out += stmts
        return out

    # -- storefront (ORM A)
    def home(self) -> list[Statement]:
        req = self.web("web home#index", "home", "index", "/")
        self.session_init(req)
        req.add(
            "SELECT `categories`.* FROM `categories` WHERE `categories`.`parent_id` IS NULL "
            "ORDER BY `categories`.`position` ASC",
            "secondary_index_lookup",
        )
        req.add(
            "SELECT `products`.* FROM `products` WHERE `products`.`is_active` = 1 "
            "ORDER BY `products`.`created_at` DESC LIMIT 12",
            "top_n",
        )
        if self.r.random() < 0.5:
            req.add(
                f"SELECT `products`.`id`, `products`.`name`, `products`.`price_cents` FROM `products` "
                f"WHERE `products`.`is_active` = 1 AND `products`.`rating_avg` >= {self.r.choice((4, 4.5))} "
                f"ORDER BY RAND() LIMIT 4",
                "order_by_rand",
            )
        return req.out

    def product_show(self) -> list[Statement]:
        req = self.web("web products#show", "products", "show", "/products/:id")
        self.session_init(req)
        pid = self.product()
        req.add(f"SELECT `products`.* FROM `products` WHERE `products`.`id` = {pid} LIMIT 1", "pk_lookup")
        req.add(
            f"SELECT `inventory`.`warehouse_id`, `inventory`.`quantity`, `inventory`.`reserved` FROM `inventory` "
            f"WHERE `inventory`.`product_id` = {pid}",
            "pk_lookup",
        )
        if self.r.random() < 0.6:
            req.add(
                f"SELECT `categories`.* FROM `categories` INNER JOIN `product_categories` "
                f"ON `categories`.`id` = `product_categories`.`category_id` "
                f"WHERE `product_categories`.`product_id` = {pid}",
                "join",
            )
        if self.r.random() < 0.3:  # review widget (cache miss): W2, reviews(product_id) is not indexed
            req.add(
                f"SELECT `reviews`.* FROM `reviews` WHERE `reviews`.`product_id` = {pid} "
                f"AND `reviews`.`is_approved` = 1 ORDER BY `reviews`.`created_at` DESC LIMIT 5",
                "missing_index_lookup",
                "top_n",
            )
        return req.out

    def category_show(self) -> list[Statement]:
        req = self.web("web categories#show", "categories", "show", "/c/:slug")
        self.session_init(req)
        cats = self.m.categories
        leaves = self.m.leaf_categories
        cid = leaves[int(len(leaves) * self.r.random() ** 1.5)]
        slug = cats[cid - 1][3]
        page = 0 if self.r.random() < 0.7 else self.r.randint(1, 4)
        req.add(
            f"SELECT `categories`.* FROM `categories` WHERE `categories`.`slug` = {q(slug)} LIMIT 1",
            "secondary_index_lookup",
        )
        req.add(
            f"SELECT COUNT(*) FROM `products` INNER JOIN `product_categories` "
            f"ON `products`.`id` = `product_categories`.`product_id` "
            f"WHERE `product_categories`.`category_id` = {cid} AND `products`.`is_active` = 1",
            "join",
        )
        req.add(
            f"SELECT `products`.* FROM `products` INNER JOIN `product_categories` "
            f"ON `products`.`id` = `product_categories`.`product_id` "
            f"WHERE `product_categories`.`category_id` = {cid} AND `products`.`is_active` = 1 "
            f"ORDER BY `products`.`price_cents` ASC LIMIT 24 OFFSET {page * 24}",
            "join",
            "top_n",
        )
        if self.r.random() < 0.35:
            # N+1: the stock badge of every listed product, one query per row
            for pid in self.m.category_products.get(cid, [])[page * 24 : page * 24 + 24][:12]:
                req.add(
                    f"SELECT SUM(`inventory`.`quantity` - `inventory`.`reserved`) FROM `inventory` "
                    f"WHERE `inventory`.`product_id` = {pid}",
                    "pk_lookup",
                    "n_plus_one",
                )
        return req.out

    def search(self) -> list[Statement]:
        req = self.web("web search#index", "search", "index", "/search")
        self.session_init(req)
        if self.r.random() < 0.7:
            name = self.m.products[self.product() - 1][1]
            prefix = name[: self.r.randint(2, min(9, len(name)))].rstrip()
            req.add(
                f"SELECT `products`.`id`, `products`.`name`, `products`.`price_cents` FROM `products` "
                f"WHERE `products`.`name` LIKE {q(prefix + '%')} AND `products`.`is_active` = 1 "
                f"ORDER BY `products`.`name` ASC LIMIT 20",
                "like_prefix",
                "top_n",
            )
        else:
            term = self.r.choice(SEARCH_TERMS)
            req.add(
                f"SELECT `products`.`id`, `products`.`name`, `products`.`price_cents` FROM `products` "
                f"WHERE (`products`.`name` LIKE {q('%' + term + '%')} OR `products`.`description` LIKE "
                f"{q('%' + term + '%')}) AND `products`.`is_active` = 1 LIMIT 20",
                "like_infix",
            )
        return req.out

    def _cart(self) -> tuple[int, str]:
        cid = self.r.randint(1, self.m.n["carts"])
        return cid, self.m.carts[cid - 1][0]

    def cart_show(self) -> list[Statement]:
        req = self.web("web carts#show", "carts", "show", "/cart")
        self.session_init(req)
        cid, token = self._cart()
        req.add(
            f"SELECT `carts`.* FROM `carts` WHERE `carts`.`session_token` = '{token}' LIMIT 1", "secondary_index_lookup"
        )
        req.add(f"SELECT `cart_items`.* FROM `cart_items` WHERE `cart_items`.`cart_id` = {cid}", "pk_lookup")
        ids = sorted({self.product() for _ in range(self.r.randint(1, 8))})
        req.add(f"SELECT `products`.* FROM `products` WHERE `products`.`id` IN ({', '.join(map(str, ids))})", "in_list")
        return req.out

    def cart_add(self) -> list[Statement]:
        req = self.web("web cart_items#create", "cart_items", "create", "/cart/items")
        self.session_init(req)
        if self.r.random() < 0.2:
            cid = self.next_id["carts"]
            self.next_id["carts"] += 1
            token = "%032x" % self.r.getrandbits(128)
            customer = self.customer() if self.r.random() < 0.5 else None
            req.add(
                f"INSERT INTO `carts` (`session_token`, `customer_id`, `status`, `created_at`, `updated_at`) "
                f"VALUES ('{token}', {q(customer)}, 'active', {self.now()}, {self.now()})",
                "insert",
            )
        else:
            cid, token = self._cart()
        pid = self.product()
        req.add(
            f"INSERT INTO `cart_items` (`cart_id`, `product_id`, `quantity`, `added_at`) VALUES "
            f"({cid}, {pid}, {self.r.choice((1, 1, 1, 2, 3))}, {self.now()}) "
            f"ON DUPLICATE KEY UPDATE `quantity` = `quantity` + VALUES(`quantity`)",
            "upsert",
            "insert",
        )
        req.add(f"UPDATE `carts` SET `updated_at` = {self.now()} WHERE `carts`.`id` = {cid}", "update_pk")
        return req.out

    def cart_remove(self) -> list[Statement]:
        req = self.web("web cart_items#destroy", "cart_items", "destroy", "/cart/items/:id")
        self.session_init(req)
        cid, _ = self._cart()
        req.add(
            f"DELETE FROM `cart_items` WHERE `cart_items`.`cart_id` = {cid} "
            f"AND `cart_items`.`product_id` = {self.product()}",
            "delete",
        )
        req.add(f"UPDATE `carts` SET `updated_at` = {self.now()} WHERE `carts`.`id` = {cid}", "update_pk")
        return req.out

    def checkout(self) -> list[Statement]:
        req = self.web("web checkouts#create", "checkouts", "create", "/checkout")
        self.session_init(req)
        customer = self.customer()
        cart_id, _ = self._cart()
        pids = sorted({self.product() for _ in range(self.r.randint(1, 4))})
        items = [(p, 1 if self.r.random() < 0.8 else 2, self.m.products[p - 1][3]) for p in pids]
        subtotal = sum(qty * price for _, qty, price in items)
        shipping = 0 if subtotal >= 5000 else 495
        oid = self.next_id["orders"]
        self.next_id["orders"] += 1
        self.new_orders.setdefault(customer, []).append(oid)
        req.add("BEGIN", "transaction", raw=True)
        req.add(
            f"SELECT `inventory`.* FROM `inventory` WHERE `inventory`.`product_id` IN "
            f"({', '.join(map(str, pids))}) AND `inventory`.`warehouse_id` = 1 FOR UPDATE",
            "in_list",
        )
        req.add(
            f"INSERT INTO `orders` (`customer_id`, `status`, `currency`, `subtotal_cents`, `shipping_cents`, "
            f"`total_cents`, `coupon_code`, `created_at`, `updated_at`) VALUES ({customer}, 'pending', 'EUR', "
            f"{subtotal}, {shipping}, {subtotal + shipping}, NULL, {self.now()}, {self.now()})",
            "insert",
        )
        req.add(
            "INSERT INTO `order_items` (`order_id`, `product_id`, `quantity`, `unit_price_cents`, `discount_cents`) "
            "VALUES " + ", ".join(f"({oid}, {p}, {qty}, {price}, 0)" for p, qty, price in items),
            "insert",
            "insert_multi" if len(items) > 1 else "insert",
        )
        for p, qty, _ in items:
            req.add(
                f"UPDATE `inventory` SET `quantity` = `quantity` - {qty}, `updated_at` = {self.now()} "
                f"WHERE `inventory`.`product_id` = {p} AND `inventory`.`warehouse_id` = 1",
                "update_pk",
            )
        provider = self.r.choice(PAYMENT_PROVIDERS)
        req.add(
            f"INSERT INTO `payments` (`order_id`, `provider`, `provider_ref`, `status`, `amount_cents`, "
            f"`created_at`) VALUES ({oid}, '{provider}', '{provider[:2]}_{self.r.getrandbits(64):016x}', "
            f"'authorized', {subtotal + shipping}, {self.now()})",
            "insert",
        )
        if self.r.random() < 0.05:  # payment declined
            req.add("ROLLBACK", "transaction", raw=True)
            return req.out
        req.add(
            f"UPDATE `orders` SET `status` = 'paid', `updated_at` = {self.now()} WHERE `orders`.`id` = {oid}",
            "update_pk",
        )
        req.add(
            f"UPDATE `carts` SET `status` = 'ordered', `updated_at` = {self.now()} WHERE `carts`.`id` = {cart_id}",
            "update_pk",
        )
        req.add("COMMIT", "transaction", raw=True)
        return req.out

    def login(self) -> list[Statement]:
        req = self.web("web sessions#create", "sessions", "create", "/login")
        self.session_init(req)
        c = self.customer()
        req.add(
            f"SELECT `customers`.* FROM `customers` WHERE `customers`.`email` = "
            f"{q(self.m.customer_emails[c - 1])} LIMIT 1",
            "secondary_index_lookup",
        )
        req.add(
            f"UPDATE `customers` SET `last_login_at` = {self.now()}, `updated_at` = {self.now()} "
            f"WHERE `customers`.`id` = {c}",
            "update_pk",
        )
        return req.out

    def signup(self) -> list[Statement]:
        req = self.web("web registrations#create", "registrations", "create", "/signup")
        self.session_init(req)
        cid = self.next_id["customers"]
        self.next_id["customers"] += 1
        first, last = self.r.choice(FIRST_NAMES), self.r.choice(LAST_NAMES)
        email = f"{_slug(first)}.{_slug(last).replace('-', '')}{cid}@{self.r.choice(DOMAINS)}"
        req.add("BEGIN", "transaction", raw=True)
        req.add(
            f"INSERT INTO `customers` (`email`, `password_hash`, `first_name`, `last_name`, `phone`, `country`, "
            f"`status`, `marketing_opt_in`, `created_at`, `updated_at`) VALUES ({q(email)}, "
            f"'$2b$12${''.join(self.r.choices(BCRYPT_CHARS, k=53))}', {q(first)}, {q(last)}, NULL, "
            f"'{self.r.choice(COUNTRIES)}', 'unverified', {self.r.randint(0, 1)}, {self.now()}, "
            f"{self.now()})",
            "insert",
        )
        req.add(
            f"INSERT INTO `addresses` (`customer_id`, `kind`, `full_name`, `line1`, `city`, `postal_code`, "
            f"`country`, `is_default`, `created_at`) VALUES ({cid}, 'shipping', {q(first + ' ' + last)}, "
            f"{q(f'{self.r.choice(STREETS)} {self.r.randint(1, 99)}')}, 'Berlin', '10115', 'DE', 1, {self.now()})",
            "insert",
        )
        req.add("COMMIT", "transaction", raw=True)
        return req.out

    def _customer_with_orders(self) -> int:
        co = self.m.customer_orders
        for _ in range(20):
            c = self.customer()
            if c in co:
                return c
        return self.m.orders[0][0]

    def my_orders(self) -> list[Statement]:
        req = self.web("web orders#index", "orders", "index", "/account/orders")
        self.session_init(req)
        c = self._customer_with_orders()
        # W1: no index on orders(customer_id, created_at): full scan + filesort
        req.add(
            f"SELECT `orders`.* FROM `orders` WHERE `orders`.`customer_id` = {c} "
            f"ORDER BY `orders`.`created_at` DESC LIMIT 10",
            "missing_index_lookup",
            "top_n",
        )
        recent = (self.m.customer_orders.get(c, []) + self.new_orders.get(c, []))[::-1][:10]
        for oid in recent:  # N+1: the items of every order, one query per order
            req.add(
                f"SELECT `order_items`.* FROM `order_items` WHERE `order_items`.`order_id` = {oid}",
                "secondary_index_lookup",
                "n_plus_one",
            )
        return req.out

    def order_show(self) -> list[Statement]:
        req = self.web("web orders#show", "orders", "show", "/account/orders/:id")
        self.session_init(req)
        oid = self.r.randint(1, self.m.n["orders"])
        req.add(
            f"SELECT `orders`.*, `customers`.`email`, `customers`.`first_name` FROM `orders` "
            f"INNER JOIN `customers` ON `customers`.`id` = `orders`.`customer_id` WHERE `orders`.`id` = {oid} LIMIT 1",
            "pk_lookup",
            "join",
        )
        req.add(
            f"SELECT `order_items`.*, `products`.`name`, `products`.`sku` FROM `order_items` "
            f"INNER JOIN `products` ON `products`.`id` = `order_items`.`product_id` "
            f"WHERE `order_items`.`order_id` = {oid}",
            "join",
            "secondary_index_lookup",
        )
        req.add(f"SELECT `payments`.* FROM `payments` WHERE `payments`.`order_id` = {oid}", "secondary_index_lookup")
        return req.out

    def review_create(self) -> list[Statement]:
        req = self.web("web reviews#create", "reviews", "create", "/products/:id/reviews")
        self.session_init(req)
        pid, c = self.product(), self.customer()
        self.next_id["reviews"] += 1
        body = " ".join(self.r.choices(REVIEW_WORDS, k=self.r.randint(4, 20))).capitalize() + "."
        req.add(
            f"INSERT INTO `reviews` (`product_id`, `customer_id`, `rating`, `title`, `body`, `is_approved`, "
            f"`created_at`) VALUES ({pid}, {c}, {self.r.choice((5, 5, 4, 3, 1))}, "
            f"{q(self.r.choice(REVIEW_TITLES))}, {q(body)}, 1, {self.now()})",
            "insert",
        )
        req.add(
            f"UPDATE `products` SET `review_count` = `review_count` + 1, `rating_avg` = (SELECT AVG(`rating`) "
            f"FROM `reviews` WHERE `reviews`.`product_id` = {pid}), `updated_at` = {self.now()} "
            f"WHERE `products`.`id` = {pid}",
            "update_pk",
            "missing_index_lookup",
        )
        return req.out

    # -- mobile API (ORM B)
    def api_product(self) -> list[Statement]:
        req = self.api("api GET /v1/products/:id", "/v1/products/:id")
        self.session_init(req)
        pid = self.product()
        if self.r.random() < 0.25:  # the PHP client quotes every parameter
            req.add(
                f"SELECT id, sku, name, price_cents, currency, is_active FROM products WHERE id = '{pid}'",
                "pk_lookup",
                "quoted_number",
            )
        else:
            req.add(
                f"SELECT id, sku, name, price_cents, currency, is_active FROM products WHERE id = {pid}", "pk_lookup"
            )
        if self.r.random() < 0.3:
            req.add(
                f"SELECT AVG(rating) AS rating, COUNT(*) AS n FROM reviews WHERE product_id = {pid} "
                f"AND is_approved = 1",
                "missing_index_lookup",
            )
        return req.out

    def api_product_sku(self) -> list[Statement]:
        req = self.api("api GET /v1/products?sku=", "/v1/products")
        self.session_init(req)
        sku = self.m.products[self.product() - 1][0]
        req.add(f"SELECT id, sku, name, price_cents FROM products WHERE sku = {q(sku)}", "missing_index_lookup")
        return req.out

    def api_products_ids(self) -> list[Statement]:
        req = self.api("api GET /v1/products?ids=", "/v1/products")
        self.session_init(req)
        n = self.m.n["products"]
        ids = sorted(self.r.sample(range(1, n + 1), min(n, _in_len(self.r))))
        req.add(
            f"SELECT id, name, price_cents, currency FROM products WHERE id IN ({','.join(map(str, ids))})", "in_list"
        )
        return req.out

    def api_inventory(self) -> list[Statement]:
        req = self.api("api GET /v1/inventory?ids=", "/v1/inventory")
        self.session_init(req)
        ids = sorted({self.product() for _ in range(_in_len(self.r))})
        req.add(
            f"SELECT product_id, SUM(quantity - reserved) AS available FROM inventory "
            f"WHERE product_id IN ({', '.join(map(str, ids))}) GROUP BY product_id",
            "in_list",
            "group_by",
        )
        return req.out

    def api_order_ref(self) -> list[Statement]:
        req = self.api("api GET /v1/orders?external_ref=", "/v1/orders")
        self.session_init(req)
        refs = self.m.order_external_refs
        ref = refs[self.r.randrange(len(refs))] or str(self.r.randint(4_000_000_000, 4_999_999_999))
        # W6: external_ref is VARCHAR, compared with a number: no index use, a cast per row
        req.add(
            f"SELECT id, customer_id, status, total_cents, created_at FROM orders WHERE external_ref = {ref}",
            "implicit_conversion",
        )
        return req.out

    def api_customer_phone(self) -> list[Statement]:
        req = self.api("api GET /v1/customers?phone=", "/v1/customers")
        self.session_init(req)
        phone = self.m.customer_phones[self.customer() - 1] or "4915112345678"
        req.add(
            f"SELECT id, email, first_name, last_name FROM customers WHERE phone = {re.sub(r'[^0-9]', '', phone)}",
            "implicit_conversion",
        )
        if self.r.random() < 0.5:
            req.add("SHOW WARNINGS", "show", raw=True)
        return req.out

    def api_events(self) -> list[Statement]:
        req = self.api("api POST /v1/events", "/v1/events")
        self.session_init(req)
        rows = []
        token, customer = self.m.carts[self.r.randrange(self.m.n["carts"])]
        for _ in range(self.r.randint(1, 12)):
            et = self.r.choice(EVENT_TYPES)
            pid = self.product()
            path = (
                f"/products/{pid}"
                if et in ("page_view", "add_to_cart")
                else (f"/search?q={urllib.parse.quote(self.r.choice(SEARCH_TERMS))}" if et == "search" else "/checkout")
            )
            rows.append(
                f"('{token}', {q(customer)}, '{et}', {q(path)}, {pid if et != 'search' else 'NULL'}, {self.now()})"
            )
        req.add(
            "INSERT INTO events (session_token, customer_id, event_type, path, product_id, created_at) VALUES "
            + ", ".join(rows),
            "insert",
            "insert_multi" if len(rows) > 1 else "insert",
        )
        return req.out

    # -- reports (hand-written SQL, multi-line)
    def _day(self, recent_days: int = 880) -> int:
        return DATA_END - 86400 * (1 + int(recent_days * self.r.random() ** 1.5))

    def report_daily(self) -> list[Statement]:
        req = self.report("report daily_sales")
        self.session_init(req)
        start = self._day()
        days = self.r.choice((1, 7, 7, 14, 30))
        hint = "/*+ MAX_EXECUTION_TIME(10000) */ " if self.r.random() < 0.4 else ""
        req.add(
            f"SELECT {hint}DATE(created_at) AS day, COUNT(*) AS orders, SUM(total_cents) AS revenue\n"
            f"FROM orders\nWHERE created_at >= '{day(start)}' AND created_at < '{day(start + 86400 * days)}'\n"
            f"  AND status <> 'cancelled'\nGROUP BY DATE(created_at)\nORDER BY day",
            "date_range",
            "group_by",
            *(["optimizer_hint"] if hint else []),
        )
        return req.out

    def report_on_day(self) -> list[Statement]:
        req = self.report("report orders_on_day")
        self.session_init(req)
        # W5: DATE(created_at) = '...' cannot use idx_orders_created_at
        req.add(
            f"SELECT COUNT(*) AS orders, SUM(total_cents) AS revenue FROM orders "
            f"WHERE DATE(created_at) = '{day(self._day())}'",
            "non_sargable_date",
        )
        return req.out

    def report_top_products(self) -> list[Statement]:
        req = self.report("report top_products")
        self.session_init(req)
        start = self._day(400)
        straight = self.r.random() < 0.3
        req.add(
            f"SELECT {'STRAIGHT_JOIN ' if straight else ''}p.id, p.name, SUM(oi.quantity) AS units, "
            f"SUM(oi.quantity * oi.unit_price_cents) AS revenue\n"
            f"FROM orders o\n  JOIN order_items oi ON oi.order_id = o.id\n  JOIN products p ON p.id = oi.product_id\n"
            f"WHERE o.created_at >= '{day(start)}' AND o.created_at < '{day(start + 86400 * self.r.choice((7, 30)))}'\n"
            f"GROUP BY p.id, p.name\nORDER BY units DESC\nLIMIT 10",
            "join",
            "join_3plus",
            "group_by",
            "top_n",
            "date_range",
            *(["optimizer_hint"] if straight else []),
        )
        return req.out

    def report_category_revenue(self) -> list[Statement]:
        req = self.report("report category_revenue")
        self.session_init(req)
        start = self._day(300)
        req.add(
            f"SELECT c.name AS category, COUNT(DISTINCT o.id) AS orders, SUM(oi.quantity * oi.unit_price_cents) AS revenue\n"
            f"FROM orders o{' FORCE INDEX (idx_orders_created_at)' if self.index_hints else ''}\n"
            f"  JOIN order_items oi ON oi.order_id = o.id\n"
            f"  JOIN product_categories pc ON pc.product_id = oi.product_id\n"
            f"  JOIN categories c ON c.id = pc.category_id\n"
            f"WHERE o.created_at BETWEEN '{ts(start)}' AND '{ts(start + 86400 * 7 - 1)}'\n"
            f"GROUP BY c.name\nORDER BY revenue DESC",
            "join",
            "join_3plus",
            "group_by",
            "date_range",
            *(["index_hint"] if self.index_hints else []),
        )
        return req.out

    def report_status(self) -> list[Statement]:
        req = self.report("report status_counts")
        self.session_init(req)
        if self.r.random() < 0.5:
            req.add("SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY n DESC", "group_by")
        else:
            st = self.r.sample(ORDER_STATUSES[:3], self.r.randint(1, 3))
            req.add(
                f"SELECT status, COUNT(*) AS n, SUM(total_cents) AS total FROM orders "
                f"WHERE status IN ({', '.join(map(q, st))}) AND created_at >= '{day(self._day(60))}' "
                f"GROUP BY status",
                "group_by",
                "in_list",
                "date_range",
            )
        return req.out

    def report_cancelled_customers(self) -> list[Statement]:
        req = self.report("report cancelled_customers")
        self.session_init(req)
        req.add(
            f"SELECT id, email, first_name, last_name\nFROM customers\n"
            f"WHERE id IN (SELECT customer_id FROM orders WHERE status = 'cancelled' "
            f"AND created_at >= '{day(self._day(200))}')\nORDER BY id\nLIMIT 50",
            "subquery_in",
            "date_range",
        )
        return req.out

    def report_exists(self) -> list[Statement]:
        req = self.report("report products_in_stock")
        self.session_init(req)
        brand = self.r.choice(BRANDS)
        req.add(
            f"SELECT p.id, p.sku, p.name FROM products p WHERE p.brand = {q(brand)} AND EXISTS "
            f"(SELECT 1 FROM inventory i WHERE i.product_id = p.id AND i.quantity > {self.r.choice((0, 5, 10))}) "
            f"ORDER BY p.name LIMIT 100",
            "exists",
            "secondary_index_lookup",
        )
        return req.out

    def report_never_ordered(self) -> list[Statement]:
        req = self.report("report never_ordered")
        self.session_init(req)
        req.add(
            "SELECT p.id, p.sku, p.name, p.created_at\nFROM products p\n"
            "WHERE NOT EXISTS (SELECT 1 FROM order_items oi WHERE oi.product_id = p.id)\n"
            f"  AND p.created_at < '{day(self._day(300))}'\nORDER BY p.created_at\nLIMIT 50",
            "exists",
        )
        return req.out

    def report_not_in(self) -> list[Statement]:
        req = self.report("report customers_without_orders")
        self.session_init(req)
        since = self._day(120)
        req.add(
            f"SELECT c.id, c.email, c.created_at FROM customers c "
            f"WHERE c.created_at >= '{day(since - 86400 * 30)}' AND c.id NOT IN "
            f"(SELECT o.customer_id FROM orders o WHERE o.created_at >= '{day(since)}') "
            f"ORDER BY c.created_at DESC LIMIT 100",
            "not_in",
            "date_range",
        )
        return req.out

    def report_correlated(self) -> list[Statement]:
        req = self.report("report brand_reviews")
        self.session_init(req)
        brand = self.r.choice(BRANDS)
        # correlated subquery on an unindexed column: one reviews scan per product (W2)
        req.add(
            f"SELECT p.id, p.name,\n       (SELECT COUNT(*) FROM reviews r WHERE r.product_id = p.id) AS reviews\n"
            f"FROM products p\nWHERE p.brand = {q(brand)}\nORDER BY p.id\nLIMIT {self.r.choice((5, 10))}",
            "correlated_subquery",
            "missing_index_lookup",
        )
        return req.out

    # -- admin / back office (ORM A, marginalia comments)
    def admin_orders(self) -> list[Statement]:
        req = self.admin("admin orders#index", "orders", "index")
        self.session_init(req)
        x = self.r.random()
        per = 50
        if x < 0.5:
            page = self.r.randint(0, 5)
            kinds = ["top_n"]
        else:  # somebody clicks "last page": deep OFFSET pagination
            page = int(self.m.n["orders"] / per * self.r.uniform(0.3, 1.0)) - 1
            kinds = ["top_n", "deep_offset"]
        if self.r.random() < 0.5:
            st = self.r.choice(ORDER_STATUSES)
            req.add(
                f"SELECT `orders`.* FROM `orders` WHERE `orders`.`status` = '{st}' "
                f"ORDER BY `orders`.`created_at` DESC LIMIT {per} OFFSET {max(0, page) * per // 4}",
                *kinds,
                "secondary_index_lookup",
            )
        else:
            req.add(
                f"SELECT `orders`.* FROM `orders` ORDER BY `orders`.`created_at` DESC "
                f"LIMIT {per} OFFSET {max(0, page) * per}",
                *kinds,
            )
        req.add("SELECT COUNT(*) FROM `orders`", "group_by")
        return req.out

    def admin_export(self) -> list[Statement]:
        req = self.admin("admin customers#export", "customers", "export")
        self.session_init(req)
        after = self.r.randint(0, max(0, self.m.n["customers"] - 500))
        req.add(
            f"SELECT /*!40001 SQL_NO_CACHE */ `customers`.`id`, `customers`.`email`, `customers`.`first_name`, "
            f"`customers`.`last_name`, `customers`.`country`, `customers`.`created_at` FROM `customers` "
            f"WHERE `customers`.`id` > {after} ORDER BY `customers`.`id` ASC LIMIT 500",
            "no_cache",
            "top_n",
        )
        return req.out

    def admin_product_update(self) -> list[Statement]:
        req = self.admin("admin products#update", "products", "update")
        self.session_init(req)
        pid = self.r.randint(1, self.m.n["products"])
        req.add(f"SELECT `products`.* FROM `products` WHERE `products`.`id` = {pid} LIMIT 1", "pk_lookup")
        req.add("BEGIN", "transaction", raw=True)
        req.add(
            f"UPDATE `products` SET `price_cents` = {self.m.products[pid - 1][3] + self.r.choice((-100, 100, 200))}, "
            f"`updated_at` = {self.now()} WHERE `products`.`id` = {pid}",
            "update_pk",
        )
        req.add("COMMIT", "transaction", raw=True)
        return req.out

    def admin_timeline(self) -> list[Statement]:
        req = self.admin("admin events#timeline", "events", "timeline")
        self.session_init(req)
        token = self.m.carts[self.r.randrange(self.m.n["carts"])][0]
        # W7: no index on events(session_token)
        req.add(
            f"SELECT `events`.* FROM `events` WHERE `events`.`session_token` = '{token}' "
            f"ORDER BY `events`.`created_at` ASC",
            "missing_index_lookup",
        )
        return req.out

    def monitoring(self) -> list[Statement]:
        req = self.admin("admin monitoring", "health", "check")
        stmts = [
            "SELECT 1",
            "SHOW GLOBAL STATUS LIKE 'Threads_connected'",
            "SHOW VARIABLES LIKE 'max_connections'",
            "SHOW FULL PROCESSLIST",
            "SHOW TABLE STATUS LIKE 'orders'",
            "SHOW INDEX FROM orders",
            "SHOW ENGINE INNODB STATUS",
            "SHOW SLAVE STATUS",
        ]
        s = self.r.choice(stmts)
        req.add(s, "show" if s.startswith("SHOW") else "ping", raw=True)
        return req.out

    # -- background jobs (ORM B + /* app=worker */)
    def worker_fulfillment(self) -> list[Statement]:
        req = self.worker("worker FulfillmentJob", "FulfillmentJob")
        self.session_init(req)
        cutoff = self.clock - 86400 * self.r.choice((1, 2, 3))
        # W4: status (5 values) + created_at range, only single-column indexes
        req.add(
            f"SELECT id FROM orders WHERE status = 'paid' AND created_at < {q(ts(cutoff))} "
            f"ORDER BY created_at ASC LIMIT 100",
            "secondary_index_lookup",
            "top_n",
            "date_range",
        )
        lo = self.r.randint(max(1, self.m.n["orders"] - 3000), self.m.n["orders"])
        req.add("BEGIN", "transaction", raw=True)
        req.add(
            f"UPDATE orders SET status = 'shipped', updated_at = {self.now()} WHERE status = 'paid' "
            f"AND id BETWEEN {lo} AND {lo + self.r.randint(10, 200)}",
            "update_range",
        )
        req.add("COMMIT", "transaction", raw=True)
        return req.out

    def worker_abandoned_carts(self) -> list[Statement]:
        req = self.worker("worker AbandonedCartJob", "AbandonedCartJob")
        self.session_init(req)
        cutoff = self.clock - 86400 * self.r.choice((3, 7))
        req.add(
            f"UPDATE carts SET status = 'abandoned', updated_at = {self.now()} WHERE status = 'active' "
            f"AND updated_at < {q(ts(cutoff))}",
            "update_range",
            "date_range",
        )
        req.add(
            f"DELETE FROM cart_items WHERE cart_id IN (SELECT id FROM carts WHERE status = 'abandoned' "
            f"AND updated_at < {q(ts(cutoff - 86400 * 60))})",
            "delete",
            "subquery_in",
        )
        return req.out

    def worker_restock(self) -> list[Statement]:
        req = self.worker("worker RestockJob", "RestockJob")
        self.session_init(req)
        rows = [
            f"({self.r.randint(1, self.m.n['products'])}, {self.r.randint(1, 4)}, {self.r.randint(10, 200)}, 0, "
            f"{self.now()})"
            for _ in range(self.r.randint(2, 25))
        ]
        req.add(
            "INSERT INTO inventory (product_id, warehouse_id, quantity, reserved, updated_at) VALUES "
            + ", ".join(rows)
            + " ON DUPLICATE KEY UPDATE quantity = quantity + VALUES(quantity), "
            "updated_at = VALUES(updated_at)",
            "upsert",
            "insert",
            "insert_multi",
        )
        return req.out

    def worker_purge_events(self) -> list[Statement]:
        req = self.worker("worker EventsPurgeJob", "EventsPurgeJob")
        self.session_init(req)
        cutoff = DATA_END - 86400 * self.r.randint(60, 89)
        req.add(
            f"DELETE FROM events WHERE created_at < {q(ts(cutoff))} ORDER BY created_at LIMIT 500",
            "delete",
            "date_range",
        )
        return req.out


def generate_statements(
    statements: int = 20000,
    seed: int = DEFAULT_REPLAY_SEED,
    scale: float = 1.0,
    data_seed: int = DEFAULT_DATA_SEED,
    id_base: dict[str, int] | None = None,
    model: ShopModel | None = None,
    index_hints: bool = True,
) -> list[Statement]:
    """The replayed statements, exactly ``statements`` of them: a pure function of the arguments.

    ``id_base`` gives the current MAX(id) of customers/orders/reviews/carts when the database is
    not freshly loaded (default: the loaded sizes). ``index_hints=False`` leaves out the one
    ``FORCE INDEX`` (for databases loaded without secondary indexes: a hint naming a missing
    index is an error).
    """
    if statements < 0:
        raise ValueError("statements must be >= 0")
    m = model or ShopModel(scale, data_seed)
    return _Generator(seed, m, id_base, index_hints).run(statements)


# ----------------------------------------------------------------------------------------------
# Replay
class ReplayError(RuntimeError):
    def __init__(self, index: int, stmt: Statement, error: Exception) -> None:
        super().__init__(f"statement {index} ({stmt.endpoint}, {stmt.session}) failed: {error}\n  {stmt.sql[:500]}")
        self.index, self.statement, self.error = index, stmt, error


def probe_id_base(conn: Any, database: str = DEFAULT_DATABASE) -> dict[str, int]:
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT (SELECT COALESCE(MAX(id), 0) FROM `{database}`.customers), "
            f"(SELECT COALESCE(MAX(id), 0) FROM `{database}`.orders), "
            f"(SELECT COALESCE(MAX(id), 0) FROM `{database}`.reviews), "
            f"(SELECT COALESCE(MAX(id), 0) FROM `{database}`.carts)"
        )
        c, o, r, k = cur.fetchone()
    return {"customers": int(c), "orders": int(o), "reviews": int(r), "carts": int(k)}


def has_secondary_indexes(conn: Any, database: str = DEFAULT_DATABASE) -> bool:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = %s "
            "AND table_name = 'orders' AND index_name = 'idx_orders_created_at'",
            (database,),
        )
        return bool(cur.fetchone()[0])


def replay(
    conn: Any,
    statements: int = 20000,
    seed: int = DEFAULT_REPLAY_SEED,
    *,
    scale: float = 1.0,
    data_seed: int = DEFAULT_DATA_SEED,
    database: str = DEFAULT_DATABASE,
    connect: Callable[[str], Any] | None = None,
    id_base: dict[str, int] | str | None = None,
    index_hints: bool | None = True,
    strict: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Replay the generated statements through PyMySQL, as the application would.

    ``conn`` runs every logical session unless ``connect(app)`` is given, which then opens one
    connection per logical session (apps: web, api, report, worker, admin), e.g. with a
    different user each. Connections should be in autocommit mode (the workload sends its own
    BEGIN/COMMIT). ``strict`` raises ``ReplayError`` on the first failing statement; otherwise
    errors are counted. Returns a summary: counts per kind/endpoint/session, errors, elapsed.

    ``id_base="probe"`` reads the current MAX(id)s first (to replay again on the same database);
    ``index_hints=None`` checks whether the hinted index exists (False for a database loaded with
    ``secondary_indexes=False``). Both probes are statements of their own on ``conn``.
    """
    say = progress or (lambda _msg: None)
    if id_base == "probe":
        id_base = probe_id_base(conn, database)
    if index_hints is None:
        index_hints = has_secondary_indexes(conn, database)
    stmts = generate_statements(
        statements,
        seed,
        scale,
        data_seed,
        id_base,  # type: ignore[arg-type]
        index_hints=index_hints,
    )
    conns: dict[str, Any] = {}
    opened: list[Any] = []

    def conn_for(session: str) -> Any:
        c = conns.get(session)
        if c is None:
            if connect is None:
                c = conn
            else:
                c = connect(session.rsplit("-", 1)[0])
                opened.append(c)
            if not c.get_autocommit():
                c.autocommit(True)  # the workload sends its own BEGIN/COMMIT
            current = c.db.decode() if isinstance(c.db, bytes) else c.db
            if current != database:
                c.select_db(database)  # COM_INIT_DB, as drivers do; not a statement
                c.db = database
            conns[session] = c
        return c

    kinds: Counter = Counter()
    endpoints: Counter = Counter()
    sessions: Counter = Counter()
    endpoint_time: Counter = Counter()
    errors: list[dict[str, Any]] = []
    slowest: list[tuple[float, str]] = []
    t0 = time.monotonic()
    try:
        for i, st in enumerate(stmts):
            c = conn_for(st.session)
            t = time.perf_counter()
            try:
                with c.cursor() as cur:
                    cur.execute(st.sql)
                    cur.fetchall()
            except Exception as e:  # pymysql.MySQLError and friends
                if strict:
                    raise ReplayError(i, st, e) from e
                errors.append({"index": i, "endpoint": st.endpoint, "error": str(e), "sql": st.sql[:300]})
            dt = time.perf_counter() - t
            endpoint_time[st.endpoint] += dt
            if len(slowest) < 10 or dt > slowest[0][0]:
                bisect.insort(slowest, (dt, st.sql[:160]))
                if len(slowest) > 10:
                    slowest.pop(0)
            kinds.update(st.kinds)
            endpoints[st.endpoint] += 1
            sessions[st.session] += 1
            if progress and (i + 1) % 5000 == 0:
                say(f"replayed {i + 1}/{len(stmts)} statements ({time.monotonic() - t0:.1f} s)")
    finally:
        thread_ids = {s: c.thread_id() for s, c in conns.items() if c.open}
        for c in opened:
            try:
                c.close()
            except Exception:
                pass
    elapsed = time.monotonic() - t0
    return {
        "statements": len(stmts),
        "seed": seed,
        "scale": scale,
        "data_seed": data_seed,
        "index_hints": index_hints,
        "elapsed_seconds": round(elapsed, 3),
        "errors": len(errors),
        "error_samples": errors[:20],
        "by_kind": dict(sorted(kinds.items())),
        "by_endpoint": dict(sorted(endpoints.items())),
        "by_session": dict(sorted(sessions.items())),
        "thread_ids": thread_ids,
        "seconds_by_endpoint": {k: round(v, 3) for k, v in sorted(endpoint_time.items(), key=lambda kv: -kv[1])},
        "slowest": [{"seconds": round(s, 4), "sql": q_} for s, q_ in reversed(slowest)],
    }


# ----------------------------------------------------------------------------------------------
# Recording on a throwaway MariaDB
VERBOSITY_CANDIDATES = ("query_plan", "innodb", "engine", "explain", "warnings")
APP_USERS = {app: (f"shop_{app}", f"{app}-secret") for app in APPS}


def accepted_verbosity(conn: Any) -> list[str]:
    """The log_slow_verbosity values this server accepts (MariaDB only), probed one by one."""
    ok = []
    with conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.log_slow_verbosity")
        original = cur.fetchone()[0]
        for v in VERBOSITY_CANDIDATES + ("full",):
            try:
                cur.execute("SET GLOBAL log_slow_verbosity = %s", (v,))
                ok.append(v)
            except Exception:
                pass
        cur.execute("SET GLOBAL log_slow_verbosity = %s", (original,))
    return ok


def count_slow_log_events(path: str | os.PathLike) -> dict[str, int]:
    opener = gzip.open if str(path).endswith(".gz") else open
    counts: Counter = Counter()
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:  # type: ignore[operator]
        for line in f:
            if line.startswith("# Query_time:"):
                counts["events"] += 1
            elif line.startswith("# Time:"):
                counts["time_lines"] += 1
            elif line.startswith("# explain:"):
                counts["explain_lines"] += 1
            counts["lines"] += 1
    return dict(counts)


def sidecar_path(out_path: str | os.PathLike) -> Path:
    """``slow.log.gz`` -> ``slow.log.json``; ``x.log`` -> ``x.log.json``."""
    p = Path(out_path)
    name = p.name[:-3] if p.name.endswith(".gz") else p.name
    return p.with_name(name + ".json")


def record(
    out_path: str | os.PathLike,
    scale: float = 1.0,
    statements: int = 20000,
    seed: int = DEFAULT_REPLAY_SEED,
    *,
    data_seed: int = DEFAULT_DATA_SEED,
    database: str = DEFAULT_DATABASE,
    log_slow_verbosity: str | None = "auto",
    buffer_pool: str = "512M",
    progress: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Record the workload's slow log on a throwaway local MariaDB.

    Loads the data with the slow log off, then sets ``long_query_time=0``, the richest
    ``log_slow_verbosity`` the server accepts ("auto") and ``slow_query_log=ON``, replays with
    one connection (and MariaDB user) per logical session, shuts the server down and writes the
    log to ``out_path`` (gzip when it ends in .gz) plus a ``.json`` sidecar next to it.
    """
    import pymysql

    from sample_workloads.localserver import LocalMariaDB  # local import: keeps generation server-free

    say = progress or (lambda _msg: None)
    out_path = Path(out_path)
    t_all = time.monotonic()
    srv = LocalMariaDB(
        slow_query_log=False,
        long_query_time=0,
        options={"innodb_buffer_pool_size": buffer_pool, "max_connections": 100},
    )
    try:
        say(f"server {srv.version} up at {srv.socket}")
        admin = srv.connect()
        with admin.cursor() as cur:  # keep this session's own statements out of the slow log
            cur.execute("SET SESSION long_query_time = 100000")
        load_summary = load(admin, scale, data_seed, database=database, progress=say)
        say(f"loaded scale {scale} in {load_summary['seconds']['total']:.1f} s")
        with admin.cursor() as cur:
            for app, (user, pw) in APP_USERS.items():
                cur.execute(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{pw}'")
                priv = "SELECT" if app == "report" else "SELECT, INSERT, UPDATE, DELETE"
                cur.execute(f"GRANT {priv} ON `{database}`.* TO '{user}'@'localhost'")
            cur.execute("GRANT PROCESS, SLAVE MONITOR ON *.* TO 'shop_admin'@'localhost'")
        accepted = accepted_verbosity(admin) if srv.flavor == "mariadb" else []
        verbosity = ",".join(v for v in accepted if v != "full") if log_slow_verbosity == "auto" else log_slow_verbosity
        with admin.cursor() as cur:
            if srv.flavor == "mariadb" and verbosity is not None:
                cur.execute("SET GLOBAL log_slow_verbosity = %s", (verbosity,))
            cur.execute("SET GLOBAL long_query_time = 0")
            cur.execute("SET GLOBAL slow_query_log = ON")
            cur.execute(
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'version_comment', "
                "'long_query_time', 'log_slow_verbosity', 'log_slow_filter', 'log_slow_rate_limit', "
                "'log_slow_admin_statements', 'log_slow_disabled_statements', 'log_slow_max_warnings', "
                "'log_slow_min_examined_row_limit', 'performance_schema', 'innodb_buffer_pool_size', "
                "'innodb_flush_log_at_trx_commit', 'character_set_server', 'collation_server', "
                "'optimizer_switch', 'time_zone', 'system_time_zone', 'version_compile_machine')"
            )
            server_vars = dict(cur.fetchall())

        def connect(app: str) -> Any:
            user, pw = APP_USERS[app]
            return pymysql.connect(
                unix_socket=srv.socket, user=user, password=pw, database=database, charset="utf8mb4", autocommit=True
            )

        say(f"slow log on (log_slow_verbosity={verbosity}); replaying {statements} statements")
        summary = replay(
            None, statements, seed, scale=scale, data_seed=data_seed, database=database, connect=connect, progress=say
        )
        say(f"replayed {summary['statements']} statements in {summary['elapsed_seconds']:.1f} s")
        with admin.cursor() as cur:
            cur.execute("SET GLOBAL slow_query_log = OFF")
        admin.close()
        srv.stop(keep=True)
        raw_path = srv.slow_log_path
        raw_size = os.path.getsize(raw_path)
        counts = count_slow_log_events(raw_path)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        if out_path.suffix == ".gz":
            with (
                open(raw_path, "rb") as src,
                open(out_path, "wb") as raw_out,
                gzip.GzipFile(filename="slow.log", mode="wb", fileobj=raw_out, mtime=0, compresslevel=9) as dst,
            ):
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            shutil.copyfile(raw_path, out_path)
        with open(raw_path, "rb") as f:
            head = f.read(512).decode("utf-8", "replace").splitlines()
            sha = hashlib.sha256()
            f.seek(0)
            for chunk in iter(lambda: f.read(1 << 20), b""):
                sha.update(chunk)
    finally:
        if srv.running:
            srv.stop(keep=False)
        else:
            srv.cleanup()
    total = time.monotonic() - t_all
    meta = {
        "file": out_path.name,
        "description": "Slow log of the 'shop' sample workload, recorded from a real MariaDB server by "
        "`python -m sample_workloads.shop.workload record`.",
        "recorded_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "server": {
            "flavor": srv.flavor,
            "version": server_vars.get("version"),
            "version_comment": server_vars.get("version_comment"),
            "log_header": head[:3],
            "command_line": [a.replace(srv.tmpdir, "$TMP") for a in srv.command],
            "variables": server_vars,
            "log_slow_verbosity_accepted": accepted,
        },
        "workload": {
            "scale": scale,
            "data_seed": data_seed,
            "replay_seed": seed,
            "statements": summary["statements"],
            "database": database,
            "users": {app: u for app, (u, _) in APP_USERS.items()},
            "by_kind": summary["by_kind"],
            "by_endpoint": summary["by_endpoint"],
            "by_session": summary["by_session"],
            "errors": summary["errors"],
        },
        "load": {"rows": load_summary["rows"], "seconds": load_summary["seconds"]},
        "log": {
            "events": counts.get("events", 0),
            "time_lines": counts.get("time_lines", 0),
            "explain_lines": counts.get("explain_lines", 0),
            "lines": counts.get("lines", 0),
            "bytes": raw_size,
            "sha256": sha.hexdigest(),
            "stored_bytes": os.path.getsize(out_path),
            "stored_as": "gzip" if out_path.suffix == ".gz" else "plain",
        },
        "timings_seconds": {
            "load": load_summary["seconds"]["total"],
            "replay": summary["elapsed_seconds"],
            "total": round(total, 3),
        },
        "replay_seconds_by_endpoint": summary["seconds_by_endpoint"],
        "environment": {
            "python": platform.python_version(),
            "pymysql": pymysql.__version__,
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
    }
    sidecar = sidecar_path(out_path)
    sidecar.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    say(
        f"wrote {out_path} ({meta['log']['stored_bytes']} bytes; {counts.get('events', 0)} events, "
        f"{raw_size} bytes raw) and {sidecar}"
    )
    return meta


# ----------------------------------------------------------------------------------------------
# CLI
def _connect_from_args(args: argparse.Namespace) -> Any:
    import pymysql

    kw: dict[str, Any] = {
        "user": args.user or "root",
        "password": os.environ.get("MYSQL_PWD", ""),
        "charset": "utf8mb4",
        "autocommit": True,
    }
    if args.dsn:
        u = urllib.parse.urlsplit(args.dsn)
        if u.scheme not in ("mysql", "mariadb"):
            print(f"error: unsupported DSN scheme {u.scheme!r}", file=sys.stderr)
            raise SystemExit(2)
        qs = urllib.parse.parse_qs(u.query)
        if u.username:
            kw["user"] = urllib.parse.unquote(u.username)
        if u.password:
            kw["password"] = urllib.parse.unquote(u.password)
        if "socket" in qs:
            kw["unix_socket"] = qs["socket"][0]
        else:
            kw["host"] = u.hostname or "localhost"
            kw["port"] = u.port or 3306
    elif args.socket:
        kw["unix_socket"] = args.socket
    else:
        kw["host"] = args.host or "127.0.0.1"
        kw["port"] = args.port or 3306
    try:
        return pymysql.connect(**kw)
    except pymysql.MySQLError as e:
        print(f"error: cannot connect: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sample_workloads.shop.workload", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def conn_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--dsn", help="mysql://user@host:port/ or mysql://root@localhost/?socket=/path (password from MYSQL_PWD)"
        )
        sp.add_argument("--socket", help="Unix socket path")
        sp.add_argument("--host")
        sp.add_argument("--port", type=int)
        sp.add_argument("--user", help="default root")
        sp.add_argument("--database", default=DEFAULT_DATABASE)

    sp = sub.add_parser("load", help="create the schema and load the generated data")
    conn_opts(sp)
    sp.add_argument("--scale", type=float, default=1.0)
    sp.add_argument("--seed", type=int, default=DEFAULT_DATA_SEED)
    sp.add_argument("--no-secondary-indexes", action="store_true", help="primary keys only")

    sp = sub.add_parser("replay", help="replay the query mix against a loaded database")
    conn_opts(sp)
    sp.add_argument("--statements", type=int, default=20000)
    sp.add_argument("--seed", type=int, default=DEFAULT_REPLAY_SEED)
    sp.add_argument("--scale", type=float, default=1.0, help="scale the database was loaded with")
    sp.add_argument("--data-seed", type=int, default=DEFAULT_DATA_SEED)
    sp.add_argument("--probe-ids", action="store_true", help="continue new ids after the current MAX(id)s")
    sp.add_argument("--keep-going", action="store_true", help="count errors instead of stopping")
    sp.add_argument(
        "--no-index-hints",
        action="store_true",
        help="leave out FORCE INDEX (for a database loaded with --no-secondary-indexes)",
    )

    sp = sub.add_parser("record", help="load + replay on a throwaway MariaDB and save its slow log")
    sp.add_argument("--out", default=str(Path(__file__).with_name("slow.log.gz")))
    sp.add_argument("--scale", type=float, default=1.0)
    sp.add_argument("--statements", type=int, default=20000)
    sp.add_argument("--seed", type=int, default=DEFAULT_REPLAY_SEED)
    sp.add_argument("--data-seed", type=int, default=DEFAULT_DATA_SEED)
    sp.add_argument(
        "--log-slow-verbosity", default="auto", help="'auto' (everything the server accepts), '' (none) or a value list"
    )

    sp = sub.add_parser("statements", help="print the generated statements (no server)")
    sp.add_argument("--statements", type=int, default=50)
    sp.add_argument("--seed", type=int, default=DEFAULT_REPLAY_SEED)
    sp.add_argument("--scale", type=float, default=1.0)
    sp.add_argument("--data-seed", type=int, default=DEFAULT_DATA_SEED)
    sp.add_argument("--with-endpoint", action="store_true", help="prefix each with -- endpoint [session]")

    args = p.parse_args(argv)
    err = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    if args.cmd == "statements":
        for st in generate_statements(args.statements, args.seed, args.scale, args.data_seed):
            if args.with_endpoint:
                print(f"-- {st.endpoint} [{st.session}] {','.join(sorted(st.kinds))}")
            print(st.sql.rstrip() + ";")
        return 0
    if args.cmd == "record":
        verbosity = None if args.log_slow_verbosity == "" else args.log_slow_verbosity
        meta = record(
            args.out,
            args.scale,
            args.statements,
            args.seed,
            data_seed=args.data_seed,
            log_slow_verbosity=verbosity,
            progress=err,
        )
        print(json.dumps({k: meta[k] for k in ("log", "timings_seconds")}, indent=2))
        return 0
    conn = _connect_from_args(args)
    try:
        if args.cmd == "load":
            out = load(
                conn,
                args.scale,
                args.seed,
                database=args.database,
                secondary_indexes=not args.no_secondary_indexes,
                progress=err,
            )
        else:
            out = replay(
                conn,
                args.statements,
                args.seed,
                scale=args.scale,
                data_seed=args.data_seed,
                database=args.database,
                id_base="probe" if args.probe_ids else None,
                index_hints=not args.no_index_hints,
                strict=not args.keep_going,
                progress=err,
            )
    finally:
        conn.close()
    print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
