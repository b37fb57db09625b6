// WixauthStrategy with Wix's real SDK (@wix/sdk and modules pinned in package-lock.json) against
// the emulator. Run by tests/it/npm_sdk.rs; see support.mjs for the environment it sets.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createClient } from '@wix/sdk';
import { appInstances } from '@wix/app-management';
import { redirects } from '@wix/redirects';
import { WixauthStrategy, WixauthError } from 'wixauth';
import { setup, recordSpawns, tokenSpawns, spawns, emulatorFetch, emulatorCount, clearTokenCache } from './support.mjs';

let real;
before(() => {
  ({ real } = recordSpawns());
});

const appClient = (auth, seen) => createClient({ modules: { appInstances }, auth, fetch: emulatorFetch(seen) });

test('a module call goes out with the raw token wixauth prints', async () => {
  const seen = [];
  const wix = appClient(WixauthStrategy(), seen);
  const answer = await wix.appInstances.getAppInstance();
  assert.equal(answer.instance.instanceId, setup.instance);
  const printed = execFileSync(real, ['token'], { encoding: 'utf8' }).trim();
  assert.deepEqual(
    seen.map((s) => [s.path, s.headers.authorization]),
    [['/apps/v1/instance', printed]]
  );
  assert.ok(!printed.startsWith('Bearer'), printed);
});

test('100 concurrent SDK calls on a cold cache: one wixauth start, one token request', async () => {
  clearTokenCache();
  const [tokensBefore, callsBefore, startsBefore] = [await emulatorCount('/oauth2/token'), await emulatorCount('/apps/v1/instance'), spawns().length];
  const seen = [];
  const wix = appClient(WixauthStrategy(), seen);
  const answers = await Promise.all(Array.from({ length: 100 }, () => wix.appInstances.getAppInstance()));
  assert.equal(answers.length, 100);
  assert.ok(answers.every((a) => a.instance.instanceId === setup.instance));
  assert.equal(spawns().length - startsBefore, 1, 'wixauth starts');
  assert.equal((await emulatorCount('/oauth2/token')) - tokensBefore, 1, 'token requests to Wix');
  assert.equal((await emulatorCount('/apps/v1/instance')) - callsBefore, 100, 'module calls');
  assert.equal(new Set(seen.map((s) => s.headers.authorization)).size, 1, 'one token for all');
  // Warm: more calls, no more starts.
  await Promise.all(Array.from({ length: 20 }, () => wix.appInstances.getAppInstance()));
  assert.equal(spawns().length - startsBefore, 1);
});

test('wixauth gets argv only, and exactly this process environment', async () => {
  const strategy = WixauthStrategy({ instance: setup.instance, minTtl: 120 });
  await strategy.getAuthHeaders();
  const last = tokenSpawns().pop();
  assert.deepEqual(last.args, ['token', '--json', '--min-ttl=120', `--instance=${setup.instance}`]);
  const mine = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined));
  assert.deepEqual(last.env, mine, 'the child environment gained or lost something');
});

test('an expiring token is renewed before it runs out', async () => {
  // Client-credentials tokens live 14400 s: with minTtl 14399 the one in memory is "expiring"
  // after a second, so the next call must start wixauth, which must mint a new one.
  const seen = [];
  const wix = appClient(WixauthStrategy({ minTtl: 14399 }), seen);
  const tokensBefore = await emulatorCount('/oauth2/token');
  await wix.appInstances.getAppInstance();
  await new Promise((r) => setTimeout(r, 2100));
  await wix.appInstances.getAppInstance();
  const [first, second] = seen.map((s) => s.headers.authorization);
  assert.notEqual(first, second, 'the second call reused the expiring token');
  assert.ok((await emulatorCount('/oauth2/token')) - tokensBefore >= 1, 'no new token was minted');
});

test('getToken: the token with its expiry; getActiveToken without a start', async () => {
  const strategy = WixauthStrategy();
  assert.equal(strategy.getActiveToken(), undefined);
  const t = await strategy.getToken();
  assert.equal(typeof t.accessToken, 'string');
  assert.ok(t.expiresAt instanceof Date && t.expiresAt.getTime() > Date.now() + 3600e3, String(t.expiresAt));
  assert.equal(t.instanceId, setup.instance);
  assert.equal(t.flow, 'basic');
  const starts = spawns().length;
  assert.equal(strategy.getActiveToken(), t.accessToken);
  assert.equal((await strategy.getToken()).accessToken, t.accessToken);
  assert.equal(spawns().length, starts);
  // forceRefresh: a new token from Wix (`--no-cache`).
  const forced = await strategy.getToken({ forceRefresh: true });
  assert.notEqual(forced.accessToken, t.accessToken);
  assert.ok(tokenSpawns().pop().args.includes('--no-cache'));
});

test('a logged-out profile rejects with exit code 2, through the SDK too', async () => {
  execFileSync(real, ['logout', `--profile=${setup.profiles.gone}`, '--all'], { stdio: 'ignore' });
  const strategy = WixauthStrategy({ profile: setup.profiles.gone });
  const err = await strategy.getAuthHeaders().then(
    () => assert.fail('resolved'),
    (e) => e
  );
  assert.ok(err instanceof WixauthError && err instanceof Error);
  assert.equal(err.name, 'WixauthError');
  assert.equal(err.exitCode, 2);
  assert.equal(err.code, 'WIXAUTH_EXIT');
  // The next step is a command that works when pasted: it names the profile.
  assert.ok(err.message.includes(`run \`wixauth --profile ${setup.profiles.gone} login\``), err.message);
  assert.doesNotMatch(err.message, /^wixauth: error:/);
  await assert.rejects(appClient(strategy).appInstances.getAppInstance(), (e) => e instanceof WixauthError && e.exitCode === 2);
});

test('credentials Wix rejects: exit code 3 and the request id', async () => {
  const strategy = WixauthStrategy({ profile: setup.profiles.rejected });
  const err = await strategy.getToken({ forceRefresh: true }).then(
    () => assert.fail('resolved'),
    (e) => e
  );
  assert.equal(err.exitCode, 3, err.message);
  assert.equal(err.requestId, 'emulator');
  assert.match(err.message, /request id emulator/);
});

test('a visitor profile: a visitor-only call goes out with the visitor token', async () => {
  const seen = [];
  const wix = createClient({ modules: { redirects }, auth: WixauthStrategy({ profile: setup.profiles.visitor }), fetch: emulatorFetch(seen) });
  const answer = await wix.redirects.createRedirectSession({
    auth: {
      authRequest: {
        clientId: setup.clientId,
        codeChallenge: 'x'.repeat(43),
        codeChallengeMethod: 'S256',
        redirectUri: 'http://localhost:8338/callback',
        responseMode: 'query',
        responseType: 'code',
        scope: 'offline_access',
        state: 'test-state',
      },
      prompt: 'login',
    },
  });
  assert.match(answer.redirectSession.fullUrl, /\/headless-login\?session=/);
  const visitor = execFileSync(real, ['token', `--profile=${setup.profiles.visitor}`], { encoding: 'utf8' }).trim();
  assert.equal(seen[0].headers.authorization, visitor);
});
