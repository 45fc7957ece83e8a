#!/usr/bin/env bash
# Relay benchmark: A -> B direct, through a relay over UDP, and through the
# same relay reached over TCP (docs/protocol.md "Relay over TCP"), in one
# run. Topology (as tests/integration/relay.sh; namespaces this script
# makes, deleted on exit): two LAN bridges, A on LAN 1, B on LAN 2, relay R
# on both (forwarding off), and a direct veth link A <-> B. Phase 1: `via:
# direct` over the direct link. Phase 2: `via: relay` through R over UDP
# (R's limits raised to 10 GB/s). Phase 3: the same daemons, then an
# nftables table in A's namespace drops UDP on A's LAN interface: A falls
# back to TCP to R:443 (relay_choice.tcp_port's default) and the same is
# measured again; B stays on UDP. mtu 1384 on A and B throughout. Measured
# per path:
#   - iperf3 TCP, 1 stream, DURATION s (default 10), A -> B: Gbit/s received;
#   - ping A -> B, 50 echoes 0.02 s apart: average ms (idle);
#   - ping A -> B every 0.02 s during the iperf3 run: average ms (under load);
#   - for the relayed paths, R's CPU seconds per GB forwarded;
#   - for TCP, what the stream bridges dropped (write queue full) on A and R;
#   - the relay's peak RSS (VmHWM) and what it dropped over its limits.
# Prints numbers, never fails on speed (exit 1 only when the setup fails).
# Run as root after a build:
#   bash bench/relay_bench.sh            (DURATION=10 by default)
source "$(dirname "$0")/../tests/integration/lib.sh"

DURATION=${DURATION:-10}
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] && [ "$DURATION" -le 120 ] || fail "DURATION must be 1..120 s, got '$DURATION'"
command -v iperf3 >/dev/null || fail "iperf3 missing: bash scripts/install-deps.sh"
command -v jq >/dev/null || fail "jq missing: bash scripts/install-deps.sh"
[ -x "$ZEQVPND" ] && [ -x "$ZEQVPNCTL" ] || fail "build first (or set ZEQ_BUILD_DIR): no $ZEQVPND or $ZEQVPNCTL"

# The LANs, their addresses and join(): tests/integration/relay_lans.sh.
source "$(dirname "$0")/../tests/integration/relay_lans.sh"
NS_R=$NS_R1; R_1=$R1_1; R_2=$R1_2
AD=198.18.3.1; BD=198.18.3.2                                     # direct link
MTU=1384
LIMIT=10000000000   # relay limits, bytes/s: far above what 2 cores carry
PING_N=50; PING_I=0.02

# ---- topology -----------------------------------------------------------
make_lans "$NS_A" "$NS_B" "$NS_R"
join "$NS_A" veth0 "$NS_L1" $A1
join "$NS_B" veth0 "$NS_L2" $B2
join "$NS_R" veth0 "$NS_L1" $R_1
join "$NS_R" veth1 "$NS_L2" $R_2
in_ns "$NS_R" sysctl -qw net.ipv4.ip_forward=0
ip link add vethd netns "$NS_A" type veth peer name vethd netns "$NS_B"
in_a ip addr add $AD/24 dev vethd; in_b ip addr add $BD/24 dev vethd
in_a ip link set vethd up; in_b ip link set vethd up
in_a ping -c1 -W1 $BD >/dev/null || fail "A does not reach B on the direct link"
in_a ping -c1 -W1 $B2 >/dev/null 2>&1 && fail "A reaches B's LAN address: R forwards IP"
in_a ping -c1 -W1 $R_1 >/dev/null || fail "A does not reach R"
in_b ping -c1 -W1 $R_2 >/dev/null || fail "B does not reach R"

for n in a b r; do make_key $n; done
FIELD_KEY_r=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

cat > "$WORK/r.yaml" <<YAML
role: relay
interface: {listen_port: $PORT, identity_key_file: $WORK/r.key}
log_level: info
relay:
  price: {per_gb: 1}
  metadata_log: off
  limits: {client_bytes_per_s: $LIMIT, pair_bytes_per_s: $LIMIT}
peers:
  - {name: a, public_key: $a_PUB}
  - {name: b, public_key: $b_PUB}
control: {socket: $WORK/r.sock}
state: {database: $WORK/r.db}
YAML

