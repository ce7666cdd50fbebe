"""Slowing or stalling a simulated shop's replies at will, while it serves.

A test that must outlast a run's lease stalls the shop (:meth:`ReplyControl.stall`), waits until
a request is held (:meth:`ReplyControl.wait_held`), lets the lease lapse, then releases it: the
worker process is alive all along, only its Shopify calls hang, as on a congested network. A
per-request ``delay`` (changeable at any moment) slows every reply without holding it.

Held requests poll a :class:`threading.Event` rather than awaiting an asyncio primitive, because
the app may be served by uvicorn on another thread's event loop than the test that controls it.
"""

from __future__ import annotations

import asyncio
import threading
import time

__all__ = ["ReplyControl"]

_POLL_SECONDS = 0.01


class ReplyControl:
    """Holds GraphQL replies while stalled and delays each by ``delay`` seconds. Thread-safe."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._held = 0
        self.delay = 0.0
        """Seconds every GraphQL request waits before it is handled (0: none)."""

    def stall(self) -> None:
        """Hold every GraphQL request (before it is executed or charged) until :meth:`release`."""
        self._open.clear()

    def release(self) -> None:
        """Let held requests, and all later ones, through."""
        self._open.set()

    @property
    def stalled(self) -> bool:
        return not self._open.is_set()

    @property
    def held(self) -> int:
        """How many requests are waiting right now (stalled or delayed)."""
        with self._lock:
            return self._held

    def wait_held(self, count: int = 1, timeout: float = 30.0) -> bool:
        """Block until at least ``count`` requests are held; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.held < count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)
        return True

    async def hold(self) -> None:
        """Called by the app for each GraphQL request: wait out the delay and any stall."""
        if self.delay <= 0 and self._open.is_set():
            return
        with self._lock:
            self._held += 1
        try:
            if self.delay > 0:
                await asyncio.sleep(self.delay)
            while not self._open.is_set():
                await asyncio.sleep(_POLL_SECONDS)
        finally:
            with self._lock:
                self._held -= 1
