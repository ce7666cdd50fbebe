"""Validation at the edge, over GraphQL: each bad value is a userError naming its input, never an
internal error, and nothing is stored. The CLI shares these checks (tests/cli/test_validation.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.api import ids

from .conftest import Api
from .seed import SHOP_SECRET, new_shop
from .test_jobs import BACKFILL, RUN_NOW, job_gid
from .test_shops import ADD, UPDATE

ADD_WITH_WARNINGS = ADD.replace("userErrors {", "warnings userErrors {")
SCHEDULE = """mutation($id: ID!, $schedule: ScheduleInput!) { updateJobSchedule(jobId: $id, schedule: $schedule) {
  job { id } userErrors { field message code } } }"""
CREATE_TOKEN = """mutation($name: String!) { createApiToken(name: $name, role: READ) {
  token userErrors { field message code } } }"""

HUGE = 100 * 1024
"""Far past every column, within the 1 MB body limit (a larger body is a 413: tests/gateway/test_body_limit.py)."""


def quarter_after(version: str, quarters: int) -> str:
    year, month = map(int, version.split("-"))
    index = year * 4 + (month - 1) // 3 + quarters
    return f"{index // 4}-{index % 4 * 3 + 1:02d}"


def newest_version(api: Api) -> str:
    today = api.runtime.now().date()
    return f"{today.year}-{(today.month - 1) // 3 * 3 + 1:02d}"


def stored_shops(api: Api) -> list[str]:
    with api.runtime.storage.transaction() as tx:
        return [s.name for s in tx.list_shops()]


async def add_refused(api: Api, given: dict[str, object]) -> dict[str, object]:
    payload = (await api.data(ADD, {"input": {"name": "gamma", "url": "https://gamma.myshopify.com",
                                              "accessToken": SHOP_SECRET, **given}}))["addShop"]
    assert payload["shop"] is None, given
    (error,) = payload["userErrors"]
    assert error["code"] == "INVALID"
    assert len(error["message"]) < 400  # a refused megabyte is not echoed back
    assert stored_shops(api) == []
    return error


@pytest.mark.parametrize(("given", "field"), [
    ({"name": "a" * 256}, ["input", "name"]),
    ({"name": "gam\x00ma"}, ["input", "name"]),
    ({"url": "https://gamma.myshopify.com/" + "a" * 500}, ["input", "url"]),
    ({"url": "javascript:alert(1)"}, ["input", "url"]),
    ({"url": "not a url at all"}, ["input", "url"]),
    ({"url": "https://gamma.myshopify.com/\x00"}, ["input", "url"]),
    ({"url": "https://gam\nma.myshopify.com"}, ["input", "url"]),
    ({"url": "https://" + "a" * HUGE}, ["input", "url"]),
    ({"url": "ftp://gamma.myshopify.com"}, ["input", "url"]),
    ({"url": "https://"}, ["input", "url"]),
    ({"url": "https://admin:secret@gamma.myshopify.com"}, ["input", "url"]),
    ({"apiVersion": "2026-13"}, ["input", "apiVersion"]),
    ({"apiVersion": "2026-99"}, ["input", "apiVersion"]),
    ({"apiVersion": "2026-02"}, ["input", "apiVersion"]),
    ({"apiVersion": "2018-01"}, ["input", "apiVersion"]),
    ({"apiVersion": "2026-07" + "x" * 40}, ["input", "apiVersion"]),
    ({"accessToken": "t" * 5000}, ["input", "accessToken"]),
    ({"accessToken": None, "accessTokenEnv": "E" * 256}, ["input", "accessTokenEnv"]),
    ({"accessToken": None, "accessTokenEnv": "NOT-A-NAME"}, ["input", "accessTokenEnv"]),
    ({"accessTokenEnv": "GAMMA_TOKEN"}, ["input", "accessTokenEnv"]),  # and accessToken: both
    ({"source": "s" * HUGE}, ["input", "source"]),
], ids=lambda v: repr(v)[:40])
async def test_a_bad_shop_is_a_user_error_and_stores_nothing(api: Api, given, field) -> None:
    error = await add_refused(api, given)
    assert error["field"] == field
    assert SHOP_SECRET not in str(error)


async def test_an_unreleased_api_version_is_refused(api: Api) -> None:
    error = await add_refused(api, {"apiVersion": quarter_after(newest_version(api), 1)})
    assert error["field"] == ["input", "apiVersion"] and "not been released" in error["message"]


async def test_a_retired_api_version_is_accepted_with_a_warning(api: Api) -> None:
    retired = quarter_after(newest_version(api), -5)
    payload = (await api.data(ADD_WITH_WARNINGS, {"input": {"name": "gamma", "url": "gamma.myshopify.com",
                                                            "accessToken": SHOP_SECRET,
                                                            "apiVersion": retired}}))["addShop"]
    assert payload["userErrors"] == []
    assert payload["shop"]["apiVersion"] == retired
    (warning,) = payload["warnings"]
    assert retired in warning and "retired" in warning
    current = (await api.data(ADD_WITH_WARNINGS, {"input": {"name": "delta", "url": "delta",
                                                            "accessToken": SHOP_SECRET,
                                                            "apiVersion": newest_version(api)}}))["addShop"]
    assert current["warnings"] == []


@pytest.mark.parametrize(("given", "stored"), [
    ("acme", "https://acme.myshopify.com"),
    ("acme.myshopify.com", "https://acme.myshopify.com"),
    (" ACME.myshopify.com ", "https://acme.myshopify.com"),
    ("https://acme.myshopify.com/", "https://acme.myshopify.com"),
    ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
])
async def test_a_shop_url_is_stored_normalised(api: Api, given: str, stored: str) -> None:
    payload = (await api.data(ADD, {"input": {"name": "acme", "url": given, "accessToken": SHOP_SECRET}}))["addShop"]
    assert payload["userErrors"] == []
    assert payload["shop"]["url"] == stored


@pytest.mark.parametrize(("given", "field"), [
    ({"url": "javascript:alert(1)"}, ["input", "url"]),
    ({"url": "https://alpha.myshopify.com/" + "a" * 600}, ["input", "url"]),
    ({"apiVersion": "2026-13"}, ["input", "apiVersion"]),
    ({"accessTokenEnv": "ALPHA_TOKEN"}, ["input", "accessTokenEnv"]),  # a token is stored: both
    ({"accessToken": "t" * 5000}, ["input", "accessToken"]),
])
async def test_a_bad_shop_update_is_a_user_error_and_changes_nothing(api: Api, given, field) -> None:
    shop, _ = new_shop(api.runtime, "alpha")
    payload = (await api.data(UPDATE, {"id": ids.encode("Shop", shop.id), "input": given}))["updateShop"]
    assert payload["shop"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, "INVALID")]
    with api.runtime.storage.transaction() as tx:
        assert tx.get_shop(shop.id) == shop
        assert tx.shop_credentials(shop.id).token == SHOP_SECRET


async def test_switching_a_shop_to_a_token_from_the_environment_clears_the_stored_one(api: Api) -> None:
    shop, _ = new_shop(api.runtime, "alpha")
    payload = (await api.data(UPDATE, {"id": ids.encode("Shop", shop.id),
                                       "input": {"accessToken": None, "accessTokenEnv": "ALPHA_TOKEN"}}))
    assert payload["updateShop"]["userErrors"] == []
    assert payload["updateShop"]["shop"]["tokenEnv"] == "ALPHA_TOKEN"


@pytest.mark.parametrize("name", ["n" * 256, "front\x00end", "front\x1bend"])
async def test_a_bad_api_token_name_is_a_user_error(api: Api, name: str) -> None:
    with api.runtime.storage.transaction() as tx:
        before = len(tx.list_api_tokens())
    payload = (await api.data(CREATE_TOKEN, {"name": name}))["createApiToken"]
    assert payload["token"] is None
    assert [e["field"] for e in payload["userErrors"]] == [["name"]]
    with api.runtime.storage.transaction() as tx:
        assert len(tx.list_api_tokens()) == before


@pytest.mark.parametrize(("schedule", "field", "words"), [
    ({"cron": "0 0 31 2 *"}, ["schedule", "cron"], "never fires"),
    ({"cron": "0 0 30 2 *", "timezone": "Europe/Rome"}, ["schedule", "cron"], "never fires"),
    ({"cron": "0 " * HUGE}, ["schedule", "cron"], "characters"),
    ({"cron": "0 * * * *", "timezone": "Europe/" + "x" * HUGE}, ["schedule", "timezone"], "timezone"),
    ({"cron": "0 * * * *", "timezone": "Europe/Rome\x00"}, ["schedule", "timezone"], "timezone"),
])
async def test_a_schedule_that_cannot_work_is_a_user_error(api: Api, schedule, field, words) -> None:
    _, job = new_shop(api.runtime, "alpha")
    payload = (await api.data(SCHEDULE, {"id": job_gid(job), "schedule": schedule}))["updateJobSchedule"]
    assert payload["job"] is None
    (error,) = payload["userErrors"]
    assert error["field"] == field and words in error["message"] and len(error["message"]) < 400
    with api.runtime.storage.transaction() as tx:
        assert tx.get_job(job.id) == job


@pytest.mark.parametrize(("window", "field", "words"), [
    ({"from": "0001-01-01T00:00:00+14:00"}, ["windowFrom"], "before 2006"),
    ({"from": "0001-01-01T00:00:00+00:00"}, ["windowFrom"], "before 2006"),
    ({"from": "1999-12-31T23:00:00+00:00", "thru": "2000-01-01T00:00:00+00:00"}, ["windowFrom"], "before 2006"),
    ({"from": "2099-01-01T00:00:00+00:00"}, ["windowFrom"], "future"),
    ({"thru": "9999-12-31T23:59:59-14:00"}, ["windowThru"], "future"),
])
async def test_a_window_out_of_bounds_is_a_user_error(api: Api, window, field, words) -> None:
    _, job = new_shop(api.runtime, "alpha")
    payload = (await api.data(RUN_NOW, {"id": job_gid(job), **window}))["runJobNow"]
    assert payload["run"] is None
    (error,) = payload["userErrors"]
    assert error["field"] == field and words in error["message"]
    with api.runtime.storage.transaction() as tx:
        assert tx.latest_run(job.id) is None


@pytest.mark.parametrize(("window", "field", "words"), [
    ({"since": "0001-01-01T00:00:00+14:00"}, ["since"], "before 2006"),
    ({"since": "2005-06-01T00:00:00+00:00"}, ["since"], "before 2006"),
])
async def test_a_backfill_from_before_shopify_is_a_user_error(api: Api, window, field, words) -> None:
    _, job = new_shop(api.runtime, "alpha")
    payload = (await api.data(BACKFILL, {"id": job_gid(job), **window}))["backfillJob"]
    assert payload["run"] is None
    (error,) = payload["userErrors"]
    assert error["field"] == field and words in error["message"]
    with api.runtime.storage.transaction() as tx:
        assert tx.latest_run(job.id) is None


async def test_a_window_from_shopifys_first_years_is_accepted(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    thru = api.runtime.now() - timedelta(hours=1)
    payload = (await api.data(RUN_NOW, {"id": job_gid(job), "from": "2006-06-01T00:00:00+00:00",
                                        "thru": thru.isoformat()}))["runJobNow"]
    assert payload["userErrors"] == [] and payload["run"]["windowFrom"] == "2006-06-01T00:00:00+00:00"
