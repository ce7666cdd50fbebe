"""How commands print records for scripts (``--json``): dataclasses, enums and times as JSON."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import datetime
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses become objects, enums their values, times ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """Print ``value`` as one JSON document on stdout (no colours, no wrapping)."""
    print(json.dumps(plain(value), indent=2, ensure_ascii=False))
