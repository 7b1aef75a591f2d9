/** Open mode: anyone who can reach the URL gets the anonymous tier. Read README.md → Open mode first. */
import { defineConfig } from '../schema';

export default defineConfig({
  auth: { mode: 'open', allowUnauthenticated: true, anonymousTier: 'public' },
  tiers: [
    {
      name: 'public',
      permissions: [
        { type: 'topic', cache: 'demo', role: 'subscribeonly', topicPrefix: 'news-' },
        { type: 'cache', cache: 'demo', role: 'readonly', keyPrefix: 'public/' },
      ],
      maxTtlSeconds: 900,
    },
  ],
  token: { defaultTtlSeconds: 900, maxTtlSeconds: 900 },
  cors: { allowOrigins: ['http://localhost:5173', 'http://localhost:8080'] },
  throttling: { rateLimit: 5, burstLimit: 10 },
  momento: { endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com', secret: { create: true } },
});
