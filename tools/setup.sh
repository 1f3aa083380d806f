#!/usr/bin/env bash
# Installs, from Debian packages, whatever ringway needs to build, test and
# benchmark that this machine lacks. Safe to run again: it installs nothing
# when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  liburing-dev libssl-dev node-llhttp libsimdjson-dev libabsl-dev libyaml-cpp-dev
  zlib1g-dev libdeflate-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  python3 curl procps
  nginx haproxy wrk nghttp2-client gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
