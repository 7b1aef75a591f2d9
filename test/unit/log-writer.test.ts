/**
 * One log writer for both functions (common/log.ts), in Powertools Logger's format: the vending function's audit
 * log (test/unit/telemetry.test.ts) and the authorizer's refusals are held equal to what Powertools Logger writes,
 * and the log levels have one list (config/limits.ts) that the schema, the props and the writer share.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createAuthorizer, jsonLog } from '../../authorizers/authorizer';
import { createLogWriter } from '../../common/log';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS } from '../../config/limits';
import { validateConfig } from '../../config/schema';
import { baseConfig } from '../infra/helpers';
import { captureLines, normalized } from '../support/powertools-oracle';
import { authorizerAuth, tokenEvent } from './authorizer-fixtures';

const ENV_KEYS = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL', 'AWS_LAMBDA_LOG_LEVEL'] as const;
let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  process.env.POWERTOOLS_SERVICE_NAME = 'tvm-test';
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('Function: createLogWriter (common/log.ts)', () => {
  it.each(LOG_LEVELS)('writes a %s line exactly as Powertools Logger does (fields, order, stream)', (level) => {
    const fields = { reason: 'r', n: 1, nested: { a: [1, 2] } };
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    const ours = captureLines(() => createLogWriter()(level, 'hello', fields));
    const method = level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error';
    const theirs = captureLines(() => new Logger()[method]('hello', fields));
    expect(ours).toHaveLength(1);
    expect(normalized(ours)).toEqual(normalized(theirs));
  });

  it.each([
    [{}, 'INFO WARN ERROR'],
    [{ POWERTOOLS_LOG_LEVEL: 'WARN' }, 'WARN ERROR'],
    [{ LOG_LEVEL: 'ERROR' }, 'ERROR'],
    [{ POWERTOOLS_LOG_LEVEL: 'DEBUG', AWS_LAMBDA_LOG_LEVEL: 'WARN' }, 'WARN ERROR'],
  ])('honours the level variables as Powertools does: %j', (env, expected) => {
    Object.assign(process.env, env);
    const write = (log: (level: (typeof LOG_LEVELS)[number]) => void) =>
      captureLines(() => LOG_LEVELS.forEach(log))
        .map((l) => l.record.level)
        .join(' ');
    const logger = new Logger();
    expect(write((l) => createLogWriter()(l, 'm', {}))).toBe(expected);
    expect(write((l) => logger[l.toLowerCase() as 'debug' | 'info' | 'warn' | 'error']('m'))).toBe(expected);
  });

  it('one list of levels: the schema accepts exactly them and defaults to DEFAULT_LOG_LEVEL', () => {
    expect(validateConfig(baseConfig()).logLevel).toBe(DEFAULT_LOG_LEVEL);
    for (const logLevel of LOG_LEVELS) expect(validateConfig(baseConfig({ logLevel })).logLevel).toBe(logLevel);
    expect(() => validateConfig(baseConfig({ logLevel: 'TRACE' as never }))).toThrow(/logLevel/);
  });
});

describe('Function: the authorizer logs through the same writer', () => {
  it('writes a refusal as Powertools Logger would (the vending function’s format)', async () => {
    const handler = createAuthorizer({ auth: authorizerAuth(), log: jsonLog() });
    let answer: Promise<unknown> = Promise.resolve();
    // A missing header is refused before the handler's first await: the line is written within the capture.
    const ours = captureLines(() => {
      answer = handler(tokenEvent(undefined));
    });
    await expect(answer).rejects.toEqual(new Error('Unauthorized'));
    const theirs = captureLines(() => new Logger().warn('authorization denied', { reason: 'missing-authorization' }));
    expect(normalized(ours)).toEqual(normalized(theirs));
    expect(ours[0]?.stream).toBe('stderr');
  });
});
