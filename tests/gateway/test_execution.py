"""The executor's short paths (gateway.api.execution) answer exactly what graphql-core's own path does.

Each document runs twice, through the gateway's execution context and through strawberry's
plain one, and the two responses (data and errors, with their messages, paths and locations)
must be equal: first on a small schema built to hit every fallback (nulls in non-null fields,
values that do not coerce, items of the wrong type, resolvers that raise or are async), then on
the API's own schema over a seeded store.
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from core import TokenRole
from gateway.api.context import Context
from gateway.api.execution import execution_context_for, prefetched
from gateway.api.schema import build_schema

from .conftest import Api
from .seed import new_shop, seed


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leaf(Named):  # implementing an interface gives it an is_type_of check
    name: str
    nickname: str | None
    size: int
    ratio: float
    ok: bool
    colour: Colour
    tag: strawberry.ID
    pk: strawberry.Private[int] = 0
    ready_children: strawberry.Private[list[Leaf] | None] = None
    ready_count: strawberry.Private[int | None] = None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field(metadata=prefetched("ready_children"))
    def children(self) -> list[Leaf]:
        if self.ready_children is not None:  # the contract of prefetched(): return it when set
            return self.ready_children
        return self._load()  # type: ignore[return-value]

    async def _load(self) -> list[Leaf]:
        return [good(f"loaded-{self.name}")]

    @strawberry.field(metadata=prefetched("ready_count"))
    def count(self) -> int:
        if self.ready_count is not None:
            return self.ready_count
        return len(self.name)

    @strawberry.field(metadata=prefetched("ready_count"))
    def maybe_count(self) -> int | None:
        if self.ready_count is not None:
            return self.ready_count
        return None if self.name.startswith("b") else 99  # the resolver's own answer when nothing was prefetched

    @strawberry.field
    def boom(self) -> str | None:
        raise ValueError(f"boom {self.name}")


@strawberry.type
class Other:
    name: str


def good(label: str, **changes: Any) -> Leaf:
    values: dict[str, Any] = {"name": label, "nickname": None, "size": 3, "ratio": 0.5, "ok": True,
                              "colour": Colour.RED, "tag": strawberry.ID(f"t-{label}")}
    values.update(changes)
    return Leaf(**values)


@strawberry.type
class Query:
    @strawberry.field
    def leaves(self) -> list[Leaf]:
        return [good("a", nickname="ay", ready_children=[good("a1"), good("a2", colour=Colour.BLUE)]), good("b"),
                good("c", ok=False, size=-7)]

    @strawberry.field
    def nullable_items(self) -> list[Leaf | None]:
        return [good("x"), None, good("y", size=2**40), good("z", name=None)]  # type: ignore[arg-type]

    @strawberry.field
    def strict_items(self) -> list[Leaf]:
        return [good("x"), good("y", name=None)]  # type: ignore[arg-type]

    @strawberry.field
    def odd_values(self) -> list[Leaf]:
        return [good("p", size="12"), good("q", size=True, ok=1, ratio=2), good("r", colour="blue"),  # type: ignore[arg-type]
                good("s", tag=42), good("u", nickname=7)]  # type: ignore[arg-type]

    @strawberry.field
    def bad_values(self) -> list[Leaf | None]:
        return [good("t", size=1.5), good("u", nickname=[1]), good("v", colour="green"), good("w")]  # type: ignore[arg-type]

    @strawberry.field
    def wrong_type(self) -> list[Leaf]:
        return [good("w"), Other(name="intruder")]  # type: ignore[list-item]

    @strawberry.field
    def maybe_wrong(self) -> list[Leaf | None]:
        return [Other(name="intruder"), good("v")]  # type: ignore[list-item]

    @strawberry.field
    async def awaited(self) -> list[Leaf]:
        return [good("aw")]

    @strawberry.field
    def tuple_items(self) -> list[Leaf]:
        return (good("t1"), good("t2"))  # type: ignore[return-value]

    @strawberry.field
    def odd_parents(self) -> list[Leaf]:
        # prefetched lists and counts the short paths must hand back to graphql-core
        return [good("p", ready_children=[good("c1", ready_count=1), None]),  # type: ignore[list-item]
                good("q", ready_children=[Other(name="intruder")]),  # type: ignore[list-item]
                good("r", ready_children=(good("t", ready_count=0),)),  # type: ignore[arg-type]
                good("s", ready_count="x"), good("u", ready_count=2**40), good("b2", ready_count=True)]  # type: ignore[arg-type]


SMALL = [
    "{ leaves { name nickname size ratio ok colour tag shout __typename } }",
    "{ leaves { n: name n2: name ...F children { name colour children { name } } } } fragment F on Leaf { size ok }",
    'query($x: Boolean!) { leaves { name @include(if: $x) size @skip(if: $x) } }',
    "{ nullableItems { name size } }",
    "{ strictItems { name size } }",
    "{ oddValues { name nickname size ratio ok colour tag } }",
    "{ badValues { name size } }",
    "{ badValues { name nickname } }",
    "{ badValues { name colour } }",
    "{ wrongType { name } }",
    "{ maybeWrong { name } }",
    "{ awaited { name children { name } } }",
    "{ tupleItems { name } }",
    "{ leaves { name boom } }",
    "{ leaves { name count maybeCount children { name count maybeCount children { name } } } }",
    "{ oddParents { name count } }",
    "{ oddParents { name maybeCount } }",
    "{ oddParents { name children { name count maybeCount } } }",
    'query($x: Boolean!) { oddParents { name children @include(if: $x) { name } c2: children { n: name } } }',
]


def _normal(result: Any) -> dict[str, Any]:
    return {"data": result.data, "errors": sorted(
        (e.formatted for e in result.errors or ()), key=lambda e: (str(e.get("path")), e["message"]))}


@pytest.mark.parametrize("document", SMALL)
async def test_short_paths_answer_like_graphql_core_on_every_fallback(document: str) -> None:
    plain = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query)
    fast.execution_context_class = execution_context_for(fast._schema)
    variables = {"x": True}
    expected = _normal(await plain.execute(document, variable_values=variables))
    assert _normal(await fast.execute(document, variable_values=variables)) == expected
    variables = {"x": False}
    assert _normal(await fast.execute(document, variable_values=variables)) == _normal(
        await plain.execute(document, variable_values=variables))


API = [
    """query($after: String) { orders(first: 50, after: $after) { pageInfo { hasNextPage endCursor }
       nodes { id name status updatedAt canceledQuantity
               items { id sku title quantity fulfilledQuantity canceledQuantity status } } } }""",
    """{ orders(first: 7) { totalCount edges { cursor node { id shop shopifyId cancelledAt cancelReason syncedAt
       canceledQuantity items { id shopifyId status cancellations { id quantity canceledAt recordedAt runId reason
       evidence shop item { id sku order { id name } } order { name items { id } } } } } } } }""",
    """{ orders(first: 5, sortKey: NAME, reverse: true, filter: {hasCanceledItems: true}) {
       nodes { ... on Node { id } ... on Order { name items { ... on OrderItem { sku canceledQuantity } } } } } }""",
    "{ orders(first: 3) { nodes { canceledQuantity } } }",
    "{ cancellations(first: 4) { nodes { id quantity item { sku } order { name canceledQuantity } } } }",
    """{ shops { id name jobs { id kind paused schedule { description } lastRun { id } currentRun { id }
       lastSuccessfulRun { id } watermark } } jobs { id shop } }""",
    """query($id: ID!) { node(id: $id) { __typename id ... on Order { name items { sku } } } }""",
    '{ order(id: "gid://sync-gateway/Order/999999") { id } missing: node(id: "gid://sync-gateway/Shop/99") { id } }',
]


@pytest.mark.parametrize("document", API)
async def test_the_api_answers_the_same_through_either_path(api: Api, document: str) -> None:
    alpha, _ = new_shop(api.runtime, "alpha")
    seed(api.runtime, alpha, 12)
    with api.runtime.storage.read() as tx:
        token = next(t for t in tx.list_api_tokens() if t.role is TokenRole.ADMIN)
        first_order = tx.list_orders(__import__("core").OrderQuery(), first=1).items[0]
    fast = build_schema()
    plain = build_schema()
    plain.execution_context_class = StrawberryGraphQLCoreExecutionContext
    assert fast.execution_context_class is not StrawberryGraphQLCoreExecutionContext

    def context() -> Context:
        return Context(runtime=api.runtime, queue=api.queue, token=token, auth_problem=None)

    variables = {"after": None, "id": f"gid://sync-gateway/Order/{first_order.id}"}
    expected = _normal(await plain.execute(document, variable_values=variables, context_value=context()))
    assert expected["data"] is not None
    assert _normal(await fast.execute(document, variable_values=variables, context_value=context())) == expected
