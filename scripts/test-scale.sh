#!/usr/bin/env bash
# The server at scale, on real components started here: a throwaway PostgreSQL (Debian's
# binaries, scripts/pg.sh: temporary data directory, 127.0.0.1, a free port; always stopped) and,
# in the end-to-end test, Prometheus.
#
# - store_suite: the shared store suite on PostgreSQL (its SQLite half runs in test-server.sh);
# - replicas: three processes on one database: propagation by LISTEN/NOTIFY (measured), killed
#   listeners, tokens, the controller's leader SIGKILLed mid-canary;
# - scale_e2e: three replicas, Prometheus scraping them, traffic spread over them, the
#   controller reading Prometheus, the leader killed halfway, the canary completed once;
# - the HTTP suites (api, items, writes, ingest, crash) again with the PostgreSQL backend.
# Run from anywhere; prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

work=$(mktemp -d)
cleanup() {
  scripts/pg.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if ! url=$(scripts/pg.sh start "$work/pg"); then
  echo "scale: cannot start PostgreSQL (scripts/setup.sh installs it)"
  echo "scale: 0 passed, 1 failed"
  exit 1
fi
export EDGEFLAG_TEST_POSTGRES="$url"
echo "scale: PostgreSQL at $url"

status=0
cargo test --no-fail-fast -p edgeflag-server --test store_suite --test replicas --test scale_e2e -- --ignored --nocapture 2>&1 | tee "$work/ignored.log" || status=1
EDGEFLAG_TEST_BACKEND=postgres cargo test --no-fail-fast -p edgeflag-server --test api --test items --test writes --test ingest --test crash 2>&1 \
  | tee "$work/http.log" || status=1

p=$(cat "$work"/*.log | grep -E '^test result:' | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
f=$(cat "$work"/*.log | grep -E '^test result:' | grep -Eo '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')
if [[ $status -ne 0 && $f -eq 0 ]]; then f=1; echo "scale: cargo test failed to build or run"; fi
echo "scale: $p passed, $f failed"
[[ $status -eq 0 ]]
