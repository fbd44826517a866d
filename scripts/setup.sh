#!/usr/bin/env bash
# Installs everything edgeflag's build, main job and tests need. Idempotent: each step checks
# first and skips what is already there, so a second run takes seconds.
#
#   the Rust toolchain pinned in rust-toolchain.toml, its wasm32-unknown-unknown target and rust-src, wasm-bindgen-cli (= the pinned wasm-bindgen crate),
#   trunk 0.21.14 (0.22 needs a newer rustc), Debian's chromium, prometheus (promtool), wrk,
#   the fuzzing toolchain (a pinned nightly and cargo-fuzz, for fuzz/ only),
#   postgresql (the scale tests start a throwaway server, scripts/pg.sh),
#   and the npm packages of package.json (workerd, playwright-core, the Unleash spec, binaryen,
#   the OpenFeature web and server SDKs and the gherkin parser the providers' tests use,
#   and the peer SDKs of the JS benchmark: flagd-core, GrowthBook, unleash-client, Flipt).
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal wasm-bindgen = "=0.2.130" in the crates
TRUNK_VERSION=0.21.14
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

TOOLCHAIN=$(sed -nE 's/^channel = "(.*)"/\1/p' rust-toolchain.toml)
step "rust $TOOLCHAIN (pinned in rust-toolchain.toml: the wasm builds' unstable options hold only for the exact compiler)"
if rustup toolchain list | grep -q "^$TOOLCHAIN-"; then
  echo "already installed"
else
  rustup toolchain install "$TOOLCHAIN" --profile minimal --component rust-src,rustfmt,clippy --target wasm32-unknown-unknown
fi

step "rust target wasm32-unknown-unknown"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "already installed"
else
  rustup target add wasm32-unknown-unknown
fi

step "rust component rust-src (std's source: the wasm builds rebuild std, see scripts/wasm-size-flags.sh)"
if [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/std" ]; then
  echo "already installed"
else
  rustup component add rust-src
fi

step "wasm-bindgen-cli $WASM_BINDGEN_VERSION"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$WASM_BINDGEN_VERSION" ]; then
  echo "already installed"
else
  # Not --locked: its lock file pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

step "trunk $TRUNK_VERSION (about 8 minutes the first time)"
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" = "$TRUNK_VERSION" ]; then
  echo "already installed"
else
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

step "Debian packages: chromium, prometheus (promtool), wrk"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -eq 0 ]; then
  echo "already installed"
else
  as_root apt-get update
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y --no-install-recommends "${missing[@]}"
fi

step "Debian package: postgresql (server binaries for scripts/pg.sh; no service is used)"
# Looked for where Debian puts them (not on PATH): /usr/lib/postgresql/<major>/bin.
if ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "already installed"
else
  as_root apt-get update
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y --no-install-recommends postgresql
fi

step "npm packages (package.json, package-lock.json)"
if [ -d node_modules ] && npm ls --depth=0 >/dev/null 2>&1; then
  echo "already installed"
else
  # Not `npm ci`: the registry here does not serve workerd's macOS/Windows builds, so the lock
  # file has no entries for those optional packages and `npm ci` refuses it. `npm install`
  # installs exactly the locked versions for this platform. No install scripts are needed:
  # workerd's binary ships in its platform package.
  npm install --no-audit --no-fund
fi

step "fuzzing: the nightly pinned in fuzz/rust-toolchain.toml and cargo-fuzz (fuzz/README.md)"
scripts/fuzz.sh --install
echo "installed (or already there)"

echo
echo "setup: done"
