#!/usr/bin/env bash
# MTU through the tunnel. H is a host behind node A (its own namespace on a
# LAN link to A; it routes the tunnel's addresses via A, which forwards); B
# is A's peer. A's tunnel MTU is 1400 (B keeps the default 1416), so the
# figures below are A's, not a default. Checked:
#  (a) MSS clamp (table inet zeqvpn_mss in A): a TCP SYN from H to B's tunnel
#      address carries MSS <= 1400 - 40 on B's zeq0 (IPv4; 1400 - 60 for
#      IPv6), and B's SYN-ACK reaches H with MSS <= the same (B's own would be
#      1376 / 1356); the table survives a reload, sits beside the kill
#      switch's table when it is armed (and stays when it is disarmed), and
#      is gone after a stop, as are the ip/ip6 zeqvpn tables earlier builds
#      kept the clamp in when a crash left them. Without it (deleted by
#      hand) the same SYN carries H's 1460 / 1440: the check means something.
#  (b) `ping -M do` from H: 1500 bytes gets "fragmentation needed" (ICMPv6
#      "packet too big") with mtu 1400, 1400 bytes is answered.
#  (c) the same for IPv6.
#  (d) relayed: A's peer B reached only through relay R1 (relay_lans.sh,
#      with the default interface MTU 1416); a DF ping of the interface MTU
#      from A gets ICMP "fragmentation needed" with mtu 1384 (the relayed
#      path's: 32 bytes of RELAY_OVERHEAD less, relayed_path_mtu), which the
#      data plane answers (protocol/icmp_too_big.hpp), and one that fits the
#      relayed path is answered.
source "$(dirname "$0")/lib.sh"

MTU_A=1400
NS_H=${TAG}h
EXTRA_NS+=("$NS_H")
in_h() { ip netns exec "$NS_H" "$@"; }
H4=192.168.77.2; A4L=192.168.77.1; H6=fd99::2; A6L=fd99::1
LISTEN_PORT=5001

# ---- A, B and the host H behind A
setup_pair
sed -i "s|^  listen_port: $PORT|  listen_port: $PORT\n  mtu: $MTU_A|" "$WORK/a.yaml"
# B takes H's networks from A (cryptokey routing) and routes them back.
sed -i "s|allowed_ips: \[$TUN4_A/32, $TUN6_A/128\]|allowed_ips: [$TUN4_A/32, $TUN6_A/128, 192.168.77.0/24, fd99::/64]|" "$WORK/b.yaml"
grep -q "mtu: $MTU_A" "$WORK/a.yaml" && grep -q "fd99::/64" "$WORK/b.yaml" || fail "config edits did not apply"

ip netns add "$NS_H"
own_resolv_conf "$NS_H"
ip link add lan0 netns "$NS_H" type veth peer name lan0 netns "$NS_A"
in_h ip link set lo up
in_h ip addr add $H4/24 dev lan0
in_h ip addr add $H6/64 dev lan0 nodad
in_a ip addr add $A4L/24 dev lan0
in_a ip addr add $A6L/64 dev lan0 nodad
in_h ip link set lan0 up
in_a ip link set lan0 up
in_h ip route add 10.77.0.0/24 via $A4L
in_h ip -6 route add fd77::/64 via $A6L
in_a sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

start_node b "$NS_B"
start_node a "$NS_A"
in_b ip route replace 192.168.77.0/24 dev zeq0
in_b ip -6 route replace fd99::/64 dev zeq0
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel A -> B"
wait_ping "$NS_H" $TUN4_B 10 || fail "H does not reach B's tunnel address through A: $(in_b ip route)"
in_h ping -6 -c 1 -W 2 $TUN6_B >/dev/null || fail "H does not reach B's IPv6 tunnel address through A"
[ "$(in_h ip link show lan0 | sed -n 's/.*mtu \([0-9]*\).*/\1/p')" = 1500 ] || fail "H's link MTU is not 1500"

