#!/usr/bin/env bash
# The main job, end to end on a fresh Debian 12 machine as root: install
# dependencies, build, bring up two zeqvpn nodes in two network namespaces
# joined by a veth pair, show the tunnel working (ping both ways over IPv4 and
# IPv6, a short transfer, a look at the wire), then tear everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "scripts/demo.sh: run as root (it creates namespaces and TUN devices)" >&2; exit 1; }

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --parallel "$(nproc)"
export ZEQ_BUILD_DIR=$PWD/build
source tests/integration/lib.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Two namespaces, $NS_A and $NS_B, joined by veth0 ($UNDER4_A <-> $UNDER4_B)"
setup_pair
echo "node A: ZID $("$ZEQVPNCTL" zid <<< "$a_PUB"), public key $a_PUB"
echo "node B: ZID $("$ZEQVPNCTL" zid <<< "$b_PUB"), public key $b_PUB"
echo "A's configuration ($WORK/a.yaml):"
sed 's/^/    /' "$WORK/a.yaml"

say "Starting zeqvpnd in each namespace (same ZEQ_MESH_SECRET, each its own ZEQ_FIELD_KEY, from the environment)"
start_node a "$NS_A"
start_node b "$NS_B"
in_a ip -brief addr show zeq0

say "Ping over the tunnel"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"
in_a ping -c3 -i0.3 $TUN4_B
in_b ping -c3 -i0.3 $TUN6_A

say "What the underlay sees while A pings B (UDP port $PORT, first bytes = zeqvpn type 0x04)"
bg "$NS_A" "$WORK/tcpdump.txt" tcpdump -i veth0 -n -c 4 -X udp port $PORT
sleep 0.5
in_a ping -c2 -i0.2 -p 48454c4c4f $TUN4_B >/dev/null
sleep 0.5
sed -n '1,12p' "$WORK/tcpdump.txt"
echo "(the ping payload pattern 48454c4c4f, \"HELLO\", never appears: it is inside AES-256-GCM)"

say "A 50 MB transfer through the tunnel, checked with SHA-256"
bg "$NS_B" "$WORK/recv.out" python3 "$HERE/tcp_transfer.py" recv 5001
RECV=$BG_PID
sleep 0.3
in_a python3 "$HERE/tcp_transfer.py" send $TUN4_B 5001 52428800 demo > "$WORK/send.out"
wait "$RECV"
echo "sent:     $(cat "$WORK/send.out")"
echo "received: $(cat "$WORK/recv.out")"

say "Node A through its control socket: zeqvpnctl status"
ctl a status

say "Node A takes B down and up again (zeqvpnctl down/up), then lists its tunnel rows"
ctl a down peer
ctl a up peer
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel after up"
ctl a tunnels

say "Metrics (zeqvpnctl metrics, Prometheus text), a few lines"
ctl a metrics | grep -E '^zeqvpn_(peer_(up|rx_bytes_total)|handshakes_completed_total)'

say "Cover traffic (zeqvpnctl cover on): 12.87 packets/s that look like any other data message"
ctl a cover on
sleep 2
ctl a cover status
ctl a cover off >/dev/null

say "Kill switch (zeqvpnctl killswitch arm): only the tunnel gets out"
ctl a killswitch arm
if in_a ping -c1 -W1 $UNDER4_B >/dev/null 2>&1; then echo "underlay ping got through (unexpected)"; else echo "ping to $UNDER4_B outside the tunnel: blocked"; fi
in_a ping -c1 -W2 $TUN4_B >/dev/null && echo "ping to $TUN4_B through the tunnel: answered"
ctl a killswitch disarm | head -1

say "Stopping both nodes (SIGTERM): keys wiped, interfaces removed"
stop_node a "$NS_A"
stop_node b "$NS_B"
in_a ip link show zeq0 2>/dev/null || echo "zeq0 is gone from $NS_A"
say "Demo finished; namespaces are removed on exit"
