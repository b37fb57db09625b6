#!/usr/bin/env bash
# Speed of `wixauth token`, measured against what it cannot beat, in one hyperfine run:
#
#   wixauth token              (cache hit)     vs  cat of a file of the same size   target: within 1.5x (median)
#   wixauth token --no-cache   (the emulator)  vs  a bare curl POST of the same request  target: within 1.3x (median)
#
#   scripts/bench.sh [RUNS]        (default 300 runs per command after 20 warm-up runs)
#
# Uses the release build and the Wix emulator example on 127.0.0.1; nothing leaves the machine.
# Installs hyperfine with apt-get when it is missing. Prints hyperfine's table, the medians
# and the two ratios; the table is also left in $BENCH_OUT (default target/bench/results.md).
set -euo pipefail

runs=${1:-300}
warmup=20
# Ratio targets from issue 2.
target_hit=1.5
target_miss=1.3

section() {
    printf '\n==== %s ====\n' "$*"
}

die() {
    printf 'scripts/bench.sh: error: %s\n' "$*" >&2
    exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

section "hyperfine"
if ! command -v hyperfine >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "hyperfine is missing and apt-get is not there: install hyperfine by hand"
    sudo=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "run as root (or install sudo) to install hyperfine"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends hyperfine
fi
hyperfine --version
command -v curl >/dev/null 2>&1 || die "curl is missing"

section "Release build"
cargo build --release --locked
cargo build --release --locked --example wix-emulator
target_dir=${CARGO_TARGET_DIR:-$repo/target}
wixauth="$target_dir/release/wixauth"
emulator="$target_dir/release/examples/wix-emulator"
[[ -x $wixauth && -x $emulator ]] || die "release binaries not found under $target_dir/release"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wixauth-bench.XXXXXX")
emu_pid=
cleanup() {
    if [[ -n $emu_pid ]]; then
        kill "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section "Wix emulator"
app=bench-app-1
instance=bench-instance-1
secret="bench-secret-$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')"
"$emulator" --app "$app:$secret" --install "$app:$instance" >"$tmp/emulator.out" 2>"$tmp/emulator.err" &
emu_pid=$!
base=
for _ in $(seq 100); do # at most 5 s
    base=$(head -n1 "$tmp/emulator.out" 2>/dev/null || true)
    [[ -n $base ]] && break
    kill -0 "$emu_pid" 2>/dev/null || die "the emulator exited: $(cat "$tmp/emulator.err")"
    sleep 0.05
done
[[ -n $base ]] || die "the emulator printed no base URL within 5 s"
echo "emulator at $base (pid $emu_pid)"

section "Login (file store, private config dir)"
# Only this run's settings: nothing from the developer's own setup.
for var in WIXAUTH_PROFILE WIX_INSTANCE_ID WIX_APP_ID WIX_APP_SECRET WIX_REFRESH_TOKEN WIXAUTH_NO_CACHE \
    WIXAUTH_KEYRING_SERVICE WIXAUTH_HTTP_TIMEOUT; do
    unset "$var"
done
export WIXAUTH_CONFIG_DIR="$tmp/config"
export WIXAUTH_SECRET_STORE=file
export WIXAUTH_API_BASE="$base"
export WIXAUTH_INSTALLER_BASE="$base"
printf '%s\n' "$secret" | "$wixauth" login --flow basic --app-id "$app" --instance-id "$instance" --secret-stdin

# The floor for a cache hit: cat of a file as big as the token and its newline.
"$wixauth" token >"$tmp/token"
head -c "$(wc -c <"$tmp/token")" /dev/zero | tr '\0' x >"$tmp/same-size"
echo "token: $(wc -c <"$tmp/token") bytes with its newline; floor file: $(wc -c <"$tmp/same-size") bytes"
debug_log=$("$wixauth" -v token 2>&1 >/dev/null)
[[ $debug_log == *"cache hit"* ]] || die "wixauth token is not a cache hit: the comparison would be meaningless"

# The same request curl sends: the body in a file, never on a command line.
printf '{"grant_type":"client_credentials","client_id":"%s","client_secret":"%s","instance_id":"%s"}' \
    "$app" "$secret" "$instance" >"$tmp/body.json"
curl_cmd="curl -s -X POST -H 'content-type: application/json' --data @$tmp/body.json $base/oauth2/token"
answer=$(curl -sf -X POST -H 'content-type: application/json' --data @"$tmp/body.json" "$base/oauth2/token") ||
    die "curl's token request failed"
[[ $answer == *access_token* ]] || die "the emulator did not answer curl's token request with a token"

section "Benchmark ($warmup warm-up + $runs runs per command)"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
hyperfine -N --warmup "$warmup" --runs "$runs" \
    --export-markdown "$tmp/results.md" --export-json "$tmp/results.json" \
    -n 'wixauth token (cache hit)' "$wixauth token" \
    -n 'cat (same-size file)' "cat $tmp/same-size" \
    -n 'wixauth token --no-cache (emulator)' "$wixauth token --no-cache" \
    -n 'curl POST /oauth2/token (emulator)' "$curl_cmd"

section "Medians"
# hyperfine's JSON lists the results in command order, one "median" each (seconds).
mapfile -t medians < <(grep -o '"median": *[-0-9.eE+]*' "$tmp/results.json" | sed 's/.*: *//')
((${#medians[@]} == 4)) || die "expected 4 medians in hyperfine's JSON, found ${#medians[@]}"
names=('wixauth token (cache hit)' 'cat (same-size file)' 'wixauth token --no-cache' 'curl POST /oauth2/token')
for i in 0 1 2 3; do
    awk -v n="${names[$i]}" -v s="${medians[$i]}" 'BEGIN { printf "  %-28s %8.3f ms\n", n, s * 1000 }'
done

ratio() { # ratio NUM DEN TARGET LABEL
    awk -v a="$1" -v b="$2" -v t="$3" -v l="$4" 'BEGIN {
        r = a / b
        printf "  %-28s %5.2fx  (target <= %.1fx: %s)\n", l, r, t, (r <= t ? "met" : "NOT met")
    }'
}
section "Ratios (medians)"
ratio "${medians[0]}" "${medians[1]}" "$target_hit" "cache hit / cat"
ratio "${medians[2]}" "${medians[3]}" "$target_miss" "no-cache / curl"

out=${BENCH_OUT:-$target_dir/bench/results.md}
mkdir -p "$(dirname "$out")"
{
    echo "<!-- scripts/bench.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1) -->"
    # The temp paths mean nothing once the run is over.
    sed "s|$tmp/||g" "$tmp/results.md"
    echo
    echo "| median | ms |"
    echo "|:---|---:|"
    for i in 0 1 2 3; do
        awk -v n="${names[$i]}" -v s="${medians[$i]}" 'BEGIN { printf "| %s | %.3f |\n", n, s * 1000 }'
    done
    echo
    echo "| ratio of medians | value | target |"
    echo "|:---|---:|---:|"
    awk -v a="${medians[0]}" -v b="${medians[1]}" -v t="$target_hit" \
        'BEGIN { r = a / b; printf "| cache hit / cat | %.2fx | <= %.1fx (%s) |\n", r, t, (r <= t ? "met" : "NOT met") }'
    awk -v a="${medians[2]}" -v b="${medians[3]}" -v t="$target_miss" \
        'BEGIN { r = a / b; printf "| no-cache / curl | %.2fx | <= %.1fx (%s) |\n", r, t, (r <= t ? "met" : "NOT met") }'
} >"$out"
echo
echo "hyperfine's table and the medians: $out"
