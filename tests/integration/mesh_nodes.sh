# Helpers for the tests with many nodes on one switched underlay (the mesh
# directory tests): sourced after lib.sh. Node i lives in namespace
# ${TAG}n$i with veth0 198.18.0.i/24 on a bridge in ${TAG}sw and tunnel
# address 10.77.0.i/24, holds the mesh CA ($WORK/ca) and its own
# certificate, and has its own key, state database and control socket (n$i).
# Every namespace is in EXTRA_NS, so lib.sh's cleanup deletes it.

NS_SW=${TAG}sw
EXTRA_NS+=("$NS_SW")
Z_MS=777
ns() { echo "${TAG}n$1"; }
in_n() { local i=$1; shift; ip netns exec "$(ns "$i")" "$@"; }
under() { echo "198.18.0.$1"; }
tun() { echo "10.77.0.$1"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# setup_switch: the bridge every node's veth joins, and the mesh CA.
setup_switch() {
  ip netns add "$NS_SW"
  ip netns exec "$NS_SW" ip link set lo up
  ip netns exec "$NS_SW" ip link add br0 type bridge
  ip netns exec "$NS_SW" ip link set br0 up
  "$ZEQVPNCTL" ca init --name testmesh --dir "$WORK/ca" >/dev/null
}

# add_node I: its namespace on the switch, its key and certificate.
add_node() {
  local i=$1 pub
  EXTRA_NS+=("$(ns "$i")")
  ip netns add "$(ns "$i")"
  own_resolv_conf "$(ns "$i")"
  ip link add veth0 netns "$(ns "$i")" type veth peer name "p$i" netns "$NS_SW"
  ip netns exec "$NS_SW" ip link set "p$i" master br0 up
  in_n "$i" ip link set lo up
  in_n "$i" ip addr add "$(under "$i")/24" dev veth0
  in_n "$i" ip link set veth0 up
  (umask 077; "$ZEQVPNCTL" genkey > "$WORK/n$i.key")
  pub=$("$ZEQVPNCTL" pubkey < "$WORK/n$i.key")
  printf -v "PUB_$i" '%s' "$pub"
  "$ZEQVPNCTL" ca sign --ca-key "$WORK/ca/ca.key" --name "node$i" --public-key "$pub" \
    --signing-key "$("$ZEQVPNCTL" pubkey --signing < "$WORK/n$i.key")" --address "$(tun "$i")/24" \
    --out "$WORK/n$i.crt" 2>/dev/null
  printf -v "FIELD_KEY_n$i" '%s' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
}

# node_yaml I DIRECTORY_YAML [PEERS_YAML]: writes $WORK/n$I.yaml.
node_yaml() {
  cat > "$WORK/n$1.yaml" <<YAML
interface:
  name: zeq0
  addresses: [$(tun "$1")/24]
  listen_port: $PORT
  identity_key_file: $WORK/n$1.key
log_level: debug
mesh:
  ca: $WORK/ca/ca.pub
  certificate: $WORK/n$1.crt
$2
control: {socket: $WORK/n$1.sock}
state: {database: $WORK/n$1.db}
${3:-}
YAML
}

start_n() { start_node "n$1" "$(ns "$1")"; }
zid_of() { "$ZEQVPNCTL" cert show "$WORK/n$1.crt" | awk '$1 == "zid" {print $2}'; }
records_held() { ctl "n$1" --json directory | jq -r '.records_held'; }

# wait_records COUNT SECONDS_MS NODES...: every node holds COUNT records
# within SECONDS_MS milliseconds (from T0, which the caller sets).
wait_records() {
  local want=$1 limit=$2 i
  shift 2
  for i in "$@"; do
    while [ "$(records_held "$i")" != "$want" ]; do
      [ "$(ms_since "$T0")" -lt "$limit" ] ||
        fail "node$i holds $(records_held "$i") records, not $want, after $(ms_since "$T0") ms: $(ctl "n$i" directory)"
      sleep 0.1
    done
  done
}

# ping_all NODES...: each node pings every other once (one echo, sent once:
# answered only if the first packet was held for the handshake, not dropped).
ping_all() {
  local i j k pids=()
  for i in "$@"; do
    (
      for j in "$@"; do
        [ "$i" = "$j" ] && continue
        in_n "$i" ping -c1 -W3 "$(tun "$j")" >/dev/null 2>&1 || { echo "node$i -> node$j"; exit 1; }
      done
    ) > "$WORK/ping$i.out" 2>&1 &
    pids+=($!)
  done
  for k in "${!pids[@]}"; do wait "${pids[$k]}" || fail "no answer to the first ping: $(cat "$WORK"/ping*.out)"; done
}

# move_node I NEW_ADDR FROM: node I's underlay address becomes NEW_ADDR (the
# new one added first and promoted when the old one goes, else the kernel
# drops it with the primary address of its subnet); then node FROM pings it
# until it answers. Prints the milliseconds that took (fails after 3 Zeqonds
# and 2 s more).
move_node() {
  local i=$1 addr=$2 from=$3 t
  in_n "$i" sysctl -qw net.ipv4.conf.veth0.promote_secondaries=1
  in_n "$i" ip addr add "$addr/24" dev veth0
  in_n "$i" ip addr del "$(under "$i")/24" dev veth0
  t=$(date +%s%N)
  until in_n "$from" ping -c1 -W1 "$(tun "$i")" >/dev/null 2>&1; do
    # stderr: the caller captures stdout
    [ "$(ms_since "$t")" -lt $((3 * Z_MS + 2000)) ] || fail "node$from cannot reach node$i after its move to $addr" >&2
  done
  ms_since "$t"
}

# start_n_clock_ahead I OFFSET: node I with its wall clock OFFSET ahead
# (libfaketime, e.g. 70s = 90 Zeqonds; its monotonic clock is left alone, so
# only Zeqond stamps move, not timers).
start_n_clock_ahead() {
  local lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
  [ -f "$lib" ] || fail "libfaketime missing (Debian package faketime; scripts/install-deps.sh installs it)"
  cat > "$WORK/faked-zeqvpnd" <<SH
#!/bin/sh
exec env LD_PRELOAD=$lib FAKETIME="+$2" FAKETIME_DONT_FAKE_MONOTONIC=1 $ZEQVPND "\$@"
SH
  chmod +x "$WORK/faked-zeqvpnd"
  ZEQVPND=$WORK/faked-zeqvpnd start_n "$1"
}
