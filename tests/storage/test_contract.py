"""The storage contract suite (core.testing.storage) on the built-in storage, on every database
``database_url`` gives (tests/storage/conftest.py): the same tests a third-party storage runs."""

from core.testing.storage.contract import *  # noqa: F403
