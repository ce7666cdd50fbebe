"""Record types shared by the engine, sources, storages and the API.

Plain frozen dataclasses: sources build the ``Source*`` records from what the platform sends;
storages return the ``Stored*``/``Job*`` records (ORM rows never leave a storage plugin).
Ids from the platform stay strings (Shopify ids exceed 2**53); ids of our own store are ints.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


# --- what a source reads ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceLineItem:
    """One line of an order as the platform reports it now.

    ``quantity`` is what was ordered and never decreases; ``current_quantity`` excludes units
    removed by refunds or order edits; ``unfulfilled_quantity`` counts current units not yet
    fulfilled; ``non_fulfillable_quantity`` counts units that can no longer be fulfilled
    (removed before fulfilment, or never shippable).
    """

    source_id: str
    sku: str | None
    title: str
    quantity: int
    current_quantity: int
    unfulfilled_quantity: int
    non_fulfillable_quantity: int
    requires_shipping: bool = True


@dataclass(frozen=True, slots=True)
class SourceRefundLine:
    """One refund line: ``quantity`` units of ``line_item_id`` refunded at ``created_at``."""

    source_id: str
    refund_id: str
    line_item_id: str
    quantity: int
    restock_type: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SourceOrder:
    """An order as the platform reports it now, complete (nested pages already followed)."""

    source_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    line_items: tuple[SourceLineItem, ...]
    refund_lines: tuple[SourceRefundLine, ...] = ()
    edited: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time window ``[start, end)`` over the platform's ``updatedAt``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"empty window: {self.start.isoformat()} .. {self.end.isoformat()}")


@dataclass(slots=True)
class FetchStats:
    """What fetching one page cost upstream; a source fills it in, the engine sums it."""

    requests: int = 0
    requested_cost: float = 0.0
    actual_cost: float = 0.0
    throttled: int = 0
    retries: int = 0
    bucket_available: float | None = None
    """The rate-limit bucket at the last reply (points left), when the source reports one."""
    bucket_maximum: float | None = None
    """The bucket's ceiling at the last reply (Shopify's ``maximumAvailable``: the plan's)."""

    def add(self, other: FetchStats) -> None:
        self.requests += other.requests
        self.requested_cost += other.requested_cost
        self.actual_cost += other.actual_cost
        self.throttled += other.throttled
        self.retries += other.retries
        if other.bucket_maximum is not None:  # the later reading wins
            self.bucket_available, self.bucket_maximum = other.bucket_available, other.bucket_maximum


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of orders from a source, with what it cost to fetch."""

    orders: tuple[SourceOrder, ...]
    stats: FetchStats = field(default_factory=FetchStats)


# --- what the cancellation logic decides -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemVerdict:
    """How many units of one line are canceled in total, and why.

    ``canceled_target`` is cumulative (not a delta): applying a verdict twice changes nothing.
    """

    line_source_id: str
    sku: str | None
    title: str
    quantity: int
    fulfilled_quantity: int
    canceled_target: int
    canceled_at: datetime
    reason: str | None
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OrderVerdict:
    """The cancellation verdict for one order: whole-order cancel flag plus one verdict per line."""

    order: SourceOrder
    order_canceled: bool
    items: tuple[ItemVerdict, ...]


# --- what a storage holds ----------------------------------------------------------------


# StrEnum, not (str, Enum): since Python 3.11 the latter formats as "JobRunStatus.SUCCEEDED" in
# f-strings and log lines; a StrEnum member prints as its value and still equals it.
class OrderStatus(enum.StrEnum):
    OPEN = "OPEN"
    CANCELED = "CANCELED"


class OrderItemStatus(enum.StrEnum):
    OPEN = "OPEN"  # no unit canceled
    PARTIALLY_CANCELED = "PARTIALLY_CANCELED"
    CANCELED = "CANCELED"  # every unit canceled


class JobRunStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    """The run ended itself with an error (the source, the store, a refusal), or RQ failed its job."""
    SKIPPED = "SKIPPED"
    LOST = "LOST"
    """Its worker vanished without ending it (killed, cut off, its queue flushed, never picked up):
    ended by the reaper, RQ's work-horse handler or the run that took its job over. Like FAILED,
    the watermark stays and the next run reads the window again."""

    @property
    def finished(self) -> bool:
        return self not in (JobRunStatus.QUEUED, JobRunStatus.RUNNING)


class RunTrigger(enum.StrEnum):
    SCHEDULE = "SCHEDULE"
    MANUAL = "MANUAL"
    WEBHOOK = "WEBHOOK"
    BACKFILL = "BACKFILL"


class TokenRole(enum.StrEnum):
    ADMIN = "admin"
    READ = "read"


@dataclass(frozen=True, slots=True)
class Shop:
    """A shop we sync. The access token is never part of this record (see ShopCredentials)."""

    id: int
    name: str
    source: str
    url: str
    api_version: str
    has_token: bool
    token_env: str | None
    created_at: datetime
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewShop:
    name: str
    url: str
    source: str = "shopify"
    api_version: str | None = None
    """None: the source's default (its factory's ``default_api_version(settings)``, if it has one)."""
    token: str | None = None
    token_env: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ShopCredentials:
    """The secret half of a shop: only the source plugin reads it, nothing prints it."""

    token: str | None
    token_env: str | None

    def __repr__(self) -> str:  # never leak the token through logs or tracebacks
        return f"ShopCredentials(token={'***' if self.token else None}, token_env={self.token_env!r})"


@dataclass(frozen=True, slots=True)
class Schedule:
    """Either a fixed interval or a cron expression evaluated in an IANA timezone."""

    cron: str | None = None
    every_seconds: int | None = None
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    shop_id: int
    shop: str
    kind: str
    schedule: Schedule
    paused: bool
    skip_next: bool
    next_run_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class JobRun:
    id: int
    job_id: int
    status: JobRunStatus
    trigger: RunTrigger
    window_from: datetime | None = None
    window_thru: datetime | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    orders_seen: int = 0
    items_canceled: int = 0
    units_canceled: int = 0
    orders_canceled: int = 0
    pages: int = 0
    api_cost: float = 0.0
    throttled: int = 0
    retries: int = 0
    error: str | None = None
    rq_job_id: str | None = None
    slot: str | None = None
    progress: RunProgress | None = None
    """The last live progress the run stored; None before its first report."""


@dataclass(frozen=True, slots=True)
class RunProgress:
    """A run's live progress: what it stored so far and what the source cost.

    A job kind reports it (``RunContext.report``); the run's record stores it and the queue
    publishes it as JSON with camelCase keys (:meth:`to_json`), the form rows and queue entries
    have always had, which :meth:`from_json` reads back (a missing key reads as its default, an
    unknown one is ignored, so rows of older versions still read).
    """

    pages: int = 0
    orders_seen: int = 0
    items_canceled: int = 0
    units_canceled: int = 0
    orders_canceled: int = 0
    checkpoint: datetime | None = None
    """``updatedAt`` of the last order stored."""
    api_cost: float = 0.0
    throttled: int = 0
    retries: int = 0
    bucket_available: float | None = None
    """The source's rate-limit bucket at the last reply (points left), if it reports one."""
    bucket_maximum: float | None = None
    """That bucket's ceiling at the last reply."""
    elapsed_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "ordersSeen": self.orders_seen,
            "itemsCanceled": self.items_canceled,
            "unitsCanceled": self.units_canceled,
            "ordersCanceled": self.orders_canceled,
            "checkpoint": self.checkpoint.isoformat() if self.checkpoint is not None else None,
            "apiCost": self.api_cost,
            "throttled": self.throttled,
            "retries": self.retries,
            "bucketAvailable": self.bucket_available,
            "bucketMaximum": self.bucket_maximum,
            "elapsedSeconds": self.elapsed_seconds,
        }

    @classmethod
    def from_json(cls, data: object) -> RunProgress | None:
        """The progress stored as ``data``; None for nothing stored (``{}``, None, not a dict)."""
        if not isinstance(data, dict) or not data:
            return None
        checkpoint = data.get("checkpoint")
        return cls(
            pages=_int(data.get("pages")),
            orders_seen=_int(data.get("ordersSeen")),
            items_canceled=_int(data.get("itemsCanceled")),
            units_canceled=_int(data.get("unitsCanceled")),
            orders_canceled=_int(data.get("ordersCanceled")),
            checkpoint=datetime.fromisoformat(checkpoint) if isinstance(checkpoint, str) else None,
            api_cost=_float(data.get("apiCost")) or 0.0,
            throttled=_int(data.get("throttled")),
            retries=_int(data.get("retries")),
            bucket_available=_float(data.get("bucketAvailable")),
            bucket_maximum=_float(data.get("bucketMaximum")),
            elapsed_seconds=_float(data.get("elapsedSeconds")),
        )


