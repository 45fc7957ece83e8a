#!/usr/bin/env bash
# The soak (bench/soak.sh) for 3 minutes: two nodes under iperf3 with cover
# on, a real rekey, reloads by zeqvpnctl and SIGHUP, and B restarted twice
# (SIGTERM, then SIGKILL). Fails only on a functional problem, which soak.sh
# and its report name: a daemon died unexpectedly, fds or threads grew (end >
# start + slack), a reload or restart failed, the tunnel not up at the end,
# iperf3 moved no bytes. Never on speed; the rate is bounded (RATE, 100M here)
# so the suite does not load the machine.
#
# soak.sh builds and cleans up its own namespaces (zq<its PID>a/b). This
# wrapper bounds it in time and, should it have to kill it, removes what it
# left by that PID: the processes in those namespaces, then the namespaces.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIMIT_S=330  # 3 minutes of soak, set-up, the end checks, the report
RESULTS=$(mktemp -d /tmp/zeqvpn-soak-short.XXXXXX)
SOAK_PID=

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
cleanup() {
  local rc=$?
  set +e
  if [ -n "$SOAK_PID" ] && kill -0 "$SOAK_PID" 2>/dev/null; then
    kill -TERM "$SOAK_PID"
    for _ in $(seq 300); do kill -0 "$SOAK_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SOAK_PID" 2>/dev/null
  fi
  if [ -n "$SOAK_PID" ]; then
    for ns in "zq${SOAK_PID}a" "zq${SOAK_PID}b"; do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
      ip netns del "$ns" 2>/dev/null
      rm -rf "/etc/netns/$ns"
    done
  fi
  [ $rc -eq 0 ] && rm -rf "$RESULTS" || log "soak results kept in $RESULTS"
  exit $rc
}
trap cleanup EXIT

RESULTS=$RESULTS RATE=${RATE:-100M} bash "$HERE/../../bench/soak.sh" 3 &
SOAK_PID=$!
deadline=$(( $(date +%s) + LIMIT_S ))
while kill -0 "$SOAK_PID" 2>/dev/null && [ "$(date +%s)" -lt $deadline ]; do sleep 1; done
if kill -0 "$SOAK_PID" 2>/dev/null; then
  log "FAIL: the 3-minute soak was still running after ${LIMIT_S} s"
  exit 1
fi
rc=0
wait "$SOAK_PID" || rc=$?
[ -f "$RESULTS/summary.json" ] || { log "FAIL: the soak wrote no summary (exit $rc)"; exit 1; }
# The report's verdict, and the parts of it this test is about, checked again
# from the summary so that a report that printed nothing cannot pass.
python3 - "$RESULTS/summary.json" <<'PY' || exit 1
import json, sys
s = json.load(open(sys.argv[1]))
bad = list(s["problems"])
if not s["a"]:
    bad.append("no samples of node a")
if len(s["b"]) < 3:
    bad.append(f"node b ran {len(s['b'])} incarnations, expected 3 (two restarts)")
if s["iperf"]["bytes"] == 0:
    bad.append("iperf3 moved no bytes")
if s["rekeys"]["a"] + s["rekeys"]["b"] == 0:
    bad.append("no rekey in 3 minutes")
for p in bad:
    print(f"FAIL: {p}")
sys.exit(1 if bad else 0)
PY
[ "$rc" -eq 0 ] || { log "FAIL: soak.sh exited with $rc"; exit 1; }
log "PASS"
