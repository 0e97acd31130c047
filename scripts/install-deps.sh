#!/bin/sh
# Installs what libxmpp needs to build, test and benchmark on Debian 12.
# Runs apt-get only for packages that are missing (and only as root).
set -eu
PKGS="build-essential autoconf automake libtool autoconf-archive pkg-config
  libxml2-dev libgnutls28-dev libgsasl-dev libidn2-dev libunistring-dev
  zlib1g-dev libc-ares-dev libcmocka-dev libcurl4-gnutls-dev
  clang libclang-rt-14-dev valgrind doxygen gnutls-bin libstrophe-dev openssl
  python3 prosody prosody-modules lua-sec ejabberd python3-slixmpp
  libglib2.0-dev libuv1-dev dante-server tinyproxy"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
  fi
  echo "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
