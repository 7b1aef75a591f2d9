/* global window, document, location, URL, URLSearchParams, setInterval */
/**
 * Demo page for the token vending machine's browser client. Works from any origin: the TVM URL comes from
 * `?tvm=` (default http://localhost:8787/token). Never displays or logs the token itself.
 *
 * Hooks for tests: `window.tvmDemo = { client, events, fetchCount, lastBatch, config, ready,
 * getTokenConcurrently(n) }`; `events` holds `{ type: 'token' | 'error' | 'auth-error', at, status?, code?,
 * expiresIn?, tokenId? }`, one entry per token fetched or request failed.
 */

const DEFAULT_TVM_URL = 'http://localhost:8787/token';
const DEFAULT_CLIENT_MODULE = '/client/tvm-client.js';
/** The TVM's narrowing parameters, passed through from this page's query string. */
const NARROWING_PARAMETERS = ['cache', 'topic', 'key', 'keyPrefix', 'access', 'ttl'];
const MAX_EVENTS = 1000;
const MAX_ROWS = 100;

const params = new URLSearchParams(location.search);

/**
 * The `Authorization` value, sent exactly as given: in Cognito mode the ID token itself (`Authorization: <ID
 * token>`), in Lambda-authorizer mode `Bearer <JWT>` or `ApiKey <id>.<secret>`. Local sign-in fills in the right
 * form for the dev server's mode.
 */
