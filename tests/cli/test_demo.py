"""`sync-gateway demo` in a subprocess, as a newcomer runs it: it starts, imports, answers a
GraphQL query and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from core import TokenCipher

from ..servers import free_port

pytestmark = pytest.mark.slow


def test_demo_starts_imports_answers_graphql_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env["COLUMNS"] = "200"
    demo = subprocess.Popen([sys.executable, "-m", "gateway", "demo", "--port", str(port), "--orders", "300"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        assert demo.stdout is not None
        while not any("try" in line for line in lines):
            line = demo.stdout.readline()
            if not line:
                pytest.fail("demo exited early:\n" + "".join(lines))
            lines.append(line)
            assert time.monotonic() < deadline, "demo did not start in time:\n" + "".join(lines)
        output = "".join(lines)
        assert "matches the simulator's ground truth" in output, output
        imported = re.search(r"first import\s+300 orders read in [\d.]+s — [\d,]+ items / ([\d,]+) units canceled", output)
        assert imported, output
        read_token = re.search(r"read token\s+(\S+)", output).group(1)  # type: ignore[union-attr]
        admin_token = re.search(r"admin token\s+(\S+)", output).group(1)  # type: ignore[union-attr]
        assert f"http://127.0.0.1:{port}/graphql" in output
        assert (tmp_path / ".sync-gateway" / "demo.db").exists()  # SQLite in the local data folder
        key_file = tmp_path / ".sync-gateway" / "demo-secret.key"  # no key set: the demo made its own
        assert "token key" in output and ".sync-gateway/demo-secret.key (mode 0600" in output
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        assert TokenCipher([key]).has_key and key not in output
        with sqlite3.connect(tmp_path / ".sync-gateway" / "demo.db") as db:
            (stored,) = db.execute("SELECT token FROM shops").fetchone()
        assert stored.startswith("fernet:") and "shpat_demo_simulated" not in stored

        query = "{ jobs { kind lastRun { status unitsCanceled ordersSeen } } }"
        reply = httpx2.post(f"http://127.0.0.1:{port}/graphql", json={"query": query},
                            headers={"Authorization": f"Bearer {read_token}"}, timeout=10).json()
        (job,) = reply["data"]["jobs"]
        assert job["kind"] == "canceled-items"
        assert job["lastRun"] == {"status": "SUCCEEDED", "ordersSeen": 300,
                                  "unitsCanceled": int(imported.group(1).replace(",", ""))}
        denied = httpx2.post(f"http://127.0.0.1:{port}/graphql",
                             json={"query": 'mutation { pauseJob(jobId: "gid://sync-gateway/Job/1") { job { paused } } }'},
                             headers={"Authorization": f"Bearer {read_token}"}, timeout=10).json()
        assert denied["errors"] and denied.get("data") in (None, {"pauseJob": None})
        paused = httpx2.post(f"http://127.0.0.1:{port}/graphql",
                             json={"query": 'mutation { pauseJob(jobId: "gid://sync-gateway/Job/1") { job { paused } userErrors { message } } }'},
                             headers={"Authorization": f"Bearer {admin_token}"}, timeout=10).json()
        assert paused["data"]["pauseJob"] == {"job": {"paused": True}, "userErrors": []}, json.dumps(paused)
    finally:
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, rest
    assert "stopped cleanly" in rest


def test_another_terminal_pastes_the_demos_lines_and_the_cli_reads_its_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"COLUMNS": "200", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})
    demo = subprocess.Popen([sys.executable, "-m", "gateway", "demo", "--port", "0", "--orders", "60"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 120
        while not any(line.lstrip().startswith("try ") for line in lines):
            line = demo.stdout.readline()
            if not line:
                pytest.fail("demo exited early:\n" + "".join(lines))
            lines.append(line)
            assert time.monotonic() < deadline, "demo did not start in time:\n" + "".join(lines)
        output = "".join(lines)
        database = tmp_path / ".sync-gateway" / "demo.db"
        assert f"    export SYNC_GATEWAY_DATABASE_URL=sqlite:///{database}\n" in output
        key_file = tmp_path / ".sync-gateway" / "demo-secret.key"
        assert f'    export SYNC_GATEWAY_SECRET_KEY="$(cat {key_file})"\n' in output
        assert re.search(r"simulated shop\s+demo-shop\.myshopify\.com at http://127\.0\.0\.1:\d+ ", output)
        assert re.search(r"shop token\s+shpat_demo_simulated\s", output)
        block = output.split("paste:\n", 1)[1].splitlines()
        pasted = [line.strip() for line in block[:block.index("    sync-gateway jobs list") + 1]]

        # A new terminal, in another folder (the CLI's default would be ./.sync-gateway/sync-gateway.db).
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        script = "\n".join([*pasted, "sync-gateway jobs list --json", "sync-gateway shops check demo"])
        done = subprocess.run(["bash", "-ec", script], cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        table, rest = done.stdout.split("\n[", 1)
        assert "demo" in table and "canceled-items" in table and "SUCCEEDED" in table
        document, check = ("[" + rest).rsplit("]\n", 1)
        (job,) = json.loads(document + "]")
        assert (job["shop"], job["kind"], job["lastRun"]["status"]) == ("demo", "canceled-items", "SUCCEEDED")
        assert job["lastRun"]["ordersSeen"] == 60
        assert check.startswith("✓ shop demo: Shopify shop demo-shop.myshopify.com")  # the key decrypts its token
        assert not (elsewhere / ".sync-gateway").exists()  # no second database
    finally:
        demo.send_signal(signal.SIGINT)
        rest_of_output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, rest_of_output
