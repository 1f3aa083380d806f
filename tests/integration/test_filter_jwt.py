"""The jwt filter in the real gateway (docs/filters/jwt.md): tokens signed here
(HS256 with the stdlib, RS256 with the openssl CLI), the 401/403 answers of
RFC 6750, claims forwarded as headers with forged copies stripped, the token
sources, and the failure counters in the stop line. JwksUrlTest: the key set
fetched from an upstream (jwks_url), served by a small IdP in this process
whose set the test rotates and which it takes down."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import harness

SECRET = b"0123456789abcdef0123456789abcdef-integration"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**extra):
    now = int(time.time())
    c = {"iss": "https://issuer.test", "aud": "api", "sub": "alice", "exp": now + 600,
         "iat": now, "scope": "orders:read profile"}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def hs256(payload, header=None, key=SECRET):
    h = header or {"alg": "HS256", "typ": "JWT", "kid": "hs"}
    signing = b64url(json.dumps(h).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = hmac.new(key, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64url(sig)


def rs256(payload, key_path):
    h = {"alg": "RS256", "typ": "JWT", "kid": "rs"}
    signing = b64url(json.dumps(h).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path],
                         input=signing.encode(), capture_output=True, check=True).stdout
    return signing + "." + b64url(sig)


def write_hs_jwks(directory):
    """keys.json in `directory`: the one HS256 key (kid "hs") hs256() signs with."""
    with open(os.path.join(directory, "keys.json"), "w") as f:
        json.dump({"keys": [{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64url(SECRET)}]}, f)


class JwtFilterTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ringway-jwt-")
        cls.rsa_key = os.path.join(cls.dir, "rs.key")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", cls.rsa_key], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", cls.rsa_key, "-pubout", "-out",
                        os.path.join(cls.dir, "rs.pem")], check=True, capture_output=True)
        write_hs_jwks(cls.dir)
        # Key paths are relative to the config file, which harness.Gateway
        # writes into its own directory: give absolute paths.
        filters = f"""\
filters:
  auth:
    type: jwt
    jwks_file: {cls.dir}/keys.json
    keys: [{{ file: {cls.dir}/rs.pem, kid: rs, alg: RS256 }}]
    issuer: "https://issuer.test"
    audience: api
    forward_claims: {{ sub: X-User-Id }}
  orders:
    type: jwt
    jwks_file: {cls.dir}/keys.json
    issuer: "https://issuer.test"
    audience: api
    scopes: [orders:write]
  cookie_auth:
    type: jwt
    jwks_file: {cls.dir}/keys.json
    audience: api
    token: [{{ cookie: session }}, {{ query: access_token }}]
  hidden:
    type: jwt
    jwks_file: {cls.dir}/keys.json
    audience: api
    token: [{{ cookie: session }}, {{ header: Authorization }}]
    forward_token: false
"""
        routes = """\
  - match: { prefix: /api }
    upstream: origin
    strip_prefix: /api
    filters: [auth]
  - match: { prefix: /orders }
    upstream: origin
    strip_prefix: /orders
    filters: [orders]
  - match: { prefix: /web }
    upstream: origin
    strip_prefix: /web
    filters: [cookie_auth]
  - match: { prefix: /hidden }
    upstream: origin
    strip_prefix: /hidden
    filters: [hidden]
  - match: { prefix: / }
    upstream: origin
