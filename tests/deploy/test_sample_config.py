"""The sample configuration (docs/deploy/sync-gateway.toml) names every setting, explains each,
and loads to exactly the defaults; its commented-out examples are valid too. A setting added to
``Settings`` without a line here fails the test, so the sample cannot drift."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from core.settings import Settings

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "sync-gateway.toml"
SETTING_LINE = re.compile(r"^(?P<off># )?(?P<name>[a-z_]+) = ")


def _settings_in_sample() -> dict[str, bool]:
    """Each setting line's name, and whether it is set (True) or commented out (False)."""
    found: dict[str, bool] = {}
    for line in SAMPLE.read_text().splitlines():
        match = SETTING_LINE.match(line)
        if match:
            assert match["name"] not in found, f"{match['name']} appears twice"
            found[match["name"]] = match["off"] is None
    return found


def _defaults() -> Settings:
    return Settings()  # the tests run in an empty directory with no SYNC_GATEWAY_* variables


def test_the_sample_names_every_setting() -> None:
    assert set(_settings_in_sample()) == set(Settings.model_fields)


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
    assert Settings().model_dump() == defaults.model_dump()


def test_the_commented_out_examples_are_valid_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    uncommented = "\n".join(line[2:] if SETTING_LINE.match(line) and line.startswith("# ") else line
                            for line in SAMPLE.read_text().splitlines())
    example = tmp_path / "example.toml"
    example.write_text(uncommented)
    monkeypatch.setenv("SYNC_GATEWAY_CONFIG", str(example))
    settings = Settings()
    assert settings.redis_url == "redis://redis.internal:6379/0"
    assert settings.metrics_port == 9101
    assert settings.shopify_webhook_secret is not None


def test_the_environment_wins_over_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the sample's header says, and as the systemd units rely on (METRICS_PORT per worker)."""
    monkeypatch.setenv("SYNC_GATEWAY_CONFIG", str(SAMPLE))
    monkeypatch.setenv("SYNC_GATEWAY_PAGE_SIZE", "250")
    assert Settings().page_size == 250
