#!/usr/bin/env bash
# The first packets after a fresh handshake are answered. An independent
# initiator written from PROTOCOL.md alone (zeqpeer.py, Debian's python3 and
# python3-cryptography) plays a node that restarts before every round: a new
# socket, ephemeral, index and nonce, then echo requests at once, with no
# keepalive first. The responder B must answer every echo under the NEW
# session, including the first ones (the reply may not go out under the
# previous session, which the restarted peer no longer has). Then a round
# whose inner source is another peer's tunnel address gets no reply and B
# counts the drop (allowed_ips_spoof.sh shows the same between two zeqvpnd).
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3          # Debian's, with python3-cryptography; not pyenv's
PEER="$HERE/zeqpeer.py"
ROUNDS=20
ECHOES=5
SPOOF=10.77.0.3              # peer c's tunnel address, outside the python peer's allowed_ips

log "zeqpeer selftest against tests/data/zeqvpn-vectors.json"
"$PY" "$PEER" --selftest > "$WORK/selftest.log" 2>&1 || { cat "$WORK/selftest.log"; fail "zeqpeer selftest"; }
tail -n 1 "$WORK/selftest.log"

setup_namespaces
make_key py
make_key b
make_key c
# B, the responder: knows the python peer by key, no endpoint (it learns it
# from the handshake), and only 10.77.0.1 is allowed from it; 10.77.0.3
# belongs to peer c, which never shows up.
cat > "$WORK/b.yaml" <<YAML
interface:
  name: zeq0
  addresses: [$TUN4_B/24]
  listen_port: $PORT
  identity_key_file: $WORK/b.key
log_level: debug
peers:
  - name: py
    public_key: $py_PUB
    allowed_ips: [$TUN4_A/32]
  - name: c
    public_key: $c_PUB
    allowed_ips: [$SPOOF/32]
control: {socket: $WORK/b.sock}
state: {database: $WORK/b.db}
YAML
start_node b "$NS_B"

# allowed_ips drops counted by B so far (0 when the key is absent).
allowed_drops() {
  ctl b --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("drops", {}).get("allowed_ips", 0))'
}

# zeqpeer ROUNDS ECHOES [OPTIONS...]: runs the peer in A's namespace on the underlay, bounded
# by timeout(1) in case a loop misbehaves (each round is at most ~5 s).
zeqpeer() {
  ip netns exec "$NS_A" env ZEQ_MESH_SECRET="$MESH_SECRET" timeout 300 \
    "$PY" "$PEER" "${@:3}" rounds "$WORK/py.key" "$b_PUB" "$UNDER4_B:$PORT" "$TUN4_A" "$TUN4_B" "$1" "$2"
}

log "$ROUNDS fresh handshakes, $ECHOES echoes each sent at once"
rc=0
zeqpeer "$ROUNDS" "$ECHOES" > "$WORK/rounds.log" 2>&1 || rc=$?
cat "$WORK/rounds.log"
summary=$(tail -n 1 "$WORK/rounds.log")
[ "$rc" -ne 2 ] || fail "zeqpeer could not run or handshake (rc 2)"
lossy=$(grep -c '^round .* lost [1-9]' "$WORK/rounds.log" || true)
log "figures: $summary; rounds with lost replies: $lossy of $ROUNDS"
# A loss is reported at the end, so the spoofing check below still runs.
problems=()
[ "$rc" -eq 0 ] || problems+=("replies to the first echoes after a fresh handshake were lost ($lossy of $ROUNDS rounds)")

log "spoofed inner source $SPOOF: no reply, counted by B"
before=$(allowed_drops)
rc=0
zeqpeer 1 "$ECHOES" --src "$SPOOF" --expect-none > "$WORK/spoof.log" 2>&1 || rc=$?
cat "$WORK/spoof.log"
[ "$rc" -eq 0 ] || fail "a packet with source $SPOOF was answered, or zeqpeer failed (rc $rc)"
after=$(allowed_drops)
log "figures: drops.allowed_ips $before -> $after"
[ "$after" -gt "$before" ] || fail "B did not count the spoofed packets as allowed_ips drops ($before -> $after)"
[ ${#problems[@]} -eq 0 ] || fail "${problems[*]}"
log "PASS"
