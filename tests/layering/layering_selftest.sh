#!/usr/bin/env bash
# The layering check fails when it should: on a copy of the tree's sources,
# a sideways include (mesh/ including store/), an upward one (protocol/
# including mesh/), a forbidden system header (protocol/ calling libsodium),
# Boost.Asio in a header, randomness or the environment used by a pure
# module, OpenSSL outside crypto/ and a library linked sideways must each be
# reported; a build tree inside the source tree is skipped; the untouched
# copy must pass.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d /tmp/zeqvpn-layering.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
copy_tree() {
  rm -rf "$WORK/tree"
  mkdir -p "$WORK/tree"
  # Sources only: not tests/, .git, or any build tree (a folder holding
  # CMakeCache.txt, whatever its name).
  (cd "$ROOT" && find . \( -path ./tests -o -path ./.git -o -type d -exec test -e '{}/CMakeCache.txt' ';' \) -prune -o \
    \( -name '*.cpp' -o -name '*.hpp' \) -print | tar -cf - -T -) | tar -xf - -C "$WORK/tree"
}
check() { python3 "$HERE/check_layering.py" "$WORK/tree" --edges "$HERE/allowed_edges.txt"; }

copy_tree
mkdir -p "$WORK/tree/build-asan/CMakeFiles" && touch "$WORK/tree/build-asan/CMakeCache.txt"
echo '#include "daemon/daemon.hpp"' > "$WORK/tree/build-asan/CMakeFiles/CMakeCXXCompilerId.cpp"
check > "$WORK/clean.txt" || { cat "$WORK/clean.txt"; fail "the untouched tree (with a build tree in it) does not pass"; }

expect_caught() {  # expect_caught FILE LINE PATTERN
  copy_tree
  printf '%s\n' "$2" >> "$WORK/tree/$1"
  if check > "$WORK/out.txt" 2>&1; then fail "'$2' in $1 was not reported"; fi
  grep -q "$3" "$WORK/out.txt" || { cat "$WORK/out.txt"; fail "the report for '$2' in $1 does not say '$3'"; }
  echo "caught: $(grep "$1" "$WORK/out.txt" | head -n 1)"
}
expect_caught mesh/peer.cpp '#include "store/vault.hpp"' "mesh/peer.cpp:.* mesh includes store/vault.hpp"
expect_caught protocol/wire.hpp '#include "mesh/peer.hpp"' "protocol includes mesh/peer.hpp"
expect_caught protocol/handshake.cpp '#include <sodium.h>' "protocol includes sodium.h"
expect_caught mesh/node.hpp '#include <boost/asio/io_context.hpp>' "keep Boost.Asio in .cpp files"
expect_caught control/control_client.cpp '#include "config/config.hpp"' "control includes config/config.hpp"
expect_caught protocol/handshake.cpp '#include "crypto/random.hpp"' "protocol includes crypto/random.hpp"
expect_caught protocol/handshake.cpp 'void f(std::span<uint8_t> b) { random_fill(b); }' "protocol uses random_fill"
expect_caught config/config.cpp 'const char* home = getenv("HOME");' "config uses getenv"
expect_caught store/vault.cpp '#include <openssl/evp.h>' "store includes openssl/evp.h"
expect_caught mesh/CMakeLists.txt 'target_link_libraries(zeqvpn_mesh PRIVATE zeqvpn_store)' "zeqvpn_mesh links zeqvpn_store"
echo "PASS"
