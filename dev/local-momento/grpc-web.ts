/**
 * The grpc-web face of the local data plane: HTTP/1.1 on 127.0.0.1, as `@gomomento/sdk-web` speaks it over XHR.
 *
 * - Requests: `POST /<package.Service>/<Method>`, `Content-Type: application/grpc-web-text` (base64 of one
 *   length-prefixed frame: flag byte 0, 4-byte big-endian length, the message), metadata as headers
 *   (`authorization`, `cache`, `agent`, …). `application/grpc-web(+proto)` (binary) is read too.
 * - Answers: `200` with `Content-Type: application/grpc-web-text+proto`; each message frame is base64-encoded on
 *   its own (the client decodes the stream 4 characters at a time), then a trailers frame (flag 0x80) carrying
 *   `grpc-status`, `grpc-message` and Momento's `err` cause. Status never travels in HTTP headers, so errors reach
 *   the SDK the same way on unary and streaming calls.
 * - CORS: only the configured origins (never `*`); a preflight names the method (POST) and may ask only for
 *   the headers the SDK sends. `Host` must be this machine at this port (dev/host-guard.ts: DNS rebinding).
 *
 * Anything that is not grpc-web (wrong method, media type, body) gets a 4xx `application/problem+json`.
 *
 * TEST / LOCAL DEVELOPMENT ONLY.
 */
import type * as http from 'node:http';
import { refuseForeignHost } from '../host-guard';
import { GRPC_STATUS, type Core, type GrpcStatus, type StreamSink } from './core';

/** Request headers a page may send (what the Web SDK and grpc-web send), lower case. */
export const ALLOWED_REQUEST_HEADERS: readonly string[] = [
  'authorization',
  'cache',
  'content-type',
  'x-grpc-web',
  'x-user-agent',
  'grpc-timeout',
  'agent',
  'runtime-version',
  'read-concern',
  'deadline',
];

/** Response headers a page may read. */
export const EXPOSED_RESPONSE_HEADERS = 'grpc-status, grpc-message';

/** Largest request body read (base64 text). Momento's item limit is 5 MB; base64 adds a third. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Options of {@link createGrpcWebHandler}. */
export interface GrpcWebOptions {
  readonly core: Core;
  /** Page origins allowed to call (exact `scheme://host:port`). */
  readonly allowOrigins: ReadonlySet<string>;
  /** The port this server listens on (for the Host check). */
  readonly port: () => number;
}

