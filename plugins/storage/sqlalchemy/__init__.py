"""The built-in storage plugin: SQLite, PostgreSQL and MySQL/MariaDB through SQLAlchemy 2, schema owned by Alembic.

Loaded through the ``sqlalchemy_storage`` entry point like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Sequence

from core import StorageBackend, hookimpl

from .backend import SqlAlchemyBackend


@hookimpl
def register_storages() -> Sequence[StorageBackend]:
    return [SqlAlchemyBackend()]
