"""ringway-load against the real origin and a real ringway: exact counts,
the coordinated-omission correction under a slow origin, closed loop, request
files, errors, and argument checking. Timings are never asserted absolutely;
only ratios that queueing makes large."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

LOAD = os.path.join(harness.BUILD, "bin", "ringway-load")

JSON_KEYS = ("requests", "duration_s", "rate", "target_rate", "errors", "timeouts", "status",
             "latency_us", "scheduled", "unsent", "mode", "errors_by_kind", "unanswered",
             "latency_all_us")
LATENCY_KEYS = ("p50", "p90", "p99", "p999", "p9999", "max", "mean")


def run_load(*args, timeout=30):
    """Runs ringway-load; returns the CompletedProcess (text)."""
    return subprocess.run([LOAD] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout * harness.SLOW)


def run_json(*args, timeout=30):
    proc = run_load("--json", *args, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError("ringway-load exited %d: %s" % (proc.returncode, proc.stderr))
    lines = proc.stdout.strip().splitlines()
    if len(lines) != 1:
        raise AssertionError("expected one JSON line, got %r" % proc.stdout)
    return json.loads(lines[0])


def origin_requests(port):
    """The origin's request counter (this /stats request included)."""
    r = harness.request(port, path="/stats")
    return json.loads(r.body)["requests"]


def mix_with_dir_body(d):
    """A request file whose body file is a directory."""
    os.makedirs(os.path.join(d, "adir"), exist_ok=True)
    path = os.path.join(d, "dirbody.txt")
    with open(path, "w") as f:
        f.write("POST /echo @adir\n")
    return path


class LoadToolTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(LOAD):
            raise unittest.SkipTest("ringway-load not built at %s" % LOAD)
        cls.origin = harness.Origin()

    @classmethod
    def tearDownClass(cls):
        cls.origin.stop()

    def url(self, path="/", port=None):
        return "http://127.0.0.1:%d%s" % (port or self.origin.port, path)

    def assert_shape(self, out):
        for key in JSON_KEYS:
            self.assertIn(key, out)
        for key in LATENCY_KEYS:
            self.assertIn(key, out["latency_us"])
            self.assertIn(key, out["latency_all_us"])

    def test_exact_counts_against_origin(self):
        before = origin_requests(self.origin.port)
        out = run_json("--rate", 200, "--duration", "2s", "--connections", 4, self.url())
        after = origin_requests(self.origin.port)
        self.assert_shape(out)
        self.assertEqual(out["mode"], "open")
        self.assertEqual(out["target_rate"], 200)
        # 200/s for 2 s: intended send times 0, 5 ms, ..., 1995 ms.
        self.assertEqual(out["scheduled"], 400)
        self.assertLessEqual(out["requests"], 400)
        self.assertGreaterEqual(out["requests"], 380)  # a loaded machine may leave a few unsent
        self.assertEqual(out["requests"] + out["unsent"] + out["errors"] + out["timeouts"], 400)
        self.assertEqual(out["errors"], 0)
        self.assertEqual(out["timeouts"], 0)
        self.assertEqual(out["status"], {"200": out["requests"]})
        # Every request the tool counts reached the origin, and nothing else did
        # (the second /stats counts itself).
        self.assertEqual(after - before - 1, out["requests"])
        self.assertGreater(out["duration_s"], 1.9)
        lat = out["latency_us"]
        self.assertTrue(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"]
                        <= lat["p9999"] <= lat["max"], lat)

    def test_through_ringway(self):
        gateway = harness.Gateway(harness.config([self.origin.port]))
        try:
            before = origin_requests(self.origin.port)
            out = run_json("--rate", 300, "--duration", "1s", "--connections", 6, "--threads", 2,
                           self.url("/bytes/100", gateway.port))
            after = origin_requests(self.origin.port)
        finally:
            code = gateway.stop()
        self.assertEqual(code, 0, gateway.stderr())
        self.assertEqual(out["scheduled"], 300)
        self.assertGreaterEqual(out["requests"], 285)
        self.assertEqual(out["errors"], 0)
        self.assertEqual(out["status"], {"200": out["requests"]})
        self.assertEqual(after - before - 1, out["requests"])

    def test_slow_origin_shows_corrected_tail(self):
        # One connection, 200 ms per response, 20 requests/s wanted: each
        # request waits behind the previous ones, and latency counts the wait
        # from its intended send time.
        delay_ms = 200
        out = run_json("--rate", 20, "--duration", "2s", "--connections", 1, "--timeout", "10s",
                       self.url("/delay/%d" % delay_ms))
        lat = out["latency_us"]
        self.assertGreaterEqual(out["requests"], 3)
        self.assertGreater(lat["p99"], 2 * delay_ms * 1000, lat)
        self.assertGreater(lat["max"], 2 * delay_ms * 1000, lat)
        self.assertGreaterEqual(lat["p50"], delay_ms * 1000 * 0.9, lat)
        # The backlog that could not be sent is reported, not dropped.
        self.assertEqual(out["scheduled"], 40)
        self.assertGreater(out["unsent"], 0)
        self.assertEqual(out["requests"] + out["unsent"] + out["errors"] + out["timeouts"], 40)
        # Each unanswered request is in the second distribution, at the time
        # it had waited when the run ended (from its intended time: the ones
        # due early waited long).
        self.assertEqual(out["unanswered"], out["unsent"] + out["timeouts"])
        every = out["latency_all_us"]
        self.assertGreaterEqual(every["max"], lat["max"], (every, lat))
        self.assertGreater(every["max"], 1_000_000, every)

    def test_wrk_does_not_see_the_queueing_ringway_load_does(self):
        # The same slow origin (200 ms per response, one connection): wrk sends
        # each request when the previous answer is in, so it reports the
        # service time; at 20 requests/s wanted, ringway-load reports the
        # queueing users would have seen. Only the ratio queueing makes large
        # is asserted, no absolute timing.
        wrk = shutil.which("wrk")
        if wrk is None:
            self.skipTest("wrk not installed")
        delay_ms = 200
        proc = subprocess.run([wrk, "-t1", "-c1", "-d2s", "--latency", self.url("/delay/%d" % delay_ms)],
                              capture_output=True, text=True, timeout=30 * harness.SLOW)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", proc.stdout, re.M)
        self.assertIsNotNone(m, proc.stdout)
        wrk_p99_us = float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
        out = run_json("--rate", 20, "--duration", "2s", "--connections", 1, "--timeout", "10s",
                       self.url("/delay/%d" % delay_ms))
        self.assertLess(wrk_p99_us, 2 * delay_ms * 1000, proc.stdout)
        self.assertGreater(out["latency_us"]["p99"], 2 * wrk_p99_us, (out["latency_us"], proc.stdout))

    def test_closed_loop(self):
        before = origin_requests(self.origin.port)
        out = run_json("--closed", "--duration", "1s", "--connections", 4, self.url())
        after = origin_requests(self.origin.port)
        self.assert_shape(out)
        self.assertEqual(out["mode"], "closed")
        self.assertIsNone(out["target_rate"])
        self.assertGreater(out["requests"], 100)
        self.assertEqual(out["errors"], 0)
        self.assertEqual(out["status"], {"200": out["requests"]})
        self.assertEqual(after - before - 1, out["requests"])
        self.assertGreater(out["rate"], 0)

    def test_warmup_is_not_recorded(self):
        before = origin_requests(self.origin.port)
        out = run_json("--rate", 100, "--warmup", "500ms", "--duration", "1s", "--connections", 2,
                       self.url())
        after = origin_requests(self.origin.port)
        self.assertEqual(out["scheduled"], 100)
        self.assertGreaterEqual(out["requests"], 95)
        self.assertEqual(out["requests"] + out["unsent"], 100)
        # The 50 warm-up requests reached the origin but are not in the report.
        self.assertEqual(after - before - 1, out["requests"] + 50)

    def test_warmup_backlog_is_not_counted_as_lost(self):
        # A slow origin: the warm-up's requests are still queued when the
        # measured window starts. They are not the window's: neither answers
        # nor losses (unsent, timeouts) of the report.
        out = run_json("--rate", 20, "--warmup", "500ms", "--duration", "1s", "--connections", 1,
                       "--timeout", "10s", self.url("/delay/200"))
        self.assertEqual(out["scheduled"], 20)
        self.assertEqual(out["requests"] + out["unsent"] + out["errors"] + out["timeouts"], 20, out)
        self.assertEqual(out["unanswered"], out["unsent"] + out["timeouts"])

    def test_request_file_mix_and_headers(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "mix.txt")
            with open(path, "w") as f:
                f.write("# status and body mix\n"
                        "GET /status/404\n"
                        "POST /echo Content-Type: text/plain body=\"hello there\"\n"
                        "HEAD /bytes/5000\n"
                        "GET /chunked/20000\n")
            out = run_json("--rate", 200, "--duration", "1s", "--connections", 2,
                           "-H", "X-Load: yes", "--requests", path, self.url())
        self.assertEqual(out["errors"], 0)
        self.assertEqual(out["requests"] + out["unsent"], 200)
        self.assertGreaterEqual(out["requests"], 190)
        # Lines are used round robin from the first, one in four is the 404.
        not_found = (out["requests"] + 3) // 4
        self.assertEqual(out["status"], {"200": out["requests"] - not_found, "404": not_found})

    def test_connection_refused_counts_errors(self):
        out = run_json("--rate", 50, "--duration", "500ms", "--connections", 2,
                       self.url("/", harness.refusing_port()))
        self.assertEqual(out["requests"], 0)
        self.assertGreater(out["errors"], 0)
        self.assertEqual(out["errors_by_kind"]["connect"], out["errors"])
        self.assertEqual(out["status"], {})

    def test_bodiless_statuses_with_content_length(self):
        # RFC 9110 8.6: a 304 (or 204) may carry the Content-Length its 200
        # would have; no body follows.
        for status in (b"304 Not Modified", b"204 No Content"):
            answer = b"HTTP/1.1 " + status + b"\r\nContent-Length: 1000\r\n\r\n"
            server = harness.ScriptedUpstream(lambda i, raw: answer, keep_alive=True)
            try:
                out = run_json("--rate", 50, "--duration", "1s", "--connections", 2,
                               self.url("/", server.port))
            finally:
                server.stop()
            self.assertEqual(out["requests"], 50, out)
            self.assertEqual(out["timeouts"] + out["errors"], 0, out)

    def test_a_server_that_closes_without_answering_is_not_hammered(self):
        server = harness.ScriptedUpstream(lambda i, raw: None)  # reads the request, closes
        try:
            out = run_json("--rate", 10, "--duration", "1s", "--connections", 2,
                           self.url("/", server.port))
        finally:
            server.stop()
        self.assertEqual(out["requests"], 0)
        # A retry every 50 ms per connection, not thousands.
        self.assertLess(server.connections, 200, out)

    def test_timeouts_counted_separately(self):
        out = run_json("--rate", 10, "--duration", "500ms", "--connections", 1, "--timeout",
                       "100ms", self.url("/delay/1000"))
        self.assertEqual(out["requests"], 0)
        self.assertGreater(out["timeouts"], 0)
        self.assertEqual(out["errors"], 0)
        # No answered latency; each timeout counts at least --timeout.
        self.assertEqual(out["latency_us"]["max"], 0)
        self.assertEqual(out["unanswered"], out["timeouts"] + out["unsent"])
        self.assertGreaterEqual(out["latency_all_us"]["p50"], 100_000, out["latency_all_us"])

    def test_table_output(self):
        proc = run_load("--rate", 100, "--duration", "300ms", "--connections", 1, self.url())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("requests", proc.stdout)
        self.assertIn("p99.9", proc.stdout)
        self.assertRegex(proc.stdout, r"200: \d+")

    def test_bad_arguments_exit_2(self):
        with tempfile.TemporaryDirectory() as d:
            bad_file = os.path.join(d, "bad.txt")
            with open(bad_file, "w") as f:
                f.write("GET /\nGET no-slash\n")
            cases = [
                ([], "missing URL"),
                (["--rate", 10, "https://127.0.0.1:1/"], "http://"),
                (["--rate", 0, "http://127.0.0.1:1/"], "--rate"),
                (["http://127.0.0.1:1/"], "--rate"),
                (["--rate", 10, "--duration", "soon", "http://127.0.0.1:1/"], "duration"),
                (["--rate", 10, "--requests", os.path.join(d, "missing.txt"),
                  "http://127.0.0.1:1/"], "cannot read request file"),
                (["--rate", 10, "--requests", bad_file, "http://127.0.0.1:1/"], bad_file + ":2:"),
                (["--rate", 10, "http://example.com/"], "IP literal"),
                (["--rate", 10, "--frobnicate", "http://127.0.0.1:1/"], "unknown option"),
                (["--rate", "1e12", "http://127.0.0.1:1/"], "--rate must be at most"),
                (["--rate", 10, "http://127.0.0.1:1/caf\u00e9"], "non-ASCII"),
                (["--rate", 10, "--requests", mix_with_dir_body(d), "http://127.0.0.1:1/"],
                 "Is a directory"),
            ]
            for args, message in cases:
                proc = run_load(*args)
                self.assertEqual(proc.returncode, 2, (args, proc.stderr))
                self.assertIn(message, proc.stderr, args)
                self.assertTrue(proc.stderr.startswith("ringway-load: "), proc.stderr)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
                self.assertEqual(proc.stdout, "")

    def test_help(self):
        proc = run_load("--help")
        self.assertEqual(proc.returncode, 0)
        self.assertIn("--rate", proc.stdout)


if __name__ == "__main__":
    unittest.main()
