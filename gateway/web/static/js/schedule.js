// A job's schedule: interval or cron in an IANA timezone, its description, the next five runs.
import { useState } from "preact/hooks";
import { errorsByField, mutate } from "./api.js";
import { html } from "./html.js";
import { viewerZone } from "./time.js";
import { ActionButton, Field, FormErrors, Time } from "./ui.js";

const ZONES = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
const FIELDS = ["cron", "everySeconds", "timezone"];

export function ZoneList() {
  return html`<datalist id="iana-zones">${["UTC", ...ZONES].map((z) => html`<option value=${z} />`)}</datalist>`;
}

// The input a form holds, as ScheduleInput (exactly one of cron or everySeconds).
export function scheduleInput(values) {
  return values.mode === "cron"
    ? { cron: values.cron.trim(), timezone: values.timezone.trim() || "UTC" }
    : { everySeconds: Number.parseInt(values.everySeconds, 10) };
}

export function ScheduleFields({ values, onChange, errors }) {
  const set = (key) => (e) => onChange({ ...values, [key]: e.currentTarget.value });
  return html`<fieldset class="schedule-fields">
    <legend>Schedule</legend>
    <div class="choice" role="radiogroup">
      <label><input type="radio" name="mode" value="interval" checked=${values.mode === "interval"}
                    onChange=${set("mode")} /> Every N seconds</label>
      <label><input type="radio" name="mode" value="cron" checked=${values.mode === "cron"}
                    onChange=${set("mode")} /> Cron in a timezone</label>
    </div>
    ${values.mode === "interval"
      ? html`<${Field} label="Every (seconds)" errors=${errors.everySeconds} hint="e.g. 900 for every 15 minutes">
          <input name="everySeconds" type="number" min="1" step="1" inputmode="numeric" required
                 value=${values.everySeconds} onInput=${set("everySeconds")} /><//>`
      : html`
        <${Field} label="Cron (five fields)" errors=${errors.cron} hint="minute hour day month weekday, e.g. */15 * * * *">
          <input name="cron" required spellcheck="false" value=${values.cron} onInput=${set("cron")} /><//>
        <${Field} label="Timezone (IANA)" errors=${errors.timezone} hint=${`e.g. Europe/Rome; yours is ${viewerZone}`}>
          <input name="timezone" list="iana-zones" spellcheck="false" value=${values.timezone} onInput=${set("timezone")} /><//>`}
    ${errors.schedule && html`<p class="error" role="alert">${errors.schedule.join("; ")}</p>`}
  </fieldset>`;
}

export function valuesOf(schedule) {
  return {
    mode: schedule.cron ? "cron" : "interval",
    cron: schedule.cron ?? "0 * * * *",
    everySeconds: String(schedule.everySeconds ?? 3600),
    timezone: schedule.timezone ?? "UTC",
  };
}

export function otherErrors(byField) {
  return Object.entries(byField).filter(([k]) => !FIELDS.includes(k) && k !== "schedule").flatMap(([, v]) => v);
}

export function ScheduleEditor({ job, onSaved }) {
  const [values, setValues] = useState(valuesOf(job.schedule));
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setSaved(false);
    try {
      const { updateJobSchedule: result } = await mutate("UpdateJobSchedule", { jobId: job.id, schedule: scheduleInput(values) });
      setErrors(errorsByField(result.userErrors));
      if (!result.userErrors.length) { setSaved(true); onSaved(result.job); }
    } catch (e) {
      setErrors({ "": [e.message] });
    } finally { setBusy(false); }
  }

  return html`<form class="card" onSubmit=${submit} aria-labelledby="schedule-title">
    <h2 id="schedule-title">Schedule</h2>
    <p class="description">${job.schedule.description}</p>
    <${FormErrors} errors=${otherErrors(errors)} />
    <${ScheduleFields} values=${values} onChange=${setValues} errors=${errors} />
    <${ActionButton} type="submit" kind="primary" busy=${busy}>Save schedule<//>
    ${saved && html`<span class="ok" role="status"> Saved.</span>`}
  </form>`;
}

export function UpcomingRuns({ job }) {
  const zone = job.schedule.timezone || "UTC";
  return html`<section class="card" aria-labelledby="upcoming-title">
    <h2 id="upcoming-title">Next five runs</h2>
    ${job.paused ? html`<p>Paused: nothing is scheduled until it is resumed.</p>` : null}
    ${job.upcomingRuns.length > 0 && html`<table class="upcoming">
      <thead><tr><th scope="col">#</th><th scope="col">Job's time (${zone})</th><th scope="col">Your time (${viewerZone})</th></tr></thead>
      <tbody>${job.upcomingRuns.map((at, i) => html`<tr key=${at}>
        <td>${i + 1}${i === 0 && job.skipNext ? html` <span class="tag">skipped</span>` : null}</td>
        <td><${Time} at=${at} zone=${zone} /></td>
        <td><${Time} at=${at} /></td>
      </tr>`)}</tbody>
    </table>`}
  </section>`;
}
