"""Opening a store: sync Engines per URL, a Session per unit of work, Alembic for the schema.

The API calls this storage from worker threads (``anyio.to_thread``) and the RQ worker calls it
directly; both share one Engine and its pool for writing units of work. Read-only units of work
(:meth:`SqlAlchemyStorage.read`, every API query) have an Engine and pool of their own, whose
connections are read-only from the moment they connect: a read then costs no per-transaction
switching, and runs on a bare Connection (an ORM Session is made only if an ORM lookup asks).

SQLite specifics, set on every new connection:

* ``journal_mode=WAL`` so readers never block the writer and vice versa;
* ``synchronous=NORMAL``, SQLite's advice for WAL: a commit no longer waits for an fsync (only
  checkpoints do), which took 17 ms a commit on a busy disk and capped webhook deliveries (a
  commit each) near 57 a second. An application crash still loses nothing; a power loss may
  roll back the last commits, which the next scheduled window reads again from the platform;
* ``busy_timeout=5000`` so a writer waits up to 5 s for another instead of failing at once;
* ``foreign_keys=ON`` so ``ON DELETE CASCADE`` works (SQLite ignores foreign keys otherwise);
* transactions begin ``IMMEDIATE``: the write lock is taken at BEGIN. A deferred transaction
  that reads and then writes fails with "database is locked" (SQLITE_BUSY_SNAPSHOT, which
  busy_timeout cannot retry) whenever another writer committed in between; taking the lock up
  front turns that into a short wait, and it is what serialises two writers of one page.
  The ``sqlite3`` driver's own transaction handling is turned off (it never sends BEGIN
  before a SELECT), as the SQLAlchemy documentation recommends.
* read-only units of work begin deferred, on ``query_only`` connections: they read a WAL
  snapshot without taking the write lock, so API queries neither wait for an import nor hold
  it up, and a write through them is refused. (An in-memory database has one connection, so
  there it is switched to ``query_only`` and back as readers and writers take turns.)

On PostgreSQL the read connections start every transaction ``READ ONLY`` and ``REPEATABLE READ``
(``default_transaction_read_only``, set when they connect): the statements of one unit of work
see one snapshot, which READ COMMITTED would not give, and a read-only transaction never fails
to serialise.

MySQL and MariaDB (``mysql://`` or ``mariadb://``, through PyMySQL, InnoDB tables in utf8mb4
compared exactly): writers run READ COMMITTED like PostgreSQL's; read connections are
``READ ONLY`` and ``REPEATABLE READ`` (one InnoDB snapshot per unit of work). What else differs,
upserts read back and the history's commit order, is in :mod:`.mysql`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from core import ConfigurationError, GatewayError, ReadTimeout, StorageError, TokenCipher

from .base import MYSQL
from .mysql import stamp_commit
from .read_timeout import time_limit, timed_out
from .tx import SqlAlchemyTx

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_REVISION = "0005"
"""The newest migration's revision (a test checks it is Alembic's head)."""
MIGRATION_LOCK = 7_245_119_301
"""PostgreSQL advisory lock key: two processes starting at once migrate one after the other."""
MIGRATION_LOCK_NAME = "sync_gateway_migrations"
"""The same, for MySQL's ``GET_LOCK``."""

READ_ONLY = "sync_gateway_read_only"
"""Execution option of the in-memory SQLite engine's read-only units of work."""

ENGINE_OPTIONS: dict[str, Any] = {
    # A failed INSERT of a shop must not print its access token in the error.
    "hide_parameters": True,
    # SQLite: a page's rows in one multi-row INSERT ... RETURNING (the default batch is 1,000
    # rows; SQLAlchemy still splits below the bound-parameter limit).
    "insertmanyvalues_page_size": 5000,
}


