/**
 * The one log writer of both functions: JSON lines exactly as Powertools Logger writes them (`level`, `message`,
 * `timestamp`, `service`, `sampling_rate`, `xray_trace_id`, then the entry's fields; WARN and ERROR to stderr, the
 * rest to stdout), without loading Powertools on the cold path. The vending function's audit log
 * (lambda/telemetry.ts) and the authorizer's refusals (authorizers/authorizer.ts) go through it;
 * test/unit/log-writer.test.ts holds it equal to Powertools Logger.
 */
import { DEFAULT_LOG_LEVEL, type LogLevel } from '../config/limits';

export { DEFAULT_LOG_LEVEL, LOG_LEVELS, type LogLevel } from '../config/limits';

type Env = Readonly<Record<string, string | undefined>>;

/** Powertools' level thresholds (`LogLevelThreshold`). */
const RANK: Readonly<Record<string, number>> = {
  TRACE: 6,
  DEBUG: 8,
  INFO: 12,
  WARN: 16,
  ERROR: 20,
  CRITICAL: 24,
  SILENT: 28,
};

/** Options of {@link createLogWriter}. */
export interface LogWriterOptions {
  /** The `service` field. @default POWERTOOLS_SERVICE_NAME, else 'momento-tvm' */
  readonly serviceName?: string;
  /** Where the variables are read (once). @default process.env */
  readonly env?: Env;
  /** Where a line goes (WARN and ERROR to stderr, the rest to stdout, as Powertools). @default process.stdout/stderr */
  readonly write?: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** Writes log lines at or above the configured level. */
export type LogWriter = (level: LogLevel, message: string, fields: object) => void;

/**
 * A log writer (build once at module scope). Level: `POWERTOOLS_LOG_LEVEL` (the stack sets it from `logLevel`),
 * else `LOG_LEVEL`, else {@link DEFAULT_LOG_LEVEL}; never below `AWS_LAMBDA_LOG_LEVEL` when Lambda's advanced
 * logging controls set it (Lambda would drop those lines).
 *
 * @example
 * const log = createLogWriter(); // POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL from the stack
 * log('WARN', 'authorization denied', { reason });
 */
export function createLogWriter(options: LogWriterOptions = {}): LogWriter {
  const env = options.env ?? process.env;
  const service = options.serviceName ?? env.POWERTOOLS_SERVICE_NAME ?? 'momento-tvm';
  const level = (env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL || DEFAULT_LOG_LEVEL).toUpperCase();
  const threshold = Math.max(
    RANK[level] ?? RANK[DEFAULT_LOG_LEVEL]!,
    RANK[(env.AWS_LAMBDA_LOG_LEVEL ?? '').toUpperCase()] ?? 0,
  );
  const write =
    options.write ?? ((stream, line) => void (stream === 'stderr' ? process.stderr : process.stdout).write(line));
  // Powertools reads the X-Ray trace id per line: Lambda sets it per invocation.
  const traceId = (): string | undefined => {
    const v = process.env._X_AMZN_TRACE_ID ?? env._X_AMZN_TRACE_ID;
    if (!v) return undefined;
    return v.includes('=') ? /(?:^|;)\s*Root=([^;]*)/.exec(v)?.[1] : v;
  };
  return (lvl, message, fields) => {
    if (RANK[lvl]! < threshold) return;
    const line = JSON.stringify({
      level: lvl,
      message,
      timestamp: new Date().toISOString(),
      service,
      sampling_rate: 0,
      xray_trace_id: traceId(),
      ...fields,
    });
    write(lvl === 'WARN' || lvl === 'ERROR' ? 'stderr' : 'stdout', `${line}\n`);
  };
}
