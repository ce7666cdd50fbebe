"""Bulk scheduling: one schedule for the same job of two shops, all or none (scheduleJobs)."""

from __future__ import annotations

from playwright.sync_api import expect

from core.jobcontrol import remove_shop

from .conftest import Browser, Gateway


def open_bulk(browser: Browser, gateway: Gateway):  # type: ignore[no-untyped-def]
    page = browser.sign_in(gateway.tokens["admin"])
    page.get_by_role("link", name="Bulk scheduling").click()
    expect(page.get_by_role("heading", name="Bulk scheduling")).to_be_visible()
    return page


def test_one_schedule_for_two_shops_at_once(browser: Browser, gateway: Gateway) -> None:
    page = open_bulk(browser, gateway)
    page.get_by_label("alpha").check()
    page.get_by_label("beta").check()
    page.get_by_label("Cron in a timezone").check()
    page.get_by_label("Cron (five fields)").fill("*/15 * * * *")
    page.get_by_label("Timezone (IANA)").fill("Europe/Rome")
    page.get_by_role("button", name="Apply to 2 shops").click()
    done = page.get_by_role("status").filter(has_text="Scheduled 2 jobs")
    expect(done).to_contain_text("alpha")
    expect(done).to_contain_text("beta")
    for shop in ("alpha", "beta"):
        assert gateway.job(shop).schedule.cron == "*/15 * * * *"
    browser.screenshot("bulk")


def test_a_refused_shop_changes_none_and_is_named(browser: Browser, gateway: Gateway) -> None:
    page = open_bulk(browser, gateway)
    before = gateway.job("alpha").schedule
    page.get_by_label("alpha").check()
    page.get_by_label("beta").check()
    remove_shop(gateway.runtime, gateway.shops["beta"].id)  # gone by the time the page sends
    page.get_by_label("Every (seconds)").fill("900")
    page.get_by_role("button", name="Apply to 2 shops").click()
    expect(page.get_by_role("alert").filter(has_text="Nothing was changed")).to_be_visible()
    beta = page.locator(".field.invalid")
    expect(beta).to_have_count(1)
    expect(beta).to_contain_text("beta:")
    assert gateway.job("alpha").schedule == before


def test_a_bad_schedule_is_shown_beside_its_field(browser: Browser, gateway: Gateway) -> None:
    page = open_bulk(browser, gateway)
    page.get_by_label("alpha").check()
    seconds = page.get_by_label("Every (seconds)")
    seconds.fill("5")
    page.get_by_role("button", name="Apply to 1 shop").click()
    expect(seconds).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field.invalid").get_by_role("alert")).to_contain_text("everySeconds must be at least")