"""
        cls.origin = harness.Origin()
        cls.gateway = harness.Gateway(harness.config([cls.origin.port], routes=routes, extra=filters,
                                                     workers=2))
        cls.port = cls.gateway.port

    @classmethod
    def tearDownClass(cls):
        code = cls.gateway.stop()
        cls.origin.stop()
        stats = cls.gateway.stats()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if code != 0:
            raise AssertionError("ringway exited with %r:\n%s" % (code, cls.gateway.stderr()))
        # Every refusal below was counted by reason, over both workers.
        f = stats["filters"]
        for reason in ("missing_token", "expired", "bad_signature", "algorithm", "audience"):
            if f.get("auth." + reason, 0) < 1:
                raise AssertionError("auth.%s not counted: %r" % (reason, f))

    def get(self, path, token=None, headers=None):
        h = list(headers or [])
        if token is not None:
            h.append(("Authorization", "Bearer " + token))
        return harness.request(self.port, path=path, headers=h)

    def test_valid_hs256_and_rs256(self):
        for token in (hs256(claims()), rs256(claims(sub="bob"), self.rsa_key)):
            r = self.get("/api/headers", token)
            self.assertEqual(r.status, 200, r.body)
        head = self.get("/api/headers", hs256(claims())).body.decode()
        self.assertIn("X-User-Id: alice\r\n", head)

    def test_forged_claim_header_is_stripped(self):
        r = self.get("/api/headers", hs256(claims()), headers=[("X-User-Id", "admin")])
        self.assertEqual(r.status, 200)
        head = r.body.decode()
        self.assertIn("X-User-Id: alice\r\n", head)
        self.assertNotIn("admin", head)

    def test_missing_token(self):
        r = self.get("/api/headers")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("www-authenticate"), 'Bearer realm="ringway"')

    def test_refused_tokens(self):
        header, payload, sig = hs256(claims()).split(".")
        tampered = header + "." + b64url(json.dumps(claims(sub="admin")).encode()) + "." + sig
        none_alg = b64url(b'{"alg":"none","typ":"JWT"}') + "." + payload + "."
        # HS256 "signed" with the RSA public key as the secret: key confusion.
        with open(os.path.join(self.dir, "rs.pem"), "rb") as f:
            confused = hs256(claims(), header={"alg": "HS256", "kid": "rs"}, key=f.read())
        cases = {
            "expired": hs256(claims(exp=int(time.time()) - 3600)),
            "not yet valid": hs256(claims(nbf=int(time.time()) + 3600)),
            "wrong audience": hs256(claims(aud="other")),
            "wrong issuer": hs256(claims(iss="https://evil.test")),
            "tampered payload": tampered,
            "bad signature": header + "." + payload + "." + sig[:-4] + "AAAA",
            "alg none": none_alg,
            "key confusion": confused,
            "unknown kid": hs256(claims(), header={"alg": "HS256", "kid": "nope"}),
            "not base64url": header + ".%%%." + sig,
            "not json": b64url(b"hello") + "." + payload + "." + sig,
            "unknown crit": hs256(claims(), header={"alg": "HS256", "kid": "hs",
                                                    "crit": ["jku"], "jku": "http://evil/"}),
            # Keys the token brings along are never used: signed with the
            # attacker's own key, named in jwk and jku.
            "jwk/jku trusted?": hs256(claims(), key=b"attacker-secret-attacker-secret!",
                                      header={"alg": "HS256", "kid": "hs", "jku": "http://evil/",
                                              "jwk": {"kty": "oct", "k": b64url(b"attacker-secret-attacker-secret!")}}),
            "huge": "a" * 20000,
        }
        for name, token in cases.items():
            r = self.get("/api/headers", token)
            self.assertEqual(r.status, 401, name)
            self.assertIn('error="invalid_token"', r.header("www-authenticate"), name)
            self.assertNotIn(b"GET /headers", r.body, name)  # never reached the origin
        self.assertEqual(self.get("/api/headers", hs256(claims())).status, 200)

    def test_empty_bearer_is_a_bad_request(self):
        # RFC 6750 3.1: a malformed request is invalid_request, answered 400.
        for value in ("Bearer ", "Bearer"):
            r = harness.request(self.port, path="/api/headers", headers=[("Authorization", value)])
            self.assertEqual(r.status, 400, value)
            self.assertIn('error="invalid_request"', r.header("www-authenticate"), value)

    def test_insufficient_scope(self):
        r = self.get("/orders/headers", hs256(claims()))
        self.assertEqual(r.status, 403)
        self.assertIn('error="insufficient_scope"', r.header("www-authenticate"))
        r = self.get("/orders/headers", hs256(claims(scope="orders:write")))
        self.assertEqual(r.status, 200)

    def test_forward_token_false_leaves_no_copy(self):
        # The same token in the cookie and the header: neither goes on, and
        # the cookie's neighbours do. A header holding something else does.
        token = hs256(claims())
        head = self.get("/hidden/headers", token,
                        headers=[("Cookie", "theme=dark; session=" + token)]).body.decode()
        self.assertNotIn(token, head)
        self.assertIn("Cookie: theme=dark\r\n", head)
        r = self.get("/hidden/headers", headers=[("Cookie", "session=" + token),
                                                 ("Authorization", "Basic dXNlcjpwdw==")])
        self.assertEqual(r.status, 200)
        self.assertIn("Authorization: Basic dXNlcjpwdw==\r\n", r.body.decode())
        self.assertNotIn(token, r.body.decode())

    def test_cookie_and_query_sources(self):
        token = hs256(claims())
        r = self.get("/web/headers", headers=[("Cookie", "theme=dark; session=" + token)])
        self.assertEqual(r.status, 200)
        r = self.get("/web/headers?access_token=" + token)
        self.assertEqual(r.status, 200)
        r = self.get("/web/headers", token)  # the header is not a source here
        self.assertEqual(r.status, 401)
        # One method per request (RFC 6750 2): the second token would reach
        # the upstream unverified. Parameter names compare decoded, and as
        # PHP reads them (its access_token is also access.token).
        for path, headers in (("/web/headers?access_token=x.y.z", [("Cookie", "session=" + token)]),
                              ("/web/headers?access_token=%s&access%%5Ftoken=x.y.z" % token, []),
                              ("/web/headers?access_token=%s&access.token=x.y.z" % token, []),
                              ("/web/headers?access_token=%s&access+token=x.y.z" % token, [])):
            with self.subTest(path=path):
                r = self.get(path, headers=headers)
                self.assertEqual(r.status, 400, r.body)
                self.assertIn(b"more than one token", r.body)

    def test_keep_alive_after_refusal(self):
        c = harness.RawClient(self.port)
        try:
            for token, status in ((None, 401), (hs256(claims()), 200), ("x.y.z", 401),
                                  (hs256(claims()), 200)):
                h = [] if token is None else [("Authorization", "Bearer " + token)]
                c.send(harness.build_request(path="/api/headers", headers=h))
                self.assertEqual(c.read_response().status, status)
        finally:
            c.close()


class IdP:
    """A JWKS endpoint on 127.0.0.1 (ringway-origin cannot serve a body of
    our choosing): GET /jwks.json answers the current `jwks`; counts them."""

    def __init__(self):
        self.jwks = {"keys": []}
        self.requests = 0
        idp = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                idp.requests += 1
                body = json.dumps(idp.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self):
        """Down: connections to its port are refused from now on."""
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()
            self.running = False


def oct_jwk(kid, secret):
    return {"kty": "oct", "kid": kid, "alg": "HS256", "k": b64url(secret)}


KEY_A = b"A" * 32 + b"-jwks-url-key-a"
KEY_B = b"B" * 32 + b"-jwks-url-key-b"
KEY_C = b"C" * 32 + b"-jwks-url-key-c"


class JwksUrlTest(unittest.TestCase):
    """jwks_url: the set is fetched at start, again at once for a token whose
    kid it lacks (the request waits for it), and kept when the IdP is down."""

    @classmethod
    def setUpClass(cls):
        cls.idp = IdP()
        cls.idp.jwks = {"keys": [oct_jwk("a", KEY_A)]}
        extra = f"""\
  idp:
    endpoints: ["127.0.0.1:{cls.idp.port}"]
