// Types of the wixauth npm package's JS API (CommonJS; index.d.mts re-exports them for ESM).
// The strategy is typed structurally, so it fits @wix/sdk's AuthenticationStrategy without this
// package depending on @wix/sdk.

export interface WixauthStrategyOptions {
  /** wixauth profile (`--profile`); default: WIXAUTH_PROFILE, else the active profile. */
  profile?: string;
  /** App instance (site) to act for (`--instance`); default: WIX_INSTANCE_ID, else the profile's default. */
  instance?: string;
  /** Flow override (`--flow`: basic, advanced, visitor, member, …); default: the instance's own. */
  flow?: string;
  /** Seconds a token must still be valid for when it is handed out (0–86400); default 60. */
  minTtl?: number;
  /** Path of a wixauth binary to run instead of this platform's @wixauth/* package. */
  bin?: string;
  /** Milliseconds one wixauth run may take before it is stopped; default 120000. */
  timeoutMs?: number;
}

export interface GetTokenOptions {
  /** Seconds the token must still be valid for; default: the strategy's minTtl. */
  minTtl?: number;
  /** Ask Wix for a new token even when one is cached (`token --no-cache`). */
  forceRefresh?: boolean;
}

export interface WixauthToken {
  /** The raw token, as `wixauth token` prints it (for an `Authorization` header, no `Bearer`). */
  accessToken: string;
  /** When it expires; null for a token that does not (an API key). */
  expiresAt: Date | null;
  tokenType: string | null;
  appId: string | null;
  instanceId: string | null;
  flow: string | null;
  /** Set for API-key profiles: sent as `wix-site-id`. */
  siteId: string | null;
  /** Set for API-key profiles: sent as `wix-account-id`. */
  accountId: string | null;
}

export interface WixauthAuthStrategy {
  /** `{ headers: { Authorization } }` (plus `wix-site-id` / `wix-account-id` for API keys). */
  getAuthHeaders(host?: unknown): Promise<{ headers: Record<string, string> }>;
  /** The token in memory while it has not expired, else undefined (no spawn). */
  getActiveToken(): string | undefined;
  getToken(options?: GetTokenOptions): Promise<WixauthToken>;
}

/** An AuthenticationStrategy for @wix/sdk's createClient({ auth }). */
export declare function WixauthStrategy(options?: WixauthStrategyOptions): WixauthAuthStrategy;

export type WixauthErrorCode =
  | 'WIXAUTH_EXIT'
  | 'NO_BINARY'
  | 'VERSION_MISMATCH'
  | 'SPAWN_FAILED'
  | 'TIMEOUT'
  | 'SIGNAL'
  | 'BAD_OUTPUT';

export declare class WixauthError extends Error {
  readonly name: 'WixauthError';
  /** wixauth's exit code; 1 when it could not run or answered unusably; 128+n for a signal. */
  exitCode: number;
  code: WixauthErrorCode;
  /** Wix's request id when wixauth's error line names one. */
  requestId: string | null;
  /** wixauth's stderr. */
  stderr: string;
}

/** This package's version (the same as the binary's). */
export declare const version: string;
