"""Usable with the keyboard alone, and at a phone's width (375 px) as at 1280 px."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import PHONE, Browser, Gateway, imported

SCREENS = ["shops", "jobs", "bulk", "cancellations"]


def overflow(page) -> int:  # type: ignore[no-untyped-def]
    """How far the document is wider than the window (tables scroll inside their own box)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_every_screen_fits_a_phone(browser: Browser, gateway: Gateway) -> None:
    imported(gateway)
    page = browser.sign_in(gateway.tokens["admin"])
    page.set_viewport_size(PHONE)
    for screen in SCREENS:
        page.goto(f"{gateway.url}/#/{screen}")
        expect(page.locator("main h1")).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert overflow(page) <= 0, screen
    page.goto(f"{gateway.url}/#/job/{gateway.job_gid('alpha')}")
    expect(page.locator("table.runs")).to_be_visible()
    assert overflow(page) <= 0
    browser.screenshot("job-phone")


def test_the_keyboard_alone_signs_in_and_pauses_a_job(browser: Browser, gateway: Gateway) -> None:
    page = browser.open("/")
    expect(page.get_by_label("API token")).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "token"
    page.keyboard.type(gateway.tokens["admin"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Jobs")).to_be_visible()
    # the skip link comes first, then the screens
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    jobs = page.get_by_role("link", name="Jobs")
    for _ in range(10):
        page.keyboard.press("Tab")
        if jobs.evaluate("link => link === document.activeElement"):
            break
    # focus is visible: a thick outline on whatever has it
    assert jobs.evaluate("link => getComputedStyle(link).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    page.get_by_role("link", name="canceled-items").first.focus()
    page.keyboard.press("Enter")
    pause = page.get_by_role("button", name="Pause")
    pause.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".summary .tag.paused")).to_be_visible()
    assert gateway.job("alpha").paused
