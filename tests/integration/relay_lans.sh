# Helpers for the relay tests and bench: two LANs (bridges in their own
# namespaces), A (and C) on LAN 1, B on LAN 2, relays R1 and R2 on both with
# forwarding off, so A and B reach each other only through a relay's zeqvpn
# role. Sourced after lib.sh; every namespace is in EXTRA_NS (lib.sh's
# cleanup deletes it).

NS_R1=${TAG}r1; NS_R2=${TAG}r2; NS_L1=${TAG}l1; NS_L2=${TAG}l2
EXTRA_NS+=("$NS_R1" "$NS_R2" "$NS_L1" "$NS_L2")
in_ns() { local n=$1; shift; ip netns exec "$n" "$@"; }
A1=198.18.1.1; B2=198.18.2.2; R1_1=198.18.1.11; R1_2=198.18.2.11; R2_1=198.18.1.12; R2_2=198.18.2.12
C1=198.18.1.3  # C, a node no relay knows, on LAN 1 with A

PORTS=0
join() {  # join NETNS IFNAME LAN-NETNS ADDRESS
  PORTS=$((PORTS + 1))
  ip link add "$2" netns "$1" type veth peer name "port$PORTS" netns "$3"
  in_ns "$3" ip link set "port$PORTS" master br0 up
  in_ns "$1" ip addr add "$4/24" dev "$2"
  in_ns "$1" ip link set "$2" up
}

# make_lans NETNS...: the two LAN bridges, and the given namespaces (with
# their own resolv.conf and loopback up), not yet joined to either.
make_lans() {
  for n in "$NS_L1" "$NS_L2"; do
    ip netns add "$n"
    in_ns "$n" ip link add br0 type bridge
    in_ns "$n" ip link set br0 up
  done
  for n in "$@"; do
    ip netns add "$n"
    own_resolv_conf "$n"
    in_ns "$n" ip link set lo up
  done
}

# setup_relay_lans: two LANs as bridges; each node's veth joins one (A, C on LAN 1, B on LAN
# 2) or both (the relays, one veth per LAN).
setup_relay_lans() {
  make_lans "$NS_A" "$NS_B" "$NS_C" "$NS_R1" "$NS_R2"
  join "$NS_A" veth0 "$NS_L1" $A1
  join "$NS_C" veth0 "$NS_L1" $C1
  join "$NS_B" veth0 "$NS_L2" $B2
  join "$NS_R1" veth0 "$NS_L1" $R1_1
  join "$NS_R1" veth1 "$NS_L2" $R1_2
  join "$NS_R2" veth0 "$NS_L1" $R2_1
  join "$NS_R2" veth1 "$NS_L2" $R2_2
  for r in "$NS_R1" "$NS_R2"; do in_ns "$r" sysctl -qw net.ipv4.ip_forward=0; done
  in_a ping -c1 -W1 $B2 >/dev/null 2>&1 && fail "A reaches B's underlay directly: the test would prove nothing"
  in_a ping -c1 -W1 $R1_1 >/dev/null || fail "A does not reach R1"
  in_b ping -c1 -W1 $R1_2 >/dev/null || fail "B does not reach R1"
}

# relay_yaml NAME PRICE METADATA_LOG PEERS_YAML [EXTRA]: $WORK/NAME.yaml of a
# relay (no interface; limits high enough never to cap a test).
relay_yaml() {
  cat > "$WORK/$1.yaml" <<YAML
role: relay
interface: {listen_port: $PORT, identity_key_file: $WORK/$1.key}
log_level: debug
relay:
  price: {per_gb: $2}
  region: lab-$1
  metadata_log: $3
  metadata_log_file: $WORK/$1-metadata.log
  limits: {client_bytes_per_s: 1000000000, pair_bytes_per_s: 1000000000}
peers:
$4
control: {socket: $WORK/$1.sock}
state: {database: $WORK/$1.db}
${5:-}
YAML
}

# node_yaml NAME TUN4 PEERS_YAML RELAYS_YAML [EXTRA]: $WORK/NAME.yaml of a
# node (mtu 1384: a relayed message is 32 bytes longer and still fits 1500).
node_yaml() {
  cat > "$WORK/$1.yaml" <<YAML
interface:
  name: zeq0
  addresses: [$2/24]
  listen_port: $PORT
  identity_key_file: $WORK/$1.key
  mtu: 1384
log_level: debug
peers:
$3
relays:
$4
control: {socket: $WORK/$1.sock}
state: {database: $WORK/$1.db}
${5:-}
YAML
}

# start_relay NAME NETNS: a relay has no interface; ready when its control
# socket answers.
start_relay() {
  local field_var="FIELD_KEY_$1"
  ip netns exec "$2" env ZEQ_MESH_SECRET="$MESH_SECRET" ZEQ_FIELD_KEY="${!field_var}" \
    "$ZEQVPND" --config "$WORK/$1.yaml" >> "$WORK/$1.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  printf -v "${1}_PID" '%s' "$pid"
  for _ in $(seq 100); do
    ctl "$1" status >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || fail "relay $1 exited during start-up: $(tail -n 3 "$WORK/$1.log")"
    sleep 0.05
  done
  fail "relay $1 did not open its control socket within 5 s"
}
peers_json() { ctl "$1" --json peers; }
peer_field() {  # peer_field NODE PEER-NAME PYTHON-EXPR-ON-p
  peers_json "$1" | python3 -c "import json,sys
p=[x for x in json.load(sys.stdin)['peers'] if x['name']=='$2'][0]
print($3)"
}
wait_for() {  # wait_for SECONDS COMMAND...: true once COMMAND succeeds
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
  shift
  until "$@"; do
    [ "$(date +%s%N)" -lt $deadline ] || return 1
    sleep 0.2
  done
}

path_is() { [ "$(peer_field "$1" "$2" "p['path']")" = "$3" ]; }
relay_up() { ctl "$1" relays | grep -q "relay $2 .*: up, rtt"; }
