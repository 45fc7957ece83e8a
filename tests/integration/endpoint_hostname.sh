#!/usr/bin/env bash
# Endpoint host names (issue 10). A knows B only as b.zeq.test:PORT. The name
# is served by a dnsmasq (from an --addn-hosts file) in a third namespace R,
# reached over A's underlay by its own veth link, never through the tunnel.
# B offers its resolver inside the tunnel, so A points its resolv.conf into
# the tunnel and blocks DNS leaving by any other interface: A's endpoint
# queries get out all the same (they carry the fwmark) and go to the server
# resolv.conf named when A started, not to the one it names now.
#  1. A resolves the name at start and handshakes; ping works; status shows
#     the name beside the address.
#  2. B's underlay address changes (new address added, hosts file
#     rewritten, dnsmasq reloaded with SIGHUP, old address removed) while
#     zeqvpnd on B restarts. A's handshakes go unanswered, it asks again
#     (through its DNS-leak block), and the tunnel comes back by A's own
#     handshake to the new address within 3 handshake retries.
#  3. A is killed and started while the name does not resolve: one warning,
#     no endpoint, retries; once the name is back in the hosts file, the
#     tunnel comes up. The servers come from the resolv.conf backup the
#     killed run left.
# B has no endpoint for A (it waits for A to call). A B that kept running
# would send from its new address (its DNS offer goes every 13 Zeqonds) and
# A would follow it by roaming, as it should; restarted, B holds no session
# and stays silent, so only A's name resolution can bring the tunnel back.
source "$(dirname "$0")/lib.sh"

NS_R=$NS_C  # the resolver's namespace; lib.sh's cleanup deletes it
R_ADDR=198.20.0.53; A_TO_R=198.20.0.1
NEW4_B=198.18.0.22
RETRY_MS=3885                # HANDSHAKE_RETRY: 5 Zeqonds
JITTER_MS=333
LIMIT_MS=$(( 3 * (RETRY_MS + JITTER_MS) + 2000 ))  # 3 retries, plus slack for a busy machine
HOSTS=$WORK/hosts

setup_namespaces
ip netns add "$NS_R"
ip link add veth1 netns "$NS_A" type veth peer name veth1 netns "$NS_R"
in_c ip link set lo up
in_a ip addr add $A_TO_R/24 dev veth1; in_c ip addr add $R_ADDR/24 dev veth1
in_a ip link set veth1 up; in_c ip link set veth1 up
# B's new address is added beside the old one; removing the old must keep it.
in_b sysctl -qw net.ipv4.conf.veth0.promote_secondaries=1

make_key a
make_key b
write_config a $TUN4_A $TUN6_A "$b_PUB" "b.zeq.test:$PORT" $TUN4_B $TUN6_B
write_config b $TUN4_B $TUN6_B "$a_PUB" "unused:1" $TUN4_A $TUN6_A
sed -i '/endpoint: "unused:1"/d' "$WORK/b.yaml"
printf 'dns:\n  offer: %s\n' $TUN4_B >> "$WORK/b.yaml"
# Each node's state (and so its resolv.conf backup) in a directory of its
# own: B, restarted below, must never take A's backup for its own and
# "restore" it.
for n in a b; do
  mkdir -p "$WORK/$n-state"
  sed -i "s|state: {database: $WORK/$n.db}|state: {database: $WORK/$n-state/$n.db}|" "$WORK/$n.yaml"
  grep -q "$WORK/$n-state/$n.db" "$WORK/$n.yaml" || fail "could not move $n's state directory"
done
# The system resolver each node sees when zeqvpnd starts (`ip netns exec`
# shows the file as /etc/resolv.conf, so the host's is never touched); the
# cleanup removes them.
mkdir -p "/etc/netns/$NS_A" "/etc/netns/$NS_B"
printf '# the ISP resolver\nnameserver %s\n' $R_ADDR > "/etc/netns/$NS_A/resolv.conf"
printf '# B needs none\n' > "/etc/netns/$NS_B/resolv.conf"

