'use strict';
// The JS API of the wixauth npm package (CommonJS; index.mjs re-exports it for ESM, so both
// share one WixauthError class and `instanceof` works across them).

const s = require('./strategy.cjs');

const { WixauthError } = s;

// createClient({ modules, auth: WixauthStrategy({ profile, instance, flow, minTtl, bin }) })
function WixauthStrategy(options) {
  const opts = s.checkOptions(options);
  const minTtl = opts.minTtl === undefined ? s.DEFAULT_MIN_TTL : opts.minTtl;
  const timeoutMs = opts.timeoutMs || s.DEFAULT_TIMEOUT_MS;
  const scope = [];
  for (const [flag, key] of [['--profile', 'profile'], ['--instance', 'instance'], ['--flow', 'flow']]) {
    if (opts[key] !== undefined) {
      // One argv word each (`--flag=value`): a value starting with "-" is never read as a flag.
      scope.push(`${flag}=${opts[key]}`);
    }
  }

  // The only place the token lives: this closure (never on the returned object, so logging
  // or inspecting the strategy shows no token).
  let current = null;
  const inflight = new Map();

  const fresh = (ttlSeconds) =>
    current !== null && (current.expiresAt === null || Date.now() + ttlSeconds * 1000 < current.expiresAt);

  const view = (t) => ({ accessToken: t.token, expiresAt: t.expiresAt === null ? null : new Date(t.expiresAt), ...t.info });

  const fetchToken = async (ttl, force) => {
    current = await s.fetchToken(opts.bin, [`--min-ttl=${ttl}`, ...scope, ...(force ? ['--no-cache'] : [])], timeoutMs);
    return current;
  };

  // Calls that miss at the same time share one spawn (per minTtl and force), and a failure is
  // not cached: the next call tries again.
  function obtain(ttl, force) {
    if (!force && fresh(ttl)) {
      return Promise.resolve(current);
    }
    const key = `${ttl}/${force}`;
    let pending = inflight.get(key);
    if (!pending) {
      pending = fetchToken(ttl, force).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return pending;
  }

  return {
    // The SDK's createClient calls this before every request; a token in memory answers without
    // a spawn until minTtl seconds before it expires. Never uses `this`: the SDK rebinds it.
    getAuthHeaders() {
      return obtain(minTtl, false).then((t) => ({ headers: { ...t.headers } }));
    },
    getToken(options) {
      const o = options || {};
      const ttl = o.minTtl === undefined ? minTtl : s.checkMinTtl(o.minTtl, 'getToken');
      return obtain(ttl, o.forceRefresh === true).then(view);
    },
    getActiveToken() {
      return fresh(0) ? current.token : undefined;
    },
  };
}

module.exports = { WixauthStrategy, WixauthError, version: require('../package.json').version };
