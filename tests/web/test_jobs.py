"""A job's page: edit its schedule and see the next runs move; a bad cron is refused beside its
field and changes nothing; pause and resume; run now and watch it to SUCCEEDED, pushed live."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from core import RunTrigger

from .conftest import Browser, Gateway, slow_shop


def open_job(browser: Browser, gateway: Gateway, shop: str = "alpha", *, check: bool = False):  # type: ignore[no-untyped-def]
    page = browser.sign_in(gateway.tokens["admin"])
    if check:  # the tab then knows the shop's plan and API budget
        page.locator(f"[data-shop={shop}]").get_by_role("button", name="Check connection").click()
        expect(page.locator(f"[data-shop={shop}] .connection")).to_contain_text("Connected")
    page.get_by_role("link", name="Jobs").click()
    page.get_by_role("heading", name=shop).locator("..").get_by_role("link", name="canceled-items").click()
    expect(page.get_by_role("heading", name=f"{shop} · canceled-items")).to_be_visible()
    return page


def upcoming(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("table.upcoming tbody tr td:nth-child(2)").all_inner_texts()


def test_editing_the_schedule_moves_the_next_runs(browser: Browser, gateway: Gateway) -> None:
    page = open_job(browser, gateway)
    before = upcoming(page)
    assert len(before) == 5
    page.get_by_label("Cron in a timezone").check()
    page.get_by_label("Cron (five fields)").fill("30 2 * * *")
    page.get_by_label("Timezone (IANA)").fill("America/New_York")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(page.locator(".summary")).to_contain_text("02:30")
    expect(page.get_by_role("columnheader", name="Job's time (America/New_York)")).to_be_visible()
    after = upcoming(page)
    assert after != before and len(after) == 5
    assert all(re.search(r"02:30:00 (EST|EDT|GMT-[45])", t) for t in after), after
    # the viewer's column is the same instants in the browser's zone (Europe/Rome here)
    assert all("CET" in t or "GMT+1" in t for t in page.locator("table.upcoming tbody tr td:nth-child(3)").all_inner_texts())
    stored = gateway.job("alpha").schedule
    assert (stored.cron, stored.timezone) == ("30 2 * * *", "America/New_York")
    browser.screenshot("job-schedule")


def test_a_bad_cron_shows_its_error_beside_the_field_and_changes_nothing(browser: Browser, gateway: Gateway) -> None:
    page = open_job(browser, gateway)
    before, stored = upcoming(page), gateway.job("alpha").schedule
    page.get_by_label("Cron in a timezone").check()
    cron = page.get_by_label("Cron (five fields)")
    cron.fill("61 * * * *")
    page.get_by_role("button", name="Save schedule").click()
    expect(cron).to_have_attribute("aria-invalid", "true")
    field = page.locator(".field.invalid")
    expect(field).to_have_count(1)
    expect(field.get_by_role("alert")).to_contain_text("cron")
    assert upcoming(page) == before
    assert gateway.job("alpha").schedule == stored
    browser.screenshot("job-bad-cron")


def test_pause_and_resume(browser: Browser, gateway: Gateway) -> None:
    page = open_job(browser, gateway)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".summary .tag.paused")).to_be_visible()
    expect(page.get_by_text("Paused: nothing is scheduled")).to_be_visible()
    assert gateway.job("alpha").paused
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".summary .tag.active")).to_be_visible()
    expect(page.locator("table.upcoming tbody tr")).to_have_count(5)
    assert not gateway.job("alpha").paused


def test_run_now_is_watched_live_to_succeeded(browser: Browser, gateway: Gateway) -> None:
    page = open_job(browser, gateway, check=True)
    slow_shop(gateway)
    page.get_by_role("button", name="Run now").click()
    # counts arrive while it runs, pushed over the subscription, with the cost so far against the
    # plan's ceiling (the standard plan's bucket holds 2,000), all seen at one moment of the run
    page.wait_for_function("""() => {
        const run = document.querySelector('[data-status=RUNNING]');
        const count = (name) => Number(run.querySelector(`[data-count=${name}]`).textContent.replace(/,/g, ''));
        const bucket = run && run.querySelector('[data-count=bucket]');
        return run && count('orders') > 0 && count('orders') < 60 && bucket
            && bucket.textContent.includes('of 2,000 points in use')
            && parseFloat(run.querySelector('[data-count=cost]').textContent.replace(/,/g, '')) > 0
            && run.querySelector('[data-count=cost]').textContent.includes('points so far');
    }""", timeout=30_000)
    live = page.locator(".live [data-run]")
    expect(live).to_contain_text("ETA")
    expect(live).to_contain_text("the plan's bucket holds 2,000")
    assert 0 < float(live.locator("meter").get_attribute("value") or 0) < 2000
    assert live.locator("meter").get_attribute("max") == "2000"
    browser.screenshot("live-run")
    expect(live).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
    expect(live.locator("[data-count=orders]")).to_have_text("60")
    expect(live.locator("[data-count=pages]")).to_have_text("6")
    run = gateway.runs("alpha")[0]
    expect(live.locator("[data-count=units]")).to_have_text(f"{run.units_canceled:,}")
    expect(live.locator("[data-count=cost]")).to_have_text(f"{round(run.api_cost):,} points used")
    # history reloads once the run ends: the run with its counts
    expect(page.locator("table.runs tbody tr").first).to_contain_text("SUCCEEDED")
    # pushed, not polled: a handful of queries, none of them asking after the run
    sent = [op["operationName"] for op in browser.operations]
    assert "RunJobNow" in sent and sent.count("Job") <= 4 and sent.count("JobRuns") <= 3, sent
    browser.screenshot("job")


def local_input(at: datetime, zone: str = "Europe/Rome") -> str:
    """What a person in the browser's zone types into a datetime-local input for ``at``."""
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S")


