"""Headers the gateway asserts to the upstream (set by a filter: here the
headers filter's X-Real-IP and X-Tenant) cannot be forged or removed by a
client: not by naming them in Connection, not under an underscore spelling
that CGI-style upstreams read as the same header, not as chunked trailers.
The upstream keeps the raw bytes of every request."""

import unittest

import harness


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
        cls.upstream = harness.ScriptedUpstream(lambda i, _: harness.raw_response("200 OK", body=b"ok"))
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

    def test_path_overrides_are_dropped(self):
        # Frameworks that route by X-Original-URL would serve /admin for a
        # request the gateway routed and authorised as /x.
        got = self.send(b"GET /x HTTP/1.1\r\nHost: a\r\nX-Original-URL: /admin\r\n"
                        b"X-Rewrite-URL: /admin\r\nX-Forwarded-Prefix: /admin\r\n\r\n")
        self.assertTrue(got.startswith("GET /x HTTP/1.1\r\n"), got)
        self.assertNotIn("admin", got)

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
