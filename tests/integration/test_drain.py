"""SIGTERM under load: in-flight requests finish, new connections are refused,
the process exits 0."""

import signal
import socket
import time
import unittest

from harness import SLOW, Gateway, KeepAliveLoad, Origin, RawClient, build_request, config, request


class Drain(unittest.TestCase):

    def setUp(self):
        self.origin = Origin(threads=2)
        # A long drain timeout: the tests show the drain ends because the work
        # is done, not because the timeout ran out.
        self.gw = Gateway(config([self.origin.port], workers=2,
                                 engine={"drain_timeout": "120s"}))

    def tearDown(self):
        self.gw.stop()
        self.origin.stop()

    def test_in_flight_requests_finish(self):
        # Slow requests in flight when the signal lands.
        clients = []
        for _ in range(10):
            c = RawClient(self.gw.port)
            c.send(build_request("GET", "/delay/%d" % (500 * SLOW)))
            clients.append(c)
        time.sleep(0.1 * SLOW)
        self.gw.proc.send_signal(signal.SIGTERM)
        for c in clients:
            r = c.read_response()
            self.assertEqual(r.status, 200)
            # Draining: the response tells the client not to reuse the connection.
            self.assertEqual(r.header("Connection"), "close")
            c.close()
        self.assertEqual(self.gw.proc.wait(timeout=10 * SLOW), 0)

    def test_drain_under_load(self):
        load = KeepAliveLoad(self.gw.port, threads=8, refused_ends=True)
        time.sleep(1.0 * SLOW)
        self.gw.proc.send_signal(signal.SIGTERM)
        code = self.gw.proc.wait(timeout=15 * SLOW)
        load.stop()
        self.assertEqual(code, 0)
        self.assertEqual(load.failures, [])
        self.assertGreater(load.answered, 100)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.gw.port), timeout=1)

    def test_idle_connections_closed_at_once(self):
        idle = [RawClient(self.gw.port) for _ in range(20)]
        for c in idle:
            c.send(build_request("GET", "/"))
            c.read_response()
        self.gw.proc.send_signal(signal.SIGTERM)
        # Idle keep-alive connections do not hold the drain up.
        self.assertEqual(self.gw.proc.wait(timeout=10 * SLOW), 0)
        for c in idle:
            self.assertTrue(c.is_closed())


class DrainTimeout(unittest.TestCase):
    """A request still in flight when drain_timeout runs out does not hold
    the exit up: its connection is closed and the process exits 0."""

    def test_drain_timeout_ends_stuck_requests(self):
        origin = Origin()
        gw = Gateway(config([origin.port], engine={"drain_timeout": "%dms" % (500 * SLOW)}))
        try:
            c = RawClient(gw.port)
            c.send(build_request("GET", "/delay/30000"))
            time.sleep(0.2 * SLOW)
            start = time.time()
            gw.proc.send_signal(signal.SIGTERM)
            self.assertEqual(gw.proc.wait(timeout=10 * SLOW), 0)
            self.assertGreaterEqual(time.time() - start, 0.4 * SLOW)  # it did wait
            self.assertTrue(c.is_closed())
        finally:
            gw.stop()
            origin.stop()


if __name__ == "__main__":
    unittest.main()
