/**
 * The account-role custom resource handler: sets the API Gateway CloudWatch role only when none is set, never
 * on delete, waits out IAM propagation, and always answers CloudFormation (here a local server on 127.0.0.1).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  APIGatewayClient,
  BadRequestException,
  GetAccountCommand,
  UpdateAccountCommand,
} from '@aws-sdk/client-api-gateway';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { PHYSICAL_ID, ensureCloudWatchRole, handleEvent } from '../../lib/api-gateway-account/handler';

const OURS = 'arn:aws:iam::123456789012:role/TestTvm-LogsRole-ABC';
const THEIRS = 'arn:aws:iam::123456789012:role/OrgApiGatewayLogs';
const apigw = mockClient(APIGatewayClient);
const client = new APIGatewayClient({ region: 'us-west-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const fast = { waitMs: 1 };
const roleNotReady = () =>
  new BadRequestException({
    message: 'The role ARN does not have required permissions set to API Gateway',
    $metadata: {},
  });

beforeEach(() => apigw.reset());

describe('Function: ensureCloudWatchRole', () => {
  it('sets our role when the account has none', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).resolves({ cloudwatchRoleArn: OURS });

    await expect(ensureCloudWatchRole(client, OURS, fast)).resolves.toEqual({ action: 'set', roleArn: OURS });
    expect(apigw.commandCalls(UpdateAccountCommand).map((c) => c.args[0].input)).toEqual([
      { patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: OURS }] },
    ]);
  });

  it.each([
    ['another role', THEIRS],
    ['our own role from an earlier deploy', OURS],
  ])('leaves %s untouched', async (_what, existing) => {
    apigw.on(GetAccountCommand).resolves({ cloudwatchRoleArn: existing });

    await expect(ensureCloudWatchRole(client, OURS, fast)).resolves.toEqual({ action: 'kept', roleArn: existing });
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(0);
  });

  it('treats an empty role ARN as none', async () => {
    apigw.on(GetAccountCommand).resolves({ cloudwatchRoleArn: '' });
    apigw.on(UpdateAccountCommand).resolves({});

    await expect(ensureCloudWatchRole(client, OURS, fast)).resolves.toEqual({ action: 'set', roleArn: OURS });
  });

  it('retries while IAM has not propagated the new role, then succeeds', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).rejectsOnce(roleNotReady()).rejectsOnce(roleNotReady()).resolves({});

    await expect(ensureCloudWatchRole(client, OURS, fast)).resolves.toEqual({ action: 'set', roleArn: OURS });
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(3);
  });

  it('gives up after the configured attempts', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).rejects(roleNotReady());

    await expect(ensureCloudWatchRole(client, OURS, { attempts: 3, waitMs: 1 })).rejects.toThrow(/role ARN/);
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(3);
  });

  it('does not retry other errors', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    await expect(ensureCloudWatchRole(client, OURS, fast)).rejects.toThrow('denied');
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(1);
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
      ResourceProperties: { ServiceToken: 'x', RoleArn: OURS },
      ...(RequestType === 'Create' ? {} : { PhysicalResourceId: PHYSICAL_ID, OldResourceProperties: {} }),
    }) as CloudFormationCustomResourceEvent;

  it.each(['Create', 'Update'] as const)('%s: sets the role if none and answers SUCCESS', async (type) => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).resolves({});

    await handleEvent(event(type), { client, options: fast });

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
          Data: { Action: 'set', RoleArn: OURS },
        },
      },
    ]);
  });

  it('Delete: calls nothing and answers SUCCESS (the account setting and the role stay)', async () => {
    await handleEvent(event('Delete'), { client, options: fast });

    expect(apigw.calls()).toHaveLength(0);
    expect(received).toEqual([
      expect.objectContaining({
        body: expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID }),
      }),
    ]);
  });

  it('answers FAILED with the reason when API Gateway refuses', async () => {
    apigw.on(GetAccountCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));

    await handleEvent(event('Create'), { client, options: fast });

    expect(received).toEqual([
      expect.objectContaining({
        body: expect.objectContaining({ Status: 'FAILED', Reason: 'AccessDeniedException: not allowed' }),
      }),
    ]);
  });

  it('answers FAILED when the RoleArn property is missing', async () => {
    const e = event('Create');
    await handleEvent({ ...e, ResourceProperties: { ServiceToken: 'x' } }, { client, options: fast });

    expect(apigw.calls()).toHaveLength(0);
    expect(received[0]?.body).toEqual(
      expect.objectContaining({ Status: 'FAILED', Reason: 'Error: RoleArn property missing' }),
    );
  });
});
