"""The Shopify Admin GraphQL client: authentication, pacing, retries and error classification.

One :class:`ShopifyClient` talks to one shop through one gql ``Client`` over
``HTTPXAsyncTransport`` (httpx2). Every reply's ``extensions.cost`` feeds the shop's
:class:`~plugins.shopify.pacing.CostPacer` and the caller's ``FetchStats``.

What can go wrong, and what happens (research/shopify-api.md §C):

=====================================  ==================================================
HTTP 200, error code ``THROTTLED``     wait for the bucket to refill, retry (no attempt spent)
HTTP 429                               wait ``Retry-After`` (else back off), retry (no attempt spent)
HTTP 5xx / 408, timeouts, dropped      back off (exponential, full jitter), retry
connections, unreadable bodies
error code ``MAX_COST_EXCEEDED``       :class:`QueryTooExpensive`: the caller shrinks the query
HTTP 401 / 403, ``ACCESS_DENIED``      :class:`core.SourceAuthError` at once
HTTP 404, 3xx, invalid query           :class:`core.ConfigurationError` at once
retry budget spent, or throttled for   :class:`core.SourceUnavailable`
longer than ``max_throttle_wait``
=====================================  ==================================================

The access token travels only in the request header: it is never formatted into a message, a
log record or a ``repr`` (messages built from foreign text are scrubbed as well).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import httpx2
import orjson
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportError,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXAsyncTransport
from graphql import OperationDefinitionNode, parse

from core import (
    ConfigurationError,
    FetchStats,
    GatewayError,
    SourceAuthError,
    SourceDataError,
    SourceUnavailable,
)

from . import queries
from .pacing import CostPacer, Hold, Sleep, ThrottleStatus
from .replies import (
    HttpStatus,
    body_text,
    describe,
    error_code,
    error_message,
    number,
    raise_for_status,
)

log = logging.getLogger("sync_gateway.shopify")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504, 520, 522, 524, 530})
ROUND_TRIP_WEIGHT = 0.3
"""Weight of the newest request in the round-trip average (a few requests make it follow a change)."""
RETRYABLE_CODES = frozenset({"THROTTLED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})


class QueryTooExpensive(Exception):
    """Internal: Shopify refused a query as too expensive; retry it smaller.

    Raised for ``MAX_COST_EXCEEDED`` (``cost`` over the single-query ``limit`` of 1000) and for a
    ``THROTTLED`` reply whose requested cost exceeds the whole bucket (it could never start).
    """

    def __init__(self, cost: float | None, limit: float | None, *, throttled: bool = False) -> None:
        super().__init__(f"query cost {cost} exceeds the limit {limit}")
        self.cost = cost
        self.limit = limit
        self.throttled = throttled


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one request.

    Args:
        max_attempts: attempts per request, the first included (``Settings.max_attempts``).
        backoff_base: first backoff ceiling in seconds; doubles per attempt (full jitter below it).
        backoff_cap: largest backoff ceiling.
        max_wait: longest single wait Shopify may ask for (``Retry-After``, bucket refill).
        max_throttle_wait: total seconds a client may wait on throttling before it gives up
            (``Settings.throttle_max_wait_seconds``); throttling never spends ``max_attempts``.
    """

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_wait: float = 60.0
    max_throttle_wait: float = 900.0


@dataclass(frozen=True, slots=True)
class Reply:
    """The ``data`` of a successful reply and what it cost."""

    data: dict[str, Any]
    requested_cost: float | None
    actual_cost: float | None
    extensions: dict[str, Any]


def shop_base_url(shop_url: str) -> str:
    """``demo.myshopify.com`` → ``https://demo.myshopify.com``; a full URL (a proxy, the simulator) stays.

    Raises:
        ConfigurationError: the value is neither a shop domain nor an http(s) URL.
    """
    url = shop_url.strip().rstrip("/")
    url = url.removesuffix("/admin")
    if "://" in url:
        scheme, rest = url.split("://", 1)
        if scheme not in ("http", "https") or not rest or " " in rest:
            raise ConfigurationError(f"shop URL {shop_url!r} is not an http(s) URL or a myshopify domain")
        return url
    if not url or "/" in url or " " in url:
        raise ConfigurationError(
            f"shop URL {shop_url!r} is not a shop domain",
            suggestion="use the shop's myshopify domain, e.g. demo.myshopify.com",
        )
    if "." not in url:
        url = f"{url}.myshopify.com"
    return f"https://{url}"


