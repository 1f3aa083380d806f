"""WebSocket through the gateway (RFC 6455, RFC 9110 7.8): the handshake goes
on, a 101 that answers it joins client and upstream into a tunnel, and
nothing else switches a connection away from HTTP."""

import base64
import hashlib
import os
import socket
import struct
import threading
import time
import unittest

from harness import (Gateway, GatewayTestCase, Origin, RawClient, ScriptedUpstream, SLOW,
                     build_request, config, request)

# The catch-all route with tunnels on (they are off by default).
WEBSOCKET_ROUTE = "  - match: { prefix: / }\n    upstream: origin\n    websocket: true\n"

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(opcode, payload, fin=True):
    """A client frame: masked, as RFC 6455 5.3 requires."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    if n == 0:
        return head + mask
    stream = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    return head + mask + masked


def read_frame(c):
    """(fin, opcode, payload) of the next server frame, which must be unmasked."""
    b0, b1 = c._exact(2)
    assert not b1 & 0x80, "a server frame must not be masked"
    n = b1 & 0x7f
    if n == 126:
        n = struct.unpack("!H", c._exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", c._exact(8))[0]
    return bool(b0 & 0x80), b0 & 0x0f, c._exact(n)


def handshake_request(path="/ws", key=None, extra=(), connection="Upgrade", upgrade="websocket",
                      method="GET"):
    key = key or base64.b64encode(os.urandom(16)).decode()
    headers = [("Upgrade", upgrade), ("Connection", connection), ("Sec-WebSocket-Key", key),
               ("Sec-WebSocket-Version", "13")] + list(extra)
    return build_request(method, path, headers), key


def open_tunnel(port, path="/ws", extra=(), first_frames=b""):
    """A client whose handshake succeeded, and the 101 it got."""
    c = RawClient(port)
    data, key = handshake_request(path, extra=extra)
    c.send(data + first_frames)
    r = c.read_response()
    if r.status != 101:
        raise AssertionError("handshake answered %d: %r" % (r.status, r.raw_head))
    if r.header("Sec-WebSocket-Accept") != accept_for(key):
        raise AssertionError("wrong Sec-WebSocket-Accept in %r" % r.raw_head)
    return c, r


class WebSocketTunnelTest(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], routes=(
            "  - match: { prefix: /plain/ }\n"  # websocket off, the default
            "    upstream: origin\n"
            "    strip_prefix: /plain\n" + WEBSOCKET_ROUTE))

    def test_handshake_is_relayed_and_frames_echo_both_ways(self):
        c, r = open_tunnel(self.port)
        try:
            self.assertEqual(r.header("Upgrade"), "websocket")
            self.assertEqual(r.header("Connection"), "upgrade")
            self.assertEqual(r.header("Via"), "1.1 ringway")
            for name in ("Content-Length", "Transfer-Encoding"):
                self.assertIsNone(r.header(name), name)
            c.send(frame(TEXT, b"hello, tunnel"))
            self.assertEqual(read_frame(c), (True, TEXT, b"hello, tunnel"))
            c.send(frame(PING, b"are you there"))
            self.assertEqual(read_frame(c), (True, PONG, b"are you there"))
            # A fragmented message keeps its fragments.
            c.send(frame(TEXT, b"part one, ", fin=False) + frame(0, b"part two"))
            self.assertEqual(read_frame(c), (False, TEXT, b"part one, "))
            self.assertEqual(read_frame(c), (True, 0, b"part two"))
            c.send(frame(CLOSE, struct.pack("!H", 1000)))
            self.assertEqual(read_frame(c), (True, CLOSE, struct.pack("!H", 1000)))
            self.assertTrue(c.is_closed(), "the upstream's close reaches the client")
        finally:
            c.close()

    def test_bytes_sent_before_the_switch_are_refused(self):
        # RFC 6455 4.1: the client waits for the 101. What came before it
        # (here a request pipelined behind the handshake) would reach the
        # upstream unrouted and unfiltered.
        for early in (frame(TEXT, b"early"), build_request("GET", "/admin")):
            c = RawClient(self.port)
            try:
                data, _ = handshake_request()
                c.send(data + early)
                r = c.read_response()
                self.assertEqual(r.status, 400)
                self.assertIn(b"data sent before the protocol switch", r.body)
                self.assertTrue(c.is_closed())
            finally:
                c.close()
        self.assert_alive()

    def test_megabytes_both_ways_with_a_client_that_reads_late(self):
        # 6 MB written before a byte is read: the gateway's queues fill, it
        # stops reading, and everything still arrives whole and in order.
        c, _ = open_tunnel(self.port)
        try:
            payloads = [os.urandom(48 * 1024) for _ in range(128)]
            c.sock.setblocking(True)
            writer = threading.Thread(target=lambda: c.send(b"".join(frame(BINARY, p) for p in payloads)))
            writer.start()
            time.sleep(0.5 * SLOW)
            for p in payloads:
                self.assertEqual(read_frame(c), (True, BINARY, p))
            writer.join()
        finally:
            c.close()

    def test_client_half_close_reaches_the_upstream(self):
        c, _ = open_tunnel(self.port)
        try:
            c.send(frame(TEXT, b"last words"))
            c.sock.shutdown(socket.SHUT_WR)
            self.assertEqual(read_frame(c), (True, TEXT, b"last words"))
            # The origin closes once it sees the end; so does the gateway.
            self.assertTrue(c.is_closed())
        finally:
            c.close()

    def test_many_tunnels_side_by_side(self):
        clients = [open_tunnel(self.port)[0] for _ in range(20)]
        try:
            for i, c in enumerate(clients):
                c.send(frame(TEXT, b"client %d" % i))
            for i, c in enumerate(clients):
                self.assertEqual(read_frame(c), (True, TEXT, b"client %d" % i))
        finally:
            for c in clients:
                c.close()
        self.assert_alive()

    def test_route_with_websocket_off_drops_the_upgrade(self):
        c = RawClient(self.port)
        try:
            c.send(handshake_request("/plain/ws")[0])
            r = c.read_response()
            self.assertEqual(r.status, 426)  # the origin saw a plain GET
            c.send(build_request("GET", "/"))
            self.assertEqual(c.read_response().status, 200)  # still HTTP
        finally:
            c.close()

    def test_declined_handshake_leaves_the_connection_http(self):
        c = RawClient(self.port)
        try:
            c.send(handshake_request("/headers")[0])
            r = c.read_response()
            self.assertEqual(r.status, 200)
            seen = r.body.decode().lower()
            self.assertIn("upgrade: websocket\r\n", seen)
            self.assertIn("connection: upgrade\r\n", seen)
            self.assertIn("sec-websocket-key:", seen)
            c.send(build_request("GET", "/"))
            self.assertEqual(c.read_response().status, 200)
        finally:
            c.close()

    def test_only_websocket_handshakes_are_passed_on(self):
        # h2c (RFC 7540 3.2) through a proxy is a known smuggling route; a
        # handshake without a key, over HTTP/1.0, or not a GET is no
        # handshake. Each goes on as a plain request, its Upgrade dropped.
        cases = [
            build_request("GET", "/headers", [("Upgrade", "h2c"), ("Connection", "Upgrade, HTTP2-Settings"),
                                              ("HTTP2-Settings", "AAMAAABkAAQAAP__")]),
            build_request("GET", "/headers", [("Upgrade", "websocket"), ("Connection", "Upgrade")]),
            handshake_request("/headers", method="POST")[0],
            # A key its Connection names would go, leaving no handshake.
            handshake_request("/headers", connection="Upgrade, Sec-WebSocket-Key")[0],
            handshake_request("/headers", connection="keep-alive")[0],
        ]
        for data in cases:
            c = RawClient(self.port)
            try:
                c.send(data)
                r = c.read_response()
                self.assertEqual(r.status, 200, data)
                seen = r.body.decode().lower()
                self.assertNotIn("upgrade:", seen, data)
                self.assertNotIn("http2-settings", seen, data)
                self.assertNotIn("connection: upgrade", seen, data)
            finally:
                c.close()
        r = request(self.port, path="/headers", version="1.0",
                    headers=[("Upgrade", "websocket"), ("Connection", "Upgrade"),
                             ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")])
        self.assertNotIn("upgrade:", r.body.decode().lower())

    def test_a_101_that_does_not_answer_the_handshake_is_refused(self):
        # The origin's /status/101 sends a bare 101 to anything: an upstream
        # that can be made to do so must not open a tunnel past the gateway.
        c = RawClient(self.port)
        try:
            c.send(handshake_request("/status/101")[0])
            r = c.read_response()
            self.assertEqual(r.status, 502)
            self.assertIn(b"upstream switched", r.body)
        finally:
            c.close()
        # And a 101 to a request that asked for no switch, also when it
        # carries the accept the client's key asks for (a reflecting upstream):
        # the route decides, and this one has no tunnels.
        self.assertEqual(request(self.port, path="/status/101").status, 502)
        data, key = handshake_request("/plain/status/101?header=Upgrade:websocket"
                                      "&header=Sec-WebSocket-Accept:" + accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
                                      key="dGhlIHNhbXBsZSBub25jZQ==")
        c = RawClient(self.port)
        try:
            c.send(data)
            self.assertEqual(c.read_response().status, 502)
        finally:
            c.close()
        self.assert_alive()


class ScriptedSwitchTest(unittest.TestCase):
    """101 answers the origin in tools/ would not give."""

    def answer_with(self, head):
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        upstream = ScriptedUpstream(lambda i, raw: head.replace(b"ACCEPT", accept_for(key).encode()))
        gw = Gateway(config([upstream.port], routes=WEBSOCKET_ROUTE))
        c = RawClient(gw.port)
        try:
            c.send(handshake_request("/chat", key=key)[0])
            return c.read_response(), upstream.requests
        finally:
            c.close()
            self.assertEqual(gw.stop(), 0, gw.stderr())
            upstream.stop()

    def test_upstream_sees_a_clean_handshake(self):
        r, requests = self.answer_with(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                       b"Connection: Upgrade\r\nSec-WebSocket-Accept: ACCEPT\r\n"
                                       b"Sec-WebSocket-Protocol: chat\r\nX-Hop: 1\r\n\r\n")
        self.assertEqual(r.status, 101)
        self.assertEqual(r.header("Sec-WebSocket-Protocol"), "chat")
        head = requests[0].decode().lower()
        self.assertIn("\r\nconnection: upgrade\r\nupgrade: websocket\r\n", head)
        self.assertEqual(head.count("upgrade: websocket"), 1)

    def test_other_protocols_and_wrong_accepts_are_refused(self):
        for head in (
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: ACCEPT\r\n\r\n",
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n\r\n",  # another key's
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: ACCEPT\r\nSec-WebSocket-Accept: ACCEPT\r\n\r\n",
                b"HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: ACCEPT\r\n\r\n"):
            r, _ = self.answer_with(head)
            self.assertEqual(r.status, 502, head)


class HeldUpstream:
    """An upstream that accepts one handshake with a valid 101 and then does
    what the test says: reset the connection, or wait for what comes."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.conn = None
        self.ready = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.listener.accept()
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(4096)
        key = [line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key:")][0]
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept_for(key)).encode())
        self.conn = conn
        self.ready.set()

    def reset(self):
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.conn.close()

    def stop(self):
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


