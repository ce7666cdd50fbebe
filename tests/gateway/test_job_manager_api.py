"""What the job manager page needs from the API: upcoming run times, run history filtered by
time, and one schedule applied to several jobs at once (all or none)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core import JobRunStatus
from gateway.api import ids

from .conftest import READ, Api
from .seed import new_shop
from .test_jobs import job_gid, make_run

UPCOMING = "query($id: ID!) { job(id: $id) { paused nextRunAt upcomingRuns(count: 5) schedule { description } } }"
SET = """mutation($id: ID!, $s: ScheduleInput!) { updateJobSchedule(jobId: $id, schedule: $s) {
  job { upcomingRuns } userErrors { field message code } } }"""
BULK = """mutation($ids: [ID!]!, $s: ScheduleInput!) { scheduleJobs(jobIds: $ids, schedule: $s) {
  jobs { id shop schedule { cron timezone description } upcomingRuns(count: 2) } userErrors { field message code } } }"""


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_upcoming_runs_follow_a_cron_schedule_in_its_timezone(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    body = await api.data(SET, {"id": job_gid(job), "s": {"cron": "30 2 * * *", "timezone": "Europe/Rome"}})
    assert body["updateJobSchedule"]["userErrors"] == []
    data = (await api.data(UPCOMING, {"id": job_gid(job)}, token=READ))["job"]
    times = [at(t) for t in data["upcomingRuns"]]
    assert len(times) == 5 and times[0] == at(data["nextRunAt"])
    rome = [t.astimezone(ZoneInfo("Europe/Rome")) for t in times]
    assert all((t.hour, t.minute) == (2, 30) for t in rome), rome
    assert [(b - a).days for a, b in zip(rome, rome[1:], strict=False)] == [1, 1, 1, 1]
    assert data["schedule"]["description"] == "At 02:30 AM (Europe/Rome)"


async def test_upcoming_runs_of_an_interval_and_of_a_paused_job(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    await api.data(SET, {"id": job_gid(job), "s": {"everySeconds": 900}})
    times = [at(t) for t in (await api.data(UPCOMING, {"id": job_gid(job)}))["job"]["upcomingRuns"]]
    assert [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)] == [900.0] * 4
    await api.data("mutation($id: ID!) { pauseJob(jobId: $id) { userErrors { message } } }", {"id": job_gid(job)})
    assert (await api.data(UPCOMING, {"id": job_gid(job)}))["job"]["upcomingRuns"] == []
    error = await api.error("query($id: ID!) { job(id: $id) { upcomingRuns(count: 21) } }", {"id": job_gid(job)})
    assert "count must be between 1 and 20" in error["message"]


async def test_runs_filtered_by_time_and_status(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    now = api.runtime.now()
    old = make_run(api, job.id, JobRunStatus.FAILED, started_at=now - timedelta(days=3), error="boom")
    mid = make_run(api, job.id, JobRunStatus.SUCCEEDED, started_at=now - timedelta(days=2))
    new = make_run(api, job.id, JobRunStatus.FAILED, started_at=now - timedelta(hours=1), error="later boom")
    query = """query($id: ID!, $since: DateTime, $until: DateTime, $status: JobRunStatus) {
      jobRuns(jobId: $id, since: $since, until: $until, status: $status) { nodes { id error } } }"""

    def run_ids(*runs) -> list[str]:
        return [ids.encode("JobRun", r.id) for r in runs]

    async def listed(**variables) -> list[str]:
        data = await api.data(query, {"id": job_gid(job), **variables}, token=READ)
        return [n["id"] for n in data["jobRuns"]["nodes"]]

    iso = lambda d: d.astimezone(UTC).isoformat()  # noqa: E731
    assert await listed() == run_ids(new, mid, old)
    assert await listed(since=iso(now - timedelta(days=2, hours=1))) == run_ids(new, mid)
    assert await listed(until=iso(now - timedelta(days=1))) == run_ids(mid, old)
    assert await listed(since=iso(now - timedelta(days=4)), until=iso(now - timedelta(days=1)),
                        status="FAILED") == run_ids(old)
    error = await api.error(query, {"id": job_gid(job), "since": iso(now), "until": iso(now - timedelta(days=1))})
    assert "until must be after since" in error["message"]


async def test_schedule_jobs_changes_every_job_at_once(api: Api) -> None:
    _, alpha = new_shop(api.runtime, "alpha")
    _, beta = new_shop(api.runtime, "beta")
    body = (await api.data(BULK, {"ids": [job_gid(alpha), job_gid(beta)],
                                  "s": {"cron": "0 6 * * 1-5", "timezone": "America/New_York"}}))["scheduleJobs"]
    assert body["userErrors"] == []
    assert [j["shop"] for j in body["jobs"]] == ["alpha", "beta"]
    assert all(j["schedule"]["cron"] == "0 6 * * 1-5" and j["schedule"]["timezone"] == "America/New_York"
               for j in body["jobs"])
    with api.runtime.storage.transaction() as tx:
        stored = [tx.get_job(alpha.id), tx.get_job(beta.id)]
    assert all(j is not None and j.schedule.cron == "0 6 * * 1-5" for j in stored)
    for j in stored:
        assert j is not None and j.next_run_at is not None
        local = j.next_run_at.astimezone(ZoneInfo("America/New_York"))
        assert (local.hour, local.minute) == (6, 0) and local.weekday() < 5


async def test_schedule_jobs_refuses_all_when_one_job_is_unknown(api: Api) -> None:
    _, alpha = new_shop(api.runtime, "alpha")
    beta_shop, beta = new_shop(api.runtime, "beta")
    await api.data("mutation($id: ID!) { removeShop(id: $id) { userErrors { message } } }",
                   {"id": ids.encode("Shop", beta_shop.id)})
    body = (await api.data(BULK, {"ids": [job_gid(alpha), job_gid(beta)], "s": {"everySeconds": 120}}))["scheduleJobs"]
    assert body["jobs"] == []
    assert body["userErrors"] == [{"field": ["jobIds", "1"], "code": "NOT_FOUND",
                                   "message": f"job {job_gid(beta)} does not exist"}]
    with api.runtime.storage.transaction() as tx:
        kept = tx.get_job(alpha.id)
    assert kept is not None and kept.schedule == alpha.schedule and kept.next_run_at == alpha.next_run_at


async def test_schedule_jobs_bad_schedule_and_duplicates_change_nothing(api: Api) -> None:
    _, alpha = new_shop(api.runtime, "alpha")
    _, beta = new_shop(api.runtime, "beta")
    ids_ = [job_gid(alpha), job_gid(beta)]
    bad = (await api.data(BULK, {"ids": ids_, "s": {"cron": "61 * * * *"}}))["scheduleJobs"]
    assert bad["jobs"] == [] and bad["userErrors"][0]["field"] == ["schedule", "cron"]
    twice = (await api.data(BULK, {"ids": [ids_[0], ids_[1], ids_[0]], "s": {"everySeconds": 300}}))["scheduleJobs"]
    assert twice["jobs"] == [] and [e["field"] for e in twice["userErrors"]] == [["jobIds", "2"]]
    empty = (await api.data(BULK, {"ids": [], "s": {"everySeconds": 300}}))["scheduleJobs"]
    assert empty["userErrors"][0]["message"] == "name at least one job"
    malformed = (await api.data(BULK, {"ids": [ids_[0], "nope"], "s": {"everySeconds": 300}}))["scheduleJobs"]
    assert [e["field"] for e in malformed["userErrors"]] == [["jobIds", "1"]]
    with api.runtime.storage.transaction() as tx:
        assert [tx.get_job(j.id).schedule for j in (alpha, beta)] == [alpha.schedule, beta.schedule]


async def test_schedule_jobs_needs_an_admin_token(api: Api) -> None:
    _, alpha = new_shop(api.runtime, "alpha")
    error = await api.error(BULK, {"ids": [job_gid(alpha)], "s": {"everySeconds": 300}}, token=READ)
    assert error["extensions"]["code"] == "FORBIDDEN"
