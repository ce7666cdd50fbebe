// Sign in: the token is checked with `currentToken` before it is kept (for this tab only).
import { useState } from "preact/hooks";
import { query, session } from "./api.js";
import { html } from "./html.js";
import { Field } from "./ui.js";

export function SignIn({ onSignedIn }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const data = await query("CurrentToken", {}, token.trim());
      session.token = token.trim();
      onSignedIn(data.currentToken);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  }

  return html`<main class="signin">
    <h1>sync-gateway job manager</h1>
    <form onSubmit=${submit} class="card">
      <h2>Sign in</h2>
      <${Field} label="API token" errors=${error ? [error] : null}
                hint="Kept in this tab only (sessionStorage); closing the tab signs you out.">
        <input type="password" name="token" autocomplete="off" required value=${token}
               onInput=${(e) => setToken(e.currentTarget.value)} />
      <//>
      <button type="submit" class="primary" disabled=${busy || !token.trim()}>${busy ? "Checking…" : "Sign in"}</button>
      <p class="muted">An admin token may change schedules and shops; a read token sees everything.</p>
    </form>
  </main>`;
}
