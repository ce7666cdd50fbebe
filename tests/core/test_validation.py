"""core.validation, the checks GraphQL and the CLI share, as pure functions on fixed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from core import ValidationError
from core import validation as v
from core.schedules import validate_schedule

TODAY = date(2026, 12, 8)
NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("given", "stored"), [
    ("acme", "https://acme.myshopify.com"),
    ("Acme.MyShopify.com/", "https://acme.myshopify.com"),
    ("shop.example.com", "https://shop.example.com"),
    ("https://acme.myshopify.com/", "https://acme.myshopify.com"),
    ("http://127.0.0.1:8081/proxy", "http://127.0.0.1:8081/proxy"),
    ("http://[::1]:8081", "http://[::1]:8081"),
])
def test_shop_urls_are_normalised(given: str, stored: str) -> None:
    assert v.shop_url(given) == stored


@pytest.mark.parametrize("given", [
    "", "javascript:alert(1)", "not a url at all", "acme\x00", "https://acme.myshopify.com\r\nX: y",
    "ftp://acme.myshopify.com", "https://", "https://:80", "https://acme.myshopify.com:99999",
    "https://u:p@acme.myshopify.com", "https://acme.myshopify.com/?a=1", "https://acme.myshopify.com/#x",
    "-acme-.myshopify.com", "a..b", "https://" + "a" * 1024 * 1024, "acme\u202e.myshopify.com",
    "https://<script>.myshopify.com", "https://acme.myshopify.com\u200b", "https://a b.com",
])
def test_bad_shop_urls_are_refused(given: str) -> None:
    with pytest.raises(ValidationError) as refused:
        v.shop_url(given)
    assert refused.value.field == "url" and len(str(refused.value)) < 400


def test_a_refused_url_never_quotes_its_credentials() -> None:
    with pytest.raises(ValidationError) as refused:
        v.shop_url("https://admin:hunter2@acme.myshopify.com:99999/?q")
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize("version", ["2019-04", "2025-10", "2026-10", "unstable"])
def test_released_api_versions_are_accepted(version: str) -> None:
    assert v.api_version(version, today=TODAY) == version


@pytest.mark.parametrize(("version", "words"), [
    ("2026-13", "January, April, July and October"),
    ("2026-99", "January, April, July and October"),
    ("2026-00", "January, April, July and October"),
    ("2026-05", "January, April, July and October"),
    ("2019-01", "the first is 2019-04"),
    ("2027-01", "not been released yet (the newest is 2026-10)"),
    ("2026-7", "must look like 2026-07"),
    ("latest", "must look like 2026-07"),
])
def test_api_versions_shopify_never_released_are_refused(version: str, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        v.api_version(version, today=TODAY)
    assert words in str(refused.value) and refused.value.field == "api_version"


def test_a_version_released_today_is_accepted() -> None:
    assert v.api_version("2027-01", today=date(2027, 1, 1)) == "2027-01"


def test_a_version_past_its_twelve_months_warns() -> None:
    assert v.api_version_warning("2026-01", today=TODAY) is None
    assert v.api_version_warning("unstable", today=TODAY) is None
    warning = v.api_version_warning("2025-10", today=TODAY)
    assert warning is not None and "2025-10 is 14 months old" in warning and "2026-10" in warning
    assert v.api_version_warning("2025-10", today=date(2026, 9, 30)) is None
    assert v.api_version_warning("2025-10", today=date(2026, 10, 1)) is not None


@pytest.mark.parametrize(("value", "words"), [
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), "before 2006"),
    (datetime(1, 1, 1, tzinfo=UTC), "before 2006"),
    (datetime(2006, 1, 1, 5, tzinfo=timezone(timedelta(hours=14))), "before 2006"),  # 2005-12-31 in UTC
    (datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))), "in the future"),
    (NOW + timedelta(seconds=1), "in the future"),
    (datetime(2026, 1, 1), "must carry a timezone"),
])
def test_window_times_out_of_bounds_are_refused(value: datetime, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        v.window_time(value, field="windowFrom", latest=NOW)
    assert words in str(refused.value) and refused.value.field == "windowFrom"


def test_window_times_within_bounds_are_kept() -> None:
    assert v.window_time(datetime(2006, 1, 1, tzinfo=UTC), field="since", latest=NOW) == datetime(2006, 1, 1,
                                                                                                  tzinfo=UTC)
    assert v.window_time(NOW, field="since", latest=NOW) == NOW
    assert v.window_time(datetime(2999, 1, 1, tzinfo=UTC), field="since", latest=None) is not None
    assert v.window(None, None, now=NOW) == (None, None)


@pytest.mark.parametrize("cron", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"])
def test_a_cron_that_never_fires_is_refused(cron: str) -> None:
    with pytest.raises(ValidationError, match="never fires") as refused:
        validate_schedule(cron=cron)
    assert refused.value.field == "cron"


def test_a_cron_that_fires_once_in_four_years_is_accepted() -> None:
    assert validate_schedule(cron="0 0 29 2 *", timezone="Europe/Rome").cron == "0 0 29 2 *"


@pytest.mark.parametrize("value", ["a" * 256, "tab\there", "nul\x00", "bidi\u202e"])
def test_text_refuses_long_values_and_control_characters(value: str) -> None:
    with pytest.raises(ValidationError):
        v.text(value, field="name", limit=255, what="a name")


def test_messages_quote_at_most_a_few_characters() -> None:
    assert v.shown("short") == "'short'"
    assert v.shown("x" * 10_000) == f"{'x' * v.SHOWN!r}... (10,000 characters)"


def test_a_shop_token_comes_from_one_place() -> None:
    v.credentials("shpat_x", None)
    v.credentials(None, "SHOP_TOKEN")
    with pytest.raises(ValidationError, match="not both"):
        v.credentials("shpat_x", "SHOP_TOKEN")


def test_a_token_variable_must_be_set() -> None:
    v.token_env_is_set("SHOP_TOKEN", {"SHOP_TOKEN": "shpat_x"})
    for environ in ({}, {"SHOP_TOKEN": ""}):
        with pytest.raises(ValidationError, match="SHOP_TOKEN is not set"):
            v.token_env_is_set("SHOP_TOKEN", environ)


def test_a_clock_in_the_past_does_not_unrelease_a_version() -> None:
    assert v.release_calendar_day(datetime(2020, 1, 1, tzinfo=UTC)) == datetime.now(UTC).date()
    assert v.release_calendar_day(datetime(2999, 1, 1, tzinfo=UTC)) == date(2999, 1, 1)
