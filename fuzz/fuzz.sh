#!/usr/bin/env bash
# Builds and runs spikeforge's fuzz targets with libFuzzer on stable Rust
# (docs/fuzzing.md). `./dev fuzz` and `./dev test` call this script.
#
#   fuzz/fuzz.sh build                   instrumented build of every target
#   fuzz/fuzz.sh run [TARGET|all] [SECONDS]   fuzz one or all targets, one at a time (default all, 60 s each)
#   fuzz/fuzz.sh replay TARGET FILE...   run inputs once through a target (a crash reproduces)
#   fuzz/fuzz.sh list                    the targets
#
# A crash ends the run with exit status 1 after printing the reproducer's
# path and the command that replays it.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")"
fuzz_dir=$PWD
repo=$(cd .. && pwd)

TARGETS=(network stimulus spec onnx protocol)

# SanitizerCoverage through stable codegen options (what cargo-fuzz passes
# with `--sanitizer none`): 8-bit edge counters and the PC table drive
# libFuzzer's coverage feedback, comparison tracing lets it solve magic
# values (keywords, CRCs). No -Z flag, so stable rustc builds it.
RUSTFLAGS_FUZZ="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cllvm-args=-sanitizer-coverage-stack-depth \
 -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
 --cfg fuzzing"
host=$(rustc -vV | sed -n 's/^host: //p')
bin_dir="$fuzz_dir/target/$host/release"

build() {
    # --target keeps RUSTFLAGS away from build scripts (they must not be
    # instrumented: nothing links libFuzzer into them).
    RUSTFLAGS="$RUSTFLAGS_FUZZ" cargo build --quiet --release --manifest-path "$fuzz_dir/Cargo.toml" \
        --target "$host" --target-dir "$fuzz_dir/target" --bins
}

# Where a target's seeds come from (repository files; fuzz/seeds holds the
# generated ones). Keep in step with `seeds()` in src/tests.rs.
seed_files() {
    local f
    case "$1" in
        network) ls "$repo"/examples/*/*.toml "$repo"/examples/*/*.json "$repo"/tests/corpus/invalid/* \
                    "$repo"/tests/corpus/map/* ;;
        stimulus) ls "$repo"/tests/corpus/stimulus/*.csv "$repo"/examples/*/stimulus.csv ;;
        spec) ls "$fuzz_dir"/seeds/spec/* ;;
        onnx)
            ls "$fuzz_dir"/seeds/onnx/*
            # Only models within -max_len: a longer one would be cut and then
            # is no longer an ONNX file.
            for f in "$repo"/convert/models/*.onnx "$repo"/convert/tests/onnx/*.onnx; do
                [ "$(stat -c %s "$f")" -le "$(max_len onnx)" ] && echo "$f"
            done ;;
        protocol) ls "$fuzz_dir"/seeds/protocol/* ;;
    esac
    ls "$repo"/tests/corpus/fuzz/"$1"/* 2>/dev/null || true
}

max_len() {
    case "$1" in
        onnx) echo 12288 ;;
        *) echo 4096 ;;
    esac
}

run_one() {
    local t=$1 secs=$2
    local corpus="$fuzz_dir/corpus/$t" artifacts="$fuzz_dir/artifacts/$t" log="$fuzz_dir/logs/$t.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    local f dest
    for f in $(seed_files "$t"); do
        # Not `cp -n`: newer coreutils make it fail when the file exists.
        dest="$corpus/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
        [ -e "$dest" ] || cp "$f" "$dest"
    done
    local before
    before=$(ls "$artifacts" | wc -l)
    echo "fuzz: $t for $secs s (log: ${log#"$repo"/})"
    local status=0
    # -rss_limit_mb: a hostile input that makes the code use gigabytes is a
    # finding (an oom- artifact), not a machine-wide problem.
    nice -n 10 "$bin_dir/$t" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?
    summary "$t" "$log"
    if [ "$status" -ne 0 ] || [ "$(ls "$artifacts" | wc -l)" -ne "$before" ]; then
        echo "fuzz: $t FAILED (libFuzzer exit status $status); the end of its log:" >&2
        tail -n 40 "$log" >&2
        local a
        for a in $(ls -t "$artifacts"); do
            echo "fuzz: reproducer: ${artifacts#"$repo"/}/$a" >&2
            echo "fuzz: replay it:  fuzz/fuzz.sh replay $t ${artifacts#"$repo"/}/$a" >&2
            break
        done
        return 1
    fi
}

# One line of figures from a libFuzzer log: executions, speed, coverage.
summary() {
    local t=$1 log=$2
    local execs speed last
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+' || true)
    echo "fuzz: $t: ${execs:-?} executions, ${speed:-?} exec/s, ${last:-no coverage line}"
}

replay() {
    local t=$1
    shift
    build
    local f
    for f in "$@"; do
        "$bin_dir/$t" -rss_limit_mb=2048 "$(cd "$caller" && realpath "$f")"
    done
}

check_target() {
    local t
    for t in "${TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done
    echo "fuzz: unknown target '$1' (targets: ${TARGETS[*]})" >&2
    exit 2
}

cmd=${1:-run}
[ $# -gt 0 ] && shift
case "$cmd" in
    build) build ;;
    list) printf '%s\n' "${TARGETS[@]}" ;;
    run)
        which=${1:-all}
        secs=${2:-60}
        [ "$which" = all ] || check_target "$which"
        build
        failed=0
        for t in "${TARGETS[@]}"; do
            if [ "$which" = all ] || [ "$which" = "$t" ]; then
                run_one "$t" "$secs" || failed=1
            fi
        done
        exit "$failed"
        ;;
    replay)
        [ $# -ge 2 ] || { echo "usage: fuzz/fuzz.sh replay TARGET FILE..." >&2; exit 2; }
        check_target "$1"
        replay "$@"
        ;;
    *)
        sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
