#!/usr/bin/env bash
# One-command onboarding (issue 17): `zeqvpnctl mesh init` on A, `mesh
# invite` there, `mesh join TOKEN` on B and C. A and B share a link; C
# reaches A's underlay only through B (routed). Checked:
#  - init writes the files with their modes and refuses to run twice;
#  - B and C join with one command each, start, ping A and each other (C
#    and B find each other through the directory, not their YAML);
#  - reusing B's token fails ("already used"), an expired token and a
#    revoked one fail, each with its one line; joining again into B's
#    directory fails ("already in a mesh");
#  - a token whose secret was altered fails, the bootstrap node sends
#    nothing but the Noise challenge (no answer frame), logs the failed
#    proof, and the invite stays open and usable;
#  - a token naming an endpoint where nothing listens: "bootstrap unreachable";
#  - 20 joins at once get 20 different addresses, none already taken.
source "$(dirname "$0")/lib.sh"

setup_namespaces
setup_third
in_b sysctl -qw net.ipv4.ip_forward=1
in_a ip route add 198.19.0.0/24 via $UNDER4_B
in_c ip route add 198.18.0.0/24 via $UNDER4_BC

# start_meshed NAME NETNS: zeqvpnd with the files `mesh init|join` wrote in
# $WORK/NAME, secrets from its credentials directory.
start_meshed() {
  ip netns exec "$2" env CREDENTIALS_DIRECTORY="$WORK/$1/credentials" \
    "$ZEQVPND" --config "$WORK/$1/zeqvpn.yaml" >> "$WORK/$1.log" 2>&1 &
  await_started "$1" "$2" $!
}
# join NETNS DIR TOKEN: `mesh join` into $WORK/DIR; output in $JOIN_OUT, status returned.
join() {
  local rc=0
  JOIN_OUT=$(ip netns exec "$1" "$ZEQVPNCTL" mesh join "$3" --dir "$WORK/$2" --socket "$WORK/$2.sock" \
    --state "$WORK/$2.db" --timeout 5 2>&1) || rc=$?
  return $rc
}
address_of() { sed -n 's/^  addresses: \[\(.*\)\/16\]$/\1/p' "$WORK/$1/zeqvpn.yaml"; }
# tamper TOKEN FIELD: the token with its secret flipped (secret) or its
# endpoint's port set to 9 (port), re-encoded.
tamper() {
  python3 - "$1" "$2" <<'PY'
import base64, sys
tok, what = sys.argv[1], sys.argv[2]
b = bytearray(base64.urlsafe_b64decode(tok[5:] + "=" * (-len(tok[5:]) % 4)))
name_len = b[36]
secret_at = 4 + 32 + 1 + name_len + 16
if what == "secret":
    b[secret_at + 7] ^= 0x01
else:  # the first endpoint's port (family 4: 1 + 4 bytes, then the port)
    at = secret_at + 32 + 32 + 8 + 1
    assert b[at] == 4
    b[at + 5:at + 7] = (9).to_bytes(2, "big")
print("zqi1." + base64.urlsafe_b64encode(bytes(b)).decode().rstrip("="))
PY
}

log "mesh init on A"
"$ZEQVPNCTL" mesh init --name testmesh --network 10.77.0.0/16 --node-name node-a --dir "$WORK/a" \
  --advertise $UNDER4_A --socket "$WORK/a.sock" --state "$WORK/a.db" > "$WORK/init.out" || fail "mesh init failed"
holds -q "start the service" < "$WORK/init.out" || fail "init does not say how to start: $(cat "$WORK/init.out")"
for f in node.key ca/ca.key credentials/ZEQ_MESH_SECRET credentials/ZEQ_FIELD_KEY; do
  [ "$(stat -c %a "$WORK/a/$f")" = 600 ] || fail "$f has mode $(stat -c %a "$WORK/a/$f"), not 600"
done
[ "$(stat -c %a "$WORK/a/credentials")" = 700 ] || fail "credentials/ has mode $(stat -c %a "$WORK/a/credentials")"
rc=0
out=$("$ZEQVPNCTL" mesh init --name othermesh --network 10.88.0.0/16 --dir "$WORK/a" 2>&1) || rc=$?
[ $rc -ne 0 ] && echo "$out" | holds -q "already in a mesh (mesh \"testmesh\")" || fail "a second init did not refuse: $rc $out"
[ "$(wc -l <<< "$out")" = 1 ] || fail "init's refusal is not one line: $out"
start_meshed a "$NS_A"
ctl a status >/dev/null

