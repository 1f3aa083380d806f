"""ringway-tune (tuning/): the pure logic against fakes (knee search on
synthetic latency curves, SLO parsing, the sysctl check on a fake /proc/sys,
report generation, config rewriting checked by `ringway check`), the command
line's exit codes, and one short end-to-end run against the real ringway and
origin. Nothing about timing is asserted beyond "the knee is > 0"."""

import json
import math
import os
import random
import subprocess
import sys
import tempfile
import unittest

import harness

TUNING = os.path.join(harness.ROOT, "tuning")
TUNE = os.path.join(TUNING, "ringway-tune")
sys.path.insert(0, TUNING)

from ringway_tune import machine, report, search, sweep, sysctl, units, yamlcfg  # noqa: E402
from ringway_tune.runner import Bench, to_measurement  # noqa: E402
from ringway_tune.tuner import knee_dict  # noqa: E402
from ringway_tune.units import UsageError  # noqa: E402

LOAD = os.path.join(harness.BUILD, "bin", "ringway-load")
HAVE_RINGWAY = os.access(harness.RINGWAY, os.X_OK)
HAVE_ALL = HAVE_RINGWAY and os.access(harness.ORIGIN, os.X_OK) and os.access(LOAD, os.X_OK)


def ringway_check(text):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "c.yaml")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([harness.RINGWAY, "check", "--config", path], capture_output=True,
                           text=True, timeout=30)
        return p.returncode, p.stdout + p.stderr


# --------------------------------------------------------------------------
# SLO and argument parsing
# --------------------------------------------------------------------------


class ParsingTest(unittest.TestCase):
    def test_latency(self):
        self.assertEqual(units.parse_latency_us("2ms"), 2000.0)
        self.assertEqual(units.parse_latency_us("500us"), 500.0)
        self.assertEqual(units.parse_latency_us("1.5ms"), 1500.0)
        self.assertEqual(units.parse_latency_us("0.25s"), 250000.0)
        self.assertEqual(units.parse_latency_us(" 3 ms "), 3000.0)
        for bad in ("2", "ms", "-1ms", "0ms", "2 hours", "1e3us", ""):
            with self.assertRaises(UsageError, msg=bad):
                units.parse_latency_us(bad)

    def test_error_budget(self):
        self.assertAlmostEqual(units.parse_fraction("0.1%"), 0.001)
        self.assertEqual(units.parse_fraction("0%"), 0.0)
        self.assertAlmostEqual(units.parse_fraction("5%"), 0.05)
        for bad in ("0.1", "101%", "-1%", "%", "one%"):
            with self.assertRaises(UsageError, msg=bad):
                units.parse_fraction(bad)

    def test_durations_rates_lists(self):
        self.assertEqual(units.parse_duration_s("3s", "--probe"), 3.0)
        self.assertEqual(units.parse_duration_s("500ms", "--probe"), 0.5)
        self.assertEqual(units.parse_duration_s("2", "--probe"), 2.0)
        with self.assertRaises(UsageError):
            units.parse_duration_s("3x", "--probe")
        self.assertEqual(units.parse_rate("5000", "r"), 5000)
        self.assertEqual(units.parse_rate("20k", "r"), 20000)
        self.assertEqual(units.parse_rate("1.5M", "r"), 1.5e6)
        with self.assertRaises(UsageError):
            units.parse_rate("0", "r")
        self.assertEqual(units.parse_int_list("1,2,4", "w"), [1, 2, 4])
        self.assertEqual(units.parse_int_list("1-3,8", "w"), [1, 2, 3, 8])
        for bad in ("0", "a", "3-1", ""):
            with self.assertRaises(UsageError):
                units.parse_int_list(bad, "w")

    def test_cpu_plan(self):
        self.assertEqual(units.default_plan([0, 1]),
                         {"proxy": [0], "origin": [1], "load": [1]})
        self.assertEqual(units.default_plan([0]), {"proxy": [0], "origin": [0], "load": [0]})
        p = units.default_plan(list(range(8)))
        self.assertEqual(p["proxy"], [0, 1, 2, 3])
        self.assertFalse(set(p["proxy"]) & (set(p["origin"]) | set(p["load"])))
        self.assertEqual(units.parse_plan("proxy=0,origin=1,load=1", [0, 1]),
                         {"proxy": [0], "origin": [1], "load": [1]})
        self.assertEqual(units.parse_plan("proxy=0-1,wrk=2", [0, 1, 2, 3])["proxy"], [0, 1])
        self.assertEqual(units.parse_plan("proxy=0,1", [0, 1, 2])["proxy"], [0, 1])
        for bad in ("cpu=0", "0", "proxy=9"):
            with self.assertRaises(UsageError, msg=bad):
                units.parse_plan(bad, [0, 1])
        w = units.plan_warnings({"proxy": [0], "origin": [1], "load": [1]}, [1, 2])
        self.assertTrue(any("share a CPU" in x for x in w))
        self.assertTrue(any("exceed" in x for x in w))


class MachineTest(unittest.TestCase):
    def test_stamped_folder_and_busy_warning(self):
        import datetime
        m = {"cpu_model": "AMD EPYC 7B13 64-Core Processor", "cores": 2,
             "kernel": "6.1.0-18-amd64", "load_average_at_start": 0.2}
        with tempfile.TemporaryDirectory() as d:
            now = datetime.datetime(2025, 3, 1, 14, 15, 0)
            p = machine.stamp_dir(d, m, now)
            self.assertEqual(os.path.basename(p),
                             "20250301-141500_amd-epyc-7b13-64-core-processor_2c_6.1.0-18-amd64")
            os.makedirs(p)
            self.assertTrue(machine.stamp_dir(d, m, now).endswith("-2"))
        self.assertIsNone(machine.busy_warning(m))
        self.assertIn("other work", machine.busy_warning(dict(m, load_average_at_start=2.5)))
        info = machine.machine_info()
        for key in ("cpu_model", "cores", "kernel", "usable_cpus"):
            self.assertTrue(info[key], key)


