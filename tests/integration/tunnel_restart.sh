#!/usr/bin/env bash
# A restarted peer re-handshakes and traffic resumes within 5 Zeqonds
# (3.885 s), after a clean SIGTERM and after SIGKILL, while the other side
# still holds the old session.
source "$(dirname "$0")/lib.sh"

LIMIT_MS=3885  # 5 Zeqonds
setup_pair
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"

resume_ms() {  # time from B's restart to A's first answered ping
  local start=$1 deadline=$(( $1 + 10000 ))
  while [ "$(( $(date +%s%N) / 1000000 ))" -lt $deadline ]; do
    if in_a ping -c1 -W0.25 $TUN4_B >/dev/null 2>&1; then
      echo $(( $(date +%s%N) / 1000000 - start ))
      return 0
    fi
  done
  echo 99999
}

for how in TERM KILL; do
  kill -$how "$b_PID"
  wait "$b_PID" || true
  sleep 1  # A keeps sending into the void with its old session
  in_a ping -c1 -W0.3 $TUN4_B >/dev/null 2>&1 && fail "ping answered while B was down"
  t0=$(( $(date +%s%N) / 1000000 ))
  start_node b "$NS_B"
  ms=$(resume_ms $t0)
  log "after SIG$how of B: traffic resumed in ${ms} ms (limit ${LIMIT_MS} ms)"
  [ "$ms" -le $LIMIT_MS ] || fail "traffic took ${ms} ms to resume after SIG$how"
  in_b ping -c2 -i0.2 -W2 $TUN4_A >/dev/null || fail "B cannot reach A after restart"
done
log "PASS"