def reads_a_reset(c):
    """True when the next read on the client fails with a reset (not a FIN)."""
    c.sock.settimeout(5 * SLOW)
    try:
        while c.sock.recv(65536):
            pass
        return False
    except ConnectionResetError:
        return True


class TunnelResetTest(unittest.TestCase):
    """A reset on one side reaches the other side as a reset: a FIN would
    tell it the stream ended whole."""

    def tunnel(self):
        upstream = HeldUpstream()
        gw = Gateway(config([upstream.port], routes=WEBSOCKET_ROUTE))
        c, _ = open_tunnel(gw.port, path="/chat")
        self.assertTrue(upstream.ready.wait(5 * SLOW))
        return upstream, gw, c

    def test_upstream_reset_reaches_the_client(self):
        upstream, gw, c = self.tunnel()
        try:
            upstream.reset()
            self.assertTrue(reads_a_reset(c))
        finally:
            c.close()
            upstream.stop()
            self.assertEqual(gw.stop(), 0, gw.stderr())
        self.assertEqual(gw.stats()["upstream_failures"], 0)

    def test_client_reset_reaches_the_upstream(self):
        upstream, gw, c = self.tunnel()
        try:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            upstream.conn.settimeout(5 * SLOW)
            with self.assertRaises(ConnectionResetError):
                while upstream.conn.recv(65536):
                    pass
        finally:
            upstream.stop()
            self.assertEqual(gw.stop(), 0, gw.stderr())


