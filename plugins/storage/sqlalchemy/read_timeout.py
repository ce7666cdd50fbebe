"""Reads with a time limit that the database itself enforces.

* PostgreSQL: ``statement_timeout``, so every statement of the read is cancelled by the server
  once it has run that long (SQLSTATE 57014), whether or not anyone still waits for it. It is
  set on the session and remembered in the pooled connection's ``info``, and sent again only
  when a read wants another value (a read without a limit sets 0): the API's reads, which all
  want the same, cost no extra statement (``SET LOCAL`` cost one per request).
* MySQL and MariaDB: the session's ``max_statement_time`` (MariaDB, seconds) or
  ``max_execution_time`` (MySQL, milliseconds, SELECTs only: a read does nothing else), remembered
  like PostgreSQL's; the server stops the statement (errors 1969 and 3024).
* SQLite: a progress handler (``sqlite3.Connection.set_progress_handler``), called every
  :data:`PROGRESS_STEPS` virtual-machine instructions, interrupts the statement running once the
  read is older than the limit ("interrupted"); it is removed when the read ends.

:func:`timed_out` tells such a refusal from any other error of the driver.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

PROGRESS_STEPS = 10_000
"""SQLite instructions between two looks at the clock (about a tenth of a millisecond)."""

QUERY_CANCELED = "57014"
SESSION_TIMEOUT = "sync_gateway_statement_timeout"
"""Key in a connection's ``info``: the statement_timeout its session has (None: unknown)."""


@contextmanager
def time_limit(connection: Connection, seconds: float | None) -> Iterator[None]:
    """Within the block, the statements of ``connection``'s open transaction stop after ``seconds``."""
    if connection.dialect.name in SESSION_LIMITS:
        wanted = 0 if seconds is None else max(1, round(seconds * 1000))
        if connection.info.get(SESSION_TIMEOUT, 0) != wanted:
            connection.exec_driver_sql(_set_limit(connection, wanted))
            connection.info[SESSION_TIMEOUT] = wanted
        try:
            yield
        except BaseException:
            connection.info[SESSION_TIMEOUT] = None  # a rollback may have undone the SET: set it next time
            raise
        return
    if seconds is None:
        yield
        return
    raw: Any = connection.connection.driver_connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
    try:
        yield
    finally:
        raw.set_progress_handler(None, PROGRESS_STEPS)


SESSION_LIMITS = frozenset({"postgresql", "mysql", "mariadb"})
MYSQL_TIMEOUTS = frozenset({1969, 3024})
"""MariaDB's ER_STATEMENT_TIMEOUT and MySQL's ER_QUERY_TIMEOUT."""


def _set_limit(connection: Connection, milliseconds: int) -> str:
    if connection.dialect.name == "postgresql":
        return f"SET statement_timeout = {milliseconds}"
    if getattr(connection.dialect, "is_mariadb", False):
        return f"SET SESSION max_statement_time = {milliseconds / 1000:.3f}"
    return f"SET SESSION max_execution_time = {milliseconds}"


def timed_out(exc: SQLAlchemyError) -> bool:
    original = getattr(exc, "orig", None)
    if getattr(original, "sqlstate", None) == QUERY_CANCELED:
        return True
    args = getattr(original, "args", ())
    if type(original).__module__.startswith("pymysql") and args and args[0] in MYSQL_TIMEOUTS:
        return True
    return isinstance(original, sqlite3.OperationalError) and str(original) == "interrupted"
