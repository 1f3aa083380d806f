"""Filter chains through the real binary: the engine's phases (request head,
response head, order of the two, local responses, routes without upstream)
driven by the small built-in filters (headers, respond, redirect, cors), and
filter config errors reported with their position."""

import os
import subprocess
import tempfile
import unittest

from harness import (RINGWAY, Gateway, GatewayTestCase, RawClient, build_request, config,
                     refusing_port, request)

FILTERS = """\
filters:
  first:
    type: headers
    request:  { set: { X-Order: first, X-Client: "${client_ip}", X-Id: "${request_id}" }, remove: [X-Secret] }
    response: { set: { X-Order: first, X-Route: "${route}" } }
  second:
    type: headers
    request:  { set: { X-Order: second, X-Consumer: "${consumer}" } }
    response: { set: { X-Order: second }, remove: [X-Origin-Only] }
  move:
    type: headers
    rewrite: { regex: "^/old/(.*)$", replace: "/\\\\1" }
  hello:
    type: respond
    status: 200
    body: "hello from the gateway"
    headers: { X-Made-By: "ringway ${method}" }
  go:
    type: redirect
    status: 308
    location: "https://example.com${path}"
    keep_query: true
  cors:
    type: cors
    origins: ["https://app.example", "HTTPS://Admin.Example:443", "~^https://[a-z]+\\\\.example\\\\.org$"]
    methods: [GET, PUT]
    headers: [Content-Type, Authorization]
    expose_headers: [X-Request-Id]
    credentials: true
    max_age: 10m
  small_body:
    type: body_limit
    max_bytes: 1KiB
default_filters: [first]
"""

ROUTES = """\
  - match: { prefix: /chain }
    upstream: origin
    strip_prefix: /chain
    filters: [first, second]
  - match: { prefix: /old }
    upstream: origin
    filters: [move]
  - match: { path: /hello }
    filters: [hello]
  - match: { prefix: /go }
    filters: [go]
  - match: { prefix: /cors/dead }
    upstream: dead
    filters: [cors, second]
  - match: { prefix: /cors }
    upstream: origin
    strip_prefix: /cors
    filters: [cors]
  - match: { prefix: /limited }
    upstream: origin
    strip_prefix: /limited
    filters: [small_body]
  - match: { prefix: /plain }
    upstream: origin
    strip_prefix: /plain
    filters: []
  - match: { prefix: / }
    upstream: origin
"""


def upstream_head(response):
    """The request head the origin received (its /headers endpoint echoes it)."""
    return response.body.decode(errors="replace")


