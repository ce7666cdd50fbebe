"""Order search: what ``orders(filter: {search})`` matches, and the terms it refuses with a
BAD_USER_INPUT error (never an internal error: SQLite called a 1 MB term "LIKE pattern too
complex", and a NUL failed on both databases)."""

from __future__ import annotations

import time

import pytest

from core import Limits

from .conftest import READ, Api
from .seed import new_shop, seed

SEARCH = """query($filter: OrderFilter) { orders(first: 50, filter: $filter) { totalCount nodes { name } } }"""


@pytest.fixture
async def shops(api: Api) -> None:
    alpha, _ = new_shop(api.runtime, "alpha")
    beta, _ = new_shop(api.runtime, "beta")
    seed(api.runtime, alpha, 12)
    seed(api.runtime, beta, 5)


async def names(api: Api, search: str) -> set[str]:
    orders = (await api.data(SEARCH, {"filter": {"search": search}}, token=READ))["orders"]
    assert orders["totalCount"] == len(orders["nodes"])
    return {n["name"] for n in orders["nodes"]}


async def test_search_matches_part_of_the_name_or_the_start_of_a_sku(api: Api, shops: None) -> None:
    assert await names(api, "alpha101") == {"#ALPHA1010", "#ALPHA1011"}  # any case, any part of the name
    assert await names(api, "  #beta1004 ") == {"#BETA1004"}
    assert await names(api, "sku-BETA-3") == {"#BETA1003"}  # the start of a SKU
    assert await names(api, "SKU-beta-3-1") == {"#BETA1003"}  # or all of it
    assert await names(api, "beta-3-1") == set()  # not the middle of a SKU
    assert await names(api, "Widget") == set()  # nor an item's title


async def test_like_wildcards_match_themselves(api: Api, shops: None) -> None:
    assert await names(api, "%") == set()
    assert await names(api, "ALPHA10_1") == set()
    assert await names(api, "SKU/") == set()


async def test_the_longest_allowed_term_is_answered(api: Api, shops: None) -> None:
    assert await names(api, "x" * Limits.SEARCH) == set()


@pytest.mark.parametrize(("term", "words"), [
    ("x" * (Limits.SEARCH + 1), f"at most {Limits.SEARCH}"),
    ("x" * 100 * 1024, f"at most {Limits.SEARCH}"),  # within the body limit: 1 MB is a 413
    ("#ALPHA\x00", "control characters"),
    ("#ALPHA\x1b[2J", "control characters"),
], ids=["101 characters", "100 KB", "NUL", "escape"])
async def test_a_term_too_long_or_with_control_characters_is_a_bad_user_input(api: Api, shops: None, term: str,
                                                                               words: str) -> None:
    started = time.monotonic()
    error = await api.error(SEARCH, {"filter": {"search": term}}, token=READ)
    assert time.monotonic() - started < 5
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "filter.search"
    assert words in error["message"] and len(error["message"]) < 200


@pytest.mark.parametrize(("query", "variables", "field"), [
    (SEARCH, {"filter": {"shop": "alpha\x00"}}, "filter.shop"),
    ("query($shop: String) { cancellations(first: 5, shop: $shop) { nodes { id } } }", {"shop": "al\x00pha"},
     "shop"),
    ("query($id: ID!) { orderByShopifyId(shop: \"alpha\", shopifyId: $id) { id } }", {"id": "gid://\x00"},
     "shopifyId"),
])
async def test_other_text_filters_refuse_control_characters(api: Api, shops: None, query: str, variables: dict,
                                                            field: str) -> None:
    error = await api.error(query, variables, token=READ)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == field


async def test_the_jobs_shop_argument_refuses_control_characters(api: Api, shops: None) -> None:
    error = await api.error("query($shop: String) { jobs(shop: $shop) { id } }", {"shop": "alpha\x00"}, token=READ)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "shop"
