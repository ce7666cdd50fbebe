"""The contract of a kind of scheduled job (``canceled-items`` is the built-in one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .models import FetchStats, Job, JobRun, PageResult, RunProgress, Shop, Window
    from .runtime import Runtime


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


@dataclass(slots=True)
class RunContext:
    """Everything a job kind needs for one run.

    ``report`` publishes live progress (and raises :class:`~core.errors.LeaseLost` once the
    run lost its lease); ``ensure_lease`` raises the same: call it before each unit of work
    (a page), so a run that another run took over stops at the next boundary.
    """

    runtime: Runtime
    shop: Shop
    job: Job
    run: JobRun
    window: Window
    report: Callable[[RunProgress], None]
    source_options: dict[str, object]
    on_page: Callable[[PageResult], None] | None = None
    ensure_lease: Callable[[], None] = _no_lease


@runtime_checkable
class JobKind(Protocol):
    name: str
    description: str
    create_per_shop: bool

    async def run(self, context: RunContext) -> RunOutcome:
        """Do the work of one window; raise to fail the run (the watermark then stays put)."""
        ...
