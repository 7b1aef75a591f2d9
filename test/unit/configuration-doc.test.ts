/**
 * docs/configuration.md agrees with the schema (config/schema.ts), the way the error table agrees with
 * common/problems.ts: every field the schema resolves is documented, every documented field exists, every default
 * written as a literal is the schema's default, and every config-file setting maps to the prop
 * DEPLOYMENT_SETTING_PROPS names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEPLOYMENT_SETTING_PROPS, validatePolicy } from '../../config/schema';

const PAGE = path.join(__dirname, '..', '..', 'docs', 'configuration.md');

/** The rows of every table whose first header cell is `first`, as trimmed cells. */
function tableRows(first: string): string[][] {
  const lines = fs.readFileSync(PAGE, 'utf8').split('\n');
  const rows: string[][] = [];
  lines.forEach((line, i) => {
    if (!new RegExp(String.raw`^\|\s*${first}\s*\|`).test(line)) return;
    for (const row of lines.slice(i + 2)) {
      if (!row.startsWith('|')) break;
      rows.push(
        row
          .split(/(?<!\\)\|/) // not at an escaped `|` inside a cell (`'a' \| 'b'`)
          .slice(1, -1)
          .map((c) => c.replace(/\\\|/g, '|').trim()),
      );
    }
  });
  return rows;
}

/** The field paths a cell names: `` `auth.issuer`, `auth.audience[]` `` → both, without the `[]` of a leaf. */
const fieldsOf = (cell: string): string[] => [...cell.matchAll(/`([A-Za-z][\w.[\]]*)`/g)].map((m) => m[1]!);

/** One documented field and the default the page gives it. */
interface DocField {
  readonly field: string;
  readonly defaultCell: string;
}

/** Both policy tables: "Policy config" (`field | type | default | meaning`) and "Revocation settings". */
function documentedFields(): DocField[] {
  return tableRows('field').flatMap((cells) => {
    const defaultCell = cells.length === 4 ? cells[2]! : cells[1]!;
    return fieldsOf(cells[0]!).map((field) => ({ field, defaultCell }));
  });
}

// Prepare: minimal configs per mode, and configs that set every optional section, so that between them the
// resolved policies hold every field the schema knows.
const CORS = { allowOrigins: ['https://app.example.com'] };
const MOMENTO = { endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com' };
const tier = (extra: object = {}) => ({
  name: 'member',
  groups: ['members'],
  permissions: [{ type: 'cache', cache: 'app', role: 'readonly' }],
  ...extra,
});
const MINIMAL = {
  open: { auth: { mode: 'open', allowUnauthenticated: true, anonymousTier: 'member' }, tiers: [tier()] },
  cognito: { auth: { mode: 'cognito' }, tiers: [tier()] },
  authorizer: {
    auth: { mode: 'authorizer', issuer: 'https://idp.example.com/', audience: ['tvm'] },
    tiers: [tier()],
  },
};
const EVERYTHING = [
  {
    auth: {
      mode: 'cognito',
      existingUserPool: { userPoolId: 'eu-west-1_AbCdEf', clientIds: ['4abc'] },
      liveGroups: {},
      fallbackTier: 'member',
    },
    tiers: [tier({ maxTtlSeconds: 600 })],
    callerLimit: { mintsPerMinute: 10, burst: 5 },
    revocation: { maxCredentialLifetimeSeconds: 86400 },
  },
  {
    auth: {
      mode: 'authorizer',
      issuer: 'https://idp.example.com/',
      audience: ['tvm'],
      jwksUri: 'https://idp.example.com/keys',
      apiKeys: { secret: { name: 'tvm/api-keys' } },
    },
    tiers: [tier({ shared: true })],
  },
];
const resolve = (c: object) => validatePolicy({ cors: CORS, momento: MOMENTO, ...c });

/** Every path in a resolved policy, arrays written `[]` (`tiers[].permissions[].role`). */
function pathsOf(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [prefix + '[]', ...value.flatMap((v) => pathsOf(v, prefix + '[]'))];
  if (typeof value !== 'object' || value === null) return [prefix];
  return [
    ...(prefix ? [prefix] : []),
    ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, prefix ? `${prefix}.${k}` : k)),
  ];
}

