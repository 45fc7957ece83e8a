#!/usr/bin/env bash
# Roaming (issue 16): A's underlay address changes while B pings A through
# the tunnel. A hears the change from the kernel (a netlink address event,
# no polling), re-handshakes at once from its new address, and B's session
# follows it there: B's pings are answered again within 2 Zeqonds. Without
# that, B would keep sending to A's old address until a keepalive or a
# retry found A (13 Zeqonds and more).
source "$(dirname "$0")/lib.sh"
Z_MS=777
NEW4_A=${UNDER4_A%.*}.77

setup_pair
# The new address joins the old one's subnet, so it is a secondary one:
# promoted when the primary goes, not deleted with it.
in_a sysctl -qw net.ipv4.conf.all.promote_secondaries=1
in_a sysctl -qw net.ipv4.conf.veth0.promote_secondaries=1
start_node b "$NS_B"
start_node a "$NS_A"
wait_ping "$NS_B" $TUN4_A 15 || fail "no tunnel B -> A: $(ctl b peers)"

log "B pings A every 20 ms; A's address $UNDER4_A -> $NEW4_A mid-ping"
bg "$NS_B" "$WORK/ping.txt" ping -D -i 0.02 -w 8 $TUN4_A
PING_PID=$BG_PID
sleep 2
in_a ip addr add $NEW4_A/24 dev veth0
in_a ip addr del $UNDER4_A/24 dev veth0
T_MOVE=$(date +%s%N)
wait $PING_PID 2>/dev/null || true

GAP=$(python3 - "$WORK/ping.txt" <<'PY'
import re, sys
t = [float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\].*bytes from", open(sys.argv[1]).read(), re.M)]
print(int(max((b - a for a, b in zip(t, t[1:])), default=99) * 1000))
PY
)
tail -2 "$WORK/ping.txt"
log "longest gap in B's ping replies across A's move: $GAP ms ($(( GAP * 100 / Z_MS ))/100 Z)"
[ "$GAP" -le $((2 * Z_MS)) ] || fail "B's pings to A stopped for $GAP ms: more than 2 Zeqonds"
grep -q "local addresses changed" "$WORK/a.log" || fail "A did not notice the change: $(grep -i address "$WORK/a.log" | tail -3)"
ctl b peers | holds -q "endpoint: $NEW4_A:$PORT" || fail "B's endpoint for A did not follow: $(ctl b peers)"
# The pings after the move are all answered.
in_b ping -c 20 -i 0.05 -q $TUN4_A | holds -q " 0% packet loss" || fail "pings lost after the move"
log "PASS"
