"""The contract of a kind of scheduled job (``canceled-items`` is the built-in one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .models import FetchStats, Job, JobRun, PageResult, Shop, Window
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


@dataclass(slots=True)
class RunContext:
    """Everything a job kind needs for one run. ``report`` publishes live progress."""

    runtime: Runtime
    shop: Shop
    job: Job
    run: JobRun
    window: Window
    report: Callable[[dict[str, object]], None]
    source_options: dict[str, object]
    on_page: Callable[[PageResult], None] | None = None


@runtime_checkable
class JobKind(Protocol):
    name: str
    description: str
    create_per_shop: bool

    async def run(self, context: RunContext) -> RunOutcome:
        """Do the work of one window; raise to fail the run (the watermark then stays put)."""
        ...
