'use strict';
// WixauthStrategy: an AuthenticationStrategy for @wix/sdk whose tokens come from
// `wixauth token --json`. wixauth keeps the secrets (keyring, or the CI environment it is given)
// and its own file cache; this process only ever holds access tokens, in memory.

const { spawn } = require('child_process');
const { findBinary, mainVersion } = require('./platform.cjs');

// wixauth gives up on Wix within about a minute (15 s per attempt, two retries, backoff), and a
// parallel call waits on its lock for at most as long: past this the child is killed.
const DEFAULT_TIMEOUT_MS = 120000;
const DEFAULT_MIN_TTL = 60;
// `token --min-ttl` refuses more than a day (no Wix token lives longer).
const MAX_MIN_TTL = 86400;
// A token answer is a few hundred bytes: anything this large is not wixauth talking.
const MAX_OUTPUT = 1 << 20;
const OPTIONS = ['profile', 'instance', 'flow', 'minTtl', 'bin', 'timeoutMs'];

class WixauthError extends Error {
  constructor(message, { exitCode = 1, code = 'WIXAUTH_FAILED', requestId = null, stderr = '' } = {}) {
    super(message);
    this.name = 'WixauthError';
    // wixauth's exit code (2 usage/not logged in, 3 rejected by Wix, 4 Wix or network down…);
    // 1 when wixauth could not be run or its answer was unusable, 128+n when a signal killed it.
    this.exitCode = exitCode;
    // Which kind of failure, for code: WIXAUTH_EXIT, NO_BINARY, VERSION_MISMATCH, SPAWN_FAILED,
    // TIMEOUT, SIGNAL, BAD_OUTPUT.
    this.code = code;
    // Wix's x-wix-request-id when wixauth's error line names one (what Wix support asks for).
    this.requestId = requestId;
    // All of wixauth's stderr (it never prints a secret or a token there).
    this.stderr = stderr;
  }
}

function checkMinTtl(value, where) {
  if (!Number.isInteger(value) || value < 0 || value > MAX_MIN_TTL) {
    throw new TypeError(`${where}: minTtl must be a whole number of seconds from 0 to ${MAX_MIN_TTL}`);
  }
  return value;
}

function checkOptions(options) {
  if (options === undefined || options === null) {
    return {};
  }
  if (typeof options !== 'object') {
    throw new TypeError('WixauthStrategy(options): options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.includes(key)) {
      throw new TypeError(`WixauthStrategy: unknown option ${key} (known: ${OPTIONS.join(', ')})`);
    }
  }
  for (const key of ['profile', 'instance', 'flow', 'bin']) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value === '' || /[\0\r\n]/.test(value))) {
      throw new TypeError(`WixauthStrategy: ${key} must be a non-empty one-line string`);
    }
  }
  if (options.minTtl !== undefined) {
    checkMinTtl(options.minTtl, 'WixauthStrategy');
  }
  const t = options.timeoutMs;
  if (t !== undefined && !(typeof t === 'number' && t > 0 && Number.isFinite(t))) {
    throw new TypeError('WixauthStrategy: timeoutMs must be a positive number of milliseconds');
  }
  return options;
}

