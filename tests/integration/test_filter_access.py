"""Access filters through the real binary: api_key (401s, consumer header,
credentials hidden from the origin) and ip_rules (403s by peer address,
X-Forwarded-For believed only from trusted proxies), and their config errors
reported with a position."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import RINGWAY, GatewayTestCase, RawClient, build_request, config, request

ALICE_KEY = "alice-key-0123456789"
BOB_KEY = "b0b+key/with=chars"
FILE_KEY = "key-from-file"


def sha256(key):
    return hashlib.sha256(key.encode()).hexdigest()


FILTERS = """\
filters:
  auth:
    type: api_key
    header: X-API-Key
    query: api_key
    consumer_header: X-Consumer
    realm: test-api
    keys:
      "%(alice)s": alice
    keys_file: %(keys_file)s
  auth_keep:
    type: api_key
    hide_credentials: false
    keys:
      - { sha256: "%(alice)s", consumer: alice }
  deny_local:
    type: ip_rules
    deny: [127.0.0.0/8]
  only_one:
    type: ip_rules
    allow: [127.0.0.1, "::1"]
  behind_proxy:
    type: ip_rules
    allow: [198.51.100.0/24, 127.0.0.0/8]
    deny: [198.51.100.66]
    trusted_proxies: [127.0.0.1]
  untrusted:
    type: ip_rules
    allow: [198.51.100.0/24]
    trusted_proxies: [192.0.2.1]
"""

ROUTES = """\
  - match: { prefix: /key }
    upstream: origin
    strip_prefix: /key
    filters: [auth]
  - match: { prefix: /keep }
    upstream: origin
    strip_prefix: /keep
    filters: [auth_keep]
  - match: { prefix: /deny-local }
    upstream: origin
    strip_prefix: /deny-local
    filters: [deny_local]
  - match: { prefix: /only-one }
    upstream: origin
    strip_prefix: /only-one
    filters: [only_one]
  - match: { prefix: /proxied }
    upstream: origin
    strip_prefix: /proxied
    filters: [behind_proxy, auth]
  - match: { prefix: /untrusted }
    upstream: origin
    strip_prefix: /untrusted
    filters: [untrusted]
  - match: { prefix: / }
    upstream: origin
