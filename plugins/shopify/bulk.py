"""Reading a whole window through one bulk query operation (research/shopify-api.md §D.23).

A bulk query runs in the background at Shopify, outside the cost bucket: the source starts it
(``bulkOperationRunQuery``, 10 points), polls ``node(id:)`` tightly (about 1 point a poll) until
it is ``COMPLETED``, then streams the JSONL result from its ``url``, re-assembling each order from
its row and its line-item rows (``__parentId``), and yields pages of complete orders. Only one
page of orders is held at a time, whatever the window's size.

Grouping (:func:`groups_objects`): before API 2026-01 the source asks for ``groupObjects: true``
and each order's rows follow it, so orders are assembled as the file downloads. From 2026-01 it
asks for ``false`` (Shopify's default there, and faster: grouping "is costly"), and a child row
may arrive anywhere; the rows are then spilled to a temporary file and assembled once the file
is read (:mod:`.bulk_rows`), still in constant memory.

What the bulk rows lack: Shopify refuses a connection inside a list field in a bulk query, and
``Order.refunds`` is a list whose ``refundLineItems`` is a connection, so bulk orders carry no
refund lines. The cancellation rule (``core.cancellations``) decides from the line quantities
(``quantity``, ``currentQuantity``, ``unfulfilledQuantity``, ``nonFulfillableQuantity``), so the
canceled units are the same; refund lines only add evidence. A unit canceled through the bulk
path is recorded with the reason "removed before fulfilment" and the order's ``updatedAt`` as its
time, where the paged path would name the refund's restock type and time.

When the bulk path cannot serve a window, :class:`BulkUnavailable` tells the source to page it
instead: another bulk query keeps running past the wait budget (one per shop before API 2026-01,
five from 2026-01), Shopify refuses the query, or the operation ends ``FAILED``, ``CANCELED`` or
``EXPIRED``. A failed operation's ``partialDataUrl`` is read first; when its orders arrived in
``updatedAt`` order (as requested), paging resumes from the last complete one, otherwise from the
window's start. ``ACCESS_DENIED`` fails the run at once (:class:`core.SourceAuthError`).

The result URL: Shopify serves results from its storage host, to be fetched without the access
token (it is never sent there). A simulator or proxy configured by a full base URL
(``http://127.0.0.1:8080``) may still report its result at the shop's ``*.myshopify.com`` host;
such a URL is rewritten onto the configured base (see :func:`result_url`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2
import orjson

from core import (
    FetchStats,
    OrderPage,
    SourceAuthError,
    SourceDataError,
    SourceOrder,
    Window,
)

from . import queries
from .bulk_rows import RowSpill
from .client import ShopifyClient
from .parse import parse_order
from .streams import describe_window, window_search

log = logging.getLogger("sync_gateway.shopify")

RUN_ESTIMATE = 10.0  # a mutation costs 10 points
POLL_ESTIMATE = 1.0  # node(id:) is an interface: 1 point
COUNT_ESTIMATE = 1.0  # ordersCount returns one Count object
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
BUSY_CODES = frozenset({"OPERATION_IN_PROGRESS", "LIMIT_REACHED"})
LINE_ITEM_PREFIX = "gid://shopify/LineItem/"


UNGROUPED_FROM = "2026-01"
"""The first API version whose bulk results are read ungrouped (``groupObjects: false``)."""


def groups_objects(api_version: str) -> bool:
    """Whether bulk queries on ``api_version`` ask for grouped results (before 2026-01)."""
    return not newer_or_equal(api_version, UNGROUPED_FROM)


def newer_or_equal(api_version: str, than: str) -> bool:
    """``api_version`` is ``than`` or later (``unstable`` is later than every release)."""
    return api_version == "unstable" or api_version >= than


class BulkUnavailable(Exception):
    """Internal: page this window instead (from ``resume_from`` when set, else from its start)."""

    def __init__(self, reason: str, resume_from: datetime | None = None, *, busy: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.resume_from = resume_from
        self.busy = busy
        """Another bulk query of the shop is running: trying again later may succeed."""


@dataclass(frozen=True, slots=True)
class BulkOptions:
    """How the bulk path behaves.

    Args:
        page_orders: complete orders per yielded page (storage writes one batch per page).
        poll_first: first pause between polls, in seconds; grows by half per poll ...
        poll_max: ... up to this. A poll costs about one point, so tight polling is cheap.
        busy_wait: how long to wait for another bulk query of the shop to finish before paging.
        min_part_orders: fewest orders worth a bulk query of their own when a window is split
            across several (:mod:`.bulk_parallel`).
    """

    page_orders: int = 1000
    poll_first: float = 0.05
    poll_max: float = 0.5
    busy_wait: float = 60.0
    min_part_orders: int = 2_000


@dataclass(frozen=True, slots=True)
class BulkStatus:
    """What a poll of a bulk operation said."""

    status: str
    error_code: str | None
    url: str | None
    partial_data_url: str | None
    object_count: int
    root_object_count: int = 0

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


def bulk_query_text(window: Window) -> str:
    """``orders_bulk.graphql`` with the window's filter as its search string."""
    # A GraphQL string literal escapes like JSON for these characters (quotes, backslashes).
    return queries.load(queries.ORDERS_BULK).replace('"$WINDOW"', orjson.dumps(window_search(window)).decode())


