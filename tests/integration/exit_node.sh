#!/usr/bin/env bash
# Full tunnel through an exit node. A is the client, B the exit, C the
# "internet" (a web server and a resolver); A reaches C only through B. Plain
# routing A -> B -> C works too (A's default routes point at B, B forwards,
# C routes back), so anything that escaped the tunnel would get through and
# show: in C's server log as A's own address, and in a capture on A's
# underlay. Checked:
#  - A fetches a file from C by name through B (checksum); names resolve with
#    the exit's resolver; C sees B's address; A's underlay carries only
#    zeqvpn messages to B; strict reverse-path filtering on A does not drop
#    the replies (the conntrack mark).
#  - B is an IPv4-only exit and A has IPv6: A's IPv6 to C is rejected, not
#    leaked, and counted; after B's reload offers IPv6, it goes through B.
#  - `exit off` / `exit use`; kill_switch always and B killed: A sends
#    nothing but zeqvpn to B, and traffic resumes when B is back.
#  - Stop and SIGKILL of A: `ip rule` as before and table 23121 empty after a
#    stop, and after the next start following a SIGKILL.
source "$(dirname "$0")/lib.sh"

I4=$UNDER4_C; B4I=$UNDER4_BC  # C's and B's addresses on the B-C link
I6=2001:db8:19::1; B6I=2001:db8:19::2
TABLE=23121

setup_pair
setup_third
in_c ip -6 addr add $I6/64 dev veth1 nodad
in_b ip -6 addr add $B6I/64 dev veth1 nodad
in_a ip route add default via $UNDER4_B
in_a ip -6 route add default via $UNDER6_B
in_c ip route add 198.18.0.0/24 via $B4I
in_c ip -6 route add fd00:198:18::/64 via $B6I
in_b sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# Strict reverse-path filtering, as some distributions ship it.
in_a sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.veth0.rp_filter=1

mkdir -p "$WORK/www"
head -c 8M /dev/urandom > "$WORK/www/file.bin"
WANT=$(sha256sum < "$WORK/www/file.bin" | cut -d' ' -f1)
bg "$NS_C" "$WORK/http.log" python3 -u -m http.server --bind :: --directory "$WORK/www" 8080
bg "$NS_C" "$WORK/dnsmasq.log" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --user=root \
  --bind-interfaces --listen-address=$I4 --port=53 --address=/files.zeq.test/$I4 --address=/files.zeq.test/$I6 \
  --pid-file="$WORK/dnsmasq.pid"
# A's "LAN resolver" is B's underlay address, where nothing answers: a name
# that resolves came through the exit's resolver.
mkdir -p "/etc/netns/$NS_A"
printf 'nameserver %s\n' $UNDER4_B > "/etc/netns/$NS_A/resolv.conf"

# fetch URL [OUT]: prints the HTTP status, or "failed: ..." within 8 s.
fetch() {
  in_a python3 - "$1" "${2:-/dev/null}" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=8) as r, open(sys.argv[2], "wb") as out:
        out.write(r.read())
        print(r.status)
except Exception as e:
    print("failed:", e)
PY
}
# C's server log: the client address of the last request.
last_client() { awk '/GET/{c=$1} END{print c}' "$WORK/http.log"; }
exit_json() { ctl a --json exit status; }
wait_exit() {  # wait_exit PYTHON-EXPR on e (A's `exit status` JSON) [SECONDS]
  for _ in $(seq $(( ${2:-10} * 5 ))); do
    exit_json | python3 -c "import json,sys; e=json.load(sys.stdin); sys.exit(0 if ($1) else 1)" && return 0
    sleep 0.2
  done
  return 1
}
rules() { in_a ip -4 rule; in_a ip -6 rule; }

for _ in $(seq 30); do [ "$(fetch http://$I4:8080/)" = 200 ] && break; sleep 0.2; done
[ "$(fetch http://[$I6]:8080/)" = 200 ] || fail "plain IPv6 A -> C does not work, so a leak would not show"
[ "$(last_client)" = "$UNDER6_A" ] || fail "C does not see A's own address on the plain path: $(last_client)"
RULES_BEFORE=$(rules)

