"""The contract a storage plugin implements (SQLAlchemy is the built-in one).

A :class:`StorageBackend` (registered through ``register_storages``) opens a :class:`Storage`
for a URL. The caller owns units of work: ``with storage.transaction() as tx:`` commits when
the block ends and rolls back on error; every read and write goes through a ``tx``.
``with storage.read() as tx:`` is the same for work that only reads (every API query): it
never takes a write lock, so readers do not queue behind writers or each other.
Storages return the records of :mod:`core.models`, never their own rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from .models import (
    ApiToken,
    Cancellation,
    Job,
    JobRun,
    JobRunStatus,
    NewShop,
    OrderQuery,
    OrderVerdict,
    PageResult,
    RunTrigger,
    Schedule,
    Shop,
    ShopCredentials,
    Slice,
    StoredItem,
    StoredOrder,
    TokenRole,
)
from .token_cipher import TokenCipher


@runtime_checkable
class StorageTx(Protocol):
    """One unit of work. Methods raise core.errors.NotFoundError for unknown ids."""

    # shops ------------------------------------------------------------------------------
    def add_shop(self, shop: NewShop) -> Shop:
        """Create a shop; ValidationError(field="name") if the name is taken."""
        ...

    def update_shop(self, shop_id: int, **changes: Any) -> Shop:
        """Change url, api_version, token, token_env or options."""
        ...

    def remove_shop(self, shop_id: int) -> None:
        """Delete a shop with its jobs, runs, orders and history."""
        ...

    def get_shop(self, shop_id: int) -> Shop | None: ...
    def get_shop_by_name(self, name: str) -> Shop | None: ...
    def list_shops(self) -> list[Shop]: ...
    def shop_credentials(self, shop_id: int) -> ShopCredentials:
        """The shop's token (decrypted) or token variable: the one read that returns a secret."""
        ...

    def rotate_shop_tokens(self) -> int:
        """Encrypt every stored access token again with the cipher's first key; returns how many.

        ConfigurationError, and nothing changed, when a token opens with none of its keys."""
        ...

    # jobs and schedules -------------------------------------------------------------------
    def create_job(self, *, shop_id: int, kind: str, schedule: Schedule, next_run_at: datetime | None) -> Job:
        """Create the (shop, kind) job; ValidationError if it exists."""
        ...

    def get_job(self, job_id: int) -> Job | None: ...

    def get_jobs(self, job_ids: Sequence[int]) -> dict[int, Job]:
        """The jobs found among ``job_ids``, in one lookup (unknown ids are simply absent)."""
        ...

    def find_job(self, shop_id: int, kind: str) -> Job | None: ...
    def list_jobs(self, shop_id: int | None = None) -> list[Job]: ...

    def update_job(self, job_id: int, **changes: Any) -> Job:
        """Change schedule, paused, skip_next or next_run_at."""
        ...

    def due_jobs(self, now: datetime) -> list[Job]:
        """Unpaused jobs whose next_run_at is at or before ``now``."""
        ...

    def advance_job(self, job_id: int, *, expected_next_run_at: datetime, next_run_at: datetime, skip_next: bool = False) -> bool:
        """Compare-and-set next_run_at (and skip_next); False when another scheduler won the slot."""
        ...

    # runs --------------------------------------------------------------------------------
    def create_run(self, *, job_id: int, trigger: RunTrigger, status: JobRunStatus = JobRunStatus.QUEUED,
                   slot: str | None = None, window_from: datetime | None = None,
                   window_thru: datetime | None = None) -> JobRun: ...
    def get_run(self, run_id: int) -> JobRun | None: ...

    def get_runs(self, run_ids: Sequence[int]) -> dict[int, JobRun]:
        """The runs found among ``run_ids``, in one lookup (unknown ids are simply absent)."""
        ...

    def update_run(self, run_id: int, **changes: Any) -> JobRun: ...
    def list_runs(self, job_id: int, *, first: int, after: int | None = None,
                  status: JobRunStatus | None = None, since: datetime | None = None,
                  until: datetime | None = None) -> Slice[JobRun]:
        """Newest first; ``after`` is the id of the last run of the previous page. ``since`` and
        ``until`` keep runs whose time (started, else queued, else finished) is in ``[since, until)``."""
        ...

    def latest_run(self, job_id: int, *, status: JobRunStatus | None = None) -> JobRun | None: ...

    def latest_runs(self, job_ids: Sequence[int], *, status: JobRunStatus | None = None) -> dict[int, JobRun]:
        """:meth:`latest_run` for many jobs at once: job id -> its newest run (of ``status`` if
        given). Jobs without such a run, and unknown ids, are absent."""
        ...

    def active_runs(self, job_id: int) -> list[JobRun]:
        """Runs of the job that are QUEUED or RUNNING."""
        ...

    def active_runs_for_jobs(self, job_ids: Sequence[int]) -> dict[int, list[JobRun]]:
        """:meth:`active_runs` for many jobs at once, oldest first; every requested id maps to a
        list (empty when the job has none or does not exist)."""
        ...

    def all_active_runs(self) -> list[JobRun]:
        """Every QUEUED or RUNNING run, of any job, oldest first: one indexed read whose cost
        follows the runs in flight, not the number of jobs (the scheduler's reaper, every tick)."""
        ...

    def prune_runs(self, *, finished_before: datetime) -> int:
        """Delete finished runs older than the cutoff (history retention); returns how many."""
        ...

    # single-flight lease per job -----------------------------------------------------------
    def acquire_lease(self, job_id: int, *, run_id: int, holder: str, now: datetime, expires_at: datetime) -> bool:
        """Take the job's lease if free or expired; False if another live run holds it."""
        ...

    def renew_lease(self, job_id: int, *, run_id: int, expires_at: datetime) -> bool: ...
    def release_lease(self, job_id: int, *, run_id: int) -> None: ...

    # watermarks ----------------------------------------------------------------------------
    def get_watermark(self, job_id: int) -> datetime | None:
        """The end of the job's last fully stored window, or None before the first success."""
        ...

    def get_watermarks(self, job_ids: Sequence[int]) -> dict[int, datetime]:
        """:meth:`get_watermark` for many jobs at once; jobs without a watermark are absent."""
        ...

    def set_watermark(self, job_id: int, thru: datetime) -> None:
        """Advance the watermark; never moves it backwards."""
        ...

    # orders and cancellations ---------------------------------------------------------------
    def apply_page(self, *, shop_id: int, run_id: int | None, verdicts: Sequence[OrderVerdict],
                   now: datetime) -> PageResult:
        """Upsert the page's orders and items in batches and apply cancellations idempotently.

        For each item the stored canceled quantity is raised to the verdict's target (never
        lowered); the increase, if any, is appended to the cancellation history with the run,
        reason and evidence. An order whose verdict says canceled becomes CANCELED.
        Re-applying the same verdicts changes nothing and returns zero counts.
        """
        ...

    def get_order(self, order_id: int) -> StoredOrder | None: ...
    def get_order_by_source_id(self, shop_id: int, source_id: str) -> StoredOrder | None: ...
    def get_orders(self, order_ids: Sequence[int]) -> dict[int, StoredOrder]: ...
    def list_orders(self, query: OrderQuery, *, first: int, after: str | None = None) -> Slice[StoredOrder]:
        """Keyset pagination; ``after`` is an opaque cursor from a previous Slice."""
        ...

    def count_orders(self, query: OrderQuery) -> int: ...
    def items_for_orders(self, order_ids: Sequence[int]) -> dict[int, list[StoredItem]]: ...
    def get_items(self, item_ids: Sequence[int]) -> dict[int, StoredItem]: ...
    def cancellations_for_items(self, item_ids: Sequence[int]) -> dict[int, list[Cancellation]]: ...

    def get_cancellations(self, cancellation_ids: Sequence[int]) -> dict[int, Cancellation]:
        """History rows by id, in one lookup (unknown ids are simply absent)."""
        ...

    def list_cancellations(self, *, shop_id: int | None = None, since: datetime | None = None,
                           until: datetime | None = None, first: int, after: str | None = None,
                           reverse: bool = False) -> Slice[Cancellation]:
        """In commit order: what integrators poll. A poller resuming from its last cursor sees
        every row committed since, including one a slower transaction commits after the
        poller read newer rows (the storage delays such rows rather than skip them).

        ``reverse``: newest first, ``after`` then pages back to older rows; a reader paging back
        from its first page meets every older row exactly once (a row held back is newer than
        all it has listed)."""
        ...

    # api tokens ----------------------------------------------------------------------------
    def create_api_token(self, *, name: str, role: TokenRole, token_hash: str) -> ApiToken: ...
    def find_api_token(self, token_hash: str) -> ApiToken | None:
        """Only tokens not revoked."""
        ...

    def get_api_token(self, token_id: int) -> ApiToken | None:
        """A token by id, revoked or not (None if unknown)."""
        ...

    def touch_api_token(self, token_id: int, *, used_at: datetime) -> None: ...
    def revoke_api_token(self, token_id: int, *, now: datetime) -> ApiToken: ...
    def list_api_tokens(self) -> list[ApiToken]: ...

    # webhooks ------------------------------------------------------------------------------
    def record_delivery(self, *, shop_id: int, delivery_id: str, topic: str, received_at: datetime) -> bool:
        """Remember a webhook delivery id; False if it was seen before (dedup)."""
        ...