def result_url(client: ShopifyClient, url: str) -> str:
    """Where to download ``url``: on the configured base when the shop is reached through one.

    Real results live on Shopify's storage host and are fetched as given. A shop configured by a
    full base URL (a proxy, the simulator) that reports its result on a ``*.myshopify.com`` host
    gets the URL's scheme and host swapped for the configured base's, keeping path and query.
    """
    target, base = urlsplit(url), urlsplit(client.base_url)
    host = (target.hostname or "").lower()
    if host.endswith(".myshopify.com") and (base.hostname or "").lower() != host:
        return urlunsplit((base.scheme, base.netloc, target.path, target.query, ""))
    return url


async def count_orders(client: ShopifyClient, window: Window, *, limit: int | None, stats: FetchStats) -> int:
    """Orders updated in ``window``, counted up to ``limit`` (None: no limit; about one point)."""
    reply = await client.execute(
        queries.ORDERS_COUNT,
        {"query": window_search(window), "limit": limit},
        stats=stats,
        requested=COUNT_ESTIMATE,
        what=f"counting orders updated in {describe_window(window)}",
    )
    count = reply.data.get("ordersCount")
    value = count.get("count") if isinstance(count, Mapping) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise SourceDataError(f"Shopify shop {client.shop} sent an unreadable ordersCount")
    return value


async def bulk_pages(client: ShopifyClient, window: Window, options: BulkOptions, *,
                     measured: Callable[[BulkStatus, float], None] | None = None) -> AsyncIterator[OrderPage]:
    """Yield every order updated in ``window`` through one bulk query, ``page_orders`` per page;
    ``measured`` is told how long a completed query ran (on the pacer's clock).

    Raises:
        BulkUnavailable: page the window (or its rest) instead.
        SourceAuthError, SourceUnavailable, SourceDataError: as the paged path.
    """
    stats = FetchStats()
    operation = await start_bulk(client, window, options, stats)
    started = client.pacer.clock()
    status = await wait_bulk(client, operation, options, stats, window)
    if measured is not None and status.status == "COMPLETED":
        measured(status, client.pacer.clock() - started)
    async for page in result_pages(client, status, options, stats, window):
        yield page


def _what(window: Window) -> str:
    return f"reading orders updated in {describe_window(window)} in bulk"


