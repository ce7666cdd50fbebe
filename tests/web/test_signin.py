"""Signing in: the token is checked, kept for the tab only; a read token sees everything and each
control that needs an admin token is disabled with the reason."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import Browser, Gateway


def test_an_admin_signs_in_and_sees_the_shops(browser: Browser, gateway: Gateway) -> None:
    page = browser.sign_in(gateway.tokens["admin"])
    expect(page.get_by_text("web admin · admin")).to_be_visible()
    expect(page.locator("[data-shop=alpha]")).to_contain_text("alpha")
    expect(page.locator("[data-shop=beta]")).to_contain_text("https://beta-shop.myshopify.com")
    expect(page.get_by_role("button", name="Remove").first).to_be_enabled()
    # kept for this tab only
    assert page.evaluate("sessionStorage.getItem('sync-gateway.token')") == gateway.tokens["admin"]
    assert page.evaluate("localStorage.length") == 0
    browser.screenshot("shops")


def test_a_read_token_sees_everything_and_cannot_act(browser: Browser, gateway: Gateway) -> None:
    page = browser.sign_in(gateway.tokens["read"])
    expect(page.get_by_role("note")).to_contain_text("Read-only")
    remove = page.locator("[data-shop=alpha]").get_by_role("button", name="Remove")
    expect(remove).to_be_disabled()
    expect(remove).to_have_accessible_description("needs an admin token")
    page.get_by_role("link", name="canceled-items").first.click()
    for name in ("Pause", "Skip next run", "Run now", "Backfill", "Save schedule"):
        expect(page.get_by_role("button", name=name)).to_be_disabled()
    assert not any(op["operationName"] not in {"CurrentToken", "Shops", "Job", "JobRuns"} for op in browser.operations)
    browser.screenshot("read-only")


def test_a_wrong_token_is_refused_and_not_kept(browser: Browser, gateway: Gateway) -> None:
    page = browser.open("/")
    page.get_by_label("API token").fill("sgw_not_a_real_token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('sync-gateway.token')") is None


def test_the_token_is_forgotten_on_sign_out(browser: Browser, gateway: Gateway) -> None:
    page = browser.sign_in(gateway.tokens["admin"])
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API token")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('sync-gateway.token')") is None
