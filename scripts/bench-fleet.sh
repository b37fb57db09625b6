#!/usr/bin/env bash
# Fleet mode (issue 21) against the Wix emulator on 127.0.0.1, in one run (`scripts/bench.sh` runs it in
# its own section at the end; it also runs alone):
#
#   1. warm    1,000 stored instances, every token cached: `wixauth token --each-instance --json` (one
#              process for the 1,000) beside `cat` of the same 1,000 cache files (one process), hyperfine.
#              target: the median <= 0.25 s.
#   2. cold    the same with no token cached, --concurrency 16, the emulator answering each request in 50 ms.
#              target: the median within 10% of the ideal 1000 x 50 ms / 16 = 3.125 s.
#   3. rate    `wixauth api --each-instance --concurrency 16 --rate 100 /apps/v1/instance` over the 1,000, the
#              emulator enforcing Wix's 200 requests a minute per instance and answering 429 (Retry-After) to
#              everything of the burst in the fleet's first second. target: zero failures, and the run within
#              10% of what the cap allows: 1000 / 100 s, plus the 1 s Wix asked the fleet to wait.
#   4. memory  the maximum resident set of `token --each-instance --json` (warm) at 100 and at 10,000 instances,
#              beside that of a single `wixauth token` with the same config (what loading the config costs).
#              target: flat: the fleet grows by at most 2 MiB more than the single token does.
#
#   scripts/bench-fleet.sh
#   WIXAUTH_BENCH_BIN=path/to/wixauth WIXAUTH_BENCH_EMULATOR=path/to/wix-emulator scripts/bench-fleet.sh
#
# Without those two variables it builds both (`cargo build --release --locked`). Results, with the machine's
# load before and after: $BENCH_FLEET_OUT (default target/bench/fleet.md). Exit 1 when a target is missed.
set -euo pipefail

