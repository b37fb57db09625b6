// ESM entry: the CommonJS implementation re-exported, so an app that mixes `import` and
// `require` still has one WixauthError class.
import api from './index.cjs';

export const { WixauthStrategy, WixauthError, version } = api;
