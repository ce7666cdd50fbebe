"""The Shopify source: what the engine sees of this plugin (``core.SourceFactory``/``core.Source``).

``ShopifySourceFactory.create`` builds one :class:`ShopifySource` per shop and run from the
shop's record, its credentials and the settings. The factory keeps one cost pacer per shop
endpoint, because Shopify's limits are per app and shop, whichever run or webhook is asking.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import httpx2

from core import (
    ConfigurationError,
    ConnectionCheck,
    ConnectionProblem,
    FetchStats,
    OrderPage,
    Settings,
    Shop,
    ShopCredentials,
    SourceAuthError,
    SourceDataError,
    Window,
)

from . import queries, sizing
from .bulk import (
    BulkOptions,
    BulkStatus,
    BulkUnavailable,
    bulk_pages,
    cancel_bulk,
    count_orders,
    poll_bulk,
    result_pages,
    start_bulk,
)
from .bulk_parallel import concurrent_bulk_limit, parallel_bulk_pages
from .bulk_speed import FILE_NAME as SPEED_FILE
from .bulk_speed import SpeedMemory, learned_threshold
from .client import RetryPolicy, ShopifyClient, shop_base_url
from .sizing import Sizer
from .slices import rest_in_slices
from .pacing import BucketLedger, Clock, CostPacer, LocalLedger, RedisLedger, Sleep
from .settings import shopify_settings
from .streams import WindowCount, describe_window, one_order, window_pages

log = logging.getLogger("sync_gateway.shopify")

HISTORY_WITHOUT_READ_ALL_ORDERS = timedelta(days=60)
"""Shopify shows only this much order history unless the app holds ``read_all_orders``."""

OPTIONS = frozenset({
    "transport", "clock", "sleep", "rng", "now", "backoff_base", "backoff_cap", "max_wait",
    "bulk", "bulk_threshold", "bulk_page_orders", "bulk_busy_wait", "slices_in_flight", "bulk_queries",
    "bulk_min_part_orders",
})

BULK_MODES = ("auto", "always", "never")

COUNT_LIMIT_WITHOUT_BULK = 100_000
"""How far a window is counted when only its slicing needs the figure (a bigger window is cut
as if it held this many orders, which is plenty of slices)."""

BULK_THRESHOLDS: dict[float, int] = {100.0: 5_000, 200.0: 16_000, 1000.0: 250_000, 2000.0: 500_000}
"""Default orders-per-window above which a window also gets a bulk query, by the plan's restore
rate in points per second (Standard, Advanced, Plus, Enterprise). Measured with
``bench/import_throughput.py --crossover`` against the simulator (docs/benchmarks.md): bulk wins
once the window outgrows what the bucket holds (Standard between 4,000 and 8,000 orders, Advanced
about 16,000), when the bulk query processes more objects per second than paging reads (about
3.5 objects an order at 0.31 points an order: 1,100 objects/s on Standard, 2,300 on Advanced,
11,000 on Plus). At the assumed 5,000 objects/s Plus pages faster up to 80,000 orders at least,
and Enterprise by extension; their thresholds only keep bulk for the windows paging cannot
finish in minutes."""


CHECK_ATTEMPTS = 2
"""Attempts of a connection check's request: one retry, then report what failed."""
CHECK_THROTTLE_WAIT = 5.0
"""Seconds a connection check waits on throttling before it reports THROTTLED."""


