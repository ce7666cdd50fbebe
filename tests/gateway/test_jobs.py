"""Jobs and runs: the queries, and the job controls as mutations (admin token)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core import JobRunStatus, RunProgress, RunTrigger
from gateway.api import ids

from .conftest import READ, Api
from .seed import new_shop

JOB_FIELDS = """
  id shop kind paused skipNext nextRunAt watermark
  schedule { cron everySeconds timezone description }
  lastRun { id status } currentRun { id status } lastSuccessfulRun { id status }
"""

RUN_FIELDS = """
  id status trigger windowFrom windowThru queuedAt startedAt finishedAt durationSeconds
  ordersSeen itemsCanceled unitsCanceled ordersCanceled pages apiCost throttled retries error
  progress { pages ordersSeen unitsCanceled itemsCanceled checkpoint elapsedSeconds }
  job { id kind }
"""


def make_run(api: Api, job_id: int, status: JobRunStatus, **changes):
    now = api.runtime.now()
    with api.runtime.storage.transaction() as tx:
        run = tx.create_run(job_id=job_id, trigger=RunTrigger.SCHEDULE)
        if status is not JobRunStatus.QUEUED:
            changes.setdefault("started_at", now - timedelta(seconds=30))
        if status in (JobRunStatus.SUCCEEDED, JobRunStatus.FAILED, JobRunStatus.LOST):
            changes.setdefault("finished_at", now)
        return tx.update_run(run.id, status=status, queued_at=now - timedelta(seconds=40), **changes)


def job_gid(job) -> str:
    return ids.encode("Job", job.id)


async def test_jobs_and_their_runs(api: Api) -> None:
    _, alpha_job = new_shop(api.runtime, "alpha")
    _, beta_job = new_shop(api.runtime, "beta")
    ok = make_run(api, alpha_job.id, JobRunStatus.SUCCEEDED, orders_seen=7, units_canceled=3, items_canceled=2,
                  orders_canceled=1, pages=2, api_cost=12.5, throttled=1, retries=2,
                  progress=RunProgress(pages=2, orders_seen=7, units_canceled=3, items_canceled=2,
                                       checkpoint=datetime.fromisoformat("2026-10-01T10:00:00+00:00"),
                                       elapsed_seconds=1.5))
    with api.runtime.storage.transaction() as tx:
        tx.set_watermark(alpha_job.id, api.runtime.now() - timedelta(minutes=5))
    failed = make_run(api, alpha_job.id, JobRunStatus.FAILED, error="shop alpha: the upstream is down")
    running = make_run(api, alpha_job.id, JobRunStatus.RUNNING, pages=1,
                       progress=RunProgress(pages=1, orders_seen=3, units_canceled=0, items_canceled=0))
    queued = make_run(api, alpha_job.id, JobRunStatus.QUEUED)

    data = await api.data(f"{{ jobs {{ {JOB_FIELDS} }} }}")
    assert [j["shop"] for j in data["jobs"]] == ["alpha", "beta"]
    alpha = data["jobs"][0]
    assert alpha["id"] == job_gid(alpha_job)
    assert alpha["kind"] == "canceled-items"
    assert alpha["schedule"] == {"cron": None, "everySeconds": 3600, "timezone": "UTC", "description": "Every hour"}
    assert (alpha["paused"], alpha["skipNext"]) == (False, False)
    assert alpha["nextRunAt"] is not None and alpha["watermark"] is not None
    assert alpha["lastRun"] == {"id": ids.encode("JobRun", queued.id), "status": "QUEUED"}
    assert alpha["currentRun"] == {"id": ids.encode("JobRun", running.id), "status": "RUNNING"}
    assert alpha["lastSuccessfulRun"] == {"id": ids.encode("JobRun", ok.id), "status": "SUCCEEDED"}
    beta = data["jobs"][1]
    assert (beta["lastRun"], beta["currentRun"], beta["lastSuccessfulRun"], beta["watermark"]) == (None,) * 4

    only_beta = await api.data('{ jobs(shop: "beta") { id } }')
    assert only_beta["jobs"] == [{"id": job_gid(beta_job)}]
    assert (await api.data('{ jobs(shop: "nowhere") { id } }'))["jobs"] == []

    run = (await api.data(f'query($id: ID!) {{ jobRun(id: $id) {{ {RUN_FIELDS} }} }}',
                          {"id": ids.encode("JobRun", ok.id)}))["jobRun"]
    assert run["status"] == "SUCCEEDED" and run["trigger"] == "SCHEDULE"
    assert (run["ordersSeen"], run["itemsCanceled"], run["unitsCanceled"], run["ordersCanceled"]) == (7, 2, 3, 1)
    assert (run["pages"], run["apiCost"], run["throttled"], run["retries"]) == (2, 12.5, 1, 2)
    assert run["durationSeconds"] == pytest.approx(30, abs=1)
    assert run["progress"] == {"pages": 2, "ordersSeen": 7, "unitsCanceled": 3, "itemsCanceled": 2,
                               "checkpoint": "2026-10-01T10:00:00+00:00", "elapsedSeconds": 1.5}
    assert run["job"] == {"id": job_gid(alpha_job), "kind": "canceled-items"}
    assert run["error"] is None

    failed_run = (await api.data("query($id: ID!) { node(id: $id) { ... on JobRun { status error progress { pages } } } }",
                                 {"id": ids.encode("JobRun", failed.id)}))["node"]
    assert failed_run == {"status": "FAILED", "error": "shop alpha: the upstream is down", "progress": None}
    running_run = (await api.data("query($id: ID!) { jobRun(id: $id) { status durationSeconds progress { pages ordersSeen } } }",
                                  {"id": ids.encode("JobRun", running.id)}))["jobRun"]
    assert running_run["status"] == "RUNNING" and running_run["durationSeconds"] >= 30
    assert running_run["progress"] == {"pages": 1, "ordersSeen": 3}


async def test_job_runs_page_newest_first_and_filter_by_status(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    made = [make_run(api, job.id, JobRunStatus.SUCCEEDED if i % 2 else JobRunStatus.FAILED) for i in range(7)]
    query = """query($job: ID!, $first: Int, $after: String, $status: JobRunStatus) {
      jobRuns(jobId: $job, first: $first, after: $after, status: $status) {
        pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } } nodes { id status } } }"""
    seen, after = [], None
    while True:
        page = (await api.data(query, {"job": job_gid(job), "first": 3, "after": after}))["jobRuns"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [n["id"] for n in seen] == [ids.encode("JobRun", r.id) for r in reversed(made)]
    failed = (await api.data(query, {"job": job_gid(job), "status": "FAILED"}))["jobRuns"]["nodes"]
    assert len(failed) == 4 and {n["status"] for n in failed} == {"FAILED"}
    nested = await api.data("query($id: ID!) { job(id: $id) { runs(first: 2, status: SUCCEEDED) { nodes { status } "
                            "pageInfo { hasNextPage } } } }", {"id": job_gid(job)})
    assert nested["job"]["runs"] == {"nodes": [{"status": "SUCCEEDED"}] * 2, "pageInfo": {"hasNextPage": True}}


async def test_job_lookups(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    data = await api.data("""query($id: ID!) { job(id: $id) { id kind }
      missing: job(id: "gid://sync-gateway/Job/99999") { id }
      node(id: $id) { __typename ... on Job { shop } }
      shops { jobs { id } } }""", {"id": job_gid(job)})
    assert data["job"] == {"id": job_gid(job), "kind": "canceled-items"}
    assert data["missing"] is None
    assert data["node"] == {"__typename": "Job", "shop": "alpha"}
    assert data["shops"] == [{"jobs": [{"id": job_gid(job)}]}]
    error = await api.error('{ jobRuns(jobId: "gid://sync-gateway/Job/99999") { nodes { id } } }')
    assert error["extensions"]["code"] == "NOT_FOUND"


SCHEDULE = """mutation($job: ID!, $schedule: ScheduleInput!) {
  updateJobSchedule(jobId: $job, schedule: $schedule) {
    job { id nextRunAt schedule { cron everySeconds timezone description } }
    userErrors { field message code } } }"""


async def test_update_job_schedule(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    cron = await api.data(SCHEDULE, {"job": job_gid(job), "schedule": {"cron": "30 2 * * *", "timezone": "Europe/Rome"}})
    payload = cron["updateJobSchedule"]
    assert payload["userErrors"] == []
    assert payload["job"]["schedule"] == {"cron": "30 2 * * *", "everySeconds": None, "timezone": "Europe/Rome",
                                          "description": "At 02:30 AM (Europe/Rome)"}
    with api.runtime.storage.transaction() as tx:
        stored = tx.get_job(job.id)
    assert stored.schedule.cron == "30 2 * * *" and stored.schedule.timezone == "Europe/Rome"

    interval = await api.data(SCHEDULE, {"job": job_gid(job), "schedule": {"everySeconds": 900}})
    assert interval["updateJobSchedule"]["job"]["schedule"]["description"] == "Every 15 minutes"
    assert interval["updateJobSchedule"]["job"]["schedule"]["timezone"] == "UTC"


@pytest.mark.parametrize(("schedule", "field", "words"), [
    ({"cron": "not a cron"}, ["schedule", "cron"], "invalid cron expression"),
    ({"cron": "61 * * * *"}, ["schedule", "cron"], "invalid cron expression"),
    ({"everySeconds": -5}, ["schedule", "everySeconds"], "at least"),
    ({"everySeconds": 10}, ["schedule", "everySeconds"], "at least 60"),
    ({"cron": "0 * * * *", "timezone": "Mars/Olympus"}, ["schedule", "timezone"], "unknown timezone"),
    ({"cron": "0 * * * *", "everySeconds": 600}, ["schedule"], "exactly one"),
    ({}, ["schedule"], "exactly one"),
])
async def test_bad_schedules_are_user_errors_and_change_nothing(api: Api, schedule, field, words) -> None:
    _, job = new_shop(api.runtime, "alpha")
    payload = (await api.data(SCHEDULE, {"job": job_gid(job), "schedule": schedule}))["updateJobSchedule"]
    assert payload["job"] is None
    [error] = payload["userErrors"]
    assert error["field"] == field and error["code"] == "INVALID"
    assert words in error["message"]
    with api.runtime.storage.transaction() as tx:
        assert tx.get_job(job.id) == job


@pytest.mark.parametrize(("job_id", "code", "words"), [
    ("gid://sync-gateway/Job/99999", "NOT_FOUND", "does not exist"),
    ("gid://sync-gateway/Shop/1", "INVALID", "expected a Job id"),
    ("42", "INVALID", "not a sync-gateway id"),
    ("gid://sync-gateway/Job/abc", "INVALID", "positive number"),
])
@pytest.mark.parametrize("mutation", ["pauseJob", "resumeJob", "skipNextRun", "runJobNow", "updateJobSchedule",
                                      "backfillJob"])
async def test_job_mutations_refuse_unknown_and_wrong_type_ids(api: Api, mutation, job_id, code, words) -> None:
    _, job = new_shop(api.runtime, "alpha")
    result = "run { id }" if mutation in ("runJobNow", "backfillJob") else "job { id }"
    extra = {"updateJobSchedule": ", schedule: {everySeconds: 600}",
             "backfillJob": ', since: "2026-01-01T00:00:00+00:00"'}.get(mutation, "")
    payload = (await api.data(f'mutation($id: ID!) {{ {mutation}(jobId: $id{extra}) {{ {result} '
                              f'userErrors {{ field message code }} }} }}', {"id": job_id}))[mutation]
    assert payload["userErrors"] == [{"field": ["jobId"], "message": payload["userErrors"][0]["message"], "code": code}]
    assert words in payload["userErrors"][0]["message"]
    assert list(payload.values())[0] is None
    with api.runtime.storage.transaction() as tx:
        assert tx.get_job(job.id) == job
        assert tx.latest_run(job.id) is None


async def test_pause_skip_resume(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    fields = "job { paused skipNext nextRunAt } userErrors { field message code }"
    variables = {"id": job_gid(job)}
    skipped = (await api.data(f"mutation($id: ID!) {{ skipNextRun(jobId: $id) {{ {fields} }} }}", variables))
    assert skipped["skipNextRun"]["job"]["skipNext"] is True
    paused = (await api.data(f"mutation($id: ID!) {{ pauseJob(jobId: $id) {{ {fields} }} }}", variables))
    assert paused["pauseJob"]["job"]["paused"] is True
    refused = (await api.data(f"mutation($id: ID!) {{ skipNextRun(jobId: $id) {{ {fields} }} }}", variables))
    assert refused["skipNextRun"]["job"] is None
    assert refused["skipNextRun"]["userErrors"][0]["field"] == ["jobId"]
    assert "paused" in refused["skipNextRun"]["userErrors"][0]["message"]
    resumed = (await api.data(f"mutation($id: ID!) {{ resumeJob(jobId: $id) {{ {fields} }} }}", variables))
    assert resumed["resumeJob"]["job"]["paused"] is False
    assert resumed["resumeJob"]["userErrors"] == []


RUN_NOW = """mutation($id: ID!, $from: DateTime, $thru: DateTime) {
  runJobNow(jobId: $id, windowFrom: $from, windowThru: $thru) {
    run { id status trigger windowFrom windowThru queuedAt job { id } } userErrors { field message code } } }"""


async def test_run_job_now_queues_a_run(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    now = api.runtime.now()
    window = {"from": (now - timedelta(hours=3)).isoformat(), "thru": (now - timedelta(hours=1)).isoformat()}
    payload = (await api.data(RUN_NOW, {"id": job_gid(job), **window}))["runJobNow"]
    assert payload["userErrors"] == []
    run = payload["run"]
    assert (run["status"], run["trigger"]) == ("QUEUED", "MANUAL")
    assert run["queuedAt"] is not None and run["job"] == {"id": job_gid(job)}
    assert run["windowFrom"] == window["from"]
    run_pk = ids.decode_as(run["id"], "JobRun")
    assert api.queue.fetch(f"sync-gateway-run-{run_pk}") is not None
    current = await api.data("query($id: ID!) { job(id: $id) { currentRun { id } } }", {"id": job_gid(job)})
    assert current["job"]["currentRun"] == {"id": run["id"]}


@pytest.mark.parametrize(("window", "field"), [
    ({"from": "2026-01-02T00:00:00+00:00", "thru": "2026-01-01T00:00:00+00:00"}, ["windowThru"]),
    ({"thru": "2999-01-01T00:00:00+00:00"}, ["windowThru"]),
    ({"from": "2026-01-01T00:00:00"}, ["windowFrom"]),
])
async def test_run_job_now_refuses_bad_windows(api: Api, window, field) -> None:
    _, job = new_shop(api.runtime, "alpha")
    payload = (await api.data(RUN_NOW, {"id": job_gid(job), **window}))["runJobNow"]
    assert payload["run"] is None
    assert payload["userErrors"][0]["field"] == field
    with api.runtime.storage.transaction() as tx:
        assert tx.latest_run(job.id) is None


BACKFILL = """mutation($id: ID!, $since: DateTime!, $until: DateTime) {
  backfillJob(jobId: $id, since: $since, until: $until) {
    run { id status trigger windowFrom windowThru } userErrors { field message code } } }"""


async def test_a_backfill_is_queued_as_a_backfill_run_up_to_the_settle_buffer(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    now = api.runtime.now()
    since = (now - timedelta(days=40)).isoformat()
    payload = (await api.data(BACKFILL, {"id": job_gid(job), "since": since}))["backfillJob"]
    assert payload["userErrors"] == []
    run = payload["run"]
    assert (run["status"], run["trigger"], run["windowFrom"]) == ("QUEUED", "BACKFILL", since)
    settled = now - timedelta(seconds=api.runtime.settings.window_settle_seconds)
    thru = datetime.fromisoformat(run["windowThru"])
    assert settled <= thru <= settled + timedelta(seconds=5)
    assert api.queue.fetch(f"sync-gateway-run-{ids.decode_as(run['id'], 'JobRun')}") is not None


@pytest.mark.parametrize(("window", "field", "words"), [
    ({"since": "2026-01-02T00:00:00+00:00", "until": "2026-01-01T00:00:00+00:00"}, ["since"], "window is empty"),
    ({"since": "2026-01-01T00:00:00+00:00", "until": "2999-01-01T00:00:00+00:00"}, ["until"], "future"),
    ({"since": "2026-01-01T00:00:00"}, ["since"], "timezone"),
    ({"since": "2999-01-01T00:00:00+00:00"}, ["since"], "window is empty"),
])
async def test_a_backfill_over_a_bad_window_is_refused_and_queues_nothing(api: Api, window, field, words) -> None:
    _, job = new_shop(api.runtime, "alpha")
    payload = (await api.data(BACKFILL, {"id": job_gid(job), **window}))["backfillJob"]
    assert payload["run"] is None
    assert payload["userErrors"][0]["field"] == field and words in payload["userErrors"][0]["message"]
    with api.runtime.storage.transaction() as tx:
        assert tx.latest_run(job.id) is None


async def test_a_read_token_cannot_queue_a_backfill(api: Api) -> None:
    _, job = new_shop(api.runtime, "alpha")
    error = await api.error(BACKFILL, {"id": job_gid(job), "since": "2026-01-01T00:00:00+00:00"}, token=READ)
    assert error["extensions"]["code"] == "FORBIDDEN"
    with api.runtime.storage.transaction() as tx:
        assert tx.latest_run(job.id) is None


async def test_run_job_now_with_the_queue_down_records_a_failed_run(tmp_path, database_url: str) -> None:
    # Redis is not listening: the run must not sit QUEUED until the scheduler declares it lost.
    import httpx2

    from core import Settings, TokenRole
    from core.apitokens import issue_token
    from core.plugins import make_plugin_manager
    from core.queues import QueueBackend
    from core.runtime import Runtime
    from gateway.api.app import create_app
    from tests.servers import free_port

    settings = Settings(data_dir=tmp_path, database_url=database_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    runtime = Runtime.build(settings, pm=make_plugin_manager())
    _, token = issue_token(runtime, name="admin", role=TokenRole.ADMIN)
    _, job = new_shop(runtime, "alpha")
    app = create_app(runtime, QueueBackend.from_settings(settings))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.post("/graphql", headers={"Authorization": f"Bearer {token}"},
                                     json={"query": RUN_NOW, "variables": {"id": job_gid(job)}})
    body = response.json()
    assert "errors" not in body, body
    payload = body["data"]["runJobNow"]
    assert payload["run"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "UNAVAILABLE" and error["field"] is None
    assert "could not be queued" in error["message"] and "FAILED" in error["message"]
    with runtime.storage.transaction() as tx:
        [run] = tx.list_runs(job.id, first=10).items
    assert run.status is JobRunStatus.FAILED and run.finished_at is not None
    assert "queue did not accept the run" in (run.error or "") and "ConnectionError" in (run.error or "")
    runtime.close()