# A listener on B's tunnel addresses, so SYNs get SYN-ACKs.
cat > "$WORK/listen.py" <<PY
import socket
s = socket.create_server(("::", $LISTEN_PORT), family=socket.AF_INET6, dualstack_ipv6=True)
while True:
    c, _ = s.accept()
    c.close()
PY
bg "$NS_B" "$WORK/listen.log" python3 "$WORK/listen.py"
LISTEN_PID=$BG_PID
for _ in $(seq 50); do in_b ss -ltn | holds -q ":$LISTEN_PORT " && break; sleep 0.1; done

# wait_mss FILE PATTERN: the MSS option of the first tcpdump line matching
# PATTERN (at most 5 s), or "none".
wait_mss() {
  for _ in $(seq 50); do
    local line
    line=$(grep -m1 -E "$2" "$1" || true)
    if [ -n "$line" ]; then
      echo "$line" | sed -n 's/.*mss \([0-9]*\).*/\1/p' | grep . || echo none
      return
    fi
    sleep 0.1
  done
  echo none
}

# probe_mss ADDR: TCP from H to ADDR; sets SYN_MSS (the SYN's MSS on B's
# zeq0) and SYNACK_MSS (the SYN-ACK's on H's lan0).
PROBES=0
probe_mss() {
  PROBES=$((PROBES + 1))
  local fb="$WORK/syn-b-$PROBES.txt" fh="$WORK/syn-h-$PROBES.txt"
  start_capture "$NS_B" "$fb" 20 "tcp port $LISTEN_PORT" zeq0
  local cap_b=$CAP_PID
  start_capture "$NS_H" "$fh" 20 "tcp port $LISTEN_PORT" lan0
  local cap_h=$CAP_PID
  in_h python3 -c "import socket; socket.create_connection(('$1', $LISTEN_PORT), timeout=5).close()" ||
    fail "TCP from H to $1:$LISTEN_PORT failed"
  SYN_MSS=$(wait_mss "$fb" 'Flags \[S\],')
  SYNACK_MSS=$(wait_mss "$fh" 'Flags \[S\.\],')
  kill "$cap_b" "$cap_h" 2>/dev/null || true
  log "TCP H -> $1: SYN MSS $SYN_MSS on B's zeq0, SYN-ACK MSS $SYNACK_MSS on H's lan0"
}

# mss_clamped TAG: the probes of both families within A's tunnel MTU.
mss_clamped() {
  probe_mss $TUN4_B
  [ "$SYN_MSS" != none ] && [ "$SYN_MSS" -le $((MTU_A - 40)) ] || fail "$1: IPv4 SYN MSS $SYN_MSS on B's zeq0, want <= $((MTU_A - 40))"
  [ "$SYNACK_MSS" != none ] && [ "$SYNACK_MSS" -le $((MTU_A - 40)) ] ||
    fail "$1: IPv4 SYN-ACK MSS $SYNACK_MSS at H, want <= $((MTU_A - 40))"
  probe_mss $TUN6_B
  [ "$SYN_MSS" != none ] && [ "$SYN_MSS" -le $((MTU_A - 60)) ] || fail "$1: IPv6 SYN MSS $SYN_MSS on B's zeq0, want <= $((MTU_A - 60))"
  [ "$SYNACK_MSS" != none ] && [ "$SYNACK_MSS" -le $((MTU_A - 60)) ] ||
    fail "$1: IPv6 SYN-ACK MSS $SYNACK_MSS at H, want <= $((MTU_A - 60))"
}

clamp_tables() { in_a nft list tables | grep -cE '^table inet zeqvpn_mss$' || true; }
legacy_tables() { in_a nft list tables | grep -cE '^table (ip|ip6) zeqvpn$' || true; }

