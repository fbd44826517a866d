#!/usr/bin/env bash
# Builds the edgeflag WASM package into wasm/pkg/ (gitignored). Idempotent: every run rebuilds
# the package directory from the cargo output (cargo itself skips work when nothing changed).
#
#   scripts/build-wasm.sh            # optimized package (wasm-release profile + wasm-opt)
#   EDGEFLAG_WASM_OPT=0 scripts/build-wasm.sh   # skip wasm-opt (for size comparisons)
#   EDGEFLAG_WASM_LEAN=1 scripts/build-wasm.sh  # without evaluateUnleash (smaller edge build)
#
# Needs: rustup target wasm32-unknown-unknown, wasm-bindgen-cli 0.2.130 on PATH (or in
# ~/.cargo/bin), and `npm ci` at the repo root for node_modules/.bin/wasm-opt (binaryen).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=wasm-release
TARGET_DIR=${CARGO_TARGET_DIR:-target}
OUT=wasm/pkg
WASM_BINDGEN=$(command -v wasm-bindgen || echo "$HOME/.cargo/bin/wasm-bindgen")
WASM_OPT=node_modules/.bin/wasm-opt

want=0.2.130
have=$("$WASM_BINDGEN" --version 2>/dev/null | awk '{print $2}') || true
if [[ "$have" != "$want" ]]; then
  echo "build-wasm: need wasm-bindgen-cli $want (found '${have:-none}'):" >&2
  echo "  cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

features=()
if [[ "${EDGEFLAG_WASM_LEAN:-0}" == 1 ]]; then features=(--no-default-features); fi
cargo build -p edgeflag-wasm --lib --target wasm32-unknown-unknown --profile "$PROFILE" "${features[@]}"

rm -rf "$OUT"
mkdir -p "$OUT"
# --target web: an ES module with `initSync({module})` (edges, Node) and an async default
# `init()` (browsers). One .wasm serves every runtime; wrappers in wasm/js pick the loader.
"$WASM_BINDGEN" --target web --out-dir "$OUT" --out-name edgeflag_wasm \
  "$TARGET_DIR/wasm32-unknown-unknown/$PROFILE/edgeflag_wasm.wasm"

if [[ "${EDGEFLAG_WASM_OPT:-1}" != 0 ]]; then
  if [[ ! -x "$WASM_OPT" ]]; then
    echo "build-wasm: $WASM_OPT missing; run 'npm ci' at the repo root" >&2
    exit 1
  fi
  # The features rustc 1.95 enables by default for wasm32-unknown-unknown; wasm-opt must
  # know them to read the module, and adds none beyond them.
  "$WASM_OPT" -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-multivalue --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext \
    -o "$OUT/edgeflag_wasm_bg.wasm.opt" "$OUT/edgeflag_wasm_bg.wasm"
  mv "$OUT/edgeflag_wasm_bg.wasm.opt" "$OUT/edgeflag_wasm_bg.wasm"
fi

cp wasm/js/package.json wasm/js/node.js wasm/js/node.d.ts wasm/js/edge.js wasm/js/edge.d.ts "$OUT/"
cp wasm/README.md "$OUT/README.md" 2>/dev/null || true
rm -f "$OUT/.gitignore"

raw=$(wc -c < "$OUT/edgeflag_wasm_bg.wasm")
gz=$(gzip -9 -c "$OUT/edgeflag_wasm_bg.wasm" | wc -c)
echo "build-wasm: $OUT/edgeflag_wasm_bg.wasm ${raw} bytes, ${gz} bytes gzipped"
