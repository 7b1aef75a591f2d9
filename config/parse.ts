/**
 * Turns a zod/mini parse, plus any cross-field problems, into either the data or one {@link ConfigError} that
 * lists every problem once, each as `path: what is wrong` with the path written once.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

/** Where a problem is: object keys and array indexes from the root of the configuration. */
export type ConfigPath = readonly (string | number)[];

/** One problem: where, and what is wrong there (a message that does not repeat the path). */
export interface Problem {
  readonly path: ConfigPath;
  readonly message: string;
}

const summary = (problems: readonly string[]) =>
  `Invalid TVM configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`;

/** Thrown by `validateConfig` and `loadConfigFile` with every problem found, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /**
   * @param problems one line each, `path: message`
   * @param message the whole text; by default a count followed by the problems, one per line
   */
  constructor(
    readonly problems: readonly string[],
    message: string = summary(problems),
  ) {
    super(message);
  }
}

/** `['tiers', 0, 'name']` → `tiers[0].name`; a key that is not a plain name is quoted (`a["my key"]`); `[]` → `(root)`. */
const pathOf = (path: ConfigPath): string =>
  path.reduce<string>(
    (s, p) =>
      typeof p === 'number'
        ? `${s}[${p}]`
        : !/^[A-Za-z_$][\w$-]*$/.test(p)
          ? `${s}[${JSON.stringify(p)}]`
          : s
            ? `${s}.${p}`
            : p,
    '',
  ) || '(root)';

/** Formats one problem as a line of {@link ConfigError.problems}. */
const formatProblem = (p: Problem): string => `${pathOf(p.path)}: ${p.message}`;

/**
 * Optimal-string-alignment distance (Levenshtein plus swapping two neighbours), ignoring case: `tokenCahce` is
 * 1 from `tokenCache`, `maxTTLSeconds` 0 from `maxTtlSeconds`.
 */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `word`, if it is close enough to be a likely typo: at most one edit per three
 * characters (at least one edit), ties to the earlier candidate.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance && c !== word) [best, bestDistance] = [c, d];
  }
  return best;
}

/** The parts of a zod schema's definition needed to find which keys an object accepts. */
interface SchemaNode {
  _zod: {
    def: {
      type: string;
      innerType?: SchemaNode;
      options?: SchemaNode[];
      discriminator?: string;
      shape?: Record<string, SchemaNode>;
      element?: SchemaNode;
      values?: unknown[];
    };
  };
}

/**
 * The keys an object at `path` may have, following the input through defaults, optionals, arrays and unions (a
 * discriminated union contributes only the option the input's discriminator picks).
 */
function keysAt(schema: SchemaNode, path: readonly PropertyKey[], value: unknown): string[] {
  const def = schema._zod.def;
  if (def.innerType) return keysAt(def.innerType, path, value);
  if (def.options) {
    const picked = (o: SchemaNode) => {
      const tag = def.discriminator && o._zod.def.shape?.[def.discriminator];
      return (
        !tag ||
        (tag._zod.def.values ?? []).includes((value as Record<string, unknown> | undefined)?.[def.discriminator!])
      );
    };
    return [...new Set(def.options.filter(picked).flatMap((o) => keysAt(o, path, value)))];
  }
  if (path.length === 0) return Object.keys(def.shape ?? {});
  const [head, ...rest] = path;
  const next = (value as Record<PropertyKey, unknown> | undefined)?.[head!];
  if (def.shape) return def.shape[head as string] ? keysAt(def.shape[head as string]!, rest, next) : [];
  if (def.element) return keysAt(def.element, rest, next);
  return [];
}

/**
 * Every problem zod finds in `input`, as {@link Problem}s under `root`. An unknown key is reported at its own
 * path with the closest allowed key ("did you mean"), and a misspelt required key is reported once: as the
 * unknown key, not also as the missing one.
 */
export function schemaProblems(schema: z.ZodMiniType, input: unknown, root: ConfigPath = []): Problem[] {
  // zod/mini ships no messages: without a locale an unknown key (a typo) reads "(root): Invalid input".
  // Callers parse without it first, so a valid config (every cold start) never builds the locale.
  const parsed = z.safeParse(schema, input, { reportInput: true, error: en().localeError });
  if (parsed.success) return [];
  const node = schema as unknown as SchemaNode;
  const problems: Problem[] = [];
  const suggested = new Set<string>();
  for (const i of parsed.error.issues) {
    const path = [...root, ...(i.path as (string | number)[])];
    if (i.code === 'unrecognized_keys') {
      const allowed = keysAt(node, i.path, input);
      for (const key of i.keys) {
        const near = didYouMean(key, allowed);
        if (near !== undefined) suggested.add(pathOf([...path, near]));
        problems.push({
          path: [...path, key],
          message:
            near !== undefined
              ? `unknown key; did you mean \`${near}\`?`
              : `unknown key; allowed: ${allowed.join(', ')}`,
        });
      }
    } else if (i.code === 'invalid_type' && i.input === undefined) {
      // zod says "Invalid input" for a missing field; say what an operator needs to read.
      problems.push({ path, message: 'is required' });
    } else {
      problems.push({ path, message: i.message });
    }
  }
  return problems.filter((p) => !(p.message === 'is required' && suggested.has(pathOf(p.path))));
}

/**
 * One {@link ConfigError} listing `problems` (at least one) each once, ordered as the file reads: top-level keys
 * in `order` (unknown keys last), then by array index; problems at the same place keep their order.
 */
export function configError(problems: readonly Problem[], order: readonly string[] = []): ConfigError {
  const rank = (p: Problem) => {
    const top = order.indexOf(String(p.path[0]));
    return [top === -1 ? order.length : top, ...p.path.filter((x): x is number => typeof x === 'number')];
  };
  const compare = (a: number[], b: number[]): number => {
    for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
    return a.length - b.length;
  };
  const sorted = [...problems].sort((a, b) => compare(rank(a), rank(b)));
  return new ConfigError([...new Set(sorted.map(formatProblem))]);
}

/** Parses `input` with `schema`; on failure throws a {@link ConfigError} naming each field (under `root`). */
export function parseConfig<S extends z.ZodMiniType>(schema: S, input: unknown, root: ConfigPath = []): z.output<S> {
  const parsed = z.safeParse(schema, input);
  if (parsed.success) return parsed.data;
  throw configError(schemaProblems(schema, input, root));
}
