// Shared by the Node tests. tests/it/npm_sdk.rs copies these files into a throwaway project
// (inside npm/test, so @wix/sdk resolves from npm/test/node_modules) where the packed tarballs
// are installed, starts the Wix emulator, logs the profiles in, and runs `node --test` with:
//   WIXAUTH_API_BASE, WIXAUTH_CONFIG_DIR, WIXAUTH_SECRET_STORE=file  (for wixauth itself)
//   WIXAUTH_TEST_SETUP   JSON: { instance, profiles: { gone, rejected, visitor }, clientId }
//   WIXAUTH_TEST_SPAWNS  a folder where every wixauth start leaves its argv and environment
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);

export const setup = JSON.parse(process.env.WIXAUTH_TEST_SETUP || '{}');
const base = new URL(process.env.WIXAUTH_API_BASE || 'http://127.0.0.1:1');

// The platform package's binary, as the shim and the strategy find it.
export function platformBin() {
  const manifest = require.resolve(`@wixauth/${process.platform}-${process.arch}/package.json`);
  return path.join(path.dirname(manifest), 'bin', 'wixauth');
}

// Puts a recorder in front of the platform package's binary (this is a throwaway install):
// each start writes its argv and its initial environment (/proc/PID/environ: exactly what the
// strategy gave it) to WIXAUTH_TEST_SPAWNS, then becomes the real binary.
export function recordSpawns() {
  const bin = platformBin();
  const real = `${bin}.real`;
  const dir = process.env.WIXAUTH_TEST_SPAWNS;
  if (!dir) {
    throw new Error('WIXAUTH_TEST_SPAWNS is not set');
  }
  if (!fs.existsSync(real)) {
    fs.renameSync(bin, real);
    const script = [
      '#!/bin/sh',
      `printf '%s\\n' "$@" > '${dir}/args.'$$`,
      `cat /proc/$$/environ > '${dir}/env.'$$`,
      `exec '${real}' "$@"`,
      '',
    ].join('\n');
    fs.writeFileSync(bin, script, { mode: 0o755 });
  }
  return { real, dir };
}

// The starts recorded so far: [{ pid, args, env }], oldest first.
export function spawns() {
  const dir = process.env.WIXAUTH_TEST_SPAWNS;
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('args.'))
    .map((f) => {
      const pid = f.slice('args.'.length);
      const args = fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(0, -1);
      const env = Object.fromEntries(
        fs
          .readFileSync(path.join(dir, `env.${pid}`), 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])
      );
      return { pid: Number(pid), args, env, at: fs.statSync(path.join(dir, f)).mtimeMs };
    })
    .sort((a, b) => a.at - b.at);
}

export const tokenSpawns = () => spawns().filter((s) => s.args[0] === 'token');

// `fetch` for createClient: the SDK always builds https://www.wixapis.com URLs; this sends them
// to the emulator instead and refuses anything else, so a test can never reach the real Wix.
export function emulatorFetch(seen = []) {
  return async (url, init = {}) => {
    if (typeof url !== 'string' && !(url instanceof URL)) {
      throw new Error('test fetch: only URL strings are expected from the SDK');
    }
    const u = new URL(url);
    if (u.origin !== 'https://www.wixapis.com') {
      throw new Error(`test fetch: refusing ${u.origin}; only the emulator is reachable`);
    }
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    seen.push({ method: init.method || 'GET', path: u.pathname, headers });
    u.protocol = base.protocol;
    u.host = base.host;
    return fetch(u, init);
  };
}

// Requests the emulator has seen for a path (its test-only /__count route).
export async function emulatorCount(p) {
  const r = await fetch(new URL(`/__count?path=${encodeURIComponent(p)}`, base));
  return (await r.json()).count;
}

// Forgets every cached access token (wixauth's file cache): the next `token` asks Wix.
export function clearTokenCache() {
  const dir = path.join(process.env.WIXAUTH_CONFIG_DIR, 'tokens');
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (f.endsWith('.json')) {
      fs.unlinkSync(path.join(dir, f));
    }
  }
}
