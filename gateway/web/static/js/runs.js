// A job's runs: the live one through jobRunUpdated (pushed, never polled) and the history.
import { useEffect, useRef, useState } from "preact/hooks";
import { query, subscribe } from "./api.js";
import { checkedConnections } from "./connections.js";
import { html } from "./html.js";
import { formatSeconds, localInputToIso, viewerZone } from "./time.js";
import { Field, Loading, Problem, Status, Time } from "./ui.js";

const STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "LOST", "SKIPPED"];
// Runs that did not succeed stand out; LOST (its worker vanished) says where to look.
const UNSUCCESSFUL = new Set(["FAILED", "LOST"]);
const LOST_HINT = "Lost: its worker vanished before ending it (killed, cut off, or the queue lost it); "
  + "check the workers and the queue. The next run reads this window again.";
const number = (n) => (n ?? 0).toLocaleString("en");

// Share of the window read so far, from the newest order stored: known only for a bounded window.
function etaSeconds(run) {
  const p = run.progress;
  if (!p?.checkpoint || !run.windowFrom || !run.windowThru || !p.elapsedSeconds) return null;
  const from = Date.parse(run.windowFrom);
  const span = Date.parse(run.windowThru) - from;
  const done = (Date.parse(p.checkpoint) - from) / span;
  if (!(span > 0) || !(done > 0.02) || done >= 1) return null;
  return (p.elapsedSeconds * (1 - done)) / done;
}

// Cost against the plan's ceiling: the bucket as the last reply reported it (points in use of
// the plan's maximum), else what the shop's connection check said of the plan.
function Bucket({ progress, connection }) {
  const ceiling = progress.bucketMaximum;
  if (ceiling) {
    const used = Math.max(0, ceiling - (progress.bucketAvailable ?? ceiling));
    return html`<meter min="0" max=${ceiling} value=${used} high=${ceiling * 0.8} aria-label="Bucket in use"></meter>
      <span data-count="bucket">${number(Math.round(used))} of ${number(ceiling)} points in use</span>${" "}
      <span class="muted">(the plan's bucket holds ${number(ceiling)}; ${number(Math.round(progress.bucketAvailable ?? 0))} free at the last reply)</span>`;
  }
  return connection?.apiPoints
    ? html`the plan's bucket holds ${number(connection.apiPoints)}, refilling ${connection.apiRestoreRate}/s`
    : html`<span class="muted">not reported yet (the first reply tells it)</span>`;
}

export function LiveRun({ job, onFinished }) {
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  const [generation, setGeneration] = useState(0); // a new subscription after each run ends

  useEffect(() => {
    setError(null);
    return subscribe("JobRunUpdated", { jobId: job.id }, {
      next: (data) => setRun(data.jobRunUpdated),
      error: setError,
      complete: () => {
        onFinished();
        setGeneration((g) => g + 1); // wait for the next run the same way
      },
    });
  }, [job.id, generation]);

  const connection = checkedConnections.get(job.shop);
  const live = run && (run.status === "RUNNING" || run.status === "QUEUED");
  const p = run?.progress ?? {};
  const eta = run && live ? etaSeconds(run) : null;
  return html`<section class="card live" aria-labelledby="live-title" aria-live="polite">
    <h2 id="live-title">Live run</h2>
    <${Problem} error=${error} />
    ${!run && html`<p class="muted">Waiting for the next run of this job (pushed over the websocket).</p>`}
    ${run && html`<div data-run=${run.id} data-status=${run.status}>
      <p><${Status} status=${run.status} /> ${run.trigger.toLowerCase()} run
        ${run.windowFrom && html` over <${Time} at=${run.windowFrom} /> → <${Time} at=${run.windowThru} />`}</p>
      <dl class="facts counts">
        <dt>Pages</dt><dd data-count="pages">${number(live ? p.pages ?? run.pages : run.pages)}</dd>
        <dt>Orders</dt><dd data-count="orders">${number(live ? p.ordersSeen ?? run.ordersSeen : run.ordersSeen)}</dd>
        <dt>Units canceled</dt><dd data-count="units">${number(live ? p.unitsCanceled ?? run.unitsCanceled : run.unitsCanceled)}</dd>
        <dt>API cost</dt><dd data-count="cost">${number(live ? p.apiCost ?? run.apiCost : run.apiCost)} points ${live ? "so far" : "used"}</dd>
        <dt>Rate-limit bucket</dt><dd><${Bucket} progress=${p} connection=${connection} /></dd>
        <dt>Elapsed</dt><dd>${formatSeconds(p.elapsedSeconds ?? run.durationSeconds)}</dd>
        ${live && html`<dt>ETA</dt><dd>${eta == null ? "not known yet" : `about ${formatSeconds(eta)}`}</dd>`}
      </dl>
      ${run.status === "LOST" && html`<p class="lost-hint">${LOST_HINT}</p>`}
      ${run.error && html`<pre class="run-error">${run.error}</pre>`}
    </div>`}
  </section>`;
}