# The name's address lives in the hosts file; SIGHUP makes dnsmasq read it again.
set_b_address() {  # set_b_address ADDRESS|none
  if [ "$1" = none ]; then : > "$HOSTS"; else printf '%s b.zeq.test\n' "$1" > "$HOSTS"; fi
  kill -HUP "$DNSMASQ_PID"
  for _ in $(seq 50); do  # bounded: until dnsmasq has read the file
    [ "$(grep -c "read $HOSTS" "$WORK/dnsmasq.log" || true)" -gt "$HOSTS_READ" ] && break
    sleep 0.1
  done
  HOSTS_READ=$(grep -c "read $HOSTS" "$WORK/dnsmasq.log" || true)
}
printf '%s b.zeq.test\n' $UNDER4_B > "$HOSTS"
bg "$NS_R" "$WORK/dnsmasq.log" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --addn-hosts="$HOSTS" \
  --local=/zeq.test/ --user=root --bind-interfaces --listen-address=$R_ADDR --port=53 --log-queries --log-facility=- \
  --pid-file="$WORK/dnsmasq.pid"
DNSMASQ_PID=$BG_PID
for _ in $(seq 50); do grep -q "read $HOSTS" "$WORK/dnsmasq.log" 2>/dev/null && break; sleep 0.1; done
HOSTS_READ=$(grep -c "read $HOSTS" "$WORK/dnsmasq.log" || true)
[ "$HOSTS_READ" -ge 1 ] || fail "dnsmasq did not start: $(cat "$WORK/dnsmasq.log")"

log "1. A resolves b.zeq.test at start"
start_node b "$NS_B"
start_node a "$NS_A"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel to b.zeq.test"
grep -q "endpoint host names resolve with $R_ADDR (from /etc/resolv.conf" "$WORK/a.log" ||
  fail "A did not take its name servers from resolv.conf: $(grep 'endpoint host names' "$WORK/a.log")"
grep -q "endpoint b.zeq.test resolves to $UNDER4_B:$PORT" "$WORK/a.log" || fail "no resolution logged"
grep -q "query\[A\] b.zeq.test from $A_TO_R" "$WORK/dnsmasq.log" || fail "the query did not reach R over the underlay"
ctl a peers | holds -q "endpoint: $UNDER4_B:$PORT (b.zeq.test:$PORT)" || fail "peers: $(ctl a peers)"
ctl a --json peers | python3 -c "
import json, sys
p = json.load(sys.stdin)['peers'][0]
assert p['endpoint'] == '$UNDER4_B:$PORT' and p['endpoint_host'] == 'b.zeq.test:$PORT', p" || fail "peers --json: $(ctl a --json peers)"
# A now resolves names through B and blocks other DNS; its endpoint queries
# must still get out (they carry the mark).
for _ in $(seq 50); do grep -q "^nameserver $TUN4_B$" "/etc/netns/$NS_A/resolv.conf" && break; sleep 0.2; done
grep -q "^nameserver $TUN4_B$" "/etc/netns/$NS_A/resolv.conf" || fail "A did not take B's resolver"
in_a nft list chain inet zeqvpn dns_leak | holds -q "meta mark 0x00005a51 accept" || fail "dns_leak chain: $(in_a nft list ruleset)"
in_a python3 - $R_ADDR <<'PY' && fail "an unmarked query to R got through the DNS-leak block"
import socket, sys
q = bytes.fromhex("abcd01000001000000000000") + b"\x01b\x03zeq\x04test\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
try:
    s.sendto(q, (sys.argv[1], 53))
    s.recv(512)
    sys.exit(0)
except OSError:
    sys.exit(1)
PY

log "2. B's address changes to $NEW4_B (and zeqvpnd on B restarts)"
stop_node b "$NS_B"
in_b ip addr add $NEW4_B/24 dev veth0
set_b_address $NEW4_B
in_b ip addr del $UNDER4_B/24 dev veth0
in_b ip -4 addr show dev veth0 | holds -q "inet $NEW4_B/24" || fail "B lost its new address with the old one"
start_node b "$NS_B"
MARK=$(wc -l < "$WORK/a.log")
QUERIES=$(grep -c "query\[A\] b.zeq.test from $A_TO_R" "$WORK/dnsmasq.log" || true)
t0=$(( $(date +%s%N) / 1000000 ))
# A notices only by sending: ping until it answers (bounded).
recovered=0
while [ $(( $(date +%s%N) / 1000000 - t0 )) -lt 60000 ]; do
  if in_a ping -c1 -W1 $TUN4_B >/dev/null 2>&1; then recovered=1; break; fi
done
t_ok=$(( $(date +%s%N) / 1000000 ))
[ $recovered = 1 ] || fail "the tunnel did not come back within 60 s of B's address change"
after=$(tail -n +"$((MARK + 1))" "$WORK/a.log")
grep -q "endpoint b.zeq.test now resolves to $NEW4_B:$PORT (was $UNDER4_B:$PORT)" <<< "$after" ||
  fail "no re-resolution logged: $(grep -E 'resolv|tunnel|initiation' <<< "$after")"
