#!/usr/bin/env bash
# DNS through the peer. B offers its resolver (a dnsmasq on B's tunnel
# address) inside the tunnel; A points its resolv.conf at it, keeps the offer
# in its vault, and blocks DNS leaving by any other interface. A "LAN
# resolver" on B's underlay address answers the same name differently, so a
# leak would show in the answer as well as in the capture. Stopping A
# restores the original resolv.conf; after a SIGKILL the next start does.
source "$(dirname "$0")/lib.sh"

setup_pair
printf 'dns:\n  offer: %s\n' $TUN4_B >> "$WORK/b.yaml"
# `ip netns exec` shows A this file as /etc/resolv.conf (and the daemon
# writes through to it); the cleanup removes it.
mkdir -p "/etc/netns/$NS_A"
ORIGINAL="# the LAN's resolver
nameserver $UNDER4_B"
printf '%s\n' "$ORIGINAL" > "/etc/netns/$NS_A/resolv.conf"

dnsmasq_on() {  # dnsmasq_on ADDRESS ANSWER: a resolver in B's namespace
  bg "$NS_B" "$WORK/dnsmasq-$1.log" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --user=root \
    --bind-interfaces --listen-address="$1" --port=53 --address=/zeqtest.example/"$2" --pid-file="$WORK/dnsmasq-$1.pid"
}
resolve() { in_a getent ahostsv4 zeqtest.example | awk 'NR==1{print $1}'; }

dnsmasq_on $UNDER4_B 10.9.9.9
sleep 0.3
[ "$(resolve)" = 10.9.9.9 ] || fail "the LAN resolver does not answer before zeqvpnd starts"

start_node b "$NS_B"
dnsmasq_on $TUN4_B 10.1.2.3
start_node a "$NS_A"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"
wait_status_json() {  # polls A's status until the Python expression on `s` holds
  for _ in $(seq 50); do
    ctl a --json status | python3 -c "import json,sys; s=json.load(sys.stdin); sys.exit(0 if ($1) else 1)" && return 0
    sleep 0.2
  done
  return 1
}
wait_status_json "s['dns']['via_peer'] and s['dns']['servers'] == ['$TUN4_B']" || fail "A did not take B's resolver: $(ctl a status)"
ctl a status | holds -q "dns: via peer (zeq-.*) ($TUN4_B) through /etc/resolv.conf; other DNS blocked" || fail "status: $(ctl a status)"
grep -q "^nameserver $TUN4_B$" "/etc/netns/$NS_A/resolv.conf" || fail "resolv.conf not pointed at the peer"

log "resolving through the tunnel; capturing DNS on the underlay"
# The filter also takes UDP to port 9998, which is not DNS and not blocked:
# sent last in the window, it must be seen, or a capture that saw nothing
# would pass. 6 s: the direct attempts below take about 2.5 s.
start_capture "$NS_B" "$WORK/dns.cap" 6 "port 53 or port 853 or udp port 9998"
CAP=$CAP_PID
[ "$(resolve)" = 10.1.2.3 ] || fail "zeqtest.example did not resolve through the peer: $(resolve)"
# A program that ignores resolv.conf and asks the LAN resolver directly.
in_a python3 - $UNDER4_B <<'PY' && fail "a direct query to the LAN resolver got through"
import socket, sys
q = bytes.fromhex("abcd01000001000000000000") + b"\x07zeqtest\x07example\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
try:  # blocked, the send itself fails (EPERM): go on to the TCP attempts
    s.sendto(q, (sys.argv[1], 53))
    s.recv(512)
    sys.exit(0)
except OSError:
    pass
for port in (53, 853):
    t = socket.socket()
    t.settimeout(1)
    try:
        t.connect((sys.argv[1], port))
        sys.exit(0)
    except OSError:
        pass
sys.exit(1)
PY
in_a python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    s.sendto(b'not dns', ('$UNDER4_B', 9998))" || fail "cannot send the UDP to port 9998"
wait "$CAP" 2>/dev/null || true
seen=$(grep -cF "> $UNDER4_B.9998: " "$WORK/dns.cap" || true)
[ "$seen" -ge 1 ] || { cat "$WORK/dns.cap"; fail "the capture saw none of the 3 datagrams to port 9998 sent in its window: its 0 DNS packets prove nothing"; }
n=$(grep ' > ' "$WORK/dns.cap" | grep -cvF '.9998: ' || true)
[ "$n" = 0 ] || { cat "$WORK/dns.cap"; fail "$n DNS packets on the underlay"; }
log "0 plaintext DNS packets on the underlay ($seen of 3 non-DNS datagrams seen); the direct query was blocked"

B_ZID=$("$ZEQVPNCTL" zid <<< "$b_PUB")
python3 - "$WORK/a.db" "$B_ZID" <<'PY' || fail "the offer is not sealed in the vault"
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT purpose, bound_zid, length(ciphertext) FROM zsc_secrets WHERE name = ?", ("dns." + sys.argv[2],)).fetchone()
assert row and row[0] == "dns.resolver" and row[1] == sys.argv[2] and row[2] > 0, row
PY

log "SIGTERM restores resolv.conf"
stop_node a "$NS_A"
[ "$(cat "/etc/netns/$NS_A/resolv.conf")" = "$ORIGINAL" ] || fail "resolv.conf not restored: $(cat "/etc/netns/$NS_A/resolv.conf")"
[ ! -e "$WORK/resolv.conf.backup" ] || fail "backup left behind"
start_capture "$NS_B" "$WORK/dns2.cap" 2 "port 53 or port 853"
CAP=$CAP_PID
[ "$(resolve)" = 10.9.9.9 ] || fail "the LAN resolver does not answer after stop"
wait "$CAP" 2>/dev/null || true
[ "$(grep -c ' > ' "$WORK/dns2.cap" || true)" -ge 2 ] || fail "the capture misses plain DNS: its zero above proves nothing"
in_a nft list tables | holds -qx "table inet zeqvpn" && fail "DNS-leak rules left behind"

log "SIGKILL, then the next start restores it"
start_node a "$NS_A"
wait_status_json "s['dns']['via_peer']" || fail "A did not take B's resolver the second time"
kill -KILL "$a_PID"; wait "$a_PID" 2>/dev/null || true
in_a ip link del zeq0 2>/dev/null || true
grep -q "^nameserver $TUN4_B$" "/etc/netns/$NS_A/resolv.conf" || fail "expected the replaced file after SIGKILL"
stop_node b "$NS_B"  # no new offer, so what A's start leaves is the recovery alone
start_node a "$NS_A"
grep -q "dns: restored /etc/resolv.conf from .*, left by a zeqvpnd that did not stop cleanly" "$WORK/a.log" || fail "no recovery logged"
[ "$(cat "/etc/netns/$NS_A/resolv.conf")" = "$ORIGINAL" ] || fail "resolv.conf not recovered"
[ "$(resolve)" = 10.9.9.9 ] || fail "the DNS-leak block outlived the recovery"
log "PASS"