async def start_bulk(
    client: ShopifyClient, window: Window, options: BulkOptions, stats: FetchStats, *, wait: bool = True
) -> str:
    """Start the window's bulk query and return its id; wait while another bulk query of the
    shop runs (up to ``busy_wait``; not at all without ``wait``).

    Raises:
        BulkUnavailable: the shop stays busy, or Shopify refuses the query.
    """
    what = _what(window)
    waited, pause = 0.0, 1.0
    text = bulk_query_text(window)
    variables = {"query": text, "group": groups_objects(client.api_version)}
    while True:
        reply = await client.execute(queries.BULK_RUN, variables, stats=stats, requested=RUN_ESTIMATE, what=what)
        payload = reply.data.get("bulkOperationRunQuery")
        if not isinstance(payload, Mapping):
            raise SourceDataError(f"Shopify shop {client.shop} sent no bulkOperationRunQuery payload while {what}")
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        operation = payload.get("bulkOperation")
        if not errors and isinstance(operation, Mapping) and isinstance(operation.get("id"), str):
            return operation["id"]
        messages = "; ".join(str(e.get("message", ""))[:200] for e in errors) or "no operation and no error"
        busy = any(e.get("code") in BUSY_CODES or "already in progress" in str(e.get("message", "")) for e in errors)
        if not busy:
            raise BulkUnavailable(f"Shopify refused the bulk query: {messages}")
        if not wait or waited >= options.busy_wait:
            raise BulkUnavailable(f"another bulk query is still running after {waited:.0f}s: {messages}", busy=True)
        log.info("Shopify shop %s: %s; trying again in %.1fs", client.shop, messages, pause)
        await client.sleep(pause)
        waited += pause
        pause = min(pause * 2, 10.0)


async def poll_bulk(client: ShopifyClient, operation: str, stats: FetchStats, window: Window) -> BulkStatus:
    """The operation's state now (one poll, about one point)."""
    what = _what(window)
    reply = await client.execute(queries.BULK_POLL, {"id": operation}, stats=stats, requested=POLL_ESTIMATE, what=what)
    return _status(reply.data.get("node"), client, operation, what)


async def wait_bulk(
    client: ShopifyClient, operation: str, options: BulkOptions, stats: FetchStats, window: Window
) -> BulkStatus:
    """Poll tightly (``poll_first`` growing to ``poll_max`` seconds) until the operation ends."""
    pause = options.poll_first
    while True:
        status = await poll_bulk(client, operation, stats, window)
        if status.finished:
            return status
        await client.sleep(pause)
        pause = min(pause * 1.5, options.poll_max)


async def cancel_bulk(client: ShopifyClient, operation: str, stats: FetchStats, window: Window) -> None:
    """Cancel an operation no longer needed (best effort: a failure is only logged)."""
    try:
        await client.execute(queries.BULK_CANCEL, {"id": operation}, stats=stats, requested=RUN_ESTIMATE,
                             what=f"canceling the bulk query of {describe_window(window)}")
    except Exception as exc:  # noqa: BLE001 - it ends by itself at Shopify; only the shop's bulk slot stays taken a while
        log.warning("Shopify shop %s: could not cancel bulk operation %s: %s", client.shop, operation, exc)


async def result_pages(
    client: ShopifyClient,
    status: BulkStatus,
    options: BulkOptions,
    stats: FetchStats,
    window: Window,
    *,
    skip_before: datetime | None = None,
) -> AsyncIterator[OrderPage]:
    """Yield the orders of a finished operation, leaving out those updated before ``skip_before``
    (already read by paging, which reads in ``updatedAt`` order).

    Raises:
        BulkUnavailable: it did not complete (after yielding its partial data, if any).
        SourceAuthError: ``ACCESS_DENIED``.
    """
    what = _what(window)
    if status.status == "COMPLETED":
        if status.url is None:  # no order matched: Shopify writes no file
            yield OrderPage(orders=(), stats=stats)
            return
        reader = _Reader(client, result_url(client, status.url), options, what, partial=False, skip_before=skip_before)
        async for page in reader.pages(stats):
            yield page
        return
    if status.error_code == "ACCESS_DENIED":
        raise SourceAuthError(
            f"Shopify shop {client.shop} denied the bulk query while {what} (ACCESS_DENIED)",
            suggestion="check that the Admin API access token has the read_orders scope",
        )
    reason = f"the bulk operation ended {status.status}" + (f" ({status.error_code})" if status.error_code else "")
    resume_from = skip_before
    if status.partial_data_url:
        reader = _Reader(client, result_url(client, status.partial_data_url), options, what, partial=True,
                         skip_before=skip_before)
        async for page in reader.pages(stats):
            yield page
        if reader.resume_from is not None and (resume_from is None or reader.resume_from > resume_from):
            resume_from = reader.resume_from
    raise BulkUnavailable(reason, resume_from)


