"""The rate_limit filter in the real gateway (docs/filters/rate_limit.md): the
429 answer and its headers, headers on allowed responses, keys, and the
accuracy of one client's budget when its connections are spread over both
workers (the reason the table is shared: per-worker buckets would let the
client through about twice over here).

Accuracy is counted from response statuses, never from timings: a 4x overload
for 10 s must get rate x time + burst responses with status 200, within 5%."""

import json
import os
import re
import subprocess
import unittest

import harness

LOAD = os.path.join(harness.BUILD, "bin", "ringway-load")

FILTERS = """\
filters:
  strict: { type: rate_limit, rate: 1/m, burst: 2 }
  by_key: { type: rate_limit, key: header:X-Api-Key, rate: 1/m, burst: 1, missing_key: skip }
  steady: { type: rate_limit, key: header:X-Client, rate: 50/s, burst: 10 }
  loose: { type: rate_limit, key: header:X-Client, rate: 100/s }
  tight: { type: rate_limit, key: header:X-Client, rate: 1/m, burst: 1 }
"""

ROUTES = """\
  - match: { prefix: /strict }
    upstream: origin
    filters: [strict]
  - match: { prefix: /by-key }
    upstream: origin
    filters: [by_key]
  - match: { prefix: /steady }
    upstream: origin
    filters: [steady]
  - match: { prefix: /two }
    upstream: origin
    filters: [loose, tight]
  - match: { prefix: / }
    upstream: origin
"""


class RateLimitFilterTest(harness.GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return harness.config([origin_port], routes=ROUTES, extra=FILTERS, workers=2)

    def test_two_filters_on_one_route_list_both_limits(self):
        # Each filter's items stand side by side (named after the filters);
        # X-RateLimit-* describe the tighter; a refusal shows the refusing limit.
        h = [("X-Client", "two-%d" % os.getpid())]
        r = harness.request(self.port, path="/two", headers=h)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("RateLimit-Policy"), '"tight";q=1;w=60, "loose";q=100;w=1')
        self.assertRegex(r.header("RateLimit"), r'^"tight";r=0;t=\d+, "loose";r=99;t=1$')
        self.assertEqual(r.header("X-RateLimit-Remaining"), "0")
        r = harness.request(self.port, path="/two", headers=h)
        self.assertEqual(r.status, 429)
        self.assertTrue(30 <= int(r.header("Retry-After")) <= 60, r.header("Retry-After"))
        self.assertRegex(r.header("RateLimit"), r'^"tight";r=0;t=\d+, "loose";r=\d+;t=1$')
        self.assertEqual(r.header("X-RateLimit-Remaining"), "0")
        self.assertEqual(r.header("X-RateLimit-Limit"), "1")

    def test_refusal_and_headers(self):
        # 1/m with a burst of 2: two pass, the third is refused for ~30 s.
        for left in (1, 0):
            r = harness.request(self.port, path="/strict")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("RateLimit-Policy"), '"strict";q=2;w=120')
            self.assertRegex(r.header("RateLimit"), r'^"strict";r=%d;t=\d+$' % left)
            self.assertEqual(r.header("X-RateLimit-Limit"), "2")
            self.assertEqual(r.header("X-RateLimit-Remaining"), str(left))
        r = harness.request(self.port, path="/strict")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.body, b"Too Many Requests\n")
        retry = int(r.header("Retry-After"))
        self.assertTrue(1 <= retry <= 60, retry)
        self.assertEqual(r.header("RateLimit-Policy"), '"strict";q=2;w=120')
        m = re.match(r'^"strict";r=0;t=(\d+)$', r.header("RateLimit") or "")
        self.assertIsNotNone(m, r.header("RateLimit"))
        self.assertTrue(60 <= int(m.group(1)) <= 120, m.group(1))  # never past w
        self.assertEqual(r.header("X-RateLimit-Remaining"), "0")
        # A route without the filter is not limited and gets no headers.
        r = harness.request(self.port, path="/")
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("RateLimit"))
        self.assert_alive()

    def test_refusal_on_keep_alive_connection(self):
        # The 429 is a complete response: the connection goes on serving.
        c = harness.RawClient(self.port)
        try:
            statuses = []
            for _ in range(3):
                c.send(harness.build_request(path="/by-key", headers=[("X-Api-Key", "keep-alive")]))
                statuses.append(c.read_response().status)
            self.assertEqual(statuses, [200, 429, 429])
            c.send(harness.build_request(path="/"))
            self.assertEqual(c.read_response().status, 200)
        finally:
            c.close()

    def test_keys_are_separate_and_missing_key_skips(self):
        self.assertEqual(harness.request(self.port, path="/by-key",
                                         headers=[("X-Api-Key", "a")]).status, 200)
        self.assertEqual(harness.request(self.port, path="/by-key",
                                         headers=[("X-Api-Key", "a")]).status, 429)
        self.assertEqual(harness.request(self.port, path="/by-key",
                                         headers=[("X-Api-Key", "b")]).status, 200)
        # missing_key: skip: requests without the header are not limited.
        for _ in range(5):
            r = harness.request(self.port, path="/by-key")
            self.assertEqual(r.status, 200)
            self.assertIsNone(r.header("RateLimit"))

    def test_accuracy_across_workers(self):
        if not os.path.exists(LOAD):
            self.skipTest("ringway-load not built at %s" % LOAD)
        # 50/s with a burst of 10, offered 200/s (4x) for 10 s over 16
        # keep-alive connections from 2 threads; SO_REUSEPORT spreads them
        # over both workers (all 16 on one worker: 1 in 2^15).
        rate, burst, offered, seconds = 50, 10, 200, 10
        proc = subprocess.run(
            [LOAD, "--json", "--rate", str(offered), "--duration", "%ds" % seconds,
             "--connections", "16", "--threads", "2", "-H", "X-Client: accuracy",
             "http://127.0.0.1:%d/steady" % self.port],
            capture_output=True, text=True, timeout=(seconds + 30) * harness.SLOW)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(out["errors"], 0, out)
        self.assertEqual(out["timeouts"], 0, out)
        status = out["status"]
        self.assertEqual(set(status) - {"200", "429"}, set(), status)
        accepted = status.get("200", 0)
        expected = rate * seconds + burst
        self.assertLessEqual(abs(accepted - expected), 0.05 * expected,
                             "accepted %d, expected %d: %r" % (accepted, expected, out))
        self.assertEqual(accepted + status.get("429", 0), out["requests"])


