#!/usr/bin/env bash
# A damaged state database: garbage over the header, then (on a good copy)
# garbage over pages in the middle of the file. Each time zeqvpnd refuses to
# start with one line naming the file and what to do, exits 1 (not a signal),
# leaves no interface behind and does not write to the file.
source "$(dirname "$0")/lib.sh"

setup_pair
start_node a "$NS_A"
start_node b "$NS_B"
wait_ping "$NS_A" $TUN4_B 10 || fail "no tunnel"
in_a ping -c 20 -i 0.01 -s 1000 $TUN4_B >/dev/null || fail "ping with payload failed"
stop_node a "$NS_A"
stop_node b "$NS_B"
[ ! -e "$WORK/a.db-wal" ] || [ ! -s "$WORK/a.db-wal" ] || fail "the WAL was not folded into the database at a clean stop"
cp "$WORK/a.db" "$WORK/a.db.good"
pages=$(( $(stat -c %s "$WORK/a.db") / 4096 ))
log "database: $pages pages of 4096 bytes"
[ "$pages" -ge 4 ] || fail "database unexpectedly small ($pages pages)"

refuses() {  # refuses WHAT: starts A on the damaged file and expects the one-line refusal
  local before rc=0 out
  before=$(sha256sum < "$WORK/a.db")
  out=$(in_a env ZEQ_MESH_SECRET=$MESH_SECRET ZEQ_FIELD_KEY=$FIELD_KEY_a timeout 20 "$ZEQVPND" --config "$WORK/a.yaml" 2>&1) || rc=$?
  echo "$out"
  [ $rc -eq 1 ] || fail "$1: exit code $rc, expected 1 (a crash or a hang is >1)"
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$1: expected exactly one line"
  echo "$out" | holds -q "^zeqvpnd: state database $WORK/a.db is damaged (.*); restore it from a backup, or move it aside" \
    || fail "$1: the line does not name the file and the fix"
  if in_a ip link show zeq0 >/dev/null 2>&1; then fail "$1: interface left behind"; fi
  [ "$(sha256sum < "$WORK/a.db")" = "$before" ] || fail "$1: the damaged file was written to"
}

log "garbage over the header"
head -c 4096 /dev/urandom | dd of="$WORK/a.db" bs=4096 count=1 conv=notrunc status=none
refuses "garbage header"

log "garbage over pages 2..$(( pages - 1 )) (the header intact)"
cp "$WORK/a.db.good" "$WORK/a.db"
head -c $(( (pages - 2) * 4096 )) /dev/urandom | dd of="$WORK/a.db" bs=4096 seek=1 conv=notrunc status=none
refuses "garbage pages"

log "the good copy starts again"
cp "$WORK/a.db.good" "$WORK/a.db"
start_node a "$NS_A"
stop_node a "$NS_A"
log "PASS"
