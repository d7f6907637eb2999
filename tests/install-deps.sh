#!/bin/sh
# Install everything needed to build and test ipad on Debian 12 (bookworm).
# Idempotent: when every package is already installed it does nothing (no
# apt-get update). Quiet; apt's errors still reach stderr.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
      libcurl4-openssl-dev libyaml-dev libcjson-dev libsystemd-dev libinih-dev
      libcmocka-dev
      prometheus systemd openssl mandoc valgrind util-linux curl
      python3 python3-pytest python3-pytest-timeout python3-yaml python3-cryptography
      debhelper lintian rpm fakeroot dpkg-dev
      debootstrap systemd-container"
# (debootstrap and systemd-nspawn: tests/systemd boots a Debian 12 to run
# the .deb's unit under a real systemd.)
# (debhelper 13.11 provides dh-sequence-installsysusers, a virtual package
# that dpkg-query cannot see as installed: name the real one.)

# kubectl: Debian's kubernetes-client only when there is no kubectl at all
# (another package may already provide /usr/bin/kubectl and would conflict).
command -v kubectl >/dev/null 2>&1 || PKGS="$PKGS kubernetes-client"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing$missing" >&2
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    $missing >/dev/null
