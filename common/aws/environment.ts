/**
 * Region, endpoint and credentials from the Lambda environment, resolved the way the AWS SDKs resolve them.
 * Everything is read on each call: the Lambda runtime may rotate credentials in a warm container, and tests
 * point a service at a local stub by setting a variable.
 */
import type { AwsService } from './services';

type Env = Readonly<Record<string, string | undefined>>;

/** The environment lacks something a call needs (region, credentials) or holds an invalid endpoint URL. */
export class AwsConfigError extends Error {
  override readonly name = 'AwsConfigError';
}

/** SigV4 credentials. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Present for temporary credentials (always, in Lambda). */
  readonly sessionToken?: string;
}

/**
 * `AWS_REGION`, else `AWS_DEFAULT_REGION`.
 *
 * @throws AwsConfigError when neither is set
 */
export function regionFromEnv(env: Env = process.env): string {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new AwsConfigError('AWS_REGION is not set: no region to call AWS in');
  return region;
}

/**
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (what Lambda sets for the execution role).
 *
 * @throws AwsConfigError when the key id or secret key is missing (the message names the variables, never values)
 */
export function credentialsFromEnv(env: Env = process.env): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new AwsConfigError('AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set: no credentials to sign with');
  const sessionToken = env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/**
 * The region of a Cognito user pool, from its id (`us-east-1_AbC…` → `us-east-1`): the pool may live in another
 * region than the function, and its API answers only there. `undefined` for an id without a region prefix.
 *
 * @example
 * regionOfUserPool('eu-central-1_AbCdEf123'); // 'eu-central-1'
 */
export function regionOfUserPool(userPoolId: string): string | undefined {
  const match = /^([a-z0-9]+(?:-[a-z0-9]+)*)_[\w]+$/.exec(userPoolId);
  return match?.[1];
}

/** DNS suffix of a region's partition. */
function dnsSuffix(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn';
  if (region.startsWith('us-isob-')) return 'sc2s.sgov.gov';
  if (region.startsWith('us-iso-')) return 'c2s.ic.gov';
  return 'amazonaws.com';
}

// Regions are lower-case letters, digits and hyphens; anything else must not reach a host name.
const REGION_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * The endpoint for `service` in `region`, in the AWS SDKs' order: `AWS_ENDPOINT_URL_<SERVICE>`, then
 * `AWS_ENDPOINT_URL`, then `https://<prefix>.<region>.<partition suffix>` (in GovCloud the service's FIPS prefix
 * where it has one: Cognito is FIPS-only there). `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`
 * skips both variables, as in the SDKs. `http://` is accepted (local stubs).
 *
 * @throws AwsConfigError for a configured URL that is not http(s) or an invalid region
 * @example
 * resolveEndpoint(SECRETS_MANAGER, 'eu-west-1').href; // 'https://secretsmanager.eu-west-1.amazonaws.com/'
 */
export function resolveEndpoint(service: AwsService, region: string, env: Env = process.env): URL {
  const ignore = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true';
  const variable = `AWS_ENDPOINT_URL_${service.endpointEnvSuffix}`;
  const configured = ignore
    ? undefined
    : env[variable]
      ? { name: variable, value: env[variable] }
      : env.AWS_ENDPOINT_URL
        ? { name: 'AWS_ENDPOINT_URL', value: env.AWS_ENDPOINT_URL }
        : undefined;
  if (configured?.value) {
    let url: URL;
    try {
      url = new URL(configured.value);
    } catch {
      throw new AwsConfigError(`${configured.name} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new AwsConfigError(`${configured.name} must be an http:// or https:// URL`);
    if (url.username || url.password) throw new AwsConfigError(`${configured.name} must not carry credentials`);
    return url;
  }
  if (!REGION_PATTERN.test(region)) throw new AwsConfigError(`"${region}" is not a valid AWS region`);
  const prefix = region.startsWith('us-gov-')
    ? (service.govCloudEndpointPrefix ?? service.endpointPrefix)
    : service.endpointPrefix;
  return new URL(`https://${prefix}.${region}.${dnsSuffix(region)}/`);
}
