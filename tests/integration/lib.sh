# Shared helpers for the netns integration tests. Each test sources this,
# builds its own namespaces (names unique to the test's PID), and the EXIT
# trap kills the processes it started (by PID) and deletes the namespaces,
# whether the test passed or failed. Traffic stays inside those namespaces.
set -euo pipefail

BUILD_DIR=${ZEQ_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build" && pwd)}
ZEQVPND=$BUILD_DIR/daemon/zeqvpnd
ZEQVPNCTL=$BUILD_DIR/cli/zeqvpnctl
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TAG=zq$$
NS_A=${TAG}a
NS_B=${TAG}b
NS_C=${TAG}c   # a third party, for the tests that need one (setup_third)
WORK=$(mktemp -d /tmp/zeqvpn-it.XXXXXX)
PIDS=()
EXTRA_NS=()    # more namespaces a test made (deleted by the cleanup too)
MESH_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
FIELD_KEY_a=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
FIELD_KEY_b=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# Underlay (veth) and tunnel addressing, all inside our namespaces.
UNDER4_A=198.18.0.1; UNDER4_B=198.18.0.2
UNDER6_A=fd00:198:18::1; UNDER6_B=fd00:198:18::2
TUN4_A=10.77.0.1; TUN4_B=10.77.0.2
TUN6_A=fd77::1; TUN6_B=fd77::2
PORT=51820

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }

# holds GREP-ARGS...: grep on the whole of stdin. Tests write `cmd | holds -q
# PATTERN`, not `cmd | holds -q PATTERN`: grep -q stops at the first match,
# and under pipefail a cmd still writing then dies of SIGPIPE and fails the
# check that matched.
holds() { local input; input=$(cat); grep "$@" <<< "$input"; }
fail() { log "FAIL: $*"; exit 1; }

cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [ $rc -ne 0 ]; then
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "---- $f"; tail -n 40 "$f"; }; done
  fi
  # Anything still running inside our namespaces, by PID, before deleting them.
  for ns in "$NS_A" "$NS_B" "$NS_C" "${EXTRA_NS[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  for ns in "${EXTRA_NS[@]}"; do
    ip netns del "$ns" 2>/dev/null
    rm -rf "/etc/netns/$ns"
  done
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
  ip netns del "$NS_C" 2>/dev/null
  # Per-namespace files (resolv.conf) that `ip netns exec` mounts over /etc.
  rm -rf "/etc/netns/$NS_A" "/etc/netns/$NS_B" "/etc/netns/$NS_C"
  # ZEQ_KEEP_WORK=1 keeps the logs and files for a look after a failure.
  if [ "${ZEQ_KEEP_WORK:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT

# bg NETNS OUTFILE command...: runs command in the namespace in the
# background with stdout to OUTFILE; BG_PID is the command's own PID (ip netns
# exec execs it) and is killed by the cleanup.
bg() {
  local ns=$1 out=$2
  shift 2
  ip netns exec "$ns" "$@" > "$out" 2>&1 &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }
in_c() { ip netns exec "$NS_C" "$@"; }

# own_resolv_conf NETNS: `ip netns exec` shows the namespace this file as
# /etc/resolv.conf, so no daemon of a test ever reads or rewrites the host's
# (a resolv.conf backup in a shared state directory would otherwise be
# "restored" onto it). Tests that care write their own content over it.
own_resolv_conf() {
  mkdir -p "/etc/netns/$1"
  printf '# zeqvpn test namespace %s\nnameserver 192.0.2.53\n' "$1" > "/etc/netns/$1/resolv.conf"
}

# Two namespaces joined by a veth pair, IPv4 and IPv6 on the underlay.
setup_namespaces() {
  ip netns add "$NS_A"
  ip netns add "$NS_B"
  own_resolv_conf "$NS_A"
  own_resolv_conf "$NS_B"
  ip link add veth0 netns "$NS_A" type veth peer name veth0 netns "$NS_B"
  in_a ip link set lo up; in_b ip link set lo up
  in_a ip addr add $UNDER4_A/24 dev veth0; in_b ip addr add $UNDER4_B/24 dev veth0
  in_a ip addr add $UNDER6_A/64 dev veth0 nodad; in_b ip addr add $UNDER6_B/64 dev veth0 nodad
  in_a ip link set veth0 up; in_b ip link set veth0 up
}

# A third namespace C on its own veth link to B (veth1 in both):
# $UNDER4_C <-> $UNDER4_BC. C reaches only B.
UNDER4_C=198.19.0.1; UNDER4_BC=198.19.0.2
setup_third() {
  ip netns add "$NS_C"
  own_resolv_conf "$NS_C"
  ip link add veth1 netns "$NS_C" type veth peer name veth1 netns "$NS_B"
  in_c ip link set lo up
  in_c ip addr add $UNDER4_C/24 dev veth1; in_b ip addr add $UNDER4_BC/24 dev veth1
  in_c ip link set veth1 up; in_b ip link set veth1 up
}

# make_key NAME: writes $WORK/NAME.key (0600) and sets NAME_PUB.
make_key() {
  (umask 077; "$ZEQVPNCTL" genkey > "$WORK/$1.key")
  printf -v "${1}_PUB" '%s' "$("$ZEQVPNCTL" pubkey < "$WORK/$1.key")"
}

# write_config NAME TUN4 TUN6 PEER_PUB PEER_ENDPOINT PEER_TUN4 PEER_TUN6 [extra peer yaml]
write_config() {
  cat > "$WORK/$1.yaml" <<YAML
interface:
  name: zeq0
  addresses: [$2/24, $3/64]
  listen_port: $PORT
  identity_key_file: $WORK/$1.key
log_level: debug
peers:
  - name: peer
    public_key: $4
    endpoint: "$5"
    allowed_ips: [$6/32, $7/128]
control: {socket: $WORK/$1.sock}
state: {database: $WORK/$1.db}
YAML
}

# start_node NAME NETNS [SECRET]: runs zeqvpnd in the namespace; sets NAME_PID.
# Each node has its own ZEQ_FIELD_KEY, state database and control socket.
start_node() {
  local secret=${3:-$MESH_SECRET}
  local field_var="FIELD_KEY_$1"
  ip netns exec "$2" env ZEQ_MESH_SECRET="$secret" ZEQ_FIELD_KEY="${!field_var:-$FIELD_KEY_a}" \
    "$ZEQVPND" --config "$WORK/$1.yaml" >> "$WORK/$1.log" 2>&1 &
  await_started "$1" "$2" $!
}

# await_started NAME NETNS PID: records PID as NAME_PID (killed at exit) and
# waits until the daemon's control socket $WORK/NAME.sock answers (it opens
# after the interface) and zeq0 exists; fails if it exits or takes over 5 s.
await_started() {
  local pid=$3
  PIDS+=("$pid")
  printf -v "${1}_PID" '%s' "$pid"
  for _ in $(seq 100); do
    "$ZEQVPNCTL" --socket "$WORK/$1.sock" status >/dev/null 2>&1 &&
      ip netns exec "$2" ip link show zeq0 >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || fail "zeqvpnd $1 exited during start-up: $(tail -n 3 "$WORK/$1.log")"
    sleep 0.05
  done
  fail "zeqvpnd $1 did not create its interface and control socket within 5 s"
}

# control_group_for NAME: NAME's control socket admits group `users` (gid
# 100 on Debian) besides root, in a directory other users may traverse, so
# only the daemon's own check stands between them and the socket. Sets
# CTL_GROUP. Call before start_node NAME.
control_group_for() {
  CTL_GROUP=users
  getent group "$CTL_GROUP" >/dev/null || fail "group $CTL_GROUP missing on this machine"
  chmod 711 "$WORK"
  sed -i "s|control: {socket: $WORK/$1.sock}|control: {socket: $WORK/$1.sock, group: $CTL_GROUP}|" "$WORK/$1.yaml"
}

# ctl NAME ARGS...: zeqvpnctl against NAME's control socket.
ctl() {
  local name=$1
  shift
  "$ZEQVPNCTL" --socket "$WORK/$name.sock" "$@"
}

# stop_node NAME NETNS: SIGTERM, expect exit 0 and the interface gone.
stop_node() {
  local pid_var="${1}_PID"
  local pid=${!pid_var}
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "zeqvpnd $1 exited with $rc after SIGTERM"
  if ip netns exec "$2" ip link show zeq0 >/dev/null 2>&1; then fail "interface zeq0 still exists after $1 stopped"; fi
}

# Standard pair: A and B know each other; A has B's endpoint and B has A's.
setup_pair() {
  setup_namespaces
  make_key a
  make_key b
  write_config a $TUN4_A $TUN6_A "$b_PUB" "$UNDER4_B:$PORT" $TUN4_B $TUN6_B
  write_config b $TUN4_B $TUN6_B "$a_PUB" "$UNDER4_A:$PORT" $TUN4_A $TUN6_A
}

# transfer DEST BYTES: a TCP transfer A -> B of BYTES pseudo-random bytes
# (tcp_transfer.py), failing unless B received them all with the same SHA-256.
transfer() {
  bg "$NS_B" "$WORK/recv.out" python3 "$HERE/tcp_transfer.py" recv 5001
  local rpid=$BG_PID
  # Connect only once it listens: a fixed pause lost that race under load
  # (Connection refused in CI with the Python receiver still starting).
  local listening=
  for _ in $(seq 100); do
    in_b ss -Hltn 'sport = :5001' 2>/dev/null | holds -q LISTEN && { listening=1; break; }
    kill -0 "$rpid" 2>/dev/null || fail "receiver exited before listening: $(cat "$WORK/recv.out")"
    sleep 0.1
  done
  [ -n "$listening" ] || fail "receiver was not listening on port 5001 within 10 s"
  in_a python3 "$HERE/tcp_transfer.py" send "$1" 5001 "$2" "seed-$2" > "$WORK/send.out" || fail "sender failed"
  wait "$rpid" || fail "receiver failed"
  read -r sent_hash sent_bytes rate < "$WORK/send.out"
  read -r recv_hash recv_bytes < "$WORK/recv.out"
  log "sent $sent_bytes bytes ($rate), received $recv_bytes"
  [ "$recv_bytes" = "$2" ] || fail "received $recv_bytes bytes, expected $2"
  [ "$sent_hash" = "$recv_hash" ] || fail "SHA-256 differs: sent $sent_hash received $recv_hash"
}

# wait_ping NETNS ADDR SECONDS: true once one echo is answered.
wait_ping() {
  local deadline=$(( $(date +%s%N) + $3 * 1000000000 ))
  while [ "$(date +%s%N)" -lt $deadline ]; do
    ip netns exec "$1" ping -c1 -W1 -i0.2 "$2" >/dev/null 2>&1 && return 0
  done
  return 1
}

# wait_status NAME PATTERN SECONDS: true once status_of NAME matches the
# extended regex PATTERN; the last status is left in $LAST_STATUS.
wait_status() {
  local deadline=$(( $(date +%s%N) + $3 * 1000000000 ))
  while :; do
    LAST_STATUS=$(status_of "$1")
    echo "$LAST_STATUS" | holds -Eq "$2" && return 0
    [ "$(date +%s%N)" -lt $deadline ] || return 1
    sleep 0.5
  done
}

# status NAME: asks the daemon for its status line (SIGUSR1) and prints it.
status_of() {
  local pid_var="${1}_PID"
  local before
  before=$(grep -c 'status:' "$WORK/$1.log" || true)
  kill -USR1 "${!pid_var}"
  for _ in $(seq 50); do
    [ "$(grep -c 'status:' "$WORK/$1.log" || true)" -gt "$before" ] && break
    sleep 0.05
  done
  awk '/status:/{buf=$0; while ((getline line) > 0 && line ~ /^  peer/) buf=buf "\n" line; last=buf} END{print last}' "$WORK/$1.log"
}

# segment_before_veth: with UDP GSO a run of datagrams crosses a veth pair
# as one buffer, and a capture would see one long datagram no wire ever
# carries; without the veth's UDP segmentation feature the kernel segments
# in software before the capture point, which shows what a wire would.
segment_before_veth() {
  local ns
  for ns in "$NS_A" "$NS_B" "${NS_C:-}"; do
    [ -n "$ns" ] && ip netns exec "$ns" ethtool -K veth0 tx-udp-segmentation off >/dev/null 2>&1 || true
  done
}

# start_capture NETNS OUTFILE SECONDS FILTER [INTERFACE]: tcpdump on the
# namespace's INTERFACE (veth0 by default) for SECONDS (from its launch),
# line-buffered text to OUTFILE; returns once it is listening (its "listening
# on" line, on stderr, goes to OUTFILE too), so whatever is sent afterwards is
# in the window. CAP_PID is the capture's PID.
start_capture() {
  segment_before_veth
  bg "$1" "$2" timeout "$3" tcpdump -i "${5:-veth0}" -n -l "$4"
  CAP_PID=$BG_PID
  wait_listening "$2" "$CAP_PID"
}

# wait_listening LOGFILE PID: returns once the tcpdump with that PID, whose
# stderr goes to LOGFILE, says it is listening (at most 5 s).
wait_listening() {
  for _ in $(seq 50); do
    grep -q 'listening on' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || fail "tcpdump exited before listening: $(cat "$1")"
    sleep 0.1
  done
  fail "tcpdump was not listening within 5 s"
}
