#!/usr/bin/env python3
"""WebSocket echo through ringway, nginx and HAProxy, side by side on the same
origin (ringway-origin's /ws): each peer gets the same closed-loop load of
small frames over long-lived tunnels, and the report gives round trips per
second, the proxy's CPU microseconds per round trip (from /proc/PID/stat;
a round trip is two frames through the proxy) and the client's p50/p99.

The client is Python: it, not the proxy, sets the rate on a small machine,
so compare CPU per round trip, not the rate. Pinning follows run.py's
two-CPU plan: the proxy on the last CPU, origin and client on the others.

    python3 bench/websocket.py --build-dir build [--peers ringway,nginx,haproxy]
        [--connections 50] [--seconds 10] [--payload 64] [--repeat 1]
"""

import argparse
import base64
import os
import selectors
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the suite's /proc helpers)
from peers import Bench  # noqa: E402


def masked_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    head = bytes([0x82, 0x80 | n]) if n < 126 else bytes([0x82, 0x80 | 126]) + struct.pack("!H", n)
    return head + mask + body


def handshake(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit(f"port {port} closed the handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        status_line = head.split(b"\r\n")[0]
        raise SystemExit(f"handshake answered {status_line!r}")
    if head.index(b"\r\n\r\n") + 4 != len(head):
        raise SystemExit("bytes after the 101 before any frame was sent")
    return s


def echo_load(port: int, connections: int, seconds: float, payload: int) -> dict:
    """Closed loop: every connection keeps one frame in flight."""
    frame = masked_frame(b"x" * payload)
    answer = 2 + (2 if payload >= 126 else 0) + payload
    sel = selectors.DefaultSelector()
    socks = [handshake(port) for _ in range(connections)]
    state = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        state[s] = [0, time.perf_counter()]  # bytes of the answer read, send time
        s.send(frame)
    rtts, done, wakes = [], 0, 0
    end = time.perf_counter() + seconds
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        wakes += 1
        for key, _ in sel.select(timeout=end - now):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                raise SystemExit("a tunnel closed during the run")
            st = state[s]
            st[0] += len(data)
            while st[0] >= answer:
                st[0] -= answer
                t = time.perf_counter()
                rtts.append(t - st[1])
                done += 1
                st[1] = t
                s.send(frame)
    for s in socks:
        s.close()
    rtts.sort()
    pick = lambda q: rtts[min(len(rtts) - 1, int(q * len(rtts)))] * 1e6 if rtts else 0.0  # noqa: E731
    return {"round_trips": done, "rate": done / seconds, "p50_us": pick(0.50), "p99_us": pick(0.99),
            "per_wake": done / max(1, wakes)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--peers", default="ringway,nginx,haproxy")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--payload", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    peers = Bench(args.build_dir, "ws")
    rows = []
    try:
        for round_ in range(args.repeat):
            for name in [p for p in args.peers.split(",") if p]:
                started = peers.start_proxy(name)
                if started is None:
                    continue
                proc, port = started
                try:
                    echo_load(port, args.connections, 1.0, args.payload)  # warm-up
                    before = bench.cpu_ticks(proc.pid)
                    r = echo_load(port, args.connections, args.seconds, args.payload)
                    cpu = bench.cpu_seconds_between(before, bench.cpu_ticks(proc.pid))
                finally:
                    bench.Procs.stop(proc)
                if r["round_trips"] == 0:
                    raise SystemExit(f"{name}: no frame came back through the tunnels")
                r.update(peer=name, round=round_ + 1, cpu_us=cpu * 1e6 / max(1, r["round_trips"]),
                         util=100.0 * cpu / args.seconds)
                rows.append(r)
                print(f"{name} round {round_ + 1}: {r['rate']:,.0f} round trips/s, "
                      f"{r['cpu_us']:.2f} us CPU each ({r['util']:.0f}% of a CPU), "
                      f"p50 {r['p50_us']:.0f} us, p99 {r['p99_us']:.0f} us, "
                      f"{r['per_wake']:.1f} echoes per client wake-up", file=sys.stderr)
    finally:
        peers.close()
    print(f"\n{args.connections} tunnels, {args.payload}-byte binary frames echoed by "
          f"ringway-origin /ws, {args.seconds:g} s per pass; kernel {os.uname().release}, "
          f"{bench.cpu_model()}\n")
    print("| peer | round | round trips/s | CPU us per round trip | proxy CPU | p50 us | p99 us "
          "| echoes per client wake |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['peer']} | {r['round']} | {r['rate']:,.0f} | {r['cpu_us']:.2f} | "
              f"{r['util']:.0f}% | {r['p50_us']:.0f} | {r['p99_us']:.0f} | {r['per_wake']:.1f} |")


if __name__ == "__main__":
    main()
