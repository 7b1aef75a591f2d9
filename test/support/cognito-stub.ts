/**
 * A local stub of Cognito's JSON API (AWSCognitoIdentityProviderService.ListUsers and AdminListGroupsForUser) on
 * 127.0.0.1, for the vending function's liveGroups, which calls Cognito through common/aws (a signed HTTP request,
 * not an SDK client, so aws-sdk-client-mock cannot intercept it). Records what it received; never logs headers.
 *
 * ListUsers takes the subset of Cognito's filter grammar a lookup needs — `<attribute> = "<value>"` (exact) or
 * `<attribute> ^= "<value>"` (prefix), `\"` and `\\` escaped, attributes `sub`, `username`, `email` — and answers
 * InvalidParameterException for anything else, as Cognito does for a filter it cannot parse.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CognitoStub {
  /** e.g. http://127.0.0.1:41234 (AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER) */
  readonly endpoint: string;
  /** Current groups by username: the users of the pool (a missing user answers UserNotFoundException). */
  readonly groups: Map<string, string[]>;
  /** The `sub` of each user by username; a user without an entry has its username as sub. */
  readonly subs: Map<string, string>;
  /** The `email` of each user by username (for filters on email). */
  readonly emails: Map<string, string>;
  /** What arrived: target, body, and whether it was SigV4-signed (the header itself is never kept). */
  readonly received: { target: string; body: Record<string, unknown>; signed: boolean }[];
  /** Answer every call with HTTP 500 (a Cognito outage). */
  failing: boolean;
  close(): Promise<void>;
}

const FILTER = /^\s*([A-Za-z_:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$/;
const FILTERABLE = new Set(['sub', 'username', 'email']);

/** A parsed ListUsers filter, or the reason Cognito would refuse it. */
export function parseFilter(
  filter: string,
): { attribute: string; prefix: boolean; value: string } | { invalid: string } {
  const m = FILTER.exec(filter);
  if (!m) return { invalid: `Invalid search filter: ${filter}` };
  if (!FILTERABLE.has(m[1]!)) return { invalid: `Cannot filter on attribute ${m[1]!}` };
  return { attribute: m[1]!, prefix: m[2] === '^=', value: m[3]!.replace(/\\(.)/g, '$1') };
}

/** Starts the stub on a free port of 127.0.0.1. */
export async function startCognitoStub(): Promise<CognitoStub> {
  const stub = {
    groups: new Map<string, string[]>(),
    subs: new Map<string, string>(),
    emails: new Map<string, string>(),
    received: [] as CognitoStub['received'],
    failing: false,
  };
  const attributesOf = (username: string): Record<string, string | undefined> => ({
    sub: stub.subs.get(username) ?? username,
    username,
    email: stub.emails.get(username),
  });
  const listUsers = (body: Record<string, unknown>) => {
    let users = [...stub.groups.keys()];
    if (typeof body.Filter === 'string' && body.Filter !== '') {
      const f = parseFilter(body.Filter);
      if ('invalid' in f) return { error: f.invalid };
      users = users.filter((u) => {
        const v = attributesOf(u)[f.attribute];
        return v !== undefined && (f.prefix ? v.startsWith(f.value) : v === f.value);
      });
    }
    const limit = typeof body.Limit === 'number' ? body.Limit : 60;
    const wanted = Array.isArray(body.AttributesToGet) ? (body.AttributesToGet as string[]) : ['sub', 'email'];
    return {
      Users: users.slice(0, limit).map((Username) => ({
        Username,
        Attributes: wanted
          .map((Name) => ({ Name, Value: Name === 'username' ? undefined : attributesOf(Username)[Name] }))
          .filter((a) => a.Value !== undefined),
        Enabled: true,
        UserStatus: 'CONFIRMED',
      })),
    };
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const auth = String(req.headers.authorization ?? '');
      stub.received.push({
        target,
        body,
        signed: /^AWS4-HMAC-SHA256 Credential=\S+\/cognito-idp\/aws4_request/.test(auth),
      });
      const answer = (status: number, doc: unknown, errorType?: string) => {
        res.writeHead(status, {
          'Content-Type': 'application/x-amz-json-1.1',
          ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
        });
        res.end(JSON.stringify(doc));
      };
      if (stub.failing) return answer(500, { message: 'internal' }, 'InternalErrorException');
      if (target === 'AWSCognitoIdentityProviderService.ListUsers') {
        const listed = listUsers(body);
        return 'error' in listed
          ? answer(400, { message: listed.error }, 'InvalidParameterException')
          : answer(200, listed);
      }
      if (target !== 'AWSCognitoIdentityProviderService.AdminListGroupsForUser')
        return answer(400, { message: `unsupported ${target}` }, 'InvalidParameterException');
      const groups = stub.groups.get(String(body.Username));
      if (!groups) return answer(400, { message: 'User does not exist.' }, 'UserNotFoundException');
      return answer(200, { Groups: groups.map((GroupName) => ({ GroupName, UserPoolId: body.UserPoolId })) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(stub, {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
