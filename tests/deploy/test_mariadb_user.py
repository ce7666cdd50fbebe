"""docs/deploy/mariadb.sql, as an operator runs it: a user of its own with the grants
docs/deploy.md names; the gateway then migrates (both ways) and stores a page as that user."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import make_url

from core import NewShop, TokenCipher
from core.plugins import make_plugin_manager
from core.runtime import open_storage
from core.testing import TEST_SECRET_KEY
from core.testing.storage.factories import at, judged, line, order

from ..services import MARIADB_URL, _mariadb_admin, mariadb_available, unavailable

pytestmark = pytest.mark.mariadb

SQL = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "mariadb.sql"


@dataclass(frozen=True)
class User:
    name: str
    database: str
    password: str

    def url(self) -> str:
        admin = make_url(MARIADB_URL)
        return f"mysql+pymysql://{self.name}:{self.password}@{admin.host}:{admin.port or 3306}/{self.database}"


def _statements(user: User) -> list[str]:
    text = "\n".join(line for line in SQL.read_text().splitlines() if not line.lstrip().startswith("--"))
    text = text.replace("sync_gateway.*", f"{user.database}.*").replace("DATABASE sync_gateway", f"DATABASE {user.database}")
    text = re.sub(r"'sync_gateway'@", f"'{user.name}'@", text).replace("'change me'", f"'{user.password}'")
    return [statement.strip() for statement in text.split(";") if statement.strip()]


@pytest.fixture
def user() -> Iterator[User]:
    reason = mariadb_available()
    if reason:
        unavailable("MariaDB", reason)
    suffix = secrets.token_hex(6)
    made = User(f"sg_user_{suffix}", f"sg_db_{suffix}", secrets.token_urlsafe(16))
    with _mariadb_admin() as conn, conn.cursor() as cursor:
        for statement in _statements(made):
            cursor.execute(statement)  # the file's own SQL
    try:
        yield made
    finally:
        with _mariadb_admin() as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{made.database}`")
            cursor.execute(f"DROP USER IF EXISTS '{made.name}'@'%'")


def test_the_user_migrates_both_ways_and_stores_a_page(user: User) -> None:
    from alembic import command
    from alembic.config import Config

    from plugins.storage.sqlalchemy.backend import MIGRATIONS

    storage = open_storage(make_plugin_manager(), user.url(), cipher=TokenCipher([TEST_SECRET_KEY]))
    try:
        storage.upgrade()
        with storage.transaction() as tx:
            shop = tx.add_shop(NewShop(name="north", url="https://north.myshopify.com", token="shpat_north", api_version="2026-07"))
            stored = tx.apply_page(shop_id=shop.id, run_id=None, now=at(1),
                                   verdicts=judged(order(1, line(10, quantity=3, canceled=2))))
        with storage.read() as tx:
            assert tx.list_cancellations(first=10).items == stored.cancellations
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with storage.engine.begin() as conn:  # type: ignore[attr-defined]
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        storage.upgrade()
    finally:
        storage.dispose()
