"""The compress filter through the real binary: gzip round trips with curl
and raw sockets (length-delimited and chunked origins, small and large
bodies), HEAD, clients without gzip, and responses it must leave alone
(no-transform, already encoded, too small, unlisted type)."""

import tempfile
import unittest
import zlib

from harness import (Gateway, GatewayTestCase, Origin, RawClient, ScriptedUpstream, build_request,
                     config, curl, raw_response, request)

MB = 1024 * 1024

FILTERS = """\
filters:
  gz:
    type: compress
    level: 6
    min_length: 256
    types: [application/octet-stream, text/*]
  gz_default:
    type: compress
"""

# /gz/... and /default/... reach the origin with the prefix stripped; / is
# the same origin without the filter, for reference bodies.
ROUTES = """\
  - match: { prefix: /gz }
    upstream: origin
    strip_prefix: /gz
    filters: [gz]
  - match: { prefix: /default }
    upstream: origin
    strip_prefix: /default
    filters: [gz_default]
  - match: { prefix: / }
    upstream: origin
"""

GZIP = [("Accept-Encoding", "gzip")]


def gunzip(data):
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(data) + d.flush()
    if not d.eof or d.unused_data:
        raise ValueError("not exactly one gzip member")
    return out


class CompressTest(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], routes=ROUTES, extra=FILTERS)

    def reference(self, path):
        """The body the origin sends for `path`, through the unfiltered route."""
        r = request(self.port, path=path)
        self.assertEqual(r.status, 200)
        return r.body

    def get_gzip(self, path, headers=GZIP):
        r = request(self.port, path=path, headers=headers)
        self.assertEqual(r.status, 200, r.raw_head)
        return r

    def assert_gzipped(self, r, plain):
        self.assertEqual(r.header("Content-Encoding"), "gzip", r.raw_head)
        self.assertIsNone(r.header("Content-Length"), r.raw_head)
        self.assertIn("accept-encoding", (r.header("Vary") or "").lower())
        self.assertEqual(gunzip(r.body), plain)
        self.assertLess(len(r.body), len(plain))

    def assert_identity(self, r, plain):
        self.assertIsNone(r.header("Content-Encoding"), r.raw_head)
        self.assertEqual(r.body, plain)

    def test_curl_compressed_round_trip(self):
        for path in ("/bytes/100000", "/chunked/1000000"):
            with self.subTest(path=path), tempfile.NamedTemporaryFile() as body:
                url = "http://127.0.0.1:%d/gz%s" % (self.port, path)
                p = curl("--compressed", "-D", "-", "-o", body.name, url)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(b"content-encoding: gzip", p.stdout.lower())
                self.assertEqual(body.read(), self.reference(path))

    def test_length_delimited_sizes(self):
        # 300 B and 100 KiB are gathered whole; 2 MiB streams through zlib.
        for n in (300, 100000, 2 * MB):
            with self.subTest(n=n):
                self.assert_gzipped(self.get_gzip("/gz/bytes/%d" % n), self.reference("/bytes/%d" % n))

    def test_chunked_origin(self):
        # Unknown length: compressed whatever the size, even one byte.
        for path in ("/chunked/300000?chunk=7000", "/chunked/5000", "/chunked/1"):
            with self.subTest(path=path):
                r = self.get_gzip("/gz" + path)
                self.assertEqual(r.header("Content-Encoding"), "gzip", r.raw_head)
                self.assertIn("chunked", (r.header("Transfer-Encoding") or "").lower())
                self.assertEqual(gunzip(r.body), self.reference(path))

    def test_large_streamed_body(self):
        r = self.get_gzip("/gz/bytes/%d" % (20 * MB))
        self.assertEqual(len(gunzip(r.body)), 20 * MB)
        self.assertEqual(r.header("Content-Encoding"), "gzip")

    def test_keep_alive_after_compressed_responses(self):
        c = RawClient(self.port)
        try:
            for path in ("/gz/bytes/5000", "/gz/chunked/20000", "/gz/bytes/200000", "/bytes/10"):
                c.send(build_request("GET", path, GZIP))
                r = c.read_response()
                self.assertEqual(r.status, 200)
                plain = self.reference(path.replace("/gz", "", 1))
                if path.startswith("/gz"):
                    self.assertEqual(gunzip(r.body), plain)
                else:
                    self.assertEqual(r.body, plain)
        finally:
            c.close()

    def test_head(self):
        c = RawClient(self.port)
        try:
            c.send(build_request("HEAD", "/gz/bytes/100000", GZIP))
            r = c.read_response(head_request=True)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Content-Encoding"), "gzip")
            self.assertIsNone(r.header("Content-Length"))
            # No body bytes followed: the next response parses cleanly.
            c.send(build_request("GET", "/gz/bytes/3000", GZIP))
            self.assertEqual(gunzip(c.read_response().body), self.reference("/bytes/3000"))
        finally:
            c.close()

    def test_http10_client(self):
        # No chunked coding for HTTP/1.0: the compressed body ends with the connection.
        r = request(self.port, path="/gz/bytes/100000", headers=GZIP, version="1.0")
        self.assertEqual(r.status, 200)
        self.assert_gzipped(r, self.reference("/bytes/100000"))
        self.assertIsNone(r.header("Transfer-Encoding"))

    def test_clients_leaving_mid_body(self):
        # Each abort goes through the log phase, which frees the stream.
        for i in range(20):
            c = RawClient(self.port)
            try:
                c.send(build_request("GET", "/gz/bytes/%d?n=%d" % (50 * MB, i), GZIP))
                c._fill()
            finally:
                c.close()
        self.assert_alive()
        self.assert_gzipped(self.get_gzip("/gz/bytes/300000"), self.reference("/bytes/300000"))

    def test_no_accept_encoding_gets_identity(self):
        plain = self.reference("/bytes/100000")
        for headers in ([], [("Accept-Encoding", "br")], [("Accept-Encoding", "gzip;q=0")],
                        [("Accept-Encoding", "gzip;q=7")]):
            with self.subTest(headers=headers):
                r = self.get_gzip("/gz/bytes/100000", headers)
                self.assert_identity(r, plain)
                self.assertEqual(r.header("Content-Length"), "100000")
                self.assertEqual(r.header("Vary"), "Accept-Encoding")

    def test_no_transform(self):
        path = "/bytes/100000?header=Cache-Control:no-transform"
        r = self.get_gzip("/gz" + path)
        self.assert_identity(r, self.reference(path))
        self.assertEqual(r.header("Content-Length"), "100000")

    def test_already_encoded(self):
        path = "/bytes/100000?header=Content-Encoding:br"
        r = self.get_gzip("/gz" + path)
        self.assertEqual(r.header("Content-Encoding"), "br")
        self.assertEqual(r.body, self.reference(path))

    def test_small_body_left_alone(self):
        r = self.get_gzip("/gz/bytes/100")
        self.assert_identity(r, self.reference("/bytes/100"))
        self.assertIsNone(r.header("Vary"))

    def test_etag_weakened_vary_merged(self):
        path = "/bytes/5000?header=ETag:%22v1%22&header=Vary:Origin"
        r = self.get_gzip("/gz" + path)
        self.assertEqual(r.header("ETag"), 'W/"v1"')
        self.assertEqual(r.header("Vary"), "Origin, Accept-Encoding")
        self.assertEqual(gunzip(r.body), self.reference(path))

    def test_default_types(self):
        # application/octet-stream is not in the default list ...
        r = self.get_gzip("/default/bytes/100000")
        self.assert_identity(r, self.reference("/bytes/100000"))
        # ... text/plain is (the origin's /headers echoes the request head).
        r = self.get_gzip("/default/headers", GZIP + [("X-Pad", "p" * 600)])
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertIn(b"X-Pad: " + b"p" * 600, gunzip(r.body))

    def test_alive(self):
        self.assert_alive()