log "(a) MSS clamp"
[ "$(clamp_tables)" = 1 ] || fail "A has no MSS clamp table: $(in_a nft list ruleset)"
in_a nft list table inet zeqvpn_mss | holds -q "oifname \"zeq0\" tcp flags syn / syn,rst tcp option maxseg size set rt mtu" ||
  fail "table inet zeqvpn_mss: $(in_a nft list table inet zeqvpn_mss)"
grep -q "MSS clamp: TCP forwarded through zeq0 clamped to MTU $MTU_A" "$WORK/a.log" || fail "A did not log its MSS clamp"
mss_clamped "clamp"

log "(b) DF pings from H, IPv4"
out=$(in_h ping -c 3 -i 0.3 -W 1 -M do -s $((1500 - 28)) $TUN4_B 2>&1 || true)
echo "$out" | holds -Eq "Frag needed and DF set \(mtu = $MTU_A\)|message too long, mtu=$MTU_A" ||
  fail "a 1500-byte DF ping from H got no 'fragmentation needed' with mtu $MTU_A: $out"
in_h ping -c 2 -W 2 -M do -s $((MTU_A - 28)) $TUN4_B >/dev/null || fail "a $MTU_A-byte DF ping from H was not answered"
log "(c) IPv6"
out=$(in_h ping -6 -c 3 -i 0.3 -W 1 -M do -s $((1500 - 48)) $TUN6_B 2>&1 || true)
echo "$out" | holds -Eq "Packet too big: mtu=$MTU_A|message too long, mtu=$MTU_A" ||
  fail "a 1500-byte IPv6 ping from H got no 'packet too big' with mtu $MTU_A: $out"
in_h ping -6 -c 2 -W 2 -M do -s $((MTU_A - 48)) $TUN6_B >/dev/null || fail "a $MTU_A-byte IPv6 ping from H was not answered"

log "the clamp across a reload, beside the kill switch"
ctl a reload | holds -q . || fail "reload of A failed"
[ "$(clamp_tables)" = 1 ] || fail "the MSS clamp table is gone after a reload"
ctl a killswitch arm | holds -q "armed" || fail "killswitch arm"
in_a nft list table inet zeqvpn | holds -q "chain killswitch_forward" || fail "kill switch not installed"
[ "$(clamp_tables)" = 1 ] || fail "arming the kill switch removed the MSS clamp"
mss_clamped "clamp with the kill switch armed"
ctl a killswitch disarm | holds -q "disarmed" || fail "killswitch disarm"
[ "$(clamp_tables)" = 1 ] || fail "disarming the kill switch removed the MSS clamp"

log "without the clamp (table deleted by hand) H's own MSS goes through"
in_a nft delete table inet zeqvpn_mss
# The SYN's MSS comes from H's link MTU, not a cached path MTU; flushed all
# the same, so (b)'s "too big" cannot have lowered it.
in_h ip route flush cache
in_h ip -6 route flush cache
probe_mss $TUN4_B
[ "$SYN_MSS" = 1460 ] || fail "unclamped IPv4 SYN MSS $SYN_MSS on B's zeq0, want H's 1460: the check above proves nothing"
[ "$SYNACK_MSS" = 1376 ] || fail "unclamped IPv4 SYN-ACK MSS $SYNACK_MSS at H, want B's 1376"
probe_mss $TUN6_B
[ "$SYN_MSS" = 1440 ] || fail "unclamped IPv6 SYN MSS $SYN_MSS on B's zeq0, want H's 1440"

log "a new start installs the clamp (and removes an earlier build's ip/ip6 tables), a stop removes it"
stop_node a "$NS_A"
for family in ip ip6; do
  in_a nft add table $family zeqvpn
  in_a nft add chain $family zeqvpn mss_clamp "{ type filter hook forward priority mangle; policy accept; }"
done
[ "$(legacy_tables)" = 2 ] || fail "could not make the earlier build's tables: $(in_a nft list tables)"
start_node a "$NS_A"
[ "$(clamp_tables)" = 1 ] || fail "no MSS clamp after a restart"
[ "$(legacy_tables)" = 0 ] || fail "the earlier build's ip/ip6 zeqvpn tables were left: $(in_a nft list tables)"
stop_node a "$NS_A"
[ "$(clamp_tables)" = 0 ] || fail "the MSS clamp outlived the daemon: $(in_a nft list tables)"
stop_node b "$NS_B"

