// Small shared pieces: admin-only buttons, fields with their errors, times, run statuses.
import { cloneElement, createContext } from "preact";
import { useContext, useId } from "preact/hooks";
import { html } from "./html.js";
import { formatAt, viewerZone } from "./time.js";

// { role, canAct }: a READ token sees everything but may not change anything.
export const Viewer = createContext({ role: null, canAct: false });
export const READ_ONLY_REASON = "Needs an admin token: you are signed in with a read token.";

// A real <button>, disabled for a read token with the reason beside it (not only in a tooltip).
export function ActionButton({ onClick, children, busy = false, disabled = false, kind = "", type = "button", ...rest }) {
  const { canAct } = useContext(Viewer);
  const id = useId();
  return html`<span class="action">
    <button type=${type} class=${kind} onClick=${onClick} disabled=${!canAct || busy || disabled}
            aria-describedby=${canAct ? undefined : id}
            title=${canAct ? undefined : READ_ONLY_REASON} ...${rest}>${busy ? "Working…" : children}</button>
    ${!canAct && html`<span class="reason" id=${id}>needs an admin token</span>`}
  </span>`;
}

export function Field({ label, errors, hint, children }) {
  const id = useId();
  const errorId = `${id}-error`;
  const control = cloneElement(children, { id,
    "aria-invalid": errors?.length ? "true" : undefined,
    "aria-describedby": errors?.length ? errorId : undefined });
  return html`<div class=${errors?.length ? "field invalid" : "field"}>
    <label for=${id}>${label}</label>
    ${control}
    ${hint && html`<small class="hint">${hint}</small>`}
    ${errors?.length ? html`<p class="error" id=${errorId} role="alert">${errors.join("; ")}</p>` : null}
  </div>`;
}

export function FormErrors({ errors }) {
  return errors?.length ? html`<div class="error banner" role="alert">${errors.map((e) => html`<p>${e}</p>`)}</div>` : null;
}

export function Time({ at, zone = viewerZone }) {
  return at ? html`<time datetime=${at} title=${`${at} (${zone})`}>${formatAt(at, zone)}</time>` : html`<span>—</span>`;
}

// FAILED and LOST stand out by colour, weight and an icon-free word, so they survive greyscale too.
export function Status({ status }) {
  return html`<span class=${`status status-${(status ?? "none").toLowerCase()}`}>${status ?? "never run"}</span>`;
}

export function Loading({ what }) {
  return html`<p class="muted" role="status">Loading ${what}…</p>`;
}

export function Problem({ error }) {
  return error ? html`<div class="error banner" role="alert">${String(error.message ?? error)}</div>` : null;
}
