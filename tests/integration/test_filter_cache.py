"""The cache filter through the real binary (docs/filters/cache.md): misses
then hits that never reach the origin (counted with the origin's /stats),
what is not stored, Vary, conditional requests answered from the store, HEAD,
request collapsing, invalidation by unsafe methods, revalidation with 304,
stale-if-error, entries over the size limit, and a gzip chain.

One worker, so that every request of a test sees the same store. Waits are
only for entries to go stale (max-age=1: a bit over 2 s, dates have
one-second resolution); nothing asserts on timings."""

import json
import os
import re
import socket
import threading
import time
import unittest
import zlib

import harness
from harness import GatewayTestCase, config, raw_response, request

FILTERS = """\
filters:
  cache: { type: cache, max_bytes: 8MiB, max_entry_bytes: 64KiB }
"""

ROUTES = """\
  - match: { prefix: / }
    upstream: origin
    filters: [cache]
"""

CACHEABLE = "header=Cache-Control:max-age=60"


def gunzip(data):
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    return d.decompress(data) + d.flush()


class CacheFilterTest(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], routes=ROUTES, extra=FILTERS, workers=1)

    def counted(self):
        """The origin's request counter (its /stats). Between two calls it
        grows by the requests that reached the origin, plus one for the
        first /stats call itself: deltas below subtract that one."""
        r = request(self.origin.port, path="/stats")
        return json.loads(r.body)["requests"]

    def test_miss_then_hit(self):
        path = "/bytes/1000?%s&t=hit" % CACHEABLE
        before = self.counted()
        first = request(self.port, path=path)
        self.assertEqual(first.status, 200)
        self.assertEqual(first.header("X-Cache"), "MISS")
        for _ in range(3):
            r = request(self.port, path=path)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("X-Cache"), "HIT", r.raw_head)
            self.assertEqual(r.body, first.body)
            self.assertEqual(r.header("Content-Length"), "1000")
            self.assertIsNotNone(r.header("Age"))
            self.assertEqual(r.header("Cache-Control"), "max-age=60")
        self.assertEqual(self.counted() - before - 1, 1)

    def test_query_is_part_of_the_key(self):
        a = request(self.port, path="/bytes/10?%s&t=qa" % CACHEABLE)
        b = request(self.port, path="/bytes/10?%s&t=qb" % CACHEABLE)
        self.assertEqual((a.header("X-Cache"), b.header("X-Cache")), ("MISS", "MISS"))

    def test_not_stored(self):
        cases = [
            "/bytes/10?header=Cache-Control:no-store,max-age=60&t=ns",
            "/bytes/10?header=Cache-Control:private,max-age=60&t=pr",
            "/bytes/10?%s&header=Set-Cookie:a=1&t=sc" % CACHEABLE,
            "/bytes/10?%s&header=Vary:*&t=vs" % CACHEABLE,
            "/bytes/10?t=plain",  # no freshness, no validator
        ]
        for path in cases:
            before = self.counted()
            for _ in range(2):
                r = request(self.port, path=path)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("X-Cache"), "MISS", path)
            self.assertEqual(self.counted() - before - 1, 2, path)

    def test_request_no_store_and_authorization_bypass(self):
        path = "/bytes/10?%s&t=bypass" % CACHEABLE
        request(self.port, path=path)
        r = request(self.port, path=path, headers=[("Cache-Control", "no-store")])
        self.assertEqual(r.header("X-Cache"), "BYPASS")
        r = request(self.port, path=path, headers=[("Authorization", "Bearer x")])
        self.assertEqual(r.header("X-Cache"), "BYPASS")
        self.assertEqual(request(self.port, path=path).header("X-Cache"), "HIT")

    def test_get_with_a_body_bypasses(self):
        # The body is forwarded but not in the key ("fat GET" poisoning),
        # also when Connection names the framing header to hide it.
        path = "/echo?%s&t=fat" % CACHEABLE
        for headers in ([], [("Connection", "content-length")]):
            r = request(self.port, path=path, body=b"EVIL!", headers=headers)
            self.assertEqual((r.status, r.header("X-Cache")), (200, "BYPASS"), headers)
        r = request(self.port, path=path)
        self.assertEqual(r.header("X-Cache"), "MISS")
        self.assertEqual(r.body, b"")

    def test_vary_variants(self):
        path = "/bytes/10?%s&header=Vary:Accept-Language&t=vary" % CACHEABLE
        en = [("Accept-Language", "en")]
        fr = [("Accept-Language", "fr")]
        self.assertEqual(request(self.port, path=path, headers=en).header("X-Cache"), "MISS")
        self.assertEqual(request(self.port, path=path, headers=fr).header("X-Cache"), "MISS")
        self.assertEqual(request(self.port, path=path, headers=[("Accept-Language", "EN")]).header("X-Cache"),
                         "HIT")
        self.assertEqual(request(self.port, path=path, headers=fr).header("X-Cache"), "HIT")
        self.assertEqual(request(self.port, path=path).header("X-Cache"), "MISS")

    def test_conditional_requests_get_304_from_the_store(self):
        path = "/bytes/10?%s&header=ETag:%%22abc%%22&t=cond" % CACHEABLE
        request(self.port, path=path)
        before = self.counted()
        r = request(self.port, path=path, headers=[("If-None-Match", '"abc"')])
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("ETag"), '"abc"')
        self.assertEqual(r.header("X-Cache"), "HIT")
        r = request(self.port, path=path, headers=[("If-None-Match", 'W/"other"')])
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), 10)
        self.assertEqual(self.counted() - before - 1, 0)
        # The connection stays usable after a 304 without a body.
        c = harness.RawClient(self.port)
        try:
            for _ in range(2):
                c.send(harness.build_request(path=path, headers=[("If-None-Match", '"abc"')]))
                self.assertEqual(c.read_response().status, 304)
        finally:
            c.close()

    def test_head_from_the_get_entry(self):
        path = "/bytes/500?%s&t=head" % CACHEABLE
        request(self.port, path=path)
        r = request(self.port, method="HEAD", path=path)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Cache"), "HIT")
        self.assertEqual(r.header("Content-Length"), "500")
        # Nothing follows the head: the next response on the connection parses.
        c = harness.RawClient(self.port)
        try:
            c.send(harness.build_request(method="HEAD", path=path) + harness.build_request(path=path))
            self.assertEqual(c.read_response(head_request=True).status, 200)
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(len(r.body), 500)
        finally:
            c.close()

    def test_concurrent_misses_collapse(self):
        path = "/delay/800?%s&t=collapse" % CACHEABLE
        before = self.counted()
        results = []

        def fetch():
            r = request(self.port, path=path)
            results.append((r.status, r.header("X-Cache"), r.body))

        threads = [threading.Thread(target=fetch) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), 6)
        self.assertTrue(all(s == 200 for s, _, _ in results), results)
        self.assertEqual(len({b for _, _, b in results}), 1)
        self.assertEqual(sorted(x for _, x, _ in results).count("MISS"), 1, results)
        # However the requests interleaved, the origin saw one.
        self.assertEqual(self.counted() - before - 1, 1)

    def test_unsafe_method_invalidates(self):
        path = "/bytes/10?%s&t=inval" % CACHEABLE
        request(self.port, path=path)
        self.assertEqual(request(self.port, path=path).header("X-Cache"), "HIT")
        r = request(self.port, method="POST", path=path, body=b"")
        self.assertEqual(r.status, 200)
        self.assertEqual(request(self.port, path=path).header("X-Cache"), "MISS")

    def test_too_large_is_passed_on_not_stored(self):
        path = "/bytes/100000?%s&t=large" % CACHEABLE
        for _ in range(2):
            r = request(self.port, path=path)
            self.assertEqual(len(r.body), 100000)
            self.assertEqual(r.header("X-Cache"), "MISS")
        path = "/chunked/100000?%s&t=large" % CACHEABLE
        for _ in range(2):
            r = request(self.port, path=path)
            self.assertEqual(len(r.body), 100000)
            self.assertEqual(r.header("X-Cache"), "MISS")

    def test_chunked_origin_is_stored(self):
        path = "/chunked/5000?%s&t=chunked" % CACHEABLE
        first = request(self.port, path=path)
        r = request(self.port, path=path)
        self.assertEqual(r.header("X-Cache"), "HIT")
        self.assertEqual(r.body, first.body)
        self.assertEqual(r.header("Content-Length"), "5000")

    def test_gateway_alive(self):
        self.assert_alive()


