/**
 * Turns a zod/mini parse into either the data or one {@link ConfigError} listing every problem.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

/** Thrown by {@link validateConfig} with every problem found, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid TVM configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    );
  }
}

export const pathOf = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '');

/** Parses `input` with `schema`; on failure throws a {@link ConfigError} naming each field (prefixed by `root`). */
export function parseConfig<S extends z.ZodMiniType>(schema: S, input: unknown, root = ''): z.output<S> {
  // zod/mini ships no messages: without a locale an unknown key (a typo) reads "(root): Invalid input".
  // The locale is built only when there is something to report: a valid config (every cold start) skips it.
  let parsed = z.safeParse(schema, input);
  if (!parsed.success) parsed = z.safeParse(schema, input, { reportInput: true, error: en().localeError });
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((i) => {
      // zod says "Invalid input" for a missing field; say what an operator needs to read.
      const missing = i.code === 'invalid_type' && i.input === undefined;
      const where = pathOf([...(root ? [root] : []), ...i.path]) || '(root)';
      return `${where}: ${missing ? 'is required' : i.message}`;
    }),
  );
}
