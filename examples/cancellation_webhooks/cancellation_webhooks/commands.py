"""``sync-gateway cancellation-webhooks ...``: the deliverer and its dead letters."""

from __future__ import annotations

import time

import typer

from core import Settings, ValidationError

from . import outbox
from .delivery import Sender, one_pass
from .gateway_store import open_gateway_store
from .outbox import Status
from .settings import outbox_url, webhook_settings

group = typer.Typer(help="Deliver cancellations to an HTTPS endpoint (example plugin).", no_args_is_help=True)


@group.command()
def run(once: bool = typer.Option(False, "--once", help="One pass, then exit.")) -> None:
    """Follow the cancellation feed and deliver each row, until stopped (one process only)."""
    settings = Settings()
    own = webhook_settings(settings)
    sender = Sender(own)  # refuses to start without an endpoint and a secret
    engine = outbox.open_outbox(outbox_url(settings))
    store = open_gateway_store(settings)
    try:
        while True:
            report = one_pass(engine, store, sender, own)
            if report.ingested or report.delivered or report.retried or report.dead:
                print(f"ingested {report.ingested}, delivered {report.delivered}, retried {report.retried}, "
                      f"dead {report.dead}", flush=True)
            if once:
                return
            if not report.full:  # after a full batch more may be waiting: go on at once
                time.sleep(own.poll_seconds)
    finally:
        sender.close()
        store.dispose()
        engine.dispose()


@group.command()
def status() -> None:
    """How many deliveries are pending, delivered and dead."""
    engine = outbox.open_outbox(outbox_url(Settings()))
    try:
        print(", ".join(f"{name} {count}" for name, count in outbox.counts(engine).items()))
    finally:
        engine.dispose()


@group.command()
def dead() -> None:
    """List the dead letters: delivery id, cancellation id, attempts, last error."""
    engine = outbox.open_outbox(outbox_url(Settings()))
    try:
        for row in outbox.listing(engine, status=Status.DEAD, limit=1000):
            print(f"{row.id}\tcancellation {row.cancellation_id}\t{row.attempts} attempts\t{row.last_error}")
    finally:
        engine.dispose()


@group.command()
def replay(delivery_ids: list[int] = typer.Argument(None, metavar="[DELIVERY_ID]..."),
           all_dead: bool = typer.Option(False, "--all", help="Every dead letter.")) -> None:
    """Send dead letters again (attempts counted afresh); `run` delivers them."""
    if bool(delivery_ids) == all_dead:
        raise ValidationError("name delivery ids or --all (not both)", field="delivery_ids")
    engine = outbox.open_outbox(outbox_url(Settings()))
    try:
        print(f"replayed {outbox.replay(engine, None if all_dead else delivery_ids)}")
    finally:
        engine.dispose()
