#!/usr/bin/env bash
# The main job: set up, build the dashboard, and start the server on 127.0.0.1 with the example
# flag file and the demo traffic generator. Open the printed URL; Ctrl-C stops it cleanly.
#   EDGEFLAG_ADDR=127.0.0.1:9090 scripts/run.sh      # another address
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup.sh
if [ -x scripts/build-dashboard.sh ]; then
  scripts/build-dashboard.sh
fi
echo "==> run: validating examples/flags.json"
cargo run --quiet --release -p edgeflag-cli -- validate examples/flags.json
echo "==> run: starting the server (Ctrl-C to stop)"
exec cargo run --quiet --release -p edgeflag-cli -- serve --demo \
  --addr "${EDGEFLAG_ADDR:-127.0.0.1:8080}" --flags examples/flags.json --static-dir dist \
  --data-dir "${EDGEFLAG_DATA_DIR:-edgeflag-data}"