def default_bulk_threshold(restore_rate: float | None) -> int:
    """The threshold of the plan with ``restore_rate`` (the nearest preset at or below it)."""
    if restore_rate is None:
        return BULK_THRESHOLDS[100.0]
    rates = [rate for rate in sorted(BULK_THRESHOLDS) if rate <= restore_rate + 1e-9]
    return BULK_THRESHOLDS[rates[-1] if rates else min(BULK_THRESHOLDS)]


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What :meth:`ShopifySource.connection_info` learned about the shop and the token."""

    shop_name: str
    domain: str
    api_version: str
    scopes: tuple[str, ...]
    plan: str | None = None
    shopify_plus: bool | None = None

    @property
    def can_read_orders(self) -> bool:
        return bool({"read_orders", "write_orders"} & set(self.scopes))

    @property
    def can_read_all_orders(self) -> bool:
        return "read_all_orders" in self.scopes


class ShopifySourceFactory:
    """Builds :class:`ShopifySource` objects; registered as source ``"shopify"``."""

    name = "shopify"

    def __init__(self) -> None:
        self._ledgers: dict[str, BucketLedger] = {}
        self._speeds: dict[str, SpeedMemory] = {}
        self._connections: dict[str, object] = {}
        self._lock = threading.Lock()

    def create(self, *, shop: Shop, credentials: ShopCredentials, settings: Settings, **options: Any) -> ShopifySource:
        """Return a source for ``shop``.

        Options (tests and the demo): ``transport`` (an ``httpx2.AsyncBaseTransport``, e.g.
        ``httpx2.ASGITransport(app=sim.asgi_app)``), ``clock``/``sleep`` (pacing and backoff time),
        ``rng`` (backoff jitter), ``now`` (wall clock for the 60-day rule), ``backoff_base``,
        ``backoff_cap``, ``max_wait`` (seconds). Bulk queries: ``bulk`` (``"auto"``: when the window
        holds more than the threshold; ``"always"``, the default of a ``backfill`` source; ``"never"``),
        ``bulk_threshold`` (orders; default ``[plugins.shopify] bulk_threshold_orders`` when set, else the
        plan's default, :data:`BULK_THRESHOLDS`), ``bulk_page_orders``, ``bulk_busy_wait``
        (seconds), ``bulk_queries`` (most bulk queries of one ``always`` window at once, default
        ``[plugins.shopify] bulk_queries``, capped by the API version's limit), ``bulk_min_part_orders``.
        ``slices_in_flight``: most time slices paged at once (default ``[plugins.shopify]
        slices_in_flight``; 1 reads each window as one cursor chain). Other options are ignored.

        Raises:
            ConfigurationError: no token, or a shop URL that is not a shop.
        """
        token = resolve_token(shop, credentials)
        own = shopify_settings(settings)
        clock: Clock | None = options.get("clock")
        sleep: Sleep | None = options.get("sleep")
        transport: httpx2.AsyncBaseTransport | None = options.get("transport")
        base_url = shop_base_url(shop.url)
        backfill = bool(options.get("backfill"))
        if clock is not None or sleep is not None:
            pacer = CostPacer(backfill=backfill, **({"clock": clock} if clock else {}),
                              **({"sleep": sleep} if sleep else {}))
        else:
            pacer = CostPacer(ledger=self._ledger(base_url, settings), backfill=backfill)
        policy = RetryPolicy(
            max_attempts=own.max_attempts,
            max_throttle_wait=own.throttle_max_wait_seconds,
            **{key: float(options[key]) for key in ("backoff_base", "backoff_cap", "max_wait") if key in options},
        )
        rng: random.Random | None = options.get("rng")
        client = ShopifyClient(
            shop=f"{shop.name} ({shop.url})",
            shop_url=shop.url,
            api_version=shop.api_version or own.api_version,
            token=token,
            timeout=own.http_timeout_seconds,
            policy=policy,
            pacer=pacer,
            transport=transport,
            rng=rng,
            **({"sleep": sleep} if sleep else {}),
        )
        now: Callable[[], datetime] = options.get("now") or _utc_now
        bulk = str(options.get("bulk", "always" if backfill else "auto"))
        if bulk not in BULK_MODES:
            raise ConfigurationError(f"source option bulk={bulk!r} is not one of {', '.join(BULK_MODES)}")
        threshold = options.get("bulk_threshold", own.bulk_threshold_orders)
        defaults = BulkOptions()
        bulk_options = BulkOptions(
            page_orders=int(options.get("bulk_page_orders", defaults.page_orders)),
            busy_wait=float(options.get("bulk_busy_wait", defaults.busy_wait)),
            min_part_orders=int(options.get("bulk_min_part_orders", defaults.min_part_orders)),
        )
        slices = int(options.get("slices_in_flight", own.slices_in_flight))
        if slices < 1:
            raise ConfigurationError(f"source option slices_in_flight={slices} must be at least 1")
        bulk_queries = int(options.get("bulk_queries", own.bulk_queries))
        if bulk_queries < 1:
            raise ConfigurationError(f"source option bulk_queries={bulk_queries} must be at least 1")
        return ShopifySource(shop=shop, client=client, page_size=settings.page_size, now=now, bulk=bulk,
                             bulk_threshold=None if threshold is None else int(threshold), bulk_options=bulk_options,
                             slices_in_flight=slices, bulk_queries=bulk_queries, speeds=self._speed_memory(settings))

    def _speed_memory(self, settings: Settings) -> SpeedMemory:
        """The shops' measured bulk speeds, kept in the data folder (one memory per folder)."""
        path = settings.data_dir / SPEED_FILE
        with self._lock:
            memory = self._speeds.get(str(path))
            if memory is None:
                memory = self._speeds[str(path)] = SpeedMemory(path)
            return memory

    def default_api_version(self, settings: Settings) -> str:
        """The API version of a new shop added without one: ``[plugins.shopify] api_version``."""
        return shopify_settings(settings).api_version

    def _ledger(self, base_url: str, settings: Settings) -> BucketLedger:
        """The shop's one budget: in Redis when the gateway has one (every worker shares it),
        else in this process. Keyed by the shop's URL: Shopify's bucket is per app and shop."""
        with self._lock:
            ledger = self._ledgers.get(base_url)
            if ledger is None:
                local = LocalLedger()
                if settings.redis_url:
                    ledger = RedisLedger(self._redis(settings.redis_url), f"sync-gateway:shopify-budget:{base_url}",
                                         fallback=local)
                else:
                    ledger = local
                self._ledgers[base_url] = ledger
            return ledger

    def _redis(self, url: str) -> object:
        connection = self._connections.get(url)
        if connection is None:
            import redis

            # Short timeouts: a budget that does not answer at once is replaced by the local one.
            connection = self._connections[url] = redis.Redis.from_url(
                url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return connection


class ShopifySource:
    """Reads one shop's orders through the Admin GraphQL API (see :class:`core.Source`)."""

    def __init__(
        self,
        *,
        shop: Shop,
        client: ShopifyClient,
        page_size: int,
        now: Callable[[], datetime],
        bulk: str = "auto",
        bulk_threshold: int | None = None,
        bulk_options: BulkOptions | None = None,
        slices_in_flight: int = 1,
        bulk_queries: int = 1,
        speeds: SpeedMemory | None = None,
    ) -> None:
        self.speeds = speeds or SpeedMemory(None)
        self.shop = shop
        self.bulk_queries = min(bulk_queries, concurrent_bulk_limit(client.api_version))
        self.slices_in_flight = slices_in_flight
        self.client = client
        self.page_size = page_size
        self.bulk = bulk
        self.bulk_threshold = bulk_threshold
        self.bulk_options = bulk_options or BulkOptions()
        self._now = now
        self._connection: ConnectionInfo | None = None

    def __repr__(self) -> str:
        return f"ShopifySource(shop={self.shop.name!r}, endpoint={self.client.endpoint!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def fetch_orders(self, window: Window, *, page_size: int | None = None) -> AsyncIterator[OrderPage]:
        """Yield every order updated in ``window``, complete, ``page_size`` (≤ 250) per page.

        Raises:
            SourceAuthError: bad token, or a window older than 60 days without ``read_all_orders``.
            SourceUnavailable: Shopify stayed unavailable past the retry budget.
            SourceDataError: a reply we cannot trust.
            ConfigurationError: an unsupported API version.
        """
        size = page_size or self.page_size
        if not 1 <= size <= sizing.MAX_FIRST:
            raise ConfigurationError(f"page size {size} is outside Shopify's 1..{sizing.MAX_FIRST}")
        await self._check_history_access(window)
        if self.bulk == "always":
            async for page in self._bulk_then_pages(window, size):
                yield page
            return
        if self.bulk == "never" and self.slices_in_flight <= 1:
            async for page in window_pages(self.client, window, page_size=size):
                yield page
            return
        async for page in self._paged_or_bulk(window, size):
            yield page

    async def _paged_or_bulk(self, window: Window, size: int) -> AsyncIterator[OrderPage]:
        """Page the window; when its first page shows it is big, also start a bulk query and keep
        paging (the bucket would otherwise sit idle) until the bulk query ends, then read the
        orders paging has not reached from its result. A window read by paging alone is read in
        overlapping time slices after its first page (:mod:`.slices`), when that helps.

        Paging reads in ``updatedAt`` order, so every order updated before the last one paged
        was read (an order that changed meanwhile left the window, whose end is in the past):
        the bulk result is read from that moment on.
        """
        count: WindowCount | None = WindowCount(self._count_limit())
        sizer = Sizer(size)
        pages = window_pages(self.client, window, page_size=size, count=count, sizer=sizer)
        pending = FetchStats()  # bulk requests, reported with the next page
        want_bulk = False
        sliced: AsyncIterator[OrderPage] | None = None
        operation: str | None = None
        status: BulkStatus | None = None
        reached: datetime | None = None
        started = 0.0
        try:
            async for page in pages:
                page.stats.add(pending)
                pending = FetchStats()
                yield page
                if page.orders:
                    last = page.orders[-1].updated_at
                    reached = last if reached is None else max(reached, last)
                if count is not None:
                    counted, count = count.count, None
                    threshold = self._threshold(page, size)
                    want_bulk = self.bulk == "auto" and counted is not None and counted > threshold
                    if want_bulk:
                        log.info("Shopify shop %s: %s holds more than %s orders; starting a bulk query",
                                 self.client.shop, describe_window(window), threshold)
                    elif counted is not None:
                        sliced = await rest_in_slices(self.client, window, page, count=counted, page_size=size,
                                                      limit=self.slices_in_flight, sizer=sizer)
                        if sliced is not None:
                            break
                if want_bulk and operation is None:
                    # Never wait for another bulk query of the shop here: paging goes on, and
                    # starting is tried again after the next page.
                    try:
                        operation = await start_bulk(self.client, window, self.bulk_options, pending, wait=False)
                        started = self.client.pacer.clock()
                    except BulkUnavailable as unavailable:
                        want_bulk = unavailable.busy
                        log.info("Shopify shop %s: %s; paging on", self.client.shop, unavailable.reason)
                elif operation is not None:
                    status = await poll_bulk(self.client, operation, pending, window)
                    if status.finished:
                        if status.status == "COMPLETED":
                            self._measured(status, self.client.pacer.clock() - started)
                        break
            else:  # paging read the whole window first
                if operation is not None:
                    await cancel_bulk(self.client, operation, pending, window)
                if pending.requests:
                    yield OrderPage(orders=(), stats=pending)
                return
        finally:
            await pages.aclose()
        if sliced is not None:
            async for page in sliced:
                yield page
            return
        assert status is not None and operation is not None
        result = result_pages(self.client, status, self.bulk_options, pending, window, skip_before=reached)
        async for page in self._paging_when_bulk_fails(result, window, size, "on"):
            yield page

    async def _bulk_then_pages(self, window: Window, size: int) -> AsyncIterator[OrderPage]:
        """Read ``window`` in bulk, through up to ``bulk_queries`` queries at once (API 2026-01
        and later); page it (or the part of it a query did not read) when the bulk path cannot."""
        if self.bulk_queries > 1:
            async def page_rest(part: Window, unavailable: BulkUnavailable) -> AsyncIterator[OrderPage]:
                rest = _rest_of(part, unavailable.resume_from)
                if rest is not None:
                    async for page in window_pages(self.client, rest, page_size=size):
                        yield page

            async for page in parallel_bulk_pages(self.client, window, self.bulk_options, parts=self.bulk_queries,
                                                  fallback=page_rest, single=lambda: self._bulk_then_pages_one(window, size),
                                                  measured=self._measured):
                yield page
            return
        async for page in self._bulk_then_pages_one(window, size):
            yield page

    def _bulk_then_pages_one(self, window: Window, size: int) -> AsyncIterator[OrderPage]:
        """``window`` through one bulk query; paged (or its rest) when the bulk path cannot."""
        return self._paging_when_bulk_fails(bulk_pages(self.client, window, self.bulk_options,
                                                       measured=self._measured), window, size, "instead")

    async def _paging_when_bulk_fails(self, bulk: AsyncIterator[OrderPage], window: Window, size: int,
                                      how: str) -> AsyncIterator[OrderPage]:
        """Yield the bulk path's pages; if it gives up, page the part of ``window`` it did not read."""
        try:
            async for page in bulk:
                yield page
            return
        except BulkUnavailable as unavailable:
            rest = _rest_of(window, unavailable.resume_from)
            if rest is None:
                return
            log.warning("Shopify shop %s: %s; paging %s %s", self.client.shop, unavailable.reason,
                        describe_window(rest), how)
        async for page in window_pages(self.client, rest, page_size=size):
            yield page

    def _count_limit(self) -> int:
        if self.bulk == "never":
            return COUNT_LIMIT_WITHOUT_BULK
        return (self.bulk_threshold if self.bulk_threshold is not None else max(BULK_THRESHOLDS.values())) + 1

    def _threshold(self, first: OrderPage, size: int) -> int:
        """Orders above which a window is read in bulk: the option or setting; else learned from
        the shop's measured bulk speed and what ``first`` (the window's first page) cost and
        took (:mod:`.bulk_speed`); else, never measured, the plan's default."""
        if self.bulk_threshold is not None:
            return self.bulk_threshold
        status = self.client.pacer.status
        speed = self.speeds.get(self.client.base_url)
        if speed is None or not first.orders:
            return default_bulk_threshold(status.restore_rate if status else None)
        return learned_threshold(speed, round_trip=self.client.round_trip, orders_per_page=size,
                                 points_per_page=first.stats.actual_cost / len(first.orders) * size,
                                 budget=status, chains=self.slices_in_flight)

    def _measured(self, status: BulkStatus, seconds: float) -> None:
        """A completed bulk query of the shop ran ``seconds``: remember its speed."""
        self.speeds.record(self.client.base_url, objects=status.object_count, orders=status.root_object_count,
                           seconds=seconds)

    async def count_orders(self, window: Window, *, limit: int | None = None) -> int:
        """Orders updated in ``window`` (up to ``limit``), for a progress bar's total; about one point."""
        return await count_orders(self.client, window, limit=limit, stats=FetchStats())

    async def fetch_order(self, source_id: str) -> OrderPage:
        """The order ``source_id`` (``gid://shopify/Order/…``), complete; an empty page if it is gone."""
        return await one_order(self.client, source_id)

    async def check_connection(self) -> ConnectionCheck:
        """The connection check of :class:`core.Source`: one ``ConnectionCheck`` query, retried at
        most once and never waiting out long throttling (an admin is watching), reporting the
        shop, its plan and API budget, and the scopes (``read_orders`` needed, ``read_all_orders``
        for windows older than 60 days).

        Raises:
            GatewayError: naming its ``problem`` (BAD_TOKEN, UNKNOWN_SHOP, THROTTLED, TIMEOUT...).
        """
        policy = self.client.policy
        self.client.policy = replace(policy, max_attempts=min(policy.max_attempts, CHECK_ATTEMPTS),
                                     max_throttle_wait=min(policy.max_throttle_wait, CHECK_THROTTLE_WAIT))
        try:
            info = await self.connection_info()
        finally:
            self.client.policy = policy
        status = self.client.pacer.status
        missing = () if info.can_read_orders else ("read_orders",)
        optional = () if info.can_read_all_orders else ("read_all_orders",)
        plan = info.plan or "unknown plan"
        if missing:
            message = (f"Shopify shop {info.domain} ({info.shop_name}) accepts the token, but it lacks the "
                       "read_orders scope: the gateway cannot read orders")
        else:
            message = f"Shopify shop {info.domain} ({info.shop_name}, {plan}) accepts the token and can read orders"
            if optional:
                message += "; only the last 60 days of them without read_all_orders"
        return ConnectionCheck(
            ok=not missing,
            problem=ConnectionProblem.MISSING_SCOPE if missing else None,
            message=message,
            shop_name=info.shop_name,
            domain=info.domain,
            api_version=info.api_version,
            scopes=info.scopes,
            missing_scopes=missing,
            optional_missing_scopes=optional,
            plan=info.plan,
            plan_premium=info.shopify_plus,
            api_points=status.maximum_available if status else None,
            api_restore_rate=status.restore_rate if status else None,
        )

    async def connection_info(self) -> ConnectionInfo:
        """Ask Shopify who the shop is and which scopes the token holds (cached per source).

        Raises:
            SourceAuthError: the token is refused.
        """
        if self._connection is None:
            reply = await self.client.execute(
                queries.CONNECTION_CHECK,
                None,
                stats=FetchStats(),
                requested=sizing.CONNECTION_CHECK_ESTIMATE,
                what="checking the connection",
            )
            self._connection = _connection_info(reply.data, self.client)
        return self._connection

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _check_history_access(self, window: Window) -> None:
        if window.start >= self._now() - HISTORY_WITHOUT_READ_ALL_ORDERS:
            return
        info = await self.connection_info()
        if not info.can_read_all_orders:
            raise SourceAuthError(
                f"Shopify shop {self.client.shop} only shows the last 60 days of orders to this app, "
                f"and the window {describe_window(window)} reaches further back",
                suggestion="request the read_all_orders scope for the app (Shopify must approve it) "
                "and grant it on the shop, or sync a window within the last 60 days",
            )


def resolve_token(shop: Shop, credentials: ShopCredentials) -> str:
    """The shop's access token: stored, or read from the environment variable it names.

    Raises:
        ConfigurationError: neither is available (the message names the variable, never a value).
    """
    if credentials.token:
        return credentials.token
    if credentials.token_env:
        token = os.environ.get(credentials.token_env, "").strip()
        if token:
            return token
        missing = ConfigurationError(
            f"shop {shop.name} reads its Admin API access token from ${credentials.token_env}, which is not set",
            suggestion=f"export {credentials.token_env}=<token> in the worker's environment",
        )
    else:
        missing = ConfigurationError(
            f"shop {shop.name} has no Admin API access token",
            suggestion="store a token for the shop or name an environment variable holding it (token_env)",
        )
    missing.problem = ConnectionProblem.NO_TOKEN.value
    raise missing


def _connection_info(data: dict[str, Any], client: ShopifyClient) -> ConnectionInfo:
    shop = data.get("shop")
    installation = data.get("currentAppInstallation")
    scopes = installation.get("accessScopes") if isinstance(installation, dict) else None
    if (
        not isinstance(shop, dict)
        or not isinstance(shop.get("name"), str)
        or not isinstance(shop.get("myshopifyDomain"), str)
        or not isinstance(scopes, list)
        or not all(isinstance(s, dict) and isinstance(s.get("handle"), str) for s in scopes)
    ):
        raise SourceDataError(f"Shopify shop {client.shop} sent an unreadable connection check")
    plan = shop.get("plan") if isinstance(shop.get("plan"), dict) else {}
    name = plan.get("publicDisplayName")
    plus = plan.get("shopifyPlus")
    return ConnectionInfo(
        shop_name=shop["name"],
        domain=shop["myshopifyDomain"],
        api_version=client.api_version,
        scopes=tuple(s["handle"] for s in scopes),
        plan=name if isinstance(name, str) else None,
        shopify_plus=plus if isinstance(plus, bool) else None,
    )


def _rest_of(window: Window, resume_from: datetime | None) -> Window | None:
    """What is left of ``window`` to page from ``resume_from`` on (inclusive); None if nothing."""
    if resume_from is None or resume_from <= window.start:
        return window
    if resume_from >= window.end:
        return None
    return Window(resume_from, window.end)


def _utc_now() -> datetime:
    return datetime.now(UTC)