class _Retry(Exception):
    """One failed attempt that may succeed later; ``wait`` overrides the backoff."""

    def __init__(
        self, cause: str, *, wait: float | None = None, throttled: bool = False, requested: float | None = None,
        problem: str = "UPSTREAM_ERROR",
    ) -> None:
        super().__init__(cause)
        self.cause = cause
        self.problem = "THROTTLED" if throttled else problem
        """The ``core.ConnectionProblem`` this failure stands for if it is the last attempt."""
        self.wait = wait
        self.throttled = throttled
        self.requested = requested
        """Shopify's own requested cost of the query, when a throttled reply told us."""


class ShopifyClient:
    """Executes the operations of ``queries/`` against one shop's Admin GraphQL endpoint.

    Args:
        shop: how messages name the shop (its name and URL; never the token).
        shop_url: myshopify domain or base URL.
        api_version: Admin API version, e.g. ``2026-07``.
        token: the Admin API access token.
        timeout: seconds per request (connect, read, and the whole execution).
        policy: retry budget and backoff.
        pacer: the shop's cost pacer.
        transport: an httpx2 transport to use instead of the network (tests, the simulator).
        sleep: awaitable sleep for backoff waits (tests inject a fast or simulated one).
        rng: randomness for the backoff jitter.
    """

    def __init__(
        self,
        *,
        shop: str,
        shop_url: str,
        api_version: str,
        token: str,
        timeout: float,
        policy: RetryPolicy,
        pacer: CostPacer,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Sleep = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.shop = shop
        self.api_version = api_version
        self.base_url = shop_base_url(shop_url)
        self.endpoint = f"{self.base_url}/admin/api/{api_version}/graphql.json"
        self.transport = transport
        """The test/simulator transport, if any; bulk result downloads go through it too."""
        self.timeout = timeout
        self.policy = policy
        self.pacer = pacer
        self._token = token
        self._sleep = sleep
        self.sleep = sleep
        """Awaitable sleep for waits that are not backoffs (bulk polling)."""
        self._rng = rng or random.Random()
        self.throttled_wait = 0.0
        """Seconds this client has waited because Shopify throttled it (``max_throttle_wait``)."""
        self._documents: dict[str, GraphQLRequest] = {}
        http_options: dict[str, Any] = {
            "headers": {"X-Shopify-Access-Token": token, "Accept": "application/json"},
            "timeout": timeout,
            "event_hooks": {"response": [raise_for_status]},
        }
        if transport is not None:
            http_options["transport"] = transport
        self._gql = Client(
            transport=HTTPXAsyncTransport(url=self.endpoint, json_deserialize=orjson.loads, **http_options),
            execute_timeout=timeout,  # the transport timeouts do not cover in-process (ASGI) apps
        )
        self._session: AsyncClientSession | None = None
        self._round_trip: float | None = None

    def __repr__(self) -> str:
        return f"ShopifyClient(shop={self.shop!r}, endpoint={self.endpoint!r})"

    async def aclose(self) -> None:
        if self._session is not None:
            self._session = None
            await self._gql.close_async()

    async def execute(
        self,
        operation: str,
        variables: Mapping[str, Any] | None,
        *,
        stats: FetchStats,
        requested: float,
        what: str,
    ) -> Reply:
        """Run ``operation`` (a name from :mod:`plugins.shopify.queries`) until it succeeds.

        Args:
            requested: the estimated requested cost, for pacing.
            what: what the query is for, for messages ("reading orders updated in ...").

        Raises:
            QueryTooExpensive: shrink the query and call again.
            SourceAuthError, ConfigurationError, SourceDataError, SourceUnavailable.
        """
        document = self._document(operation)
        request = GraphQLRequest(document, variable_values=dict(variables or {}), operation_name=document.operation_name)
        try:
            return await self._until_answered(request, stats, requested, what)
        except GatewayError as failure:
            failure.stats = stats  # a failed run's history counts what its last page cost too
            raise

    async def _until_answered(self, request: GraphQLRequest, stats: FetchStats, requested: float, what: str) -> Reply:
        """Send ``request`` until it succeeds. Faults spend the attempt budget; throttling
        does not: it waits as Shopify says, up to ``policy.max_throttle_wait`` per client."""
        attempt = 0
        throttles_in_a_row = 0
        while True:
            stats.requests += 1
            hold = await self.pacer.hold(requested)
            if throttles_in_a_row:
                self.throttled_wait += hold.slept
            sent = time.monotonic()
            try:
                reply = await self._attempt(request, stats, hold)
                self._observe_round_trip(time.monotonic() - sent)
                return reply
            except QueryTooExpensive as refused:
                self._release(hold)
                stats.throttled += refused.throttled
                raise
            except _Retry as failure:
                self._release(hold)
                requested = failure.requested or requested
                if failure.throttled:
                    stats.throttled += 1
                    throttles_in_a_row += 1
                    delay = self._throttle_delay(failure, throttles_in_a_row, requested)
                    self._give_up_throttled_past_the_limit(what, delay, requested)
                    self.throttled_wait += delay
                else:
                    attempt += 1
                    throttles_in_a_row = 0
                    if attempt >= self.policy.max_attempts:
                        raise _naming(failure.problem, SourceUnavailable(
                            f"Shopify shop {self.shop} is unavailable while {what}: {self._scrub(failure.cause)}; "
                            f"gave up after {attempt} attempts",
                            suggestion="the run can be retried; its window was not advanced",
                        )) from None
                    delay = self._delay(failure, attempt)
                stats.retries += 1
                log.warning(
                    "Shopify shop %s: %s while %s; retrying in %.2fs%s",
                    self.shop,
                    self._scrub(failure.cause),
                    what,
                    delay + self.pacer.delay_for(requested),  # the pacer sleeps the bucket refill
                    "" if failure.throttled else f" (attempt {attempt + 1} of {self.policy.max_attempts})",
                )
                if delay > 0:
                    await self._sleep(delay)

    def _throttle_delay(self, failure: _Retry, in_a_row: int, requested: float) -> float:
        """The wait after a throttled reply, on top of what the pacer will sleep for the refill.

        Shopify's ``Retry-After`` (a 429) is waited as given. A THROTTLED reply's bucket went to
        the pacer, whose next acquire sleeps the refill; only if that says "no wait" (a bucket
        that claims room yet throttles: a temporary limit) do we back off, growing per throttle.
        """
        if failure.wait:
            return min(failure.wait, self.policy.max_wait)
        if self.pacer.delay_for(requested) > 0:
            return 0.0
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (in_a_row - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    def _give_up_throttled_past_the_limit(self, what: str, next_wait: float, requested: float) -> None:
        total = self.throttled_wait + next_wait + self.pacer.delay_for(requested)
        if total <= self.policy.max_throttle_wait:
            return
        status = self.pacer.status
        allows = ""
        if status is not None:
            allows = (f"; its plan allows {status.maximum_available:.0f} points, restoring "
                      f"{status.restore_rate:.0f} per second")
        raise _naming("THROTTLED", SourceUnavailable(
            f"Shopify shop {self.shop} kept throttling while {what}: waited {self.throttled_wait:.0f}s for "
            f"its rate limit in all, past the limit of {self.policy.max_throttle_wait:.0f}s{allows}",
            suggestion="the run can be retried; its window was not advanced. If this shop's limit stays low, "
            "raise THROTTLE_MAX_WAIT_SECONDS or run fewer jobs of this shop at once",
        ))

    # --- one attempt ------------------------------------------------------------------------

    @property
    def round_trip(self) -> float | None:
        """Seconds an answered request took, sent to parsed (a moving average; pacing waits
        excluded); None before the first answer."""
        return self._round_trip

    def _observe_round_trip(self, seconds: float) -> None:
        previous = self._round_trip
        self._round_trip = seconds if previous is None else previous + ROUND_TRIP_WEIGHT * (seconds - previous)

    def _release(self, hold: Hold) -> None:
        if not hold.settled:  # no reply told the ledger about this query: it never started
            self.pacer.release(hold.points)

    async def _attempt(self, request: GraphQLRequest, stats: FetchStats, hold: Hold) -> Reply:
        session = await self._connect()
        try:
            result = await session.execute(request, get_execution_result=True)
        except TransportQueryError as exc:
            self._record_cost(exc.extensions, stats, hold)
            raise self._classify_graphql_errors(exc.errors, exc.extensions, exc.data) from None
        except TransportConnectionFailed as exc:
            cause = exc.__cause__
            if isinstance(cause, HttpStatus):
                raise self._classify_status(cause) from None
            raise _Retry(f"connection failed ({describe(cause or exc)})", problem=_connection_problem(cause or exc)) from None
        except TransportProtocolError:
            raise _Retry("the reply was not a GraphQL result (malformed or truncated JSON)", problem="BAD_REPLY") from None
        except TransportServerError as exc:  # only if a status slipped past the hook
            raise _Retry(f"HTTP {exc.code}") from None
        except TransportError as exc:
            raise _Retry(f"transport error ({describe(exc)})", problem="UNREACHABLE") from None
        except TimeoutError:
            raise _Retry("the request timed out", problem="TIMEOUT") from None
        requested_cost, actual_cost = self._record_cost(result.extensions, stats, hold)
        if not isinstance(result.data, dict):
            raise _Retry("the reply had no data object", problem="BAD_REPLY")
        extensions = result.extensions if isinstance(result.extensions, dict) else {}
        return Reply(result.data, requested_cost, actual_cost, extensions)

    async def _connect(self) -> AsyncClientSession:
        if self._session is None:
            self._session = await self._gql.connect_async()
        return self._session

    def _document(self, operation: str) -> GraphQLRequest:
        document = self._documents.get(operation)
        if document is None:
            parsed = parse(queries.load(operation))
            (name,) = [d.name.value for d in parsed.definitions if isinstance(d, OperationDefinitionNode) and d.name]
            document = self._documents[operation] = GraphQLRequest(parsed, operation_name=name)
        return document

    def _record_cost(self, extensions: Any, stats: FetchStats, hold: Hold) -> tuple[float | None, float | None]:
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        if not isinstance(cost, dict):
            return None, None
        requested = number(cost.get("requestedQueryCost"))
        actual = number(cost.get("actualQueryCost"))
        stats.requested_cost += requested or 0.0
        stats.actual_cost += actual or 0.0
        status = ThrottleStatus.from_extension(cost.get("throttleStatus"))
        if status is not None:
            stats.bucket_available, stats.bucket_maximum = status.currently_available, status.maximum_available
        self.pacer.settle(hold, status, actual)
        return requested, actual

    # --- classification ---------------------------------------------------------------------

    def _classify_graphql_errors(self, errors: Any, extensions: Any, data: Any) -> Exception:
        entries = errors if isinstance(errors, list) else [errors]
        codes = [error_code(e) for e in entries]
        messages = "; ".join(error_message(e) for e in entries) or "no message"
        if "MAX_COST_EXCEEDED" in codes:
            detail = next(e for e in entries if error_code(e) == "MAX_COST_EXCEEDED")
            ext = detail.get("extensions", {}) if isinstance(detail, dict) else {}
            return QueryTooExpensive(number(ext.get("cost")), number(ext.get("maxCost")))
        if "THROTTLED" in codes:
            return self._throttled(extensions)
        if "ACCESS_DENIED" in codes:
            return _naming("MISSING_SCOPE", SourceAuthError(
                f"Shopify shop {self.shop} denied access: {self._scrub(messages)}",
                suggestion="check that the Admin API access token has the read_orders scope",
            ))
        if any(c in RETRYABLE_CODES for c in codes):
            return _Retry(f"Shopify reported {self._scrub(messages)}")
        if data is None and any(isinstance(e, dict) and e.get("locations") for e in entries):
            return _naming("API_VERSION", ConfigurationError(
                f"Shopify shop {self.shop} rejected our query for Admin API version {self.api_version}: "
                f"{self._scrub(messages)}",
                suggestion="use an API version this gateway supports (2025-10 or 2026-07)",
            ))
        return _naming("BAD_REPLY", SourceDataError(
            f"Shopify shop {self.shop} answered with errors: {self._scrub(messages)}"))

    def _throttled(self, extensions: Any) -> Exception:
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        cost = cost if isinstance(cost, dict) else {}
        status = ThrottleStatus.from_extension(cost.get("throttleStatus"))
        requested = number(cost.get("requestedQueryCost"))
        if status is not None and requested is not None and requested > status.maximum_available:
            return QueryTooExpensive(requested, status.maximum_available, throttled=True)
        # The pacer saw this status (_record_cost): its next acquire() waits the refill time
        # (requestedQueryCost - currentlyAvailable) / restoreRate, so no backoff on top.
        wait = 0.0 if status is not None else None
        return _Retry(
            "throttled (THROTTLED: the cost bucket is empty)", wait=wait, throttled=True, requested=requested
        )

    def _classify_status(self, reply: HttpStatus) -> Exception:
        status = reply.status
        if status in (401, 403):
            return _naming("BAD_TOKEN", SourceAuthError(
                f"Shopify shop {self.shop} refused the access token (HTTP {status})",
                suggestion="check the shop's Admin API access token and that it has the read_orders scope",
            ))
        if status == 404:
            return _naming("UNKNOWN_SHOP", ConfigurationError(
                f"Shopify shop {self.shop} has no Admin GraphQL endpoint for API version {self.api_version} (HTTP 404)",
                suggestion="the version may be unsupported or retired, or the shop URL wrong; "
                "pick a supported version such as 2026-07",
            ))
        if 300 <= status < 400:
            location = reply.headers.get("location", "?")
            return _naming("UNKNOWN_SHOP", ConfigurationError(
                f"Shopify shop {self.shop} redirects the Admin API (HTTP {status}) to {self._scrub(location)}",
                suggestion="set the shop URL to its myshopify domain",
            ))
        if status == 429:
            return _Retry("rate limited (HTTP 429)", wait=self._retry_after(reply), throttled=True)
        if status in RETRYABLE_STATUS or status >= 500:
            return _Retry(f"HTTP {status}", problem="TIMEOUT" if status in (408, 524) else "UPSTREAM_ERROR")
        return _naming("UPSTREAM_ERROR", SourceUnavailable(
            f"Shopify shop {self.shop} answered HTTP {status}: {self._scrub(body_text(reply.body))}",
            suggestion="HTTP 402 means the shop is frozen for payment, 423 that it is locked",
        ))

    def _retry_after(self, reply: HttpStatus) -> float | None:
        header = reply.headers.get("retry-after")
        if header is not None:
            try:
                return max(0.0, float(header))
            except ValueError:
                pass
        # A GraphQL throttle sent as 429 carries the bucket instead of a header.
        try:
            body = orjson.loads(reply.body)
        except orjson.JSONDecodeError:
            return None
        cost = body.get("extensions", {}).get("cost") if isinstance(body, dict) else None
        if isinstance(cost, dict):
            status = ThrottleStatus.from_extension(cost.get("throttleStatus"))
            requested = number(cost.get("requestedQueryCost"))
            if status is not None:
                self.pacer.observe(status)
                return status.seconds_until(requested or 0.0)
        return None

    async def backoff(self, attempt: int) -> None:
        """Sleep the jittered exponential backoff of failed attempt number ``attempt``."""
        await self._sleep(self._delay(_Retry("backoff"), attempt))

    def _delay(self, failure: _Retry, attempt: int) -> float:
        if failure.wait is not None:
            return min(failure.wait, self.policy.max_wait)
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    def _scrub(self, text: str) -> str:
        # Real tokens are long (shpat_ + 32 hex); blanking a short test token would garble text.
        return text.replace(self._token, "***") if len(self._token) >= 8 else text


E = TypeVar("E", bound=GatewayError)


def _naming(problem: str, error: E) -> E:
    """``error`` with ``problem`` (a ``core.ConnectionProblem`` value) set, for connection checks."""
    error.problem = problem
    return error


def _connection_problem(cause: BaseException) -> str:
    """TIMEOUT for a timed-out connection, UNREACHABLE for any other failure to connect."""
    seen: BaseException | None = cause
    while seen is not None:
        if isinstance(seen, (TimeoutError, httpx2.TimeoutException)):
            return "TIMEOUT"
        seen = seen.__cause__ or seen.__context__
    return "UNREACHABLE"
