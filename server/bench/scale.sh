#!/usr/bin/env bash
# Write throughput at scale, in one run on this machine: the same write load (W admins, each
# PATCHing its own flag with If-Match in a loop, server/examples/write_load.rs) against
#   1. one server on SQLite (the embedded default, synchronous=FULL),
#   2. one replica on PostgreSQL,
#   3. three replicas on the same PostgreSQL (writers spread over them),
# PostgreSQL started here with durable commits (fsync and synchronous_commit on, as SQLite's
# FULL), so the comparison is like for like. Prints one line per setup and the ratios.
# Usage (repo root): server/bench/scale.sh [seconds=10] [writers=12]   (needs python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
writers=${2:-12}

# EDGEFLAG_SERVER_BIN / EDGEFLAG_LOAD_BIN: use these binaries instead of building release ones.
server_bin=${EDGEFLAG_SERVER_BIN:-target/release/edgeflag-server}
load_bin=${EDGEFLAG_LOAD_BIN:-target/release/examples/write_load}
if [[ -z "${EDGEFLAG_SERVER_BIN:-}" || -z "${EDGEFLAG_LOAD_BIN:-}" ]]; then
  cargo build --release -q -p edgeflag-server --bin edgeflag-server --example write_load
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  scripts/pg.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/flags.json" "$writers" <<'PY'
import json, sys
flag = lambda k: {"key": k, "kind": "boolean", "enabled": True, "off_variation": "off", "default_variation": "off",
                  "variations": [{"name": "off", "value": False}, {"name": "on", "value": True}]}
json.dump({"schema_version": 1, "flags": [flag(f"load-{i}") for i in range(int(sys.argv[2]))]}, open(sys.argv[1], "w"))
PY

# Starts a server with "$@" and sets $url (not in a $(…) subshell: $pids must see it).
start() {
  local log="$work/server-${#pids[@]}.log"
  "$server_bin" --addr 127.0.0.1:0 --flags "$work/flags.json" --token bench-token \
    --static-dir "$work/none" --no-controller "$@" >"$log" 2>&1 &
  pids+=($!)
  url=""
  for _ in $(seq 1 100); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$log" | sed 's/listening on //' || true)
    [[ -n "$url" ]] && break; sleep 0.1
  done
  [[ -n "$url" ]] || { cat "$log" >&2; exit 1; }
}
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; pids=(); }
load() { "$load_bin" --token bench-token --seconds "$seconds" --writers "$writers" --flags "$writers" "$@"; }

echo "== $writers writers for ${seconds}s each ($(nproc) cores shared by servers, PostgreSQL and the load)"
start --data-dir "$work/sqlite"
sqlite=$(load --url "$url")
stop_all
pg=$(scripts/pg.sh start "$work/pg" --durable)
start --data-dir "$work/p1" --store "$pg"
pg1=$(load --url "$url")
stop_all
# A database of their own for the replicas (the single one's versions stay apart).
"$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/createdb" -h 127.0.0.1 -p "$(cat "$work/pg/port")" -U edgeflag replicas
replicas_db="${pg%/postgres}/replicas"
start --data-dir "$work/r1" --store "$replicas_db"; u1=$url
start --data-dir "$work/r2" --store "$replicas_db"; u2=$url
start --data-dir "$work/r3" --store "$replicas_db"; u3=$url
pg3=$(load --url "$u1" --url "$u2" --url "$u3")
stop_all

python3 - "$sqlite" "$pg1" "$pg3" <<'PY'
import json, sys
rows = [("1 server, SQLite", json.loads(sys.argv[1])), ("1 replica, PostgreSQL", json.loads(sys.argv[2])),
        ("3 replicas, PostgreSQL", json.loads(sys.argv[3]))]
base = rows[0][1]["writes_per_s"]
for name, r in rows:
    print(f"{name:24} {r['writes_per_s']:8.0f} writes/s  ({r['writes_per_s']/base:.2f}x SQLite)  p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  not 200: {r['other'] or 'none'}")
PY
