"""Connection limits: per-worker client limit, per-worker upstream connection
limit with its wait queue, and a connection burst larger than every pool."""

import socket
import subprocess
import time
import unittest

from harness import (SLOW, Gateway, GatewayTestCase, Origin, RawClient, build_request, config,
                     read_status)


class UpstreamQueue(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], upstream={"max_connections_per_worker": 2,
                                               "max_idle_per_worker": 2})

    def test_requests_wait_for_a_connection_slot(self):
        clients = [RawClient(self.port) for _ in range(12)]
        for c in clients:
            c.send(build_request("GET", "/delay/30"))
        for c in clients:
            self.assertEqual(c.read_response().status, 200)
            c.close()

    def test_burst_larger_than_every_pool(self):
        # Thousands of clients at once, each with a request: more than the
        # receive-buffer ring and the upstream limit. All are answered.
        conns = []
        for _ in range(1500):
            s = socket.create_connection(("127.0.0.1", self.port))
            s.sendall(build_request("GET", "/"))
            conns.append(s)
        statuses = {}
        for s in conns:
            s.settimeout(30 * SLOW)
            status = read_status(s)
            statuses[status] = statuses.get(status, 0) + 1
            s.close()
        self.assertEqual(statuses, {"200": 1500})


class UpstreamQueueTimeout(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], upstream={"max_connections_per_worker": 1,
                                               "max_idle_per_worker": 1,
                                               "connect_timeout": "%dms" % (300 * SLOW)})

    def test_queue_timeout_is_503_and_connection_kept(self):
        slow = RawClient(self.port)
        slow.send(build_request("GET", "/delay/%d" % (3000 * SLOW)))
        waiting = RawClient(self.port)
        waiting.send(build_request("GET", "/"))
        r = waiting.read_response()
        self.assertEqual(r.status, 503)
        self.assertNotEqual(r.header("Connection"), "close")
        self.assertEqual(slow.read_response().status, 200)
        waiting.send(build_request("GET", "/bytes/2"))
        self.assertEqual(len(waiting.read_response().body), 2)


class ConnectionChurn(GatewayTestCase):

    def test_close_per_request_under_load(self):
        # wrk opening a new connection for every request: fd numbers and
        # fixed-file slots are reused at full speed. Every response must
        # arrive whole (a late shutdown once hit a reused socket).
        p = subprocess.run(["wrk", "-t1", "-c50", "-d2s", "-H", "Connection: close",
                            "http://127.0.0.1:%d/" % self.port],
                           capture_output=True, text=True, timeout=60 * SLOW)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"\d+ requests in")
        self.assertNotIn("Socket errors", p.stdout)
        self.assertNotIn("Non-2xx", p.stdout)


class SendTimeout(GatewayTestCase):
    """send_timeout closes a client that takes nothing for that long, not
    one that reads slowly but steadily (a send that carries a large queue
    completes only when all of it is out)."""

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], limits={"send_timeout": "%dms" % (1000 * SLOW)})

    def client(self, path):
        # The default receive buffer: a tiny one makes TCP itself stall for
        # its persist timer's backoff (no bytes acked for a while, however
        # fast the reader), which a short send_timeout rightly cuts.
        s = socket.socket()
        s.connect(("127.0.0.1", self.port))
        s.sendall(build_request("GET", path))
        return s

    def gateway_side_open(self, client):
        """Whether the gateway's end of this client's connection is still
        open (ESTABLISHED in /proc/net/tcp): a cut client would go on
        reading what its socket holds, so only the gateway's side tells."""
        local = "%04X" % self.port
        remote = "%04X" % client.getsockname()[1]
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if (fields[1].endswith(":" + local) and fields[2].endswith(":" + remote)):
                    return fields[3] == "01"
        return False

    def test_a_slow_steady_reader_is_not_cut(self):
        # 50 MB at about 800 KB/s: the socket's send buffer fills, and each
        # send of the queued response (megabytes) then takes over a second.
        # The client's window opens in steps of ~100 KB, an eighth of a
        # second apart at this rate (a reader slower than a window per
        # send_timeout would rightly be cut).
        s = self.client("/bytes/50000000")
        got = 0
        try:
            s.settimeout(5 * SLOW)
            deadline = time.monotonic() + 4 * SLOW  # four send_timeouts
            while time.monotonic() < deadline:
                chunk = s.recv(16384)
                self.assertTrue(chunk, "cut after %d bytes" % got)
                got += len(chunk)
                time.sleep(0.02)
            self.assertTrue(self.gateway_side_open(s), "the gateway closed the client")
        finally:
            s.close()

    def test_a_client_that_stops_reading_is_closed(self):
        s = self.client("/bytes/50000000")
        try:
            s.settimeout(5 * SLOW)
            self.assertTrue(s.recv(4096))  # the response has started
            self.assertTrue(self.gateway_side_open(s))
            # Then nothing is read: closed after one or two send_timeouts.
            deadline = time.monotonic() + 10 * SLOW
            while self.gateway_side_open(s) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertFalse(self.gateway_side_open(s), "the stalled client was kept")
        finally:
            s.close()
        self.assert_alive()


class ClientLimit(GatewayTestCase):

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port], limits={"max_connections_per_worker": 5})

    def test_connections_over_the_limit_are_closed(self):
        held = [RawClient(self.port) for _ in range(5)]
        for c in held:
            c.send(build_request("GET", "/"))
            self.assertEqual(c.read_response().status, 200)
        extra = RawClient(self.port)
        self.assertTrue(extra.is_closed())
        for c in held:
            c.close()
        # Slots free up again once clients leave.
        for _ in range(50):
            try:
                c = RawClient(self.port)
                c.send(build_request("GET", "/"))
                self.assertEqual(c.read_response().status, 200)
                c.close()
                break
            except (ConnectionError, OSError):
                continue
        else:
            self.fail("no slot came back")


if __name__ == "__main__":
    unittest.main()
