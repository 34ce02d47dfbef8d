#!/usr/bin/env bash
# Runs the fuzz targets in tests/fuzz_inputs.rs in release mode, 10^6 inputs each by
# default, and prints each target's input count, time and inputs per second.
#   scripts/fuzz.sh                      # 1000000 inputs per target
#   CLAUDE_BOTTLE_FUZZ_CASES=50000 scripts/fuzz.sh
#   CLAUDE_BOTTLE_FUZZ_SEED=7 scripts/fuzz.sh manifest   # another input stream, one target
# A failure names the input; CLAUDE_BOTTLE_FUZZ_ONLY=<index> reruns just that one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CLAUDE_BOTTLE_FUZZ_CASES="${CLAUDE_BOTTLE_FUZZ_CASES:-1000000}"
filter="fuzz_${1:-}"
echo "fuzz: ${CLAUDE_BOTTLE_FUZZ_CASES} inputs per target, seed ${CLAUDE_BOTTLE_FUZZ_SEED:-default}" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --release --test fuzz_inputs "$filter" -- --nocapture --test-threads 2 >"$log" 2>&1 || status=$?
# The counts, rates and any failure (with the input that caused it).
grep -E '^(fuzz |test result|manifest: |pipelock: |input)|panicked' "$log" || cat "$log"
exit "$status"
