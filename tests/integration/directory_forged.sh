#!/usr/bin/env bash
# The mesh directory under a hostile peer. Node A (zeqvpnd, mesh CA and its
# certificate) names H in its YAML, so H's tunnel is admitted; H is zeqpeer.py
# flood-records, an independent implementation of the protocol, which
# handshakes and then sends 10 000 forged records, one per Records (0x05)
# message, as fast as it can, inside the tunnel: a mix of bad record
# signatures, bad CA signatures on the certificates, certificates of another
# CA, expired certificates, records from the future, truncated records and
# garbage behind a record header (bench/directory_records_gen --forge mix);
# then 11 malformed directory messages. Node B (zeqvpnd, certificate, A as
# its YAML peer) pings A through its tunnel the whole time. Checked:
#  - A holds exactly the genuine records (A's and B's), and so does B;
#  - every forged record A received is accounted for: each offered to the
#    store is refused (counted by verdict, none accepted), the rest dropped
#    before any check as over_budget; offers stay within the per-Zeqond budget;
#  - the malformed messages are counted as malformed_messages, nothing else;
#  - A's RSS grows by less than 20 MB; B loses at most 2 % of its pings;
#  - A still answers `zeqvpnctl directory` and stops cleanly (exit 0).
#
# How the numbers come out (directory/gossip.cpp, GossipPeer::offer): every
# record in a Records message from H counts in H's records_received. A peer's
# records may reach the record store at most GOSSIP_OFFERS_PER_Z = 256 times
# per Zeqond; the rest of that Zeqond's records are dropped before they are
# decoded or verified and counted as over_budget. So H, sending all 10 000
# within a few Zeqonds, gets about 256 per Zeqond it spans checked and the
# rest over_budget: offered = records_received - over_budget <= 256 x the
# Zeqonds the flood spans (measured: H sends the 10 000 in about 0.4 s, so
# 256 or 512 are checked and about 9 500 are over_budget). Nobody pulled
# these records, so each decodable one is also counted unsolicited; the
# store, not the pull, decides, and every record offered gets exactly one
# verdict, never accepted here. B's gossip only ever produces accepted and
# replayed verdicts, so the sum of every other verdict is H's: it equals
# offered. Records a datagram or the control queue lost on the way (UDP
# receive buffer, control_queue_full) are not received at all; with one
# record per message each lost message is one record, so received + lost =
# sent (lost counts B's messages too, should the queue drop one: hence >=). The control queue (1024 deep, shared by every
# peer's control messages and handshakes) does overflow at times: up to 506
# of H's messages were seen dropped as control_queue_full.
source "$(dirname "$0")/lib.sh"

GEN=$BUILD_DIR/bench/directory_records_gen
[ -x "$GEN" ] || fail "$GEN missing: build the target directory_records_gen"
FLOOD_RECORDS=10000
Z_MS=777
T_START=$(date +%s)

NS_SW=${TAG}sw
NS_H=${TAG}h
EXTRA_NS+=("$NS_SW" "$NS_H")
in_h() { ip netns exec "$NS_H" "$@"; }
UNDER4_H=198.18.0.3
TUN4_H=10.77.0.3

log "switch, A, B and the hostile peer H on one underlay"
ip netns add "$NS_SW"
ip netns exec "$NS_SW" ip link add br0 type bridge
ip netns exec "$NS_SW" ip link set br0 up
join_switch() {
  local ns=$1 addr=$2 port=$3
  ip netns add "$ns"
  own_resolv_conf "$ns"
  ip link add veth0 netns "$ns" type veth peer name "$port" netns "$NS_SW"
  ip netns exec "$NS_SW" ip link set "$port" master br0 up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip addr add "$addr/24" dev veth0
  ip netns exec "$ns" ip link set veth0 up
}
join_switch "$NS_A" $UNDER4_A pa
join_switch "$NS_B" $UNDER4_B pb
join_switch "$NS_H" $UNDER4_H ph

"$ZEQVPNCTL" ca init --name forgedmesh --dir "$WORK/ca" >/dev/null
make_key a
make_key b
make_key h
for n in a b; do
  tun_var="TUN4_${n^^}"
  pub_var="${n}_PUB"
  "$ZEQVPNCTL" ca sign --ca-key "$WORK/ca/ca.key" --name "node$n" --public-key "${!pub_var}" \
    --signing-key "$("$ZEQVPNCTL" pubkey --signing < "$WORK/$n.key")" --address "${!tun_var}/24" \
    --out "$WORK/$n.crt" 2>/dev/null
