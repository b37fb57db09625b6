'use strict';
// WixauthStrategy through its CommonJS entry, against stand-in binaries (sh scripts) that answer
// the way a broken, old, slow or hostile wixauth would. Run by tests/it/npm_sdk.rs.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { WixauthStrategy, WixauthError, version } = require('wixauth');

const SECRETISH = 'OauthNG.JWS.never-shown-4c0ffee';

// A stand-in `wixauth`: `--version` answers `wixauth <version>`; any other run appends its argv
// to ./args (one run a line) and then runs `body`.
function fake(body, { says = `wixauth ${version}` } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wixauth-fake-'));
  const bin = path.join(dir, 'wixauth');
  fs.writeFileSync(
    bin,
    `#!/bin/sh\nif [ "$1" = --version ]; then echo '${says}'; exit 0; fi\necho "$*" >> '${dir}/args'\n${body}\n`,
    { mode: 0o755 }
  );
  const runs = () => (fs.existsSync(`${dir}/args`) ? fs.readFileSync(`${dir}/args`, 'utf8').trim().split('\n') : []);
  return { bin, dir, runs };
}

const answer = (fields) => `echo '${JSON.stringify({ token_type: 'Bearer', app_id: 'app', instance_id: 'inst', flow: 'basic', ...fields })}'`;
const inAnHour = () => new Date(Date.now() + 3600e3).toISOString();

async function rejection(promise) {
  return promise.then(
    () => assert.fail('resolved'),
    (e) => e
  );
}

// Nothing a failure carries may quote the answer (it can hold a token).
function assertNoToken(err) {
  for (const text of [err.message, err.stack, err.stderr, JSON.stringify(err), require('node:util').inspect(err)]) {
    assert.ok(!String(text).includes('never-shown'), `the token leaked: ${text}`);
  }
}

test('CommonJS and ESM entries export the same API and error class', async () => {
  const esm = await import('wixauth');
  assert.equal(esm.WixauthError, WixauthError);
  assert.equal(esm.WixauthStrategy, WixauthStrategy);
  assert.equal(version, require('wixauth/package.json').version);
  assert.equal(typeof WixauthStrategy().getAuthHeaders, 'function');
});

test('bad options are a TypeError at once', () => {
  for (const options of [{ minTTL: 60 }, { minTtl: -1 }, { minTtl: 1.5 }, { minTtl: 86401 }, { minTtl: '60' }, { profile: '' }, { instance: 7 }, { bin: 'a\nb' }, { timeoutMs: 0 }, 'default']) {
    assert.throws(() => WixauthStrategy(options), TypeError, JSON.stringify(options));
  }
});

test('argv: --flag=value words, --min-ttl, --no-cache for forceRefresh', async () => {
  const f = fake(answer({ access_token: 'tok-1', expires_at: inAnHour() }));
  const s = WixauthStrategy({ bin: f.bin, profile: '-p', instance: 'inst-1', flow: 'member', minTtl: 30 });
  await s.getAuthHeaders();
  await s.getToken({ minTtl: 5, forceRefresh: true });
  assert.deepEqual(f.runs(), [
    'token --json --min-ttl=30 --profile=-p --instance=inst-1 --flow=member',
    'token --json --min-ttl=5 --profile=-p --instance=inst-1 --flow=member --no-cache',
  ]);
});

test('parallel calls share one start, and the warm path starts nothing', async () => {
  const f = fake(`sleep 0.3\n${answer({ access_token: 'tok-2', expires_at: inAnHour() })}`);
  const s = WixauthStrategy({ bin: f.bin });
  const all = await Promise.all(Array.from({ length: 50 }, () => s.getAuthHeaders()));
  assert.ok(all.every((h) => h.headers.Authorization === 'tok-2'));
  for (let i = 0; i < 100; i++) {
    await s.getAuthHeaders();
  }
  assert.equal(f.runs().length, 1);
  // Each call gets its own headers object: a caller that edits it changes no one else's.
  const h = await s.getAuthHeaders();
  h.headers.Authorization = 'edited';
  assert.equal((await s.getAuthHeaders()).headers.Authorization, 'tok-2');
});

test('an API-key answer: site and account headers, never expires', async () => {
  const f = fake(answer({ access_token: 'IST.key', token_type: 'ApiKey', expires_at: null, expires_in: null, site_id: 'site-1', account_id: 'acc-1' }));
  const s = WixauthStrategy({ bin: f.bin, minTtl: 86400 });
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(await s.getAuthHeaders(), { headers: { Authorization: 'IST.key', 'wix-site-id': 'site-1', 'wix-account-id': 'acc-1' } });
  }
  const t = await s.getToken();
  assert.equal(t.expiresAt, null);
  assert.equal(t.siteId, 'site-1');
  assert.equal(f.runs().length, 1);
});

