/**
 * The operator's configuration. Edit this file, then `npx cdk deploy`.
 * Another file: `npx cdk deploy -c config=config/examples/open.config.ts` (paths are relative to the repo).
 * Reference: docs/configuration.md.
 */
import { defineConfig } from './schema';

export default defineConfig({
  // Users sign in with Amazon Cognito; verified groups map to the tiers below.
  auth: { mode: 'cognito', mfa: 'optional' },
  tiers: [
    {
      name: 'admin',
      groups: ['admins'],
      permissions: [
        { type: 'cache', cache: 'app', role: 'readwrite' },
        { type: 'topic', cache: 'app', role: 'publishsubscribe' },
      ],
    },
    {
      name: 'member',
      groups: ['members'],
      permissions: [
        { type: 'cache', cache: 'app', role: 'readonly' },
        { type: 'cache', cache: 'app', role: 'readwrite', keyPrefix: 'user/{sub}/' },
        { type: 'topic', cache: 'app', role: 'publishsubscribe', topicPrefix: 'chat-' },
        { type: 'topic', cache: 'app', role: 'subscribeonly', topic: 'inbox-{sub}' },
      ],
    },
    {
      name: 'reader',
      groups: ['readers'],
      permissions: [{ type: 'topic', cache: 'app', role: 'subscribeonly', topicPrefix: 'chat-' }],
      maxTtlSeconds: 900,
      // One token for all readers (no {sub} in its scope): a sign-in storm of readers costs a few mints, not one each.
      shared: true,
    },
  ],
  token: { defaultTtlSeconds: 3600, maxTtlSeconds: 3600 },
  cors: { allowOrigins: ['http://localhost:5173', 'http://localhost:8080'] },
  throttling: { rateLimit: 100, burstLimit: 200 },
  momento: {
    endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com',
    secret: { create: true },
    deadlineMs: 3000,
    // The account's token-mint budget (Momento's default); raise it only after Momento raised your limit.
    mintsPerSecond: 5,
  },
});
