#!/usr/bin/env bash
# Runs the whole test suite: unit tests, integration tests against the real
# binary, real origins and real clients, and a short fuzzing run.
#   tools/test.sh             Release build
#   tools/test.sh sanitize    the same tests under ASan + UBSan
#   tools/test.sh fuzz        the libFuzzer targets, briefly
set -euo pipefail
cd "$(dirname "$0")/.."

flavour="${1:-release}"
tools/setup.sh
tools/build.sh "$flavour"
case "$flavour" in
  release)  dir=build ;;
  sanitize) dir=build-asan
            export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
            export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" ;;
  fuzz)     dir=build-fuzz ;;
esac
labels=()
if [ "$flavour" = fuzz ]; then labels=(-L fuzz); else labels=(-LE fuzz); fi
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "${labels[@]}"
