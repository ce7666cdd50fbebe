"""Opening the gateway's store from a CLI command, with core's public API only.

``register_commands`` hands a command the Typer app and nothing else ("build what you need from
``core.Settings()``"), but core's public API has no way to open the configured storage: that is
``core.runtime``, which plugins may not import. So this does what the plugin manager does, in
small: load the ``sync_gateway`` entry points (honouring ``load_plugins``), ask each for its
``register_storages()`` and open the URL with the first backend serving its scheme. The API
half needs none of this: ``register_routes`` and GraphQL resolvers get the runtime's storage.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from core import ConfigurationError, Settings, Storage, StorageBackend


def open_gateway_store(settings: Settings) -> Storage:
    url = settings.database
    scheme = url.split("://", 1)[0]
    for point in entry_points(group="sync_gateway"):
        if settings.load_plugins is not None and point.name not in settings.load_plugins:
            continue
        register = getattr(point.load(), "register_storages", None)
        backends: list[StorageBackend] = list(register()) if callable(register) else []
        for backend in backends:
            if scheme in backend.schemes:
                return backend.open(url)  # no cipher: the feed holds no shop tokens
    raise ConfigurationError(f"no storage plugin serves database URLs of scheme {scheme!r}")
