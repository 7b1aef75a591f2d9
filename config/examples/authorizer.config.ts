/** Lambda-authorizer mode: bearer JWTs from any OIDC issuer (here an Auth0 tenant). */
import { defineConfig } from '../schema';

export default defineConfig({
  auth: {
    mode: 'authorizer',
    issuer: 'https://example.eu.auth0.com/',
    audience: ['https://tvm.example.com'],
    groupsClaim: 'https://example.com/roles',
  },
  tiers: [
    {
      name: 'admin',
      groups: ['admin'],
      permissions: [
        { type: 'cache', cache: '*', role: 'readwrite' },
        { type: 'topic', cache: '*', role: 'publishsubscribe' },
      ],
    },
    {
      name: 'member',
      groups: ['member'],
      permissions: [{ type: 'topic', cache: 'app', role: 'publishsubscribe', topicPrefix: 'chat-' }],
    },
    { name: 'reader', groups: ['reader'], permissions: [{ type: 'topic', cache: 'app', role: 'subscribeonly' }] },
  ],
  cors: { allowOrigins: ['https://app.example.com'] },
  momento: { endpoint: 'cell-4-us-west-2-1.prod.a.momentohq.com', secret: { create: true } },
});