function toAuthHeader(value) {
  const trimmed = (value ?? '').trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The dev server's local sign-in next to its token URL (http://localhost:8787/token → …/dev/login). */
function devLoginUrl(tvmUrl) {
  try {
    const url = new URL(tvmUrl, location.href);
    url.pathname = url.pathname.replace(/\/token$/, '/dev/login');
    url.search = '';
    return url;
  } catch {
    return undefined;
  }
}

function numberParam(name) {
  const raw = params.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

const query = {};
for (const name of NARROWING_PARAMETERS) {
  const values = params.getAll(name).filter((v) => v !== '');
  if (values.length > 0) query[name] = values.length === 1 ? values[0] : values;
}

const config = {
  tvmUrl: params.get('tvm') || DEFAULT_TVM_URL,
  clientModule: params.get('client') || DEFAULT_CLIENT_MODULE,
  query,
  refreshFraction: numberParam('refreshFraction'),
  minRefreshSeconds: numberParam('minRefresh'),
  autostart: params.get('autostart') !== '0',
  authFromQuery: params.has('auth'),
};

// The Authorization header value; read by the client before every request, so pasting a new ID token
// takes effect on the next request.
let authHeader = toAuthHeader(params.get('auth'));

let resolveReady;
const demo = {
  client: undefined,
  events: [],
  fetchCount: 0,
  lastBatch: undefined,
  config,
  ready: new Promise((resolve) => (resolveReady = resolve)),
  getTokenConcurrently,
};
window.tvmDemo = demo;

const $ = (id) => document.getElementById(id);

function record(event) {
  demo.events.push({ at: Date.now(), ...event });
  if (demo.events.length > MAX_EVENTS) demo.events.splice(0, demo.events.length - MAX_EVENTS);
}

function timeOf(ms) {
  const d = new Date(ms);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function addRow(tableId, cells, className) {
  const body = $(tableId).tBodies[0];
  const row = body.insertRow(0);
  for (const text of cells) {
    const cell = row.insertCell();
    cell.textContent = text;
  }
  if (className) row.cells[2]?.classList.add(className);
  while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
}

function renderPermissions(token) {
  const body = $('permissions').tBodies[0];
  body.replaceChildren();
  const permissions = token?.permissions ?? [];
  if (permissions.length === 0) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = 5;
    cell.className = 'muted';
    cell.textContent = token ? 'The token lists no permissions.' : 'No token yet.';
    return;
  }
  for (const p of permissions) {
    const row = body.insertRow();
    const exact = p.type === 'topic' ? p.topic : p.key;
    const prefix = p.type === 'topic' ? p.topicPrefix : p.keyPrefix;
    for (const text of [p.type, p.cache, p.role, exact ?? (prefix ? '' : 'all'), prefix ?? '']) {
      row.insertCell().textContent = text ?? '';
    }
  }
}

function renderToken(token) {
  $('token-id').textContent = token?.tokenId ?? '—';
  $('endpoint').textContent = token?.endpoint || '—';
  $('expires-at').textContent = token
    ? `${new Date(token.expiresAt * 1000).toISOString()} (epoch ${token.expiresAt})`
    : '—';
  $('auth-token').textContent = token ? `${token.authToken.length} characters (not shown)` : '—';
  renderPermissions(token);
}

/** A 403 is an authenticated caller who may not have what it asked for: not a sign-in problem. */
const isForbidden = (error) => error?.status === 403;

function renderStatus() {
  const client = demo.client;
  if (!client) return;
  const s = client.getStatus();
  const token = client.currentToken;
  let state = 'idle';
  let text = 'idle: no token';
  if (s.haltedBy?.kind === 'auth' && isForbidden(s.haltedBy)) {
    state = 'error';
    text = `not allowed (403 ${s.haltedBy.code})`;
  } else if (s.haltedBy?.kind === 'auth') {
    state = 'auth';
    text = `sign-in needed (${s.haltedBy.status || 'no request'} ${s.haltedBy.code})`;
  } else if (s.haltedBy) {
    state = 'error';
    text = `stopped: ${s.haltedBy.status} ${s.haltedBy.code}`;
  } else if (s.fetching) {
    state = 'busy';
    text = 'fetching…';
  } else if (s.consecutiveFailures > 0) {
    state = 'busy';
    const last = s.lastError;
    text = `retrying after ${s.consecutiveFailures} failure(s), last ${last?.status} ${last?.code}`;
  } else if (!token && !s.running) {
    text = 'idle: no token, background refresh off (press “Start refresh”)';
  } else if (token) {
    state = 'ok';
    text = s.running ? 'token valid, refreshing in the background' : 'token valid, background refresh off';
  }
  const status = $('status');
  status.dataset.state = state;
  status.textContent = text;
  $('expires-in').textContent = s.tokenExpiresInMs === undefined ? '—' : seconds(s.tokenExpiresInMs);
  $('countdown').textContent =
    s.nextAttemptInMs === undefined
      ? 'not scheduled'
      : `in ${seconds(s.nextAttemptInMs)}${s.consecutiveFailures > 0 ? ' (retry)' : ''}`;
  $('btn-start').disabled = s.running && !s.haltedBy;
  $('btn-stop').disabled = !s.running;
}

function showAuthBanner(error) {
  const banner = $('auth-banner');
  banner.dataset.visible = error ? 'true' : 'false';
  const forbidden = isForbidden(error);
  banner.dataset.kind = forbidden ? 'forbidden' : 'sign-in';
  $('auth-banner-title').textContent = forbidden ? 'Not allowed.' : 'Sign-in needed.';
  $('auth-banner-text').textContent = error
    ? `The TVM answered ${error.status || '—'} ${error.code}${error.detail ? `: ${error.detail}` : ''}.`
    : '';
  $('auth-banner-hint').textContent = forbidden
    ? forbiddenHint(error.code)
    : 'Sign in locally below (npm run dev), or paste an ID token and press “Use this token”.';
}

/** What a signed-in caller can do about a 403: only `ttl-exceeds-tier` is helped by a shorter ttl. */
function forbiddenHint(code) {
  switch (code) {
    case 'no-tier':
      return 'You are signed in, but none of your groups is named by a tier: sign in as a user in a group the config’s tiers name (npm run dev lists them).';
    case 'ttl-exceeds-tier':
      return 'You are signed in, but your tier does not allow this ttl: ask for a shorter ttl (or none: the tier’s default).';
    case 'scope-not-granted':
      return 'You are signed in, but your tiers do not grant this cache, topic, key or access: ask for less, or sign in as a user in another group.';
    case 'revoked':
      return 'Your access was revoked (npm run revoke): sign in again once it is lifted.';
    default:
      return 'You are signed in, but this request is not allowed: sign in as a user in another group.';
  }
}

/** Local sign-in against the dev server: GET /dev/login?user=…&groups=… → the Authorization value to send. */
async function signInLocally() {
  const url = devLoginUrl(config.tvmUrl);
  const status = $('login-status');
  if (!url) {
    status.textContent = 'the token URL is not a dev server URL';
    return;
  }
  url.searchParams.set('user', $('login-user').value.trim() || 'dev-user');
  url.searchParams.set('groups', $('login-groups').value.replace(/\s+/g, ''));
  status.textContent = 'signing in…';
  let res;
  try {
    res = await window.fetch(url);
  } catch {
    status.textContent = `local sign-in failed: no answer from ${url.origin} (is npm run dev running there?)`;
    record({ type: 'error', status: 0, code: 'dev-login-failed' });
    return;
  }
  if (!res.ok) {
    // The server answered: it runs, but has no local sign-in — say why instead of blaming it.
    status.textContent =
      res.status === 404
        ? 'this dev server has no local sign-in: in open mode none is needed (press “Get token”); otherwise its ' +
          'startup lines say why (a real MOMENTO_API_KEY without --allow-dev-login, or auth.existingUserPool)'
        : `local sign-in failed: the dev server answered ${res.status}`;
    record({ type: 'error', status: res.status, code: 'dev-login-failed' });
    return;
  }
  const answer = await res.json();
  authHeader = toAuthHeader(answer.authorization);
  status.textContent = `signed in as ${$('login-user').value.trim() || 'dev-user'}`;
  showAuthBanner(undefined);
  demo.client.reset();
  demo.client.start();
  renderStatus();
}

/** Calls `getToken()` n times at once; with no fresh token this must cause exactly one request. */
async function getTokenConcurrently(n = 5) {
  const client = demo.client;
  if (!client) throw new Error('the token client is not loaded yet: await window.tvmDemo.ready');
  const before = demo.fetchCount;
  const results = await Promise.allSettled(Array.from({ length: n }, () => client.getToken()));
  const fulfilled = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  demo.lastBatch = {
    calls: n,
    fetches: demo.fetchCount - before,
    fulfilled: fulfilled.length,
    rejected: n - fulfilled.length,
    distinctTokens: new Set(fulfilled.map((t) => t.authToken)).size,
    at: Date.now(),
  };
  const b = demo.lastBatch;
  $('last-batch').textContent =
    `${b.calls} concurrent getToken() → ${b.fetches} request(s), ${b.fulfilled} fulfilled, ` +
    `${b.rejected} rejected, ${b.distinctTokens} distinct token(s)`;
  renderStatus();
  return b;
}

function onToken(token) {
  record({ type: 'token', expiresIn: token.expiresIn, tokenId: token.tokenId });
  addRow('log', [timeOf(Date.now()), String(token.expiresIn), token.tokenId ?? '—']);
  renderToken(token);
  showAuthBanner(undefined);
  renderStatus();
}

function onError(error) {
  record({ type: 'error', status: error.status, code: error.code });
  addRow(
    'errors',
    [timeOf(Date.now()), String(error.status || '—'), error.code, error.detail ?? error.title],
    'error-code',
  );
  renderStatus();
}

function onAuthError(error) {
  record({ type: 'auth-error', status: error.status, code: error.code });
  addRow(
    'errors',
    [timeOf(Date.now()), String(error.status || '—'), error.code, error.detail ?? error.title],
    'error-code',
  );
  showAuthBanner(error);
  renderStatus();
}

// Failures are already shown through onError/onAuthError; this only keeps rejections from going unhandled.
const ignore = () => undefined;

async function main() {
  $('tvm-url').textContent = config.tvmUrl;
  let mod;
  try {
    mod = await import(config.clientModule);
  } catch {
    const status = $('status');
    status.dataset.state = 'error';
    status.textContent = `could not load the client module ${config.clientModule} (is it built?)`;
    return;
  }
  const client = mod.createTokenClient({
    url: config.tvmUrl,
    query: config.query,
    getAuthHeader: () => authHeader,
    refreshFraction: config.refreshFraction,
    minRefreshSeconds: config.minRefreshSeconds,
    fetch: (input, init) => {
      demo.fetchCount += 1;
      return window.fetch(input, init);
    },
  });
  client.subscribe((event) => {
    if (event.type === 'token') onToken(event.token);
    else if (event.type === 'auth-error') onAuthError(event.error);
    else onError(event.error);
  });
  demo.client = client;

  $('btn-start').addEventListener('click', () => client.start());
  $('btn-stop').addEventListener('click', () => {
    client.stop();
    renderStatus();
  });
  $('btn-get').addEventListener('click', () => client.getToken().then(renderStatus, ignore));
  $('btn-concurrent').addEventListener('click', () => void getTokenConcurrently(5));
  $('btn-refresh').addEventListener('click', () => client.refresh().then(renderStatus, ignore));
  $('btn-reset').addEventListener('click', () => {
    // reset() also stops the background refresh (its contract: signing out); the status line says so.
    client.reset();
    renderToken(undefined);
    renderStatus();
  });
  $('btn-use-token').addEventListener('click', () => {
    authHeader = toAuthHeader($('id-token').value);
    showAuthBanner(undefined);
    client.start();
  });
  $('btn-login').addEventListener('click', () => void signInLocally());
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void signInLocally();
  });
  $('btn-clear-token').addEventListener('click', () => {
    // Signing out: the next user must not get this user's token.
    $('id-token').value = '';
    authHeader = undefined;
    client.reset();
    renderToken(undefined);
    renderStatus();
  });
  const groups = params.get('groups');
  if (groups) $('login-groups').value = groups;
  // The same page with ttl=60: the client refreshes at 80 % of the lifetime, so every ~48 s instead of ~48 min.
  const short = new URLSearchParams(params);
  short.set('ttl', '60');
  $('short-ttl').href = `?${short.toString()}`;
  if (config.authFromQuery) $('id-token').placeholder = 'Using the token from ?auth= (paste another to replace it)';

  setInterval(renderStatus, 200);
  if (config.autostart) client.start();
  renderStatus();
  resolveReady(demo);
}

void main();