# --------------------------------------------------------------------------
# The knee search against synthetic latency curves
# --------------------------------------------------------------------------


SLO = search.Slo(p99_us=2000.0, error_frac=0.001)


def queue_curve(capacity, base_us=100.0):
    """p99 = base / (1 - rate/capacity): flat, then a hockey stick; above
    capacity the server falls behind (errors, rate not delivered)."""
    def p99(rate):
        x = rate / capacity
        return base_us / (1.0 - x) if x < 1 else 1e7
    true_knee = capacity * (1.0 - base_us / SLO.p99_us)
    return p99, true_knee


def fake_measure(p99_fn, capacity, noise=None, calls=None):
    def measure(rate):
        if calls is not None:
            calls.append(rate)
        p99 = p99_fn(rate)
        if noise:
            p99 = noise(p99)
        over = rate > capacity
        return search.Measurement(rate=rate, achieved=capacity if over else rate, p99_us=p99,
                                  error_frac=0.05 if over else 0.0)
    return measure


class KneeSearchTest(unittest.TestCase):
    def assert_within(self, knee, true_knee, tol, slack=0.0):
        self.assertLessEqual(knee, true_knee * (1 + slack) + 1, (knee, true_knee))
        self.assertGreaterEqual(knee, true_knee / (1 + tol) * (1 - slack) - 1, (knee, true_knee))

    def test_monotone_curves_land_within_tolerance(self):
        for capacity in (1234.0, 8000.0, 52000.0, 987654.0):
            for tol in (0.05, 0.02):
                p99, true_knee = queue_curve(capacity)
                r = search.find_knee(fake_measure(p99, capacity), SLO, start=1000,
                                     max_rate=5e6, tol=tol)
                self.assertTrue(r.found)
                self.assertFalse(r.capped)
                self.assert_within(r.knee, true_knee, tol)
                self.assertLessEqual(r.first_bad / r.knee - 1, tol + 1e-9)
                self.assertIsNotNone(r.at_knee)
                self.assertLessEqual(r.at_knee.p99_us, SLO.p99_us)

    def test_start_above_the_knee_steps_down(self):
        p99, true_knee = queue_curve(900.0)
        r = search.find_knee(fake_measure(p99, 900.0), SLO, start=20000, max_rate=1e6)
        self.assert_within(r.knee, true_knee, 0.05)
        self.assertEqual(r.probes[0].rate, 20000)

    def test_capped_at_max_rate(self):
        p99, _ = queue_curve(1e6)
        calls = []
        r = search.find_knee(fake_measure(p99, 1e6, calls=calls), SLO, start=1000,
                             max_rate=5000)
        self.assertTrue(r.capped)
        self.assertEqual(r.knee, 5000)
        self.assertIsNone(r.first_bad)
        self.assertLessEqual(max(calls), 5000)
        self.assertEqual(calls, [1000, 2000, 4000, 5000])

    def test_never_good(self):
        r = search.find_knee(lambda rate: search.Measurement(rate, rate, 1e6, 0.0), SLO,
                             start=1000, max_rate=1e6, retries=0)
        self.assertFalse(r.found)
        self.assertEqual(r.knee, 0)
        self.assertIsNone(r.at_knee)
        self.assertGreaterEqual(min(p.rate for p in r.probes), 1000 / 64)

    def test_errors_and_delivered_rate_break_the_slo(self):
        ok = search.Measurement(1000, 1000, 500, 0.0)
        self.assertEqual(SLO.judge(ok), (True, ""))
        self.assertFalse(SLO.judge(search.Measurement(1000, 1000, 500, 0.002))[0])
        self.assertIn("errors", SLO.judge(search.Measurement(1000, 1000, 500, 0.002))[1])
        self.assertIn("achieved", SLO.judge(search.Measurement(1000, 800, 500, 0.0))[1])
        self.assertIn("p99", SLO.judge(search.Measurement(1000, 1000, 2500, 0.0))[1])
        # error-driven knee: errors appear above 3000 req/s, latency stays low
        r = search.find_knee(lambda rate: search.Measurement(
            rate, rate, 100, 0.0 if rate <= 3000 else 0.01), SLO, start=500, max_rate=1e5)
        self.assert_within(r.knee, 3000, 0.05)

    def test_noisy_curve_with_interference_spikes(self):
        """+-10% latency noise and, 10% of the time, a 5x spike (another
        tenant); with 2 retries (best of 3) the knee still lands close."""
        capacity = 20000.0
        p99, true_knee = queue_curve(capacity, base_us=100.0)
        for seed in range(20):
            rng = random.Random(seed)

            def noise(v):
                v *= rng.uniform(0.9, 1.1)
                return v * 5 if rng.random() < 0.1 else v
            r = search.find_knee(fake_measure(p99, capacity, noise=noise), SLO, start=1000,
                                 max_rate=1e6, tol=0.05, retries=2)
            self.assert_within(r.knee, true_knee, 0.05, slack=0.02)

    def test_transient_failure_is_retried(self):
        """Every rate fails on its first attempt; retries=1 still finds it."""
        p99, true_knee = queue_curve(10000.0)
        seen = set()

        def flaky(rate):
            m = fake_measure(p99, 10000.0)(rate)
            if rate not in seen:
                seen.add(rate)
                m.p99_us = 1e6
            return m
        r = search.find_knee(flaky, SLO, start=1000, max_rate=1e6, retries=1)
        self.assert_within(r.knee, true_knee, 0.05)
        self.assertTrue(any(p.attempt == 1 for p in r.probes))

    def test_non_monotone_keeps_the_invariant(self):
        """A bad dip below the knee: the result is still a measured good rate
        with a measured bad rate within tolerance above it."""
        def measure(rate):
            bad = 3000 <= rate <= 3500 or rate > 12000
            return search.Measurement(rate, rate, 5000 if bad else 200, 0.0)
        r = search.find_knee(measure, SLO, start=1000, max_rate=1e6, retries=0)
        good = {p.rate for p in r.probes if p.ok}
        bad = {p.rate for p in r.probes if not p.ok}
        self.assertIn(r.knee, good)
        self.assertIn(r.first_bad, bad)
        self.assertLessEqual(r.first_bad / r.knee - 1, 0.05 + 1e-9)

    def test_progress_callback_and_bad_parameters(self):
        seen = []
        p99, _ = queue_curve(5000.0)
        search.find_knee(fake_measure(p99, 5000.0), SLO, start=1000, max_rate=1e6,
                         on_probe=lambda p, lo, hi: seen.append((p.rate, lo, hi)))
        self.assertGreater(len(seen), 3)
        self.assertEqual(seen[0], (1000, None, None))
        with self.assertRaises(ValueError):
            search.find_knee(lambda r: None, SLO, start=1, max_rate=2, factor=1.0)

    def test_repeated_runs_keep_the_best_and_the_spread(self):
        runs = []
        for capacity in (8000.0, 12000.0):
            p99, _ = queue_curve(capacity)
            runs.append(search.find_knee(fake_measure(p99, capacity), SLO, start=1000,
                                         max_rate=1e6))
        d = knee_dict(2, runs)
        self.assertEqual(d["knee_rps"], runs[1].knee)
        self.assertEqual(d["runs_rps"], [runs[0].knee, runs[1].knee])
        self.assertEqual(len(d["probes"]), len(runs[0].probes) + len(runs[1].probes))
        self.assertEqual(d["per_worker_rps"], round(runs[1].knee / 2, 1))
        self.assertEqual(d["p99_us_at_knee"], runs[1].at_knee.p99_us)
        self.assertEqual(knee_dict(1, runs[0])["runs_rps"], [runs[0].knee])
        self.assertEqual(d["p99_floor_us"], min(p.m.p99_us for r in runs for p in r.probes))

    def test_measurement_from_load_json(self):
        j = {"rate": 990.0, "requests": 990, "scheduled": 1000, "unsent": 4, "errors": 2,
             "timeouts": 1, "status": {"200": 987, "503": 3},
             "latency_us": {"p50": 80, "p90": 100, "p99": 1500, "p999": 3000, "max": 4000}}
        m = to_measurement(1000, j, window=2.0, wall=2.1, proxy_cpu=0.5, load_cpu=0.2)
        self.assertEqual(m.p99_us, 1500)
        self.assertAlmostEqual(m.error_frac, (2 + 1 + 4 + 3) / 1000)
        self.assertEqual(m.extra["proxy_cpu_pct"], 25.0)
        self.assertAlmostEqual(m.extra["proxy_cpu_us_per_req"], 0.5e6 / (990 * 2.0), places=1)
        self.assertAlmostEqual(m.achieved, 990.0)
        empty = to_measurement(1000, {"scheduled": 0, "latency_us": {}})
        self.assertEqual(empty.error_frac, 1.0)
        # One answer late in the drain stretches ringway-load's duration (so
        # its `rate`, 63 here) but not what was delivered: every request of
        # the schedule was answered.
        late = {"rate": 62.9, "requests": 100, "scheduled": 100, "status": {"200": 100},
                "latency_us": {"p99": 1500}}
        m = to_measurement(100, late, window=1.0)
        self.assertEqual(m.achieved, 100.0)
        self.assertAlmostEqual(m.extra["requests"], 100)
        self.assertEqual(SLO.judge(m), (True, ""))
        # The SLO is checked on every scheduled request, the unanswered ones
        # at how long they had waited, where ringway-load gives that.
        j["latency_all_us"] = dict(j["latency_us"], p99=9000, max=2_000_000)
        m = to_measurement(1000, j)
        self.assertEqual((m.p99_us, m.extra["max_us"]), (9000, 2_000_000))

    def test_load_arguments_keep_their_digits(self):
        # "%g" kept 6 digits: 1414214 req/s went out as 1.41421e+06.
        opts = {"probe_s": 2.5, "warmup_s": 1, "connections": 64, "load_threads": 2,
                "request_timeout_s": 2, "path": "/x"}
        b = Bench({"load": "ringway-load"}, {}, opts, workdir=tempfile.gettempdir())
        argv = b.load_argv(1414214.5, 8080)
        self.assertEqual(argv[argv.index("--rate") + 1], "1414214.5")
        self.assertEqual(argv[argv.index("--duration") + 1], "2.5s")
        self.assertEqual(argv[-1], "http://127.0.0.1:8080/x")

    def test_error_pages_and_connect_retries(self):
        # 4xx answers are failures too (a 404 or 429 page is not capacity);
        # failed connect attempts are not requests: what they kept from being
        # sent is counted once, as unsent.
        j = {"rate": 900.0, "requests": 950, "scheduled": 1000, "unsent": 50, "errors": 30,
             "errors_by_kind": {"connect": 25, "read": 5, "write": 0, "parse": 0}, "timeouts": 0,
             "status": {"200": 900, "404": 40, "429": 10}, "latency_us": {"p99": 100}}
        m = to_measurement(1000, j)
        self.assertAlmostEqual(m.error_frac, (5 + 50 + 40 + 10) / 1000)
        self.assertEqual(m.extra["status_4xx"], 50)


