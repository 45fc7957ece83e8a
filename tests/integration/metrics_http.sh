#!/usr/bin/env bash
# The metrics endpoint (metrics.listen) of a running pair: A serves on
# 127.0.0.1, B on [::1], each inside its namespace. curl scrapes them: the
# text has the HELP/TYPE lines and series of `zeqvpnctl metrics` (values
# move), `promtool check metrics` finds nothing to complain about, other
# paths get 404 and POST 405, garbage 400, one connection carries several
# scrapes; scraping in a loop costs the tunnel no ping; a port in use stops
# the start with one line; a reload that changes the address says to
# restart; the port is free again after a stop and bound again at once by
# the next start.
source "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is missing; scripts/install-deps.sh installs it"
MPORT=9586
setup_pair
printf 'metrics: {listen: 127.0.0.1:%s}\n' $MPORT >> "$WORK/a.yaml"
# A relay A may use (never reached), whose name needs escaping in a label:
# the relay families are in the scrape too, and promtool parses them.
cat >> "$WORK/a.yaml" <<'YAML'
relays:
  - {name: 'r"1\x', public_key: AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=, endpoint: "198.18.0.9:51820"}
YAML
printf 'metrics: {listen: "[::1]:%s"}\n' $MPORT >> "$WORK/b.yaml"

log "a port in use stops the start with one line"
bg "$NS_B" "$WORK/holder.log" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6)
s.bind(("::1", int(sys.argv[1])))
s.listen()
print("listening", flush=True)
time.sleep(120)' $MPORT
HOLDER=$BG_PID
for _ in $(seq 50); do grep -q listening "$WORK/holder.log" && break; sleep 0.1; done
grep -q listening "$WORK/holder.log" || fail "the port holder did not start: $(cat "$WORK/holder.log")"
rc=0
out=$(ip netns exec "$NS_B" env ZEQ_MESH_SECRET="$MESH_SECRET" ZEQ_FIELD_KEY="$FIELD_KEY_b" \
        "$ZEQVPND" --config "$WORK/b.yaml" 2>&1 >/dev/null) || rc=$?
[ $rc -ne 0 ] || fail "zeqvpnd started with its metrics port taken"
# What went before is the log (to stderr too); the error is zeqvpnd's one line.
err=$(printf '%s\n' "$out" | grep '^zeqvpnd: ' || true)
[ "$err" = "zeqvpnd: metrics.listen [::1]:$MPORT: address already in use; stop the other process or choose another port" ] \
  || fail "expected one line naming the setting, value and fix; got: $out"
if in_b ip link show zeq0 >/dev/null 2>&1; then fail "a failed start left zeq0 behind"; fi
[ ! -e "$WORK/b.sock" ] || fail "a failed start left the control socket behind"
log "-> $err"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true

start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no ping A -> B"
grep -q "metrics: serving Prometheus text on http://127.0.0.1:$MPORT/metrics" "$WORK/a.log" || fail "A did not log its endpoint"
URL_A=http://127.0.0.1:$MPORT/metrics

log "scrape A over IPv4 and compare with zeqvpnctl metrics"
in_a curl -sS --fail --max-time 5 -D "$WORK/headers" -o "$WORK/scrape.txt" "$URL_A" || fail "curl could not scrape A"
ctl a metrics > "$WORK/ctl.txt"
holds -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' < "$WORK/headers" \
  || fail "wrong content type: $(cat "$WORK/headers")"
# The same families (HELP and TYPE lines), and the same series (a metric's
# name and labels); values move between the two reads.
diff <(grep '^#' "$WORK/scrape.txt") <(grep '^#' "$WORK/ctl.txt") || fail "HELP/TYPE lines differ from zeqvpnctl metrics"
series() { grep -v '^#' "$1" | sed -E 's/ [^ ]+$//'; }
diff <(series "$WORK/scrape.txt") <(series "$WORK/ctl.txt") || fail "series differ from zeqvpnctl metrics"
holds -Eq '^zeqvpn_peer_up\{peer="peer",zid="zeq-[0-9a-f]+"\} 1$' < "$WORK/scrape.txt" || fail "the scrape does not show the peer up"
holds -qF 'zeqvpn_relay_rtt_seconds{relay="r\"1\\x",zid="zeq-' < "$WORK/scrape.txt" || fail "the relay's name is not escaped"
log "$(grep -c '^# TYPE' "$WORK/scrape.txt") families, $(series "$WORK/scrape.txt" | wc -l) series, $(wc -c < "$WORK/scrape.txt") bytes"

if command -v promtool >/dev/null; then
  out=$(promtool check metrics < "$WORK/scrape.txt" 2>&1) || fail "promtool check metrics failed: $out"
  [ -z "$out" ] || fail "promtool check metrics complains: $out"
  log "promtool check metrics: nothing to complain about"