cat >> "$WORK/b.yaml" <<YAML
exit: {enabled: true, out_interface: veth1, allowed_peers: [peer], ipv6: false}
dns: {offer: $I4}
YAML
echo "exit_node: peer" >> "$WORK/a.yaml"
start_node b "$NS_B"
start_node a "$NS_A"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel A -> B"
wait_exit "e['client']['routed'] == ['ipv4'] and e['client']['ipv6_blocked'] and e['dns']['servers'] == ['$I4']" ||
  fail "A does not use B as its IPv4 exit with B's resolver: $(ctl a exit status)"
ctl a exit status
ctl a exit status | holds -q "exit: IPv4 via peer (zeq-[0-9a-f]*) (chosen by config; table $TABLE, kernel rules for ipv4)" ||
  fail "exit status: $(ctl a exit status)"
ctl b exit status | holds -q "exit role: forwarding IPv4 out of veth1 for peer" || fail "B's exit status: $(ctl b exit status)"
rules | holds -q "^23121:.*not from all fwmark 0x5a51 lookup $TABLE" || fail "no fwmark rule: $(rules)"
ctl a metrics | holds -q '^zeqvpn_exit_ipv6_blocked 1$' || fail "metrics do not show the IPv6 block"

log "fetching from C by name through B, capturing A's underlay"
start_capture "$NS_A" "$WORK/a.cap" 30 "" veth0
t0=$(date +%s%N)
got=$(fetch http://files.zeq.test:8080/file.bin "$WORK/got.bin")
t1=$(date +%s%N)
[ "$got" = 200 ] || fail "fetch through the exit: $got"
log "8 MiB by name through the exit in $(( (t1 - t0) / 1000000 )) ms (name lookup included)"
[ "$(sha256sum < "$WORK/got.bin" | cut -d' ' -f1)" = "$WANT" ] || fail "the file arrived changed"
[ "$(last_client)" = "::ffff:$B4I" ] || fail "C saw $(last_client), not the exit's address $B4I"
log "IPv6 to C while the exit carries only IPv4"
got6=$(fetch "http://[$I6]:8080/file.bin")
case $got6 in failed:*) ;; *) fail "IPv6 to C went through: $got6" ;; esac
[ "$(last_client)" = "::ffff:$B4I" ] || fail "C saw an IPv6 request from $(last_client): leaked"
blocked=$(exit_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["client"]["ipv6_blocked_packets"])')
[ "$blocked" -gt 0 ] || fail "no blocked IPv6 packet counted"
sleep 1
kill "$CAP_PID" 2>/dev/null || true
zeq=$(grep -cE "IP $UNDER4_A\.$PORT > $UNDER4_B\.$PORT: UDP|IP $UNDER4_B\.$PORT > $UNDER4_A\.$PORT: UDP" "$WORK/a.cap" || true)
leaks=$(grep -E " IP6? " "$WORK/a.cap" |
  grep -vE "IP $UNDER4_A\.$PORT > $UNDER4_B\.$PORT: UDP|IP $UNDER4_B\.$PORT > $UNDER4_A\.$PORT: UDP" |
  grep -vE "ICMP6, (neighbor|router|multicast listener)" || true)
log "underlay capture: $zeq zeqvpn packets, $(echo -n "$leaks" | grep -c . || true) others ($blocked IPv6 packets blocked)"
[ "$zeq" -gt 1000 ] || fail "the capture saw only $zeq zeqvpn packets for an 8 MB transfer"
[ -z "$leaks" ] || fail "packets outside the tunnel on A's underlay: $(echo "$leaks" | head -5)"

# B forgets A's link-layer address (as it does on its own when the entry
# ages out, 15-45 s): A must still answer B's ARP request, which strict
# reverse-path filtering would refuse with the exit's default route unless
# the request carries the daemon's mark (table arp zeqvpn).
in_b ip neigh flush dev veth0
in_b ping -c1 -W2 $UNDER4_A >/dev/null 2>&1 || true
in_b ip neigh show $UNDER4_A dev veth0 | holds -q "lladdr" ||
  fail "A no longer answers B's ARP requests behind the exit routes: $(in_b ip neigh show dev veth0)"