class SqlAlchemyBackend:
    """Serves ``sqlite``, ``postgresql`` (through psycopg 3) and ``mysql``/``mariadb`` URLs (through PyMySQL)."""

    name = "sqlalchemy"
    schemes: tuple[str, ...] = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg",
                                "mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql")

    def open(self, url: str, *, cipher: TokenCipher | None = None) -> SqlAlchemyStorage:
        return SqlAlchemyStorage(url, cipher=cipher)


SQLITE_BUSY_SECONDS = 5.0
"""How long a SQLite writer waits for another before failing (busy_timeout, and the
process's own writer turn)."""


class SqlAlchemyStorage:
    """An opened store. ``engine`` is public for tooling (migration checks, benchmarks)."""

    name = "sqlalchemy"

    def __init__(self, url: str, *, cipher: TokenCipher | None = None) -> None:
        self.url = normalize_url(url)
        self.cipher = cipher if cipher is not None else TokenCipher()
        if self.url.get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(self.url)
            if _in_memory(self.url):
                self.read_engine: Engine = self.engine.execution_options(**{READ_ONLY: True})
            else:
                self.read_engine = _sqlite_engine(self.url, read_only=True)
        elif self.url.get_backend_name() in MYSQL:
            self.url, pool = pool_options(self.url)
            self.engine = _mysql_engine(self.url, pool=pool)
            self.read_engine = _mysql_engine(self.url, pool=pool, read_only=True)
        else:
            self.url, pool = pool_options(self.url)
            self.engine = _postgres_engine(self.url, pool=pool)
            self.read_engine = _postgres_engine(self.url, pool=pool, read_only=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process wait their turn on a lock
        # instead of SQLite's busy handler, which polls with sleeps of up to 100 ms: with tens
        # of threads writing at once (webhook deliveries at 100/s), one could sleep past
        # busy_timeout and fail with "database is locked" while the lock was free most of the time.
        self._writer_lock = threading.RLock() if self.url.get_backend_name() == "sqlite" else None

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """This process's turn to write on SQLite (nothing elsewhere), waiting as long as
        busy_timeout would: a writer that never gets it fails as SQLite would have, instead of
        hanging (a thread holding a transaction while it waits for another writer, say)."""
        if self._writer_lock is None:
            yield
            return
        if not self._writer_lock.acquire(timeout=SQLITE_BUSY_SECONDS):
            raise StorageError(f"the database is locked: another writer of this process held it for "
                               f"{SQLITE_BUSY_SECONDS:g} s")
        try:
            yield
        finally:
            self._writer_lock.release()

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine that sends statements (the writers', the readers'), for tooling."""
        return (self.engine,) if self.read_engine.pool is self.engine.pool else (self.engine, self.read_engine)

    @contextmanager
    def transaction(self) -> Iterator[SqlAlchemyTx]:
        """A unit of work: commit when the block ends, roll back if it raises.

        Errors of the database itself (a refused write, a lost connection) surface as
        :class:`core.StorageError`; the gateway's own errors pass through unchanged.
        """
        try:
            with self._writer_turn(), self._sessions() as session, session.begin():
                tx = SqlAlchemyTx(session, cipher=self.cipher)
                yield tx
                if tx._pending_history:  # MySQL: the history's commit number, taken last
                    stamp_commit(tx)
        except GatewayError:
            raise
        except SQLAlchemyError as exc:
            raise StorageError(f"the database refused the operation: {_describe(exc)}") from exc

    @contextmanager
    def read(self, *, timeout_seconds: float | None = None) -> Iterator[SqlAlchemyTx]:
        """A unit of work that only reads: one snapshot, no write lock; writes are refused.

        With ``timeout_seconds`` the database stops it (see :mod:`.read_timeout`): on PostgreSQL
        each statement after that long, on SQLite any statement once the read is that old.
        """
        try:
            with self.read_engine.connect() as connection, connection.begin(), \
                    time_limit(connection, timeout_seconds):
                tx = SqlAlchemyTx(connection=connection, cipher=self.cipher)
                try:
                    yield tx
                finally:
                    tx.close()
        except GatewayError:
            raise
        except SQLAlchemyError as exc:
            if timeout_seconds is not None and timed_out(exc):
                raise ReadTimeout(f"the read took longer than {timeout_seconds:g} s and was stopped: "
                                  "ask for fewer rows or a narrower filter") from exc
            raise StorageError(f"the database refused the operation: {_describe(exc)}") from exc

    def upgrade(self) -> None:
        """Run ``alembic upgrade head`` with the migrations shipped in this package.

        A database already at :data:`SCHEMA_REVISION` costs one SELECT: every command builds a
        runtime, and importing and running Alembic took 0.35–0.5 s of each start-up.
        """
        if self._current_revision() == SCHEMA_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        config.attributes["token_cipher"] = self.cipher  # migration 0004 encrypts stored tokens
        try:
            if self.engine.dialect.name == "sqlite":
                self._upgrade_sqlite(config)
            elif self.engine.dialect.name in MYSQL:
                self._upgrade_mysql(config)
            else:
                with self.engine.begin() as conn:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise StorageError(f"migrating the database failed: {_describe(exc)}") from exc

    def _current_revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None  # no alembic_version table yet: a new database

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()

    def _upgrade_mysql(self, config: Any) -> None:
        from alembic import command

        # DDL commits on its own in MySQL, so the lock is the session's, not a transaction's.
        with self.engine.connect() as conn:
            if conn.execute(text("SELECT GET_LOCK(:name, 600)"), {"name": MIGRATION_LOCK_NAME}).scalar() != 1:
                raise StorageError("another process held the migration lock for ten minutes")
            conn.commit()  # the lock is the session's: it outlives the SELECT's transaction
            try:
                with conn.begin():
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
            finally:
                conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": MIGRATION_LOCK_NAME})
                conn.commit()

    def _upgrade_sqlite(self, config: Any) -> None:
        from alembic import command

        # Batch migrations rebuild tables (copy, drop, rename); with foreign keys on, dropping a
        # referenced table would cascade. SQLite can only switch them off outside a transaction.
        with self.engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise StorageError(f"migration left {len(broken)} rows with dangling foreign keys")
            finally:
                raw.execute("PRAGMA foreign_keys=ON")


def normalize_url(url: str) -> URL:
    """Parse ``url``; ``postgresql://`` becomes ``postgresql+psycopg://`` (psycopg 3, explicitly),
    ``mysql://`` and ``mariadb://`` name PyMySQL, and MySQL connections speak utf8mb4."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigurationError(f"cannot parse the database URL: {exc}") from None
    if parsed.drivername not in SqlAlchemyBackend.schemes:
        raise ConfigurationError(
            f"the sqlalchemy storage does not serve {parsed.drivername!r} URLs",
            suggestion=f"use one of {', '.join(SqlAlchemyBackend.schemes)}",
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in MYSQL:
        parsed = parsed.set(drivername=f"{parsed.drivername}+pymysql")
    if parsed.get_backend_name() in MYSQL and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


POOL_OPTIONS: dict[str, tuple[int, int | None]] = {
    "pool_size": (1, 1000),
    "max_overflow": (0, 1000),
    "pool_timeout": (1, 3600),
    "pool_recycle": (-1, None),
}
"""Connection-pool settings a PostgreSQL or MySQL URL may carry in its query string, with their bounds:
``postgresql://host/db?pool_size=20&max_overflow=5``. Each engine (the writers', the readers')
gets its own pool of that size."""

DEFAULT_POOL: dict[str, int] = {"pool_size": 10, "max_overflow": 10}
"""Ten steady connections per pool (SQLAlchemy's default is five): an API process answers
concurrent requests from worker threads. With five, sixteen clients on two API processes made
the pools open and close an overflow connection for most requests, and throughput fell from
about 310 to 225 requests per second (docs/benchmarks-graphql.md)."""


def pool_options(url: URL) -> tuple[URL, dict[str, int]]:
    """Split the pool settings off ``url`` (psycopg would refuse them as connection options)."""
    pool = dict(DEFAULT_POOL)
    for name, (low, high) in POOL_OPTIONS.items():
        raw = url.query.get(name)
        if raw is None:
            continue
        try:
            value = int(raw if isinstance(raw, str) else raw[-1])
        except ValueError:
            raise ConfigurationError(f"the database URL's {name} must be a whole number, not {raw!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise ConfigurationError(f"the database URL's {name} must be {bounds}, not {value}")
        pool[name] = value
    return url.difference_update_query(POOL_OPTIONS), pool


def _postgres_engine(url: URL, *, pool: dict[str, int], read_only: bool = False) -> Engine:
    if read_only:
        # UTC sessions: psycopg then returns timestamps in datetime.UTC, which UtcDateTime keeps as they are
        options = "-c default_transaction_read_only=on -c timezone=UTC"
        engine = create_engine(url, isolation_level="REPEATABLE READ", connect_args={"options": options},
                               **pool, **ENGINE_OPTIONS)
        _ping_when_idle(engine, IDLE_PING_SECONDS)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool, **ENGINE_OPTIONS)


def _mysql_engine(url: URL, *, pool: dict[str, int], read_only: bool = False) -> Engine:
    if read_only:
        engine = create_engine(url, isolation_level="REPEATABLE READ", **pool, **ENGINE_OPTIONS)

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")

        _ping_when_idle(engine, IDLE_PING_SECONDS)
        return engine
    return create_engine(url, isolation_level="READ COMMITTED", pool_pre_ping=True, **pool, **ENGINE_OPTIONS)


IDLE_PING_SECONDS = 2.0
"""Read connections unused for longer are checked before use (see :func:`_ping_when_idle`)."""


def _ping_when_idle(engine: Engine, after_seconds: float) -> None:
    """``pool_pre_ping`` for connections that sat in the pool for ``after_seconds`` or more.

    The readers serve every API request; pinging each checkout cost a round trip per request
    (about a tenth of its CPU). A connection in steady use is known to be alive; one that waited
    (the database may have restarted meanwhile) is pinged, and replaced if the ping fails, as
    pre-ping would. A restart while connections are in steady use costs their next statement an
    error, which also discards the rest of the pool.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < after_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool reconnects (up to three times) on DisconnectionError
            raise DisconnectionError(f"an idle connection failed its ping: {exc}") from exc


def _in_memory(url: URL) -> bool:
    return (url.database or "") in ("", ":memory:") or url.query.get("mode") == "memory"


def _sqlite_engine(url: URL, *, read_only: bool = False) -> Engine:
    database = url.database or ""
    in_memory = _in_memory(url)
    options: dict[str, Any] = dict(ENGINE_OPTIONS)
    # apply_page's statements vary with the page's row count; sqlite3's default cache of 128
    # prepared statements per connection grew a 200,000-order run to 422 MiB (109 with 8).
    connect_args: dict[str, Any] = {"cached_statements": 8}
    if in_memory:
        # One shared connection, or every checkout would see a new empty database. Good for a
        # quick single-threaded try-out only: concurrent transactions would share it.
        connect_args["check_same_thread"] = False
        options.update(poolclass=StaticPool, connect_args=connect_args)
    else:
        options.update(connect_args=connect_args)
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we send BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        if not in_memory:  # persistent in the file, but a reader may be the first to open it
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if read_only:
            conn.exec_driver_sql("BEGIN")
            return
        reading = bool(conn.get_execution_options().get(READ_ONLY))  # in memory: one connection, two modes
        if conn.info.get(READ_ONLY, False) is not reading:
            conn.exec_driver_sql(f"PRAGMA query_only={'ON' if reading else 'OFF'}")
            conn.info[READ_ONLY] = reading
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine


def _describe(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    detail = str(orig) if orig is not None else str(exc)
    return f"{type(orig or exc).__name__}: {detail.strip().splitlines()[0] if detail.strip() else ''}"
