"""Prometheus metrics of one gateway process, and the store's state read at scrape time.

Each process (API, worker, scheduler) owns one :class:`GatewayMetrics` with its own registry
and serves it on its own port: the API at ``/metrics``, a worker or scheduler on
``METRICS_PORT``. We chose a port per process over ``prometheus_client``'s multiprocess mode
because RQ forks a work-horse per job: in multiprocess mode every horse would write its own
files to a shared directory that must be wiped between deployments, and custom collectors do
not aggregate there. Instead the horse writes nothing; its parent counts the run from the
run's final record, which the database holds anyway (:meth:`GatewayMetrics.count_run_id`).

What an operator alerts on (lag, waiting runs, the bucket) is not a counter of one process but
the state of the store, so :class:`StoreCollector` reads it from the database at scrape time:
any process that serves it reports the same numbers.

Label values are bounded: shop names (a shop is a row an admin adds), job kinds (registered
by plugins), statuses and outcomes (enums). Never an order id or a token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .models import JobRun, JobRunStatus, Schedule
from .schedules import next_fire
from .storage import Storage

log = logging.getLogger("sync_gateway.metrics")

PREFIX = "sync_gateway"

# A run takes seconds to an hour; Prometheus' defaults stop at 10 s.
RUN_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, float("inf"))
# A GraphQL request takes milliseconds.
REQUEST_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, float("inf"))

WEBHOOK_OUTCOMES = ("queued", "duplicate", "ignored", "rejected", "unknown_source", "unknown_shop",
                    "too_large", "not_configured")


class GatewayMetrics:
    """The counters and histograms one process moves; see ``docs/operations.md`` for each."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.runs = Counter(f"{PREFIX}_runs", "Finished runs, by shop, job kind and final status.",
                            ("shop", "kind", "status"), registry=r)
        self.run_duration = Histogram(f"{PREFIX}_run_duration_seconds",
                                      "Wall time of finished runs, from start to finish.",
                                      ("shop", "kind"), buckets=RUN_DURATION_BUCKETS, registry=r)
        self.orders_read = Counter(f"{PREFIX}_orders_read", "Orders read from the source by runs.",
                                   ("shop", "kind"), registry=r)
        self.items_canceled = Counter(f"{PREFIX}_items_canceled",
                                      "Order items newly marked canceled (a line counts once per run).",
                                      ("shop", "kind"), registry=r)
        self.units_canceled = Counter(f"{PREFIX}_units_canceled", "Units newly marked canceled.",
                                      ("shop", "kind"), registry=r)
        self.cost_points = Counter(f"{PREFIX}_shopify_cost_points",
                                   "Shopify calculated cost points spent (actualQueryCost).",
                                   ("shop",), registry=r)
        self.throttled = Counter(f"{PREFIX}_shopify_throttled_replies",
                                 "Shopify replies that were THROTTLED and waited out.", ("shop",), registry=r)
        self.retries = Counter(f"{PREFIX}_shopify_retries",
                               "Shopify requests sent again after a transient failure.", ("shop",), registry=r)
        self.webhooks = Counter(f"{PREFIX}_webhook_deliveries", "Webhook deliveries, by source and outcome.",
                                ("source", "outcome"), registry=r)
        self.graphql_requests = Counter(f"{PREFIX}_graphql_requests",
                                        "GraphQL operations, by operation type and outcome.",
                                        ("operation", "outcome"), registry=r)
        self.graphql_duration = Histogram(f"{PREFIX}_graphql_request_duration_seconds",
                                          "Time to execute a GraphQL operation.", ("operation",),
                                          buckets=REQUEST_DURATION_BUCKETS, registry=r)
        self._counted: set[int] = set()
        self._lock = threading.Lock()

    # --- runs -----------------------------------------------------------------------------------

    def count_run(self, shop: str, kind: str, run: JobRun) -> None:
        """Count a finished run once (a run seen twice, by a retried job, counts once)."""
        if run.status in (JobRunStatus.QUEUED, JobRunStatus.RUNNING):
            return
        with self._lock:
            if run.id in self._counted:
                return
            self._counted.add(run.id)
            if len(self._counted) > 100_000:  # a long-lived worker: forget the oldest half
                self._counted = set(sorted(self._counted)[50_000:])
        self.runs.labels(shop, kind, run.status.value).inc()
        if run.started_at is not None and run.finished_at is not None and run.status is not JobRunStatus.SKIPPED:
            self.run_duration.labels(shop, kind).observe(max(0.0, (run.finished_at - run.started_at).total_seconds()))
        self.orders_read.labels(shop, kind).inc(run.orders_seen)
        self.items_canceled.labels(shop, kind).inc(run.items_canceled)
        self.units_canceled.labels(shop, kind).inc(run.units_canceled)
        self.cost_points.labels(shop).inc(run.api_cost)
        self.throttled.labels(shop).inc(run.throttled)
        self.retries.labels(shop).inc(run.retries)

    def count_run_id(self, storage: Storage, run_id: int) -> None:
        """Count run ``run_id`` from its stored record (a worker, after its work-horse ended)."""
        try:
            with storage.read() as tx:
                run = tx.get_run(run_id)
                job = tx.get_job(run.job_id) if run is not None else None
        except Exception:
            log.warning("could not read run %s to count it in the metrics", run_id, exc_info=True)
            return
        if run is not None and job is not None:
            self.count_run(job.shop, job.kind, run)

    # --- webhooks and the API ---------------------------------------------------------------------

    def count_webhook(self, source: str, outcome: str) -> None:
        if outcome not in WEBHOOK_OUTCOMES:
            raise ValueError(f"unknown webhook outcome {outcome!r}")
        self.webhooks.labels(source, outcome).inc()

    def count_graphql(self, operation: str, outcome: str, seconds: float) -> None:
        self.graphql_requests.labels(operation, outcome).inc()
        self.graphql_duration.labels(operation).observe(seconds)

    # --- serving ----------------------------------------------------------------------------------

    def add_store(self, storage: Storage, *, clock: Callable[[], datetime],
                  queue_depth: Callable[[], int] | None = None) -> None:
        """Also report the store's state (lag, waiting runs, the bucket) on every scrape."""
        self.registry.register(StoreCollector(storage, clock=clock, queue_depth=queue_depth))

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` of this registry on ``port`` in a daemon thread (worker, scheduler)."""
        start_http_server(port, addr=host, registry=self.registry)
        log.info("metrics on http://%s:%s/metrics", host, port)


class StoreCollector(Collector):
    """Gauges read from the database when Prometheus scrapes: one query set per scrape."""

    def __init__(self, storage: Storage, *, clock: Callable[[], datetime],
                 queue_depth: Callable[[], int] | None = None) -> None:
        self.storage = storage
        self.clock = clock
        self.queue_depth = queue_depth

    def describe(self) -> Iterable[Metric]:
        return []  # read at scrape time only: registering must not query the database

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(f"{PREFIX}_job_lag_seconds",
                                "Seconds since the job's watermark: how far behind the shop the store is.",
                                labels=("shop", "kind"))
        period = GaugeMetricFamily(f"{PREFIX}_job_schedule_period_seconds",
                                   "Seconds between two slots of the job's schedule (alert on lag > 2 periods).",
                                   labels=("shop", "kind"))
        paused = GaugeMetricFamily(f"{PREFIX}_job_paused", "1 while the job is paused.", labels=("shop", "kind"))
        waiting = GaugeMetricFamily(f"{PREFIX}_runs_waiting", "Runs queued and not started, by shop and job kind.",
                                    labels=("shop", "kind"))
        running = GaugeMetricFamily(f"{PREFIX}_runs_running", "Runs in progress, by shop and job kind.",
                                    labels=("shop", "kind"))
        available = GaugeMetricFamily(f"{PREFIX}_shopify_bucket_available_points",
                                      "Points left in the shop's rate-limit bucket at the last reply seen.",
                                      labels=("shop",))
        maximum = GaugeMetricFamily(f"{PREFIX}_shopify_bucket_maximum_points",
                                    "The plan's bucket ceiling (maximumAvailable) at the last reply seen.",
                                    labels=("shop",))
        try:
            now = self.clock()
            with self.storage.read() as tx:
                jobs = tx.list_jobs()
                ids = [job.id for job in jobs]
                watermarks = tx.get_watermarks(ids)
                active = tx.active_runs_for_jobs(ids)
                latest = tx.latest_runs(ids)
        except Exception:
            log.warning("metrics: could not read the store", exc_info=True)
            yield GaugeMetricFamily(f"{PREFIX}_store_up", "1 if the last scrape could read the store.", value=0)
            return
        buckets: dict[str, tuple[datetime, float, float]] = {}
        for job in jobs:
            labels = [job.shop, job.kind]
            mark = watermarks.get(job.id)
            if mark is not None:
                lag.add_metric(labels, max(0.0, (now - mark).total_seconds()))
            seconds = _period_seconds(job.schedule, now)
            if seconds is not None:
                period.add_metric(labels, seconds)
            paused.add_metric(labels, 1.0 if job.paused else 0.0)
            runs = active.get(job.id, [])
            waiting.add_metric(labels, sum(1 for r in runs if r.status is JobRunStatus.QUEUED))
            running.add_metric(labels, sum(1 for r in runs if r.status is JobRunStatus.RUNNING))
            reading = _bucket_reading(latest.get(job.id))
            if reading is not None and (job.shop not in buckets or reading[0] > buckets[job.shop][0]):
                buckets[job.shop] = reading
        for shop, (_, points, ceiling) in sorted(buckets.items()):
            available.add_metric([shop], points)
            maximum.add_metric([shop], ceiling)
        yield GaugeMetricFamily(f"{PREFIX}_store_up", "1 if the last scrape could read the store.", value=1)
        yield from (lag, period, paused, waiting, running, available, maximum)
        if self.queue_depth is not None:
            try:
                depth = float(self.queue_depth())
            except Exception:
                log.warning("metrics: could not read the queue depth", exc_info=True)
            else:
                yield GaugeMetricFamily(f"{PREFIX}_queue_depth", "Jobs waiting on the RQ queue.", value=depth)


def _period_seconds(schedule: Schedule, now: datetime) -> float | None:
    if schedule.every_seconds is not None:
        return float(schedule.every_seconds)
    try:
        first = next_fire(schedule, after=now)
        return (next_fire(schedule, after=first, previous=first) - first).total_seconds()
    except Exception:  # a schedule that no longer fires reports no period rather than failing the scrape
        return None


def _bucket_reading(run: JobRun | None) -> tuple[datetime, float, float] | None:
    """The last bucket reading a run stored in its progress."""
    if run is None or run.progress is None:
        return None
    points, ceiling = run.progress.bucket_available, run.progress.bucket_maximum
    if points is None or ceiling is None:
        return None
    when = run.finished_at or run.started_at or run.queued_at or datetime.min.replace(tzinfo=UTC)
    return when, float(points), float(ceiling)


__all__ = ["GatewayMetrics", "StoreCollector", "WEBHOOK_OUTCOMES"]
