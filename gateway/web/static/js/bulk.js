// Bulk scheduling: one schedule for the same job of several shops, all or none (scheduleJobs).
import { useMemo, useState } from "preact/hooks";
import { errorsByField, mutate } from "./api.js";
import { html } from "./html.js";
import { ScheduleFields, ZoneList, otherErrors, scheduleInput } from "./schedule.js";
import { useShops } from "./shops.js";
import { ActionButton, FormErrors, Loading, Problem, Time } from "./ui.js";

export function BulkSchedule() {
  const { shops, error, reload } = useShops();
  const kinds = useMemo(() => [...new Set((shops ?? []).flatMap((s) => s.jobs.map((j) => j.kind)))].sort(), [shops]);
  const [kind, setKind] = useState(null);
  const [chosen, setChosen] = useState(new Set());
  const [values, setValues] = useState({ mode: "interval", everySeconds: "900", cron: "0 * * * *", timezone: "UTC" });
  const [errors, setErrors] = useState({});
  const [jobErrors, setJobErrors] = useState({}); // job id -> messages
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);

  if (error) return html`<${Problem} error=${error} />`;
  if (!shops) return html`<${Loading} what="shops" />`;
  const current = kind ?? kinds[0];
  const jobs = shops.flatMap((s) => s.jobs.filter((j) => j.kind === current).map((j) => ({ ...j, shop: s.name })));

  function toggle(id) {
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id); else next.add(id);
    setChosen(next);
  }

  async function submit(event) {
    event.preventDefault();
    const jobIds = jobs.filter((j) => chosen.has(j.id)).map((j) => j.id);
    setBusy(true);
    setDone(null);
    try {
      const { scheduleJobs: result } = await mutate("ScheduleJobs", { jobIds, schedule: scheduleInput(values) });
      // a refused job is named by its index in jobIds: ["jobIds", "<index>"]
      const perJob = {};
      const rest = [];
      for (const e of result.userErrors) {
        if (e.field?.[0] === "jobIds" && e.field.length === 2) (perJob[jobIds[Number(e.field[1])]] ??= []).push(e.message);
        else rest.push(e);
      }
      setJobErrors(perJob);
      setErrors(errorsByField(rest));
      if (!result.userErrors.length) { setDone(result.jobs); reload(); }
    } catch (e) {
      setErrors({ "": [e.message] });
    } finally { setBusy(false); }
  }

  const refused = Object.keys(jobErrors).length > 0;
  return html`<section aria-labelledby="bulk-title">
    <${ZoneList} />
    <h1 id="bulk-title">Bulk scheduling</h1>
    <p>One schedule for the same job of several shops, in one transaction: all of them change, or none does.</p>
    <form class="card" onSubmit=${submit}>
      <div class="field">
        <label for="bulk-kind">Job</label>
        <select id="bulk-kind" value=${current} onChange=${(e) => { setKind(e.currentTarget.value); setChosen(new Set()); }}>
          ${kinds.map((k) => html`<option value=${k}>${k}</option>`)}
        </select>
      </div>
      <fieldset>
        <legend>Shops</legend>
        ${jobs.map((job) => html`<div key=${job.id} class=${jobErrors[job.id] ? "field invalid" : "field"}>
          <label><input type="checkbox" name="shop" value=${job.shop} checked=${chosen.has(job.id)}
                        onChange=${() => toggle(job.id)} /> ${job.shop}</label>
          <small class="muted"> now: ${job.schedule.description}</small>
          ${jobErrors[job.id] && html`<p class="error" role="alert">${job.shop}: ${jobErrors[job.id].join("; ")}</p>`}
        </div>`)}
      </fieldset>
      <${FormErrors} errors=${otherErrors(errors)} />
      <${ScheduleFields} values=${values} onChange=${setValues} errors=${errors} />
      <${ActionButton} type="submit" kind="primary" busy=${busy} disabled=${chosen.size === 0}>
        Apply to ${chosen.size} shop${chosen.size === 1 ? "" : "s"}<//>
      ${refused && html`<p class="error" role="alert">Nothing was changed: fix the shops marked above.</p>`}
    </form>
    ${done && html`<div class="card ok" role="status">
      <p>Scheduled ${done.length} job${done.length === 1 ? "" : "s"}:</p>
      <ul>${done.map((j) => html`<li key=${j.id}>${j.shop}: ${j.schedule.description}, next run <${Time} at=${j.nextRunAt} /></li>`)}</ul>
    </div>`}
  </section>`;
}
