"""The job manager page in a real headless Chromium (Debian's, driven by Playwright) against the
real app: uvicorn on 127.0.0.1, a SQLite store, the embedded worker, the simulated Shopify shop.

Every request the browser makes to anything but 127.0.0.1 is aborted and recorded; each test
ends by asserting there were none, so the page is proved to work with no internet.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest

from core import NewShop, TokenRole
from core.apitokens import issue_token
from core.jobcontrol import add_shop
from core.jobs import bind_runtime, unbind_runtime
from core.models import Job, JobRun, JobRunStatus, Shop
from core.plugins import make_plugin_manager
from core.queues import QueueBackend
from core.runtime import Runtime
from gateway.api import ids
from gateway.api.app import create_app
from plugins.shopify.simulator.faults import FaultConfig
from tests.harness import fast_settings
from tests.servers import seeded_shop, serving
from tests.services import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOP_TOKEN = "shpat_web_test_secret"
ROOT = Path(__file__).resolve().parents[2]
# Each screen is saved on every run, under .sync-gateway/ (ignored by git) so a test run leaves the
# tree clean; SYNC_GATEWAY_SCREENSHOTS=docs/screenshots refreshes the committed ones.
SCREENSHOTS = ROOT / os.environ.get("SYNC_GATEWAY_SCREENSHOTS", ".sync-gateway/screenshots")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 800}


@dataclass
class Gateway:
    """The served app and what a test needs to check the store behind the page."""

    url: str
    runtime: Runtime
    queue: QueueBackend
    sim: Any
    tokens: dict[str, str]
    shops: dict[str, Shop] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)

    def job_gid(self, shop: str) -> str:
        return ids.encode("Job", self.jobs[shop].id)

    def job(self, shop: str) -> Job:
        with self.runtime.storage.transaction() as tx:
            found = tx.get_job(self.jobs[shop].id)
        assert found is not None
        return found

    def runs(self, shop: str) -> list[JobRun]:
        with self.runtime.storage.transaction() as tx:
            return list(tx.list_runs(self.jobs[shop].id, first=100).items)

    def wait_for_run(self, run_id: int, timeout: float = 60) -> JobRun:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.runtime.storage.transaction() as tx:
                run = tx.get_run(run_id)
            if run is not None and run.status.finished and run.status is not JobRunStatus.SKIPPED:
                return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} did not finish in {timeout}s")


@pytest.fixture
def gateway(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Gateway]:
    # Real time (the page compares times with the browser's clock), one cursor chain of ten-order
    # pages: a run lasts long enough to be watched live once slow_shop() slows each reply.
    orders = getattr(request, "param", {}).get("orders", 60)
    sim = seeded_shop("alpha-shop.myshopify.com", SHOP_TOKEN, plan="standard", orders=orders, seed=11, hours=6)
    settings = fast_settings(tmp_path, f"sqlite:///{(tmp_path / 'web.db').as_posix()}", page_size=10,
                             shopify={"slices_in_flight": 1}, first_run_lookback_hours=12)
    runtime = Runtime.build(settings, pm=make_plugin_manager(),
                            source_options={"*": {"transport": httpx2.ASGITransport(app=sim.asgi_app)}})
    queue = QueueBackend.from_settings(settings)
    bind_runtime(runtime)
    queue.start_embedded_worker(poll_seconds=0.2)
    tokens = {"admin": issue_token(runtime, name="web admin", role=TokenRole.ADMIN)[1],
              "read": issue_token(runtime, name="web reader", role=TokenRole.READ)[1]}
    gateway = Gateway(url="", runtime=runtime, queue=queue, sim=sim, tokens=tokens)
    for name in ("alpha", "beta"):
        shop, jobs = add_shop(runtime, NewShop(name=name, url=f"https://{name}-shop.myshopify.com", token=SHOP_TOKEN))
        gateway.shops[name], gateway.jobs[name] = shop, jobs[0]
    try:
        with serving(create_app(runtime, queue)) as url:
            gateway.url = url
            yield gateway
    finally:
        queue.stop()
        unbind_runtime(runtime)
        runtime.close()


def imported(gateway: Gateway, shop: str = "alpha") -> JobRun:
    """Run the shop's job to its end (the import a test then looks at)."""
    from core.jobcontrol import run_job_now

    run = run_job_now(gateway.runtime, gateway.queue.enqueue_run, gateway.jobs[shop].id)
    finished = gateway.wait_for_run(run.id)
    assert finished.status is JobRunStatus.SUCCEEDED, finished.error
    return finished


def slow_shop(gateway: Gateway, seconds: float = 0.2) -> None:
    gateway.sim.faults = FaultConfig(rate_slow=1.0, slow_seconds=seconds)


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Any]:
    # Per module, not per session: while it runs, Playwright's sync API holds an event loop in
    # this thread, and the async tests of the next modules (tests/webhooks...) need the thread's.
    if not CHROMIUM.exists():
        unavailable("Chromium", f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright", "pip install -e '.[dev]'")
    with sync_playwright() as driver:
        yield driver


@dataclass
class Browser:
    """One fresh Chromium profile; ``offsite`` lists every request aimed away from loopback."""

    context: Any
    page: Any
    base: str
    offsite: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # what the page's Content-Security-Policy blocked
    operations: list[dict[str, Any]] = field(default_factory=list)

    def open(self, path: str = "/") -> Any:
        self.page.goto(self.base + path)
        return self.page

    def sign_in(self, token: str) -> Any:
        page = self.open("/")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Shops").wait_for()
        return page

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def browser(playwright_driver: Any, gateway: Gateway) -> Iterator[Browser]:
    profile = tempfile.mkdtemp(prefix="sync-gateway-chromium-")
    context = playwright_driver.chromium.launch_persistent_context(
        profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        viewport=DESKTOP, timezone_id="Europe/Rome", locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.pages[0] if context.pages else context.new_page()
    browser = Browser(context=context, page=page, base=gateway.url)

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            browser.offsite.append(route.request.url)
            route.abort()

    def record(request: Any) -> None:
        if request.method == "POST" and urlsplit(request.url).path == "/graphql":
            browser.operations.append(request.post_data_json)

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            browser.refused.append(message.text)

    context.route("**/*", guard)
    context.on("request", record)
    page.on("console", console)
    try:
        yield browser
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
    assert browser.offsite == [], f"the page reached beyond loopback: {browser.offsite}"
    assert browser.refused == [], f"the page broke its own Content-Security-Policy: {browser.refused}"
