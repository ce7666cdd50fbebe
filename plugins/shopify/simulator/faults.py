"""Fault injection: the failures a real Shopify connection produces, on demand and reproducibly.

Every fault is off by default. Random faults draw from one RNG seeded by ``FaultConfig.seed``, one
draw per GraphQL request in arrival order, so a given request sequence fails the same way every
run. At most one fault hits a request; precedence: ``fail_after_requests``, then
``throttle_storm``, then a random storm (``storm_rate``), then the random ones (5xx, 429, drop,
truncated, slow, in that order of the draw). Random storms draw from a second RNG (seeded from the
same seed), so turning them on leaves the other faults' sequence as it was.

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
random storm       each request outside a storm starts one with probability ``storm_rate``: it and
                   the next ``storm_length - 1`` requests are throttled as above (counted as
                   ``throttle_storm``), like a shop whose limit Shopify lowered for a while.
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
    storm_rate: float = 0.0
    """Probability per request (outside a storm) of starting a storm of ``storm_length`` THROTTLED replies."""
    storm_length: int = 20
    fail_after_requests: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        rates = (self.rate_5xx, self.rate_429, self.rate_slow, self.rate_drop, self.rate_truncated)
        if any(r < 0 or r > 1 for r in rates) or sum(rates) > 1 + 1e-9:
            raise ValueError(f"fault rates must be probabilities summing to at most 1, got {rates}")
        if not 0 <= self.storm_rate <= 1:
            raise ValueError(f"storm_rate must be a probability, got {self.storm_rate}")
        if self.storm_length < 1:
            raise ValueError(f"storm_length must be at least 1, got {self.storm_length}")
        if self.throttle_storm is not None and not 1 <= self.throttle_storm[0] <= self.throttle_storm[1]:
            raise ValueError(f"throttle_storm must be request numbers [start, stop) from 1, got {self.throttle_storm}")


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
        self._storm_rng = random.Random(f"storm:{config.seed}")
        self._storm_left = 0
        self.storms_started = 0

    def decide(self, request_number: int) -> Fault | None:
        config = self.config
        if config.fail_after_requests is not None and request_number > config.fail_after_requests:
            return Fault("fail_after", 500)
        if config.throttle_storm is not None and config.throttle_storm[0] <= request_number < config.throttle_storm[1]:
            return Fault("throttle_storm")
        if self._in_random_storm():
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

    def _in_random_storm(self) -> bool:
        """One storm draw per request outside a storm; inside one, count down its replies."""
        if self._storm_left > 0:
            self._storm_left -= 1
            return True
        if self.config.storm_rate and self._storm_rng.random() < self.config.storm_rate:
            self.storms_started += 1
            self._storm_left = self.config.storm_length - 1
            return True
        return False
