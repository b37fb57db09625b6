// The CommonJS types: require('wixauth') has the same API.
import wixauth = require('wixauth');
import type { AuthenticationStrategy } from '@wix/sdk';

const auth: AuthenticationStrategy = wixauth.WixauthStrategy({ minTtl: 0 });
const headers: Promise<{ headers: Record<string, string> }> = wixauth.WixauthStrategy().getAuthHeaders();
const version: string = wixauth.version;
export = { auth, headers, version, isError: (e: unknown) => e instanceof wixauth.WixauthError };
