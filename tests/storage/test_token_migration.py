"""Migration 0004: the plaintext tokens of an older database are encrypted, with the key only."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

from core import ConfigurationError, NewShop, Storage, StorageBackend, TokenCipher
from plugins.storage.sqlalchemy.backend import MIGRATIONS, SCHEMA_REVISION


def _downgrade_to_0003(storage: Storage) -> None:
    """The database as the release before encryption left it: plaintext tokens."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["token_cipher"] = storage.cipher  # type: ignore[attr-defined]
    with storage.engine.begin() as conn:  # type: ignore[attr-defined]
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")


def _raw(storage: Storage) -> list[tuple[str, str | None, str | None]]:
    with storage.engine.connect() as conn:  # type: ignore[attr-defined]
        return [tuple(row) for row in conn.execute(text("SELECT name, token, token_env FROM shops ORDER BY id"))]


def _revision(storage: Storage) -> str | None:
    with storage.engine.connect() as conn:  # type: ignore[attr-defined]
        return MigrationContext.configure(conn).get_current_revision()


@pytest.fixture
def plaintext_database(storage: Storage) -> Storage:
    with storage.transaction() as tx:
        tx.add_shop(NewShop(name="north", url="https://north.myshopify.com", token="shpat_north", api_version="2026-07"))
        tx.add_shop(NewShop(name="south", url="https://south.myshopify.com", token_env="SOUTH_TOKEN", api_version="2026-07"))
        tx.add_shop(NewShop(name="east", url="https://east.myshopify.com", token="shpat_east", api_version="2026-07"))
    _downgrade_to_0003(storage)
    assert _raw(storage) == [("north", "shpat_north", None), ("south", None, "SOUTH_TOKEN"),
                             ("east", "shpat_east", None)]
    return storage


def test_upgrading_encrypts_every_plaintext_token(plaintext_database: Storage) -> None:
    storage = plaintext_database
    storage.upgrade()

    assert _revision(storage) == SCHEMA_REVISION
    (north, south, east) = _raw(storage)
    assert south == ("south", None, "SOUTH_TOKEN")
    for name, stored, _env in (north, east):
        assert stored is not None and stored.startswith("fernet:") and f"shpat_{name}" not in stored
    with storage.transaction() as tx:
        assert [tx.shop_credentials(s.id).token for s in tx.list_shops()] == ["shpat_north", None, "shpat_east"]


def test_without_a_key_the_migration_fails_clearly_and_changes_nothing(
    plaintext_database: Storage, backend: StorageBackend, database_url: str
) -> None:
    keyless = backend.open(database_url, cipher=TokenCipher())
    try:
        with pytest.raises(ConfigurationError) as caught:
            keyless.upgrade()
    finally:
        keyless.dispose()

    message = str(caught.value)
    assert "2 shop access token(s) in plaintext" in message and "SYNC_GATEWAY_SECRET_KEY is not set" in message
    assert "secret-key generate" in message
    assert "shpat_" not in message
    assert _revision(plaintext_database) == "0003"
    assert _raw(plaintext_database)[0] == ("north", "shpat_north", None)


def test_without_tokens_to_encrypt_no_key_is_needed(
    storage: Storage, backend: StorageBackend, database_url: str
) -> None:
    with storage.transaction() as tx:
        tx.add_shop(NewShop(name="south", url="https://south.myshopify.com", token_env="SOUTH_TOKEN", api_version="2026-07"))
    _downgrade_to_0003(storage)

    keyless = backend.open(database_url, cipher=TokenCipher())
    try:
        keyless.upgrade()
    finally:
        keyless.dispose()
    assert _revision(storage) == SCHEMA_REVISION
