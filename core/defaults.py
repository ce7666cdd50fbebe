"""Core fallbacks, registered like any plugin (``trylast``): the built-in job kinds."""

from __future__ import annotations

from collections.abc import Sequence

from .hookspecs import hookimpl
from .jobkinds import JobKind


@hookimpl(trylast=True)
def register_job_kinds() -> Sequence[JobKind]:
    from .canceled_items import CanceledItemsJob

    return [CanceledItemsJob()]
