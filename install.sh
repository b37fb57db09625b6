#!/bin/sh
# Installs the wixauth release binary for this machine, after checking its SHA-256.
#
#   sh install.sh [--to DIR] [--version VERSION]
#
#   --to DIR           where the binary goes (default ~/.local/bin; created when missing)
#   --version VERSION  a release: 1.2.3, v1.2.3 or latest (default latest)
#
# Downloads <archive> and <archive>.sha256 (one "HASH  NAME" line) for this machine's target, as
# .github/workflows/release.yml names them, from $WIXAUTH_RELEASE_BASE/<tag>/ (tag v<version>, or
# latest) when that is set, else from the GitHub releases of $WIXAUTH_REPOSITORY (default
# wixauth/wixauth; a fork sets its own). http:// is accepted for loopback hosts only (tests).
# Nothing is written outside a temporary folder until the checksum matches, and the binary
# replaces an older one in one rename. POSIX sh: runs under dash, busybox sh, bash, zsh.
set -eu

repository=${WIXAUTH_REPOSITORY:-wixauth/wixauth}
to=${HOME:-}/.local/bin
version=latest

die() {
    printf 'install.sh: error: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,8s/^# \{0,1\}//p' "$0" 2>/dev/null || echo "usage: sh install.sh [--to DIR] [--version VERSION]"
}

while [ $# -gt 0 ]; do
    case $1 in
        --to) [ $# -ge 2 ] || die "--to needs a folder"; to=$2; shift 2 ;;
        --to=*) to=${1#--to=}; shift ;;
        --version) [ $# -ge 2 ] || die "--version needs a version (1.2.3 or latest)"; version=$2; shift 2 ;;
        --version=*) version=${1#--version=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) printf 'install.sh: error: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
    esac
done
[ -n "$to" ] || die "no folder to install to: pass --to DIR (HOME is not set)"

case $version in
    latest) tag=latest ;;
    v[0-9]*) tag=$version ;;
    [0-9]*) tag=v$version ;;
    *) die "--version $version: expected 1.2.3, v1.2.3 or latest" ;;
esac
case $tag in
    *[!A-Za-z0-9.+-]*) die "--version $version: expected 1.2.3, v1.2.3 or latest" ;;
esac

# The release target for this machine (release.yml's matrix).
os=$(uname -s 2>/dev/null || echo unknown)
arch=$(uname -m 2>/dev/null || echo unknown)
case $os/$arch in
    Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
    Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
    Darwin/x86_64)
        # A shell under Rosetta on Apple silicon: the native binary is the better one.
        if [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
            target=aarch64-apple-darwin
        else
            target=x86_64-apple-darwin
        fi
        ;;
    *) die "no wixauth release for $os/$arch (there are: Linux x86_64 and arm64, macOS arm64 and x86_64; Windows: the .zip, or npm i -g wixauth); build it with: cargo install --locked wixauth" ;;
esac
archive=wixauth-$target.tar.gz

if [ -n "${WIXAUTH_RELEASE_BASE:-}" ]; then
    url=${WIXAUTH_RELEASE_BASE%/}/$tag/$archive
elif [ "$tag" = latest ]; then
    url=https://github.com/$repository/releases/latest/download/$archive
else
    url=https://github.com/$repository/releases/download/$tag/$archive
fi
case $url in
    https://*) protocols='=https' ;;
    http://127.* | http://localhost:* | http://localhost/* | http://\[::1\]*) protocols='=http,https' ;;
    *) die "$url: only https:// (or http:// on a loopback address) is used" ;;
esac

# download URL FILE: prints the downloader's complaint (for one error line) when it fails.
if command -v curl >/dev/null 2>&1; then
    download() { curl --proto "$protocols" --tlsv1.2 -fsSL --retry 2 -o "$2" "$1" 2>&1; }
elif command -v wget >/dev/null 2>&1; then
    download() {
        if [ "$protocols" = '=https' ]; then wget -q --https-only -O "$2" "$1" 2>&1; else wget -q -O "$2" "$1" 2>&1; fi
    }
else
    die "neither curl nor wget is installed"
fi

# sha256 FILE: its hex digest.
sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    elif command -v openssl >/dev/null 2>&1; then
        openssl dgst -sha256 -r "$1" | cut -d' ' -f1
    else
        die "no sha256sum, shasum or openssl to check the download with"
    fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wixauth-install.XXXXXX") || die "cannot create a temporary folder"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for file in "$archive" "$archive.sha256"; do
    said=$(download "${url%/*}/$file" "$tmp/$file") || die "could not download ${url%/*}/$file: $(printf '%s' "$said" | tr '\n' ' ')"
done

# "HASH  NAME": the hash must be for this very archive name.
want='' name=''
read -r want name <"$tmp/$archive.sha256" || [ -n "$want" ] || die "$archive.sha256 is empty"
name=${name#\*}
[ "$name" = "$archive" ] || die "$archive.sha256 is for \"$name\", not $archive: not installed"
got=$(sha256 "$tmp/$archive")
want=$(printf '%s' "$want" | tr 'A-F' 'a-f')
[ "$got" = "$want" ] || die "$archive does not match its SHA-256 (expected $want, got $got): not installed"

tar -xzf "$tmp/$archive" -C "$tmp" || die "cannot unpack $archive"
binary=$tmp/wixauth-$target/wixauth
[ -f "$binary" ] || die "$archive holds no wixauth-$target/wixauth"

mkdir -p "$to" || die "cannot create $to"
# A temporary name in the same folder, then one rename: a running wixauth is never half-replaced.
cp "$binary" "$to/.wixauth.install.$$" && chmod 755 "$to/.wixauth.install.$$" &&
    mv -f "$to/.wixauth.install.$$" "$to/wixauth" || {
    rm -f "$to/.wixauth.install.$$"
    die "cannot write $to/wixauth"
}
installed=$("$to/wixauth" --version 2>/dev/null || echo "wixauth ($tag)")
echo "installed $installed to $to/wixauth ($archive, SHA-256 checked)"
case :${PATH:-}: in
    *:"$to":*) ;;
    *) echo "note: $to is not on PATH; add it, e.g.: export PATH=\"$to:\$PATH\"" ;;
esac
