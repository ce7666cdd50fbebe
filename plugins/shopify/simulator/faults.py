"""Fault injection: the failures a real Shopify connection produces, on demand and reproducibly.

Every fault is off by default. Random faults draw from one RNG seeded by ``FaultConfig.seed``, one
draw per GraphQL request in arrival order, so a given request sequence fails the same way every
run. At most one fault hits a request; precedence: ``fail_after_requests``, then
``throttle_storm``, then the random ones (5xx, 429, drop, truncated, slow, in that order of the draw).

How each appears to a client:

=================  ============================================================================
5xx                HTTP 500 ``{"errors":"Internal Server Error"}``, 502 (an HTML gateway page) or
                   503 ``{"errors":"Service Unavailable"}``; nothing is charged.
429                HTTP 429 ``{"errors":"Exceeded 2 calls per second for api client. …"}`` with
                   ``Retry-After: 2.0`` and no call-limit header (REST-style limiter in front).
slow               the request sleeps ``slow_seconds`` and then succeeds: a client timeout fires
                   first over a real socket (uvicorn). ``httpx.ASGITransport`` applies no timeouts, so
                   in-process tests must bound the call themselves (``asyncio.wait_for``).
drop               the status line is sent, then the connection dies: the app raises
                   :class:`SimulatedConnectionDrop`, a subclass of ``httpx2.RemoteProtocolError``.
                   Through ``ASGITransport`` (``raise_app_exceptions=True``, the default) the client
                   sees that exception as if the peer had closed; over uvicorn the server aborts the
                   connection and httpx raises ``RemoteProtocolError`` ("peer closed connection …").
truncated          HTTP 200 with a valid ``Content-Length`` but the JSON body cut in half: the
                   transport succeeds and JSON decoding fails. The query *was* executed and charged.
throttle storm     requests number ``start`` to ``stop - 1`` (1-based) are answered ``THROTTLED`` with
                   ``currentlyAvailable: 0`` whatever the bucket holds.
fail_after         every request after the N-th gets HTTP 500 (kill a run mid-window).
=================  ============================================================================
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx2

__all__ = ["FaultConfig", "Fault", "FaultInjector", "SimulatedConnectionDrop"]


class SimulatedConnectionDrop(httpx2.RemoteProtocolError):
    """Raised by the app to drop the connection after the status line (fault ``drop``)."""

    def __init__(self) -> None:
        super().__init__("peer closed connection without sending complete message body (simulated drop)")


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Which faults to inject. Rates are probabilities per request (0 to 1, summing to at most 1)."""

    rate_5xx: float = 0.0
    rate_429: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 30.0
    rate_drop: float = 0.0
    rate_truncated: float = 0.0
    throttle_storm: tuple[int, int] | None = None
    """Request numbers ``[start, stop)`` (1-based, counting every GraphQL request) that are throttled."""
    fail_after_requests: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        rates = (self.rate_5xx, self.rate_429, self.rate_slow, self.rate_drop, self.rate_truncated)
        if any(r < 0 or r > 1 for r in rates) or sum(rates) > 1 + 1e-9:
            raise ValueError(f"fault rates must be probabilities summing to at most 1, got {rates}")


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # "5xx" | "429" | "slow" | "drop" | "truncated" | "throttle_storm" | "fail_after"
    status: int = 0
    seconds: float = 0.0


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)

    def decide(self, request_number: int) -> Fault | None:
        config = self.config
        if config.fail_after_requests is not None and request_number > config.fail_after_requests:
            return Fault("fail_after", 500)
        if config.throttle_storm is not None and config.throttle_storm[0] <= request_number < config.throttle_storm[1]:
            return Fault("throttle_storm")
        rates = (config.rate_5xx, config.rate_429, config.rate_drop, config.rate_truncated, config.rate_slow)
        if not any(rates):
            return None
        draw = self._rng.random()
        for kind, rate in zip(("5xx", "429", "drop", "truncated", "slow"), rates, strict=True):
            if draw < rate:
                if kind == "5xx":
                    return Fault("5xx", self._rng.choice((500, 502, 503)))
                if kind == "429":
                    return Fault("429", 429)
                if kind == "slow":
                    return Fault("slow", seconds=config.slow_seconds)
                return Fault(kind)
            draw -= rate
        return None