@runtime_checkable
class Storage(Protocol):
    """An opened store."""

    name: str

    def transaction(self) -> AbstractContextManager[StorageTx]:
        """A unit of work: commit on success, rollback on error."""
        ...

    def read(self, *, timeout_seconds: float | None = None) -> AbstractContextManager[StorageTx]:
        """A unit of work that only reads: one consistent snapshot, no write lock taken.

        Readers never wait for a writer (or another reader) to begin. A write attempted through
        it fails with :class:`core.errors.StorageError` and changes nothing. With
        ``timeout_seconds``, a statement still running that long after the unit of work began is
        stopped in the database and :class:`core.errors.ReadTimeout` is raised.
        """
        ...

    def upgrade(self) -> None:
        """Bring the schema to the newest version (migrations)."""
        ...

    def dispose(self) -> None:
        """Close pooled connections."""
        ...


@runtime_checkable
class StorageBackend(Protocol):
    """Opens storages for the URL schemes it knows; registered through ``register_storages``."""

    name: str
    schemes: tuple[str, ...]
    """URL schemes served, e.g. ``("sqlite", "postgresql", "postgresql+psycopg")``."""

    def open(self, url: str, *, cipher: TokenCipher | None = None) -> Storage:
        """Open ``url``. Shop access tokens are stored encrypted by ``cipher`` (and decrypted by
        it for ``shop_credentials``); with no cipher, or one without a key, storing a token is
        refused with a ValidationError(field="token") and an encrypted one cannot be read."""
        ...
