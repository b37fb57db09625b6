'use strict';
// Which platform package holds the wixauth binary for this machine, and where it is.
// Shared by the `wixauth` bin shim and the JS API, and read by scripts/npm-pack.sh (through
// `node -e`), so the list of platforms is written down once.

const fs = require('fs');
const path = require('path');

// npm's `process.platform-process.arch` → the package and the Rust target built for it. The
// Linux binaries are static (musl, or glibc with crt-static): one package serves glibc and musl
// systems alike, so no `libc` field narrows it.
const PLATFORMS = {
  'linux-x64': { target: 'x86_64-unknown-linux-musl', exe: 'wixauth' },
  'linux-arm64': { target: 'aarch64-unknown-linux-musl', exe: 'wixauth' },
  'darwin-arm64': { target: 'aarch64-apple-darwin', exe: 'wixauth' },
  'darwin-x64': { target: 'x86_64-apple-darwin', exe: 'wixauth' },
  'win32-x64': { target: 'x86_64-pc-windows-msvc', exe: 'wixauth.exe' },
};

const SCOPE = '@wixauth';

function packageName(key) {
  return `${SCOPE}/${key}`;
}

function mainVersion() {
  return require('../package.json').version;
}

// An Error whose message is the whole one-line explanation, with the fix.
function installError(message) {
  const err = new Error(message);
  err.code = 'WIXAUTH_NO_BINARY';
  return err;
}

// The binary of this machine's platform package: { path, version, pkg }. Throws an Error with a
// one-line message (which platform, what to do) when there is none or its version is not ours.
// Costs one require.resolve and one small JSON read: no process is started.
function findBinary(platform = process.platform, arch = process.arch) {
  const key = `${platform}-${arch}`;
  const entry = PLATFORMS[key];
  const want = mainVersion();
  if (!entry) {
    throw installError(
      `wixauth has no npm binary for ${key} (there are: ${Object.keys(PLATFORMS).join(', ')}); ` +
        'install it with `cargo install --locked wixauth` and pass its path as `bin`'
    );
  }
  const pkg = packageName(key);
  let manifest;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    throw installError(
      `the wixauth binary for ${key} is missing: its package ${pkg}@${want} was not installed ` +
        '(npm skipped optional dependencies: --omit=optional, or a lockfile made on another platform); ' +
        'fix: npm install --include=optional (with a foreign lockfile: delete node_modules and package-lock.json, then npm install)'
    );
  }
  const version = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
  if (version !== want) {
    throw installError(
      `the wixauth binary package ${pkg} is version ${version} but the wixauth npm package is ${want}: ` +
        `fix: npm install wixauth@${want} (if it stays, delete node_modules and npm install)`
    );
  }
  return { path: path.join(path.dirname(manifest), 'bin', entry.exe), version, pkg };
}

module.exports = { PLATFORMS, SCOPE, packageName, findBinary, mainVersion };
