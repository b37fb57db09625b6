#!/usr/bin/env bash
# The webhook lab's numbers (issue 19), one run; scripts/bench.sh runs it after its own part:
#
#   1. `wixauth webhook trigger AppInstalled --to URL`  vs  curl POSTing the same body to the same
#      handler (`wixauth webhook listen --dev-key`, which answers at once), hyperfine, interleaved
#      rounds                                                   target: trigger - curl <= 5 ms (medians)
#   2. the whole `wixauth webhook test URL` battery on that handler, 5 runs   target: median <= 3 s
#   3. `trigger PaidPlanPurchased --count 1000 --concurrency 32` into `webhook listen --dev-key`,
#      and the same burst into the Node @wix/sdk handler of examples/webhooks: every delivery verified,
#      none lost, none twice (counted by their invoiceId); throughput and p99 beside
#      `openssl speed -seconds 3 rsa2048` (its verify/s is the limit of one core)
#                                   targets: >= 2x the Node handler, >= 50% of the verify limit, p99 <= 20 ms
#
#   scripts/bench-webhook.sh WIXAUTH [OUT]     (OUT default target/bench/webhook.md)
#
# Only 127.0.0.1. Exits 1 when a target is not met (the numbers are printed and written either way).
set -euo pipefail

wixauth=${1:?usage: scripts/bench-webhook.sh path/to/wixauth [OUT]}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${2:-$repo/target/bench/webhook.md}
count=1000
concurrency=32

die() {
    printf 'scripts/bench-webhook.sh: error: %s\n' "$*" >&2
    exit 1
}
section() {
    printf '\n==== %s ====\n' "$*"
}

command -v hyperfine >/dev/null 2>&1 || die "hyperfine is missing (scripts/bench.sh installs it)"
command -v curl >/dev/null 2>&1 || die "curl is missing"
command -v node >/dev/null 2>&1 || die "node is missing (the Node handler of examples/webhooks)"
command -v openssl >/dev/null 2>&1 || die "openssl is missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wixauth-bench-webhook.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

# A private config dir and file store unless the caller (scripts/bench.sh) set one.
export WIXAUTH_CONFIG_DIR=${WIXAUTH_CONFIG_DIR:-$tmp/config}
export WIXAUTH_SECRET_STORE=${WIXAUTH_SECRET_STORE:-file}
unset WIX_INSTANCE_ID WIX_APP_ID WIX_WEBHOOK_PUBLIC_KEY WIXAUTH_PROFILE

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `wixauth webhook listen --dev-key` with ARGS; sets $listen_url and $listen_pid.
start_listen() {
    local port name=$1
    shift
    port=$(free_port)
    "$wixauth" webhook listen --dev-key --port "$port" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    listen_pid=$!
    pids+=("$listen_pid")
    for _ in $(seq 200); do
        grep -q '^Listening on' "$tmp/$name.err" 2>/dev/null && break
        kill -0 "$listen_pid" 2>/dev/null || die "webhook listen exited: $(cat "$tmp/$name.err")"
        sleep 0.025
    done
    listen_url="http://127.0.0.1:$port/webhook"
}

