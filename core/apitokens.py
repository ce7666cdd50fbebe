"""API tokens for the GraphQL API: random, shown once, stored only as a SHA-256 hash.

Tokens carry 256 bits of randomness, so a fast hash is enough (no password stretching needed).

Authentication sits on every request's path, so it touches the database only when it must:

* ``last_used_at`` is written at most once per :data:`TOUCH_INTERVAL` per token, not on every
  request (a write, and on PostgreSQL a WAL flush, per API call otherwise);
* a process may keep positive lookups in a :class:`TokenCache` for a few seconds
  (:data:`DEFAULT_CACHE_SECONDS`). Unknown tokens are never cached, so a new token works at once.

Revocation bound: :func:`revoke_token` given the process's cache evicts the token, so it stops
working in that process at once. Any other process (a second API worker, an API server when
the token is revoked from the CLI) may still accept it for at most its cache's ``ttl_seconds``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from .errors import ValidationError
from .models import ApiToken, TokenRole
from .runtime import Runtime
from .validation import api_token_name

PREFIX = "sgw_"

TOUCH_INTERVAL = timedelta(minutes=1)
"""``last_used_at`` is at most this much older than the token's last use."""

DEFAULT_CACHE_SECONDS = 5.0
"""How long a :class:`TokenCache` trusts a positive lookup (the revocation bound across processes)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenCache:
    """Positive token lookups of one process, each trusted for ``ttl_seconds``.

    Build one per API process (never module state); pass it to :func:`authenticate`,
    :func:`cached_token` and :func:`revoke_token`. Safe to share between threads. Ages are measured
    on the monotonic clock, so a test's or a simulator's clock cannot stretch them.
    """

    def __init__(self, ttl_seconds: float = DEFAULT_CACHE_SECONDS, *, max_entries: int = 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_seconds < 0:
            raise ValidationError("a token cache's ttl cannot be negative", field="ttl_seconds")
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, ApiToken]] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Changes on every eviction; read it before a lookup and hand it to :meth:`put`."""
        return self._generation

    def get(self, token_hash: str) -> ApiToken | None:
        """The cached record, or None if absent or older than the ttl."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        stored_at, record = entry
        if self._clock() - stored_at >= self.ttl_seconds:
            with self._lock:
                if self._entries.get(token_hash) is entry:
                    del self._entries[token_hash]
            return None
        return record

    def put(self, token_hash: str, record: ApiToken, generation: int) -> None:
        """Remember a live token, unless a token was evicted since ``generation`` was read (that
        lookup may predate a revocation)."""
        if self.ttl_seconds <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= self.max_entries and token_hash not in self._entries:
                del self._entries[next(iter(self._entries))]  # the oldest insertion
            self._entries[token_hash] = (self._clock(), record)

    def forget(self, token_id: int) -> None:
        """Evict every entry of the token (after it was revoked)."""
        with self._lock:
            self._generation += 1
            for token_hash in [h for h, (_, r) in self._entries.items() if r.id == token_id]:
                del self._entries[token_hash]


def issue_token(runtime: Runtime, *, name: str, role: TokenRole | str) -> tuple[ApiToken, str]:
    """Create a token; returns its record and the plaintext, which is never stored or shown again."""
    try:
        role = TokenRole(role)
    except ValueError:
        raise ValidationError(f"role must be 'admin' or 'read', got {role!r}", field="role") from None
    name = api_token_name(name)
    plaintext = PREFIX + secrets.token_urlsafe(32)
    with runtime.storage.transaction() as tx:
        record = tx.create_api_token(name=name, role=role, token_hash=hash_token(plaintext))
    return record, plaintext


def cached_token(cache: TokenCache, token: str, now: datetime) -> ApiToken | None:
    """The record of ``token`` when ``cache`` can answer without the database (a live entry, no
    touch due); None means "ask :func:`authenticate`", not "invalid". Never blocks."""
    record = cache.get(hash_token(token)) if token else None
    if record is None or _touch_due(record, now):
        return None
    return record


def authenticate(runtime: Runtime, token: str | None, *, cache: TokenCache | None = None) -> ApiToken | None:
    """The live token record for a presented bearer token (``last_used_at`` as just recorded), or None."""
    if not token:
        return None
    token_hash = hash_token(token)
    generation = cache.generation if cache is not None else 0
    record = cache.get(token_hash) if cache is not None else None
    if record is None:
        with runtime.storage.read() as tx:
            record = tx.find_api_token(token_hash)
        if record is None:
            return None
    now = runtime.now()
    if _touch_due(record, now):
        with runtime.storage.transaction() as tx:
            tx.touch_api_token(record.id, used_at=now)
        record = replace(record, last_used_at=now)
    if cache is not None:
        cache.put(token_hash, record, generation)
    return record


def revoke_token(runtime: Runtime, token_id: int, *, cache: TokenCache | None = None) -> ApiToken:
    """Revoke a token (NotFoundError if unknown; revoking twice keeps the first time) and evict
    it from ``cache``: it stops working at once in this process (see the module's bound)."""
    with runtime.storage.transaction() as tx:
        record = tx.revoke_api_token(token_id, now=runtime.now())
    if cache is not None:
        cache.forget(token_id)
    return record


def _touch_due(record: ApiToken, now: datetime) -> bool:
    return record.last_used_at is None or now - record.last_used_at >= TOUCH_INTERVAL
