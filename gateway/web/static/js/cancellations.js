// Cancellations: the newest canceled units, by shop, newest first in the order they were recorded
// (the `cancellations` feed read in reverse), one page back at a time.
import { useEffect, useState } from "preact/hooks";
import { query } from "./api.js";
import { html } from "./html.js";
import { useShops } from "./shops.js";
import { Loading, Problem, Time } from "./ui.js";

export function Cancellations() {
  const { shops } = useShops();
  const [shop, setShop] = useState("");
  const [cursors, setCursors] = useState([null]); // the cursor each page was read from: Back pops one
  const [result, setResult] = useState({ key: null, rows: null });
  const [error, setError] = useState(null);
  const after = cursors[cursors.length - 1];
  const key = `${shop} ${after}`;
  const page = result.key === key ? result.rows : null; // never a page read for other filters

  useEffect(() => {
    query("Cancellations", { shop: shop || null, after })
      .then((d) => { setResult({ key, rows: d.cancellations }); setError(null); }, setError);
  }, [key]);

  const rows = page?.nodes ?? [];
  return html`<section aria-labelledby="cancellations-title">
    <h1 id="cancellations-title">Cancellations</h1>
    <form class="row filters" onSubmit=${(e) => e.preventDefault()} aria-label="Filter cancellations">
      <div class="field">
        <label for="cancellations-shop">Shop</label>
        <select id="cancellations-shop" value=${shop} onChange=${(e) => { setShop(e.currentTarget.value); setCursors([null]); }}>
          <option value="">all shops</option>
          ${(shops ?? []).map((s) => html`<option value=${s.name}>${s.name}</option>`)}
        </select>
      </div>
    </form>
    <${Problem} error=${error} />
    ${!page && !error ? html`<${Loading} what="cancellations" />` : null}
    ${page && rows.length > 0 && html`<p class="muted">Newest recorded first; page ${cursors.length}.</p>`}
    ${page && rows.length === 0 && html`<p>No canceled unit yet.</p>`}
    ${rows.length > 0 && html`<div class="table-scroll"><table class="cancellations">
      <thead><tr><th scope="col">Recorded</th><th scope="col">Order</th><th scope="col">Shop</th><th scope="col">SKU</th>
        <th scope="col">Units</th><th scope="col">Reason</th><th scope="col">Canceled in the shop</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr key=${r.id} data-id=${r.id}>
        <td><${Time} at=${r.recordedAt} /></td><td>${r.order.name}</td><td>${r.shop}</td>
        <td title=${r.item.title}>${r.item.sku ?? "(no SKU)"}</td><td>${r.quantity}</td><td>${r.reason ?? "—"}</td>
        <td><${Time} at=${r.canceledAt} /></td>
      </tr>`)}</tbody>
    </table></div>`}
    <div class="actions">
      <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Newer</button>
      <button type="button" disabled=${!page?.pageInfo.hasNextPage} onClick=${() => setCursors([...cursors, page.pageInfo.endCursor])}>Older</button>
    </div>
  </section>`;
}
