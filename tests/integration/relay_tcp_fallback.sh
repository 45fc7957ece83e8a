#!/usr/bin/env bash
# Relay over TCP (issue 16; docs/protocol.md "Relay over TCP"). A on LAN 1,
# B on LAN 2, relay R1 on both (forwarding off: A and B meet only through
# R1's zeqvpn role). An nftables table in A's namespace drops every UDP
# packet in and out of A's underlay interface. Checked:
#  - A starts with UDP blocked: its relay handshakes go unanswered, it
#    connects to R1 over TCP (port 443, the default of both ends), and ping
#    A -> B through R1 works within 10 Zeqonds of A's start; `zeqvpnctl
#    peers` says "relayed-tcp" / "over TCP", `relays` and the metrics too;
#    no UDP of the tunnel leaves A (the table's counter) while it works;
#  - 100 MB A -> B over the TCP path, checksummed;
#  - hostile clients against R1's TCP port (from C, on LAN 1) do not hurt
#    it: a bad frame length and garbage are closed and counted, a frame
#    left unfinished (slowloris) and a silent connection are closed at the
#    deadline, connections over the per-address limit are closed at once,
#    frames of random bytes are dropped by the data plane's checks; A's
#    tunnel keeps working throughout, R1 stays up;
#  - the nftables table removed: A goes back to UDP (R1's answer to its
#    UDP probe) within 10 Zeqonds, its TCP connection closed, and pings
#    still pass.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/relay_lans.sh"
Z_MS=777  # one Zeqond, rounded

setup_relay_lans
for n in a b r1; do make_key $n; done
FIELD_KEY_r1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

MEMBERS="  - {name: a, public_key: $a_PUB}
  - {name: b, public_key: $b_PUB}"
relay_yaml r1 0 off "$MEMBERS"
CHOICE="relay_choice: {direct_attempts: 1}"
node_yaml a 10.77.0.1 "  - {name: b, public_key: $b_PUB, endpoint: \"$B2:$PORT\", allowed_ips: [10.77.0.2/32]}" \
  "  - {name: r1, public_key: $r1_PUB, endpoint: \"$R1_1:$PORT\"}" "$CHOICE"
node_yaml b 10.77.0.2 "  - {name: a, public_key: $a_PUB, allowed_ips: [10.77.0.1/32]}" \
  "  - {name: r1, public_key: $r1_PUB, endpoint: \"$R1_2:$PORT\"}" "$CHOICE"

start_relay r1 "$NS_R1"
in_ns "$NS_R1" ss -ltn | holds -q ':443 ' || fail "R1 does not listen on TCP 443: $(in_ns "$NS_R1" ss -ltn)"
start_node b "$NS_B"
wait_for 10 relay_up b r1 || fail "B never reached R1: $(ctl b relays)"

