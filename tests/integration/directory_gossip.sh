#!/usr/bin/env bash
# The mesh directory, embedded backend (gossip through the tunnels), with 8
# nodes on one switched underlay. Every node holds the mesh CA and its own
# certificate; nodes 2..8 are told of node 1 only (one YAML peer), node 1 of
# nobody. Checked:
#  - within 10 Zeqonds of the last start every node holds all 8 records, and
#    every node pings every other node's tunnel address (tunnels to nodes
#    other than node 1 come up on demand: the first packet is held, not lost);
#  - node 5 moves to another underlay address: its record is republished and
#    node 3 reaches it again within 3 Zeqonds and holds the new endpoint
#    within 5 (gossip may carry it through another node's tick);
#  - node 7 revoked at node 1 (ca revoke, reload): within 5 Zeqonds no node
#    holds its record or a tunnel with it, and it reaches nobody;
#  - a directory peer's tunnel goes idle after directory.idle_timeout and
#    comes back on the next packet;
#  - a node whose clock is 90 Zeqonds ahead is refused with a clear reason
#    and its record reaches no directory;
#  - a restarted node comes back with its directory from the state database
#    although its only YAML peer (node 1) is down.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mesh_nodes.sh"
N=8

log "switch and $N nodes (and a ninth, for the clock check)"
setup_switch
for i in $(seq 1 9); do
  add_node "$i"
  peers=""
  [ "$i" -ne 1 ] && peers="peers:
  - name: node1
    public_key: $PUB_1
    endpoint: \"$(under 1):$PORT\"
    allowed_ips: [$(tun 1)/32]"
  node_yaml "$i" "directory:
  idle_timeout: 12" "$peers"
done
ZID_7=$(zid_of 7)
[ -n "$ZID_7" ] || fail "no ZID in node7's certificate"

# A sync secret and uid for PLAT ticks, on every node.
export ZEQ_SYNC_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') ZEQ_SYNC_UID=gossip-test
for i in $(seq 1 $N); do start_n "$i"; done
T0=$(date +%s%N)

log "every node holds all $N records"
wait_records $N $((10 * Z_MS)) $(seq 1 $N)
ms=$(ms_since "$T0")
log "all $N directories complete ${ms} ms after the last start ($((ms / Z_MS)) Zeqonds)"
ctl n4 directory | holds -q "node8" || fail "node4's directory does not list node8"
ctl n4 --json directory | jq -e '[.records[] | select(.verification == "verified")] | length == 8' >/dev/null ||
  fail "records not all verified"

log "every node pings every other node (tunnels on demand)"
ping_all $(seq 1 $N)
ctl n3 --json peers | jq -e '[.peers[] | select(.from_directory)] | length >= 6' >/dev/null ||
  fail "node3 does not list its directory peers: $(ctl n3 peers)"

log "PLAT chains link"
# A sender's second tick is the first that links (gossip ticks go out every
# GOSSIP_TICK_EVERY_Z = 2 Zeqonds); the steps above can take less than that
# once the nodes start fast, so wait up to 10 Zeqonds for one.
linked=no
for _ in $(seq $((10 * Z_MS / 200))); do
  ctl n1 --json directory | jq -e '.plat.secret and .plat.verdicts.linked > 0' >/dev/null && { linked=yes; break; }
  sleep 0.2
done
[ "$linked" = yes ] || fail "no linked PLAT ticks at node1 in 10 Zeqonds: $(ctl n1 --json directory | jq -c .plat)"

log "node5 moves to another underlay address"
in_n 3 ping -c1 -W2 "$(tun 5)" >/dev/null || fail "node3 cannot reach node5 before the move"
ms=$(move_node 5 198.18.0.55 3)
log "node5 reached again ${ms} ms after the move"
[ "$ms" -le $((3 * Z_MS)) ] || fail "node5 reached again only after ${ms} ms (more than 3 Zeqonds)"
# Reaching node5 again takes only its handshake from the new address; its
# republished record may reach node3 through another node's gossip tick
# (every 2 Zeqonds), so it is waited for (5 Zeqonds at most), not read once.
holds_new_endpoint() {
  ctl n3 --json directory | jq -e '.records[] | select(.name == "node5") | .endpoints | index("198.18.0.55:'$PORT'")' >/dev/null
}
for _ in $(seq $((5 * Z_MS / 100))); do holds_new_endpoint && break; sleep 0.1; done
holds_new_endpoint || fail "node3 does not hold node5's new endpoint 5 Zeqonds after the move: $(ctl n3 directory)"

