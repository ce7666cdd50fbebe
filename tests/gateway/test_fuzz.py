"""The GraphQL schema fuzzed by schemathesis, over HTTP, against the real app behind uvicorn:
every query and mutation, with a read token and with an admin token on a throwaway store.

No reply may be an HTTP 5xx or carry ``INTERNAL_SERVER_ERROR``, and the server's log (captured
from its loggers, uvicorn's included) may hold no error. The run is bounded and reproducible:
hypothesis is derandomized (its seed is the test's own), a fixed number of examples per
operation, and no example database, so CI and a developer see the same cases. The number of
cases is printed (``pytest -s``) and quoted in docs/benchmarks.md ("Hostile input").
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from graphql import ValueNode
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.schemas import GraphQLSchema

from core import RunTrigger, TokenRole
from core.apitokens import issue_token
from core.queues import QueueBackend
from core.runtime import Runtime
from gateway.api import ids
from gateway.api.app import create_app
from plugins.shopify.simulator import ShopSimulator
from tests.servers import serving

from .conftest import build_runtime
from .seed import SHOP_SECRET, new_shop, seed

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"

EXAMPLES = {TokenRole.READ: 3, TokenRole.ADMIN: 5}
"""Examples per operation and generation mode (valid and invalid input): 27 operations, so at most 162
cases with the read token and 270 with the admin token on each store, about a minute in all on
a loaded 2-core machine (docs/benchmarks.md, "Hostile input"). To fuzz longer or elsewhere:
``SYNC_GATEWAY_TEST_FUZZ_EXAMPLES=200`` and ``SYNC_GATEWAY_TEST_FUZZ_SEED=<n>`` (the default is
hypothesis's derandomized seed, the same on every run)."""

SEEDED_IDS = 3
"""Ids the fuzzer draws point at rows 1..3 of every type, so mutations reach real shops, jobs
and runs, not only the "not a sync-gateway id" branch."""


def _ids() -> st.SearchStrategy[ValueNode]:
    real = st.builds(ids.encode, st.sampled_from(sorted(ids.TYPES)), st.integers(1, SEEDED_IDS))
    odd = st.one_of(st.text(max_size=40), st.just("gid://sync-gateway/Shop/99999999999999999999"),
                    st.just("gid://sync-gateway/Job/0"), st.just("gid://sync-gateway/Job/-1"))
    return st.one_of(real, real, odd).map(nodes.String)


def _datetimes() -> st.SearchStrategy[ValueNode]:
    aware = st.datetimes(timezones=st.timezones() | st.just(None)).map(lambda d: d.isoformat())
    return st.one_of(aware, st.text(max_size=30)).map(nodes.String)


# schemathesis keeps scalar strategies in a module-level registry: these apply to this module's run
schemathesis.graphql.scalar("ID", _ids())
schemathesis.graphql.scalar("DateTime", _datetimes())


@dataclass
class ServerLog(logging.Handler):
    """Every record at WARNING or above that the server's loggers emit while the fuzz runs."""

    records: list[logging.LogRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        logging.Handler.__init__(self, level=logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __hash__(self) -> int:
        return id(self)

    @property
    def errors(self) -> list[str]:
        return [self.format(r)[:2000] for r in self.records if r.levelno >= logging.ERROR]


def seed_store(runtime: Runtime) -> None:
    """Three shops (with their jobs), orders with cancellations, and a run of each job: the ids
    1..3 of every type exist, so the fuzzer's mutations change real rows."""
    for name in ("alpha", "beta", "gamma"):
        shop, job = new_shop(runtime, name)
        seed(runtime, shop, 4)
        with runtime.storage.transaction() as tx:
            tx.create_run(job_id=job.id, trigger=RunTrigger.SCHEDULE)
        # tokens 1..3 are for revokeApiToken to revoke; the fuzzer's own comes after them
        issue_token(runtime, name=f"decoy {name}", role=TokenRole.READ)


@dataclass
class Fuzzed:
    """What one run sent and what came back wrong."""

    role: TokenRole
    cases: int = 0
    operations: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def check(self, case: Case[Any], response: Response) -> None:
        self.cases += 1
        self.operations.add(case.operation.label)
        text = response.text
        if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in text or "Traceback" in text:
            self.failures.append(f"HTTP {response.status_code} for {case.body!r}: {text[:500]}")


@contextmanager
def server_log() -> Iterator[ServerLog]:
    """Capture what the server logs: our loggers propagate to the root; uvicorn's stop at ``uvicorn``."""
    handler = ServerLog()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def operations_of(schema: GraphQLSchema) -> list[APIOperation[Any, Any, Any, Any]]:
    """Every query and mutation; the removals last, so the others find the seeded shops there."""
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    return sorted(operations, key=lambda op: op.label.startswith("Mutation.remove"))


def fuzz(schema: GraphQLSchema, url: str, secret: str, fuzzed: Fuzzed, mode: GenerationMode) -> None:
    examples = int(os.environ.get("SYNC_GATEWAY_TEST_FUZZ_EXAMPLES", 0)) or EXAMPLES[fuzzed.role]
    chosen_seed = os.environ.get("SYNC_GATEWAY_TEST_FUZZ_SEED")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {secret}"
    for operation in operations_of(schema):

        @settings(max_examples=examples, derandomize=chosen_seed is None, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate, Phase.shrink], print_blob=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def one(case: Case[Any]) -> None:
            fuzzed.check(case, case.call(base_url=url, session=session, timeout=30))

        if chosen_seed is not None:
            one = hypothesis_seed(int(chosen_seed))(one)
        one()
    session.close()


@pytest.mark.slow
@pytest.mark.parametrize("role", [TokenRole.READ, TokenRole.ADMIN], ids=["read", "admin"])
def test_fuzzing_the_schema_finds_no_server_error(tmp_path: Path, database_url: str, role: TokenRole) -> None:
    runtime = build_runtime(tmp_path, database_url)
    shop = ShopSimulator(shop_domain="alpha.myshopify.com", access_token=SHOP_SECRET)
    # every shop, whatever URL the fuzzer gives it, is the simulator: nothing leaves the process
    runtime.source_options["*"] = {"transport": httpx2.ASGITransport(app=shop.asgi_app)}
    queue = QueueBackend.from_settings(runtime.settings)
    seed_store(runtime)
    secret = issue_token(runtime, name=f"fuzz {role.value}", role=role)[1]
    schema = schemathesis.graphql.from_path(str(SCHEMA))
    fuzzed = Fuzzed(role)
    started = time.monotonic()
    try:
        with server_log() as log, serving(create_app(runtime, queue)) as url:
            for mode in GenerationMode:
                fuzz(schema, f"{url}/graphql", secret, fuzzed, mode)
    finally:
        queue.stop()
        runtime.close()
    print(f"\nfuzz ({role.value} token): {fuzzed.cases} cases in {time.monotonic() - started:.1f} s")
    assert fuzzed.operations == {op.label for op in operations_of(schema)}
    assert fuzzed.failures == []
    assert log.errors == []