"""


def upstream_head(response):
    """The request head the origin received (its /headers endpoint echoes it)."""
    return response.body.decode(errors="replace")


def request_from(source_ip, port, path, headers=None):
    """One request from a chosen loopback source address."""
    c = RawClient(port, source_ip=source_ip)
    try:
        c.send(build_request("GET", path, headers))
        return c.read_response()
    finally:
        c.close()


class AccessFilterTest(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        cls.keys_dir = tempfile.mkdtemp(prefix="ringway-keys-")
        keys_file = os.path.join(cls.keys_dir, "keys.yaml")
        with open(keys_file, "w") as f:
            f.write("# sha256 -> consumer\n\"%s\": bob\n\"%s\": carol\n"
                    % (sha256(BOB_KEY), sha256(FILE_KEY)))
        filters = FILTERS % {"alice": sha256(ALICE_KEY), "keys_file": keys_file}
        return config([origin_port], routes=ROUTES, extra=filters)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.keys_dir, ignore_errors=True)

    def assert_401(self, r, body):
        self.assertEqual(r.status, 401)
        self.assertEqual(r.body, body)
        self.assertEqual(r.header("WWW-Authenticate"), 'ApiKey realm="test-api"')

    def test_missing_key(self):
        r = request(self.port, path="/key/headers")
        self.assert_401(r, b"missing API key\n")

    def test_wrong_key(self):
        r = request(self.port, path="/key/headers", headers=[("X-API-Key", "not-a-key")])
        self.assert_401(r, b"invalid API key\n")
        self.assertNotIn("not-a-key", r.raw_head.decode())
        r = request(self.port, path="/key/headers?api_key=also-wrong")
        self.assert_401(r, b"invalid API key\n")

    def test_header_key_hidden_and_consumer_forwarded(self):
        r = request(self.port, path="/key/headers",
                    headers=[("X-API-Key", ALICE_KEY), ("X-Consumer", "admin"),
                             ("x-consumer", "root")])
        self.assertEqual(r.status, 200)
        head = upstream_head(r)
        self.assertNotIn(ALICE_KEY, head)
        self.assertNotIn("x-api-key", head.lower())
        self.assertIn("X-Consumer: alice\r\n", head)
        self.assertNotIn("admin", head)
        self.assertNotIn("root", head)

    def test_query_key_hidden(self):
        r = request(self.port, path="/key/headers?a=1&api_key=%s&b=2" % ALICE_KEY)
        self.assertEqual(r.status, 200)
        head = upstream_head(r)
        self.assertTrue(head.startswith("GET /headers?a=1&b=2 HTTP/1.1\r\n"), head)
        self.assertNotIn(ALICE_KEY, head)
        self.assertIn("X-Consumer: alice\r\n", head)

    def test_query_key_percent_encoded_from_keys_file(self):
        encoded = BOB_KEY.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
        r = request(self.port, path="/key/headers?api_key=" + encoded)
        self.assertEqual(r.status, 200)
        head = upstream_head(r)
        self.assertTrue(head.startswith("GET /headers HTTP/1.1\r\n"), head)
        self.assertIn("X-Consumer: bob\r\n", head)
        r = request(self.port, path="/key/headers", headers=[("X-API-Key", FILE_KEY)])
        self.assertEqual(r.status, 200)
        self.assertIn("X-Consumer: carol\r\n", upstream_head(r))

    def test_key_kept_when_not_hiding(self):
        r = request(self.port, path="/keep/headers", headers=[("X-API-Key", ALICE_KEY)])
        self.assertEqual(r.status, 200)
        self.assertIn("X-API-Key: %s\r\n" % ALICE_KEY, upstream_head(r))
        r = request(self.port, path="/keep/headers", headers=[("X-API-Key", BOB_KEY)])
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("WWW-Authenticate"), 'ApiKey realm="ringway"')

    def test_keep_alive_after_401(self):
        c = RawClient(self.port)
        try:
            c.send(build_request(path="/key/headers"))
            self.assertEqual(c.read_response().status, 401)
            c.send(build_request(path="/key/headers", headers=[("X-API-Key", ALICE_KEY)]))
            self.assertEqual(c.read_response().status, 200)
        finally:
            c.close()

    def test_key_never_logged(self):
        request(self.port, path="/key/headers", headers=[("X-API-Key", "secret-in-log?")])
        self.assertNotIn("secret-in-log", self.gateway.stderr())

    def test_ip_deny_by_peer(self):
        r = request(self.port, path="/deny-local/headers")
        self.assertEqual(r.status, 403)
        self.assertEqual(r.body, b"forbidden\n")

    def test_ip_allow_by_peer(self):
        self.assertEqual(request(self.port, path="/only-one/headers").status, 200)
        self.assertEqual(request_from("127.0.0.2", self.port, "/only-one/headers").status, 403)

    def test_forwarded_for_from_trusted_proxy(self):
        key = [("X-API-Key", ALICE_KEY)]
        ok = request(self.port, path="/proxied/headers",
                     headers=key + [("X-Forwarded-For", "198.51.100.7")])
        self.assertEqual(ok.status, 200)
        # The proxy's hop is kept for the origin, and ours appended.
        self.assertIn("X-Forwarded-For: 198.51.100.7, 127.0.0.1\r\n", upstream_head(ok))
        denied = request(self.port, path="/proxied/headers",
                         headers=key + [("X-Forwarded-For", "198.51.100.66")])
        self.assertEqual(denied.status, 403)
        # A client's Connection that the proxy passed on cannot name its
        # address away (it would be taken for the trusted proxy itself).
        named_away = request(self.port, path="/proxied/headers",
                             headers=key + [("X-Forwarded-For", "198.51.100.66"),
                                            ("Connection", "X-Forwarded-For")])
        self.assertEqual(named_away.status, 403)
        not_allowed = request(self.port, path="/proxied/headers",
                              headers=key + [("X-Forwarded-For", "203.0.113.1")])
        self.assertEqual(not_allowed.status, 403)
        # A forged leftmost entry does not help: the rightmost untrusted one counts.
        forged = request(self.port, path="/proxied/headers",
                         headers=key + [("X-Forwarded-For", "198.51.100.7, 203.0.113.1")])
        self.assertEqual(forged.status, 403)
        # ip_rules runs before auth: a refused address never reaches the key check.
        self.assertEqual(request(self.port, path="/proxied/headers",
                                 headers=[("X-Forwarded-For", "203.0.113.1")]).status, 403)
        self.assertEqual(request(self.port, path="/proxied/headers").status, 401)

    def test_forwarded_for_from_untrusted_peer_ignored(self):
        r = request(self.port, path="/untrusted/headers",
                    headers=[("X-Forwarded-For", "198.51.100.7")])
        self.assertEqual(r.status, 403)

    def test_unfiltered_route_untouched(self):
        r = request(self.port, path="/headers", headers=[("X-API-Key", "passes-through")])
        self.assertEqual(r.status, 200)
        self.assertIn("X-API-Key: passes-through\r\n", upstream_head(r))


class AccessConfigErrorTest(unittest.TestCase):

    def check(self, filters):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.yaml")
            with open(path, "w") as f:
                f.write(config([9], routes="  - match: { prefix: / }\n    upstream: origin\n",
                               extra=filters))
            p = subprocess.run([RINGWAY, "check", path], capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0, p.stdout)
            return p.stderr.strip().replace(path, "bad.yaml")

    def test_bad_hash(self):
        err = self.check("filters:\n  a:\n    type: api_key\n    keys: { my-raw-key: alice }\n")
        self.assertRegex(err, r"^bad\.yaml:\d+:\d+: filters\.a\.keys: must be the SHA-256 of the key as 64 hex digits")
        self.assertNotIn("my-raw-key", err)

    def test_duplicate_hash(self):
        h = sha256("x")
        err = self.check("filters:\n  a:\n    type: api_key\n    keys:\n      %s: alice\n      %s: bob\n"
                         % (h, h.upper()))
        self.assertRegex(err, r"^bad\.yaml:\d+:7: filters\.a\.keys: duplicate key hash \(first at .*bad\.yaml:\d+\)$")

    def test_cidr_host_bits(self):
        err = self.check("filters:\n  ip:\n    type: ip_rules\n    allow: [10.1.2.3/8]\n")
        self.assertRegex(err, r'^bad\.yaml:\d+:13: filters\.ip\.allow\[0\]: "10\.1\.2\.3/8" has host bits set')

    def test_cidr_prefix_too_long(self):
        err = self.check("filters:\n  ip:\n    type: ip_rules\n    deny: [\"2001:db8::/129\"]\n")
        self.assertIn("prefix length /129 is too long", err)


if __name__ == "__main__":
    unittest.main()
