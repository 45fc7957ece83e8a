#!/usr/bin/env bash
# Tunnel benchmark: zeqvpnd against wireguard-go in the same run, same
# two-namespace veth setup, each VPN measured the same way:
#   start:   the time from the exec of the second daemon (B) to the first
#            answered ping B -> A (an echo request every 2 ms from the moment
#            B's tunnel route exists, bench/start_pinger.py), and how many of
#            those first 10 were lost;
#            for zeqvpnd also from its first log line ("node ... on zeq0":
#            it logs nothing as the vault opens; that line comes once the
#            vault is open and the TUN exists), and exec -> that line;
#            then B is stopped and started again STARTS-1 times (default 4)
#            with A up, timed the same way: the median and range of those
#            restarts (zeqvpnd's first start creates its state database,
#            a restart opens it)
#   ping:    average round trip idle (200 echoes, 10 ms apart) and during the
#            1-stream TCP run (latency under load)
#   TCP:     iperf3 A -> B, 1 stream and 4 streams (-P 4), DURATION s each
#   UDP:     iperf3 -u -l 64 -b 0 (64-byte payloads, as fast as it goes):
#            packets per second received by B, and the loss
#   CPU:     user+sys seconds of both VPN processes during the 1-stream TCP
#            run, per GB received
#   RSS:     peak resident set (VmHWM) of each daemon at the end, and what
#            it holds (VmRSS) 2 s after the last run
# Prints a table with the ratios zeqvpnd/wg-go; asserts nothing about speed.
# Run as root after a build (takes about 2 minutes):
#   bash bench/tunnel_bench.sh            (DURATION=10 by default)
#   ZEQ_BUILD_DIR=build-x bash bench/tunnel_bench.sh
source "$(dirname "$0")/../tests/integration/lib.sh"

DURATION=${DURATION:-10}
STARTS=${STARTS:-5}
command -v iperf3 >/dev/null || fail "iperf3 missing: bash scripts/install-deps.sh"
command -v wireguard-go >/dev/null || fail "wireguard-go missing: bash scripts/install-deps.sh"
[ -x "$ZEQVPND" ] || fail "build first: cmake -S . -B build -G Ninja && cmake --build build"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_rss_kib() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
now_ns() { date +%s%N; }
py() { python3 -c "$@"; }

# iperf_run NAME OUT ARGS...: one iperf3 client run A -> B (a fresh one-off
# server in B each time), JSON to OUT.
iperf_run() {
  local name=$1 out=$2
  shift 2
  bg "$NS_B" "$WORK/iperf-server.log" iperf3 -s -1
  local server=$BG_PID
  for _ in $(seq 50); do in_b ss -ltn 2>/dev/null | holds -q ':5201 ' && break; sleep 0.05; done
  in_a iperf3 -c $TUN4_B -J "$@" > "$out" || fail "$name: iperf3 $* failed: $(tail -n 5 "$out")"
  for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
}

# start_pinger NETNS ADDR DEV OUT: in the background, a single process
# (bench/start_pinger.py) that sends an echo request to ADDR through DEV
# every 2 ms from the moment NETNS routes it there (at most 15 s), and
# writes each reply with its wall-clock time, until 50 replies. One process
# polling with syscalls, not a shell loop forking `ip` every millisecond,
# which took a core of two from the daemon being timed. PINGER_PID.
start_pinger() {
  bg "$1" "$4.log" python3 "$(dirname "${BASH_SOURCE[0]}")/start_pinger.py" "$2" "$3" "$4"
  PINGER_PID=$BG_PID
  for _ in $(seq 100); do grep -q polling "$4.log" 2>/dev/null && return 0; sleep 0.05; done
  fail "the start-up pinger did not start: $(cat "$4.log")"
}

# startup_figures T0_NS PING_OUT: prints "ms_to_first_reply lost_of_first_10".
startup_figures() {
  py "
import re, sys
t0 = $1 / 1e9
first, seqs = None, set()
for line in open('$2'):
    m = re.match(r'\[(\d+\.\d+)\] \d+ bytes from .* icmp_seq=(\d+)', line)
    if m:
        t, seq = float(m.group(1)), int(m.group(2))
        first = t if first is None else min(first, t)
        seqs.add(seq)
print(round((first - t0) * 1000) if first else 'none', 10 - len([s for s in seqs if s <= 10]))
"
}

# median_range VALUES...: "MEDIAN MIN-MAX" of the numeric ones ("n/a n/a"
# without any).
median_range() {
  py "
v = sorted(float(x) for x in '$*'.split() if x.replace('.', '', 1).isdigit())
if not v:
    print('n/a n/a')
else:
    n = len(v)
    m = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    print(f'{m:g} {v[0]:g}-{v[-1]:g}')"
}

