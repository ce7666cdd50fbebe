"""Finding the real services tests need: skip with a reason locally, fail under CI (CI=true)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

POSTGRES_URL = os.environ.get("SYNC_GATEWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MARIADB_URL = os.environ.get("SYNC_GATEWAY_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")
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


def mariadb_available() -> str | None:
    """None if MariaDB (or MySQL) answers at MARIADB_URL, else the reason."""
    try:
        with _mariadb_admin() as conn, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means: not usable here
        return f"{MARIADB_URL}: {exc.__class__.__name__}: {exc}".strip()
    return None


@contextmanager
def fresh_mariadb_database() -> Iterator[str]:
    """Create an empty database for one test (utf8mb4, compared exactly), yield its URL, drop it afterwards."""
    reason = mariadb_available()
    if reason:
        unavailable("MariaDB", reason)
    name = f"sg_test_{uuid.uuid4().hex[:12]}"
    with _mariadb_admin() as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    try:
        yield MARIADB_URL.rstrip("/") + f"/{name}"
    finally:
        with _mariadb_admin() as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def _mariadb_admin() -> Any:
    import pymysql
    from sqlalchemy import make_url

    url = make_url(MARIADB_URL)
    return pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
                           password=url.password or "", connect_timeout=3, autocommit=True)


def redis_available() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"{REDIS_URL}: {exc.__class__.__name__}: {exc}"
    return None


def _psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
