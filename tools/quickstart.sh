#!/usr/bin/env bash
# Quick start: installs what is missing, builds ringway (Release), and starts
# it on config/examples/quickstart.yaml in front of the demo origin, both in
# the background, so http://127.0.0.1:8080/ answers at once.
#   tools/quickstart.sh          set up, build, start
#   tools/quickstart.sh reload   re-read the config (SIGHUP); an invalid one is
#                                reported and the running one keeps serving
#   tools/quickstart.sh stop     stop both
set -euo pipefail
cd "$(dirname "$0")/.."
state=.quickstart
config=config/examples/quickstart.yaml

stop() {
  for name in ringway origin; do
    if [ -f "$state/$name.pid" ]; then
      kill "$(cat "$state/$name.pid")" 2>/dev/null || true
      rm -f "$state/$name.pid"
    fi
  done
}

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

if [ "${1:-}" = reload ]; then
  [ -f "$state/ringway.pid" ] || { echo "quickstart: ringway is not running"; exit 1; }
  lines=$(wc -l <"$state/ringway.log")
  kill -HUP "$(cat "$state/ringway.pid")"
  for _ in $(seq 1 50); do
    verdict=$(tail -n +"$((lines + 1))" "$state/ringway.log" | grep -E "configuration reloaded|reload failed" || true)
    if [ -n "$verdict" ]; then echo "$verdict"; [[ $verdict == *reloaded* ]]; exit; fi
    sleep 0.1
  done
  echo "quickstart: no answer from ringway to SIGHUP; see $state/ringway.log"
  exit 1
fi

if [ "${1:-}" = stop ]; then
  stop
  echo "quickstart: stopped"
  exit 0
fi

tools/setup.sh
tools/build.sh release ringway ringway-origin
mkdir -p "$state"
stop
build/bin/ringway check --config "$config"

nohup build/bin/ringway-origin --port 9001 --threads 1 >"$state/origin.log" 2>&1 &
echo $! >"$state/origin.pid"
wait_port 9001 || { echo "quickstart: the demo origin did not start:"; cat "$state/origin.log"; exit 1; }

nohup build/bin/ringway --config "$config" >"$state/ringway.log" 2>&1 &
echo $! >"$state/ringway.pid"
wait_port 8080 || { echo "quickstart: ringway did not start:"; cat "$state/ringway.log"; stop; exit 1; }

echo
echo "ringway is serving http://127.0.0.1:8080 in front of the demo origin on :9001"
echo "\$ curl -i http://127.0.0.1:8080/"
curl -si http://127.0.0.1:8080/
echo
echo "Try also:  curl -s http://127.0.0.1:8080/headers     (what the origin received)"
echo "           curl -s http://127.0.0.1:8080/bytes/100000 | wc -c"
echo "Logs in $state/; after editing $config: tools/quickstart.sh reload;"
echo "stop with: tools/quickstart.sh stop"
