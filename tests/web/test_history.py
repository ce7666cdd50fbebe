"""Run history: filtered by status and time; every count, the duration and the error in full; a
FAILED run stands out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from core import JobRunStatus, RunTrigger

from .conftest import Browser, Gateway
from .test_jobs import local_input, open_job

ERROR = "UpstreamError: Shopify answered 502 three times\n  while reading page 4 of 9\nsee the run's log"


def past_run(gateway: Gateway, *, hours_ago: float, status: JobRunStatus, **changes: object) -> int:
    started = datetime.now(UTC) - timedelta(hours=hours_ago)
    with gateway.runtime.storage.transaction() as tx:
        run = tx.create_run(job_id=gateway.jobs["alpha"].id, trigger=RunTrigger.SCHEDULE, status=status,
                            window_from=started - timedelta(hours=1), window_thru=started - timedelta(minutes=5))
        tx.update_run(run.id, queued_at=started, started_at=started, finished_at=started + timedelta(seconds=42),
                      **changes)
    return run.id


def test_history_shows_each_run_and_a_failure_stands_out(browser: Browser, gateway: Gateway) -> None:
    past_run(gateway, hours_ago=72, status=JobRunStatus.SUCCEEDED, pages=3, orders_seen=250, items_canceled=7,
             units_canceled=9, api_cost=1234.0, retries=2, throttled=1)
    past_run(gateway, hours_ago=5, status=JobRunStatus.FAILED, pages=4, error=ERROR)
    past_run(gateway, hours_ago=1, status=JobRunStatus.SUCCEEDED, pages=1, orders_seen=12)
    page = open_job(browser, gateway)
    rows = page.locator("table.runs tbody tr:not(.error-row)")
    expect(rows).to_have_count(3)
    failed = page.locator("table.runs tbody tr.failed:not(.error-row)")
    expect(failed).to_have_count(1)
    expect(failed.locator(".status-failed")).to_have_css("background-color", "rgb(179, 38, 30)")
    expect(page.locator("tr.error-row pre")).to_have_text(ERROR)  # in full, lines kept
    oldest = rows.nth(2).locator("td").all_inner_texts()
    assert oldest[3:11] == ["3", "250", "7", "9", "1,234", "2", "1", "42.0 s"], oldest
    browser.screenshot("history")

    page.get_by_label("Status").select_option("FAILED")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("FAILED")
    page.get_by_label("Status").select_option("")
    expect(rows).to_have_count(3)
    page.get_by_label("Started since").fill(local_input(datetime.now(UTC) - timedelta(hours=24))[:16])
    page.get_by_label("Started since").dispatch_event("change")
    expect(rows).to_have_count(2)
    page.get_by_label("Started before").fill(local_input(datetime.now(UTC) - timedelta(hours=2))[:16])
    page.get_by_label("Started before").dispatch_event("change")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("FAILED")


def test_a_lost_run_stands_out_and_says_where_to_look(browser: Browser, gateway: Gateway) -> None:
    past_run(gateway, hours_ago=3, status=JobRunStatus.SUCCEEDED, pages=2, orders_seen=40)
    past_run(gateway, hours_ago=2, status=JobRunStatus.LOST, pages=1,
                       error="lost: its worker stopped renewing the lease (killed, or cut off) and it lapsed more "
                             "than 30 s ago; the window is read again by the next run")
    past_run(gateway, hours_ago=1, status=JobRunStatus.FAILED, error=ERROR)
    page = open_job(browser, gateway)
    rows = page.locator("table.runs tbody tr:not(.error-row)")
    expect(rows).to_have_count(3)
    lost = page.locator("table.runs tbody tr.failed.lost:not(.error-row)")
    expect(lost).to_have_count(1)
    expect(lost.locator(".status-lost")).to_have_text("LOST")
    expect(lost.locator(".status-lost")).to_have_css("background-color", "rgb(179, 38, 30)")
    expect(page.locator("table.runs tbody tr.failed:not(.error-row)")).to_have_count(2)  # LOST and FAILED
    hint = page.locator("tr.error-row .lost-hint")
    expect(hint).to_have_count(1)
    expect(hint).to_contain_text("its worker vanished")
    expect(page.locator("tr.error-row pre", has_text="lost: its worker stopped renewing the lease")).to_have_count(1)
    browser.screenshot("history-lost")

    page.get_by_label("Status").select_option("LOST")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("LOST")
