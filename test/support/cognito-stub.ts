/**
 * A local stub of Cognito's JSON API (AWSCognitoIdentityProviderService.AdminListGroupsForUser) on 127.0.0.1,
 * for the vending function's liveGroups, which calls Cognito through common/aws (a signed HTTP request, not an
 * SDK client, so aws-sdk-client-mock cannot intercept it). Records what it received; never logs headers.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CognitoStub {
  /** e.g. http://127.0.0.1:41234 (AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER) */
  readonly endpoint: string;
  /** Current groups by username; a missing user answers UserNotFoundException. */
  readonly groups: Map<string, string[]>;
  /** What arrived: target, body, and whether it was SigV4-signed (the header itself is never kept). */
  readonly received: { target: string; body: Record<string, unknown>; signed: boolean }[];
  /** Answer every call with HTTP 500 (a Cognito outage). */
  failing: boolean;
  close(): Promise<void>;
}

export async function startCognitoStub(): Promise<CognitoStub> {
  const stub = {
    groups: new Map<string, string[]>(),
    received: [] as CognitoStub['received'],
    failing: false,
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
