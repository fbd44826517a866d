#!/usr/bin/env bash
# What each size step buys: the .wasm after cargo, after wasm-bindgen, after wasm-opt, for
# the plain `release` profile (opt-level 3) and `wasm-release` (opt-level "s", panic abort),
# plus opt-level "z" as a variant, each with Rust's prebuilt std and with std rebuilt as the
# shipped package is (scripts/wasm-size-flags.sh). Raw and gzip -9 bytes. Uses its own target dir
# (target/size-report) so the variants do not evict the shared build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=target/size-report
WASM_OPT=node_modules/.bin/wasm-opt
FEATURES=(--enable-bulk-memory --enable-multivalue --enable-mutable-globals
  --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

size() { printf '%9d %9d' "$(wc -c < "$1")" "$(gzip -9 -c "$1" | wc -c)"; }

printf '%-62s %9s %9s\n' "step" "raw" "gzip"
variant() { # name profile features [env...]
  local name=$1 profile=$2 features=$3
  shift 3
  # shellcheck disable=SC2086 # $features is empty or one flag
  env "$@" cargo build -q -p edgeflag-wasm --lib --target wasm32-unknown-unknown --profile "$profile" $features
  local out="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/edgeflag_wasm.wasm"
  printf '%-62s %s\n' "$name: cargo" "$(size "$out")"
  wasm-bindgen --target web --out-dir "$work/$name" --out-name m "$out"
  printf '%-62s %s\n' "$name: + wasm-bindgen" "$(size "$work/$name/m_bg.wasm")"
  for level in -Os -Oz "-Oz --converge" "-Oz --converge --one-caller-inline-max-function-size 25 --zero-filled-memory --low-memory-unused"; do
    # shellcheck disable=SC2086 # $level is one or two flags
    "$WASM_OPT" $level --strip-debug --strip-producers "${FEATURES[@]}" -o "$work/$name/o.wasm" "$work/$name/m_bg.wasm"
    printf '%-62s %s\n' "$name: + wasm-opt $level" "$(size "$work/$name/o.wasm")"
  done
}
# `bench/size-report.sh lean` runs only the builds without the `unleash` feature.
if [[ "${1:-all}" != lean ]]; then
  variant "release (opt 3)" release ""
  variant "wasm-release (opt s, panic abort)" wasm-release ""
  variant "wasm-release with opt z" wasm-release "" CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=z
fi
variant "lean (no unleash), opt s" wasm-release --no-default-features
variant "lean (no unleash), opt z" wasm-release --no-default-features CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=z
# std rebuilt with immediate-abort panics: what scripts/build-wasm.sh ships.
(
  source scripts/wasm-size-flags.sh
  if [[ "${1:-all}" != lean ]]; then
    variant "with unleash, opt s, std rebuilt" wasm-release ""
  fi
  variant "lean, opt s, std rebuilt" wasm-release --no-default-features
  variant "lean, opt z, std rebuilt" wasm-release --no-default-features CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=z
  # What scripts/build-wasm.sh ships: also MIR inlining (and wasm-opt's one-caller cap, the
  # last wasm-opt line of each variant).
  if [[ "${1:-all}" != lean ]]; then
    variant "with unleash, opt s, std rebuilt, MIR inlining (shipped)" wasm-release "" RUSTFLAGS="$RUSTFLAGS -Zinline-mir=yes"
  fi
  variant "lean, opt s, std rebuilt, MIR inlining (shipped)" wasm-release --no-default-features RUSTFLAGS="$RUSTFLAGS -Zinline-mir=yes"
)
