"""Good and hostile clients at once, through cache, gzip, headers, jwt and
rate_limit filters, on two workers, with reloads that change the config
(and, in the second test, a SIGTERM in the middle).

Every good exchange must come back exactly right: echoed bodies byte for
byte (with and without 100-continue), sizes, chunked answers, uploads
counted, gzip that unpacks to the page, pipelined answers in order,
HTTP/1.0, a half-closed client, a late reader of 3 MB, a header only the
gateway may set, a JWT-authenticated and rate-limited route forwarding its
claim (a tampered token: 401), a 502 for a dead upstream and for one that
answers nonsense, a 504 for one too slow. Every hostile one must get a 4xx
or a close (never a 2xx or a 5xx). Afterwards the gateway still serves,
holds no more sockets than its upstream pools keep, and exits 0 (under
ASan: no leak).

Each bad input has its own test in test_bad_input.py; this one looks for what
only shows when they interleave with each other, with reloads and with
healthy traffic on the same worker: one client's bytes in another's
response, a connection or buffer not given back, a crash."""

import gzip
import os
import random
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
import unittest

from harness import (SLOW, Gateway, Origin, RawClient, ScriptedUpstream, build_request, config, raw_response,
                     read_status, refusing_port, request)
from test_filter_jwt import claims, hs256, write_hs_jwks

DURATION = 6.0  # seconds of traffic (not scaled: a slower build just does less)
MAX_IDLE = 4    # pooled upstream connections per worker: what may stay open after

# Reloads alternate between two configs that differ in the filters' settings.
# (config() puts this right after the upstream "origin": the others join it.)
UPSTREAMS_AND_FILTERS = """  dead:
    endpoints: ["127.0.0.1:%(dead)d"]
  liar:
    endpoints: ["127.0.0.1:%(liar)d"]
  cut:
    endpoints: ["127.0.0.1:%(cut)d"]
  slow:
    endpoints: ["127.0.0.1:%(slow)d"]
    response_header_timeout: 300ms
filters:
  cache: { type: cache, max_bytes: %(size)s }
  gz: { type: compress, level: %(level)d }
  stamp: { type: headers, request: { set: { X-Gw: mixed } } }
  auth: { type: jwt, jwks_file: %(jwks)s, issuer: "https://issuer.test", audience: api,
          forward_claims: { sub: X-User-Id } }
  limit: { type: rate_limit, key: client_ip, rate: 1000000/s, burst: 1000000 }
default_filters: [cache, gz]
"""
ROUTES = """  - match: { prefix: /dead }
    upstream: dead
  - match: { prefix: /liar }
    upstream: liar
  - match: { prefix: /cut }
    upstream: cut
  - match: { prefix: /slow }
    upstream: slow
  - match: { prefix: /headers }
    upstream: origin
    filters: [stamp]
  - match: { prefix: /api }
    upstream: origin
    strip_prefix: /api
    filters: [limit, auth]
  - match: { prefix: / }
    upstream: origin
"""
# What the "liar" upstream answers, in turn: each a 502 for the client.
LIES = [
    None,  # closes without a word
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    b"HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 99999 OK\r\n\r\n",
    b"garbage\r\n\r\n",
]
# The "cut" upstream starts a good answer and breaks its chunking: the
# client's connection is reset (the head is already out).
CUT = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\nzz\r\n"
CACHED = "/bytes/2048?header=Cache-Control:max-age%3D60"
TEXT = "/bytes/16384?text=1"

