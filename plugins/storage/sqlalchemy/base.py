"""What every part of the transaction shares: the session, the dialect, small helpers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Table, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core import NotFoundError, ValidationError


class TxBase:
    """Holds the caller's session. The concept mixins (shops, jobs, ...) build on this."""

    def __init__(self, session: Session) -> None:
        self._session = session
        bind = session.get_bind()
        self._dialect = bind.dialect.name

    @property
    def _is_postgres(self) -> bool:
        return self._dialect == "postgresql"

    def _insert(self, table: Table) -> Any:
        """A dialect ``INSERT`` that supports ``on_conflict_do_update`` / ``do_nothing``."""
        if self._is_postgres:
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _rowcount(self, stmt: Executable) -> int:
        """Execute an UPDATE or DELETE and return how many rows it matched."""
        return cast(CursorResult[Any], self._session.execute(stmt)).rowcount

    def _exists(self, table: Table, row_id: int) -> bool:
        return bool(self._session.scalar(select(exists().where(table.c.id == row_id))))

    def _require(self, table: Table, row_id: int, what: str) -> None:
        """Raise NotFoundError naming ``what`` and the id unless the row exists."""
        if not self._exists(table, row_id):
            raise NotFoundError(f"{what} {row_id} does not exist")


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime, field: str) -> datetime:
    """Reject naive datetimes at the edge, with the field name, before SQL sees them."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(f"{field} must be a timezone-aware datetime, got {value!r}", field=field)
    return value


def check_changes(changes: dict[str, Any], allowed: Iterable[str], what: str) -> None:
    allowed = set(allowed)
    for key in changes:
        if key not in allowed:
            raise ValidationError(
                f"cannot change {key!r} of a {what}", field=key, suggestion=f"changeable: {', '.join(sorted(allowed))}"
            )


def check_first(first: int) -> None:
    if first < 0:
        raise ValidationError(f"first must be zero or more, got {first}", field="first")
