#!/usr/bin/env bash
# Installs everything opswall needs from Debian packages, then nothing else; with --tests also the
# browser-test driver from npm (tests/browser). Safe to run again: it only calls apt-get when
# something is missing.
#   scripts/setup.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  libwebsockets-dev libwebsockets-evlib-uv libhiredis-dev libuv1-dev libssl-dev zlib1g-dev
  libcjson-dev libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev libfontconfig-dev
  fonts-noto-cjk fonts-dejavu-core
  redis-server redis-tools libcmocka-dev tzdata
  xvfb xauth x11-apps imagemagick chromium nodejs npm curl
  clang clang-format libclang-rt-14-dev valgrind faketime
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A machine with Node.js from elsewhere (node present, Debian's nodejs/npm not) keeps its own.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]:-}"

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

if [ "${1:-}" = "--tests" ]; then
  tests/browser/install.sh
fi