class FilterChainTest(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        dead = "  dead:\n    endpoints: [\"127.0.0.1:%d\"]\n" % refusing_port()
        return config([origin_port], routes=ROUTES, extra=dead + FILTERS)

    def test_request_filters_run_in_chain_order(self):
        r = request(self.port, path="/chain/headers", headers=[("X-Secret", "s3cret")])
        self.assertEqual(r.status, 200)
        head = upstream_head(r)
        # Request phase in order: "second" set X-Order last.
        self.assertIn("X-Order: second\r\n", head)
        self.assertNotIn("X-Order: first", head)
        self.assertIn("X-Client: 127.0.0.1\r\n", head)
        self.assertIn("X-Id: ", head)
        self.assertNotIn("s3cret", head)

    def test_a_value_that_expands_to_nothing_is_not_sent(self):
        # No api_key filter set a consumer: X-Consumer is not sent empty, and
        # the client's own copy is gone all the same.
        r = request(self.port, path="/chain/headers", headers=[("X-Consumer", "forged")])
        self.assertEqual(r.status, 200)
        self.assertNotIn("x-consumer", upstream_head(r).lower())

    def test_response_filters_run_in_reverse_order(self):
        r = request(self.port, path="/chain/headers")
        # Response phase in reverse: "first" runs last, its value stays.
        self.assertEqual(r.header_all("x-order"), ["first"])
        self.assertEqual(r.header("x-route"), "routes[0]")

    def test_upstream_header_removed_from_response(self):
        r = request(self.port, path="/chain/headers?header=X-Origin-Only:1")
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("x-origin-only"))
        r = request(self.port, path="/plain/headers?header=X-Origin-Only:1")
        self.assertEqual(r.header("x-origin-only"), "1")

    def test_request_ids_differ(self):
        # Also from another gateway of the same config (a restart, a second
        # instance): ids are not a counter that starts over.
        other = Gateway(self.gateway_config(self.origin.port))
        ids = set()
        try:
            for port in (self.port, self.port, self.port, other.port):
                head = upstream_head(request(port, path="/chain/headers"))
                ids.add([l for l in head.split("\r\n") if l.startswith("X-Id: ")][0])
        finally:
            self.assertEqual(other.stop(), 0, other.stderr())
        self.assertEqual(len(ids), 4)
        for line in ids:
            self.assertRegex(line, r"^X-Id: [0-9a-f]{32}$")

    def test_default_filters_and_opt_out(self):
        head = upstream_head(request(self.port, path="/headers"))
        self.assertIn("X-Order: first\r\n", head)  # default_filters apply
        head = upstream_head(request(self.port, path="/plain/headers"))
        self.assertNotIn("X-Order", head)  # filters: [] opts out

    def test_path_rewrite_with_captures(self):
        r = request(self.port, path="/old/headers?a=1")
        self.assertEqual(r.status, 200)
        self.assertTrue(upstream_head(r).startswith("GET /headers?a=1 HTTP/1.1\r\n"), upstream_head(r))

    def test_path_rewrite_result_is_normalised(self):
        # "/old/%2e%2e/x" is normalised before routing; a rewrite cannot make
        # a path that normalisation would refuse either.
        r = request(self.port, path="/old/a/../headers")
        self.assertEqual(r.status, 200)
        self.assertTrue(upstream_head(r).startswith("GET /headers HTTP/1.1"))

    def test_respond_without_upstream(self):
        r = request(self.port, path="/hello")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello from the gateway")
        self.assertEqual(r.header("x-made-by"), "ringway GET")
        self.assertEqual(r.header("content-type"), "text/plain")
        r = request(self.port, method="HEAD", path="/hello")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-length"), str(len(b"hello from the gateway")))
        self.assertEqual(r.body, b"")

    def test_keep_alive_after_filter_responses(self):
        c = RawClient(self.port)
        try:
            for path in ("/hello", "/go/x", "/headers", "/hello"):
                c.send(build_request(path=path))
                r = c.read_response()
                self.assertIn(r.status, (200, 308))
        finally:
            c.close()

    def test_pipelined_filter_and_proxied_responses_stay_in_order(self):
        c = RawClient(self.port)
        try:
            c.send(build_request(path="/hello") + build_request(path="/headers") +
                   build_request(path="/go/a") + build_request(path="/hello"))
            statuses = [c.read_response().status for _ in range(4)]
            self.assertEqual(statuses, [200, 200, 308, 200])
        finally:
            c.close()

    def test_redirect_keeps_query(self):
        r = request(self.port, path="/go/a/b?x=1&y=2")
        self.assertEqual(r.status, 308)
        self.assertEqual(r.header("location"), "https://example.com/go/a/b?x=1&y=2")
        self.assertEqual(r.header("content-length"), "0")

    def test_cors_preflight_allowed(self):
        r = request(self.port, method="OPTIONS", path="/cors/x", headers=[
            ("Origin", "https://app.example"), ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "content-type, authorization")])
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("access-control-allow-origin"), "https://app.example")
        self.assertEqual(r.header("access-control-allow-methods"), "GET, PUT")
        self.assertEqual(r.header("access-control-allow-credentials"), "true")
        self.assertEqual(r.header("access-control-max-age"), "600")
        self.assertIn("Origin", r.header("vary"))

    def test_cors_origin_configured_in_another_spelling(self):
        # "HTTPS://Admin.Example:443" in the config is the origin a browser
        # sends as "https://admin.example" (RFC 6454 6.2).
        h = [("Origin", "https://admin.example"), ("Access-Control-Request-Method", "GET")]
        r = request(self.port, method="OPTIONS", path="/cors/x", headers=h)
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("access-control-allow-origin"), "https://admin.example")

    def test_cors_preflight_refused(self):
        for origin, method, headers in (("https://evil.example", "GET", None),
                                        ("https://app.example", "DELETE", None),
                                        ("https://app.example", "GET", "x-custom")):
            h = [("Origin", origin), ("Access-Control-Request-Method", method)]
            if headers:
                h.append(("Access-Control-Request-Headers", headers))
            r = request(self.port, method="OPTIONS", path="/cors/x", headers=h)
            self.assertEqual(r.status, 403, (origin, method, headers))
            self.assertIsNone(r.header("access-control-allow-origin"))

    def test_the_gateways_own_errors_keep_response_edits(self):
        # A browser must see the 502's CORS headers to read its status.
        r = request(self.port, path="/cors/dead/x", headers=[("Origin", "https://app.example")])
        self.assertEqual(r.status, 502)
        self.assertEqual(r.header("access-control-allow-origin"), "https://app.example")
        self.assertEqual(r.header("x-order"), "second")
        self.assertEqual(r.header("content-type"), "text/plain")

    def test_cors_actual_request(self):
        r = request(self.port, path="/cors/headers", headers=[("Origin", "https://api.example.org")])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("access-control-allow-origin"), "https://api.example.org")
        self.assertEqual(r.header("access-control-expose-headers"), "X-Request-Id")
        self.assertIn("Origin", r.header("vary"))
        r = request(self.port, path="/cors/headers", headers=[("Origin", "https://evil.example")])
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("access-control-allow-origin"))
        # Not a CORS request: no CORS headers, but Vary: Origin, so that a
        # cache does not give this answer to an allowed origin.
        r = request(self.port, path="/cors/headers")
        self.assertIsNone(r.header("access-control-allow-origin"))
        self.assertEqual(r.header("vary"), "Origin")
        # The upstream's own CORS headers never reach a refused origin.
        path = ("/cors/bytes/1?header=Access-Control-Allow-Origin:https://evil.example"
                "&header=Access-Control-Allow-Credentials:true")
        r = request(self.port, path=path, headers=[("Origin", "https://evil.example")])
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("access-control-allow-origin"))
        self.assertIsNone(r.header("access-control-allow-credentials"))

    def test_body_limit_by_content_length(self):
        r = request(self.port, method="POST", path="/limited/echo", body=b"a" * 1024)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"a" * 1024)
        r = request(self.port, method="POST", path="/limited/echo", body=b"a" * 1025)
        self.assertEqual(r.status, 413)
        self.assertEqual(r.header("connection"), "close")

    def test_body_limit_refuses_before_100_continue(self):
        c = RawClient(self.port)
        try:
            c.send(b"POST /limited/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n"
                   b"Expect: 100-continue\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 413)  # not "100 Continue"
        finally:
            c.close()

    def test_body_limit_chunked(self):
        def chunked(total):
            body = b""
            for _ in range(total // 100):
                body += b"64\r\n" + b"b" * 100 + b"\r\n"
            return body + b"0\r\n\r\n"
        head = b"POST /limited/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        c = RawClient(self.port)
        try:
            c.send(head + chunked(1000))
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, b"b" * 1000)
            c.send(head + chunked(5000))
            r = c.read_response()
            self.assertEqual(r.status, 413)
        finally:
            c.close()
        self.assert_alive()

    def test_filter_counters(self):
        self.assert_alive()


class FilterConfigErrorTest(unittest.TestCase):

    def check(self, filters, routes):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.yaml")
            with open(path, "w") as f:
                f.write(config([9], routes=routes, extra=filters))
            p = subprocess.run([RINGWAY, "check", path], capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0)
            return p.stderr.strip().replace(path, "bad.yaml")

    def test_unknown_filter_name(self):
        err = self.check("filters:\n  hdr: { type: headers, response: { set: { A: b } } }\n",
                         "  - match: { prefix: / }\n    upstream: origin\n    filters: [hdrs]\n")
        self.assertRegex(err, r'^bad\.yaml:\d+:\d+: routes\[0\]\.filters\[0\]: unknown filter "hdrs" \(did you mean "hdr"\?\)$')

    def test_unknown_filter_type(self):
        err = self.check("filters:\n  hdr: { type: header }\n",
                         "  - match: { prefix: / }\n    upstream: origin\n")
        self.assertRegex(err, r'^bad\.yaml:\d+:\d+: filters\.hdr\.type: unknown filter type "header" \(did you mean "headers"\?\)$')

    def test_bad_filter_key_has_position(self):
        err = self.check("filters:\n  hdr:\n    type: headers\n    response: { sett: { A: b } }\n",
                         "  - match: { prefix: / }\n    upstream: origin\n")
        self.assertRegex(err, r'^bad\.yaml:\d+:\d+: .*"sett"')

    def test_header_value_with_line_break_refused(self):
        err = self.check('filters:\n  hdr:\n    type: headers\n    request: { set: { A: "x\\r\\nEvil: 1" } }\n',
                         "  - match: { prefix: / }\n    upstream: origin\n")
        self.assertIn("control characters (CR, LF, NUL...)", err)

    def test_route_without_upstream_needs_filters(self):
        err = self.check("", "  - match: { prefix: / }\n")
        self.assertIn('missing required key "upstream"', err)

    def test_cors_origin_with_a_path_refused(self):
        err = self.check('filters:\n  c: { type: cors, origins: ["https://app.example/login"] }\n',
                         "  - match: { prefix: / }\n    upstream: origin\n")
        self.assertRegex(err, r'^bad\.yaml:\d+:\d+: filters\.c\.origins\[0\]: an origin is scheme://host\[:port\] without a path')

    def test_cors_credentials_with_any_origin_refused(self):
        err = self.check('filters:\n  c: { type: cors, origins: "*", credentials: true }\n',
                         "  - match: { prefix: / }\n    upstream: origin\n")
        self.assertIn("credentials: true needs an explicit list of origins", err)


if __name__ == "__main__":
    unittest.main()
