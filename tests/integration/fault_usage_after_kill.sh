#!/usr/bin/env bash
# Usage after a crash (issue 9, item 6): A sends a long TCP transfer to B
# through the tunnel; A's live byte counter is read from the control socket
# and A is killed with SIGKILL right after. At the next start the tunnel's row
# is settled with the bytes of its last checkpoint, which runs every Zeqond:
# the settled bytes may trail the live counter by at most the traffic of
# about one Zeqond. The check allows two Zeqonds at the fastest rate seen
# (the checkpoint timer can run late on a loaded control thread) plus 1 MiB;
# the settled bytes may exceed the reading by what passed between the reading
# and the kill.
source "$(dirname "$0")/lib.sh"

setup_pair
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"

live_tx() { ctl a --json status | python3 -c "import json,sys; print(json.load(sys.stdin)['peers'][0]['tx_bytes'])"; }
now_ns() { date +%s%N; }

bg "$NS_B" "$WORK/recv.out" python3 "$HERE/tcp_transfer.py" recv 5001
sleep 0.3
# Far more than can pass before the kill; the sender's own deadline bounds it.
bg "$NS_A" "$WORK/send.out" python3 "$HERE/tcp_transfer.py" send $TUN4_B 5001 20000000000 seed-kill

# Sample the live counter every half second for 6 s: traffic flows, and the
# fastest rate seen bounds what one Zeqond can carry.
peak=0; prev=$(live_tx); prev_t=$(now_ns)
for _ in $(seq 12); do
  sleep 0.5
  cur=$(live_tx); cur_t=$(now_ns)
  rate=$(( (cur - prev) * 1000000000 / (cur_t - prev_t) ))
  [ $rate -gt $peak ] && peak=$rate
  prev=$cur; prev_t=$cur_t
done
[ "$peak" -gt 1000000 ] || fail "the transfer does not move (peak $peak B/s)"

# Read the counter, kill at once, parse afterwards; the bytes counted between
# the reading and the kill are bounded by the time between them.
t_read=$(now_ns)
raw=$(ctl a --json status)
kill -KILL "$a_PID"
t_kill=$(now_ns)
wait "$a_PID" 2>/dev/null || true
live=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['peers'][0]['tx_bytes'])" "$raw")
window_ms=$(( (t_kill - t_read) / 1000000 ))
log "A killed with $live bytes counted live ${window_ms} ms before; peak rate $peak B/s ($(( peak * 8 / 1000000 )) Mbit/s)"
in_a ip link del zeq0 2>/dev/null || true

# What the dead daemon left committed: the row is still active.
committed=$(sqlite3 "$WORK/a.db" "SELECT tx_bytes FROM vpn_tunnels WHERE id = 1 AND state = 'active'")
[ -n "$committed" ] || fail "no active row 1 after the kill: $(sqlite3 "$WORK/a.db" 'SELECT * FROM vpn_tunnels')"

start_node a "$NS_A"
settled=$(sqlite3 "$WORK/a.db" "SELECT tx_bytes || ' ' || end_reason FROM vpn_tunnels WHERE id = 1 AND state = 'terminated'")
read -r settled_tx reason <<< "$settled"
[ "$reason" = daemon_stopped_unexpectedly ] || fail "row 1 not settled at the restart: '$settled'"
[ "$settled_tx" = "$committed" ] || fail "settled $settled_tx bytes, but $committed were committed"

# One Zeqond is 777 ms: 2 Zeqonds are 1554 ms of traffic at the peak rate.
allowed=$(( peak * 1554 / 1000 + 1048576 ))
lost=$(( live - settled_tx ))
log "settled $settled_tx of $live bytes: $lost lost ($(( lost * 1000 / peak )) ms of traffic at the peak rate); allowed $allowed"
[ "$lost" -le "$allowed" ] || fail "lost $lost bytes at the crash, more than two Zeqonds of traffic ($allowed)"
[ "$settled_tx" -le $(( live + peak * (window_ms + 100) / 1000 + 1048576 )) ] \
  || fail "settled $settled_tx bytes, more than were counted ($live, ${window_ms} ms before the kill)"

wait_ping "$NS_A" $TUN4_B 15 || fail "no ping after the restart"
stop_node a "$NS_A"
log "PASS"
