#!/usr/bin/env bash
# The kill switch from boot (kill_switch: always), as a scripted start
# sequence in A's namespace (its ruleset is A's alone):
#   1. a first run saves the boot rules beside its state database (0600,
#      its own tables only, no secret) and leaves them and its table when it
#      stops cleanly;
#   2. "boot": an empty ruleset lets A reach the outside (B's underlay
#      address, positive control); then zeqvpn-killswitch.service's own
#      ExecStart (taken from the generated unit), run as the unit runs it
#      (an unprivileged user with only CAP_NET_ADMIN), blocks it;
#   3. zeqvpnd starts while a tight loop lists the table (never absent; each
#      look is an nft process, so this is coarse) and `nft monitor` records
#      every ruleset change, transaction by transaction (the precise check):
#      the only deletion of the table is in the transaction that adds it
#      back, the kill switch chain with it;
#   4. the daemon up: the tunnel passes, the outside stays blocked;
#   5. a reload to on_drop removes the boot rules (the next boot is not
#      blocked), and one back to always writes them again.
source "$(dirname "$0")/lib.sh"

UNIT=$BUILD_DIR/systemd/zeqvpn-killswitch.service
[ -f "$UNIT" ] || fail "no $UNIT in the build"
setup_pair
# A's state in a directory of its own, as /var/lib/zeqvpn is: the boot rules
# are written beside the database.
STATE=$WORK/a-state
mkdir -m 700 "$STATE"
sed -i "s|state: {database: $WORK/a.db}|state: {database: $STATE/state.db}|" "$WORK/a.yaml"
printf 'kill_switch: always\nallow_lan: false\n' >> "$WORK/a.yaml"
BOOT=$STATE/killswitch.nft

blocked() { ! in_a ping -c 2 -i 0.2 -W 1 "$1" >/dev/null 2>&1; }

# 1. The first run.
start_node b "$NS_B"
start_node a "$NS_A"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel on the first run"
[ -f "$BOOT" ] || fail "zeqvpnd (kill_switch: always) saved no boot rules in $BOOT"
[ "$(stat -c %a "$BOOT")" = 600 ] || fail "$BOOT has mode $(stat -c %a "$BOOT"), want 600"
grep -q 'policy drop' "$BOOT" || fail "$BOOT holds no dropping chain: $(cat "$BOOT")"
if grep -v '^#' "$BOOT" | grep -E 'table|flush' | grep -qvE 'table (inet|arp) zeqvpn( |$)'; then
  fail "$BOOT names something besides its own tables"
fi
for secret in "$MESH_SECRET" "$FIELD_KEY_a" "$(cat "$WORK/a.key")"; do
  if grep -qiF "$secret" "$BOOT"; then fail "$BOOT holds a secret"; fi
done
stop_node a "$NS_A"
in_a nft list table inet zeqvpn >/dev/null 2>&1 || fail "a clean stop in always mode removed the table (it must stay)"
[ -f "$BOOT" ] || fail "a clean stop removed the boot rules"
log "first run: boot rules saved ($(wc -l < "$BOOT") lines, mode 600), kept with the table after SIGTERM"

# 2. Boot: nothing installed yet, then the unit.
in_a nft flush ruleset
in_a ping -c 1 -W 2 $UNDER4_B >/dev/null 2>&1 || fail "A cannot reach $UNDER4_B with an empty ruleset: the checks below would prove nothing"
cmd=$(sed -n 's/^ExecStart=//p' "$UNIT")
[ "$cmd" = "/usr/sbin/nft -f /var/lib/zeqvpn/killswitch.nft" ] || fail "unexpected ExecStart in the unit: $cmd"
if ! grep -qx 'User=zeqvpn' "$UNIT" || ! grep -qx 'AmbientCapabilities=CAP_NET_ADMIN' "$UNIT"; then
  fail "the unit does not run nft as zeqvpn with CAP_NET_ADMIN"
fi
# As the unit runs it: the file and its directory belong to the service user
# (nobody here), who has CAP_NET_ADMIN and nothing else.
chmod 711 "$WORK"
chown -R 65534:65534 "$STATE"
in_a setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin \
  ${cmd/\/var\/lib\/zeqvpn\/killswitch.nft/$BOOT} || fail "the unit's ExecStart failed"