GZIP_FILTERS = """\
filters:
  cache: { type: cache, max_bytes: 8MiB }
  gz: { type: compress, min_length: 256, types: [application/octet-stream, text/*] }
"""

GZIP_ROUTES = """\
  - match: { prefix: / }
    upstream: origin
    filters: [cache, gz]
"""


class CacheGzipChainTest(GatewayTestCase):
    """[cache, gz]: response phases run in reverse, so the cache stores what
    the compress filter made, one variant per Accept-Encoding."""

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], routes=GZIP_ROUTES, extra=GZIP_FILTERS, workers=1)

    def test_gzip_chain_stores_the_compressed_variant(self):
        path = "/bytes/20000?%s&t=gz" % CACHEABLE
        gz = [("Accept-Encoding", "gzip")]
        first = request(self.port, path=path, headers=gz)
        self.assertEqual(first.status, 200)
        self.assertEqual(first.header("X-Cache"), "MISS")
        self.assertEqual(first.header("Content-Encoding"), "gzip", first.raw_head)
        r = request(self.port, path=path, headers=[("Accept-Encoding", "br, gzip")])
        self.assertEqual(r.header("X-Cache"), "MISS")  # another Accept-Encoding set
        r = request(self.port, path=path, headers=gz)
        self.assertEqual(r.header("X-Cache"), "HIT")
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(gunzip(r.body), gunzip(first.body))
        plain = request(self.port, path=path)
        self.assertEqual(plain.header("X-Cache"), "MISS")
        self.assertIsNone(plain.header("Content-Encoding"))
        self.assertEqual(plain.body, gunzip(first.body))