class StalledTunnelTest(unittest.TestCase):

    def test_a_client_that_stops_reading_is_cut_after_send_timeout(self):
        # It keeps sending, so the tunnel is never idle; the echo it does not
        # read fills every queue on the way. The worker's receive buffers
        # must not stay with it: after send_timeout both sides are reset.
        origin = Origin()
        gw = Gateway(config([origin.port], routes=WEBSOCKET_ROUTE,
                            limits={"send_timeout": "%dms" % (300 * SLOW)}))
        try:
            c, _ = open_tunnel(gw.port)
            # Up to 192 MiB, far more than every buffer on the way can hold
            # (socket buffers grow to a few MiB each), so the writer blocks
            # until the gateway cuts the tunnel.
            data = b"".join(frame(BINARY, os.urandom(48 * 1024)) for _ in range(16))  # 768 KiB
            outcome = []

            def write():
                try:
                    c.sock.settimeout(30 * SLOW)
                    for _ in range(256):
                        c.sock.sendall(data)
                    outcome.append("all sent")
                except (ConnectionResetError, BrokenPipeError) as e:
                    outcome.append(type(e).__name__)
                except socket.timeout:
                    outcome.append("blocked")

            writer = threading.Thread(target=write)
            writer.start()
            writer.join(40 * SLOW)
            self.assertIn(outcome[0], ("ConnectionResetError", "BrokenPipeError"))
            self.assertTrue(reads_a_reset(c) or c.is_closed())
            c.close()
            self.assertEqual(request(gw.port, path="/bytes/100000").status, 200)
        finally:
            self.assertEqual(gw.stop(), 0, gw.stderr())
            origin.stop()


class TunnelIdleTimeoutTest(unittest.TestCase):

    def test_idle_tunnel_closes_and_a_busy_one_stays(self):
        origin = Origin()
        gw = Gateway(config([origin.port], routes=WEBSOCKET_ROUTE,
                            limits={"tunnel_idle_timeout": "%dms" % (400 * SLOW)}))
        try:
            idle, _ = open_tunnel(gw.port)
            busy, _ = open_tunnel(gw.port)
            deadline = time.time() + 1.2 * SLOW
            while time.time() < deadline:
                busy.send(frame(TEXT, b"tick"))
                self.assertEqual(read_frame(busy), (True, TEXT, b"tick"))
                time.sleep(0.1 * SLOW)
            self.assertTrue(idle.is_closed(wait=0.5))
            busy.send(frame(TEXT, b"still here"))
            self.assertEqual(read_frame(busy), (True, TEXT, b"still here"))
            idle.close()
            busy.close()
        finally:
            self.assertEqual(gw.stop(), 0, gw.stderr())
            origin.stop()
        self.assertEqual(gw.stats()["tunnels"], 2)


if __name__ == "__main__":
    unittest.main()
