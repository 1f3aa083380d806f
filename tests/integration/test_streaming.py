"""Large bodies stream through with flat memory, both ways, and slow readers
push back on fast senders instead of filling the gateway's memory."""

import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import SLOW, GatewayTestCase, RawClient, build_request, curl

MB = 1024 * 1024


class Streaming(GatewayTestCase):

    def sample_rss(self, stop, peak):
        while not stop.is_set():
            peak[0] = max(peak[0], self.gateway.rss_kib())
            time.sleep(0.02)

    def measure(self, fn):
        """Runs fn() while sampling the gateway's RSS; returns (result, growth KiB)."""
        base = self.gateway.rss_kib()
        stop, peak = threading.Event(), [base]
        t = threading.Thread(target=self.sample_rss, args=(stop, peak))
        t.start()
        try:
            result = fn()
        finally:
            stop.set()
            t.join()
        return result, peak[0] - base

    def test_100mb_download_flat_memory(self):
        url = "http://127.0.0.1:%d/bytes/%d" % (self.port, 100 * MB)
        p, growth = self.measure(lambda: curl("-o", "/dev/null", "-w", "%{size_download}", url))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(int(p.stdout), 100 * MB)
        # Memory is bounded by buffers in flight (a few MiB), not the body size.
        self.assertLess(growth, 48 * 1024, "RSS grew by %d KiB" % growth)

    def test_100mb_upload_flat_memory(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(os.urandom(MB) * 100)
            f.flush()
            url = "http://127.0.0.1:%d/sink" % self.port
            p, growth = self.measure(
                lambda: curl("--data-binary", "@" + f.name, "-H", "Expect:", url))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), str(100 * MB).encode())
        self.assertLess(growth, 48 * 1024, "RSS grew by %d KiB" % growth)

    def test_chunked_upload_echo(self):
        data = os.urandom(3 * MB + 17)
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            p = curl("-H", "Transfer-Encoding: chunked", "-H", "Expect:", "--data-binary",
                     "@" + f.name, "http://127.0.0.1:%d/echo" % self.port)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, data)

    def test_idle_worker_returns_buffer_pages(self):
        base = self.gateway.rss_kib()
        url = "http://127.0.0.1:%d/bytes/%d" % (self.port, 50 * MB)
        self.assertEqual(curl("-o", "/dev/null", url).returncode, 0)
        # Once quiet for a second, the worker hands its receive buffers' pages
        # back: resident memory follows traffic, not its history.
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and self.gateway.rss_kib() > base + 4096:
            time.sleep(0.2)
        self.assertLessEqual(self.gateway.rss_kib(), base + 4096)

    def test_slow_reader_backpressure(self):
        # A client that does not read: the gateway must stop reading the
        # origin rather than buffer 200 MB.
        c = RawClient(self.port)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        c.send(build_request("GET", "/bytes/%d" % (200 * MB)))
        time.sleep(1.0 * SLOW)
        rss = self.gateway.rss_kib()
        self.assertLess(rss, 64 * 1024, "RSS %d KiB with a stalled reader" % rss)
        # Other clients are served meanwhile.
        self.assert_alive()
        c.close()

    def test_origin_closing_after_its_response_loses_no_tail(self):
        # An HTTP/1.0 request goes upstream as HTTP/1.0, so the origin closes
        # right after each response (RFC 9112 9.6 lets it). A slow reader
        # keeps the body's tail queued in the gateway when that close
        # arrives: the tail must still be delivered, whole.
        size = 8 * MB
        for _ in range(3):
            c = RawClient(self.port)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
            c.send(build_request("GET", "/bytes/%d" % size, version="1.0"))
            time.sleep(0.3 * SLOW)
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(len(r.body), size)
            self.assertTrue(c.is_closed())
            c.close()

    def test_parallel_large_transfers(self):
        url = "http://127.0.0.1:%d/bytes/%d" % (self.port, 20 * MB)
        procs = [subprocess.Popen(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}", url],
                                  stdout=subprocess.PIPE) for _ in range(4)]
        for p in procs:
            out, _ = p.communicate(timeout=120 * SLOW)
            self.assertEqual(int(out), 20 * MB)


if __name__ == "__main__":
    unittest.main()
