/**
 * Custom resource handler: makes sure the account has an API Gateway CloudWatch Logs role, without touching one
 * that is already set, and without creating a role the account does not need.
 *
 * API Gateway refuses a stage with access or execution logging until the account (per region) names a role it
 * may use to write to CloudWatch Logs. `AWS::ApiGateway::Account` would overwrite whatever role is set (other
 * APIs may depend on it); this handler acts only when none is set:
 * - Create / Update: `GetAccount`; when `cloudwatchRoleArn` is set, nothing changes. When it is empty, the
 *   handler uses the IAM role named {@link ROLE_NAME} (one per account, shared by every region: it creates it
 *   with the managed push-to-logs policy when it does not exist) and patches the account setting to it. A role
 *   it created in this call is deleted again when the patch fails, so a failed try leaves nothing behind.
 * - Delete: nothing. The role, once set, is the account's: other APIs in the account may log through it.
 *
 * Bundled by lib/function-code.ts (lib/bundling.ts `bundleOptionsOf`) with `@aws-sdk/*` left out: the Node.js runtime ships SDK v3.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { APIGatewayClient, GetAccountCommand, UpdateAccountCommand } from '@aws-sdk/client-api-gateway';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { PUSH_TO_LOGS_POLICY, ROLE_NAME, ROLE_PATH } from '../api-gateway-logs-role-name';

export { PUSH_TO_LOGS_POLICY, ROLE_NAME, ROLE_PATH };

/** The physical id of the resource: one account setting, whatever the stack. */
export const PHYSICAL_ID = 'api-gateway-account-cloudwatch-role';

/** What {@link ensureCloudWatchRole} did. */
export interface EnsureResult {
  /**
   * `created`: the account had no role; the handler created {@link ROLE_NAME} and set it. `set`: the account had
   * no role; {@link ROLE_NAME} existed already (another region) and is now set. `kept`: a role was set already
   * and is left as is (nothing created).
   */
  readonly action: 'created' | 'set' | 'kept';
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

/** The partition of the Lambda region (the role's policy ARN depends on it). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** A new role is not usable by API Gateway for a few seconds: it answers 400 naming the role ARN. */
const isRoleNotReady = (err: unknown): boolean =>
  err instanceof Error && err.name === 'BadRequestException' && /role ARN|assume|permission/i.test(err.message);

const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/** The ARN of {@link ROLE_NAME}, created when it does not exist; `created` tells whether this call made it. */
async function roleForAccount(iam: IAMClient, partition: string): Promise<{ arn: string; created: boolean }> {
  try {
    const existing = await iam.send(new GetRoleCommand({ RoleName: ROLE_NAME }));
    if (existing.Role?.Arn) return { arn: existing.Role.Arn, created: false };
  } catch (err) {
    if (!(err instanceof Error && err.name === 'NoSuchEntityException')) throw err;
  }
  const created = await iam.send(
    new CreateRoleCommand({
      RoleName: ROLE_NAME,
      Path: ROLE_PATH,
      AssumeRolePolicyDocument: TRUST_POLICY,
      Description: 'API Gateway account-wide role for writing access and execution logs to CloudWatch Logs',
    }),
  );
  const arn = created.Role?.Arn;
  if (!arn) throw new Error('CreateRole answered without a role ARN');
  try {
    await iam.send(
      new AttachRolePolicyCommand({ RoleName: ROLE_NAME, PolicyArn: `arn:${partition}:${PUSH_TO_LOGS_POLICY}` }),
    );
  } catch (err) {
    await deleteRole(iam, partition, false);
    throw err;
  }
  return { arn, created: true };
}

/** Deletes {@link ROLE_NAME} (after detaching the policy when it was attached); a cleanup, so it never throws. */
async function deleteRole(iam: IAMClient, partition: string, attached: boolean): Promise<void> {
  try {
    if (attached)
      await iam.send(
        new DetachRolePolicyCommand({ RoleName: ROLE_NAME, PolicyArn: `arn:${partition}:${PUSH_TO_LOGS_POLICY}` }),
      );
    await iam.send(new DeleteRoleCommand({ RoleName: ROLE_NAME }));
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.error(JSON.stringify({ message: `could not delete the role ${ROLE_NAME} after a failed try`, reason }));
  }
}

/**
 * Makes sure the account has an API Gateway CloudWatch Logs role: leaves an existing one untouched; otherwise
 * sets {@link ROLE_NAME} (creating it when it does not exist, and deleting it again when the setting fails).
 */
export async function ensureCloudWatchRole(
  clients: { apigw: APIGatewayClient; iam: IAMClient },
  partition: string,
  options: EnsureOptions = {},
): Promise<EnsureResult> {
  const current = await clients.apigw.send(new GetAccountCommand({}));
  if (current.cloudwatchRoleArn) return { action: 'kept', roleArn: current.cloudwatchRoleArn };
  const role = await roleForAccount(clients.iam, partition);
  const attempts = options.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      await clients.apigw.send(
        new UpdateAccountCommand({
          patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: role.arn }],
        }),
      );
      return { action: role.created ? 'created' : 'set', roleArn: role.arn };
    } catch (err) {
      if (attempt >= attempts || !isRoleNotReady(err)) {
        if (role.created) await deleteRole(clients.iam, partition, true);
        throw err;
      }
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
  deps: { apigw?: APIGatewayClient; iam?: IAMClient; region?: string; options?: EnsureOptions } = {},
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
      // Other APIs in the account may now log through the role: leave the setting (and the role) alone.
      response = { ...base, Status: 'SUCCESS', Data: { Action: 'none' } };
    } else {
      const region = deps.region ?? process.env.AWS_REGION ?? '';
      const result = await ensureCloudWatchRole(
        { apigw: deps.apigw ?? new APIGatewayClient({}), iam: deps.iam ?? new IAMClient({}) },
        partitionOf(region),
        deps.options,
      );
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