log "UDP blocked in A's namespace (in and out of veth0)"
in_a nft -f - <<'NFT'
table inet zq_block_udp {
  counter udp_out {}
  chain out { type filter hook output priority 0; policy accept; oifname "veth0" meta l4proto udp counter name udp_out drop; }
  chain in { type filter hook input priority 0; policy accept; iifname "veth0" meta l4proto udp drop; }
}
NFT
udp_out() { in_a nft list counter inet zq_block_udp udp_out | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

t0=$(date +%s%N)
start_node a "$NS_A"
up_ms=""
deadline=$((t0 + 10 * Z_MS * 1000000))
while [ "$(date +%s%N)" -lt $deadline ]; do
  if in_a ping -c1 -W1 10.77.0.2 >/dev/null 2>&1; then up_ms=$(( ($(date +%s%N) - t0) / 1000000 )); break; fi
done
[ -n "$up_ms" ] || fail "no ping A -> B within 10 Zeqonds with UDP blocked: $(ctl a peers; ctl a relays)"
log "first ping A -> B answered over TCP to R1 $up_ms ms after A started (limit $((10 * Z_MS)) ms)"
path_is a b relayed-tcp || fail "A's path to B is not relayed-tcp: $(ctl a --json peers)"
ctl a peers | holds -q "path: through relay r1 (zeq-[0-9a-f]*) (channel [0-9]*, over TCP)" || fail "peers: $(ctl a peers)"
ctl a relays | holds -q "relay r1 (zeq-[0-9a-f]*): over TCP $R1_1:443" || fail "relays: $(ctl a relays)"
ctl a metrics | holds -q '^zeqvpn_peer_relayed_tcp{peer="b",zid="zeq-[0-9a-f]*"} 1$' || fail "metrics: not relayed-tcp"
ctl a metrics | holds -q '^zeqvpn_relay_tcp_fallbacks_total 1$' || fail "metrics: $(ctl a metrics | grep relay_tcp)"
in_a ss -tn | holds -q "$R1_1:443" || fail "no TCP connection A -> R1:443: $(in_a ss -tn)"
in_a ping -c 20 -i 0.05 -q 10.77.0.2 | holds -q " 0% packet loss" || fail "pings over TCP lost"
before=$(udp_out)
in_a ping -c 10 -i 0.1 -q 10.77.0.2 >/dev/null
after=$(udp_out)
# The UDP probes (one relay ping every 2 Zeqonds) and NAT traversal's
# probes towards B are all that tries UDP: the 10 echoes do not.
log "UDP packets A tried to send during 10 pings over TCP: $((after - before))"
[ $((after - before)) -lt 10 ] || fail "$((after - before)) UDP packets tried to leave A during 10 pings"

log "100 MB A -> B over TCP to R1, checksummed"
transfer 10.77.0.2 100000000
path_is a b relayed-tcp || fail "A left the TCP path during the transfer: $(ctl a peers)"

log "hostile clients against R1:443 from C"
cat > "$WORK/hostile.py" <<'PY'
import os, socket, struct, sys, time
host = sys.argv[1]
def closed_within(s, seconds):
    s.settimeout(0.2)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if s.recv(4096) == b"": return True
        except socket.timeout: continue
        except OSError: return True
    return False
def conn(): return socket.create_connection((host, 443), timeout=5)
out = {}
s = conn(); s.sendall(b"\x00\x00" + b"garbage" * 10); out["zero_length_closed"] = closed_within(s, 3)
# HTTP: "GE" announces an 18245-byte frame that never comes: closed at the
# frame deadline (4 Zeqonds).
s = conn(); s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); out["http_closed"] = closed_within(s, 6)
s = conn()
for _ in range(2000): s.sendall(struct.pack(">H", 148) + os.urandom(148))
out["random_frames_open"] = not closed_within(s, 1); s.close()
slow = conn(); slow.sendall(b"\x00\x40\x04"); silent = conn()
out["slowloris_closed"] = closed_within(slow, 6)
out["silent_closed"] = closed_within(silent, 1)
many = [conn() for _ in range(40)]
out["over_limit_closed"] = sum(closed_within(c, 0.3) for c in many)
for c in many: c.close()
print(" ".join(f"{k}={int(v)}" for k, v in out.items()), flush=True)
PY
# C sits on LAN 1 with R1 (it is nobody's peer).
in_ns "$NS_C" timeout 60 python3 "$WORK/hostile.py" $R1_1 > "$WORK/hostile.out" 2>&1 || fail "hostile client: $(cat "$WORK/hostile.out")"
log "hostile: $(cat "$WORK/hostile.out")"
for k in zero_length_closed=1 http_closed=1 random_frames_open=1 slowloris_closed=1 silent_closed=1; do
  holds -q "$k" < "$WORK/hostile.out" || fail "hostile: expected $k: $(cat "$WORK/hostile.out")"
done
closed=$(sed -n 's/.*over_limit_closed=\([0-9]*\).*/\1/p' "$WORK/hostile.out")
[ "$closed" -ge 24 ] || fail "only $closed of 40 connections from one address closed (limit 16)"
kill -0 "$r1_PID" 2>/dev/null || fail "R1 died"
R1J=$(ctl r1 --json relays)
python3 - "$R1J" <<'PY' || fail "R1's TCP counters: $(ctl r1 relays)"
import json, sys
c = json.loads(sys.argv[1])["tcp"]["counters"]
print("R1 over TCP:", c)
assert c["bad_frames"] >= 1 and c["timeouts"] >= 3 and c["refused"] >= 24, c
assert c["frames_in"] >= 2000, c
PY
ctl r1 relays | holds -q "over TCP on \[::\]:443" || fail "R1 relays: $(ctl r1 relays)"
in_a ping -c 20 -i 0.05 -q 10.77.0.2 | holds -q " 0% packet loss" || fail "pings over TCP lost after the hostile clients"

log "UDP unblocked: back to UDP"
t1=$(date +%s%N)
in_a nft delete table inet zq_block_udp
back_ms=""
deadline=$((t1 + 10 * Z_MS * 1000000))
while [ "$(date +%s%N)" -lt $deadline ]; do
  if path_is a b relay; then back_ms=$(( ($(date +%s%N) - t1) / 1000000 )); break; fi
  sleep 0.1
done
[ -n "$back_ms" ] || fail "A did not go back to UDP within 10 Zeqonds: $(ctl a peers; ctl a relays)"
log "back on UDP $back_ms ms after the rule went"
wait_for 5 bash -c "! ip netns exec $NS_A ss -tn | grep -q '$R1_1:443'" || fail "A's TCP connection to R1 stays: $(in_a ss -tn)"
ctl a metrics | holds -q '^zeqvpn_relay_tcp_returns_total 1$' || fail "metrics: $(ctl a metrics | grep relay_tcp)"
ctl a relays | holds -q "over TCP" && fail "relays still say TCP: $(ctl a relays)"
in_a ping -c 20 -i 0.05 -q 10.77.0.2 | holds -q " 0% packet loss" || fail "pings over UDP lost"
log "PASS"
