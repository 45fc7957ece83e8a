#!/usr/bin/env bash
# Installs everything zeqvpn needs to build, test and benchmark, from Debian's
# package archive only. Idempotent: packages already present are skipped, and
# apt-get is not touched at all when nothing is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config
  # libraries
  libboost-dev libsodium-dev libssl-dev libsqlite3-dev libyaml-cpp-dev
  libnl-3-dev libnl-route-3-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libcli11-dev libgtest-dev libgmock-dev libsystemd-dev libcap-ng-dev libnftables-dev
  # peers' endpoint host names, resolved on the daemon's event loop
  libc-ares-dev
  # systemd-analyze verifies the unit files; man checks the man pages
  systemd man-db groff-base
  # integration tests and the demo
  iproute2 ethtool iputils-ping iperf3 tcpdump procps psmisc python3 kmod nftables dnsmasq-base
  # fault tests: the state database read back (sqlite3), a faked wall clock for one daemon (faketime)
  sqlite3 faketime
  # the independent PROTOCOL.md peer of the netns tests (tests/integration/zeqpeer.py)
  python3-cryptography
  # benchmark comparison
  wireguard-go wireguard-tools valgrind
  # the etcd directory backend's tests start their own etcd processes on free
  # loopback ports (the package's own service on 2379 is not used)
  etcd-server etcd-client
  # the metrics endpoint's test scrapes it (curl) and lints the text (promtool, from prometheus;
  # the package also brings Prometheus' own service, which none of the tests uses)
  curl prometheus
  # fuzzing (scripts/fuzz.sh): clang's libFuzzer runtime and the symbolizer for its reports
  clang-14 libclang-rt-14-dev llvm-14
  # the Debian package (scripts/package.sh: CPack, dpkg-shlibdeps from
  # build-essential's dpkg-dev) is checked with lintian; zeqvpnctl's shell
  # completion is tested in bash (with bash-completion) and zsh
  lintian bash-completion zsh
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run this script as root to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