log "invites for B and C; both join with one command and start"
TOKEN_B=$(ctl a mesh invite --name node-b --expires 1h 2>/dev/null)
TOKEN_C=$(ctl a mesh invite --name node-c 2>/dev/null)
[ "$(wc -l <<< "$TOKEN_B")" = 1 ] && [[ "$TOKEN_B" == zqi1.* ]] || fail "invite printed more than a token: $TOKEN_B"
MESH_SECRET_HEX=$(sed 's/^ZEQ_MESH_SECRET=//' "$WORK/a/credentials/ZEQ_MESH_SECRET")
grep -qi "$MESH_SECRET_HEX" <<< "$TOKEN_B" && fail "the token carries the mesh secret"
ctl a mesh invites | holds -q "node-b .* open" || fail "invites do not list B's as open: $(ctl a mesh invites)"
join "$NS_B" b "$TOKEN_B" || fail "B could not join: $JOIN_OUT"
log "  B: $(head -n1 <<< "$JOIN_OUT")"
join "$NS_C" c "$TOKEN_C" || fail "C could not join: $JOIN_OUT"
log "  C: $(head -n1 <<< "$JOIN_OUT")"
[ "$(stat -c %a "$WORK/b/credentials/ZEQ_MESH_SECRET")" = 600 ] || fail "B's mesh secret file is not 0600"
cmp -s <(sed 's/^ZEQ_MESH_SECRET=//' "$WORK/b/credentials/ZEQ_MESH_SECRET") <(echo "$MESH_SECRET_HEX") ||
  fail "B did not receive the mesh secret"
ADDR_B=$(address_of b)
ADDR_C=$(address_of c)
[ "$ADDR_B" = 10.77.0.2 ] && [ "$ADDR_C" = 10.77.0.3 ] || fail "addresses B $ADDR_B C $ADDR_C, not 10.77.0.2 and .3"
grep -q "$(grep -o 'zeq-[0-9a-f]*' <<< "$JOIN_OUT" | head -n1)" "$WORK/a.log" || fail "A did not log C's join"
start_meshed b "$NS_B"
start_meshed c "$NS_C"
wait_ping "$NS_B" 10.77.0.1 15 || fail "B cannot reach A: $(ctl b status)"
wait_ping "$NS_C" 10.77.0.1 15 || fail "C cannot reach A: $(ctl c status)"
log "  B and C reach A"
# Neither names the other in its YAML: the directory brings them together.
grep -q "10.77.0.3" "$WORK/b/zeqvpn.yaml" && fail "B's YAML names C"
wait_ping "$NS_B" "$ADDR_C" 15 || fail "B cannot reach C through the directory: $(ctl b directory)"
wait_ping "$NS_C" "$ADDR_B" 15 || fail "C cannot reach B"
log "  B and C reach each other (directory)"
ctl a mesh invites | holds -q "node-b .* used .*10.77.0.2/16" || fail "B's invite not shown used: $(ctl a mesh invites)"

expect_fail() {  # expect_fail WHAT PATTERN NETNS DIR TOKEN
  local what=$1 pattern=$2
  shift 2
  if join "$@"; then fail "$what: the join succeeded"; fi
  holds -q "$pattern" <<< "$JOIN_OUT" || fail "$what: '$JOIN_OUT' does not say '$pattern'"
  [ "$(wc -l <<< "$JOIN_OUT")" = 1 ] || fail "$what: not one line: $JOIN_OUT"
  [ -e "$WORK/$2/zeqvpn.yaml" ] && [ "$2" != b ] && fail "$what: files were written"
  log "  $what: $JOIN_OUT"
}
log "tokens that must fail"
expect_fail "reused token" "token already used" "$NS_C" b2 "$TOKEN_B"
expect_fail "already in a mesh" "already in a mesh" "$NS_B" b "$(ctl a mesh invite --name again 2>/dev/null)"
TOKEN_X=$(ctl a mesh invite --name short-lived --expires 1s 2>/dev/null)
# 1 s rounds up to 2 Zeqonds, and an invite holds to the end of its expiry
# Zeqond: at most 3 Z = 2.33 s after it was made.
sleep 3
expect_fail "expired token" "expired" "$NS_C" x "$TOKEN_X"
TOKEN_R=$(ctl a mesh invite --name to-revoke 2>/dev/null)
ctl a mesh revoke to-revoke | holds -q "revoked" || fail "revoke failed"
expect_fail "revoked token" "token revoked" "$NS_C" r "$TOKEN_R"
expect_fail "unreachable bootstrap" "bootstrap unreachable" "$NS_C" u "$(tamper "$TOKEN_C" port)"

