import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { tokenResponseProblems } from '../../client/src/contract';
import { decodeDisposableToken, encodeDisposableToken } from '../../lambda/momento/api-key';
import { parseSmokeArgs, resolveCredential, UsageError } from '../../scripts/smoke/cli';
import { notFoundUrl, tokenBodyProblems, type Permission } from '../../scripts/smoke/http-checks';
import {
  chooseMomentoOps,
  describeOp,
  isGranted,
  runMomentoChecks,
  type MomentoOp,
  type MomentoOps,
  type MomentoOutcome,
} from '../../scripts/smoke/momento-checks';
import { formatTable, redact } from '../../scripts/smoke/report';
import { readStack } from '../../scripts/smoke/stack';

describe('Function: parseSmokeArgs', () => {
  it('reads a stack command line', () => {
    expect(
      parseSmokeArgs(['--stack', 'MomentoTvm', '--region', 'eu-west-1', '--origin', 'https://app.example.com']),
    ).toEqual({
      stack: 'MomentoTvm',
      region: 'eu-west-1',
      url: undefined,
      mode: undefined,
      origin: 'https://app.example.com',
      auth: undefined,
      momento: false,
      cache: undefined,
    });
  });

  it('reads a URL command line with --momento and --cache', () => {
    expect(
      parseSmokeArgs(['--url', 'http://localhost:8787/token', '--mode', 'open', '--momento', '--cache', 'app']),
    ).toMatchObject({ url: 'http://localhost:8787/token', mode: 'open', momento: true, cache: 'app' });
  });

  it.each([
    [[], /--stack or --url/],
    [['--stack', 'A', '--url', 'http://x/token', '--mode', 'open'], /--stack or --url/],
    [['--url', 'http://x/token'], /needs --mode/],
    [['--url', 'ftp://x/token', '--mode', 'open'], /http\(s\) URL/],
    [['--url', 'http://x/token', '--mode', 'open', '--region', 'eu-west-1'], /--region applies to --stack/],
    [['--stack', 'A', '--mode', 'iam'], /--mode must be one of/],
    [['--stack', 'A', '--origin', 'https://app.example.com/'], /--origin must be an origin/],
    [['--stack', 'A', '--origin', 'app.example.com'], /--origin must be an origin/],
    [['--stack', 'A', '--cache', 'app'], /--cache applies to --momento/],
    [['--stack', 'A', '--bogus'], /bogus/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseSmokeArgs(argv)).toThrow(UsageError);
    expect(() => parseSmokeArgs(argv)).toThrow(message);
  });
});

describe('Function: resolveCredential', () => {
  const env = { TVM_ID_TOKEN: ' id.token.value\n', EMPTY: '' };
  const files: Record<string, string> = { '/tmp/cred': 'Bearer from.file.value\n' };
  const readFile = (p: string) => {
    if (!(p in files)) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
    return files[p]!;
  };

  it.each([
    ['env:TVM_ID_TOKEN', 'id.token.value'],
    ['@/tmp/cred', 'Bearer from.file.value'],
    ['literal.credential', 'literal.credential'],
  ])('resolves %s', (spec, value) => {
    expect(resolveCredential(spec, env, readFile)).toBe(value);
  });

  it.each([
    ['env:MISSING', /MISSING: the variable is unset or empty/],
    ['env:EMPTY', /EMPTY: the variable is unset or empty/],
    ['@/tmp/none', /cannot read the file \(ENOENT\)/],
    ['   ', /empty credential/],
  ])('refuses %s', (spec, message) => {
    expect(() => resolveCredential(spec, env, readFile)).toThrow(message);
  });
});

describe('Function: readStack', () => {
  const cfn = mockClient(CloudFormationClient);
  beforeEach(() => cfn.reset());

  it('takes TokenUrl from the outputs and the mode from the description', async () => {
    // Prepare
    cfn.on(DescribeStacksCommand, { StackName: 'MomentoTvm' }).resolves({
      Stacks: [
        {
          StackName: 'MomentoTvm',
          CreationTime: new Date(),
          StackStatus: 'UPDATE_COMPLETE',
          Description: 'Momento token vending machine (authorizer mode)',
          Outputs: [
            { OutputKey: 'TokenUrl', OutputValue: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/token' },
          ],
        },
      ],
    });
    // Act
    const stack = await readStack(new CloudFormationClient({ region: 'eu-west-1' }), 'MomentoTvm');
    // Assess
    expect(stack).toEqual({
      tokenUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/token',
      mode: 'authorizer',
      status: 'UPDATE_COMPLETE',
    });
  });

  it('falls back to the UserPoolId output for the mode', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'X',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'TokenUrl', OutputValue: 'https://x/prod/token' },
            { OutputKey: 'UserPoolId', OutputValue: 'eu-west-1_AbC' },
          ],
        },
      ],
    });
    await expect(readStack(new CloudFormationClient({}), 'X')).resolves.toMatchObject({ mode: 'cognito' });
  });

  it('refuses a stack without TokenUrl', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'Other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }],
    });
    await expect(readStack(new CloudFormationClient({}), 'Other')).rejects.toThrow(/no TokenUrl output/);
  });
});