class CachePurgeTest(GatewayTestCase):
    """PURGE through a cache_purge route reaches the stores of every worker."""

    @classmethod
    def gateway_config(cls, origin_port):
        filters = """\
filters:
  cache: { type: cache, max_bytes: 8MiB }
  local_only: { type: ip_rules, allow: [127.0.0.1/32] }
  purge: { type: cache_purge, cache: cache }
"""
        routes = """\
  - match: { prefix: /, methods: [PURGE] }
    filters: [local_only, purge]
  - match: { prefix: / }
    upstream: origin
    filters: [cache]
"""
        return config([origin_port], routes=routes, extra=filters, workers=2)

    def warm(self, path):
        # New connections spread over both workers (SO_REUSEPORT).
        for _ in range(8):
            self.assertEqual(request(self.port, path=path).status, 200)

    def test_exact_purge_reaches_every_worker(self):
        path = "/bytes/64?%s&t=purge" % CACHEABLE
        for _ in range(8):
            self.warm(path)
            r = request(self.port, method="PURGE", path=path)
            self.assertEqual(r.status, 200, r.body)
            # Whichever worker this lands on, its copy is gone.
            self.assertEqual(request(self.port, path=path).header("x-cache"), "MISS")

    def test_prefix_purge(self):
        paths = ["/bytes/%d?%s&t=prefix" % (n, CACHEABLE) for n in (10, 11, 12)]
        for p in paths:
            self.warm(p)
        r = request(self.port, method="PURGE", path="/bytes/1*")
        self.assertEqual(r.status, 200, r.body)
        for p in paths:
            self.assertEqual(request(self.port, path=p).header("x-cache"), "MISS", p)
        other = "/status/200?%s&t=prefix" % CACHEABLE
        self.warm(other)
        request(self.port, method="PURGE", path="/bytes*")
        self.assertEqual(request(self.port, path=other).header("x-cache"), "HIT")

    def test_purge_without_host_is_refused(self):
        # An HTTP/1.0 request may have no Host: it purges no host, not all.
        path = "/bytes/3?%s&t=nohost" % CACHEABLE
        self.warm(path)
        r = request(self.port, method="PURGE", path=path, version="1.0", host=None)
        self.assertEqual((r.status, r.body), (400, b"PURGE needs a Host\n"))
        self.assertEqual(request(self.port, path=path).header("x-cache"), "HIT")


