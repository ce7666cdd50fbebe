"""The assembled gateway: settings, plugin manager, storage and registries, built once per process.

The API server, each RQ worker job, the CLI and each test build their own ``Runtime``; nothing
is global.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from collections.abc import Callable, Sequence
from typing import Any

import pluggy

from .errors import ConfigurationError, PluginError
from .jobkinds import JobKind
from .models import CanceledLine, CanceledOrder, Cancellation, Job, JobRun, Shop
from .plugin_settings import validate_plugin_settings
from .plugins import collect, hook_log, make_plugin_manager
from .settings import Settings
from .sources import Source, SourceFactory
from .storage import Storage, StorageBackend
from .token_cipher import TokenCipher

log = logging.getLogger("sync_gateway")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a process needs; build it with :meth:`build`."""

    settings: Settings
    pm: pluggy.PluginManager
    storage: Storage
    sources: dict[str, SourceFactory]
    job_kinds: dict[str, JobKind]
    webhook_receivers: dict[str, Any] = field(default_factory=dict)
    """By source name: :class:`core.webhooks.WebhookReceiver`."""
    source_options: dict[str, Any] = field(default_factory=dict)
    """Source options by shop name (``"*"`` for all): tests and the demo pass an in-process transport."""
    clock: Callable[[], datetime] = utcnow
    """Where "now" comes from; tests inject the simulator's clock."""

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        pm: pluggy.PluginManager | None = None,
        source_options: dict[str, Any] | None = None,
        upgrade: bool = True,
        clock: Callable[[], datetime] = utcnow,
    ) -> Runtime:
        """Build the plugin manager (unless given), open the storage and index the registries."""
        if pm is None:
            pm = make_plugin_manager(allow=settings.load_plugins, trace=settings.trace_plugins)
        validate_plugin_settings(pm, settings)  # a bad [plugins.<name>] value stops start-up here
        storage = open_storage(pm, settings.database, cipher=TokenCipher.from_settings(settings))
        if upgrade:
            storage.upgrade()
        return cls(
            settings=settings,
            pm=pm,
            storage=storage,
            sources=_unique(collect(pm, "register_sources"), "source"),
            job_kinds=_unique(collect(pm, "register_job_kinds"), "job kind"),
            webhook_receivers={r.source: r for r in _unique_by(collect(pm, "register_webhook_receivers"),
                                                                "source", "webhook receiver")},
            source_options=dict(source_options or {}),
            clock=clock,
        )

    def now(self) -> datetime:
        return self.clock()

    def source_for(self, shop: Shop, *, backfill: bool = False) -> Source:
        """Build the source for ``shop`` from its factory and the stored credentials.

        ``backfill``: the source will read a long past window (see :class:`SourceFactory`)."""
        factory = self.sources.get(shop.source)
        if factory is None:
            raise ConfigurationError(
                f"shop {shop.name!r} uses source {shop.source!r}, which no loaded plugin provides",
                suggestion=f"installed sources: {', '.join(sorted(self.sources)) or 'none'}",
            )
        with self.storage.transaction() as tx:
            credentials = tx.shop_credentials(shop.id)
        options = dict(self.source_options.get(shop.name, self.source_options.get("*", {})))
        options.setdefault("now", self.clock)
        if backfill:
            options["backfill"] = True
        return factory.create(shop=shop, credentials=credentials, settings=self.settings, **options)

    def job_kind(self, name: str) -> JobKind:
        try:
            return self.job_kinds[name]
        except KeyError:
            raise ConfigurationError(
                f"unknown job kind {name!r}", suggestion=f"known kinds: {', '.join(sorted(self.job_kinds))}"
            ) from None

    # notifications: a failing listener is logged, never fails the run -------------------------

    def notify_items_canceled(self, shop: Shop, run: JobRun | None, cancellations: Sequence[Cancellation],
                              lines: Sequence[CanceledLine]) -> None:
        if cancellations:
            self._notify("on_items_canceled", shop=shop, run=run, cancellations=tuple(cancellations),
                         lines=tuple(lines))

    def notify_orders_canceled(self, shop: Shop, run: JobRun | None, order_ids: Sequence[str],
                               orders: Sequence[CanceledOrder]) -> None:
        if order_ids:
            self._notify("on_orders_canceled", shop=shop, run=run, order_ids=tuple(order_ids), orders=tuple(orders))

    def notify_run_finished(self, shop: Shop, job: Job, run: JobRun) -> None:
        self._notify("on_run_finished", shop=shop, job=job, run=run)

    def _notify(self, hook: str, **kwargs: Any) -> None:
        """Call every listener on its own, so one plugin's bug neither fails the run nor
        silences the plugins after it (pluggy stops a call at the first exception)."""
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if self.settings.trace_plugins:  # called one by one, so pluggy's own trace misses them
                hook_log.debug("hook: %s [%s] %s", hook, impl.plugin_name,
                               {name: _brief(kwargs[name]) for name in impl.argnames})
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception:
                log.exception("plugin %r failed in %s; the run goes on", impl.plugin_name, hook)

    def close(self) -> None:
        self.storage.dispose()


def _brief(value: Any) -> str:
    """A hook argument in a trace line: a record by its id, a batch by its size."""
    if isinstance(value, (tuple, list)):
        return f"{len(value)} item(s)"
    ident = getattr(value, "id", None)
    return f"{type(value).__name__}#{ident}" if ident is not None else type(value).__name__


def open_storage(pm: pluggy.PluginManager, url: str, *, cipher: TokenCipher | None = None) -> Storage:
    """Open ``url`` with the first registered backend that serves its scheme; ``cipher``
    encrypts the shop access tokens it stores (none: storing a token is refused)."""
    scheme = url.split("://", 1)[0]
    backends: list[StorageBackend] = collect(pm, "register_storages")
    for backend in backends:
        if scheme in backend.schemes:
            return backend.open(url, cipher=cipher)
    known = sorted({s for b in backends for s in b.schemes})
    raise ConfigurationError(
        f"no storage plugin serves database URLs of scheme {scheme!r}",
        suggestion=f"known schemes: {', '.join(known) or 'none (is the storage plugin installed?)'}",
    )


def _unique(items: list[Any], what: str) -> dict[str, Any]:
    return {getattr(item, "name"): item for item in _unique_by(items, "name", what)}


def _unique_by(items: list[Any], key: str, what: str) -> list[Any]:
    seen: set[str] = set()
    for item in items:
        value = getattr(item, key)
        if value in seen:
            raise PluginError(f"two plugins register the {what} {value!r}")
        seen.add(value)
    return items
