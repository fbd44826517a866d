#!/usr/bin/env bash
# Builds the edgeflag WASM package into wasm/pkg/ (gitignored). Idempotent: every run rebuilds
# the package directory from the cargo output (cargo itself skips work when nothing changed).
#
#   scripts/build-wasm.sh            # optimized package (wasm-release profile + wasm-opt)
#   EDGEFLAG_WASM_OPT=0 scripts/build-wasm.sh   # skip wasm-opt (for size comparisons)
#   EDGEFLAG_WASM_LEAN=1 scripts/build-wasm.sh  # only the core (no unleash/ build)
#   EDGEFLAG_WASM_STD=prebuilt scripts/build-wasm.sh  # Rust's prebuilt std (see wasm-size-flags.sh)
#
# Needs: rustup target wasm32-unknown-unknown and component rust-src, wasm-bindgen-cli 0.2.130
# on PATH (or in ~/.cargo/bin), and `npm install` at the repo root for node_modules/.bin/wasm-opt (binaryen).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=wasm-release
TARGET_DIR=${CARGO_TARGET_DIR:-target}
OUT=wasm/pkg
source scripts/wasm-size-flags.sh
# Without the multivalue and reference-types features (on by default since rustc 1.82) every
# export takes and returns only i32s: V8 then calls them through its generic wrapper, where an
# export with an externref parameter or several results gets a wrapper compiled by its
# optimizing compiler when the module is compiled, ~1.1 ms of a Node cold start for the 12
# such exports here (wasm/README.md "Server-validated files"). wasm-bindgen then passes JS
# values through its heap slab and results through memory; the module is also 0.9 KB smaller.
# Only with the rebuilt std: Rust's prebuilt std has both features, and wasm-bindgen then
# looks for the reference-types intrinsics the crates no longer have.
# wasm-opt is then not told of them either, so a module that used them would fail to build.
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int --enable-sign-ext)
if [[ "${EDGEFLAG_WASM_STD:-rebuilt}" != prebuilt ]]; then
  export RUSTFLAGS="${RUSTFLAGS:-} -Ctarget-feature=-multivalue,-reference-types"
else
  WASM_OPT_FEATURES+=(--enable-multivalue --enable-reference-types)
fi
if [[ -n "${RUSTC_BOOTSTRAP:-}" ]]; then
  # MIR inlining is off at opt-level "s"; on, it shrinks this module and pays back the speed
  # that the cap on wasm-opt's one-caller inlining below costs (wasm/README.md "Size"). Not
  # for the dashboard (opt-level "z"), which it makes bigger.
  export RUSTFLAGS="$RUSTFLAGS -Zinline-mir=yes"
fi
# The unleash build is made aside (under target/, ignored) and moved in after the core build.
UNLEASH_TMP=$TARGET_DIR/edgeflag-wasm-unleash-pkg
rm -rf "$UNLEASH_TMP"
WASM_BINDGEN=$(command -v wasm-bindgen || echo "$HOME/.cargo/bin/wasm-bindgen")
WASM_OPT=node_modules/.bin/wasm-opt

want=0.2.130
have=$("$WASM_BINDGEN" --version 2>/dev/null | awk '{print $2}') || true
if [[ "$have" != "$want" ]]; then
  echo "build-wasm: need wasm-bindgen-cli $want (found '${have:-none}'):" >&2
  echo "  cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

