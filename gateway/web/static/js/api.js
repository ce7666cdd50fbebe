// The page's only way to the gateway: the public GraphQL API, with documents loaded by name
// from /operations (each validated against docs/schema.graphql in tests/web/test_assets.py).

const TOKEN_KEY = "sync-gateway.token"; // GraphiQL (/graphql) reads the same key

// sessionStorage: the token lives as long as this tab and is never shared with another.
export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

export class ApiError extends Error {}

const documents = new Map();

function load(name) {
  if (!documents.has(name)) {
    documents.set(name, fetch(`/operations/${name}.graphql`).then((response) => {
      if (!response.ok) throw new ApiError(`the page has no operation ${name} (HTTP ${response.status})`);
      return response.text();
    }));
  }
  return documents.get(name);
}

async function send(name, variables, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query: await load(name), variables, operationName: name }),
  });
  const body = await response.json().catch(() => null);
  if (!body) throw new ApiError(`the gateway answered HTTP ${response.status}`);
  if (body.errors?.length) throw new ApiError(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

export const query = (name, variables = {}, token = session.token) => send(name, variables, token);
export const mutate = (name, variables = {}) => send(name, variables, session.token);

// graphql-transport-ws; browsers cannot set a websocket's headers, so the token goes in
// connection_init. Returns a function that ends the subscription.
export function subscribe(name, variables, { next, error, complete }) {
  const url = new URL("/graphql", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const client = window.graphqlWs.createClient({
    url: url.toString(),
    connectionParams: { Authorization: `Bearer ${session.token}` },
    retryAttempts: 3,
  });
  let dispose = null;
  let ended = false;
  load(name).then((document) => {
    if (ended) return;
    dispose = client.subscribe({ query: document, variables, operationName: name }, {
      next: (message) => (message.errors?.length
        ? error(new ApiError(message.errors.map((e) => e.message).join("; ")))
        : next(message.data)),
      error: (reason) => error(reason instanceof Error ? reason : new ApiError("the live connection closed")),
      complete,
    });
  }, error);
  return () => {
    ended = true;
    dispose?.();
    client.dispose();
  };
}

// userErrors name the input at fault by path (["schedule", "cron"]); a form shows each beside
// the field named by its last step, and the rest above the form.
export function errorsByField(userErrors) {
  const byField = {};
  for (const e of userErrors ?? []) {
    const key = e.field?.length ? e.field[e.field.length - 1] : "";
    (byField[key] ??= []).push(e.message);
  }
  return byField;
}
