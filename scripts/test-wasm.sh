#!/usr/bin/env bash
# Tests of the WASM package: Node API + hostile inputs, the native-vs-WASM differential corpus,
# the Unleash spec and differential against the Node SDK, the fuzz corpora replayed, the edge
# worker in real workerd, and the browser page in headless Chromium; the core module's size
# budget; and the prebuilt-std fallback build (scripts/wasm-size-flags.sh) against the Node
# tests. Run from anywhere; needs the setup tools (wasm-bindgen-cli, `npm install`, chromium).
# Prints "N passed, M failed" and exits non-zero on any failure. Servers and browsers are
# started and stopped by the tests themselves (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

# The core module must stay within 100 KB gzipped (wasm/README.md "Size"): a regression fails
# here instead of only changing the README's table.
CORE_WASM_BUDGET=100000

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
passed=0
failed=0

count() { # adds the last node test run's pass/fail counts
  local p f
  p=$(grep -E '^ℹ pass [0-9]+' "$log" | awk '{print $3}' | tail -1)
  f=$(grep -E '^ℹ fail [0-9]+' "$log" | awk '{print $3}' | tail -1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-1}))
}

mkdir -p target/edgeflag-wasm
# Native answers for the differential test (deterministic seed).
cargo run --quiet --release -p edgeflag-wasm --example corpus -- target/edgeflag-wasm/corpus.json
# The Unleash differential cases (evaluator/tests/support/unleash_cases.rs).
cargo run --quiet -p edgeflag-evaluator --example unleash_cases -- target/edgeflag-wasm/unleash-cases.json
# The fuzz corpora's seeds, for tests/js/fuzz-corpus.test.mjs (fuzz runs add to them).
node fuzz/seeds.mjs

# The prebuilt-std fallback first, in its own target directory (its flags differ, so it would
# otherwise rebuild the default's artefacts), against the Node tests that need no browser or
# workerd. The default build below then replaces wasm/pkg.
echo "== prebuilt std (EDGEFLAG_WASM_STD=prebuilt)"
EDGEFLAG_WASM_STD=prebuilt CARGO_TARGET_DIR=target/wasm-prebuilt-std scripts/build-wasm.sh
node --test --test-reporter=spec tests/js/wasm-api.test.mjs tests/js/differential.test.mjs tests/js/validated.test.mjs \
  tests/js/unleash-spec.test.mjs tests/js/fuzz-corpus.test.mjs 2>&1 | tee "$log" || status=$?
count

echo "== default build"
scripts/build-wasm.sh
if scripts/size-budget.sh "core wasm" "$CORE_WASM_BUDGET" wasm/pkg/edgeflag_wasm_bg.wasm; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  status=1
fi
node --test --test-reporter=spec tests/js/*.test.mjs 2>&1 | tee "$log" || status=$?
count
skipped=$(grep -E '^ℹ skipped [0-9]+' "$log" | awk '{print $3}' | tail -1)
echo "test-wasm: ${passed} passed, ${failed} failed, ${skipped:-0} skipped"
if [[ $failed != 0 || $status != 0 ]]; then
  exit 1
fi
