/* global window, document, location, URL, URLSearchParams */
/**
 * Chat demo: a token from the vending machine, used with the Momento Web SDK for a topic (the room) and a
 * cache key (the user's status). The subscription follows token refreshes with `subscribeWithRefresh` from
 * the browser client. Never displays or logs a token.
 *
 * Query: `?tvm=` token URL (default http://localhost:8787/token), `?cache=` (default app), `?topic=`
 * (default chat-lobby), `?ttl=` token lifetime in seconds, `?refreshFraction=` / `?minRefresh=` (token client
 * refresh schedule).
 *
 * Hooks for tests: `window.tvmChat = { ready, tokens, subscription, messages, gaps, events, signIn(user,
 * groups), send(text), setKey(key, value), getKey(key) }`; `messages` holds `{ seq, text, from, publisher }`,
 * `events` `{ type, … }` (token, moved, reconnecting, stopped, publish-error, cache-error, …).
 */

const DEFAULT_TVM_URL = 'http://localhost:8787/token';
const CLIENT_MODULE = '/client/tvm-client.js';
const SDK_MODULE = '/vendor/momento-sdk-web.js';
const MAX_EVENTS = 2000;
const MAX_ROWS = 500;
const CACHE_TTL_SECONDS = 600;

const params = new URLSearchParams(location.search);
const numberParam = (name) => {
  const raw = params.get(name);
  const value = raw === null || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(value) ? value : undefined;
};
const config = {
  tvmUrl: params.get('tvm') || DEFAULT_TVM_URL,
  cacheName: params.get('cache') || 'app',
  topicName: params.get('topic') || 'chat-lobby',
  ttl: numberParam('ttl'),
  refreshFraction: numberParam('refreshFraction'),
  minRefreshSeconds: numberParam('minRefresh'),
};

const $ = (id) => document.getElementById(id);

let resolveReady;
const chat = {
  ready: new Promise((resolve) => (resolveReady = resolve)),
  config,
  tokens: undefined,
  subscription: undefined,
  user: undefined,
  messages: [],
  gaps: [],
  events: [],
  signIn,
  send,
  setKey,
  getKey,
};
window.tvmChat = chat;

let tvm;
let sdk;
let authHeader;
/** One pair of SDK clients per token: a credential provider holds its token for life. */
let clients;

function record(event) {
  chat.events.push({ at: Date.now(), ...event });
  if (chat.events.length > MAX_EVENTS) chat.events.splice(0, chat.events.length - MAX_EVENTS);
}

function setStatus(id, text, state) {
  const el = $(id);
  el.textContent = text;
  el.dataset.state = state ?? '';
}

/** Momento's answer to a refused or failed call: its error code and message, exactly as the SDK gives them. */
function momentoErrorOf(response) {
  return typeof response?.errorCode === 'function'
    ? { code: response.errorCode(), message: response.message() }
    : undefined;
}

/** The dev server's local sign-in next to its token URL (…/token → …/dev/login). */
function devLoginUrl() {
  const url = new URL(config.tvmUrl, location.href);
  url.pathname = url.pathname.replace(/\/token$/, '/dev/login');
  url.search = '';
  return url;
}

/**
 * The Web SDK credential provider for a token: `momentoCredentialsFor` adds the endpoint overrides when the
 * token is for the dev server's local Momento (an `http://127.0.0.1:<port>` endpoint), nothing for the real one.
 */
function credentialProviderFor(token) {
  return sdk.CredentialProvider.fromDisposableToken(tvm.momentoCredentialsFor(token));
}

function clientsFor(token) {
  if (clients?.authToken === token.authToken) return clients;
  const credentialProvider = credentialProviderFor(token);
  clients = {
    authToken: token.authToken,
    topics: new sdk.TopicClient({ configuration: sdk.TopicConfigurations.Browser.v1(), credentialProvider }),
    cache: new sdk.CacheClient({
      configuration: sdk.Configurations.Browser.v1(),
      credentialProvider,
      defaultTtlSeconds: CACHE_TTL_SECONDS,
    }),
  };
  return clients;
}

