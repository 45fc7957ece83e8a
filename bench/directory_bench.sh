#!/usr/bin/env bash
# Directory sync benchmark: how long a fresh node takes to learn a big mesh
# directory by gossip, and what it costs in memory. Two namespaces (lib.sh's
# A and B): node S (serving, in B) whose state database is pre-filled with N
# genuine signed records (bench/directory_records_gen: fresh nodes of the
# bench's CA, endpoints in TEST-NET-1, which nothing is sent to: no packet is
# ever routed to their tunnel addresses 10.80.x.y), and node A (in A), empty,
# with S as its only YAML peer. S starts and loads its cache (every record
# verified again), then A starts; measured:
#   - S: the time from its start until it holds the N + 1 records (its own),
#     and its RSS then;
#   - A: the time from its start until it holds all N + 2 (S's records, S's
#     own, its own), its RSS (VmRSS) just after start and at full sync, and
#     the gossip counters of both ends;
# for each N given (default 1000 and 10 000); then the same with the etcd
# backend (below), when zeqvpnd takes it. The expectation from
# directory/gossip.hpp: a tick every 2 Zeqonds lists 160 entries (4 pages of
# 40), and a peer sends at most 32 KiB of records a Zeqond: 1000 records in
# about 13 Zeqonds (10 s), 10 000 in 100 to 130 (80 to 100 s).
# Prints numbers, never fails on speed: a benchmark, not a test (exit 1 only
# when a node dies or never completes within its bound). Run as root after a
# build:
#   bash bench/directory_bench.sh [N...]
# Knobs (environment): ZEQ_BUILD_DIR (default build/), POLL_S (seconds
# between polls of A's record count, default 0.25 for N <= 2000, else 1).
# Each poll makes the node build its whole `directory` reply (about 480
# bytes a record) on its control thread: a cost of the measurement.
source "$(dirname "$0")/../tests/integration/lib.sh"

COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1000 10000)
for n in "${COUNTS[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] && [ "$n" -le 60000 ] || { echo "directory_bench.sh: N must be 1..60000, got '$n'" >&2; exit 2; }
done
GEN=$BUILD_DIR/bench/directory_records_gen
[ -x "$ZEQVPND" ] || fail "no zeqvpnd at $ZEQVPND: build first, or set ZEQ_BUILD_DIR"
[ -x "$GEN" ] || fail "no $GEN: build the target directory_records_gen"
Z_MS=777
FIELD_KEY_s=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
UNDER_S=$UNDER4_B
TUN_S=10.77.0.2
TUN_A=10.77.0.1

setup_namespaces
NS_S=$NS_B
"$ZEQVPNCTL" ca init --name benchmesh --dir "$WORK/ca" >/dev/null
for n in s a; do
  make_key "$n"
  pub_var="${n}_PUB"
  tun_var="TUN_${n^^}"
  "$ZEQVPNCTL" ca sign --ca-key "$WORK/ca/ca.key" --name "bench$n" --public-key "${!pub_var}" \
    --signing-key "$("$ZEQVPNCTL" pubkey --signing < "$WORK/$n.key")" --address "${!tun_var}/24" \
    --out "$WORK/$n.crt" 2>/dev/null
done

