#!/usr/bin/env python3
"""Memory per idle keep-alive client connection: opens N connections to
ringway, sends one request on each, leaves them idle, and reports the growth of
ringway's resident memory divided by N.

  python3 bench/idle_connections.py [--build-dir build] [--connections 10000]
"""

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default=harness.BUILD)
    ap.add_argument("--connections", type=int, default=10000)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.connections + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    harness.RINGWAY = os.path.join(args.build_dir, "bin", "ringway")
    harness.ORIGIN = os.path.join(args.build_dir, "bin", "ringway-origin")
    origin = harness.Origin()
    gw = harness.Gateway(harness.config([origin.port], limits={"idle_timeout": "600s",
                                                              "client_header_timeout": "600s"}))
    conns = []
    try:
        # Warm up: one request so the worker's pools and buffers exist.
        harness.request(gw.port, path="/")
        time.sleep(1.5)  # let the worker return idle buffer pages
        before = rss_kib(gw.proc.pid)
        req = harness.build_request("GET", "/")
        statuses = {}
        for i in range(args.connections):
            # One request at a time: a keep-alive client that made a request
            # and went quiet, not a connection storm against the origin.
            s = socket.create_connection(("127.0.0.1", gw.port))
            s.sendall(req)
            conns.append(s)
            s.settimeout(30)
            status = harness.read_status(s)
            statuses[status] = statuses.get(status, 0) + 1
        if statuses != {"200": args.connections}:
            print("warning: responses %s" % statuses)
        time.sleep(1.5)
        after = rss_kib(gw.proc.pid)
        per_conn = (after - before) * 1024 / args.connections
        print("idle keep-alive connections: %d" % args.connections)
        print("ringway RSS before: %d KiB, after: %d KiB" % (before, after))
        print("bytes per idle connection: %.0f" % per_conn)
    finally:
        for s in conns:
            s.close()
        gw.stop()
        origin.stop()


if __name__ == "__main__":
    main()
