/**
 * An optional AWS WAF web ACL for the API stage: a per-IP rate limit and, optionally, the AWS managed common
 * rule set. Blocked requests reach the caller through the WAF_FILTERED gateway response (problem+json, CORS).
 */
import { createHash } from 'node:crypto';
import { Stack, aws_wafv2 as wafv2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Properties of {@link TvmWebAcl}. */
export interface TvmWebAclProps {
  /** ARN of the API Gateway stage to protect. */
  readonly stageArn: string;
  /** Requests per 5 minutes from one IP before WAF blocks it (WAF's minimum is 10). */
  readonly ratePer5MinPerIp: number;
  /** Add `AWSManagedRulesCommonRuleSet`. */
  readonly managedCommonRules: boolean;
  /** Prefix of the CloudWatch metric names (`<prefix>-RateLimitPerIp`, …). @default - the stack name */
  readonly metricNamePrefix?: string;
}

/** WAF's limit on `VisibilityConfig.MetricName`. */
export const MAX_METRIC_NAME_LENGTH = 128;

/**
 * `<prefix>-<name>`, at most {@link MAX_METRIC_NAME_LENGTH} characters: a long prefix is cut (keeping the rule
 * name, which tells the graphs apart) and ends in a short hash of the whole prefix, so two long stack names that
 * share their first hundred characters still get different metrics.
 */
export function metricName(prefix: string, name: string): string {
  const full = `${prefix}-${name}`;
  if (full.length <= MAX_METRIC_NAME_LENGTH) return full;
  const hash = createHash('sha256').update(prefix).digest('hex').slice(0, 8);
  return `${prefix.slice(0, MAX_METRIC_NAME_LENGTH - name.length - hash.length - 2)}-${hash}-${name}`;
}

/** A REGIONAL web ACL associated with one REST API stage. */
export class TvmWebAcl extends Construct {
  /** The web ACL. */
  readonly webAcl: wafv2.CfnWebACL;
  /** Its association with the stage. */
  readonly association: wafv2.CfnWebACLAssociation;

  constructor(scope: Construct, id: string, props: TvmWebAclProps) {
    super(scope, id);
    // Metric names are labels, not physical names; the prefix (the TVM's name) keeps two TVMs' graphs apart.
    const prefix = (props.metricNamePrefix ?? Stack.of(this).stackName).replace(/[^\w#:.\-/]/g, '-');
    const metric = (name: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: metricName(prefix, name),
    });
    const rules: wafv2.CfnWebACL.RuleProperty[] = [
      {
        name: 'RateLimitPerIp',
        priority: 0,
        action: { block: {} },
        statement: {
          rateBasedStatement: { limit: props.ratePer5MinPerIp, aggregateKeyType: 'IP', evaluationWindowSec: 300 },
        },
        visibilityConfig: metric('RateLimitPerIp'),
      },
    ];
    if (props.managedCommonRules) {
      rules.push({
        name: 'AWSManagedRulesCommonRuleSet',
        priority: 1,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet' } },
        visibilityConfig: metric('CommonRuleSet'),
      });
    }
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'Momento token vending machine: per-IP rate limit and common protections',
      rules,
      visibilityConfig: metric('WebAcl'),
    });
    this.association = new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
