#!/usr/bin/env bash
# Coverage-guided fuzzing of edgeflag's readers and evaluators (cargo-fuzz / libFuzzer; see
# fuzz/README.md). Installs what it needs first (idempotent): the dated nightly pinned in
# fuzz/rust-toolchain.toml and cargo-fuzz. Then seeds the corpora (fuzz/seeds.mjs), builds
# every target, and runs each one for SECONDS (default 30).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   # every target when none is named
#   scripts/fuzz.sh --install              # only install the toolchain and cargo-fuzz
#
# Environment: EDGEFLAG_FUZZ_SANITIZER=address (default none: the evaluator has no `unsafe`,
# and panics and overflows are caught without a sanitizer, at twice the speed);
# EDGEFLAG_FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2").
#
# Each target prints "fuzz <target>: N execs in S s, K findings"; the last line is
# "N passed, M failed" (targets). Exits non-zero on any finding: a panic or failed check, an
# input taking over 1 s (-timeout=1) or over 2 GB. The input is saved under
# fuzz/artifacts/<target>/; make it a regression test (fuzz/README.md "Findings").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_FUZZ_VERSION=0.13.2
TOOLCHAIN=$(sed -nE 's/^channel = "(.*)"/\1/p' fuzz/rust-toolchain.toml)
TARGETS=(json_reader float_reader rfc3339_reader flag_file context unleash judgement)

install() {
  if ! rustup toolchain list | grep -q "^$TOOLCHAIN"; then
    echo "fuzz: installing the $TOOLCHAIN toolchain (fuzz/rust-toolchain.toml)"
    rustup toolchain install "$TOOLCHAIN" --profile minimal
  fi
  if [[ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]]; then
    echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force
  fi
}

install
if [[ "${1:-}" == --install ]]; then
  exit 0
fi
SECONDS_PER_TARGET=${1:-30}
shift || true
if [[ $# -gt 0 ]]; then
  TARGETS=("$@")
fi

SANITIZER=${EDGEFLAG_FUZZ_SANITIZER:-none}
TRIPLE=$(rustc "+$TOOLCHAIN" -vV | sed -n 's/^host: //p')
BIN=fuzz/target/$TRIPLE/release

node fuzz/seeds.mjs fuzz/corpus
start=$(date +%s)
cargo "+$TOOLCHAIN" fuzz build --fuzz-dir fuzz --sanitizer "$SANITIZER"
echo "fuzz: built in $(( $(date +%s) - start )) s"

dict_for() {
  case $1 in
    float_reader) echo fuzz/dicts/number.dict ;;
    rfc3339_reader) echo fuzz/dicts/rfc3339.dict ;;
    judgement) ;;
    *) echo fuzz/dicts/json.dict ;;
  esac
}

passed=0
failed=0
for target in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  log="fuzz/artifacts/$target/last-run.log"
  dict=$(dict_for "$target")
  marker="fuzz/artifacts/$target/.run-start"
  touch "$marker"
  status=0
  target_start=$(date +%s)
  # shellcheck disable=SC2086 # EDGEFLAG_FUZZ_ARGS: extra libFuzzer flags, split on spaces
  "$BIN/$target" "fuzz/corpus/$target" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=1 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 \
    ${dict:+-dict=$dict} ${EDGEFLAG_FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - target_start ))
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
  slowest=$(sed -nE 's/^stat::slowest_unit_time_sec: *([0-9]+).*/\1/p' "$log" | sort -n | tail -1)
  corpus_size=$(find "fuzz/corpus/$target" -type f | wc -l)
  findings=$(find "fuzz/artifacts/$target" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) -newer "$marker" | wc -l)
  if [[ $status -ne 0 && $findings -eq 0 ]]; then
    findings=1 # libFuzzer stopped without saving an input (e.g. a build problem): count it
  fi
  echo "fuzz $target: $execs execs in $elapsed s (${rate:-0}/s, slowest input ${slowest:-0} s), corpus $corpus_size, $findings findings"
  if [[ $findings -eq 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
  fi
done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
