#!/usr/bin/env bash
# Relays. A sits on LAN 1, B on LAN 2; relays R1 and R2 are on both, with
# forwarding off, so A and B have no route to each other and reach each
# other only through a relay's zeqvpn role. Checked:
#  - A's direct handshakes to B go unanswered; after relay_choice's one
#    attempt A asks R1 (R2 is not up yet), and ping A -> B works through R1;
#    `zeqvpnctl peers` and `relays` say so, with round trips and prices.
#  - 100 MB A -> B with checksum through R1, while a capture on R1's
#    interfaces looks for the inner IP header and the payload's plaintext
#    pattern (neither may appear); R1 is killed (SIGKILL) mid-transfer and
#    the transfer finishes through R2 with the same end-to-end keys (no new
#    handshake A <-> B); the longest gap at B is noted.
#  - After a clean stop, R2's vpn_tunnels row of the pair and A's agree on
#    bytes (within what was in flight) and on the integer charge; R2 holds
#    A's signed usage receipt; R2's metadata log has the pair's summary
#    line, R1's (off) was never created.
#  - A node whose key no relay knows is refused (handshake unknown_peer);
#    a member asking for a pair with a node that does not know it is
#    refused, because that node declined (no open forwarding).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/relay_lans.sh"
PRICE=1000     # R2's price per started GB; R1 charges half

setup_relay_lans
for n in a b c e r1 r2; do make_key $n; done
FIELD_KEY_c=$FIELD_KEY_a
FIELD_KEY_e=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
FIELD_KEY_r1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
FIELD_KEY_r2=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

MEMBERS="  - {name: a, public_key: $a_PUB}
  - {name: b, public_key: $b_PUB}
  - {name: e, public_key: $e_PUB}"
relay_yaml r1 $((PRICE / 2)) off "$MEMBERS"
relay_yaml r2 $PRICE summary "$MEMBERS"

relays_on() {  # relays_on LAN: both relays, by their addresses on that LAN
  printf '  - {name: r1, public_key: %s, endpoint: "198.18.%s.11:%s"}\n  - {name: r2, public_key: %s, endpoint: "198.18.%s.12:%s"}' \
    "$r1_PUB" "$1" $PORT "$r2_PUB" "$1" $PORT
}
CHOICE="relay_choice: {direct_attempts: 1, max_price: $PRICE}"
node_yaml a 10.77.0.1 "  - {name: b, public_key: $b_PUB, endpoint: \"$B2:$PORT\", allowed_ips: [10.77.0.2/32]}
  - {name: e, public_key: $e_PUB, allowed_ips: [10.77.0.5/32], via: relay}" "$(relays_on 1)" "$CHOICE"
node_yaml b 10.77.0.2 "  - {name: a, public_key: $a_PUB, allowed_ips: [10.77.0.1/32]}" "$(relays_on 2)" "$CHOICE"
# E is a member of the relays but does not know A: it must decline A.
node_yaml e 10.77.0.5 "  - {name: b, public_key: $b_PUB, allowed_ips: [10.77.0.2/32]}" "$(relays_on 2)" "$CHOICE"
# C: not a member anywhere; names R1 as its relay and A as a peer.
node_yaml c 10.77.0.3 "  - {name: a, public_key: $a_PUB, endpoint: \"$A1:$PORT\", allowed_ips: [10.77.0.1/32]}" "$(relays_on 1)" "$CHOICE"

start_relay r1 "$NS_R1"
ip netns exec "$NS_R1" ip link show zeq0 >/dev/null 2>&1 && fail "the relay created a tunnel interface"
start_node b "$NS_B"
start_node a "$NS_A"
t0=$(date +%s%N)
log "A -> B: direct handshakes unanswered, then through R1"
wait_for 30 path_is a b relay || fail "A never went through a relay to B: $(ctl a peers)"
wait_ping "$NS_A" 10.77.0.2 15 || fail "no ping A -> B through R1: $(ctl a relays; ctl r1 relays)"
log "first ping A -> B answered through a relay $(( ($(date +%s%N) - t0) / 1000000 )) ms after A started"
ctl a peers | holds -q "path: through relay r1" || fail "A's peers do not say r1: $(ctl a peers)"
ctl a relays
ctl a relays | holds -Eq "relay r1 .*: up, rtt [0-9.]+ ms, 500 per gb, region lab-r1" || fail "relays: $(ctl a relays)"
ctl r1 relays | holds -q "pair 1: a (zeq-[0-9a-f]*) -> b (zeq-[0-9a-f]*)" || fail "R1's pairs: $(ctl r1 relays)"
ctl a metrics | holds -q '^zeqvpn_peer_relayed{peer="b",zid="zeq-[0-9a-f]*"} 1$' || fail "metrics: not relayed"
in_a ping -c 20 -i 0.05 -q 10.77.0.2 | holds -q " 0% packet loss" || fail "pings through R1 lost"
HS_A=$(peer_field a b "p['handshakes']")