filters:
  auth:
    type: jwt
    jwks_url: http://idp/jwks.json
    jwks_min_refresh: 1s
    issuer: "https://issuer.test"
    audience: api
    forward_claims: {{ sub: X-User-Id }}
"""
        routes = """\
  - match: { prefix: /api }
    upstream: origin
    strip_prefix: /api
    filters: [auth]
"""
        cls.origin = harness.Origin()
        try:
            cls.gateway = harness.Gateway(harness.config([cls.origin.port], routes=routes, extra=extra,
                                                         workers=2))
        except Exception:
            cls.origin.stop()
            cls.idp.stop()
            raise
        cls.port = cls.gateway.port

    @classmethod
    def tearDownClass(cls):
        code = cls.gateway.stop()
        cls.origin.stop()
        cls.idp.stop()
        if code != 0:
            raise AssertionError("ringway exited with %r:\n%s" % (code, cls.gateway.stderr()))
        f = cls.gateway.stats()["filters"]
        # Start, kid b, (kid a withdrawn), kid c with the IdP down.
        if f.get("auth.jwks_fetches", 0) < 3 or f.get("auth.jwks_updates", 0) < 2 \
                or f.get("auth.jwks_failures", 0) < 1:
            raise AssertionError("jwks counters: %r" % f)

    def get(self, token):
        return harness.request(self.port, path="/api/headers",
                               headers=[("Authorization", "Bearer " + token)])

    def token(self, kid, key):
        return hs256(claims(), header={"alg": "HS256", "typ": "JWT", "kid": kid}, key=key)

    def assert_refused(self, r, description):
        self.assertEqual(r.status, 401, r.body)
        self.assertIn('error_description="%s"' % description, r.header("www-authenticate"))

    def test_rotation_and_outage(self):
        # Worker 0 fetches the set when it starts, before any request.
        deadline = time.time() + 5 * harness.SLOW
        while self.idp.requests < 1 and time.time() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.idp.requests, 1)
        r = self.get(self.token("a", KEY_A))
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("X-User-Id: alice\r\n", r.body.decode())
        self.assertGreaterEqual(self.idp.requests, 1)

        # The IdP rotates to key b. The first token of b is accepted at once:
        # its unknown kid fetches the new set and the request waits for it.
        time.sleep(1.2)  # jwks_min_refresh since any earlier fetch for a kid
        self.idp.jwks = {"keys": [oct_jwk("b", KEY_B)]}
        before = self.idp.requests
        r = self.get(self.token("b", KEY_B))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.idp.requests, before + 1)
        for _ in range(4):  # on every worker
            self.assertEqual(self.get(self.token("b", KEY_B)).status, 200)

        # Key a was withdrawn with it.
        time.sleep(1.2)
        self.assert_refused(self.get(self.token("a", KEY_A)), "unknown signing key")

        # The IdP goes down: a fetch for an unknown kid fails (connection
        # refused), the request is refused, and the last good set stays.
        self.idp.stop()
        time.sleep(1.2)
        self.assert_refused(self.get(self.token("c", KEY_C)), "unknown signing key")
        for _ in range(4):
            self.assertEqual(self.get(self.token("b", KEY_B)).status, 200)
        # Within jwks_min_refresh of that fetch another unknown kid gets its
        # 401 without waiting.
        started = time.time()
        self.assert_refused(self.get(self.token("c", KEY_C)), "unknown signing key")
        self.assertLess(time.time() - started, 1.0)


class JwksReloadTest(unittest.TestCase):
    """A reload keeps the fetched key set of a jwt filter with the same
    jwks_url: tokens keep passing even when the IdP is down at that moment."""

    def test_reload_keeps_the_fetched_set(self):
        idp = IdP()
        idp.jwks = {"keys": [oct_jwk("a", KEY_A)]}
        origin = harness.Origin()
        extra = f"""\
  idp:
    endpoints: ["127.0.0.1:{idp.port}"]
