/**
 * The construct library as a consumer gets it, offline: `npm pack` of this repository (its `prepack` builds
 * dist/), the tarball installed with npm into a brand-new CDK app in a temporary directory outside the
 * repository, and that app — its own user pool, an existing secret by ARN — type-checked against the package's
 * `.d.ts` and synthesized with bundling on.
 *
 * Offline install: npm's cache holds tarballs (from `npm ci`) but no registry metadata, so npm cannot resolve a
 * version range offline. The app therefore lists the package's one dependency, zod, as a tarball packed from the
 * repository's node_modules (same version), and its peer dependencies aws-cdk-lib and constructs are links to
 * the repository's copies (`--legacy-peer-deps`: npm does not try to fetch them). Nothing else is linked: the
 * package cannot reach the repository's esbuild or sources, so its functions must come from its own dist/.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template, Match } from 'aws-cdk-lib/assertions';
import { offlineNpm } from '../support/offline-npm';

const REPO = path.resolve(__dirname, '..', '..');
const PACKAGE = 'momento-token-vending-machine';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/momento-AbCdEf';

/** Runs `node <args>`; on failure the error carries what the command printed. */
function run(args: readonly string[], cwd: string): void {
  try {
    execFileSync(process.execPath, [...args], { cwd, encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`node ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: e });
  }
}

/** What `npm pack --json` reports. */
interface PackReport {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}
const packJson = (out: string): PackReport => {
  // The prepack build prints before the JSON report.
  const [entry] = JSON.parse(out.slice(out.indexOf('[\n'))) as PackReport[];
  if (!entry) throw new Error(`npm pack reported nothing: ${out}`);
  return entry;
};

const CONSUMER_APP = `
import { App, CfnOutput, Stack, aws_cognito as cognito } from 'aws-cdk-lib';
import { TokenVendingMachine, definePolicy, type TokenVendingMachineProps } from '${PACKAGE}';

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'ConsumerStack', { env: { account: '111122223333', region: 'eu-west-1' } });

// The consumer's own user pool and app client.
const pool = new cognito.UserPool(stack, 'CustomerPool', { signInAliases: { email: true } });
const webClient = pool.addClient('WebClient', { authFlows: { userSrp: true } });

const props: TokenVendingMachineProps = {
  config: definePolicy({
    auth: { mode: 'cognito' },
    tiers: [
      { name: 'member', groups: ['members'], permissions: [{ type: 'cache', cache: 'app', role: 'readonly' }] },
    ],
    cors: { allowOrigins: ['https://app.example.com'] },
    momento: { endpoint: 'cell-1-eu-west-1-1.prod.a.momentohq.com', secret: { arn: '${SECRET_ARN}' } },
  }),
  userPool: pool,
  userPoolClients: [webClient],
  vendingMemorySize: 1024,
  alarmEmail: 'ops@example.com',
};
const tvm = new TokenVendingMachine(stack, 'Tokens', props);
new CfnOutput(stack, 'TokenUrl', { value: tvm.tokenUrl });
app.synth();
`;

describe('Package: the construct library installed from its tarball into a new CDK app (offline)', () => {
  let work: string;
  let packed: PackReport;
  let outdir: string;
  let template: Template;
  let installed: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tvm-construct-package-'));
    packed = packJson(offlineNpm(['pack', '--json', '--pack-destination', work], REPO));
    const zod = packJson(
      offlineNpm(
        ['pack', '--json', '--ignore-scripts', '--pack-destination', work, path.join(REPO, 'node_modules', 'zod')],
        work,
      ),
    );
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({
        name: 'consumer-app',
        version: '1.0.0',
        private: true,
        dependencies: { [PACKAGE]: `file:../${packed.filename}`, zod: `file:../${zod.filename}` },
      }),
    );
    offlineNpm(['install', '--legacy-peer-deps', '--ignore-scripts'], app);
    for (const peer of ['aws-cdk-lib', 'constructs'])
      fs.symlinkSync(path.join(REPO, 'node_modules', peer), path.join(app, 'node_modules', peer), 'dir');
    installed = path.join(app, 'node_modules', PACKAGE);

    fs.writeFileSync(path.join(app, 'app.ts'), CONSUMER_APP);
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'node16',
          moduleResolution: 'node16',
          strict: true,
          skipLibCheck: true,
          typeRoots: [path.join(REPO, 'node_modules', '@types')],
          types: ['node'],
          outDir: 'out',
        },
        files: ['app.ts'],
      }),
    );
    // Type-checks against the package's exports map and .d.ts, then emits out/app.js.
    run([require.resolve('typescript/bin/tsc'), '-p', app], app);
    outdir = path.join(work, 'cdk.out');
    run([path.join(app, 'out', 'app.js'), outdir], app);
    template = Template.fromJSON(
      JSON.parse(fs.readFileSync(path.join(outdir, 'ConsumerStack.template.json'), 'utf8')) as Record<string, unknown>,
    );
  }, 180_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('packs only what a user needs: compiled code, declarations, the function bundles, README, CHANGELOG and LICENSE', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of files)
      expect(f).toMatch(
        /^(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist\/(lib|config|common)\/[\w-]+\.(js|d\.ts)|dist\/config\/schema-id\.json|dist\/functions\/[\w-]+\/index\.js(\.map)?)$/,
      );
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/functions/vending/index.js',
        'dist/functions/authorizer/index.js',
        'dist/functions/api-gateway-account/index.js',
        // The schema id of the sources the package was built from (config/schema-id.ts): it ships no sources.
        'dist/config/schema-id.json',
        'CHANGELOG.md',
      ]),
    );
    expect(files.filter((f) => /test|fixture|bench|demo|dev\//.test(f))).toEqual([]);
  });

  it('declares aws-cdk-lib and constructs as peers and needs only zod at synth', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      private?: boolean;
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      exports: Record<string, unknown>;
    };
    expect(manifest.private).toBeUndefined();
    expect(Object.keys(manifest.dependencies)).toEqual(['zod']);
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(manifest.exports['.']).toEqual({ types: './dist/lib/index.d.ts', default: './dist/lib/index.js' });
  });

  it("stages every function's code from the package's own bundles, with the policy next to the TVM functions", () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const byId = (part: string) => Object.entries(fns).find(([id]) => id.includes(part))?.[1];
    const assetDir = (fn: unknown) =>
      path.join(
        outdir,
        `asset.${(fn as { Properties: { Code: { S3Key: string } } }).Properties.Code.S3Key.replace(/\.zip$/, '')}`,
      );
    for (const [part, name, policy] of [
      ['TokensVendingFunction', 'vending', true],
      ['ApiGatewayAccountRoleHandler', 'api-gateway-account', false],
    ] as const) {
      const dir = assetDir(byId(part));
      expect(fs.readFileSync(path.join(dir, 'index.js'))).toEqual(
        fs.readFileSync(path.join(installed, 'dist', 'functions', name, 'index.js')),
      );
      expect(fs.existsSync(path.join(dir, 'tvm-config.json'))).toBe(policy);
    }
    const policy = JSON.parse(
      fs.readFileSync(path.join(assetDir(byId('TokensVendingFunction')), 'tvm-config.json'), 'utf8'),
    ) as { momento: { secret: unknown }; auth: { mode: string } };
    expect(policy.momento.secret).toEqual({ arn: SECRET_ARN });
    expect(policy.auth.mode).toBe('cognito');
    // Sealed by the installed package with the schema id its vending bundle was built with (no sources to hash).
    const vendingDir = assetDir(byId('TokensVendingFunction'));
    const seal = JSON.parse(fs.readFileSync(path.join(vendingDir, 'tvm-config.seal.json'), 'utf8')) as {
      schema: string;
    };
    expect(seal.schema).toMatch(/^[0-9a-f]{16}$/);
    expect(fs.readFileSync(path.join(vendingDir, 'index.js'), 'utf8')).toContain(`"${seal.schema}"`);
    // The package could not have bundled anything: from where it is installed there is no esbuild and no source.
    expect(() => require.resolve('esbuild', { paths: [installed] })).toThrow();
    expect(fs.existsSync(path.join(installed, 'lambda'))).toBe(false);
  });

  it('reads the existing secret by its ARN, and only it', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'ReadMomentoApiKey', Action: 'secretsmanager:GetSecretValue', Resource: SECRET_ARN }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Environment: { Variables: Match.objectLike({ TVM_SECRET_ID: SECRET_ARN }) },
    });
  });

  it("puts the consumer's own user pool in the authorizer and its app client in the function", () => {
    const pools = Object.keys(template.findResources('AWS::Cognito::UserPool'));
    expect(pools).toHaveLength(1);
    expect(pools[0]).toMatch(/^CustomerPool/);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      ProviderARNs: [{ 'Fn::GetAtt': [pools[0], 'Arn'] }],
    });
    const [client] = Object.keys(template.findResources('AWS::Cognito::UserPoolClient'));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TVM_USER_POOL_CLIENT_IDS: { Ref: client } }) },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});