log "R2 up; 100 MB A -> B through R1, capturing R1, R1 killed mid-way"
start_relay r2 "$NS_R2"
wait_for 15 relay_up a r2 || fail "A never reached R2: $(ctl a relays)"
# The payload: a pattern repeated, so plaintext on R1's wires would show.
PATTERN=ZEQVPN-PLAINTEXT-PATTERN-0123456789
python3 - "$WORK/payload.bin" "$PATTERN" <<'PY'
import sys
chunk = (sys.argv[2].encode() * 30000)[:1 << 20]
with open(sys.argv[1], "wb") as f:
    for _ in range(100):
        f.write(chunk)
PY
WANT=$(sha256sum < "$WORK/payload.bin" | cut -d' ' -f1)
# (bg runs in the background, whose stdin is /dev/null: scripts go in files.)
cat > "$WORK/sink.py" <<'PY'
import hashlib, socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.2", 9000)); s.listen(1); c, _ = s.accept()
h = hashlib.sha256(); n = 0; last = time.monotonic(); gap = 0.0; mark = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    now = time.monotonic(); gap = max(gap, now - last); last = now
    h.update(b); n += len(b)
    if n - mark >= 1 << 20:
        mark = n
        open(sys.argv[1], "w").write(str(n))
print("bytes", n, "sha256", h.hexdigest(), "max_gap_ms", int(gap * 1000), flush=True)
PY
bg "$NS_B" "$WORK/sink.log" python3 -u "$WORK/sink.py" "$WORK/progress"
SINK_PID=$BG_PID
for _ in $(seq 50); do in_b ss -ltn | grep -q ':9000' && break; sleep 0.1; done
bg "$NS_R1" "$WORK/r1.cap" timeout 60 tcpdump -i any -n -s 256 -w "$WORK/r1.pcap" udp
CAP_PID=$BG_PID
wait_listening "$WORK/r1.cap" "$CAP_PID"
# Paced at about 20 MB/s, so R1 dies with most of the file still to come.
cat > "$WORK/source.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("10.77.0.2", 9000), timeout=60)
t0 = time.monotonic(); sent = 0
with open(sys.argv[1], "rb") as f:
    while True:
        b = f.read(1 << 18)
        if not b: break
        s.sendall(b); sent += len(b)
        ahead = sent / 20e6 - (time.monotonic() - t0)
        if ahead > 0: time.sleep(ahead)
s.close()
print("sent", sent, "in", round(time.monotonic() - t0, 2), "s", flush=True)
PY
bg "$NS_A" "$WORK/source.log" python3 -u "$WORK/source.py" "$WORK/payload.bin"
SOURCE_PID=$BG_PID
received_at_least() { [ -f "$WORK/progress" ] && [ "$(cat "$WORK/progress")" -ge "$1" ]; }
wait_for 30 received_at_least 30000000 || fail "transfer stalled before 30 MB"
kill -INT "$CAP_PID" 2>/dev/null || true
wait "$CAP_PID" 2>/dev/null || true
# Pings every 20 ms across the failover: the longest silence between two
# answers is the failover's gap (TCP's own retransmission back-off makes
# the transfer's longer).
bg "$NS_A" "$WORK/fastping.log" ping -D -n -i 0.02 -w 8 10.77.0.2
PING_PID=$BG_PID
sleep 0.5
kill -KILL "$r1_PID"
KILLED_AT=$(cat "$WORK/progress")
log "R1 killed at $KILLED_AT bytes received"
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 60 gone "$SINK_PID" || fail "the transfer did not finish after R1 died: $(cat "$WORK/progress") B"
cat "$WORK/sink.log" "$WORK/source.log"
holds -q "bytes 104857600 sha256 $WANT" < "$WORK/sink.log" || fail "B got the file changed or short: $(cat "$WORK/sink.log")"
GAP=$(sed -n 's/.*max_gap_ms \([0-9]*\).*/\1/p' "$WORK/sink.log")
wait "$PING_PID" 2>/dev/null || true
PING_GAP=$(python3 - "$WORK/fastping.log" <<'PY'
import re, sys
t = [float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\].*bytes from", open(sys.argv[1]).read(), re.M)]
print(int(max(b - a for a, b in zip(t, t[1:])) * 1000) if len(t) > 1 else -1)
PY
)
log "100 MB arrived intact; failover gap: pings $PING_GAP ms, the transfer at B $GAP ms"
[ "$PING_GAP" -ge 0 ] && [ "$PING_GAP" -le 1554 ] || fail "the failover took $PING_GAP ms, more than 2 Zeqonds"
ctl a peers | holds -q "path: through relay r2" || fail "A's path is not r2 after the failover: $(ctl a peers)"
[ "$(peer_field a b "p['handshakes']")" = "$HS_A" ] || fail "A and B made a new handshake for the failover"
ctl a metrics | holds -q '^zeqvpn_relay_failovers_total 1$' || fail "failover not counted: $(ctl a metrics | grep failover)"