/** The key prefix the token grants for writing (the member tier's `user/{sub}/`), if any. */
function ownKeyPrefix(token) {
  const grant = token.permissions.find(
    (p) => p.type === 'cache' && p.role === 'readwrite' && typeof p.keyPrefix === 'string',
  );
  return grant?.keyPrefix;
}

function addMessage(entry) {
  chat.messages.push(entry);
  const li = document.createElement('li');
  const from = document.createElement('span');
  from.className = 'from';
  from.textContent = entry.from;
  const seq = document.createElement('span');
  seq.className = 'seq muted mono';
  seq.textContent = `#${entry.seq}`;
  li.append(seq, from, document.createTextNode(entry.text));
  if (entry.publisher) li.title = `publisher tokenId: ${entry.publisher}`;
  appendRow(li);
}

function appendRow(li) {
  const list = $('messages');
  list.append(li);
  while (list.children.length > MAX_ROWS) list.firstElementChild?.remove();
  list.scrollTop = list.scrollHeight;
}

function onItem(item) {
  let body;
  try {
    body = JSON.parse(String(item.value()));
  } catch {
    body = { text: String(item.value()) };
  }
  // The publisher's tokenId is set by Momento from the publishing token (the TVM binds the user into it), so
  // unlike `body.from` it cannot be made up by the sender.
  const publisher = typeof item.tokenId === 'function' ? item.tokenId() : undefined;
  addMessage({
    seq: item.sequenceNumber(),
    text: typeof body.text === 'string' ? body.text : '',
    from: typeof body.from === 'string' ? body.from : (publisher ?? 'someone'),
    publisher,
  });
}

function onGap(gap) {
  chat.gaps.push(gap);
  record({ type: 'gap', ...gap });
  const li = document.createElement('li');
  li.className = 'gap';
  li.textContent = `missed messages ${gap.lastSequenceNumber + 1}…${gap.newSequenceNumber}${gap.detected ? ' (detected)' : ''}`;
  appendRow(li);
}

function startSubscription() {
  chat.subscription?.close();
  setStatus('sub-status', 'subscribing…');
  const subscription = tvm.subscribeWithRefresh({
    tokens: chat.tokens,
    createTopicClient: (_credentials, token) => clientsFor(token).topics,
    cacheName: config.cacheName,
    topicName: config.topicName,
    onItem,
    onDiscontinuity: onGap,
    onStatus: (status) => {
      record(status);
      if (status.type === 'reconnecting') setStatus('sub-status', `reconnecting (attempt ${status.attempt})…`);
      else setStatus('sub-status', `subscribed (moved to a new token, ${status.overlapItems} repeat(s) dropped)`, 'ok');
    },
    onStop: (error) => {
      record({ type: 'stopped', reason: error.reason, code: error.code });
      setStatus('sub-status', `subscription stopped: ${error.message}`, 'error');
    },
  });
  chat.subscription = subscription;
  subscription.ready.then(
    () => {
      record({ type: 'subscribed' });
      setStatus('sub-status', `subscribed to ${config.topicName}`, 'ok');
    },
    () => undefined, // onStop has shown it
  );
}

async function signIn(user, groups) {
  const url = devLoginUrl();
  url.searchParams.set('user', user);
  url.searchParams.set('groups', groups);
  setStatus('login-status', 'signing in…');
  let answer;
  try {
    const res = await window.fetch(url);
    if (!res.ok) throw new Error(`${res.status}`);
    answer = await res.json();
  } catch (err) {
    setStatus(
      'login-status',
      `local sign-in failed (${err instanceof Error ? err.message : 'network error'}): is npm run dev running with local sign-in on?`,
      'error',
    );
    return false;
  }
  authHeader = answer.authorization;
  chat.user = user;
  clients = undefined;
  setStatus('login-status', `signed in as ${user} (${groups})`, 'ok');
  chat.tokens.reset();
  chat.tokens.start();
  let token;
  try {
    token = await chat.tokens.getToken();
  } catch {
    return false; // the token client's auth-error event has shown why
  }
  const prefix = ownKeyPrefix(token);
  $('kv-key').value = `${prefix ?? `user/${user}/`}status`;
  for (const id of ['message', 'btn-send', 'kv-key', 'kv-value', 'btn-set', 'btn-get', 'btn-other-key']) {
    $(id).disabled = false;
  }
  startSubscription();
  return true;
}

