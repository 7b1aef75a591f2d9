/**
 * The CORS rules of `GET /token`, in one place: the construct's preflight mock (lib/api.ts) and gateway responses
 * (lib/gateway-responses.ts), the vending function's answers and the dev server's preflight (lambda/http.ts) all
 * read them, so a browser sees the same headers whichever answers. Origins come from the policy
 * (`cors.allowOrigins`).
 */

/** The CORS values every answer and preflight uses. */
export const CORS = {
  /** Methods a preflight allows. */
  allowMethods: ['GET', 'OPTIONS'],
  /** Headers a browser may send on `GET /token`. */
  allowHeaders: ['Authorization', 'Content-Type'],
  /** Headers a page may read from a TVM answer. */
  exposeHeaders: ['Retry-After'],
  /** How long a browser may reuse a preflight answer: one hour. */
  maxAgeSeconds: 3600,
} as const;
