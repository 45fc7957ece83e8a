#!/usr/bin/env bash
# Cover traffic and padding, as an observer of the underlay sees them.
#  - constant cover at COVER_RATE_HZ: over a 60 s window the daemon's cover
#    counter against the monotonic time of its sends is within 0.1 % of
#    12.87/s (measured between sends that left on time), and the peer counts
#    what arrives;
#  - padding mtu: every data message on the wire has the same header layout
#    and one size, in a quiet period and in a period of real traffic alike;
#  - padding buckets: every size is one of the buckets;
#  - zeqvpnctl cover off/on stops and resumes it; status and metrics show it.
source "$(dirname "$0")/lib.sh"

setup_pair
segment_before_veth  # captures below see what a wire would (lib.sh)
for n in a b; do printf 'cover: constant\npadding: mtu\n' >> "$WORK/$n.yaml"; done
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"

cover_of() {  # cover_of NODE FIELD...: fields of the node's cover counters for its peer, from one snapshot
  local node=$1
  shift
  ctl "$node" --json status | python3 -c "
import json, sys
c = json.load(sys.stdin)['peers'][0]['cover']
print(' '.join(str(c[f]) for f in sys.argv[1:]))" "$@"
}
# on_time_snapshot NODE: "count time" of the node's cover sends, from a
# snapshot whose last cover packet left within 5 ms of when the schedule
# wanted it (so a control thread that stalled, on SQLite say, just before
# the snapshot cannot skew a rate measured between two of them). Polls for
# such a snapshot, at most 10 s.
on_time_snapshot() {
  local deadline=$(( $(date +%s) + 10 ))
  while :; do
    read -r n t due < <(cover_of "$1" tx_packets last_sent_mono_s last_due_mono_s)
    python3 -c "import sys; sys.exit(0 if $t - $due < 0.005 else 1)" && { echo "$n $t"; return 0; }
    [ "$(date +%s)" -lt $deadline ] || return 1
    sleep 0.1
  done
}
sleep 1
# The peer's count is read before a's first snapshot and after its last, so
# the peer's window holds the sender's whichever snapshot is slow (under a
# loaded CI a status call can take most of a second, 12 packets' worth).
rx0=$(cover_of b rx_packets)
snap=$(on_time_snapshot a) || fail "no cover packet of a left within 5 ms of its time for 10 s"
read -r n0 t0 <<< "$snap"  # a count and the time of its last send, together
T_START=$(date +%s)

log "capture: 3 s quiet, then 3 s of pings and a TCP transfer (padding mtu)"
bg "$NS_B" "$WORK/mtu.txt" timeout 7 tcpdump -i veth0 -n -w "$WORK/mtu.pcap" "udp port $PORT"
CAP=$BG_PID
wait_listening "$WORK/mtu.txt" $CAP
sleep 3
SPLIT=$(date +%s.%N)
in_a ping -c 20 -i 0.05 -s 1 $TUN4_B >/dev/null
in_a ping -c 20 -i 0.05 -s 700 $TUN6_B >/dev/null
bg "$NS_B" "$WORK/recv.out" python3 "$HERE/tcp_transfer.py" recv 5001
sleep 0.3
in_a python3 "$HERE/tcp_transfer.py" send $TUN4_B 5001 2000000 cover > /dev/null
wait "$CAP" 2>/dev/null || true
MTU_PAYLOAD=$((1416 + 36))
python3 "$HERE/cover_sizes.py" "$WORK/mtu.pcap" $PORT $MTU_PAYLOAD "$SPLIT" --equal || fail "padding mtu leaks sizes"

log "waiting for the 60 s rate window"
sleep $(( 62 - ($(date +%s) - T_START) ))
snap=$(on_time_snapshot a) || fail "no cover packet of a left within 5 ms of its time for 10 s"
read -r n1 t1 <<< "$snap"
rx1=$(cover_of b rx_packets)
python3 - "$n0" "$t0" "$n1" "$t1" "$rx0" "$rx1" <<'PY' || fail "cover rate off"
import sys
n0, t0, n1, t1, rx0, rx1 = map(float, sys.argv[1:])
rate = (n1 - n0) / (t1 - t0)
want = 10 * 1.287
print(f"cover: {n1 - n0:.0f} packets in {t1 - t0:.3f} s = {rate:.4f}/s (want {want:.4f}/s, "
      f"error {abs(rate - want) / want * 100:.4f} %); the peer received {rx1 - rx0:.0f}")
assert t1 - t0 >= 59, "window shorter than 60 s"
assert abs(rate - want) <= want * 0.001, "more than 0.1 % off"
# Cover-form keepalives count as cover too, so the peer sees at least as many.
assert rx1 - rx0 >= (n1 - n0) * 0.99, "the peer did not receive the cover packets"
PY
read -r bytes packets < <(cover_of a tx_bytes tx_packets)
log "overhead per peer (padding mtu): $(python3 -c "print(f'{$bytes / $packets * 10 * 1.287 * 8 / 1000:.1f} kbit/s of UDP payload, {$bytes / $packets:.0f} B per cover packet')")"

log "cover off and on"
ctl a cover off peer | holds -q "cover: off" || fail "cover off"
sleep 0.5
c0=$(cover_of a tx_packets); sleep 1.5; c1=$(cover_of a tx_packets)
[ "$c1" = "$c0" ] || fail "cover packets still sent after off ($c0 -> $c1)"
ctl a cover on peer | holds -q "cover: constant" || fail "cover on"
sleep 1.5
[ "$(cover_of a tx_packets)" -gt "$c1" ] || fail "cover did not resume"
ctl a metrics | holds -Eq '^zeqvpn_peer_cover_tx_packets_total\{peer="peer",zid="zeq-[0-9a-f]+"\} [1-9]' || fail "metrics lack cover"
ctl b status | holds -q "cover: constant, padding mtu; sent [0-9]* packets (.*), received [1-9]" || fail "status lacks cover"

log "padding buckets, probabilistic cover (reload)"
for n in a b; do sed -i 's/^padding: mtu/padding: buckets/; s/^cover: constant/cover: probabilistic/' "$WORK/$n.yaml"; ctl $n reload >/dev/null; done
ctl a cover status | holds -q "cover: probabilistic, padding buckets" || fail "reload did not switch cover and padding: $(ctl a cover status)"
bg "$NS_B" "$WORK/b.txt" timeout 5 tcpdump -i veth0 -n -w "$WORK/buckets.pcap" "udp port $PORT"
CAP=$BG_PID
wait_listening "$WORK/b.txt" $CAP
sleep 2
SPLIT=$(date +%s.%N)
in_a ping -c 20 -i 0.05 -s 300 $TUN4_B >/dev/null
wait "$CAP" 2>/dev/null || true
python3 "$HERE/cover_sizes.py" "$WORK/buckets.pcap" $PORT 164,292,548,1060,1452 "$SPLIT" || fail "padding buckets produced other sizes"
log "PASS"
