"""Each cancellation the simulator's import stores reaches the HTTPS endpoint, signed; failures
retry with backoff and dead-letter after max_attempts."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import cancellation_webhooks
from cancellation_webhooks import outbox
from cancellation_webhooks.body import DELIVERY_HEADER, SIGNATURE_HEADER
from cancellation_webhooks.delivery import Sender, one_pass
from cancellation_webhooks.settings import webhook_settings
from core import InvalidPluginSetting
from tests.harness import Harness, fast_settings


def build(tmp_path: Path, values: dict[str, Any], database_url: str | None = None) -> Harness:
    settings = fast_settings(tmp_path, database_url or f"sqlite:///{tmp_path / 'gateway.db'}",
                             plugins={"shopify": {"max_attempts": 3}, "cancellation_webhooks": values})
    return Harness.build(settings, plugins=(cancellation_webhooks,))


def import_cancellations(h: Harness, units: tuple[int, ...] = (2, 1)) -> list[str]:
    """An order of two lines, ``units`` of each canceled at Shopify, then a run that stores them."""
    order = h.sim.create_order([("SKU-RED", 3), ("SKU-BLUE", 2)], name="#1042")
    lines = h.sim.line_item_ids(order)
    for line, qty in zip(lines, units):
        if qty:
            h.sim.cancel_units(order, line, qty)
    h.advance(600)
    h.run()
    return lines


def feed_ids(h: Harness, expected: int) -> list[int]:
    """The feed's rows once ``expected`` are there: on PostgreSQL the feed holds back rows while
    any older transaction on the server is open (another test's), so it may show them late."""
    deadline = time.monotonic() + 60
    while True:
        with h.runtime.storage.read() as tx:
            ids = [c.id for c in tx.list_cancellations(first=100).items]
        if len(ids) >= expected or time.monotonic() > deadline:
            return ids
        time.sleep(0.1)


def pass_until(h: Harness, engine: Any, sender: Sender, own: Any, *, delivered: int) -> None:
    """Passes until ``delivered`` deliveries are done (the PostgreSQL feed may show rows late)."""
    deadline = time.monotonic() + 60
    done = 0
    while done < delivered and time.monotonic() < deadline:
        done += one_pass(engine, h.runtime.storage, sender, own).delivered
        time.sleep(0.05)
    assert done == delivered


def test_each_cancellation_is_delivered_signed_over_https(tmp_path: Path, receiver: Any, own_values: dict,
                                                          database_url: str) -> None:
    h = build(tmp_path, own_values, database_url)
    lines = import_cancellations(h)
    own = webhook_settings(h.runtime.settings)
    engine = outbox.open_outbox(h.runtime.settings.database)
    pass_until(h, engine, Sender(own), own, delivered=2)

    assert sorted(receiver.verified_ids()) == sorted(feed_ids(h, 2)) and len(receiver.received) == 2
    first = receiver.received[0]
    assert first.headers[SIGNATURE_HEADER].startswith("sha256=")
    assert first.body["shop"] == "demo" and first.body["orderName"] == "#1042"
    assert {r.body["lineItemId"]: (r.body["sku"], r.body["quantity"]) for r in receiver.received} == {
        lines[0]: ("SKU-RED", 2), lines[1]: ("SKU-BLUE", 1)}
    assert first.headers[DELIVERY_HEADER] == str(first.body["deliveryId"])
    assert outbox.counts(engine) == {"pending": 0, "delivered": 2, "dead": 0}

    again = one_pass(engine, h.runtime.storage, Sender(own), own)  # nothing new in the feed, nothing due
    assert (again.ingested, again.delivered, len(receiver.received)) == (0, 0, 2)
    h.close()


def test_a_wrong_secret_fails_the_receivers_check(tmp_path: Path, receiver: Any, own_values: dict) -> None:
    h = build(tmp_path, {**own_values, "secret": "not-the-receivers"})
    import_cancellations(h, units=(1, 0))
    own = webhook_settings(h.runtime.settings)
    one_pass(outbox.open_outbox(h.runtime.settings.database), h.runtime.storage, Sender(own), own)
    assert len(receiver.received) == 1 and receiver.verified_ids() == []
    h.close()


def test_failures_back_off_exponentially_then_dead_letter(tmp_path: Path, receiver: Any, own_values: dict) -> None:
    receiver.default = 503
    h = build(tmp_path, own_values)  # backoff 10 s, 3 attempts
    import_cancellations(h, units=(1, 0))
    own = webhook_settings(h.runtime.settings)
    engine = outbox.open_outbox(h.runtime.settings.database)
    sender = Sender(own)
    clock = [h.runtime.now()]

    first = one_pass(engine, h.runtime.storage, sender, own, now=lambda: clock[0])
    assert (first.delivered, first.retried) == (0, 1)
    [row] = outbox.listing(engine)
    assert row.attempts == 1 and row.last_error == "HTTP 503"
    assert row.next_attempt_at == clock[0] + timedelta(seconds=10)

    clock[0] += timedelta(seconds=9)  # not due yet: nothing is sent
    assert one_pass(engine, h.runtime.storage, sender, own, now=lambda: clock[0]).retried == 0
    assert len(receiver.received) == 1

    clock[0] += timedelta(seconds=1)
    assert one_pass(engine, h.runtime.storage, sender, own, now=lambda: clock[0]).retried == 1
    [row] = outbox.listing(engine)
    assert row.next_attempt_at == clock[0] + timedelta(seconds=20)  # doubled

    clock[0] += timedelta(seconds=20)
    assert one_pass(engine, h.runtime.storage, sender, own, now=lambda: clock[0]).dead == 1
    [row] = outbox.listing(engine)
    assert (row.status, row.attempts, len(receiver.received)) == (outbox.Status.DEAD, 3, 3)

    clock[0] += timedelta(days=1)  # a dead letter is never tried again by itself
    assert one_pass(engine, h.runtime.storage, sender, own, now=lambda: clock[0]).dead == 0
    assert len(receiver.received) == 3
    h.close()


def test_a_full_batch_says_so_so_the_deliverer_goes_on_at_once(tmp_path: Path, receiver: Any,
                                                                own_values: dict) -> None:
    h = build(tmp_path, {**own_values, "batch": 1})
    import_cancellations(h)  # two rows, one per pass
    own = webhook_settings(h.runtime.settings)
    engine = outbox.open_outbox(h.runtime.settings.database)
    passes = [one_pass(engine, h.runtime.storage, Sender(own), own) for _ in range(3)]
    assert [(p.ingested, p.delivered, p.full) for p in passes] == [(1, 1, True), (1, 1, True), (0, 0, False)]
    assert len(receiver.verified_ids()) == 2
    h.close()


def test_the_backoff_is_capped() -> None:
    assert outbox.backoff(1, base=5, cap=60) == timedelta(seconds=5)
    assert outbox.backoff(4, base=5, cap=60) == timedelta(seconds=40)
    assert outbox.backoff(5, base=5, cap=60) == timedelta(seconds=60)


@pytest.mark.parametrize("url", ["http://hooks.example/in", "ftp://hooks.example/in", "https:///no-host"])
def test_only_https_endpoints_start(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidPluginSetting) as caught:
        build(tmp_path, {"endpoint_url": url, "secret": "s3cr3t-value"})
    assert "cancellation_webhooks" in str(caught.value) and "endpoint_url" in str(caught.value)
    assert "s3cr3t-value" not in str(caught.value)


def test_a_bad_value_never_quotes_the_secret(tmp_path: Path) -> None:
    with pytest.raises(InvalidPluginSetting) as caught:
        build(tmp_path, {"secret": "s3cr3t-value", "max_attempts": 0})
    assert "max_attempts" in str(caught.value) and "s3cr3t-value" not in str(caught.value)
