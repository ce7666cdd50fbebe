"""API tokens for the GraphQL API: random, shown once, stored only as a SHA-256 hash.

Tokens carry 256 bits of randomness, so a fast hash is enough (no password stretching needed),
and lookups stay one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets

from .errors import ValidationError
from .models import ApiToken, TokenRole
from .runtime import Runtime

PREFIX = "sgw_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(runtime: Runtime, *, name: str, role: TokenRole | str) -> tuple[ApiToken, str]:
    """Create a token; returns its record and the plaintext, which is never stored or shown again."""
    try:
        role = TokenRole(role)
    except ValueError:
        raise ValidationError(f"role must be 'admin' or 'read', got {role!r}", field="role") from None
    name = name.strip()
    if not name:
        raise ValidationError("a token needs a name (who or what uses it)", field="name")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    with runtime.storage.transaction() as tx:
        record = tx.create_api_token(name=name, role=role, token_hash=hash_token(plaintext))
    return record, plaintext


def authenticate(runtime: Runtime, token: str | None) -> ApiToken | None:
    """The live token record for a presented bearer token, or None."""
    if not token:
        return None
    with runtime.storage.transaction() as tx:
        record = tx.find_api_token(hash_token(token))
        if record is not None:
            tx.touch_api_token(record.id, used_at=runtime.now())
    return record
