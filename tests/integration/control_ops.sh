#!/usr/bin/env bash
# Operating a running daemon only through zeqvpnctl: status, peers, metrics,
# down/up/rekey, exit codes for an unknown peer, a stopped daemon and a caller
# that is neither root nor in the control group (refused by SO_PEERCRED and
# logged), and the socket's mode and group.
source "$(dirname "$0")/lib.sh"

setup_pair
control_group_for a
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no ping A -> B"

stat -c '%a %G' "$WORK/a.sock" | holds -qx "660 $CTL_GROUP" || fail "socket mode/group: $(stat -c '%a %G' "$WORK/a.sock")"

out=$(ctl a status)
echo "$out"
echo "$out" | holds -q "^node zeq-" || fail "status has no node line"
echo "$out" | holds -q "interface: zeq0, listening on UDP $PORT" || fail "status lacks interface and port"
echo "$out" | holds -q "Zeqond: [0-9]*, phase 0\.[0-9]" || fail "status lacks Zeqond and phase"
echo "$out" | holds -q "^peer peer (zeq-[0-9a-f]*): up" || fail "status does not show the peer up"
echo "$out" | holds -q "latest handshake: [0-9]* Zeqonds (.*) ago" || fail "status lacks the handshake age"

json=$(ctl a --json status)
python3 - "$json" "$b_PUB" <<'PY' || fail "status --json is wrong"
import json, sys
s = json.loads(sys.argv[1])
p = s["peers"][0]
assert s["node"]["listen_port"] == 51820 and s["node"]["uptime_s"] > 0, s["node"]
assert 0 <= s["node"]["phase"] < 1 and s["node"]["zeqond"] > 0
assert p["state"] == "up" and p["public_key"] == sys.argv[2], p
assert p["rx_bytes"] > 0 and p["tx_bytes"] > 0 and p["last_handshake_zeqonds"] >= 0, p
assert p["tunnel_id"] > 0
PY
ctl a --json peers | python3 -c 'import json,sys; assert len(json.load(sys.stdin)["peers"]) == 1' || fail "peers --json"

metrics=$(ctl a metrics)
echo "$metrics" | holds -q '^# TYPE zeqvpn_peer_rx_bytes_total counter' || fail "metrics lack peer byte counters"
echo "$metrics" | holds -Eq '^zeqvpn_peer_up\{peer="peer",zid="zeq-[0-9a-f]+"\} 1$' || fail "metrics do not show the peer up"
echo "$metrics" | holds -Eq '^zeqvpn_drops_total\{reason="bad_tag"\} 0$' || fail "metrics lack drop reasons"
echo "$metrics" | holds -Eq '^zeqvpn_handshakes_completed_total [1-9]' || fail "metrics lack handshakes"

log "down / up / rekey"
ctl a down peer | holds -q "down" || fail "down did not answer"
ctl a --json status | holds -q '"state": "admin_down"' || fail "peer not admin_down after down"
if in_a ping -c1 -W1 $TUN4_B >/dev/null 2>&1; then fail "ping went through a downed peer"; fi
ctl a up peer >/dev/null || fail "up failed"
wait_ping "$NS_A" $TUN4_B 10 || fail "no ping after up"
before=$(ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"][0]["handshakes"])')
ctl a rekey peer >/dev/null || fail "rekey failed"
for _ in $(seq 40); do
  now=$(ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"][0]["handshakes"])')
  [ "$now" -gt "$before" ] && break
  sleep 0.1
done
[ "$now" -gt "$before" ] || fail "rekey did not complete a handshake ($before -> $now)"
wait_ping "$NS_A" $TUN4_B 5 || fail "no ping after rekey"

log "exit codes"
rc=0; out=$(ctl a down nosuchpeer 2>&1) || rc=$?
[ $rc -eq 5 ] || fail "unknown peer: exit $rc, want 5 ($out)"
echo "$out" | holds -q "unknown peer 'nosuchpeer'; configured peers: peer" || fail "unknown peer message: $out"
rc=0; out=$("$ZEQVPNCTL" --socket "$WORK/none.sock" status 2>&1) || rc=$?
[ $rc -eq 3 ] || fail "not running: exit $rc, want 3 ($out)"
echo "$out" | holds -q "zeqvpnd is not running" || fail "not running message: $out"
rc=0; out=$(ctl a frobnicate 2>&1) || rc=$?
[ $rc -eq 2 ] || fail "bad arguments: exit $rc, want 2 ($out)"

# Another user in the control group may; one outside it may not, even when
# the socket file itself would let them connect.
setpriv --reuid=65534 --regid=100 --clear-groups "$ZEQVPNCTL" --socket "$WORK/a.sock" status >/dev/null \
  || fail "a member of group $CTL_GROUP was refused"
rc=0; out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ZEQVPNCTL" --socket "$WORK/a.sock" status 2>&1) || rc=$?
[ $rc -eq 4 ] || fail "outsider through file mode: exit $rc, want 4 ($out)"
chmod 666 "$WORK/a.sock"
rc=0; out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ZEQVPNCTL" --socket "$WORK/a.sock" status 2>&1) || rc=$?
[ $rc -eq 4 ] || fail "outsider past the file mode: exit $rc, want 4 ($out)"
echo "$out" | holds -q "permission denied" || fail "outsider message: $out"
grep -q "control: refused a connection from uid 65534" "$WORK/a.log" || fail "the refusal was not logged"

log "offline commands"
"$ZEQVPNCTL" gen-secrets --output "$WORK/secrets.env"
[ "$(stat -c %a "$WORK/secrets.env")" = 600 ] || fail "gen-secrets file mode $(stat -c %a "$WORK/secrets.env")"
grep -Eq '^ZEQ_MESH_SECRET=[0-9a-f]{64}$' "$WORK/secrets.env" || fail "gen-secrets: no mesh secret"
grep -Eq '^ZEQ_FIELD_KEY=[0-9a-f]{64}$' "$WORK/secrets.env" || fail "gen-secrets: no field key"
rc=0; "$ZEQVPNCTL" gen-secrets --output "$WORK/secrets.env" 2>/dev/null || rc=$?
[ $rc -eq 1 ] || fail "gen-secrets overwrote without --force"
"$ZEQVPNCTL" gen-secrets --output "$WORK/secrets.env" --force 2>/dev/null || fail "gen-secrets --force"
"$ZEQVPNCTL" config check "$WORK/a.yaml" | holds -q "valid" || fail "config check rejected a valid file"
sed 's|listen_port: .*|listen_port: 0|' "$WORK/a.yaml" > "$WORK/bad.yaml"
rc=0; out=$("$ZEQVPNCTL" config check "$WORK/bad.yaml" 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$out" | holds -q "interface.listen_port" || fail "config check accepted a bad file: $out"

stop_node a "$NS_A"
[ ! -e "$WORK/a.sock" ] || fail "control socket left behind after stop"
log "PASS"
