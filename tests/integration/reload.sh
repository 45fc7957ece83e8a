#!/usr/bin/env bash
# Reload (zeqvpnctl reload and SIGHUP) while a ping runs through the tunnel:
# an added peer gets its route, a changed peer is updated in place, a removed
# peer loses its route, a bad file or an interface change is refused with the
# error and the running configuration stays, and not one ping is lost.
source "$(dirname "$0")/lib.sh"

setup_pair
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no ping A -> B"
tunnel_of_b() { ctl a --json peers | python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"]; print([x for x in p if x["name"]=="peer"][0]["tunnel_id"])'; }
tunnel_before=$(tunnel_of_b)

# 300 echoes 20 ms apart (6 s) span every reload below.
bg "$NS_A" "$WORK/ping.log" ping -c 300 -i 0.02 -W 2 $TUN4_B
PING_PID=$BG_PID
sleep 0.5

make_key c
cat > "$WORK/peer_c" <<YAML
  - name: charlie
    public_key: $c_PUB
    allowed_ips: [10.77.0.3/32, fd77::3/128]
YAML
cp "$WORK/a.yaml" "$WORK/a.orig"
sed -i "/^peers:/r $WORK/peer_c" "$WORK/a.yaml"
out=$(ctl a reload) || fail "reload with an added peer failed: $out"
log "$out"
echo "$out" | holds -q "added charlie (zeq-" || fail "reload did not add charlie: $out"
in_a ip route show dev zeq0 | holds -q "^10.77.0.3 " || fail "no route for the added peer"
in_a ip -6 route show dev zeq0 | holds -q "^fd77::3 " || fail "no IPv6 route for the added peer"
[ "$(ctl a --json peers | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["peers"]))')" = 2 ] || fail "not two peers"

log "SIGHUP with a changed peer"
sed -i "s|^    endpoint: \"$UNDER4_B:$PORT\"|    endpoint: \"$UNDER4_B:$PORT\"\n    persistent_keepalive: 7|" "$WORK/a.yaml"
kill -HUP "$a_PID"
for _ in $(seq 50); do grep -q "reload of .*updated peer (zeq-" "$WORK/a.log" && break; sleep 0.1; done
grep -q "reload of .*updated peer (zeq-" "$WORK/a.log" || fail "SIGHUP did not update the changed peer"
ctl a --json peers | holds -q '"persistent_keepalive": 7' || fail "the change is not in effect"
# Billing is the daemon's alone (the node never sees it): still an update.
sed -i "s|^    persistent_keepalive: 7|    persistent_keepalive: 7\n    billing: {unit: zeqond, price: 3}|" "$WORK/a.yaml"
out=$(ctl a reload) || fail "reload with new billing terms: $out"
echo "$out" | holds -q "updated peer (zeq-[0-9a-f]*); unchanged 1" || fail "a billing change is not reported as an update: $out"

log "bad file and interface change are refused"
cp "$WORK/a.yaml" "$WORK/a.good"
sed -i 's|allowed_ips: \[10.77.0.3/32|allowed_ips: [10.77.0.333/32|' "$WORK/a.yaml"
rc=0; out=$(ctl a reload 2>&1) || rc=$?
[ $rc -eq 1 ] || fail "a bad file was not refused (exit $rc): $out"
echo "$out" | holds -q "a.yaml:.*allowed_ips\[0\]: expected an IP prefix" || fail "refusal does not name the error: $out"
cp "$WORK/a.good" "$WORK/a.yaml"
sed -i 's|mtu: .*||; s|  listen_port: .*|  listen_port: 51999|' "$WORK/a.yaml"
rc=0; out=$(ctl a reload 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$out" | holds -q "interface.listen_port cannot change while zeqvpnd runs" || fail "interface change: $out"
cp "$WORK/a.good" "$WORK/a.yaml"
[ "$(ctl a --json peers | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["peers"]))')" = 2 ] \
  || fail "a refused reload changed the running peers"

log "removing the added peer"
cp "$WORK/a.orig" "$WORK/a.yaml"
out=$(ctl a reload) || fail "reload with a removed peer failed: $out"
echo "$out" | holds -q "removed charlie (zeq-" || fail "reload did not remove charlie: $out"
if in_a ip route show dev zeq0 | holds -q "^10.77.0.3 "; then fail "route of the removed peer is still there"; fi

wait "$PING_PID" || true
cat "$WORK/ping.log" | tail -n 3
grep -q "300 packets transmitted, 300 received" "$WORK/ping.log" || fail "pings were lost across the reloads"
[ "$(tunnel_of_b)" = "$tunnel_before" ] || fail "the unchanged peer's tunnel was restarted by the reloads"
log "PASS"
