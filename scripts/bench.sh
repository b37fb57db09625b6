#!/usr/bin/env bash
# Speed of `wixauth token`, measured against what it cannot beat, in one hyperfine run:
#
#   wixauth token              (cache hit)     vs  cat of a file of the same size as its output  target: 1.1x
#   wixauth token --header     (cache hit)     vs  cat of a file of the same size as its output  target: 1.1x
#   wixauth token --json       (cache hit)     vs  cat of a file of the same size as its output  target: 1.1x
#   wixauth token --no-cache   (the emulator)  vs  a bare curl POST of the same request          target: 1.3x
#
#   scripts/bench.sh [RUNS]        (default 300 runs per command after 20 warm-up runs)
#   WIXAUTH_BENCH_BIN=path/to/wixauth scripts/bench.sh     (measure another build)
#
# All ratios are of medians. Uses the release build (`cargo build --release --locked`, so the same
# settings as `cargo install --locked --path .`) and the Wix emulator example on 127.0.0.1; nothing
# leaves the machine. Installs hyperfine with apt-get when it is missing. Prints hyperfine's table,
# the medians and the four ratios; the table is also left in $BENCH_OUT (default target/bench/results.md).
set -euo pipefail

runs=${1:-300}
warmup=20
# Ratio targets (medians): each cache-hit form against cat, and a cache miss against curl.
target_hit=1.1
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
# WIXAUTH_BENCH_BIN: measure another build of wixauth (e.g. to compare two variants).
wixauth=${WIXAUTH_BENCH_BIN:-$target_dir/release/wixauth}
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

# The floor for a cache hit: cat of a file as big as what the form prints (the token and its newline,
# the header line, the JSON line). Each form must be a cache hit, or the comparison would be meaningless.
forms=(plain header json)
declare -A form_args=([plain]="" [header]=" --header" [json]=" --json")
for form in "${forms[@]}"; do
    # shellcheck disable=SC2086 # the form's flag is one word or none
    "$wixauth" token ${form_args[$form]} >"$tmp/out-$form"
    head -c "$(wc -c <"$tmp/out-$form")" /dev/zero | tr '\0' x >"$tmp/same-size-$form"
    # shellcheck disable=SC2086
    debug_log=$("$wixauth" -v token ${form_args[$form]} 2>&1 >/dev/null)
    [[ $debug_log == *"cache hit"* ]] || die "wixauth token${form_args[$form]} is not a cache hit"
    echo "token${form_args[$form]}: prints $(wc -c <"$tmp/out-$form") bytes; floor file: $(wc -c <"$tmp/same-size-$form") bytes"
done

# The same request curl sends: the body in a file, never on a command line.
printf '{"grant_type":"client_credentials","client_id":"%s","client_secret":"%s","instance_id":"%s"}' \
    "$app" "$secret" "$instance" >"$tmp/body.json"
curl_cmd="curl -s -X POST -H 'content-type: application/json' --data @$tmp/body.json $base/oauth2/token"
answer=$(curl -sf -X POST -H 'content-type: application/json' --data @"$tmp/body.json" "$base/oauth2/token") ||
    die "curl's token request failed"
[[ $answer == *access_token* ]] || die "the emulator did not answer curl's token request with a token"

section "Benchmark ($warmup warm-up + $runs runs per command)"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
# Other programs' load moves the medians (see BENCHMARKS.md): say how busy the machine was.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $load_before"
hyperfine -N --warmup "$warmup" --runs "$runs" \
    --export-markdown "$tmp/results.md" --export-json "$tmp/results.json" \
    -n 'wixauth token (cache hit)' "$wixauth token" \
    -n 'cat (same size as token)' "cat $tmp/same-size-plain" \
    -n 'wixauth token --header (cache hit)' "$wixauth token --header" \
    -n 'cat (same size as --header)' "cat $tmp/same-size-header" \
    -n 'wixauth token --json (cache hit)' "$wixauth token --json" \
    -n 'cat (same size as --json)' "cat $tmp/same-size-json" \
    -n 'wixauth token --no-cache (emulator)' "$wixauth token --no-cache" \
    -n 'curl POST /oauth2/token (emulator)' "$curl_cmd"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average after: $load_after"

section "Medians"
# hyperfine's JSON lists the results in command order, one "median" each (seconds).
mapfile -t medians < <(grep -o '"median": *[-0-9.eE+]*' "$tmp/results.json" | sed 's/.*: *//')
names=('wixauth token' 'cat (same size)' 'wixauth token --header' 'cat (same size)'
    'wixauth token --json' 'cat (same size)' 'wixauth token --no-cache' 'curl POST /oauth2/token')
((${#medians[@]} == ${#names[@]})) || die "expected ${#names[@]} medians in hyperfine's JSON, found ${#medians[@]}"
for i in "${!names[@]}"; do
    awk -v n="${names[$i]}" -v s="${medians[$i]}" 'BEGIN { printf "  %-28s %8.3f ms\n", n, s * 1000 }'
done

# Each ratio: numerator index, denominator index, target, label.
ratios=(
    "0 1 $target_hit token / cat"
    "2 3 $target_hit token --header / cat"
    "4 5 $target_hit token --json / cat"
    "6 7 $target_miss token --no-cache / curl"
)
ratio() { # ratio NUM DEN TARGET LABEL FORMAT
    awk -v a="${medians[$1]}" -v b="${medians[$2]}" -v t="$3" -v l="$4" -v f="$5" 'BEGIN {
        r = a / b
        printf f, l, r, t, (r <= t ? "met" : "NOT met")
    }'
}
section "Ratios (medians)"
failed=0
for r in "${ratios[@]}"; do
    read -r num den target label <<<"$r"
    ratio "$num" "$den" "$target" "$label" '  %-28s %5.2fx  (target <= %.1fx: %s)\n'
    awk -v a="${medians[$num]}" -v b="${medians[$den]}" -v t="$target" 'BEGIN { exit !(a / b <= t) }' || failed=1
done

out=${BENCH_OUT:-$target_dir/bench/results.md}
mkdir -p "$(dirname "$out")"
{
    echo "<!-- scripts/bench.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), load average $load_before before, $load_after after -->"
    # The temp paths mean nothing once the run is over.
    sed "s|$tmp/||g" "$tmp/results.md"
    echo
    echo "| median | ms |"
    echo "|:---|---:|"
    for i in "${!names[@]}"; do
        awk -v n="${names[$i]}" -v s="${medians[$i]}" 'BEGIN { printf "| %s | %.3f |\n", n, s * 1000 }'
    done
    echo
    echo "| ratio of medians | value | target |"
    echo "|:---|---:|---:|"
    for r in "${ratios[@]}"; do
        read -r num den target label <<<"$r"
        ratio "$num" "$den" "$target" "$label" '| %s | %.2fx | <= %.1fx (%s) |\n'
    done
} >"$out"
echo
echo "hyperfine's table and the medians: $out"
# The exit status says whether every target was met (hyperfine's numbers are above either way).
exit "$failed"