describe('Function: tokenBodyProblems', () => {
  const good = {
    authToken: encodeDisposableToken('cell-1.example', 'opaque'),
    expiresAt: 1_900_000_000,
    expiresIn: 900,
    endpoint: 'cell-1.example',
    tokenId: 'alice',
    permissions: [{ type: 'cache', cache: 'app', role: 'readonly', keyPrefix: 'public/' }],
  };

  it('accepts the documented body', () => {
    expect(tokenBodyProblems(good, 'cognito')).toEqual([]);
    const { tokenId: _, ...open } = good;
    expect(tokenBodyProblems(open, 'open')).toEqual([]);
  });

  it.each([
    [{ ...good, authToken: '' }, 'cognito', 'authToken not a non-empty string'],
    [{ ...good, expiresAt: '1900000000' }, 'cognito', 'expiresAt not an integer'],
    [{ ...good, expiresIn: 0 }, 'cognito', 'expiresIn not a positive integer'],
    [{ ...good, endpoint: undefined }, 'cognito', 'endpoint not a non-empty string'],
    [{ ...good, permissions: [] }, 'cognito', 'permissions not a non-empty list of {type, cache, role}'],
    [{ ...good, permissions: [{ type: 'cache', cache: 'app' }] }, 'cognito', 'permissions not a non-empty list'],
    [{ ...good, tokenId: undefined }, 'authorizer', 'tokenId not a non-empty string'],
    [(({ tokenId: _, ...rest }) => rest)(good), 'cognito', 'tokenId missing'],
  ] as const)('names the problem: %#', (body, mode, problem) => {
    expect(tokenBodyProblems(body, mode).join('; ')).toContain(problem);
  });

  it('refuses what is not an object', () => {
    expect(tokenBodyProblems([good], 'open')).toEqual(['not a JSON object']);
  });

  // One contract (client/src/contract.ts): the smoke test refuses exactly what the client's contract refuses.
  it.each([
    ['a role the contract does not know', { ...good, permissions: [{ type: 'cache', cache: 'app', role: 'admin' }] }],
    ['a topic role on a cache', { ...good, permissions: [{ type: 'cache', cache: 'app', role: 'subscribeonly' }] }],
    ['a member the contract does not name', { ...good, permissions: [{ ...good.permissions[0], ttl: 5 }] }],
    ['a topic selector on a cache', { ...good, permissions: [{ ...good.permissions[0], topic: 'chat' }] }],
  ])('judges by the client contract: %s', (_name, body) => {
    expect(tokenBodyProblems(body, 'cognito')).toEqual(tokenResponseProblems(body, { requireTokenId: true }));
    expect(tokenBodyProblems(body, 'cognito')).toEqual(['permissions not a non-empty list of {type, cache, role}']);
  });
});

describe('Function: decodeDisposableToken', () => {
  it('reads back what encodeDisposableToken wrote', () => {
    expect(decodeDisposableToken(encodeDisposableToken('cell-1.example', 'k'))).toEqual({
      endpoint: 'cell-1.example',
      apiKey: 'k',
    });
  });

  it.each([
    ['not base64', 'a.b.c'],
    ['base64, not JSON', Buffer.from('hello').toString('base64')],
    ['no api_key', Buffer.from(JSON.stringify({ endpoint: 'e' })).toString('base64')],
    ['empty endpoint', Buffer.from(JSON.stringify({ endpoint: '', api_key: 'k' })).toString('base64')],
  ])('refuses %s', (_, token) => {
    expect(decodeDisposableToken(token)).toBeUndefined();
  });
});

describe('Function: notFoundUrl', () => {
  it('stays in the stage', () => {
    expect(notFoundUrl('https://abc.execute-api.eu-west-1.amazonaws.com/prod/token')).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod/tvm-smoke-nope',
    );
  });
});

