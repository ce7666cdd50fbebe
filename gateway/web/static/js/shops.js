// Shops: add, edit, remove, a connection check, and each shop's lag.
import { useEffect, useState } from "preact/hooks";
import { errorsByField, mutate, query } from "./api.js";
import { checkedConnections } from "./connections.js";
import { html } from "./html.js";
import { formatSeconds, since } from "./time.js";
import { ActionButton, Field, FormErrors, Loading, Problem, Status, Time } from "./ui.js";

// Lag: how far behind the shop the store is, the time since the end of its last stored window.
function lagOf(shop) {
  const marks = shop.jobs.map((j) => j.watermark).filter(Boolean).sort();
  return marks.length ? since(marks[marks.length - 1]) : null;
}

export function useShops() {
  const [shops, setShops] = useState(null);
  const [error, setError] = useState(null);
  const reload = () => query("Shops").then((d) => { setShops(d.shops); setError(null); }, setError);
  useEffect(() => { reload(); }, []);
  return { shops, error, reload };
}

export function Shops() {
  const { shops, error, reload } = useShops();
  const [editing, setEditing] = useState(null);
  return html`<section aria-labelledby="shops-title">
    <h1 id="shops-title">Shops</h1>
    <${Problem} error=${error} />
    ${shops === null && !error ? html`<${Loading} what="shops" />` : null}
    ${shops?.length === 0 && html`<p>No shop yet: add one below.</p>`}
    <ul class="cards">
      ${(shops ?? []).map((shop) => html`<li key=${shop.id} class="card shop" data-shop=${shop.name}>
        <${ShopCard} shop=${shop} onChanged=${reload} editing=${editing === shop.id}
                     onEdit=${(on) => setEditing(on ? shop.id : null)} />
      </li>`)}
    </ul>
    <${AddShop} onAdded=${reload} />
  </section>`;
}

function ShopCard({ shop, onChanged, editing, onEdit }) {
  const [connection, setConnection] = useState(checkedConnections.get(shop.name) ?? null);
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const lag = lagOf(shop);

  async function check() {
    setBusy("check");
    setError(null);
    try {
      const { checkShopConnection: result } = await mutate("CheckShopConnection", { id: shop.id });
      if (result.userErrors.length) setError(new Error(result.userErrors.map((e) => e.message).join("; ")));
      if (result.connection) {
        checkedConnections.set(shop.name, result.connection);
        setConnection(result.connection);
      }
    } catch (e) { setError(e); } finally { setBusy(null); }
  }

  async function remove() {
    if (!window.confirm(`Remove ${shop.name} with its jobs, runs, orders and cancellation history?`)) return;
    setBusy("remove");
    try {
      const { removeShop: result } = await mutate("RemoveShop", { id: shop.id });
      if (result.userErrors.length) setError(new Error(result.userErrors.map((e) => e.message).join("; ")));
      else onChanged();
    } catch (e) { setError(e); } finally { setBusy(null); }
  }

  return html`<h2>${shop.name}</h2>
    <dl class="facts">
      <dt>URL</dt><dd>${shop.url}</dd>
      <dt>API version</dt><dd>${shop.apiVersion}</dd>
      <dt>Token</dt><dd>${shop.tokenEnv ? `from $${shop.tokenEnv}` : shop.hasToken ? "stored (never shown)" : "none"}</dd>
      <dt>Lag</dt><dd class="lag">${lag == null ? "no window stored yet" : `${formatSeconds(lag)} since its last stored window`}</dd>
      <dt>Added</dt><dd><${Time} at=${shop.createdAt} /></dd>
    </dl>
    <h3>Jobs</h3>
    <ul class="jobs">
      ${shop.jobs.map((job) => html`<li key=${job.id}>
        <a href=${`#/job/${encodeURIComponent(job.id)}`}>${job.kind}</a>
        ${" "}<span class="muted">${job.schedule.description}${job.paused ? " · paused" : ""}</span>
        ${" "}<${Status} status=${job.lastRun?.status} />
      </li>`)}
    </ul>
    <div class="actions">
      <button type="button" onClick=${check} disabled=${busy === "check"}
              title="Asks the shop who it is; spends a few API points">${busy === "check" ? "Checking…" : "Check connection"}</button>
      <${ActionButton} onClick=${() => onEdit(!editing)} aria-expanded=${editing}>Edit<//>
      <${ActionButton} kind="danger" onClick=${remove} busy=${busy === "remove"}>Remove<//>
    </div>
    <${Problem} error=${error} />
    ${connection && html`<${ConnectionReport} connection=${connection} />`}
    ${editing && html`<${EditShop} shop=${shop} onDone=${() => { onEdit(false); onChanged(); }} />`}`;
}

