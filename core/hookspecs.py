"""Every hook of the gateway, by stage. Plugins implement them with ``@core.hookimpl``.

Hooks run at start-up or once per run or page, never once per record. Always call them with
keyword arguments. Naming: ``register_<plural>`` returns a list contribution (every plugin's
lists are concatenated), except ``register_commands``, which is handed the CLI to add to (as
datasette's is); ``on_<event>`` is a notification whose return value is ignored.
A meta-test checks that each hook below is documented in ``docs/plugin_hooks.md`` and tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .extensions import GraphQLExtension, GraphQLPermissions, SettingsSection
    from .jobkinds import JobKind
    from .models import CanceledLine, CanceledOrder, Cancellation, Job, JobRun, Shop
    from .runtime import Runtime
    from .sources import SourceFactory
    from .storage import StorageBackend
    from .webhooks import WebhookReceiver

PROJECT = "sync_gateway"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class GatewaySpec:
    """The hook specifications (methods, so pluggy 1.7 sees them as specs)."""

    # --- start-up: registration -------------------------------------------------------------

    @hookspec
    def register_sources(self) -> Sequence[SourceFactory]:
        """Contribute source factories (one per upstream platform).

        Called once when the plugin manager's registry is first read (app, worker, CLI start-up).
        Returns: a list of :class:`core.SourceFactory`; each ``name`` must be unique across
        plugins and is what ``Shop.source`` refers to (the built-in one is ``"shopify"``).
        """

    @hookspec
    def register_storages(self) -> Sequence[StorageBackend]:
        """Contribute storage backends.

        Called once at start-up, before the first storage is opened.
        Returns: a list of :class:`core.StorageBackend`; the first backend (in pluggy call
        order, so ``tryfirst`` plugins win) whose ``schemes`` contain the database URL's scheme
        opens the store. The built-in backend serves ``sqlite`` and ``postgresql`` URLs.
        """

    @hookspec
    def register_job_kinds(self) -> Sequence[JobKind]:
        """Contribute kinds of scheduled job.

        Called once at start-up. Returns: a list of :class:`core.JobKind`; each ``name`` must
        be unique. A job of every registered kind with ``create_per_shop=True`` is created for
        each shop when the shop is added. The built-in kind is ``"canceled-items"``. A kind's
        ``run`` gets a :class:`core.RunContext` (the run's records and capabilities: open the
        shop's source, store a page, report progress, check the lease).
        """

    @hookspec
    def register_webhook_receivers(self) -> Sequence[WebhookReceiver]:
        """Contribute webhook receivers, the fast path beside scheduled polling.

        Called once at start-up. Returns: a list of :class:`core.WebhookReceiver`; each serves
        the deliveries posted to ``/webhooks/<source>`` for shops of that ``source`` and must
        be unique per source. The built-in one verifies Shopify's HMAC-signed order webhooks.
        """

    @hookspec
    def register_settings(self) -> Sequence[SettingsSection]:
        """Declare the plugin's own settings: a section name and the pydantic model of its keys.

        Called once at start-up, when a ``Runtime`` is built (and by ``sync-gateway plugins``).
        Returns: a list of :class:`core.SettingsSection`; each ``name`` must be unique. The section
        is read from ``[plugins.<name>]`` in the TOML file and from ``SYNC_GATEWAY_<NAME>__<KEY>``
        environment variables (which win), and validated then: an invalid value stops start-up
        with an error naming the plugin and the key. The plugin reads the validated object with
        ``settings.plugin_settings(name, Model)`` from the ``Settings`` it is handed.
        """

    # --- start-up: extending the API and the CLI ----------------------------------------------

    @hookspec
    def register_graphql(self, permissions: GraphQLPermissions) -> Sequence[GraphQLExtension]:
        """Contribute GraphQL types and root fields (queries, mutations, subscriptions).

        Called once per API app, when its schema is built. ``permissions`` carries the API's
        permission classes (``read``: any token; ``admin``: an admin token); every root field
        must list one in ``permission_classes``, or the schema is refused. Resolvers reach the
        runtime as ``info.context.runtime``. Returns: a list of :class:`core.GraphQLExtension`
        holding strawberry classes; a field name already taken is a :class:`core.PluginError`.
        """

    @hookspec
    def register_commands(self, cli: object) -> None:
        """Add commands to the ``sync-gateway`` command line.

        Called once per CLI process, before the command line is parsed. ``cli`` is the root
        ``typer.Typer`` app: add with ``cli.command()(function)`` or ``cli.add_typer(group,
        name=...)``. A command builds what it needs from ``core.Settings()`` itself, as the
        built-in ones do. Return value ignored; a name already taken is a :class:`core.PluginError`.
        """

    @hookspec
    def register_routes(self, runtime: Runtime) -> Sequence[object]:
        """Contribute HTTP routes to the API app.

        Called once per API app, when it is built, with the app's runtime. Returns: a list of
        starlette routes (``Route``, ``WebSocketRoute``, ``Mount``: any ASGI app mounts). They
        are public: check the request yourself. A path the gateway serves (``/graphql``,
        ``/webhooks/...``, ``/healthz``, ``/readyz``, ``/metrics``, ``/``) is refused.
        """

    # --- sync run: notifications --------------------------------------------------------------

    @hookspec
    def on_run_started(self, shop: Shop, job: Job, run: JobRun) -> None:
        """A run took its job's lease and is about to read its window.

        Called once per run, in the worker, with the run in status RUNNING and its window set.
        Return value ignored. An exception here fails the run before anything is read.
        """

    @hookspec
    def on_items_canceled(self, shop: Shop, run: JobRun | None, cancellations: Sequence[Cancellation],
                          lines: Sequence[CanceledLine]) -> None:
        """Units of order items were newly marked canceled.

        Called once per stored page that canceled anything, after the page's transaction
        committed, with that page's new changes only (a re-run of a window finds nothing new,
        so it is not called). ``lines``: one :class:`core.CanceledLine` per change, in business
        keys (shop name, order GID and name, line GID, SKU, title, units newly canceled and in
        total, reason, evidence, canceled-at); ``cancellations``: the same changes as the
        store's history rows (:class:`core.Cancellation`, by internal ids). Take the arguments
        you need. ``run`` is None for webhook-triggered updates. Return value ignored;
        exceptions are logged and do not fail the run.
        """

    @hookspec
    def on_orders_canceled(self, shop: Shop, run: JobRun | None, order_ids: Sequence[str],
                           orders: Sequence[CanceledOrder]) -> None:
        """Whole orders were newly recorded as canceled.

        Called once per stored page that canceled at least one whole order, after commit.
        ``orders``: one :class:`core.CanceledOrder` each (shop name, order GID and name, cancel
        reason, canceled-at); ``order_ids``: their platform ids (for Shopify, order GIDs).
        ``run`` is None for webhook-triggered updates. Return value ignored; exceptions are
        logged and do not fail the run.
        """

    @hookspec
    def on_run_finished(self, shop: Shop, job: Job, run: JobRun) -> None:
        """A run ended: SUCCEEDED (watermark advanced), FAILED or LOST (watermark untouched) or SKIPPED.

        Called once per run, after its final status and counts are stored. Return value
        ignored; exceptions are logged.
        """
