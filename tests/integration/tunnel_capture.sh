#!/usr/bin/env bash
# A capture on the veth underlay sees only zeqvpn messages 0x01/0x02/0x04 and
# never the plaintext: a marker sent through the tunnel over UDP and TCP, and
# the tunnel's inner addresses, never appear on the wire.
source "$(dirname "$0")/lib.sh"

setup_pair
bg "$NS_A" "$WORK/tcpdump.log" tcpdump -i veth0 -U -s 0 -w "$WORK/underlay.pcap"
TCPDUMP_PID=$BG_PID
for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done

start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"

MARKER=ZEQ-PLAINTEXT-MARKER-7f3a
# ping with a recognisable pattern, UDP and TCP payloads with the marker.
in_a ping -c5 -i0.2 -p 5a45512d4d41524b4552 $TUN4_B >/dev/null || fail "ping failed"
in_a ping -c3 -i0.2 $TUN6_B >/dev/null || fail "ping6 failed"
bg "$NS_B" "$WORK/tcp.out" python3 -c "
import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 7001)); s.listen(1); s.settimeout(10); c,_=s.accept(); c.settimeout(10); print(c.recv(100).decode())"
RPID=$BG_PID
sleep 0.3
in_a python3 -c "
import socket; socket.create_connection(('$TUN4_B', 7001), timeout=10).sendall(b'$MARKER')
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5): u.sendto(b'$MARKER', ('$TUN4_B', 7002))"
wait "$RPID" || fail "TCP marker receiver failed"
grep -q "$MARKER" "$WORK/tcp.out" || fail "the marker did not arrive through the tunnel"

sleep 0.5
kill -TERM "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true
python3 "$HERE/pcap_check.py" "$WORK/underlay.pcap" $PORT "$MARKER" "ZEQ-MARKER" || fail "underlay capture shows non-zeqvpn traffic or plaintext"
# Inner addresses must not appear either (10.77.0.1 / 10.77.0.2 as bytes).
python3 - "$WORK/underlay.pcap" <<'PY' || fail "inner IPv4 header visible on the underlay"
import sys
data = open(sys.argv[1], "rb").read()
inner = bytes([10, 77, 0, 1, 10, 77, 0, 2])
sys.exit(1 if inner in data or bytes([10, 77, 0, 2, 10, 77, 0, 1]) in data else 0)
PY
log "PASS"
