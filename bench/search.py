"""Order search at 100,000 orders: p50 and p99 of a page of 50 matches, for short terms and for
the longest term the API allows (core.Limits.SEARCH), on PostgreSQL (with its pg_trgm indexes,
and with them dropped, for comparison) and on SQLite (which has none).

Seeds each store with 100,000 synthetic orders (1-4 items each, names ``#100000`` on, SKUs
``SKU-0000`` to ``SKU-0499``; bench/synthetic_orders.py), then times ``list_orders(first=50)``
with a search term in a read transaction, as the ``orders`` query runs it, ``--rounds`` times per
kind of term, each round a different term of that kind:

* ``short rare``: three digits, e.g. ``417`` (a few hundred order names contain it);
* ``common``: ``SKU-0`` plus one digit, e.g. ``SKU-03`` (the prefix of a fifth of the SKUs:
  about half the orders match, the worst case: every match is read before the page is sorted);
* ``longest``: 100 characters beginning like an order name (no order matches).

    python bench/search.py                          # fresh PostgreSQL database and SQLite file
    python bench/search.py --orders 20000 --rounds 50
    python bench/search.py --only sqlite
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import Limits, NewShop, OrderQuery, Storage, judge_order  # noqa: E402
from plugins.storage.sqlalchemy.backend import SqlAlchemyBackend  # noqa: E402
from synthetic_orders import source_orders  # noqa: E402

ADMIN_POSTGRES_URL = os.environ.get("SYNC_GATEWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
T0 = datetime(2026, 6, 1, tzinfo=UTC)
TRIGRAM_INDEXES = {"ix_orders_name_trgm": ("orders", "name"), "ix_order_items_sku_trgm": ("order_items", "sku")}


def short_rare(rng: random.Random) -> str:
    return f"{rng.randrange(1000):03d}"


def common(rng: random.Random) -> str:
    return f"SKU-0{rng.randrange(5)}"


def longest(rng: random.Random) -> str:
    head = f"#1{rng.randrange(100_000):05d}"
    return head + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(Limits.SEARCH - len(head)))


TERMS: dict[str, Callable[[random.Random], str]] = {"short rare": short_rare, "common": common,
                                                    "longest": longest}


@contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg

    name = f"sg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="sg-bench-search-") as directory:
        yield f"sqlite:///{Path(directory) / 'search.db'}"


def seed(storage: Storage, orders: int) -> None:
    with storage.transaction() as tx:
        shop = tx.add_shop(NewShop(name="bench", url="https://bench.myshopify.com", api_version="2026-07"))
    started = time.perf_counter()
    for first in range(0, orders, 250):
        verdicts = [judge_order(o) for o in source_orders(first, min(250, orders - first), t0=T0, every_seconds=7,
                                                          lines=(1, 4), name_base=100_000)]
        with storage.transaction() as tx:
            tx.apply_page(shop_id=shop.id, run_id=None, verdicts=verdicts, now=datetime.now(UTC))
    print(f"  seeded {orders:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
    with storage.engine.connect() as conn:  # type: ignore[attr-defined]  # planner statistics after the bulk load
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def measure(storage: Storage, make_term: Callable[[random.Random], str], rounds: int) -> tuple[list[float], float]:
    """Milliseconds per page of 50 (after two warm-up queries), and the mean number of matches
    on the page."""
    rng = random.Random(12)
    for _ in range(2):
        with storage.read() as tx:
            tx.list_orders(OrderQuery(search=make_term(rng)), first=50)
    times, found = [], 0
    for _ in range(rounds):
        term = make_term(rng)
        started = time.perf_counter()
        with storage.read() as tx:
            page = tx.list_orders(OrderQuery(search=term), first=50)
        times.append((time.perf_counter() - started) * 1000)
        found += len(page.items)
    return times, found / rounds


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def report(label: str, storage: Storage, rounds: int) -> None:
    cells = []
    for kind, make in TERMS.items():
        times, found = measure(storage, make, rounds)
        cells.append(f"  {kind:<11} p50 {p(times, 50):7.1f} ms  p99 {p(times, 99):7.1f} ms  "
                     f"({found:4.1f} orders on the page)")
    print("\n".join([label, *cells]), flush=True)


def drop_trigram_indexes(storage: Storage) -> None:
    with storage.engine.begin() as conn:  # type: ignore[attr-defined]
        for name in TRIGRAM_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        conn.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200, help="queries per kind of term")
    parser.add_argument("--only", choices=("postgresql", "sqlite"))
    args = parser.parse_args()
    print(f"{args.orders:,} orders; a page of 50 matches, {args.rounds} different terms per kind; "
          f"the longest term is {Limits.SEARCH} characters")
    backend = SqlAlchemyBackend()
    if args.only in (None, "postgresql"):
        with postgres_database() as url:
            storage = backend.open(url)
            storage.upgrade()
            seed(storage, args.orders)
            report("PostgreSQL, pg_trgm indexes", storage, args.rounds)
            drop_trigram_indexes(storage)
            report("PostgreSQL, without them", storage, args.rounds)
            storage.dispose()
    if args.only in (None, "sqlite"):
        with sqlite_database() as url:
            storage = backend.open(url)
            storage.upgrade()
            seed(storage, args.orders)
            report("SQLite (no index serves it)", storage, args.rounds)
            storage.dispose()


if __name__ == "__main__":
    main()