done
zid_of_cert() { "$ZEQVPNCTL" cert show "$1" | awk '$1 == "zid" {print $2}'; }
ZID_A=$(zid_of_cert "$WORK/a.crt")
ZID_B=$(zid_of_cert "$WORK/b.crt")
ZID_H=$("$ZEQVPNCTL" zid <<< "$h_PUB")
[ -n "$ZID_A" ] && [ -n "$ZID_B" ] && [ -n "$ZID_H" ] || fail "no ZIDs: A=$ZID_A B=$ZID_B H=$ZID_H"

node_yaml() {
  local n=$1 tun=$2
  cat <<YAML
interface:
  name: zeq0
  addresses: [$tun/24]
  listen_port: $PORT
  identity_key_file: $WORK/$n.key
log_level: info
mesh:
  ca: $WORK/ca/ca.pub
  certificate: $WORK/$n.crt
control: {socket: $WORK/$n.sock}
state: {database: $WORK/$n.db}
YAML
}
# A names B (with its endpoint) and H (no endpoint: H calls, A never does).
{
  node_yaml a $TUN4_A
  cat <<YAML
peers:
  - name: nodeb
    public_key: $b_PUB
    endpoint: "$UNDER4_B:$PORT"
    allowed_ips: [$TUN4_B/32]
  - name: hostile
    public_key: $h_PUB
    allowed_ips: [$TUN4_H/32]
YAML
} > "$WORK/a.yaml"
{
  node_yaml b $TUN4_B
  cat <<YAML
peers:
  - name: nodea
    public_key: $a_PUB
    endpoint: "$UNDER4_A:$PORT"
    allowed_ips: [$TUN4_A/32]
YAML
} > "$WORK/b.yaml"

log "forged records: $FLOOD_RECORDS, the forgeries in turn"
GEN_OUT=$("$GEN" --ca-key "$WORK/ca/ca.key" --count $FLOOD_RECORDS --forge mix --out "$WORK/forged.bin" --check) ||
  fail "directory_records_gen failed"
log "generator: $GEN_OUT"
# The generator's own store (trusting the same CA) refuses every one of them.
jq -e '(.verdicts.accepted // 0) == 0 and ([.verdicts[]] | add) == '$FLOOD_RECORDS <<< "$GEN_OUT" >/dev/null ||
  fail "a generated forgery passes a record store: $GEN_OUT"
PACED_RECORDS=1400
PACED_OUT=$("$GEN" --ca-key "$WORK/ca/ca.key" --count $PACED_RECORDS --forge mix --out "$WORK/paced.bin" --check) ||
  fail "directory_records_gen failed"

export ZEQ_SYNC_SECRET
ZEQ_SYNC_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export ZEQ_SYNC_UID=forged-test
start_node a "$NS_A"
start_node b "$NS_B"

dir_json() { ctl "$1" --json directory; }
log "A and B hold each other's record"
deadline=$(( $(date +%s%N) + 10 * Z_MS * 1000000 ))
until [ "$(dir_json a | jq -r .records_held)" = 2 ] && [ "$(dir_json b | jq -r .records_held)" = 2 ]; do
  [ "$(date +%s%N)" -lt $deadline ] || fail "no directory sync within 10 Zeqonds: A $(dir_json a | jq -c .records_held), B $(dir_json b | jq -c .records_held)"
  sleep 0.2
done
wait_ping "$NS_B" $TUN4_A 5 || fail "B cannot ping A"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
udp_rcvbuf_errors() { ip netns exec "$1" awk '/^Udp:/ {if (!h) {for (i = 1; i <= NF; i++) col[$i] = i; h = 1} else print $col["RcvbufErrors"]}' /proc/net/snmp; }
queue_drops() { ctl a --json status | jq -r '.drops.control_queue_full // 0'; }
RSS_BEFORE=$(rss_kb "$a_PID")
RCVBUF_BEFORE=$(udp_rcvbuf_errors "$NS_A")
QDROPS_BEFORE=$(queue_drops)

