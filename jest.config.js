/** Jest projects: `npm test` runs all of them; `--selectProjects unit|integration|infra|e2e` runs one. */
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
// Every worker tees what the code logs into .test-logs/; after the run, global-teardown scans it for secrets.
const common = {
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  // client/ is an ES module package whose sources import './x.js' (what Node and its .d.ts need); the file is x.ts.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/test/support/log-capture.ts'],
};

module.exports = {
  transform,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // Points grpc-js at the fake Momento's test CA; must run before anything requires grpc-js.
      setupFiles: ['<rootDir>/test/integration/setup-env.ts', ...common.setupFiles],
    },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    // Headless Chromium against the dev server: a test waits on real timers (refresh), a browser launch can be slow.
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'], testTimeout: 30_000 },
  ],
};
