"""What every part of the transaction shares: the session, the dialect, small helpers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    CursorResult,
    Executable,
    Table,
    any_,
    bindparam,
    exists,
    literal_column,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from core import NotFoundError, TokenCipher, ValidationError

MYSQL = frozenset({"mysql", "mariadb"})
"""Dialect names of MySQL and MariaDB (SQLAlchemy names a ``mariadb://`` URL's dialect ``mariadb``)."""

MAX_IDS_PER_QUERY = 5000
"""Ids per batch lookup: under every database's bound-parameter limit (SQLite expands IN lists)."""


class TxBase:
    """Holds the unit of work's Session or Connection. The concept mixins (shops, jobs, ...) build on this.

    A writing unit of work is a Session. A read-only one is a Connection; ``_session`` then makes
    a Session on that connection (inside its transaction) the first time an ORM lookup needs
    one, so Core-only reads never pay for it. Core statements use ``_conn``.
    """

    def __init__(self, session: Session | None = None, *, connection: Connection | None = None,
                 cipher: TokenCipher | None = None) -> None:
        if (session is None) == (connection is None):
            raise TypeError("give a session or a connection")
        self._cipher = cipher if cipher is not None else TokenCipher()
        self._own_session: Session | None = session
        self._connection = connection
        self._lazy_session: Session | None = None
        bind = session.get_bind() if session is not None else connection.engine  # type: ignore[union-attr]
        self._dialect = bind.dialect.name
        self._pending_history: list[int] = []
        """MySQL: ids of the history rows this unit of work wrote, stamped at commit (:mod:`.mysql`)."""

    @property
    def _session(self) -> Session:
        if self._own_session is None:
            self._own_session = self._lazy_session = Session(bind=self._connection, expire_on_commit=False)
        return self._own_session

    @property
    def _conn(self) -> Connection:
        if self._connection is None:
            self._connection = self._session.connection()
        return self._connection

    def close(self) -> None:
        """Release the Session made for ORM lookups of a read-only unit of work, if any."""
        if self._lazy_session is not None:
            self._lazy_session.close()

    @property
    def _is_postgres(self) -> bool:
        return self._dialect == "postgresql"

    @property
    def _is_mysql(self) -> bool:
        return self._dialect in MYSQL

    def _insert(self, table: Table) -> Any:
        """A dialect ``INSERT`` that supports ``on_conflict_do_update`` / ``do_nothing``
        (``on_duplicate_key_update`` on MySQL)."""
        if self._is_mysql:
            from sqlalchemy.dialects import mysql

            return mysql.insert(table)
        if self._is_postgres:
            from sqlalchemy.dialects import postgresql  # loaded with a PostgreSQL engine; SQLite never needs it

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


CURRENT_TXID = literal_column("pg_current_xact_id()::text::bigint", BigInteger)
"""PostgreSQL: the id of the current transaction (64 bits, never wraps around)."""

OLDEST_RUNNING_TXID = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger)
"""PostgreSQL: every transaction with a smaller id has ended, as this statement's snapshot sees it."""


def in_ids(column: Any, dialect: str, name: str = "ids") -> ColumnElement[bool]:
    """``column`` is one of the ids bound to ``name`` (execute with a list): one array parameter
    on PostgreSQL, so the statement text, and psycopg's prepared statement, fit any number of ids;
    an expanding IN list on SQLite."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return cast(ColumnElement[bool], column == any_(bindparam(name, type_=postgresql.ARRAY(column.type))))
    return cast(ColumnElement[bool], column.in_(bindparam(name, expanding=True)))


def chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    """The distinct ids, sorted, in batches of at most :data:`MAX_IDS_PER_QUERY`."""
    unique = sorted(set(ids))
    for start in range(0, len(unique), MAX_IDS_PER_QUERY):
        yield unique[start : start + MAX_IDS_PER_QUERY]


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
