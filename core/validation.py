"""Input checks shared by every way in: the GraphQL mutations and the CLI call the same
functions (through :mod:`core.jobcontrol`, :mod:`core.apitokens`, :mod:`core.schedules`), so the
two cannot drift.

Each check returns the value as it will be stored (stripped, normalised) or raises
:class:`ValidationError` naming the field, before anything is written. Messages quote at most
:data:`SHOWN` characters of a refused value (a 1 MB value is not echoed back) and never a secret.
"""

from __future__ import annotations

import ipaddress
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Final
from urllib.parse import urlsplit

from .errors import InvalidWindow, ValidationError, WebhookRejected
from .webhooks import WebhookEvent


class Limits:
    """The longest value accepted for each stored text: its column's length (a test checks these
    against the storage plugin's tables), or for unbounded columns a cap of our own."""

    SHOP_NAME: Final = 255
    SHOP_SOURCE: Final = 64
    SHOP_URL: Final = 512
    API_VERSION: Final = 32
    TOKEN_ENV: Final = 255
    SHOP_TOKEN: Final = 4096  # a Text column; Shopify's tokens are ~40 characters
    API_TOKEN_NAME: Final = 255
    CRON: Final = 255
    TIMEZONE: Final = 64
    WEBHOOK_DELIVERY_ID: Final = 255
    WEBHOOK_TOPIC: Final = 128
    ORDER_SOURCE_ID: Final = 255
    SEARCH: Final = 100
    """An order search term (not stored; bounds the cost of the substring match)."""


SHOWN = 40
"""Characters of a refused value quoted in its message."""

EARLIEST_WINDOW = datetime(2006, 1, 1, tzinfo=UTC)
"""No shop has orders before Shopify opened (2006); earlier dates are typos or probes."""

FIRST_API_VERSION = (2019, 4)
"""Shopify's first dated Admin API version."""

API_VERSION_MONTHS = (1, 4, 7, 10)
"""Shopify releases a version each quarter, on the first of these months."""

API_VERSION_SUPPORT_MONTHS = 12
"""How long Shopify supports a stable version after its release (at least)."""

_API_VERSION = re.compile(r"^(\d{4})-(\d{2})$")
_SHOP_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
_HOST_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def shown(value: str) -> str:
    """``value`` quoted for a message, cut to :data:`SHOWN` characters."""
    return repr(value) if len(value) <= SHOWN else f"{value[:SHOWN]!r}... ({len(value):,} characters)"


def text(value: str, *, field: str, limit: int, what: str) -> str:
    """``value`` without surrounding spaces; refused if longer than ``limit`` or holding a
    control character (NUL included: PostgreSQL cannot store it, and none belongs in a name)."""
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(f"{what} is {len(value):,} characters long; at most {limit} are allowed", field=field)
    if any(unicodedata.category(c) in {"Cc", "Cf"} for c in value):
        raise ValidationError(f"{what} must not contain control characters", field=field)
    return value


def shop_name(value: str) -> str:
    name = text(value, field="name", limit=Limits.SHOP_NAME, what="a shop name")
    if not name or set(name) - _SHOP_NAME_CHARS:
        raise ValidationError(f"shop name {shown(name)} must be lower-case letters, digits, '-' or '_'",
                              field="name")
    return name


def shop_url(value: str) -> str:
    """An http(s) URL with a host, or a myshopify domain: ``acme`` and ``acme.myshopify.com``
    both become ``https://acme.myshopify.com``. A trailing ``/`` is dropped."""
    url = text(value, field="url", limit=Limits.SHOP_URL, what="a shop URL")
    if not url:
        raise ValidationError("a shop needs a URL or myshopify domain", field="url")
    suggestion = "give https://<shop>.myshopify.com, <shop>.myshopify.com or <shop>"
    if "://" not in url:
        host = url.lower().rstrip("/")
        if "." not in host:
            host += ".myshopify.com"
        if not _valid_host(host):
            raise ValidationError(f"shop URL {shown(url)} is neither an http(s) URL nor a shop domain",
                                  field="url", suggestion=suggestion)
        url = f"https://{host}"
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:  # first: the message must not quote them
        raise ValidationError("a shop URL must not carry a user name or password", field="url",
                              suggestion="give the access token with accessToken or accessTokenEnv")
    if parts.scheme.lower() not in {"http", "https"}:
        raise ValidationError(f"shop URL {shown(url)} must use http or https", field="url", suggestion=suggestion)
    if not _valid_host(parts.hostname) or any(c.isspace() for c in url):
        raise ValidationError(f"shop URL {shown(url)} has no valid host", field="url", suggestion=suggestion)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ValidationError(f"shop URL {shown(url)} has an invalid port", field="url") from None
    if parts.query or parts.fragment:
        raise ValidationError(f"shop URL {shown(url)} must not have a query or fragment", field="url")
    return url.rstrip("/")


def _valid_host(host: str | None) -> bool:
    """A DNS name (``_`` allowed, as in container names) or an IP address."""
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in host.split("."))


def api_version(value: str, *, today: date) -> str:
    """A Shopify Admin API version that has been released (``2026-07``) or ``unstable``.

    A retired version is accepted (Shopify may still answer it, with the oldest supported one);
    :func:`api_version_warning` says so."""
    version = text(value, field="api_version", limit=Limits.API_VERSION, what="an API version")
    if version == "unstable":
        return version
    match = _API_VERSION.match(version)
    if not match:
        raise ValidationError(f"the API version must look like 2026-07 (or be 'unstable'), got {shown(version)}",
                              field="api_version")
    year, month = int(match[1]), int(match[2])
    if month not in API_VERSION_MONTHS:
        raise ValidationError(f"Shopify has no API version {version}: versions are released in January, April, "
                              "July and October (YYYY-01, -04, -07, -10)", field="api_version")
    if (year, month) < FIRST_API_VERSION:
        raise ValidationError(f"Shopify has no API version {version}: the first is 2019-04", field="api_version")
    if date(year, month, 1) > today:
        raise ValidationError(f"API version {version} has not been released yet", field="api_version",
                              suggestion=f"the newest is {newest_api_version(today)}")
    return version