async function send(text) {
  const token = await chat.tokens.getToken();
  const response = await clientsFor(token).topics.publish(
    config.cacheName,
    config.topicName,
    JSON.stringify({ from: chat.user, text }),
  );
  const error = momentoErrorOf(response);
  if (error) {
    record({ type: 'publish-error', ...error });
    setStatus('send-status', `publish refused: ${error.code}: ${error.message}`, 'error');
    return error;
  }
  setStatus('send-status', 'sent', 'ok');
  return undefined;
}

async function setKey(key, value) {
  const token = await chat.tokens.getToken();
  const response = await clientsFor(token).cache.set(config.cacheName, key, value);
  const error = momentoErrorOf(response);
  if (error) {
    record({ type: 'cache-error', key, ...error });
    setStatus('kv-status', `set ${key} refused: ${error.code}: ${error.message}`, 'error');
    return error;
  }
  record({ type: 'cache-set', key });
  setStatus('kv-status', `set ${key} = ${JSON.stringify(value)}`, 'ok');
  return undefined;
}

async function getKey(key) {
  const token = await chat.tokens.getToken();
  const response = await clientsFor(token).cache.get(config.cacheName, key);
  const error = momentoErrorOf(response);
  if (error) {
    record({ type: 'cache-error', key, ...error });
    setStatus('kv-status', `get ${key} refused: ${error.code}: ${error.message}`, 'error');
    return error;
  }
  const value = typeof response.value === 'function' ? response.value() : undefined;
  setStatus('kv-status', value === undefined ? `${key}: not set` : `${key} = ${JSON.stringify(value)}`, 'ok');
  return { value };
}

function onTokenEvent(event) {
  if (event.type === 'token') {
    record({ type: 'token', tokenId: event.token.tokenId, expiresIn: event.token.expiresIn });
    setStatus(
      'token-status',
      `token ${event.token.tokenId ? `for ${event.token.tokenId}` : 'of a shared tier (no tokenId)'}, ${event.token.expiresIn} s`,
      'ok',
    );
    $('momento-target').textContent = `Momento: ${event.token.endpoint}`;
  } else {
    const e = event.error;
    record({ type: event.type, status: e.status, code: e.code });
    setStatus('token-status', `token refused: ${e.status || '—'} ${e.code}${e.detail ? `: ${e.detail}` : ''}`, 'error');
  }
}

async function main() {
  $('tvm-url').textContent = config.tvmUrl;
  $('room-name').textContent = `${config.cacheName} / ${config.topicName}`;
  try {
    [tvm, sdk] = await Promise.all([import(CLIENT_MODULE), import(SDK_MODULE)]);
  } catch {
    setStatus(
      'login-status',
      `could not load ${CLIENT_MODULE} or ${SDK_MODULE} (is npm run dev serving this page?)`,
      'error',
    );
    return;
  }
  chat.tokens = tvm.createTokenClient({
    url: config.tvmUrl,
    query: config.ttl === undefined ? {} : { ttl: config.ttl },
    getAuthHeader: () => authHeader,
    // Each window is its own user here: sharing tokens among this origin's tabs would hand one user's
    // token to the other.
    shareAcrossTabs: false,
    refreshFraction: config.refreshFraction,
    minRefreshSeconds: config.minRefreshSeconds,
  });
  chat.tokens.subscribe(onTokenEvent);

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn($('login-user').value.trim() || 'dev-user', $('login-groups').value);
  });
  $('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('message').value;
    if (text.trim() === '') return;
    void send(text).then((error) => {
      if (!error) $('message').value = '';
    });
  });
  $('kv-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void setKey($('kv-key').value, $('kv-value').value);
  });
  $('btn-get').addEventListener('click', () => void getKey($('kv-key').value));
  $('btn-other-key').addEventListener('click', () => {
    $('kv-key').value = 'user/someone-else/status';
  });
  resolveReady(chat);
}

void main();
