"""Bulk query operations (``bulkOperationRunQuery``), as an importer's backfill uses them.

Lifecycle (research notes D.23): the mutation answers ``CREATED``; polls through
``bulkOperation(id:)``, ``node(id:)`` or ``currentBulkOperation`` then see ``RUNNING`` until the
operation has processed its objects, then ``COMPLETED`` with ``objectCount``, ``rootObjectCount``,
``fileSize`` and ``url``. Run time is ``objectCount / objects_per_second`` on the monotonic time
source (instant by default); ``bulkOperationCancel`` answers ``CANCELING``, later ``CANCELED``.

The query is checked like Shopify checks it (at least one and at most five connections, nesting
depth at most two, ``edges { node }`` rather than ``nodes``, ``id`` selected on the parent of a nested
connection, no connection inside a list field such as ``Order.refunds``, no top-level ``node``),
with Shopify's messages as ``userErrors``. Only a top-level ``orders`` connection is simulated.

The result is JSONL served by the simulator at ``GET /bulk/<id>.jsonl``; ``url`` is that path on
:attr:`ShopSimulator.base_url` (``https://<shop>.myshopify.com/bulk/<id>.jsonl``), so a client
talking to the simulator through a transport or another host must keep the path and swap the
host. Rows are flat, children carrying ``__parentId``. The root order ids are fixed when the
operation is created; rows are rendered from the store when downloaded, streamed in chunks, so
200,000 orders never sit in memory as one document.

``groupObjects``: with ``true`` each parent row is followed by its children. With ``false`` (the
default from 2026-01, and faster at Shopify) children are no longer guaranteed to follow their
parent; the simulator makes that visible: the roots are written in blocks of
:data:`UNGROUPED_BLOCK`, each block's child rows first, newest parent's first, then the block's
parent rows. A reader that assumes adjacency fails on every order with children.

Concurrency: one running bulk query per shop before API 2026-01 (``OPERATION_IN_PROGRESS``),
up to five from 2026-01 (``LIMIT_REACHED``).

Failures on demand: :meth:`BulkManager.end_next` makes the next operation end ``FAILED``,
``CANCELED`` or ``EXPIRED`` (with an ``errorCode``) instead of ``COMPLETED`` when its run time is
up, optionally with a ``partialDataUrl`` serving the first rows of the result, the last of them
cut short, as a failure mid-write leaves it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from graphql import FieldNode, GraphQLError, GraphQLSchema, OperationType, parse, validate
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode

from .clock import format_timestamp
from .context import RequestContext
from .documents import collect_fields, is_connection, list_depth, named_type
from .gids import IdSequence, gid, parse_gid

if TYPE_CHECKING:
    from .executor import FieldPlan
    from .shop import ShopSimulator

__all__ = ["BulkManager", "BulkOperationRecord", "BULK_RESOLVERS", "check_bulk_query"]

TERMINAL = frozenset({"COMPLETED", "CANCELED", "FAILED", "EXPIRED"})
_CHUNK = 64 * 1024
UNGROUPED_BLOCK = 50
"""Root orders per block of an ungrouped result (children of the block written before it)."""


@dataclass(eq=False)
class BulkOperationRecord:
    id: int
    query: str
    version: str
    created_at: int
    started: float
    duration: float
    root_ids: list[int]
    object_count: int
    root_object_count: int
    root_plan: Any
    creator: Any = None  # the request that created it sees status CREATED
    canceled_at: int | None = None
    cancel_request: Any = None
    file_size: int | None = None
    type: str = "QUERY"
    final_status: str = "COMPLETED"
    error_code: str | None = None
    partial_rows: int | None = None
    grouped: bool = True

    TYPENAME = "BulkOperation"


def _user_error(message: str, code: str | None = "INVALID", path: list[str] | None = None) -> dict[str, Any]:
    return {"field": path if path is not None else ["query"], "message": message, "code": code}


def check_bulk_query(schema: GraphQLSchema, text: str) -> tuple[Any, list[dict[str, Any]]]:
    """Parse, validate and apply Shopify's bulk-query rules. Returns ``(document, user_errors)``."""
    if not text.strip():
        return None, [_user_error("Invalid bulk query: syntax error, unexpected end of file")]
    try:
        document = parse(text)
    except GraphQLError as exc:
        return None, [_user_error(f"Invalid bulk query: {exc.message}")]
    problems = validate(schema, document)
    if problems:
        return None, [_user_error(f"Invalid bulk query: {p.message}") for p in problems]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return None, [_user_error("Invalid operation type. Only `query` operations are supported.")]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    errors: list[dict[str, Any]] = []
    state = {"count": 0, "depth": 0, "via_nodes": [], "without_id": [], "in_list": False}

    def sets(nodes: list[FieldNode]) -> list[Any]:
        return [n.selection_set for n in nodes if n.selection_set]

    def walk(parent: Any, selection_sets: list[Any], depth: int, in_list: bool) -> None:
        groups = collect_fields(schema, fragments, None, parent, selection_sets)
        for key, fnodes in groups.items():
            name = fnodes[0].name.value
            if name.startswith("__"):
                continue
            definition = parent.fields[name]
            type_ = named_type(definition.type)
            if is_connection(type_):
                state["count"] += 1
                state["depth"] = max(state["depth"], depth + 1)
                if in_list:
                    state["in_list"] = True
                if depth >= 1 and "id" not in groups:
                    state["without_id"].append(key)
                conn = collect_fields(schema, fragments, None, type_, sets(fnodes))
                if "nodes" in {ns[0].name.value for ns in conn.values()}:
                    state["via_nodes"].append(key)
                edge_type = named_type(type_.fields["edges"].type)
                for edge_nodes in conn.values():
                    if edge_nodes[0].name.value != "edges":
                        continue
                    edge = collect_fields(schema, fragments, None, edge_type, sets(edge_nodes))
                    for node_nodes in edge.values():
                        if node_nodes[0].name.value == "node":
                            walk(named_type(edge_type.fields["node"].type), sets(node_nodes), depth + 1, in_list)
            elif hasattr(type_, "fields"):
                walk(type_, sets(fnodes), depth, in_list or list_depth(definition.type) > 0)

    operation = operations[0]
    root = schema.query_type
    roots = collect_fields(schema, fragments, None, root, [operation.selection_set])  # type: ignore[arg-type]
    if any(nodes[0].name.value == "node" for nodes in roots.values()):
        errors.append(_user_error("Bulk queries cannot contain a top level `node` field."))
    walk(root, [operation.selection_set], 0, False)
    if state["via_nodes"]:
        names = state["via_nodes"]
        errors.append(
            _user_error(
                "All connection fields in a bulk query must select their contents using 'edges' > 'node', "
                f"e.g: '{names[0]} {{ edges {{ node {{'. Selecting via 'nodes' is not supported. "
                f"Invalid connection fields: '{', '.join(names)}'."
            )
        )
    if state["depth"] > 2:
        errors.append(_user_error("Bulk queries cannot contain connections with a nesting depth greater than 2."))
    if state["count"] > 5:
        errors.append(_user_error("Bulk queries cannot contain more than 5 connections."))
    if state["without_id"]:
        errors.append(
            _user_error(
                "The parent 'node' field for a nested connection must select the 'id' field without an alias "
                f"and must be of 'ID' return type. Connection fields without 'id': {', '.join(state['without_id'])}."
            )
        )
    if state["in_list"]:
        errors.append(
            _user_error("Queries that contain a connection field within a list field are not currently supported.")
        )
    if state["count"] == 0:
        errors.append(_user_error("Bulk queries must contain at least one connection."))
    if not errors and [nodes[0].name.value for nodes in roots.values()] != ["orders"]:
        errors.append(
            _user_error("The Shopify simulator only runs bulk queries over a single top-level `orders` connection.")
        )
    return document, errors


