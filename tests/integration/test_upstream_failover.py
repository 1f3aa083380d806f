"""Failover and passive health: a request whose connect fails or times out
goes to another endpoint of its upstream (any method: nothing was sent), and
an endpoint that failed max_fails connects within fail_timeout is skipped for
fail_timeout, per worker (engine/upstream/health.h)."""

import socket
import time
import unittest

from harness import (SLOW, Gateway, Origin, RawClient, ScriptedUpstream, build_request, config,
                     refusing_port, unused_port)


def named(name, port=0):
    """A keep-alive upstream that answers its own name."""
    body = name.encode()
    return ScriptedUpstream(lambda i, _: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" %
                            (len(body), body), keep_alive=True, port=port)


class Failover(unittest.TestCase):

    def setUp(self):
        self.stoppers = []

    def tearDown(self):
        for stop in reversed(self.stoppers):
            stop()

    def gateway(self, ports, **upstream):
        gw = Gateway(config(ports, upstream=upstream))
        self.stoppers.append(gw.stop)
        return gw

    def live(self, name="live"):
        u = named(name)
        self.stoppers.append(u.stop)
        return u

    def bodies(self, port, n):
        c = RawClient(port)
        out = []
        for _ in range(n):
            c.send(build_request("GET", "/x"))
            r = c.read_response()
            out.append((r.status, r.body))
        c.close()
        return out

    def test_a_dead_endpoint_fails_over_and_is_then_skipped(self):
        live = self.live()
        gw = self.gateway([refusing_port(), live.port])
        self.assertEqual(self.bodies(gw.port, 20), [(200, b"live")] * 20)
        self.assertEqual(gw.stop(), 0)
        stats = gw.stats()
        self.assertEqual(stats["upstream_failovers"], 1)
        self.assertEqual(stats["endpoints_marked_down"], 1)
        self.assertEqual(stats["local_responses"], 0)

    def test_a_body_survives_the_failover(self):
        # POST is not idempotent, but a connect that failed sent nothing.
        origin = Origin()
        self.stoppers.append(origin.stop)
        gw = self.gateway([refusing_port(), origin.port])
        body = bytes(range(256)) * 300
        c = RawClient(gw.port)
        c.send(build_request("POST", "/echo", body=body))
        r = c.read_response()
        c.close()
        self.assertEqual((r.status, r.body), (200, body))
        self.assertEqual(gw.stop(), 0)
        self.assertEqual(gw.stats()["upstream_failovers"], 1)

    def test_connect_tries_one_turns_failover_off(self):
        live = self.live()
        gw = self.gateway([refusing_port(), live.port], connect_tries=1)
        # The first pick fails (502) and marks the endpoint down; the rest go
        # to the live one.
        self.assertEqual([s for s, _ in self.bodies(gw.port, 4)], [502, 200, 200, 200])
        self.assertEqual(gw.stop(), 0)
        self.assertEqual(gw.stats()["upstream_failovers"], 0)

    def test_max_fails_zero_never_marks_down(self):
        live = self.live()
        gw = self.gateway([refusing_port(), live.port], max_fails=0)
        self.assertEqual(self.bodies(gw.port, 20), [(200, b"live")] * 20)
        self.assertEqual(gw.stop(), 0)
        stats = gw.stats()
        # Never marked down, the dead endpoint stays in the rotation; of two,
        # each request's failover pick moves the rotation back onto it.
        self.assertEqual(stats["upstream_failovers"], 20)
        self.assertEqual(stats["endpoints_marked_down"], 0)

    def test_all_endpoints_down_is_502_with_one_probe_each(self):
        gw = self.gateway([refusing_port(), refusing_port()])
        self.assertEqual([s for s, _ in self.bodies(gw.port, 3)], [502, 502, 502])
        self.assertEqual(gw.stop(), 0)
        stats = gw.stats()
        # The first request tries both; once both are down each request
        # makes one connect (is one back?) and fails without failing over.
        self.assertEqual(stats["upstream_failovers"], 1)
        self.assertEqual(stats["upstream_connects"], 4)
        self.assertEqual(stats["endpoints_marked_down"], 2)  # going down counts, probes do not

    def test_an_endpoint_is_tried_again_after_fail_timeout(self):
        first = self.live("first")
        back_port = unused_port()
        gw = self.gateway([back_port, first.port], fail_timeout="%dms" % (300 * SLOW))
        self.assertEqual(self.bodies(gw.port, 4), [(200, b"first")] * 4)
        back = named("back", back_port)
        self.stoppers.append(back.stop)
        self.assertEqual(self.bodies(gw.port, 4), [(200, b"first")] * 4)  # still marked down
        time.sleep(0.4 * SLOW)
        self.assertEqual(sorted(set(self.bodies(gw.port, 4))), [(200, b"back"), (200, b"first")])

    def test_a_connect_timeout_fails_over(self):
        # A listener whose accept queue is full drops further SYNs: the
        # gateway's connect hangs until connect_timeout.
        blackhole = socket.socket()
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(0)
        fillers = []
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(blackhole.getsockname())
            fillers.append(s)
        self.stoppers.append(lambda: [s.close() for s in fillers + [blackhole]])
        live = self.live()
        gw = self.gateway([blackhole.getsockname()[1], live.port],
                          connect_timeout="%dms" % (200 * SLOW))
        started = time.monotonic()
        self.assertEqual(self.bodies(gw.port, 3), [(200, b"live")] * 3)
        self.assertGreaterEqual(time.monotonic() - started, 0.2 * SLOW)
        self.assertEqual(gw.stop(), 0)
        stats = gw.stats()
        self.assertEqual(stats["upstream_failovers"], 1)
        self.assertEqual(stats["endpoints_marked_down"], 1)


if __name__ == "__main__":
    unittest.main()
