"""``sync-gateway worker``'s loop: RQ's worker, kept alive through Redis restarts.

RQ 2.x already waits out a Redis that is down while it *waits* for a job (``dequeue_job_and_
maintain_ttl`` retries ``ConnectionError`` with exponential backoff). Anywhere else (its heartbeat
while a work-horse runs, its maintenance, its bookkeeping around a job) the error reaches
``Worker.work``, which logs "found an unhandled exception, quitting..." and returns: the process
would exit. This loop then waits for Redis with backoff, and starts a fresh worker (a new
registration, since a restarted Redis forgot the old one). Only a stop request (SIGTERM, SIGINT,
``rq`` shutdown command) or an emptied queue in burst mode ends it.

A run in flight when Redis went away is not lost either way: its work-horse keeps going (the
database is the truth, progress publishing is best effort), and if it dies the run's lease lapses
and the scheduler's reaper records it (:mod:`core.reaper`).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import redis
from rq import Worker

log = logging.getLogger("sync_gateway.worker")

REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0


class GatewayWorker(Worker):
    """RQ's forking worker, remembering whether a stop was asked for (RQ forgets it when idle)."""

    stop_was_requested: bool = False
    after_job: Callable[[int], None] | None = None
    """See :data:`core.queues.AfterJob`: called here, in the parent, once the work-horse exited."""

    def execute_job(self, job: Any, queue: Any) -> None:
        from .queues import call_after_job

        try:
            super().execute_job(job, queue)
        finally:
            call_after_job(self.after_job, job)

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_was_requested = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]


def run_worker(make_worker: Callable[[], GatewayWorker], connection: redis.Redis, *, burst: bool = False,
               logging_level: str = "INFO", max_restarts: int | None = None) -> int:
    """Work until stopped, starting a new RQ worker after each Redis outage; returns the restarts.

    ``max_restarts`` bounds the restarts (tests); ``None`` means forever.
    """
    stopping = threading.Event()
    restarts = 0
    while True:
        worker = make_worker()
        ended_by_redis = False
        try:
            worker.work(burst=burst, logging_level=logging_level)
        except REDIS_ERRORS as exc:  # raised from RQ's own teardown, with Redis still away
            ended_by_redis = True
            log.warning("worker %s lost Redis: %s", worker.name, exc)
        if worker.stop_was_requested:
            return restarts
        if not ended_by_redis and burst and _reachable(connection):
            return restarts  # burst mode and the queue is empty: done
        if max_restarts is not None and restarts >= max_restarts:
            return restarts
        _install_stop_handlers(stopping)
        if stopping.wait(FIRST_BACKOFF_SECONDS) or not _wait_for_redis(connection, stopping):
            return restarts
        _forget(worker)
        restarts += 1
        log.warning("Redis is back; worker restarting (restart %d)", restarts)


def _reachable(connection: redis.Redis) -> bool:
    try:
        return bool(connection.ping())
    except REDIS_ERRORS:
        return False
    except Exception:
        return False


def _wait_for_redis(connection: redis.Redis, stopping: threading.Event) -> bool:
    """Ping with exponential backoff until Redis answers (True) or a stop is requested (False)."""
    delay = FIRST_BACKOFF_SECONDS
    while not stopping.is_set():
        if _reachable(connection):
            return True
        log.warning("Redis is unreachable; trying again in %.1f s", delay)
        stopping.wait(delay)
        delay = min(delay * 2, MAX_BACKOFF_SECONDS)
    return False


def _forget(worker: Worker) -> None:
    """Unregister the worker that quit (RQ's teardown may have failed while Redis was away)."""
    try:
        worker.register_death()  # type: ignore[no-untyped-call]  # rq leaves it unannotated
        worker.unsubscribe()  # type: ignore[no-untyped-call]
    except Exception:
        log.debug("could not unregister worker %s", worker.name, exc_info=True)


def _install_stop_handlers(stopping: threading.Event) -> None:
    """Between two RQ workers, SIGTERM/SIGINT end the wait (RQ installs its own while it works)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


__all__ = ["GatewayWorker", "REDIS_ERRORS", "run_worker"]