class RateLimitCountersTest(unittest.TestCase):
    """The filter's per-worker counters, summed in the gateway's stop line."""

    def test_counters_in_stop_line(self):
        origin = harness.Origin()
        gateway = harness.Gateway(harness.config([origin.port], routes=ROUTES, extra=FILTERS))
        try:
            statuses = [harness.request(gateway.port, path="/strict").status for _ in range(3)]
            self.assertEqual(statuses, [200, 200, 429])
        finally:
            self.assertEqual(gateway.stop(), 0, gateway.stderr())
            origin.stop()
        filters = gateway.stats()["filters"]
        self.assertEqual(filters["strict.allowed"], 2, filters)
        self.assertEqual(filters["strict.limited"], 1, filters)
        self.assertEqual(filters["steady.allowed"], 0, filters)



class UpstreamRateLimitHeadersTest(unittest.TestCase):
    """An upstream's own rate-limit headers are replaced, group by group, even
    with two filters on a route that each write only one group."""

    def test_upstream_headers_are_replaced_not_merged(self):
        upstream = harness.ScriptedUpstream(lambda i, raw: harness.raw_response(
            "200 OK", ['RateLimit-Policy: "up";q=1;w=1', 'RateLimit: "up";r=0;t=9',
                       "X-RateLimit-Limit: 1", "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 9"],
            b"ok"))
        filters = """filters:
  sf_only: { type: rate_limit, rate: 50/s, x_ratelimit_headers: false }
  x_only: { type: rate_limit, rate: 100/s, headers: false }
"""
        routes = """  - match: { prefix: /a }
    upstream: origin
    filters: [sf_only, x_only]
  - match: { prefix: /b }
    upstream: origin
    filters: [x_only, sf_only]
"""
        gateway = harness.Gateway(harness.config([upstream.port], routes=routes, extra=filters))
        try:
            for path in ("/a", "/b"):
                with self.subTest(path=path):
                    r = harness.request(gateway.port, path=path)
                    self.assertEqual(r.status, 200)
                    self.assertEqual(r.header("RateLimit-Policy"), '"sf_only";q=50;w=1')
                    self.assertRegex(r.header("RateLimit"), r'^"sf_only";r=\d+;t=\d+$')
                    self.assertEqual(r.header("X-RateLimit-Limit"), "100")
                    self.assertNotEqual(r.header("X-RateLimit-Reset"), "9")
        finally:
            self.assertEqual(gateway.stop(), 0, gateway.stderr())
            upstream.stop()


class FullTableTest(unittest.TestCase):
    """when_full: deny tells a new key when a cell of its window frees up."""

    def test_retry_after_is_when_a_cell_frees(self):
        origin = harness.Origin()
        filters = ("filters:\n  tiny: { type: rate_limit, key: header:X-K, rate: 1/m, burst: 1, "
                   "max_keys: 8, when_full: deny }\ndefault_filters: [tiny]\n")
        gateway = harness.Gateway(harness.config([origin.port], extra=filters))
        try:
            statuses = [harness.request(gateway.port, headers=[("X-K", "k%d" % i)]).status
                        for i in range(8)]
            self.assertEqual(statuses, [200] * 8)
            r = harness.request(gateway.port, headers=[("X-K", "newcomer")])
            self.assertEqual(r.status, 429)
            self.assertTrue(55 <= int(r.header("Retry-After")) <= 60, r.header("Retry-After"))
            self.assertRegex(r.header("RateLimit"), r'^"tiny";r=0;t=(5[5-9]|60)$')
        finally:
            self.assertEqual(gateway.stop(), 0, gateway.stderr())
            origin.stop()


class DualStackClientTest(unittest.TestCase):
    """An IPv4 client is one client, whether it reaches an IPv4 listener or
    a dual-stack one (where the kernel writes it ::ffff:a.b.c.d)."""

    def test_ipv4_mapped_clients_share_one_budget(self):
        origin = harness.Origin()
        text = harness.config([origin.port], routes=ROUTES, extra=FILTERS).replace(
            "listen:\n  - address: 127.0.0.1:0\n",
            "listen:\n  - address: 127.0.0.1:0\n  - address: \"[::ffff:127.0.0.1]:0\"\n")
        gateway = harness.Gateway(text, listeners=2)
        try:
            v4, mapped = gateway.ports
            statuses = [harness.request(port, path="/strict").status for port in (v4, mapped, mapped)]
            self.assertEqual(statuses, [200, 200, 429])
            self.assertIn(b"X-Forwarded-For: 127.0.0.1\r\n",
                          harness.request(mapped, path="/headers").body)
        finally:
            self.assertEqual(gateway.stop(), 0, gateway.stderr())
            origin.stop()


if __name__ == "__main__":
    unittest.main()
