"""Peers that stop taking bytes must not stall the rest of their worker.

A worker's connections share its two receive-buffer rings, and a connection
holds buffers for as long as its bytes wait. A client that does not read its
download, one that pipelines behind a response it does not read, a WebSocket
client that does not read: each holds a few dozen buffers until send_timeout
(60 s) cuts it. With small rings a handful of them would take a whole ring;
the gateway then moves what they hold out of the rings, and its other
clients are served at once."""

import os
import socket
import threading
import time
import unittest

from harness import (SLOW, Gateway, Origin, RawClient, build_request, config)
from test_websocket import BINARY, frame, handshake_request

BUFFERS = 64  # per ring: a handful of stalled peers would take all of it
PEERS = 8

ROUTES = """  - match: { prefix: /ws }
    upstream: origin
    websocket: true
  - match: { prefix: / }
    upstream: origin
"""


def stalled_socket(port):
    """A client socket with a small receive buffer, so the kernel takes little
    of what is sent to it and the rest waits in the gateway."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(10 * SLOW)
    s.connect(("127.0.0.1", port))
    return s


def echoed(payload):
    """A binary frame as the origin echoes it: unmasked."""
    n = len(payload)
    return b"\x82" + (bytes([127]) + n.to_bytes(8, "big") if n > 0xffff
                      else bytes([126]) + n.to_bytes(2, "big")) + payload


def read_head(s):
    """A response head, read a byte at a time so no body byte is taken."""
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    return head


def open_websocket(port):
    s = stalled_socket(port)
    s.sendall(handshake_request()[0])
    head = read_head(s)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def read_slowly(s, n):
    """n bytes, read in bursts with pauses long enough for the gateway to
    count the send waiting on us as stalled."""
    got = bytearray()
    while len(got) < n:
        chunk = s.recv(min(128 * 1024, n - len(got)))
        if not chunk:
            break
        got += chunk
        if len(got) % (512 * 1024) < len(chunk):
            time.sleep(0.6)
    return bytes(got)


class StalledPeersCase(unittest.TestCase):
    limits = None
    buffers = BUFFERS
    relieved = False  # every test must have moved bytes off the rings, and cut nobody

    def setUp(self):
        self.origin = Origin()
        self.gateway = Gateway(config([self.origin.port], routes=ROUTES, limits=self.limits,
                                      engine={"buffer_count": self.buffers}))
        self.port = self.gateway.port
        self.peers = []

    def tearDown(self):
        for s in self.peers:
            s.close()
        code = self.gateway.stop()
        self.origin.stop()
        self.assertEqual(code, 0, self.gateway.stderr())
        if self.relieved:
            # The others were served because the stalled peers' bytes left
            # the rings.
            stats = self.gateway.stats()
            self.assertGreater(stats["buffers_moved"], 0)
            self.assertEqual(stats["stalled_clients_cut"], 0)

    def assert_others_served(self, timeout=5.0):
        # Well inside send_timeout: without relief these would wait for it.
        for _ in range(3):
            c = RawClient(self.port, timeout=timeout)
            c.send(build_request("GET", "/bytes/200000", headers=[("Connection", "close")]))
            self.assertEqual(len(c.read_response().body), 200000)
            c.close()

    def stall_downloads(self, count):
        for _ in range(count):
            s = stalled_socket(self.port)
            s.sendall(b"GET /bytes/500000000 HTTP/1.1\r\nHost: x\r\n\r\n")
            self.peers.append(s)


class StalledPeers(StalledPeersCase):
    relieved = True

    def test_downloads_nobody_reads(self):
        self.stall_downloads(PEERS)
        time.sleep(1.0)
        self.assert_others_served()

    def test_pipelined_segments_behind_a_download_nobody_reads(self):
        # Each segment lands in a receive buffer of its own, and waits behind
        # the response: what these hold is client-ring buffers.
        self.stall_downloads(PEERS)
        time.sleep(0.3)
        for _ in range(40):
            for s in self.peers:
                s.sendall(b"X")
            time.sleep(0.002)
        time.sleep(0.5)
        self.assert_others_served()

    def test_websocket_clients_that_do_not_read(self):
        # The origin echoes what each sends; nobody reads the echo.
        data = frame(BINARY, os.urandom(60000))
        for _ in range(PEERS):
            self.peers.append(open_websocket(self.port))
        # Send until the way back is full: the echo waits in the gateway.
        for s in self.peers:
            s.settimeout(0.5)
            try:
                for _ in range(200):
                    s.sendall(data)
            except socket.timeout:
                pass
        time.sleep(0.5)
        self.assert_others_served()

class SlowReaders(StalledPeersCase):
    """The smallest rings, so that the slow readers' pauses find them low."""

    buffers = 16
    relieved = True

    def test_slow_readers_get_every_byte_in_order(self):
        # Bytes moved off the rings mid-stream, in both directions (what the
        # origin echoes waits for the reader; what it has not read waits for
        # the origin), still arrive whole and in order.
        def http_echo(s, body):
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                      % len(body) + body)

        def websocket_echo(s, body):
            for i in range(0, len(body), 50000):
                s.sendall(frame(BINARY, body[i:i + 50000]))

        def websocket_expected(body):
            return b"".join(echoed(body[i:i + 50000])
                            for i in range(0, len(body), 50000))

        results = {}

        def run(i, kind):
            body = os.urandom(3 * 1000 * 1000)
            if kind == "http":
                s = stalled_socket(self.port)
                sender = threading.Thread(target=http_echo, args=(s, body))
                sender.start()
                status_line = read_head(s).split(b"\r\n")[0]
                results[i] = (status_line, read_slowly(s, len(body)) == body)
            else:
                s = open_websocket(self.port)
                sender = threading.Thread(target=websocket_echo, args=(s, body))
                sender.start()
                expected = websocket_expected(body)
                results[i] = (b"tunnel", read_slowly(s, len(expected)) == expected)
            sender.join()
            s.close()

        readers = [threading.Thread(target=run, args=(i, "http" if i % 2 else "ws"))
                   for i in range(8)]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        self.assertEqual(len(results), 8)
        for i, (status, same) in results.items():
            self.assertIn(status, (b"HTTP/1.1 200 OK", b"tunnel"))
            self.assertTrue(same, "client %d got other bytes than were sent" % i)


