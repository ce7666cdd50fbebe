"""Shop access tokens encrypted at rest, with `cryptography`'s Fernet and key rotation.

The keys come from ``SYNC_GATEWAY_SECRET_KEY`` (:attr:`core.Settings.secret_key`): Fernet keys
separated by commas. The first encrypts; every one decrypts (``MultiFernet``). To rotate, put a
new key first and keep the old one after it until ``sync-gateway secret-key rotate`` has
re-encrypted every stored token with the new key; then the old one can go.

A stored token is :data:`PREFIX` followed by a Fernet token (AES-128-CBC with an HMAC-SHA256,
both keyed by the secret key). A copy of the database without the key holds no token, nor
anything a token can be computed from. Errors name the setting, never a key or a token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import ConfigurationError, ValidationError
from .settings import Settings

PREFIX = "fernet:"
"""Marks a stored value as encrypted (migration 0004 encrypts the values without it)."""

KEY_SETTING = "SYNC_GATEWAY_SECRET_KEY"
GENERATE_HINT = "`sync-gateway secret-key generate` prints a new key"


class TokenCipher:
    """Encrypts and decrypts stored access tokens; without keys it can do neither.

    Build it with :meth:`from_settings`; ``TokenCipher()`` has no key (a storage opened without
    one refuses to store a token and cannot read an encrypted one).
    """

    def __init__(self, keys: Iterable[str] = ()) -> None:
        fernets: list[Fernet] = []
        given = [key.strip() for key in keys if key.strip()]
        for position, key in enumerate(given, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # the key itself never goes into the message, only its place in the list
                raise ConfigurationError(
                    f"{KEY_SETTING} holds a value that is not a Fernet key (key {position} of {len(given)}; "
                    "a key is 32 bytes in url-safe base64, 44 characters)",
                    suggestion=GENERATE_HINT,
                ) from None
        self._fernet = MultiFernet(fernets) if fernets else None
        self.key_count = len(fernets)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCipher:
        secret = settings.secret_key
        return cls(secret.get_secret_value().split(",") if secret is not None else ())

    @property
    def has_key(self) -> bool:
        return self._fernet is not None

    def __repr__(self) -> str:
        return f"TokenCipher(keys={self.key_count})"

    @staticmethod
    def is_encrypted(stored: str) -> bool:
        return stored.startswith(PREFIX)

    def encrypt(self, token: str) -> str:
        """The value to store for ``token``; ValidationError(field="token") without a key."""
        if self._fernet is None:
            raise ValidationError(
                f"storing an access token needs an encryption key, and {KEY_SETTING} is not set",
                field="token",
                suggestion=f"{GENERATE_HINT}; or store no secret at all: give the name of an environment "
                "variable that holds the token (accessTokenEnv, --token-env), the recommended way",
            )
        return PREFIX + self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The token stored as ``stored``; ConfigurationError when no configured key opens it."""
        return self._open(stored, self._require_key().decrypt).decode("utf-8")

    def rotate(self, stored: str) -> str:
        """``stored`` encrypted again with the first key (it may have been encrypted with any)."""
        return PREFIX + self._open(stored, self._require_key().rotate).decode("ascii")

    def _require_key(self) -> MultiFernet:
        if self._fernet is None:
            raise ConfigurationError(
                f"the stored access tokens are encrypted, and {KEY_SETTING} is not set",
                suggestion=f"set {KEY_SETTING} to the key they were encrypted with",
            )
        return self._fernet

    @staticmethod
    def _open(stored: str, step: Callable[[bytes], bytes]) -> bytes:
        if not TokenCipher.is_encrypted(stored):
            raise ConfigurationError(
                "a stored access token is not encrypted", suggestion="run `sync-gateway db upgrade`, "
                "whose migration 0004 encrypts it")
        try:
            return step(stored[len(PREFIX):].encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise ConfigurationError(
                f"a stored access token cannot be decrypted with the keys in {KEY_SETTING}: "
                "it was encrypted with another key, or it was altered",
                suggestion=f"list the key it was encrypted with in {KEY_SETTING}, after the current one",
            ) from None


def generate_key() -> str:
    """A new random Fernet key, for ``SYNC_GATEWAY_SECRET_KEY``."""
    return Fernet.generate_key().decode("ascii")