def release_calendar_day(now: datetime) -> date:
    """The day to judge Shopify's releases by: the later of ``now`` (the runtime's clock) and
    the wall clock. A clock set in the past (a test's, a simulation's) does not un-release a
    version that exists."""
    return max(now, datetime.now(UTC)).date()


def newest_api_version(today: date) -> str:
    month = max(m for m in API_VERSION_MONTHS if m <= today.month)
    return f"{today.year}-{month:02d}"


def api_version_warning(version: str, *, today: date) -> str | None:
    """A sentence for the admin when ``version`` is past Shopify's support window, else None."""
    match = _API_VERSION.match(version)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    months = (today.year - year) * 12 + today.month - month
    if months < API_VERSION_SUPPORT_MONTHS:
        return None
    return (f"API version {version} is {months} months old and probably retired: Shopify supports a version "
            f"for {API_VERSION_SUPPORT_MONTHS} months and answers a retired one with the oldest it still "
            f"supports; consider {newest_api_version(today)}")


def shop_token(value: str | None) -> str | None:
    """A write-only access token, None for a blank one; never quoted, it is a secret."""
    if value is None or not value.strip():
        return None
    token = value.strip()
    if len(token) > Limits.SHOP_TOKEN:
        raise ValidationError(f"the access token is longer than {Limits.SHOP_TOKEN} characters", field="token")
    if not token.isprintable() or any(c.isspace() for c in token):
        raise ValidationError("the access token must not contain spaces or control characters", field="token")
    return token


def token_env(value: str | None) -> str | None:
    """The name of the environment variable holding a shop's token, None for a blank one."""
    if value is None or not value.strip():
        return None
    name = text(value, field="token_env", limit=Limits.TOKEN_ENV, what="an environment variable name")
    if not _ENV_NAME.match(name):
        raise ValidationError(f"{shown(name)} is not an environment variable name (letters, digits and '_', "
                              "not starting with a digit)", field="token_env")
    return name


def credentials(token: str | None, env: str | None) -> None:
    """A shop's token comes from one place: stored, or read from the environment."""
    if token is not None and env is not None:
        raise ValidationError("give the access token or the name of its environment variable, not both",
                              field="token_env", suggestion="prefer the environment variable")


def token_env_is_set(name: str, environ: Mapping[str, str] | None = None) -> None:
    """Refuse a token variable that is unset or empty where the command runs."""
    environ = os.environ if environ is None else environ
    if not environ.get(name):
        raise ValidationError(f"the environment variable {name} is not set", field="token_env",
                              suggestion="export it first, or pass --no-check if it is set only where the "
                                         "worker runs")


def api_token_name(value: str) -> str:
    name = text(value, field="name", limit=Limits.API_TOKEN_NAME, what="a token name")
    if not name:
        raise ValidationError("a token needs a name (who or what uses it)", field="name")
    return name


def window_time(value: datetime | None, *, field: str, latest: datetime | None) -> datetime | None:
    """An instant a run's window may start or end at: with a timezone, not before Shopify opened
    (:data:`EARLIEST_WINDOW`) and, given ``latest`` (now), not after it."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{field} must carry a timezone", field=field)
    # Comparing is safe at the ends of the calendar; converting (storage does) would overflow.
    if value < EARLIEST_WINDOW:
        raise ValidationError(f"{field} {value.isoformat()} is before {EARLIEST_WINDOW:%Y}, when Shopify opened",
                              field=field)
    if latest is not None and value > latest:
        raise ValidationError(f"{field} {value.isoformat()} is in the future", field=field)
    return value


def window(window_from: datetime | None, window_thru: datetime | None, *, now: datetime,
           names: tuple[str, str] = ("windowFrom", "windowThru")) -> tuple[datetime | None, datetime | None]:
    """Both ends checked by :func:`window_time`, neither in the future; the end after the start."""
    start = window_time(window_from, field=names[0], latest=now)
    end = window_time(window_thru, field=names[1], latest=now)
    if start is not None and end is not None and end <= start:
        raise InvalidWindow(f"the window ends ({end.isoformat()}) before it starts ({start.isoformat()}): "
                            f"{names[1]} must be after {names[0]}", field=names[1])
    return start, end


def webhook_event(event: WebhookEvent) -> WebhookEvent:
    """A verified delivery whose id and topic fit their columns; malformed ones are rejected."""
    try:
        delivery = text(event.delivery_id, field="delivery_id", limit=Limits.WEBHOOK_DELIVERY_ID,
                        what="the webhook id")
        topic = text(event.topic, field="topic", limit=Limits.WEBHOOK_TOPIC, what="the webhook topic")
    except ValidationError as exc:
        raise WebhookRejected(exc.message) from None
    if not delivery or not topic:
        raise WebhookRejected("the webhook id and topic must not be blank")
    return replace(event, delivery_id=delivery, topic=topic)


def check_search_term(value: str) -> str:
    """An order search term without surrounding spaces: at most :data:`Limits.SEARCH`
    characters (a longer one only costs the database; nothing it would match is that long), no
    control characters. Storage plugins call it too, whoever built the query."""
    return text(value, field="search", limit=Limits.SEARCH, what="a search term")
