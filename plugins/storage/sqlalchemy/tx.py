"""The :class:`core.StorageTx` of this plugin, assembled from one mixin per concept."""

from __future__ import annotations

from .jobs import JobsMixin
from .leases import LeasesMixin
from .orders import OrdersMixin
from .pages import PagesMixin
from .runs import RunsMixin
from .shops import ShopsMixin
from .tokens import TokensMixin
from .webhooks import WebhooksMixin


class SqlAlchemyTx(ShopsMixin, JobsMixin, LeasesMixin, RunsMixin, PagesMixin, OrdersMixin, TokensMixin, WebhooksMixin):
    """One unit of work bound to one Session (and so one connection); built by ``transaction()``."""
