#!/usr/bin/env bash
# The layering check fails when it should: on a copy of the tree's sources,
# a sideways include (mesh/ including store/), an upward one (protocol/
# including mesh/), a forbidden system header (protocol/ calling libsodium),
# Boost.Asio in a header and a library linked sideways must each be
# reported, and the untouched copy must pass.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d /tmp/zeqvpn-layering.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
copy_tree() {
  rm -rf "$WORK/tree"
  mkdir -p "$WORK/tree"
  (cd "$ROOT" && find . -path ./build -prune -o -path ./tests -prune -o -path ./.git -prune -o \
    \( -name '*.cpp' -o -name '*.hpp' \) -print | tar -cf - -T -) | tar -xf - -C "$WORK/tree"
}
check() { python3 "$HERE/check_layering.py" "$WORK/tree" --edges "$HERE/allowed_edges.txt"; }

copy_tree
check > "$WORK/clean.txt" || { cat "$WORK/clean.txt"; fail "the untouched tree does not pass"; }

expect_caught() {  # expect_caught FILE LINE PATTERN
  copy_tree
  printf '%s\n' "$2" >> "$WORK/tree/$1"
  if check > "$WORK/out.txt" 2>&1; then fail "'$2' in $1 was not reported"; fi
  grep -q "$3" "$WORK/out.txt" || { cat "$WORK/out.txt"; fail "the report for '$2' in $1 does not say '$3'"; }
  echo "caught: $(grep "$1" "$WORK/out.txt" | head -n 1)"
}
expect_caught mesh/peer.cpp '#include "store/vault.hpp"' "mesh/peer.cpp:.* mesh includes store/vault.hpp"
expect_caught protocol/wire.hpp '#include "mesh/peer.hpp"' "protocol includes mesh/peer.hpp"
expect_caught protocol/handshake.cpp '#include <sodium.h>' "protocol includes <sodium.h>"
expect_caught mesh/node.hpp '#include <boost/asio/io_context.hpp>' "keep Boost.Asio in .cpp files"
expect_caught control/control_client.cpp '#include "config/config.hpp"' "control includes config/config.hpp"
expect_caught mesh/CMakeLists.txt 'target_link_libraries(zeqvpn_mesh PRIVATE zeqvpn_store)' "zeqvpn_mesh links zeqvpn_store"
echo "PASS"
