#!/usr/bin/env bash
# Dashboard tests: unit tests of the logic (native), then end-to-end tests in headless
# Chromium against the real server serving the freshly built dashboard.
# The e2e runner starts and always stops its own server and browser.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== unit tests (cargo test -p edgeflag-dashboard)"
cargo test -p edgeflag-dashboard 2>&1 | tee target/dashboard-unit.log | grep -E '^test result|FAILED|panicked' || true
unit_passed=$(grep -Eo '[0-9]+ passed' target/dashboard-unit.log | awk '{s+=$1} END {print s+0}')
unit_failed=$(grep -Eo '[0-9]+ failed' target/dashboard-unit.log | awk '{s+=$1} END {print s+0}')
if ! grep -q '^test result' target/dashboard-unit.log; then unit_failed=$((unit_failed + 1)); fi

echo "== build (server binary and dashboard)"
cargo build -p edgeflag-cli --bin edgeflag
scripts/build-dashboard.sh

echo "== end-to-end tests (Chromium)"
e2e_status=0
node tests/e2e/dashboard.test.mjs | tee target/dashboard-e2e.log || e2e_status=$?
e2e_passed=$(grep -Eo '^[0-9]+ passed' target/dashboard-e2e.log | grep -Eo '[0-9]+' || echo 0)
e2e_failed=$(grep -Eo ', [0-9]+ failed' target/dashboard-e2e.log | grep -Eo '[0-9]+' || echo 1)

passed=$((unit_passed + e2e_passed))
failed=$((unit_failed + e2e_failed))
echo "dashboard: unit ${unit_passed} passed/${unit_failed} failed, e2e ${e2e_passed} passed/${e2e_failed} failed"
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 && $e2e_status -eq 0 ]]