# --------------------------------------------------------------------------
# Kernel settings against a fake /proc/sys
# --------------------------------------------------------------------------


def fake_proc_sys(root, values):
    for name, value in values.items():
        path = os.path.join(root, *name.split("."))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(value + "\n")


class SysctlTest(unittest.TestCase):
    def test_flags_values_below_the_profile(self):
        with tempfile.TemporaryDirectory() as root:
            fake_proc_sys(root, {
                "net.core.somaxconn": "4096",
                "net.ipv4.tcp_max_syn_backlog": "262144",
                "net.ipv4.ip_local_port_range": "32768\t60999",
                "net.ipv4.tcp_tw_reuse": "2",
                "fs.file-max": "9223372036854775807",
                "net.core.rmem_max": "212992",
                "net.core.wmem_max": "33554432",
                "net.ipv4.tcp_rmem": "4096\t131072\t6291456",
                "net.ipv4.tcp_wmem": "4096\t16384\t33554432",
                "net.core.busy_poll": "50",
                "net.core.default_qdisc": "pfifo_fast",
                "net.ipv4.tcp_congestion_control": "cubic",
            })
            res = {r.name: r for r in sysctl.check(root, nofile=(1024, 524288))}
        self.assertEqual(set(res), {r.name for r in sysctl.RULES})
        st = {n: r.status for n, r in res.items()}
        self.assertEqual(st["net.core.somaxconn"], "flag")
        self.assertEqual(st["net.ipv4.tcp_max_syn_backlog"], "ok")
        self.assertEqual(st["net.ipv4.ip_local_port_range"], "flag")
        self.assertEqual(res["net.ipv4.ip_local_port_range"].value, "32768 60999")
        self.assertEqual(st["net.ipv4.tcp_tw_reuse"], "flag")
        self.assertEqual(st["fs.file-max"], "ok")
        self.assertEqual(st["net.core.rmem_max"], "flag")
        self.assertEqual(st["net.core.wmem_max"], "ok")
        self.assertEqual(st["net.ipv4.tcp_rmem"], "flag")
        self.assertEqual(st["net.ipv4.tcp_wmem"], "ok")
        self.assertEqual(st["net.core.busy_poll"], "info")       # reported, never flagged
        self.assertEqual(st["net.core.default_qdisc"], "flag")
        self.assertEqual(st["net.ipv4.tcp_congestion_control"], "info")
        self.assertEqual(res["net.ipv4.tcp_congestion_control"].value, "cubic")
        self.assertEqual(st["net.core.busy_read"], "unavailable")  # not in the fake tree
        self.assertEqual(st["net.core.netdev_max_backlog"], "unavailable")
        self.assertEqual(st["RLIMIT_NOFILE"], "flag")
        self.assertIn("hard 524288", res["RLIMIT_NOFILE"].detail)
        cmds = "\n".join(sysctl.commands(res.values()))
        self.assertIn("sysctl -w net.core.somaxconn=65535", cmds)
        self.assertIn('sysctl -w net.ipv4.ip_local_port_range="10240 65535"', cmds)
        self.assertIn("LimitNOFILE=1048576", cmds)
        self.assertNotIn("tcp_max_syn_backlog", cmds)
        self.assertNotIn("busy_poll", cmds)
        self.assertIn("sysctl -w net.core.default_qdisc=fq", cmds)
        self.assertNotIn("tcp_congestion_control", cmds)
        for c in cmds.splitlines():     # printed for a person to run, never run here
            self.assertTrue(c.startswith(("sudo ", "#")), c)

    def test_all_good(self):
        with tempfile.TemporaryDirectory() as root:
            fake_proc_sys(root, {r.name: r.recommended for r in sysctl.RULES
                                 if r.kind != "rlimit"})
            res = sysctl.check(root, nofile=(1048576, 1048576))
        self.assertTrue(all(r.status in ("ok", "info") for r in res), res)
        self.assertEqual(sysctl.commands(res), [])

    def test_profile_file_matches_the_rules_and_comments_every_setting(self):
        with open(os.path.join(TUNING, "sysctl-edge.conf")) as f:
            text = f.read()
        conf = sysctl.parse_conf(text)
        for rule in sysctl.RULES:
            if rule.kind == "rlimit":
                self.assertIn("LimitNOFILE=%s" % rule.recommended, text)
                self.assertIn("limits.conf", text)
                continue
            self.assertEqual(conf.get(rule.name), rule.recommended, rule.name)
        # every setting belongs to a paragraph that opens with a comment
        for para in text.split("\n\n"):
            lines = [l for l in para.strip().splitlines() if l.strip()]
            if any("=" in l and not l.lstrip().startswith("#") for l in lines):
                self.assertTrue(lines[0].startswith("#"), para)


