#!/usr/bin/env bash
# Server figures on loopback: GET /api/flags requests/s (wrk) against the trivial /healthz
# handler measured in the same run, and metric events ingested per second with an exact
# "none lost" check from the server's own counters.
# Usage (repo root): server/bench/run.sh [duration_seconds]   (needs wrk, curl, python3)
#   BASELINE_REV=<git rev> server/bench/run.sh 10   also builds that revision's server (in a
#   temporary directory) and measures its ingestion in the same run, alternating with this one.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
threads=2
conns=64
batch=1000

cargo build --release -q -p edgeflag-server --bin edgeflag-server
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

baseline_bin=""
if [[ -n "${BASELINE_REV:-}" ]]; then
  src="${TMPDIR:-/tmp}/edgeflag-bench-$(git rev-parse --short "$BASELINE_REV")"
  if [[ ! -x "$src/target/release/edgeflag-server" ]]; then
    rm -rf "$src" && mkdir -p "$src"
    git archive "$BASELINE_REV" | tar -x -C "$src"
    (cd "$src" && cargo build --release -q -p edgeflag-server --bin edgeflag-server)
  fi
  baseline_bin="$src/target/release/edgeflag-server"
fi

# start BIN NAME [ARGS...]: starts a server, sets $url.
start() {
  "$1" --addr 127.0.0.1:0 --data-dir "$work/data-$2" --flags server/tests/fixtures/flags.json \
    --token bench-token --static-dir "$work/none" "${@:3}" >"$work/log-$2" 2>&1 &
  pids+=($!)
  disown  # no "Killed" report from the shell at exit
  url=""
  for _ in $(seq 1 100); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$work/log-$2" | sed 's/listening on //' || true)
    [[ -n "$url" ]] && break; sleep 0.1
  done
  [[ -n "$url" ]] || { cat "$work/log-$2"; exit 1; }
}

rps() { grep -o 'Requests/sec: *[0-9.]*' | awk '{print $2}'; }

