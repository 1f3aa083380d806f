"""Proxying behaviour through the real binary: methods, bodies both ways,
hop-by-hop headers, forwarding headers, keep-alive and pipelining, HTTP/1.0."""

import email.utils
import socket
import subprocess
import time
import unittest

from harness import (RINGWAY, SLOW, Gateway, GatewayTestCase, KeepAliveLoad, Origin, RawClient,
                     ScriptedUpstream, build_request, config, curl, request)


class ProxyBasics(GatewayTestCase):

    def test_get_through_gateway(self):
        r = request(self.port, path="/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello from ringway-origin\n")
        self.assertEqual(r.header("Via"), "1.1 ringway")
        when = email.utils.parsedate_to_datetime(r.header("Date"))
        self.assertLess(abs(time.time() - when.timestamp()), 120)

    def test_options_asterisk_is_answered_by_the_gateway(self):
        # RFC 9112 3.2.4: asterisk-form is OPTIONS only, about the server.
        c = RawClient(self.port)
        c.send(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertIn("OPTIONS", r.header("Allow"))
        c.send(build_request("GET", "/bytes/2"))  # the connection goes on
        self.assertEqual(c.read_response().body, b"xx")
        c.close()
        self.assertEqual(request(self.port, "GET", "*").status, 400)
        # Its Host and Expect are checked like any request's.
        self.assertEqual(request(self.port, "OPTIONS", "*", host="bad host").status, 400)
        self.assertEqual(request(self.port, "OPTIONS", "*", headers=[("Expect", "x")]).status, 417)

    def test_max_forwards_on_options(self):
        # RFC 9110 7.6.2: decremented on the way, answered here at 0.
        r = request(self.port, "OPTIONS", "/headers", headers=[("Max-Forwards", "5")])
        self.assertIn("\r\nMax-Forwards: 4\r\n", r.body.decode())
        c = RawClient(self.port)
        c.send(build_request("OPTIONS", "/headers", headers=[("Max-Forwards", "0")]))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertIsNotNone(r.header("Allow"))
        c.send(build_request("GET", "/bytes/2"))
        self.assertEqual(c.read_response().body, b"xx")
        c.close()
        # Of several fields the smallest counts.
        r = request(self.port, "OPTIONS", "/headers",
                    headers=[("Max-Forwards", "7"), ("Max-Forwards", "3")])
        self.assertEqual(r.body.decode().count("Max-Forwards: 2\r\n"), 2)
        self.assertEqual(request(self.port, "OPTIONS", "/headers",
                                 headers=[("Max-Forwards", "7"), ("Max-Forwards", "0")]).body, b"")
        # A value that is not a number goes on as it came.
        r = request(self.port, "OPTIONS", "/headers", headers=[("Max-Forwards", "x1")])
        self.assertIn("\r\nMax-Forwards: x1\r\n", r.body.decode())
        # Other methods carry it untouched (TRACE, the other one it governs, is 501).
        r = request(self.port, "GET", "/headers", headers=[("Max-Forwards", "0")])
        self.assertIn("\r\nMax-Forwards: 0\r\n", r.body.decode())

    def test_via_names_the_version_received(self):
        # HTTP/1.0 in and out to the origin (RFC 9110 7.6.3); the origin
        # answers in HTTP/1.1, and the Via of the response says so.
        r = request(self.port, path="/headers", version="1.0")
        self.assertIn("Via: 1.0 ringway\r\n", r.body.decode())
        self.assertEqual(r.header("Via"), "1.1 ringway")

    def test_curl_get(self):
        p = curl("-i", "http://127.0.0.1:%d/bytes/1000" % self.port)
        self.assertEqual(p.returncode, 0, p.stderr)
        head, body = p.stdout.split(b"\r\n\r\n", 1)
        self.assertIn(b"HTTP/1.1 200", head)
        self.assertEqual(len(body), 1000)

    def test_head_has_length_but_no_body(self):
        c = RawClient(self.port)
        c.send(build_request("HEAD", "/bytes/5000"))
        r = c.read_response(head_request=True)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "5000")
        # The next response on the connection must follow directly: no body.
        c.send(build_request("GET", "/bytes/3"))
        r2 = c.read_response()
        self.assertEqual(r2.body, b"xxx"[:len(r2.body)])
        self.assertEqual(len(r2.body), 3)
        c.close()

    def test_post_content_length_echo(self):
        body = bytes(range(256)) * 200
        r = request(self.port, "POST", "/echo", body=body)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, body)

    def test_chunked_request_body(self):
        c = RawClient(self.port)
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello world")
        c.close()

    def test_chunked_response_passes_through(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/chunked/100000"))
        r = c.read_response()
        self.assertEqual(r.header("Transfer-Encoding"), "chunked")
        self.assertEqual(len(r.body), 100000)
        c.close()

    def test_hop_by_hop_request_headers_removed(self):
        r = request(self.port, path="/headers", headers=[
            ("Connection", "x-secret, keep-alive"), ("X-Secret", "1"), ("Keep-Alive", "300"),
            ("TE", "trailers"), ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
            ("Upgrade", "websocket"), ("X-Kept", "yes")])
        seen = r.body.decode().lower()
        for gone in ("x-secret:", "keep-alive:", "\r\nte:", "proxy-authorization:", "upgrade:",
                     "connection: x-secret"):
            self.assertNotIn(gone, seen)
        self.assertIn("x-kept: yes", seen)

    def test_hop_by_hop_response_headers_removed(self):
        r = request(self.port, path="/?header=Connection:x-foo&header=X-Foo:bar"
                    "&header=Keep-Alive:timeout%3D5&header=X-Bar:baz")
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("X-Foo"))
        self.assertIsNone(r.header("Keep-Alive"))
        self.assertEqual(r.header("X-Bar"), "baz")

    def test_forwarding_headers(self):
        r = request(self.port, path="/headers", host="api.example.com",
                    headers=[("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"),
                             ("Via", "1.0 edge")])
        seen = r.body.decode()
        self.assertIn("X-Forwarded-For: 203.0.113.7, 127.0.0.1\r\n", seen)
        self.assertIn("X-Forwarded-Proto: http\r\n", seen)
        self.assertNotIn("https", seen)
        self.assertIn("X-Forwarded-Host: api.example.com\r\n", seen)
        self.assertIn("Via: 1.0 edge, 1.1 ringway\r\n", seen)
        self.assertIn("Host: api.example.com\r\n", seen)

    def test_keep_alive_and_pipelining_in_order(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/bytes/10") + build_request("GET", "/delay/50") +
               build_request("POST", "/echo", body=b"third") + build_request("GET", "/bytes/20"))
        bodies = [c.read_response().body for _ in range(4)]
        self.assertEqual(len(bodies[0]), 10)
        self.assertEqual(bodies[1], b"hello from ringway-origin\n")
        self.assertEqual(bodies[2], b"third")
        self.assertEqual(len(bodies[3]), 20)
        c.close()

    def test_many_pipelined_requests(self):
        c = RawClient(self.port)
        n = 200
        c.send(b"".join(build_request("GET", "/bytes/%d" % i) for i in range(1, n + 1)))
        for i in range(1, n + 1):
            self.assertEqual(len(c.read_response().body), i)
        c.close()

    def test_http10_client(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/bytes/100", version="1.0", host=None))
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), 100)
        self.assertTrue(c.is_closed())

    def test_http10_without_host_gets_one_upstream(self):
        r = request(self.port, path="/headers", version="1.0", host=None)
        self.assertEqual(r.status, 200)
        self.assertIn(b"Host: origin\r\n", r.body)

    def test_http10_keep_alive(self):
        c = RawClient(self.port)
        for _ in range(3):
            c.send(build_request("GET", "/", version="1.0", headers=[("Connection", "keep-alive")]))
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Connection"), "keep-alive")
        c.close()

    def test_http10_gets_chunked_origin_response_unchunked(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/chunked/5000", version="1.0"))
        r = c.read_response()
        self.assertIsNone(r.header("Transfer-Encoding"))
        self.assertEqual(len(r.body), 5000)

    def test_connection_close_honoured(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/", headers=[("Connection", "close")]))
        r = c.read_response()
        self.assertEqual(r.header("Connection"), "close")
        self.assertTrue(c.is_closed())

    def test_close_asked_by_client_is_immediate(self):
        # The client said "close" and has sent all it will (RFC 9112 9.6): the
        # gateway closes at once, as nginx does, instead of half-closing and
        # waiting for the client's FIN. A client that writes anyway is reset.
        c = RawClient(self.port)
        c.send(build_request("GET", "/", headers=[("Connection", "close")]))
        self.assertEqual(c.read_response().status, 200)
        self.assertTrue(c.is_closed())
        with self.assertRaises((ConnectionResetError, BrokenPipeError)):
            for _ in range(50):
                c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                time.sleep(0.02)
        c.close()

    def assert_lingers(self, head, status):
        """The gateway answers `head` with `status` and closes, but half-closes
        and reads on first: the client's late bytes are discarded and it sees
        a clean end (EOF), not a reset that could destroy the response before
        it is read."""
        c = RawClient(self.port)
        c.send(head)
        time.sleep(0.1)
        for _ in range(20):
            c.send(b"x" * 4096)
        time.sleep(0.1)
        self.assertEqual(c.read_response().status, status)
        c.sock.settimeout(5)
        self.assertEqual(c.sock.recv(65536), b"")  # a reset raises here
        c.close()

    def test_close_decided_by_gateway_lingers(self):
        # A close the client did not ask for comes while it may still be sending.
        self.assert_lingers(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400)

    def test_refused_upload_lingers_even_when_client_asked_to_close(self):
        # A refused head's body is never read: even after "Connection: close"
        # the body arriving after the 413 must not reset the connection.
        self.assert_lingers(b"POST /sink HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                            b"Content-Length: 2147483648\r\n\r\n", 413)

    def test_no_body_statuses(self):
        for status in (204, 304):
            c = RawClient(self.port)
            c.send(build_request("GET", "/status/%d" % status) + build_request("GET", "/bytes/4"))
            r = c.read_response()
            self.assertEqual(r.status, status)
            self.assertEqual(len(c.read_response().body), 4)
            c.close()

    def test_expect_100_continue(self):
        c = RawClient(self.port)
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               b"Expect: 100-continue\r\n\r\n")
        interim = c.read_response()
        self.assertEqual(interim.status, 100)
        c.send(b"hello")
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello")
        c.close()

    def test_unknown_expectation_refused(self):
        r = request(self.port, "POST", "/echo", headers=[("Expect", "magic")], body=b"x")
        self.assertEqual(r.status, 417)

    def test_origin_status_passes_through(self):
        r = request(self.port, path="/status/418")
        self.assertEqual(r.status, 418)

    def test_half_closed_client_still_answered(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/bytes/7"))
        c.sock.shutdown(1)  # SHUT_WR
        r = c.read_response()
        self.assertEqual(len(r.body), 7)
        self.assertTrue(c.is_closed())

    def test_half_closed_client_with_body_still_answered(self):
        # The client sends its whole request and shuts its write side at
        # once; the end of the body is still queued in the gateway (the
        # upstream is connecting or has not taken it all) when the EOF comes.
        size = 4 * 1024 * 1024
        for framing in ("length", "chunked"):
            with self.subTest(framing=framing):
                c = RawClient(self.port)
                if framing == "length":
                    c.send(build_request("POST", "/sink", body=b"x" * size))
                else:
                    c.send(build_request("POST", "/sink", headers=[("Transfer-Encoding", "chunked")]) +
                           b"%x\r\n" % size + b"x" * size + b"\r\n0\r\n\r\n")
                c.sock.shutdown(socket.SHUT_WR)
                r = c.read_response()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.body.strip(), str(size).encode())
                self.assertTrue(c.is_closed())


class InterimResponses(unittest.TestCase):
    """1xx responses from the upstream (RFC 9110 15.2): a proxy forwards them,
    except a 100 (the gateway answers Expect itself) and except to an
    HTTP/1.0 client, which must never get one."""

    EARLY_HINTS = (b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n"
                   b"Connection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n\r\n")
    FINAL = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"

    def exchange(self, answer, version="1.1", requests=1):
        """The responses a client reads for its requests, each a list of
        interim responses followed by the final one."""
        origin = ScriptedUpstream(lambda i, _: answer, keep_alive=True)
        gw = Gateway(config([origin.port]))
        c = RawClient(gw.port)
        try:
            got = []
            for _ in range(requests):
                c.send(build_request("GET", "/x", version=version,
                                     headers=[("Connection", "keep-alive")] if version == "1.0" else None))
                seen = [c.read_response()]
                while seen[-1].status < 200:
                    seen.append(c.read_response())
                got.append(seen)
            return got
        finally:
            c.close()
            self.assertEqual(gw.stop(), 0, gw.stderr())
            origin.stop()

    def test_early_hints_are_relayed_without_hop_by_hop_fields(self):
        for hints, final in self.exchange(self.EARLY_HINTS + self.FINAL, requests=2):
            self.assertEqual(hints.status, 103)
            self.assertEqual(hints.header("Link"), "</style.css>; rel=preload")
            self.assertEqual(hints.header("Via"), "1.1 ringway")
            for name in ("X-Hop", "Connection", "Keep-Alive", "Content-Length", "Date"):
                self.assertIsNone(hints.header(name), name)
            self.assertEqual((final.status, final.body), (200, b"abc"))

    def test_a_100_is_not_relayed_and_others_are_in_order(self):
        answer = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" +
                  b"".join(b"HTTP/1.1 103 Early Hints\r\nLink: <%d>\r\n\r\n" % i
                           for i in range(40)) + self.FINAL)
        (responses,) = self.exchange(answer)
        self.assertEqual([r.status for r in responses], [102] + [103] * 40 + [200])
        self.assertEqual([r.header("Link") for r in responses[1:-1]],
                         ["<%d>" % i for i in range(40)])
        self.assertEqual(responses[-1].body, b"abc")

    def test_an_http10_client_gets_no_1xx(self):
        (responses,) = self.exchange(self.EARLY_HINTS + self.FINAL, version="1.0")
        self.assertEqual([r.status for r in responses], [200])

    def test_an_upstream_closing_after_its_response_is_fine(self):
        # The close may arrive while the final head waits behind a relayed
        # 1xx still being sent: it is read all the same (a race, so a few
        # rounds; each failed 4 of 5 times before).
        for _ in range(5):
            origin = ScriptedUpstream(lambda i, _: self.EARLY_HINTS * 3 + self.FINAL)
            gw = Gateway(config([origin.port]))
            c = RawClient(gw.port)
            try:
                c.send(build_request("GET", "/x"))
                statuses = [c.read_response().status for _ in range(3)]
                final = c.read_response()
                self.assertEqual((statuses, final.status, final.body), ([103] * 3, 200, b"abc"))
            finally:
                c.close()
                self.assertEqual(gw.stop(), 0, gw.stderr())
                origin.stop()

    def test_an_empty_body_the_close_ends_after_a_1xx(self):
        # The head waited behind the 103 while the close came: the response
        # (no length, so the close ends it: an empty body) still goes out;
        # without a 103 too (it never did: the head alone was not sent).
        for hints in (self.EARLY_HINTS, b""):
            origin = ScriptedUpstream(lambda i, _: hints + b"HTTP/1.1 200 OK\r\n\r\n")
            gw = Gateway(config([origin.port]))
            c = RawClient(gw.port)
            try:
                c.send(build_request("GET", "/x"))
                if hints:
                    self.assertEqual(c.read_response().status, 103)
                final = c.read_response()
                self.assertEqual((final.status, final.body), (200, b""))
            finally:
                c.close()
                self.assertEqual(gw.stop(), 0, gw.stderr())
                origin.stop()

    def test_an_upstream_failing_after_a_1xx_is_502(self):
        origin = ScriptedUpstream(lambda i, _: self.EARLY_HINTS + b"HTTP/1.1 200 OK\r\nbad")
        gw = Gateway(config([origin.port]))
        c = RawClient(gw.port)
        try:
            c.send(build_request("GET", "/x"))
            self.assertEqual(c.read_response().status, 103)
            self.assertEqual(c.read_response().status, 502)
        finally:
            c.close()
            self.assertEqual(gw.stop(), 0, gw.stderr())
            origin.stop()


class UpstreamReuse(GatewayTestCase):

    def test_upstream_connections_reused(self):
        clients = [RawClient(self.port) for _ in range(10)]
        for _ in range(100):
            for c in clients:
                c.send(build_request("GET", "/"))
            for c in clients:
                self.assertEqual(c.read_response().status, 200)
        for c in clients:
            c.close()
        code = self.gateway.stop()
        self.assertEqual(code, 0)
        s = self.gateway.stats()
        self.assertEqual(s["requests"], 1000)
        # At steady state every request after the first per connection reuses one.
        self.assertGreaterEqual(s["upstream_reuses"] / s["requests"], 0.99, s)


class BatchedCompletions(ProxyBasics):
    """Every ProxyBasics test again with completion batching on."""

    @classmethod
    def gateway_config(cls, origin_port):
        # batch_min_rps 0: batched at any rate, not only under load
        return config([origin_port], engine={"batch_completions": 64, "batch_wait": "200us",
                                             "batch_min_rps": 0})

    def test_batching_is_reported(self):
        err = self.gateway.stderr()
        if "batch_wait needs Linux >= 6.12: off" not in err:
            self.assertIn("+batch(64 completions, 200us)", err)


class BatchingGate(unittest.TestCase):
    """engine.batch_min_rps: a worker batches its completions only while it
    serves at least that many requests per second (100 ms windows). The stop
    line counts its loop turns and the batched ones."""

    def turns_under_load(self, min_rps):
        origin = Origin()
        gw = None
        try:
            gw = Gateway(config([origin.port], engine={"batch_wait": "100us", "batch_min_rps": min_rps}))
            if "batch_wait needs Linux >= 6.12: off" in gw.stderr():
                self.skipTest("this kernel has no io_uring min-wait")
            load = KeepAliveLoad(gw.port, threads=2, per_connection=1000)
            time.sleep(1.0 * SLOW)
            load.stop()
            self.assertEqual(load.failures, [])
            self.assertEqual(gw.stop(), 0)
            if "completion batching refused by the kernel" in gw.stderr():
                self.skipTest("this kernel refused the batched wait")
            s = gw.stats()
            # Well over 100 req/s even under sanitizers.
            self.assertGreater(s["requests"], 200, s)
            return s
        finally:
            if gw is not None and gw.alive():
                gw.stop()
            origin.stop()

    def test_batches_while_over_the_rate(self):
        s = self.turns_under_load(50)
        self.assertGreater(s["batched_turns"], 0, s)
        self.assertLess(s["batched_turns"], s["loop_turns"], s)  # not before the first window

    def test_does_not_batch_under_the_rate(self):
        s = self.turns_under_load(100000000)
        self.assertGreater(s["loop_turns"], 0, s)
        self.assertEqual(s["batched_turns"], 0, s)


class PlainDescriptors(GatewayTestCase):
    """The same proxying with registered files turned off."""

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], engine={"registered_files": "false"})

    def test_proxying_without_registered_files(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/bytes/10") + build_request("POST", "/echo", body=b"abc"))
        self.assertEqual(len(c.read_response().body), 10)
        self.assertEqual(c.read_response().body, b"abc")
        c.close()
        self.assertIn("io_uring", self.gateway.stderr())
        self.assertNotIn("registered file slots", self.gateway.stderr())


class HostRewrite(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], upstream={"host": "internal.svc"})

    def test_host_rewritten(self):
        r = request(self.port, path="/headers", host="public.example.com")
        seen = r.body.decode()
        self.assertIn("Host: internal.svc\r\n", seen)
        self.assertIn("X-Forwarded-Host: public.example.com\r\n", seen)


