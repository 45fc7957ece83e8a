#!/usr/bin/env bash
# zeqvpnd as zeqvpnd.service runs it, without systemd itself: an unprivileged
# user with only CAP_NET_ADMIN (ambient), secrets from $CREDENTIALS_DIRECTORY,
# and a $NOTIFY_SOCKET that records what the daemon tells systemd (READY,
# WATCHDOG pings at half of WATCHDOG_USEC, RELOADING on SIGHUP, STOPPING).
# Then as root outside systemd: every capability but CAP_NET_ADMIN dropped.
source "$(dirname "$0")/lib.sh"

setup_pair
SVC_UID=65534  # nobody
SVC=$WORK/svc
mkdir -p "$SVC/creds" "$SVC/state" "$SVC/run"
printf '%s' "$MESH_SECRET" > "$SVC/creds/ZEQ_MESH_SECRET"
"$ZEQVPNCTL" gen-secrets --only field -o "$SVC/creds/ZEQ_FIELD_KEY" 2>/dev/null  # NAME=value, used as it is
cp "$WORK/a.key" "$SVC/a.key"
sed -e "s|$WORK/a.key|$SVC/a.key|" -e "s|$WORK/a.sock|$SVC/run/zeqvpnd.sock|" -e "s|$WORK/a.db|$SVC/state/state.db|" \
  "$WORK/a.yaml" > "$SVC/a.yaml"
chown -R $SVC_UID:$SVC_UID "$SVC"
chmod 711 "$WORK"

bg "$NS_A" "$WORK/notify.log" python3 -u -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('$WORK/notify.sock')
import os; os.chmod('$WORK/notify.sock', 0o666)
end = time.time() + 60
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        break
    print(repr(msg), flush=True)
    if 'STOPPING=1' in msg:
        break"
NOTIFY_PID=$BG_PID
for _ in $(seq 50); do [ -S "$WORK/notify.sock" ] && break; sleep 0.05; done

# Debian's udev makes /dev/net/tun 0666; where it is not (some containers),
# a private mount namespace shows the daemon a 0666 node of the same device,
# leaving the host's alone. Every step execs, so $! is the daemon itself.
mknod "$WORK/tun" c 10 200
chmod 666 "$WORK/tun"
unshare -m sh -c 'mount --bind "$0" /dev/net/tun && exec "$@"' "$WORK/tun" \
  ip netns exec "$NS_A" env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY="$SVC/creds" NOTIFY_SOCKET="$WORK/notify.sock" \
  WATCHDOG_USEC=1000000 \
  setpriv --reuid=$SVC_UID --regid=$SVC_UID --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin \
  "$ZEQVPND" --config "$SVC/a.yaml" >> "$WORK/a.log" 2>&1 &
a_PID=$!
PIDS+=("$a_PID")
start_node b "$NS_B"
wait_ping "$NS_B" $TUN4_A 10 || fail "no tunnel with the unprivileged daemon"

[ "$(awk '/^Uid:/{print $2}' /proc/$a_PID/status)" = $SVC_UID ] || fail "daemon does not run as uid $SVC_UID"
capeff=$(awk '/^CapEff:/{print $2}' /proc/$a_PID/status)
[ "$capeff" = 0000000000001000 ] || fail "unprivileged daemon has CapEff $capeff, want only CAP_NET_ADMIN"
"$ZEQVPNCTL" --socket "$SVC/run/zeqvpnd.sock" status | holds -q ": up" || fail "status through the service socket"
# wait_notify AWK SECONDS: true once the awk condition holds on notify.log.
wait_notify() {
  local deadline=$(( $(date +%s%N) + $2 * 1000000000 ))
  until awk "$1" "$WORK/notify.log"; do
    [ "$(date +%s%N)" -lt $deadline ] || return 1
    sleep 0.05
  done
}
# Two WATCHDOG=1 pings (one every 0.5 s, half of WATCHDOG_USEC) before SIGHUP.
wait_notify '/WATCHDOG=1/{n++} END{exit (n < 2)}' 10 || fail "fewer than two WATCHDOG=1 pings within 10 s"
kill -HUP "$a_PID"
# The reload is over at the READY=1 that follows RELOADING=1.
wait_notify '/READY=1/ && r{ok=1} /RELOADING=1/{r=1} END{exit !ok}' 10 \
  || fail "no RELOADING=1 then READY=1 within 10 s of SIGHUP: $(cat "$WORK/notify.log")"
kill -TERM "$a_PID"
wait "$a_PID" || fail "daemon did not exit 0"
wait "$NOTIFY_PID" || true
cat "$WORK/notify.log"
grep -q "READY=1" "$WORK/notify.log" || fail "no READY=1"
[ "$(grep -c "WATCHDOG=1" "$WORK/notify.log")" -ge 2 ] || fail "fewer than two WATCHDOG=1 pings"
grep -q "RELOADING=1" "$WORK/notify.log" || fail "no RELOADING=1 on SIGHUP"
grep -q "STOPPING=1" "$WORK/notify.log" || fail "no STOPPING=1 on SIGTERM"
# The secrets came from the credential files alone.
grep -q "identity zeq-.* imported" "$WORK/a.log" || fail "the unprivileged daemon did not import its key"

log "as root outside systemd"
start_node a "$NS_A"
caps=$(awk '/^Cap(Eff|Prm|Bnd):/{printf "%s=%s ", $1, $2}' /proc/$a_PID/status)
[ "$caps" = "CapPrm:=0000000000001000 CapEff:=0000000000001000 CapBnd:=0000000000001000 " ] \
  || fail "root daemon kept more than CAP_NET_ADMIN: $caps"
wait_ping "$NS_A" $TUN4_B 10 || fail "no ping after the capability drop"
log "PASS"
