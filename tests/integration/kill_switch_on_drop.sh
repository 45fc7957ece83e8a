#!/usr/bin/env bash
# on_drop in real time: A's only peer never answers, so after
# HANDSHAKE_GIVE_UP (90 Zeqonds, about 70 s) the kill switch arms and the
# underlay sees nothing from A; when B comes up and the tunnel is back, it
# disarms by itself.
source "$(dirname "$0")/lib.sh"

setup_pair
printf 'kill_switch: on_drop\n' >> "$WORK/a.yaml"
start_node a "$NS_A"
ctl a killswitch status | holds -q "kill switch: disarmed (mode on_drop, all tunnels up" || fail "armed before any drop: $(ctl a killswitch status)"
in_a ping -c 1 -W 2 $UNDER4_B >/dev/null || fail "the underlay is blocked before any drop"

# 90 Z plus two retry periods, generously.
armed=0
for _ in $(seq 110); do
  if ctl a --json killswitch status | holds -q '"armed": true'; then armed=1; break; fi
  sleep 1
done
[ $armed = 1 ] || fail "the kill switch did not arm after the handshakes gave up"
ctl a killswitch status | holds -q "armed (mode on_drop, a tunnel dropped" || fail "reason: $(ctl a killswitch status)"
grep -q "no handshake answer for 90 Zeqonds" "$WORK/a.log" || fail "no give-up logged"
in_a ping -c 2 -W 1 $UNDER4_B >/dev/null 2>&1 && fail "the underlay is reachable with the kill switch armed"
log "armed after the give-up"

start_node b "$NS_B"
wait_ping "$NS_B" $TUN4_A 15 || fail "the tunnel did not come back"
for _ in $(seq 20); do
  ctl a --json killswitch status | holds -q '"armed": false' && break
  sleep 0.25
done
ctl a killswitch status | holds -q "kill switch: disarmed (mode on_drop, all tunnels up" || fail "not disarmed: $(ctl a killswitch status)"
in_a ping -c 1 -W 2 $UNDER4_B >/dev/null || fail "the underlay is still blocked after the tunnel came back"
stop_node a "$NS_A"
in_a nft list tables | holds -qx "table inet zeqvpn" && fail "on_drop left its table after a clean stop"
log "PASS"
