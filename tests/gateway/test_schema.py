"""The committed SDL matches the code, and the contract's names and shapes exist exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from gateway.api.export_schema import DEFAULT_PATH, render
from gateway.api.schema import build_schema, schema

ROOT = Path(__file__).resolve().parents[2]

CONTRACT = {
    "Query": {
        "orders": ("OrderConnection!", {"first": "Int", "after": "String", "filter": "OrderFilter",
                                        "sortKey": "OrderSortKey", "reverse": "Boolean"}),
        "order": ("Order", {"id": "ID!"}),
        "orderByShopifyId": ("Order", {"shop": "String!", "shopifyId": "ID!"}),
        "shops": ("[Shop!]!", {}),
        "jobs": ("[Job!]!", {"shop": "String"}),
        "job": ("Job", {"id": "ID!"}),
        "jobRuns": ("JobRunConnection!", {"jobId": "ID!", "first": "Int", "after": "String", "status": "JobRunStatus",
                                           "since": "DateTime", "until": "DateTime"}),
        "cancellations": ("ItemCancellationConnection!", {"first": "Int", "after": "String", "shop": "String",
                                                          "since": "DateTime", "until": "DateTime",
                                                          "reverse": "Boolean"}),
        "plugins": ("[Plugin!]!", {}),
        "node": ("Node", {"id": "ID!"}),
    },
    "OrderConnection": {"edges": "[OrderEdge!]!", "nodes": "[Order!]!", "pageInfo": "PageInfo!", "totalCount": "Int!"},
    "OrderEdge": {"cursor": "String!", "node": "Order!"},
    "PageInfo": {"hasNextPage": "Boolean!", "hasPreviousPage": "Boolean!", "startCursor": "String",
                 "endCursor": "String"},
    "Order": {"id": "ID!", "shop": "String!", "shopifyId": "ID!", "name": "String!", "status": "OrderStatus!",
              "createdAt": "DateTime!", "updatedAt": "DateTime!", "cancelledAt": "DateTime",
              "cancelReason": "String", "syncedAt": "DateTime!", "items": "[OrderItem!]!", "canceledQuantity": "Int!"},
    "OrderItem": {"id": "ID!", "shopifyId": "ID!", "sku": "String", "title": "String!", "quantity": "Int!",
                  "fulfilledQuantity": "Int!", "canceledQuantity": "Int!", "status": "OrderItemStatus!",
                  "cancellations": "[ItemCancellation!]!", "order": "Order!"},
    "ItemCancellation": {"id": "ID!", "quantity": "Int!", "canceledAt": "DateTime!", "recordedAt": "DateTime!",
                         "runId": "ID", "reason": "String", "evidence": "JSON", "item": "OrderItem!",
                         "order": "Order!", "shop": "String!"},
    "Shop": {"id": "ID!", "name": "String!", "source": "String!", "url": "String!", "apiVersion": "String!",
             "hasToken": "Boolean!", "tokenEnv": "String", "createdAt": "DateTime!", "jobs": "[Job!]!"},
    "Job": {"id": "ID!", "shop": "String!", "kind": "String!", "schedule": "Schedule!", "paused": "Boolean!",
            "skipNext": "Boolean!", "nextRunAt": "DateTime", "lastRun": "JobRun", "currentRun": "JobRun",
            "lastSuccessfulRun": "JobRun", "watermark": "DateTime", "runs": "JobRunConnection!",
            "upcomingRuns": "[DateTime!]!"},
    "Schedule": {"cron": "String", "everySeconds": "Int", "timezone": "String!", "description": "String!"},
    "JobRun": {"id": "ID!", "job": "Job!", "status": "JobRunStatus!", "trigger": "RunTrigger!",
               "windowFrom": "DateTime", "windowThru": "DateTime", "queuedAt": "DateTime", "startedAt": "DateTime",
               "finishedAt": "DateTime", "durationSeconds": "Float", "ordersSeen": "Int!", "itemsCanceled": "Int!",
               "unitsCanceled": "Int!", "ordersCanceled": "Int!", "pages": "Int!", "apiCost": "Float!",
               "throttled": "Int!", "retries": "Int!", "error": "String", "progress": "RunProgress"},
    "RunProgress": {"pages": "Int!", "ordersSeen": "Int!", "unitsCanceled": "Int!", "itemsCanceled": "Int!",
                    "ordersCanceled": "Int!", "checkpoint": "DateTime", "elapsedSeconds": "Float",
                    "apiCost": "Float!", "throttled": "Int!", "retries": "Int!", "bucketAvailable": "Float",
                    "bucketMaximum": "Float"},
    "UserError": {"field": "[String!]", "message": "String!", "code": "String"},
    "Plugin": {"name": "String!", "module": "String!", "version": "String", "hooks": "[String!]!"},
    "Mutation": {
        "updateJobSchedule": ("JobPayload!", {"jobId": "ID!", "schedule": "ScheduleInput!"}),
        "pauseJob": ("JobPayload!", {"jobId": "ID!"}),
        "resumeJob": ("JobPayload!", {"jobId": "ID!"}),
        "skipNextRun": ("JobPayload!", {"jobId": "ID!"}),
        "runJobNow": ("JobRunPayload!", {"jobId": "ID!", "windowFrom": "DateTime", "windowThru": "DateTime"}),
        "scheduleJobs": ("JobsPayload!", {"jobIds": "[ID!]!", "schedule": "ScheduleInput!"}),
        "addShop": ("ShopPayload!", {"input": "AddShopInput!"}),
        "updateShop": ("ShopPayload!", {"id": "ID!", "input": "UpdateShopInput!"}),
        "removeShop": ("RemoveShopPayload!", {"id": "ID!"}),
        "checkShopConnection": ("ShopConnectionPayload!", {"id": "ID!"}),
        "createApiToken": ("CreateApiTokenPayload!", {"name": "String!", "role": "TokenRole!"}),
        "revokeApiToken": ("ApiTokenPayload!", {"id": "ID!"}),
    },
    "Subscription": {"jobRunUpdated": ("JobRun!", {"jobId": "ID!"})},
    "JobPayload": {"job": "Job", "userErrors": "[UserError!]!"},
    "JobRunPayload": {"run": "JobRun", "userErrors": "[UserError!]!"},
    "JobsPayload": {"jobs": "[Job!]!", "userErrors": "[UserError!]!"},
    "ShopPayload": {"shop": "Shop", "userErrors": "[UserError!]!"},
    "RemoveShopPayload": {"deletedId": "ID", "userErrors": "[UserError!]!"},
    "ShopConnectionPayload": {"connection": "ShopConnection", "userErrors": "[UserError!]!"},
    "ShopConnection": {"ok": "Boolean!", "problem": "ConnectionProblem", "message": "String!", "shopName": "String",
                       "domain": "String", "apiVersion": "String", "scopes": "[String!]!",
                       "missingScopes": "[String!]!", "optionalMissingScopes": "[String!]!", "plan": "String",
                       "planPremium": "Boolean", "apiPoints": "Float", "apiRestoreRate": "Float",
                       "checkedAt": "DateTime!", "seconds": "Float!"},
    "CreateApiTokenPayload": {"token": "String", "apiToken": "ApiToken", "userErrors": "[UserError!]!"},
    "ApiToken": {"id": "ID!", "name": "String!", "role": "TokenRole!", "createdAt": "DateTime!",
                 "lastUsedAt": "DateTime", "revokedAt": "DateTime"},
}

INPUTS = {
    "OrderFilter": {"shop": "String", "status": "OrderStatus", "hasCanceledItems": "Boolean",
                    "updatedAfter": "DateTime", "updatedBefore": "DateTime", "canceledAfter": "DateTime",
                    "canceledBefore": "DateTime", "search": "String"},
    "ScheduleInput": {"cron": "String", "everySeconds": "Int", "timezone": "String"},
    "AddShopInput": {"name": "String!", "url": "String!", "apiVersion": "String", "accessToken": "String",
                     "accessTokenEnv": "String"},
    "UpdateShopInput": {"url": "String", "apiVersion": "String", "accessToken": "String", "accessTokenEnv": "String"},
}

ENUMS = {
    "OrderStatus": ["OPEN", "CANCELED"],
    "OrderSortKey": ["UPDATED_AT", "CREATED_AT", "ID", "NAME"],
    "OrderItemStatus": ["OPEN", "PARTIALLY_CANCELED", "CANCELED"],
    "JobRunStatus": ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "SKIPPED", "LOST"],
    "RunTrigger": ["SCHEDULE", "MANUAL", "WEBHOOK", "BACKFILL"],
    "TokenRole": ["ADMIN", "READ"],
}

NODES = {"Order", "OrderItem", "ItemCancellation", "Job", "JobRun", "Shop", "ApiToken"}


def test_the_committed_sdl_matches_the_code() -> None:
    assert DEFAULT_PATH == ROOT / "docs" / "schema.graphql"
    assert DEFAULT_PATH.read_text() == render(), "docs/schema.graphql drifted: run python -m gateway.api.export_schema"


def test_export_schema_check_mode() -> None:
    result = subprocess.run([sys.executable, "-m", "gateway.api.export_schema", "--check"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_contract_exists_exactly() -> None:
    graphql_schema = schema._schema
    for type_name, fields in CONTRACT.items():
        graphql_type = graphql_schema.get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType), type_name
        for field_name, expected in fields.items():
            field = graphql_type.fields.get(field_name)
            assert field is not None, f"{type_name}.{field_name} is missing"
            if isinstance(expected, tuple):
                expected, arguments = expected
                assert {n: str(a.type) for n, a in field.args.items()} == arguments, f"{type_name}.{field_name}"
            assert str(field.type) == expected, f"{type_name}.{field_name}: {field.type} != {expected}"
    for type_name, fields in INPUTS.items():
        graphql_type = graphql_schema.get_type(type_name)
        assert isinstance(graphql_type, GraphQLInputObjectType)
        for field_name, expected in fields.items():
            assert str(graphql_type.fields[field_name].type) == expected, f"{type_name}.{field_name}"
    for enum_name, values in ENUMS.items():
        enum_type = graphql_schema.get_type(enum_name)
        assert isinstance(enum_type, GraphQLEnumType)
        assert list(enum_type.values) == values
    node = graphql_schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    assert {t.name for t in graphql_schema.get_implementations(node).objects} == NODES
    assert "token" not in graphql_schema.get_type("Shop").fields
    orders_args = graphql_schema.get_type("Query").fields["orders"].args
    assert orders_args["first"].default_value == 50 and orders_args["reverse"].default_value is False
    assert orders_args["sortKey"].default_value.value == "UPDATED_AT"
    assert graphql_schema.get_type("Query").fields["jobRuns"].args["first"].default_value == 20


def test_schemas_with_other_limits_coexist() -> None:
    other = build_schema(max_query_depth=4)
    assert str(other) == str(schema)
