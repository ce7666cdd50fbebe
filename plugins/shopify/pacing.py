"""Cost-aware pacing: one budget per shop, shared by every run, worker and webhook refresh.

Shopify's GraphQL Admin API limits each app on each shop with a bucket of points
(``maximumAvailable``) that refills at ``restoreRate`` points per second; a query starts only
when the bucket holds its *requested* cost, is charged that at the start, and gets the difference
to its *actual* cost back at the end. Every reply reports the bucket
(``extensions.cost.throttleStatus``).

All the gateway's requests to one shop draw on one :class:`BucketLedger`: our running model of
Shopify's bucket. A request *reserves* its points before it is sent (the model may go below zero:
that is the queue of requests waiting for the refill, served in the order they reserved, a
GCRA-style virtual schedule), gets back what the reply says it did not use, and every reply's
``throttleStatus`` corrects the model downwards (Shopify's figure wins when it is lower; a higher
one cannot erase reservations of requests still on their way). Why a shared token bucket and not
a per-shop concurrency limit: the limit Shopify enforces *is* a token bucket, so modelling it
spends the plan's whole ceiling whatever the number of runs, and the reservation order makes it
fair (each request waits its turn, no run can starve another by being quicker to retry). A
concurrency limit alone would either leave points unused or still throttle with big queries.

Where the ledger lives:

- without ``REDIS_URL``: in the process (:class:`LocalLedger`), shared by its runs and threads;
- with ``REDIS_URL``: in Redis (:class:`RedisLedger`), one hash per shop updated by a Lua script
  on Redis's clock, so many workers on many machines are one budget, not many. If Redis does not
  answer, the pacer falls back to the process's own ledger until it does (a Redis blip slows no
  run down and fails none).

Priorities: a backfill reserves only while the bucket keeps :data:`BACKFILL_HEADROOM` of its size
free after its query, so the scheduled window and webhook refreshes of the same shop, which
reserve freely, always get their share (a backfill waits instead of queueing in front of them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import anyio

log = logging.getLogger("sync_gateway.shopify.pacing")

Clock = Callable[[], float]
"""Monotonic seconds."""

Sleep = Callable[[float], Awaitable[None]]

BACKFILL_HEADROOM = 0.5
"""Share of the bucket a backfill leaves free for the shop's scheduled windows and webhooks."""

SLACK_POINTS = 1.0
"""Shopify reports whole points (rounded down), and refill arithmetic in floating point could
leave the bucket a hair short: a waiting request waits for one point more."""

LOW_PRIORITY_POLL = 0.05
"""Shortest wait of a backfill request that found no headroom (it asks again after it)."""


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    """Shopify's ``extensions.cost.throttleStatus``."""

    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_extension(cls, raw: object) -> ThrottleStatus | None:
        """Read the reply's ``throttleStatus`` object; None when absent or ill-typed."""
        if not isinstance(raw, dict):
            return None
        try:
            values = [raw["maximumAvailable"], raw["currentlyAvailable"], raw["restoreRate"]]
        except KeyError:
            return None
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return None
        maximum, current, rate = (float(v) for v in values)
        if maximum <= 0 or rate <= 0:
            return None
        return cls(maximum, max(0.0, min(current, maximum)), rate)

    def seconds_until(self, requested: float) -> float:
        """How long the bucket needs to refill from ``currently_available`` to ``requested``."""
        return max(0.0, requested - self.currently_available) / self.restore_rate


@dataclass(slots=True)
class Hold:
    """Points one request holds in the ledger while it is on its way (0: none were taken)."""

    points: float
    slept: float
    settled: bool = False
    """A reply settled it (:meth:`CostPacer.settle`); otherwise a failure must release it."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """What the ledger answered: wait ``wait`` seconds; ``reserved`` points are held for the
    request (0 when it must ask again after the wait: a backfill without headroom, or before
    the first reply told us the bucket)."""

    wait: float
    reserved: float
    estimate: ThrottleStatus | None
    """The bucket as the ledger now models it (``currently_available`` may be negative: the queue)."""


class BucketLedger(Protocol):
    """One shop's bucket as every request of the gateway sees it. Implementations are atomic."""

    def reserve(self, requested: float, *, headroom: float) -> Reservation:
        """Take ``requested`` points if the bucket can hold them now or, queued, later.

        ``headroom`` > 0 (a share of the bucket size): take them only if that share stays free,
        else take nothing and say how long until it would.
        """
        ...

    def refund(self, points: float) -> None:
        """Give back points a request did not use (its query never started, or cost less);
        negative: take more (it cost more than it reserved)."""
        ...

    def observe(self, status: ThrottleStatus, *, refund: float = 0.0) -> ThrottleStatus:
        """Correct the model with a reply's bucket, after refunding ``refund`` unused points."""
        ...

    def estimate(self) -> ThrottleStatus | None:
        """The modelled bucket now; None before any reply."""
        ...


