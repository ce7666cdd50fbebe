"""Storage plugins shipped with the gateway (the built-in SQLAlchemy one lives in ``sqlalchemy``)."""
