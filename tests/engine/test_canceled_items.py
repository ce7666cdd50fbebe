"""The canceled-items job end to end: simulated Shopify → source → engine → real storage.

Every test runs on a real SQLite file and on a fresh real PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import JobRunStatus, OrderStatus, RunTrigger
from plugins.shopify.simulator import FaultConfig

from ..harness import T0, Harness, fast_settings


@pytest.fixture
def shop(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    harness = Harness.build(fast_settings(tmp_path, database_url))
    yield harness
    harness.close()


def story(h: Harness) -> dict[str, str]:
    """A morning in a shop: partial cancels, a return, an edit, a full cancel, untouched orders."""
    sim = h.sim
    partial = sim.create_order(lines=[("TEE", 3), ("MUG", 1)])
    tee, mug = sim.line_item_ids(partial)
    h.advance(60)
    sim.cancel_units(partial, tee, 1, restock_type="CANCEL")
    sim.fulfil(partial, None)

    returned = sim.create_order(lines=[("CAP", 1)])
    (cap,) = sim.line_item_ids(returned)
    sim.fulfil(returned, None)
    h.advance(60)
    sim.return_units(returned, cap, 1, restock_type="RETURN")

    no_restock = sim.create_order(lines=[("SOCK", 4)])
    (sock,) = sim.line_item_ids(no_restock)
    sim.cancel_units(no_restock, sock, 2, restock_type="NO_RESTOCK")

    edited = sim.create_order(lines=[("BAG", 5)])
    (bag,) = sim.line_item_ids(edited)
    sim.edit_remove_units(edited, bag, 2)

    canceled = sim.create_order(lines=[("HAT", 2), ("PIN", 1)])
    sim.cancel_order(canceled, reason="CUSTOMER", refund=True)

    for _ in range(5):
        sim.create_order(lines=[("PLAIN", 1)])
    h.advance(10 * 60)  # past the settle buffer
    return {"partial": partial, "tee": tee, "mug": mug, "returned": returned, "cap": cap,
            "no_restock": no_restock, "sock": sock, "edited": edited, "bag": bag, "canceled": canceled}


def test_the_first_run_marks_exactly_the_canceled_units(shop: Harness) -> None:
    ids = story(shop)
    run = shop.run()

    assert run.status is JobRunStatus.SUCCEEDED, run.error
    assert run.orders_seen == 10
    assert shop.stored_canceled() == {ids["tee"]: 1, ids["sock"]: 2, ids["bag"]: 2,
                                      **{line: n for line, n in shop.expected_canceled().items()
                                         if line not in {ids["tee"], ids["sock"], ids["bag"]}}}
    assert shop.stored_canceled() == shop.expected_canceled()
    assert ids["cap"] not in shop.stored_canceled()  # a return is not a cancellation
    orders = shop.stored_orders()
    assert orders[ids["partial"]].status is OrderStatus.OPEN  # the order itself stays open
    assert orders[ids["canceled"]].status is OrderStatus.CANCELED
    assert run.orders_canceled == 1
    assert run.units_canceled == 1 + 2 + 2 + 3
    assert shop.watermark() == run.window_thru


def test_a_second_run_picks_up_exactly_the_new_cancellations(shop: Harness) -> None:
    ids = story(shop)
    first = shop.run()
    history_after_first = shop.history_rows()

    shop.sim.cancel_units(ids["no_restock"], ids["sock"], 1, restock_type="CANCEL")
    shop.advance(3600)
    second = shop.run()

    assert second.status is JobRunStatus.SUCCEEDED, second.error
    assert second.window_from is not None and first.window_thru is not None
    assert second.window_from < first.window_thru  # windows overlap by the buffer
    assert second.units_canceled == 1
    assert second.items_canceled == 1
    assert shop.stored_canceled()[ids["sock"]] == 3
    assert shop.history_rows() == history_after_first + 1
    assert shop.stored_canceled() == shop.expected_canceled()


def test_rerunning_the_same_window_changes_nothing(shop: Harness) -> None:
    story(shop)
    first = shop.run()
    before = (shop.stored_canceled(), shop.history_rows(), shop.watermark())

    again = shop.run(window_from=first.window_from, window_thru=first.window_thru)

    assert again.status is JobRunStatus.SUCCEEDED
    assert again.orders_seen == first.orders_seen
    assert (again.units_canceled, again.items_canceled, again.orders_canceled) == (0, 0, 0)
    assert (shop.stored_canceled(), shop.history_rows(), shop.watermark()) == before


def test_an_order_updated_while_a_run_is_paging_is_caught_by_the_next_run(tmp_path: Path, database_url: str) -> None:
    h = Harness.build(fast_settings(tmp_path, database_url, page_size=2))
    try:
        orders = [h.sim.create_order(lines=[(f"SKU-{n}", 2)]) for n in range(6)]
        h.advance(600)
        late = orders[-1]  # sorted last by updatedAt: not yet read when the first page arrives
        (late_line,) = h.sim.line_item_ids(late)

        original_app = h.sim.asgi_app
        changed = False

        async def change_after_first_page(scope, receive, send):  # type: ignore[no-untyped-def]
            nonlocal changed
            await original_app(scope, receive, send)
            if not changed and scope["type"] == "http":
                changed = True
                h.sim.cancel_units(late, late_line, 1)  # bumps updatedAt to "now", past the window's end

        import httpx2

        h.runtime.source_options["*"] = {"transport": httpx2.ASGITransport(app=change_after_first_page)}
        first = h.run()
        assert first.status is JobRunStatus.SUCCEEDED, first.error
        assert changed
        assert late_line not in h.stored_canceled()  # it moved out of this window mid-run

        h.advance(600)
        second = h.run()
        assert second.status is JobRunStatus.SUCCEEDED
        assert h.stored_canceled() == {late_line: 1} == h.expected_canceled()
    finally:
        h.close()


def test_a_failure_mid_window_keeps_the_watermark_and_the_next_run_completes_it(
    tmp_path: Path, database_url: str
) -> None:
    h = Harness.build(fast_settings(tmp_path, database_url, page_size=5, shopify={"max_attempts": 2}))
    try:
        orders = [h.sim.create_order(lines=[(f"SKU-{n}", 3)]) for n in range(12)]
        h.advance(600)
        ok = h.run()  # a first complete window sets the watermark
        assert ok.status is JobRunStatus.SUCCEEDED
        watermark = h.watermark()

        for order_gid in orders:
            h.sim.cancel_units(order_gid, h.sim.line_item_ids(order_gid)[0], 1)
        h.advance(600)
        h.sim.faults = FaultConfig(fail_after_requests=h.sim.stats.requests + 1)  # page 1 stored, then down
        failed = h.run()

        assert failed.status is JobRunStatus.FAILED
        assert failed.error is not None and "shop demo" in failed.error and "window" in failed.error
        assert "HTTP 500" in failed.error  # the cause, not a wrapper
        assert h.watermark() == watermark  # not advanced
        assert failed.pages == 1 and len(h.stored_canceled()) == 5  # page 1 stayed stored, idempotently

        h.sim.faults = FaultConfig()
        h.advance(60)
        recovered = h.run()
        assert recovered.status is JobRunStatus.SUCCEEDED, recovered.error
        assert recovered.window_from is not None and watermark is not None
        assert recovered.window_from <= watermark  # it read the failed window again
        assert recovered.units_canceled == 12 - 5  # the stored page is not counted twice
        assert h.stored_canceled() == h.expected_canceled()
        assert len(h.expected_canceled()) == 12
        assert h.watermark() == recovered.window_thru
    finally:
        h.close()


def test_a_seeded_shop_matches_the_ground_truth(tmp_path: Path, database_url: str) -> None:
    from datetime import timedelta

    h = Harness.build(fast_settings(tmp_path, database_url))
    try:
        h.sim.seed(400, seed=11, start=T0 - timedelta(hours=20), end=T0, large_order_rate=0.01)
        h.advance(600)
        run = h.run()
        assert run.status is JobRunStatus.SUCCEEDED, run.error
        assert run.orders_seen == 400
        assert h.stored_canceled() == h.expected_canceled()
        canceled_orders = {gid for gid, o in h.stored_orders().items() if o.status is OrderStatus.CANCELED}
        assert canceled_orders == h.sim.truth().canceled_orders
    finally:
        h.close()


@pytest.mark.parametrize("version", ["2025-10", "2026-07"])
def test_each_supported_api_version_imports_the_same_result(tmp_path: Path, sqlite_url: str, version: str) -> None:
    h = Harness.build(fast_settings(tmp_path, sqlite_url), api_version=version)
    try:
        ids = story(h)
        run = h.run()
        assert run.status is JobRunStatus.SUCCEEDED, run.error
        assert h.stored_canceled() == h.expected_canceled()
        assert h.stored_canceled()[ids["tee"]] == 1
    finally:
        h.close()


def test_an_unsupported_api_version_fails_the_run_with_a_clear_error(tmp_path: Path, sqlite_url: str) -> None:
    h = Harness.build(fast_settings(tmp_path, sqlite_url), api_version="2024-01")
    try:
        story(h)
        run = h.run()
        assert run.status is JobRunStatus.FAILED
        assert run.error is not None and "2024-01" in run.error
        assert h.watermark() == run.window_from  # nothing advanced
        assert h.stored_canceled() == {}
    finally:
        h.close()


def test_a_backfill_run_reads_through_the_sources_bulk_path_and_stores_the_same(shop: Harness) -> None:
    story(shop)
    window = {"window_from": T0 - timedelta(hours=1), "window_thru": shop.runtime.now() - timedelta(minutes=1)}
    manual = shop.run(**window)
    assert manual.status is JobRunStatus.SUCCEEDED, manual.error
    assert shop.sim.bulk.operations == {}  # ten orders: far below the plan's bulk threshold

    backfill = shop.run(**window, trigger=RunTrigger.BACKFILL)

    assert backfill.status is JobRunStatus.SUCCEEDED, backfill.error
    assert len(shop.sim.bulk.operations) == 1
    assert backfill.orders_seen == manual.orders_seen == 10
    assert backfill.units_canceled == 0  # the manual run stored them all already: nothing changes
    assert shop.stored_canceled() == shop.expected_canceled()


def test_the_bulk_threshold_setting_sends_a_scheduled_sized_window_through_bulk(tmp_path: Path,
                                                                                 database_url: str) -> None:
    harness = Harness.build(fast_settings(tmp_path, database_url, shopify={"bulk_threshold_orders": 5}))
    try:
        story(harness)
        run = harness.run()
        assert run.status is JobRunStatus.SUCCEEDED, run.error
        assert len(harness.sim.bulk.operations) == 1  # 10 orders > 5
        assert harness.stored_canceled() == harness.expected_canceled()
    finally:
        harness.close()


def test_a_slice_failing_while_the_others_succeed_keeps_the_watermark_and_the_next_run_completes(
    tmp_path: Path, database_url: str
) -> None:
    """The window's rest is read in slices side by side; one of them cannot be read at all."""
    import httpx2
    import orjson

    h = Harness.build(fast_settings(tmp_path, database_url, page_size=10, shopify={"max_attempts": 2, "slices_in_flight": 4}))
    try:
        ok = h.run()  # an empty first window sets the watermark
        assert ok.status is JobRunStatus.SUCCEEDED
        watermark = h.watermark()
        for n in range(80):
            order = h.sim.create_order(lines=[(f"SKU-{n}", 3)])
            h.sim.cancel_units(order, h.sim.line_item_ids(order)[0], 1)
            h.advance(12)
        h.advance(61)  # past the settle buffer: the orders fill the window to its end

        inner = httpx2.ASGITransport(app=h.sim.asgi_app)
        broken = {"slice": None, "refused": 0}

        class OneSliceDown(httpx2.AsyncBaseTransport):
            """Shopify answers 500 to every page of the slice that reaches the window's end."""

            async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
                search = str(orjson.loads(request.content).get("variables", {}).get("query", ""))
                if broken["slice"] == "on" and search.endswith(f"<'{self.end}'") and not search.startswith(
                        f"updated_at:>='{self.start}'"):
                    broken["refused"] += 1
                    return httpx2.Response(500, json={"errors": "Internal Server Error"}, request=request)
                return await inner.handle_async_request(request)

            start = end = ""

        from plugins.shopify.streams import search_time

        transport = OneSliceDown()
        h.runtime.source_options["*"] = {"transport": transport}
        assert watermark is not None  # the window is [watermark - overlap, now - settle)
        transport.start = search_time(watermark - timedelta(seconds=60))
        transport.end = search_time(h.sim.clock.now() - timedelta(seconds=60))
        broken["slice"] = "on"
        failed = h.run()

        assert failed.status is JobRunStatus.FAILED
        assert broken["refused"] == 2  # max_attempts of the last slice's first page
        assert failed.error is not None and "HTTP 500" in failed.error and "slice of" in failed.error
        assert h.watermark() == watermark  # not advanced
        stored = len(h.stored_canceled())
        assert 10 < stored < 80  # the first page and the slices that succeeded stayed stored

        broken["slice"] = None
        recovered = h.run()
        assert recovered.status is JobRunStatus.SUCCEEDED, recovered.error
        assert recovered.window_from is not None and recovered.window_from <= watermark
        assert recovered.units_canceled == 80 - stored  # stored pages are not counted twice
        assert h.stored_canceled() == h.expected_canceled()
        assert len(h.stored_canceled()) == 80
    finally:
        h.close()
