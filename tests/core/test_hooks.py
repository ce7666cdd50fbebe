"""Every hook: documented in docs/plugin_hooks.md with its exact arguments, and tested here
through a real plugin manager, a real store and the simulated shop."""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from core import (
    CanceledLine,
    CanceledOrder,
    Cancellation,
    Job,
    JobRun,
    JobRunStatus,
    NewShop,
    PluginError,
    RunContext,
    RunOutcome,
    FetchStats,
    Shop,
    hookimpl,
)
from core.hookspecs import GatewaySpec
from core.jobcontrol import add_shop
from core.plugins import collect, describe_plugins, make_plugin_manager
from core.runtime import Runtime, open_storage

from ..harness import T0, Harness, fast_settings

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(name for name, _ in inspect.getmembers(GatewaySpec, inspect.isfunction))


def test_every_hook_is_documented_with_its_exact_arguments() -> None:
    doc = (ROOT / "docs" / "plugin_hooks.md").read_text()
    for name in HOOKS:
        args = [a for a in inspect.signature(getattr(GatewaySpec, name)).parameters if a != "self"]
        heading = f"### {name}({', '.join(args)})"
        assert heading in doc, f"docs/plugin_hooks.md lacks the section {heading!r}"


def test_every_hook_has_a_test_of_its_own() -> None:
    # here, and for the hooks that extend the API and the CLI, in test_extension_hooks.py
    source = "\n".join(path.read_text() for path in sorted(Path(__file__).parent.glob("test_*hooks.py")))
    missing = [name for name in HOOKS if not re.search(rf"^def test_hook_{name}\b", source, re.M)]
    assert missing == []


def test_an_unknown_hook_is_rejected_when_the_manager_is_built() -> None:
    class Typo:
        @hookimpl
        def on_itmes_canceled(self, shop: Shop) -> None: ...

    with pytest.raises(PluginError, match="on_itmes_canceled"):
        make_plugin_manager(load_entrypoints=False, extra=[Typo()])


def test_an_implementation_with_arguments_the_spec_lacks_is_rejected() -> None:
    class Wrong:
        @hookimpl
        def on_run_finished(self, shop: Shop, job: Job, run: JobRun, extra: int) -> None: ...

    with pytest.raises(PluginError, match="extra"):
        make_plugin_manager(load_entrypoints=False, extra=[Wrong()])


def test_built_in_plugins_load_through_the_entry_point_group() -> None:
    names = {info.name: info for info in describe_plugins(make_plugin_manager())}
    assert "register_sources" in names["shopify"].hooks
    assert "register_storages" in names["sqlalchemy_storage"].hooks
    assert "register_job_kinds" in names["core.defaults"].hooks


def test_load_plugins_allow_list_limits_entry_points() -> None:
    pm = make_plugin_manager(allow=["sqlalchemy_storage"])
    assert pm.get_plugin("shopify") is None
    assert pm.get_plugin("sqlalchemy_storage") is not None


def test_hook_register_sources(tmp_path: Path, sqlite_url: str) -> None:
    class OtherFactory:
        name = "other-platform"

        def create(self, **kwargs: Any) -> Any:
            raise NotImplementedError

    class Plugin:
        @hookimpl
        def register_sources(self) -> Sequence[Any]:
            return [OtherFactory()]

    runtime = Runtime.build(fast_settings(tmp_path, sqlite_url), pm=make_plugin_manager(extra=[Plugin()]))
    try:
        assert set(runtime.sources) == {"shopify", "other-platform"}
        shop, _ = add_shop(runtime, NewShop(name="elsewhere", url="https://example.test", source="other-platform",
                                            token="t"))
        assert shop.source == "other-platform"
    finally:
        runtime.close()

    class Duplicate:
        @hookimpl
        def register_sources(self) -> Sequence[Any]:
            return [OtherFactory(), OtherFactory()]

    with pytest.raises(PluginError, match="other-platform"):
        Runtime.build(fast_settings(tmp_path, sqlite_url), pm=make_plugin_manager(extra=[Duplicate()]))


def test_hook_register_storages(tmp_path: Path, sqlite_url: str) -> None:
    builtin = make_plugin_manager()
    (sqlalchemy_backend,) = collect(builtin, "register_storages")
    opened: list[str] = []

    class RecordingBackend:
        name = "recording"
        schemes = ("sqlite", "recording")

        def open(self, url: str, *, cipher: Any = None) -> Any:
            opened.append(url)
            return sqlalchemy_backend.open(url.replace("recording://", "sqlite://", 1), cipher=cipher)

    class Plugin:
        @hookimpl(tryfirst=True)
        def register_storages(self) -> Sequence[Any]:
            return [RecordingBackend()]

    pm = make_plugin_manager(extra=[Plugin()])
    storage = open_storage(pm, sqlite_url)
    storage.upgrade()
    with storage.transaction() as tx:
        assert tx.list_shops() == []
    storage.dispose()
    assert opened == [sqlite_url]
    with pytest.raises(Exception, match="no storage plugin serves database URLs of scheme 'mssql'"):
        open_storage(pm, "mssql://nowhere/db")  # mysql:// is the built-in storage's now


