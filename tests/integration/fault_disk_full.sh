#!/usr/bin/env bash
# The state database's filesystem fills up under a running tunnel: A's state
# directory is a small tmpfs, a filler file takes the rest while ping traffic
# moves the byte counters. The tunnel stays up, the failing checkpoint is
# logged once (not once per Zeqond), what was committed stays, and once the
# filler is gone the counts kept in memory are written again.
source "$(dirname "$0")/lib.sh"

STATE=$WORK/state
mkdir -p "$STATE"
mount -t tmpfs -o size=4m,mode=0700 zeqvpn-test-state "$STATE"
# The tmpfs goes before lib.sh's cleanup removes $WORK (lazily: the daemon
# may still hold the database open until cleanup kills it).
fault_cleanup() {
  local rc=$?
  umount -l "$STATE" 2>/dev/null
  (exit $rc)
  cleanup
}
trap fault_cleanup EXIT

setup_pair
sed -i "s|^state: .*|state: {database: $STATE/a.db}|" "$WORK/a.yaml"
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"

row_tx() { sqlite3 "$STATE/a.db" "SELECT tx_bytes FROM vpn_tunnels WHERE id = 1 AND state = 'active'"; }
# Traffic for the whole test, so every Zeqond's checkpoint has bytes to write.
bg "$NS_A" "$WORK/ping.out" ping -i 0.05 -s 1000 -w 60 $TUN4_B
sleep 2
before=$(row_tx)
[ "${before:-0}" -gt 0 ] || fail "no bytes checkpointed before the disk filled (row: '$before')"

log "filling the state filesystem"
dd if=/dev/zero of="$STATE/filler" bs=64k status=none 2>/dev/null || true
df -k "$STATE" | tail -1
sleep 6   # about 8 Zeqonds of failing checkpoints

failed_lines=$(grep -c "writing tunnel usage failed: .*$STATE/a.db" "$WORK/a.log" || true)
grep "writing tunnel usage" "$WORK/a.log" || true
[ "$failed_lines" -eq 1 ] || fail "the write error was logged $failed_lines times, expected once"
grep "writing tunnel usage" "$WORK/a.log" | holds -q "full" || fail "the logged error does not say the disk is full"
in_a ping -c 5 -i 0.2 -W 2 $TUN4_B >/dev/null || fail "the tunnel stopped working while the disk was full"
during=$(row_tx)
[ "$during" -ge "$before" ] || fail "committed bytes went backwards: $before before, $during while full"
log "checkpointed tx bytes: $before before the disk filled, $during while full"

log "space returns"
rm -f "$STATE/filler"
deadline=$(( $(date +%s) + 10 ))
until grep -q "tunnel usage written to $STATE/a.db again after" "$WORK/a.log"; do
  [ "$(date +%s)" -lt $deadline ] || fail "writes did not resume within 10 s of the space coming back"
  sleep 0.2
done
grep "written to .* again" "$WORK/a.log"
sleep 2
after=$(row_tx)
[ "$after" -gt "$during" ] || fail "no new bytes written after the space came back ($during -> $after)"
log "checkpointed tx bytes after the space returned: $after"
[ "$(sqlite3 "$STATE/a.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check failed"
[ "$(grep -c "writing tunnel usage failed" "$WORK/a.log")" -eq 1 ] || fail "the error was logged again"

stop_node a "$NS_A"
sqlite3 "$STATE/a.db" "SELECT id, state, end_reason, tx_bytes FROM vpn_tunnels"
[ "$(sqlite3 "$STATE/a.db" "SELECT state || ' ' || (tx_bytes >= $after) FROM vpn_tunnels WHERE id = 1")" = "terminated 1" ] \
  || fail "row 1 not settled with at least the bytes written after the space returned"
stop_node b "$NS_B"
log "PASS"
