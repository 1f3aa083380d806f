#!/usr/bin/env bash
# Packs what the benchmarks need into a folder that can travel to a bare
# machine of the same architecture (no packages there, maybe another libc):
# ringway and its tools from a build, nginx, haproxy and wrk from this
# system, every shared library ldd lists for them (the C library and its
# loader too), and a wrapper per program that starts it through the packed
# loader with the packed libraries. Nothing outside the folder is needed
# there but python3, taskset and a kernel.
#
#   bench/device-bundle.sh [BUILD_DIR [OUT]]     (default: build .device)
#
# There, from the repository root:
#   mkdir -p /var/lib/nginx/body /var/lib/nginx/proxy
#   PATH=$PWD/.device/bin:$PATH python3 bench/scaling.py --build-dir .device --workers 1,2,4,8
# (run.py finds ringway & co. in --build-dir's bin/, nginx, haproxy and wrk
# on PATH: the wrappers either way.)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
out="${2:-.device}"

programs=()
for p in ringway ringway-origin ringway-fwd ringway-load; do
  [ -x "$build/bin/$p" ] || { echo "device-bundle: $build/bin/$p not built" >&2; exit 1; }
  programs+=("$build/bin/$p")
done
for p in nginx haproxy wrk; do
  path="$(command -v "$p" || true)"
  if [ -n "$path" ]; then programs+=("$path"); else echo "device-bundle: $p not installed, left out" >&2; fi
done

rm -rf "$out"
mkdir -p "$out/bin" "$out/real" "$out/lib"
loader=""
for prog in "${programs[@]}"; do
  name="$(basename "$prog")"
  cp -L "$prog" "$out/real/$name"
  # ldd lines: "libx.so => /path (addr)", or "/lib64/ld-linux-x86-64.so.2 (addr)".
  while read -r lib; do
    [ -n "$lib" ] && [ -f "$lib" ] && cp -Ln "$lib" "$out/lib/" 2>/dev/null || true
  done < <(ldd "$prog" | awk '/=>/ { print $3 } !/=>/ && $1 ~ /^\// { print $1 }')
  [ -n "$loader" ] || loader="$(ldd "$prog" | awk '!/=>/ && $1 ~ /ld-linux/ { print $1 }')"
  cat > "$out/bin/$name" <<EOF
#!/bin/sh
# Runs the packed $name with the packed C library and loader.
d="\$(cd "\$(dirname "\$0")/.." && pwd)"
exec "\$d/lib/$(basename "$loader")" --library-path "\$d/lib" "\$d/real/$name" "\$@"
EOF
  chmod +x "$out/bin/$name"
done
du -sh "$out" | awk '{ print "device-bundle: " $1 " in '"$out"'" }'
