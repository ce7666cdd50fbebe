"""Queue and worker construction, in one place.

With ``REDIS_URL`` set, runs go to a real Redis and any number of ``sync-gateway worker``
processes (on any machine) execute them. Without it, an embedded fakeredis server and an
in-process worker thread do the same in one process (the demo's default). Either way the
database, not Redis, is the source of truth: a flushed Redis loses no schedule or history.

Jobs carry one int (the run id) and use RQ's default serializer, so `rq info`, `rq requeue`,
plain `rq worker` and rq-dashboard all read our queue without extra configuration.

Fairness between shops: BACKFILL runs (long windows, minutes to hours) go to a queue of their own,
``<queue_name>-backfill``, which every worker takes from only when the main queue is empty (RQ
dequeues its queues in order). A shop's scheduled run, a run-now or a webhook refresh never waits
in line behind another shop's queued backfill; a backfill already executing keeps its worker
until it ends (RQ does not pre-empt), so deployments that backfill while syncing hourly run one
worker more than they backfill at once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from rq import Callback, Queue, SimpleWorker, Worker
from rq.job import Job as RQJob
from rq.timeouts import TimerDeathPenalty

from .models import RunProgress
from .settings import Settings

log = logging.getLogger("sync_gateway.queues")

AfterJob = Callable[[int], None]
"""Called with a run's id in the process that owns the worker, after the run's job ended (its
work-horse exited, for a forking worker): the metrics count the run there."""

JOB_FUNCTION = "core.jobs.execute_run_job"
ON_FAILURE = "core.jobs.record_rq_failure"
REFRESH_FUNCTION = "core.jobs.refresh_orders_job"
"""Queued by older versions: one job per delivery (still importable, so queued ones run)."""
REFRESH_PENDING_FUNCTION = "core.jobs.refresh_pending_orders_job"
RESULT_TTL_SECONDS = 24 * 3600
FAILURE_TTL_SECONDS = 7 * 24 * 3600


def rq_job_id(queue_name: str, run_id: int) -> str:
    """One RQ job per run; the queue's name keeps ids of gateways sharing a Redis apart.

    RQ ids may hold only letters, digits, ``_`` and ``-`` (the queue name is validated so).
    """
    return f"{queue_name}-run-{run_id}"


@dataclass
class QueueBackend:
    connection: redis.Redis
    queue: Queue
    embedded: bool
    job_timeout: int
    backfills: Queue | None = None
    """BACKFILL runs: taken only when :attr:`queue` is empty (see the module docstring)."""
    _worker_thread: threading.Thread | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> QueueBackend:
        if settings.redis_url:
            connection = redis.Redis.from_url(settings.redis_url)
            embedded = False
        else:
            import fakeredis

            connection = fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())
            embedded = True
        queue = Queue(settings.queue_name, connection=connection,
                      default_timeout=settings.job_timeout_seconds)
        backfills = Queue(f"{settings.queue_name}-backfill", connection=connection,
                          default_timeout=settings.job_timeout_seconds)
        return cls(connection=connection, queue=queue, embedded=embedded, job_timeout=settings.job_timeout_seconds,
                   backfills=backfills)

    @property
    def queues(self) -> list[Queue]:
        """What workers take from, in order: the main queue first, backfills when it is empty."""
        return [self.queue, *([self.backfills] if self.backfills is not None else [])]

    def enqueue_run(self, run_id: int, *, description: str = "", backfill: bool = False) -> str:
        """Put a run on the queue (a BACKFILL run, ``backfill``: on the backfill queue);
        enqueueing the same run twice keeps one RQ job. Either way the RQ job id names the main
        queue, so the reaper and ``progress`` find it without knowing which queue holds it."""
        job_id = rq_job_id(self.queue.name, run_id)
        existing = self.fetch(job_id)
        if existing is not None and existing.get_status(refresh=True) in {"queued", "started", "scheduled", "deferred"}:
            return job_id
        target = self.backfills if backfill and self.backfills is not None else self.queue
        target.enqueue(
            JOB_FUNCTION,
            run_id,
            job_id=job_id,
            job_timeout=self.job_timeout,
            result_ttl=RESULT_TTL_SECONDS,
            failure_ttl=FAILURE_TTL_SECONDS,
            description=description or f"run {run_id}",
            meta={"run_id": run_id},
            on_failure=Callback(ON_FAILURE),
        )
        return job_id

    def enqueue_refresh(self, shop_id: int, order_ids: list[str], *, delivery_id: str,
                        coalesce_seconds: float = 0.0) -> str | None:
        """Note a webhook's orders for refresh (:mod:`.webhook_batches`): returns the id of the
        refresh job queued for the shop, or None when one is already waiting and will read them.
        The job waits ``coalesce_seconds`` from now before reading, gathering what else arrives.
        ``delivery_id`` only names the delivery in the job's description."""
        from .webhook_batches import forget_waiting, note_pending

        job_id = note_pending(self.connection, self.queue.name, shop_id, list(order_ids))
        if job_id is None:
            return None
        try:
            self.queue.enqueue(
                REFRESH_PENDING_FUNCTION,
                shop_id,
                time.time(),
                coalesce_seconds,
                job_id=job_id,
                job_timeout=self.job_timeout,
                result_ttl=RESULT_TTL_SECONDS,
                failure_ttl=FAILURE_TTL_SECONDS,
                description=f"webhook refresh of shop {shop_id} (first delivery {delivery_id})",
            )
        except Exception:
            forget_waiting(self.connection, self.queue.name, shop_id, job_id)
            raise
        return job_id

    def fetch(self, job_id: str) -> RQJob | None:
        try:
            return RQJob.fetch(job_id, connection=self.connection)
        except Exception:  # NoSuchJobError and a flushed Redis look the same to us
            return None

    def progress(self, run_id: int) -> RunProgress | None:
        """Live progress an executing run published in its RQ job meta, if any."""
        job = self.fetch(rq_job_id(self.queue.name, run_id))
        if job is None:
            return None
        meta = job.get_meta(refresh=True)
        return RunProgress.from_json(meta.get("progress"))

    # --- workers ----------------------------------------------------------------------------

    def purge(self) -> None:
        """Forget every queued job and this queue's job records (as a flushed Redis would)."""
        for queue in self.queues:
            for job_id in queue.get_job_ids():
                job = self.fetch(job_id)
                if job is not None:
                    job.delete()
            queue.empty()  # type: ignore[no-untyped-call]  # rq leaves it unannotated

    def make_worker(self, *, name: str | None = None, after_job: AfterJob | None = None) -> Worker:
        """A forking worker for ``sync-gateway worker`` (real Redis); a work-horse that dies ends
        its run as FAILED with RQ's reason (``work_horse_killed_handler``)."""
        from .jobs import record_work_horse_killed
        from .worker_loop import GatewayWorker

        worker = GatewayWorker(self.queues, connection=self.connection, name=name,
                               work_horse_killed_handler=record_work_horse_killed)
        worker.after_job = after_job
        return worker

    def work(self, *, name: str | None = None, burst: bool = False, logging_level: str = "INFO",
             after_job: AfterJob | None = None) -> int:
        """Run ``sync-gateway worker``: RQ's worker, restarted after Redis outages (see
        :mod:`.worker_loop`); returns how many times it restarted."""
        from .worker_loop import run_worker

        return run_worker(lambda: self.make_worker(name=name, after_job=after_job),  # type: ignore[arg-type, return-value]
                          self.connection, burst=burst, logging_level=logging_level)

    def queued_count(self) -> int:
        """Jobs waiting on the queues, backfills included (RQ's ``len(queue)``)."""
        return sum(int(queue.count) for queue in self.queues)

    def start_embedded_worker(self, *, poll_seconds: float = 0.2, after_job: AfterJob | None = None) -> None:
        """Execute queued runs in a background thread of this process (fakeredis or tests)."""
        if self._worker_thread is not None:
            return
        worker = _ThreadWorker(self.queues, connection=self.connection)
        worker.after_job = after_job

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    # A burst is a whole worker life in RQ (registration, a pub/sub thread,
                    # maintenance, teardown): about a sixth of a serving process's CPU when run
                    # every 0.2 s on an idle queue. One LLEN a queue first (backfills included,
                    # which wait on their own), so idle costs nothing.
                    if self.queued_count():
                        worker.work(burst=True, logging_level="WARNING")
                except Exception:
                    log.exception("embedded worker loop failed; retrying")
                self._stop.wait(poll_seconds)

        self._worker_thread = threading.Thread(target=loop, name="sync-gateway-worker", daemon=True)
        self._worker_thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker_thread is not None:
            self._worker_thread.join(timeout=30)
            self._worker_thread = None


def call_after_job(after_job: AfterJob | None, job: RQJob) -> None:
    """Tell ``after_job`` that the run of ``job`` ended; a webhook refresh carries no run."""
    run_id = (job.meta or {}).get("run_id")
    if after_job is None or not isinstance(run_id, int):
        return
    try:
        after_job(run_id)
    except Exception:
        log.exception("after-job callback failed for run %s", run_id)


class _ThreadWorker(SimpleWorker):
    """A SimpleWorker that can live in a non-main thread (signals belong to the main thread),
    so job timeouts use a timer instead of SIGALRM."""

    death_penalty_class = TimerDeathPenalty
    after_job: AfterJob | None = None

    def execute_job(self, job: RQJob, queue: Queue) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            call_after_job(self.after_job, job)

    def _install_signal_handlers(self) -> None:
        pass