# --------------------------------------------------------------------------
# Config rewriting: every generated config passes `ringway check`
# --------------------------------------------------------------------------


ALL_KNOBS = {"engine.ring_entries": 1024, "engine.cq_entries": 4096,
             "engine.buffer_count": 256, "engine.buffer_size": 65536,
             "limits.max_connections_per_worker": 4096, "upstreams.max_idle_per_worker": 16,
             "engine.batch_wait": 150}

FLOW_CONFIG = """# flow styles the tuner must rewrite
listen: [{ address: "127.0.0.1:8080" }]
workers: auto
engine: { ring_entries: 2048, buffer_size: 8KiB, batch_wait: 1ms }
limits: {}
upstreams:
  a: { endpoints: ["127.0.0.1:9001", "127.0.0.1:9002"], max_connections_per_worker: 128 }
  b:
    endpoints:
    - 127.0.0.1:9003
    - { address: "127.0.0.1:9004", weight: 3 }
    balancer: weighted_round_robin   # keep me
    max_idle_per_worker: 8
routes:
  - match: { prefix: /b }
    upstream: b
  - match: {}
    upstream: a
"""


class ConfigOverrideTest(unittest.TestCase):
    def sources(self):
        examples = os.path.join(harness.ROOT, "config", "examples")
        with open(os.path.join(examples, "full.yaml")) as f:
            # Its key files are relative to config/examples; the checks below
            # write copies elsewhere (as the tuner does).
            full = yamlcfg.absolutise_paths(f.read(), examples)
        with open(os.path.join(harness.ROOT, "config", "examples", "quickstart.yaml")) as f:
            quick = f.read()
        return {"harness": harness.config([9001], engine={"ring_entries": 512},
                                          upstream={"max_idle_per_worker": 4}),
                "full": full, "quickstart": quick, "flow": FLOW_CONFIG}

    def test_overrides_are_applied_and_read_back(self):
        for name, text in self.sources().items():
            out = yamlcfg.build(text, workers=3, knobs=ALL_KNOBS, loopback=True,
                                endpoints=["127.0.0.1:7"])
            eff = yamlcfg.Config(out).effective()
            for k, v in ALL_KNOBS.items():
                self.assertEqual(eff[k], v, (name, k, out))
            self.assertIn("workers: 3", out)
            self.assertIn("address: 127.0.0.1:0", out)
            self.assertNotIn("9001", out, name)
            # routes are left byte for byte
            self.assertIn(text[text.index("\nroutes:"):].strip(), out, name)

    def test_generated_configs_pass_ringway_check(self):
        if not HAVE_RINGWAY:
            self.skipTest("ringway binary not built")
        for name, text in self.sources().items():
            for kw in ({"workers": 1, "loopback": True, "endpoints": ["127.0.0.1:7"]},
                       {"workers": 2, "knobs": ALL_KNOBS, "loopback": True,
                        "endpoints": ["127.0.0.1:7"]},
                       {"knobs": {"engine.ring_entries": 16384}},
                       {"knobs": {"engine.buffer_size": 4096,
                                  "upstreams.max_idle_per_worker": 0}}):
                out = yamlcfg.build(text, **kw)
                rc, msg = ringway_check(out)
                self.assertEqual(rc, 0, "%s %s: %s\n%s" % (name, kw, msg, out))

    def test_relative_key_files_are_made_absolute(self):
        text = ('filters:\n  auth:\n    jwks_file: keys/jwks.json\n'
                '    keys: [{ file: rs.pem, kid: a }, { secret_file: "/etc/hs.key" }]\n'
                "  k: { type: api_key, keys_file: 'k.yaml' }  # file: not-a-key\n")
        out = yamlcfg.absolutise_paths(text, "/srv/gw")
        self.assertIn("jwks_file: /srv/gw/keys/jwks.json\n", out)
        self.assertIn("{ file: /srv/gw/rs.pem, kid: a }", out)
        self.assertIn('secret_file: "/etc/hs.key"', out)
        self.assertIn("keys_file: '/srv/gw/k.yaml'", out)

    def test_untouched_lines_stay_and_tuned_keys_are_marked(self):
        text = self.sources()["full"]
        out = yamlcfg.build(text, knobs={"engine.ring_entries": 1024})
        self.assertIn("  ring_entries: 1024  # ringway-tune", out)
        self.assertIn("  cq_entries: 16384              # power of two", out)
        self.assertIn("- address: 0.0.0.0:8080", out)
        self.assertEqual(len(out.splitlines()), len(text.splitlines()))

    def test_effective_defaults(self):
        eff = yamlcfg.Config(self.sources()["quickstart"]).effective()
        self.assertEqual(eff["engine.ring_entries"], 4096)
        self.assertEqual(eff["engine.cq_entries"], 16384)
        self.assertEqual(eff["engine.buffer_size"], 16384)
        self.assertEqual(eff["upstreams.max_idle_per_worker"], 64)
        self.assertEqual(eff["engine.batch_wait"], 0)
        eff = yamlcfg.Config(FLOW_CONFIG).effective()
        self.assertEqual(eff["engine.buffer_size"], 8192)
        self.assertEqual(eff["engine.batch_wait"], 1000)
        self.assertEqual(eff["upstreams.max_idle_per_worker"], 8)
        self.assertEqual(eff["upstream_max_connections"], 128)

    def test_refused_shapes(self):
        base = "listen:\n  - address: 127.0.0.1:0\nupstreams:\n  o:\n    endpoints: [\"127.0.0.1:1\"]\n" \
               "routes:\n  - match: {}\n    upstream: o\n"
        bad = {
            "flow upstreams": base.replace("upstreams:\n  o:\n    endpoints: [\"127.0.0.1:1\"]\n",
                                           "upstreams: { o: { endpoints: [\"127.0.0.1:1\"] } }\n"),
            "nested engine": base + "engine:\n  ring_entries:\n    x: 1\n",
            "anchor": base + "engine: &e\n  ring_entries: 64\n",
            "no listen": base.replace("listen:\n  - address: 127.0.0.1:0\n", ""),
            "duplicate": base + "workers: 1\nworkers: 2\n",
        }
        yamlcfg.build(base, workers=1, knobs=ALL_KNOBS)   # the base itself is fine
        for name, text in bad.items():
            with self.assertRaises(yamlcfg.ConfigError, msg=name):
                yamlcfg.build(text, workers=1, knobs=ALL_KNOBS, loopback=True,
                              endpoints=["127.0.0.1:7"])

    def test_sweep_candidates(self):
        c = sweep.candidates("engine.ring_entries", 4096, (0.25, 4), {}, 1024)
        self.assertEqual(c, [1024, 16384])
        c = sweep.candidates("engine.ring_entries", 4096, (0.25, 4), {"engine.cq_entries": 8192},
                             1024)
        self.assertEqual(c, [1024])           # cq_entries must stay >= ring_entries
        c = sweep.candidates("engine.cq_entries", 16384, (0.25, 4), {}, 1024)
        self.assertEqual(c, [4096, 65536])
        c = sweep.candidates("engine.buffer_size", 16384, (0.25, 4), {}, 1024)
        self.assertEqual(c, [4096, 65536])
        c = sweep.candidates("upstreams.max_idle_per_worker", 64, (0, 0.25, 4), {}, 128)
        self.assertEqual(c, [0, 16, 128])      # capped at the upstream's max connections
        c = sweep.candidates("engine.ring_entries", 32768, (4,), {}, 1024)
        self.assertEqual(c, [])                # already at the maximum
        c = sweep.candidates("engine.batch_wait", 100, (0, 50, 100, 200), {}, 1024)
        self.assertEqual(c, [0, 50, 200])      # durations: the values themselves
        self.assertTrue(sweep.better(12000, 10000, 0.1))
        self.assertFalse(sweep.better(10500, 10000, 0.1))
        self.assertFalse(sweep.better(0, 0, 0.1))
        self.assertTrue(sweep.better(10, 0, 0.1))
        self.assertEqual([n for n, _ in sweep.plan(None, True)], list(sweep.QUICK))
        self.assertEqual([n for n, _ in sweep.plan(["engine.buffer_size"], True)],
                         ["engine.buffer_size"])
        with self.assertRaises(ValueError):
            sweep.plan(["engine.nope"], False)
        # batch_wait does nothing below Linux 6.12: not swept there by default
        self.assertIn("engine.batch_wait", [n for n, _ in sweep.plan(None, False, (6, 12))])
        self.assertNotIn("engine.batch_wait", [n for n, _ in sweep.plan(None, False, (6, 1))])
        self.assertEqual(sweep.unsupported(["engine.batch_wait", "engine.ring_entries"], (5, 15)),
                         ["engine.batch_wait"])
        self.assertEqual(machine.kernel_version("6.18.44-fc-v1272"), (6, 18))


    def test_sweep_decision_with_recheck(self):
        calls = []

        def recheck(knee):
            def fn():
                calls.append(knee)
                return knee
            return fn
        # a tie keeps the current value and measures nothing again
        self.assertEqual(sweep.decide([(1024, 10500), (16384, 9000)], 10000, 0.1,
                                      recheck(10000)), (None, 10000, None))
        self.assertEqual(calls, [])
        # a clear gain that the recheck confirms
        self.assertEqual(sweep.decide([(1024, 15000), (16384, 9000)], 10000, 0.1,
                                      recheck(10200)), (1024, 15000, 10200))
        # a "gain" that was a busy baseline: the recheck takes it back
        self.assertEqual(sweep.decide([(1024, 15000)], 5000, 0.1, recheck(14500)),
                         (None, 14500, 14500))
        self.assertEqual(sweep.decide([], 5000, 0.1), (None, 5000, None))

    def test_sweep_searches_start_on_the_baseline_grid(self):
        self.assertEqual(sweep.grid_start(1000, 2, 30643), 8000)
        self.assertEqual(sweep.grid_start(1000, 2, 0), 1000)
        self.assertEqual(sweep.grid_start(1000, 2, 1500), 1000)
        # the warm-started search probes a subset of the baseline's rates
        p99, _ = queue_curve(30000.0)
        base = search.find_knee(fake_measure(p99, 30000.0), SLO, start=1000, max_rate=1e6)
        warm = search.find_knee(fake_measure(p99, 30000.0), SLO,
                                start=sweep.grid_start(1000, 2, base.knee), max_rate=1e6)
        self.assertEqual(warm.knee, base.knee)
        self.assertTrue({p.rate for p in warm.probes} < {p.rate for p in base.probes})
        self.assertEqual(sweep.decide([(0, 0)], 0, 0.1), (None, 0, None))


