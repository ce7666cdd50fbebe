"""API tokens: only hashes are stored, revoked tokens no longer authenticate."""

from __future__ import annotations

import pytest

from core import NotFoundError, Storage, TokenRole, ValidationError

from ..factories import T0, at


def test_a_token_is_found_by_its_hash_until_revoked(storage: Storage) -> None:
    with storage.transaction() as tx:
        token = tx.create_api_token(name="ci", role=TokenRole.READ, token_hash="sha256:aaa")
        assert (token.name, token.role, token.revoked_at, token.last_used_at) == ("ci", TokenRole.READ, None, None)
        assert tx.find_api_token("sha256:aaa") == token
        assert tx.find_api_token("sha256:other") is None
        revoked = tx.revoke_api_token(token.id, now=T0)
        assert revoked.revoked_at == T0
        assert tx.find_api_token("sha256:aaa") is None
        # revoking twice keeps the first time
        assert tx.revoke_api_token(token.id, now=at(5)).revoked_at == T0
        assert tx.list_api_tokens() == [revoked]


def test_using_a_token_records_when(storage: Storage) -> None:
    with storage.transaction() as tx:
        token = tx.create_api_token(name="admin", role=TokenRole.ADMIN, token_hash="sha256:bbb")
        tx.touch_api_token(token.id, used_at=at(3))
    with storage.transaction() as tx:
        assert tx.find_api_token("sha256:bbb").last_used_at == at(3)  # type: ignore[union-attr]


def test_token_hashes_are_unique_and_never_echoed(storage: Storage) -> None:
    with storage.transaction() as tx:
        tx.create_api_token(name="one", role=TokenRole.READ, token_hash="sha256:ccc")
        with pytest.raises(ValidationError) as caught:
            tx.create_api_token(name="two", role=TokenRole.ADMIN, token_hash="sha256:ccc")
        assert caught.value.field == "token_hash" and "ccc" not in str(caught.value)
        assert [t.name for t in tx.list_api_tokens()] == ["one"]


def test_unknown_token_ids_are_named(storage: Storage) -> None:
    with storage.transaction() as tx:
        with pytest.raises(NotFoundError, match="API token 404"):
            tx.touch_api_token(404, used_at=T0)
        with pytest.raises(NotFoundError, match="API token 404"):
            tx.revoke_api_token(404, now=T0)