# Two builds of the one crate: the package root is the core engine, without the Unleash
# payload model (the module edges and browsers load, much smaller); `unleash/` is the
# same API plus `evaluateUnleash`, imported as `edgeflag/unleash`. See wasm/README.md "Size".
# EDGEFLAG_WASM_LEAN=1 skips the unleash/ build (faster when only the core is needed).
build_one() { # out-dir cargo-feature-args...
  local out=$1
  shift
  # shellcheck disable=SC2086 # EDGEFLAG_CARGO_ARGS: extra cargo arguments, for size experiments
  cargo build -p edgeflag-wasm --lib --target wasm32-unknown-unknown --profile "$PROFILE" "$@" ${EDGEFLAG_CARGO_ARGS:-}
  rm -rf "$out"
  mkdir -p "$out"
  # --target web: an ES module with `initSync({module})` (edges, Node) and an async default
  # `init()` (browsers). One .wasm serves every runtime; wrappers in wasm/js pick the loader.
  "$WASM_BINDGEN" --target web --out-dir "$out" --out-name edgeflag_wasm \
    "$TARGET_DIR/wasm32-unknown-unknown/$PROFILE/edgeflag_wasm.wasm"
  if [[ "${EDGEFLAG_WASM_OPT:-1}" != 0 ]]; then
    if [[ ! -x "$WASM_OPT" ]]; then
      echo "build-wasm: $WASM_OPT missing; run 'npm install' at the repo root" >&2
      exit 1
    fi
    # The features rustc 1.95 enables by default for wasm32-unknown-unknown but multivalue and
    # reference types (see above); wasm-opt adds none beyond them.
    # --one-caller-inline-max-function-size 25: wasm-opt inlines every function with one
    # caller by default; big inlined bodies compress worse (measured: -4 % gzipped here).
    # --zero-filled-memory --low-memory-unused: the module defines its memory (zeroed at
    # instantiation) and Rust leaves its first KB unused; both let data and addresses shrink.
    "$WASM_OPT" -Oz --converge --one-caller-inline-max-function-size 25 --strip-debug --strip-producers \
      --zero-filled-memory --low-memory-unused "${WASM_OPT_FEATURES[@]}" \
      -o "$out/edgeflag_wasm_bg.wasm.opt" "$out/edgeflag_wasm_bg.wasm"
    mv "$out/edgeflag_wasm_bg.wasm.opt" "$out/edgeflag_wasm_bg.wasm"
  fi
  cp wasm/js/node.js wasm/js/node.d.ts wasm/js/edge.js wasm/js/edge.d.ts wasm/js/web.js wasm/js/web.d.ts \
    wasm/js/fast.js wasm/js/validated.js "$out/"
  rm -f "$out/.gitignore"
}

# The unleash build first, aside: the core build below recreates "$OUT" from scratch. Its
# entries also load unleash.js (UnleashSet's per-call wire, like fast.js for FlagSet).
if [[ "${EDGEFLAG_WASM_LEAN:-0}" != 1 ]]; then
  build_one "$UNLEASH_TMP"
  cp wasm/js/unleash.js "$UNLEASH_TMP/"
  for entry in node.js edge.js web.js; do
    printf '%s\n' '// UnleashSet: isEnabled, getVariant and evaluate over the wire (see unleash.js).' \
      'import "./unleash.js";' >> "$UNLEASH_TMP/$entry"
  done
fi
build_one "$OUT" --no-default-features
if [[ -d "$UNLEASH_TMP" ]]; then
  mv "$UNLEASH_TMP" "$OUT/unleash"
  cp wasm/js/package.json "$OUT/"
else
  # Core only: the package must not export an entry it does not have.
  node -e '
    const pkg = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const k of Object.keys(pkg.exports)) if (k.startsWith("./unleash")) delete pkg.exports[k];
    pkg.files = pkg.files.filter((f) => !f.startsWith("unleash"));
    pkg.sideEffects = pkg.sideEffects.filter((f) => !f.startsWith("./unleash"));
    require("fs").writeFileSync(process.argv[2], JSON.stringify(pkg, null, 2) + "\n");
  ' wasm/js/package.json "$OUT/package.json"
fi
cp wasm/README.md "$OUT/README.md" 2>/dev/null || true
# The core Node entry as one module (0.4 ms of Node's module loader per file at a cold start);
# the unleash entry keeps its files (unleash.js shares the glue with it). See the script.
node scripts/bundle-node-entry.mjs "$OUT"

for wasm in "$OUT/edgeflag_wasm_bg.wasm" "$OUT/unleash/edgeflag_wasm_bg.wasm"; do
  [[ -f "$wasm" ]] || continue
  echo "build-wasm: $wasm $(wc -c < "$wasm") bytes, $(gzip -9 -c "$wasm" | wc -c) bytes gzipped"
done
