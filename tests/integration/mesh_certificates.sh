#!/usr/bin/env bash
# Peers by mesh certificate. A's YAML names only B; C names A in its YAML and
# holds a certificate from the mesh CA that A trusts (mesh.ca). C reaches A's
# underlay through B (plain routing). Checked:
#  - C is a Zeq Auth equation identity (its key from `genkey --equation`,
#    its ZID the equation's, interface.zid): C and A build a tunnel and ping;
#    A lists C by that ZID as admitted by certificate, with the certificate's
#    allowed_ips, owner, groups and expiry. C's DNS offer is not taken.
#  - A packet from C with a source outside its certificate's allowed_ips is
#    not delivered (counted as allowed_ips), whatever C's YAML says.
#  - A certificate from another CA, an expired one and one not yet valid are
#    refused, each counted by its reason; C's own daemon will not start with
#    a certificate for another key.
#  - Revoking C (zeqvpnctl ca revoke, then A's reload) while C pings A cuts
#    the tunnel within 1 Zeqond, and C's later handshakes are refused.
source "$(dirname "$0")/lib.sh"

TUN4_C=10.77.0.3
setup_pair
setup_third
in_b sysctl -qw net.ipv4.ip_forward=1
in_a ip route add 198.19.0.0/24 via $UNDER4_B
in_c ip route add 198.18.0.0/24 via $UNDER4_BC
# C's identity is an equation: the key from Argon2id, the ZID from its hash.
EQUATION="x^2 + sin(y*pi) + phi"
(umask 077; "$ZEQVPNCTL" genkey --equation <<< "$EQUATION" > "$WORK/c.key" 2>/dev/null)
c_PUB=$("$ZEQVPNCTL" pubkey < "$WORK/c.key")
C_ZID=$("$ZEQVPNCTL" zeqauth zid <<< "$EQUATION" | awk '/^zid/ {print $2}')
[ "$C_ZID" = zeq-f9f5c58e8f0d ] || fail "equation ZID $C_ZID, not the vector's zeq-f9f5c58e8f0d"
sign_pub() { "$ZEQVPNCTL" pubkey --signing < "$WORK/$1.key"; }

log "mesh authority, and a second one A does not trust"
"$ZEQVPNCTL" ca init --name testmesh --dir "$WORK/ca" >/dev/null
"$ZEQVPNCTL" ca init --name othermesh --dir "$WORK/ca2" >/dev/null
[ "$(stat -c %a "$WORK/ca/ca.key")" = 600 ] || fail "ca.key mode $(stat -c %a "$WORK/ca/ca.key")"
# sign NAME OUT [CA_DIR] [extra ca sign args]: a certificate for NAME's key.
sign() {
  local name=$1 out=$2 ca=${3:-$WORK/ca}
  shift 3 || shift $#
  local pub_var="${name}_PUB"
  "$ZEQVPNCTL" ca sign --ca-key "$ca/ca.key" --name "node-$name" --public-key "${!pub_var}" \
    --signing-key "$(sign_pub "$name")" --zid "$C_ZID" --address "$TUN4_C/24" "$@" --out "$out"
}
sign c "$WORK/c.crt" "$WORK/ca" --groups laptops --owner zeq-0123456789ab
"$ZEQVPNCTL" cert verify "$WORK/c.crt" --ca "$WORK/ca/ca.pub" | holds -q valid || fail "C's certificate does not verify"
"$ZEQVPNCTL" cert show "$WORK/c.crt" | holds -q "node-c" || fail "cert show: $("$ZEQVPNCTL" cert show "$WORK/c.crt")"

cat >> "$WORK/a.yaml" <<YAML
mesh:
  ca: [$WORK/ca/ca.pub, $WORK/ca-rotation.pub]
YAML
# Two CAs trusted at once (a rotation): the second is a third, unrelated one.
"$ZEQVPNCTL" ca init --name rotation --dir "$WORK/ca3" >/dev/null
cp "$WORK/ca3/ca.pub" "$WORK/ca-rotation.pub"
cat > "$WORK/c.yaml" <<YAML
interface:
  name: zeq0
  addresses: [$TUN4_C/24]
  listen_port: $PORT
  identity_key_file: $WORK/c.key
  zid: $C_ZID
log_level: debug
peers:
  - name: a
    public_key: $a_PUB
    endpoint: "$UNDER4_A:$PORT"
    allowed_ips: [$TUN4_A/32]
    persistent_keepalive: 2
mesh:
  certificate: $WORK/c.crt
# C offers itself as A's resolver: A must not take it from a peer it knows
# only by certificate.
dns: {offer: $TUN4_C}
control: {socket: $WORK/c.sock}
state: {database: $WORK/c.db}
YAML

