"""Shop access tokens encrypted at rest: every plaintext ``shops.token`` is encrypted.

It needs the key (``SYNC_GATEWAY_SECRET_KEY``) when there is a token to encrypt, and fails
without one, changing nothing. Downgrading decrypts the tokens again (and needs the key too).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from alembic import context, op

from core import ConfigurationError, Settings, TokenCipher

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the table as this revision knows it, not as the models may describe it later
shops = sa.table("shops", sa.column("id", sa.Integer()), sa.column("token", sa.Text()))


def upgrade() -> None:
    plaintext = [(pk, token) for pk, token in _stored_tokens() if not TokenCipher.is_encrypted(token)]
    if not plaintext:
        return
    cipher = _cipher()
    if not cipher.has_key:
        raise ConfigurationError(
            f"the database holds {len(plaintext)} shop access token(s) in plaintext, which migration 0004 "
            "encrypts, and SYNC_GATEWAY_SECRET_KEY is not set; nothing was changed",
            suggestion="`sync-gateway secret-key generate` prints a key: set it as SYNC_GATEWAY_SECRET_KEY, "
            "keep it safe (the tokens cannot be read without it) and start again",
        )
    _write((pk, cipher.encrypt(token)) for pk, token in plaintext)


def downgrade() -> None:
    encrypted = [(pk, token) for pk, token in _stored_tokens() if TokenCipher.is_encrypted(token)]
    if encrypted:
        cipher = _cipher()
        _write([(pk, cipher.decrypt(token)) for pk, token in encrypted])  # all decrypted before one is written


def _cipher() -> TokenCipher:
    """The storage's own cipher; from the settings when the Alembic command line runs this."""
    given = context.config.attributes.get("token_cipher")
    return given if isinstance(given, TokenCipher) else TokenCipher.from_settings(Settings())


def _stored_tokens() -> list[tuple[int, str]]:
    query = sa.select(shops.c.id, shops.c.token).where(shops.c.token.is_not(None)).order_by(shops.c.id)
    return [(pk, token) for pk, token in op.get_bind().execute(query)]


def _write(values: Iterable[tuple[int, str]]) -> None:
    bind = op.get_bind()
    for pk, token in values:
        bind.execute(shops.update().where(shops.c.id == pk).values(token=token))
