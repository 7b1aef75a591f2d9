/**
 * Links to the AWS console that are right in every partition: the console host differs in China and GovCloud.
 */
import { CfnMapping, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** The AWS console host of each partition with a console. */
export const CONSOLE_HOSTS = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
} as const;

/**
 * The CloudWatch console URL of a dashboard, on the console host of the stack's partition. With a literal
 * region the URL is a literal; in a region-agnostic stack the host comes from a mapping keyed by
 * `AWS::Partition` (`ConsoleHosts`), so CloudFormation picks it in the region it deploys to.
 *
 * @example
 * new CfnOutput(stack, 'DashboardUrl', { value: dashboardUrl(stack, dashboard.dashboardName) });
 */
export function dashboardUrl(scope: Construct, dashboardName: string): string {
  const stack = Stack.of(scope);
  const mapping =
    (stack.node.tryFindChild('ConsoleHosts') as CfnMapping | undefined) ??
    new CfnMapping(stack, 'ConsoleHosts', {
      mapping: Object.fromEntries(Object.entries(CONSOLE_HOSTS).map(([p, host]) => [p, { Host: host }])),
      // Rendered only when the partition is unknown at synth; otherwise the host is a literal.
      lazy: true,
    });
  const host = mapping.findInMap(stack.partition, 'Host');
  return `https://${host}/cloudwatch/home?region=${stack.region}#dashboards:name=${dashboardName}`;
}