filters:
  auth: {{ type: jwt, jwks_url: http://idp/jwks.json, issuer: "https://issuer.test", audience: api }}
"""
        routes = "  - match: { prefix: / }\n    upstream: origin\n    filters: [auth]\n"
        text = harness.config([origin.port], routes=routes, extra=extra, workers=2)
        gw = harness.Gateway(text)
        try:
            token = hs256(claims(), header={"alg": "HS256", "typ": "JWT", "kid": "a"}, key=KEY_A)
            auth = [("Authorization", "Bearer " + token)]
            deadline = time.time() + 5 * harness.SLOW
            while harness.request(gw.port, path="/", headers=auth).status != 200:
                self.assertLess(time.time(), deadline, "the key set was never fetched")
                time.sleep(0.05)
            idp.stop()
            with open(gw.config_path, "w") as f:
                f.write(text.replace("audience: api", "audience: api, cache_entries: 10"))
            gw.proc.send_signal(signal.SIGHUP)
            while "configuration reloaded" not in gw.stderr():
                self.assertLess(time.time(), deadline + 10 * harness.SLOW, gw.stderr())
                time.sleep(0.02)
            for _ in range(8):  # new connections: both new workers
                self.assertEqual(harness.request(gw.port, path="/", headers=auth).status, 200)
        finally:
            code = gw.stop()
            origin.stop()
            idp.stop()
        self.assertEqual(code, 0, gw.stderr())


class IssueExampleChainTest(unittest.TestCase):
    """The filters issue's example chain, [auth, per_client, edge_cache, gz],
    end to end. The cache comes after the check, so a stored response never
    reaches a client without a token, and an authenticated request counts as
    one with Authorization (RFC 9111 3.5) even when the jwt filter does not
    forward the token: one user's response is not served to another unless
    the origin marks it public and the cache is allowed to keep those."""

    PATH = "/bytes/4000?text=1&header=Cache-Control:%s"

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ringway-chain-")
        write_hs_jwks(cls.dir)
        filters = f"""\
filters:
  auth:
    type: jwt
    jwks_file: {cls.dir}/keys.json
    issuer: "https://issuer.test"
    audience: api
    forward_token: false
  per_client: {{ type: rate_limit, key: client_ip, rate: 1000/s, burst: 200 }}
  edge_cache: {{ type: cache, max_bytes: 64MiB }}
  shared_cache: {{ type: cache, max_bytes: 64MiB, cache_authorized: true }}
  gz: {{ type: compress }}
"""
        routes = """\
  - match: { prefix: /api }
    upstream: origin
    strip_prefix: /api
    filters: [auth, per_client, edge_cache, gz]
  - match: { prefix: /shared }
    upstream: origin
    strip_prefix: /shared
    filters: [auth, per_client, shared_cache, gz]
"""
        cls.origin = harness.Origin()
        cls.gateway = harness.Gateway(harness.config([cls.origin.port], routes=routes, extra=filters))
        cls.port = cls.gateway.port

    @classmethod
    def tearDownClass(cls):
        code = cls.gateway.stop()
        cls.origin.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if code != 0:
            raise AssertionError("ringway exited with %r:\n%s" % (code, cls.gateway.stderr()))

    def get(self, path, user=None):
        h = [("Accept-Encoding", "gzip")]
        if user is not None:
            h.append(("Authorization", "Bearer " + hs256(claims(sub=user))))
        return harness.request(self.port, path=path, headers=h)

    def test_authenticated_responses_are_not_shared_by_default(self):
        path = "/api" + self.PATH % "max-age%3D60" + "&n=private"
        for user in ("alice", "bob", "alice"):
            r = self.get(path, user)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("X-Cache"), "BYPASS", user)
            self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(self.get(path).status, 401)

    def test_public_responses_are_shared_when_allowed_and_never_skip_the_check(self):
        path = "/shared" + self.PATH % "public,max-age%3D60" + "&n=public"
        first = self.get(path, "alice")
        self.assertEqual(first.header("X-Cache"), "MISS")
        self.assertEqual(first.header("Content-Encoding"), "gzip")
        again = self.get(path, "bob")
        self.assertEqual(again.status, 200)
        self.assertEqual(again.header("X-Cache"), "HIT")
        self.assertEqual(again.header("Content-Encoding"), "gzip")
        self.assertEqual(again.body, first.body)
        self.assertEqual(self.get(path).status, 401)


if __name__ == "__main__":
    unittest.main()
