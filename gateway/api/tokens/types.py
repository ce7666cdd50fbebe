"""API tokens: what the API shows of them (never the token itself, which is stored only hashed)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from core import ApiToken as CoreApiToken
from core import TokenRole as CoreTokenRole

from .. import ids
from ..system.types import Node

TokenRole = strawberry.enum(CoreTokenRole, name="TokenRole",
                            description="ADMIN may query and mutate; READ may only query.")


@strawberry.type
class ApiToken(Node):
    id: strawberry.ID
    name: str
    role: TokenRole
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_record(cls, t: CoreApiToken) -> ApiToken:
        return cls(id=strawberry.ID(ids.encode("ApiToken", t.id)), name=t.name, role=t.role,
                   created_at=t.created_at, last_used_at=t.last_used_at, revoked_at=t.revoked_at)