class OriginChangesItsAnswerTest(unittest.TestCase):
    """The same URL answered 200 first and then otherwise by the origin."""

    def gateway(self, responses):
        self.origin = harness.ScriptedUpstream(lambda i, _: responses[i])
        self.gw = harness.Gateway(config([self.origin.port], extra=FILTERS + "default_filters: [cache]\n"))
        return self.gw.port

    def tearDown(self):
        self.assertEqual(self.gw.stop(), 0, self.gw.stderr())
        self.origin.stop()

    def test_stale_if_error(self):
        port = self.gateway([raw_response("200 OK", ["Cache-Control: max-age=1, stale-if-error=600"], b"first"),
                             raw_response("503 Service Unavailable")])
        first = request(port, path="/sie")
        self.assertEqual((first.status, first.header("X-Cache")), (200, "MISS"))
        time.sleep(2.2 * harness.SLOW)
        r = request(port, path="/sie")
        self.assertEqual(r.status, 200, r.raw_head)
        self.assertEqual(r.header("X-Cache"), "STALE")
        self.assertEqual(r.body, b"first")

    def test_revalidation_with_304(self):
        port = self.gateway([raw_response("200 OK", ["Cache-Control: max-age=1", 'ETag: "v1"'], b"first"),
                             raw_response("304 Not Modified", ["Cache-Control: max-age=60", 'ETag: "v1"'])])
        self.assertEqual(request(port, path="/rv").header("X-Cache"), "MISS")
        time.sleep(2.2 * harness.SLOW)
        r = request(port, path="/rv")
        self.assertEqual(r.status, 200, r.raw_head)
        self.assertEqual(r.header("X-Cache"), "REVALIDATED")
        self.assertEqual(r.body, b"first")
        self.assertIn(b'If-None-Match: "v1"', self.origin.requests[1])
        self.assertEqual(request(port, path="/rv").header("X-Cache"), "HIT")


