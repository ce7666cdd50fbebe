"""docs/deploy/postgresql.sql, as an operator runs it: a role of its own owning its database, with
the timeouts docs/deploy.md recommends; the gateway then migrates and imports as that role."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import make_url

from plugins.shopify.simulator import ShopSimulator

from ..servers import seeded_shop, serving
from ..services import POSTGRES_URL, postgres_available, unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SQL = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "postgresql.sql"
TOKEN = "shpat_deploy_role_secret"


@dataclass(frozen=True)
class Role:
    name: str
    database: str
    password: str

    def url(self) -> str:
        admin = make_url(POSTGRES_URL)
        return f"postgresql://{self.name}:{self.password}@{admin.host}:{admin.port or 5432}/{self.database}"


def _statements(role: Role) -> list[str]:
    """The file's statements with this test's names (CREATE DATABASE refuses a transaction block,
    so they run one by one, as psql runs them)."""
    text = "\n".join(line for line in SQL.read_text().splitlines() if not line.lstrip().startswith("--"))
    text = text.replace("DATABASE sync_gateway", f"DATABASE {role.database}")
    text = re.sub(r"\bsync_gateway\b", role.name, text).replace("'change me'", f"'{role.password}'")
    return [statement.strip() for statement in text.split(";") if statement.strip()]


@pytest.fixture
def role() -> Iterator[Role]:
    import psycopg

    reason = postgres_available()
    if reason:
        unavailable("PostgreSQL", reason)
    suffix = secrets.token_hex(6)
    made = Role(f"sg_role_{suffix}", f"sg_db_{suffix}", secrets.token_urlsafe(16))
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in _statements(made):
            conn.execute(statement)  # the file's own SQL
    try:
        yield made
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{made.database}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{made.name}"')


@pytest.fixture
def sim_url() -> Iterator[str]:
    sim: ShopSimulator = seeded_shop("role-shop.myshopify.com", TOKEN, plan="standard", orders=60, seed=5, hours=3)
    with serving(sim.asgi_app) as url:
        yield url


def _cli(role: Role, tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_GATEWAY_") and k != "REDIS_URL"}
    env.update({"SYNC_GATEWAY_DATABASE_URL": role.url(), "SHOP_TOKEN": TOKEN, "COLUMNS": "250", **extra_env})
    done = subprocess.run([sys.executable, "-m", "gateway", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_role_migrates_and_imports_in_its_own_database(role: Role, sim_url: str, tmp_path: Path) -> None:
    import psycopg

    assert "up to date" in _cli(role, tmp_path, "db", "upgrade").stdout
    _cli(role, tmp_path, "shops", "add", "acme", "--url", sim_url, "--token-env", "SHOP_TOKEN")
    summary = _cli(role, tmp_path, "run", "canceled-items", "--shop", "acme").stdout.strip().splitlines()[-1]
    assert summary.startswith("✓ canceled-items acme: 60 orders in ")

    with psycopg.connect(role.url()) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("5min",)
        assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone() == ("5min",)
        owners = {row[0] for row in conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
    assert owners == {role.name}


def test_pgoptions_lifts_the_statement_timeout_for_one_command(role: Role, monkeypatch: pytest.MonkeyPatch) -> None:
    """As docs/deploy.md says for a long migration: libpq reads PGOPTIONS, and the role's
    setting gives way to it for that session only."""
    import psycopg

    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=0")
    with psycopg.connect(role.url()) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("0",)
    monkeypatch.delenv("PGOPTIONS")
    with psycopg.connect(role.url()) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("5min",)
