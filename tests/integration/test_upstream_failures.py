"""Upstream trouble: down, slow, broken, closing pooled connections. The
client gets 502/504 and, where HTTP allows, keeps its connection."""

import socket
import time
import unittest

from harness import (SLOW, Gateway, GatewayTestCase, Origin, RawClient, ScriptedUpstream,
                     build_request, config, refusing_port, request)


class UpstreamFailures(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        cls.dead = refusing_port()
        routes = ("  - match: { prefix: /dead }\n    upstream: dead\n"
                  "  - match: { prefix: / }\n    upstream: origin\n")
        extra = ("  dead:\n    endpoints: [\"127.0.0.1:%d\"]\n" % cls.dead)
        return config([origin_port], routes=routes, extra=extra,
                      upstream={"response_header_timeout": "500ms"})

    def test_upstream_down_is_502_and_connection_kept(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/dead/x"))
        r = c.read_response()
        self.assertEqual(r.status, 502)
        self.assertNotEqual(r.header("Connection"), "close")
        c.send(build_request("GET", "/bytes/3"))
        self.assertEqual(len(c.read_response().body), 3)
        c.close()

    def test_slow_upstream_is_504_and_connection_kept(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/delay/3000"))
        r = c.read_response()
        self.assertEqual(r.status, 504)
        c.send(build_request("GET", "/bytes/3"))
        self.assertEqual(len(c.read_response().body), 3)
        c.close()

    def test_garbage_response_is_502(self):
        r = request(self.port, path="/malformed/garbage")
        self.assertEqual(r.status, 502)
        self.assert_alive()

    def test_bad_length_response_is_502(self):
        r = request(self.port, path="/malformed/badlength")
        self.assertEqual(r.status, 502)

    def test_reset_before_response_is_502(self):
        r = request(self.port, path="/malformed/reset")
        self.assertEqual(r.status, 502)
        self.assert_alive()

    def test_truncated_body_closes_client(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/malformed/truncated"))
        # Head and the first bytes arrive, then the connection is cut: the
        # only honest signal left once a response has started.
        data = c.read_until_close()
        self.assertIn(b"200", data.split(b"\r\n")[0])
        self.assertLess(len(data.split(b"\r\n\r\n", 1)[1]), 100)
        self.assert_alive()

    def test_origin_closing_after_response_is_not_an_error(self):
        for _ in range(5):
            r = request(self.port, path="/close")
            self.assertEqual(r.status, 200)
        self.assert_alive()

    def test_other_clients_undisturbed_by_slow_upstream(self):
        slow = RawClient(self.port)
        slow.send(build_request("GET", "/delay/300"))
        for _ in range(20):
            self.assertEqual(request(self.port, path="/bytes/1").status, 200)
        self.assertEqual(slow.read_response().status, 200)
        slow.close()


class StalePooledConnection(unittest.TestCase):
    """The origin dies and comes back on the same port: pooled connections
    are stale, and a bodiless request is retried once on a fresh one."""

    def test_retry_after_origin_restart(self):
        origin = Origin()
        gw = Gateway(config([origin.port]))
        try:
            for _ in range(3):
                self.assertEqual(request(gw.port, path="/").status, 200)
            port = origin.port
            origin.stop()
            # Bring a new origin up on the same port.
            import subprocess
            from harness import ORIGIN, _read_listening
            proc = subprocess.Popen([ORIGIN, "--port", str(port), "--quiet"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            try:
                _read_listening(proc, 1)
                self.assertEqual(request(gw.port, path="/").status, 200)
            finally:
                proc.kill()
                proc.wait()
                proc.stdout.close()
        finally:
            self.assertEqual(gw.stop(), 0)
        stats = gw.stats()
        self.assertGreaterEqual(stats["upstream_connects"], 2)  # the stale one was replaced


class RetryOnlyIdempotent(unittest.TestCase):
    """A request lost on a reused connection is retried on a fresh one only
    if its method is idempotent (RFC 9112 9.3.1): a second POST could apply
    twice."""

    def exchange(self, method):
        # The second request comes on the reused connection, which the origin
        # closes without a word, as one does when its keep-alive timeout fires
        # just as the gateway reuses the connection.
        origin = ScriptedUpstream(
            lambda i, _: None if i == 1 else b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            keep_alive=True)
        gw = Gateway(config([origin.port]))
        try:
            c = RawClient(gw.port)
            c.send(build_request("GET", "/first"))
            self.assertEqual(c.read_response().status, 200)
            c.send(build_request(method, "/second"))
            status = c.read_response().status
            c.close()
        finally:
            self.assertEqual(gw.stop(), 0)
            origin.stop()
        return status, [r.split(b"\r\n")[0].decode() for r in origin.requests], gw.stats()

    def test_get_is_retried_once(self):
        status, requests, stats = self.exchange("GET")
        self.assertEqual(status, 200)
        self.assertEqual(requests.count("GET /second HTTP/1.1"), 2)
        self.assertEqual(stats["upstream_retries"], 1)

    def test_post_is_not_retried(self):
        status, requests, stats = self.exchange("POST")
        self.assertEqual(status, 502)
        self.assertEqual(requests.count("POST /second HTTP/1.1"), 1)
        self.assertEqual(stats["upstream_retries"], 0)


class ClientTimeouts(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], limits={
            "client_header_timeout": "%dms" % (600 * SLOW), "idle_timeout": "%dms" % (600 * SLOW),
            "client_body_timeout": "%dms" % (600 * SLOW)})

    def test_slowloris_gets_408(self):
        c = RawClient(self.port)
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        start = time.time()
        try:
            for _ in range(20):
                c.send(b"X-Slow: 1\r\n")  # trickling never extends the deadline
                time.sleep(0.1 * SLOW)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.read_response()
        self.assertEqual(r.status, 408)
        self.assertTrue(c.is_closed())

    def test_silent_connection_closed(self):
        c = RawClient(self.port)
        self.assertTrue(c.is_closed(wait=5))

    def test_idle_keep_alive_closed(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/"))
        self.assertEqual(c.read_response().status, 200)
        self.assertTrue(c.is_closed(wait=5))

    def test_stalled_body_gets_408(self):
        c = RawClient(self.port)
        c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part")
        r = c.read_response()
        self.assertEqual(r.status, 408)
        self.assertTrue(c.is_closed())
        self.assert_alive()


class UploadTimeouts(unittest.TestCase):
    """Who is slow during an upload decides which timeout applies: an upload
    that keeps moving outlives response_header_timeout; an upstream that
    stops taking the body gets 504, never a 408 blamed on the client."""

    def test_slow_moving_upload_outlives_the_response_timeout(self):
        origin = Origin()
        gw = Gateway(config([origin.port], upstream={"response_header_timeout": "%dms" % (400 * SLOW)}))
        try:
            c = RawClient(gw.port)
            pieces = 8
            c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (pieces * 10))
            for _ in range(pieces):  # 8 x 150 ms: three times the response timeout
                c.send(b"0123456789")
                time.sleep(0.15 * SLOW)
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body.strip(), b"80")
            c.close()
        finally:
            self.assertEqual(gw.stop(), 0)
            origin.stop()

    def test_upstream_not_taking_the_body_is_504_not_408(self):
        sink = socket.socket()  # accepts, never reads
        sink.bind(("127.0.0.1", 0))
        sink.listen(4)
        gw = Gateway(config([sink.getsockname()[1]],
                            limits={"client_body_timeout": "%dms" % (300 * SLOW)},
                            upstream={"response_header_timeout": "%dms" % (1500 * SLOW)}))
        try:
            c = RawClient(gw.port)
            size = 64 * 1024 * 1024
            c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
            c.sock.settimeout(0.05)
            block, sent, start = b"x" * 65536, 0, time.time()
            while sent < size and time.time() - start < 10 * SLOW:
                try:
                    sent += c.sock.send(block[:min(len(block), size - sent)])
                except socket.timeout:
                    pass  # the gateway stopped reading: the upstream is full
                except (BrokenPipeError, ConnectionResetError):
                    break
                if c.buf or sent >= size:
                    break
                try:
                    c.buf += c.sock.recv(65536, socket.MSG_DONTWAIT)
                except (BlockingIOError, socket.timeout):
                    pass
            self.assertLess(sent, size, "the stalled upstream took the whole body")
            c.sock.settimeout(10 * SLOW)
            r = c.read_response()
            self.assertEqual(r.status, 504, r.raw_head)
            c.close()
        finally:
            self.assertEqual(gw.stop(), 0)
            sink.close()



class UpstreamFraming(unittest.TestCase):
    """Response framings the gateway cannot pass on faithfully are 502, and
    the client connection goes on."""

    def answer(self, response, version="1.1"):
        origin = ScriptedUpstream(lambda i, _: response)
        gw = Gateway(config([origin.port]))
        c = RawClient(gw.port)
        try:
            c.send(build_request("GET", "/x", version=version))
            return c.read_response()
        finally:
            c.close()
            self.assertEqual(gw.stop(), 0, gw.stderr())
            origin.stop()

    def test_transfer_codings_other_than_chunked(self):
        # Passed on, the gzip bytes would reach the client as the body.
        for te in (b"gzip", b"gzip, chunked", b"chunked, gzip", b"identity"):
            with self.subTest(te=te):
                r = self.answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + te +
                                b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                self.assertEqual(r.status, 502)

    def test_chunked_to_an_http10_exchange(self):
        # An HTTP/1.0 client cannot read chunks (RFC 9112 6.1); nor may an
        # HTTP/1.0 response carry them.
        body = b"\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        self.assertEqual(self.answer(b"HTTP/1.1 200 OK" + body, version="1.0").status, 502)
        self.assertEqual(self.answer(b"HTTP/1.0 200 OK" + body).status, 502)
        self.assertEqual(self.answer(b"HTTP/1.1 200 OK" + body).body, b"abc")

    def test_a_response_without_date_gets_one(self):
        # RFC 9110 6.6.1: a recipient with a clock forwarding a response
        # without Date adds one; one that has it keeps the upstream's.
        r = self.answer(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
        self.assertRegex(r.header("Date") or "", r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} [\d:]{8} GMT$")
        r = self.answer(b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                        b"Content-Length: 3\r\n\r\nabc")
        self.assertEqual(r.header_all("Date"), ["Sun, 06 Nov 1994 08:49:37 GMT"])

    def test_a_head_response_may_name_any_coding(self):
        # No body follows an HTTP/1.1 response to HEAD: the coding it names
        # (what a GET would get) cannot be misread, for an HTTP/1.0 client
        # either. An HTTP/1.0 response naming any is faulty (RFC 9112 6.1).
        for response, client_version, status in (("1.1", "1.0", 200), ("1.1", "1.1", 200),
                                                 ("1.0", "1.1", 502)):
            with self.subTest(response=response, client=client_version):
                origin = ScriptedUpstream(
                    lambda i, _: b"HTTP/%s 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" %
                    response.encode(), keep_alive=True)
                gw = Gateway(config([origin.port]))
                try:
                    c = RawClient(gw.port)
                    c.send(build_request("HEAD", "/x", version=client_version))
                    r = c.read_response(head_request=True)
                    self.assertEqual(r.status, status)
                    self.assertIsNone(r.header("Transfer-Encoding"))
                    c.close()
                finally:
                    self.assertEqual(gw.stop(), 0, gw.stderr())
                    origin.stop()

    def test_response_version(self):
        # Only HTTP/1.x can be relayed on an HTTP/1 connection; a higher
        # minor is read as 1.1 (RFC 9112 2.3).
        tail = b" 200 OK\r\nContent-Length: 3\r\n\r\nabc"
        for version in (b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0", b"HTTP/1.10", b"http/1.1"):
            with self.subTest(version=version):
                self.assertEqual(self.answer(version + tail).status, 502)
        self.assertEqual(self.answer(b"HTTP/1.2" + tail).body, b"abc")


class SelfContradictingResponses(unittest.TestCase):
    """A 204 announcing a body could send it late, and it would be read as
    the next request's response: its connection is not reused."""

    def test_204_with_content_length_is_not_pooled(self):
        origin = ScriptedUpstream(lambda i, _: b"HTTP/1.1 204 No Content\r\nContent-Length: 40\r\n\r\n",
                                  keep_alive=True)
        gw = Gateway(config([origin.port]))
        try:
            c = RawClient(gw.port)
            for _ in range(3):
                c.send(build_request("GET", "/x"))
                self.assertEqual(c.read_response().status, 204)
            c.close()
            self.assertEqual(origin.connections, 3)
        finally:
            self.assertEqual(gw.stop(), 0, gw.stderr())
            origin.stop()


class ResetMidResponse(unittest.TestCase):
    """A reset is not the end of a close-delimited body (RFC 9112 8): the
    client is told with a reset of its own, and the cache keeps nothing."""

    def test_reset_is_passed_on_and_not_cached(self):
        # A cacheable 200 whose body has no length: only the close ends it.
        origin = ScriptedUpstream(lambda i, _: b"HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\n\r\n" +
                                  b"x" * 3000, reset=True)
        gw = Gateway(config([origin.port], extra="filters:\n  c: { type: cache }\ndefault_filters: [c]\n"))
        try:
            for attempt in (1, 2):
                c = RawClient(gw.port)
                c.send(build_request("GET", "/cut"))
                with self.assertRaises(ConnectionResetError, msg="attempt %d" % attempt):
                    while c.sock.recv(65536):
                        pass
                c.close()
                self.assertEqual(len(origin.requests), attempt, "served from the cache")
        finally:
            self.assertEqual(gw.stop(), 0, gw.stderr())
            origin.stop()


if __name__ == "__main__":
    unittest.main()