# Requests the gateway must refuse (a 4xx, or a close before answering).
HOSTILE = [
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    b"GET /public/%2e%2e%2fadmin HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
    b"GET /" + b"p" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.failures = []
        self.counts = {}
        # Set once the gateway is told to stop: from then on a connection
        # refused, or closed (or reset) before any byte of its answer, ends a
        # client quietly; a partial or wrong answer is still a failure.
        self.closing = threading.Event()

    def ok(self, kind):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def fail(self, what):
        with self.lock:
            self.failures.append(what)


def lines_of(head, name):
    """The header lines called `name` in a raw head (the origin's /headers)."""
    prefix = name.lower() + b":"
    return [line for line in head.split(b"\r\n") if line.lower().startswith(prefix)]


class ConnectionLost(Exception):
    def __init__(self, what, partial):
        super().__init__(what)
        self.partial = partial  # some bytes of an answer had come


class GoodClient:
    """Keep-alive exchanges whose answers it can check exactly, as a careful
    client does them (RFC 9112 9.3): requests an answer with `Connection:
    close` left unanswered go again on a new connection, and so does a
    request on a reused connection that closed before any byte of an answer
    (a reload closes idle connections). Any other close is a failure: the
    gateway announces the closes it makes after an answer."""

    def __init__(self, port, seed, tally, reference_text):
        self.port, self.tally, self.text = port, tally, reference_text
        self.rng = random.Random(seed)
        self.seed = seed
        self.token = hs256(claims(sub="user%d" % seed, exp=int(time.time()) + 3600))
        self.client = None

    def exchange(self, *requests, head_request=False):
        """Sends the requests (pipelined) and returns their answers."""
        answers, pending, reopened = [], list(requests), 0
        while pending:
            reused = self.client is not None
            if not reused:
                self.client = RawClient(self.port)
            mark = self.client.received
            try:
                self.client.send(b"".join(pending))
                while pending:
                    answers.append(self.client.read_response(head_request))
                    pending.pop(0)
                    if answers[-1].status >= 200 and answers[-1].header("Connection") == "close":
                        self.client.close()
                        self.client = None
                        break
            except (ConnectionError, BrokenPipeError) as e:
                got = self.client.received - mark  # since these requests went out
                self.client.close()
                self.client = None
                reopened += 1
                if got or not reused or reopened > 3:
                    raise ConnectionLost("connection lost (%s) after %d bytes of answers to %r "
                                         "(reused %s, answers before %d, reopened %d)" %
                                         (e, got, pending[0][:80], reused, len(answers), reopened),
                                         partial=got > 0)
        return answers

    def fresh_exchange(self, what, raw, pause=0.0, half_close=False):
        """One request on a connection of its own."""
        c = RawClient(self.port)
        try:
            c.send(raw)
            if half_close:
                c.sock.shutdown(socket.SHUT_WR)  # legal: the response still comes
            time.sleep(pause)
            return c.read_response()
        except ConnectionError as e:
            raise ConnectionLost("%s: %s after %d bytes" % (what, e, c.received), c.received > 0)
        finally:
            c.close()

    def one_round(self, n):
        kind = self.rng.choice(["echo", "echo_chunked", "echo_continue", "bytes", "cached", "head",
                                "gzip", "pipelined", "http10", "dead", "chunked", "sink", "slow_reader",
                                "half_close", "stamped", "liar", "jwt", "slow"])
        if kind == "chunked":
            size, piece = self.rng.choice([0, 100, 70000]), self.rng.choice([1, 1000, 16384])
            (r,) = self.exchange(build_request("GET", "/chunked/%d?chunk=%d" % (size, piece)))
            if r.status != 200 or r.body != b"x" * size:
                return "chunked/%d: HTTP %d, %d bytes" % (size, r.status, len(r.body))
        elif kind == "sink":
            size = self.rng.choice([1, 64 * 1024, 900 * 1024])
            (r,) = self.exchange(build_request("POST", "/sink", body=b"s" * size))
            if r.status != 200 or r.body.strip() != str(size).encode():
                return "sink: HTTP %d, %r for %d bytes" % (r.status, r.body[:40], size)
        elif kind == "slow_reader":
            # Asks for more than the socket buffers hold, then reads late: the
            # gateway holds the rest back without losing or mixing a byte.
            r = self.fresh_exchange("slow reader", build_request("GET", "/bytes/3000000"), pause=0.2)
            if r.status != 200 or r.body != b"x" * 3000000:
                return "slow reader: HTTP %d, %d bytes" % (r.status, len(r.body))
        elif kind == "half_close":
            r = self.fresh_exchange("half-closed client", build_request("GET", "/bytes/5000"),
                                    half_close=True)
            if r.status != 200 or r.body != b"x" * 5000:
                return "half-closed client: HTTP %d, %d bytes" % (r.status, len(r.body))
        elif kind == "stamped":
            (r,) = self.exchange(build_request("GET", "/headers", [("X-Gw", "forged")]))
            seen = lines_of(r.body, b"X-Gw")
            if r.status != 200 or seen != [b"X-Gw: mixed"]:
                return "headers filter: HTTP %d, the upstream saw %r" % (r.status, seen)
        elif kind == "echo_continue":
            body = (b"%d:%d:" % (self.seed, n)) + os.urandom(self.rng.choice([10, 50000]))
            raw = build_request("POST", "/echo", [("Expect", "100-continue"),
                                                  ("Content-Length", str(len(body)))])
            (interim,) = self.exchange(raw)
            if interim.status != 100:
                return "100-continue: HTTP %d before the body" % interim.status
            self.client.send(body)  # the final answer comes on this connection
            r = self.client.read_response()
            if r.status != 200 or r.body != body:
                return "100-continue: HTTP %d, %d bytes back for %d sent" % (r.status, len(r.body), len(body))
        elif kind == "http10":
            (r,) = self.exchange(build_request("GET", "/bytes/300", version="1.0"))
            if self.client:  # HTTP/1.0 without keep-alive: the gateway closes
                self.client.close()
                self.client = None
            if r.status != 200 or r.body != b"x" * 300:
                return "HTTP/1.0: HTTP %d, %d bytes" % (r.status, len(r.body))
        elif kind == "jwt":
            # A token of this client's own (the verified-token cache is per
            # worker); a forged X-User-Id never reaches the upstream; now and
            # then a tampered token, refused.
            bad = self.rng.random() < 0.2
            token = self.token[:-2] + ("AA" if self.token[-2:] != "AA" else "BB") if bad else self.token
            (r,) = self.exchange(build_request("GET", "/api/headers", [
                ("Authorization", "Bearer " + token), ("X-User-Id", "admin")]))
            if bad:
                if r.status != 401 or "invalid_token" not in (r.header("WWW-Authenticate") or ""):
                    return "jwt: a tampered token got HTTP %d" % r.status
            else:
                seen = lines_of(r.body, b"X-User-Id")
                if r.status != 200 or seen != [b"X-User-Id: user%d" % self.seed]:
                    return "jwt: HTTP %d, the upstream saw %r" % (r.status, seen)
        elif kind in ("dead", "liar", "slow"):
            (r,) = self.exchange(build_request("GET", "/%s/x" % kind))
            expected = 504 if kind == "slow" else 502
            if r.status != expected:
                return "%s upstream: HTTP %d, not %d" % (kind, r.status, expected)
        elif kind in ("echo", "echo_chunked"):
            size = self.rng.choice([0, 1, 100, 4000, 70000, 300000])
            body = (b"%d:%d:" % (self.seed, n)) + os.urandom(size)
            if kind == "echo":
                raw = build_request("POST", "/echo", body=body)
            else:
                chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 9000]), body[i:i + 9000])
                                  for i in range(0, len(body), 9000))
                raw = (build_request("POST", "/echo", [("Transfer-Encoding", "chunked")]) + chunks +
                       b"0\r\n\r\n")
            (r,) = self.exchange(raw)
            if r.status != 200 or r.body != body:
                return "%s: HTTP %d, %d bytes back for %d sent%s" % (
                    kind, r.status, len(r.body), len(body), "" if r.status != 200 else " (different bytes)")
        elif kind == "bytes":
            size = self.rng.choice([0, 10, 5000, 65536, 200000])
            (r,) = self.exchange(build_request("GET", "/bytes/%d" % size))
            if r.status != 200 or r.body != b"x" * size:
                return "bytes/%d: HTTP %d, %d bytes" % (size, r.status, len(r.body))
        elif kind == "cached":
            (r,) = self.exchange(build_request("GET", CACHED))
            if r.status != 200 or r.body != b"x" * 2048:
                return "cached: HTTP %d, %d bytes" % (r.status, len(r.body))
        elif kind == "head":
            (r,) = self.exchange(build_request("HEAD", CACHED), head_request=True)
            if r.status != 200 or r.header("Content-Length") != "2048":
                return "HEAD: HTTP %d, Content-Length %r" % (r.status, r.header("Content-Length"))
        elif kind == "gzip":
            (r,) = self.exchange(build_request("GET", TEXT, [("Accept-Encoding", "gzip")]))
            if r.status != 200 or r.header("Content-Encoding") != "gzip":
                return "gzip: HTTP %d, Content-Encoding %r" % (r.status, r.header("Content-Encoding"))
            if gzip.decompress(r.body) != self.text:
                return "gzip: the body does not unpack to the page"
        else:  # pipelined
            sizes = [self.rng.randrange(1, 3000) for _ in range(3)]
            answers = self.exchange(*(build_request("GET", "/bytes/%d" % s) for s in sizes))
            got = [(a.status, len(a.body)) for a in answers]
            if got != [(200, s) for s in sizes]:
                return "pipelined: sent %r, got %r" % (sizes, got)
        self.tally.ok(kind)
        return None

    def run(self, stop):
        n = 0
        try:
            while not stop.is_set():
                n += 1
                wrong = self.one_round(n)
                if wrong:
                    self.tally.fail(wrong)
                    return
        except (ConnectionLost, ConnectionRefusedError) as e:
            if not self.tally.closing.is_set() or getattr(e, "partial", False):
                self.tally.fail("%s: %s" % (type(e).__name__, e))
        except Exception as e:  # a bad gzip body too (EOFError, zlib.error)
            self.tally.fail("%s: %s" % (type(e).__name__, e))
        finally:
            if self.client:
                self.client.close()


