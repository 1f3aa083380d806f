"""Headers the gateway asserts to the upstream (set by a filter: here the
headers filter's X-Real-IP and X-Tenant) cannot be forged or removed by a
client: not by naming them in Connection, not under an underscore spelling
that CGI-style upstreams read as the same header, not as chunked trailers.
The upstream is a recorder that keeps the raw bytes of every request."""

import socket
import threading
import unittest

import harness


class RecordingUpstream:
    """Reads whole requests (Content-Length or chunked bodies, raw bytes
    kept), answers each with 200 "ok"."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                end = buf.index(b"\r\n\r\n") + 4
                if b"transfer-encoding: chunked" in buf[:end].lower():
                    # The tests' bodies are one chunk without CRLF CRLF in
                    # it: the message ends at the first blank line after
                    # the last chunk's "0" line, trailers or not.
                    while buf.find(b"\r\n\r\n", buf.find(b"\r\n0\r\n", end - 4) + 2) < 0:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        buf += chunk
                    end = buf.find(b"\r\n\r\n", buf.find(b"\r\n0\r\n", end - 4) + 2) + 4
                self.requests.append(buf[:end])
                buf = buf[end:]
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    def stop(self):
        self.sock.close()


FILTERS = """\
filters:
  identity:
    type: headers
    request:
      set: { X-Real-IP: "${client_ip}", X-Tenant: "blue" }
default_filters: [identity]
"""


class ForgedHeaders(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.upstream = RecordingUpstream()
        cls.gateway = harness.Gateway(harness.config([cls.upstream.port], extra=FILTERS))

    @classmethod
    def tearDownClass(cls):
        code = cls.gateway.stop()
        cls.upstream.stop()
        if code != 0:
            raise AssertionError("ringway exited with %r:\n%s" % (code, cls.gateway.stderr()))

    def send(self, raw):
        """One raw request; returns (status, the upstream's raw copy)."""
        before = len(self.upstream.requests)
        c = harness.RawClient(self.gateway.port)
        try:
            c.send(raw)
            r = c.read_response()
        finally:
            c.close()
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(len(self.upstream.requests), before + 1)
        return self.upstream.requests[-1].decode()

    def test_connection_cannot_remove_what_a_filter_sets(self):
        got = self.send(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: X-Real-IP, x-tenant\r\n"
                        b"X-Debug: 1\r\nConnection: X-Debug\r\n\r\n")
        self.assertIn("X-Real-IP: 127.0.0.1\r\n", got)
        self.assertIn("X-Tenant: blue\r\n", got)
        self.assertNotIn("X-Debug", got)  # the client's own hop-by-hop header still goes

    def test_underscore_spellings_of_set_headers_are_removed(self):
        got = self.send(b"GET /x HTTP/1.1\r\nHost: a\r\nX_Real_IP: 6.6.6.6\r\nx_tenant: red\r\n"
                        b"X-Other_Name: kept\r\n\r\n")
        self.assertIn("X-Real-IP: 127.0.0.1\r\n", got)
        self.assertNotIn("6.6.6.6", got)
        self.assertNotIn("red", got)
        self.assertIn("X-Other_Name: kept\r\n", got)

    def test_request_trailers_are_dropped(self):
        got = self.send(b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5\r\nhello\r\n0\r\nX-Tenant: red\r\nX-Real-IP: 6.6.6.6\r\n\r\n")
        self.assertTrue(got.endswith("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), repr(got))
        self.assertNotIn("red", got)
        # Split across writes, the trailer section starting in a later buffer.
        before = len(self.upstream.requests)
        c = harness.RawClient(self.gateway.port)
        try:
            c.send(b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n")
            c.send(b"X-Tenant: red\r\n")
            c.send(b"\r\n")
            self.assertEqual(c.read_response().status, 200)
        finally:
            c.close()
        self.assertEqual(len(self.upstream.requests), before + 1)
        self.assertTrue(self.upstream.requests[-1].endswith(b"5\r\nhello\r\n0\r\n\r\n"))


if __name__ == "__main__":
    unittest.main()
