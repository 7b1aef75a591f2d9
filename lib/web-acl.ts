/**
 * An optional AWS WAF web ACL for the API stage: a per-IP rate limit and, optionally, the AWS managed common
 * rule set. Blocked requests reach the caller through the WAF_FILTERED gateway response (problem+json, CORS).
 */
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

/** A REGIONAL web ACL associated with one REST API stage. */
export class TvmWebAcl extends Construct {
  /** The web ACL. */
  readonly webAcl: wafv2.CfnWebACL;
  /** Its association with the stage. */
  readonly association: wafv2.CfnWebACLAssociation;

  constructor(scope: Construct, id: string, props: TvmWebAclProps) {
    super(scope, id);
    // Metric names are labels, not physical names; the prefix (the TVM's name) keeps two TVMs' graphs apart.
    const metric = (name: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${props.metricNamePrefix ?? Stack.of(this).stackName}-${name}`
        .replace(/[^\w#:.\-/]/g, '-')
        .slice(0, 255),
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
