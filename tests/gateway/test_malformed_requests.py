"""Malformed requests get a 400 with a GraphQL-shaped error, never a 500 or a traceback, and
write a bounded amount of log: the body as an attacker would send it, over HTTP."""

from __future__ import annotations

import logging

import orjson
import pytest

from .conftest import READ, Api

DEEP = 100_000


def deep_variables() -> bytes:
    return b'{"query": "query($a: [[Int]]) { shops { id } }", "variables": {"a": ' + b"[" * DEEP + b"]" * DEEP + b"}}"


CASES = {
    "a JSON string": (b'"{ shops { id } }"', "application/json", "must be a JSON object"),
    "JSON null": (b"null", "application/json", "must be a JSON object"),
    "a JSON number": (b"42", "application/json", "must be a JSON object"),
    "an empty body": (b"", "application/json", "must be a JSON object"),
    "invalid UTF-8": (b'{"query": "{ shops { id } }\xff\xfe"}', "application/json", "not valid JSON"),
    "arrays 100,000 deep in variables": (deep_variables(), "application/json", "not valid JSON"),
    "truncated JSON": (b'{"query": ', "application/json", "not valid JSON"),
    "a wrong content type": (b'{"query": "{ shops { id } }"}', "text/plain", "Unsupported content type"),
    "no content type": (b'{"query": "{ shops { id } }"}', "", "Unsupported content type"),
    "a batch array": (b'[{"query": "{ shops { id } }"}]', "application/json", "Batched operations are not supported"),
    "variables that are a string": (b'{"query": "{ shops { id } }", "variables": "x"}', "application/json",
                                    "`variables` must be an object"),
    "a query that is a number": (b'{"query": 5}', "application/json", "`query` must be a string"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_malformed_request_is_a_400_with_a_graphql_error(
        api: Api, case: str, caplog: pytest.LogCaptureFixture) -> None:
    body, content_type, words = CASES[case]
    caplog.set_level(logging.DEBUG)
    headers = {"Authorization": f"Bearer {api.tokens[READ]}"}
    if content_type:
        headers["Content-Type"] = content_type
    response = await api.client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert words in error["message"]
    assert "Traceback" not in response.text and len(response.text) < 500
    logged = sum(len(record.getMessage()) for record in caplog.records)
    assert logged < 2000 and not any(record.levelno >= logging.ERROR for record in caplog.records)


async def test_variables_nested_within_the_decoder_limit_are_judged_by_graphql(api: Api) -> None:
    # 1,000 levels decode; graphql-core then refuses the value for [[Int]] without recursing deeply
    nested = b"[" * 1000 + b"]" * 1000
    body = b'{"query": "query($a: [[Int]]) { shops { id } }", "variables": {"a": ' + nested + b"}}"
    response = await api.client.post("/graphql", content=body, headers={
        "Authorization": f"Bearer {api.tokens[READ]}", "Content-Type": "application/json"})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR" and "Unexpected" not in error["message"]


async def test_malformed_variables_in_a_get_request(api: Api) -> None:
    response = await api.client.get("/graphql", params={"query": "{ shops { id } }", "variables": "[" * 5000},
                                    headers={"Authorization": f"Bearer {api.tokens[READ]}"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


async def test_well_formed_requests_still_pass(api: Api) -> None:
    body = orjson.dumps({"query": "query($n: Int) { orders(first: $n) { totalCount } }", "variables": {"n": 5}})
    for content_type in ("application/json", "application/json; charset=utf-8"):
        response = await api.client.post("/graphql", content=b"\n  " + body, headers={
            "Authorization": f"Bearer {api.tokens[READ]}", "Content-Type": content_type})
        assert response.json()["data"] == {"orders": {"totalCount": 0}}


def test_an_unexpected_errors_log_entry_keeps_both_ends_of_a_long_traceback() -> None:
    from gateway.api.error_policy import MAX_LOGGED_CHARS, bounded

    traceback = "Traceback (most recent call last):\n" + "  frame\n" * 40_000 + "RecursionError: too deep"
    kept = bounded(traceback)
    assert len(kept) < MAX_LOGGED_CHARS + 100 and "characters cut" in kept
    assert kept.startswith("Traceback") and kept.endswith("RecursionError: too deep")
    assert bounded("short") == "short"
