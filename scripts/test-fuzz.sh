#!/usr/bin/env bash
# The fuzz smoke run of CI (scripts/test.sh): every fuzz target for a few seconds from the
# seeded corpora (fuzz/README.md), after building them on the pinned nightly. Any finding
# fails the suite. EDGEFLAG_FUZZ_SMOKE_SECONDS sets the time per target (default 8: with
# the build, about two minutes on two free cores).
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/fuzz.sh "${EDGEFLAG_FUZZ_SMOKE_SECONDS:-8}"
