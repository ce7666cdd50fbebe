"""How a command logs: rich console lines (default) or one JSON object a line (``LOG_FORMAT=json``).

JSON lines are for log shippers (journald, Loki, CloudWatch): each has ``time`` (UTC, ISO 8601),
``level``, ``logger`` and ``message``, the fields of the unit of work it belongs to (``run_id``,
``shop``, ``job_kind``, ``window_from``, ``window_thru``: :mod:`core.logcontext`) and, for an
error, ``exception``. Either way, anything shaped like an access token or API token is masked
before it is written: messages never carry one on purpose; this catches a library that quotes one.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from core.logcontext import FIELDS, LogFields

# Shopify access tokens (shpat_, shpca_, shppa_...), our API tokens (sgw_), bearer headers
SECRET_SHAPES = re.compile(r"\b(shp[a-z]{2}_|sgw_)[A-Za-z0-9_\-]{6,}|(?i:bearer\s+)[A-Za-z0-9_\-.]{8,}")

CHATTY = ("alembic", "gql", "rq.worker", "httpx", "httpx2", "httpcore", "httpcore2")
"""gql logs whole response bodies (order data) at DEBUG; alembic, rq and httpx narrate at INFO
(a log line per Shopify request, rendered by rich, cost measurable time on every page)."""


def mask(text: str) -> str:
    return SECRET_SHAPES.sub(lambda m: (m.group(1) or m.group(0).split()[0] + " ") + "***", text)


class MaskSecrets(logging.Filter):
    """Masks secret-shaped strings in the rendered message (and drops the args it rendered)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (it may be replaced after start-up)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup_logging(level: str, log_format: str, *, console: Any = None, quiet: tuple[str, ...] = ()) -> None:
    """Configure the root logger once per process (a forked work-horse inherits it)."""
    handler: logging.Handler
    if log_format == "json":
        handler = _Stderr()
        handler.setFormatter(JsonLines())
    else:
        from rich.logging import RichHandler

        handler = RichHandler(console=console, show_path=False)
        handler.setFormatter(logging.Formatter("%(message)s", datefmt="[%X]"))
    handler.addFilter(LogFields())
    handler.addFilter(MaskSecrets())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in (*CHATTY, *quiet):
        logging.getLogger(name).setLevel(logging.WARNING)
