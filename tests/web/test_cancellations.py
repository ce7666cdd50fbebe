"""Cancellations after an import: the newest canceled units with order, SKU, quantity, reason and
time; filtered by shop; paged back through."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import OrderQuery

from .conftest import Browser, Gateway, imported


def canceled_orders(gateway: Gateway) -> dict[str, int]:
    """Order name -> canceled units, as stored."""
    found: dict[str, int] = {}
    with gateway.runtime.storage.transaction() as tx:
        page = tx.list_orders(OrderQuery(shop_id=gateway.shops["alpha"].id, has_canceled_items=True), first=250)
        for order in page.items:
            found[order.name] = sum(i.canceled_quantity for i in tx.items_for_orders([order.id])[order.id])
    return found


@pytest.mark.parametrize("gateway", [{"orders": 200}], indirect=True)
def test_the_newest_cancellations_after_an_import(browser: Browser, gateway: Gateway) -> None:
    imported(gateway)
    expected = canceled_orders(gateway)
    assert len(expected) > 40  # more than two pages of twenty orders
    page = browser.sign_in(gateway.tokens["read"])
    page.get_by_role("link", name="Cancellations").click()
    table = page.locator("table.cancellations")
    expect(table).to_be_visible()
    expect(page.get_by_text(f"{len(expected)} orders with canceled units; page 1.")).to_be_visible()
    browser.screenshot("cancellations")

    seen: dict[str, int] = {}
    times: list[str] = []
    for number in (1, 2, 3):
        expect(page.get_by_text(f"page {number}.")).to_be_visible()
        for row in table.locator("tbody tr").all():
            cells = row.locator("td").all_inner_texts()
            canceled, order, shop, sku, units = cells[:5]
            assert shop == "alpha" and sku and order.startswith("#")
            assert "CET" in canceled or "GMT+1" in canceled  # a time says its zone
            seen[order] = seen.get(order, 0) + int(units)
            times.append(row.locator("td time").first.get_attribute("datetime") or "")
        if number < 3:
            page.get_by_role("button", name="Older").click()
    assert seen == expected
    # newest first: each page's times do not rise (pages follow the orders' last update)
    assert times[:5] == sorted(times[:5], reverse=True)
    page.get_by_role("button", name="Newer").click()
    expect(page.get_by_text("page 2.")).to_be_visible()


def test_the_list_is_filtered_by_shop(browser: Browser, gateway: Gateway) -> None:
    imported(gateway)
    page = browser.sign_in(gateway.tokens["read"])
    page.get_by_role("link", name="Cancellations").click()
    expect(page.locator("table.cancellations tbody tr").first).to_be_visible()
    page.get_by_label("Shop").select_option("beta")
    expect(page.get_by_text("No canceled unit yet.")).to_be_visible()
    page.get_by_label("Shop").select_option("alpha")
    expect(page.locator("table.cancellations tbody tr").first).to_contain_text("alpha")
