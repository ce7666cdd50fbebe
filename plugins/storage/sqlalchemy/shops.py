"""Shops: the stores we sync. The access token is written here, encrypted by the storage's
:class:`core.TokenCipher`, and read (decrypted) only by ``shop_credentials``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core import ConfigurationError, NewShop, NotFoundError, Shop, ShopCredentials, ValidationError

from .base import TxBase, check_changes, utcnow
from .convert import to_shop
from .tables import ShopRow

SHOP_CHANGES = ("url", "api_version", "token", "token_env", "options")


class ShopsMixin(TxBase):
    def add_shop(self, shop: NewShop) -> Shop:
        if not shop.name:
            raise ValidationError("a shop needs a name", field="name")
        if not shop.api_version:
            # NewShop leaves it None for the caller to resolve (the source's default); a store
            # never guesses one, and a NOT NULL violation would read as a taken name below.
            raise ValidationError("a shop needs an API version", field="api_version")
        row = ShopRow(
            name=shop.name,
            source=shop.source,
            url=shop.url,
            api_version=shop.api_version,
            token=self._sealed(shop.token),
            token_env=shop.token_env,
            options=dict(shop.options),
            created_at=utcnow(),
        )
        try:
            # A savepoint, so a taken name leaves the caller's transaction usable.
            with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError:
            raise ValidationError(f"a shop named {shop.name!r} already exists", field="name") from None
        return to_shop(row)

    def update_shop(self, shop_id: int, **changes: Any) -> Shop:
        check_changes(changes, SHOP_CHANGES, "shop")
        row = self._shop_row(shop_id)
        if changes.get("token") is not None:
            changes["token"] = self._sealed(changes["token"])  # before any change: a refusal changes nothing
        for key, value in changes.items():
            setattr(row, key, dict(value) if key == "options" else value)
        self._session.flush()
        return to_shop(row)

    def remove_shop(self, shop_id: int) -> None:
        self._shop_row(shop_id)
        # Jobs, runs, watermarks, orders, items, history and deliveries go with it through
        # ON DELETE CASCADE (SQLite enforces it because the backend turns foreign_keys on).
        self._session.execute(delete(ShopRow).where(ShopRow.id == shop_id))
        # Rows deleted by the cascade may still sit in the identity map; drop them all.
        self._session.expunge_all()

    def get_shop(self, shop_id: int) -> Shop | None:
        row = self._session.get(ShopRow, shop_id)
        return to_shop(row) if row is not None else None

    def get_shop_by_name(self, name: str) -> Shop | None:
        row = self._session.scalars(select(ShopRow).where(ShopRow.name == name)).one_or_none()
        return to_shop(row) if row is not None else None

    def list_shops(self) -> list[Shop]:
        return [to_shop(row) for row in self._session.scalars(select(ShopRow).order_by(ShopRow.id))]

    def shop_credentials(self, shop_id: int) -> ShopCredentials:
        row = self._shop_row(shop_id)
        token = _for_shop(row, self._cipher.decrypt) if row.token is not None else None
        return ShopCredentials(token=token, token_env=row.token_env)

    def rotate_shop_tokens(self) -> int:
        rows = list(self._session.scalars(select(ShopRow).where(ShopRow.token.is_not(None)).order_by(ShopRow.id)))
        for row in rows:
            row.token = _for_shop(row, self._cipher.rotate)
        self._session.flush()
        return len(rows)

    def _sealed(self, token: str | None) -> str | None:
        return self._cipher.encrypt(token) if token is not None else None

    def _shop_row(self, shop_id: int) -> ShopRow:
        row = self._session.get(ShopRow, shop_id)
        if row is None:
            raise NotFoundError(f"shop {shop_id} does not exist")
        return row


def _for_shop(row: ShopRow, step: Callable[[str], str]) -> str:
    """``step`` (decrypt, rotate) of the row's token; an error names the shop it failed for."""
    assert row.token is not None
    try:
        return step(row.token)
    except ConfigurationError as exc:
        raise ConfigurationError(f"shop {row.name!r}: {exc.message}", suggestion=exc.suggestion) from None
