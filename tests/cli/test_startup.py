"""The executable pauses the garbage collector while it starts, and every command that goes on
working turns it back on (a long-running server with the collector off would leak its cycles)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import startup


@pytest.fixture
def collector_state() -> Iterator[None]:
    """Restore the test process's collector however the test leaves it."""
    threshold = gc.get_threshold()
    yield
    startup._paused = False
    gc.unfreeze()
    gc.set_threshold(*threshold)
    gc.enable()


def run_python(code: str, tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env["SYNC_GATEWAY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'startup.db'}"
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_command_builds_its_runtime_with_the_collector_paused_then_resumes_it(tmp_path: Path) -> None:
    # What `sync-gateway shops list` does, observed from inside: the collector is off while
    # modules load and the runtime is built, on again (with start-up's objects frozen) after.
    out = run_python("""
        import gc, sys
        import core.runtime
        from gateway import startup
        from gateway.cli import context

        seen = {}
        build = core.runtime.Runtime.build.__func__

        def observed_build(cls, *args, **kwargs):
            seen["during build"] = gc.isenabled()
            return build(cls, *args, **kwargs)

        core.runtime.Runtime.build = classmethod(observed_build)
        real_runtime = context.runtime

        def observed_runtime(*args, **kwargs):
            runtime = real_runtime(*args, **kwargs)
            seen["after"] = gc.isenabled()
            seen["frozen"] = gc.get_freeze_count()
            return runtime

        context.runtime = observed_runtime
        sys.argv = ["sync-gateway", "shops", "list"]
        try:
            startup.main()
        except SystemExit as exit:
            assert not exit.code, exit.code
        print(seen["during build"], seen["after"], seen["frozen"] > 10_000)
    """, tmp_path)
    assert out.split()[-3:] == ["False", "True", "True"]


def test_the_collector_is_on_again_when_a_command_ends_without_a_runtime(tmp_path: Path) -> None:
    out = run_python("""
        import gc, sys
        from gateway import startup

        sys.argv = ["sync-gateway", "plugins"]
        try:
            startup.main()
        except SystemExit as exit:
            assert not exit.code, exit.code
        print("collector", gc.isenabled())
    """, tmp_path)
    assert out.split()[-2:] == ["collector", "True"]


@pytest.mark.usefixtures("collector_state")
def test_settling_without_a_paused_start_leaves_the_collector_as_it_was() -> None:
    # Tests and embedding applications import the CLI without the executable's start-up.
    gc.disable()
    frozen = gc.get_freeze_count()
    startup.settle_heap()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == frozen


@pytest.mark.usefixtures("collector_state")
def test_a_server_collects_and_freezes_its_start_up_heap_and_collects_young_objects_less_often() -> None:
    startup.settle_heap(collect=True, young_threshold=7000)
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == 7000
