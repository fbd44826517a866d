#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benches: Debian's binaries (scripts/setup.sh
# installs them), a temporary data directory, 127.0.0.1 and a free port, trust authentication
# for the superuser `edgeflag`. Nothing outside DIR is touched.
#
#   scripts/pg.sh start DIR [--durable]   # prints the URL: postgres://edgeflag@127.0.0.1:PORT/postgres
#   scripts/pg.sh stop DIR                # stops it and deletes its files
#
# DIR keeps the server's port and the path of its cluster, a fresh /tmp/edgeflag-pg.* directory
# (the server's user must be able to reach it, which a root-only temporary directory is not).
#
# Without --durable, fsync and synchronous commit are off (tests: fast, nothing to keep); the
# write-throughput bench passes --durable so PostgreSQL commits are as durable as SQLite's
# (synchronous=FULL).
#
# initdb and the server refuse to run as root: as root, they run as the `postgres` user that
# Debian's package creates (runuser), and DIR is handed to it.
set -euo pipefail

bin_dir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]] || {
    echo "pg.sh: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (run scripts/setup.sh)" >&2
    exit 1
  }
  echo "$d"
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR [--durable]" >&2; exit 2; }

case "$cmd" in
  start)
    bin=$(bin_dir)
    durable=${3:-}
    mkdir -p "$dir"
    cluster=$(mktemp -d /tmp/edgeflag-pg.XXXXXX)
    echo "$cluster" >"$dir/cluster"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$cluster"; fi
    chmod 700 "$cluster"
    as_owner "$bin/initdb" -D "$cluster/data" -U edgeflag --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$cluster -c max_connections=200"
    if [[ "$durable" != "--durable" ]]; then
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_owner "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -o "$opts" -w -t 30 start >/dev/null || {
      cat "$cluster/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "postgres://edgeflag@127.0.0.1:$port/postgres"
    ;;
  stop)
    cluster=$(cat "$dir/cluster" 2>/dev/null || true)
    if [[ -n "$cluster" && -d "$cluster/data" ]]; then
      bin=$(bin_dir)
      as_owner "$bin/pg_ctl" -D "$cluster/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    [[ "$cluster" == /tmp/edgeflag-pg.* ]] && rm -rf "$cluster"
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR [--durable]" >&2; exit 2 ;;
esac