function ConnectionReport({ connection: c }) {
  return html`<div class=${c.ok ? "connection ok" : "connection failed"} role="status">
    <p><strong>${c.ok ? "Connected" : `Failed: ${c.problem}`}</strong> — ${c.message}</p>
    <dl class="facts">
      ${c.shopName && html`<dt>Shop</dt><dd>${c.shopName} (${c.domain})</dd>`}
      ${c.plan && html`<dt>Plan</dt><dd>${c.plan}${c.planPremium ? " (Plus)" : ""}</dd>`}
      ${c.apiPoints != null && html`<dt>API budget</dt><dd>${c.apiPoints} points, restoring ${c.apiRestoreRate}/s</dd>`}
      ${c.scopes.length > 0 && html`<dt>Scopes</dt><dd>${c.scopes.join(", ")}</dd>`}
      ${c.missingScopes.length > 0 && html`<dt>Missing scopes</dt><dd class="error">${c.missingScopes.join(", ")}</dd>`}
      ${c.optionalMissingScopes.length > 0 && html`<dt>Would read more with</dt><dd>${c.optionalMissingScopes.join(", ")}</dd>`}
      <dt>Checked</dt><dd><${Time} at=${c.checkedAt} /> in ${c.seconds.toFixed(2)} s</dd>
    </dl>
  </div>`;
}

function ShopForm({ initial, submitLabel, withName, onSubmit }) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const set = (key) => (e) => setValues({ ...values, [key]: e.currentTarget.value });

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    try {
      const userErrors = await onSubmit(values);
      setErrors(errorsByField(userErrors));
    } catch (e) {
      setErrors({ "": [e.message] });
    } finally { setBusy(false); }
  }

  return html`<form onSubmit=${submit} class="shop-form">
    <${FormErrors} errors=${Object.entries(errors).filter(([k]) => !["name", "url", "apiVersion", "accessToken", "accessTokenEnv"].includes(k)).flatMap(([, v]) => v)} />
    ${withName && html`<${Field} label="Name" errors=${errors.name} hint="Lower-case letters, digits, - or _">
      <input name="name" required value=${values.name} onInput=${set("name")} /><//>`}
    <${Field} label="URL" errors=${errors.url} hint="https://<shop>.myshopify.com">
      <input name="url" type="url" required value=${values.url} onInput=${set("url")} /><//>
    <${Field} label="API version" errors=${errors.apiVersion} hint="Empty: the gateway's default">
      <input name="apiVersion" value=${values.apiVersion} onInput=${set("apiVersion")} /><//>
    <${Field} label="Access token" errors=${errors.accessToken} hint=${withName ? "Write-only: never shown again" : "Empty: keep the stored one"}>
      <input name="accessToken" type="password" autocomplete="off" value=${values.accessToken} onInput=${set("accessToken")} /><//>
    <${Field} label="…or read the token from this environment variable" errors=${errors.accessTokenEnv}>
      <input name="accessTokenEnv" value=${values.accessTokenEnv} onInput=${set("accessTokenEnv")} /><//>
    <${ActionButton} type="submit" kind="primary" busy=${busy}>${submitLabel}<//>
  </form>`;
}

const given = (value) => (value && value.trim() ? value.trim() : undefined);

function AddShop({ onAdded }) {
  const blank = { name: "", url: "", apiVersion: "", accessToken: "", accessTokenEnv: "" };
  const [key, setKey] = useState(0); // a new key clears the form after a shop is added
  return html`<section class="card" aria-labelledby="add-shop-title">
    <h2 id="add-shop-title">Add a shop</h2>
    <${ShopForm} key=${key} initial=${blank} withName=${true} submitLabel="Add shop" onSubmit=${async (v) => {
      const input = { name: v.name.trim(), url: v.url.trim(), apiVersion: given(v.apiVersion),
                      accessToken: given(v.accessToken), accessTokenEnv: given(v.accessTokenEnv) };
      const { addShop: result } = await mutate("AddShop", { input });
      if (!result.userErrors.length) { setKey(key + 1); onAdded(); }
      return result.userErrors;
    }} />
  </section>`;
}

function EditShop({ shop, onDone }) {
  const initial = { url: shop.url, apiVersion: shop.apiVersion, accessToken: "", accessTokenEnv: shop.tokenEnv ?? "" };
  return html`<div class="edit">
    <h3>Edit ${shop.name}</h3>
    <${ShopForm} initial=${initial} withName=${false} submitLabel="Save shop" onSubmit=${async (v) => {
      const input = { url: v.url.trim(), apiVersion: given(v.apiVersion) };
      if (given(v.accessToken)) input.accessToken = v.accessToken.trim();
      if ((v.accessTokenEnv.trim() || null) !== (shop.tokenEnv ?? null)) input.accessTokenEnv = given(v.accessTokenEnv) ?? null;
      const { updateShop: result } = await mutate("UpdateShop", { id: shop.id, input });
      if (!result.userErrors.length) onDone();
      return result.userErrors;
    }} />
  </div>`;
}
