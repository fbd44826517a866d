#!/usr/bin/env bash
# Runs every edgeflag test: installs what is missing (scripts/setup.sh), then the Rust tests of
# the engine and CLI, and each component's suite (WASM in Node/workerd/Chromium, OpenFeature
# providers, server, canary analysis, Unleash spec, dashboard, a fuzz smoke run, and at scale:
# PostgreSQL, replicas, Prometheus). Prints one "N passed, M failed" line per suite and
# a total; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup.sh || { echo "setup failed"; exit 1; }

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
total_passed=0
total_failed=0
failed_suites=()

# Adds a suite's "N passed, M failed" (its last such line) to the totals.
run_suite() {
  local name=$1; shift
  printf '\n==> test: %s\n' "$name"
  local log="$log_dir/$name.log" status
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  local p f
  p=$(grep -Eo '[0-9]+ passed' "$log" | tail -1 | awk '{print $1}')
  f=$(grep -Eo '[0-9]+ failed' "$log" | tail -1 | awk '{print $1}')
  total_passed=$((total_passed + ${p:-0}))
  total_failed=$((total_failed + ${f:-0}))
  if [ "$status" -ne 0 ]; then
    failed_suites+=("$name")
    [ "${f:-0}" -eq 0 ] && total_failed=$((total_failed + 1))
  fi
}

# cargo prints one "test result" line per test binary; sum them into one line.
cargo_suite() {
  local log="$log_dir/cargo-raw.log" status
  cargo test "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  local p f
  p=$(grep -E '^test result:' "$log" | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
  f=$(grep -E '^test result:' "$log" | grep -Eo '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')
  echo "cargo: $p passed, $f failed"
  return "$status"
}

run_suite evaluator cargo_suite -p edgeflag-readers -p edgeflag-evaluator -p edgeflag-cli
# fuzz before wasm: the WASM suite replays the corpora the smoke run grew (tests/js/fuzz-corpus.test.mjs).
for suite in analysis unleash fuzz wasm providers server scale dashboard; do
  if [ -x "scripts/test-$suite.sh" ]; then
    run_suite "$suite" "scripts/test-$suite.sh"
  else
    echo "skipped suite $suite: scripts/test-$suite.sh does not exist in this checkout"
  fi
done

echo
if [ ${#failed_suites[@]} -gt 0 ]; then
  echo "failed suites: ${failed_suites[*]}"
fi
echo "total: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
