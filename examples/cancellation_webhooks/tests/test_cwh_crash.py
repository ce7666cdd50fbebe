"""A deliverer killed (SIGKILL) between the store's commit and the delivery loses nothing."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from cancellation_webhooks import outbox
from test_cwh_delivery import build, feed_ids, import_cancellations


def wait_for(predicate: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigkill_between_commit_and_delivery_loses_nothing(tmp_path: Path, receiver: Any, own_values: dict,
                                                           database_url: str, gateway_cli: Any) -> None:
    h = build(tmp_path, own_values, database_url)  # the database gateway_cli's processes use
    import_cancellations(h)  # two cancellations committed by the import
    receiver.hold = threading.Event()  # the endpoint takes the first request and does not answer
    deliverer = gateway_cli.spawn("cancellation-webhooks", "run")
    try:
        assert receiver.got_one.wait(60), deliverer.stderr.read() if deliverer.poll() is not None else "no request"
        engine = outbox.open_outbox(h.runtime.settings.database)
        assert outbox.counts(engine) == {"pending": 2, "delivered": 0, "dead": 0}  # in flight, not yet marked
        os.kill(deliverer.pid, signal.SIGKILL)
        assert deliverer.wait(30) == -signal.SIGKILL
    finally:
        if deliverer.poll() is None:
            os.kill(deliverer.pid, signal.SIGKILL)
            deliverer.wait(30)

    # The store commits more while no deliverer runs: only the feed knows of them.
    order = h.sim.create_order([("SKU-GREEN", 4)], name="#1043")
    h.sim.cancel_units(order, h.sim.line_item_ids(order)[0], 3)
    h.advance(600)
    h.run()
    all_ids = feed_ids(h, 3)
    assert len(all_ids) == 3

    receiver.hold.set()
    receiver.hold = None
    restarted = gateway_cli.spawn("cancellation-webhooks", "run")
    try:
        wait_for(lambda: outbox.counts(engine)["delivered"] == 3 or restarted.poll() is not None)
    finally:
        restarted.terminate()
        restarted.wait(30)

    assert outbox.counts(engine) == {"pending": 0, "delivered": 3, "dead": 0}
    assert set(receiver.verified_ids()) == set(all_ids)  # every cancellation, each signature good
    assert all(r.verified for r in receiver.received)
    # at least once: the delivery in flight at the kill is sent again, under the same deliveryId
    by_delivery = [r.body["deliveryId"] for r in receiver.received]
    assert by_delivery.count(receiver.received[0].body["deliveryId"]) == 2
    assert len(set(by_delivery)) == 3
    h.close()
