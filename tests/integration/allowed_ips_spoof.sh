#!/usr/bin/env bash
# Inbound cryptokey routing between two zeqvpnd: A knows B (10.77.0.2) and C
# (10.77.0.3, never running). B puts C's tunnel address on its own interface
# and pings A from it: the packets reach A's daemon sealed under B's session,
# and A must drop them (counted as allowed_ips) rather than deliver a packet
# that claims to come from C. A capture on A's TUN sees nothing from C's
# address, while B's pings from its own address, sent in the same window, do
# arrive (the capture's positive control).
source "$(dirname "$0")/lib.sh"

SPOOF=10.77.0.3
setup_pair
make_key c
# C joins A's peer list (which ends where the control section begins).
awk -v key="$c_PUB" -v ip="$SPOOF" '/^control:/ { print "  - name: c"; print "    public_key: " key;
  print "    allowed_ips: [" ip "/32]" } { print }' "$WORK/a.yaml" > "$WORK/a2.yaml" && mv "$WORK/a2.yaml" "$WORK/a.yaml"
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_B" $TUN4_A 10 || fail "no tunnel"
in_b ip addr add $SPOOF/32 dev zeq0

allowed_drops() {
  ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["drops"]["allowed_ips"])'
}
before=$(allowed_drops)
start_capture "$NS_A" "$WORK/zeq0.txt" 6 "icmp" zeq0
in_b ping -c 5 -i 0.2 -W 1 -I $SPOOF $TUN4_A >/dev/null 2>&1 && fail "a ping from C's address, sent by B, was answered"
in_b ping -c 3 -i 0.2 -W 1 -I $TUN4_B $TUN4_A >/dev/null || fail "B's own pings are not answered"
wait "$CAP_PID" 2>/dev/null || true
spoofed=$(grep -c "IP $SPOOF > " "$WORK/zeq0.txt" || true)
genuine=$(grep -c "IP $TUN4_B > $TUN4_A: ICMP echo request" "$WORK/zeq0.txt" || true)
after=$(allowed_drops)
log "figures: on A's zeq0 $spoofed packets from $SPOOF and $genuine echo requests from $TUN4_B; drops.allowed_ips $before -> $after"
[ "$genuine" -ge 1 ] || { cat "$WORK/zeq0.txt"; fail "the capture saw none of B's own echo requests: its zero proves nothing"; }
[ "$spoofed" = 0 ] || { cat "$WORK/zeq0.txt"; fail "A delivered $spoofed packets from $SPOOF, which only C may send"; }
[ $((after - before)) -ge 5 ] || fail "A counted $((after - before)) allowed_ips drops for 5 spoofed echoes"
log "PASS"
