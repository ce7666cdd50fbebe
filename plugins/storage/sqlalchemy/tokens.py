"""API tokens of the gateway's own GraphQL API. Only a hash is stored; the caller hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core import ApiToken, NotFoundError, TokenRole, ValidationError

from .base import TxBase, aware, utcnow
from .convert import to_token
from .tables import ApiTokenRow


class TokensMixin(TxBase):
    def create_api_token(self, *, name: str, role: TokenRole, token_hash: str) -> ApiToken:
        if not token_hash:
            raise ValidationError("an API token needs a hash", field="token_hash")
        try:
            role_value = TokenRole(role).value
        except ValueError:
            raise ValidationError(f"unknown role {role!r}", field="role") from None
        row = ApiTokenRow(name=name, role=role_value, token_hash=token_hash, created_at=utcnow())
        try:
            with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError:
            # Never echo the hash: it identifies the token.
            raise ValidationError("an API token with this hash already exists", field="token_hash") from None
        return to_token(row)

    def find_api_token(self, token_hash: str) -> ApiToken | None:
        stmt = select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash, ApiTokenRow.revoked_at.is_(None))
        row = self._session.scalars(stmt).one_or_none()
        return to_token(row) if row is not None else None

    def get_api_token(self, token_id: int) -> ApiToken | None:
        row = self._session.get(ApiTokenRow, token_id)
        return to_token(row) if row is not None else None

    def touch_api_token(self, token_id: int, *, used_at: datetime) -> None:
        aware(used_at, "used_at")
        # Core UPDATE, not a loaded row: this runs on every authenticated request.
        done = self._rowcount(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=used_at))
        if not done:
            raise NotFoundError(f"API token {token_id} does not exist")

    def revoke_api_token(self, token_id: int, *, now: datetime) -> ApiToken:
        """Revoke the token; revoking it again keeps the first revocation time."""
        aware(now, "now")
        row = self._session.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFoundError(f"API token {token_id} does not exist")
        if row.revoked_at is None:
            row.revoked_at = now
            self._session.flush()
        return to_token(row)

    def list_api_tokens(self) -> list[ApiToken]:
        return [to_token(row) for row in self._session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))]