export function RunHistory({ jobId, version }) {
  const [filter, setFilter] = useState({ status: "", since: "", until: "" });
  const [pages, setPages] = useState(null); // the runs listed so far, page after page
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);

  const variables = (after) => ({
    jobId,
    status: filter.status || null,
    since: localInputToIso(filter.since),
    until: localInputToIso(filter.until),
    after,
  });
  const latest = useRef(0); // a reply to an older filter arriving late is dropped
  const load = (after, previous) => {
    const asked = ++latest.current;
    return query("JobRuns", variables(after)).then((d) => {
      if (asked !== latest.current) return;
      setPages([...previous, ...d.jobRuns.nodes]);
      setNext(d.jobRuns.pageInfo.hasNextPage ? d.jobRuns.pageInfo.endCursor : null);
      setError(null);
    }, setError);
  };
  useEffect(() => { load(null, []); }, [jobId, version, filter]);

  const set = (key) => (e) => setFilter({ ...filter, [key]: e.currentTarget.value });
  return html`<section class="card" aria-labelledby="history-title">
    <h2 id="history-title">Run history</h2>
    <form class="row filters" onSubmit=${(e) => e.preventDefault()} aria-label="Filter runs">
      <${Field} label="Status">
        <select name="status" value=${filter.status} onChange=${set("status")}>
          <option value="">any</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s.toLowerCase()}</option>`)}
        </select><//>
      <${Field} label=${`Started since, your time (${viewerZone})`}>
        <input type="datetime-local" name="since" value=${filter.since} onChange=${set("since")} /><//>
      <${Field} label=${`Started before, your time (${viewerZone})`}>
        <input type="datetime-local" name="until" value=${filter.until} onChange=${set("until")} /><//>
    </form>
    <${Problem} error=${error} />
    ${pages === null && !error ? html`<${Loading} what="runs" />` : null}
    ${pages?.length === 0 && html`<p>No run matches.</p>`}
    ${pages?.length > 0 && html`<div class="table-scroll"><table class="runs">
      <thead><tr>
        <th scope="col">Status</th><th scope="col">Started</th><th scope="col">Window</th>
        <th scope="col">Pages</th><th scope="col">Orders</th><th scope="col">Items</th><th scope="col">Units</th>
        <th scope="col">API cost</th><th scope="col">Retries</th><th scope="col">Throttled</th><th scope="col">Duration</th>
      </tr></thead>
      <tbody>${pages.map((run) => html`<tr key=${run.id} class=${UNSUCCESSFUL.has(run.status) ? `failed ${run.status.toLowerCase()}` : ""}>
          <td><${Status} status=${run.status} /><br /><small>${run.trigger.toLowerCase()}</small></td>
          <td><${Time} at=${run.startedAt ?? run.queuedAt} /></td>
          <td>${run.windowFrom ? html`<${Time} at=${run.windowFrom} /> →<br /><${Time} at=${run.windowThru} />` : "—"}</td>
          <td>${number(run.pages)}</td><td>${number(run.ordersSeen)}</td><td>${number(run.itemsCanceled)}</td>
          <td>${number(run.unitsCanceled)}</td><td>${number(run.apiCost)}</td><td>${number(run.retries)}</td>
          <td>${number(run.throttled)}</td><td>${formatSeconds(run.durationSeconds)}</td>
        </tr>${run.error || run.status === "LOST" ? html`<tr class="failed error-row"><td colspan="11">
          ${run.status === "LOST" && html`<p class="lost-hint">${LOST_HINT}</p>`}
          ${run.error && html`<pre class="run-error">${run.error}</pre>`}</td></tr>` : null}`)}
      </tbody>
    </table></div>`}
    ${next && html`<button type="button" onClick=${() => load(next, pages)}>Older runs</button>`}
  </section>`;
}