# --------------------------------------------------------------------------
# Report generation from a synthetic result
# --------------------------------------------------------------------------


def synthetic_result(outdir):
    def probes(knee):
        out = []
        for rate in (1000, 2000, 4000, 8000, 16000, knee, knee * 1.04):
            ok = rate <= knee
            out.append({"rate": rate, "attempt": 0, "ok": ok, "reason": "" if ok else "p99",
                        "achieved": rate, "p99_us": 300 + (0 if ok else 5000), "error_frac": 0.0,
                        "p50_us": 100, "p999_us": 900})
        return out
    knees = [{"workers": w, "knee_rps": k, "capped": False, "first_bad_rps": k * 1.04,
              "p99_us_at_knee": 1800, "proxy_cpu_pct_at_knee": 95.0 * w,
              "proxy_cpu_us_per_req": 95.0, "per_worker_rps": k / w, "probes": probes(k)}
             for w, k in ((1, 10000.0), (2, 19000.0))]
    current = {k: spec[3] for k, spec in yamlcfg.KNOBS.items()}
    best = {"workers": 2, "knobs": dict(current, **{"engine.ring_entries": 1024}),
            "changed": {"engine.ring_entries": 1024}, "knee_rps": 21000.0}
    return {
        "tool": "ringway-tune", "version": "test", "partial": False,
        "started": "2025-01-01T00:00:00", "finished": "2025-01-01T00:10:00",
        "machine": {"cpu_model": "Test CPU", "cores": 4, "usable_cpus": "0-3",
                    "kernel": "6.1.0-test"},
        "config": {"path": "/x/ringway.yaml", "upstreams": ["origin", "api"],
                   "current": current, "origin_mode": "spawned"},
        "slo": {"p99_us": 2000.0, "error_frac": 0.001, "min_achieved": 0.9},
        "method": {"probe_s": 3, "warmup_s": 1, "connections": 64, "load_threads": 1,
                   "start_rate": 1000, "max_rate": 1e6, "step": 2, "tolerance": 0.05,
                   "retries": 1, "request_timeout_s": 1, "path": "/", "host": None,
                   "workers": [1, 2], "cpus": {"proxy": [0, 1], "origin": [2], "load": [3]},
                   "cpus_text": "ringway on CPU 0,1"},
        "knees": knees,
        "sweep": {"workers": 2, "min_gain": 0.1, "baseline_knee_rps": 19000.0, "steps": [
            {"knob": "engine.ring_entries", "current": 4096, "current_knee_rps": 19000.0,
             "results": [{"value": 1024, "knee_rps": 21000.0, "capped": False, "probes": 6}],
             "chosen": 1024, "changed": True, "recheck_knee_rps": 18500.0, "done": True},
            {"knob": "engine.buffer_size", "current": 16384, "current_knee_rps": 21000.0,
             "results": [{"value": 4096, "knee_rps": 0, "capped": False, "probes": 0,
                          "rejected": "fails check"}],
             "chosen": 16384, "changed": False, "recheck_knee_rps": None, "done": False}]},
        "best": best,
        "recommendation": report.recommend(knees, best, 100000.0, 2000.0, 0.7, 4, [0, 1]),
        "sysctl": [r.as_dict() for r in sysctl.check("/nonexistent", nofile=(1024, 4096))],
        "sysctl_commands": ["sudo sysctl -w net.core.somaxconn=65535"],
        "warnings": ["test warning"],
        "files": {"outdir": outdir},
    }