start_node a "$NS_A"
start_node b "$NS_B"
start_node c "$NS_C"
log "C, unknown to A's YAML, reaches A by its certificate"
wait_ping "$NS_C" $TUN4_A 15 || fail "C could not reach A with its certificate: $(ctl a status)"
wait_ping "$NS_A" $TUN4_C 5 || fail "A could not reach C"
peer_c() { ctl a --json peers | python3 -c 'import json,sys; r=json.load(sys.stdin); p=[p for p in r["peers"] if p["zid"]==sys.argv[1]]; print(json.dumps(p[0]) if p else "")' "$1"; }
pc=$(peer_c "$C_ZID")
[ -n "$pc" ] || fail "A does not list C"
echo "$pc" | python3 -c '
import json,sys
p=json.load(sys.stdin)
assert p["certified_only"], p
assert p["allowed_ips"]==["10.77.0.3/32"], p["allowed_ips"]
c=p["certificate"]
assert c["name"]=="node-c" and c["groups"]==["laptops"] and c["owner"]=="zeq-0123456789ab", c
assert c["expires_in_s"] > 300*86400, c
' || fail "A's view of C: $pc"
ctl a peers | holds -q "admitted by its certificate" || fail "peers output: $(ctl a peers)"
sleep 1
ctl a --json status | python3 -c 'import json,sys; d=json.load(sys.stdin)["dns"]; assert not d["via_peer"] and d["peer"] is None, d' ||
  fail "A took the DNS offer of a peer it knows only by certificate: $(ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["dns"])')"
grep -q "DNS offer ignored (admitted by certificate only" "$WORK/a.log" || fail "no log line for the ignored DNS offer"
ctl a metrics | holds -Eq "^zeqvpn_certificate_expiry_seconds\{of=\"peer\",zid=\"$C_ZID\"" || fail "no expiry metric for C"

log "a source outside C's certificate is not delivered"
drops() { ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["drops"].get("allowed_ips",0))'; }
before=$(drops)
in_c ip addr add 10.77.0.99/24 dev zeq0
in_c ping -c3 -i0.2 -W1 -I 10.77.0.99 $TUN4_A >/dev/null 2>&1 && fail "A answered a source outside C's certificate"
after=$(drops)
[ "$after" -ge $((before + 3)) ] || fail "A counted $((after - before)) allowed_ips drops, not 3"
in_c ip addr del 10.77.0.99/24 dev zeq0

# with_cert FILE REASON: C restarts with FILE as its certificate; A refuses
# C's handshakes and counts REASON.
with_cert() {
  stop_node c "$NS_C"
  cp "$1" "$WORK/c.crt"
  local before
  before=$(ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["handshakes"]["rejected"].get(sys.argv[1],0))' "$2")
  start_node c "$NS_C"
  wait_ping "$NS_C" $TUN4_A 4 && fail "A accepted C with a certificate that should fail ($2)"
  local n
  n=$(ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["handshakes"]["rejected"].get(sys.argv[1],0))' "$2")
  [ "$n" -gt "$before" ] || fail "A did not count $2: $(ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["handshakes"]["rejected"])')"
  log "  refused: $2 ($((n - before)) handshakes)"
}
cp "$WORK/c.crt" "$WORK/c-good.crt"
NOW_Z=$(ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["node"]["zeqond"])')
log "certificates A must refuse"
# The tunnel A holds with C goes when C stops; wait for A to forget the keys.
sign c "$WORK/c-other-ca.crt" "$WORK/ca2"
with_cert "$WORK/c-other-ca.crt" cert_unknown_issuer
sign c "$WORK/c-expired.crt" "$WORK/ca" --not-before $((NOW_Z - 2000)) --valid 10m
with_cert "$WORK/c-expired.crt" cert_expired
sign c "$WORK/c-future.crt" "$WORK/ca" --not-before $((NOW_Z + 5000))
with_cert "$WORK/c-future.crt" cert_not_yet_valid
# A certificate for B's key: C's own daemon refuses to start with it (a
# peer that sent one anyway is refused as cert_key_mismatch: mesh_test).
"$ZEQVPNCTL" ca sign --ca-key "$WORK/ca/ca.key" --name node-b --public-key "$b_PUB" --signing-key "$(sign_pub b)" \
  --address "$TUN4_C/24" --out "$WORK/c-wrong-key.crt"
