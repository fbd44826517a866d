#!/usr/bin/env bash
# A size budget that fails when broken: the gzip -9 sizes of FILE... summed (as the READMEs
# measure them) must be at most LIMIT bytes. Prints one line either way; exits 1 when over.
#
#   scripts/size-budget.sh LABEL LIMIT FILE...
#   scripts/size-budget.sh "core wasm" 100000 wasm/pkg/edgeflag_wasm_bg.wasm
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 LABEL LIMIT_BYTES FILE..." >&2
  exit 2
fi
label=$1
limit=$2
shift 2
total=0
for file in "$@"; do
  if [[ ! -f "$file" ]]; then
    echo "size budget $label: $file is missing (build it first)" >&2
    exit 1
  fi
  total=$((total + $(gzip -9 -c "$file" | wc -c)))
done
if [[ $total -le $limit ]]; then
  echo "size budget $label: $total bytes gzipped, limit $limit: ok ($((limit - total)) to spare)"
else
  echo "size budget $label: $total bytes gzipped, limit $limit: OVER by $((total - limit)) bytes ($*)" >&2
  exit 1
fi
