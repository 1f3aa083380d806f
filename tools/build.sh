#!/usr/bin/env bash
# Configures and builds one flavour of ringway.
#   tools/build.sh            Release build in build/
#   tools/build.sh sanitize   AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/
#   tools/build.sh fuzz       clang + libFuzzer targets in build-fuzz/
# Further arguments name targets to build (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."

flavour="${1:-release}"
shift || true
targets=()
for t in "$@"; do targets+=(--target "$t"); done
case "$flavour" in
  release)  dir=build;      args=(-DCMAKE_BUILD_TYPE=Release) ;;
  sanitize) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINGWAY_SANITIZE=ON) ;;
  fuzz)     dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINGWAY_FUZZ=ON
                                  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: $0 [release|sanitize|fuzz]" >&2; exit 2 ;;
esac

generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" "${generator[@]}" "${args[@]}" >/dev/null
fi
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