class LocalLedger:
    """The ledger of one process (threads and event loops alike)."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = 0.0
        self._maximum: float | None = None
        self._rate = 0.0
        self._at = 0.0

    def _refill(self) -> None:
        now = self._clock()
        if self._maximum is not None:
            self._tokens = min(self._maximum, self._tokens + self._rate * max(0.0, now - self._at))
        self._at = now

    def _snapshot(self) -> ThrottleStatus | None:
        if self._maximum is None:
            return None
        return ThrottleStatus(self._maximum, self._tokens, self._rate)

    def reserve(self, requested: float, *, headroom: float) -> Reservation:
        with self._lock:
            self._refill()
            if self._maximum is None:
                return Reservation(0.0, 0.0, None)
            wait, taken, self._tokens = plan_reservation(self._tokens, self._maximum, self._rate, requested, headroom)
            return Reservation(wait, taken, self._snapshot())

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            if self._maximum is not None:
                self._tokens = min(self._maximum, self._tokens + points)

    def observe(self, status: ThrottleStatus, *, refund: float = 0.0) -> ThrottleStatus:
        with self._lock:
            self._refill()
            if self._maximum is None:
                self._tokens = status.currently_available
            else:
                self._tokens = min(status.maximum_available, self._tokens + refund, status.currently_available)
            self._maximum, self._rate = status.maximum_available, status.restore_rate
            snapshot = self._snapshot()
            assert snapshot is not None
            return snapshot

    def estimate(self) -> ThrottleStatus | None:
        with self._lock:
            self._refill()
            return self._snapshot()


def plan_reservation(tokens: float, maximum: float, rate: float, requested: float,
                     headroom: float) -> tuple[float, float, float]:
    """The reservation rule, shared by both ledgers (the Lua script is its transcription).

    Returns ``(wait, reserved, tokens after)``. A query bigger than the whole bucket can never
    start: it reserves a full bucket (the client shrinks it when Shopify says so).
    """
    need = min(requested, maximum)
    if headroom > 0:
        floor = headroom * maximum
        if tokens - need < floor:
            return max(LOW_PRIORITY_POLL, (need + floor - tokens) / rate), 0.0, tokens
        return 0.0, need, tokens - need
    tokens -= need
    if tokens >= 0:
        return 0.0, need, tokens
    return (-tokens + min(SLACK_POINTS, maximum - need)) / rate, need, tokens


# The same rule as plan_reservation and LocalLedger, run atomically inside Redis on its clock.
_LEDGER_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local h = redis.call('HMGET', KEYS[1], 'tokens', 'max', 'rate', 'at')
local tokens, max, rate, at = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]), tonumber(h[4])
if max then tokens = math.min(max, tokens + rate * math.max(0, now - at)) end
local op = ARGV[1]
local wait, taken = 0, 0
if op == 'reserve' and max then
  local need = math.min(tonumber(ARGV[2]), max)
  local headroom = tonumber(ARGV[3])
  if headroom > 0 then
    local floor = headroom * max
    if tokens - need < floor then
      wait = math.max(tonumber(ARGV[4]), (need + floor - tokens) / rate)
    else
      tokens = tokens - need
      taken = need
    end
  else
    tokens = tokens - need
    taken = need
    if tokens < 0 then wait = (-tokens + math.min(tonumber(ARGV[5]), max - need)) / rate end
  end
elseif op == 'refund' and max then
  tokens = math.min(max, tokens + tonumber(ARGV[2]))
elseif op == 'observe' then
  local smax, scur, srate, refund = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  if max then tokens = math.min(smax, tokens + refund, scur) else tokens = scur end
  max, rate = smax, srate
end
if max then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'max', tostring(max), 'rate', tostring(rate), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  return {tostring(wait), tostring(taken), tostring(tokens), tostring(max), tostring(rate)}
end
return {tostring(wait), tostring(taken)}
"""

_KEY_TTL_SECONDS = 3600
"""A shop nobody has talked to for an hour has a full bucket again: its ledger may go."""

_RETRY_REDIS_AFTER = 5.0


class RedisLedger:
    """The ledger in Redis, shared by every process of the gateway (and any gateway on the same
    Redis talking to the same shop, as Shopify's bucket is shared by them too).

    Falls back to ``fallback`` while Redis does not answer, and tries Redis again after a few
    seconds; what the fallback spent meanwhile is not carried over (it is at most a few seconds of
    the plan's refill, and the next reply's ``throttleStatus`` corrects the model anyway).
    """

    def __init__(self, connection: object, key: str, *, fallback: LocalLedger) -> None:
        import redis

        self._script = redis.Redis.register_script(connection, _LEDGER_SCRIPT)  # type: ignore[arg-type]
        self._errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        self.key = key
        self._fallback = fallback
        self._down_until = 0.0

    def _call(self, op: str, *values: float) -> list[bytes] | None:
        """Run the script; ARGV is ``op``, four numbers (their meaning depends on ``op``), the TTL."""
        if time.monotonic() < self._down_until:
            return None
        numbers = [*values, *([0.0] * (4 - len(values)))]
        try:
            return self._script(keys=[self.key], args=[op, *numbers, _KEY_TTL_SECONDS])  # type: ignore[no-any-return]
        except self._errors as exc:
            self._down_until = time.monotonic() + _RETRY_REDIS_AFTER
            log.warning("the shared Shopify budget in Redis is unavailable (%s); pacing in-process for %.0fs",
                        exc.__class__.__name__, _RETRY_REDIS_AFTER)
            return None

    def reserve(self, requested: float, *, headroom: float) -> Reservation:
        reply = self._call("reserve", requested, headroom, LOW_PRIORITY_POLL, SLACK_POINTS)
        if reply is None:
            return self._fallback.reserve(requested, headroom=headroom)
        return Reservation(float(reply[0]), float(reply[1]), _status(reply))

    def refund(self, points: float) -> None:
        if points and self._call("refund", points) is None:
            self._fallback.refund(points)

    def observe(self, status: ThrottleStatus, *, refund: float = 0.0) -> ThrottleStatus:
        reply = self._call("observe", status.maximum_available, status.currently_available,
                           status.restore_rate, refund)
        if reply is None:
            return self._fallback.observe(status, refund=refund)
        modelled = _status(reply)
        assert modelled is not None
        return modelled

    def estimate(self) -> ThrottleStatus | None:
        reply = self._call("estimate")
        if reply is None:
            return self._fallback.estimate()
        return _status(reply)