class AtTheMemoryCeiling(StalledPeersCase):
    """With little memory for copies, relief copies what fits and then cuts
    the clients that took nothing for a second, which frees both their copies
    and their buffers."""

    limits = {"stalled_peer_memory": "1MiB"}

    def test_stalled_clients_are_cut_at_the_ceiling(self):
        self.stall_downloads(2 * PEERS)
        time.sleep(3.0)  # past the ceiling, then a second to be sure of a stall
        self.assert_others_served()
        cut = 0
        for s in self.peers:
            # A cut peer finds its connection reset (or at least ended) once
            # it reads what the kernel holds for it; a relieved one goes on
            # getting its download.
            s.settimeout(5 * SLOW)
            got = 0
            try:
                while got < 2 * 1024 * 1024:
                    n = len(s.recv(1 << 20))
                    if n == 0:
                        break
                    got += n
            except ConnectionResetError:
                pass
            if got < 2 * 1024 * 1024:
                cut += 1
        self.assertGreater(cut, 0)
        for s in self.peers:
            s.close()
        self.peers = []
        self.gateway.stop()
        # More may be cut after this look: a relieved peer stalls again once
        # the test stops reading it.
        self.assertGreaterEqual(self.gateway.stats()["stalled_clients_cut"], cut)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ReliefOff(StalledPeersCase):
    """stalled_peer_memory: 0 copies nothing: the stalled peers keep the
    buffers until send_timeout, and the worker waits for them quietly."""

    limits = {"stalled_peer_memory": 0}

    def test_nothing_is_copied_and_the_worker_does_not_spin(self):
        self.stall_downloads(PEERS)
        time.sleep(1.0)
        before = cpu_seconds(self.gateway.proc.pid)
        time.sleep(2.0)
        # A worker spinning on its low ring would burn the whole 2 s.
        self.assertLess(cpu_seconds(self.gateway.proc.pid) - before, 1.0)
        for s in self.peers:
            s.close()
        self.peers = []
        self.gateway.stop()
        self.assertEqual(self.gateway.stats()["buffers_moved"], 0)


if __name__ == "__main__":
    unittest.main()
