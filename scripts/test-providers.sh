#!/usr/bin/env bash
# Tests of the OpenFeature providers (providers/): OpenFeature's gherkin suites, the native
# corpus through each provider's typed API, the web provider in headless Chromium and the
# server provider in Node and workerd against the real server, the OFREP client of issue 17's
# report against the server's OFREP beside local evaluation, and the Rust provider
# (cargo test -p edgeflag-openfeature). Prints "N passed, M failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# What the JS tests need: the WASM package, the native corpus, the server binary. Each is
# built only when missing (scripts/test-wasm.sh, which scripts/test.sh runs first, builds the
# first two; `cargo build` is a no-op when nothing changed).
[[ -f wasm/pkg/node.js ]] || scripts/build-wasm.sh || exit 1
if [[ ! -f target/edgeflag-wasm/corpus.json ]]; then
  mkdir -p target/edgeflag-wasm
  cargo run --quiet --release -p edgeflag-wasm --example corpus -- target/edgeflag-wasm/corpus.json || exit 1
fi
cargo build --quiet -p edgeflag-cli || exit 1

log=$(mktemp)
rs_log=$(mktemp)
trap 'rm -f "$log" "$rs_log"' EXIT
status=0
node --test --test-reporter=spec tests/providers/*.test.mjs 2>&1 | tee "$log" || status=$?
js_passed=$(grep -E '^ℹ pass [0-9]+' "$log" | awk '{print $3}' | tail -1)
js_failed=$(grep -E '^ℹ fail [0-9]+' "$log" | awk '{print $3}' | tail -1)
js_skipped=$(grep -E '^ℹ skipped [0-9]+' "$log" | awk '{print $3}' | tail -1)
[[ -z "$js_failed" ]] && js_failed=1

cargo test -p edgeflag-openfeature --features http -- --nocapture 2>&1 | tee "$rs_log" || status=$?
rs_passed=$(grep -E '^test result:' "$rs_log" | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
rs_failed=$(grep -E '^test result:' "$rs_log" | grep -Eo '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')

echo
grep -h "openfeature suites," "$log" "$rs_log" 2>/dev/null | sed 's/^[# ]*//' || true
echo "test-providers: $(( ${js_passed:-0} + rs_passed )) passed, $(( js_failed + rs_failed )) failed, ${js_skipped:-0} skipped (not applicable or missing tools, each with its reason above)"
if [[ $status != 0 || $js_failed != 0 || $rs_failed != 0 ]]; then
  exit 1
fi
