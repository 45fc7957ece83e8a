#!/usr/bin/env bash
# Builds the Debian package zeqvpn_VERSION-1_ARCH.deb and checks it with
# lintian (no error allowed).
#
# Why CPack's DEB generator, not a debian/ directory built with
# dpkg-buildpackage: `cmake --install` already lays out everything the
# package holds (binaries, units, sysusers.d, tmpfiles.d, man pages,
# examples, completion), and CPack packages exactly that tree from an
# existing build, in seconds. dpkg-buildpackage would configure and build the
# whole project once more from scratch in its own tree (minutes on 2 cores,
# with the tests unless told not to), which is also what kept it out of the
# test that builds the package on every run. What debhelper would add for
# lintian is small and lives in packaging/deb/: the changelog and copyright
# file, man pages and changelog gzipped (finish-tree.cmake), the maintainer
# scripts (sysusers, tmpfiles, daemon-reload, stop and kill-switch release on
# removal, purge of the state). CPack strips the binaries and computes the
# shared-library dependencies with dpkg-shlibdeps.
#
# Usage: bash scripts/package.sh [--no-build] [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR  default build (the one scripts/test.sh and demo.sh use):
#              configured as they do when missing, then zeqvpnd, zeqvpnctl
#              and the completion scripts are brought up to date. Any build
#              of the project will do, whatever its install prefix (the
#              package installs under /usr), but not a sanitizer or fuzzing
#              build.
#   OUT_DIR    where the .deb goes (default BUILD_DIR).
#   --no-build package BUILD_DIR as it is (it must be built).
# Prints the package's path on the last line of stdout.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
build=1
if [ "${1:-}" = --no-build ]; then build=0; shift; fi
BUILD_DIR=$(realpath -m "${1:-$SRC/build}")
OUT_DIR=$(realpath -m "${2:-$BUILD_DIR}")

if [ $build = 1 ]; then
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$SRC" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
  fi
  cmake --build "$BUILD_DIR" --target zeqvpnd zeqvpnctl zeqvpnctl_completion --parallel "${JOBS:-$(nproc)}" >&2
fi
if grep -qE '^(ZEQ_SANITIZE:STRING=.+|ZEQ_FUZZ:BOOL=ON)$' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  echo "package: $BUILD_DIR is a sanitizer or fuzzing build; package a plain one (default: build)" >&2
  exit 1
fi
[ -f "$BUILD_DIR/CPackConfig.cmake" ] || { echo "package: $BUILD_DIR is not a configured zeqvpn build" >&2; exit 1; }

mkdir -p "$OUT_DIR"
# cpack stages the tree in OUT_DIR/_CPack_Packages; a stale one would only mislead.
rm -rf "$OUT_DIR/_CPack_Packages"
cpack --config "$BUILD_DIR/CPackConfig.cmake" -B "$OUT_DIR" >&2
rm -rf "$OUT_DIR/_CPack_Packages"
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$BUILD_DIR/CPackConfig.cmake")
deb=$(ls -t "$OUT_DIR"/zeqvpn_"$version"-*_*.deb | head -n 1)
[ -f "$deb" ] || { echo "package: cpack made no zeqvpn_$version .deb in $OUT_DIR" >&2; exit 1; }

if command -v lintian >/dev/null; then
  # --fail-on error: warnings are reported, errors fail the build.
  lintian --fail-on error --info "$deb" >&2 || { echo "package: lintian found errors in $deb" >&2; exit 1; }
else
  echo "package: lintian is not installed (scripts/install-deps.sh installs it); not checked" >&2
fi
echo "$deb"
