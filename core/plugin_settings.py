"""Plugins' own settings: ``[plugins.<name>]`` tables and ``SYNC_GATEWAY_<NAME>__<KEY>`` variables.

Each plugin declares a section through the ``register_settings`` hook (a name and a pydantic
model). :class:`core.settings.Settings` keeps the raw tables in ``Settings.plugins`` (the TOML
file's ``[plugins.*]``, keyword arguments, and the environment's ``SYNC_GATEWAY_<NAME>__<KEY>``
folded in by :class:`PluginEnvSource`, in the same precedence as every other setting); this
module validates them against the declared models when a runtime is built, so a bad value stops
start-up with one line naming the plugin and the key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pydantic
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

from .errors import InvalidPluginSetting, PluginError
from .extensions import SettingsSection

if TYPE_CHECKING:
    import pluggy

    from .settings import Settings

ENV_PREFIX = "SYNC_GATEWAY_"
NESTED = "__"
log = logging.getLogger("sync_gateway.settings")

M = TypeVar("M", bound=BaseModel)


def env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}{NESTED}{key.upper()}"


class PluginEnvSource(PydanticBaseSettingsSource):
    """``SYNC_GATEWAY_<NAME>__<KEY>=value`` as ``{"plugins": {"<name>": {"<key>": "value"}}}``.

    Names are lower-cased as the TOML keys are written. Values stay strings: the plugin's model
    converts them (``"30"`` to a float, ``"true"`` to a bool), as pydantic-settings does."""

    def __init__(self, settings_cls: type[Any], environ: Mapping[str, str] | None = None) -> None:
        super().__init__(settings_cls)
        self.environ = os.environ if environ is None else environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ builds the one field itself

    def __call__(self) -> dict[str, Any]:
        sections: dict[str, dict[str, str]] = {}
        for name, value in self.environ.items():
            upper = name.upper()
            if not upper.startswith(ENV_PREFIX) or NESTED not in upper[len(ENV_PREFIX):]:
                continue
            section, key = upper[len(ENV_PREFIX):].split(NESTED, 1)
            if section and key:
                sections.setdefault(section.lower(), {})[key.lower()] = value
        return {"plugins": sections} if sections else {}


def declared_sections(pm: pluggy.PluginManager) -> list[SettingsSection]:
    """Every plugin's section, each name once (a second declaration of a name is a PluginError)."""
    seen: dict[str, SettingsSection] = {}
    for impl in reversed(pm.hook.register_settings.get_hookimpls()):
        contributed = cast("Sequence[object]", impl.function() or ())
        for section in contributed:
            if not isinstance(section, SettingsSection):
                raise PluginError(f"plugin {impl.plugin_name!r}: register_settings must return "
                                  f"core.SettingsSection objects, got {section!r}")
            if section.name in seen:
                raise PluginError(f"settings section [plugins.{section.name}] is declared twice "
                                  f"(again by plugin {impl.plugin_name!r})")
            seen[section.name] = section
    return list(seen.values())


def validate_plugin_settings(pm: pluggy.PluginManager, settings: Settings) -> dict[str, BaseModel]:
    """Validate every declared section now (start-up), caching each on ``settings``.

    Raises :class:`core.errors.InvalidPluginSetting` for the first section with a bad value. A
    ``[plugins.<name>]`` table no loaded plugin declares is logged as a warning (the plugin may be
    left out by ``LOAD_PLUGINS`` on this process), not refused."""
    sections = declared_sections(pm)
    values = {section.name: settings.plugin_settings(section.name, section.model) for section in sections}
    for name in sorted(set(settings.plugins) - set(values)):
        log.warning("settings for [plugins.%s] are ignored: no loaded plugin declares that section", name)
    return values


def parse_section(name: str, model: type[M], raw: Mapping[str, Any]) -> M:
    """``raw`` validated by ``model``, or an error naming the plugin's section, the key and both spellings."""
    try:
        return model.model_validate(dict(raw))
    except pydantic.ValidationError as exc:
        raise InvalidPluginSetting(_describe(name, model, exc)) from None  # the chained error quotes inputs


def _describe(name: str, model: type[BaseModel], exc: pydantic.ValidationError) -> str:
    parts = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error.get("loc", ())) or "?"
        field = model.model_fields.get(key.split(".")[0])
        secret = field is not None and _is_secret(field)
        given = error.get("input")
        shown = (f" (got {given!r})" if not secret and isinstance(given, (str, int, float))
                 and len(str(given)) <= 80 else "")
        parts.append(f"[plugins.{name}] {key} (or {env_name(name, key)}): {error.get('msg', 'invalid')}{shown}")
    return "invalid setting " + "; ".join(parts)


def _is_secret(field: FieldInfo) -> bool:
    return "SecretStr" in repr(field.annotation) or "SecretBytes" in repr(field.annotation)


@dataclass(frozen=True, slots=True)
class SettingRow:
    """One key of a plugin's section as ``sync-gateway plugins`` lists it (secrets masked)."""

    key: str
    default: Any
    value: Any
    description: str | None


def describe_section(section: SettingsSection, current: BaseModel | None) -> list[SettingRow]:
    rows = []
    for key, field in section.model.model_fields.items():
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        value = getattr(current, key) if current is not None else default
        rows.append(SettingRow(key=key, default=_shown(default), value=_shown(value),
                               description=field.description))
    return rows


def _shown(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "**********" if value.get_secret_value() else ""
    return pydantic.TypeAdapter(Any).dump_python(value, mode="json")