/** The frame the grpc-web wire puts around one message (flag 0) or the trailers (flag 0x80). */
export function frame(flag: number, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out[0] = flag;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

/** gRPC's percent-encoding of `grpc-message`: printable ASCII except `%` stays as is. */
export function encodeGrpcMessage(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** The trailers frame for `status`. */
export function trailerFrame(status: GrpcStatus): Buffer {
  const lines = [`grpc-status:${status.code}`, `grpc-message:${encodeGrpcMessage(status.details)}`];
  for (const [k, v] of Object.entries(status.metadata ?? {})) lines.push(`${k}:${v}`);
  return frame(0x80, Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1'));
}

/** Reads the message of a request body (one uncompressed frame), or says what is wrong with it. */
export function readRequestFrame(body: Buffer): { message: Uint8Array } | { error: string } {
  if (body.length < 5) return { error: 'the body is not a grpc-web frame (shorter than 5 bytes)' };
  if (body[0] !== 0) return { error: `frame flag ${body[0]}: only uncompressed message frames (0) are read` };
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length)
    return { error: `frame length ${length} does not match the body (${body.length - 5} bytes after the header)` };
  return { message: body.subarray(5) };
}

function problem(
  res: http.ServerResponse,
  status: number,
  code: string,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { ...headers, 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' })
    .end(JSON.stringify({ type: 'about:blank', title, status, code, detail }));
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The request handler of the grpc-web face. */
export function createGrpcWebHandler(
  options: GrpcWebOptions,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const { core, allowOrigins } = options;
  const allowedHeaders = new Set(ALLOWED_REQUEST_HEADERS);

  return (req, res) => {
    if (refuseForeignHost(req, res, options.port())) return;
    const origin = req.headers.origin;
    if (origin !== undefined && !allowOrigins.has(origin)) {
      problem(
        res,
        403,
        'origin-not-allowed',
        'Forbidden',
        `origin ${JSON.stringify(origin.slice(0, 100))} is not allowed; allowed: ${[...allowOrigins].join(', ')}`,
      );
      return;
    }
    const cors: Record<string, string> =
      origin === undefined
        ? {}
        : {
            'Access-Control-Allow-Origin': origin,
            Vary: 'Origin',
            'Access-Control-Expose-Headers': EXPOSED_RESPONSE_HEADERS,
          };

    if (req.method === 'OPTIONS') {
      const asked = (req.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      const refused = asked.filter((h) => !allowedHeaders.has(h));
      const method = req.headers['access-control-request-method'];
      if (origin === undefined || method !== 'POST' || refused.length > 0) {
        problem(
          res,
          403,
          'preflight-refused',
          'Forbidden',
          origin === undefined
            ? 'a preflight needs an Origin'
            : method !== 'POST'
              ? `only POST is served (asked: ${JSON.stringify(String(method).slice(0, 20))})`
              : `request headers not allowed: ${refused.join(', ').slice(0, 200)}`,
        );
        return;
      }
      res
        .writeHead(204, {
          ...cors,
          'Access-Control-Allow-Methods': 'POST',
          'Access-Control-Allow-Headers': asked.join(', '),
          'Access-Control-Max-Age': '600',
          'Cache-Control': 'no-store',
        })
        .end();
      return;
    }
    if (req.method !== 'POST') {
      problem(res, 405, 'method-not-allowed', 'Method Not Allowed', 'grpc-web calls are POST', {
        ...cors,
        Allow: 'POST, OPTIONS',
      });
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const text = type === 'application/grpc-web-text' || type === 'application/grpc-web-text+proto';
    const binary = type === 'application/grpc-web' || type === 'application/grpc-web+proto';
    if (!text && !binary) {
      problem(
        res,
        415,
        'unsupported-media-type',
        'Unsupported Media Type',
        'send application/grpc-web-text (or application/grpc-web+proto)',
        cors,
      );
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) {
        problem(res, 413, 'body-too-large', 'Content Too Large', `the body is over ${MAX_BODY_BYTES} bytes`, cors);
        return;
      }
      let body = Buffer.concat(chunks);
      if (text) {
        const chars = body.toString('latin1').replace(/\s+/g, '');
        if (!BASE64.test(chars) || chars.length % 4 !== 0) {
          problem(
            res,
            400,
            'bad-grpc-web-body',
            'Bad Request',
            'the body of application/grpc-web-text must be base64',
            cors,
          );
          return;
        }
        body = Buffer.from(chars, 'base64');
      }
      const read = readRequestFrame(body);
      if ('error' in read) {
        problem(res, 400, 'bad-grpc-web-body', 'Bad Request', read.error, cors);
        return;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const metadata = {
        authorization: header(req, 'authorization'),
        cache: header(req, 'cache'),
      };
      res.writeHead(200, {
        ...cors,
        'Content-Type': text ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto',
        'Cache-Control': 'no-store',
      });
      const send = (bytes: Buffer): void => {
        if (!res.writableEnded) res.write(text ? bytes.toString('base64') : bytes);
      };
      const finish = (status: GrpcStatus): void => {
        send(trailerFrame(status));
        if (!res.writableEnded) res.end();
      };
      if (!core.isStreaming(path)) {
        const result = core.unary(path, metadata, read.message);
        if (result.ok) {
          send(frame(0, result.bytes));
          finish({ code: GRPC_STATUS.OK, details: '' });
        } else finish(result.status);
        return;
      }
      res.flushHeaders();
      req.socket.setNoDelay(true);
      const sink: StreamSink = {
        write: (bytes) => send(frame(0, bytes)),
        end: finish,
        reset: () => req.socket.destroy(),
      };
      const stream = core.subscribe(metadata, read.message, sink);
      if (stream) res.once('close', () => stream.close());
    });
  };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}