log "B pings A through the tunnel while H floods A"
bg "$NS_B" "$WORK/ping.out" ping -n -i 0.05 -W 1 $TUN4_A
PING_PID=$BG_PID
sleep 1
Z_FLOOD_START=$(( $(date +%s%N) / 1000 / 777000 ))
in_h env ZEQ_MESH_SECRET="$MESH_SECRET" timeout 90 python3 "$HERE/zeqpeer.py" flood-records "$WORK/h.key" "$a_PUB" \
  "$UNDER4_A:$PORT" --records "$WORK/forged.bin" --per-message 1 --malformed > "$WORK/flood.out" 2> "$WORK/flood.err" ||
  fail "zeqpeer flood-records failed: $(cat "$WORK/flood.out" "$WORK/flood.err")"
Z_FLOOD_END=$(( $(date +%s%N) / 1000 / 777000 ))
FLOOD=$(tail -n 1 "$WORK/flood.out")
log "H sent: $FLOOD"
# The malformed messages went out after a pause of 1 s: the offers of the
# flood proper ended a Zeqond or more before H exited.
sleep 2

kill -0 "$a_PID" 2>/dev/null || fail "zeqvpnd A died during the flood"
D=$(dir_json a) || fail "A does not answer zeqvpnctl directory after the flood"
RCVBUF_LOST=$(( $(udp_rcvbuf_errors "$NS_A") - RCVBUF_BEFORE ))
QDROPS=$(( $(queue_drops) - QDROPS_BEFORE ))
H_STATS=$(jq -c --arg z "$ZID_H" '.gossip[] | select(.zid == $z)' <<< "$D")
log "A, gossip with H: $H_STATS"
log "A, offers: $(jq -c .offers <<< "$D")"
log "A: UDP receive-buffer drops ${RCVBUF_LOST}, control_queue_full ${QDROPS}"
[ -n "$H_STATS" ] || fail "A reports no gossip with H: $(jq -c .gossip <<< "$D")"

log "A holds exactly the genuine records"
jq -e --arg a "$ZID_A" --arg b "$ZID_B" '.records_held == 2 and ([.records[].zid] | sort) == ([$a, $b] | sort)' <<< "$D" >/dev/null ||
  fail "A holds $(jq -c '[.records[] | {zid, name, source}]' <<< "$D")"
jq -e '.offers.accepted >= 2' <<< "$D" >/dev/null || fail "A accepted nothing?"
[ "$(dir_json b | jq -r .records_held)" = 2 ] || fail "B holds $(dir_json b | jq -c '[.records[].name]')"

log "every forged record is accounted for"
SENT=$(jq -r .records <<< "$FLOOD")
RECEIVED=$(jq -r .records_received <<< "$H_STATS")
OVER=$(jq -r .over_budget <<< "$H_STATS")
MALFORMED=$(jq -r .malformed_messages <<< "$H_STATS")
# Every verdict that genuine gossip (A's own record, B's) never produces.
REFUSED=$(jq -r '.offers | to_entries | map(select(.key != "accepted" and .key != "replayed") | .value) | add' <<< "$D")
OFFERED=$(( RECEIVED - OVER ))
ZEQONDS=$(( Z_FLOOD_END - Z_FLOOD_START + 1 ))
log "sent $SENT, received $RECEIVED (lost on the way $((SENT - RECEIVED))), offered $OFFERED, refused $REFUSED, over_budget $OVER, over $ZEQONDS Zeqonds"
[ "$SENT" = $FLOOD_RECORDS ] || fail "H sent $SENT records, not $FLOOD_RECORDS"
[ "$OFFERED" = "$REFUSED" ] ||
  fail "offered $OFFERED (received $RECEIVED - over_budget $OVER) but $REFUSED refused: $(jq -c .offers <<< "$D")"
[ "$OFFERED" -gt 0 ] && [ "$OFFERED" -le $(( 256 * ZEQONDS )) ] ||
  fail "$OFFERED records checked in $ZEQONDS Zeqonds: not within GOSSIP_OFFERS_PER_Z = 256 a Zeqond"
# Datagrams lost on the way are lost records (one record a message).
[ $(( RECEIVED + RCVBUF_LOST + QDROPS )) -ge "$SENT" ] && [ "$RECEIVED" -le "$SENT" ] ||
  fail "received $RECEIVED of $SENT, but only $RCVBUF_LOST + $QDROPS datagrams were dropped on the way"
# Each kind of forgery got its own verdict (the mix is round-robin, so any
# run of 256 offers has every kind).
for v in malformed unknown_issuer bad_certificate_signature certificate_expired bad_record_signature from_the_future; do
  jq -e --arg v "$v" '.offers[$v] > 0' <<< "$D" >/dev/null || fail "no record refused as $v: $(jq -c .offers <<< "$D")"
