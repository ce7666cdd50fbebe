"""How commands print records for scripts (``--json``).

A listing prints one JSON array on stdout. Its objects have the GraphQL API's field names
(camelCase) and are built field by field here, so a field added to a core record does not
appear in scripts' input by surprise; times are ISO 8601 with their offset.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.models import ApiToken, Job, JobRun, Shop
    from core.plugin_settings import SettingRow
    from core.plugins import PluginInfo


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses become objects, enums their values, times ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the offset; the store's times are UTC, so a naive one is read as UTC."""
    if value is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()


def print_json(value: Any) -> None:
    """Print ``value`` as one JSON document on stdout (no colours, no wrapping)."""
    print(json.dumps(plain(value), indent=2, ensure_ascii=False))


def print_list(records: Iterable[dict[str, Any]]) -> None:
    """Print a listing as one JSON array (``[]`` when empty)."""
    print_json(list(records))


def shop_record(shop: Shop) -> dict[str, Any]:
    return {"id": shop.id, "name": shop.name, "source": shop.source, "url": shop.url,
            "apiVersion": shop.api_version, "hasToken": shop.has_token, "tokenEnv": shop.token_env,
            "createdAt": iso(shop.created_at)}


def job_record(job: Job, last: JobRun | None) -> dict[str, Any]:
    from core.schedules import describe

    schedule = job.schedule
    return {"id": job.id, "shop": job.shop, "kind": job.kind,
            "schedule": {"cron": schedule.cron, "everySeconds": schedule.every_seconds,
                         "timezone": schedule.timezone, "description": describe(schedule)},
            "paused": job.paused, "skipNext": job.skip_next, "nextRunAt": iso(job.next_run_at),
            "lastRun": run_record(last) if last else None}


def run_record(run: JobRun) -> dict[str, Any]:
    return {"id": run.id, "jobId": run.job_id, "status": run.status.value, "trigger": run.trigger.value,
            "windowFrom": iso(run.window_from), "windowThru": iso(run.window_thru),
            "queuedAt": iso(run.queued_at), "startedAt": iso(run.started_at), "finishedAt": iso(run.finished_at),
            "ordersSeen": run.orders_seen, "itemsCanceled": run.items_canceled,
            "unitsCanceled": run.units_canceled, "ordersCanceled": run.orders_canceled, "pages": run.pages,
            "apiCost": run.api_cost, "throttled": run.throttled, "retries": run.retries,
            "durationSeconds": duration_seconds(run), "error": run.error}


def token_record(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "name": token.name, "role": token.role.value, "createdAt": iso(token.created_at),
            "lastUsedAt": iso(token.last_used_at), "revokedAt": iso(token.revoked_at)}


def plugin_record(info: PluginInfo, settings: dict[str, list[SettingRow]] | None = None) -> dict[str, Any]:
    """``settings``: each of its sections' keys with value and default (secrets already masked)."""
    return {"name": info.name, "module": info.module, "version": info.version, "hooks": list(info.hooks),
            "settings": {name: [{"key": row.key, "value": row.value, "default": row.default,
                                 "description": row.description} for row in rows]
                         for name, rows in (settings or {}).items()}}


def duration_seconds(run: JobRun) -> float | None:
    """How long a finished run took (None until it has both a start and an end)."""
    if run.started_at is None or run.finished_at is None:
        return None
    return round((run.finished_at - run.started_at).total_seconds(), 3)