class CommandLine(unittest.TestCase):

    def test_version_and_help(self):
        p = subprocess.run([RINGWAY, "--version"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^ringway \d+\.\d+\.\d+")
        p = subprocess.run([RINGWAY, "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage", p.stdout)
        p = subprocess.run([RINGWAY, "--bogus"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)

    def test_check_ok_and_error(self):
        import tempfile, os
        d = tempfile.mkdtemp()
        good = os.path.join(d, "good.yaml")
        with open(good, "w") as f:
            f.write(config([9]))
        p = subprocess.run([RINGWAY, "check", "--config", good], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        bad = os.path.join(d, "bad.yaml")
        with open(bad, "w") as f:
            f.write(config([9]).replace("upstream: origin", "upstream: nowhere"))
        p = subprocess.run([RINGWAY, "check", "--config", bad], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"^%s:\d+:\d+: .*nowhere" % bad)
        p = subprocess.run([RINGWAY, "check", os.path.join(d, "missing.yaml")],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("missing.yaml", p.stderr)
        # Two files: refused, not judged on the last one alone.
        p = subprocess.run([RINGWAY, "check", bad, good], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("one configuration file at a time", p.stderr)
        # Not a regular file: a FIFO would block, /dev/zero never end.
        fifo = os.path.join(d, "fifo.yaml")
        os.mkfifo(fifo)
        for path in (fifo, "/dev/zero", d):
            p = subprocess.run([RINGWAY, "check", path], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 1)
            self.assertIn("not a regular file", p.stderr)


if __name__ == "__main__":
    unittest.main()
