"""Shop access tokens at rest: encrypted in ``shops.token``, readable only with the key."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from core import (
    ConfigurationError,
    NewShop,
    Shop,
    Storage,
    StorageBackend,
    TokenCipher,
    ValidationError,
)
from core.token_cipher import generate_key

from ..conftest import TEST_SECRET_KEY

TOKEN = "shpat_north"  # the ``shop`` fixture's


def _raw_tokens(storage: Storage) -> list[str | None]:
    """What a copy of the database holds: the column itself, not read through the plugin."""
    with storage.engine.connect() as conn:  # type: ignore[attr-defined]
        return list(conn.execute(text("SELECT token FROM shops ORDER BY id")).scalars())


@contextmanager
def _opened(backend: StorageBackend, url: str, *keys: str) -> Iterator[Storage]:
    other = backend.open(url, cipher=TokenCipher(keys))
    try:
        yield other
    finally:
        other.dispose()


def test_a_copy_of_the_database_reveals_no_token(storage: Storage, shop: Shop) -> None:
    (raw,) = _raw_tokens(storage)

    assert raw is not None and raw != TOKEN
    assert TOKEN not in raw
    assert base64.b64encode(TOKEN.encode()).decode().rstrip("=") not in raw
    assert base64.urlsafe_b64encode(TOKEN.encode()).decode().rstrip("=") not in raw
    assert TOKEN.encode() not in base64.urlsafe_b64decode(raw.removeprefix("fernet:"))
    with storage.transaction() as tx:
        assert tx.shop_credentials(shop.id).token == TOKEN
        assert tx.get_shop(shop.id).has_token  # type: ignore[union-attr]


def test_a_changed_token_is_stored_encrypted_too(storage: Storage, shop: Shop) -> None:
    with storage.transaction() as tx:
        tx.update_shop(shop.id, token="shpat_changed")
    (raw,) = _raw_tokens(storage)
    assert raw is not None and "shpat_changed" not in raw
    with storage.transaction() as tx:
        assert tx.shop_credentials(shop.id).token == "shpat_changed"


def test_without_a_key_a_token_is_refused_and_nothing_changes(
    storage: Storage, shop: Shop, backend: StorageBackend, database_url: str
) -> None:
    with _opened(backend, database_url) as keyless:
        with keyless.transaction() as tx:
            with pytest.raises(ValidationError, match="SYNC_GATEWAY_SECRET_KEY is not set") as caught:
                tx.add_shop(NewShop(name="east", url="https://east.myshopify.com", token="shpat_east", api_version="2026-07"))
            assert caught.value.field == "token"
            with pytest.raises(ValidationError, match="SYNC_GATEWAY_SECRET_KEY is not set"):
                tx.update_shop(shop.id, url="https://moved.myshopify.com", token="shpat_other")
            # a token variable stores no secret: no key needed
            tx.add_shop(NewShop(name="west", url="https://west.myshopify.com", token_env="WEST_TOKEN", api_version="2026-07"))
            with pytest.raises(ConfigurationError, match="'north'.*SYNC_GATEWAY_SECRET_KEY is not set"):
                tx.shop_credentials(shop.id)

    with storage.transaction() as tx:
        assert [s.name for s in tx.list_shops()] == ["north", "west"]
        assert tx.get_shop(shop.id).url == "https://north.myshopify.com"  # type: ignore[union-attr]
        assert tx.shop_credentials(shop.id).token == TOKEN


def test_a_wrong_key_is_a_clear_error_naming_the_shop_and_no_secret(
    shop: Shop, backend: StorageBackend, database_url: str
) -> None:
    wrong = generate_key()
    with _opened(backend, database_url, wrong) as other, other.transaction() as tx:
        with pytest.raises(ConfigurationError) as caught:
            tx.shop_credentials(shop.id)
    message = str(caught.value)
    assert "shop 'north'" in message and "cannot be decrypted" in message
    for secret in (TOKEN, wrong, TEST_SECRET_KEY):
        assert secret not in message


def test_rotation_re_encrypts_every_token_with_the_new_key(
    storage: Storage, shop: Shop, backend: StorageBackend, database_url: str
) -> None:
    with storage.transaction() as tx:
        second = tx.add_shop(NewShop(name="east", url="https://east.myshopify.com", token="shpat_east", api_version="2026-07"))
        tx.add_shop(NewShop(name="west", url="https://west.myshopify.com", token_env="WEST_TOKEN", api_version="2026-07"))
    before = _raw_tokens(storage)
    new = generate_key()

    with _opened(backend, database_url, new, TEST_SECRET_KEY) as both, both.transaction() as tx:
        assert tx.rotate_shop_tokens() == 2

    after = _raw_tokens(storage)
    assert after[2] is None and all(a != b for a, b in zip(after[:2], before[:2]))
    with _opened(backend, database_url, new) as only_new, only_new.transaction() as tx:
        assert tx.shop_credentials(shop.id).token == TOKEN
        assert tx.shop_credentials(second.id).token == "shpat_east"


def test_a_rotation_that_meets_a_foreign_token_changes_nothing(
    storage: Storage, shop: Shop, backend: StorageBackend, database_url: str
) -> None:
    before = _raw_tokens(storage)
    with _opened(backend, database_url, generate_key()) as other:
        with pytest.raises(ConfigurationError, match="cannot be decrypted"):
            with other.transaction() as tx:
                tx.rotate_shop_tokens()
    assert _raw_tokens(storage) == before
