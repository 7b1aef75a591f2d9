/**
 * The secrets the functions read: the Momento API key and the authorizer's API keys. A secret reference from the
 * policy (`{ create: true }`, `{ name }` or `{ arn }`) becomes a secret, the id the function passes to
 * GetSecretValue, and the exact IAM resource for it.
 */
import {
  Annotations,
  ArnFormat,
  Stack,
  Token,
  Validations,
  aws_iam as iam,
  aws_secretsmanager as sm,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedPolicy } from '../config/schema';

/** A secret reference of the policy. */
export type SecretRef = ResolvedPolicy['momento']['secret'];

/** Where a secret lives and what the function and its policy call it. */
export interface SecretBinding {
  readonly secret: sm.ISecret;
  /** What the function passes to GetSecretValue (name or ARN). */
  readonly secretId: string;
  /** The IAM resource matching exactly that secret. */
  readonly policyArn: string;
  /** Customer managed key encrypting an imported secret. @default - the AWS managed key (no grant needed) */
  readonly kmsKeyArn?: string;
}

/**
 * The secret a {@link SecretRef} names: created empty, or imported by name or complete ARN. Nothing is guessed:
 * a name is in the stack's account and region, and its IAM resource is `…:secret:<name>-??????` (the six
 * characters Secrets Manager appends); an ARN is complete and is the IAM resource as is.
 */
export function bindSecret(scope: Construct, id: string, ref: SecretRef, description: string): SecretBinding {
  const stack = Stack.of(scope);
  if ('create' in ref) {
    const secret = new sm.Secret(scope, id, { description });
    // CDK's Secret asks CloudFormation to generate a random value when given none; without either
    // GenerateSecretString or SecretString CloudFormation creates the secret with no value at all. The
    // operator puts the key in (see the PutSecretCommand output); until then the function answers 500.
    (secret.node.defaultChild as sm.CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A third-party (Momento) API key: Secrets Manager cannot rotate it; rotate it in Momento and put the new value.',
    });
    return { secret, secretId: secret.secretArn, policyArn: secret.secretArn };
  }
  const kmsKeyArn = ref.kmsKeyArn;
  if ('name' in ref) {
    const secret = sm.Secret.fromSecretNameV2(scope, id, ref.name);
    const policyArn = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${ref.name}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return { secret, secretId: ref.name, policyArn, kmsKeyArn };
  }
  const secret = sm.Secret.fromSecretCompleteArn(scope, id, ref.arn);
  const secretRegion = ref.arn.split(':')[3];
  // The functions call Secrets Manager in their own region (AWS_REGION), where another region's ARN is unknown.
  if (Token.isUnresolved(stack.region)) {
    Annotations.of(scope).addWarningV2(
      'tvm:secret-region',
      `The secret ${ref.arn} is in ${secretRegion}: deploy this region-agnostic stack only to ${secretRegion}, since the functions read secrets in their own region.`,
    );
  } else if (secretRegion !== stack.region) {
    throw new Error(
      `The secret ${ref.arn} is in ${secretRegion}, the stack in ${stack.region}: the functions read secrets in their own region. Replicate the secret to ${stack.region} (Secrets Manager replica) and give that ARN.`,
    );
  }
  return { secret, secretId: ref.arn, policyArn: ref.arn, kmsKeyArn };
}

/**
 * Allows exactly one action on exactly one secret (the function needs nothing else), and, for a secret under a
 * customer managed key, `kms:Decrypt` on that key only when Secrets Manager of the stack's region asks.
 */
export function allowGetSecretValue(role: iam.Role, binding: SecretBinding, sid: string): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources: [binding.policyArn] }),
  );
  if (binding.kmsKeyArn !== undefined) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `${sid}Key`,
        actions: ['kms:Decrypt'],
        resources: [binding.kmsKeyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(role).region}.${Stack.of(role).urlSuffix}` },
        },
      }),
    );
  }
}
