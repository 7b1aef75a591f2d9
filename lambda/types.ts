/**
 * Shared shapes between the vending steps: who is asking (Principal), what they get (Grant), and the port to
 * Momento (Minter). Pure types; nothing here touches AWS, Momento or `process.env`.
 */
import type { TokenPermission, TokenResponse } from '../client/src/contract';

/** A caller as API Gateway verified it (or the anonymous caller of open mode). */
export interface Principal {
  /** Verified subject (Cognito `sub`, the JWT `sub`, an API key id); undefined when anonymous. */
  readonly id: string | undefined;
  /** Verified groups, normalized to a de-duplicated array. */
  readonly groups: readonly string[];
  /** Verified claims as strings (only what the authorizer passed); used by `{claims.x}` templates. */
  readonly claims: Readonly<Record<string, string>>;
  /** How the identity was established. */
  readonly source: 'anonymous' | 'cognito' | 'authorizer';
  /**
   * Authorizer mode: when the credential was issued (epoch seconds), as the authorizer forwarded it (`auth_time`
   * where the issuer sends it, else `iat`). @default undefined (Cognito mode reads its claims; an API key has none)
   */
  readonly issuedAt?: number;
}

/**
 * One permission statement as minted: templates resolved, no wildcards other than "all". The wire contract's
 * {@link TokenPermission} (client/src/contract.ts), so what the policy grants is exactly what the client reads.
 */
export type Grant = TokenPermission;

/** The success body of `GET /token`: the wire contract's {@link TokenResponse} (client/src/contract.ts). */
export type TokenBody = TokenResponse;

/** What to ask Momento for. */
export interface MintRequest {
  readonly grants: readonly Grant[];
  readonly ttlSeconds: number;
  /** Bound into the token; from verified identity only. */
  readonly tokenId?: string;
}

/** What Momento gave back. */
export interface MintedToken {
  /** base64(JSON {endpoint, api_key}), what `CredentialProvider.fromDisposableToken` consumes. */
  readonly authToken: string;
  /** Momento endpoint the token is for (e.g. cell-4-us-west-2-1.prod.a.momentohq.com). */
  readonly endpoint: string;
  /** Epoch seconds after which Momento refuses the token. */
  readonly expiresAt: number;
}

/** The port to Momento. Throws `MomentoError` / `MisconfiguredError` (lambda/errors.ts). */
export interface Minter {
  mint(request: MintRequest): Promise<MintedToken>;
  /**
   * Starts what the next `mint()` will wait for (reading the key, opening the connection) without waiting for
   * it, so that I/O overlaps the checks the handler does first (the revocation lookup). Never throws; a failure
   * shows up again, with its status, in `mint()`. A no-op when the key is cached and the connection is open.
   */
  prepare?(): void;
}

/**
 * Where the minter gets the TVM's own Momento API key. Implementations cache the key per container; the minter
 * calls `invalidate()` when Momento rejects the key, then `getKey()` once more, so a rotated secret is picked up
 * without a cold start. Throws `MisconfiguredError` (lambda/errors.ts) when the key cannot be read.
 */
export interface KeySource {
  getKey(): Promise<string>;
  invalidate(): void;
}
