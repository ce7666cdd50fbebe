"""The connection check (core.connections) against the simulated shop over real SQLite: it reports
the shop, its plan and scopes, or the exact reason it failed, and never quotes the token."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from core import ConnectionProblem, NotFoundError
from core.connections import check_shop_connection
from core.jobcontrol import update_shop
from plugins.shopify.simulator import FaultConfig

from ..harness import SHOP_DOMAIN, TOKEN, Harness, fast_settings


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return fast_settings(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", shopify={"throttle_max_wait_seconds": 1,
                                                                                         "http_timeout_seconds": 2})


def test_a_good_shop_reports_its_plan_budget_and_scopes(settings) -> None:  # type: ignore[no-untyped-def]
    h = Harness.build(settings, plan="advanced")
    check = check_shop_connection(h.runtime, "demo")
    assert check.ok and check.problem is None
    assert (check.shop, check.domain, check.api_version) == ("demo", SHOP_DOMAIN, "2026-07")
    assert check.scopes == ("read_orders",) and check.missing_scopes == ()
    assert check.optional_missing_scopes == ("read_all_orders",)
    assert (check.plan, check.plan_premium) == ("Advanced", False)
    assert (check.api_points, check.api_restore_rate) == (4000.0, 200.0)
    assert "can read orders" in check.message and "60 days" in check.message
    assert check.checked_at is not None and check.seconds is not None
    assert h.sim.stats.requests == 1  # one query, however many facts


def test_a_wrong_token_is_bad_token_and_never_quoted(settings) -> None:  # type: ignore[no-untyped-def]
    h = Harness.build(settings)
    update_shop(h.runtime, h.shop.id, token="shpat_wrong_token_0123456789")
    check = check_shop_connection(h.runtime, "demo")
    assert not check.ok and check.problem is ConnectionProblem.BAD_TOKEN
    assert "refused the access token" in check.message
    assert "shpat_wrong" not in check.message and TOKEN not in check.message


def test_a_token_without_read_orders_is_missing_scope(settings) -> None:  # type: ignore[no-untyped-def]
    h = Harness.build(settings)
    h.sim.scopes = ("read_products",)
    check = check_shop_connection(h.runtime, "demo")
    assert not check.ok and check.problem is ConnectionProblem.MISSING_SCOPE
    assert check.missing_scopes == ("read_orders",) and check.scopes == ("read_products",)
    assert check.plan == "Basic"


def test_no_token_in_the_environment_is_no_token(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    h = Harness.build(settings)
    monkeypatch.delenv("SG_TEST_UNSET_TOKEN", raising=False)
    update_shop(h.runtime, h.shop.id, token=None, token_env="SG_TEST_UNSET_TOKEN")
    check = check_shop_connection(h.runtime, "demo")
    assert not check.ok and check.problem is ConnectionProblem.NO_TOKEN
    assert "$SG_TEST_UNSET_TOKEN" in check.message


def test_an_unserved_api_version_is_unknown_shop(settings) -> None:  # type: ignore[no-untyped-def]
    h = Harness.build(settings, api_version="2024-01")
    check = check_shop_connection(h.runtime, "demo")
    assert not check.ok and check.problem is ConnectionProblem.UNKNOWN_SHOP
    assert "HTTP 404" in check.message and "2024-01" in check.message


def test_a_closed_port_is_unreachable(settings) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    h = Harness.build(settings, url=f"http://127.0.0.1:{port}")
    check = check_shop_connection(h.runtime, "demo")
    assert not check.ok and check.problem is ConnectionProblem.UNREACHABLE
    assert "connection failed" in check.message


def test_a_throttle_storm_is_throttled(settings) -> None:  # type: ignore[no-untyped-def]
    h = Harness.build(settings)
    h.sim.faults = FaultConfig(throttle_storm=(1, 1000))
    check = check_shop_connection(h.runtime, "demo")
    assert not check.ok and check.problem is ConnectionProblem.THROTTLED
    assert "kept throttling" in check.message


def test_a_shop_that_does_not_answer_is_timeout(settings) -> None:  # type: ignore[no-untyped-def]
    h = Harness.build(settings)
    h.sim.stall()
    try:
        check = check_shop_connection(h.runtime, "demo", timeout=0.5)
    finally:
        h.sim.release()
    assert not check.ok and check.problem is ConnectionProblem.TIMEOUT
    assert "did not answer within 0.5 s" in check.message


def test_an_unknown_shop_name_is_not_found_and_changes_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    h = Harness.build(settings)
    with pytest.raises(NotFoundError, match="no shop named 'nope'"):
        check_shop_connection(h.runtime, "nope")
    assert h.sim.stats.requests == 0
