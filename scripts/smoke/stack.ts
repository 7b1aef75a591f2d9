/** The deployed stack the smoke test checks: its `TokenUrl` output, status and auth mode (CloudFormation). */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { AuthMode } from './cli';

/** What the smoke test needs from the stack. */
export interface StackTarget {
  readonly tokenUrl: string;
  /** From the stack description ("… (cognito mode)"); undefined when it cannot be told. */
  readonly mode: AuthMode | undefined;
  /** CloudFormation's stack status, e.g. `CREATE_COMPLETE`. */
  readonly status: string;
}

/** Reads the stack's `TokenUrl` output, status and auth mode (DescribeStacks). */
export async function readStack(client: Pick<CloudFormationClient, 'send'>, stackName: string): Promise<StackTarget> {
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = out.Stacks?.[0];
  if (stack === undefined) throw new Error(`stack ${stackName} not found`);
  const outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const tokenUrl = outputs.get('TokenUrl');
  if (!tokenUrl) throw new Error(`stack ${stackName} has no TokenUrl output (is it a token vending machine?)`);
  // lib/tvm-stack.ts: the description is "Momento token vending machine (<mode> mode)".
  const described = /\((open|cognito|authorizer) mode\)/.exec(stack.Description ?? '')?.[1] as AuthMode | undefined;
  const mode = described ?? (outputs.has('UserPoolId') || outputs.has('UserPoolClientIds') ? 'cognito' : undefined);
  return { tokenUrl, mode, status: stack.StackStatus ?? 'UNKNOWN' };
}
