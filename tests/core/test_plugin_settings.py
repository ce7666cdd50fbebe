"""Each plugin's own settings: declared by a model through ``register_settings``, read from
``[plugins.<name>]`` in the TOML file and ``SYNC_GATEWAY_<NAME>__<KEY>`` variables (which win),
validated when a runtime is built, with errors naming the plugin and the key; the Shopify
plugin's old top-level names still work for one release, with a deprecation warning."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from core import InvalidPluginSetting, PluginError, Settings, SettingsSection, hookimpl
from core.plugin_settings import validate_plugin_settings
from core.plugins import make_plugin_manager
from core.runtime import Runtime
from plugins.shopify.settings import ShopifySettings, shopify_settings


class OutboxSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str = "https://hooks.example/cancellations"
    attempts: int = Field(default=5, ge=1)
    signing_key: SecretStr = Field(default=SecretStr(""), min_length=0)
    token: SecretStr | None = Field(default=None, min_length=12)


class Outbox:
    @hookimpl
    def register_settings(self) -> Sequence[SettingsSection]:
        return [SettingsSection(name="outbox", model=OutboxSettings)]


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    monkeypatch.setenv("SYNC_GATEWAY_CONFIG", str(path))


def _validated(settings: Settings) -> dict[str, BaseModel]:
    return validate_plugin_settings(make_plugin_manager(extra=[Outbox()]), settings)


def test_a_plugin_section_is_read_from_its_toml_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, monkeypatch, 'page_size = 50\n[plugins.outbox]\nendpoint = "https://wh.test/x"\nattempts = 9\n')
    settings = Settings()
    outbox = settings.plugin_settings("outbox", OutboxSettings)
    assert (outbox.endpoint, outbox.attempts) == ("https://wh.test/x", 9)
    assert settings.page_size == 50  # core's own keys are read as before
    assert _validated(settings)["outbox"] == outbox


def test_the_environment_wins_over_the_table_key_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, monkeypatch, '[plugins.outbox]\nendpoint = "https://wh.test/x"\nattempts = 9\n')
    monkeypatch.setenv("SYNC_GATEWAY_OUTBOX__ATTEMPTS", "3")
    outbox = Settings().plugin_settings("outbox", OutboxSettings)
    assert (outbox.endpoint, outbox.attempts) == ("https://wh.test/x", 3)


def test_keyword_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_OUTBOX__ATTEMPTS", "3")
    settings = Settings(plugins={"outbox": {"attempts": 7}})
    assert settings.plugin_settings("outbox", OutboxSettings).attempts == 7


def test_an_absent_section_gives_the_models_defaults() -> None:
    assert Settings().plugin_settings("outbox", OutboxSettings) == OutboxSettings()


def test_a_bad_value_stops_start_up_naming_the_plugin_the_key_and_the_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_OUTBOX__ATTEMPTS", "0")
    with pytest.raises(InvalidPluginSetting) as caught:
        Runtime.build(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'g.db'}"),
                      pm=make_plugin_manager(extra=[Outbox()]))
    message = str(caught.value)
    assert "[plugins.outbox] attempts" in message and "SYNC_GATEWAY_OUTBOX__ATTEMPTS" in message
    assert "greater than or equal to 1" in message and "'0'" in message
    assert not (tmp_path / "g.db").exists()  # refused before the store was opened


def test_an_unknown_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, monkeypatch, '[plugins.outbox]\nendpoit = "https://wh.test/x"\n')
    with pytest.raises(InvalidPluginSetting, match=r"\[plugins.outbox\] endpoit .*Extra inputs"):
        _validated(Settings())


def test_a_refused_secret_is_never_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_OUTBOX__TOKEN", "tiny-secret")
    with pytest.raises(InvalidPluginSetting, match=r"\[plugins.outbox\] token") as caught:
        _validated(Settings())
    assert "tiny-secret" not in str(caught.value) and caught.value.__cause__ is None


def test_a_table_no_loaded_plugin_declares_is_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    _config(tmp_path, monkeypatch, '[plugins.outbx]\nendpoint = "x"\n')
    with caplog.at_level(logging.WARNING, logger="sync_gateway.settings"):
        _validated(Settings())
    assert "[plugins.outbx]" in caplog.text and "no loaded plugin declares" in caplog.text


def test_two_plugins_declaring_one_section_is_a_plugin_error() -> None:
    with pytest.raises(PluginError, match=r"\[plugins.outbox\] is declared twice"):
        validate_plugin_settings(make_plugin_manager(extra=[Outbox(), Outbox()]), Settings())


def test_a_section_name_must_fit_a_toml_key_and_a_variable_name() -> None:
    with pytest.raises(PluginError, match="lower-case"):
        SettingsSection(name="Out-Box", model=OutboxSettings)


# --- the Shopify plugin's settings moved out of core ------------------------------------------


def test_shopify_settings_come_from_its_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_SHOPIFY__MAX_ATTEMPTS", "9")
    monkeypatch.setenv("SYNC_GATEWAY_SHOPIFY__WEBHOOK_SECRET", "whsec")
    own = shopify_settings(Settings())
    assert own.max_attempts == 9 and own.webhook_secret == SecretStr("whsec")
    assert own.http_timeout_seconds == ShopifySettings().http_timeout_seconds


@pytest.mark.parametrize(("old", "key", "value", "expected"), [
    ("SHOPIFY_API_VERSION", "api_version", "2026-04", "2026-04"),
    ("HTTP_TIMEOUT_SECONDS", "http_timeout_seconds", "12.5", 12.5),
    ("MAX_ATTEMPTS", "max_attempts", "9", 9),
    ("THROTTLE_MAX_WAIT_SECONDS", "throttle_max_wait_seconds", "60", 60.0),
    ("BULK_THRESHOLD_ORDERS", "bulk_threshold_orders", "700", 700),
    ("SHOPIFY_SLICES_IN_FLIGHT", "slices_in_flight", "2", 2),
    ("SHOPIFY_WEBHOOK_SECRET", "webhook_secret", "whsec-old", SecretStr("whsec-old")),
])
def test_the_old_names_still_work_for_one_release_with_a_deprecation_warning(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        old: str, key: str, value: str, expected: object) -> None:
    monkeypatch.setenv(f"SYNC_GATEWAY_{old}", value)
    with pytest.warns(DeprecationWarning, match=rf"{old.lower()} .*deprecated.*\[plugins.shopify\] {key}"):
        settings = Settings()
    assert getattr(shopify_settings(settings), key) == expected
    assert f"SYNC_GATEWAY_SHOPIFY__{key.upper()}" in caplog.text  # logged too, for a service's journal


def test_an_old_name_in_the_toml_file_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, monkeypatch, "max_attempts = 4\n")
    with pytest.warns(DeprecationWarning, match="max_attempts"):
        assert shopify_settings(Settings()).max_attempts == 4


def test_the_new_name_wins_over_the_old_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("SYNC_GATEWAY_SHOPIFY__MAX_ATTEMPTS", "8")
    with pytest.warns(DeprecationWarning):
        assert shopify_settings(Settings()).max_attempts == 8


def test_an_old_name_with_a_bad_value_is_refused_under_its_new_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_BULK_THRESHOLD_ORDERS", "0")
    with pytest.warns(DeprecationWarning), pytest.raises(InvalidPluginSetting, match=r"\[plugins.shopify\] bulk_threshold_orders"):
        shopify_settings(Settings())


def test_no_warning_when_only_new_names_are_used(monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_SHOPIFY__MAX_ATTEMPTS", "8")
    Settings()
    assert [w for w in recwarn if issubclass(w.category, DeprecationWarning)] == []
