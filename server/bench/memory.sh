#!/usr/bin/env bash
# The metrics store's memory ceiling on the release build, at the default caps: every allowed
# flag x environment x arm series (more than the caps allow, 200-byte labels), one event in
# every 10 s and 1 min bucket of the hour, latencies over every bucket up to the 1 h maximum;
# then eight hostile 8 MiB batches at once. Prints the store's size, its ceiling, and the
# server's RSS (VmRSS after, VmHWM peak) from /proc, and fails above the documented ceiling.
# Usage (repo root): server/bench/memory.sh [max_series]   (default 2000, the default cap)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p edgeflag-server --bin edgeflag-server
EDGEFLAG_SERVER_BIN="$PWD/target/release/edgeflag-server" EDGEFLAG_MEMORY_TEST_SERIES="${1:-2000}" \
  cargo test -q -p edgeflag-server --test metrics_limits -- --nocapture --test-threads 1 \
    maximum_cardinality hostile_batches 2>&1 | grep -E 'posted|store|documented|hostile|test result|panicked'