# restarts NAME STOP START DEV: STARTS-1 times, B stopped (STOP), then
# started again (START, which sets RESTARTED_PID) with the start-up pinger
# on DEV; sets R_MS (each restart's ms to the first reply) and R_LOST (pings
# lost of the first 10, summed).
restarts() {
  local name=$1 stop=$2 start=$3 dev=$4 t0 ms lost
  R_MS=(); R_LOST=0
  for i in $(seq $((STARTS - 1))); do
    $stop
    start_pinger "$NS_B" $TUN4_A "$dev" "$WORK/restart-$name-$i.txt"
    t0=$(now_ns)
    $start
    wait "$PINGER_PID" || true
    read -r ms lost < <(startup_figures "$t0" "$WORK/restart-$name-$i.txt")
    R_MS+=("$ms")
    [[ "$lost" =~ ^[0-9]+$ ]] && R_LOST=$((R_LOST + lost))
  done
}

# measure NAME PID_A PID_B: sets M_* (the figures other than start-up).
measure() {
  local name=$1 pa=$2 pb=$3
  M_PING_IDLE=$(in_a ping -q -c 200 -i 0.01 $TUN4_B | awk -F/ '/rtt/{print $5}')

  # 1 stream, with ping alongside (from 1 s in, ending before iperf3) and the
  # VPN processes' CPU time.
  local c0 c1
  c0=$(( $(cpu_ticks "$pa") + $(cpu_ticks "$pb") ))
  ( sleep 1; in_a ping -q -c $(( (DURATION - 2) * 50 )) -i 0.02 $TUN4_B > "$WORK/ping-load.txt" 2>&1 ) &
  local pinger=$!
  iperf_run "$name" "$WORK/tcp1.json" -t "$DURATION"
  c1=$(( $(cpu_ticks "$pa") + $(cpu_ticks "$pb") ))
  wait "$pinger" || true
  M_PING_LOAD=$(awk -F/ '/rtt/{print $5}' "$WORK/ping-load.txt")
  read -r M_TCP1 M_GB < <(py "
import json; e = json.load(open('$WORK/tcp1.json'))['end']['sum_received']
print(round(e['bits_per_second'] / 1e6), e['bytes'] / 1e9)")
  M_CPU_GB=$(py "print(round(($c1 - $c0) / $(getconf CLK_TCK) / $M_GB, 2) if $M_GB else 'n/a')")

  iperf_run "$name" "$WORK/tcp4.json" -t "$DURATION" -P 4
  M_TCP4=$(py "import json; print(round(json.load(open('$WORK/tcp4.json'))['end']['sum_received']['bits_per_second'] / 1e6))")

  iperf_run "$name" "$WORK/udp.json" -t "$DURATION" -u -l 64 -b 0
  read -r M_UDP_PPS M_UDP_LOSS < <(py "
import json; s = json.load(open('$WORK/udp.json'))['end']['sum']
print(round((s['packets'] - s['lost_packets']) / s['seconds']), round(s['lost_percent'], 1))")

  M_RSS_A=$(peak_rss_kib "$pa"); M_RSS_B=$(peak_rss_kib "$pb")
  # What each holds once the runs are over (a few seconds idle: zeqvpnd frees
  # libnftables's ruleset cache after a Zeqond without commands).
  sleep 2
  M_NOW_A=$(rss_kib "$pa"); M_NOW_B=$(rss_kib "$pb")
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
setup_pair

# ---- zeqvpnd
log "zeqvpnd: starting A, then B (timed)"
start_node a "$NS_A"
start_pinger "$NS_B" $TUN4_A zeq0 "$WORK/start-z.txt"
Z_T0=$(now_ns)
ip netns exec "$NS_B" env ZEQ_MESH_SECRET="$MESH_SECRET" ZEQ_FIELD_KEY="$FIELD_KEY_b" \
  "$ZEQVPND" --config "$WORK/b.yaml" >> "$WORK/b.log" 2>&1 &
b_PID=$!
PIDS+=("$b_PID")
wait "$PINGER_PID" || true
read -r Z_START Z_LOST10 < <(startup_figures "$Z_T0" "$WORK/start-z.txt")
# The daemon's "node ... on zeq0" log line (after the vault opened and the
# node made its TUN), in the log's local time with milliseconds.
Z_NODE_TS=$(py "
import datetime, re
for line in open('$WORK/b.log'):
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) \w+ node \S+ on ', line)
    if m:
        print(datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%f').timestamp()); break
else:
    print('')")
Z_FIRST_REPLY=$(awk -F'[][]' '/bytes from/{print $2; exit}' "$WORK/start-z.txt")
Z_FROM_NODE=$(py "print(round(($Z_FIRST_REPLY - $Z_NODE_TS) * 1000) if '$Z_FIRST_REPLY' and '$Z_NODE_TS' else 'n/a')")
Z_EXEC_TO_LOG=$(py "print(round(($Z_NODE_TS - $Z_T0 / 1e9) * 1000) if '$Z_NODE_TS' else 'n/a')")
for _ in $(seq 100); do ctl b status >/dev/null 2>&1 && break; sleep 0.05; done
wait_ping "$NS_A" $TUN4_B 10 || fail "zeqvpnd tunnel did not come up"
log "zeqvpnd: start -> first reply ${Z_START} ms, ${Z_LOST10}/10 lost; measuring"
measure zeqvpnd "$a_PID" "$b_PID"
Z=("$M_TCP1" "$M_TCP4" "$M_UDP_PPS" "$M_UDP_LOSS" "$M_PING_IDLE" "$M_PING_LOAD" "$M_CPU_GB" "$M_RSS_A" "$M_RSS_B" "$M_NOW_A" "$M_NOW_B")
stop_b_zeqvpnd() { stop_node b "$NS_B"; }
start_b_zeqvpnd() {
  ip netns exec "$NS_B" env ZEQ_MESH_SECRET="$MESH_SECRET" ZEQ_FIELD_KEY="$FIELD_KEY_b" \
    "$ZEQVPND" --config "$WORK/b.yaml" >> "$WORK/b.log" 2>&1 &
  b_PID=$!
  PIDS+=("$b_PID")
}
restarts zeqvpnd stop_b_zeqvpnd start_b_zeqvpnd zeq0
read -r Z_RESTART Z_RESTART_RANGE < <(median_range "${R_MS[@]}")
Z_RESTART_LOST=$R_LOST
log "zeqvpnd: $((STARTS - 1)) restarts of B -> first reply: ${R_MS[*]} ms, $R_LOST lost of their first 10s"
stop_node a "$NS_A"
stop_node b "$NS_B"

# ---- wireguard-go
log "wireguard-go: starting A, then B (timed)"
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1
(umask 077; wg genkey > "$WORK/wa.key"; wg genkey > "$WORK/wb.key")
WA_PUB=$(wg pubkey < "$WORK/wa.key"); WB_PUB=$(wg pubkey < "$WORK/wb.key")
# The UAPI socket lives in /var/run/wireguard/NAME.sock, shared by all
# namespaces, so each side gets its own interface name. Sets WG_PID; the
# daemon's start is the exec, its configuration (wg set, address, link up)
# is part of the start-up time.
start_wg() {  # start_wg NS KEY PEER_PUB PEER_ENDPOINT MY4 PEER4
  local dev="wg$1"
  bg "$1" "$WORK/wg-$1.log" wireguard-go -f "$dev"
  WG_PID=$BG_PID
  for _ in $(seq 1000); do ip -n "$1" link show "$dev" >/dev/null 2>&1 && break; sleep 0.005; done
  ip netns exec "$1" wg set "$dev" private-key "$2" listen-port $PORT peer "$3" endpoint "$4" allowed-ips "$6/32"
  ip -n "$1" addr add "$5/24" dev "$dev"
  ip -n "$1" link set "$dev" mtu 1420 up
}
start_wg "$NS_A" "$WORK/wa.key" "$WB_PUB" "$UNDER4_B:$PORT" $TUN4_A $TUN4_B
WG_A=$WG_PID
start_pinger "$NS_B" $TUN4_A "wg$NS_B" "$WORK/start-w.txt"
W_T0=$(now_ns)
start_wg "$NS_B" "$WORK/wb.key" "$WA_PUB" "$UNDER4_A:$PORT" $TUN4_B $TUN4_A
WG_B=$WG_PID
wait "$PINGER_PID" || true
read -r W_START W_LOST10 < <(startup_figures "$W_T0" "$WORK/start-w.txt")
wait_ping "$NS_A" $TUN4_B 10 || fail "wireguard-go tunnel did not come up"
log "wireguard-go: start -> first reply ${W_START} ms, ${W_LOST10}/10 lost; measuring"
measure wireguard-go "$WG_A" "$WG_B"
W=("$M_TCP1" "$M_TCP4" "$M_UDP_PPS" "$M_UDP_LOSS" "$M_PING_IDLE" "$M_PING_LOAD" "$M_CPU_GB" "$M_RSS_A" "$M_RSS_B" "$M_NOW_A" "$M_NOW_B")
stop_b_wg() {
  kill -TERM "$WG_B" 2>/dev/null || true
  wait "$WG_B" 2>/dev/null || true
  # Its TUN goes with it; the next start must not find the old route.
  for _ in $(seq 400); do ip -n "$NS_B" link show "wg$NS_B" >/dev/null 2>&1 || return 0; sleep 0.005; done
  fail "wireguard-go's wg$NS_B outlived it"
}
start_b_wg() {
  start_wg "$NS_B" "$WORK/wb.key" "$WA_PUB" "$UNDER4_A:$PORT" $TUN4_B $TUN4_A
  WG_B=$WG_PID
}
restarts wg stop_b_wg start_b_wg "wg$NS_B"
read -r W_RESTART W_RESTART_RANGE < <(median_range "${R_MS[@]}")
W_RESTART_LOST=$R_LOST
log "wireguard-go: $((STARTS - 1)) restarts of B -> first reply: ${R_MS[*]} ms, $R_LOST lost of their first 10s"

ratio() { py "
try:
    a, b = float('$1'), float('$2')
    print(f'{a / b:.2f}' if b else 'n/a')
except ValueError:
    print('n/a')"; }
row() {  # row LABEL UNIT Z W
  printf '%-30s %12s %12s %9s\n' "$1${2:+ ($2)}" "$3" "$4" "$(ratio "$3" "$4")"
}
echo
printf '%-30s %12s %12s %9s\n' "" zeqvpnd wireguard-go "zq/wg-go"
row "TCP 1 stream" "Mbit/s" "${Z[0]}" "${W[0]}"
row "TCP 4 streams" "Mbit/s" "${Z[1]}" "${W[1]}"
row "UDP 64 B received" "pkt/s" "${Z[2]}" "${W[2]}"
row "UDP 64 B loss" "%" "${Z[3]}" "${W[3]}"
row "ping idle avg" "ms" "${Z[4]}" "${W[4]}"
row "ping under TCP load avg" "ms" "${Z[5]}" "${W[5]}"
row "CPU per GB (TCP 1 stream)" "s/GB" "${Z[6]}" "${W[6]}"
row "peak RSS node A" "MiB" "$(py "print(round(${Z[7]} / 1024, 1))")" "$(py "print(round(${W[7]} / 1024, 1))")"
row "peak RSS node B" "MiB" "$(py "print(round(${Z[8]} / 1024, 1))")" "$(py "print(round(${W[8]} / 1024, 1))")"
row "RSS after the runs A" "MiB" "$(py "print(round(${Z[9]} / 1024, 1))")" "$(py "print(round(${W[9]} / 1024, 1))")"
row "RSS after the runs B" "MiB" "$(py "print(round(${Z[10]} / 1024, 1))")" "$(py "print(round(${W[10]} / 1024, 1))")"
row "start -> first ping answered" "ms" "$Z_START" "$W_START"
row "first 10 pings lost" "" "$Z_LOST10" "$W_LOST10"
if [ "$STARTS" -gt 1 ]; then
  row "restart -> first ping, median" "ms" "$Z_RESTART" "$W_RESTART"
  printf '%-30s %12s %12s\n' "  range of $((STARTS - 1)) restarts" "$Z_RESTART_RANGE" "$W_RESTART_RANGE"
  printf '%-30s %12s %12s\n' "  lost of their first 10s" "$Z_RESTART_LOST" "$W_RESTART_LOST"
fi
printf '%-30s %12s\n' "zeqvpnd: exec -> node log line" "$Z_EXEC_TO_LOG ms"
printf '%-30s %12s\n' "zeqvpnd: node log line -> ping" "$Z_FROM_NODE ms"
echo "($(nproc) cores; iperf3 A->B ${DURATION}s each: TCP -P 1, -P 4, UDP -l 64 -b 0 (received/s);"
echo " ping -c 200 -i 0.01 idle, -i 0.02 during the TCP 1-stream run; CPU = user+sys of both VPN"
echo " processes during that run / GB received; peak RSS = VmHWM at the end, RSS after = VmRSS 2 s later; start = exec of B's daemon"
echo " (for wireguard-go: exec + wg set + address + link up) to the first reply to an echo request every 2 ms"
echo " B->A; restart = the same after stopping B, with A up (zeqvpnd's state database exists then);"
echo " 'node log line' = zeqvpnd B's 'node ... on zeq0' log line, after its vault opened and its TUN exists;"
echo " load average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after: other work on the machine skews all figures)"
