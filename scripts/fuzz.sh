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
# EDGEFLAG_FUZZ_EXECS=N (stop each target after N executions, SECONDS then being the most it
# may take: a long run is `EDGEFLAG_FUZZ_EXECS=10000000 nice -n 19 scripts/fuzz.sh 36000`);
# EDGEFLAG_FUZZ_ARGS (extra libFuzzer flags).
#
# Each target prints "fuzz <target>: N execs in S s, K findings"; the last line is
# "N passed, M failed" (targets). Exits non-zero on any finding: a panic or failed check, an
# input taking over 1 s (-timeout=1, confirmed by replaying it alone) or over 2 GB. The input
# is saved under fuzz/artifacts/<target>/; make it a regression test (fuzz/README.md "Findings").
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

# A timeout is wall-clock time, and on a shared machine a starved process can take a second
# over an input that needs a millisecond. So a timeout counts as a finding only if the input,
# replayed alone at normal priority, still takes over a second; otherwise it is moved to
# artifacts/<target>/starved/ and the run goes on from where it stopped.
replay_ms() { # target file -> the slowest of up to three replays that stay under 1 s, or 1000+
  local ms best=999999
  for _ in 1 2 3; do
    # Back to niceness 0 when the run itself is niced (allowed as root; else as it is).
    ms=$(nice -n "-$(nice)" "$BIN/$1" -runs=1 "$2" 2>&1 | sed -nE 's/^Executed .* in ([0-9]+) ms$/\1/p' | tail -1)
    ms=${ms:-999999}
    (( ms < best )) && best=$ms
    (( best < 1000 )) && break
  done
  echo "$best"
}

passed=0
failed=0
for target in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  log="fuzz/artifacts/$target/last-run.log"
  dict=$(dict_for "$target")
  marker="fuzz/artifacts/$target/.run-start"
  touch "$marker"
  : >"$log"
  target_start=$(date +%s)
  execs=0
  starved=0
  findings=0
  while :; do
    status=0
    elapsed=$(( $(date +%s) - target_start ))
    remaining=$(( SECONDS_PER_TARGET - elapsed ))
    runs=()
    if [[ -n "${EDGEFLAG_FUZZ_EXECS:-}" ]]; then
      runs=(-runs=$(( EDGEFLAG_FUZZ_EXECS - execs )))
    fi
    round_start=$(date +%s)
    # shellcheck disable=SC2086 # EDGEFLAG_FUZZ_ARGS: extra libFuzzer flags, split on spaces
    "$BIN/$target" "fuzz/corpus/$target" \
      -max_total_time="$(( remaining > 1 ? remaining : 1 ))" "${runs[@]}" -timeout=1 -rss_limit_mb=2048 \
      -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 \
      ${dict:+-dict=$dict} ${EDGEFLAG_FUZZ_ARGS:-} >"$log.round" 2>&1 || status=$?
    cat "$log.round" >>"$log"
    round_execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log.round" | awk '{s += $1} END {print s + 0}')
    if [[ $round_execs -eq 0 ]]; then
      # A stop before the final stats (a crash or a timeout): libFuzzer's last progress line.
      round_execs=$(grep -oE '^#[0-9]+' "$log.round" | tail -1 | tr -d '#')
    fi
    execs=$((execs + ${round_execs:-0}))
    mapfile -t new < <(find "fuzz/artifacts/$target" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) -newer "$marker")
    real=0
    for artifact in "${new[@]}"; do
      if [[ $(basename "$artifact") == timeout-* ]]; then
        ms=$(replay_ms "$target" "$artifact")
        if (( ms < 1000 )); then
          mkdir -p "fuzz/artifacts/$target/starved"
          mv "$artifact" "fuzz/artifacts/$target/starved/"
          echo "fuzz $target: a timeout after $(( $(date +%s) - round_start )) s of the round was starvation: the input runs in $ms ms alone" | tee -a "$log"
          starved=$((starved + 1))
          continue
        fi
      fi
      real=$((real + 1))
    done
    findings=$((findings + real))
    if [[ $status -ne 0 && ${#new[@]} -eq 0 ]]; then
      findings=$((findings + 1)) # libFuzzer stopped without saving an input (a build problem?): count it
    fi
    elapsed=$(( $(date +%s) - target_start ))
    # Go on only after starvation, while time (and executions, when counted) remain.
    if [[ $status -eq 0 || $real -gt 0 || ${#new[@]} -eq 0 || $elapsed -ge $SECONDS_PER_TARGET ]]; then
      break
    fi
    if [[ -n "${EDGEFLAG_FUZZ_EXECS:-}" && $execs -ge $EDGEFLAG_FUZZ_EXECS ]]; then
      break
    fi
  done
  rm -f "$log.round"
  rate=$(( execs / (elapsed > 0 ? elapsed : 1) ))
  slowest=$(sed -nE 's/^stat::slowest_unit_time_sec: *([0-9]+).*/\1/p' "$log" | sort -n | tail -1)
  corpus_size=$(find "fuzz/corpus/$target" -type f | wc -l)
  echo "fuzz $target: $execs execs in $elapsed s ($rate/s, slowest input ${slowest:-0} s, $starved starved timeouts replayed under 1 s), corpus $corpus_size, $findings findings"
  if [[ $findings -eq 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
  fi
done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
