#!/usr/bin/env bash
# Fan-out bench of GET /api/flags/stream (server/examples/stream_bench.rs): N subscribers on
# loopback, P publishes; time from publish to every subscriber holding the new version (p50,
# p99), against N clients polling once, and the server's RSS per subscriber.
#
#   server/bench/stream.sh            # full: release build, 1000 subscribers, 30 publishes
#   server/bench/stream.sh smoke      # CI: debug build, 100 subscribers, 3 publishes; exit 1 on a miss
#   server/bench/stream.sh full --subscribers 2000 --publishes 50
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-full}
[[ $# -gt 0 ]] && shift
# One descriptor per subscriber on each side (the bench and the server share this limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
target=${CARGO_TARGET_DIR:-target}
case "$mode" in
  smoke)
    cargo build -q -p edgeflag-server --bin edgeflag-server --example stream_bench
    "$target/debug/examples/stream_bench" --smoke --server "$target/debug/edgeflag-server" "$@"
    ;;
  full)
    cargo build -q --release -p edgeflag-server --bin edgeflag-server --example stream_bench
    "$target/release/examples/stream_bench" --server "$target/release/edgeflag-server" "$@"
    ;;
  *)
    echo "usage: server/bench/stream.sh [smoke|full] [--subscribers N] [--publishes P]" >&2
    exit 2
    ;;
esac
