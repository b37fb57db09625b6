#!/usr/bin/env bash
# The npm packages for one release binary, packed and ready to publish:
#
#   scripts/npm-pack.sh BINARY OUTDIR
#
# reads BINARY's header (ELF, Mach-O or PE: x86_64 or arm64) to know its platform, then writes to
# OUTDIR (created when missing):
#   wixauth-<os>-<cpu>-<version>.tgz   @wixauth/<os>-<cpu>: package.json and bin/wixauth[.exe]
#   wixauth-<version>.tgz              wixauth: the bin shim and the JS API (npm/wixauth)
# with <version> the crate's (Cargo.toml) in every package.json and in the main package's
# optionalDependencies. When BINARY runs on this machine its --version must say the same.
# Needs node and npm; uses no network (npm pack runs no scripts and fetches nothing).
# The release workflow runs it once per target; the tests run it on the local build.
set -euo pipefail

die() {
    printf 'scripts/npm-pack.sh: error: %s\n' "$*" >&2
    exit 1
}

(($# == 2)) || die "usage: scripts/npm-pack.sh BINARY OUTDIR"
binary=$1
outdir=$2
[[ -f $binary ]] || die "$binary is not a file"
command -v node >/dev/null 2>&1 || die "node is not on PATH"
command -v npm >/dev/null 2>&1 || die "npm is not on PATH"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The [package] version: the first `version = "…"` line of Cargo.toml is the crate's.
version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)
[[ -n $version ]] || die "no version in $repo/Cargo.toml"

# <os>-<cpu> in npm's words (process.platform-process.arch), from the executable's header.
key=$(node - "$binary" <<'JS'
const fs = require('fs');
const fd = fs.openSync(process.argv[2], 'r');
const b = Buffer.alloc(4096);
const n = fs.readSync(fd, b, 0, b.length, 0);
const cpu = { 0x3e: 'x64', 0xb7: 'arm64', 0x8664: 'x64', 0xaa64: 'arm64', 0x01000007: 'x64', 0x0100000c: 'arm64' };
let os = null;
let machine = null;
if (n >= 20 && b.readUInt32BE(0) === 0x7f454c46) {
  os = 'linux';
  machine = b[5] === 2 ? b.readUInt16BE(18) : b.readUInt16LE(18);
} else if (n >= 8 && b.readUInt32LE(0) === 0xfeedfacf) {
  os = 'darwin';
  machine = b.readUInt32LE(4);
} else if (n >= 64 && b.toString('latin1', 0, 2) === 'MZ') {
  const pe = b.readUInt32LE(0x3c);
  if (pe + 6 <= n && b.readUInt32BE(pe) === 0x50450000) {
    os = 'win32';
    machine = b.readUInt16LE(pe + 4);
  }
}
if (!os || !cpu[machine]) {
  console.error(`not a 64-bit x86_64 or arm64 ELF, Mach-O (single architecture) or PE executable`);
  process.exit(1);
}
console.log(`${os}-${cpu[machine]}`);
JS
) || die "cannot tell the platform of $binary"

platforms="$repo/npm/wixauth/lib/platform.cjs"
exe=$(node -e 'const p = require(process.argv[1]).PLATFORMS[process.argv[2]]; if (p) console.log(p.exe)' "$platforms" "$key")
[[ -n $exe ]] || die "$binary is for $key, which has no npm package (see npm/wixauth/lib/platform.cjs)"

host=$(node -p 'process.platform + "-" + process.arch')
if [[ $key == "$host" ]]; then
    said=$("$binary" --version) || die "$binary --version failed"
    [[ $said == "wixauth $version" ]] || die "$binary --version says \"$said\", but Cargo.toml says $version"
fi

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/wixauth-npm-pack.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# The platform package: its manifest and the binary, nothing else.
mkdir -p "$stage/platform/bin"
cp "$binary" "$stage/platform/bin/$exe"
chmod 755 "$stage/platform/bin/$exe"
# The main package: npm/wixauth as committed, and the licence.
mkdir -p "$stage/main"
cp -R "$repo/npm/wixauth/bin" "$repo/npm/wixauth/lib" "$repo/npm/wixauth/package.json" "$stage/main/"
cp "$repo/npm/wixauth/README.md" "$repo/LICENSE" "$stage/main/"

node - "$stage" "$key" "$version" "$platforms" <<'JS'
const fs = require('fs');
const path = require('path');
const [stage, key, version, platforms] = process.argv.slice(2);
const { PLATFORMS, packageName } = require(platforms);
const mainFile = path.join(stage, 'main', 'package.json');
const main = JSON.parse(fs.readFileSync(mainFile, 'utf8'));
main.version = version;
main.optionalDependencies = Object.fromEntries(Object.keys(PLATFORMS).map((k) => [packageName(k), version]));
fs.writeFileSync(mainFile, JSON.stringify(main, null, 2) + '\n');
const [os, cpu] = key.split('-');
const platform = {
  name: packageName(key),
  version,
  description: `The wixauth binary for ${key} (${PLATFORMS[key].target}); install the wixauth package, which uses it`,
  license: main.license,
  homepage: main.homepage,
  repository: main.repository,
  os: [os],
  cpu: [cpu],
  files: [`bin/${PLATFORMS[key].exe}`],
  // Yarn PnP: keep it on disk, unzipped, so it can be executed.
  preferUnplugged: true,
};
fs.writeFileSync(path.join(stage, 'platform', 'package.json'), JSON.stringify(platform, null, 2) + '\n');
JS

for dir in platform main; do
    (cd "$stage/$dir" && npm pack --offline --ignore-scripts --silent --pack-destination "$outdir" >/dev/null) ||
        die "npm pack failed in the staged $dir package"
done
main_tgz="$outdir/wixauth-$version.tgz"
platform_tgz="$outdir/wixauth-$key-$version.tgz"
[[ -f $main_tgz && -f $platform_tgz ]] || die "npm pack did not write $main_tgz and $platform_tgz"
printf '%s\n' "$platform_tgz" "$main_tgz"