log "R1's capture: no inner IP header, no plaintext"
python3 - "$WORK/r1.pcap" "$PATTERN" <<'PY' || fail "R1's capture shows what it must not"
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
assert magic in (0xa1b2c3d4, 0xa1b23c4d), "not a pcap file"
off, n, relayed = 24, 0, 0
inner = [bytes([10, 77, 0, 1, 10, 77, 0, 2]), bytes([10, 77, 0, 2, 10, 77, 0, 1])]
pattern = sys.argv[2].encode()[:16]
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    n += 1
    if b"\x10" in pkt[:64]: relayed += 1
    for needle in inner + [pattern]:
        if needle in pkt:
            sys.exit(f"packet {n} holds {needle!r}")
print(f"{n} packets captured on R1, none with an inner header or the plaintext")
assert n > 1000, "too few packets captured to say anything"
PY

log "stopping A cleanly: its pair with R2 ends and is settled on both sides"
stop_node a "$NS_A"
sleep 1
stop_node b "$NS_B"
kill -TERM "$r2_PID"; wait "$r2_PID" || fail "R2 exited with an error"
q() { python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]): print("|".join(str(x) for x in row))
PY
}
ROW_R2=$(q "$WORK/r2.db" "select tx_bytes, rx_bytes, total_zeq_charged, state, multi_hop_chain from vpn_tunnels where relay_zid is not null order by id desc limit 1")
ROW_A=$(q "$WORK/a.db" "select tx_bytes, rx_bytes, total_zeq_charged, state, multi_hop_chain, relay_zid from vpn_tunnels where relay_zid is not null and multi_hop_chain like '%>%' order by id desc limit 1")
log "R2's row: $ROW_R2; A's row: $ROW_A"
python3 - "$ROW_R2" "$ROW_A" <<'PY' || fail "the relay's and the client's rows disagree"
import sys
r = sys.argv[1].split("|"); a = sys.argv[2].split("|")
assert r[3] == "terminated" and a[3] == "terminated", "a row is not settled"
assert r[4] == a[4], f"chains differ: {r[4]} {a[4]}"
up_r, down_r, up_a, down_a = int(r[0]), int(r[1]), int(a[0]), int(a[1])
assert up_r > 50_000_000, f"R2 carried only {up_r} B up"
# In flight: what A sent that R2 had not forwarded when R1's pair moved, and
# the last packets around the close.
for x, y, what in ((up_r, up_a, "up"), (down_r, down_a, "down")):
    assert abs(x - y) <= max(256 * 1024, y // 100), f"{what}: relay {x} B, client {y} B"
assert r[2] == a[2] == "1000", f"charges: relay {r[2]}, client {a[2]}"
print("bytes agree: up", up_r, "/", up_a, "down", down_r, "/", down_a, "; charge", r[2])
PY
RECEIPTS=$(q "$WORK/r2.db" "select count(*), max(up_bytes) from relay_receipts")
[ "${RECEIPTS%%|*}" -ge 1 ] || fail "R2 holds no usage receipt from A"
log "R2 holds $RECEIPTS (receipts, acknowledged up bytes)"
[ -e "$WORK/r1-metadata.log" ] && fail "R1's metadata log exists although it is off"
holds -q "requester=zeq-[0-9a-f]*	requester_endpoint=$A1:$PORT	target=zeq-[0-9a-f]*	target_endpoint=$B2:$PORT" \
  < "$WORK/r2-metadata.log" || fail "R2's metadata log: $(cat "$WORK/r2-metadata.log")"

log "a non-member is refused; a member cannot make the relay send to a node that did not agree"
start_relay r2 "$NS_R2"
start_node e "$NS_B"  # B is gone: E takes its place on LAN 2
state_is() { [ "$(peer_field "$1" "$2" "p['state']")" = "$3" ]; }
wait_for 10 state_is r2 e up || fail "E never got a session with R2: $(ctl r2 peers)"
start_node a "$NS_A"
in_a ping -c1 -W1 10.77.0.5 >/dev/null 2>&1 || true
refused_declined() { ctl r2 metrics | grep -q '^zeqvpn_relay_refused_total{reason="declined"} [1-9]'; }
wait_for 15 refused_declined || fail "R2 did not refuse A's pair with E: $(ctl r2 metrics | grep refused)"
grep -q "declined (not a peer of ours)" "$WORK/e.log" || fail "E did not decline"
[ "$(peer_field a e "p['path']")" = direct ] || fail "A got a path to E: $(ctl a peers)"
start_node c "$NS_C"
unknown_refused() { ctl r2 metrics | grep -q '^zeqvpn_handshakes_rejected_total{reason="unknown_peer"} [1-9]'; }
wait_for 15 unknown_refused || fail "R2 did not refuse C's handshake: $(ctl r2 --json status | head -c 600)"
ctl c relays | holds -q "relay r2 .*: no session" || fail "C got a session with R2: $(ctl c relays)"
log "PASS"
