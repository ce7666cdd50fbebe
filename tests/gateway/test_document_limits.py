"""A document's shape is limited before it runs, in time linear in the document: fragment depth
(``max_fragment_depth``, 30 by default), field depth and aliases, counted through fragments."""

from __future__ import annotations

import logging
import time

import pytest

from .conftest import Api


def chain(length: int) -> str:
    """An operation whose fragments each spread the next: ``length`` fragments deep."""
    spreads = " ".join(f"fragment F{i} on Shop {{ ...F{i + 1} }}" for i in range(length - 1))
    return f"{{ shops {{ ...F0 }} }} {spreads} fragment F{length - 1} on Shop {{ id name }}"


def code(error: dict) -> str:
    return error["extensions"]["code"]


async def test_a_chain_of_300_fragments_is_refused_clearly_and_logs_little(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors = (await api.gql(chain(300)))["errors"]
    assert {code(e) for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}
    # ours, and graphql-core's own guard, which stops its validation short of a recursion
    assert [e["message"] for e in errors] == ["'anonymous' nests fragments 300 deep; at most 30 are allowed.",
                                             "Validation aborted."]
    assert sum(len(r.getMessage()) for r in caplog.records) < 2000
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_fragments_up_to_the_limit_are_served(api: Api) -> None:
    assert await api.data(chain(30)) == {"shops": []}
    error = await api.error(chain(31))
    assert "nests fragments 31 deep" in error["message"]


async def test_inline_fragments_count_too(api: Api) -> None:
    def nested(depth: int) -> str:
        return "{ shops { " + "... on Shop { " * depth + "id" + " }" * depth + " } }"

    assert await api.data(nested(30)) == {"shops": []}
    assert "nests fragments 31 deep" in (await api.error(nested(31)))["message"]


async def test_inline_and_named_fragments_add_up(api: Api) -> None:
    inner = "... on Shop { " * 20 + "id" + " }" * 20
    document = f"{{ shops {{ ...Outer }} }} fragment Outer on Shop {{ {'... on Shop { ' * 11}...Inner{' }' * 11} }} " \
               f"fragment Inner on Shop {{ {inner} }}"
    assert "nests fragments 33 deep" in (await api.error(document))["message"]


async def test_a_fragment_cycle_is_a_validation_error_not_a_hang(api: Api) -> None:
    document = "{ shops { ...A } } fragment A on Shop { id ...B } fragment B on Shop { name ...A }"
    body = await api.gql(document)
    assert body["errors"] and all(code(e) == "GRAPHQL_VALIDATION_FAILED" for e in body["errors"])
    assert any("Cannot spread fragment" in e["message"] for e in body["errors"])


async def test_fragments_spread_many_times_are_measured_once_each(api: Api) -> None:
    # 29 fragments each spreading the next twice: 2**29 paths (strawberry's limiters walked them
    # all: 2 s at 18 links, 5 s at 20), measured in one pass
    spreads = " ".join(f"fragment F{i} on Shop {{ ...F{i + 1} ...F{i + 1} }}" for i in range(28))
    document = f"{{ shops {{ ...F0 }} }} {spreads} fragment F28 on Shop {{ id }}"
    started = time.perf_counter()
    assert await api.data(document) == {"shops": []}
    aliased = document.replace("fragment F28 on Shop { id }", "fragment F28 on Shop { a: id }")
    error = await api.error(aliased)
    assert error["message"] == f"{2 ** 28:,} aliases found. Allowed: 30".replace(",", "")
    assert time.perf_counter() - started < 1.0


async def test_field_depth_counts_through_fragments(api: Api) -> None:
    # 11 fields deep, 8 of them inside fragments: over max_query_depth (10)
    document = ("{ orders { nodes { items { ...A } } } } fragment A on OrderItem { order { items { ...B } } } "
                "fragment B on OrderItem { order { items { order { items { order { items { id } } } } } } }")
    error = await api.error(document)
    assert code(error) == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == "'anonymous' exceeds maximum operation depth of 10"
    introspection = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }"
    assert "errors" not in await api.gql(introspection)
