"""The contract of a kind of scheduled job (``canceled-items`` is the built-in one).

A job kind gets a :class:`RunContext`: the run's records and the few things a run may do,
each an explicit capability (open this shop's source, store a page, report progress, check the
lease), never the process's runtime with its plugin manager and storage. Everything named here
is exported by :mod:`core`, so a job kind needs nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .models import FetchStats, Job, JobRun, OrderPage, PageResult, RunProgress, Shop, Window
    from .sources import Source


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a run did, for its history row."""

    orders_seen: int
    items_canceled: int
    units_canceled: int
    orders_canceled: int
    pages: int
    stats: FetchStats


def _no_lease() -> None:
    """A run outside the scheduler's lease (a test, a foreground preview) has nothing to lose."""


@dataclass(frozen=True, slots=True)
class RunContext:
    """One run of a job kind: its records and its capabilities.

    ``open_source()``: ``async with context.open_source() as source`` gives this shop's
    :class:`~core.Source`, built from its stored credentials (in its fast path for long windows
    when the run is a BACKFILL) and closed on leaving the block.

    ``store_page(page)``: ``await`` it with each :class:`~core.OrderPage` read. It checks the
    lease, judges every order, stores the verdicts in one transaction and, after the commit,
    notifies ``on_items_canceled``/``on_orders_canceled`` of what is new (the same act as the
    webhook path's). Returns what it changed, a :class:`~core.PageResult`; raises
    :class:`~core.LeaseLost` (storing nothing) once the run lost its lease.

    ``report(progress)`` publishes live :class:`~core.RunProgress` (stored on the run at most
    every half second, published on the queue each time); it raises :class:`~core.LeaseLost`
    once the run lost its lease.

    ``ensure_lease()`` raises the same: call it before a unit of work that stores nothing
    through ``store_page``, so a run that another run took over stops at the next boundary.
    """

    shop: Shop
    job: Job
    run: JobRun
    window: Window
    """The orders to read: those updated in ``[window.start, window.end)``."""
    page_size: int
    """Orders per page the operator configured (``SYNC_GATEWAY_PAGE_SIZE``)."""
    open_source: Callable[[], AbstractAsyncContextManager[Source]]
    store_page: Callable[[OrderPage], Awaitable[PageResult]]
    report: Callable[[RunProgress], None]
    ensure_lease: Callable[[], None] = _no_lease


@runtime_checkable
class JobKind(Protocol):
    name: str
    description: str
    create_per_shop: bool

    async def run(self, context: RunContext) -> RunOutcome:
        """Do the work of one window; raise to fail the run (the watermark then stays put)."""
        ...