def _node_fields(connection: FieldPlan) -> list[FieldPlan]:
    """Plans of ``<connection> { edges { node { … } } }``'s node selection."""
    for edges in connection.sub:
        if edges.name == "edges":
            for node in edges.sub:
                if node.name == "node":
                    return node.sub  # type: ignore[no-any-return]
    return []


class BulkManager:
    """The shop's bulk operations."""

    def __init__(
        self, shop: ShopSimulator, time_source: Callable[[], float] | None, objects_per_second: float | None
    ) -> None:
        self.shop = shop
        self.objects_per_second = objects_per_second
        self._now = time_source or time.monotonic
        self.operations: dict[int, BulkOperationRecord] = {}
        self._ids = IdSequence("BulkOperation")
        self._next_end: tuple[str, str | None, int | None] | None = None

    def end_next(self, status: str, error_code: str | None = None, partial_rows: int | None = None) -> None:
        """Make the next operation end ``status`` (FAILED, CANCELED or EXPIRED) with ``error_code``;
        ``partial_rows`` result rows (the last one cut) are then served at its ``partialDataUrl``."""
        if status not in ("FAILED", "CANCELED", "EXPIRED"):
            raise ValueError(f"an operation can be made to end FAILED, CANCELED or EXPIRED, not {status}")
        self._next_end = (status, error_code, partial_rows)

    # -- state -----------------------------------------------------------------------------------

    def get(self, number: int) -> BulkOperationRecord | None:
        return self.operations.get(number)

    def status(self, op: BulkOperationRecord, ctx: RequestContext | None = None) -> str:
        if op.canceled_at is not None:
            return "CANCELING" if ctx is not None and ctx is op.cancel_request else "CANCELED"
        if ctx is not None and ctx is op.creator:
            return "CREATED"
        return op.final_status if self._now() - op.started >= op.duration else "RUNNING"

    def current(self, type_: str) -> BulkOperationRecord | None:
        ops = [op for op in self.operations.values() if op.type == type_]
        return ops[-1] if ops else None

    def limit(self, version: str) -> int:
        return 5 if version >= "2026-01" else 1

    # -- mutations -------------------------------------------------------------------------------

    def run_query(self, query: str, group_objects: bool, ctx: RequestContext) -> dict[str, Any]:
        from .executor import compile_plan  # executor -> registry -> bulk: import at call time
        from .roots import matching_orders

        schema = self.shop.schema(ctx.version)
        document, errors = check_bulk_query(schema, query)
        if errors:
            return {"bulkOperation": None, "userErrors": errors}
        running = [op for op in self.operations.values() if self.status(op) not in TERMINAL]
        limit = self.limit(ctx.version)
        if len(running) >= limit:
            if limit == 1:
                running_id = gid("BulkOperation", running[0].id)
                message = f"A bulk query operation for this app and shop is already in progress: {running_id}."
                return {"bulkOperation": None, "userErrors": [_user_error(message, "OPERATION_IN_PROGRESS", None)]}
            message = f"A maximum of {limit} bulk query operations can run at the same time for this app and shop."
            return {"bulkOperation": None, "userErrors": [_user_error(message, "LIMIT_REACHED", None)]}
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        plan = compile_plan(schema, operation, fragments, None)
        if plan.errors:
            return {"bulkOperation": None, "userErrors": [_user_error(e.message) for e in plan.errors]}
        root = plan.fields[0]
        bulk_ctx = self._context(ctx.version)
        root_args = root.static_args or {}
        try:
            root_ids = [order.id for order in matching_orders(root_args, bulk_ctx)]
        except GraphQLError as exc:
            return {"bulkOperation": None, "userErrors": [_user_error(exc.message)]}
        children = sum(self._count_children(self.shop.store.orders[i], _node_fields(root), bulk_ctx) for i in root_ids)
        objects = len(root_ids) + children
        duration = objects / self.objects_per_second if self.objects_per_second else 0.0
        op = BulkOperationRecord(
            id=self._ids.next(),
            query=query,
            version=ctx.version,
            created_at=ctx.now,
            started=self._now(),
            duration=duration,
            root_ids=root_ids,
            object_count=objects,
            root_object_count=len(root_ids),
            root_plan=root,
            creator=ctx,
            grouped=group_objects,
        )
        if self._next_end is not None:
            op.final_status, op.error_code, op.partial_rows = self._next_end
            self._next_end = None
        self.operations[op.id] = op
        return {"bulkOperation": op, "userErrors": []}

    def cancel(self, value: str, ctx: RequestContext) -> dict[str, Any]:
        try:
            _, number = parse_gid(value, "BulkOperation")
        except ValueError:
            number = 0
        op = self.operations.get(number)
        if op is None:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
            }
        status = self.status(op)
        if status in TERMINAL:
            message = f"A bulk operation cannot be canceled when it is {status.lower()}"
            return {"bulkOperation": op, "userErrors": [{"field": None, "message": message}]}
        op.canceled_at, op.cancel_request = ctx.now, ctx
        return {"bulkOperation": op, "userErrors": []}

    # -- results ---------------------------------------------------------------------------------

    def _context(self, version: str) -> RequestContext:
        return RequestContext(self.shop, self.shop.store, version, self.shop.clock.epoch(), unbounded=True)

    def _count_children(self, record: Any, fields: list[FieldPlan], ctx: RequestContext) -> int:
        total = 0
        for plan in fields:
            if plan.connection:
                page = plan.resolve(record, plan.static_args or {}, ctx)
                total += len(page.items)
                nested = _node_fields(plan)
                total += sum(self._count_children(item, nested, ctx) for item in page.items)
        return total

    def rows(self, op: BulkOperationRecord) -> Iterator[dict[str, Any]]:
        """The result rows, parents first, each child row carrying ``__parentId``."""
        from .executor import run_fields

        ctx = self._context(op.version)
        errors: list[GraphQLError] = []
        split: dict[int, tuple[list[FieldPlan], list[FieldPlan]]] = {}

        def emit(record: Any, fields: list[FieldPlan], parent: str | None) -> Iterator[dict[str, Any]]:
            parts = split.get(id(fields))
            if parts is None:
                parts = split[id(fields)] = (
                    [f for f in fields if not f.connection],
                    [f for f in fields if f.connection],
                )
            plain, connections = parts
            row = run_fields(record, plain, ctx, errors)
            if parent is not None:
                row["__parentId"] = parent
            yield row
            own = gid(record.TYPENAME, record.id)
            for plan in connections:
                page = plan.resolve(record, plan.static_args or {}, ctx)
                nested = _node_fields(plan)
                for item in page.items:
                    yield from emit(item, nested, own)

        node_fields = _node_fields(op.root_plan)
        orders = self.shop.store.orders
        if op.grouped:
            for order_id in op.root_ids:
                order = orders.get(order_id)
                if order is not None:
                    yield from emit(order, node_fields, None)
            return
        for start in range(0, len(op.root_ids), UNGROUPED_BLOCK):
            parents: list[dict[str, Any]] = []
            children: list[dict[str, Any]] = []
            for order_id in op.root_ids[start:start + UNGROUPED_BLOCK]:
                order = orders.get(order_id)
                if order is not None:
                    rows = list(emit(order, node_fields, None))
                    parents.append(rows[0])
                    children[:0] = rows[1:]  # the later parents' children come first
            yield from children
            yield from parents

    def jsonl(self, op: BulkOperationRecord, *, partial: bool = False) -> Iterator[bytes]:
        """The result file, in chunks of about 64 KiB (``partial``: the partial data of a failure)."""
        buffer: list[bytes] = []
        size = 0
        for number, row in enumerate(self.rows(op), 1):
            line = orjson.dumps(row) + b"\n"
            if partial and op.partial_rows is not None and number >= op.partial_rows:
                buffer.append(line[: len(line) // 2])  # the write broke off mid-row
                break
            buffer.append(line)
            size += len(line)
            if size >= _CHUNK:
                yield b"".join(buffer)
                buffer, size = [], 0
        if buffer:
            yield b"".join(buffer)

    def file_size(self, op: BulkOperationRecord) -> int:
        if op.file_size is None:
            op.file_size = sum(len(chunk) for chunk in self.jsonl(op))
        return op.file_size

    def url(self, op: BulkOperationRecord, *, partial: bool = False) -> str:
        return f"{self.shop.base_url}/bulk/{op.id}.jsonl" + ("?partial=1" if partial else "")

    def has_partial_data(self, op: BulkOperationRecord) -> bool:
        return op.partial_rows is not None and self.status(op) == op.final_status != "COMPLETED"


def _progress(op: BulkOperationRecord, ctx: RequestContext, full: int) -> str:
    manager = ctx.shop.bulk
    status = manager.status(op, ctx)
    if status == "COMPLETED":
        return str(full)
    if status in ("CREATED", "CANCELED", "CANCELING") or op.duration <= 0:
        return "0"
    done = min(1.0, (manager._now() - op.started) / op.duration)  # noqa: SLF001
    return str(int(full * done))


def _completed(op: BulkOperationRecord, ctx: RequestContext) -> bool:
    return ctx.shop.bulk.status(op, ctx) == "COMPLETED"


def _completed_at(op: BulkOperationRecord, args: dict[str, Any], ctx: RequestContext) -> str | None:
    status = ctx.shop.bulk.status(op, ctx)
    if status == "COMPLETED":
        return format_timestamp(op.created_at + round(op.duration))
    if status == "CANCELED" and op.canceled_at is not None:
        return format_timestamp(op.canceled_at)
    return None


BULK_OPERATION = {
    "id": lambda op, a, c: gid("BulkOperation", op.id),
    "status": lambda op, a, c: c.shop.bulk.status(op, c),
    "type": lambda op, a, c: op.type,
    "query": lambda op, a, c: op.query,
    "createdAt": lambda op, a, c: format_timestamp(op.created_at),
    "completedAt": _completed_at,
    "errorCode": lambda op, a, c: op.error_code if c.shop.bulk.status(op, c) == op.final_status else None,
    "objectCount": lambda op, a, c: _progress(op, c, op.object_count),
    "rootObjectCount": lambda op, a, c: _progress(op, c, op.root_object_count),
    "fileSize": lambda op, a, c: str(c.shop.bulk.file_size(op)) if _completed(op, c) and op.object_count else None,
    "url": lambda op, a, c: c.shop.bulk.url(op) if _completed(op, c) and op.object_count else None,
    "partialDataUrl": lambda op, a, c: c.shop.bulk.url(op, partial=True) if c.shop.bulk.has_partial_data(op) else None,
}

BULK_RESOLVERS: dict[str, dict[str, Any]] = {"BulkOperation": BULK_OPERATION}
