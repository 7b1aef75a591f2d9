/**
 * A tiny AWS JSON-protocol client shared by both functions: SigV4 by `aws4`, `node:https` with one keep-alive
 * agent, SDK-style endpoint resolution (`AWS_ENDPOINT_URL_<SERVICE>`), errors typed transient / permanent.
 */
export {
  AwsCallError,
  awsJsonCall,
  classifyAwsError,
  parseErrorType,
  type AwsFailure,
  type AwsJsonCall,
} from './client';
export {
  AwsConfigError,
  credentialsFromEnv,
  regionFromEnv,
  regionOfUserPool,
  resolveEndpoint,
  type AwsCredentials,
} from './environment';
export { COGNITO_IDENTITY_PROVIDER, DYNAMODB, SECRETS_MANAGER, type AwsService } from './services';