# node_yaml NAME TUN4 PHASE PEER-YAML [RELAYS-YAML]
node_yaml() {
  cat > "$WORK/$1.yaml" <<YAML
interface:
  name: zeq0
  addresses: [$2/24]
  listen_port: $PORT
  identity_key_file: $WORK/$1.key
  mtu: $MTU
log_level: info
peers:
$4
${5:-}
control: {socket: $WORK/$1.sock}
state: {database: $WORK/$1-$3.db}
YAML
}

jctl() { timeout 10 "$ZEQVPNCTL" --socket "$WORK/$1.sock" --json "${@:2}"; }
path_of() { jctl "$1" peers | jq -r --arg n "$2" '.peers[] | select(.name == $n) | .path'; }
wait_path() {  # wait_path NODE PEER PATH SECONDS
  local deadline=$(( $(date +%s) + $4 ))
  until [ "$(path_of "$1" "$2" 2>/dev/null)" = "$3" ]; do
    [ "$(date +%s)" -lt $deadline ] || return 1
    sleep 0.2
  done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
relay_bytes() { jctl r relays | jq '[.pairs[] | .up_bytes + .down_bytes] | add // 0'; }
ping_avg() { awk -F/ '/^rtt|^round-trip/ {print $5}' "$1"; }

# measure NAME: sets M_GBIT M_PING M_LOAD (and, with R running, M_CPU_S,
# M_RELAY_BYTES, M_IPERF_BYTES).
measure() {
  in_a ping -q -c $PING_N -i $PING_I -w 10 $TUN4_B > "$WORK/ping-$1.txt" 2>&1 || true
  M_PING=$(ping_avg "$WORK/ping-$1.txt")
  bg "$NS_B" "$WORK/iperf-server-$1.log" timeout $((DURATION + 30)) iperf3 -s -1 -B $TUN4_B
  for _ in $(seq 50); do in_b ss -ltn | grep -q ':5201 ' && break; sleep 0.1; done
  local c0=0 b0=0 c1=0 b1=0
  if [ "$1" != direct ]; then c0=$(cpu_ticks "$r_PID"); b0=$(relay_bytes); fi
  # Latency under load: pings from 1 s into the run until 1 s before its end.
  ( sleep 1; in_a ping -q -i $PING_I -w $((DURATION > 2 ? DURATION - 2 : 1)) $TUN4_B ) \
    > "$WORK/ping-load-$1.txt" 2>&1 &
  local pinger=$!
  PIDS+=("$pinger")
  in_a timeout $((DURATION + 20)) iperf3 -c $TUN4_B -t "$DURATION" -J > "$WORK/iperf-$1.json" ||
    log "$1: iperf3 failed: $(jq -r '.error // empty' "$WORK/iperf-$1.json" 2>/dev/null)"
  if [ "$1" != direct ]; then c1=$(cpu_ticks "$r_PID"); b1=$(relay_bytes); fi
  wait "$pinger" 2>/dev/null || true
  M_LOAD=$(ping_avg "$WORK/ping-load-$1.txt")
  M_GBIT=$(jq -r '(.end.sum_received.bits_per_second // 0) / 1e9 * 100 | round / 100' "$WORK/iperf-$1.json" 2>/dev/null || echo n/a)
  M_IPERF_BYTES=$(jq -r '.end.sum_received.bytes // 0' "$WORK/iperf-$1.json" 2>/dev/null || echo 0)
  M_CPU_S=$(python3 -c "print(round(($c1 - $c0) / $(getconf CLK_TCK), 2))")
  M_RELAY_BYTES=$((b1 - b0))
  log "$1: ${M_GBIT} Gbit/s, ping ${M_PING:-?} ms, under load ${M_LOAD:-?} ms"
  M_CPU_PER_GB=$(python3 -c "b = $M_RELAY_BYTES; print(f'{$M_CPU_S / (b / 1e9):.2f}' if b else 'n/a')")
}

# ---- phase 1: direct ----------------------------------------------------
log "direct: A <-> B over the direct link (via: direct, mtu $MTU)"
node_yaml a $TUN4_A direct "  - {name: b, public_key: $b_PUB, endpoint: \"$BD:$PORT\", allowed_ips: [$TUN4_B/32], via: direct}"
node_yaml b $TUN4_B direct "  - {name: a, public_key: $a_PUB, endpoint: \"$AD:$PORT\", allowed_ips: [$TUN4_A/32], via: direct}"
start_node b "$NS_B"
start_node a "$NS_A"
wait_ping "$NS_A" $TUN4_B 15 || fail "direct tunnel did not come up"
[ "$(path_of a b)" = direct ] || fail "A's path to B is not direct: $(jctl a peers)"
measure direct
D=("$M_GBIT" "$M_PING" "$M_LOAD")
stop_node a "$NS_A"
stop_node b "$NS_B"

# ---- phase 2: through R -------------------------------------------------
log "relayed-udp: A <-> B through R (via: relay, mtu $MTU, relay limits $LIMIT B/s)"
relays() { printf 'relays:\n  - {name: r, public_key: %s, endpoint: "%s:%s"}\n' "$r_PUB" "$1" "$PORT"; }
node_yaml a $TUN4_A relayed "  - {name: b, public_key: $b_PUB, allowed_ips: [$TUN4_B/32], via: relay}" "$(relays $R_1)"
node_yaml b $TUN4_B relayed "  - {name: a, public_key: $a_PUB, allowed_ips: [$TUN4_A/32], via: relay}" "$(relays $R_2)"
start_relay r "$NS_R"
start_node b "$NS_B"
start_node a "$NS_A"
wait_path a b relay 30 || fail "A never went through R to B: $(jctl a peers; jctl a relays)"
wait_ping "$NS_A" $TUN4_B 15 || fail "no ping A -> B through R: $(jctl a relays; jctl r relays)"
[ "$(jctl r relays | jq '.pairs | length')" -ge 1 ] || fail "R has no pair: $(jctl r relays)"
measure relayed-udp
U=("$M_GBIT" "$M_PING" "$M_LOAD" "$M_CPU_PER_GB")

# ---- phase 3: through R over TCP ----------------------------------------
log "relayed-tcp: UDP dropped on A's LAN interface; A falls back to TCP to R:443"
in_a nft -f - <<'NFT'
table inet zq_bench_block_udp {
  chain out { type filter hook output priority 0; policy accept; oifname "veth0" meta l4proto udp drop; }
  chain in { type filter hook input priority 0; policy accept; iifname "veth0" meta l4proto udp drop; }
}
NFT
t0=$(date +%s%N)
wait_path a b relayed-tcp 30 || fail "A never went over TCP to R: $(jctl a peers; jctl a relays)"
wait_ping "$NS_A" $TUN4_B 15 || fail "no ping A -> B over TCP to R: $(jctl a relays; jctl r relays)"
FALLBACK_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
measure relayed-tcp
T=("$M_GBIT" "$M_PING" "$M_LOAD" "$M_CPU_PER_GB")
A_QDROP=$(jctl a relays | jq '.tcp.counters.queue_full_drops // 0')
R_QDROP=$(jctl r relays | jq '.tcp.counters.queue_full_drops // 0')
in_a nft delete table inet zq_bench_block_udp
RELAY_RSS_MIB=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$r_PID/status")
DROPPED=$(jctl r relays | jq '[.pairs[] | .dropped_over_limit] | add // 0')

echo
echo "relay bench: $(nproc) cores, $(uname -r); iperf3 TCP 1 stream ${DURATION}s A->B; ping ${PING_N} x ${PING_I}s idle, every ${PING_I}s under load"
echo "interface mtu $MTU on A and B on every path; TCP: 2-byte frames on one connection A -> R:443, B on UDP"
printf '%-12s %9s %8s %19s %19s\n' path tcp_gbit ping_ms ping_under_load_ms relay_cpu_s_per_gb
printf '%-12s %9s %8s %19s %19s\n' direct "${D[0]}" "${D[1]:-n/a}" "${D[2]:-n/a}" -
printf '%-12s %9s %8s %19s %19s\n' relayed-udp "${U[0]}" "${U[1]:-n/a}" "${U[2]:-n/a}" "${U[3]}"
printf '%-12s %9s %8s %19s %19s\n' relayed-tcp "${T[0]}" "${T[1]:-n/a}" "${T[2]:-n/a}" "${T[3]}"
echo "TCP fallback: path relayed-tcp and a ping answered ${FALLBACK_MS} ms after UDP was dropped; write-queue drops A $A_QDROP, R $R_QDROP"
echo "relay: peak RSS ${RELAY_RSS_MIB} MiB, $DROPPED dropped over limit"
exit 0
