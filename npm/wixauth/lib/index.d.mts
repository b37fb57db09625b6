// ESM types: the same declarations as the CommonJS entry (index.mjs re-exports index.cjs).
export { WixauthStrategy, WixauthError, version } from './index.cjs';
export type {
  WixauthStrategyOptions,
  GetTokenOptions,
  WixauthToken,
  WixauthAuthStrategy,
  WixauthErrorCode,
} from './index.cjs';
