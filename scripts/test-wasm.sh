#!/usr/bin/env bash
# Tests of the WASM package: Node API + hostile inputs, the native-vs-WASM differential corpus,
# the edge worker in real workerd, and the browser page in headless Chromium.
# Run from anywhere; needs the setup tools (wasm-bindgen-cli, `npm install`, chromium).
# Prints "N passed, M failed" and exits non-zero on any failure. Servers and browsers are
# started and stopped by the tests themselves (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-wasm.sh
mkdir -p target/edgeflag-wasm
# Native answers for the differential test (deterministic seed).
cargo run --quiet --release -p edgeflag-wasm --example corpus -- target/edgeflag-wasm/corpus.json

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
node --test --test-reporter=spec tests/js/*.test.mjs 2>&1 | tee "$log" || status=$?
passed=$(grep -E '^ℹ pass [0-9]+' "$log" | awk '{print $3}' | tail -1)
failed=$(grep -E '^ℹ fail [0-9]+' "$log" | awk '{print $3}' | tail -1)
skipped=$(grep -E '^ℹ skipped [0-9]+' "$log" | awk '{print $3}' | tail -1)
echo "test-wasm: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [[ "${failed:-1}" != 0 || $status != 0 ]]; then
  exit 1
fi
