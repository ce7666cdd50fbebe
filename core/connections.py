"""Checking a shop's connection: can the gateway reach the shop, is the token good, what may it read?

The API (``checkShopConnection``), the CLI (``sync-gateway shops check``) and the web page all
call :func:`check_shop_connection`. It asks the shop's source (:meth:`core.Source.check_connection`)
and never raises for what the upstream did: every failure becomes a :class:`ConnectionCheck` with
``ok=False``, a :class:`ConnectionProblem` and a message an admin can act on. It changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from .errors import (
    ConfigurationError,
    GatewayError,
    SourceAuthError,
    SourceDataError,
    SourceUnavailable,
)
from .errors import NotFoundError
from .jobcontrol import find_shop
from .models import ConnectionCheck, ConnectionProblem
from .runtime import Runtime

DEFAULT_TIMEOUT_SECONDS = 20.0
"""The whole check's limit (a source retries a failed request at most once during a check)."""


PROBLEM_BY_ERROR: tuple[tuple[type[GatewayError], ConnectionProblem], ...] = (
    (SourceAuthError, ConnectionProblem.BAD_TOKEN),
    (SourceUnavailable, ConnectionProblem.UPSTREAM_ERROR),
    (SourceDataError, ConnectionProblem.BAD_REPLY),
    (ConfigurationError, ConnectionProblem.BAD_URL),
)
"""The problem of an error that does not name its own (``GatewayError.problem``), by its type."""


def problem_of(error: GatewayError) -> ConnectionProblem:
    """The problem a source's error stands for: the one it names, else one by its type."""
    if error.problem is not None:
        try:
            return ConnectionProblem(error.problem)
        except ValueError:
            pass
    for kind, problem in PROBLEM_BY_ERROR:
        if isinstance(error, kind):
            return problem
    return ConnectionProblem.UPSTREAM_ERROR


def check_shop_connection(runtime: Runtime, shop_name: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ConnectionCheck:
    """Check the connection of the shop named ``shop_name``; blocking (runs its own event loop).

    Raises:
        NotFoundError: no shop has that name (the only error; upstream failures are reported).
    """
    with runtime.storage.read() as tx:
        shop = find_shop(tx, shop_name)
    return asyncio.run(check_connection(runtime, shop.name, shop_id=shop.id, timeout=timeout))


def check_shop_connection_by_id(runtime: Runtime, shop_id: int, *,
                                timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ConnectionCheck:
    """:func:`check_shop_connection` by the shop's id (the API's).

    Raises:
        NotFoundError: no shop has that id.
    """
    with runtime.storage.read() as tx:
        shop = tx.get_shop(shop_id)
    if shop is None:
        raise NotFoundError(f"shop {shop_id} does not exist")
    return asyncio.run(check_connection(runtime, shop.name, shop_id=shop.id, timeout=timeout))


async def check_connection(runtime: Runtime, shop_name: str, *, shop_id: int,
                           timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ConnectionCheck:
    """The check itself, for callers with an event loop."""
    started = time.monotonic()
    checked_at = runtime.now()

    def done(check: ConnectionCheck) -> ConnectionCheck:
        return replace(check, shop=shop_name, checked_at=checked_at, seconds=round(time.monotonic() - started, 3))

    with runtime.storage.read() as tx:
        shop = tx.get_shop(shop_id)
    if shop is None:  # removed since it was looked up
        return done(ConnectionCheck(ok=False, problem=ConnectionProblem.UNKNOWN_SHOP,
                                    message=f"shop {shop_name!r} was removed"))
    if shop.source not in runtime.sources:
        return done(ConnectionCheck(ok=False, problem=ConnectionProblem.UNSUPPORTED,
                                    message=f"shop {shop.name!r} uses source {shop.source!r}, which no loaded "
                                    "plugin provides"))
    try:
        source = runtime.source_for(shop)
    except ConfigurationError as exc:
        problem = problem_of(exc)
        return done(ConnectionCheck(ok=False, problem=problem, message=str(exc)))
    check = getattr(source, "check_connection", None)
    try:
        if check is None:
            return done(ConnectionCheck(ok=False, problem=ConnectionProblem.UNSUPPORTED,
                                        message=f"source {shop.source!r} cannot check connections"))
        try:
            result: ConnectionCheck = await asyncio.wait_for(check(), timeout)
        except TimeoutError:
            return done(ConnectionCheck(ok=False, problem=ConnectionProblem.TIMEOUT,
                                        message=f"shop {shop.name!r} did not answer within {timeout:g} s"))
        except GatewayError as exc:
            return done(ConnectionCheck(ok=False, problem=problem_of(exc), message=str(exc)))
        return done(result)
    finally:
        await source.aclose()
