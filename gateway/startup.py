"""The ``sync-gateway`` executable's start-up: the cyclic garbage collector waits until it is over.

Loading the gateway (SQLAlchemy, pydantic, gql, httpx, typer) allocates about 170,000 container
objects, none of them garbage. With the default thresholds the collector runs every 700 of
those allocations, and each older-generation pass walks the whole growing heap again. Waiting
took a 2,000-order ``sync-gateway run canceled-items`` from 1.45 s to 1.22 s (medians, side by
side: docs/benchmarks.md). So :func:`main` pauses the collector before anything is imported, and
:func:`settle_heap` (called once the process is assembled: after the runtime is built) freezes
what start-up made, so later collections skip it, and turns the collector back on.

Only the executable does this; importing :mod:`gateway.cli.app` (tests, embedding) changes nothing.
"""

from __future__ import annotations

import gc

_paused = False


def main() -> None:
    """Console-script entry point: pause the collector, then hand over to the CLI."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True
    from .cli.app import main as cli_main

    try:
        cli_main()
    finally:
        _resume()


def settle_heap(*, collect: bool = False, young_threshold: int | None = None) -> None:
    """Start-up is over: set aside what it made and let the collector run again.

    ``collect`` first frees start-up's garbage (a full pass: about 80 ms here), worth it for a
    process that serves for hours, not for a one-shot command. ``young_threshold`` replaces the
    youngest generation's threshold (700 by default). Harmless when start-up did not pause the
    collector (a test, an embedding application): then only an explicit argument changes anything.
    """
    if collect:
        gc.collect()
    if _paused or collect:
        gc.freeze()
    if young_threshold is not None:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(young_threshold, older, oldest)
    _resume()


def _resume() -> None:
    global _paused
    if _paused:
        _paused = False
        gc.enable()
