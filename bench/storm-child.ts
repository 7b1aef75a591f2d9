/**
 * One "Lambda container" of the storm (bench/storm.ts): bundled to .bench/ and run with plain `node` (IPC on),
 * it `require()`s the real vending bundle once (its module init, as a cold start), then serves the events the
 * parent sends, one handler call each, several at once if the parent routes them so.
 *
 * The bundle's own log lines (audit + EMF) are read, not printed: the audit line of each request says whether it
 * called Momento (`tokenSource: minted`, or a `momentoFailure`). Only status, problem code, Retry-After,
 * expiresAt and that flag go back to the parent — never a token.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** parent → child */
export interface StormChildRequest {
  readonly id: number;
  readonly event: APIGatewayProxyEvent;
}
/** child → parent */
export type StormChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly error: string }
  | {
      readonly type: 'answer';
      readonly id: number;
      readonly status: number;
      readonly code?: string;
      readonly retryAfter?: string;
      readonly expiresAt?: number;
      readonly calledMomento: boolean;
    };

const file = process.argv[2];
const send = (m: StormChildMessage): void => void process.send?.(m);
if (!file || !process.send) throw new Error('usage: node storm-child.js <bundle.js> (with an IPC channel)');

// requestId → did that request call Momento; filled synchronously by the handler's audit line.
const calledMomento = new Map<string, boolean>();
const readLines = (chunk: unknown): boolean => {
  for (const line of String(chunk).split('\n')) {
    if (!line.startsWith('{') || !line.includes('"decision"')) continue;
    try {
      const audit = JSON.parse(line) as { requestId?: string; tokenSource?: string; momentoFailure?: string };
      if (audit.requestId)
        calledMomento.set(audit.requestId, audit.tokenSource === 'minted' || audit.momentoFailure !== undefined);
    } catch {
      // Not an audit line.
    }
  }
  return true;
};
process.stdout.write = readLines as typeof process.stdout.write;
process.stderr.write = readLines as typeof process.stderr.write;
process.on('unhandledRejection', () => undefined);

type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyResult>;
let handler: Handler | undefined;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = (require(file) as { handler?: Handler }).handler;
  if (!handler) throw new Error('the bundle exports no handler');
  send({ type: 'ready' });
} catch (e) {
  send({ type: 'failed', error: e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e) });
}

process.on('message', (m: StormChildRequest) => {
  const requestId = m.event.requestContext.requestId;
  const answer = (res: APIGatewayProxyResult): void => {
    const body = JSON.parse(res.body) as { code?: string; expiresAt?: number };
    const retryAfter = Object.entries(res.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
    send({
      type: 'answer',
      id: m.id,
      status: res.statusCode,
      code: body.code,
      retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
      expiresAt: res.statusCode === 200 ? body.expiresAt : undefined,
      calledMomento: calledMomento.get(requestId) ?? false,
    });
    calledMomento.delete(requestId);
  };
  // A handler that throws is what Lambda reports as a 502 through API Gateway.
  handler!(m.event, { awsRequestId: requestId }).then(answer, () =>
    answer({ statusCode: 502, body: '{"code":"handler-threw"}' }),
  );
});
process.on('disconnect', () => process.exit(0));