describe('Function: isGranted', () => {
  const perms: Permission[] = [
    { type: 'cache', cache: 'app', role: 'readonly' },
    { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/1/' },
    { type: 'topic', cache: 'app', role: 'publishsubscribe', topicPrefix: 'chat-' },
    { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'inbox-1' },
    { type: 'cache', cache: '*', role: 'writeonly', key: 'audit' },
  ];
  it.each<[MomentoOp, boolean]>([
    [{ kind: 'cache-get', cache: 'app', key: 'anything' }, true],
    [{ kind: 'cache-set', cache: 'app', key: 'anything' }, false],
    [{ kind: 'cache-set', cache: 'app', key: 'user/1/x' }, true],
    [{ kind: 'cache-get', cache: 'other', key: 'x' }, false],
    [{ kind: 'cache-set', cache: 'other', key: 'audit' }, true],
    [{ kind: 'cache-get', cache: 'other', key: 'audit' }, false],
    [{ kind: 'topic-publish', cache: 'app', topic: 'chat-1' }, true],
    [{ kind: 'topic-publish', cache: 'app', topic: 'inbox-1' }, false],
    [{ kind: 'topic-subscribe', cache: 'app', topic: 'inbox-1' }, true],
    [{ kind: 'topic-subscribe', cache: 'app', topic: 'inbox-2' }, false],
  ])('%j → %s', (op, granted) => {
    expect(isGranted(perms, op)).toBe(granted);
  });
});

describe('Function: chooseMomentoOps', () => {
  it.each<[string, Permission[], string | undefined, string | undefined, string | undefined]>([
    [
      'read-only cache: get it, set is refused',
      [{ type: 'cache', cache: 'app', role: 'readonly' }],
      undefined,
      'get app/tvm-smoke',
      'set app/tvm-smoke',
    ],
    [
      'open example: subscribe under the prefix, publish refused',
      [
        { type: 'topic', cache: 'demo', role: 'subscribeonly', topicPrefix: 'news-' },
        { type: 'cache', cache: 'demo', role: 'readonly', keyPrefix: 'public/' },
      ],
      undefined,
      'subscribe demo/news-tvm-smoke',
      'publish demo/news-tvm-smoke',
    ],
    [
      'write-only key: a set is the only granted operation',
      [{ type: 'cache', cache: 'app', role: 'writeonly', key: 'k' }],
      undefined,
      'set app/k',
      'get app/k',
    ],
    [
      'read-write under a prefix: a key outside is refused',
      [{ type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/1/' }],
      undefined,
      'get app/user/1/tvm-smoke',
      'get app/tvm-smoke-outside-scope',
    ],
    [
      'full topic access in one cache: cache data is refused there',
      [{ type: 'topic', cache: 'app', role: 'publishsubscribe' }],
      undefined,
      'subscribe app/tvm-smoke',
      'get app/tvm-smoke',
    ],
    [
      'every cache, with --cache: the named cache; refusal in another data type',
      [{ type: 'cache', cache: '*', role: 'readwrite' }],
      'mine',
      'get mine/tvm-smoke',
      'subscribe mine/tvm-smoke',
    ],
    [
      'every cache without --cache: no granted operation can be named',
      [{ type: 'cache', cache: '*', role: 'readwrite' }],
      undefined,
      undefined,
      'subscribe tvm-smoke-ungranted-cache/tvm-smoke',
    ],
    [
      'everything granted: nothing to refuse',
      [
        { type: 'cache', cache: '*', role: 'readwrite' },
        { type: 'topic', cache: '*', role: 'publishsubscribe' },
      ],
      'mine',
      'get mine/tvm-smoke',
      undefined,
    ],
  ])('%s', (_, perms, cache, inScope, outOfScope) => {
    const chosen = chooseMomentoOps(perms, cache);
    expect(chosen.inScope && describeOp(chosen.inScope)).toBe(inScope);
    expect(chosen.outOfScope && describeOp(chosen.outOfScope)).toBe(outOfScope);
    if (chosen.inScope) expect(isGranted(perms, chosen.inScope)).toBe(true);
    if (chosen.outOfScope) expect(isGranted(perms, chosen.outOfScope)).toBe(false);
  });
});

describe('Function: runMomentoChecks', () => {
  /** A fake Momento that enforces `enforced` (what the token really allows) and records what it was asked. */
  function fakeMomento(enforced: Permission[], override?: (op: MomentoOp) => MomentoOutcome | undefined) {
    const calls: string[] = [];
    let closed = false;
    const ops: MomentoOps = {
      run: async (op) => {
        calls.push(describeOp(op));
        return override?.(op) ?? (isGranted(enforced, op) ? { ok: true } : { ok: false, code: 'PERMISSION_ERROR' });
      },
      close: () => {
        closed = true;
      },
    };
    return { ops, calls, closed: () => closed };
  }
  const reported: Permission[] = [{ type: 'cache', cache: 'app', role: 'readonly' }];

  it('passes when the granted operation succeeds and the other is refused', async () => {
    // Prepare
    const fake = fakeMomento(reported);
    // Act
    const rows = await runMomentoChecks({ permissions: reported }, fake.ops);
    // Assess
    expect(fake.calls).toEqual(['get app/tvm-smoke', 'set app/tvm-smoke']);
    expect(rows.map((r) => [r.check, r.status, r.seen])).toEqual([
      ['Momento: get app/tvm-smoke (granted)', 'pass', 'succeeded'],
      ['Momento: set app/tvm-smoke (not granted)', 'pass', 'refused (PERMISSION_ERROR)'],
    ]);
    expect(fake.closed()).toBe(true);
  });

  it('fails when the token allows more than it reports', async () => {
    const fake = fakeMomento([{ type: 'cache', cache: 'app', role: 'readwrite' }]);
    const rows = await runMomentoChecks({ permissions: reported }, fake.ops);
    expect(rows[1]).toMatchObject({
      status: 'fail',
      seen: 'succeeded — the token allows more than its permissions say',
    });
  });

  it('fails when the granted operation is refused, naming the error code', async () => {
    const fake = fakeMomento([]);
    const rows = await runMomentoChecks({ permissions: reported }, fake.ops);
    expect(rows[0]).toMatchObject({ status: 'fail', seen: 'error PERMISSION_ERROR' });
  });

  it('fails a refusal that is not a permission error, and a thrown error becomes a row', async () => {
    const fake = fakeMomento(reported, (op) => {
      if (op.kind === 'cache-set') return { ok: false, code: 'NOT_FOUND_ERROR' };
      throw Object.assign(new Error('boom'), { name: 'TIMEOUT' });
    });
    const rows = await runMomentoChecks({ permissions: reported }, fake.ops);
    expect(rows.map((r) => [r.status, r.seen])).toEqual([
      ['fail', 'error TIMEOUT'],
      ['fail', 'refused (NOT_FOUND_ERROR)'],
    ]);
    expect(fake.closed()).toBe(true);
  });

  it('fails when no granted operation can be named (every cache, no --cache) and skips when nothing is refused', async () => {
    const perms: Permission[] = [
      { type: 'cache', cache: '*', role: 'readwrite' },
      { type: 'topic', cache: '*', role: 'publishsubscribe' },
    ];
    const fake = fakeMomento(perms);
    const rows = await runMomentoChecks({ permissions: perms }, fake.ops);
    expect(fake.calls).toEqual([]);
    expect(rows.map((r) => r.status)).toEqual(['fail', 'skip']);
    expect(rows[0]!.seen).toMatch(/--cache/);
  });
});

describe('Function: formatTable', () => {
  it('aligns the rows, counts them and masks secrets', () => {
    const secret = 'eyJhbGciOi.secret.value';
    const text = formatTable(
      [
        { check: 'a', expected: '200', seen: '200', status: 'pass' },
        { check: 'longer check', expected: 'x', seen: `leaked ${secret}`, status: 'fail' },
        { check: 'c', expected: 'y', seen: 'no --origin', status: 'skip' },
        { check: 'd', expected: 'reported only', seen: 'refused (401)', status: 'info' },
      ],
      [secret],
    );
    expect(text).not.toContain(secret);
    expect(text).toContain('leaked [redacted]');
    expect(text.split('\n')[2]).toBe('PASS  a             200            200');
    expect(text).toMatch(/^INFO {2}d /m);
    expect(text).toMatch(/1 passed, 1 failed, 1 skipped, 1 reported/);
  });

  it.each([
    ['an API key', `key svc-a.${'a'.repeat(43)} seen`, 'key [redacted] seen'],
    ['a JWT', 'got eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here', 'got [redacted] here'],
    ['an Authorization value', 'Authorization: Bearer abcdefgh1234', 'Authorization: Bearer [redacted]'],
    ['a long opaque token', `t=${'Ab1+'.repeat(12)}==`, 't=[redacted]'],
    ['terminal escapes', '\u001b[31mred\u001b[0m \u001b]0;title\u0007ok\u0008\r', 'red ok'],
  ])('redact masks %s it was never told about and strips control characters', (_what, text, expected) => {
    expect(redact(text, [])).toBe(expected);
  });

  it('redact ignores short strings (they would mask ordinary words)', () => {
    expect(redact('a 200 b', ['200'])).toBe('a 200 b');
  });
});
