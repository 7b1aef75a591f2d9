/**
 * The account-role custom resource handler: sets the API Gateway CloudWatch role only when none is set, creates
 * the role only then (and deletes it again when the try fails), never acts on delete, waits out IAM
 * propagation, and always answers CloudFormation (here a local server on 127.0.0.1).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  APIGatewayClient,
  BadRequestException,
  GetAccountCommand,
  UpdateAccountCommand,
} from '@aws-sdk/client-api-gateway';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  PHYSICAL_ID,
  ROLE_NAME,
  ensureCloudWatchRole,
  handleEvent,
  partitionOf,
} from '../../lib/api-gateway-account/handler';

const OURS = `arn:aws:iam::123456789012:role/service-role/${ROLE_NAME}`;
const THEIRS = 'arn:aws:iam::123456789012:role/OrgApiGatewayLogs';
const POLICY = 'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs';
const apigw = mockClient(APIGatewayClient);
const iam = mockClient(IAMClient);
const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
const clients = {
  apigw: new APIGatewayClient({ region: 'us-west-2', credentials }),
  iam: new IAMClient({ region: 'us-west-2', credentials }),
};
const fast = { waitMs: 1 };
const roleNotReady = () =>
  new BadRequestException({
    message: 'The role ARN does not have required permissions set to API Gateway',
    $metadata: {},
  });
const noRole = () => new NoSuchEntityException({ message: 'The role with name x cannot be found.', $metadata: {} });
/** IAM without the role: GetRole fails, CreateRole and AttachRolePolicy succeed. */
const iamWithoutRole = () => {
  iam.on(GetRoleCommand).rejects(noRole());
  iam.on(CreateRoleCommand).resolves({ Role: { Arn: OURS } as never });
  iam.on(AttachRolePolicyCommand).resolves({});
};

beforeEach(() => {
  apigw.reset();
  iam.reset();
});

describe('Function: ensureCloudWatchRole', () => {
  it('creates the role with the push-to-logs policy and sets it when the account has none', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).resolves({ cloudwatchRoleArn: OURS });
    iamWithoutRole();

    await expect(ensureCloudWatchRole(clients, 'aws', fast)).resolves.toEqual({ action: 'created', roleArn: OURS });
    expect(iam.commandCalls(CreateRoleCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ RoleName: ROLE_NAME, Path: '/service-role/' }),
    ]);
    const trust = JSON.parse(String(iam.commandCalls(CreateRoleCommand)[0]?.args[0].input.AssumeRolePolicyDocument));
    expect(trust.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(iam.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: ROLE_NAME, PolicyArn: POLICY },
    ]);
    expect(apigw.commandCalls(UpdateAccountCommand).map((c) => c.args[0].input)).toEqual([
      { patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: OURS }] },
    ]);
  });

  it('reuses the role when it exists already (set in another region): nothing created', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).resolves({});
    iam.on(GetRoleCommand).resolves({ Role: { Arn: OURS } as never });

    await expect(ensureCloudWatchRole(clients, 'aws', fast)).resolves.toEqual({ action: 'set', roleArn: OURS });
    expect(iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
  });

  it.each([
    ['another role', THEIRS],
    ['our own role from an earlier deploy', OURS],
  ])('leaves %s untouched and creates nothing', async (_what, existing) => {
    apigw.on(GetAccountCommand).resolves({ cloudwatchRoleArn: existing });

    await expect(ensureCloudWatchRole(clients, 'aws', fast)).resolves.toEqual({ action: 'kept', roleArn: existing });
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(0);
    expect(iam.calls()).toHaveLength(0);
  });

  it('treats an empty role ARN as none', async () => {
    apigw.on(GetAccountCommand).resolves({ cloudwatchRoleArn: '' });
    apigw.on(UpdateAccountCommand).resolves({});
    iamWithoutRole();

    await expect(ensureCloudWatchRole(clients, 'aws', fast)).resolves.toEqual({ action: 'created', roleArn: OURS });
  });

  it('retries while IAM has not propagated the new role, then succeeds', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).rejectsOnce(roleNotReady()).rejectsOnce(roleNotReady()).resolves({});
    iamWithoutRole();

    await expect(ensureCloudWatchRole(clients, 'aws', fast)).resolves.toEqual({ action: 'created', roleArn: OURS });
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(3);
    expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });

  it('gives up after the configured attempts and deletes the role it created', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).rejects(roleNotReady());
    iamWithoutRole();

    await expect(ensureCloudWatchRole(clients, 'aws', { attempts: 3, waitMs: 1 })).rejects.toThrow(/role ARN/);
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(3);
    expect(iam.commandCalls(DetachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: ROLE_NAME, PolicyArn: POLICY },
    ]);
    expect(iam.commandCalls(DeleteRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: ROLE_NAME }]);
  });

  it('does not retry other errors, and never deletes a role it did not create', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    iam.on(GetRoleCommand).resolves({ Role: { Arn: OURS } as never });

    await expect(ensureCloudWatchRole(clients, 'aws', fast)).rejects.toThrow('denied');
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(1);
    expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });

  it('deletes the new role when attaching the policy fails', async () => {
    apigw.on(GetAccountCommand).resolves({});
    iam.on(GetRoleCommand).rejects(noRole());
    iam.on(CreateRoleCommand).resolves({ Role: { Arn: OURS } as never });
    iam.on(AttachRolePolicyCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    await expect(ensureCloudWatchRole(clients, 'aws', fast)).rejects.toThrow('denied');
    expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(1);
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(0);
  });

  it('uses the policy ARN of the partition', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).resolves({});
    iamWithoutRole();

    await ensureCloudWatchRole(clients, partitionOf('cn-north-1'), fast);
    expect(iam.commandCalls(AttachRolePolicyCommand)[0]?.args[0].input.PolicyArn).toBe(
      'arn:aws-cn:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    );
    expect([partitionOf('us-gov-west-1'), partitionOf('eu-west-1')]).toEqual(['aws-us-gov', 'aws']);
  });
});

