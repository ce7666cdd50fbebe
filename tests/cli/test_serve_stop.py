"""`sync-gateway serve` stopped as systemd stops it (SIGTERM) shuts down cleanly and exits 0: its
embedded worker and pools are closed, not cut off by the signal uvicorn raises again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from ..servers import free_port


def test_sigterm_stops_serve_cleanly_with_exit_0(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env["SYNC_GATEWAY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert serve.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert serve.returncode == 0, output
    assert "Traceback" not in output
