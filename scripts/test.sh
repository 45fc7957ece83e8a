#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine, as root: installs what is
# missing, configures, builds, and runs every unit and netns integration test
# with ctest. This is the command CI runs (.ci/run).
#
#   bash scripts/test.sh [--sanitize LIST] [CTEST ARGS...]
#
# --sanitize address,undefined (build-asan) or --sanitize thread (build-tsan)
# builds everything, zeqvpnd included, with those sanitizers, so the netns
# tests run the sanitized daemon too. Every report any test's process writes
# (unit test, zeqvpnd, zeqvpnctl) lands in BUILD_DIR/sanitizer-reports/, and
# one there fails the run even when the test around it passed. The rest of
# the arguments go to ctest (e.g. -L unit, -R fuzz.).
set -euo pipefail
cd "$(dirname "$0")/.."

SANITIZE=
case "${1:-}" in
  --sanitize) SANITIZE=${2:-(nothing)}; shift; [ $# -eq 0 ] || shift ;;
  --sanitize=*) SANITIZE=${1#--sanitize=}; SANITIZE=${SANITIZE:-(nothing)}; shift ;;
esac
case "$SANITIZE" in
  "") DEFAULT_BUILD_DIR=build ;;
  address | undefined | address,undefined | undefined,address) DEFAULT_BUILD_DIR=build-asan ;;
  thread) DEFAULT_BUILD_DIR=build-tsan ;;
  *) echo "scripts/test.sh: --sanitize $SANITIZE is not supported; use --sanitize address,undefined or --sanitize thread" >&2
     exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/test.sh: the integration tests create network namespaces and TUN devices; run as root" >&2
  exit 1
fi

bash scripts/install-deps.sh
modprobe tun 2>/dev/null || true

BUILD_DIR=${BUILD_DIR:-$DEFAULT_BUILD_DIR}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZEQ_SANITIZE="$SANITIZE"
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
cd "$BUILD_DIR"

if [ -z "$SANITIZE" ]; then
  exec ctest --output-on-failure --parallel "$(nproc)" "$@"
fi

# Reports go to files (one per process, named after the program): the
# daemon's stderr is a log the tests read, and a report from a process whose
# exit status no test checks (a daemon stopped at the end) still counts.
# World-writable, sticky: the service-mode test runs zeqvpnd as another user.
REPORTS=$PWD/sanitizer-reports
rm -rf "$REPORTS"
mkdir -m 1777 "$REPORTS"
# verify_asan_link_order=0: a test may LD_PRELOAD a library in front of the
# runtime (faketime for a stepped clock), which ASan otherwise refuses.
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:verify_asan_link_order=0:log_path=$REPORTS/asan:log_exe_name=1"
export LSAN_OPTIONS="log_path=$REPORTS/lsan:log_exe_name=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$REPORTS/ubsan:log_exe_name=1"
export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$REPORTS/tsan:log_exe_name=1"

rc=0
ctest --output-on-failure --parallel "$(nproc)" "$@" || rc=$?
# With ASan in the same program, GCC's UBSan writes its "runtime error:"
# to stderr whatever log_path says; -fno-sanitize-recover makes it stop the
# process (so its test fails), and what a test printed is kept here too.
if grep -n "runtime error:" Testing/Temporary/LastTest*.log > "$REPORTS/ubsan.from-test-output" 2>/dev/null; then :
else rm -f "$REPORTS/ubsan.from-test-output"; fi
mapfile -t reports < <(find "$REPORTS" -type f | sort)
if [ ${#reports[@]} -ne 0 ]; then
  for r in "${reports[@]}"; do echo "---- $r"; head -n 80 "$r"; done
  echo "scripts/test.sh: ${#reports[@]} sanitizer report(s) in $REPORTS (--sanitize $SANITIZE)" >&2
  rc=1
fi
exit $rc
