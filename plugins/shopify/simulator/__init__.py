"""A Shopify Admin GraphQL API simulator, for tests, the demo and benchmarks.

It behaves like Shopify for everything an order importer touches: the real Admin schemas
(validated per API version), orders with line items, refunds, fulfillments and order edits whose
quantity fields follow Shopify's documented rules, search syntax and keyset paging, calculated
query costs with a leaky bucket, bulk operations, and injectable faults.

    from plugins.shopify.simulator import ShopSimulator, FaultConfig

    sim = ShopSimulator(bucket=(200, 50))
    order = sim.create_order(lines=[("SKU-1", 3)])
    sim.cancel_units(order, sim.line_item_ids(order)[0], 1)
    transport = httpx2.ASGITransport(app=sim.asgi_app)

Modules: :mod:`.shop` (the facade), :mod:`.store` and :mod:`.records` (state and quantity
rules), :mod:`.seed`, :mod:`.clock`, :mod:`.paging`, :mod:`.search`, :mod:`.cost`, :mod:`.bucket`,
:mod:`.executor` with :mod:`.registry`, :mod:`.resolvers`, :mod:`.roots`, :mod:`.bulk`,
:mod:`.endpoint` (request pipeline), :mod:`.app` (HTTP), :mod:`.faults`, :mod:`.latency`, :mod:`.agreement` (a store
compared with the ground truth).
"""

from __future__ import annotations

from .bucket import PLANS, LeakyBucket, Plan
from .clock import SimClock
from .cost import page_multiplier
from .endpoint import RequestRecord, SimStats
from .faults import FaultConfig, SimulatedConnectionDrop
from .latency import Latency
from .shop import ShopSimulator
from .store import GroundTruth

__all__ = [
    "ShopSimulator",
    "SimClock",
    "PLANS",
    "Plan",
    "FaultConfig",
    "Latency",
    "GroundTruth",
    "SimStats",
    "RequestRecord",
    "LeakyBucket",
    "SimulatedConnectionDrop",
    "page_multiplier",
]
