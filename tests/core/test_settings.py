"""Settings come from SYNC_GATEWAY_* variables (Redis also from REDIS_URL) and an optional TOML
file; the environment wins over the file; bad values are refused with the setting's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core import Settings


def test_defaults_follow_hotwax_and_the_embedded_setup() -> None:
    settings = Settings()
    assert settings.page_size == 100
    assert settings.window_settle_seconds == 300 and settings.window_overlap_seconds == 60
    assert settings.first_run_lookback_hours == 24
    assert settings.default_every_seconds == 3600
    assert settings.redis_url is None  # embedded queue
    assert settings.database == "sqlite:///.sync-gateway/sync-gateway.db"


def test_environment_variables_and_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_PAGE_SIZE", "250")
    monkeypatch.setenv("SYNC_GATEWAY_DATABASE_URL", "postgresql://gw@db/gateway")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    settings = Settings()
    assert (settings.page_size, settings.database, settings.redis_url) == (
        250, "postgresql://gw@db/gateway", "redis://cache:6379/0")


def test_a_toml_file_with_the_environment_winning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('page_size = 50\nwindow_settle_seconds = 120\ncors_origins = ["https://ops.example"]\n')
    monkeypatch.setenv("SYNC_GATEWAY_CONFIG", str(config))
    monkeypatch.setenv("SYNC_GATEWAY_PAGE_SIZE", "200")
    settings = Settings()
    assert settings.page_size == 200  # environment over file
    assert settings.window_settle_seconds == 120
    assert settings.cors_origins == ["https://ops.example"]


def test_sync_gateway_toml_in_the_working_directory_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sync-gateway.toml").write_text("first_run_lookback_hours = 72\n")
    assert Settings().first_run_lookback_hours == 72


@pytest.mark.parametrize(("name", "value"), [("PAGE_SIZE", "251"), ("PAGE_SIZE", "0"), ("QUEUE_NAME", "a:b"),
                                             ("WINDOW_SETTLE_SECONDS", "-1")])
def test_bad_values_are_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"SYNC_GATEWAY_{name}", value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()


def test_secrets_do_not_show_in_public_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_GATEWAY_DATABASE_URL", "postgresql://gw:hunter2@db/gateway")
    monkeypatch.setenv("SYNC_GATEWAY_SHOPIFY__WEBHOOK_SECRET", "whsec-very-secret")
    shown = str(Settings().public_dict()) + repr(Settings())
    assert "hunter2" not in shown and "whsec-very-secret" not in shown
