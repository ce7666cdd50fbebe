"""Shops: add, edit and remove; a connection check reporting scopes and plan or the exact reason
it failed; each shop's lag since its last stored window."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import SHOP_TOKEN, Browser, Gateway, imported


def test_add_edit_and_remove_a_shop(browser: Browser, gateway: Gateway) -> None:
    page = browser.sign_in(gateway.tokens["admin"])
    form = page.locator("form.shop-form").last
    form.get_by_label("Name").fill("gamma")
    form.get_by_label("URL").fill("https://gamma-shop.myshopify.com")
    form.get_by_label("Access token").fill("shpat_gamma_secret")
    form.get_by_role("button", name="Add shop").click()
    gamma = page.locator("[data-shop=gamma]")
    expect(gamma).to_contain_text("stored (never shown)")
    expect(gamma.get_by_role("link", name="canceled-items")).to_be_visible()
    assert "shpat_gamma_secret" not in page.content()

    gamma.get_by_role("button", name="Edit").click()
    gamma.get_by_label("URL").fill("https://gamma-two.myshopify.com")
    gamma.get_by_role("button", name="Save shop").click()
    expect(gamma).to_contain_text("https://gamma-two.myshopify.com")

    page.once("dialog", lambda dialog: dialog.accept())
    gamma.get_by_role("button", name="Remove").click()
    expect(page.locator("[data-shop=gamma]")).to_have_count(0)
    with gateway.runtime.storage.transaction() as tx:
        assert tx.get_shop_by_name("gamma") is None


def test_a_refused_shop_shows_the_error_beside_its_field(browser: Browser, gateway: Gateway) -> None:
    page = browser.sign_in(gateway.tokens["admin"])
    form = page.locator("form.shop-form").last
    form.get_by_label("Name").fill("Not A Name")
    form.get_by_label("URL").fill("https://delta-shop.myshopify.com")
    form.get_by_role("button", name="Add shop").click()
    expect(form.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-shop]")).to_have_count(2)


def test_the_connection_check_reports_plan_and_scopes_or_why_not(browser: Browser, gateway: Gateway) -> None:
    page = browser.sign_in(gateway.tokens["admin"])
    alpha = page.locator("[data-shop=alpha]")
    alpha.get_by_role("button", name="Check connection").click()
    report = alpha.locator(".connection")
    expect(report).to_contain_text("Connected")
    expect(report).to_contain_text("read_orders")
    expect(report).to_contain_text("points, restoring")
    browser.screenshot("shop-connection")

    beta = page.locator("[data-shop=beta]")
    beta.get_by_role("button", name="Edit").click()
    beta.get_by_label("Access token").fill("shpat_wrong")
    beta.get_by_role("button", name="Save shop").click()
    expect(beta.locator("form")).to_have_count(0)
    beta.get_by_role("button", name="Check connection").click()
    expect(beta.locator(".connection.failed")).to_contain_text("Failed: BAD_TOKEN")
    assert SHOP_TOKEN not in page.content() and "shpat_wrong" not in page.content()


def test_a_shops_lag_is_the_time_since_its_last_stored_window(browser: Browser, gateway: Gateway) -> None:
    imported(gateway)
    page = browser.sign_in(gateway.tokens["read"])
    expect(page.locator("[data-shop=alpha] .lag")).to_contain_text("since its last stored window")
    expect(page.locator("[data-shop=beta] .lag")).to_have_text("no window stored yet")