# ---- (d) relayed: the LANs of relay_lans.sh, new namespaces throughout
log "(d) relayed path: MTU - 32"
kill "$LISTEN_PID" 2>/dev/null || true
wait "$LISTEN_PID" 2>/dev/null || true
for ns in "$NS_A" "$NS_B" "$NS_H"; do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
done
for ns in "$NS_A" "$NS_B" "$NS_H"; do ip netns del "$ns"; rm -rf "/etc/netns/$ns"; done
source "$(dirname "$0")/relay_lans.sh"
MTU_R=1416  # the default; node_yaml's 1384 is changed to it below
make_lans "$NS_A" "$NS_B" "$NS_R1"
join "$NS_A" veth0 "$NS_L1" $A1
join "$NS_B" veth0 "$NS_L2" $B2
join "$NS_R1" veth0 "$NS_L1" $R1_1
join "$NS_R1" veth1 "$NS_L2" $R1_2
in_ns "$NS_R1" sysctl -qw net.ipv4.ip_forward=0
in_a ping -c1 -W1 $B2 >/dev/null 2>&1 && fail "A reaches B's underlay directly"
make_key r1
FIELD_KEY_r1=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
relay_yaml r1 100 off "  - {name: a, public_key: $a_PUB}
  - {name: b, public_key: $b_PUB}"
RELAYS1="  - {name: r1, public_key: $r1_PUB, endpoint: \"$R1_1:$PORT\"}"
RELAYS2="  - {name: r1, public_key: $r1_PUB, endpoint: \"$R1_2:$PORT\"}"
CHOICE="relay_choice: {direct_attempts: 1, max_price: 1000}"
node_yaml a $TUN4_A "  - {name: b, public_key: $b_PUB, endpoint: \"$B2:$PORT\", allowed_ips: [$TUN4_B/32]}" "$RELAYS1" "$CHOICE"
node_yaml b $TUN4_B "  - {name: a, public_key: $a_PUB, allowed_ips: [$TUN4_A/32]}" "$RELAYS2" "$CHOICE"
sed -i "s|mtu: 1384|mtu: $MTU_R|" "$WORK/a.yaml" "$WORK/b.yaml"
grep -q "mtu: $MTU_R" "$WORK/a.yaml" || fail "node_yaml no longer sets mtu 1384"
: > "$WORK/a.log"; : > "$WORK/b.log"
rm -f "$WORK"/a.db* "$WORK"/b.db*
start_relay r1 "$NS_R1"
start_node b "$NS_B"
start_node a "$NS_A"
wait_for 30 path_is a b relay || fail "A never went through the relay to B: $(ctl a peers)"
wait_ping "$NS_A" $TUN4_B 15 || fail "no ping A -> B through the relay"
PATH_MTU=1384
in_a ping -c 2 -W 2 -M do -s $((PATH_MTU - 28)) $TUN4_B >/dev/null ||
  fail "a $PATH_MTU-byte DF ping (fits the relayed path) was not answered"
out=$(in_a ping -c 3 -i 0.3 -W 1 -M do -s $((MTU_R - 28)) $TUN4_B 2>&1 || true)
echo "$out" | holds -Eq "Frag needed and DF set \(mtu = $PATH_MTU\)|message too long, mtu=$PATH_MTU" ||
  fail "a $MTU_R-byte DF ping through the relay got no 'fragmentation needed' with mtu $PATH_MTU (the data plane answers it: protocol/icmp_too_big.hpp): $out"
in_a ip route get $TUN4_B | holds -q "mtu $PATH_MTU" || fail "A's route cache has no PMTU $PATH_MTU: $(in_a ip route get $TUN4_B)"
log "PASS"
