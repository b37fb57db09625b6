#!/usr/bin/env bash
# The body of action.yml: installs wixauth into $RUNNER_TEMP and adds it to $GITHUB_PATH.
# Reads WIXAUTH_VERSION (a tag or "latest"), WIXAUTH_FROM (release|source), WIXAUTH_REPOSITORY,
# GH_TOKEN (for `gh attestation verify`), and WIXAUTH_RELEASE_BASE (tests only: a base URL with
# install.sh's layout, <base>/<tag>/<archive>, instead of the repository's GitHub releases).
# A release archive is installed only when it matches its SHA-256 file and its build provenance
# attestation says the release workflow of the repository built it.
set -euo pipefail

die() {
    echo "::error::install wixauth: $*"
    exit 1
}

repo=${WIXAUTH_REPOSITORY:-}
version=${WIXAUTH_VERSION:-latest}
from=${WIXAUTH_FROM:-release}
[[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || die "repository \"$repo\" is not owner/name: set the action's repository input"
[[ "$version" == latest || "$version" =~ ^v[0-9A-Za-z._-]+$ ]] || die "version \"$version\" is neither latest nor a tag like v1.2.3"
[[ "$from" == release || "$from" == source ]] || die "from \"$from\" must be release or source"

bin_dir="$RUNNER_TEMP/wixauth/bin"
mkdir -p "$bin_dir"

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) target=x86_64-unknown-linux-musl ext=tar.gz ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ext=tar.gz ;;
    macOS/ARM64) target=aarch64-apple-darwin ext=tar.gz ;;
    macOS/X64) target=x86_64-apple-darwin ext=tar.gz ;;
    Windows/X64) target=x86_64-pc-windows-msvc ext=zip ;;
    *) target="" ext="" ;;
esac

from_release() {
    local name="wixauth-$target" base tmp protocols='=https'
    if [[ -n "${WIXAUTH_RELEASE_BASE:-}" ]]; then
        base="${WIXAUTH_RELEASE_BASE%/}/$version"
        [[ "$base" =~ ^http://(127\.[0-9.]+|localhost)(:[0-9]+)?/ ]] && protocols='=http,https'
    elif [[ "$version" == latest ]]; then
        base="https://github.com/$repo/releases/latest/download"
    else
        base="https://github.com/$repo/releases/download/$version"
    fi
    tmp=$(mktemp -d)
    curl --proto "$protocols" --tlsv1.2 -fsSL --retry 3 -o "$tmp/$name.$ext" "$base/$name.$ext" || return 1
    curl --proto "$protocols" --tlsv1.2 -fsSL --retry 3 -o "$tmp/$name.$ext.sha256" "$base/$name.$ext.sha256" || return 1
    local check=(shasum -a 256 -c)
    command -v sha256sum >/dev/null && check=(sha256sum -c)
    (cd "$tmp" && "${check[@]}" "$name.$ext.sha256") || die "$name.$ext does not match its SHA-256: not installed"
    # The checksum came from the same place as the archive; the attestation says who built it:
    # signed by GitHub for a workflow run of $repo (Sigstore), checked by gh.
    command -v gh >/dev/null || die "gh (the GitHub CLI) is not on PATH: it checks the release's build provenance attestation"
    gh attestation verify "$tmp/$name.$ext" --repo "$repo" \
        --signer-workflow "$repo/.github/workflows/release.yml" >&2 ||
        die "$name.$ext has no valid build provenance attestation from $repo: not installed"
    if [[ "$ext" == zip ]]; then
        (cd "$tmp" && 7z x -y "$name.zip" >/dev/null)
        cp "$tmp/$name/wixauth.exe" "$bin_dir/"
    else
        tar -xzf "$tmp/$name.tar.gz" -C "$tmp"
        cp "$tmp/$name/wixauth" "$bin_dir/"
        chmod 755 "$bin_dir/wixauth"
    fi
}

from_source() {
    local ref=()
    [[ "$version" == latest ]] || ref=(--tag "$version")
    # ${ref[@]+…}: an empty array under set -u, also in the bash 3.2 of macOS.
    cargo install --locked --root "$RUNNER_TEMP/wixauth" --git "https://github.com/$repo" ${ref[@]+"${ref[@]}"} wixauth
}

if [[ "$from" == release && -n "$target" ]] && from_release; then
    echo "installed the $target release binary ($version)"
else
    [[ "$from" == source ]] || echo "no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?} ($version): building from source"
    command -v cargo >/dev/null || die "cargo is not on PATH: add a Rust toolchain step before this action"
    from_source
fi

echo "$bin_dir" >>"$GITHUB_PATH"
installed=$("$bin_dir/wixauth" --version)
echo "$installed"
echo "version=$installed" >>"$GITHUB_OUTPUT"
