"""`sync-gateway simulator` on its own port, then "Pointing it at a real shop" followed step by step
in another terminal: shops add with the printed URL and token, shops check, run canceled-items.
Real subprocesses, a real socket, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import TEST_SECRET_KEY
from ..servers import free_port
from .test_jobs import Terminal


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Terminal:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"SYNC_GATEWAY_DATABASE_URL": database_url, "SYNC_GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
                "COLUMNS": "250"})
    return Terminal(tmp_path, env)


@pytest.fixture
def simulator(cli: Terminal) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The simulator started as an admin starts it; yields the process and what it printed."""
    port = free_port()
    process = cli.start("simulator", "--orders", "150", "--port", str(port), "--seed", "3", "--plan", "advanced")
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while not lines or lines[-1] != "Ctrl-C to stop\n":
            line = process.stdout.readline()
            if not line:
                pytest.fail("the simulator exited early:\n" + "".join(lines) + (process.stderr.read() if process.stderr else ""))
            lines.append(line)
            assert time.monotonic() < deadline, "".join(lines)
        printed = "".join(lines)
        assert f"  url     http://127.0.0.1:{port}\n" in printed
        yield process, printed
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_the_simulator_stands_in_for_a_shop_from_add_to_import(cli: Terminal,
                                                              simulator: tuple[subprocess.Popen[str], str]) -> None:
    process, printed = simulator
    url = re.search(r"  url     (\S+)", printed).group(1)  # type: ignore[union-attr]
    token = re.search(r"  token   (shpat_\S+)", printed).group(1)  # type: ignore[union-attr]
    units = int(re.search(r"([\d,]+) units canceled", printed).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert "(Advanced plan, 150 orders, " in printed and "  domain  sim-shop.myshopify.com" in printed
    assert f"sync-gateway shops add sim --url {url} --token-env SIM_SHOP_TOKEN" in printed

    cli("shops", "add", "sim", "--url", url, "--token-env", "SIM_SHOP_TOKEN", SIM_SHOP_TOKEN=token)
    check = cli("shops", "check", "sim", SIM_SHOP_TOKEN=token).stdout
    assert check.startswith("✓ shop sim: Shopify shop sim-shop.myshopify.com") and "plan: Advanced" in check
    done = cli("run", "canceled-items", "--shop", "sim", SIM_SHOP_TOKEN=token)
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("✓ canceled-items sim: 150 orders in ") and f"/ {units:,} units canceled" in summary

    wrong = cli("shops", "check", "sim", SIM_SHOP_TOKEN="shpat_not_it", check=False)
    assert wrong.returncode == 1 and "BAD_TOKEN" in wrong.stdout


def test_the_same_seed_is_the_same_shop_and_ctrl_c_stops_it(cli: Terminal,
                                                             simulator: tuple[subprocess.Popen[str], str]) -> None:
    process, printed = simulator
    again = cli.start("simulator", "--orders", "150", "--port", "0", "--seed", "3", "--token", "shpat_fixed")
    try:
        assert again.stdout is not None
        lines = [again.stdout.readline() for _ in range(9)]
        assert lines[0].split("; seed")[0].split(" orders, ")[1] == printed.split("; seed")[0].split(" orders, ")[1]
        assert "  token   shpat_fixed\n" in lines and lines[-1] == "Ctrl-C to stop\n"
    finally:
        again.send_signal(signal.SIGINT)
        rest, _ = again.communicate(timeout=30)
    assert again.returncode == 0 and "stopped; served 0 requests" in rest

    busy = cli("simulator", "--port", printed.split("127.0.0.1:")[1].split()[0], check=False)
    assert busy.returncode == 1 and "cannot listen on 127.0.0.1:" in busy.stderr and "--port 0" in busy.stderr
    assert process.poll() is None  # the first one is still serving