def _status(reply: list[bytes]) -> ThrottleStatus | None:
    if len(reply) < 5:
        return None
    return ThrottleStatus(maximum_available=float(reply[3]), currently_available=float(reply[2]),
                          restore_rate=float(reply[4]))


class CostPacer:
    """One run's view of its shop's budget: waits before each query until the ledger holds it.

    Args:
        ledger: the shop's shared ledger (a private :class:`LocalLedger` when omitted).
        backfill: reserve only with headroom left for the shop's other work.
        clock: monotonic seconds of a private ledger (tests inject a simulator's clock).
        sleep: awaitable sleep (tests inject one that advances a simulated clock).
    """

    def __init__(self, *, ledger: BucketLedger | None = None, backfill: bool = False,
                 clock: Clock = time.monotonic, sleep: Sleep = anyio.sleep) -> None:
        self.ledger: BucketLedger = ledger if ledger is not None else LocalLedger(clock=clock)
        self.clock = clock
        """Monotonic seconds (the simulated clock in tests): what bulk timings are measured on."""
        self._headroom = BACKFILL_HEADROOM if backfill else 0.0
        self._sleep = sleep
        self._status: ThrottleStatus | None = None
        self.waited = 0.0
        """Total seconds this pacer has slept (for stats and tests)."""

    @property
    def status(self) -> ThrottleStatus | None:
        """The latest bucket a reply reported, as reported."""
        return self._status

    def available(self) -> float | None:
        """Points the shared model holds now (negative: requests are queued); None before any reply."""
        estimate = self.ledger.estimate()
        return None if estimate is None else estimate.currently_available

    def delay_for(self, requested: float) -> float:
        """Seconds a query requesting ``requested`` points would wait now (nothing is reserved)."""
        estimate = self.ledger.estimate()
        if estimate is None:
            return 0.0
        wait, _, _ = plan_reservation(estimate.currently_available, estimate.maximum_available,
                                      estimate.restore_rate, requested, self._headroom)
        return wait

    async def hold(self, requested: float) -> Hold:
        """Sleep until ``requested`` points are ours, reserving them in the shared ledger.

        Before the first reply the bucket is unknown: no wait, and nothing is held.
        """
        slept = 0.0
        while True:
            reservation = self.ledger.reserve(requested, headroom=self._headroom)
            if reservation.wait > 0:
                await self._sleep(reservation.wait)
                slept += reservation.wait
            if reservation.reserved > 0 or reservation.estimate is None:
                break
        self.waited += slept
        return Hold(points=reservation.reserved, slept=slept)

    async def acquire(self, requested: float) -> float:
        """:meth:`hold`, returning only the seconds slept."""
        return (await self.hold(requested)).slept

    def settle(self, hold: Hold, status: ThrottleStatus | None, actual: float | None) -> None:
        """A reply came for the query of ``hold``: it was charged ``actual`` (None: nothing, it
        was throttled), and the bucket is now ``status``. The ledger gets the difference back
        before it is corrected with Shopify's figure."""
        hold.settled = True
        difference = hold.points - (actual or 0.0)
        if status is None:
            self.ledger.refund(difference)
        else:
            self.observe(status, refund=difference)

    def observe(self, status: ThrottleStatus | None, *, refund: float = 0.0) -> None:
        """Record the bucket a reply reported, after giving the ledger back ``refund`` points
        (negative: take more, a query that cost more than it held)."""
        if status is None:
            return
        self._status = status
        self.ledger.observe(status, refund=refund)

    def release(self, requested: float) -> None:
        """Give back a reservation whose query never reached Shopify's bucket (a failed or
        throttled request)."""
        self.ledger.refund(requested)


__all__ = [
    "BACKFILL_HEADROOM",
    "BucketLedger",
    "CostPacer",
    "Hold",
    "LocalLedger",
    "RedisLedger",
    "Reservation",
    "ThrottleStatus",
    "plan_reservation",
]