def _int(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class StoredOrder:
    id: int
    shop_id: int
    shop: str
    source_id: str
    name: str
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    synced_at: datetime


@dataclass(frozen=True, slots=True)
class StoredItem:
    id: int
    order_id: int
    source_id: str
    sku: str | None
    title: str
    quantity: int
    fulfilled_quantity: int
    canceled_quantity: int
    status: OrderItemStatus


@dataclass(frozen=True, slots=True)
class Cancellation:
    """One append-only history row: ``quantity`` more units of an item canceled."""

    id: int
    item_id: int
    order_id: int
    shop_id: int
    quantity: int
    canceled_at: datetime
    recorded_at: datetime
    run_id: int | None
    reason: str | None
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CanceledLine:
    """Units of one order line newly canceled, in the business's own keys: what a warehouse or an
    ERP acts on without reading the gateway's store (``on_items_canceled`` hands these over).

    Ids are the platform's (Shopify GIDs), never the store's row ids.
    """

    shop: str
    """The gateway's name of the shop."""
    order_gid: str
    order_name: str
    """The order's name as the shop shows it, e.g. ``"#1042"``."""
    line_gid: str
    sku: str | None
    title: str
    quantity: int
    """Units ordered."""
    units: int
    """Units newly canceled by this change."""
    canceled_total: int
    """Units of the line canceled so far, this change included."""
    reason: str | None
    """Why, in words: ``"order canceled (customer)"``, ``"refund: cancel"``, ``"order edit"``..."""
    evidence: dict[str, Any]
    """The refund lines or order edit that removed the units, with the line's quantities."""
    canceled_at: datetime
    """When the platform canceled them (the refund's or the order's time)."""
    cancellation_id: int
    """The history row recording the change: a stable key for consumers that dedupe deliveries."""


@dataclass(frozen=True, slots=True)
class CanceledOrder:
    """A whole order newly recorded as canceled (``on_orders_canceled`` hands these over)."""

    shop: str
    order_gid: str
    order_name: str
    reason: str | None
    """The platform's cancel reason, e.g. ``CUSTOMER`` or ``INVENTORY``."""
    canceled_at: datetime | None


@dataclass(frozen=True, slots=True)
class PageResult:
    """What storing one page changed."""

    orders_written: int = 0
    items_canceled: int = 0
    units_canceled: int = 0
    orders_canceled: int = 0
    cancellations: tuple[Cancellation, ...] = ()
    newly_canceled_orders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    role: TokenRole
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """Filters and order for listing stored orders (all optional)."""

    shop_id: int | None = None
    status: OrderStatus | None = None
    has_canceled_items: bool | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    canceled_after: datetime | None = None
    canceled_before: datetime | None = None
    search: str | None = None
    sort_key: str = "UPDATED_AT"  # UPDATED_AT | CREATED_AT | ID | NAME
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """One page of a keyset-paginated listing; ``cursors`` align with ``items``."""

    items: tuple[T, ...]
    cursors: tuple[str, ...]
    has_next: bool
    has_previous: bool = False


class ConnectionProblem(enum.StrEnum):
    """Why a connection check failed, in words a script can branch on."""

    NO_TOKEN = "NO_TOKEN"
    """No access token is stored, or the environment variable it is read from is not set."""
    BAD_TOKEN = "BAD_TOKEN"
    """The upstream refused the token (HTTP 401/403)."""
    MISSING_SCOPE = "MISSING_SCOPE"
    """The token works but lacks a scope the gateway needs (``missing_scopes`` lists them)."""
    UNKNOWN_SHOP = "UNKNOWN_SHOP"
    """The URL answers but has no such shop or API version (HTTP 404), or redirects elsewhere."""
    API_VERSION = "API_VERSION"
    """The upstream does not serve the shop's API version (or rejects our queries for it)."""
    BAD_URL = "BAD_URL"
    """The shop's URL is not one the source can use."""
    UNREACHABLE = "UNREACHABLE"
    """No connection: DNS, refused, reset."""
    TIMEOUT = "TIMEOUT"
    """No answer in time."""
    THROTTLED = "THROTTLED"
    """The upstream kept rate-limiting the check."""
    UPSTREAM_ERROR = "UPSTREAM_ERROR"
    """The upstream answered with a server error (5xx) or refused the shop (frozen, locked)."""
    BAD_REPLY = "BAD_REPLY"
    """The upstream answered with something unreadable."""
    UNSUPPORTED = "UNSUPPORTED"
    """The shop's source plugin cannot check connections, or is not installed."""


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The outcome of one check. A source fills the upstream's facts; core adds the rest.

    A successful check has ``ok=True`` and ``problem=None``; a check whose token lacks a needed
    scope has the facts *and* ``ok=False`` with ``problem=MISSING_SCOPE``.
    """

    ok: bool
    problem: ConnectionProblem | None = None
    message: str = ""
    """What went wrong (or, when ok, a one-line summary), never containing a secret."""
    shop_name: str | None = None
    """The upstream's name of the shop (Shopify: ``shop.name``)."""
    domain: str | None = None
    api_version: str | None = None
    scopes: tuple[str, ...] = ()
    """Access scopes the token holds."""
    missing_scopes: tuple[str, ...] = ()
    """Scopes the gateway needs that the token lacks."""
    optional_missing_scopes: tuple[str, ...] = ()
    """Scopes that would widen what the gateway can read (Shopify: ``read_all_orders``)."""
    plan: str | None = None
    """The shop's plan as the upstream names it (Shopify: ``plan.publicDisplayName``)."""
    plan_premium: bool | None = None
    """Shopify: ``plan.shopifyPlus``."""
    api_points: float | None = None
    """The API budget's size in points (Shopify: the bucket's ``maximumAvailable``)."""
    api_restore_rate: float | None = None
    """Points restored per second (Shopify: ``restoreRate``)."""
    shop: str = ""
    """The gateway's name of the shop checked."""
    checked_at: datetime | None = None
    seconds: float | None = None
    """How long the check took."""
