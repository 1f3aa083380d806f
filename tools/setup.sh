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
  nginx haproxy h2o wrk nghttp2-client gnuplot-nox
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
# The benchmark's peers (nginx, haproxy, h2o) are programs the suite starts
# itself, not services: Debian would start nginx and h2o at install, both on
# port 80, and the second one's failed start would fail the install. While
# this script installs, policy-rc.d tells the packages' scripts to start
# nothing (unless this machine already has a policy of its own).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap '$sudo rm -f "$policy"' EXIT
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
