"""The readers' connection pool: an idle connection the server dropped is replaced unseen."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core import StorageBackend


@pytest.mark.postgres
def test_a_reader_connection_that_died_while_idle_is_replaced(
        backend: StorageBackend, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The readers ping a pooled connection only once it has sat idle (pinging every checkout cost
    a round trip per API request); a dead idle one is replaced before anyone uses it."""
    from plugins.storage.sqlalchemy import backend as sqlalchemy_backend

    monkeypatch.setattr(sqlalchemy_backend, "IDLE_PING_SECONDS", 0.0)  # every checkout counts as idle
    storage = backend.open(postgres_url)
    storage.upgrade()
    try:
        with storage.read() as tx:
            pid = tx._conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()  # type: ignore[attr-defined]
        with storage.transaction() as tx:  # the server drops the idle reader (as a restart would)
            tx._session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})  # type: ignore[attr-defined]
        with storage.read() as tx:
            assert tx.list_shops() == []
            assert tx._conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid  # type: ignore[attr-defined]
    finally:
        storage.dispose()