// Runs the binary with argv only (the environment is this process's, unchanged) and collects
// its output; settles once, at the latest timeoutMs after the start.
function run(bin, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn, value) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        fn(value);
      }
    };
    let child;
    try {
      child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (err) {
      reject(new WixauthError(`cannot run ${bin}: ${err.message}`, { code: 'SPAWN_FAILED' }));
      return;
    }
    const kill = () => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    };
    const timer = setTimeout(() => {
      kill();
      settle(reject, new WixauthError(`${bin} ${args[0]} did not finish within ${timeoutMs} ms: it was stopped`, { code: 'TIMEOUT' }));
    }, timeoutMs);
    const out = [];
    const err = [];
    let size = 0;
    child.stdout.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) {
        kill();
        settle(reject, new WixauthError(`${bin} ${args[0]} printed more than ${MAX_OUTPUT} bytes: not a wixauth answer`, { code: 'BAD_OUTPUT' }));
      } else {
        out.push(chunk);
      }
    });
    child.stderr.on('data', (chunk) => {
      if (err.length < 256) {
        err.push(chunk);
      }
    });
    child.on('error', (e) => {
      settle(reject, new WixauthError(`cannot run ${bin} (${e.code || e.message}): pass the path of a wixauth binary as bin`, { code: 'SPAWN_FAILED' }));
    });
    child.on('close', (status, signal) => {
      settle(resolve, { status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

// The WixauthError for a run that did not exit 0: wixauth's own error line as the message.
function failure(result) {
  const { status, signal, stderr } = result;
  if (signal) {
    const n = require('os').constants.signals[signal] || 0;
    return new WixauthError(`wixauth was killed by ${signal}`, { exitCode: 128 + n, code: 'SIGNAL', stderr });
  }
  const lines = stderr.split(/\r?\n/).filter((l) => l.trim() !== '');
  const errorLine = lines.filter((l) => l.startsWith('wixauth: error: ')).pop();
  const message = errorLine
    ? errorLine.slice('wixauth: error: '.length)
    : lines.pop() || `wixauth exited with code ${status} and printed no error`;
  const id = /request id ([^\s,;:)]+)/.exec(message);
  return new WixauthError(message, { exitCode: status, code: 'WIXAUTH_EXIT', requestId: id ? id[1] : null, stderr });
}

// The token from `token --json`'s answer, or a WixauthError that never quotes the answer (it may
// hold a token).
function parseToken(stdout, stderr) {
  const bad = (why) =>
    new WixauthError(`wixauth token --json gave an answer the strategy cannot use (${why}): is bin a wixauth ${mainVersion()} binary?`, { code: 'BAD_OUTPUT', stderr });
  let value;
  try {
    value = JSON.parse(stdout);
  } catch {
    return bad(`not JSON, ${Buffer.byteLength(stdout)} bytes`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return bad('not a JSON object');
  }
  const token = value.access_token;
  // Printable ASCII only: the token goes into a header line as it is.
  if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) {
    return bad('no usable access_token');
  }
  let expiresAt = null;
  if (value.expires_at !== null) {
    const ms = typeof value.expires_at === 'string' ? Date.parse(value.expires_at) : NaN;
    if (!Number.isFinite(ms)) {
      return bad('expires_at is neither an RFC 3339 time nor null');
    }
    expiresAt = ms;
  }
  const text = (key) => {
    const v = value[key];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  for (const key of ['site_id', 'account_id']) {
    if (value[key] != null && !/^[\x21-\x7e]+$/.test(String(value[key]))) {
      return bad(`${key} is not a printable id`);
    }
  }
  const headers = { Authorization: token };
  if (text('site_id')) {
    headers['wix-site-id'] = text('site_id');
  }
  if (text('account_id')) {
    headers['wix-account-id'] = text('account_id');
  }
  return {
    token,
    expiresAt,
    headers,
    info: {
      tokenType: text('token_type'),
      appId: text('app_id'),
      instanceId: text('instance_id'),
      flow: text('flow'),
      siteId: text('site_id'),
      accountId: text('account_id'),
    },
  };
}

// "1.2.3" → [1, 2, 3]; anything else → null.
function versionParts(v) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? m.slice(1).map(Number) : null;
}

// A `bin` the user chose is asked its version once per process: one older than this package may
// not print what the strategy reads. The platform package's binary needs no spawn for that
// (findBinary compares the package versions).
const versionChecks = new Map();
function checkBinVersion(bin, timeoutMs) {
  if (!versionChecks.has(bin)) {
    const check = run(bin, ['--version'], timeoutMs).then((r) => {
      const want = mainVersion();
      const m = /^wixauth (\S+)/.exec(r.stdout);
      const got = m && versionParts(m[1]);
      if (r.status !== 0 || !got) {
        throw new WixauthError(`${bin} does not answer --version like wixauth does: pass the path of a wixauth ${want} binary as bin`, { code: 'VERSION_MISMATCH' });
      }
      const need = versionParts(want);
      const older = got.findIndex((n, i) => n !== need[i]);
      if (older !== -1 && got[older] < need[older]) {
        throw new WixauthError(`${bin} is wixauth ${m[1]}, older than this npm package (${want}): install wixauth ${want} or newer, or leave bin unset`, { code: 'VERSION_MISMATCH' });
      }
    });
    // A failed check is not remembered: a fixed install is picked up by the next call.
    check.catch(() => versionChecks.delete(bin));
    versionChecks.set(bin, check);
  }
  return versionChecks.get(bin);
}

// One `wixauth token --json EXTRA…` run: the parsed token, or a WixauthError. `bin` undefined
// means this platform's package binary.
async function fetchToken(bin, extra, timeoutMs) {
  if (bin === undefined) {
    try {
      bin = findBinary().path;
    } catch (err) {
      throw new WixauthError(err.message, { code: 'NO_BINARY' });
    }
  } else {
    await checkBinVersion(bin, timeoutMs);
  }
  const result = await run(bin, ['token', '--json', ...extra], timeoutMs);
  if (result.status !== 0 || result.signal) {
    throw failure(result);
  }
  const parsed = parseToken(result.stdout, result.stderr);
  if (parsed instanceof WixauthError) {
    throw parsed;
  }
  // wixauth's warnings (a secret store fallback, say) are for the person running this.
  if (result.stderr) {
    process.stderr.write(result.stderr);
  }
  return parsed;
}

module.exports = {
  WixauthError,
  DEFAULT_MIN_TTL,
  DEFAULT_TIMEOUT_MS,
  checkMinTtl,
  checkOptions,
  fetchToken,
};