def test_hook_register_job_kinds(tmp_path: Path, sqlite_url: str) -> None:
    seen: list[RunContext] = []

    class Heartbeat:
        name = "heartbeat"
        description = "does nothing, records that it ran"
        create_per_shop = True

        async def run(self, context: RunContext) -> RunOutcome:
            seen.append(context)
            return RunOutcome(orders_seen=0, items_canceled=0, units_canceled=0, orders_canceled=0, pages=0,
                              stats=FetchStats())

    class Plugin:
        @hookimpl
        def register_job_kinds(self) -> Sequence[Any]:
            return [Heartbeat()]

    h = Harness.build(fast_settings(tmp_path, sqlite_url), plugins=(Plugin(),))
    try:
        with h.runtime.storage.transaction() as tx:
            kinds = {job.kind: job for job in tx.list_jobs()}
            assert set(kinds) == {"canceled-items", "heartbeat"}
            run = tx.create_run(job_id=kinds["heartbeat"].id, trigger=__import__("core").RunTrigger.MANUAL)
        from core.runs import execute_run

        final = execute_run(h.runtime, run.id)
        assert final.status is JobRunStatus.SUCCEEDED
        assert len(seen) == 1 and seen[0].shop.name == "demo"
    finally:
        h.close()


def test_hook_register_webhook_receivers(tmp_path: Path, sqlite_url: str) -> None:
    from core import WebhookEvent

    class EchoReceiver:
        source = "other-platform"

        def verify(self, *, headers: Any, body: bytes, settings: Any) -> WebhookEvent:
            return WebhookEvent(source=self.source, shop_domain="x.test", topic="t", delivery_id="1", order_ids=())

    class Plugin:
        @hookimpl
        def register_webhook_receivers(self) -> Sequence[Any]:
            return [EchoReceiver()]

    runtime = Runtime.build(fast_settings(tmp_path, sqlite_url), pm=make_plugin_manager(extra=[Plugin()]))
    try:
        assert set(runtime.webhook_receivers) == {"shopify", "other-platform"}
        event = runtime.webhook_receivers["other-platform"].verify(headers={}, body=b"", settings=runtime.settings)
        assert event.source == "other-platform"
    finally:
        runtime.close()

    class Twice:
        @hookimpl
        def register_webhook_receivers(self) -> Sequence[Any]:
            return [EchoReceiver()]

    with pytest.raises(PluginError, match="webhook receiver 'other-platform'"):
        Runtime.build(fast_settings(tmp_path, sqlite_url), pm=make_plugin_manager(extra=[Plugin(), Twice()]))


