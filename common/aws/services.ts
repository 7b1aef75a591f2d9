/**
 * The AWS services the functions call, with the three names each one goes by: the SigV4 signing name, the
 * endpoint host prefix, and the SDK "service id" that names its `AWS_ENDPOINT_URL_<SERVICE>` variable.
 */

/** How to reach and sign for one AWS JSON-protocol service. */
export interface AwsService {
  /** SigV4 signing name (credential scope), e.g. `secretsmanager`. */
  readonly signingName: string;
  /** First label of the regional endpoint host, e.g. `secretsmanager` → `secretsmanager.<region>.amazonaws.com`. */
  readonly endpointPrefix: string;
  /**
   * Suffix of the service-specific endpoint variable, as the AWS SDKs name it (service id, upper case, spaces
   * → `_`), e.g. `SECRETS_MANAGER` → `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
   */
  readonly endpointEnvSuffix: string;
  /**
   * Endpoint prefix in the GovCloud regions (`us-gov-*`) when the service answers only on its FIPS endpoint
   * there. @default - `endpointPrefix`
   */
  readonly govCloudEndpointPrefix?: string;
  /** JSON protocol version: `1.1` for Secrets Manager and Cognito, `1.0` for DynamoDB. */
  readonly jsonVersion: '1.0' | '1.1';
  /** Prefix of `X-Amz-Target`, e.g. `secretsmanager` → `secretsmanager.GetSecretValue`. */
  readonly targetPrefix: string;
}

/** AWS Secrets Manager (`GetSecretValue`). */
export const SECRETS_MANAGER: AwsService = {
  signingName: 'secretsmanager',
  endpointPrefix: 'secretsmanager',
  endpointEnvSuffix: 'SECRETS_MANAGER',
  jsonVersion: '1.1',
  targetPrefix: 'secretsmanager',
};

/** Amazon DynamoDB (`GetItem`, …). */
export const DYNAMODB: AwsService = {
  signingName: 'dynamodb',
  endpointPrefix: 'dynamodb',
  endpointEnvSuffix: 'DYNAMODB',
  jsonVersion: '1.0',
  targetPrefix: 'DynamoDB_20120810',
};

/** Amazon Cognito user pools (`AdminListGroupsForUser`, …). */
export const COGNITO_IDENTITY_PROVIDER: AwsService = {
  signingName: 'cognito-idp',
  endpointPrefix: 'cognito-idp',
  govCloudEndpointPrefix: 'cognito-idp-fips',
  endpointEnvSuffix: 'COGNITO_IDENTITY_PROVIDER',
  jsonVersion: '1.1',
  targetPrefix: 'AWSCognitoIdentityProviderService',
};
