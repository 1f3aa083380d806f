"""The jwt filter in the real gateway (docs/filters/jwt.md): tokens signed here
(HS256 with the stdlib, RS256 with the openssl CLI), the 401/403 answers of
RFC 6750, claims forwarded as headers with forged copies stripped, the token
sources, and the failure counters in the stop line."""

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
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


class JwtFilterTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ringway-jwt-")
        cls.rsa_key = os.path.join(cls.dir, "rs.key")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", cls.rsa_key], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", cls.rsa_key, "-pubout", "-out",
                        os.path.join(cls.dir, "rs.pem")], check=True, capture_output=True)
        with open(os.path.join(cls.dir, "keys.json"), "w") as f:
            json.dump({"keys": [{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64url(SECRET)}]}, f)
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
    token: [{{ cookie: session }}, {{ query: access_token }}]
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
            "jku trusted?": hs256(claims(), header={"alg": "HS256", "kid": "hs",
                                                    "crit": ["jku"], "jku": "http://evil/"}),
            "huge": "a" * 20000,
        }
        for name, token in cases.items():
            r = self.get("/api/headers", token)
            self.assertIn(r.status, (400, 401, 431), name)
            if r.status == 401:
                self.assertIn('error="invalid_token"', r.header("www-authenticate"), name)
                self.assertNotIn(b"GET /headers", r.body, name)  # never reached the origin
        self.assertEqual(self.get("/api/headers", hs256(claims())).status, 200)

    def test_insufficient_scope(self):
        r = self.get("/orders/headers", hs256(claims()))
        self.assertEqual(r.status, 403)
        self.assertIn('error="insufficient_scope"', r.header("www-authenticate"))
        r = self.get("/orders/headers", hs256(claims(scope="orders:write")))
        self.assertEqual(r.status, 200)

    def test_cookie_and_query_sources(self):
        token = hs256(claims())
        r = self.get("/web/headers", headers=[("Cookie", "theme=dark; session=" + token)])
        self.assertEqual(r.status, 200)
        r = self.get("/web/headers?access_token=" + token)
        self.assertEqual(r.status, 200)
        r = self.get("/web/headers", token)  # the header is not a source here
        self.assertEqual(r.status, 401)

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


if __name__ == "__main__":
    unittest.main()