start target/release/edgeflag-server current --ingest-token bench-ingest
current_url=$url
echo "== wrk -t$threads -c$conns -d${duration}s (server and wrk share this machine's $(nproc) cores)"
health=$(wrk -t$threads -c$conns -d${duration}s "$url/healthz" | tee "$work/health.txt" | rps)
flags=$(wrk -t$threads -c$conns -d${duration}s "$url/api/flags" | tee "$work/flags.txt" | rps)
etag=$(curl -fsSI "$url/api/flags" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
cond=$(wrk -t$threads -c$conns -d${duration}s -H "If-None-Match: $etag" "$url/api/flags" | rps)
printf 'GET /healthz (peer)            %10.0f req/s\n' "$health"
printf 'GET /api/flags (200, %s B)  %10.0f req/s  (%.2fx of the peer)\n' \
  "$(curl -fsS "$url/api/flags" | wc -c)" "$flags" "$(python3 -c "print($flags/$health)")"
printf 'GET /api/flags (304)           %10.0f req/s  (%.2fx of the peer)\n' "$cond" "$(python3 -c "print($cond/$health)")"

# Events for a flag of the fixture (events for flags not in the file are refused).
python3 - "$work/batch.json" "$batch" <<'PY'
import json, sys, time, random
path, n = sys.argv[1], int(sys.argv[2])
now = int(time.time() * 1000)
arms = ["baseline", "canary"]
events = [{"ts": now, "flag": "checkout", "env": "prod", "arm": arms[i % 2], "stage": 0,
           "outcome": "error" if i % 50 == 0 else "ok", "latency_ms": round(random.lognormvariate(3.5, 0.5), 2)}
          for i in range(n)]
json.dump({"events": events}, open(path, "w"))
PY

# ingest NAME URL: posts batches for $duration s and checks that none was lost (counters are
# compared with their values before the round, so rounds can repeat on one server).
ingest() {
  curl -fsS "$2/metrics" >"$work/before-$1.txt"
  # Events need an ingest token (this tree) or none (a baseline from before tokens had roles).
  BATCH_FILE="$work/batch.json" INGEST_TOKEN=bench-ingest wrk -t$threads -c16 -d${duration}s -s server/bench/post_events.lua \
    "$2/api/metrics/events" >"$work/events-$1.txt"
  local batches completed http_errors
  batches=$(rps <"$work/events-$1.txt")
  completed=$(grep -o 'completed_requests=[0-9]*' "$work/events-$1.txt" | cut -d= -f2)
  http_errors=$(grep -o 'http_errors=[0-9]*' "$work/events-$1.txt" | cut -d= -f2)
  sleep 0.5
  curl -fsS "$2/metrics" >"$work/metrics-$1.txt"
  python3 - "$work/metrics-$1.txt" "$completed" "$batch" "$batches" "$http_errors" "$1" "$work/before-$1.txt" <<'PY'
import re, sys
completed, batch, batches, http_errors, name = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def counters(path):
    text = open(path).read()
    one = lambda name: int(re.search(rf"^{name} (\d+)$", text, re.M).group(1))
    return (one("edgeflag_metric_events_accepted_total"), one("edgeflag_metric_events_rejected_total"),
            sum(int(v) for v in re.findall(r"^edgeflag_metric_events_refused_total\{[^}]*\} (\d+)$", text, re.M)),
            sum(int(v) for v in re.findall(r'^edgeflag_flag_requests_total\{flag="checkout",[^}]*\} (\d+)$', text, re.M)))
after, before = counters(sys.argv[1]), counters(sys.argv[7])
accepted, rejected, refused, aggregated = (a - b for a, b in zip(after, before))
acked = completed * batch
print(f"[{name}] events/s ingested       {batches * batch:10.0f}   ({batches:.0f} batches/s)")
print(f"[{name}] acknowledged by 202     {acked:10d}")
print(f"[{name}] accepted (counter)      {accepted:10d}   (+{accepted - acked} from batches in flight when wrk stopped)")
print(f"[{name}] in the aggregates       {aggregated:10d}")
print(f"[{name}] rejected+refused / non-202 {rejected + refused:7d} / {http_errors}")
ok = http_errors == 0 and rejected == 0 and refused == 0 and aggregated == accepted and accepted >= acked
print(f"[{name}] none lost:", "yes" if ok else "NO")
open(sys.argv[1] + ".rate", "w").write(str(batches * batch))
sys.exit(0 if ok else 1)
PY
}

if [[ -n "$baseline_bin" ]]; then
  start "$baseline_bin" baseline
  baseline_url=$url
  echo "== GET /healthz and GET /api/flags: $BASELINE_REV and this tree, alternating"
  for round in 1 2; do
    for who in baseline current; do
      u=$([[ $who == baseline ]] && echo "$baseline_url" || echo "$current_url")
      h=$(wrk -t$threads -c$conns -d${duration}s "$u/healthz" | rps)
      f=$(wrk -t$threads -c$conns -d${duration}s "$u/api/flags" | rps)
      printf '[%s] round %d: GET /healthz %8.0f req/s, GET /api/flags %8.0f req/s\n' "$who" "$round" "$h" "$f"
    done
  done
fi

echo "== POST /api/metrics/events, $batch events per batch, $(wc -c <"$work/batch.json") bytes"
if [[ -n "$baseline_bin" ]]; then
  # Alternate, so both see the same background load.
  ingest baseline "$baseline_url"; ingest current "$current_url"
  ingest baseline "$baseline_url"; ingest current "$current_url"
  python3 - "$work/metrics-current.txt.rate" "$work/metrics-baseline.txt.rate" "$BASELINE_REV" <<'PY'
import sys
cur, base = float(open(sys.argv[1]).read()), float(open(sys.argv[2]).read())
print(f"ingestion, last round: this tree {cur:.0f} events/s, {sys.argv[3]} {base:.0f} events/s ({cur / base:.2f}x)")
PY
else
  ingest current "$current_url"
fi
