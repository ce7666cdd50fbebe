"""``ShopSimulator``: one simulated Shopify shop, its Admin GraphQL API and its story API."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Literal

from graphql import GraphQLSchema

from plugins.shopify.schema import SCHEMA_VERSIONS, load_schema

from .app import build_app
from .bucket import PLANS, LeakyBucket, Plan
from .bulk import BulkManager
from .clock import SimClock, to_epoch
from .endpoint import GraphQLEndpoint, SimStats
from .faults import FaultConfig, FaultInjector
from .latency import Latency
from .replies import ReplyControl
from .gids import gid
from .seed import seed_orders
from .store import GroundTruth, LineSpec, ShopStore

__all__ = ["ShopSimulator"]

CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})


class ShopSimulator:
    """A simulated shop: state, story operations, and an ASGI app serving its Admin GraphQL API.

    Args:
        shop_domain: the ``*.myshopify.com`` host (``base_url`` is ``https://<shop_domain>``).
        access_token: the only token ``X-Shopify-Access-Token`` accepts.
        plan: a key of :data:`~.bucket.PLANS` (bucket size and restore rate).
        clock: wall clock for timestamps; default real UTC time.
        scopes: granted access scopes; without ``read_all_orders`` orders older than 60 days are invisible.
        api_versions: the ``YYYY-MM`` versions served, each validated against its own shipped schema.
        bucket: ``(maximum_available, restore_rate)`` overriding the plan's (tests use tiny, fast buckets).
        time_source: monotonic seconds for bucket refill and bulk progress (default ``time.monotonic``).
        bulk_objects_per_second: bulk operation speed; ``None`` completes them at once.
        record_requests: keep a :class:`~.endpoint.RequestRecord` per request in ``stats.log``.
        executor: ``"compiled"`` (fast) or ``"graphql-core"`` (reference semantics).
        latency: how long replies take (:class:`~.latency.Latency`; default none, they come at
            once); the attribute ``latency`` may be changed while serving.
    """

    def __init__(
        self,
        shop_domain: str = "demo-shop.myshopify.com",
        access_token: str = "shpat_sim",
        plan: str = "standard",
        clock: SimClock | None = None,
        scopes: Iterable[str] = ("read_orders",),
        api_versions: Sequence[str] = ("2025-10", "2026-07"),
        bucket: tuple[float, float] | None = None,
        *,
        time_source: Callable[[], float] | None = None,
        bulk_objects_per_second: float | None = None,
        record_requests: bool = False,
        executor: Literal["compiled", "graphql-core"] = "compiled",
        latency: Latency | None = None,
    ) -> None:
        unknown = [v for v in api_versions if v not in SCHEMA_VERSIONS]
        if unknown:
            raise ValueError(f"no shipped schema for API version(s) {unknown}; available: {SCHEMA_VERSIONS}")
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; one of {sorted(PLANS)}")
        if executor not in ("compiled", "graphql-core"):
            raise ValueError(f"unknown executor {executor!r}")
        self.shop_domain = shop_domain
        self.shop_name = shop_domain.split(".")[0].replace("-", " ").title()
        self.shop_id = 60_000_000_000 + sum(shop_domain.encode())  # stable per domain, only for Shop.id
        self.access_token = access_token
        self.plan: Plan = PLANS[plan]
        self.scopes: tuple[str, ...] = tuple(scopes)
        self.api_versions: tuple[str, ...] = tuple(api_versions)
        self.clock = clock if clock is not None else SimClock()
        maximum, rate = bucket if bucket is not None else (self.plan.maximum_available, self.plan.restore_rate)
        self.bucket = LeakyBucket(maximum, rate, time_source)
        self.executor = executor
        self.store = ShopStore()
        self.stats = SimStats(log=[] if record_requests else None)
        self.bulk = BulkManager(self, time_source, bulk_objects_per_second)
        self.endpoint = GraphQLEndpoint(self)
        self._faults = FaultConfig()
        self.fault_injector = FaultInjector(self._faults)
        self.replies = ReplyControl()
        self.latency = latency if latency is not None else Latency()
        self.asgi_app = build_app(self)

    # -- configuration ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://{self.shop_domain}"

    @property
    def faults(self) -> FaultConfig:
        return self._faults

    @faults.setter
    def faults(self, config: FaultConfig) -> None:
        """Replace the fault configuration (restarts its seeded RNG); takes effect on the next request."""
        self._faults = config
        self.fault_injector = FaultInjector(config)

    def stall(self) -> None:
        """Hold every GraphQL request until :meth:`release` (see :mod:`.replies`)."""
        self.replies.stall()

    def release(self) -> None:
        """Answer the held requests and stop holding new ones."""
        self.replies.release()

    def lower_restore_rate(self, factor: float, seconds: float, *, starting_in: float = 0.0) -> None:
        """Lower the bucket's restore rate to ``factor`` x the plan's for ``seconds`` (from
        ``starting_in`` seconds from now), as Shopify does when it reduces a shop's limits for a
        while; ``throttleStatus.restoreRate`` reports the lowered rate meanwhile."""
        self.bucket.lower_restore_rate(factor, seconds, starting_in=starting_in)

    def schema(self, version: str) -> GraphQLSchema:
        return load_schema(version)

    def graphql_url(self, version: str) -> str:
        return f"{self.base_url}/admin/api/{version}/graphql.json"

    # -- story API -------------------------------------------------------------------------------

    def _now(self) -> int:
        return self.clock.epoch()

    def create_order(
        self,
        lines: Sequence[LineSpec],
        name: str | None = None,
        created_at: datetime | None = None,
        requires_shipping: bool = True,
    ) -> str:
        """Create an order (``[(sku, quantity), …]``); returns its gid. ``createdAt`` and
        ``updatedAt`` are ``created_at`` (default: now). ``name`` like ``"#1042"`` sets the number."""
        number = int(name.lstrip("#")) if name is not None else None
        at = to_epoch(created_at) if created_at is not None else self._now()
        order = self.store.create_order(list(lines), at, requires_shipping=requires_shipping, number=number)
        return gid("Order", order.id)

    def line_item_ids(self, order: str) -> list[str]:
        return [gid("LineItem", line.id) for line in self.store.order(order).lines]

    def fulfil(self, order: str, quantities: dict[str, int] | None = None) -> str | None:
        """Ship ``{line_gid: units}``, or every unfulfilled unit when ``None``. Returns the fulfillment gid."""
        record = self.store.order(order)
        lines = None if quantities is None else {self.store.line(record, k): v for k, v in quantities.items()}
        fulfillment = self.store.fulfil(record, lines, self._now())
        return None if fulfillment is None else gid("Fulfillment", fulfillment.id)

    def cancel_units(self, order: str, line: str, qty: int, restock_type: str = "CANCEL") -> str:
        """Partial cancel: refund ``qty`` unfulfilled units (CANCEL or NO_RESTOCK). Returns the refund gid."""
        record = self.store.order(order)
        refund = self.store.cancel_units(record, self.store.line(record, line), qty, restock_type, self._now())
        return gid("Refund", refund.id)

    def return_units(self, order: str, line: str, qty: int, restock_type: str = "RETURN") -> str:
        """Return: refund ``qty`` fulfilled units (RETURN or NO_RESTOCK). Returns the refund gid."""
        record = self.store.order(order)
        refund = self.store.return_units(record, self.store.line(record, line), qty, restock_type, self._now())
        return gid("Refund", refund.id)

    def edit_remove_units(self, order: str, line: str, qty: int, restock: bool = True) -> None:
        """Order edit removing ``qty`` unfulfilled units: no refund line, ``Order.edited`` becomes true.
        (``restock`` only affects inventory, which the simulator does not model.)"""
        record = self.store.order(order)
        self.store.edit_remove_units(record, self.store.line(record, line), qty, self._now())

    def cancel_order(self, order: str, reason: str = "CUSTOMER", refund: bool = True) -> str | None:
        """Cancel the whole order; with ``refund`` its unfulfilled units become CANCEL refund lines.
        Returns the refund gid, if a refund was created."""
        if reason not in CANCEL_REASONS:
            raise ValueError(f"reason must be one of {sorted(CANCEL_REASONS)}")
        record = self.store.order(order)
        created = self.store.cancel_order(record, reason, refund, self._now())
        return None if created is None else gid("Refund", created.id)

    def touch(self, order: str) -> None:
        """An unrelated change (a tag, a note): only ``updatedAt`` moves."""
        self.store.touch(self.store.order(order), self._now())

    def seed(
        self,
        n_orders: int,
        seed: int = 0,
        start: datetime | None = None,
        end: datetime | None = None,
        partial_cancel_rate: float = 0.2,
        full_cancel_rate: float = 0.03,
        return_rate: float = 0.05,
        edit_rate: float = 0.03,
        max_lines: int = 4,
        large_order_rate: float = 0.0,
    ) -> list[str]:
        """Create ``n_orders`` orders with realistic histories (see :mod:`.seed`); returns their gids."""
        return seed_orders(
            self.store,
            self.clock.now(),
            n_orders,
            seed=seed,
            start=start,
            end=end,
            partial_cancel_rate=partial_cancel_rate,
            full_cancel_rate=full_cancel_rate,
            return_rate=return_rate,
            edit_rate=edit_rate,
            max_lines=max_lines,
            large_order_rate=large_order_rate,
        )

    def truth(self) -> GroundTruth:
        """A copy of the ground truth recorded by the story operations so far."""
        return self.store.truth.snapshot()

    def __repr__(self) -> str:
        return f"ShopSimulator({self.shop_domain!r}, {len(self.store.orders)} orders, plan={self.plan.name!r})"