in_a nft list table arp zeqvpn | holds -q "meta mark set 0x00005a51" || fail "no ARP mark: $(in_a nft list ruleset)"

log "B offers IPv6 after a reload"
sed -i 's/ipv6: false/ipv6: true/' "$WORK/b.yaml"
ctl b reload >/dev/null
wait_exit "e['client']['routed'] == ['ipv4', 'ipv6'] and not e['client']['ipv6_blocked']" ||
  fail "A did not route IPv6 through B after B offered it: $(ctl a exit status)"
[ "$(fetch "http://[$I6]:8080/file.bin" "$WORK/got6.bin")" = 200 ] || fail "IPv6 through the exit failed"
[ "$(last_client)" = "$B6I" ] || fail "C saw $(last_client) for IPv6, not the exit's $B6I"
rules | holds -q "not from all fwmark 0x5a51 lookup $TABLE" || fail "rules: $(rules)"

log "exit off and exit use"
ctl a exit off | holds -q "exit: none" || fail "exit off"
[ "$(rules)" = "$RULES_BEFORE" ] || fail "rules after exit off: $(rules)"
[ "$(fetch http://$I4:8080/)" = 200 ] && [ "$(last_client)" = "::ffff:$UNDER4_A" ] || fail "without an exit A should reach C directly"
rc=0; out=$(ctl a exit use nosuchpeer 2>&1) || rc=$?
[ $rc -eq 5 ] && echo "$out" | holds -q "unknown peer 'nosuchpeer'" || fail "exit use of an unknown peer: rc $rc, $out"
ctl a exit use peer | holds -q "exit: IPv4 and IPv6 via peer" || fail "exit use: $(ctl a exit status)"
[ "$(fetch http://$I4:8080/)" = 200 ] && [ "$(last_client)" = "::ffff:$B4I" ] || fail "not through the exit after exit use"
requests=$(grep -c GET "$WORK/http.log")

log "B stops allowing A: nothing forwarded"
sed -i 's/allowed_peers: \[peer\]/allowed_peers: []/' "$WORK/b.yaml"
ctl b reload >/dev/null
wait_exit "e['client']['offered'] == []" || fail "B's withdrawal did not reach A: $(ctl a exit status)"
got=$(fetch http://$I4:8080/)
case $got in failed:*) ;; *) fail "B forwarded for a peer it no longer allows: $got" ;; esac
[ "$(last_client)" = "::ffff:$B4I" ] && [ "$(grep -c GET "$WORK/http.log")" -eq "$requests" ] || fail "C got a request: $(tail -n1 "$WORK/http.log")"
refused=$(ctl b --json exit status | python3 -c 'import json,sys; print(json.load(sys.stdin)["role"]["packets"].get("refused", 0))')
[ "$refused" -gt 0 ] || fail "B counted no refused packet"
ctl b metrics | holds -Eq '^zeqvpn_exit_packets_total\{kind="refused"\} [1-9]' || fail "B's metrics lack refused packets"
sed -i 's/allowed_peers: \[\]/allowed_peers: [peer]/' "$WORK/b.yaml"
ctl b reload >/dev/null
# Offers repeat every 13 Z; 25 s covers a lost one twice over.
wait_exit "e['client']['offered'] == ['ipv4', 'ipv6']" 25 || {
  in_a nstat -az UdpInDatagrams UdpInErrors UdpRcvbufErrors IpExtInNoRoutes TcpExtIPReversePathFilter 2>/dev/null || true
  in_a ss -uamn
  for t in /proc/$a_PID/task/*; do echo "A thread $(cat $t/comm) state $(cut -d' ' -f3 $t/stat) wchan $(cat $t/wchan)"; done
  in_a nft list ruleset
  ctl a --json status | python3 -c 'import json,sys; s=json.load(sys.stdin); print(json.dumps(s.get("peers"), indent=1)[:3000])'
  ctl b --json status | python3 -c 'import json,sys; s=json.load(sys.stdin); print("B", json.dumps(s.get("peers"), indent=1)[:3000], "drops", {k:v for k,v in s["drops"].items() if v})'
  tail -30 "$WORK/a.log"; tail -30 "$WORK/b.log"
  ctl a --json status | python3 -c 'import json,sys; s=json.load(sys.stdin); print("drops", {k:v for k,v in s["drops"].items() if v}, "rejected", s["handshakes"]["rejected"])'
  fail "B's renewed offer did not reach A"
}

log "kill_switch always, and the exit dies"
printf 'kill_switch: always\nallow_lan: true\n' >> "$WORK/a.yaml"
ctl a reload >/dev/null
# allow_lan: the main table's more specific routes (the LAN's) come first.
rules | holds -q "^23120:.*lookup main suppress_prefixlength 0" || fail "no LAN rule with allow_lan: $(rules)"
kill -KILL "$b_PID"
sleep 0.5
start_capture "$NS_A" "$WORK/dead.cap" 8 "" veth0
fetch http://$I4:8080/ >/dev/null
in_a ping -c2 -W1 $I4 >/dev/null 2>&1 && fail "ping reached C with the exit dead"
wait "$CAP_PID" 2>/dev/null || true
# What A sent (B's kernel answers the dead port with ICMP; that is B's).
others=$(grep -E " IP6? " "$WORK/dead.cap" | grep -vE " IP6? ($UNDER4_B|$UNDER6_B)[. ]" |
  grep -vE "IP $UNDER4_A\.$PORT > $UNDER4_B\.$PORT: UDP" |
  grep -vE "ICMP6, (neighbor|router|multicast listener)" || true)
[ -z "$others" ] || fail "with the exit dead A sent outside the tunnel: $(echo "$others" | head -5)"
grep -qE "IP $UNDER4_A\.$PORT > $UNDER4_B\.$PORT: UDP" "$WORK/dead.cap" || fail "A did not try to reach the exit"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 20 || fail "no tunnel after the exit came back"
for _ in $(seq 20); do [ "$(fetch http://$I4:8080/)" = 200 ] && break; sleep 0.5; done
[ "$(last_client)" = "::ffff:$B4I" ] || fail "traffic did not resume through the exit"

log "stop and SIGKILL of A leave ip rule as it was"
stop_node a "$NS_A"
[ "$(rules)" = "$RULES_BEFORE" ] || fail "rules after stop: $(rules)"
[ -z "$(in_a ip route show table $TABLE)" ] || fail "table $TABLE not empty after stop"
in_a nft list table inet zeqvpn | holds -q "ipv6_leak" && fail "the IPv6 leak block outlived the daemon"
in_a nft list table arp zeqvpn >/dev/null 2>&1 && fail "the ARP mark table outlived the daemon"
start_node a "$NS_A"
wait_exit "e['client']['installed'] != ''" || fail "no exit routing after restart"
kill -KILL "$a_PID"
wait "$a_PID" 2>/dev/null || true
rules | holds -q "lookup $TABLE" || fail "a SIGKILL should leave the rules for the next start to remove (nothing else runs then)"
start_node a "$NS_A"
grep -q "removed .* rule(s) and route(s) an earlier run left behind" "$WORK/a.log" || fail "the next start did not clean up"
wait_exit "e['client']['installed'] == 'ipv4 ipv6'" 20 || fail "no exit routing after the restart: $(ctl a exit status)"
[ "$(rules | grep -c "lookup $TABLE")" = 2 ] || fail "rules duplicated after a restart: $(rules)"
stop_node a "$NS_A"
[ "$(rules)" = "$RULES_BEFORE" ] || fail "rules after SIGKILL and restart: $(rules)"
[ -z "$(in_a ip route show table $TABLE)" ] || fail "table $TABLE not empty at the end"
log "PASS"
