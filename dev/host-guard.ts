/**
 * The dev servers answer only requests addressed to this machine: `Host` must be `localhost`, `127.0.0.1` or
 * `[::1]` with the server's own port. Listening on 127.0.0.1 is not enough: through DNS rebinding, a page the
 * developer visits (say rebind.attacker.example, re-pointed to 127.0.0.1) reaches the server from the browser,
 * as its own origin, with `Host: rebind.attacker.example:8787` — and could mint signed-in tokens, with a real
 * MOMENTO_API_KEY real ones. Browsers always send the name they resolved in `Host`, so checking it stops that.
 */
import type * as http from 'node:http';
import { problemBody } from '../common/problems';

const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Is `host` (a `Host` header value) this machine at `port`? A missing port means 80. */
export function isLocalHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const match = /^(\[[^\]]*\]|[^:]+)(?::(\d{1,5}))?$/.exec(host.trim().toLowerCase());
  if (!match) return false;
  const hostPort = match[2] === undefined ? 80 : Number(match[2]);
  return LOCAL_NAMES.has(match[1]!) && hostPort === port;
}

/**
 * Answers 403 `host-not-allowed` (problem+json, no CORS headers) and returns true when the request's `Host` is not
 * this machine at `port`; otherwise does nothing and returns false.
 */
export function refuseForeignHost(req: http.IncomingMessage, res: http.ServerResponse, port: number): boolean {
  if (isLocalHost(req.headers.host, port)) return false;
  const detail = `the dev server answers only requests to localhost:${port}, 127.0.0.1:${port} or [::1]:${port}`;
  res
    .writeHead(403, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' })
    .end(JSON.stringify(problemBody('host-not-allowed', detail, undefined)));
  return true;
}
