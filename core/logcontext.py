"""Fields every log line of a unit of work carries (a run's id, shop, job kind and window).

``with log_fields(run_id=7, shop="acme"):`` puts them in a context variable; :class:`LogFields`,
a filter on the handlers, copies them onto each record, so a JSON line or a console line can show
them without every ``log.info`` call repeating them. Context variables follow the work into
``anyio.to_thread`` and its event loop; a plain thread is started inside :func:`carry_into`.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

FIELDS = ("run_id", "shop", "job_kind", "window_from", "window_thru")
"""The fields a run's lines carry (JSON keys and LogRecord attributes)."""

_fields: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("sync_gateway_log_fields", default={})


@contextmanager
def log_fields(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every log record made inside the block (None values are left out)."""
    token = _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _fields.reset(token)


def add_log_fields(**fields: Any) -> None:
    """Add fields for the rest of the enclosing :func:`log_fields` block (which undoes them)."""
    _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})


def current_fields() -> dict[str, Any]:
    return dict(_fields.get())


def carry_into(target: Callable[[], None]) -> Callable[[], None]:
    """``target`` run in a copy of this context: a thread's lines carry the fields of its starter."""
    context = contextvars.copy_context()
    return lambda: context.run(target)


class LogFields(logging.Filter):
    """Copies the current fields onto each record (as attributes); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _fields.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


__all__ = ["FIELDS", "LogFields", "add_log_fields", "carry_into", "current_fields", "log_fields"]
