#!/usr/bin/env bash
# The Debian package: scripts/package.sh makes it from this build (CPack),
# lintian reports no error, and its contents are where Debian wants them
# (binaries stripped, units naming /usr/sbin/zeqvpnd, man pages gzipped,
# copyright and changelog, completion, examples; nothing outside /usr). Then
# a real `apt-get install ./zeqvpn_*.deb` in a throwaway copy of this
# machine: an overlay of / in private mount and network namespaces, chrooted
# (nothing on the host changes, and the maintainer scripts' nftables work
# meets an empty ruleset): the maintainer scripts make the user and the
# directories, `zeqvpnctl version` and `zeqvpnd --version` run, the installed
# units pass `systemd-analyze verify`, bash-completion finds the completion;
# removal lifts a kill switch left armed, and `apt-get purge` leaves none of
# the package's files and no state.
set -euo pipefail
BUILD_DIR=${ZEQ_BUILD_DIR:?}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/zeqvpn-package.XXXXXX)
cleanup() {
  local rc=$?
  # The overlay and its tmpfs live in the namespace, gone with its process.
  [ $rc -ne 0 ] && [ -f "$WORK/package.log" ] && tail -n 30 "$WORK/package.log"
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }

deb=$(bash "$SRC/scripts/package.sh" --no-build "$BUILD_DIR" "$WORK" 2>"$WORK/package.log" | tail -n 1) ||
  fail "scripts/package.sh failed"
[ -f "$deb" ] || fail "scripts/package.sh made no package"
log "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
if command -v lintian >/dev/null; then
  errors=$(grep -c '^E: ' "$WORK/package.log" || true)
  warnings=$(grep -c '^W: ' "$WORK/package.log" || true)
  [ "$errors" = 0 ] || fail "lintian: $(grep '^E: ' "$WORK/package.log")"
  log "lintian: 0 errors, $warnings warnings"
  grep '^W: ' "$WORK/package.log" || true
fi

# The control fields.
[ "$(dpkg-deb -f "$deb" Package)" = zeqvpn ] || fail "package name $(dpkg-deb -f "$deb" Package)"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libc6 libnftables1 libsodium23 libssl3 libsystemd0 nftables systemd init-system-helpers; do
  grep -qE "(^|, | \| )$d( |,|$)" <<< "$depends" || fail "Depends lacks $d: $depends"
done
log "Depends: $depends"
# zeqvpnd loads libsystemd only when systemd-resolved is to be told something
# (dns/sd_bus_library.hpp); a link to it would map it, and the five libraries
# it needs, into every daemon.
dpkg-deb -x "$deb" "$WORK/unpacked"
needed=$(readelf -d "$WORK/unpacked/usr/sbin/zeqvpnd" | awk '/NEEDED/{print $5}' | tr -d '[]' | tr '\n' ' ')
grep -q 'libc\.so\.6' <<< "$needed" || fail "could not read zeqvpnd's NEEDED entries: '$needed'"
grep -q libsystemd <<< "$needed" && fail "zeqvpnd links libsystemd again: NEEDED $needed"
# Both programs carry the C++ runtime, yaml-cpp, spdlog and fmt built in
# (CMakeLists.txt, core/spdlog_fmt_library.cpp): no C++ shared object is
# loaded, and the copyright file carries the notices of what is built in.
for program in usr/sbin/zeqvpnd usr/bin/zeqvpnctl; do
  dynamic=$(readelf -d "$WORK/unpacked/$program") || fail "readelf cannot read $program"
  grep -q 'libc\.so\.6' <<< "$dynamic" || fail "could not read $program's NEEDED entries"
  cxx=$(grep -oE 'lib(stdc\+\+|gcc_s|yaml-cpp|spdlog|fmt)\.so[^]]*' <<< "$dynamic" || true)
  [ -z "$cxx" ] || fail "$program links C++ shared objects again: $cxx"
done
for notice in "yaml-cpp, Copyright 2008 Jesse Beder" "spdlog, Copyright (c) 2014-2016 Gabi Melman" "License: X11" "License: Expat"; do
  grep -qF "$notice" "$WORK/unpacked/usr/share/doc/zeqvpn/copyright" || fail "the copyright file lacks '$notice'"
done
log "zeqvpnd NEEDED: $needed"

# The contents.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$WORK/files"
for f in /usr/sbin/zeqvpnd /usr/bin/zeqvpnctl \
         /usr/lib/systemd/system/zeqvpnd.service /usr/lib/systemd/system/zeqvpnd@.service \
         /usr/lib/systemd/system/zeqvpn-relay.service /usr/lib/systemd/system/zeqvpn-killswitch.service \
         /usr/lib/systemd/system/zeqvpn-killswitch@.service \
         /usr/lib/sysusers.d/zeqvpn.conf /usr/lib/tmpfiles.d/zeqvpn.conf \
         /usr/share/man/man8/zeqvpnd.8.gz /usr/share/man/man8/zeqvpnctl.8.gz /usr/share/man/man5/zeqvpn.yaml.5.gz \
         /usr/share/bash-completion/completions/zeqvpnctl /usr/share/zsh/vendor-completions/_zeqvpnctl \
         /usr/share/doc/zeqvpn/examples/zeqvpn.yaml /usr/share/doc/zeqvpn/examples/relay.yaml \
         /usr/share/doc/zeqvpn/copyright /usr/share/doc/zeqvpn/changelog.Debian.gz; do
  grep -qxF "$f" "$WORK/files" || fail "the package lacks $f"
