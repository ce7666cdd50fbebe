"""Serving an ASGI app on a real local socket for a test (uvicorn in a thread)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Yield the base URL of ``app`` served by uvicorn on 127.0.0.1; stop it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def seeded_shop(domain: str, token: str, *, plan: str, orders: int, seed: int, hours: float) -> Any:
    """A simulated shop on real time whose ``orders`` were updated over the last ``hours``,
    settled (the newest ten minutes ago), for tests that serve it to other processes."""
    from datetime import timedelta

    from plugins.shopify.simulator import ShopSimulator

    shop = ShopSimulator(shop_domain=domain, access_token=token, plan=plan)
    now = shop.clock.now()
    shop.seed(orders, seed=seed, start=now - timedelta(hours=hours), end=now - timedelta(minutes=10))
    return shop
