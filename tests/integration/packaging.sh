#!/usr/bin/env bash
# What `cmake --install` ships: the generated systemd units pass
# `systemd-analyze verify` with no warning at all and their `systemd-analyze
# security` exposure is at most 3.0; the sysusers.d and tmpfiles.d entries
# create the user and directories they promise (in a scratch root; nothing on
# this machine is touched); the man pages render without a groff warning; and
# the install tree holds everything in the usual places.
set -euo pipefail
BUILD_DIR=${ZEQ_BUILD_DIR:?}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/zeqvpn-units.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# verify wants the binaries the units name; point them at this build.
for unit in "$BUILD_DIR"/systemd/*.service; do
  grep -q "^ExecStart=/.*/zeqvpnd --config /etc/zeqvpn/" "$unit" || fail "$(basename "$unit"): unexpected ExecStart"
  sed -e "s|^\(Exec[A-Za-z]*=\)[^ ]*/zeqvpnd |\1$BUILD_DIR/daemon/zeqvpnd |" \
      -e "s|^\(Exec[A-Za-z]*=\)[^ ]*/zeqvpnctl |\1$BUILD_DIR/cli/zeqvpnctl |" "$unit" > "$WORK/$(basename "$unit")"
done
cp "$WORK/zeqvpnd@.service" "$WORK/zeqvpnd@office.service"

for unit in zeqvpnd.service zeqvpnd@office.service zeqvpn-relay.service; do
  out=$(cd "$WORK" && systemd-analyze verify --man=no "./$unit" 2>&1) || fail "$unit: verify failed: $out"
  [ -z "$out" ] || fail "$unit: verify warned: $out"
  score=$(cd "$WORK" && systemd-analyze security --offline=true "./$unit" 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  [ -n "$score" ] || fail "$unit: no exposure score"
  echo "$unit: verify clean, exposure $score"
  awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "$unit: exposure $score is above 3.0"
done

ROOT="$WORK/root"
mkdir -p "$ROOT/etc"
systemd-sysusers --root="$ROOT" "$SRC/systemd/zeqvpn.sysusers" 2>&1
grep -q '^zeqvpn:x:[0-9]*:[0-9]*:zeqvpn mesh VPN:/var/lib/zeqvpn:' "$ROOT/etc/passwd" || fail "sysusers made no zeqvpn user"
grep -q '^zeqvpn:x:' "$ROOT/etc/group" || fail "sysusers made no zeqvpn group"
systemd-tmpfiles --root="$ROOT" --create "$SRC/systemd/zeqvpn.tmpfiles" 2>&1
uid=$(awk -F: '$1=="zeqvpn"{print $3}' "$ROOT/etc/passwd")
for spec in "etc/zeqvpn 750 0" "etc/zeqvpn/credentials 700 0" "var/lib/zeqvpn 700 $uid" "run/zeqvpn 750 $uid"; do
  set -- $spec
  [ "$(stat -c '%a %u' "$ROOT/$1")" = "$2 $3" ] || fail "/$1 is $(stat -c '%a %u' "$ROOT/$1"), want $2 $3"
done
for page in "$SRC"/docs/man/*; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
done

cmake --install "$BUILD_DIR" --prefix "$WORK/inst" >/dev/null
for f in sbin/zeqvpnd bin/zeqvpnctl lib/systemd/system/zeqvpnd.service lib/systemd/system/zeqvpnd@.service \
         lib/systemd/system/zeqvpn-relay.service lib/sysusers.d/zeqvpn.conf lib/tmpfiles.d/zeqvpn.conf \
         share/man/man8/zeqvpnd.8 share/man/man8/zeqvpnctl.8 share/man/man5/zeqvpn.yaml.5 \
         share/doc/zeqvpn/examples/zeqvpn.yaml share/doc/zeqvpn/examples/relay.yaml share/doc/zeqvpn/control.md share/doc/zeqvpn/protocol.md; do
  [ -s "$WORK/inst/$f" ] || fail "cmake --install did not install $f"
done
echo "PASS"
