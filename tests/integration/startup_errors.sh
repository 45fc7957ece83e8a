#!/usr/bin/env bash
# User errors stop start-up with one line naming the thing, the value and the
# fix, a non-zero exit, and nothing left behind (no interface).
source "$(dirname "$0")/lib.sh"

setup_pair

expect_error() {  # expect_error DESCRIPTION EXPECTED_TEXT -- command...
  local what=$1 text=$2
  shift 3
  local out rc=0
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  [ $rc -ne 0 ] || fail "$what: zeqvpnd started"
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$what: expected one line, got: $out"
  printf '%s\n' "$out" | holds -qF -- "$text" || fail "$what: expected '$text' in: $out"
  if in_a ip link show zeq0 >/dev/null 2>&1; then fail "$what: interface zeq0 left behind"; fi
  log "$what -> $out"
}

run_a() { ip netns exec "$NS_A" env ZEQ_FIELD_KEY=$FIELD_KEY_a env "$@" "$ZEQVPND" --config "$WORK/a.yaml"; }

expect_error "missing secret" "ZEQ_MESH_SECRET is not set" -- run_a -u ZEQ_MESH_SECRET
expect_error "short secret" "at least 64 hex digits" -- run_a ZEQ_MESH_SECRET=abcd
expect_error "missing field key" "ZEQ_FIELD_KEY is not set" -- run_a -u ZEQ_FIELD_KEY ZEQ_MESH_SECRET=$MESH_SECRET
expect_error "short field key" "exactly 64 hex digits" -- run_a ZEQ_MESH_SECRET=$MESH_SECRET ZEQ_FIELD_KEY=abcd
expect_error "missing config" "$WORK/none.yaml: cannot read" -- \
  ip netns exec "$NS_A" env ZEQ_MESH_SECRET=$MESH_SECRET ZEQ_FIELD_KEY=$FIELD_KEY_a "$ZEQVPND" --config "$WORK/none.yaml"

cp "$WORK/a.yaml" "$WORK/a.good"
sed -i 's|allowed_ips: \[|allowed_ips: [10.77.0.999/32, |' "$WORK/a.yaml"
expect_error "bad prefix" "a.yaml:11:19: peers[0].allowed_ips[0]: expected an IP prefix" -- run_a ZEQ_MESH_SECRET=$MESH_SECRET
cp "$WORK/a.good" "$WORK/a.yaml"
sed -i 's|listen_port: .*|listen_port: 70000|' "$WORK/a.yaml"
expect_error "bad port" "interface.listen_port: expected an integer from 1 to 65535, got '70000'" -- run_a ZEQ_MESH_SECRET=$MESH_SECRET
cp "$WORK/a.good" "$WORK/a.yaml"

# Files that are not a config file are refused at once: /dev/zero is not read
# forever, a FIFO is not waited on (timeout: a hang fails the check).
run_a_on() {  # run_a_on CONFIG: zeqvpnd with every secret set
  timeout 10 ip netns exec "$NS_A" env ZEQ_MESH_SECRET=$MESH_SECRET ZEQ_FIELD_KEY=$FIELD_KEY_a "$ZEQVPND" --config "$1"
}
expect_error "config /dev/zero" "/dev/zero: the config file is a character device, not a regular file" -- run_a_on /dev/zero
mkfifo "$WORK/fifo.yaml"
expect_error "config FIFO" "fifo.yaml: the config file is a FIFO (named pipe), not a regular file" -- run_a_on "$WORK/fifo.yaml"
expect_error "config check /dev/zero" "/dev/zero: the config file is a character device" -- \
  timeout 10 "$ZEQVPNCTL" config check /dev/zero
expect_error "config check FIFO" "the config file is a FIFO (named pipe)" -- timeout 10 "$ZEQVPNCTL" config check "$WORK/fifo.yaml"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' > "$WORK/big.yaml"
expect_error "config over 1 MiB" "big.yaml: the config file holds more than 1048576 bytes" -- run_a_on "$WORK/big.yaml"

# Accepted until issue 9, each silently wrong: a key given twice (the first
# won), the node's own key as a peer, two peers with one name, an interface
# address without its prefix length.
echo "log_level: info" >> "$WORK/a.yaml"
expect_error "key given twice" "a.yaml:14:1: log_level: given twice (first on line 6)" -- run_a ZEQ_MESH_SECRET=$MESH_SECRET
cp "$WORK/a.good" "$WORK/a.yaml"
sed -i "s|public_key: .*|public_key: $a_PUB|" "$WORK/a.yaml"
expect_error "own key as peer" "a.yaml: peers[0] (peer): public_key is this node's own (zeq-" -- run_a ZEQ_MESH_SECRET=$MESH_SECRET
expect_error "own key as peer (config check)" "public_key is this node's own" -- "$ZEQVPNCTL" config check "$WORK/a.yaml"
cp "$WORK/a.good" "$WORK/a.yaml"
make_key c
awk -v key="$c_PUB" '/^control:/ { print "  - name: peer"; print "    public_key: " key; print "    allowed_ips: [10.77.0.9/32]" } { print }' \
  "$WORK/a.good" > "$WORK/a.yaml"
expect_error "two peers named alike" "peers[1].name: 'peer' is also the name of peers[0]; give each peer its own name" -- \
  run_a ZEQ_MESH_SECRET=$MESH_SECRET
cp "$WORK/a.good" "$WORK/a.yaml"
sed -i "s|addresses: \[$TUN4_A/24|addresses: [$TUN4_A|" "$WORK/a.yaml"
expect_error "address without length" "interface.addresses[0]: '$TUN4_A' has no prefix length" -- run_a ZEQ_MESH_SECRET=$MESH_SECRET
cp "$WORK/a.good" "$WORK/a.yaml"

chmod 644 "$WORK/a.key"
expect_error "readable key" "chmod 600" -- run_a ZEQ_MESH_SECRET=$MESH_SECRET
chmod 600 "$WORK/a.key"

bg "$NS_A" "$WORK/holder.log" python3 -c "
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('::', $PORT)); print('bound', flush=True); time.sleep(20)"
HOLDER=$BG_PID
# Bound before the daemon starts, however slow python3 is to start.
for _ in $(seq 100); do grep -q bound "$WORK/holder.log" 2>/dev/null && break; sleep 0.1; done
grep -q bound "$WORK/holder.log" || fail "the port holder did not bind UDP port $PORT within 10 s"
expect_error "port in use" "UDP port $PORT (interface.listen_port) is already in use" -- run_a ZEQ_MESH_SECRET=$MESH_SECRET
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true

in_a ip link add zeq0 type bridge
out=$(run_a ZEQ_MESH_SECRET=$MESH_SECRET 2>&1) && fail "started over an existing interface"
printf '%s\n' "$out" | holds -q "interface zeq0 already exists" || fail "existing interface: $out"
in_a ip link show zeq0 | holds -q zeq0 || fail "the existing interface was touched"
in_a ip link del zeq0
log "existing interface -> $out"

in_a env ZEQ_MESH_SECRET=$MESH_SECRET ZEQ_FIELD_KEY=$FIELD_KEY_a "$ZEQVPND" --config "$WORK/a.yaml" --check | holds -q "configuration valid" \
  || fail "--check rejected a valid configuration"
log "PASS"
