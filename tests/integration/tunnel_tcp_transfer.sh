#!/usr/bin/env bash
# A 100 MB TCP transfer through the tunnel (IPv4), then 20 MB over IPv6, with
# every byte checked by SHA-256 on both ends.
source "$(dirname "$0")/lib.sh"

setup_pair
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"


transfer $TUN4_B 104857600
transfer $TUN6_B 20971520

status_of a >&2
stop_node a "$NS_A"
stop_node b "$NS_B"
log "PASS"
