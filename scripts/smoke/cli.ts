/**
 * The smoke test's command line: the usage text, the auth modes, argument parsing and the `--auth` reference.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** The usage text. */
export const USAGE = `Usage: npm run smoke -- (--stack <name> [--region <region>] | --url <token URL> --mode <mode>)
                        [--origin <allowed origin>] [--auth <credential>] [--momento [--cache <name>]]

  --stack <name>     read TokenUrl and the auth mode from the stack (CloudFormation DescribeStacks)
  --region <region>  the stack's region (default: the AWS SDK's, e.g. AWS_REGION or the profile's)
  --url <token URL>  skip the stack lookup (e.g. a dev server: http://localhost:8787/token); needs --mode
  --mode <mode>      open | cognito | authorizer (default with --stack: from the stack)
  --origin <origin>  an origin listed in cors.allowOrigins; without it the CORS checks are skipped
  --auth <cred>      what to send in Authorization (required in cognito and authorizer modes):
                       env:NAME  read it from the environment variable NAME (recommended)
                       @path     read it from a file (surrounding whitespace ignored)
                       <value>   the credential itself (it then shows in shell history and the process list)
                     cognito: the ID token (a leading "Bearer " is ignored); the documented header form
                       (the raw ID token) must be accepted, "Bearer <ID token>" is tried and reported
                     authorizer: the whole header value, e.g. "Bearer <JWT>" or "ApiKey <id>.<secret>"
  --momento          also use the token against Momento: one operation it grants must succeed, one it does not
                     grant must be refused (PERMISSION_ERROR); a dev server's token (endpoint
                     http://127.0.0.1:<port>) is tried against its local Momento (dev/local-momento)
  --cache <name>     an existing cache for a grant on every cache ("*"), used by --momento

Exit codes: 0 every check passed, 1 a check failed, 2 usage error.`;

/** How callers authenticate (config `auth.mode`). */
export type AuthMode = 'open' | 'cognito' | 'authorizer';
const MODES: readonly AuthMode[] = ['open', 'cognito', 'authorizer'];

/** A command line that cannot be run: exit code 2, with usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A parsed command line. */
export interface SmokeOptions {
  readonly stack?: string;
  readonly region?: string;
  readonly url?: string;
  readonly mode?: AuthMode;
  readonly origin?: string;
  /** The `--auth` argument as written (a reference or the credential); resolve it with {@link resolveCredential}. */
  readonly auth?: string;
  readonly momento: boolean;
  readonly cache?: string;
}

/**
 * Parses the command line (pure).
 *
 * @throws UsageError
 */
export function parseSmokeArgs(argv: readonly string[]): SmokeOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: 'string' },
        region: { type: 'string' },
        url: { type: 'string' },
        mode: { type: 'string' },
        origin: { type: 'string' },
        auth: { type: 'string' },
        momento: { type: 'boolean', default: false },
        cache: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  if ((values.stack === undefined) === (values.url === undefined)) throw new UsageError('give --stack or --url');
  if (values.url !== undefined) {
    if (!/^https?:$/.test(safeUrl(values.url)?.protocol ?? '')) throw new UsageError('--url must be an http(s) URL');
    if (values.mode === undefined) throw new UsageError('--url needs --mode (open, cognito or authorizer)');
    if (values.region !== undefined) throw new UsageError('--region applies to --stack only');
  }
  if (values.mode !== undefined && !MODES.includes(values.mode as AuthMode))
    throw new UsageError(`--mode must be one of ${MODES.join(', ')}`);
  if (values.origin !== undefined) {
    const o = safeUrl(values.origin);
    // An origin is scheme://host[:port], exactly as a browser sends it (no path, no trailing slash).
    if (o === undefined || o.origin === 'null' || o.origin !== values.origin)
      throw new UsageError(`--origin must be an origin such as https://app.example.com (got "${values.origin}")`);
  }
  if (values.cache !== undefined && !values.momento) throw new UsageError('--cache applies to --momento only');
  return {
    stack: values.stack,
    region: values.region,
    url: values.url,
    mode: values.mode as AuthMode | undefined,
    origin: values.origin,
    auth: values.auth,
    momento: values.momento ?? false,
    cache: values.cache,
  };
}

function safeUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/**
 * The credential an `--auth` argument names: `env:NAME` → that environment variable, `@path` → the file's
 * content, anything else → itself. Surrounding whitespace is dropped.
 *
 * @throws UsageError when the variable is unset/empty or the file cannot be read (the message never quotes it).
 */
export function resolveCredential(
  spec: string,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string {
  let value: string;
  if (spec.startsWith('env:')) {
    const name = spec.slice(4);
    value = env[name] ?? '';
    if (value.trim() === '') throw new UsageError(`--auth env:${name}: the variable is unset or empty`);
  } else if (spec.startsWith('@')) {
    try {
      value = readFile(spec.slice(1));
    } catch (err) {
      throw new UsageError(`--auth ${spec}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else {
    value = spec;
  }
  value = value.trim();
  if (value === '') throw new UsageError('--auth names an empty credential');
  return value;
}
