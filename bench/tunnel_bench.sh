#!/usr/bin/env bash
# Tunnel benchmark: zeqvpnd against wireguard-go in the same run, same
# two-namespace veth setup. For each: TCP throughput (iperf3, 10 s, A -> B),
# ping latency over the tunnel (200 echoes, 10 ms apart), and the CPU seconds
# the two VPN processes used during the iperf3 run. Prints numbers and the
# ratio; asserts nothing about speed. Run as root after a build:
#   bash bench/tunnel_bench.sh            (DURATION=10 by default)
source "$(dirname "$0")/../tests/integration/lib.sh"

DURATION=${DURATION:-10}
command -v iperf3 >/dev/null || fail "iperf3 missing: bash scripts/install-deps.sh"
command -v wireguard-go >/dev/null || fail "wireguard-go missing: bash scripts/install-deps.sh"
[ -x "$ZEQVPND" ] || fail "build first: cmake -S . -B build -G Ninja && cmake --build build"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure NAME PID_A PID_B: prints "throughput_mbit rtt_avg_ms cpu_s".
measure() {
  bg "$NS_B" "$WORK/iperf-server.log" iperf3 -s -1
  sleep 0.5
  local c0a c0b
  c0a=$(cpu_ticks "$2"); c0b=$(cpu_ticks "$3")
  in_a iperf3 -c $TUN4_B -t "$DURATION" -J > "$WORK/iperf.json" || fail "$1: iperf3 failed"
  local c1a c1b
  c1a=$(cpu_ticks "$2"); c1b=$(cpu_ticks "$3")
  local mbit rtt cpu
  mbit=$(python3 -c "import json; print(round(json.load(open('$WORK/iperf.json'))['end']['sum_received']['bits_per_second'] / 1e6))")
  rtt=$(in_a ping -q -c 200 -i 0.01 $TUN4_B | awk -F/ '/rtt/{print $5}')
  cpu=$(python3 -c "print(round(($c1a - $c0a + $c1b - $c0b) / $(getconf CLK_TCK), 2))")
  echo "$mbit $rtt $cpu"
}

setup_pair
log "zeqvpnd: starting"
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "zeqvpnd tunnel did not come up"
read -r Z_MBIT Z_RTT Z_CPU < <(measure zeqvpnd "$a_PID" "$b_PID")
stop_node a "$NS_A"
stop_node b "$NS_B"

log "wireguard-go: starting"
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1
(umask 077; wg genkey > "$WORK/wa.key"; wg genkey > "$WORK/wb.key")
WA_PUB=$(wg pubkey < "$WORK/wa.key"); WB_PUB=$(wg pubkey < "$WORK/wb.key")
# The UAPI socket lives in /var/run/wireguard/NAME.sock, shared by all
# namespaces, so each side gets its own interface name.
start_wg() {  # start_wg NS KEY PEER_PUB PEER_ENDPOINT MY4 PEER4
  local dev="wg$1"
  bg "$1" "$WORK/wg-$1.log" wireguard-go -f "$dev"
  local pid=$BG_PID
  for _ in $(seq 100); do ip netns exec "$1" ip link show "$dev" >/dev/null 2>&1 && break; sleep 0.05; done
  ip netns exec "$1" wg set "$dev" private-key "$2" listen-port $PORT peer "$3" endpoint "$4" allowed-ips "$6/32"
  ip netns exec "$1" ip addr add "$5/24" dev "$dev"
  ip netns exec "$1" ip link set "$dev" mtu 1420 up
  echo "$pid"
}
WG_A=$(start_wg "$NS_A" "$WORK/wa.key" "$WB_PUB" "$UNDER4_B:$PORT" $TUN4_A $TUN4_B)
WG_B=$(start_wg "$NS_B" "$WORK/wb.key" "$WA_PUB" "$UNDER4_A:$PORT" $TUN4_B $TUN4_A)
PIDS+=("$WG_A" "$WG_B")
wait_ping "$NS_A" $TUN4_B 10 || fail "wireguard-go tunnel did not come up"
read -r W_MBIT W_RTT W_CPU < <(measure wireguard-go "$WG_A" "$WG_B")

ratio() { python3 -c "a, b = $1, $2; print(f'{a / b:.2f}' if b else 'n/a')"; }
printf '\n%-14s %16s %14s %16s\n' "" "throughput" "ping avg" "CPU s (iperf)"
printf '%-14s %11s Mbit/s %11s ms %16s\n' zeqvpnd "$Z_MBIT" "$Z_RTT" "$Z_CPU"
printf '%-14s %11s Mbit/s %11s ms %16s\n' wireguard-go "$W_MBIT" "$W_RTT" "$W_CPU"
printf '%-14s %16s %14s %16s\n' "zeqvpnd/wg-go" "$(ratio "$Z_MBIT" "$W_MBIT")" "$(ratio "$Z_RTT" "$W_RTT")" \
  "$(ratio "$Z_CPU" "$W_CPU")"
echo "($(nproc) cores, ${DURATION}s iperf3 TCP A->B, ping -c 200 -i 0.01, CPU = user+sys of both VPN processes)"