else
  log "promtool missing (Debian package prometheus, scripts/install-deps.sh): checked with curl only"
fi

log "B over IPv6"
in_b curl -sS --fail --max-time 5 -g "http://[::1]:$MPORT/metrics" | holds -q '^zeqvpn_up{' || fail "no scrape of B over [::1]"

log "paths, methods, garbage, keep-alive"
code() { in_a curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$@"; }
[ "$(code http://127.0.0.1:$MPORT/)" = 404 ] || fail "GET / is not 404"
[ "$(code http://127.0.0.1:$MPORT/other)" = 404 ] || fail "GET /other is not 404"
[ "$(code -X POST -d x=1 "$URL_A")" = 413 ] || fail "POST with a body is not 413"
[ "$(code -X POST "$URL_A")" = 405 ] || fail "POST /metrics is not 405"
in_a curl -s -o /dev/null -D - -X DELETE --max-time 5 "$URL_A" | holds -qi '^allow: GET' || fail "405 without Allow: GET"
[ "$(code -H "X-Pad: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL_A")" = 431 ] || fail "a 9000-byte header is not 431"
answer=$(in_a timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT; printf '\x16\x03\x01garbage\r\n\r\n' >&3; head -n 1 <&3")
[[ "$answer" == "HTTP/1.1 400 Bad Request"* ]] || fail "garbage was answered '$answer', not 400"
connects=$(in_a curl -s -o /dev/null -o /dev/null -o /dev/null --max-time 5 -w '%{num_connects} ' "$URL_A" "$URL_A" "$URL_A")
[ "$connects" = "1 0 0 " ] || fail "three scrapes in one curl did not share one connection (connects: $connects)"
kill -0 "$a_PID" || fail "A died"

log "scraping in a loop while pinging through the tunnel"
bg "$NS_A" "$WORK/ping.log" ping -c 250 -i 0.02 -W 1 $TUN4_B
PING=$BG_PID
: > "$WORK/times"
for _ in $(seq 100); do
  in_a curl -sS --fail --max-time 5 -o /dev/null -w '%{time_total}\n' "$URL_A" >> "$WORK/times" || fail "a scrape failed"
done
wait "$PING" || true
grep -q "250 packets transmitted, 250 received" "$WORK/ping.log" || fail "pings lost while scraping: $(tail -n 2 "$WORK/ping.log")"
log "100 scrapes: $(sort -n "$WORK/times" | awk '{t[NR]=$1; s+=$1} END {printf "median %.2f ms, max %.2f ms, mean %.2f ms", t[int((NR+1)/2)]*1000, t[NR]*1000, s/NR*1000}'); no ping lost"
# The renderings the log shows (its rate limit keeps some back): at most
# one a second, however fast the scrapes come.
grep -Eo 'metrics: rendered [0-9]+ bytes in [0-9]+ µs' "$WORK/a.log" | awk '{print $(NF-1)}' | sort -n \
  | awk '{t[NR]=$1} END {if (NR) printf "renderings on the control thread: median %d µs, max %d µs (%d logged)\n", t[int((NR+1)/2)], t[NR], NR}'

log "a reload that changes metrics.listen says to restart"
sed -i "s|metrics: {listen: 127.0.0.1:$MPORT}|metrics: {listen: 127.0.0.1:$((MPORT + 1))}|" "$WORK/a.yaml"
out=$(ctl a reload) || fail "the reload failed: $out"
echo "$out" | holds -qF "metrics.listen: restart zeqvpnd to apply" || fail "the reload did not say to restart: $out"
grep -q "reload: metrics.listen takes effect at the next start; restart zeqvpnd to apply" "$WORK/a.log" \
  || fail "the reload's warning was not logged"
in_a curl -sS --fail --max-time 5 -o /dev/null "$URL_A" || fail "the running endpoint stopped at the reload"
if in_a curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$((MPORT + 1))/metrics"; then fail "the new port answers before a restart"; fi
# A second reload with the file unchanged says it again (the running address is the old one).
ctl a reload | holds -qF "metrics.listen: restart zeqvpnd to apply" || fail "a second reload forgot the pending change"

log "stop frees the port; the next start binds the new address at once"
in_a curl -s -o /dev/null --max-time 5 -H 'Connection: close' "$URL_A"   # leaves a TIME_WAIT on the server's side
stop_node a "$NS_A"
if in_a curl -s --max-time 2 -o /dev/null "$URL_A"; then fail "the endpoint still answers after the stop"; fi
sed -i "s|127.0.0.1:$((MPORT + 1))|127.0.0.1:$MPORT|" "$WORK/a.yaml"
start_node a "$NS_A"
in_a curl -sS --fail --max-time 5 -o /dev/null "$URL_A" || fail "the restarted node does not serve on its port"
log "PASS"
