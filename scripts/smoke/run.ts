/** One smoke test run: the command line, the stack lookup, the HTTP and Momento checks, and the table. */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { isLocalMomentoEndpoint } from '../../client/src/momento';
import { decodeDisposableToken } from '../../lambda/momento/api-key';
import { parseSmokeArgs, resolveCredential, USAGE, UsageError } from './cli';
import { nodeHttpSend, rawIdToken, runHttpChecks, type HttpSend } from './http-checks';
import { runMomentoChecks, sdkMomentoOps, type MomentoOps } from './momento-checks';
import { formatTable, redact, row, skip, type CheckResult } from './report';
import { readStack } from './stack';

/** What {@link run} uses from the outside (injected for tests). */
export interface SmokeDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  out(text: string): void;
  err(text: string): void;
  readonly send?: HttpSend;
  /** DescribeStacks for a region. @default a CloudFormationClient */
  readonly cloudFormation?: (region: string | undefined) => Pick<CloudFormationClient, 'send'>;
  /** @default {@link sdkMomentoOps} */
  readonly momento?: (authToken: string) => Promise<MomentoOps>;
  readonly readFile?: (path: string) => string;
}

/**
 * Runs the smoke test for a command line; resolves with the exit code.
 *
 * @example
 * process.exitCode = await run(['--stack', 'MomentoTvm', '--origin', 'https://app.example.com'], deps);
 */
export async function run(argv: readonly string[], deps: SmokeDeps): Promise<number> {
  const secrets: string[] = [];
  try {
    const options = parseSmokeArgs(argv);
    if (options === 'help') {
      deps.out(USAGE);
      return 0;
    }
    const credential =
      options.auth === undefined ? undefined : resolveCredential(options.auth, deps.env, deps.readFile);
    if (credential !== undefined) secrets.push(credential, rawIdToken(credential));
    const results: CheckResult[] = [];
    let tokenUrl = options.url;
    let mode = options.mode;
    if (options.stack !== undefined) {
      const cfn =
        deps.cloudFormation?.(options.region) ??
        new (await import('@aws-sdk/client-cloudformation')).CloudFormationClient({ region: options.region });
      const stack = await readStack(cfn, options.stack);
      const complete = /^(CREATE|UPDATE)_COMPLETE$/.test(stack.status);
      results.push(row(`stack ${options.stack}`, 'CREATE_COMPLETE or UPDATE_COMPLETE', stack.status, complete));
      tokenUrl = stack.tokenUrl;
      mode ??= stack.mode;
      if (mode === undefined) throw new UsageError('cannot tell the auth mode from the stack: give --mode');
    }
    if (mode !== 'open' && credential === undefined) throw new UsageError(`${mode} mode needs --auth`);
    deps.out(redact(`Smoke test of ${tokenUrl} (${mode} mode)\n`, secrets));
    const http = await runHttpChecks(
      { tokenUrl: tokenUrl!, mode: mode!, origin: options.origin, credential },
      deps.send ?? nodeHttpSend(),
    );
    results.push(...http.results);
    if (http.token) {
      secrets.push(http.token.authToken, decodeDisposableToken(http.token.authToken)?.apiKey ?? '');
    }
    if (options.momento) {
      if (http.token === undefined)
        results.push(row('Momento: the token works', 'a token to try', 'GET /token gave none', false));
      else {
        const endpoint = decodeDisposableToken(http.token.authToken)?.endpoint;
        if (isLocalMomentoEndpoint(endpoint))
          results.push({
            check: 'Momento: endpoint',
            expected: 'reported only',
            seen: `local Momento at ${endpoint} (npm run dev, no MOMENTO_API_KEY)`,
            status: 'info',
          });
        results.push(
          ...(await runMomentoChecks(
            http.token,
            await (deps.momento ?? sdkMomentoOps)(http.token.authToken),
            options.cache,
          )),
        );
      }
    } else {
      results.push(skip('Momento: the token works', 'granted op succeeds, other refused', 'no --momento'));
    }
    deps.out(formatTable(results, secrets));
    return results.some((r) => r.status === 'fail') ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      deps.err(redact(`${err.message}\n\n${USAGE}`, secrets));
      return 2;
    }
    const e = err as Error;
    deps.err(redact(`smoke test failed: ${e.name}: ${e.message}`, secrets));
    return 1;
  }
}