chown -R 0:0 "$STATE"
blocked $UNDER4_B || fail "A reaches $UNDER4_B after the boot rules were loaded"
blocked $UNDER6_B || fail "A reaches $UNDER6_B after the boot rules were loaded"
n=$(in_a nft list counter inet zeqvpn blocked_output | sed -n 's/.*packets \([0-9]*\).*/\1/p')
[ "${n:-0}" -gt 0 ] || fail "the boot rules' counter shows no blocked packet"
log "boot: the unit's ExecStart as an unprivileged user with CAP_NET_ADMIN blocks the outside ($n packets)"

# 3. The daemon takes over. `nft monitor` first, proven listening by a
# scratch table it must report.
bg "$NS_A" "$WORK/monitor.txt" nft monitor
MON_PID=$BG_PID
for _ in $(seq 50); do
  in_a nft add table inet probe && in_a nft delete table inet probe
  grep -q 'add table inet probe' "$WORK/monitor.txt" && break
  sleep 0.1
done
grep -q 'add table inet probe' "$WORK/monitor.txt" || fail "nft monitor reported nothing within 5 s"
bg "$NS_A" "$WORK/poll.txt" bash -c "for i in \$(seq 20000); do
    if nft list table inet zeqvpn >/dev/null 2>&1; then echo present; else echo ABSENT; fi
    [ -e '$WORK/stop-poll' ] && break
  done"
POLL_PID=$BG_PID
for _ in $(seq 50); do [ -s "$WORK/poll.txt" ] && break; sleep 0.02; done
start_node a "$NS_A"
touch "$WORK/stop-poll"
for _ in $(seq 100); do kill -0 $POLL_PID 2>/dev/null || break; sleep 0.05; done
sleep 0.5  # the monitor prints what the last transaction did
kill $MON_PID
absent=$(grep -c ABSENT "$WORK/poll.txt" || true)
present=$(grep -c present "$WORK/poll.txt" || true)
[ "$absent" = 0 ] || fail "table inet zeqvpn was absent in $absent of $((absent + present)) looks during the start"
[ "$present" -ge 3 ] || fail "only $present looks at the table during the start: the loop did not cover it"
# Transactions end with "# new generation N by process PID (NAME)".
python3 - "$WORK/monitor.txt" <<'PY' || fail "nft monitor: $(cat "$WORK/monitor.txt")"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
tx, transactions = [], []
for line in lines:
    if line.startswith("# new generation"):
        transactions.append((line, tx))
        tx = []
    else:
        tx.append(line)
takeovers = 0
for end, body in transactions:
    deletes = [i for i, l in enumerate(body) if l == "delete table inet zeqvpn"]
    if not deletes:
        continue
    after = body[deletes[-1] + 1:]
    if "add table inet zeqvpn" not in after or not any(
            l.startswith("add chain inet zeqvpn killswitch_output") and "policy drop" in l for l in after):
        sys.exit("a transaction deletes table inet zeqvpn without adding it back with its kill switch:\n"
                 + "\n".join(body) + "\n" + end)
    if "(zeqvpnd)" in end:
        takeovers += 1
if takeovers < 1:
    sys.exit("no transaction of zeqvpnd replaced the table")
print(f"nft monitor: {len(transactions)} transactions; zeqvpnd replaced the table {takeovers} time(s), each in one transaction")
PY
log "start: the table present in all $present looks; no transaction left it out"

# 4. The daemon up.
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel after the daemon took over the boot rules"
blocked $UNDER4_B || fail "A reaches $UNDER4_B with the daemon up"
ctl a killswitch status | holds -q "kill switch: armed (mode always" || fail "status: $(ctl a killswitch status)"
log "daemon up: the tunnel passes, the outside is blocked"

# 5. Leaving always removes the boot rules; coming back writes them again.
sed -i 's/^kill_switch: always$/kill_switch: on_drop/' "$WORK/a.yaml"
ctl a reload >/dev/null || fail "reload to on_drop refused"
for _ in $(seq 50); do [ -e "$BOOT" ] || break; sleep 0.1; done
[ -e "$BOOT" ] && fail "the boot rules are still there after a reload to on_drop"
sed -i 's/^kill_switch: on_drop$/kill_switch: always/' "$WORK/a.yaml"
ctl a reload >/dev/null || fail "reload to always refused"
for _ in $(seq 50); do [ -e "$BOOT" ] && break; sleep 0.1; done
[ -e "$BOOT" ] || fail "no boot rules after a reload back to always"
log "reload: on_drop removed $BOOT, always wrote it again"
log PASS