describe('Function: handleEvent', () => {
  let server: http.Server;
  let url: string;
  let received: { method?: string; contentType?: string; body: Record<string, unknown> }[];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({
          method: req.method,
          contentType: req.headers['content-type'],
          body: JSON.parse(body) as Record<string, unknown>,
        });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/presigned?X-Amz-Signature=x`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (received = []));

  const event = (RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent =>
    ({
      RequestType,
      ServiceToken: 'arn:aws:lambda:us-west-2:123456789012:function:h',
      ResponseURL: url,
      StackId: 'arn:aws:cloudformation:us-west-2:123456789012:stack/TestTvm/1',
      RequestId: 'req-1',
      LogicalResourceId: 'ApiGatewayAccountRole',
      ResourceType: 'Custom::ApiGatewayAccountCloudWatchRole',
      ResourceProperties: { ServiceToken: 'x', RoleName: ROLE_NAME },
      ...(RequestType === 'Create' ? {} : { PhysicalResourceId: PHYSICAL_ID, OldResourceProperties: {} }),
    }) as CloudFormationCustomResourceEvent;

  it.each(['Create', 'Update'] as const)('%s: sets the role if none and answers SUCCESS', async (type) => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).resolves({});
    iamWithoutRole();

    await handleEvent(event(type), { ...clients, region: 'us-west-2', options: fast });

    expect(received).toEqual([
      {
        method: 'PUT',
        contentType: '',
        body: {
          Status: 'SUCCESS',
          StackId: 'arn:aws:cloudformation:us-west-2:123456789012:stack/TestTvm/1',
          RequestId: 'req-1',
          LogicalResourceId: 'ApiGatewayAccountRole',
          PhysicalResourceId: PHYSICAL_ID,
          Data: { Action: 'created', RoleArn: OURS },
        },
      },
    ]);
  });

  it('Delete: calls nothing and answers SUCCESS (the account setting and the role stay)', async () => {
    await handleEvent(event('Delete'), { ...clients, options: fast });

    expect(apigw.calls()).toHaveLength(0);
    expect(iam.calls()).toHaveLength(0);
    expect(received).toEqual([
      expect.objectContaining({
        body: expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID }),
      }),
    ]);
  });

  it('answers FAILED with the reason when API Gateway refuses', async () => {
    apigw.on(GetAccountCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));

    await handleEvent(event('Create'), { ...clients, options: fast });

    expect(received).toEqual([
      expect.objectContaining({
        body: expect.objectContaining({ Status: 'FAILED', Reason: 'AccessDeniedException: not allowed' }),
      }),
    ]);
  });
});
