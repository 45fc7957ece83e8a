#!/usr/bin/env bash
# What `cmake --install` ships: the generated systemd units pass
# `systemd-analyze verify` with no warning at all and their `systemd-analyze
# security` exposure is at most 3.0; the boot-time kill switch unit is ordered
# before network-pre.target and pulled in by the node's unit; the sysusers.d
# and tmpfiles.d entries create the user and directories they promise (in a
# scratch root; nothing on this machine is touched); the man pages render
# without a groff warning; and the install tree holds everything in the usual
# places, its units naming the programs where that install put them.
set -euo pipefail
BUILD_DIR=${ZEQ_BUILD_DIR:?}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/zeqvpn-units.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# verify wants the binaries the units name; point them at this build.
for unit in "$BUILD_DIR"/systemd/*.service; do
  case $(basename "$unit") in
    zeqvpn-killswitch*) grep -q "^ExecStart=/usr/sbin/nft -f /var/lib/zeqvpn/.*killswitch.nft$" "$unit" ;;
    *) grep -q "^ExecStart=/.*/zeqvpnd --config /etc/zeqvpn/" "$unit" ;;
  esac || fail "$(basename "$unit"): unexpected ExecStart"
  sed -e "s|^\(Exec[A-Za-z]*=\)[^ ]*/zeqvpnd |\1$BUILD_DIR/daemon/zeqvpnd |" \
      -e "s|^\(Exec[A-Za-z]*=\)[^ ]*/zeqvpnctl |\1$BUILD_DIR/cli/zeqvpnctl |" "$unit" > "$WORK/$(basename "$unit")"
done
cp "$WORK/zeqvpnd@.service" "$WORK/zeqvpnd@office.service"
cp "$WORK/zeqvpn-killswitch@.service" "$WORK/zeqvpn-killswitch@office.service"

# The boot-time kill switch: early (no default dependencies), before the
# network is configured, after the file systems and the service user exist;
# the node's unit wants it and starts after it; the relay's does not.
ks=$WORK/zeqvpn-killswitch.service
for line in DefaultDependencies=no Wants=network-pre.target "Before=network-pre.target shutdown.target" \
            "After=local-fs.target systemd-sysusers.service nftables.service" Conflicts=shutdown.target \
            Type=oneshot RemainAfterExit=yes ConditionPathExists=/var/lib/zeqvpn/killswitch.nft; do
  grep -qxF "$line" "$ks" || fail "zeqvpn-killswitch.service lacks $line"
done
grep -qxF ConditionPathExists=/var/lib/zeqvpn/%i/killswitch.nft "$WORK/zeqvpn-killswitch@.service" ||
  fail "zeqvpn-killswitch@.service does not load the instance's own file"
for pair in "zeqvpnd.service zeqvpn-killswitch.service" "zeqvpnd@.service zeqvpn-killswitch@%i.service"; do
  set -- $pair
  grep -qxF "Wants=network-online.target $2" "$WORK/$1" && grep -qxF "After=network-online.target $2" "$WORK/$1" ||
    fail "$1 does not want and follow $2"
done
if grep -q killswitch "$WORK/zeqvpn-relay.service"; then fail "zeqvpn-relay.service pulls in a kill switch"; fi

for unit in zeqvpnd.service zeqvpnd@office.service zeqvpn-relay.service zeqvpn-killswitch.service \
            zeqvpn-killswitch@office.service; do
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
         lib/systemd/system/zeqvpn-relay.service lib/systemd/system/zeqvpn-killswitch.service \
         lib/systemd/system/zeqvpn-killswitch@.service lib/sysusers.d/zeqvpn.conf lib/tmpfiles.d/zeqvpn.conf \
         share/man/man8/zeqvpnd.8 share/man/man8/zeqvpnctl.8 share/man/man5/zeqvpn.yaml.5 \
         share/bash-completion/completions/zeqvpnctl share/zsh/vendor-completions/_zeqvpnctl \
         share/doc/zeqvpn/examples/zeqvpn.yaml share/doc/zeqvpn/examples/relay.yaml share/doc/zeqvpn/control.md share/doc/zeqvpn/protocol.md; do
  [ -s "$WORK/inst/$f" ] || fail "cmake --install did not install $f"
done
# The units name the programs where this install put them (the prefix of
# the install, not the one configured).
for unit in zeqvpnd.service zeqvpnd@.service zeqvpn-relay.service; do
  grep -qxF "ExecStart=$WORK/inst/sbin/zeqvpnd --config $(sed -n 's/^ExecStart=[^ ]* --config //p' "$BUILD_DIR/systemd/$unit")" \
    "$WORK/inst/lib/systemd/system/$unit" || fail "installed $unit: $(grep ^ExecStart "$WORK/inst/lib/systemd/system/$unit")"
done
grep -qxF "ExecReload=$WORK/inst/bin/zeqvpnctl --config /etc/zeqvpn/zeqvpn.yaml reload" "$WORK/inst/lib/systemd/system/zeqvpnd.service" ||
  fail "installed zeqvpnd.service: $(grep ^ExecReload "$WORK/inst/lib/systemd/system/zeqvpnd.service")"
echo "PASS"
