#!/usr/bin/env bash
# Unleash compatibility: the official @unleash/client-specification suite (pinned in the root
# package.json; `npm ci` installs it) natively (cargo), through the WASM module and through
# `edgeflag eval --format unleash`; then the seeded differential runs (evaluator/UNLEASH.md
# "Differential tests"): 12,000 generated cases against yggdrasil natively and against the
# Node SDK (unleash-client) through WASM. Each spec runtime prints "unleash spec (<runtime>):
# N passed, M failed"; the last line totals the test cases. Exits non-zero on any failure.
# Needs: `npm ci` at the repo root, wasm32 target and wasm-bindgen-cli (scripts/build-wasm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

# Native: the spec suite plus behaviour tests of edgeflag_evaluator::unleash.
cargo test -p edgeflag-evaluator --test unleash_spec --test unleash_agrees -- --nocapture 2>&1 | tee -a "$log" || status=$?

# WASM and CLI runs share the node test file.
cargo build --quiet -p edgeflag-cli
scripts/build-wasm.sh
# The differential cases, the same the native run generated (tests/support/unleash_cases.rs).
cargo run --quiet -p edgeflag-evaluator --example unleash_cases -- target/edgeflag-wasm/unleash-cases.json
EDGEFLAG_BIN="$PWD/target/debug/edgeflag" \
  node --test --test-reporter=spec tests/js/unleash-spec.test.mjs tests/js/unleash-differential.test.mjs 2>&1 \
  | tee -a "$log" || status=$?

echo
grep -E '^(ℹ )?unleash (spec \(|vs )' "$log" | sed 's/^ℹ //' || true
runtimes=$(grep -cE 'unleash spec \((native|wasm|cli)\):.* 0 failed' "$log" || true)
cargo_lines=$(grep -E '^test result:' "$log" || true)
node_pass=$(grep -E '^ℹ pass [0-9]+' "$log" | awk '{print $3}' | tail -1)
node_fail=$(grep -E '^ℹ fail [0-9]+' "$log" | awk '{print $3}' | tail -1)
node_skip=$(grep -E '^ℹ skipped [0-9]+' "$log" | awk '{print $3}' | tail -1)
cargo_pass=$(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1/p' <<<"$cargo_lines" | awk '{s += $1} END {print s + 0}')
cargo_fail=$(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\2/p' <<<"$cargo_lines" | awk '{s += $1} END {print s + 0}')
[[ -n "$cargo_lines" ]] || cargo_fail=1
passed=$(( ${cargo_pass:-0} + ${node_pass:-0} ))
failed=$(( ${cargo_fail:-1} + ${node_fail:-1} ))
echo "test-unleash: ${passed} passed, ${failed} failed, ${node_skip:-0} skipped (spec clean in ${runtimes}/3 runtimes)"
if [[ $status != 0 || $failed != 0 || $runtimes != 3 || ${node_skip:-0} != 0 ]]; then
  exit 1
fi
