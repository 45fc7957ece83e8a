#!/usr/bin/env bash
# A flood of forged handshake responses (valid mac1, for no handshake of B's)
# from A's namespace for 4 s. B rejects each one it looks at and logs it at
# debug; the log's rate limit lets 5 of a kind through per Zeqond and counts
# the rest in one "... and N more" line. Checks: the log grows by little, and
# the lines plus the summaries' counts add up to B's rejected counter.
source "$(dirname "$0")/lib.sh"

setup_pair
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"
before=$(stat -c %s "$WORK/b.log")
in_a python3 - "$b_PUB" "$HERE" <<'PY'
import base64, os, socket, sys, time
sys.path.insert(0, sys.argv[2])
import zeqwire
pub = base64.b64decode(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n, end = 0, time.monotonic() + 4
while time.monotonic() < end:
    msg = bytes([2, 0, 0, 0]) + os.urandom(8) + os.urandom(105)
    s.sendto(msg + zeqwire.mac1(pub, msg), ("198.18.0.2", 51820))
    n += 1
print("sent", n, "forged responses in 4 s")
PY
sleep 3   # the last window ends and B's every-Zeqond tick writes its summary
grown=$(( $(stat -c %s "$WORK/b.log") - before ))
rejected=$(ctl b metrics | awk '/^zeqvpn_handshakes_rejected_total\{reason="unexpected"\}/ {print $2}')
logged=$(grep "handshake rejected (unexpected)" "$WORK/b.log" | grep -vc "more like" || true)
held=$(grep -o '\.\.\. and [0-9]* more like "handshake rejected (unexpected)' "$WORK/b.log" | awk '{s += $3} END {print s+0}')
grep -a '\.\.\. and [0-9]* more like' "$WORK/b.log" | cut -c1-160 | head -5
log "B rejected ${rejected:-0}; logged $logged lines, $held held back and counted; the log grew by $grown bytes"
[ "${rejected:-0}" -gt 20 ] || fail "the flood did not reach B (rejected ${rejected:-0})"
[ $(( logged + held )) -eq "$rejected" ] || fail "lines ($logged) + held back ($held) != rejected ($rejected)"
[ "$held" -gt 0 ] || fail "nothing was held back"
# Per Zeqond at most 5 lines and one summary of this kind, over about 8 Zeqonds.
[ "$logged" -le $(( 5 * 12 )) ] || fail "$logged lines logged for one kind in about 8 Zeqonds"
[ "$grown" -lt 65536 ] || fail "the log grew by $grown bytes under the flood"
stop_node a "$NS_A"
stop_node b "$NS_B"
log "PASS"