# B waits to be called: the session is A's handshake to the new address.
grep -q "handshake initiation sent to $NEW4_B:$PORT" <<< "$after" || fail "A sent no handshake to $NEW4_B"
ctl a peers | holds -q "endpoint: $NEW4_B:$PORT (b.zeq.test:$PORT)" || fail "peers: $(ctl a peers)"
# From A's first initiation to the old address to the first answered ping.
ms_of() { date -d "$(cut -d' ' -f1 <<< "$1" | tr T ' ')" +%s%3N; }  # the log line's time
first_old=$(grep -m1 "handshake initiation sent to $UNDER4_B:$PORT" <<< "$after") || fail "no initiation to the old address"
old_sent=$(grep -c "handshake initiation sent to $UNDER4_B:$PORT" <<< "$after" || true)
follow_ms=$(( t_ok - $(ms_of "$first_old") ))
log "tunnel back $(( t_ok - t0 )) ms after the change; ${follow_ms} ms from A's first unanswered initiation" \
    "(limit ${LIMIT_MS} ms: 3 retries), after ${old_sent} initiations to the old address"
[ "$follow_ms" -le $LIMIT_MS ] || fail "took ${follow_ms} ms (more than 3 handshake retries) to follow the name"
[ "$old_sent" -le 3 ] || fail "$old_sent initiations went to the old address (first one and at most 2 retries)"
[ "$(grep -c "query\[A\] b.zeq.test from $A_TO_R" "$WORK/dnsmasq.log")" -gt "$QUERIES" ] || fail "no query reached R"
in_a nft list chain inet zeqvpn dns_leak | holds -q "meta mark 0x00005a51 accept" ||
  fail "A's DNS-leak block was not in place while it resolved the name again"

log "3. A starts while b.zeq.test does not resolve"
kill -KILL "$a_PID"
wait "$a_PID" 2>/dev/null || true
[ -f "$WORK/a-state/resolv.conf.backup" ] || fail "the killed run left no resolv.conf backup"
# B restarts too: with its session to A it would call A again once A stopped
# answering, and A would learn B's address from that handshake.
stop_node b "$NS_B"
start_node b "$NS_B"
set_b_address none
MARK=$(wc -l < "$WORK/a.log")
start_node a "$NS_A"
after() { tail -n +"$((MARK + 1))" "$WORK/a.log"; }
for _ in $(seq 100); do after | holds -q "does not resolve" && break; sleep 0.1; done
after | holds -q "endpoint host names resolve with $R_ADDR (from $WORK/a-state/resolv.conf.backup" ||
  fail "A did not take its name servers from the backup: $(after | grep 'endpoint host names')"
after | holds -q "endpoint b.zeq.test:$PORT does not resolve: .*asked $R_ADDR.*the peer has no endpoint until it does" ||
  fail "no clear failure line: $(after | grep -i resolv)"
ctl a peers | holds -q "endpoint: (unknown) (not resolved yet: b.zeq.test:$PORT)" || fail "peers: $(ctl a peers)"
in_a ping -c1 -W1 $TUN4_B >/dev/null 2>&1 && fail "ping answered before the name resolved"
sleep 2  # a few failed tries (backoff 1, 2 Zeqonds)
warnings=$(after | grep -c "^[0-9T:.-]* warning .*does not resolve" || true)
[ "$warnings" -eq 1 ] || fail "$warnings warnings for one name that does not resolve (want one line, then debug)"
t0=$(( $(date +%s%N) / 1000000 ))
set_b_address $NEW4_B
wait_ping "$NS_A" $TUN4_B 30 || fail "no tunnel within 30 s after the name resolved: $(after | grep -E 'resolv|tunnel')"
log "tunnel up $(( $(date +%s%N) / 1000000 - t0 )) ms after the name was added"
after | holds -q "endpoint b.zeq.test resolves to $NEW4_B:$PORT" || fail "no resolution logged"
after | holds -q "tunnel up via $NEW4_B:$PORT" || fail "the tunnel did not come up by A's handshake"
ctl a peers | holds -q "endpoint: $NEW4_B:$PORT (b.zeq.test:$PORT)" || fail "peers: $(ctl a peers)"
log "PASS"
