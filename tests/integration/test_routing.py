"""Routing through the real binary: host, path, method and header matches,
first match wins, prefix rewriting, path normalisation before matching."""

import unittest

from harness import Gateway, GatewayTestCase, Origin, RawClient, build_request, config, request

ROUTES = """\
  - name: admin
    match: { prefix: /admin }
    upstream: admin
    strip_prefix: /admin
  - name: api-v2
    match: { host: api.example.com, prefix: /v2, methods: [GET, HEAD] }
    upstream: origin
    strip_prefix: /v2
    replace_prefix: /headers
  - name: wildcard
    match: { host: "*.tenant.example", prefix: / , headers: { x-tenant: blue } }
    upstream: admin
  - name: exact
    match: { path: /exact }
    upstream: admin
  - name: regex
    match: { regex: "/items/[0-9]+" }
    upstream: admin
  - name: public
    match: { prefix: /public }
    upstream: origin
    strip_prefix: /public
"""


class Routing(GatewayTestCase):
    """Two origins: 'origin' and 'admin'; the response body tells them apart
    via /headers (each echoes the path it received) and the port in use."""

    @classmethod
    def setUpClass(cls):
        cls.admin = Origin()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.admin.stop()

    @classmethod
    def gateway_config(cls, origin_port):
        # The admin upstream rewrites Host, which /headers shows: that is how
        # the tests tell which upstream served a request.
        extra = ('  admin:\n    endpoints: ["127.0.0.1:%d"]\n    host: admin.internal\n'
                 % cls.admin.port)
        return config([origin_port], routes=ROUTES, extra=extra)

    def upstream_seen(self, path, host="test.local", method="GET", headers=None):
        """(status, first line the upstream received) for a request whose path is
        made to land on /headers at the origin."""
        r = request(self.port, method=method, path=path, host=host, headers=headers)
        return r.status, r.body.split(b"\r\n")[0].decode() if r.status == 200 else r.body

    def test_unmatched_is_404_and_connection_stays(self):
        c = RawClient(self.port)
        c.send(build_request("GET", "/nowhere"))
        r = c.read_response()
        self.assertEqual(r.status, 404)
        c.send(build_request("GET", "/public/bytes/2"))
        self.assertEqual(len(c.read_response().body), 2)
        c.close()

    def test_strip_prefix(self):
        status, line = self.upstream_seen("/public/headers?x=1")
        self.assertEqual((status, line), (200, "GET /headers?x=1 HTTP/1.1"))

    def test_host_method_and_replace_prefix(self):
        status, line = self.upstream_seen("/v2?q=1", host="API.example.com:8080")
        self.assertEqual((status, line), (200, "GET /headers?q=1 HTTP/1.1"))
        # Wrong host or method: no route.
        self.assertEqual(request(self.port, path="/v2/abc", host="other.com").status, 404)
        self.assertEqual(request(self.port, "DELETE", "/v2/abc", host="api.example.com").status,
                         404)

    def test_wildcard_host_with_header(self):
        r = request(self.port, path="/headers", host="a.tenant.example",
                    headers=[("X-Tenant", "blue")])
        self.assertEqual(r.status, 200)
        self.assertIn(b"X-Tenant: blue", r.body)
        self.assertEqual(request(self.port, path="/headers", host="a.tenant.example",
                                 headers=[("X-Tenant", "red")]).status, 404)
        self.assertEqual(request(self.port, path="/headers", host="tenant.example",
                                 headers=[("X-Tenant", "blue")]).status, 404)

    def test_exact_and_regex(self):
        self.assertEqual(request(self.port, path="/exact").status, 200)
        self.assertEqual(request(self.port, path="/exact/more").status, 404)
        self.assertEqual(request(self.port, path="/items/42").status, 200)
        self.assertEqual(request(self.port, path="/items/abc").status, 404)

    def test_dot_segments_cannot_escape_a_prefix(self):
        # /public/../admin is /admin: it must be routed (and later
        # authorised) as /admin, never as a /public request.
        for path in ("/public/../admin/headers", "/public/%2e%2e/admin/headers",
                     "/public/%2E./admin/headers", "/public/./../admin/headers",
                     "//admin/headers", "/public/..%2fadmin"):
            r = request(self.port, path=path)
            if r.status == 200:
                self.assertTrue(r.body.startswith(b"GET /headers "), (path, r.body[:60]))
                self.assertIn(b"Host: admin.internal", r.body, path)
            else:
                self.assertEqual(r.status, 400, path)

    def test_normalised_path_sent_upstream(self):
        status, line = self.upstream_seen("/public/a/./b/../../headers")
        self.assertEqual((status, line), (200, "GET /headers HTTP/1.1"))
        status, line = self.upstream_seen("/public/%7Eheaders/../headers")
        self.assertEqual(status, 200)

    def test_absolute_form_uses_its_authority(self):
        r = request(self.port, path="http://api.example.com/v2", host="ignored.com")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body.startswith(b"GET /headers HTTP/1.1"))


# Routes no test request matches (hosts of their own): in front of ROUTES
# they take the config over 8 routes, where the router indexes routes by
# host and first path segment instead of trying each in turn.
FILLER_ROUTES = "".join(
    "  - name: filler-%d\n    match: { host: filler-%d.invalid, prefix: /%s }\n    upstream: origin\n"
    % (i, i, p) for i, p in enumerate(["", "admin", "v2", "public", "items"]))


class IndexedRouting(Routing):
    """Every Routing test again, with the router's index in use: the same
    answers as a scan in file order."""

    @classmethod
    def gateway_config(cls, origin_port):
        extra = ('  admin:\n    endpoints: ["127.0.0.1:%d"]\n    host: admin.internal\n'
                 % cls.admin.port)
        return config([origin_port], routes=FILLER_ROUTES + ROUTES, extra=extra)

    def test_a_filler_route_is_reached_by_its_host(self):
        r = request(self.port, path="/admin/headers", host="FILLER-1.invalid:8080")
        self.assertEqual(r.status, 200)
        self.assertNotIn(b"Host: admin.internal", r.body)  # filler-1 goes to origin, not admin


if __name__ == "__main__":
    unittest.main()