/** The value at a documented path in a resolved policy (`tiers[].shared` → the first tier's). */
function valueAt(policy: unknown, field: string): unknown {
  let v: unknown = policy;
  for (const part of field.split('.')) {
    const name = part.replace(/\[\]$/, '');
    v = (v as Record<string, unknown> | undefined)?.[name];
    if (part.endsWith('[]') && Array.isArray(v) && field !== part) v = v[0];
  }
  return v;
}

/** A default cell holding one JavaScript literal (`` `3600` ``, `` `['RS256']` ``, `` `{ create: true }` ``). */
function literalDefault(cell: string): { value: unknown } | undefined {
  const m = /^`([^`]+)`$/.exec(cell);
  if (!m) return undefined;
  const json = m[1]!.replace(/'/g, '"').replace(/([{,]\s*)([A-Za-z_]\w*)\s*:/g, '$1"$2":');
  try {
    return { value: JSON.parse(json) };
  } catch {
    return undefined; // `<issuer>/.well-known/jwks.json` and the like: prose, not a literal
  }
}

describe('Docs: docs/configuration.md against the schema', () => {
  const documented = documentedFields();
  const resolvedMinimal = Object.values(MINIMAL).map(resolve);
  const resolvedAll = [...resolvedMinimal, ...EVERYTHING.map(resolve)];

  it('finds the policy tables', () => {
    expect(documented.map((d) => d.field)).toEqual(
      expect.arrayContaining(['auth.mode', 'token.maxTtlSeconds', 'revocation.cacheSeconds']),
    );
  });

  it('documents every field the schema resolves (itself or a parent row)', () => {
    const names = new Set(documented.map((d) => d.field.replace(/\[\]$/, '')));
    const covered = (p: string) =>
      p.split('.').some((_, i, parts) =>
        names.has(
          parts
            .slice(0, i + 1)
            .join('.')
            .replace(/\[\]$/, ''),
        ),
      );
    const all = resolvedAll.flatMap((p) => pathsOf(p));
    // Only the ends of the tree: an object's own path is covered once each of its fields is.
    const leaves = new Set(all.filter((p) => !all.some((q) => q.startsWith(`${p}.`) || q.startsWith(`${p}[`))));
    expect([...leaves].filter((p) => !covered(p))).toEqual([]);
  });

  it('names only fields the schema has', () => {
    const known = new Set(resolvedAll.flatMap((p) => pathsOf(p)).map((p) => p.replace(/\[\]$/, '')));
    expect(documented.map((d) => d.field.replace(/\[\]$/, '')).filter((f) => !known.has(f))).toEqual([]);
  });

  it.each(documented.filter((d) => literalDefault(d.defaultCell) !== undefined).map((d) => [d.field, d.defaultCell]))(
    '%s defaults to %s',
    (field) => {
      const { value } = literalDefault(documented.find((d) => d.field === field)!.defaultCell)!;
      // Assess: in every mode where the schema fills the field in, it fills in the documented value.
      const seen = [...resolvedMinimal, resolve({ ...MINIMAL.cognito, auth: { mode: 'cognito', liveGroups: {} } })]
        .map((p) => valueAt(p, field))
        .filter((v) => v !== undefined);
      // An optional switch the schema leaves out (`tiers[].shared`) is off: only `false` may stand for absent.
      if (seen.length === 0) expect(value).toBe(false);
      for (const v of seen) expect(v).toEqual(value);
    },
  );
});

describe('Docs: the construct props table against DEPLOYMENT_SETTING_PROPS', () => {
  it('maps each config-file setting to the prop the schema names', () => {
    // `| prop | config file (standalone app) | type | default | meaning |`: the config file's name, when it has one.
    const mapped = Object.fromEntries(
      tableRows('prop').flatMap((cells) => {
        const setting = /^`(\w+)`$/.exec(cells[1]!)?.[1];
        const prop = /^`(\w+)`$/.exec(cells[0]!)?.[1];
        return setting && prop ? [[setting, prop]] : [];
      }),
    );
    const expected = Object.fromEntries(
      Object.entries(DEPLOYMENT_SETTING_PROPS).filter(([, prop]) => /^\w+$/.test(prop)),
    );
    expect(mapped).toEqual(expected);
  });
});