die() {
    printf 'scripts/bench-fleet.sh: error: %s\n' "$*" >&2
    exit 1
}
step() {
    printf '\n---- %s ----\n' "$*"
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
target_dir=${CARGO_TARGET_DIR:-$repo/target}
release_dir="$target_dir/$(rustc --print host-tuple)/release"
wixauth=${WIXAUTH_BENCH_BIN:-}
emulator=${WIXAUTH_BENCH_EMULATOR:-}
if [[ -z $wixauth || -z $emulator ]]; then
    cargo build --release --locked
    cargo build --release --locked --example wix-emulator
    wixauth=${wixauth:-$release_dir/wixauth}
    emulator=${emulator:-$release_dir/examples/wix-emulator}
fi
[[ -x $wixauth && -x $emulator ]] || die "wixauth or the emulator not found ($wixauth, $emulator)"
for tool in hyperfine python3 curl /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wixauth-bench-fleet.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for var in WIXAUTH_PROFILE WIX_INSTANCE_ID WIX_APP_ID WIX_APP_SECRET WIX_REFRESH_TOKEN WIXAUTH_NO_CACHE \
    WIXAUTH_KEYRING_SERVICE WIXAUTH_HTTP_TIMEOUT WIX_CLIENT_ID; do
    unset "$var"
done
export WIXAUTH_SECRET_STORE=file
app=bench-fleet-app
secret="bench-secret-$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')"
seq -f 'fleet-%08g' 1 10000 >"$tmp/ids-10000"
head -n 1000 "$tmp/ids-10000" >"$tmp/ids-1000"
head -n 100 "$tmp/ids-10000" >"$tmp/ids-100"

# start_emulator NAME ARGS…: an emulator knowing the app, installed on fleet-00000001…10000; sets $base.
start_emulator() {
    local name=$1
    shift
    "$emulator" --app "$app:$secret" --install-range "$app:fleet:10000" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
    base=
    for _ in $(seq 100); do
        base=$(head -n1 "$tmp/$name.out" 2>/dev/null || true)
        [[ -n $base ]] && break
        sleep 0.05
    done
    [[ -n $base ]] || die "the $name emulator printed no base URL: $(cat "$tmp/$name.err")"
}

# profile DIR N: a config dir logged in at $base with N instances stored (one login, the rest imported).
profile() {
    export WIXAUTH_CONFIG_DIR=$1 WIXAUTH_API_BASE=$base WIXAUTH_INSTALLER_BASE=$base
    printf '%s\n' "$secret" | "$wixauth" login --flow basic --app-id "$app" --instance-id fleet-00000001 \
        --secret-stdin 2>/dev/null
    "$wixauth" instances add --from "$tmp/ids-$2" 2>/dev/null
}

# median FILE NAME: the median of hyperfine's JSON runs of NAME, in seconds.
median() {
    python3 - "$1" "$2" <<'PY'
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["command"] == sys.argv[2]:
        print(f"{statistics.median(r['times']):.4f}")
PY
}

# check_lines FILE N KEY VALUE: FILE has N JSON lines, each ok, each with KEY == VALUE (JSON text).
check_lines() {
    python3 - "$@" <<'PY'
import json, sys
path, n, key, want = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
lines = [json.loads(l) for l in open(path)]
bad = [l for l in lines if not l["ok"] or l.get(key) != want]
if len(lines) != n or bad:
    sys.exit(f"{path}: {len(lines)} lines (want {n}), {len(bad)} not ok or {key} != {want}: {bad[:2]}")
PY
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $load_before; measuring $wixauth"
failed=0
verdict() { # verdict OK TEXT
    if [[ $1 == 1 ]]; then echo "  met: $2"; else echo "  NOT met: $2"; failed=1; fi
    results+=("$2: $([[ $1 == 1 ]] && echo met || echo NOT met)")
}
results=()

step "1. warm: 1,000 cached tokens"
start_emulator plain
plain_base=$base
profile "$tmp/c1000" 1000
"$wixauth" token --each-instance --json >"$tmp/fill.jsonl" 2>/dev/null
"$wixauth" token --each-instance --json >"$tmp/warm.jsonl" 2>/dev/null
check_lines "$tmp/warm.jsonl" 1000 status null || die "the warm run is not all cache hits"
mapfile -t files < <(find "$tmp/c1000/tokens" -name '*.json' | sort)
((${#files[@]} == 1000)) || die "expected 1,000 cache files, found ${#files[@]}"
hyperfine -N --warmup 3 --runs 30 --style basic --export-json "$tmp/warm.json" \
    -n "token --each-instance --json (1,000 cache hits)" "$wixauth token --each-instance --json" \
    -n "cat of the 1,000 cache files" "cat ${files[*]}" >"$tmp/warm.out" 2>&1 || die "hyperfine failed: $(tail -n 5 "$tmp/warm.out")"
warm=$(median "$tmp/warm.json" "token --each-instance --json (1,000 cache hits)")
cat_floor=$(median "$tmp/warm.json" "cat of the 1,000 cache files")
echo "  token --each-instance --json: median $warm s; cat of the same 1,000 files: median $cat_floor s"
verdict "$(awk -v w="$warm" 'BEGIN { print (w <= 0.25) }')" "warm 1,000: $warm s (cat $cat_floor s), target <= 0.25 s"

step "2. cold: 1,000 token requests, 16 at once, each answered in 50 ms"
start_emulator slow --delay-ms 50
profile "$tmp/cold" 1000
hyperfine -N --runs 5 --style basic --export-json "$tmp/cold.json" \
    --prepare "find $tmp/cold/tokens -name '*.json' -delete" \
    -n "token --each-instance --json --concurrency 16 (cold)" "$wixauth token --each-instance --json --concurrency 16" \
    >"$tmp/cold.out" 2>&1 || die "hyperfine failed: $(tail -n 5 "$tmp/cold.out")"
cold=$(median "$tmp/cold.json" "token --each-instance --json --concurrency 16 (cold)")
find "$tmp/cold/tokens" -name '*.json' -delete
"$wixauth" token --each-instance --json --concurrency 16 >"$tmp/cold.jsonl" 2>/dev/null
check_lines "$tmp/cold.jsonl" 1000 status 200 || die "the cold run did not ask Wix for every token"
ideal_cold=3.125
echo "  median of 5 runs: $cold s; ideal $ideal_cold s ($(awk -v c="$cold" -v i="$ideal_cold" 'BEGIN { printf "%+.1f%%", (c / i - 1) * 100 }'))"
verdict "$(awk -v c="$cold" -v i="$ideal_cold" 'BEGIN { print (c <= i * 1.1) }')" "cold 1,000 at 16: $cold s, target <= $(awk -v i="$ideal_cold" 'BEGIN { print i * 1.1 }') s"

step "3. rate: 1,000 API calls at --rate 100, Wix's limit enforced, a 429 burst at the start"
start_emulator limited --limit-per-instance 200
profile "$tmp/rate" 1000
"$wixauth" token --each-instance >/dev/null 2>&1
curl -sf "$base/__throttle?secs=1" >/dev/null || die "cannot arm the emulator's burst"
started=$(date +%s.%N)
code=0
"$wixauth" api --each-instance --concurrency 16 --rate 100 /apps/v1/instance >"$tmp/rate.jsonl" 2>"$tmp/rate.err" || code=$?
ended=$(date +%s.%N)
rate_time=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.3f", b - a }')
stats=$(curl -sf "$base/__fleet")
check_lines "$tmp/rate.jsonl" 1000 status 200 || code=1
ideal_rate=11
echo "  exit $code in $rate_time s; ideal $ideal_rate s (1000 / 100 + the 1 s Retry-After); emulator: $stats"
echo "  $(tail -n 1 "$tmp/rate.err")"
verdict "$(awk -v c="$code" -v t="$rate_time" -v i="$ideal_rate" 'BEGIN { print (c == 0 && t <= i * 1.1) }')" \
    "rate 1,000 at 100/s: exit $code, $rate_time s, target 0 failures and <= $(awk -v i="$ideal_rate" 'BEGIN { print i * 1.1 }') s"

step "4. memory: the most resident at 100 and 10,000 instances"
base=$plain_base
runs3() { # runs3 ARGS…: three runs, each "RSS-KiB seconds"
    for _ in 1 2 3; do
        /usr/bin/time -f '%M %e' -o "$tmp/rss" "$wixauth" "$@" >/dev/null 2>/dev/null
        cat "$tmp/rss"
    done
}
mid() { sort -n | sed -n 2p; } # the median of three numbers, one a line
declare -A fleet_rss single_rss fleet_time
for n in 100 10000; do
    profile "$tmp/m$n" "$n"
    "$wixauth" token --each-instance --concurrency 16 >/dev/null 2>&1
    runs3 token --each-instance --json >"$tmp/fleet-$n"
    fleet_rss[$n]=$(cut -d' ' -f1 "$tmp/fleet-$n" | mid)
    fleet_time[$n]=$(cut -d' ' -f2 "$tmp/fleet-$n" | mid)
    single_rss[$n]=$(runs3 token | cut -d' ' -f1 | mid)
    "$wixauth" token --each-instance --json >"$tmp/m$n.jsonl" 2>/dev/null
    check_lines "$tmp/m$n.jsonl" "$n" status null || die "the $n-instance run is not all cache hits"
    echo "  $n instances: token --each-instance --json ${fleet_rss[$n]} KiB (${fleet_time[$n]} s); a single token with the same config ${single_rss[$n]} KiB"
done
growth=$((fleet_rss[10000] - fleet_rss[100]))
config_growth=$((single_rss[10000] - single_rss[100]))
verdict "$((growth <= config_growth + 2048))" \
    "memory: the fleet grows by $growth KiB from 100 to 10,000 instances, the config alone by $config_growth KiB; target <= +2048 KiB more"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "load average after: $load_after"
out=${BENCH_FLEET_OUT:-$target_dir/bench/fleet.md}
mkdir -p "$(dirname "$out")"
{
    echo "<!-- scripts/bench-fleet.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $load_before before, $load_after after -->"
    echo "| case | measured | target |"
    echo "|:---|---:|---:|"
    echo "| 1,000 cache hits, \`token --each-instance --json\` (median of 30) | $warm s | <= 0.25 s |"
    echo "| \`cat\` of the same 1,000 cache files (median of 30) | $cat_floor s | (floor) |"
    echo "| 1,000 cold, \`--concurrency 16\`, 50 ms answers (median of 5) | $cold s | <= $(awk -v i="$ideal_cold" 'BEGIN { print i * 1.1 }') s (ideal $ideal_cold) |"
    echo "| 1,000 \`api\`, \`--rate 100\`, 200/min/instance, 1 s of 429 | $rate_time s, exit $code | <= $(awk -v i="$ideal_rate" 'BEGIN { print i * 1.1 }') s (ideal $ideal_rate), 0 failures |"
    echo "| max RSS, 100 instances: fleet / single token | ${fleet_rss[100]} / ${single_rss[100]} KiB | |"
    echo "| max RSS, 10,000 instances: fleet / single token | ${fleet_rss[10000]} / ${single_rss[10000]} KiB | fleet growth <= config growth + 2 MiB |"
    echo "| 100 / 10,000 cache hits, \`token --each-instance --json\` (median of 3) | ${fleet_time[100]} / ${fleet_time[10000]} s | |"
    echo
    echo "emulator after the rate run: \`$stats\`; wixauth: \`$(tail -n 1 "$tmp/rate.err")\`"
    echo
    for r in "${results[@]}"; do echo "- $r"; done
} >"$out"
echo "the fleet numbers: $out"
((failed == 0))