def test_skip_next_run(browser: Browser, gateway: Gateway) -> None:
    page = open_job(browser, gateway)
    page.get_by_role("button", name="Skip next run").click()
    expect(page.locator(".summary")).to_contain_text("next run will be skipped")
    expect(page.locator("table.upcoming tbody tr").first).to_contain_text("skipped")
    expect(page.get_by_role("button", name="Skip next run")).to_be_disabled()
    assert gateway.job("alpha").skip_next


def test_run_now_over_a_chosen_window_and_a_backfill(browser: Browser, gateway: Gateway) -> None:
    page = open_job(browser, gateway)
    now = datetime.now(UTC).replace(microsecond=0)
    run_now = page.get_by_role("form", name="Run now")
    run_now.get_by_label("From (optional)").fill(local_input(now - timedelta(hours=3)))
    run_now.get_by_label("Through (optional)").fill(local_input(now - timedelta(hours=1)))
    run_now.get_by_role("button", name="Run now").click()
    expect(page.get_by_role("status").filter(has_text="Run queued")).to_be_visible()
    run = gateway.runs("alpha")[0]
    assert (run.window_from, run.window_thru) == (now - timedelta(hours=3), now - timedelta(hours=1))
    gateway.wait_for_run(run.id)

    backfill = page.get_by_role("form", name="Backfill")
    backfill.get_by_label("Since").fill(local_input(now - timedelta(days=2)))
    backfill.get_by_role("button", name="Backfill").click()
    expect(page.get_by_role("status").filter(has_text="Backfill queued")).to_be_visible()
    run = gateway.runs("alpha")[0]
    assert run.trigger is RunTrigger.BACKFILL and run.window_from == now - timedelta(days=2)
    gateway.wait_for_run(run.id)


def test_a_window_the_gateway_refuses_is_shown_beside_its_field(browser: Browser, gateway: Gateway) -> None:
    page = open_job(browser, gateway)
    now = datetime.now(UTC)
    run_now = page.get_by_role("form", name="Run now")
    run_now.get_by_label("From (optional)").fill(local_input(now - timedelta(hours=1)))
    run_now.get_by_label("Through (optional)").fill(local_input(now - timedelta(hours=2)))
    run_now.get_by_role("button", name="Run now").click()
    expect(run_now.locator(".field.invalid")).to_have_count(1)
    assert gateway.runs("alpha") == []
