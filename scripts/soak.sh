#!/usr/bin/env bash
# The soak of `webhook listen --forward-to` at full length (issue 16, item 9): deliveries from
# four senders while the forward target (another `wixauth webhook listen`) is killed with -9 and
# started again at random; the receiver's open descriptors and VmRSS are sampled 30 times and
# printed (`SOAK t=…` lines, for BENCHMARKS.md), and the test fails when they grow, when a
# delivery is not answered within 1250 ms, or when one is missing from stdout.
#
#   scripts/soak.sh        # 600 s (10 minutes)
#   scripts/soak.sh 120    # any other length, in seconds
#
# .ci/run runs the same test for 20 s (its default length). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
[[ $seconds =~ ^[0-9]+$ ]] || {
    echo "scripts/soak.sh: error: the length is a number of seconds, not '$seconds'" >&2
    exit 2
}
export WIXAUTH_SOAK_SECONDS=$seconds
exec cargo test --locked --test it -- --exact --nocapture \
    webhook_load::soak_forwarding_to_a_target_that_is_killed_and_restarted_at_random
