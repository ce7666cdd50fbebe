// Jobs: every shop's jobs, and one job's page (schedule, next runs, controls, live run, history).
import { useEffect, useState } from "preact/hooks";
import { errorsByField, mutate, query } from "./api.js";
import { html } from "./html.js";
import { RunHistory, LiveRun } from "./runs.js";
import { ScheduleEditor, UpcomingRuns, ZoneList } from "./schedule.js";
import { useShops } from "./shops.js";
import { localInputToIso, viewerZone } from "./time.js";
import { ActionButton, Field, FormErrors, Loading, Problem, Status, Time } from "./ui.js";

export function Jobs() {
  const { shops, error } = useShops();
  return html`<section aria-labelledby="jobs-title">
    <h1 id="jobs-title">Jobs</h1>
    <${Problem} error=${error} />
    ${shops === null && !error ? html`<${Loading} what="jobs" />` : null}
    ${(shops ?? []).map((shop) => html`<section key=${shop.id} class="card">
      <h2>${shop.name}</h2>
      <div class="table-scroll"><table>
        <thead><tr><th scope="col">Job</th><th scope="col">Schedule</th><th scope="col">Next run</th><th scope="col">Last run</th></tr></thead>
        <tbody>${shop.jobs.map((job) => html`<tr key=${job.id}>
          <td><a href=${`#/job/${encodeURIComponent(job.id)}`}>${job.kind}</a></td>
          <td>${job.schedule.description}${job.paused ? html` <span class="tag">paused</span>` : null}</td>
          <td>${job.paused ? "—" : html`<${Time} at=${job.nextRunAt} />`}</td>
          <td><${Status} status=${job.lastRun?.status} /></td>
        </tr>`)}</tbody>
      </table></div>
    </section>`)}
  </section>`;
}

export function JobPage({ jobId }) {
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [runsVersion, setRunsVersion] = useState(0); // bumped when a run ends: history reloads

  const reload = () => query("Job", { id: jobId }).then((d) => {
    if (!d.job) throw new Error(`no job ${jobId}`);
    setJob(d.job);
    setError(null);
  }).catch(setError);
  useEffect(() => { reload(); }, [jobId]);

  if (error) return html`<${Problem} error=${error} />`;
  if (!job) return html`<${Loading} what="the job" />`;
  const merge = (changed) => setJob({ ...job, ...changed });
  return html`<section aria-labelledby="job-title">
    <${ZoneList} />
    <p><a href="#/jobs">← All jobs</a></p>
    <h1 id="job-title">${job.shop} · ${job.kind}</h1>
    <p class="summary">
      ${job.paused ? html`<span class="tag paused">paused</span>` : html`<span class="tag active">active</span>`}
      ${" "}${job.schedule.description}
      ${!job.paused && html` · next run <${Time} at=${job.nextRunAt} />`}
      ${job.skipNext && html` · <span class="tag">next run will be skipped</span>`}
      ${job.watermark && html` · stored up to <${Time} at=${job.watermark} />`}
    </p>
    <div class="grid">
      <${ScheduleEditor} job=${job} onSaved=${merge} />
      <${UpcomingRuns} job=${job} />
      <${Controls} job=${job} onChanged=${merge} onQueued=${reload} />
      <${LiveRun} job=${job} onFinished=${() => { reload(); setRunsVersion((v) => v + 1); }} />
    </div>
    <${RunHistory} jobId=${job.id} version=${runsVersion} />
  </section>`;
}

function Controls({ job, onChanged, onQueued }) {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);

  async function act(name, field, variables, done) {
    setBusy(name);
    setError(null);
    setNotice(null);
    try {
      const result = (await mutate(name, { jobId: job.id, ...variables }))[field];
      if (result.userErrors.length) return errorsByField(result.userErrors);
      done(result);
      return {};
    } catch (e) {
      setError(e);
      return {};
    } finally { setBusy(null); }
  }

  const toggle = () => act(job.paused ? "ResumeJob" : "PauseJob", job.paused ? "resumeJob" : "pauseJob", {},
    (r) => { onChanged(r.job); setNotice(job.paused ? "Resumed." : "Paused."); });
  const skip = () => act("SkipNextRun", "skipNextRun", {}, (r) => { onChanged(r.job); setNotice("The next run will be skipped."); });

  return html`<section class="card" aria-labelledby="controls-title">
    <h2 id="controls-title">Controls</h2>
    <div class="actions">
      <${ActionButton} onClick=${toggle} busy=${busy === "PauseJob" || busy === "ResumeJob"}>${job.paused ? "Resume" : "Pause"}<//>
      <${ActionButton} onClick=${skip} busy=${busy === "SkipNextRun"} disabled=${job.paused || job.skipNext}>Skip next run<//>
    </div>
    ${notice && html`<p class="ok" role="status">${notice}</p>`}
    <${Problem} error=${error} />
    <${WindowForm} title="Run now" submit="Run now" from="windowFrom" thru="windowThru" optional=${true}
      hint="Leave both empty for the usual window (from the last stored one up to now)."
      onSubmit=${(w) => act("RunJobNow", "runJobNow", w, (r) => { setNotice(`Run queued (${r.run.status}).`); onQueued(); })} />
    <${WindowForm} title="Backfill" submit="Backfill" from="since" thru="until" optional=${false}
      hint="Re-reads a long past window; until defaults to now minus the settle buffer."
      onSubmit=${(w) => act("BackfillJob", "backfillJob", w, (r) => { setNotice(`Backfill queued (${r.run.status}).`); onQueued(); })} />
  </section>`;
}

// Two datetime-local inputs read in the viewer's zone and sent as UTC instants.
function WindowForm({ title, submit, from, thru, optional, hint, onSubmit }) {
  const [values, setValues] = useState({ from: "", thru: "" });
  const [errors, setErrors] = useState({});
  async function send(event) {
    event.preventDefault();
    const window = {};
    if (values.from) window[from] = localInputToIso(values.from);
    if (values.thru) window[thru] = localInputToIso(values.thru);
    setErrors(await onSubmit(window));
  }
  const known = [from, thru];
  return html`<form class="window" onSubmit=${send} aria-label=${title}>
    <h3>${title}</h3>
    <${FormErrors} errors=${Object.entries(errors).filter(([k]) => !known.includes(k)).flatMap(([, v]) => v)} />
    <div class="row">
      <${Field} label=${`${from === "since" ? "Since" : "From"}${optional ? " (optional)" : ""}, your time (${viewerZone})`} errors=${errors[from]}>
        <input type="datetime-local" step="1" name=${from} required=${!optional} value=${values.from}
               onInput=${(e) => setValues({ ...values, from: e.currentTarget.value })} /><//>
      <${Field} label=${`${thru === "until" ? "Until" : "Through"} (optional), your time (${viewerZone})`} errors=${errors[thru]}>
        <input type="datetime-local" step="1" name=${thru} value=${values.thru}
               onInput=${(e) => setValues({ ...values, thru: e.currentTarget.value })} /><//>
    </div>
    <small class="hint">${hint}</small>
    <${ActionButton} type="submit">${submit}<//>
  </form>`;
}
