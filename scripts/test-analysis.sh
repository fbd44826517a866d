#!/usr/bin/env bash
# Canary judgement and experiment statistics (evaluator feature `analysis`): unit tests, scipy
# reference values (fixed-horizon and sequential), the short seeded canary simulation, clippy,
# and a wasm32 build with the feature on.
#
# The simulation's short form (tests/canary_sim.rs) runs in debug in about half a minute on two
# cores; the full grid is run by hand in release mode (evaluator/ANALYSIS.md, "Evidence"):
#   cargo run --release -p edgeflag-evaluator --features analysis --example canary_sim -- --full
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
cargo test -p edgeflag-evaluator --features analysis -- judgement:: stats:: 2>&1 | tee "$log" || status=1
cargo test -p edgeflag-evaluator --features analysis --test stats_reference 2>&1 | tee -a "$log" || status=1
cargo test -p edgeflag-evaluator --features analysis --test sequential_reference 2>&1 | tee -a "$log" || status=1
cargo test -p edgeflag-evaluator --features analysis --test canary_sim 2>&1 | tee -a "$log" || status=1

passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')

# Clippy over the crate, but only this area's findings count (other modules have their owners).
clippy_log=$(mktemp)
cargo clippy -p edgeflag-evaluator --features analysis --all-targets --message-format=short 2>&1 | tee "$clippy_log" || true
if grep -E '^evaluator/(src/(judgement|stats)/|tests/(stats_reference|sequential_reference|canary_sim)\.rs|tests/sim/|examples/canary_sim\.rs)' "$clippy_log"; then
  echo "clippy: findings in the analysis modules"
  status=1
fi
rm -f "$clippy_log"
if rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  cargo build -p edgeflag-evaluator --features analysis --target wasm32-unknown-unknown || status=1
else
  echo "SKIP wasm32 build: target wasm32-unknown-unknown is not installed"
fi

echo "analysis: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then status=1; fi
exit "$status"