class Recorder:
    """A plugin that records every notification it receives."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def on_run_started(self, shop: Shop, job: Job, run: JobRun) -> None:
        self.calls.append(("on_run_started", {"shop": shop, "job": job, "run": run}))

    @hookimpl
    def on_items_canceled(self, shop: Shop, run: JobRun | None, cancellations: Sequence[Cancellation],
                          lines: Sequence[CanceledLine]) -> None:
        self.calls.append(("on_items_canceled", {"shop": shop, "run": run, "cancellations": list(cancellations),
                                                 "lines": list(lines)}))

    @hookimpl
    def on_orders_canceled(self, shop: Shop, run: JobRun | None, order_ids: Sequence[str],
                           orders: Sequence[CanceledOrder]) -> None:
        self.calls.append(("on_orders_canceled", {"shop": shop, "run": run, "order_ids": list(order_ids),
                                                  "orders": list(orders)}))

    @hookimpl
    def on_run_finished(self, shop: Shop, job: Job, run: JobRun) -> None:
        self.calls.append(("on_run_finished", {"shop": shop, "job": job, "run": run}))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for hook, kwargs in self.calls if hook == name]


def _shop_with_story(tmp_path: Path, url: str, recorder: Recorder) -> tuple[Harness, dict[str, str]]:
    h = Harness.build(fast_settings(tmp_path, url, page_size=2), plugins=(recorder,))
    a = h.sim.create_order(lines=[("A", 3)], name="#1042")
    (line_a,) = h.sim.line_item_ids(a)
    refund_a = h.sim.cancel_units(a, line_a, 2)  # at T0, the simulator's clock
    b = h.sim.create_order(lines=[("B", 1)], name="#1043")
    h.sim.cancel_order(b, reason="INVENTORY", refund=True)
    for n in range(3):
        h.sim.create_order(lines=[(f"C{n}", 1)])
    h.advance(600)
    return h, {"a": a, "line_a": line_a, "refund_a": refund_a, "b": b}


def test_hook_on_run_started(tmp_path: Path, sqlite_url: str) -> None:
    recorder = Recorder()
    h, _ = _shop_with_story(tmp_path, sqlite_url, recorder)
    try:
        run = h.run()
        (call,) = recorder.named("on_run_started")
        assert call["run"].id == run.id
        assert call["run"].status is JobRunStatus.RUNNING
        assert call["run"].window_thru == run.window_thru
        assert call["job"].kind == "canceled-items"
    finally:
        h.close()

    class Veto:
        @hookimpl
        def on_run_started(self, shop: Shop, job: Job, run: JobRun) -> None:
            raise RuntimeError("maintenance window")

    h, _ = _shop_with_story(tmp_path / "veto", sqlite_url.replace("store.db", "veto.db"), Recorder())
    h.runtime.pm.register(Veto())
    try:
        failed = h.run()
        assert failed.status is JobRunStatus.FAILED
        assert h.watermark() == failed.window_from  # the first window's start, not its end
        assert h.stored_canceled() == {}
    finally:
        h.close()


def test_hook_on_items_canceled(tmp_path: Path, sqlite_url: str) -> None:
    recorder = Recorder()
    h, ids = _shop_with_story(tmp_path, sqlite_url, recorder)
    try:
        run = h.run()
        calls = recorder.named("on_items_canceled")
        assert 1 <= len(calls) <= run.pages  # once per page that canceled something, never per record
        units = {}
        for call in calls:
            assert call["run"].id == run.id
            for c in call["cancellations"]:
                units[c.item_id] = units.get(c.item_id, 0) + c.quantity
        assert sum(units.values()) == run.units_canceled == 2 + 1

        # The same changes in business keys: what a warehouse needs, no internal id.
        lines = {line.line_gid: line for call in calls for line in call["lines"]}
        assert len(lines) == sum(len(call["cancellations"]) for call in calls) == 2
        line = lines[ids["line_a"]]
        assert (line.shop, line.order_gid, line.order_name) == ("demo", ids["a"], "#1042")
        assert (line.sku, line.title, line.quantity) == ("A", "Product A", 3)
        assert (line.units, line.canceled_total) == (2, 2)
        assert line.reason == "refund: cancel"
        assert [r["refund"] for r in line.evidence["refundLines"]] == [ids["refund_a"]]
        assert line.canceled_at == T0
        assert line.cancellation_id in {c.id for call in calls for c in call["cancellations"]}
        whole = next(line for line in lines.values() if line.order_gid == ids["b"])
        assert (whole.order_name, whole.sku, whole.units, whole.canceled_total) == ("#1043", "B", 1, 1)
        assert whole.reason == "order canceled (inventory)"

        recorder.calls.clear()
        h.run(window_from=run.window_from, window_thru=run.window_thru)
        assert recorder.named("on_items_canceled") == []  # nothing new, no call
    finally:
        h.close()


def test_hook_on_orders_canceled(tmp_path: Path, sqlite_url: str) -> None:
    recorder = Recorder()
    h, ids = _shop_with_story(tmp_path, sqlite_url, recorder)
    try:
        h.run()
        (call,) = recorder.named("on_orders_canceled")
        assert call["order_ids"] == [ids["b"]]
        (order,) = call["orders"]
        assert (order.shop, order.order_gid, order.order_name, order.reason) == ("demo", ids["b"], "#1043",
                                                                                 "INVENTORY")
        assert order.canceled_at == T0
    finally:
        h.close()


def test_a_listener_may_take_only_the_arguments_it_needs(tmp_path: Path, sqlite_url: str) -> None:
    """A plugin written before ``lines`` and ``orders`` existed keeps receiving its calls."""
    heard: list[tuple[str, int]] = []

    class Before:
        @hookimpl
        def on_items_canceled(self, cancellations: Sequence[Cancellation]) -> None:
            heard.append(("items", sum(c.quantity for c in cancellations)))

        @hookimpl
        def on_orders_canceled(self, order_ids: Sequence[str]) -> None:
            heard.append(("orders", len(order_ids)))

    h, _ = _shop_with_story(tmp_path, sqlite_url, Recorder())
    h.runtime.pm.register(Before())
    try:
        h.run()
        assert sum(n for what, n in heard if what == "items") == 3
        assert [n for what, n in heard if what == "orders"] == [1]
    finally:
        h.close()


def test_hook_on_run_finished(tmp_path: Path, sqlite_url: str) -> None:
    recorder = Recorder()
    h, _ = _shop_with_story(tmp_path, sqlite_url, recorder)

    class Broken:
        @hookimpl
        def on_run_finished(self, shop: Shop, job: Job, run: JobRun) -> None:
            raise RuntimeError("a listener's bug must not fail the run")

    h.runtime.pm.register(Broken())
    try:
        run = h.run()
        assert run.status is JobRunStatus.SUCCEEDED
        (call,) = recorder.named("on_run_finished")
        assert call["run"].status is JobRunStatus.SUCCEEDED
        assert call["run"].units_canceled == run.units_canceled
        assert call["shop"].name == "demo"
    finally:
        h.close()