done
MALFORMED_SENT=$(jq -r .malformed <<< "$FLOOD")
[ "$MALFORMED" = "$MALFORMED_SENT" ] || fail "H sent $MALFORMED_SENT malformed directory messages; A counted $MALFORMED"
grep -q "refused (bad_record_signature)\|refused (unknown_issuer)" "$WORK/a.log" || fail "A logged no refused record"

# H again (a new process: a new handshake), $PACED_RECORDS forged records at
# 300 a second, 233 a Zeqond: within the budget, so every one is checked, and
# A's verdicts grow by exactly what the generator's own store said of them.
log "H again, $PACED_RECORDS forged records at 300 a second (under 256 a Zeqond)"
QDROPS_BEFORE=$(queue_drops)
in_h env ZEQ_MESH_SECRET="$MESH_SECRET" timeout 60 python3 "$HERE/zeqpeer.py" flood-records "$WORK/h.key" "$a_PUB" \
  "$UNDER4_A:$PORT" --records "$WORK/paced.bin" --per-message 1 --rate 300 > "$WORK/paced.out" 2> "$WORK/paced.err" ||
  fail "zeqpeer flood-records (paced) failed: $(cat "$WORK/paced.out" "$WORK/paced.err")"
log "H sent: $(tail -n 1 "$WORK/paced.out")"
sleep 1
kill -INT "$PING_PID"
wait "$PING_PID" 2>/dev/null || true
kill -0 "$a_PID" 2>/dev/null || fail "zeqvpnd A died during the paced flood"
D2=$(dir_json a) || fail "A does not answer zeqvpnctl directory after the paced flood"
RSS_AFTER=$(rss_kb "$a_PID")
H2=$(jq -c --arg z "$ZID_H" '.gossip[] | select(.zid == $z)' <<< "$D2")
log "A, gossip with H: $H2"
log "A, offers: $(jq -c .offers <<< "$D2")"
[ "$(jq -r .records_held <<< "$D2")" = 2 ] || fail "A holds $(jq -c '[.records[].name]' <<< "$D2") after the paced flood"
[ "$(( $(jq -r .records_received <<< "$H2") - RECEIVED ))" = $PACED_RECORDS ] ||
  fail "A received $(( $(jq -r .records_received <<< "$H2") - RECEIVED )) of the $PACED_RECORDS paced records (control_queue_full $(( $(queue_drops) - QDROPS_BEFORE )))"
[ "$(jq -r .over_budget <<< "$H2")" = "$OVER" ] || fail "paced records dropped as over_budget: $H2"
jq -e --argjson before "$(jq .offers <<< "$D")" --argjson gen "$(jq .verdicts <<< "$PACED_OUT")" \
  '.offers | to_entries | map(select(.value - $before[.key] != ($gen[.key] // 0))) | length == 0' <<< "$D2" >/dev/null ||
  fail "A's verdicts on the paced records differ from the generator's: $(jq -c .verdicts <<< "$PACED_OUT"), A before $(jq -c .offers <<< "$D"), after $(jq -c .offers <<< "$D2")"

log "A's memory and B's pings"
RSS_GROWTH=$(( RSS_AFTER - RSS_BEFORE ))
log "A's RSS ${RSS_BEFORE} kB before the floods, ${RSS_AFTER} kB after"
[ "$RSS_GROWTH" -lt 20480 ] || fail "A's RSS grew by ${RSS_GROWTH} kB during the floods (bound: 20 MB)"
TX=$(awk '/packets transmitted/ {print $1}' "$WORK/ping.out")
RX=$(awk '/packets transmitted/ {print $4}' "$WORK/ping.out")
[ -n "$TX" ] && [ "$TX" -ge 20 ] || fail "ping from B did not run: $(tail -n 3 "$WORK/ping.out")"
log "B's pings: $RX of $TX answered"
[ $(( (TX - RX) * 100 )) -le $(( TX * 2 )) ] || fail "B lost $((TX - RX)) of $TX pings during the floods (allowance 2 %)"
wait_ping "$NS_B" $TUN4_A 3 || fail "B cannot ping A after the flood"

ctl a directory >/dev/null || fail "zeqvpnctl directory (text) fails after the flood"
stop_node a "$NS_A"
log "PASS in $(( $(date +%s) - T_START )) s (RSS +${RSS_GROWTH} kB, ${OFFERED} checked, ${OVER} over budget, ping $RX/$TX)"
