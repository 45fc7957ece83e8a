#!/usr/bin/env bash
# No tunnel without membership: a node with the wrong mesh secret, and a node
# whose key is not listed, never get a session; the refusals are counted.
source "$(dirname "$0")/lib.sh"

setup_pair
WRONG_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

log "wrong mesh secret on B"
start_node a "$NS_A"
start_node b "$NS_B" "$WRONG_SECRET"
if wait_ping "$NS_A" $TUN4_B 4; then fail "A reached B although B has another mesh secret"; fi
# A's own initiation is retried every HANDSHAKE_RETRY (5 Z + jitter, about
# 4.2 s): give it three retry periods to be answered by B and refused by A.
wait_status a 'bad_noise=' 13 || { echo "$LAST_STATUS" >&2; fail "A did not count the failed handshakes"; }
echo "$LAST_STATUS" >&2
echo "$LAST_STATUS" | holds -q 'peer peer.*: down' || fail "A reports a session with the wrong-secret node"
echo "$LAST_STATUS" | holds -q 'handshakes completed 0' || fail "A counts a completed handshake with the wrong-secret node"
stop_node b "$NS_B"

log "unlisted key on B"
make_key stranger
write_config b $TUN4_B $TUN6_B "$a_PUB" "$UNDER4_A:$PORT" $TUN4_A $TUN6_A
sed -i -e "s|$WORK/b.key|$WORK/stranger.key|" -e "s|$WORK/b.db|$WORK/stranger.db|" "$WORK/b.yaml"
start_node b "$NS_B"
if wait_ping "$NS_B" $TUN4_A 4; then fail "a node with an unlisted key reached A"; fi
wait_status a 'unknown_peer=' 13 || { echo "$LAST_STATUS" >&2; fail "A did not count the unknown key"; }
echo "$LAST_STATUS" >&2
echo "$LAST_STATUS" | holds -q 'peer peer.*: down' || fail "A reports a session with an unlisted key"
log "PASS"
