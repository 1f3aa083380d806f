#!/usr/bin/env python3
"""Clients that stop reading, side by side through ringway, nginx and
HAProxy on the same origin: --stalled clients each start a large download
and never read it (4 KiB receive buffers, so their bytes wait in the proxy),
while another client's GETs of 200 KB must still be answered. For each peer
it reports those GETs' latency, the proxy's RSS before, with the stalled
clients and after they left, and how many stalled clients the proxy cut.

This is the availability side of a slow-reader (or slow-read DoS) attack:
memory per stalled client, and whether everyone else is still served. nginx
gets proxy_max_temp_file_size 0, as an operator facing such clients would
set: otherwise it reads each stalled download into a temporary file.

    python3 bench/stalled_peers.py --build-dir build [--peers ringway,nginx,haproxy]
        [--stalled 200] [--size 50000000] [--probes 10]
"""

import argparse
import http.client
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the suite's /proc and HTTP helpers)
from peers import Bench  # noqa: E402

PROBE_BYTES = 200_000
PROBE_TIMEOUT = 30.0


def probe(port: int) -> float:
    """Seconds one GET took on a new connection; PROBE_TIMEOUT when it failed
    or timed out."""
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
        status, _, body = bench.http_get(port, f"/bytes/{PROBE_BYTES}", conn=conn)
        conn.close()
        ok = status == 200 and len(body) == PROBE_BYTES
    except (OSError, http.client.HTTPException):
        ok = False
    return time.monotonic() - start if ok else PROBE_TIMEOUT


def stall(port: int, size: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET /bytes/{size} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    return s


def was_cut(s: socket.socket) -> bool:
    """Whether the proxy ended this stalled connection (reset or closed)."""
    s.setblocking(False)
    try:
        for _ in range(64):  # a live one may keep delivering while we read
            if not s.recv(1 << 20):
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True
    return False


def run_peer(peers: Bench, name: str, args):
    started = peers.start_proxy(name, nginx_extra="      proxy_max_temp_file_size 0;\n")
    if started is None:
        return None
    proc, port = started
    stalled = []
    try:
        probe(port)  # warm: an upstream connection, the first allocations
        rss_before = bench.rss_kib(proc.pid)
        for _ in range(args.stalled):
            stalled.append(stall(port, args.size))
        time.sleep(args.settle)
        latencies = sorted(probe(port) for _ in range(args.probes))
        rss_stalled = bench.rss_kib(proc.pid)
        cut = sum(was_cut(s) for s in stalled)
        for s in stalled:
            s.close()
        stalled = []
        time.sleep(3.0)  # ringway gives memory back after a quiet second
        rss_after = bench.rss_kib(proc.pid)
    finally:
        for s in stalled:
            s.close()
        bench.Procs.stop(proc)
    return {"peer": name, "p50_ms": latencies[len(latencies) // 2] * 1e3,
            "max_ms": latencies[-1] * 1e3,
            "failed": sum(1 for t in latencies if t >= PROBE_TIMEOUT),
            "rss": (rss_before / 1024, rss_stalled / 1024, rss_after / 1024), "cut": cut}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--peers", default="ringway,nginx,haproxy")
    ap.add_argument("--stalled", type=int, default=200, help="clients that stop reading")
    ap.add_argument("--size", type=int, default=50_000_000, help="bytes each of them asks for")
    ap.add_argument("--probes", type=int, default=10, help="GETs of another client meanwhile")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds before the probes")
    args = ap.parse_args()
    bench.raise_nofile()
    peers = Bench(args.build_dir, "stalled")
    rows = []
    try:
        for name in [p for p in args.peers.split(",") if p]:
            r = run_peer(peers, name, args)
            if r is None:
                continue
            rows.append(r)
            print(f"{name}: GETs p50 {r['p50_ms']:.1f} ms, max {r['max_ms']:.1f} ms, "
                  f"{r['failed']} failed; RSS {r['rss'][0]:.1f} -> {r['rss'][1]:.1f} -> "
                  f"{r['rss'][2]:.1f} MiB; {r['cut']} stalled clients cut", file=sys.stderr)
    finally:
        peers.close()
    print(f"\n{args.stalled} clients stall a {args.size:,}-byte download each; another client "
          f"GETs {PROBE_BYTES:,} bytes {args.probes} times ({PROBE_TIMEOUT:g} s = failed); "
          f"1 worker; kernel {os.uname().release}, {bench.cpu_model()}\n")
    print("| peer | GET p50 ms | GET max ms | GETs failed | RSS before MiB | RSS stalled MiB "
          "| RSS after MiB | stalled clients cut |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['peer']} | {r['p50_ms']:.1f} | {r['max_ms']:.1f} | {r['failed']} | "
              f"{r['rss'][0]:.1f} | {r['rss'][1]:.1f} | {r['rss'][2]:.1f} | {r['cut']} |")


if __name__ == "__main__":
    main()
