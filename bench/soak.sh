#!/usr/bin/env bash
# Soak: two zeqvpnd nodes, A and B, each in its own network namespace, with
# cover traffic on, under a bounded iperf3 load A -> B for MINUTES (default
# 60), while
#   - keys rotate on their own (REKEY_AFTER = 60 Zeqonds = 46.6 s),
#   - both nodes reload their configuration every RELOAD_EVERY_S, alternately
#     with `zeqvpnctl reload` and SIGHUP, alternately adding and removing a
#     peer that has no endpoint (so peer set-up and tear-down run each time),
#   - B's daemon is stopped every RESTART_EVERY_S, alternately with SIGTERM
#     and SIGKILL, and started again; the iperf3 rounds simply continue.
# bench/soak_sampler.py records RSS, fds, threads and the daemons' counters
# every Zeqond (0.777 s) in RESULTS/samples.csv; at the end
# bench/soak_report.py prints the trend (A is the long-lived node a leak would
# show in; B per incarnation) and the functional verdict. Exit status 1 on a
# functional problem only (a daemon died unexpectedly, fds or threads grew, a
# reload or restart failed, the tunnel not up at the end, iperf3 moved
# nothing); speed is reported, never judged. Run as root after a build:
#   bash bench/soak.sh [MINUTES]
# Knobs (environment): RATE (iperf3 -b, default 200M, bounded so other work
# keeps a core), ROUND_S (iperf3 round length, 30), RELOAD_EVERY_S and
# RESTART_EVERY_S (180 and 300, or 40 and 65 for runs under 15 minutes),
# COVER (constant) and PADDING (mtu), RESULTS (default
# /var/tmp/zeqvpn-soak-DATE), ZEQ_BUILD_DIR (default build/).
MINUTES=${1:-60}
[[ "$MINUTES" =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: MINUTES must be a whole number of minutes (1 or more), got '$MINUTES'" >&2; exit 2; }
source "$(dirname "$0")/../tests/integration/lib.sh"
BENCH=$(cd "$(dirname "$0")" && pwd)

RATE=${RATE:-200M}
ROUND_S=${ROUND_S:-30}
if [ "$MINUTES" -ge 15 ]; then
  RELOAD_EVERY_S=${RELOAD_EVERY_S:-180}; RESTART_EVERY_S=${RESTART_EVERY_S:-300}
else
  RELOAD_EVERY_S=${RELOAD_EVERY_S:-40}; RESTART_EVERY_S=${RESTART_EVERY_S:-65}
fi
COVER=${COVER:-constant}
PADDING=${PADDING:-mtu}
RESULTS=${RESULTS:-/var/tmp/zeqvpn-soak-$(date +%Y%m%d-%H%M%S)}
DURATION_S=$(( MINUTES * 60 ))
IPERF_PORT=5201

command -v iperf3 >/dev/null || fail "iperf3 missing: bash scripts/install-deps.sh"
[ -x "$ZEQVPND" ] || fail "no zeqvpnd at $ZEQVPND: build first, or set ZEQ_BUILD_DIR"
mkdir -p "$RESULTS"
: > "$RESULTS/problems.txt"
echo "t_s,event,detail" > "$RESULTS/events.csv"
echo "round,start_s,seconds,rc,bytes" > "$RESULTS/iperf.csv"
T0=$(date +%s.%N)

now_s() { python3 -c "import time; print(f'{time.time() - $T0:.1f}')"; }
event() { echo "$(now_s),$1,$2" >> "$RESULTS/events.csv"; log "$1 $2"; }
# problem TEXT: one line in problems.txt (a log tail's newlines become " | ").
problem() { local line; line=$(printf '%s' "$*" | tr '\n' '|' | sed 's/|/ | /g'); log "PROBLEM: $line"; echo "$line" >> "$RESULTS/problems.txt"; }
# lib.sh's fail, plus a line in problems.txt so that the report names it.
fail() { problem "$*"; exit 1; }
# alive PID: running (a zombie whose death bash has not yet reaped is dead).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# exit_of PID: how a child that is no longer alive ended ("exit 1", "signal 9").
exit_of() { local rc=0; wait "$1" 2>/dev/null || rc=$?; [ "$rc" -gt 128 ] && echo "signal $((rc - 128))" || echo "exit $rc"; }
forget_pid() { local p keep=(); for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }

REPORTED=0
SAMPLER_PID=
soak_exit() {
  local rc=$?
  set +e
  if [ "$REPORTED" = 0 ]; then
    REPORTED=1
    touch "$RESULTS/stop"
    [ -n "$SAMPLER_PID" ] && wait "$SAMPLER_PID" 2>/dev/null
    [ "$rc" -ne 0 ] && [ ! -s "$RESULTS/problems.txt" ] && problem "soak.sh stopped early with status $rc"
    python3 "$BENCH/soak_report.py" "$RESULTS" "$DURATION_S" | tee "$RESULTS/report.txt"
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
    cp "$WORK"/*.log "$WORK"/*.yaml "$RESULTS/" 2>/dev/null
    log "results: $RESULTS"
  fi
  (exit "$rc")
  cleanup
}
trap soak_exit EXIT
trap 'problem "interrupted by a signal"; exit 143' TERM INT HUP

setup_pair
for n in a b; do
  sed -i 's/^log_level: debug$/log_level: info/' "$WORK/$n.yaml"
  printf 'cover: %s\npadding: %s\n' "$COVER" "$PADDING" >> "$WORK/$n.yaml"
  cp "$WORK/$n.yaml" "$WORK/$n.base.yaml"
done
# NAME.ghost.yaml: the same plus a peer without an endpoint, for the reloads.
GHOST_PUB=$("$ZEQVPNCTL" genkey | "$ZEQVPNCTL" pubkey)
for n in a b; do
  ip=$([ $n = a ] && echo 10.77.0.99 || echo 10.77.0.98)
  awk -v pub="$GHOST_PUB" -v ip="$ip" '/^control:/{print "  - name: ghost\n    public_key: " pub "\n    allowed_ips: [" ip "/32]"} {print}' \
    "$WORK/$n.base.yaml" > "$WORK/$n.ghost.yaml"
done

B_INC=0
start_b() {
  B_INC=$((B_INC + 1))
  start_node b "$NS_B"
  echo "$B_INC $b_PID" > "$RESULTS/b.pid"
}
start_node a "$NS_A"
echo "1 $a_PID" > "$RESULTS/a.pid"
start_b
wait_ping "$NS_A" $TUN4_B 10 || fail "the tunnel did not come up within 10 s of start"
event start "minutes=$MINUTES rate=$RATE cover=$COVER padding=$PADDING reload_every=${RELOAD_EVERY_S}s restart_every=${RESTART_EVERY_S}s"

python3 "$BENCH/soak_sampler.py" "$RESULTS" "$T0" "a:$WORK/a.sock" "b:$WORK/b.sock" &
SAMPLER_PID=$!
PIDS+=("$SAMPLER_PID")

# iperf3 rounds of ROUND_S, one after another until stopped (SIGTERM), each
# with a fresh one-off server so that a round broken by B's restart cannot
# leave a server stuck; a round's bytes go to iperf.csv.
iperf_loop() {
  trap - EXIT
  local round=0 spid= cpid=
  trap 'kill $cpid $spid 2>/dev/null; exit 0' TERM
  while alive $$; do
    round=$((round + 1))
    local t=$(now_s) rc=0
    ip netns exec "$NS_B" timeout $((ROUND_S + 30)) iperf3 -s -1 -p $IPERF_PORT > "$WORK/iperf-server.out" 2>&1 &
    spid=$!
    sleep 0.5
    ip netns exec "$NS_A" timeout $((ROUND_S + 20)) iperf3 -c $TUN4_B -p $IPERF_PORT -t "$ROUND_S" -b "$RATE" \
      --connect-timeout 3000 -J > "$WORK/iperf-round.json" 2> "$WORK/iperf-client.err" &
    cpid=$!
    wait $cpid || rc=$?
    kill $spid 2>/dev/null || true; wait $spid 2>/dev/null || true
    read -r secs bytes < <(python3 - "$WORK/iperf-round.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print(0, 0); sys.exit()
end = d.get("end", {}).get("sum_received", {})
iv = [i["sum"] for i in d.get("intervals", [])]
print(end.get("seconds") or sum(i["seconds"] for i in iv), end.get("bytes") or sum(i["bytes"] for i in iv))
PY
)
    echo "$round,$t,$secs,$rc,$bytes" >> "$RESULTS/iperf.csv"
    [ "$rc" -eq 0 ] || sleep 1  # the tunnel is down (B restarting): do not spin
  done
}
iperf_loop &
IPERF_LOOP_PID=$!
PIDS+=("$IPERF_LOOP_PID")

RELOADS=0
# reload_node NAME: switch NAME's file between base and ghost and reload it.
reload_node() {
  local n=$1 variant how pid_var="${1}_PID" t0
  variant=$([ $((RELOADS % 2)) -eq 1 ] && echo ghost || echo base)
  cp "$WORK/$n.$variant.yaml" "$WORK/$n.yaml"
  t0=$(date +%s%N)
  if [ $((RELOADS % 4)) -lt 2 ]; then
    how=ctl
    ctl "$n" reload > "$WORK/reload.out" 2>&1 || problem "zeqvpnctl reload of $n ($variant) failed: $(tail -n 1 "$WORK/reload.out")"
  else
    how=sighup
    local before
    before=$(grep -c 'reload of' "$WORK/$n.log" || true)
    kill -HUP "${!pid_var}"
    local ok=0
    for _ in $(seq 50); do
      [ "$(grep -c 'reload of' "$WORK/$n.log" || true)" -gt "$before" ] && { ok=1; break; }
      sleep 0.1
    done
    [ $ok = 1 ] || problem "$n logged no 'reload of' within 5 s of SIGHUP ($variant): $(tail -n 1 "$WORK/$n.log")"
  fi
  event "reload_$how" "$n $variant in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

RESTARTS=0
restart_b() {
  RESTARTS=$((RESTARTS + 1))
  local sig rc=0 want
  sig=$([ $((RESTARTS % 2)) -eq 1 ] && echo TERM || echo KILL)
  want=$([ $sig = TERM ] && echo 0 || echo 137)
  echo "$B_INC -" > "$RESULTS/b.pid"
  kill -$sig "$b_PID"
  wait "$b_PID" || rc=$?
  forget_pid "$b_PID"
  [ "$rc" -eq "$want" ] || problem "zeqvpnd b exited with $rc after SIG$sig (expected $want): $(tail -n 2 "$WORK/b.log")"
  event "restart_b_sig${sig,,}" "incarnation $B_INC pid $b_PID exit $rc"
  sleep 2  # A keeps sending into the void with its old session
  local t0=$(date +%s%N) t1
  start_b
  t1=$(date +%s%N)
  if wait_ping "$NS_A" $TUN4_B 15; then
    event tunnel_back "B started in $(( (t1 - t0) / 1000000 )) ms, tunnel up $(( ($(date +%s%N) - t1) / 1000000 )) ms later (incarnation $B_INC)"
  else
    problem "the tunnel did not come back within 15 s of B's restart (incarnation $B_INC)"
  fi
}

next_reload=$RELOAD_EVERY_S
next_restart=$RESTART_EVERY_S
log "soaking for $MINUTES min; samples in $RESULTS/samples.csv"
while :; do
  elapsed=$(( $(date +%s) - ${T0%.*} ))
  [ "$elapsed" -lt "$DURATION_S" ] || break
  alive "$a_PID" || fail "zeqvpnd a (pid $a_PID) died unexpectedly after ${elapsed} s ($(exit_of "$a_PID")); its log ends: $(tail -n 2 "$WORK/a.log")"
  alive "$b_PID" || fail "zeqvpnd b (pid $b_PID, incarnation $B_INC) died unexpectedly after ${elapsed} s ($(exit_of "$b_PID")); its log ends: $(tail -n 2 "$WORK/b.log")"
  alive "$SAMPLER_PID" || fail "the sampler (pid $SAMPLER_PID) stopped"
  if [ "$elapsed" -ge "$next_reload" ]; then
    RELOADS=$((RELOADS + 1))
    reload_node a
    reload_node b
    next_reload=$((next_reload + RELOAD_EVERY_S))
  fi
  if [ "$elapsed" -ge "$next_restart" ] && [ $((DURATION_S - elapsed)) -gt 20 ]; then
    restart_b
    next_restart=$((next_restart + RESTART_EVERY_S))
  fi
  sleep 1
done

kill -TERM "$IPERF_LOOP_PID" 2>/dev/null; wait "$IPERF_LOOP_PID" 2>/dev/null || true
forget_pid "$IPERF_LOOP_PID"
event end "reloads=$RELOADS restarts=$RESTARTS"
wait_ping "$NS_A" $TUN4_B 10 || problem "tunnel not up at the end: A cannot ping B"
wait_ping "$NS_B" $TUN4_A 10 || problem "tunnel not up at the end: B cannot ping A"
for n in a b; do
  st=$(ctl "$n" --json status | python3 -c "import json, sys; print(json.load(sys.stdin)['peers'][0]['state'])") ||
    st="no answer"
  [ "$st" = up ] || problem "tunnel not up at the end: $n's peer state is '$st'"
done
sleep 2  # two more samples of the idle end state
touch "$RESULTS/stop"; wait "$SAMPLER_PID" 2>/dev/null || true
stop_node a "$NS_A"; forget_pid "$a_PID"
stop_node b "$NS_B"; forget_pid "$b_PID"
[ -s "$RESULTS/problems.txt" ] && exit 1
exit 0