class CollapseLimitsTest(unittest.TestCase):
    """A collapsed request waits for its leader at most collapse_timeout, and
    requests for a URL whose answer was not storable do not wait at all."""

    def test_a_slow_leader_does_not_hold_the_others(self):
        # The first answer streams until the test lets it end; the second
        # request, collapsed behind it, goes to the origin itself after
        # collapse_timeout and is answered while the first is still open.
        release = threading.Event()
        seen = []
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)

        def serve():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=answer, args=(conn,), daemon=True).start()

        def answer(conn):
            with conn:
                buf = b""
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                seen.append(buf)
                conn.sendall(b"HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
                if len(seen) == 1:
                    release.wait(60)
                conn.sendall(b"4\r\nlast\r\n0\r\n\r\n")

        threading.Thread(target=serve, daemon=True).start()
        filters = "filters:\n  cache: { type: cache, collapse_timeout: 500ms }\ndefault_filters: [cache]\n"
        gw = harness.Gateway(config([listener.getsockname()[1]], extra=filters))
        try:
            first = harness.RawClient(gw.port)
            first.send(harness.build_request("GET", "/slow"))
            while not seen:
                time.sleep(0.01)
            second = request(gw.port, path="/slow")
            self.assertEqual((second.status, second.body), (200, b"firstlast"))
            self.assertEqual(second.header("X-Cache"), "MISS")
            self.assertFalse(release.is_set())  # the first is still streaming
            release.set()
            r = first.read_response()
            self.assertEqual(r.body, b"firstlast")
            first.close()
            self.assertEqual(len(seen), 2)
        finally:
            release.set()
            self.assertEqual(gw.stop(), 0, gw.stderr())
            listener.close()
        counters = gw.stats()["filters"]
        self.assertEqual(counters["cache.collapsed"], 1, counters)
        self.assertEqual(counters["cache.collapse_timeouts"], 1, counters)

    def test_requests_for_an_unstorable_url_do_not_wait(self):
        origin = harness.Origin()
        gw = harness.Gateway(config([origin.port], extra=FILTERS + "default_filters: [cache]\n"))
        path = "/delay/300?header=Cache-Control:private"

        def together(n):
            threads = [threading.Thread(target=request, args=(gw.port,), kwargs={"path": path})
                       for _ in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        try:
            together(3)  # the first round collapses (at most 2 wait), and learns
            together(6)  # the second does not (else at least 5 would wait)
        finally:
            self.assertEqual(gw.stop(), 0, gw.stderr())
            origin.stop()
        self.assertLessEqual(gw.stats()["filters"].get("cache.collapsed", 0), 2)


class StaleIfErrorOriginDownTest(unittest.TestCase):
    """stale-if-error also covers the gateway's own 502 when the origin is
    gone (connection refused), not only an error status from the origin."""

    def test_stale_copy_served_when_origin_refuses(self):
        origin = harness.Origin()
        gateway = harness.Gateway(config([origin.port], routes="""\
  - match: { prefix: / }
    upstream: origin
    filters: [cache]
""", extra=FILTERS))
        try:
            path = "/bytes/100?header=Cache-Control:max-age=1,stale-if-error=600&t=down"
            first = request(gateway.port, path=path)
            self.assertEqual(first.header("X-Cache"), "MISS")
            time.sleep(2.2 * harness.SLOW)
            origin.stop()  # connections to it are now refused
            r = request(gateway.port, path=path)
            self.assertEqual(r.status, 200, r.raw_head)
            self.assertEqual(r.header("X-Cache"), "STALE")
            self.assertEqual(r.body, first.body)
            # Without a usable copy the client still gets the 502.
            self.assertEqual(request(gateway.port, path="/bytes/7").status, 502)
        finally:
            self.assertEqual(gateway.stop(), 0, gateway.stderr())
            origin.stop()


class BackgroundRevalidationTest(unittest.TestCase):
    """stale-while-revalidate: the request that finds the entry stale is
    answered from it at once, and the gateway revalidates in the background
    with its own fetch (the origin here always answers 200, so the entry is
    then dropped and the next request goes through)."""

    def test_stale_answer_then_background_fetch(self):
        origin = harness.Origin()
        gateway = harness.Gateway(config([origin.port], routes="""\
  - match: { prefix: / }
    upstream: origin
    filters: [cache]
""", extra=FILTERS))

        def origin_requests():
            return json.loads(request(origin.port, path="/stats").body)["requests"]

        try:
            path = ("/bytes/50?header=Cache-Control:max-age=1,stale-while-revalidate=60"
                    "&header=ETag:%22v1%22&t=swr")
            self.assertEqual(request(gateway.port, path=path).header("X-Cache"), "MISS")
            time.sleep(2.2 * harness.SLOW)
            before = origin_requests()
            r = request(gateway.port, path=path)
            self.assertEqual(r.header("X-Cache"), "STALE")
            # The background revalidation reaches the origin: each /stats
            # call counts itself, so poll i sees before + i without it.
            seen = False
            for i in range(1, 100):
                if origin_requests() - before - i >= 1:
                    seen = True
                    break
                time.sleep(0.05 * harness.SLOW)
            self.assertTrue(seen, "no background request reached the origin")
            # A 200 to the revalidation dropped the entry: through to the origin.
            self.assertEqual(request(gateway.port, path=path).header("X-Cache"), "MISS")
        finally:
            self.assertEqual(gateway.stop(), 0, gateway.stderr())
            origin.stop()

    def test_background_fetch_sends_the_upstreams_host(self):
        # An upstream with `host:` gets it on the revalidation too, not the
        # client's Host: on a virtual-host origin that is another resource.
        origin = harness.ScriptedUpstream(lambda i, _: raw_response(
            "200 OK", ["Cache-Control: max-age=1, stale-while-revalidate=60", 'ETag: "v1"'], b"x"))
        gateway = harness.Gateway(config([origin.port], upstream={"host": "internal.example"},
                                         extra=FILTERS + "default_filters: [cache]\n"))
        try:
            self.assertEqual(request(gateway.port, path="/v", host="www.example").header("X-Cache"), "MISS")
            time.sleep(2.2 * harness.SLOW)
            self.assertEqual(request(gateway.port, path="/v", host="www.example").header("X-Cache"), "STALE")
            for _ in range(100):
                if len(origin.requests) >= 2:
                    break
                time.sleep(0.05 * harness.SLOW)
            hosts = [re.search(rb"\r\nHost: ([^\r]*)", r).group(1) for r in origin.requests]
            self.assertEqual(hosts, [b"internal.example", b"internal.example"])
        finally:
            self.assertEqual(gateway.stop(), 0, gateway.stderr())
            origin.stop()


if __name__ == "__main__":
    unittest.main()