stop_node c "$NS_C"
cp "$WORK/c-wrong-key.crt" "$WORK/c.crt"
rc=0
out=$(ip netns exec "$NS_C" env ZEQ_MESH_SECRET="$MESH_SECRET" ZEQ_FIELD_KEY="$FIELD_KEY_a" timeout 10 "$ZEQVPND" --config "$WORK/c.yaml" 2>&1) || rc=$?
[ $rc -ne 0 ] && echo "$out" | holds -q "mesh.certificate: $WORK/c.crt is for zeq-.*not this node ($C_ZID)" ||
  fail "C started with a certificate for another key: rc $rc, $out"
log "  C's daemon refuses a certificate for another key: $(echo "$out" | tail -n1 | cut -c1-120)..."

log "C with its good certificate again, pinging A; then revoked"
with_good() { cp "$WORK/c-good.crt" "$WORK/c.crt"; start_node c "$NS_C"; }
with_good
wait_ping "$NS_C" $TUN4_A 15 || fail "C did not come back with its good certificate"
bg "$NS_C" "$WORK/ping.log" ping -i 0.1 -W 1 -D $TUN4_A
PING_PID=$BG_PID
sleep 1
# Serial 1 revokes an unrelated key (kept as old.crl); serial 2 adds C.
"$ZEQVPNCTL" ca revoke --ca-key "$WORK/ca/ca.key" --list "$WORK/revoked.crl" \
  --public-key "$("$ZEQVPNCTL" genkey | "$ZEQVPNCTL" pubkey)" >/dev/null
cp "$WORK/revoked.crl" "$WORK/old.crl"
"$ZEQVPNCTL" ca revoke --ca-key "$WORK/ca/ca.key" --list "$WORK/revoked.crl" --cert "$WORK/c.crt" >/dev/null
sed -i "s|  ca: \[$WORK/ca/ca.pub, $WORK/ca-rotation.pub\]|&\n  revocations: [$WORK/revoked.crl]|" "$WORK/a.yaml"
t0=$(date +%s%N)
ctl a reload >/dev/null
t1=$(date +%s%N)
[ -z "$(peer_c "$C_ZID")" ] || fail "C is still A's peer after the reload that revoked it"
cut_ms=$(( (t1 - t0) / 1000000 ))
log "  C cut ${cut_ms} ms after the reload began (bound: 1 Zeqond, 777 ms)"
[ "$cut_ms" -le 777 ] || fail "cutting C took $cut_ms ms"
grep -q "certificate no longer accepted (cert_revoked)" "$WORK/a.log" || fail "no log line for the revocation"
ctl a --json status | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["certificates"]["tunnels_cut"].get("cert_revoked")==1, s["certificates"]' ||
  fail "tunnels_cut does not count the revocation"
ctl a metrics | holds -q 'zeqvpn_certificate_tunnels_cut_total{reason="cert_revoked"} 1' || fail "no metric for the cut"
# Replies stop: the last answered echo is before the reload (plus one in flight).
sleep 3
kill "$PING_PID" 2>/dev/null || true
last=$(grep -o "^\[[0-9.]*\] .*bytes from" "$WORK/ping.log" | tail -n1 | sed 's/^\[\([0-9.]*\)\].*/\1/')
[ -n "$last" ] || fail "C's ping got no answer at all"
late_ms=$(python3 -c "print(int(($last - $t1 / 1e9) * 1000))")
log "  last echo answered ${late_ms} ms after the reload"
[ "$late_ms" -le 777 ] || fail "C's pings were answered $late_ms ms after the revocation"
# C still holds its keys; a new handshake from it must be refused.
ctl c rekey a >/dev/null || true
sleep 1
n=$(ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["handshakes"]["rejected"].get("cert_revoked",0))')
[ "$n" -gt 0 ] || fail "C's handshakes after the revocation were not refused as cert_revoked"
in_c ping -c2 -W1 $TUN4_A >/dev/null 2>&1 && fail "C still reaches A after the revocation"
log "  C's handshakes refused afterwards: $n"

log "an older revocation list on reload un-revokes nobody"
cp "$WORK/old.crl" "$WORK/revoked.crl"
ctl a reload >/dev/null
grep -q "the list in force (serial 2) stays" "$WORK/a.log" || fail "no warning for the older list"
ctl a --json status | python3 -c 'import json,sys; s=json.load(sys.stdin)["certificates"]["revocation_serials"]; assert list(s.values())==[2], s' ||
  fail "the older list replaced the newer one"
ctl c rekey a >/dev/null || true
sleep 1
n2=$(ctl a --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["handshakes"]["rejected"].get("cert_revoked",0))')
[ "$n2" -gt "$n" ] || fail "C was accepted again after an older list was loaded"

log "B, named in A's YAML, is untouched"
wait_ping "$NS_A" $TUN4_B 5 || fail "A lost B"
log "PASS"