log "idle tunnels: node2 <-> node4 goes idle, then comes back on the next packet"
in_n 2 ping -c1 -W2 "$(tun 4)" >/dev/null || fail "node2 cannot reach node4"
ok=0
for _ in $(seq 1 60); do
  if ctl n2 --json peers | jq -e '.peers[] | select(.name == "node4") | .idle_teardowns > 0' >/dev/null; then ok=1; break; fi
  sleep 0.5
done
[ $ok = 1 ] || fail "node2's tunnel to node4 never went idle: $(ctl n2 peers)"
in_n 2 ping -c1 -W3 "$(tun 4)" >/dev/null || fail "node2 cannot reach node4 after the idle teardown"

log "node7 revoked at node1"
in_n 7 ping -c1 -W2 "$(tun 2)" >/dev/null || fail "node7 cannot reach node2 before the revocation"
"$ZEQVPNCTL" ca revoke --ca-key "$WORK/ca/ca.key" --list "$WORK/revoked.crl" --cert "$WORK/n7.crt" >/dev/null
sed -i "s|  certificate: $WORK/n1.crt|  certificate: $WORK/n1.crt\n  revocations: [$WORK/revoked.crl]|" "$WORK/n1.yaml"
ctl n1 reload >/dev/null
t_rev=$(date +%s%N)
for i in 1 2 3 4 5 6 8; do
  while ctl "n$i" --json directory | jq -e '.records[] | select(.zid == "'"$ZID_7"'")' >/dev/null; do
    [ "$(ms_since "$t_rev")" -lt $((5 * Z_MS)) ] ||
      fail "node$i still holds node7's record 5 Zeqonds after the revocation: $(ctl "n$i" directory)"
    sleep 0.1
  done
  ctl "n$i" --json peers | jq -e '[.peers[] | select(.zid == "'"$ZID_7"'" and .state == "up")] | length == 0' >/dev/null ||
    fail "node$i still has a tunnel with node7"
done
ms=$(ms_since "$t_rev")
log "node7 cut off everywhere ${ms} ms after the reload"
ctl n2 --json directory | jq -e '.revocation_lists | length == 1' >/dev/null || fail "node2 does not hold the list"
if in_n 7 ping -c1 -W2 "$(tun 2)" >/dev/null 2>&1; then fail "revoked node7 still reaches node2"; fi

log "node9, its clock 90 Zeqonds ahead, is refused"
start_n_clock_ahead 9 70s
ok=0
for _ in $(seq 1 30); do
  if grep -q "rejected_clock\|clock" "$WORK/n1.log" && ctl n1 --json status | jq -e '.handshakes.rejected.rejected_clock > 0' >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.5
done
[ $ok = 1 ] || fail "node1 did not refuse node9's handshake for its clock: $(ctl n1 --json status | jq -c .handshakes)"
grep "node9\|rejected_clock" "$WORK/n1.log" | tail -n 2
for i in 1 2 3; do
  [ "$(records_held "$i")" = 7 ] || fail "node$i holds $(records_held "$i") records (node9 must not be among them)"
done

log "node4 restarts while node1 is down: its directory comes back from the state database"
stop_node n1 "$(ns 1)"
stop_node n4 "$(ns 4)"
start_n 4
[ "$(records_held 4)" = 7 ] || fail "node4 holds $(records_held 4) records after a restart (want the 7 from its cache)"
ctl n4 --json directory | jq -e '.cache.loaded >= 6' >/dev/null || fail "node4 loaded no records from its cache"
in_n 4 ping -c1 -W3 "$(tun 6)" >/dev/null || fail "node4 cannot reach node6 with node1 down"
log "PASS"
