"""What every command shares: the two consoles and the runtime it builds for itself.

Commands look these up as ``context.runtime()`` at call time (not ``from .context import
runtime``), so a test can observe how a command builds its runtime by replacing one name.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from core.runtime import Runtime
    from core.settings import Settings

console = Console()
err = Console(stderr=True)


def env_log_level() -> str:
    return (os.environ.get("SYNC_GATEWAY_LOG_LEVEL") or "").upper()


def setup_logging(settings: Settings) -> None:
    from .logs import setup_logging as setup

    setup(settings.log_level, settings.log_format, console=err)


def runtime(upgrade: bool = True) -> Runtime:
    """Settings from the environment, logging, then the runtime; start-up ends here (the
    collector runs again: :func:`gateway.startup.settle_heap`)."""
    from core.runtime import Runtime
    from core.settings import Settings

    from ..startup import settle_heap

    settings = Settings()
    setup_logging(settings)
    built = Runtime.build(settings, upgrade=upgrade)
    settle_heap()
    return built


def redacted(url: str) -> str:
    from core.settings import _redact_url

    return _redact_url(url) or ""