def hostile_client(port, seed, tally, stop):
    """Refused shapes, resets in the middle of bodies and of responses,
    heads that never end, random bytes."""
    rng = random.Random(seed)
    while not stop.is_set():
        kind = rng.choice(["refused", "refused", "reset_body", "reset_response", "stall", "noise",
                           "cut"])
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW)
        except OSError as e:
            if not tally.closing.is_set():
                tally.fail("hostile connect: %s" % e)
            return
        try:
            if kind == "refused":
                raw = rng.choice(HOSTILE)
                s.sendall(raw)
                status = read_status(s)
                if status != "closed" and not status.startswith("4"):
                    tally.fail("refused shape %r answered %s" % (raw[:60], status))
                    return
            elif kind == "reset_body":
                s.sendall(build_request("POST", "/echo", [("Content-Length", "500000")]) + os.urandom(20000))
            elif kind == "reset_response":
                s.sendall(build_request("GET", "/bytes/1000000"))
                s.recv(1000)
            elif kind == "cut":
                # The head and the good chunk may come; a last chunk must not.
                s.sendall(build_request("GET", "/cut/x"))
                got = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                if b"\r\n0\r\n" in got:
                    tally.fail("a broken upstream body ended cleanly: %r" % got[-80:])
                    return
            elif kind == "stall":
                s.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                time.sleep(rng.random() * 0.3)
            else:
                s.sendall(os.urandom(rng.randrange(1, 3000)))
            tally.ok("hostile_" + kind)
        except socket.timeout:
            tally.fail("hostile %s: no answer and no close" % kind)
            return
        except OSError:
            tally.ok("hostile_" + kind)  # the gateway closed first: fine
        finally:
            # An abortive close (RST) for the resets, a plain one otherwise.
            if kind.startswith("reset"):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class MixedTraffic(unittest.TestCase):

    def start(self):
        """Upstreams, keys, the gateway on configs[0], and the clients running."""
        origin = Origin(threads=2)
        self.addCleanup(origin.stop)
        reference = request(origin.port, path=TEXT).body
        liar = ScriptedUpstream(lambda i, raw: LIES[i % len(LIES)])
        cut = ScriptedUpstream(lambda i, raw: CUT)
        slow = ScriptedUpstream(lambda i, raw: time.sleep(1.0) or raw_response("200 OK"))
        for up in (liar, cut, slow):
            self.addCleanup(up.stop)
        keys = tempfile.mkdtemp(prefix="ringway-mixed-")
        self.addCleanup(shutil.rmtree, keys)
        write_hs_jwks(keys)
        ports = {"dead": refusing_port(), "liar": liar.port, "cut": cut.port, "slow": slow.port}
        settings = dict(ports, jwks=os.path.join(keys, "keys.json"))
        self.configs = [config([origin.port], workers=2, routes=ROUTES,
                               extra=UPSTREAMS_AND_FILTERS % dict(settings, size=size, level=level),
                               limits={"client_header_timeout": "1s", "max_body_bytes": "1MiB"},
                               upstream={"max_idle_per_worker": MAX_IDLE})
                        for size, level in (("8MiB", 6), ("2MiB", 1))]
        self.gw = Gateway(self.configs[0])
        self.addCleanup(self.gw.stop)
        self.assertEqual(request(self.gw.port, path=CACHED).status, 200)
        self.fds_before = open_fds(self.gw.proc.pid)

        self.tally, self.stop = Tally(), threading.Event()
        self.addCleanup(self.stop.set)  # a failed assertion must not leave clients running
        good = [GoodClient(self.gw.port, seed, self.tally, reference) for seed in range(6)]
        self.threads = [threading.Thread(target=g.run, args=(self.stop,)) for g in good]
        self.threads += [threading.Thread(target=hostile_client,
                                          args=(self.gw.port, 100 + i, self.tally, self.stop))
                         for i in range(4)]
        for t in self.threads:
            t.start()

    def join_clients(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60 * SLOW)
        self.assertFalse(any(t.is_alive() for t in self.threads), "a client hung")
        self.assertEqual(self.tally.failures, [], "counts so far: %r\n%s" %
                         (self.tally.counts, self.gw.stderr()[-3000:]))

    def test_good_and_hostile_clients_with_reloads(self):
        self.start()
        gw, tally = self.gw, self.tally
        reloads = 0
        deadline = time.time() + DURATION
        while time.time() < deadline and not tally.failures:
            time.sleep(1.0)
            reloads += 1
            with open(gw.config_path, "w") as f:
                f.write(self.configs[reloads % 2].replace("127.0.0.1:0", "127.0.0.1:%d" % gw.port))
            gw.proc.send_signal(signal.SIGHUP)
        self.join_clients()
        for kind in ("echo", "echo_continue", "bytes", "cached", "gzip", "pipelined", "http10", "dead",
                     "liar", "jwt", "slow", "chunked", "sink", "slow_reader", "half_close", "stamped",
                     "hostile_refused"):
            self.assertGreater(tally.counts.get(kind, 0), 0, "no %s exchange ran: %r" % (kind, tally.counts))
        self.assertTrue(gw.alive(), gw.stderr())
        self.assertEqual(len(request(gw.port, path="/bytes/77").body), 77)

        # Every client socket given back: what stays open is the rings, the
        # listeners and at most the pooled upstream connections.
        limit = self.fds_before + 2 * MAX_IDLE
        deadline = time.time() + 10 * SLOW
        while open_fds(gw.proc.pid) > limit and time.time() < deadline:
            time.sleep(0.1)
        self.assertLessEqual(open_fds(gw.proc.pid), limit)

        self.assertEqual(gw.stop(), 0, gw.stderr())
        self.assertIsNotNone(gw.stats(), gw.stderr())
        self.assertGreaterEqual(reloads, 1)
        self.assertEqual(gw.stderr().count("configuration reloaded"), reloads, gw.stderr())
        self.assertNotIn("reload failed", gw.stderr())

    def test_sigterm_in_the_middle_of_it(self):
        # A drain with every kind of exchange in flight: those under way end
        # whole (Connection: close), new connections are refused, the process
        # exits 0 well within drain_timeout, and nobody gets half an answer.
        self.start()
        time.sleep(2.0)
        self.tally.closing.set()
        self.gw.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.gw.proc.wait(timeout=30 * SLOW), 0, self.gw.stderr())
        self.join_clients()
        self.assertIsNotNone(self.gw.stats(), self.gw.stderr())


if __name__ == "__main__":
    unittest.main()
