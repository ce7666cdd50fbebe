"""Alembic migrations of the built-in storage (a package so a wheel ships them)."""
