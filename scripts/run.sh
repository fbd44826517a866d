#!/usr/bin/env bash
# The main job: set up, build the dashboard, and start the server on 127.0.0.1 with the demo
# flag file (examples/flags.json with 15 s canary stages and a second, failing canary), the demo
# traffic generator and the canary controller: within about two minutes payment-processor
# advances through its stages and completes, and ranking-model is rolled back automatically.
# Open the printed URL; Ctrl-C stops it cleanly. It prints an ingest token for this run (for
# edges posting metric events; set EDGEFLAG_INGEST_TOKEN to choose one) and, on the first start
# of a data directory, the admin token.
#   EDGEFLAG_ADDR=127.0.0.1:9090 scripts/run.sh      # another address
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup.sh
if [ -x scripts/build-dashboard.sh ]; then
  scripts/build-dashboard.sh
fi
FLAGS=${EDGEFLAG_FLAGS:-server/demo/flags.json}
echo "==> run: validating $FLAGS"
cargo run --quiet --release -p edgeflag-cli -- validate "$FLAGS"
if [ -z "${EDGEFLAG_INGEST_TOKEN:-}" ]; then
  EDGEFLAG_INGEST_TOKEN="ef_ingest_$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fi
export EDGEFLAG_INGEST_TOKEN
echo "==> run: ingest token for this run (POST /api/metrics/events with Authorization: Bearer ...): $EDGEFLAG_INGEST_TOKEN"
echo "==> run: starting the server (Ctrl-C to stop)"
exec cargo run --quiet --release -p edgeflag-cli -- serve --demo \
  --addr "${EDGEFLAG_ADDR:-127.0.0.1:8080}" --flags "$FLAGS" --static-dir dist \
  --controller-interval 3s \
  --data-dir "${EDGEFLAG_DATA_DIR:-edgeflag-data}"
