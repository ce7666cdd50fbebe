// The job manager: sign in, then one screen per hash route (#/shops, #/jobs, #/job/<id>, ...).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { query, session } from "./api.js";
import { html } from "./html.js";
import { SignIn } from "./signin.js";
import { Shops } from "./shops.js";
import { Jobs, JobPage } from "./jobs.js";
import { BulkSchedule } from "./bulk.js";
import { Cancellations } from "./cancellations.js";
import { Loading, Viewer } from "./ui.js";
import { viewerZone } from "./time.js";

const SCREENS = [
  ["shops", "Shops"],
  ["jobs", "Jobs"],
  ["bulk", "Bulk scheduling"],
  ["cancellations", "Cancellations"],
];

function useRoute() {
  const read = () => window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return route;
}

function Screen({ route }) {
  const [name, ...rest] = route;
  const arg = rest.join("/"); // a job's id is a gid://... and may come unencoded
  if (name === "job" && arg) return html`<${JobPage} jobId=${arg} />`;
  if (name === "jobs") return html`<${Jobs} />`;
  if (name === "bulk") return html`<${BulkSchedule} />`;
  if (name === "cancellations") return html`<${Cancellations} />`;
  return html`<${Shops} />`;
}

function App() {
  const [viewer, setViewer] = useState(undefined); // undefined: checking a kept token
  const route = useRoute();

  useEffect(() => {
    if (!session.token) return setViewer(null);
    query("CurrentToken").then((data) => setViewer(data.currentToken), () => {
      session.token = null; // revoked or wrong: sign in again
      setViewer(null);
    });
  }, []);

  useEffect(() => {
    const title = SCREENS.find(([key]) => key === route[0])?.[1] ?? (route[0] === "job" ? "Job" : "Shops");
    document.title = `${title} · sync-gateway`;
  }, [route]);

  if (viewer === undefined) return html`<${Loading} what="your session" />`;
  if (viewer === null) return html`<${SignIn} onSignedIn=${setViewer} />`;

  const canAct = viewer.role === "ADMIN";
  const current = route[0] === "job" ? "jobs" : route[0] || "shops";
  function signOut() {
    session.token = null;
    setViewer(null);
  }
  return html`<${Viewer.Provider} value=${{ role: viewer.role, canAct }}>
    <a class="skip" href="#content">Skip to content</a>
    <header class="top">
      <strong class="brand">sync-gateway</strong>
      <nav aria-label="Screens">
        ${SCREENS.map(([key, label]) => html`<a href=${`#/${key}`} aria-current=${current === key ? "page" : undefined}>${label}</a>`)}
        <a href="/graphql" target="_blank" rel="noopener">GraphiQL</a>
      </nav>
      <span class="who">
        <span class=${`role role-${viewer.role.toLowerCase()}`}>${viewer.name} · ${viewer.role.toLowerCase()}</span>
        <span class="muted tz">times in ${viewerZone}</span>
        <button type="button" onClick=${signOut}>Sign out</button>
      </span>
    </header>
    ${!canAct && html`<p class="notice" role="note">Read-only: this token may look at everything; changing anything needs an admin token.</p>`}
    <main id="content" tabindex="-1"><${Screen} route=${route} /></main>
  <//>`;
}

render(html`<${App} />`, document.getElementById("app"));
