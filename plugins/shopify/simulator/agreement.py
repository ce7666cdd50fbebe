"""What a store holds, in the terms of the simulator's :class:`~.store.GroundTruth`: the demo, the
tests and the benchmarks check an import against what really happened in the simulated shop."""

from __future__ import annotations

from dataclasses import dataclass

from core import OrderQuery, OrderStatus, Storage

from .store import GroundTruth


@dataclass(frozen=True, slots=True)
class StoredState:
    orders: int
    """Orders stored."""
    canceled_units: dict[str, int]
    """Line gid -> canceled units, for the lines with any."""
    canceled_orders: frozenset[str]
    """Gids of the orders stored as canceled."""

    def differing_lines(self, truth: GroundTruth) -> int:
        """Lines whose canceled units differ from the truth (missing, extra or wrong)."""
        expected = {line: units for line, units in truth.canceled_units.items() if units}
        return sum(1 for line in expected.keys() | self.canceled_units.keys()
                   if self.canceled_units.get(line) != expected.get(line))

    def agrees_with(self, truth: GroundTruth) -> bool:
        """Every order of the shop stored, every line's canceled units and every canceled order as the truth says."""
        return (self.orders == len(truth.orders) and self.canceled_orders == truth.canceled_orders
                and self.differing_lines(truth) == 0)


def stored_state(storage: Storage, shop_id: int | None = None, *, page_size: int = 500) -> StoredState:
    """Read every stored order of ``shop_id`` (default: of every shop) and its items, a page at a time."""
    orders = 0
    canceled: dict[str, int] = {}
    canceled_orders: set[str] = set()
    after = None
    with storage.read() as tx:
        while True:
            page = tx.list_orders(OrderQuery(shop_id=shop_id), first=page_size, after=after)
            orders += len(page.items)
            canceled_orders.update(o.source_id for o in page.items if o.status is OrderStatus.CANCELED)
            for items in tx.items_for_orders([o.id for o in page.items]).values():
                canceled.update({i.source_id: i.canceled_quantity for i in items if i.canceled_quantity})
            if not page.has_next:
                return StoredState(orders, canceled, frozenset(canceled_orders))
            after = page.cursors[-1]
