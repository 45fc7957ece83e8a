#!/usr/bin/env bash
# The wall clock stepped by +1 hour, then -1 hour, under a running tunnel, on
# A only, with libfaketime (the machine's clock is not touched): A's wall
# clock follows a file we rewrite; its monotonic clock is left alone, so only
# Zeqond stamps move, not timers. A new handshake (forced by `down`/`up`)
# carries a Zeqond an hour off, B refuses it and counts it as rejected_clock
# (PROTOCOL.md: drift over one Zeqond), and the tunnel stays down; once the
# clock is right again, A's next retry (every 5 Zeqonds) brings it back.
source "$(dirname "$0")/lib.sh"

FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[ -f "$FAKETIME_LIB" ] || fail "libfaketime missing (Debian package faketime; scripts/install-deps.sh installs it)"

setup_pair
echo "+0" > "$WORK/clock_offset"
# A runs zeqvpnd through a wrapper that preloads libfaketime (exec all the
# way, so start_node's PID is the daemon's). FAKETIME_NO_CACHE: the file is
# read at every clock call, so a rewrite takes effect at once, in every thread.
REAL_ZEQVPND=$ZEQVPND
cat > "$WORK/faked-zeqvpnd" <<SH
#!/bin/sh
exec env LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$WORK/clock_offset FAKETIME_NO_CACHE=1 \
  FAKETIME_DONT_FAKE_MONOTONIC=1 $REAL_ZEQVPND "\$@"
SH
chmod +x "$WORK/faked-zeqvpnd"
ZEQVPND=$WORK/faked-zeqvpnd start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel before the step"

# A's Zeqond minus B's, rounded: both read first (zeqvpnctl is quick), then parsed.
zeqond_gap() {
  local raw_a raw_b
  raw_a=$(ctl a --json status); raw_b=$(ctl b --json status)
  python3 -c "
import json, sys
z = [json.loads(r)['node'] for r in sys.argv[1:]]
print(round(z[0]['zeqond'] + z[0]['phase'] - z[1]['zeqond'] - z[1]['phase']))" "$raw_a" "$raw_b"
}
rejected_clock() {
  ctl "$1" metrics | awk '/^zeqvpn_handshakes_rejected_total\{reason="rejected_clock"\}/ {n=$2} END {print n+0}'
}

step() {  # step OFFSET EXPECTED_ZEQOND_DIFFERENCE
  local before_b before_a diff deadline
  before_b=$(rejected_clock b); before_a=$(rejected_clock a)
  echo "$1" > "$WORK/clock_offset"
  diff=$(zeqond_gap)
  log "A's clock at $1: A is $diff Zeqonds from B"
  [ "$diff" -ge $(( $2 - 2 )) ] && [ "$diff" -le $(( $2 + 2 )) ] \
    || fail "A's Zeqond is $diff from B's, expected about $2: the faked clock did not reach the daemon"
  ctl a down peer >/dev/null
  ctl a up peer >/dev/null
  deadline=$(( $(date +%s) + 15 ))
  until [ "$(rejected_clock b)" -gt "$before_b" ]; do
    [ "$(date +%s)" -lt $deadline ] || fail "B did not count a rejected_clock handshake within 15 s"
    sleep 0.3
  done
  log "B: rejected_clock $before_b -> $(rejected_clock b); A: $before_a -> $(rejected_clock a)"
  ctl b metrics | holds 'rejected_total{reason="rejected_clock"}'
  ctl b --json status | python3 -c "
import json, sys
n = json.load(sys.stdin)['handshakes']['rejected'].get('rejected_clock', 0)
sys.exit(0 if n > 0 else 1)" || fail "status --json does not show rejected_clock"
  grep -q "handshake rejected (rejected_clock)" "$WORK/b.log" || fail "B did not log the rejection"
  if in_a ping -c 3 -i 0.3 -W 1 $TUN4_B >/dev/null 2>&1; then fail "ping works with A's clock at $1"; fi
  echo "+0" > "$WORK/clock_offset"
  diff=$(zeqond_gap)
  log "A's clock right again: A is $diff Zeqonds from B"
  [ "$diff" -ge -2 ] && [ "$diff" -le 2 ] || fail "A's clock did not come back ($diff Zeqonds from B)"
  wait_ping "$NS_A" $TUN4_B 20 || fail "no recovery within 20 s of the clock coming back from $1"
  log "tunnel back after the clock returned from $1"
}

# One hour is 3600 / 0.777 = 4633 Zeqonds.
step +1h 4633
step -1h -4633

stop_node a "$NS_A"
stop_node b "$NS_B"
log "PASS"