test('answers it cannot use: BAD_OUTPUT, never the answer itself', async () => {
  for (const body of [
    `echo 'not json ${SECRETISH}'`,
    `echo '{"access_token": "${SECRETISH}"'`,
    answer({ access_token: SECRETISH, expires_at: 'tomorrow' }),
    answer({ access_token: SECRETISH }),
    answer({ access_token: `${SECRETISH} x`, expires_at: null }),
    answer({ access_token: 5, expires_at: null }),
    `echo '[]'`,
    `echo ''`,
    answer({ access_token: SECRETISH, expires_at: null, site_id: 'a b' }),
    'head -c 2000000 /dev/zero',
  ]) {
    const err = await rejection(WixauthStrategy({ bin: fake(body).bin }).getAuthHeaders());
    assert.ok(err instanceof WixauthError, body);
    assert.equal(err.code, 'BAD_OUTPUT', `${body}: ${err.message}`);
    assert.equal(err.exitCode, 1);
    assertNoToken(err);
  }
});

test('a wixauth that hangs is stopped after timeoutMs', async () => {
  const started = Date.now();
  const err = await rejection(WixauthStrategy({ bin: fake('exec sleep 30').bin, timeoutMs: 300 }).getAuthHeaders());
  assert.equal(err.code, 'TIMEOUT');
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test('wixauth failing: its exit code, its error line, the request id; not cached', async () => {
  const f = fake(`if [ -e "$(dirname "$0")/ok" ]; then ${answer({ access_token: 'tok-3', expires_at: inAnHour() })}; exit 0; fi
touch "$(dirname "$0")/ok"
echo 'wixauth: warning: the keyring did not answer' >&2
echo 'wixauth: error: creating an access token: Wix failed (HTTP 503, request id 1a2b-3c): try again later' >&2
exit 4`);
  const s = WixauthStrategy({ bin: f.bin });
  const err = await rejection(s.getAuthHeaders());
  assert.equal(err.exitCode, 4);
  assert.equal(err.code, 'WIXAUTH_EXIT');
  assert.equal(err.message, 'creating an access token: Wix failed (HTTP 503, request id 1a2b-3c): try again later');
  assert.equal(err.requestId, '1a2b-3c');
  assert.match(err.stderr, /keyring did not answer/);
  // The failure was not remembered: the next call starts wixauth again, and now it works.
  assert.equal((await s.getAuthHeaders()).headers.Authorization, 'tok-3');
});

test('killed by a signal: exit code 128 + n', async () => {
  const err = await rejection(WixauthStrategy({ bin: fake('kill -TERM $$').bin }).getAuthHeaders());
  assert.equal(err.code, 'SIGNAL');
  assert.equal(err.exitCode, 128 + os.constants.signals.SIGTERM);
});

test('a bin older than this package, or not wixauth at all: VERSION_MISMATCH, one line', async () => {
  for (const says of ['wixauth 0.0.1', 'something else 1.0.0']) {
    const f = fake(answer({ access_token: 'tok-4', expires_at: inAnHour() }), { says });
    const err = await rejection(WixauthStrategy({ bin: f.bin }).getAuthHeaders());
    assert.equal(err.code, 'VERSION_MISMATCH', says);
    assert.ok(!err.message.includes('\n'), err.message);
    assert.match(err.message, new RegExp(version.replace(/\./g, '\\.')));
    assert.deepEqual(f.runs(), [], 'no token run after a failed version check');
  }
  const newer = fake(answer({ access_token: 'tok-5', expires_at: inAnHour() }), { says: 'wixauth 99.0.0' });
  assert.equal((await WixauthStrategy({ bin: newer.bin }).getAuthHeaders()).headers.Authorization, 'tok-5');
});

test('a bin that does not exist: SPAWN_FAILED', async () => {
  const err = await rejection(WixauthStrategy({ bin: path.join(os.tmpdir(), 'no-such-wixauth') }).getAuthHeaders());
  assert.equal(err.code, 'SPAWN_FAILED');
});

test("wixauth's warnings on a success reach stderr; the token never does", async () => {
  const f = fake(`echo 'wixauth: warning: using the file store' >&2\n${answer({ access_token: SECRETISH, expires_at: inAnHour() })}`);
  const written = [];
  const write = process.stderr.write;
  process.stderr.write = (chunk, ...rest) => {
    written.push(String(chunk));
    return write.call(process.stderr, chunk, ...rest);
  };
  try {
    await WixauthStrategy({ bin: f.bin }).getAuthHeaders();
  } finally {
    process.stderr.write = write;
  }
  assert.equal(written.join(''), 'wixauth: warning: using the file store\n');
  const s = WixauthStrategy({ bin: f.bin });
  await s.getAuthHeaders();
  assert.ok(!require('node:util').inspect(s, { depth: 5 }).includes('never-shown'));
});
