"""Fixtures of the example's tests: a real HTTPS receiver with a self-signed CA, the plugin on
the path (in-process) and installed as a distribution (for the real ``sync-gateway`` in a
subprocess), and an environment that never reads the developer's settings.

The repo's ``pytest`` collects this folder (``testpaths`` in the root pyproject.toml); run alone:
``pytest examples/cancellation_webhooks/tests``.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

EXAMPLE = Path(__file__).resolve().parents[1]
REPO = EXAMPLE.parents[1]
for path in (EXAMPLE, REPO):  # the plugin package, and the gateway's test helpers (tests.harness)
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

SECRET = "whsec-test-only-not-a-real-secret"
TEST_SECRET_KEY = "dGVzdHMtb25seS1rZXktbm90LWEtc2VjcmV0LTAwMDA="


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("SYNC_GATEWAY_"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("SYNC_GATEWAY_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The gateway's database, which holds the outbox's tables too: real SQLite, real PostgreSQL
    (a fresh database per test; skipped with its reason when absent, a failure under CI)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
    else:
        from tests.services import fresh_postgres_database

        with fresh_postgres_database() as url:
            yield url


# --- TLS: a CA of the test's own and a certificate for 127.0.0.1 it signed --------------------

@dataclass(frozen=True)
class Tls:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("test CA")).issuer_name(_name("test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    tls = Tls(ca_file=folder / "ca.pem", cert_file=folder / "server.pem", key_file=folder / "server.key")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return tls


# --- the receiver: a real HTTPS server that checks each signature -------------------------------

@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]
    verified: bool


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)
    """Status codes to answer, in turn; when empty, ``default``."""
    default: int = 200
    hold: threading.Event | None = None
    """When set to an Event, each request waits for it before answering (a delivery in flight)."""
    got_one: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)

    def verified_ids(self) -> list[int]:
        return [r.body["cancellationId"] for r in self.received if r.verified]


@pytest.fixture
def receiver(tls: Tls) -> Iterator[Receiver]:
    from cancellation_webhooks.body import verify

    state: dict[str, Receiver] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            me = state["r"]
            me.received.append(Received(headers=dict(self.headers), body=json.loads(raw),
                                        verified=verify(SECRET.encode(), dict(self.headers), raw)))
            me.got_one.set()
            if me.hold is not None:
                me.hold.wait(30)
            code = me.answers.pop(0) if me.answers else me.default
            try:
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the deliverer was killed while we held its request

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state["r"] = Receiver(url=f"https://127.0.0.1:{server.server_address[1]}/hooks/cancellations")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["r"]
    finally:
        if state["r"].hold is not None:
            state["r"].hold.set()
        server.shutdown()
        server.server_close()


# --- the plugin installed, for subprocesses -------------------------------------------------------

@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A ``.dist-info`` registering the plugin in the ``sync_gateway`` group, as pip would write it."""
    root = tmp_path / "site"
    info = root / "sync_gateway_cancellation_webhooks-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sync-gateway-cancellation-webhooks\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[sync_gateway]\ncancellation_webhooks = cancellation_webhooks\n")
    return root


@pytest.fixture
def own_values(receiver: Receiver, tls: Tls) -> dict[str, Any]:
    """``[plugins.cancellation_webhooks]`` for the receiver: its URL, the secret, the test CA."""
    return {"endpoint_url": receiver.url, "secret": SECRET, "ca_bundle": str(tls.ca_file),
            "backoff_seconds": 10, "max_attempts": 3}


@dataclass
class GatewayCli:
    """The real ``sync-gateway`` (``python -m gateway``) with the plugin installed, its settings
    in ``SYNC_GATEWAY_CANCELLATION_WEBHOOKS__<KEY>`` variables."""

    env: dict[str, str]
    cwd: Path

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "gateway", *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args), env=self.env, cwd=self.cwd, capture_output=True, text=True,
                              timeout=timeout)

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*args), env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


@pytest.fixture
def gateway_cli(tmp_path: Path, site: Path, own_values: dict[str, Any], database_url: str) -> GatewayCli:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"PYTHONPATH": os.pathsep.join([str(site), str(EXAMPLE), str(REPO)]),
                "SYNC_GATEWAY_DATABASE_URL": database_url,
                "SYNC_GATEWAY_DATA_DIR": str(tmp_path / "data"), "SYNC_GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
                "SYNC_GATEWAY_CANCELLATION_WEBHOOKS__POLL_SECONDS": "0.2", "COLUMNS": "200"})
    env.update({f"SYNC_GATEWAY_CANCELLATION_WEBHOOKS__{key.upper()}": str(value) for key, value in own_values.items()})
    return GatewayCli(env=env, cwd=tmp_path)
