"""Throughput of ``StorageTx.apply_page``, the hot path of every sync run.

Stores N realistic orders (2-3 lines; a fifth with units canceled before fulfilment, one in
twelve canceled as a whole) in pages of 250, one transaction per page like a run does, then
applies the same pages again (the no-op re-run of a window). Verdicts are judged beforehand, so
only storage is timed.

    python bench/storage_apply_page.py                      # SQLite file + fresh PostgreSQL database
    python bench/storage_apply_page.py --url sqlite:///bench.db --orders 200000
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import NewShop, OrderVerdict, judge_order  # noqa: E402
from plugins.storage.sqlalchemy.backend import SqlAlchemyBackend  # noqa: E402
from synthetic_orders import source_orders  # noqa: E402

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def make_verdicts(count: int) -> list[OrderVerdict]:
    return [judge_order(order) for order in source_orders(1, count, t0=T0, every_seconds=1, lines=(2, 3),
                                                          name_base=1000)]


def run(url: str, verdicts: list[OrderVerdict], page_size: int) -> None:
    storage = SqlAlchemyBackend().open(url)
    try:
        storage.upgrade()
        with storage.transaction() as tx:
            shop = tx.add_shop(NewShop(name=f"bench-{time.time_ns()}", url="https://bench.myshopify.com", api_version="2026-07"))
        pages = [verdicts[i : i + page_size] for i in range(0, len(verdicts), page_size)]
        for label in ("first application", "re-application"):
            units = 0
            started = time.perf_counter()
            for page in pages:
                with storage.transaction() as tx:
                    units += tx.apply_page(
                        shop_id=shop.id, run_id=None, verdicts=page, now=datetime.now(UTC)
                    ).units_canceled
            elapsed = time.perf_counter() - started
            print(
                f"{storage.engine.dialect.name:<10} {label:<18} {len(verdicts):>7} orders in {elapsed:6.2f} s"
                f" = {len(verdicts) / elapsed:8.0f} orders/s ({units} units canceled)",
                flush=True,
            )
    finally:
        storage.dispose()


@contextlib.contextmanager
def default_urls() -> Iterator[list[str]]:
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        urls = [f"sqlite:///{Path(folder, 'bench.db').as_posix()}"]
        try:
            from tests.services import fresh_postgres_database, postgres_available

            if postgres_available() is None:
                urls.append(stack.enter_context(fresh_postgres_database()))
            else:
                print("PostgreSQL not available; benchmarking SQLite only", file=sys.stderr)
        except ImportError:
            pass
        yield urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append", help="database URL (repeatable); default: SQLite and PostgreSQL")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=250)
    args = parser.parse_args()
    verdicts = make_verdicts(args.orders)
    if args.url:
        for url in args.url:
            run(url, verdicts, args.page_size)
        return
    with default_urls() as urls:
        for url in urls:
            run(url, verdicts, args.page_size)


if __name__ == "__main__":
    main()
