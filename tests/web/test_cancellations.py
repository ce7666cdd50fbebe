"""Cancellations after an import: the newest canceled units with order, SKU, quantity, reason and
time; filtered by shop; paged back through."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import Cancellation
from gateway.api import ids

from .conftest import Browser, Gateway, imported


def feed_newest_first(gateway: Gateway) -> list[Cancellation]:
    """Every recorded cancellation of alpha, newest first, as the store lists them."""
    with gateway.runtime.storage.read() as tx:
        page = tx.list_cancellations(shop_id=gateway.shops["alpha"].id, first=1000, reverse=True)
    assert not page.has_next
    return list(page.items)


@pytest.mark.parametrize("gateway", [{"orders": 200}], indirect=True)
def test_the_newest_cancellations_after_an_import(browser: Browser, gateway: Gateway) -> None:
    imported(gateway)
    expected = feed_newest_first(gateway)
    assert len(expected) > 50  # more than two pages of twenty-five
    page = browser.sign_in(gateway.tokens["read"])
    page.get_by_role("link", name="Cancellations").click()
    table = page.locator("table.cancellations")
    expect(table).to_be_visible()
    expect(page.get_by_text("Newest recorded first; page 1.")).to_be_visible()
    expect(page.get_by_role("button", name="Newer")).to_be_disabled()
    browser.screenshot("cancellations")

    seen: list[tuple[str, int, str]] = []  # (id, units, recorded at) in the order the page lists them
    number = 1
    while True:
        expect(page.get_by_text(f"page {number}.")).to_be_visible()
        for row in table.locator("tbody tr").all():
            cells = row.locator("td").all_inner_texts()
            recorded_text, order, shop, sku, units, _, canceled = cells
            assert shop == "alpha" and sku and order.startswith("#")
            for shown in (recorded_text, canceled):
                assert "CET" in shown or "GMT+1" in shown  # a time says its zone
            recorded = row.locator("td time").first.get_attribute("datetime") or ""
            seen.append((row.get_attribute("data-id") or "", int(units), recorded))
        older = page.get_by_role("button", name="Older")
        if older.is_disabled():
            break
        older.click()
        number += 1
    assert number >= 3
    # every recorded cancellation exactly once, newest first in the order the store recorded them
    assert [row_id for row_id, _, _ in seen] == [ids.encode("ItemCancellation", c.id) for c in expected]
    assert [units for _, units, _ in seen] == [c.quantity for c in expected]
    times = [recorded for _, _, recorded in seen]
    assert times == sorted(times, reverse=True)
    page.get_by_role("button", name="Newer").click()
    expect(page.get_by_text(f"page {number - 1}.")).to_be_visible()
    sent = [op for op in browser.operations if op.get("operationName") == "Cancellations"]
    assert sent and all("reverse: true" in op["query"] for op in sent)


def test_the_list_is_filtered_by_shop(browser: Browser, gateway: Gateway) -> None:
    imported(gateway)
    page = browser.sign_in(gateway.tokens["read"])
    page.get_by_role("link", name="Cancellations").click()
    expect(page.locator("table.cancellations tbody tr").first).to_be_visible()
    page.get_by_label("Shop").select_option("beta")
    expect(page.get_by_text("No canceled unit yet.")).to_be_visible()
    page.get_by_label("Shop").select_option("alpha")
    expect(page.locator("table.cancellations tbody tr").first).to_contain_text("alpha")
