// The ESM types: WixauthStrategy is what @wix/sdk's createClient takes as `auth`.
import { createClient, type AuthenticationStrategy } from '@wix/sdk';
import { appInstances } from '@wix/app-management';
import { WixauthStrategy, WixauthError, type WixauthToken } from 'wixauth';

const auth = WixauthStrategy({ profile: 'ci', instance: 'inst-1', flow: 'basic', minTtl: 120 });
const asSdkSees: AuthenticationStrategy = auth;
const client = createClient({ modules: { appInstances }, auth });

export async function siteOf(): Promise<string | undefined> {
  const token: WixauthToken = await auth.getToken({ forceRefresh: true });
  const expires: Date | null = token.expiresAt;
  try {
    const answer = await client.appInstances.getAppInstance();
    return answer.site?.siteDisplayName ?? String(expires);
  } catch (e) {
    if (e instanceof WixauthError) {
      const code: number = e.exitCode;
      const id: string | null = e.requestId;
      return `${e.name} ${code} ${id} ${e.message}`;
    }
    throw e;
  }
}

// @ts-expect-error: an unknown option is refused by the types as well as at run time
WixauthStrategy({ minTTL: 60 });
void asSdkSees;
