"""Errors raised by the gateway, its engine and its plugins.

Every error a user or integrator can meet derives from :class:`GatewayError` and carries a
message that says what went wrong and, where we know it, what to do about it::

    GatewayError
    ├── ConfigurationError        settings, plugins or shops that cannot work as given
    │   ├── MissingConfigFile     SYNC_GATEWAY_CONFIG names a file that does not exist
    │   ├── InvalidPluginSetting  a plugin's [plugins.<name>] key has a value its model refuses
    │   └── PluginError           a plugin that is missing, duplicated or breaks the hook contract
    │       └── UnknownPlugin     LOAD_PLUGINS names a plugin that is not installed
    ├── NotFoundError             an id (shop, job, run, order) that does not exist
    ├── ValidationError           bad input from a user: a malformed schedule, an oversized page
    │   ├── InvalidWindow         a window that ends before it starts
    │   ├── WebhookRejected       a webhook delivery that fails verification (forged, malformed)
    │   └── BulkScheduleRefused   a bulk schedule naming unknown jobs (core.bulk_schedule): none changed
    ├── SourceError               the upstream platform (Shopify) failed us
    │   ├── SourceAuthError       401/403, a missing scope: retrying cannot help, an admin must act
    │   ├── SourceUnavailable     5xx, timeouts, dropped connections, throttling past the retry budget
    │   └── SourceDataError       a reply we cannot trust (malformed JSON, missing fields)
    ├── StorageError              the store refused a write or read
    │   └── ReadTimeout           a read ran past its time limit and was stopped in the database
    └── JobError                  a run that could not start or finish
        ├── RunOverlapError       a run of the same job is already in progress
        └── LeaseLost             a run lost its job's lease to another run: it stops

Messages never contain secrets (access tokens, webhook secrets, API tokens).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import FetchStats


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose.

    Args:
        message: what went wrong, in words an admin understands.
        suggestion: optional hint on how to fix it, appended to ``str(error)``.
    """

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion
        self.stats: FetchStats | None = None
        """What the failed work had cost upstream, when a source knows it (requests, throttled
        replies, retries): a failed run's history counts them too."""
        self.problem: str | None = None
        """A source's word for what failed, when it knows it: a
        :class:`core.models.ConnectionProblem` value (``"BAD_TOKEN"``, ``"TIMEOUT"``...), so a
        connection check can report the exact reason without parsing the message."""

    def __str__(self) -> str:
        if self.suggestion:
            return f"{self.message} ({self.suggestion})"
        return self.message


class ConfigurationError(GatewayError):
    """Settings, plugins or shops that cannot work as given."""


class MissingConfigFile(ConfigurationError):
    """``SYNC_GATEWAY_CONFIG`` names a file that does not exist (never silently ignored)."""


class InvalidPluginSetting(ConfigurationError):
    """A value in a plugin's settings section (``[plugins.<name>]``) that its model refuses."""


class PluginError(ConfigurationError):
    """A plugin is missing, registered twice, or breaks the hook contract."""


class UnknownPlugin(PluginError):
    """``LOAD_PLUGINS`` names a plugin no installed distribution provides."""


class NotFoundError(GatewayError):
    """An id that does not exist (shop, job, run, order, token)."""


class ValidationError(GatewayError):
    """Bad input from a user. ``field`` names the offending input, for ``userErrors``."""

    def __init__(self, message: str, *, field: str | None = None, suggestion: str | None = None) -> None:
        super().__init__(message, suggestion=suggestion)
        self.field = field


class InvalidWindow(ValidationError):
    """A window that ends before (or when) it starts."""


class WebhookRejected(ValidationError):
    """A webhook delivery that failed verification: a forged signature, missing headers, a body
    that is not JSON. Nothing is stored or queued for it."""


class SourceError(GatewayError):
    """The upstream platform failed us."""


class SourceAuthError(SourceError):
    """Credentials or scopes are wrong: retrying cannot help, an admin must act."""


class SourceUnavailable(SourceError):
    """The upstream stayed unavailable (5xx, timeouts, throttling) past the retry budget."""


class SourceDataError(SourceError):
    """The upstream replied with data we cannot trust."""


class StorageError(GatewayError):
    """The store refused a read or a write."""


class ReadTimeout(StorageError):
    """A read ran longer than it was allowed and the database stopped it (its message is ours,
    never the driver's, so it may be shown to the client)."""


class JobError(GatewayError):
    """A run that could not start or finish."""


class RunOverlapError(JobError):
    """A run of the same job is already in progress."""


class LeaseLost(JobError):
    """A run could not renew its job's lease (another run took the job over, or the store was
    out of reach for longer than the lease): it stops at the next page boundary and writes
    nothing that ends a run, so it can never overwrite the run that took over."""
