#!/usr/bin/env bash
# SIGKILL during a checkpoint, four times: A carries a TCP transfer to B (so
# every Zeqond's checkpoint writes), a watcher polls A's WAL file and kills A
# the moment the file changes, i.e. while SQLite is writing or syncing the
# checkpoint's frames. Each restart must recover the WAL (A starts: its open
# runs PRAGMA quick_check), settle the killed run's row, and leave
# `PRAGMA integrity_check` ok.
source "$(dirname "$0")/lib.sh"

ROUNDS=4
setup_pair
start_node b "$NS_B"

# kill_on_wal_write PID: SIGKILL to PID at the first change of a.db-wal (size
# or mtime) seen polling every 0.2 ms; at most 10 s.
kill_on_wal_write() {
  python3 - "$WORK/a.db-wal" "$1" <<'PY'
import os, signal, sys, time
wal, pid = sys.argv[1], int(sys.argv[2])
def mark():
    s = os.stat(wal)
    return (s.st_size, s.st_mtime_ns)
first = mark()
end = time.monotonic() + 10
while time.monotonic() < end:
    if mark() != first:
        os.kill(pid, signal.SIGKILL)
        print("killed at a WAL write", flush=True)
        sys.exit(0)
    time.sleep(0.0002)
print("no WAL write in 10 s", flush=True)
sys.exit(1)
PY
}

for round in $(seq $ROUNDS); do
  start_node a "$NS_A"
  wait_ping "$NS_A" $TUN4_B 15 || fail "round $round: no tunnel"
  bg "$NS_B" "$WORK/recv.out" python3 "$HERE/tcp_transfer.py" recv 5001
  recv_pid=$BG_PID
  sleep 0.3
  bg "$NS_A" "$WORK/send.out" python3 "$HERE/tcp_transfer.py" send $TUN4_B 5001 20000000000 seed-$round
  send_pid=$BG_PID
  sleep 1.5
  kill_on_wal_write "$a_PID" || fail "round $round: A did not write a checkpoint"
  wait "$a_PID" 2>/dev/null || true
  kill -KILL "$send_pid" "$recv_pid" 2>/dev/null || true
  wait "$send_pid" "$recv_pid" 2>/dev/null || true
  in_a ip link del zeq0 2>/dev/null || true
  log "round $round: A killed during a checkpoint ($(stat -c %s "$WORK/a.db-wal") bytes of WAL left)"
done

start_node a "$NS_A"
wait_ping "$NS_A" $TUN4_B 15 || fail "no tunnel after the last restart"
check=$(sqlite3 "$WORK/a.db" 'PRAGMA integrity_check')
log "integrity_check: $check"
[ "$check" = ok ] || fail "integrity_check: $check"
sqlite3 "$WORK/a.db" "SELECT id, state, end_reason, tx_bytes FROM vpn_tunnels ORDER BY id"
settled=$(sqlite3 "$WORK/a.db" "SELECT count(*) FROM vpn_tunnels WHERE state = 'terminated' AND end_reason = 'daemon_stopped_unexpectedly' AND tx_bytes > 0")
[ "$settled" -eq $ROUNDS ] || fail "$settled rows settled after the kills with bytes, expected $ROUNDS"
[ "$(sqlite3 "$WORK/a.db" "SELECT count(*) FROM vpn_tunnels WHERE state = 'active'")" -eq 1 ] || fail "expected one active row"
ledger=$(sqlite3 "$WORK/a.db" "SELECT count(*) FROM usage_ledger WHERE kind = 'settlement'")
[ "$ledger" -eq $ROUNDS ] || fail "$ledger settlement rows in the ledger, expected $ROUNDS"
stop_node a "$NS_A"
[ "$(sqlite3 "$WORK/a.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check after the clean stop"
stop_node b "$NS_B"
log "PASS"