done
outside=$(grep -vE '^/(usr(/.*)?)?$' "$WORK/files" || true)
[ -z "$outside" ] || fail "files outside /usr: $outside"
mkdir "$WORK/x"
dpkg-deb -x "$deb" "$WORK/x"
for bin in usr/sbin/zeqvpnd usr/bin/zeqvpnctl; do
  if readelf -S "$WORK/x/$bin" | grep -qE '\.(symtab|debug_info)'; then fail "$bin is not stripped"; fi
done
grep -q '^ExecStart=/usr/sbin/zeqvpnd --config /etc/zeqvpn/zeqvpn.yaml$' "$WORK/x/usr/lib/systemd/system/zeqvpnd.service" ||
  fail "zeqvpnd.service does not run /usr/sbin/zeqvpnd: $(grep ^ExecStart "$WORK/x/usr/lib/systemd/system/zeqvpnd.service")"
log "contents: $(wc -l < "$WORK/files") entries, all under /usr, binaries stripped"

# A real install in a copy-on-write view of this machine.
cat > "$WORK/inside.sh" <<'INSIDE'
set -euo pipefail
WORK=$1 DEB=$2
R=$WORK/ovl/root
mkdir -p "$WORK/ovl"
mount -t tmpfs tmpfs "$WORK/ovl"
mkdir -p "$WORK/ovl/upper" "$WORK/ovl/work" "$R"
mount -t overlay overlay -o lowerdir=/,upperdir="$WORK/ovl/upper",workdir="$WORK/ovl/work" "$R"
mount --rbind /proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --rbind /sys "$R/sys"
mount -t tmpfs tmpfs "$R/run"   # no /run/systemd/system: no systemctl from the scripts
mkdir -p "$R/root/pkg"
cp "$DEB" "$R/root/pkg/"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
in_root test ! -e /usr/bin/zeqvpnctl || { echo "zeqvpnctl is installed on this machine already: the check would prove nothing"; exit 1; }
ip link set lo up
in_root apt-get install -y -q /root/pkg/"$(basename "$DEB")" > "$WORK/apt-install.log" 2>&1 ||
  { cat "$WORK/apt-install.log"; exit 1; }
echo "apt-get install: ok"
in_root zeqvpnctl version
in_root zeqvpnd --version
in_root dpkg-query -W -f='${Status} ${Version}\n' zeqvpn
in_root getent passwd zeqvpn | cut -d: -f1,6,7
for d in /etc/zeqvpn /etc/zeqvpn/credentials /var/lib/zeqvpn /run/zeqvpn; do
  in_root stat -c "$d %a %U:%G" "$d"
done
in_root systemd-analyze verify --man=no zeqvpnd.service zeqvpn-relay.service zeqvpn-killswitch.service 2>&1 | sed 's/^/verify: /'
in_root man -w zeqvpnd zeqvpnctl zeqvpn.yaml
if [ -f "$R/usr/share/bash-completion/bash_completion" ]; then
  in_root bash -c 'source /usr/share/bash-completion/bash_completion; _completion_loader zeqvpnctl; complete -p zeqvpnctl'
fi
# A kill switch left armed (always mode, daemon stopped) is lifted on removal.
nft add table inet zeqvpn
nft add chain inet zeqvpn killswitch_output '{ type filter hook output priority filter; policy drop; }'
in_root apt-get purge -y -q zeqvpn > "$WORK/apt-purge.log" 2>&1 || { cat "$WORK/apt-purge.log"; exit 1; }
echo "apt-get purge: ok"
if nft list table inet zeqvpn >/dev/null 2>&1; then echo "table inet zeqvpn still there after removal"; exit 1; fi
in_root dpkg-query -W -f='${Status}\n' zeqvpn 2>&1 || true
for f in /usr/sbin/zeqvpnd /usr/bin/zeqvpnctl /usr/lib/systemd/system/zeqvpnd.service /var/lib/zeqvpn; do
  if [ -e "$R$f" ]; then echo "$f is still there after purge"; exit 1; fi
done
echo "after purge: files, state and kill switch gone"
INSIDE
timeout 150 unshare --mount --net --propagation private bash "$WORK/inside.sh" "$WORK" "$deb" > "$WORK/inside.log" 2>&1 ||
  { cat "$WORK/inside.log"; fail "the install in a scratch copy of this machine failed"; }
sed 's/^/  /' "$WORK/inside.log"
grep -qx "zeqvpnctl $(dpkg-deb -f "$deb" Version | sed 's/-[^-]*$//') (zeqvpn/1)" "$WORK/inside.log" ||
  fail "zeqvpnctl version did not print the package's version"
grep -qx 'zeqvpn:/var/lib/zeqvpn:.*' "$WORK/inside.log" || fail "postinst made no zeqvpn user"
for want in "/etc/zeqvpn 750 root:zeqvpn" "/etc/zeqvpn/credentials 700 root:root" \
            "/var/lib/zeqvpn 700 zeqvpn:zeqvpn" "/run/zeqvpn 750 zeqvpn:zeqvpn"; do
  grep -qxF "$want" "$WORK/inside.log" || fail "postinst: want $want"
done
if grep -q '^verify: ' "$WORK/inside.log"; then fail "systemd-analyze verify of the installed units warned"; fi
grep -q 'zeqvpnd.8.gz' "$WORK/inside.log" || fail "man does not find zeqvpnd(8)"
if [ -f /usr/share/bash-completion/bash_completion ]; then
  grep -qx 'complete -F _zeqvpnctl zeqvpnctl' "$WORK/inside.log" || fail "bash-completion does not load zeqvpnctl's completion"
fi
log PASS