def _status(node: Any, client: ShopifyClient, operation: str, what: str) -> BulkStatus:
    if not isinstance(node, Mapping) or not isinstance(node.get("status"), str):
        raise SourceDataError(f"Shopify shop {client.shop} lost bulk operation {operation} while {what}")
    def unsigned(name: str) -> int:
        value = node.get(name)
        try:
            return int(value) if value is not None else 0  # UnsignedInt64 arrives as a string
        except (TypeError, ValueError):
            return 0

    objects = unsigned("objectCount")
    return BulkStatus(
        status=node["status"],
        error_code=node.get("errorCode") if isinstance(node.get("errorCode"), str) else None,
        url=node.get("url") if isinstance(node.get("url"), str) and node.get("url") else None,
        partial_data_url=node.get("partialDataUrl") if isinstance(node.get("partialDataUrl"), str) else None,
        object_count=objects,
        root_object_count=unsigned("rootObjectCount"),
    )


class _Reader:
    """Streams one result file into pages of complete orders, retrying a broken download.

    A retry reads the file again from the start and skips the orders already yielded. With
    ``partial`` (a failed operation's partial data) the last order may lack line items and the
    last row may be cut: both are dropped, and :attr:`resume_from` says where paging can resume.
    """

    def __init__(self, client: ShopifyClient, url: str, options: BulkOptions, what: str, *, partial: bool,
                 skip_before: datetime | None = None) -> None:
        self.client, self.url, self.options, self.what, self.partial = client, url, options, what, partial
        self.skip_before = skip_before
        self.grouped = groups_objects(client.api_version)
        self.emitted = 0
        self.resume_from: datetime | None = None
        self._in_order = True
        self._last: datetime | None = None

    async def pages(self, stats: FetchStats) -> AsyncIterator[OrderPage]:
        attempt = 0
        while True:
            attempt += 1
            stats.requests += 1
            try:
                async for orders in (self._read() if self.grouped else self._read_ungrouped()):
                    self.emitted += len(orders)
                    yield OrderPage(orders=orders, stats=stats)
                    stats = FetchStats()
                break
            except (httpx2.HTTPError, _BadStatus) as exc:
                if attempt >= self.client.policy.max_attempts:
                    raise BulkUnavailable(f"the bulk result could not be downloaded ({exc})",
                                          self.resume_from if self.partial else None) from None
                stats.retries += 1
                log.warning("Shopify shop %s: bulk result download broke (%s) while %s; retry %d",
                            self.client.shop, exc, self.what, attempt)
                await self.client.backoff(attempt)
        if self.partial:
            self.resume_from = self._last if self._in_order else None

    async def _read(self) -> AsyncIterator[tuple[SourceOrder, ...]]:
        skip = self.emitted
        batch: list[SourceOrder] = []
        current: dict[str, Any] | None = None
        lines: list[Any] = []
        async for raw in self._lines():
            try:
                row = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise SourceDataError(
                    f"Shopify shop {self.client.shop} sent an unreadable bulk row while {self.what}"
                ) from None
            parent = row.get("__parentId") if isinstance(row, dict) else None
            if parent is None:
                if current is not None:
                    if skip:
                        skip -= 1
                    elif self._wanted(current):
                        batch.append(self._order(current, lines))
                current, lines = row, []
                if len(batch) >= self.options.page_orders:
                    yield tuple(batch)
                    batch = []
            elif current is None or parent != current.get("id"):
                raise SourceDataError(
                    f"Shopify shop {self.client.shop} sent a bulk row of {parent} away from its order "
                    f"while {self.what} (the result is not grouped)"
                )
            else:
                lines.append(row)
        # The last order is complete only in a complete file.
        if current is not None and not self.partial:
            if skip:
                skip -= 1
            elif self._wanted(current):
                batch.append(self._order(current, lines))
        if batch or (self.emitted == 0 and not self.partial):
            yield tuple(batch)

    async def _read_ungrouped(self) -> AsyncIterator[tuple[SourceOrder, ...]]:
        """The orders of an ungrouped result: every row spilled first, then assembled.

        Partial data of an ungrouped result yields nothing: any order in it may lack children
        that were never written, so paging reads the window (from ``skip_before``) instead.
        """
        skip = self.emitted
        spill = RowSpill()
        try:
            async for raw in self._lines():
                row = self._row(raw)
                await spill.add(raw, str(row.get("id", "")), row.get("__parentId"))
            if self.partial:
                self._in_order = False
                return
            orphans = await spill.finish()
            if orphans:
                raise SourceDataError(f"Shopify shop {self.client.shop} sent {orphans} bulk row(s) whose order is not "
                                      f"in the result while {self.what}")
            yielded = False
            async for batch in spill.orders(self.options.page_orders):
                orders: list[SourceOrder] = []
                for raw, children in batch:
                    if skip:
                        skip -= 1
                        continue
                    row = self._row(raw)
                    if self._wanted(row):
                        orders.append(self._order(row, [orjson.loads(child) for child in children]))
                if orders:
                    yielded = True
                    yield tuple(orders)
            if not yielded and self.emitted == 0:
                yield ()
        finally:
            spill.close()

    async def _lines(self) -> AsyncIterator[bytes]:
        """The result file's non-empty JSONL lines, streamed. A complete result ending mid-row is
        a SourceDataError; partial data may end anywhere (its last line is dropped)."""
        async with (
            httpx2.AsyncClient(transport=self.client.transport, timeout=self.client.timeout) as http,
            http.stream("GET", self.url) as response,
        ):
            if response.status_code != 200:
                raise _BadStatus(f"HTTP {response.status_code}")
            pending = b""
            async for chunk in response.aiter_bytes():
                rows = (pending + chunk).split(b"\n")
                pending = rows.pop()
                for raw in rows:
                    if raw:
                        yield raw
        if pending.strip() and not self.partial:
            raise SourceDataError(f"Shopify shop {self.client.shop} sent a bulk result ending mid-row while {self.what}")

    def _row(self, raw: bytes) -> dict[str, Any]:
        try:
            row = orjson.loads(raw)
        except orjson.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            raise SourceDataError(f"Shopify shop {self.client.shop} sent an unreadable bulk row while {self.what}")
        return row

    def _wanted(self, row: dict[str, Any]) -> bool:
        """False for an order paging already read (updated before ``skip_before``)."""
        if self.skip_before is None:
            return True
        updated = row.get("updatedAt")
        try:
            return not isinstance(updated, str) or datetime.fromisoformat(updated) >= self.skip_before
        except ValueError:
            return True  # parse_order names the bad field

    def _order(self, row: dict[str, Any], lines: list[Any]) -> SourceOrder:
        for line in lines:
            if not str(line.get("id", "")).startswith(LINE_ITEM_PREFIX):
                raise SourceDataError(f"Shopify shop {self.client.shop} sent an unexpected bulk row {line.get('id')!r}")
        row["lineItems"] = {"nodes": lines}
        row["refunds"] = []  # bulk queries cannot reach refund lines (see the module docstring)
        order = parse_order(row)
        if self._last is not None and order.updated_at < self._last:
            self._in_order = False
        self._last = order.updated_at if self._last is None else max(self._last, order.updated_at)
        return order


class _BadStatus(Exception):
    """The result URL answered something other than 200."""
