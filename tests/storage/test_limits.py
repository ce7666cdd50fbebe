"""core.Limits is the one place input lengths come from: each limit is its column's length, so a
value the validator accepts always fits (PostgreSQL refuses longer text; SQLite would keep it)."""

from __future__ import annotations

from sqlalchemy import String, Text

from core import Limits
from plugins.storage.sqlalchemy import tables

COLUMNS = {
    "SHOP_NAME": tables.shops.c.name,
    "SHOP_SOURCE": tables.shops.c.source,
    "SHOP_URL": tables.shops.c.url,
    "API_VERSION": tables.shops.c.api_version,
    "TOKEN_ENV": tables.shops.c.token_env,
    "API_TOKEN_NAME": tables.api_tokens.c.name,
    "CRON": tables.jobs.c.cron,
    "TIMEZONE": tables.jobs.c.timezone,
    "WEBHOOK_DELIVERY_ID": tables.webhook_deliveries.c.delivery_id,
    "WEBHOOK_TOPIC": tables.webhook_deliveries.c.topic,
    "ORDER_SOURCE_ID": tables.orders.c.source_id,
}
UNBOUNDED = {"SHOP_TOKEN": tables.shops.c.token}
"""Text columns: the limit is ours (a token of kilobytes is a mistake or a probe)."""
NOT_STORED = {"SEARCH"}


def test_every_limit_is_its_columns_length() -> None:
    for name, column in COLUMNS.items():
        assert isinstance(column.type, String) and not isinstance(column.type, Text), name
        assert getattr(Limits, name) == column.type.length, f"Limits.{name} != {column}'s length"


def test_every_limit_is_accounted_for() -> None:
    declared = {name for name in vars(Limits) if name.isupper()}
    assert declared == set(COLUMNS) | set(UNBOUNDED) | NOT_STORED
    for name, column in UNBOUNDED.items():
        assert isinstance(column.type, Text) or column.type.length is None or \
            column.type.length >= getattr(Limits, name), name
