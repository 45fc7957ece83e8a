#!/usr/bin/env bash
# The kill switch in `always` mode, in A's own namespace (its nftables ruleset
# is A's alone): nothing from A reaches the underlay outside the tunnel, IPv4
# or IPv6, while the tunnel's own (marked) packets still pass, also with the
# peer stopped; the rules survive SIGKILL of the daemon and keep blocking;
# `zeqvpnctl killswitch disarm` (daemon gone) restores normal traffic; arm and
# disarm at run time; another table is never disturbed.
source "$(dirname "$0")/lib.sh"

setup_pair
# "Outside the tunnel": B's underlay addresses, reached directly over veth0.
printf 'kill_switch: always\nallow_lan: false\n' >> "$WORK/a.yaml"

# Another table with a rule of its own, which must come through untouched.
in_a nft add table inet bystander
in_a nft add chain inet bystander out '{ type filter hook output priority 10; policy accept; }'
in_a nft add rule inet bystander out meta l4proto udp counter
bystander_before=$(in_a nft list table inet bystander | grep -v counter)

# leaked PATTERN SECONDS: counts packets that reach B's veth matching the
# tcpdump filter while A tries to send them.
leaked() {
  local filter=$1
  bg "$NS_B" "$WORK/leak.pcap.txt" timeout "$2" tcpdump -i veth0 -n -l "$filter"
  local cap=$BG_PID
  sleep 0.5
  in_a ping -c 3 -i 0.2 -W 1 $UNDER4_B >/dev/null 2>&1 || true
  in_a ping -c 3 -i 0.2 -W 1 $UNDER6_B >/dev/null 2>&1 || true
  in_a python3 -c "
import socket
for fam, addr in ((socket.AF_INET, '$UNDER4_B'), (socket.AF_INET6, '$UNDER6_B')):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.sendto(b'leak', (addr, 9999))
    except OSError:
        pass" 2>/dev/null
  wait "$cap" 2>/dev/null || true
  grep -c ' > ' "$WORK/leak.pcap.txt" || true
}

# Echo requests (IPv4, and ICMPv6 type 128) and UDP to port 9999 are what
# A tries to leak; neighbour discovery is allowed and not counted.
LEAK_FILTER="icmp[icmptype] == icmp-echo or (icmp6 and ip6[40] == 128) or udp port 9999"

start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "the tunnel's own packets do not pass the armed kill switch"
wait_ping "$NS_A" $TUN6_B 5 || fail "no IPv6 through the tunnel with the kill switch armed"
ctl a killswitch status | grep -q "kill switch: armed (mode always" || fail "status does not show armed: $(ctl a killswitch status)"

n=$(leaked "$LEAK_FILTER" 3)
[ "$n" = 0 ] || { cat "$WORK/leak.pcap.txt"; fail "$n packets leaked to the underlay with the kill switch armed"; }
log "armed, tunnel up: 0 packets leaked (IPv4 and IPv6 ping, UDP)"

stop_node b "$NS_B"
n=$(leaked "$LEAK_FILTER" 3)
[ "$n" = 0 ] || fail "$n packets leaked with the peer stopped"
in_a ping -c 2 -W 1 $TUN4_B >/dev/null 2>&1 && fail "ping through a tunnel whose peer is stopped"
# The handshakes themselves still go out (marked): B's port sees them.
bg "$NS_B" "$WORK/hs.txt" timeout 7 tcpdump -i veth0 -n -l "udp port $PORT"
HS=$BG_PID
wait "$HS" 2>/dev/null || true
grep -q "UDP" "$WORK/hs.txt" || fail "the kill switch blocked the tunnel's own handshakes"
log "armed, peer stopped: 0 leaked, handshakes still sent"

ctl a --json metrics | grep -q 'zeqvpn_killswitch_armed 1' || fail "metrics do not show the kill switch armed"
blocked=$(ctl a --json killswitch status | python3 -c 'import json,sys; print(json.load(sys.stdin)["kill_switch"]["blocked_packets"]["blocked_output"])')
[ "$blocked" -gt 0 ] || fail "no blocked packets counted"

log "SIGKILL: the rules stay and still block"
kill -KILL "$a_PID"; wait "$a_PID" 2>/dev/null || true
in_a nft list table inet zeqvpn | grep -q "chain killswitch_output" || fail "rules gone after SIGKILL"
n=$(leaked "$LEAK_FILTER" 3)
[ "$n" = 0 ] || fail "$n packets leaked after the daemon died"
rc=0; out=$(in_a "$ZEQVPNCTL" --socket "$WORK/a.sock" killswitch status) || rc=$?
echo "$out" | grep -q "are installed and block traffic" || fail "offline status: $out"

in_a "$ZEQVPNCTL" --socket "$WORK/a.sock" --config "$WORK/a.yaml" killswitch disarm | grep -q "disarmed" || fail "offline disarm"
in_a nft list tables | grep -q "table inet zeqvpn" && fail "table still there after disarm"
in_a ping -c 1 -W 2 $UNDER4_B >/dev/null || fail "IPv4 still blocked after disarm"
in_a ping -c 1 -W 2 $UNDER6_B >/dev/null || fail "IPv6 still blocked after disarm"
n=$(leaked "$LEAK_FILTER" 3)
[ "$n" -ge 6 ] || fail "the capture sees only $n packets without the kill switch: the leak count cannot be trusted"
log "disarm restored normal traffic ($n packets reach the underlay now)"

log "arm and disarm at run time (mode off)"
sed -i 's/^kill_switch: always/kill_switch: off/' "$WORK/a.yaml"
in_a ip link del zeq0 2>/dev/null || true
start_node a "$NS_A"
in_a ping -c 1 -W 2 $UNDER4_B >/dev/null || fail "mode off blocks"
ctl a killswitch arm | grep -q "armed (mode off, armed by operator" || fail "arm"
in_a ping -c 1 -W 1 $UNDER4_B >/dev/null 2>&1 && fail "arm did not block"
ctl a killswitch disarm | grep -q "disarmed" || fail "disarm"
in_a ping -c 1 -W 2 $UNDER4_B >/dev/null || fail "disarm did not unblock"
stop_node a "$NS_A"
in_a nft list tables | grep -q "table inet zeqvpn" && fail "mode off left the table behind"

[ "$(in_a nft list table inet bystander | grep -v counter)" = "$bystander_before" ] || fail "table inet bystander was changed"
log "PASS"
