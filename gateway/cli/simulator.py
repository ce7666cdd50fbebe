"""``sync-gateway simulator``: the bundled Shopify simulator on a port of its own, so the steps of
"Pointing it at a real shop" can be tried end to end without a shop: ``shops add`` with its URL
and token, ``shops check``, ``run canceled-items``. It serves the Admin GraphQL API the demo and
the tests use (:mod:`plugins.shopify.simulator`), seeded with orders and their cancellations."""

from __future__ import annotations

import enum
import secrets
from datetime import timedelta

from rich.console import Console

SEEDED_HOURS = 20
"""Orders were updated over the last 20 hours, inside a new job's first window (24 h by default)."""
SETTLED_MINUTES = 10
"""The newest order is older than the settle buffer (5 minutes), so the first run reads them all."""


class Plan(str, enum.Enum):
    STANDARD = "standard"
    ADVANCED = "advanced"
    PLUS = "plus"
    ENTERPRISE = "enterprise"


def serve_simulator(*, host: str, port: int, orders: int, seed: int, plan: Plan, domain: str,
                    token: str | None, console: Console) -> None:
    """Serve the simulated shop on ``host:port`` (0: a free port) until Ctrl-C or SIGTERM."""
    import uvicorn

    from plugins.shopify.simulator import ShopSimulator

    from .demo import listen_on

    sock = listen_on(host, port)  # a busy port is one clear line, before anything is printed
    try:
        access_token = token or f"shpat_sim_{secrets.token_hex(16)}"
        sim = ShopSimulator(shop_domain=domain, access_token=access_token, plan=plan.value)
        now = sim.clock.now()
        sim.seed(orders, seed=seed, start=now - timedelta(hours=SEEDED_HOURS),
                 end=now - timedelta(minutes=SETTLED_MINUTES))
        shown_host = f"[{host}]" if ":" in host else host
        url = f"http://{shown_host}:{sock.getsockname()[1]}"
        truth = sim.truth()
        canceled = sum(truth.canceled_units.values())
        console.soft_wrap = True  # the URL and token stay copyable on one line
        server = uvicorn.Server(uvicorn.Config(sim.asgi_app, log_level="warning"))
        try:  # from the first line printed on, Ctrl-C is the normal way out
            for line in [
                f"simulated Shopify shop ({sim.plan.display_name} plan, {orders:,} orders, {canceled:,} units "
                f"canceled; seed {seed}; API versions {', '.join(sim.api_versions)})",
                f"  url     {url}",
                f"  domain  {sim.shop_domain}",
                f"  token   {access_token}",
                "  try, in another terminal:",
                f"    export SIM_SHOP_TOKEN={access_token}",
                f"    sync-gateway shops add sim --url {url} --token-env SIM_SHOP_TOKEN",
                "    sync-gateway shops check sim && sync-gateway run canceled-items --shop sim",
                "Ctrl-C to stop",
            ]:
                console.print(line, highlight=False, markup=False)
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C it handled, too
        console.print(f"stopped; served {sim.stats.requests:,} requests", highlight=False)
    finally:
        sock.close()