log "a token with an altered secret: nothing learned, the invite stays open"
TOKEN_S=$(ctl a mesh invite --name node-s 2>/dev/null)
start_capture "$NS_A" "$WORK/enroll.pcap.txt" 20 "tcp port 51821"
before=$(grep -c "did not prove the secret" "$WORK/a.log" || true)
expect_fail "altered secret" "refused the invite" "$NS_B" s "$(tamper "$TOKEN_S" secret)"
sleep 0.5
kill "$CAP_PID" 2>/dev/null || true
after=$(grep -c "did not prove the secret" "$WORK/a.log" || true)
[ "$after" -gt "$before" ] || fail "A did not log the failed proof"
# Bootstrap to joiner: one frame, the challenge (2 + 1 + 32 + 16 = 51 bytes),
# then only the close; never an answer.
from_a=$(grep -E "$UNDER4_A\.51821 > .*length [1-9]" "$WORK/enroll.pcap.txt" | sed -n 's/.*length \([0-9]*\).*/\1/p' | paste -sd+ | bc)
[ "$from_a" = 51 ] || fail "the bootstrap sent $from_a bytes to a joiner with a wrong secret, not the 51 of the challenge: $(cat "$WORK/enroll.pcap.txt")"
ctl a mesh invites | holds -q "node-s .* open" || fail "the invite did not stay open: $(ctl a mesh invites)"
join "$NS_B" s "$TOKEN_S" || fail "the untampered token failed after the tampered one: $JOIN_OUT"
log "  the bootstrap sent 51 bytes (the challenge) and nothing else; the real token still works"
ctl a metrics | holds -Eq 'zeqvpn_enrollment_connections_total\{outcome="proof_failed"\} [1-9]' ||
  fail "metrics do not count the failed proof: $(ctl a metrics | grep enrollment)"
ctl a metrics | holds -Eq 'zeqvpn_enrollment_connections_total\{outcome="enrolled"\} [3-9]' ||
  fail "metrics do not count B, C and S enrolled: $(ctl a metrics | grep enrollment)"

log "20 joins at once: no address twice"
pids=()
for i in $(seq 20); do
  tok=$(ctl a mesh invite --name "many-$i" 2>/dev/null)
  ip netns exec "$NS_B" "$ZEQVPNCTL" mesh join "$tok" --dir "$WORK/m$i" --socket "$WORK/m$i.sock" \
    --state "$WORK/m$i.db" --timeout 10 > "$WORK/m$i.out" 2>&1 &
  pids+=($!)
  PIDS+=($!)
done
for i in $(seq 20); do wait "${pids[$((i - 1))]}" || fail "join $i failed: $(cat "$WORK/m$i.out")"; done
all=$( (for d in a b c s; do address_of $d; done; for i in $(seq 20); do address_of "m$i"; done) | sort)
dups=$(uniq -d <<< "$all")
[ -z "$dups" ] || fail "addresses given twice: $dups"
[ "$(sort -u <<< "$all" | wc -l)" = 24 ] || fail "expected 24 distinct addresses: $all"
log "  24 nodes, 24 addresses: $(sort -t. -k4 -n <<< "$all" | sed -n '1p;$p' | paste -sd' ')"

log "a reload that changes enrollment: says to restart, the service runs on as it started"
sed -i 's/^\(  listen: "0.0.0.0:\)[0-9]*"/\151899"/' "$WORK/a/zeqvpn.yaml"
grep -q '^  listen: "0.0.0.0:51899"' "$WORK/a/zeqvpn.yaml" || fail "test setup: enrollment.listen not found in A's YAML"
out=$(ctl a reload 2>&1) || fail "reload: $out"
echo "$out" | holds -qF "enrollment: restart zeqvpnd to apply" || fail "the reload did not say to restart: $out"
tok=$(ctl a mesh invite --name after-reload 2>/dev/null) || fail "invite after the reload"
ip netns exec "$NS_B" "$ZEQVPNCTL" mesh join "$tok" --dir "$WORK/r1" --socket "$WORK/r1.sock" --state "$WORK/r1.db" \
  --timeout 10 > "$WORK/r1.out" 2>&1 || fail "a join after the reload failed: $(cat "$WORK/r1.out")"
log "PASS"
