#!/usr/bin/env bash
# Builds the dashboard into dist/ with trunk (offline), using npm binaryen's wasm-opt, then
# writes .br and .gz next to each asset (scripts/precompress.mjs) for the server to send by
# Accept-Encoding. Prints the bundle sizes (raw, gzipped, brotli).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x node_modules/.bin/wasm-opt ]]; then
  echo "node_modules/.bin/wasm-opt is missing: run 'npm ci' at the repo root" >&2
  exit 1
fi
# trunk only uses tools on PATH (it cannot download here); npm's binaryen is newer than Debian's.
export PATH="$PWD/node_modules/.bin:$PATH"
# Type-erased views: a smaller bundle (measured in dashboard/README.md).
export RUSTFLAGS="${RUSTFLAGS:-} --cfg=erase_components"
# LLVM inlines at opt-level "z" up to a cost of 5; at 0 only calls that cost nothing to inline
# (and functions with one caller) are inlined: a smaller bundle (dashboard/README.md "Figures").
# The dashboard only: the WASM package keeps its inlining for evaluation speed.
export RUSTFLAGS="$RUSTFLAGS -Cllvm-args=-inline-threshold=0"
# std rebuilt without the panic machinery, as for the WASM package.
source scripts/wasm-size-flags.sh
trunk build --release --offline "$@"
node scripts/precompress.mjs dist

wasm=$(ls dist/*_bg.wasm)
js=$(ls dist/edgeflag-dashboard-*.js)
size() { stat -c %s "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }
br() { if [[ -f "$1.br" ]]; then size "$1.br"; else size "$1"; fi; }
printf 'dashboard bundle: wasm %d B (%d B gz, %d B br), js %d B (%d B gz, %d B br), total gz %d KB, br %d KB\n' \
  "$(size "$wasm")" "$(gz "$wasm")" "$(br "$wasm")" "$(size "$js")" "$(gz "$js")" "$(br "$js")" \
  $(( ($(gz "$wasm") + $(gz "$js")) / 1024 )) $(( ($(br "$wasm") + $(br "$js")) / 1024 ))
