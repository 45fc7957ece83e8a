#!/usr/bin/env bash
# The data plane with offloads (TUN TSO + virtio-net header, UDP GSO/GRO) and
# without (interface.offloads: off): for each, the first 10 pings after both
# nodes start are all answered (the first one starts the handshake and is
# held until it completes), a 1 GB TCP transfer A -> B arrives with the same
# SHA-256, a UDP flood of small datagrams gets through, and the offload
# counters show which path carried it (super-packets split and joined, GSO
# sends and GRO buffers with offloads; none without).
source "$(dirname "$0")/lib.sh"

TRANSFER_BYTES=${TRANSFER_BYTES:-1073741824}

setup_pair

# offload NAME WHAT: the zeqvpn_offload_total counter WHAT of node NAME.
offload() {
  ctl "$1" metrics | awk -v w="what=\"$2\"" 'index($0, "zeqvpn_offload_total{" w "}") == 1 {print $2}'
}

run_mode() {  # run_mode auto|off
  local mode=$1
  for n in a b; do
    sed -i '/^  offloads:/d' "$WORK/$n.yaml"
    sed -i "s|^  listen_port: $PORT|  listen_port: $PORT\n  offloads: $mode|" "$WORK/$n.yaml"
  done
  start_node b "$NS_B"
  start_node a "$NS_A"
  local pings
  pings=$(in_a ping -c 10 -i 0.05 -W 2 $TUN4_B) || true
  echo "$pings" | holds -q ' 10 received' || fail "$mode: not all of the first 10 pings were answered: $(echo "$pings" | tail -n 2)"
  log "$mode: first 10 pings after start all answered ($(echo "$pings" | awk -F/ '/rtt/{print $5}') ms average)"
  ctl a status | holds -q "offloads: " || fail "$mode: status shows no offloads line"
  log "$mode: $(ctl a status | grep 'offloads:' | sed 's/^ *//')"

  transfer $TUN4_B "$TRANSFER_BYTES"
  transfer $TUN6_B 104857600
  # Small UDP datagrams, for the path that cannot be joined into
  # super-packets: one second at a rate the tunnel carries.
  bg "$NS_B" "$WORK/iperf-s.log" iperf3 -s -1 -p 5201
  sleep 0.3
  in_a iperf3 -c $TUN4_B -p 5201 -u -l 64 -b 20M -t 1 -J > "$WORK/iperf-u.json" || fail "$mode: iperf3 UDP failed"
  local udp
  udp=$(python3 -c "import json; e=json.load(open('$WORK/iperf-u.json'))['end']['sum']; print(e['packets'] - e['lost_packets'])")
  [ "$udp" -gt 1000 ] || fail "$mode: only $udp small UDP datagrams arrived"
  log "$mode: $udp 64-byte UDP datagrams arrived"

  local split joined gso gro
  split=$(offload a tun_segments_split); joined=$(offload b tun_segments_joined)
  gso=$(offload a udp_gso_datagrams); gro=$(offload b udp_gro_datagrams)
  log "$mode: A split $split segments from super-packets and sent $gso datagrams by GSO; B received $gro by GRO and joined $joined"
  if [ "$mode" = auto ]; then
    ctl a status | holds -q "offloads: tun tso4 tso6" || fail "auto: TUN offloads not taken on this kernel: $(ctl a status | grep offloads:)"
    [ "$split" -gt 0 ] || fail "auto: no TSO super-packet was read from the TUN"
    [ "$gso" -gt 0 ] || fail "auto: no UDP GSO send"
    [ "$gro" -gt 0 ] || fail "auto: no datagrams arrived in GRO buffers"
    [ "$joined" -gt 0 ] || fail "auto: no TCP segments were joined for the TUN"
  else
    ctl a status | holds -q "offloads: off" || fail "off: status does not say offloads are off"
    [ "$split$joined$gso$gro" = "0000" ] || fail "off: the offload path was used ($split $joined $gso $gro)"
  fi
  local drops
  drops=$(ctl b metrics | awk '/^zeqvpn_drops_total/ && $2 > 0 && !/reason="(no_route|tun_write)"/' || true)
  [ -z "$drops" ] || fail "$mode: B dropped packets: $drops"
  stop_node a "$NS_A"
  stop_node b "$NS_B"
}

run_mode auto
run_mode off
log "PASS"
