#!/usr/bin/env bash
# Two nodes in two namespaces: ping over the tunnel both ways, IPv4 and IPv6;
# SIGTERM exits 0 and removes the interface.
source "$(dirname "$0")/lib.sh"

setup_pair
start_node a "$NS_A"
start_node b "$NS_B"

wait_ping "$NS_A" $TUN4_B 10 || fail "A cannot ping B over IPv4"
log "A -> B IPv4 ok"
# B, started second, sent its first initiation during its start (before its
# control socket, which it always logs), and only that one: A answered it at
# once, and run() did not send another.
n=$(grep -c 'handshake initiation sent' "$WORK/b.log" || true)
[ "$n" = 1 ] || fail "B sent $n handshake initiations at start, want 1: $(grep -E 'handshake|tunnel up' "$WORK/b.log")"
awk '/handshake initiation sent/{i=NR} /info control socket /{c=NR} END{exit !(i && c && i < c)}' "$WORK/b.log" ||
  fail "B's first initiation did not go out before the end of its start: $(grep -E 'initiation|control socket' "$WORK/b.log")"
in_b ping -c3 -i0.2 -W2 $TUN4_A >/dev/null || fail "B cannot ping A over IPv4"
log "B -> A IPv4 ok"
in_a ping -c3 -i0.2 -W2 $TUN6_B >/dev/null || fail "A cannot ping B over IPv6"
log "A -> B IPv6 ok"
in_b ping -c3 -i0.2 -W2 $TUN6_A >/dev/null || fail "B cannot ping A over IPv6"
log "B -> A IPv6 ok"

# The interface is configured as asked: MTU 1416, up, routes for allowed_ips.
in_a ip link show zeq0 | holds -q 'mtu 1416' || fail "zeq0 MTU is not 1416"
in_a ip route show dev zeq0 | holds -q "$TUN4_B" || fail "no route for B's allowed_ips"
in_a ip -6 route show dev zeq0 | holds -q "$TUN6_B" || fail "no IPv6 route for B's allowed_ips"

# A large packet crosses too (padding and MTU).
in_a ping -c2 -W2 -s 1380 -M do $TUN4_B >/dev/null || fail "1408-byte IPv4 packet did not cross"

status_of a | tee /dev/stderr | holds -q 'peer peer.*: up' || fail "A does not report the peer up"

stop_node a "$NS_A"
stop_node b "$NS_B"
grep -q 'interface zeq0 removed' "$WORK/a.log" || fail "A did not log its teardown"
log "PASS"
