"""Finding the real services tests need: skip with a reason locally, fail under CI (CI=true)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_URL = os.environ.get("SYNC_GATEWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SYNC_GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(service: str, reason: str) -> None:
    """Skip locally; under CI a missing service is a failure, never a silent skip."""
    message = f"{service} is not available ({reason})"
    if in_ci():
        pytest.fail(message + " — CI must run every test", pytrace=False)
    pytest.skip(message)


def postgres_available() -> str | None:
    """None if PostgreSQL answers at POSTGRES_URL, else the reason."""
    import psycopg

    try:
        with psycopg.connect(_psycopg_dsn(POSTGRES_URL), connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:  # any failure means: not usable here
        return f"{POSTGRES_URL}: {exc.__class__.__name__}: {exc}".strip()
    return None


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database for one test, yield its SQLAlchemy URL, drop it afterwards."""
    import psycopg

    reason = postgres_available()
    if reason:
        unavailable("PostgreSQL", reason)
    name = f"sg_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = _psycopg_dsn(POSTGRES_URL)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_available() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"{REDIS_URL}: {exc.__class__.__name__}: {exc}"
    return None


def _psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
