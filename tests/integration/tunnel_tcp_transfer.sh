#!/usr/bin/env bash
# A 100 MB TCP transfer through the tunnel (IPv4), then 20 MB over IPv6, with
# every byte checked by SHA-256 on both ends.
source "$(dirname "$0")/lib.sh"

setup_pair
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"

transfer() {  # transfer DEST BYTES
  bg "$NS_B" "$WORK/recv.out" python3 "$HERE/tcp_transfer.py" recv 5001
  local rpid=$BG_PID
  sleep 0.3
  in_a python3 "$HERE/tcp_transfer.py" send "$1" 5001 "$2" "seed-$2" > "$WORK/send.out" || fail "sender failed"
  wait "$rpid" || fail "receiver failed"
  read -r sent_hash sent_bytes rate < "$WORK/send.out"
  read -r recv_hash recv_bytes < "$WORK/recv.out"
  log "sent $sent_bytes bytes ($rate), received $recv_bytes"
  [ "$recv_bytes" = "$2" ] || fail "received $recv_bytes bytes, expected $2"
  [ "$sent_hash" = "$recv_hash" ] || fail "SHA-256 differs: sent $sent_hash received $recv_hash"
}

transfer $TUN4_B 104857600
transfer $TUN6_B 20971520

status_of a >&2
stop_node a "$NS_A"
stop_node b "$NS_B"
log "PASS"