section "Webhook lab: dev key and handlers"
"$wixauth" webhook dev-key >/dev/null 2>&1
if [[ ! -d $repo/examples/webhooks/node_modules/@wix/sdk ]]; then
    (cd "$repo/examples/webhooks" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in examples/webhooks failed"
fi
echo "node $(node --version), $(openssl version)"

# The body curl sends: one delivery trigger signed, as `listen --save-deliveries` saved it.
start_listen capture --save-deliveries "$tmp/saved" --once
"$wixauth" webhook trigger AppInstalled --to "$listen_url" 2>/dev/null || die "the first trigger failed"
wait "$listen_pid" 2>/dev/null || true
python3 - "$tmp/saved" "$tmp/body.jwt" <<'PY'
import json, os, sys
name = sorted(f for f in os.listdir(sys.argv[1]) if f.endswith(".json"))[0]
open(sys.argv[2], "w").write(json.load(open(os.path.join(sys.argv[1], name)))["body"])
PY
echo "one delivery: $(wc -c <"$tmp/body.jwt") bytes"

start_listen fast
fast_url=$listen_url
curl_cmd="curl -s -o /dev/null -X POST -H 'content-type: text/plain; charset=utf-8' --data-binary @$tmp/body.jwt $fast_url"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: text/plain; charset=utf-8' --data-binary @"$tmp/body.jwt" "$fast_url")
[[ $status == 200 ]] || die "the handler answered curl with $status"

section "1. trigger vs curl (10 rounds of 3 warm-up + 20 runs each)"
names=('wixauth webhook trigger AppInstalled' 'curl POST (same body)')
commands=("$wixauth webhook trigger AppInstalled --to $fast_url" "$curl_cmd")
args=()
for ((r = 0; r < 10; r++)); do
    order=(0 1)
    ((r % 2)) && order=(1 0)
    for i in "${order[@]}"; do
        args+=(-n "${names[$i]}" "${commands[$i]}")
    done
done
hyperfine -N --warmup 3 --runs 20 --style basic --export-json "$tmp/trigger.json" "${args[@]}" >"$tmp/hyperfine.out" 2>&1 ||
    die "hyperfine failed: $(tail -n 5 "$tmp/hyperfine.out")"
read -r trigger_ms curl_ms < <(python3 - "$tmp/trigger.json" "${names[@]}" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
print(" ".join(f"{statistics.median([t * 1000 for r in results if r['command'] == n for t in r['times']]):.3f}" for n in sys.argv[2:]))
PY
)
overhead=$(awk -v a="$trigger_ms" -v b="$curl_ms" 'BEGIN { printf "%.2f", a - b }')
verdict1=$(awk -v o="$overhead" 'BEGIN { print (o <= 5 ? "met" : "NOT met") }')
echo "  trigger $trigger_ms ms, curl $curl_ms ms (medians of 200 runs): trigger - curl = $overhead ms (target <= 5 ms: $verdict1)"

section "2. the whole battery (webhook test) on the same handler, 5 runs"
battery=()
for _ in 1 2 3 4 5; do
    start=$(date +%s.%N)
    "$wixauth" webhook test "$fast_url" >"$tmp/card.txt" 2>&1 || die "the battery failed: $(cat "$tmp/card.txt")"
    battery+=("$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')")
done
battery_median=$(printf '%s\n' "${battery[@]}" | sort -n | sed -n 3p)
verdict2=$(awk -v m="$battery_median" 'BEGIN { print (m <= 3 ? "met" : "NOT met") }')
echo "  runs: ${battery[*]} s; median $battery_median s (target <= 3 s: $verdict2); $(tail -n 1 "$tmp/card.txt")"

# A burst of fresh PaidPlanPurchased events into the handler at $1; its JSON lines (one per
# verified event) are in file $2. Prints: rate p99 received distinct.
burst() {
    local url=$1 events=$2 name=$3
    "$wixauth" webhook trigger PaidPlanPurchased --to "$url" --count "$count" --concurrency "$concurrency" \
        2>"$tmp/$name-trigger.err" || die "the burst into $name failed: $(tail -n 2 "$tmp/$name-trigger.err")"
    sleep 0.5 # the last lines reach the handler's stdout
    python3 - "$tmp/$name-trigger.err" "$events" <<'PY'
import json, re, sys
summary = open(sys.argv[1]).read().strip().splitlines()[-1]
rate = re.search(r"\(([0-9.]+) a second\)", summary).group(1)
p99 = re.search(r"p99 ([0-9.]+) ms", summary).group(1)
ids = []
for line in open(sys.argv[2]):
    line = line.strip()
    if line.startswith("{"):
        event = json.loads(line)
        data = event.get("data", {})
        ids.append(data.get("invoiceId"))
print(rate, p99, len(ids), len(set(ids)))
PY
}

section "3. trigger --count $count --concurrency $concurrency"
start_listen burst
read -r listen_rate listen_p99 listen_got listen_distinct < <(burst "$listen_url" "$tmp/burst.out" listen)
kill "$listen_pid" 2>/dev/null || true
echo "  into wixauth webhook listen: $listen_rate a second, p99 $listen_p99 ms; received $listen_got, distinct $listen_distinct"

node_port=$(free_port)
(cd "$repo/examples/webhooks" && WIX_PUBLIC_KEY="$("$wixauth" webhook dev-key --format base64 2>/dev/null)" \
    PORT=$node_port HOST=127.0.0.1 exec node handler.mjs) >"$tmp/node.out" 2>"$tmp/node.err" &
node_pid=$!
pids+=("$node_pid")
for _ in $(seq 200); do
    grep -q '^listening on' "$tmp/node.err" 2>/dev/null && break
    kill -0 "$node_pid" 2>/dev/null || die "the Node handler exited: $(cat "$tmp/node.err")"
    sleep 0.025
done
read -r node_rate node_p99 node_got node_distinct < <(burst "http://127.0.0.1:$node_port/webhooks" "$tmp/node.out" node)
kill "$node_pid" 2>/dev/null || true
echo "  into the Node @wix/sdk handler: $node_rate a second, p99 $node_p99 ms; received $node_got, distinct $node_distinct"

openssl speed -seconds 3 rsa2048 >"$tmp/openssl.out" 2>/dev/null || die "openssl speed failed"
verify_limit=$(awk '/^rsa *2048 bits/ { v = $NF } END { print v }' "$tmp/openssl.out")
[[ -n $verify_limit ]] || die "no rsa 2048 line in openssl speed's output"
echo "  openssl speed -seconds 3 rsa2048: $verify_limit verify/s (one core)"

verdict3=$(awk -v l="$listen_rate" -v n="$node_rate" -v v="$verify_limit" -v p="$listen_p99" \
    -v g="$listen_got" -v d="$listen_distinct" -v c="$count" 'BEGIN {
    printf "every delivery verified once: %s; %.1fx the Node handler (target >= 2x: %s); %.0f%% of the verify limit (target >= 50%%: %s); p99 %s ms (target <= 20 ms: %s)",
        (g == c && d == c ? "yes" : "NO"), l / n, (l >= 2 * n ? "met" : "NOT met"),
        100 * l / v, (l >= v / 2 ? "met" : "NOT met"), p, (p <= 20 ? "met" : "NOT met")
}')
echo "  $verdict3"

mkdir -p "$(dirname "$out")"
{
    echo "<!-- scripts/bench-webhook.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), load average $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version), $(openssl version | cut -d' ' -f1-2) -->"
    echo "| measurement | value | target |"
    echo "|:---|---:|:---|"
    echo "| \`webhook trigger AppInstalled\` (median of 200) | $trigger_ms ms | |"
    echo "| curl POST of the same body (median of 200) | $curl_ms ms | |"
    echo "| trigger − curl | $overhead ms | ≤ 5 ms ($verdict1) |"
    echo "| \`webhook test\`, the whole battery (median of 5) | $battery_median s | ≤ 3 s ($verdict2) |"
    echo "| burst into \`webhook listen --dev-key\` | $listen_rate/s, p99 $listen_p99 ms, $listen_got received, $listen_distinct distinct | p99 ≤ 20 ms |"
    echo "| burst into the Node \`@wix/sdk\` handler | $node_rate/s, p99 $node_p99 ms, $node_got received, $node_distinct distinct | |"
    echo "| \`openssl speed -seconds 3 rsa2048\` verify | $verify_limit/s | |"
    echo
    echo "$verdict3"
} >"$out"
echo "the webhook numbers: $out"

[[ $verdict1 == met && $verdict2 == met && $verdict3 != *"NOT met"* && $verdict3 != *": NO;"* ]]
