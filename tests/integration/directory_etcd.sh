#!/usr/bin/env bash
# The mesh directory, etcd backend: the same 8 nodes, no YAML peers at all,
# through a 3-member etcd cluster (Debian's etcd-server, started here, its
# members on the switch's own addresses). Checked:
#  - within 10 Zeqonds every node holds all 8 records and pings every other;
#  - one etcd member killed mid-test changes nothing: a node that moves is
#    reached again within 3 Zeqonds, every directory stays complete;
#  - every member killed: tunnels stay up and the directory stays; a new node
#    started then waits (nobody learns it, it learns nobody);
#  - members back: within 5 Zeqonds the new node is in every directory and
#    reaches node 1;
#  - a node whose clock is 90 Zeqonds ahead puts its record into etcd, and
#    every node refuses it (from_the_future) with a clear reason;
#  - a node stopped cleanly leaves every directory (its lease revoked).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mesh_nodes.sh"
N=8
command -v etcd >/dev/null || fail "etcd missing (Debian package etcd-server; scripts/install-deps.sh installs it)"

log "switch, a 3-member etcd cluster on it, $N nodes"
setup_switch
ETCD_IP=(198.18.0.201 198.18.0.202 198.18.0.203)
cluster=""
for m in 0 1 2; do
  ip netns exec "$NS_SW" ip addr add "${ETCD_IP[$m]}/24" dev br0
  cluster+="${cluster:+,}m$m=http://${ETCD_IP[$m]}:2380"
done
start_member() {
  local m=$1
  bg "$NS_SW" "$WORK/etcd$m.log" etcd --name "m$m" --data-dir "$WORK/etcd$m" \
    --listen-client-urls "http://${ETCD_IP[$m]}:2379" --advertise-client-urls "http://${ETCD_IP[$m]}:2379" \
    --listen-peer-urls "http://${ETCD_IP[$m]}:2380" --initial-advertise-peer-urls "http://${ETCD_IP[$m]}:2380" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$TAG" \
    --heartbeat-interval 50 --election-timeout 500
  printf -v "ETCD_PID_$m" '%s' "$BG_PID"
}
ENDPOINTS="http://${ETCD_IP[0]}:2379,http://${ETCD_IP[1]}:2379,http://${ETCD_IP[2]}:2379"
etcd_healthy() {
  ip netns exec "$NS_SW" etcdctl --endpoints "$1" --command-timeout=1s endpoint health >/dev/null 2>&1
}
for m in 0 1 2; do start_member $m; done
for _ in $(seq 100); do etcd_healthy "$ENDPOINTS" && break; sleep 0.1; done
etcd_healthy "$ENDPOINTS" || fail "the etcd cluster did not become healthy: $(tail -n 5 "$WORK/etcd0.log")"

DIRECTORY_YAML="directory:
  backend: etcd
  endpoints: [http://${ETCD_IP[0]}:2379, http://${ETCD_IP[1]}:2379, http://${ETCD_IP[2]}:2379]
  prefix: /zeqvpn/$TAG
  lease_ttl: 6"
for i in $(seq 1 10); do
  add_node "$i"
  node_yaml "$i" "$DIRECTORY_YAML"
done
for i in $(seq 1 $N); do start_n "$i"; done
T0=$(date +%s%N)
log "every node holds all $N records"
wait_records $N $((10 * Z_MS)) $(seq 1 $N)
log "all $N directories complete $(ms_since "$T0") ms after the last start"
ctl n2 --json directory | jq -e '.backend == "etcd" and .etcd.connected and (.gossip | length) == 0' >/dev/null ||
  fail "node2's directory is not served by etcd alone: $(ctl n2 --json directory | jq -c '{backend, etcd}')"
log "every node pings every other node (tunnels on demand)"
ping_all $(seq 1 $N)

log "one etcd member killed (the one every node talks to first): nothing changes"
kill -KILL "$ETCD_PID_0"
# Tunnels and directories do not notice; etcd itself may need an election
# (writes wait for a leader) before a change can go through it.
in_n 2 ping -c1 -W2 "$(tun 6)" >/dev/null || fail "node2 cannot reach node6 just after the member died"
for _ in $(seq 100); do etcd_healthy "http://${ETCD_IP[1]}:2379,http://${ETCD_IP[2]}:2379" && break; sleep 0.1; done
ms=$(move_node 5 198.18.0.55 3)
log "node5 reached again ${ms} ms after the move, one member down"
[ "$ms" -le $((3 * Z_MS)) ] || fail "node5 reached again only after ${ms} ms (more than 3 Zeqonds)"
for i in $(seq 1 $N); do [ "$(records_held "$i")" = $N ] || fail "node$i holds $(records_held "$i") records"; done

log "every member killed: tunnels and directories stay, a new node waits"
kill -KILL "$ETCD_PID_1" "$ETCD_PID_2"
start_n 9
sleep $(( 4 * Z_MS / 1000 + 1 ))
in_n 2 ping -c1 -W2 "$(tun 6)" >/dev/null || fail "node2 cannot reach node6 with etcd down"
in_n 7 ping -c1 -W2 "$(tun 1)" >/dev/null || fail "node7 cannot reach node1 with etcd down"
for i in 1 2 3; do [ "$(records_held "$i")" = $N ] || fail "node$i holds $(records_held "$i") records with etcd down"; done
[ "$(records_held 9)" -le 1 ] || fail "node9 learnt $(records_held 9) records with etcd down"
ctl n9 --json directory | jq -e '.etcd.connected == false' >/dev/null || fail "node9 says etcd is connected"

log "members back: resync"
for m in 0 1 2; do start_member $m; done
for _ in $(seq 100); do etcd_healthy "$ENDPOINTS" && break; sleep 0.1; done
T0=$(date +%s%N)
wait_records $((N + 1)) $((5 * Z_MS)) $(seq 1 9)
log "node9 in every directory $(ms_since "$T0") ms after the cluster was healthy again"
in_n 9 ping -c1 -W3 "$(tun 1)" >/dev/null || fail "node9 cannot reach node1"

log "node10, its clock 90 Zeqonds ahead: its record refused everywhere"
start_n_clock_ahead 10 70s
ok=0
for _ in $(seq 40); do
  if ctl n1 --json directory | jq -e '.offers.from_the_future > 0' >/dev/null; then ok=1; break; fi
  sleep 0.2
done
[ $ok = 1 ] || fail "node1 did not refuse node10's record: $(ctl n1 --json directory | jq -c .offers)"
grep "refused (from_the_future)" "$WORK/n1.log" | tail -n 1
grep -q "check both nodes' clocks (NTP)" "$WORK/n1.log" || fail "node1's log does not say what to check"
[ "$(records_held 1)" = $((N + 1)) ] || fail "node1 holds $(records_held 1) records (node10 must not be among them)"

log "node4 stops cleanly: it leaves every directory"
stop_node n4 "$(ns 4)"
T0=$(date +%s%N)
wait_records $N $((5 * Z_MS)) 1 2 3 5
log "node4 gone from the directories $(ms_since "$T0") ms after it stopped"
log "PASS"
