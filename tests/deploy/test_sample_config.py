"""The sample configuration (docs/deploy/sync-gateway.toml) names every setting, explains each,
and loads to exactly the defaults; its commented-out examples are valid too. A setting added to
``Settings`` (or to a built-in plugin's section) without a line here fails the test, so the
sample cannot drift. Settings that moved into a plugin's section are named only there."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pydantic import BaseModel

from core.settings import MOVED_TO_PLUGINS, Settings
from plugins.shopify.settings import ShopifySettings

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "sync-gateway.toml"
SETTING_LINE = re.compile(r"^(?P<off># )?(?P<name>[a-z_]+) = ")
TABLE_LINE = re.compile(r"^\[plugins\.(?P<name>[a-z_]+)\]$")
CORE = ""
"""The top level of the file, before any [plugins.<name>] table."""
SECTIONS: dict[str, type[BaseModel]] = {"shopify": ShopifySettings}
"""The built-in plugins' sections the sample documents."""


def _core_fields() -> set[str]:
    return set(Settings.model_fields) - set(MOVED_TO_PLUGINS) - {"plugins"}


def _settings_in_sample(table: str = CORE) -> dict[str, bool]:
    """Each setting line's name in ``table``, and whether it is set (True) or commented out (False)."""
    found: dict[str, bool] = {}
    current = CORE
    for line in SAMPLE.read_text().splitlines():
        if header := TABLE_LINE.match(line):
            current = header["name"]
        match = SETTING_LINE.match(line)
        if match and current == table:
            assert match["name"] not in found, f"{match['name']} appears twice"
            found[match["name"]] = match["off"] is None
    return found


def _defaults() -> Settings:
    return Settings()  # the tests run in an empty directory with no SYNC_GATEWAY_* variables


def test_the_sample_names_every_setting() -> None:
    assert set(_settings_in_sample()) == _core_fields()


def test_the_sample_names_every_key_of_the_built_in_plugins_sections_in_their_tables() -> None:
    for name, model in SECTIONS.items():
        assert set(_settings_in_sample(name)) == set(model.model_fields), name


def test_the_plugin_sections_set_their_defaults_and_comment_out_only_unset_ones() -> None:
    values = tomllib.loads(SAMPLE.read_text())["plugins"]
    for name, model in SECTIONS.items():
        defaults = model()
        for key, is_set in _settings_in_sample(name).items():
            if is_set:
                assert getattr(model(**{key: values[name][key]}), key) == getattr(defaults, key), (name, key)
            else:
                assert model.model_fields[key].default is None, f"[plugins.{name}] {key} has a default: set it"


def test_settings_moved_to_a_plugin_are_gone_from_the_top_level() -> None:
    values = tomllib.loads(SAMPLE.read_text())
    assert set(values) & set(MOVED_TO_PLUGINS) == set()


def test_each_setting_has_a_comment_above_it() -> None:
    lines = SAMPLE.read_text().splitlines()
    for number, line in enumerate(lines):
        match = SETTING_LINE.match(line)
        if match:
            above = lines[number - 1]
            assert above.startswith("# ") and not SETTING_LINE.match(above), f"{match['name']} has no comment"


def test_set_keys_are_the_defaults_and_only_unset_or_secret_ones_are_commented_out() -> None:
    values = tomllib.loads(SAMPLE.read_text())
    defaults = _defaults()
    for name, is_set in _settings_in_sample().items():
        field = Settings.model_fields[name]
        if is_set:
            assert getattr(Settings(**{name: values[name]}), name) == getattr(defaults, name), name
        else:
            assert field.default is None, f"{name} has a default ({field.default!r}): set it in the sample"


def test_loading_the_sample_gives_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = _defaults()
    monkeypatch.setenv("SYNC_GATEWAY_CONFIG", str(SAMPLE))
    loaded = Settings()
    assert loaded.model_dump(exclude={"plugins"}) == defaults.model_dump(exclude={"plugins"})
    for name, model in SECTIONS.items():  # the sections are raw tables until their models read them
        assert loaded.plugin_settings(name, model) == model(), name


def test_the_commented_out_examples_are_valid_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    uncommented = "\n".join(line[2:] if SETTING_LINE.match(line) and line.startswith("# ") else line
                            for line in SAMPLE.read_text().splitlines())
    example = tmp_path / "example.toml"
    example.write_text(uncommented)
    monkeypatch.setenv("SYNC_GATEWAY_CONFIG", str(example))
    settings = Settings()
    assert settings.redis_url == "redis://redis.internal:6379/0"
    assert settings.metrics_port == 9101
    secret = settings.plugin_settings("shopify", ShopifySettings).webhook_secret
    assert secret is not None and secret.get_secret_value() == "the app's client secret"
    assert settings.plugin_settings("shopify", ShopifySettings).bulk_threshold_orders == 5000


def test_the_environment_wins_over_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the sample's header says, and as the systemd units rely on (METRICS_PORT per worker)."""
    monkeypatch.setenv("SYNC_GATEWAY_CONFIG", str(SAMPLE))
    monkeypatch.setenv("SYNC_GATEWAY_PAGE_SIZE", "250")
    assert Settings().page_size == 250
