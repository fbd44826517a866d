#!/usr/bin/env bash
# Dashboard tests: unit tests of the logic (native), the bundle's size budget (400 KB
# gzipped), then end-to-end tests in headless Chromium against the real server serving the
# freshly built dashboard.
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

# The bundle (the .wasm and the JS glue, gzip -9, as dashboard/README.md "Figures" measures it)
# has a budget, the issue's 400 KB goal: a regression fails here instead of only changing the
# README (the steps that got it there and what is left to cut: dashboard/README.md "Figures").
DASHBOARD_BUDGET=${DASHBOARD_BUDGET:-400000}
echo "== size budget"
budget_passed=0
budget_failed=0
if scripts/size-budget.sh "dashboard bundle" "$DASHBOARD_BUDGET" dist/*_bg.wasm dist/edgeflag-dashboard-*.js; then
  budget_passed=1
else
  budget_failed=1
fi

echo "== end-to-end tests (Chromium)"
# dashboard.test.mjs: the screens; canary.test.mjs: the canary view's metrics sources, with a
# real Prometheus scraping the server (its tests print "skip - ..." when prometheus is missing);
# concurrent.test.mjs: the page, the canary controller and a second admin writing at once;
# routes.test.mjs: the URLs (deep links, back button, reloads, selection by key).
e2e_status=0
e2e_passed=0
e2e_failed=0
e2e_skipped=0
for suite in dashboard canary concurrent routes; do
  log="target/${suite}-e2e.log"
  node "tests/e2e/${suite}.test.mjs" | tee "$log" || e2e_status=$?
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
  if [[ -z "$summary" ]]; then
    echo "tests/e2e/${suite}.test.mjs printed no summary"; e2e_failed=$((e2e_failed + 1)); continue
  fi
  e2e_passed=$((e2e_passed + $(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$summary")))
  e2e_failed=$((e2e_failed + $(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$summary")))
  e2e_skipped=$((e2e_skipped + $(grep -Eo '[0-9]+ skipped' <<<"$summary" | grep -Eo '[0-9]+' || echo 0)))
done

passed=$((unit_passed + e2e_passed + budget_passed))
failed=$((unit_failed + e2e_failed + budget_failed))
echo "dashboard: unit ${unit_passed} passed/${unit_failed} failed, e2e ${e2e_passed} passed/${e2e_failed} failed/${e2e_skipped} skipped, size budget $([[ $budget_failed == 0 ]] && echo ok || echo OVER)"
echo "${passed} passed, ${failed} failed, ${e2e_skipped} skipped"
[[ $failed -eq 0 && $e2e_status -eq 0 ]]