class ReportTest(unittest.TestCase):
    def test_recommendation_math(self):
        with tempfile.TemporaryDirectory() as d:
            r = synthetic_result(d)
        rec = r["recommendation"]
        # basis: 2 workers, tuned knee 21000 -> 10500 per core; at 70%: 7350
        self.assertEqual(rec["basis_workers"], 2)
        self.assertEqual(rec["per_core_rps"], 10500.0)
        self.assertEqual(rec["cores"], math.ceil(100000 / (10500 * 0.7)))
        self.assertEqual(rec["instances"], math.ceil(rec["cores"] / 4))
        self.assertIn("you need %d cores" % rec["cores"], rec["text"])
        self.assertIn("instances of this machine", rec["text"])
        none = report.recommend([{"workers": 1, "knee_rps": 0, "p99_floor_us": 3100}], None,
                                1000, 2000, 0.7, 2, [0])
        self.assertIsNone(none["cores"])
        self.assertIn("No probe met the SLO", none["text"])
        self.assertIn("lowest p99 seen was 3.10ms", none["text"])
        low_cpu = report.recommend([{"workers": 1, "knee_rps": 5000.0, "capped": True,
                                     "proxy_cpu_pct_at_knee": 30.0,
                                     "proxy_cpu_us_per_req": 20.0}],
                                   None, None, 2000, 0.7, 2, [0])
        self.assertEqual(low_cpu["cpu_bound_per_core_rps"], 50000.0)
        self.assertEqual(len(low_cpu["notes"]), 2)
        self.assertIn("One core sustains 5,000 req/s", low_cpu["text"])

    def test_markdown_json_yaml_and_plot(self):
        with tempfile.TemporaryDirectory() as d:
            r = synthetic_result(d)
            files = report.write_all(r, d, tuned_full_text="workers: 1\n")
            with open(files["report_md"]) as f:
                md = f.read()
            with open(files["report_json"]) as f:
                j = json.load(f)
            with open(files["tuned_yaml"]) as f:
                tuned = f.read()
            for sec in report.MD_SECTIONS:
                self.assertIn("\n## %s\n" % sec, md)
            for key in report.JSON_KEYS:
                self.assertIn(key, j)
            for key in ("workers", "knee_rps", "capped", "p99_us_at_knee", "probes"):
                self.assertIn(key, j["knees"][0])
            self.assertEqual(j["recommendation"]["cores"], r["recommendation"]["cores"])
            self.assertIn("10,000", md)
            self.assertIn("test warning", md)
            self.assertIn("| engine.ring_entries | 1024 | 21,000 | kept |", md)
            self.assertIn("19,000 (recheck: 18,500)", md)
            self.assertIn("rejected: fails check", md)
            self.assertIn("(interrupted)", md)
            self.assertIn("sysctl -w net.core.somaxconn=65535", md)
            self.assertIn("ring_entries: 1024    # changed from 4096", tuned)
            self.assertIn("buffer_count: 1024    # not swept", tuned)
            self.assertIn("buffer_size: 16KiB    # not swept", tuned)   # its step was interrupted
            self.assertIn("  api:\n    max_idle_per_worker: 64", tuned)
            self.assertTrue(os.path.exists(os.path.join(d, "capacity.dat")))
            self.assertEqual(len(report.curve_points(r["knees"][0])), 7)
            if report.shutil.which("gnuplot"):
                self.assertTrue(files.get("plot_png") and os.path.getsize(files["plot_png"]) > 0)
                self.assertIn("![p99 against offered rate](capacity.png)", md)

    def test_markdown_without_sweep_or_plot(self):
        with tempfile.TemporaryDirectory() as d:
            r = synthetic_result(d)
            r["sweep"] = None
            r["partial"] = True
            md = report.markdown(r)
        self.assertIn("Not run (pass --sweep", md)
        self.assertIn("gnuplot not found", md)
        self.assertIn("Partial run", md)


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------


