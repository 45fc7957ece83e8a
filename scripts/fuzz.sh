#!/usr/bin/env bash
# Fuzzes the parsers of outside input (tests/fuzz) with libFuzzer:
#
#   bash scripts/fuzz.sh [TARGET|all] [SECONDS]      (default: all, 60 s each)
#
# Builds every target with clang -fsanitize=fuzzer,address,undefined into
# build-fuzz (FUZZ_BUILD_DIR), replays the target's regressions, then runs it
# for SECONDS over a work copy of its seed corpus (build-fuzz/fuzz-work/TARGET,
# kept between runs, so the checked-in seeds stay small), one target after
# another, and prints each target's executions. A crash, leak, timeout or
# out-of-memory input is copied to tests/fuzz/regressions/TARGET/, which the
# suite replays from then on (ctest fuzz.TARGET), and the script fails.
# FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS="-runs=10000000").
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${1:-all}
RUN_SECONDS=${2:-60}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
case $RUN_SECONDS in '' | *[!0-9]*) echo "scripts/fuzz.sh: SECONDS must be a whole number, got '$RUN_SECONDS'" >&2; exit 2 ;; esac

mapfile -t ALL < <(cd tests/fuzz && ls -- *_fuzz.cpp | sed 's/_fuzz\.cpp$//')
if [ "$TARGET" = all ]; then
  TARGETS=("${ALL[@]}")
elif [ -f "tests/fuzz/${TARGET}_fuzz.cpp" ]; then
  TARGETS=("$TARGET")
else
  echo "scripts/fuzz.sh: no fuzz target '$TARGET'; pick one of: ${ALL[*]} (or all)" >&2
  exit 2
fi

bash scripts/install-deps.sh
mkdir -p "$BUILD_DIR"
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DZEQ_SANITIZE=address,undefined -DZEQ_FUZZ=ON > "$BUILD_DIR/configure.log" 2>&1 ||
  { cat "$BUILD_DIR/configure.log" >&2; exit 1; }
cmake --build "$BUILD_DIR" --parallel "$(nproc)" --target "${TARGETS[@]/#/fuzz_}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
SYMBOLIZER=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
[ -n "$SYMBOLIZER" ] && export ASAN_SYMBOLIZER_PATH=$SYMBOLIZER UBSAN_SYMBOLIZER_PATH=$SYMBOLIZER

failed=()
summary=()
for t in "${TARGETS[@]}"; do
  bin=$BUILD_DIR/tests/fuzz/fuzz_$t
  work=$BUILD_DIR/fuzz-work/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -n "tests/fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null || true
  rm -f "$work/artifacts"/*

  regressions=(tests/fuzz/regressions/"$t"/*)
  if [ -e "${regressions[0]}" ]; then
    echo "== $t: replaying ${#regressions[@]} regression input(s)"
    "$bin" "${regressions[@]}" > "$work/regressions.log" 2>&1 ||
      { tail -n 40 "$work/regressions.log"; failed+=("$t (regression)"); continue; }
  fi

  echo "== $t: ${RUN_SECONDS} s"
  rc=0
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of options
  "$bin" -max_total_time="$RUN_SECONDS" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" ${FUZZ_ARGS:-} "$work/corpus" > "$work/fuzz.log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n 1)
  per_s=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -n 1)
  summary+=("$(printf '%-22s %12s executions  %8s/s  %5s corpus files' "$t" "${execs:-?}" "${per_s:-?}" \
                  "$(ls "$work/corpus" | wc -l)")")
  if [ $rc -ne 0 ]; then
    grep -m1 -E '^==[0-9]+==ERROR|runtime error|deadly signal|ERROR: libFuzzer' "$work/fuzz.log" || true
    tail -n 60 "$work/fuzz.log"
    mkdir -p "tests/fuzz/regressions/$t"
    for a in "$work/artifacts"/*; do
      [ -e "$a" ] || continue
      cp "$a" "tests/fuzz/regressions/$t/"
      echo "== $t: input saved as tests/fuzz/regressions/$t/$(basename "$a") (full log: $work/fuzz.log)"
    done
    failed+=("$t")
  fi
done

echo "== executions per target (${RUN_SECONDS} s each)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "scripts/fuzz.sh: findings in: ${failed[*]}; fix them, and the suite replays the saved inputs (ctest -R fuzz.)" >&2
  exit 1
fi
