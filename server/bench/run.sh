#!/usr/bin/env bash
# Server figures on loopback: GET /api/flags requests/s (wrk) against the trivial /healthz
# handler measured in the same run, and metric events ingested per second with an exact
# "none lost" check from the server's own counters.
# Usage (repo root): server/bench/run.sh [duration_seconds]   (needs wrk, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
threads=2
conns=64
batch=1000

cargo build --release -q -p edgeflag-server --bin edgeflag-server
work=$(mktemp -d)
pid=""
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

target/release/edgeflag-server --addr 127.0.0.1:0 --data-dir "$work/data" \
  --flags server/tests/fixtures/flags.json --token bench-token --ingest-token bench-ingest \
  --static-dir "$work/none" >"$work/log" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'listening on http://[0-9.:]*' "$work/log" | sed 's/listening on //' || true)
  [[ -n "$url" ]] && break; sleep 0.1
done
[[ -n "$url" ]] || { cat "$work/log"; exit 1; }

rps() { grep -o 'Requests/sec: *[0-9.]*' | awk '{print $2}'; }

echo "== wrk -t$threads -c$conns -d${duration}s (server and wrk share this machine's $(nproc) cores)"
health=$(wrk -t$threads -c$conns -d${duration}s "$url/healthz" | tee "$work/health.txt" | rps)
flags=$(wrk -t$threads -c$conns -d${duration}s "$url/api/flags" | tee "$work/flags.txt" | rps)
etag=$(curl -fsSI "$url/api/flags" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
cond=$(wrk -t$threads -c$conns -d${duration}s -H "If-None-Match: $etag" "$url/api/flags" | rps)
printf 'GET /healthz (peer)            %10.0f req/s\n' "$health"
printf 'GET /api/flags (200, %s B)  %10.0f req/s  (%.2fx of the peer)\n' \
  "$(curl -fsS "$url/api/flags" | wc -c)" "$flags" "$(python3 -c "print($flags/$health)")"
printf 'GET /api/flags (304)           %10.0f req/s  (%.2fx of the peer)\n' "$cond" "$(python3 -c "print($cond/$health)")"

python3 - "$work/batch.json" "$batch" <<'PY'
import json, sys, time, random
path, n = sys.argv[1], int(sys.argv[2])
now = int(time.time() * 1000)
arms = ["baseline", "canary"]
events = [{"ts": now, "flag": "bench", "env": "prod", "arm": arms[i % 2], "stage": 0,
           "outcome": "error" if i % 50 == 0 else "ok", "latency_ms": round(random.lognormvariate(3.5, 0.5), 2)}
          for i in range(n)]
json.dump({"events": events}, open(path, "w"))
PY
echo "== POST /api/metrics/events, $batch events per batch, $(wc -c <"$work/batch.json") bytes"
BATCH_FILE="$work/batch.json" INGEST_TOKEN=bench-ingest wrk -t$threads -c16 -d${duration}s -s server/bench/post_events.lua \
  "$url/api/metrics/events" | tee "$work/events.txt" >/dev/null
batches=$(rps <"$work/events.txt")
completed=$(grep -o 'completed_requests=[0-9]*' "$work/events.txt" | cut -d= -f2)
http_errors=$(grep -o 'http_errors=[0-9]*' "$work/events.txt" | cut -d= -f2)
sleep 0.5
curl -fsS "$url/metrics" >"$work/metrics.txt"
python3 - "$work/metrics.txt" "$completed" "$batch" "$batches" "$http_errors" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
completed, batch, batches, http_errors = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
accepted = int(re.search(r"^edgeflag_metric_events_accepted_total (\d+)$", text, re.M).group(1))
rejected = int(re.search(r"^edgeflag_metric_events_rejected_total (\d+)$", text, re.M).group(1))
aggregated = sum(int(v) for v in re.findall(r'^edgeflag_flag_requests_total\{flag="bench",[^}]*\} (\d+)$', text, re.M))
acked = completed * batch
print(f"events/s ingested             {batches * batch:10.0f}   ({batches:.0f} batches/s)")
print(f"acknowledged by 202           {acked:10d}")
print(f"accepted (server counter)     {accepted:10d}   (+{accepted - acked} from batches in flight when wrk stopped)")
print(f"in the aggregates             {aggregated:10d}")
print(f"rejected / non-202            {rejected:10d} / {http_errors}")
ok = http_errors == 0 and rejected == 0 and aggregated == accepted and accepted >= acked
print("none lost:", "yes" if ok else "NO")
sys.exit(0 if ok else 1)
PY
