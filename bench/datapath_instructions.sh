#!/usr/bin/env bash
# Instructions the data path executes, counted by callgrind (repeatable where
# wall-clock throughput on a shared VM is not): two nodes in namespaces under
# valgrind, 3000 echoes of 1300 bytes through the tunnel, and the
# instructions spent in DataWorker::send_batch and receive_batch with
# everything they call (AES-GCM, syscall wrappers), per node. Compare two
# builds by running it against each (ZEQ_BUILD_DIR=...). Prints numbers;
# asserts nothing about speed. Run as root after a build:
#   bash bench/datapath_instructions.sh            (ECHOES=3000 by default)
source "$(dirname "$0")/../tests/integration/lib.sh"

ECHOES=${ECHOES:-3000}
command -v valgrind >/dev/null || fail "valgrind missing (apt-get install valgrind)"
[ -x "$ZEQVPND" ] || fail "build first: cmake -S . -B build -G Ninja && cmake --build build"

setup_pair
start_under_callgrind() {  # NAME NETNS
  local field_var="FIELD_KEY_$1"
  ip netns exec "$2" env ZEQ_MESH_SECRET="$MESH_SECRET" ZEQ_FIELD_KEY="${!field_var}" \
    valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.$1" --collect-atstart=no \
      --toggle-collect='zeq::DataWorker::send_batch()' --toggle-collect='zeq::DataWorker::receive_batch()' \
      "$ZEQVPND" --config "$WORK/$1.yaml" >> "$WORK/$1.log" 2>&1 &
  PIDS+=("$!")
  printf -v "${1}_PID" '%s' "$!"
}
start_under_callgrind a "$NS_A"
start_under_callgrind b "$NS_B"
wait_ping "$NS_A" $TUN4_B 60 || fail "no tunnel under valgrind within 60 s"
in_a ping -q -c "$ECHOES" -i 0.002 -s 1300 $TUN4_B | grep "packets transmitted"
kill -TERM "$a_PID" "$b_PID"
wait "$a_PID" "$b_PID" 2>/dev/null || true
for n in a b; do
  total=$(awk '/^(summary|totals):/ {print $2; exit}' "$WORK/callgrind.$n")
  echo "node $n: $total instructions in send_batch + receive_batch ($(( total / ECHOES / 2 )) per packet each way)"
done
