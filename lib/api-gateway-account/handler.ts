/**
 * Custom resource handler: makes sure the account has an API Gateway CloudWatch Logs role, without touching one
 * that is already set.
 *
 * API Gateway refuses a stage with access or execution logging until the account (per region) names a role it
 * may use to write to CloudWatch Logs. `AWS::ApiGateway::Account` would overwrite whatever role is set (other
 * APIs may depend on it); this handler sets the role only when none is set:
 * - Create / Update: `GetAccount`; when `cloudwatchRoleArn` is empty, `UpdateAccount` patches it to the role
 *   created by the stack, otherwise nothing changes.
 * - Delete: nothing (the account setting outlives the stack, and so does the role, which is retained).
 *
 * Bundled by lib/function-code.ts (lib/bundling.ts `bundleOptionsOf`) with `@aws-sdk/*` left out: the Node.js runtime ships SDK v3.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { APIGatewayClient, GetAccountCommand, UpdateAccountCommand } from '@aws-sdk/client-api-gateway';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';

/** The physical id of the resource: one account setting, whatever the stack. */
export const PHYSICAL_ID = 'api-gateway-account-cloudwatch-role';

/** What {@link ensureCloudWatchRole} did. */
export interface EnsureResult {
  /** `set`: the account had no role and now has ours; `kept`: a role was set already and is left as is. */
  readonly action: 'set' | 'kept';
  /** The role the account uses after the call. */
  readonly roleArn: string;
}

/** Options of {@link ensureCloudWatchRole} (tests shorten the waits). */
export interface EnsureOptions {
  /** Attempts of `UpdateAccount` while IAM has not yet propagated a new role. @default 10 */
  readonly attempts?: number;
  /** Wait between attempts, in ms. @default 6000 */
  readonly waitMs?: number;
}

/** A new role is not usable by API Gateway for a few seconds: it answers 400 naming the role ARN. */
const isRoleNotReady = (err: unknown): boolean =>
  err instanceof Error && err.name === 'BadRequestException' && /role ARN|assume|permission/i.test(err.message);

/**
 * Sets `roleArn` as the account's API Gateway CloudWatch Logs role when the account has none; leaves an
 * existing role untouched.
 */
export async function ensureCloudWatchRole(
  client: APIGatewayClient,
  roleArn: string,
  options: EnsureOptions = {},
): Promise<EnsureResult> {
  const current = await client.send(new GetAccountCommand({}));
  if (current.cloudwatchRoleArn) return { action: 'kept', roleArn: current.cloudwatchRoleArn };
  const attempts = options.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(
        new UpdateAccountCommand({ patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: roleArn }] }),
      );
      return { action: 'set', roleArn };
    } catch (err) {
      if (attempt >= attempts || !isRoleNotReady(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, options.waitMs ?? 6000));
    }
  }
}

/** Answers CloudFormation at the pre-signed `ResponseURL` (an empty Content-Type, as the URL was signed). */
function sendResponse(url: string, response: CloudFormationCustomResourceResponse): Promise<void> {
  const body = JSON.stringify(response);
  const request = url.startsWith('https:') ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode !== undefined && res.statusCode < 300
            ? resolve()
            : reject(new Error(`CloudFormation response upload answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The Lambda entry point (a custom resource without the provider framework: it answers CloudFormation itself). */
export const handler = (event: CloudFormationCustomResourceEvent): Promise<void> => handleEvent(event);

/** {@link handler} with its dependencies open (tests pass a mocked client and short waits). */
export async function handleEvent(
  event: CloudFormationCustomResourceEvent,
  deps: { client?: APIGatewayClient; options?: EnsureOptions } = {},
): Promise<void> {
  const base = {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    PhysicalResourceId: PHYSICAL_ID,
  };
  let response: CloudFormationCustomResourceResponse;
  try {
    if (event.RequestType === 'Delete') {
      // Other APIs in the account may now log through this role: leave the setting (and the role) alone.
      response = { ...base, Status: 'SUCCESS', Data: { Action: 'none' } };
    } else {
      const roleArn = String(event.ResourceProperties.RoleArn ?? '');
      if (!roleArn.startsWith('arn:')) throw new Error('RoleArn property missing');
      const result = await ensureCloudWatchRole(deps.client ?? new APIGatewayClient({}), roleArn, deps.options);
      console.log(JSON.stringify({ message: 'API Gateway account CloudWatch role', ...result }));
      response = { ...base, Status: 'SUCCESS', Data: { Action: result.action, RoleArn: result.roleArn } };
    }
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.error(JSON.stringify({ message: 'failed to set the API Gateway account CloudWatch role', reason }));
    response = { ...base, Status: 'FAILED', Reason: reason.slice(0, 1000) };
  }
  await sendResponse(event.ResponseURL, response);
}
