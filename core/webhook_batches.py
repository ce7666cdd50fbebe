"""Coalescing webhook refreshes: deliveries for a shop's orders that arrive close together cost
one re-read of each order, however many edits the burst held.

A delivery notes its order ids in the shop's *pending* set on the queue's Redis and queues one
refresh job for the shop, unless one is already *waiting* (a marker holds its id). The job
waits out the coalescing interval from the moment it was queued, then, in one atomic step,
clears the marker and takes the pending set, and re-reads each order it found once.

Nothing is lost between the two: noting (SADD, SET NX) and taking (DEL, SMEMBERS, DEL) are
each a MULTI, so a delivery is either wholly before a take (its ids are taken; no new job was
needed) or wholly after (the marker is gone, so it queues the next job). A re-read that fails
loses only latency: the scheduled window reads every order again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

MARKER_SECONDS = 300
"""How long a waiting marker outlives a job that never ran (a flushed queue), after which the next
delivery queues a new job."""


def _keys(queue_name: str, shop_id: int) -> tuple[str, str]:
    prefix = f"{queue_name}:webhooks:{shop_id}"
    return f"{prefix}:pending", f"{prefix}:waiting"


def note_pending(connection: Any, queue_name: str, shop_id: int, order_ids: list[str]) -> str | None:
    """Add ``order_ids`` to the shop's pending set. Returns the id the caller must queue a refresh
    job under (:func:`job_id`), or None when a job is already waiting and will read them."""
    pending, waiting = _keys(queue_name, shop_id)
    new_job = f"{queue_name}-webhook-{shop_id}-{uuid.uuid4().hex[:16]}"
    pipe = connection.pipeline(transaction=True)
    pipe.sadd(pending, *order_ids)
    pipe.set(waiting, new_job, nx=True, ex=MARKER_SECONDS)
    _, created = pipe.execute()
    return new_job if created else None


def forget_waiting(connection: Any, queue_name: str, shop_id: int, job_id: str) -> None:
    """The job ``job_id`` could not be queued: clear its marker so the next delivery queues one."""
    _, waiting = _keys(queue_name, shop_id)
    if connection.get(waiting) in (job_id, job_id.encode()):
        connection.delete(waiting)


def take_pending(connection: Any, queue_name: str, shop_id: int) -> list[str]:
    """Clear the waiting marker and take the pending order ids, atomically (sorted, for a stable order)."""
    pending, waiting = _keys(queue_name, shop_id)
    pipe = connection.pipeline(transaction=True)
    pipe.delete(waiting)
    pipe.smembers(pending)
    pipe.delete(pending)
    _, members, _ = pipe.execute()
    return sorted(m.decode() if isinstance(m, bytes) else m for m in members)


def wait_out(queued_at: float, interval: float, *, clock: Callable[[], float] = time.time,
             sleep: Callable[[float], None] = time.sleep) -> None:
    """Sleep until ``interval`` seconds after ``queued_at`` (epoch seconds); at once if past."""
    remaining = queued_at + interval - clock()
    if remaining > 0:
        sleep(remaining)
