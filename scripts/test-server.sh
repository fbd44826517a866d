#!/usr/bin/env bash
# Server tests: unit tests, integration tests against the real server process (ETag flows,
# concurrent writes, SIGKILL recovery, limits, metrics, promtool, OFREP, the change stream, the
# controller reading a real Prometheus, the alerting rules with promtool), a smoke test of
# `edgeflag serve --demo` (live demo data, clean stop on Ctrl-C) and of the stream fan-out
# bench. Run from the repo root.
set -euo pipefail

command -v promtool >/dev/null || { echo "promtool missing: apt-get install -y prometheus" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -9 "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0

# 1. cargo tests (the integration tests spawn target/debug/edgeflag-server themselves).
set +e
cargo test -p edgeflag-server 2>&1 | tee "$work/cargo.log"
cargo_status=${PIPESTATUS[0]}
set -e
p=$(grep -cE '^test .* \.\.\. ok$' "$work/cargo.log" || true)
f=$(grep -cE '^test .* \.\.\. FAILED$' "$work/cargo.log" || true)
passed=$((passed + p)); failed=$((failed + f))
if [[ $cargo_status -ne 0 && $f -eq 0 ]]; then
  echo "cargo test failed to build or run" >&2; failed=$((failed + 1))
fi

# 2. Smoke: `edgeflag serve --demo` shows live data and stops cleanly on SIGINT.
smoke() {
  cargo build -q -p edgeflag-cli
  target/debug/edgeflag serve --addr 127.0.0.1:0 --data-dir "$work/data" --demo \
    --flags server/tests/fixtures/flags.json --token smoke-token >"$work/serve.log" 2>&1 &
  server_pid=$!
  local url=""
  for _ in $(seq 1 100); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$work/serve.log" | sed 's/listening on //' || true)
    [[ -n "$url" ]] && break
    sleep 0.1
  done
  [[ -n "$url" ]] || { echo "serve did not start"; cat "$work/serve.log"; return 1; }
  sleep 1.5
  local requests
  requests=$(curl -fsS "$url/api/metrics?flag=checkout&env=prod&window=1m" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print(sum(a["summary"]["requests"] for a in r["arms"].values()))')
  [[ "$requests" -gt 0 ]] || { echo "no demo traffic in /api/metrics"; return 1; }
  curl -fsS "$url/metrics" | promtool check metrics || { echo "promtool rejected /metrics under demo load"; return 1; }
  kill -INT "$server_pid"
  local status=0
  for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then echo "serve did not stop within 10 s of SIGINT"; return 1; fi
  wait "$server_pid" || status=$?
  server_pid=""
  [[ $status -eq 0 ]] || { echo "serve exited with $status after SIGINT"; return 1; }
  grep -q "edgeflag: stopped" "$work/serve.log" || { echo "no clean-stop message"; return 1; }
  echo "smoke: $requests demo requests seen, clean stop on SIGINT"
}
if smoke; then passed=$((passed + 1)); echo "test serve_demo_smoke ... ok"; else failed=$((failed + 1)); echo "test serve_demo_smoke ... FAILED"; fi

# 3. The change stream's fan-out bench in its smoke mode (100 subscribers, 3 publishes): every
#    subscriber must hold every version (server/bench/stream.sh; the full run is by hand).
if server/bench/stream.sh smoke; then passed=$((passed + 1)); echo "test stream_fanout_smoke ... ok"; else failed=$((failed + 1)); echo "test stream_fanout_smoke ... FAILED"; fi

echo "server: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
