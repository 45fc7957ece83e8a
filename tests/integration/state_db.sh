#!/usr/bin/env bash
# The state database as an operator sees it through zeqvpnctl: vpn_tunnels
# rows follow tunnels up and down, survive SIGKILL and are settled at the
# next start; the node key lives in the vault (the key file can go); the
# database files hold no key or secret of the run; a tampered vault row or a
# wrong ZEQ_FIELD_KEY stops start-up with a clear error and nothing set up.
source "$(dirname "$0")/lib.sh"

setup_pair
# Per-GB billing at 3 per started decimal GB: any traffic at all costs 3.
sed -i '/^    allowed_ips:/a\    billing: {unit: gb, price: 3}' "$WORK/a.yaml"
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no ping A -> B"
B_ZID=$("$ZEQVPNCTL" zid <<< "$b_PUB")

rows() { ctl a --json tunnels | python3 -c "
import json, sys
for t in reversed(json.load(sys.stdin)['tunnels']):
    print(t['id'], t['peer_zid'], t['state'], t['key_purpose_id'], t['end_reason'] or '-', t['rx_bytes'], t['total_zeq_charged'])"; }

r=$(rows); echo "$r"
# Bytes: whatever the every-Zeqond checkpoint has written so far (the ping's, or none yet).
echo "$r" | holds -Eqx "1 $B_ZID active vpn.tunnel.1.key - [0-9]+ None" || fail "no active row for the tunnel to B"

in_a ping -c 20 -i 0.01 -s 1000 $TUN4_B >/dev/null || fail "ping with payload failed"
ctl a down peer >/dev/null
r=$(rows); echo "$r"
echo "$r" | holds -Eq "^1 $B_ZID terminated vpn.tunnel.1.key admin_down [0-9]{5,} 3$" \
  || fail "row 1 not settled by down with its bytes and 3 (one started GB at 3)"
ctl a up peer >/dev/null
wait_ping "$NS_A" $TUN4_B 10 || fail "no ping after up"
rows | holds -Eqx "2 $B_ZID active vpn.tunnel.2.key - [0-9]+ None" || fail "no new row after up"

log "SIGKILL, restart from the vault alone"
kill -KILL "$a_PID"; wait "$a_PID" 2>/dev/null || true
in_a ip link show zeq0 >/dev/null 2>&1 && in_a ip link del zeq0 2>/dev/null
A_ZID=$("$ZEQVPNCTL" zid <<< "$a_PUB")
mv "$WORK/a.key" "$WORK/a.key.gone"
sed -i '/identity_key_file/d' "$WORK/a.yaml"
start_node a "$NS_A"
wait_ping "$NS_A" $TUN4_B 15 || fail "no ping after the restart"
ctl a status | holds -q "^node $A_ZID" || fail "the node key did not come from the vault"
r=$(rows); echo "$r"
echo "$r" | holds -q "^2 $B_ZID terminated vpn.tunnel.2.key daemon_stopped_unexpectedly " || fail "row 2 not settled after SIGKILL"
echo "$r" | holds -q "^3 $B_ZID active " || fail "no row for the tunnel after the restart"
ctl a tunnels | holds -q "ID  PEER" || fail "tunnels has no table header"
stop_node a "$NS_A"
stop_node b "$NS_B"

log "no key or secret in the database files"
python3 - "$WORK" "$MESH_SECRET" "$FIELD_KEY_a" "$(cat "$WORK/a.key.gone")" "$(cat "$WORK/b.key")" <<'PY' || fail "key material found in the state database"
import base64, glob, sys
work, mesh, field, *keys = sys.argv[1:]
data = b"".join(open(f, "rb").read() for f in glob.glob(work + "/a.db*"))
assert len(data) > 4096, "database files missing"
needles = {"mesh secret": bytes.fromhex(mesh), "field key": bytes.fromhex(field)}
for i, k in enumerate(keys):
    needles[f"private key {i}"] = base64.b64decode(k.strip())
found = []
for name, raw in needles.items():
    for form in (raw, raw.hex().encode(), raw.hex().upper().encode(), base64.b64encode(raw)):
        if form in data:
            found.append(name)
print("scanned", len(data), "bytes for", len(needles), "secrets in 4 encodings; found:", found or "none")
sys.exit(1 if found else 0)
PY
python3 - "$WORK/a.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert "key" not in [r[1] for r in db.execute("PRAGMA table_info(vpn_tunnels)") if r[1] != "key_purpose_id"]
PY

log "wrong ZEQ_FIELD_KEY"
rc=0; out=$(in_a env ZEQ_MESH_SECRET=$MESH_SECRET ZEQ_FIELD_KEY=$FIELD_KEY_b "$ZEQVPND" --config "$WORK/a.yaml" 2>&1) || rc=$?
[ $rc -ne 0 ] && echo "$out" | holds -q "ZEQ_FIELD_KEY does not open the vault in $WORK/a.db" || fail "wrong field key: $out"
# The interface is opened while the vault's key is derived; a vault that
# does not open takes it away again, and leaves no nftables table.
if in_a ip link show zeq0 >/dev/null 2>&1; then fail "wrong field key: interface zeq0 left behind"; fi
left=$(in_a nft list tables)
[ -z "$left" ] || fail "wrong field key: nftables tables left behind: $left"

log "tampered identity row"
python3 - "$WORK/a.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(ct,) = db.execute("SELECT ciphertext FROM zsc_secrets WHERE name = 'identity.private_key'").fetchone()
db.execute("UPDATE zsc_secrets SET ciphertext = ? WHERE name = 'identity.private_key'", (bytes([ct[0] ^ 1]) + ct[1:],))
db.commit()
PY
rc=0; out=$(in_a env ZEQ_MESH_SECRET=$MESH_SECRET ZEQ_FIELD_KEY=$FIELD_KEY_a "$ZEQVPND" --config "$WORK/a.yaml" 2>&1) || rc=$?
echo "$out"
[ $rc -ne 0 ] || fail "zeqvpnd started with a tampered vault row"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "tampered row: expected one line"
echo "$out" | holds -q "vault row 'identity.private_key' in $WORK/a.db failed authentication" || fail "tampered row message: $out"
if in_a ip link show zeq0 >/dev/null 2>&1; then fail "interface left behind after the refusal"; fi
python3 -c "
import sqlite3, sys
n = sqlite3.connect('$WORK/a.db').execute(\"SELECT count(*) FROM zsc_audit WHERE action = 'secret_denied'\").fetchone()[0]
sys.exit(0 if n == 1 else 1)" || fail "the refusal is not in the audit log"
log "PASS"
