"""A third-party job kind, written as an integrator would: it imports ``core`` (the public plugin
API) and nothing else (``test_third_party_job_kind.py`` checks that).

``line-audit`` reads its window in small pages of its own and stores each page through the
context, so its cancellations are judged, stored and announced exactly as the built-in job's.
"""

from __future__ import annotations

from collections.abc import Sequence

from core import FetchStats, JobKind, RunContext, RunOutcome, RunProgress, hookimpl

PAGE_SIZE = 3


class LineAudit:
    name = "line-audit"
    description = "Re-read the window in small pages and store what it finds."
    create_per_shop = True

    async def run(self, context: RunContext) -> RunOutcome:
        stats = FetchStats()
        pages = orders = items = units = whole = 0
        async with context.open_source() as source:
            async for page in source.fetch_orders(context.window, page_size=PAGE_SIZE):
                result = await context.store_page(page)
                pages += 1
                orders += len(page.orders)
                items += result.items_canceled
                units += result.units_canceled
                whole += result.orders_canceled
                stats.add(page.stats)
                context.report(RunProgress(pages=pages, orders_seen=orders, items_canceled=items,
                                           units_canceled=units, orders_canceled=whole,
                                           checkpoint=page.orders[-1].updated_at if page.orders else None,
                                           api_cost=stats.actual_cost))
        return RunOutcome(orders_seen=orders, items_canceled=items, units_canceled=units, orders_canceled=whole,
                          pages=pages, stats=stats)


class LineAuditPlugin:
    @hookimpl
    def register_job_kinds(self) -> Sequence[JobKind]:
        return [LineAudit()]
