#!/usr/bin/env bash
# Relays from the mesh directory. The same two LANs as relay.sh, every node
# with a mesh certificate; R2's certificate has the relay role and its record
# offers relaying with its terms. A and B name only R1 in `relays:`; R2 names
# only R1 as a peer, and A and B are no peers of R2's YAML (it admits them by
# certificate). Checked:
#  - R2's record (relay offer: port, price, region) reaches A and B through
#    gossip over their R1 tunnels; both keep a session with R2 as a relay
#    from the directory (`zeqvpnctl relays`), and A's directory shows the
#    offer.
#  - A -> B through the relay with the shorter round trip; that one killed:
#    A moves to the other and pings go on (one of the two is R2, learnt
#    only from the directory).
#  - B restarts (SIGKILL): the relay still forwards A's old pair, B tells it
#    to close it (it holds no such pair), A opens a new one and handshakes;
#    ping A -> B works again.
#  - The relay in use restarts, crashed (SIGKILL) and stopped (SIGTERM),
#    with the other relay dead: A and B find it lost their sessions and
#    pairs (unanswered pings: a new handshake; a pair it does not hold:
#    Close), open a new pair, and ping A -> B works again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/relay_lans.sh"

setup_relay_lans
"$ZEQVPNCTL" ca init --name relaymesh --dir "$WORK/ca" >/dev/null
cert() {  # cert NAME ADDRESS ROLES
  "$ZEQVPNCTL" ca sign --ca-key "$WORK/ca/ca.key" --name "$1" --public-key "$(eval echo "\$${1}_PUB")" \
    --signing-key "$("$ZEQVPNCTL" pubkey --signing < "$WORK/$1.key")" --address "$2" --roles "$3" \
    --out "$WORK/$1.crt" 2>/dev/null
}
for n in a b r1 r2; do make_key $n; done
FIELD_KEY_r1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
FIELD_KEY_r2=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cert a 10.77.0.1/24 node
cert b 10.77.0.2/24 node
cert r1 10.77.0.11/32 relay
cert r2 10.77.0.12/32 relay
mesh() { printf 'mesh: {ca: %s, certificate: %s}' "$WORK/ca/ca.pub" "$WORK/$1.crt"; }

relay_yaml r1 500 off "  - {name: a, public_key: $a_PUB}
  - {name: b, public_key: $b_PUB}
  - {name: r2, public_key: $r2_PUB}" "$(mesh r1)"
relay_yaml r2 700 off "  - {name: r1, public_key: $r1_PUB, endpoint: \"$R1_1:$PORT\"}" "$(mesh r2)"
CHOICE="relay_choice: {direct_attempts: 1}"
node_yaml a 10.77.0.1 "  - {name: b, public_key: $b_PUB, endpoint: \"$B2:$PORT\", allowed_ips: [10.77.0.2/32]}" \
  "  - {name: r1, public_key: $r1_PUB, endpoint: \"$R1_1:$PORT\"}" "$CHOICE
$(mesh a)"
node_yaml b 10.77.0.2 "  - {name: a, public_key: $a_PUB, allowed_ips: [10.77.0.1/32]}" \
  "  - {name: r1, public_key: $r1_PUB, endpoint: \"$R1_2:$PORT\"}" "$CHOICE
$(mesh b)"

start_relay r1 "$NS_R1"
start_relay r2 "$NS_R2"
start_node b "$NS_B"
start_node a "$NS_A"
t0=$(date +%s%N)
log "R2's relay offer through the directory; A and B keep sessions with it"
r2_offered() {
  ctl a --json directory | python3 -c "import json,sys
d=json.load(sys.stdin)
r=[x for x in d['records'] if x['name']=='r2'][0]['relay']
sys.exit(0 if r and r['price']==700 and r['unit']=='gb' and r['region']=='lab-r2' else 1)" 2>/dev/null
}
wait_for 30 r2_offered || fail "A's directory has no relay offer of R2: $(ctl a directory)"
wait_for 30 relay_up a r2 || fail "A has no session with R2 as a relay: $(ctl a relays)"
wait_for 30 relay_up b r2 || fail "B has no session with R2 as a relay: $(ctl b relays)"
log "R2 usable from the directory at A and B $(( ($(date +%s%N) - t0) / 1000000 )) ms after A started"
ctl a relays

in_a ip route show dev zeq0 | holds -q 10.77.0.12 && fail "A routes to R2's certificate address"

wait_for 30 path_is a b relay || fail "A never went through a relay to B: $(ctl a peers)"
wait_ping "$NS_A" 10.77.0.2 15 || fail "no ping A -> B through a relay"
# Whichever answers faster carries the pair; then it dies and the other
# takes over. One of the two phases runs through R2, which A knows from the
# directory only.
FIRST=$(peer_field a b "p['relay'].split(' ')[0]")
case $FIRST in r1) NEXT=r2; KILL=$r1_PID ;; r2) NEXT=r1; KILL=$r2_PID ;; *) fail "A's relay to B: '$FIRST'" ;; esac
ctl "$FIRST" relays | holds -q "pair 1: a (zeq-[0-9a-f]*) -> b (zeq-[0-9a-f]*)" || fail "$FIRST carries no pair: $(ctl "$FIRST" relays)"
log "A -> B through $FIRST; $FIRST killed, A should move to $NEXT"
kill -KILL "$KILL"
t1=$(date +%s%N)
relay_is() { [ "$(peer_field a b "(p['relay'] or '').split(' ')[0]")" = "$1" ]; }
wait_for 15 relay_is "$NEXT" || fail "A did not move to $NEXT: $(ctl a relays; ctl a peers)"
wait_ping "$NS_A" 10.77.0.2 15 || fail "no ping A -> B after $FIRST died: $(ctl a relays; ctl a peers)"
log "ping answered through $NEXT $(( ($(date +%s%N) - t1) / 1000000 )) ms after $FIRST died"
ctl "$NEXT" relays | holds -q "pair [0-9]*: a (zeq-[0-9a-f]*) -> b (zeq-[0-9a-f]*)" || fail "$NEXT carries no pair: $(ctl "$NEXT" relays)"
log "B restarts (SIGKILL, then started again): A reaches it again through $NEXT"
kill -KILL "$b_PID"
wait "$b_PID" 2>/dev/null || true
start_node b "$NS_B"
t2=$(date +%s%N)
wait_ping "$NS_A" 10.77.0.2 30 || fail "A never reached B again after B restarted: $(ctl a relays; ctl b relays)"
log "ping answered $(( ($(date +%s%N) - t2) / 1000000 )) ms after B was back"

# restart_relay NAME SIGNAL: the relay in use stops (SIGKILL: crashed, or
# SIGTERM: stopped) and starts again at once, with no session and no pair;
# A must reach B through it again (the other relay is dead).
restart_relay() {
  local pid_var="${1}_PID" ns
  [ "$1" = r1 ] && ns=$NS_R1 || ns=$NS_R2
  kill "-$2" "${!pid_var}"
  wait "${!pid_var}" 2>/dev/null || true
  start_relay "$1" "$ns"
  local t=$(date +%s%N)
  wait_ping "$NS_A" 10.77.0.2 30 || fail "A never reached B again after $1 restarted ($2): $(ctl a relays; ctl "$1" relays)"
  log "$1 restarted after SIG$2: ping answered $(( ($(date +%s%N) - t) / 1000000 )) ms after it was back"
}
restart_relay "$NEXT" KILL
restart_relay "$NEXT" TERM
log "PASS"
