"""Reading jobs and their runs."""

from __future__ import annotations

from datetime import datetime

import strawberry

from core import JobRunStatus as CoreJobRunStatus
from core import StorageTx

from .. import ids
from ..context import Info
from ..errors import BadInput
from ..inputs import check_shop_name, checked, opt
from ..pagination import PageInfo, decode_cursor, encode_cursor, page_size
from ..permissions import IsAuthenticated
from .types import Job, JobRun, JobRunConnection, JobRunEdge, JobRunStatus


async def list_runs(info: Info, job_pk: int, *, first: int | None, after: str | None,
                    status: CoreJobRunStatus | None, since: datetime | None = None,
                    until: datetime | None = None) -> JobRunConnection:
    size = page_size(first, info.context.runtime.settings, default=20)
    after, status, since, until = opt(after), opt(status), opt(since), opt(until)
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise BadInput(f"{name} must carry a timezone, e.g. 2026-11-02T12:00:00Z", field=name)
    if since is not None and until is not None and until <= since:
        raise BadInput("until must be after since", field="until")
    # the filter is part of the cursor's scope: a cursor from another filter is refused
    scope = f"runs:{job_pk}:{status.value if status else ''}:{since.isoformat() if since else ''}:" \
            f"{until.isoformat() if until else ''}"
    position = decode_cursor(scope, after)
    if position is not None and not position.isdigit():
        raise BadInput("after: malformed cursor", field="after")
    after_id = int(position) if position is not None else None

    page = await info.context.read(lambda tx: tx.list_runs(job_pk, first=size, after=after_id, status=status,
                                                                 since=since, until=until))
    nodes = [JobRun.from_record(r) for r in page.items]
    cursors = [encode_cursor(scope, str(r.id)) for r in page.items]
    return JobRunConnection(
        edges=[JobRunEdge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(has_next_page=page.has_next, has_previous_page=page.has_previous or after is not None,
                           start_cursor=cursors[0] if cursors else None, end_cursor=cursors[-1] if cursors else None),
    )


@strawberry.type
class JobQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Jobs, of one shop if named.")
    async def jobs(self, info: Info, shop: str | None = strawberry.UNSET) -> list[Job]:
        shop = checked(opt(shop), "shop", check_shop_name)

        def read(tx: StorageTx):  # type: ignore[no-untyped-def]
            if shop is None:
                return tx.list_jobs()
            found = tx.get_shop_by_name(shop)
            return tx.list_jobs(found.id) if found is not None else []

        return [Job.from_record(j) for j in await info.context.read(read)]

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        record = await info.context.loaders.jobs.load(ids.decode_as(id, "Job"))
        return Job.from_record(record) if record is not None else None

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Runs of a job, newest first; `since`/`until` keep runs started (else queued) "
                                  "in [since, until).")
    async def job_runs(self, info: Info, job_id: strawberry.ID, first: int | None = 20, after: str | None = strawberry.UNSET,
                       status: JobRunStatus | None = strawberry.UNSET, since: datetime | None = strawberry.UNSET,
                       until: datetime | None = strawberry.UNSET) -> JobRunConnection:
        return await list_runs(info, ids.decode_as(job_id, "Job", argument="jobId"),
                               first=first, after=after, status=status, since=since, until=until)

    @strawberry.field(permission_classes=[IsAuthenticated], description="A run by id (poll what runJobNow returned).")
    async def job_run(self, info: Info, id: strawberry.ID) -> JobRun | None:
        record = await info.context.loaders.runs.load(ids.decode_as(id, "JobRun"))
        return JobRun.from_record(record) if record is not None else None