# node_yaml NAME TUN MAX_RECORDS [BACKEND_YAML]
node_yaml() {
  cat <<YAML
interface:
  name: zeq0
  addresses: [$2/24]
  listen_port: $PORT
  identity_key_file: $WORK/$1.key
log_level: info
mesh:
  ca: $WORK/ca/ca.pub
  certificate: $WORK/$1.crt
directory:
  max_records: $3
${4:-}
control: {socket: $WORK/$1.sock}
state: {database: $WORK/$1.db}
YAML
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# cpu_s PID: CPU seconds (user + system) the process used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# dir_json NAME: `directory` over the control socket, without the records
# array. Not zeqvpnctl: it refuses replies over 1 MiB, and a directory of
# a few thousand records (or `status` with that many peers) is longer.
dir_json() {
  python3 - "$WORK/$1.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"id":1,"cmd":"directory","args":{}}\n')
buf = b""
while b"\n" not in buf:
    chunk = s.recv(1 << 20)
    if not chunk:
        sys.exit(1)
    buf += chunk
reply = json.loads(buf.split(b"\n")[0])
result = reply.get("result", {})
result.pop("records", None)
print(json.dumps(result))
PY
}
held() { dir_json "$1" 2>/dev/null | jq -r '.records_held // 0'; }
# start_big NAME NETNS: lib.sh's start_node, ready when `directory` answers
# (start_node asks for `status`, which a node with thousands of peers from
# its cache answers with more than zeqvpnctl takes).
start_big() {
  local field_var="FIELD_KEY_$1"
  ip netns exec "$2" env ZEQ_MESH_SECRET="$MESH_SECRET" ZEQ_FIELD_KEY="${!field_var}" \
    "$ZEQVPND" --config "$WORK/$1.yaml" >> "$WORK/$1.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  printf -v "${1}_PID" '%s' "$pid"
  local deadline=$(( $(now_ms) + 120000 ))
  until dir_json "$1" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || fail "zeqvpnd $1 exited during start-up: $(tail -n 3 "$WORK/$1.log")"
    [ "$(now_ms)" -lt $deadline ] || fail "zeqvpnd $1 does not answer on its control socket after 120 s"
    sleep 0.05
  done
}
# wait_held NAME PID COUNT SECONDS POLL: until NAME holds COUNT records.
wait_held() {
  local deadline=$(( $(now_ms) + $4 * 1000 ))
  while [ "$(held "$1")" != "$3" ]; do
    kill -0 "$2" 2>/dev/null || fail "zeqvpnd $1 died: $(tail -n 5 "$WORK/$1.log")"
    [ "$(now_ms)" -lt $deadline ] || fail "$1 holds $(held "$1") of $3 records after $4 s"
    sleep "$5"
  done
}

ROWS=()
run_embedded() {
  local n=$1 max=10000
  [ $(( n + 2 )) -le 10000 ] || max=$(( 2 * n ))
  local poll=${POLL_S:-$([ "$n" -le 2000 ] && echo 0.25 || echo 1)}
  rm -f "$WORK"/s.db* "$WORK"/a.db* "$WORK/s.log" "$WORK/a.log"
  node_yaml s $TUN_S $max > "$WORK/s.yaml"
  { node_yaml a $TUN_A $max; cat <<YAML; } > "$WORK/a.yaml"
peers:
  - name: serving
    public_key: $s_PUB
    endpoint: "$UNDER_S:$PORT"
    allowed_ips: [$TUN_S/32]
YAML
  log "N=$n: generating $n records into S's state database"
  local t=$(now_ms)
  "$GEN" --ca-key "$WORK/ca/ca.key" --count "$n" --db "$WORK/s.db" >/dev/null || fail "directory_records_gen failed"
  local gen_ms=$(( $(now_ms) - t ))

  log "N=$n: S starts and loads its cache"
  t=$(now_ms)
  start_big s "$NS_S"
  wait_held s "$s_PID" $(( n + 1 )) 120 0.25
  local s_load_ms=$(( $(now_ms) - t ))
  log "N=$n: S holds its $n records after ${s_load_ms} ms, RSS $(rss_kb "$s_PID") kB, CPU $(cpu_s "$s_PID") s"

  log "N=$n: A starts with S as its only peer"
  t=$(now_ms)
  start_big a "$NS_A"
  local a_rss_start
  a_rss_start=$(rss_kb "$a_PID")
  wait_held a "$a_PID" $(( n + 2 )) $(( 120 + n / 20 )) "$poll"
  local sync_ms=$(( $(now_ms) - t ))
  local a_rss_synced s_rss_synced a_cpu s_cpu
  a_rss_synced=$(rss_kb "$a_PID")
  s_rss_synced=$(rss_kb "$s_PID")
  a_cpu=$(cpu_s "$a_PID")
  s_cpu=$(cpu_s "$s_PID")
  local da ds
  da=$(dir_json a | jq -c --arg z "$("$ZEQVPNCTL" zid <<< "$s_PUB")" \
    '{offers: (.offers | with_entries(select(.value > 0))), gossip: (.gossip[] | select(.zid == $z) | {ticks, pulls_sent, records_received, over_budget, malformed_messages, outstanding})}')
  ds=$(dir_json s | jq -c --arg z "$("$ZEQVPNCTL" zid <<< "$a_PUB")" \
    '.gossip[] | select(.zid == $z) | {ticks, records_sent, queued, unsent}')
  log "N=$n: A complete after ${sync_ms} ms ($(( sync_ms / Z_MS )) Zeqonds); CPU so far: A ${a_cpu} s, S ${s_cpu} s; load $(cut -d' ' -f1-3 /proc/loadavg)"
  log "  A: $da"
  log "  S: $ds"
  # A few Zeqonds more: what the RSS settles at once gossip is in sync.
  sleep 5
  local a_rss_later
  a_rss_later=$(rss_kb "$a_PID")
  stop_node a "$NS_A"
  stop_node s "$NS_S"
  ROWS+=("$(printf '%-8s %-9s %7s %9s %8s %10s %10s %10s %10s %10s' embedded "$n" "$gen_ms" "$s_load_ms" \
    "$(( sync_ms / Z_MS ))" "$sync_ms" "$a_rss_start" "$a_rss_synced" "$a_rss_later" "$s_rss_synced")")
  COUNTERS+=("N=$n A $da S $ds; CPU s: A $a_cpu S $s_cpu")
}

# ---- etcd variant -------------------------------------------------------
# The etcd backend (directory: {backend: etcd, endpoints: [...]}), wired by
# another change that was still in progress when this was written: runs
# only when `zeqvpnd --check` takes such a configuration and an etcd binary
# is at hand, and prints "etcd: not run (why)" otherwise. One etcd member in
# S's namespace, filled with the N generated records (JSON gateway, 100 puts
# a transaction, keys PREFIX/ZID: a node record counts only under its own
# ZID), then A starts with backend etcd and no peers at all;
# measured: A's start until it holds N + 1 (its own), its RSS.
ETCD_PREFIX=/zeqvpn/bench
# etcd_fill NETNS URL STREAM: the records of STREAM (directory_records_gen
# --out) into etcd under ETCD_PREFIX.
etcd_fill() {
  cat > "$WORK/etcd_fill.py" <<'PY'
import base64, json, re, struct, sys, urllib.request
url, stream, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(stream, "rb").read()
records, i = [], 0
while i < len(data):
    n = struct.unpack(">I", data[i:i + 4])[0]
    records.append(data[i + 4:i + 4 + n])
    i += 4 + n
b64 = lambda b: base64.b64encode(b).decode()
def zid_of(record):  # the one ZID a generated node record names (its certificate's)
    zids = set(re.findall(rb"zeq-[0-9a-f]{12}", record))
    if len(zids) != 1:
        sys.exit(f"a generated record names {len(zids)} ZIDs, not one")
    return zids.pop()
for start in range(0, len(records), 100):
    ops = [{"requestPut": {"key": b64(prefix.encode() + b"/" + zid_of(r)), "value": b64(r)}}
           for r in records[start:start + 100]]
    req = urllib.request.Request(url + "/v3/kv/txn", json.dumps({"success": ops}).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as reply:
        if not json.load(reply).get("succeeded"):
            sys.exit("etcd refused a transaction")
print(len(records))
PY
  ip netns exec "$1" python3 "$WORK/etcd_fill.py" "$2" "$3" "$ETCD_PREFIX"
}
etcd_row() { ROWS+=("$(printf '%-8s %-9s %s' etcd "$1" "$2")"); log "etcd, N=$1: $2"; }
run_etcd() {
  local n=$1
  local directory="  backend: etcd
  endpoints: [http://$UNDER_S:2379]
  prefix: $ETCD_PREFIX"
  node_yaml a $TUN_A 20000 "$directory" > "$WORK/a.yaml"
  rm -f "$WORK"/a.db* "$WORK/a.log"
  local why
  if ! why=$(ZEQ_MESH_SECRET=$MESH_SECRET ZEQ_FIELD_KEY=$FIELD_KEY_a "$ZEQVPND" --check --config "$WORK/a.yaml" 2>&1); then
    etcd_row "$n" "not run: zeqvpnd --check refuses backend etcd: $(tail -n 1 <<< "$why")"
    return
  fi
  command -v etcd >/dev/null || { etcd_row "$n" "not run: no etcd binary (Debian package etcd-server)"; return; }
  rm -rf "$WORK/etcd"
  bg "$NS_S" "$WORK/etcd.log" etcd --name bench --data-dir "$WORK/etcd" \
    --listen-client-urls "http://$UNDER_S:2379" --advertise-client-urls "http://$UNDER_S:2379" \
    --listen-peer-urls "http://127.0.0.1:2380" --initial-advertise-peer-urls "http://127.0.0.1:2380" \
    --initial-cluster "bench=http://127.0.0.1:2380" --quota-backend-bytes $((1 << 30))
  local etcd_pid=$BG_PID ok=0
  for _ in $(seq 100); do
    ip netns exec "$NS_S" etcdctl --endpoints "http://$UNDER_S:2379" --command-timeout=1s endpoint health >/dev/null 2>&1 && { ok=1; break; }
    sleep 0.1
  done
  if [ $ok = 0 ]; then etcd_row "$n" "not run: etcd did not start: $(tail -n 1 "$WORK/etcd.log")"; kill "$etcd_pid"; return; fi
  "$GEN" --ca-key "$WORK/ca/ca.key" --count "$n" --out "$WORK/etcd-records.bin" >/dev/null || fail "directory_records_gen failed"
  local t fill_ms
  t=$(now_ms)
  etcd_fill "$NS_S" "http://$UNDER_S:2379" "$WORK/etcd-records.bin" >/dev/null ||
    { etcd_row "$n" "not run: filling etcd failed"; kill "$etcd_pid"; return; }
  fill_ms=$(( $(now_ms) - t ))
  log "etcd, N=$n: filled in ${fill_ms} ms; A starts with backend etcd"
  t=$(now_ms)
  start_big a "$NS_A"
  local rss0 sync_ms rss1 da
  rss0=$(rss_kb "$a_PID")
  if ! ( wait_held a "$a_PID" $(( n + 1 )) $(( 60 + n / 50 )) 0.25 ); then
    etcd_row "$n" "did not complete: A holds $(held a) of $((n + 1)) ($(dir_json a | jq -c '.etcd // {}'))"
  else
    sync_ms=$(( $(now_ms) - t ))
    rss1=$(rss_kb "$a_PID")
    da=$(dir_json a | jq -c '{offers: (.offers | with_entries(select(.value > 0))), etcd}')
    ROWS+=("$(printf '%-8s %-9s %7s %9s %8s %10s %10s %10s %10s %10s' etcd "$n" "-" "$fill_ms" \
      "$(( sync_ms / Z_MS ))" "$sync_ms" "$rss0" "$rss1" "-" "-")")
    COUNTERS+=("etcd N=$n A $da")
  fi
  stop_node a "$NS_A"
  kill "$etcd_pid"
  wait "$etcd_pid" 2>/dev/null || true
}

COUNTERS=()
for n in "${COUNTS[@]}"; do run_embedded "$n"; done
for n in "${COUNTS[@]}"; do run_etcd "$n"; done

echo
echo "directory sync, $(nproc) cores, $(uname -r); times in ms, RSS (VmRSS) in kB"
# S_load_ms: S's start until its cache is loaded (etcd: filling etcd).
printf '%-8s %-9s %7s %9s %8s %10s %10s %10s %10s %10s\n' backend records gen_ms S_load_ms Zeqonds A_sync_ms \
  A_rss_start A_rss_sync A_rss+5s S_rss
for r in "${ROWS[@]}"; do echo "$r"; done
echo
for c in "${COUNTERS[@]}"; do echo "$c"; done