class NotModifiedForTheGzipVariantTest(unittest.TestCase):
    """A client revalidating the gzip copy we made (W/"x") gets a 304 whose
    validator and Vary match that copy; other clients get the origin's."""

    def test_304_validator_follows_the_variant(self):
        def answer(i, raw):
            if b"if-none-match" in raw.lower():
                return raw_response("304 Not Modified", ['ETag: "x"'])
            return raw_response("200 OK", ['ETag: "x"', "Content-Type: text/html"], b"<p>" * 400)
        upstream = ScriptedUpstream(answer)
        gw = Gateway(config([upstream.port], extra="filters:\n  gz: { type: compress }\n"
                            "default_filters: [gz]\n"))
        try:
            r = request(gw.port, headers=[("Accept-Encoding", "gzip")])
            self.assertEqual((r.status, r.header("ETag")), (200, 'W/"x"'))
            r = request(gw.port, headers=[("Accept-Encoding", "gzip"), ("If-None-Match", 'W/"x"')])
            self.assertEqual((r.status, r.header("ETag"), r.header("Vary")), (304, 'W/"x"', "Accept-Encoding"))
            r = request(gw.port, headers=[("If-None-Match", 'W/"x"')])  # takes no gzip
            self.assertEqual((r.status, r.header("ETag")), (304, '"x"'))
        finally:
            self.assertEqual(gw.stop(), 0, gw.stderr())
            upstream.stop()


class CompressionIsSlicedTest(unittest.TestCase):
    """A worker compresses about 32 KiB of body per loop turn (the engine's
    kRewriteBytesPerTurn; the piece that crosses it is finished, so at most
    one 16 KiB receive buffer more), so one large gzip download cannot hold
    every other connection of the worker for a whole turn's completions (it
    stalled them for 100-500 ms before). Seen from outside: compressing N
    bytes takes at least N / 48 KiB loop turns (the stop line's loop_turns;
    26 for 8 MiB before)."""

    def test_loop_turns_bound_the_work_per_turn(self):
        origin = Origin()
        gw = Gateway(config([origin.port], routes=ROUTES, extra=FILTERS))
        size = 8 * MB
        try:
            r = curl("-s", "-H", "Accept-Encoding: gzip", "-o", "/dev/null", "-w", "%{size_download}",
                     "http://127.0.0.1:%d/gz/chunked/%d?text=1" % (gw.port, size))
            self.assertLess(int(r.stdout), size // 3)  # it was compressed
        finally:
            self.assertEqual(gw.stop(), 0, gw.stderr())
            origin.stop()
        turns = gw.stats()["loop_turns"]
        self.assertGreaterEqual(turns, size // (48 * 1024), gw.stats())


if __name__ == "__main__":
    unittest.main()
