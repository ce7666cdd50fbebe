"""Dead letters are replayed from the CLI (register_commands) and from a GraphQL mutation over
HTTP (register_graphql, admin token only); the deliverer then delivers them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from cancellation_webhooks import outbox
from cancellation_webhooks.delivery import Sender, one_pass
from cancellation_webhooks.settings import webhook_settings
from core import TokenRole
from core.apitokens import issue_token
from core.queues import QueueBackend
from gateway.api.app import create_app
from test_cwh_delivery import build, feed_ids, import_cancellations
from tests.harness import Harness
from tests.servers import serving


def dead_letters(tmp_path: Path, receiver: Any, own_values: dict, database_url: str | None = None) -> Harness:
    """Two cancellations whose deliveries failed every attempt (the endpoint answered 500)."""
    receiver.default = 500
    h = build(tmp_path, {**own_values, "max_attempts": 1}, database_url)
    import_cancellations(h)
    feed_ids(h, 2)  # on PostgreSQL the feed may show them late
    own = webhook_settings(h.runtime.settings)
    report = one_pass(outbox.open_outbox(h.runtime.settings.database), h.runtime.storage, Sender(own), own)
    assert report.dead == 2
    receiver.default = 200
    return h


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # ~7 CLI starts; PostgreSQL: test_cwh_crash
def test_replay_from_the_cli(tmp_path: Path, receiver: Any, own_values: dict, database_url: str,
                             gateway_cli: Any) -> None:
    h = dead_letters(tmp_path, receiver, own_values, database_url)
    engine = outbox.open_outbox(h.runtime.settings.database)
    first, second = (row.id for row in outbox.listing(engine))

    listed = gateway_cli.run("cancellation-webhooks", "dead")
    assert listed.returncode == 0, listed.stderr
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [str(first), str(second)]
    assert "HTTP 500" in listed.stdout

    refused = gateway_cli.run("cancellation-webhooks", "replay")  # neither ids nor --all
    assert refused.returncode == 1 and "name delivery ids or --all" in refused.stderr
    assert outbox.counts(engine)["dead"] == 2  # and nothing changed

    replayed = gateway_cli.run("cancellation-webhooks", "replay", str(first))
    assert (replayed.returncode, replayed.stdout.strip()) == (0, "replayed 1"), replayed.stderr
    assert gateway_cli.run("cancellation-webhooks", "status").stdout.strip() == "pending 1, delivered 0, dead 1"

    delivered = gateway_cli.run("cancellation-webhooks", "run", "--once")
    assert delivered.returncode == 0, delivered.stderr
    assert [(r.body["deliveryId"], r.verified) for r in receiver.received[2:]] == [(first, True)]
    assert outbox.counts(engine) == {"pending": 0, "delivered": 1, "dead": 1}

    everything = gateway_cli.run("cancellation-webhooks", "replay", "--all")
    assert everything.stdout.strip() == "replayed 1"
    assert "secret" not in (listed.stdout + listed.stderr + delivered.stdout + delivered.stderr).lower()
    h.close()


@pytest.fixture
def api(tmp_path: Path, receiver: Any, own_values: dict) -> Iterator[tuple[Harness, str, str, str]]:
    h = dead_letters(tmp_path, receiver, own_values)
    queue = QueueBackend.from_settings(h.runtime.settings)
    read = issue_token(h.runtime, name="reader", role=TokenRole.READ)[1]
    admin = issue_token(h.runtime, name="admin", role=TokenRole.ADMIN)[1]
    try:
        with serving(create_app(h.runtime, queue)) as url:
            yield h, url, read, admin
    finally:
        queue.stop()
        h.close()


def gql(url: str, token: str, query: str) -> dict[str, Any]:
    reply = httpx2.post(f"{url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_replay_from_a_graphql_mutation_with_an_admin_token(api: Any, receiver: Any) -> None:
    h, url, read, admin = api
    listed = gql(url, read, "{ cancellationWebhookDeadLetters { id cancellationId status attempts lastError } }")
    rows = listed["data"]["cancellationWebhookDeadLetters"]
    assert [(r["status"], r["attempts"], r["lastError"]) for r in rows] == [("dead", 1, "HTTP 500")] * 2

    forbidden = gql(url, read, "mutation { replayCancellationWebhooks(all: true) }")
    assert forbidden["data"] is None and forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = gql(url, admin, "mutation { replayCancellationWebhooks }")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    engine = outbox.open_outbox(h.runtime.settings.database)
    assert outbox.counts(engine)["dead"] == 2  # neither changed anything

    done = gql(url, admin, f"mutation {{ replayCancellationWebhooks(ids: [{rows[1]['id']}]) }}")
    assert done["data"] == {"replayCancellationWebhooks": 1} and "errors" not in done
    assert gql(url, admin, "mutation { replayCancellationWebhooks(all: true) }")["data"] == {
        "replayCancellationWebhooks": 1}

    own = webhook_settings(h.runtime.settings)
    assert one_pass(engine, h.runtime.storage, Sender(own), own).delivered == 2
    assert sorted(r.body["deliveryId"] for r in receiver.received[2:]) == sorted(r["id"] for r in rows)
    assert gql(url, read, "{ cancellationWebhookDeadLetters { id } }")["data"] == {
        "cancellationWebhookDeadLetters": []}
