#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/ (README "Fuzzing"), one after another, each for a bounded time.
#
#   scripts/fuzz.sh [--seconds N] [TARGET...]     (default: 25 s each, every target)
#
# Installs what it needs when it is missing (the nightly toolchain's cargo-fuzz, from
# crates.io), builds every target once, then runs each from its committed seeds
# (fuzz/corpus/TARGET, never written to) plus what earlier runs found (fuzz/work/TARGET), with
# its input bound and dictionary. Fails when a target crashes: a panic, a hang past the
# target's bound, an allocation over the limit. The crashing input is kept in
# fuzz/artifacts/TARGET/ and its path printed; `cargo +nightly fuzz run TARGET FILE` replays it.
set -euo pipefail

seconds=25
targets=()
while (($# > 0)); do
    case $1 in
    --seconds)
        seconds=$2
        shift 2
        ;;
    *)
        targets+=("$1")
        shift
        ;;
    esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo/fuzz"

die() {
    printf 'scripts/fuzz.sh: error: %s\n' "$*" >&2
    exit 1
}

# Each target's longest input and dictionary. The bounds: a webhook body is at most 1 MiB and
# a request head 64 KiB, but what finds bugs is variety, not size, so inputs stay short except
# for the server's (just past the head limit, to reach it).
declare -A max_len=(
    [webhook]=16384 [public_key]=8192 [callback]=4096 [config_toml]=16384
    [secrets_toml]=8192 [cache_entry]=4096 [serve]=70000 [urls]=4096
    [wix_answers]=8192 [api]=4096 [webhook_lab]=16384 [dotenv]=8192 [instance_ids]=8192
)
declare -A dict=(
    [webhook]=jwt [callback]=url [config_toml]=toml [secrets_toml]=toml [cache_entry]=jwt
    [serve]=http [urls]=url [wix_answers]=jwt [api]=url [webhook_lab]=jwt [dotenv]=dotenv
)
if ((${#targets[@]} == 0)); then
    targets=(webhook public_key callback config_toml secrets_toml cache_entry serve urls wix_answers api webhook_lab dotenv instance_ids)
fi
for target in "${targets[@]}"; do
    [[ -n ${max_len[$target]:-} ]] || die "no such target: $target (see fuzz/Cargo.toml)"
done

rustup toolchain list | grep -q '^nightly' || die "no nightly toolchain: rustup toolchain install nightly"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi
cargo +nightly fuzz --version

# Nice: the machine is shared. The build is the slow part, so it is done once, up front.
nice -n 19 cargo +nightly fuzz build 2>&1 | tail -n 3 || die "the fuzz targets do not build"
for target in "${targets[@]}"; do
    work="work/$target"
    mkdir -p "$work" "artifacts/$target"
    options=(
        -max_total_time="$seconds"
        -max_len="${max_len[$target]}"
        # Per input: far past what any takes; the server target bounds its own exchange.
        -timeout=10
        # ASan's own overhead included; one allocation past 64 MiB from an input this short
        # is a bug (the largest documented bound, on Wix's answers, is 64 MiB).
        -rss_limit_mb=1536
        -malloc_limit_mb=64
        -print_final_stats=1
    )
    if [[ -n ${dict[$target]:-} ]]; then
        options+=(-dict="dicts/${dict[$target]}.dict")
    fi
    printf -- '--- %s: %s s\n' "$target" "$seconds"
    log="work/$target.log"
    # The first corpus folder receives what the run finds; the seeds are only read.
    if ! nice -n 19 cargo +nightly fuzz run "$target" "$work" "corpus/$target" -- "${options[@]}" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "fuzz target $target failed (log: fuzz/$log; the input: fuzz/artifacts/$target/)"
    fi
    grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^#[0-9]+ +DONE' "$log" | tr '\n' ' '
    echo
done
