import { hashApiKeySecret, parseApiKeysDocument, verifyApiKey } from '../../authorizers/api-keys';
import { validateConfig } from '../../config/schema';
import authorizerConfig from '../../config/examples/authorizer.config';
import { processIo, run, type ApiKeysIo } from '../../scripts/api-keys';

/** The authorizer example with tiers naming the groups these tests use. */
const CONFIG = validateConfig({
  ...authorizerConfig,
  tiers: [
    { ...authorizerConfig.tiers[0]!, groups: ['admins', 'ops'] },
    { ...authorizerConfig.tiers[1]!, groups: ['g'] },
  ],
});

function io(stdin = '', files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: ApiKeysIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    readStdin: async () => stdin,
    readFile: (path) => {
      if (!(path in files))
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return files[path]!;
    },
    loadConfig: () => CONFIG,
  };
  return { value, out, err };
}

describe('Script: api-keys', () => {
  describe('create', () => {
    it('prints the key exactly once and an entry that verifies it', async () => {
      // Prepare
      const t = io();
      // Act
      const code = await run(['create', 'svc-a', '--group', 'admins', '--group', 'ops'], t.value);
      // Assess
      expect(code).toBe(0);
      const text = t.out.join('\n');
      const key = /svc-a\.[A-Za-z0-9_-]{43}/.exec(text)?.[0];
      expect(key).toBeDefined();
      expect(text.split(key!).length - 1).toBe(1);
      const entryLine = t.out.find((l) => l.trim().startsWith('{'))!.trim();
      const entry = JSON.parse(entryLine) as { id: string; sha256: string; groups: string[] };
      expect(entry).toEqual({ id: 'svc-a', sha256: hashApiKeySecret(key!.slice(6)), groups: ['admins', 'ops'] });
      expect(verifyApiKey(parseApiKeysDocument(JSON.stringify({ keys: [entry] })), key!).principalId).toBe(
        'apikey:svc-a',
      );
      expect(t.err).toEqual([]);
    });

    it('prints machine-readable JSON with --json', async () => {
      const t = io();
      expect(await run(['create', 'svc-b', '--group', 'g', '--json'], t.value)).toBe(0);
      expect(t.out).toHaveLength(1);
      const { key, entry } = JSON.parse(t.out[0]!) as { key: string; entry: { sha256: string } };
      expect(entry.sha256).toBe(hashApiKeySecret(key.split('.')[1]!));
    });

    it('refuses a group no tier names (a key in it would get nothing), and prints no key', async () => {
      const t = io();
      expect(await run(['create', 'svc-a', '--group', 'admins', '--group', 'nosuch'], t.value)).toBe(2);
      expect(t.err.join('\n')).toMatch(
        /names the group "nosuch" \(a key in it would get no tier\); tiers name: admins, ops, g/,
      );
      expect(t.out).toEqual([]);
    });

    it('checks the groups against the default config file, or the one --config names', async () => {
      // Prepare: the real loader with captured output.
      const t = io();
      const real: ApiKeysIo = { ...t.value, loadConfig: processIo.loadConfig };
      // Act & Assess: config/tvm.config.ts names "admins"; the authorizer example names "admin".
      expect(await run(['create', 'svc-a', '--group', 'admins', '--json'], real)).toBe(0);
      expect(
        await run(['create', 'svc-a', '--group', 'admins', '--config', 'config/examples/authorizer.config.ts'], real),
      ).toBe(2);
      expect(t.err.join('\n')).toMatch(/no tier of config\/examples\/authorizer\.config\.ts names the group "admins"/);
      expect(
        await run(
          ['create', 'svc-a', '--group', 'admin', '--config', 'config/examples/authorizer.config.ts', '--json'],
          real,
        ),
      ).toBe(0);
    });

    it.each([
      ['no id', ['create', '--group', 'g'], /exactly one <id>/],
      ['two ids', ['create', 'a', 'b', '--group', 'g'], /exactly one <id>/],
      ['no group', ['create', 'svc-a'], /at least one --group/],
      ['a bad id', ['create', 'Svc_A', '--group', 'g'], /id must be 1–64 lower-case/],
      ['an unknown flag', ['create', 'svc-a', '--group', 'g', '--secret', 'x'], /Unknown option '--secret'/],
      ['no command', [], /no command given/],
      ['an unknown command', ['delete', 'svc-a'], /unknown command "delete"/],
    ])('exits 2 with usage for %s', async (_what, argv, message) => {
      const t = io();
      expect(await run(argv, t.value)).toBe(2);
      expect(t.err.join('\n')).toMatch(message);
      expect(t.err.join('\n')).toContain('Usage: npm run apikeys');
      expect(t.out).toEqual([]);
    });
  });

  describe('hash', () => {
    it('reads a key on stdin and prints its entry digest', async () => {
      const secret = 'Q'.repeat(43);
      const t = io(`svc-a.${secret}\n`);
      expect(await run(['hash'], t.value)).toBe(0);
      expect(JSON.parse(t.out[0]!)).toEqual({ id: 'svc-a', sha256: hashApiKeySecret(secret) });
      expect(t.out.join('\n')).not.toContain(secret);
    });

    it('refuses a key given as an argument (shell history)', async () => {
      const t = io();
      expect(await run(['hash', `svc-a.${'Q'.repeat(43)}`], t.value)).toBe(2);
    });

    it('refuses stdin that is not a key, without echoing it', async () => {
      const t = io('hunter2');
      expect(await run(['hash'], t.value)).toBe(2);
      expect(t.err.join('\n')).not.toContain('hunter2');
    });
  });

  describe('check', () => {
    const good = JSON.stringify({ keys: [{ id: 'svc-a', sha256: hashApiKeySecret('s'), groups: ['admins'] }] });

    it('accepts a valid document from a file', async () => {
      const t = io('', { 'keys.json': good });
      expect(await run(['check', 'keys.json'], t.value)).toBe(0);
      expect(t.out).toEqual(['OK: 1 key (svc-a)']);
    });

    it('accepts a valid document on stdin', async () => {
      const t = io(good);
      expect(await run(['check', '-'], t.value)).toBe(0);
    });

    it('lists every problem and exits 1', async () => {
      const t = io('{"keys":[{"id":"A","sha256":"x","groups":[]}]}');
      expect(await run(['check', '-'], t.value)).toBe(1);
      expect(t.err).toEqual([
        'error: 2 problem(s) in the API-keys document:',
        '  - keys[0].id must be 1–64 lower-case letters, digits or inner hyphens',
        '  - keys[0].sha256 must be 64 lower-case hex digits',
      ]);
    });

    it('exits 1 for a missing file', async () => {
      const t = io();
      expect(await run(['check', 'nope.json'], t.value)).toBe(1);
      expect(t.err[0]).toMatch(/ENOENT/);
    });
  });

  it('prints usage for --help', async () => {
    const t = io();
    expect(await run(['--help'], t.value)).toBe(0);
    expect(t.out[0]).toMatch(/^Usage: npm run apikeys/);
  });
});