def tune(*args, env=None, timeout=50):
    return subprocess.run([sys.executable, TUNE] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.config = os.path.join(self.dir.name, "ringway.yaml")
        with open(self.config, "w") as f:
            f.write(harness.config([9001]))

    def tearDown(self):
        self.dir.cleanup()

    def test_bad_arguments_exit_2(self):
        for args, needle in ((["--config", self.config, "--slo-p99", "2"], "--slo-p99"),
                             (["--config", self.config, "--slo-errors", "0.1"], "--slo-errors"),
                             (["--config", self.config, "--workers", "0"], "--workers"),
                             (["--config", self.config, "--cpus", "gpu=0"], "--cpus"),
                             (["--config", self.config, "--step", "1"], "--step"),
                             (["--config", self.config, "--knobs", "engine.x"], "--knobs"),
                             (["--config", self.config, "--start-rate", "9k", "--max-rate", "1k"],
                              "--max-rate"),
                             (["--config", os.path.join(self.dir.name, "nope.yaml")], "no such"),
                             (["--slo-p99", "2ms"], "--config"),
                             (["--config", self.config, "--bogus"], "unrecognized")):
            p = tune(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(needle, p.stderr, args)
            self.assertNotIn("Traceback", p.stderr)

    def test_missing_binaries_exit_2(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("RINGWAY_BIN", "RINGWAY_ORIGIN_BIN", "RINGWAY_LOAD_BIN")}
        p = tune("--config", self.config, "--build-dir", os.path.join(self.dir.name, "nobuild"),
                 env=env)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("not found", p.stderr)

    def test_config_failing_check_exits_2(self):
        if not HAVE_ALL:
            self.skipTest("binaries not built")
        with open(self.config, "w") as f:
            f.write(harness.config([9001]).replace("workers: 1", "workers: 0"))
        p = tune("--config", self.config, "--build-dir", harness.BUILD)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("ringway check", p.stderr)
        self.assertIn("workers", p.stderr)

    def test_kernel_only(self):
        with tempfile.TemporaryDirectory() as root:
            fake_proc_sys(root, {"net.core.somaxconn": "128"})
            p = tune("--kernel-only", "--proc-sys", root)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("net.core.somaxconn", p.stdout)
        self.assertIn("sudo sysctl -w net.core.somaxconn=65535", p.stdout)


# --------------------------------------------------------------------------
# End to end: real ringway, real origin, real ringway-load, tiny probes
# --------------------------------------------------------------------------


@unittest.skipUnless(HAVE_ALL, "ringway, ringway-origin or ringway-load not built")
class EndToEndTest(unittest.TestCase):
    def test_smoke(self):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "ringway.yaml")
            with open(config, "w") as f:
                f.write(harness.config([9]))     # endpoints are replaced by the tuner's origin
            out = os.path.join(d, "results")
            # a loose SLO: this asserts that the machinery works, not how fast
            # a shared machine is
            p = tune("--config", config, "--build-dir", harness.BUILD, "--out", out,
                     "--probe", "1s", "--warmup", "0.2s", "--workers", "1", "--start-rate", "1000",
                     "--max-rate", "5000", "--no-sweep", "--slo-p99", "100ms",
                     "--slo-errors", "1%", "--tolerance", "25%", "--target-rate", "20k",
                     "--quiet", timeout=45 * harness.SLOW)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            dirs = os.listdir(out)
            self.assertEqual(len(dirs), 1)
            res = os.path.join(out, dirs[0])
            for name in ("report.md", "report.json", "tuned.yaml", "tuned-config.yaml",
                         "capacity.dat"):
                self.assertTrue(os.path.exists(os.path.join(res, name)), name)
            with open(os.path.join(res, "report.json")) as f:
                j = json.load(f)
            self.assertGreater(j["knees"][0]["knee_rps"], 0)
            self.assertEqual(j["knees"][0]["workers"], 1)
            self.assertLessEqual(max(pr["rate"] for pr in j["knees"][0]["probes"]), 5000)
            self.assertIsNotNone(j["recommendation"]["cores"])
            self.assertFalse(j["partial"])
            with open(os.path.join(res, "report.md")) as f:
                md = f.read()
            for sec in report.MD_SECTIONS:
                self.assertIn("## " + sec, md)
            with open(os.path.join(res, "tuned-config.yaml")) as f:
                rc, msg = ringway_check(f.read())
            self.assertEqual(rc, 0, msg)
            self.assertIn("knee", p.stdout)

    def test_a_path_that_answers_an_error_is_refused(self):
        # Capacity for 404 pages is not what the user asked for.
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "ringway.yaml")
            with open(config, "w") as f:
                f.write(harness.config([9], routes="  - match: { prefix: /api }\n    upstream: origin\n"))
            p = tune("--config", config, "--build-dir", harness.BUILD, "--out", os.path.join(d, "r"),
                     "--probe", "1s", "--workers", "1", "--no-sweep", "--path", "/other", "--quiet",
                     timeout=45 * harness.SLOW)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertIn("GET /other through ringway answered 404", p.stderr)
            self.assertNotIn("Traceback", p.stderr)


if __name__ == "__main__":
    unittest.main()
