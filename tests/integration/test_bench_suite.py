"""bench/run.py's and bench/scaling.py's pure parts (both run end to end as
the bench_smoke and scaling_smoke ctest entries): choosing the open-loop pass
to report, parsing wrk's output, CPU accounting from /proc, open-loop rates,
the report tables (results, ratios, idle memory, filter scenarios), CPU plans
per worker count, scaling efficiency."""

import importlib.util
import os
import sys
import unittest
from unittest import mock

import harness

_spec = importlib.util.spec_from_file_location("bench_run", os.path.join(harness.ROOT, "bench", "run.py"))
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_run"] = bench  # dataclasses look their module up
_spec.loader.exec_module(bench)


_spec2 = importlib.util.spec_from_file_location("bench_scaling",
                                                os.path.join(harness.ROOT, "bench", "scaling.py"))
scaling = importlib.util.module_from_spec(_spec2)
_spec2.loader.exec_module(scaling)


def ol(p99, p50=100, error=None):
    r = {"target_rate": 1000, "requests": 100, "latency_us": {"p50": p50, "p99": p99, "p999": p99 * 2}}
    if error:
        r["error"] = error
    return r


class MedianPass(unittest.TestCase):

    def test_one_pass_is_itself(self):
        one = ol(500)
        self.assertIs(bench.median_pass([one]), one)

    def test_the_median_p99_pass_is_reported_whole(self):
        chosen = bench.median_pass([ol(900, p50=1), ol(300, p50=2), ol(600, p50=3)])
        self.assertEqual(chosen["latency_us"]["p99"], 600)
        self.assertEqual(chosen["latency_us"]["p50"], 3)  # from the same pass
        self.assertEqual(chosen["p99_passes_us"], [900, 300, 600])

    def test_even_count_takes_the_lower_middle_and_failures_rank_last(self):
        chosen = bench.median_pass([ol(700), ol(0, error="boom"), ol(400), ol(500)])
        self.assertEqual(chosen["latency_us"]["p99"], 500)
        self.assertEqual(chosen["p99_passes_us"], [700, None, 400, 500])
        failed = bench.median_pass([ol(0, error="a"), ol(0, error="b")])
        self.assertIn("error", failed)

    def test_the_table_cell_says_how_many_passes(self):
        _, cell = bench.fmt_ol(bench.median_pass([ol(300), ol(400), ol(500)]))
        self.assertIn("(median p99 of 3)", cell)


# A real wrk run (bench/results/20261206-154909-*/logs/wrk-cache_hit-ringway.txt,
# the warm-up), as run_tool hands it to parse_wrk.
WRK_REAL = """Running 2s test @ http://127.0.0.1:43071/bytes/1024?header=Cache-Control:max-age%3D3600
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   321.72us  124.22us   3.99ms   97.41%
    Req/Sec    80.86k     1.36k   83.56k    71.43%
  Latency Distribution
     50%  310.00us
     75%  335.00us
     90%  362.00us
     99%  617.00us
  168751 requests in 2.10s, 198.75MB read
Requests/sec:  80292.73
Transfer/sec:     94.57MB
"""

# The same run's layout with the lines wrk adds when things go wrong
# (wrk.c: "Socket errors: connect %d, read %d, write %d, timeout %d",
# "Non-2xx or 3xx responses: %d"), other units, no Transfer line.
WRK_TROUBLE = """Running 1m test @ http://127.0.0.1:40000/
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.50ms    1.10ms   1.20s    90.00%
    Req/Sec    10.00k     1.00k   12.00k    70.00%
  Latency Distribution
     50%    1.25ms
     75%    2.00ms
     90%    3.50ms
     99%    1.20s
  1200000 requests in 1.00m, 0.91GB read
  Socket errors: connect 1, read 12, write 3, timeout 7
  Non-2xx or 3xx responses: 42
Requests/sec:  20000.50
"""


class ParseWrk(unittest.TestCase):

    def test_a_real_run(self):
        w = bench.parse_wrk(WRK_REAL)
        self.assertEqual(w, {
            "requests": 168751,
            "elapsed_s": 2.1,
            "bytes_read": 198.75 * 1024 * 1024,  # wrk's MB are MiB
            "rps": 80292.73,
            "non2xx": 0,
            "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0},
            "latency_us": {"p50": 310.0, "p75": 335.0, "p90": 362.0, "p99": 617.0},
        })

    def test_errors_non_2xx_and_other_units(self):
        w = bench.parse_wrk(WRK_TROUBLE)
        self.assertEqual(w["requests"], 1200000)
        self.assertEqual(w["elapsed_s"], 60.0)
        self.assertEqual(w["bytes_read"], 0.91 * 1024 ** 3)
        self.assertEqual(w["rps"], 20000.5)
        self.assertEqual(w["non2xx"], 42)
        self.assertEqual(w["socket_errors"], {"connect": 1, "read": 12, "write": 3, "timeout": 7})
        # The Thread Stats "Latency ... 1.20s" line is not a percentile.
        self.assertEqual(w["latency_us"], {"p50": 1250.0, "p75": 2000.0, "p90": 3500.0, "p99": 1200000.0})

    def test_output_without_results_gives_zeros(self):
        self.assertEqual(bench.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n"), {
            "requests": 0, "rps": 0.0, "non2xx": 0,
            "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0},
            "latency_us": {}})


def stat_line(pid, comm, ppid, utime, stime):
    """A /proc/PID/stat line: pid (comm) state ppid pgrp session tty tpgid
    flags minflt cminflt majflt cmajflt utime stime cutime cstime ..."""
    return f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 100 0 0 0 {utime} {stime} 999 888 20 0 1 0\n"


class CpuTicks(unittest.TestCase):
    """cpu_ticks over a fake /proc; cpu_seconds_between in CLK_TCK units."""

    PROC = {
        100: stat_line(100, "nginx", 1, 250, 50),
        101: stat_line(101, "nginx: worker (x) ) S 7", 100, 1000, 300),  # spaces, parens
        102: stat_line(102, "sh", 101, 7, 3),   # grandchild
        200: stat_line(200, "other", 1, 5000, 5000),  # not in the tree
    }

    def fake_open(self, path, *a, **kw):
        pid = int(path.split("/")[2])
        if pid not in self.PROC:
            raise FileNotFoundError(path)
        return mock.mock_open(read_data=self.PROC[pid])()

    def test_utime_plus_stime_of_the_whole_tree(self):
        with mock.patch("os.listdir", return_value=["100", "101", "102", "200", "self", "300"]), \
                mock.patch.object(bench, "open", self.fake_open, create=True):
            self.assertEqual(sorted(bench.proc_tree(100)), [100, 101, 102])
            self.assertEqual(bench.cpu_ticks(100), {100: 300, 101: 1300, 102: 10})
            self.assertEqual(bench.cpu_ticks(102), {102: 10})

    def test_seconds_between_counts_new_processes_from_zero(self):
        before = {100: 300, 101: 1300}
        after = {100: 350, 101: 1400, 102: 50}  # 102 started during the run
        with mock.patch.object(bench, "CLK_TCK", 100):
            self.assertEqual(bench.cpu_seconds_between(before, after), 2.0)
        with mock.patch.object(bench, "CLK_TCK", 250):
            self.assertEqual(bench.cpu_seconds_between(before, after), 0.8)
        self.assertEqual(bench.cpu_seconds_between(before, after), 200 / os.sysconf("SC_CLK_TCK"))
        self.assertEqual(bench.cpu_seconds_between({}, {}), 0.0)

    def test_this_process_is_in_its_own_tree(self):
        ticks = bench.cpu_ticks(os.getpid())
        with open(f"/proc/{os.getpid()}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        self.assertEqual(sorted(ticks)[0], os.getpid())
        self.assertGreaterEqual(ticks[os.getpid()], int(fields[11]) + int(fields[12]))


class OpenLoopRates(unittest.TestCase):
    SC = [bench.SCENARIO_BY_NAME[n] for n in ("small_get", "idle_10k", "new_conn")]
    ROWS = {
        ("small_get", "ringway"): {"rps": 40000.0},
        ("small_get", "fwd"): {"rps": 36311.0},
        ("small_get", "nginx"): {"rps": 1000.0, "error": "12 non-2xx/3xx responses"},
        ("small_get", "haproxy"): {"rps": 500.0},  # not among the peers
        ("idle_10k", "ringway"): {"rps": 1000.0},  # no open loop for idle_10k
        ("new_conn", "ringway"): {"rps": 0.0},
        ("new_conn", "fwd"): {"error": "no requests completed"},
    }
    PEERS = ["ringway", "nginx", "fwd"]

    def test_nice_rate_rounds_down_to_3_significant_digits(self):
        self.assertEqual([bench.nice_rate(x) for x in (18154, 18155.5, 1234567, 999.9, 100, 7.7, 0.1234, 0, -5)],
                         [18100.0, 18100.0, 1230000.0, 999.0, 100.0, 7.0, 0.123, 0.0, 0.0])

    def test_common_half_of_the_slowest_healthy_peer(self):
        how = "50% of the slowest peer's closed-loop req/s (fwd: 36,311), same for all peers"
        self.assertEqual(bench.open_loop_rates("common", 0.5, self.SC, self.PEERS, self.ROWS),
                         {("small_get", "ringway"): (18100.0, how), ("small_get", "fwd"): (18100.0, how)})

    def test_peer_half_of_its_own(self):
        self.assertEqual(bench.open_loop_rates("peer", 0.5, self.SC, self.PEERS, self.ROWS), {
            ("small_get", "ringway"): (20000.0, "50% of this peer's closed-loop req/s (40,000)"),
            ("small_get", "fwd"): (18100.0, "50% of this peer's closed-loop req/s (36,311)")})

    def test_fixed_rate(self):
        self.assertEqual(bench.open_loop_rates("2500", 0.5, self.SC, self.PEERS, self.ROWS), {
            ("small_get", "ringway"): (2500.0, "fixed (--open-loop)"),
            ("small_get", "fwd"): (2500.0, "fixed (--open-loop)")})

    def test_nothing_healthy_nothing_to_run(self):
        self.assertEqual(bench.open_loop_rates("common", 0.5, self.SC, ["nginx"], self.ROWS), {})


def row(scen, peer, cpu, **kw):
    r = {"scenario": scen, "peer": peer, "rps": 40123.4,
         "latency_us": {"p50": 812.0, "p99": 2340.0}, "cpu_us_per_req": cpu,
         "proxy_cpu_pct": 98.6, "origin_cpu_us_per_req": 8.0, "rss_kib": 10240,
         "other_cpu_pct": 3.4, "socket_errors": {"connect": 0, "read": 2, "write": 0, "timeout": 1}}
    r.update(kw)
    return r


class ResultsTable(unittest.TestCase):
    PEERS = ["ringway", "nginx", "fwd"]
    HEAD = ("| scenario | peer | req/s | p50 | p99 | OL req/s | OL p50 / p99 / p99.9 | CPU us/req | "
            "proxy CPU % | origin us/req | RSS MiB | other CPU % | sock errs | ÷ringway | ÷nginx | ÷fwd |")

    def table(self, rows):
        return bench.results_table(rows, self.PEERS).split("\n")

    def test_header_and_ratio_columns_per_peer(self):
        lines = self.table([])
        self.assertEqual(lines, [self.HEAD, "|" + "|".join(["---"] * 16) + "|"])

    def test_cells_and_ratios_to_each_peer(self):
        ol = {"target_rate": 20000, "requests": 10000, "errors": 3,
              "latency_us": {"p50": 500, "p99": 1500, "p999": 2_500_000}}
        lines = self.table([row("small_get", "ringway", 12.5, open_loop=ol),
                            row("small_get", "fwd", 10.0, rss_kib=None, other_cpu_pct=12.5,
                                latency_us={"p50": 1_500_000.0}),
                            row("new_conn", "ringway", 30.0)])
        self.assertEqual(lines[2:], [
            "| small_get | ringway | 40,123 | 812us | 2.34ms | 20,000 | 500us / 1.50ms / 2.50s (3 errors) | "
            "12.50 | 99 | 8.00 | 10.0 | 3 | 3 | 1 | - | 1.25 |",
            "| small_get | fwd | 40,123 | 1.50s | - | - | - | 10.00 | 99 | 8.00 | - | 12 | 3 | 0.80 | - | 1 |",
            "| new_conn | ringway | 40,123 | 812us | 2.34ms | - | - | 30.00 | 99 | 8.00 | 10.0 | 3 | 3 | 1 | - | - |",
        ])

    def test_error_rows(self):
        lines = self.table([
            {"scenario": "small_get", "peer": "nginx", "error": "nginx: not found"},
            row("small_get", "ringway", 12.5, error="3 non-2xx/3xx responses",
                open_loop={"target_rate": 20000, "error": "boom"}),
            row("small_get", "fwd", None),  # no requests: no CPU us/req
        ])
        self.assertEqual(lines[2:], [
            "| small_get | nginx | ERROR: nginx: not found |" + " |" * 13,
            "| small_get | ringway (ERROR: 3 non-2xx/3xx responses) | 40,123 | 812us | 2.34ms | 20,000 | failed | "
            "12.50 | 99 | 8.00 | 10.0 | 3 | 3 | 1 | - | - |",
            "| small_get | fwd | 40,123 | 812us | 2.34ms | - | - | - | 99 | 8.00 | 10.0 | 3 | 3 | - | - | 1 |",
        ])
        self.assertEqual({ln.count("|") for ln in lines}, {17})  # every row as wide as the header

    def test_no_ratio_to_a_failed_run(self):
        # A peer that answered fast errors would look cheap per request.
        lines = self.table([row("small_get", "ringway", 12.5),
                            row("small_get", "nginx", 5.0, error="20000 non-2xx/3xx responses")])
        self.assertTrue(lines[2].endswith("| 1 | - | - |"), lines[2])
        self.assertTrue(lines[3].endswith("| - | 1 | - |"), lines[3])


class RatioTables(unittest.TestCase):

    def test_row_over_column_for_the_peers_that_have_numbers(self):
        rows = [row("small_get", "ringway", 12.5), row("small_get", "nginx", 20.0),
                row("small_get", "fwd", 10.0), row("new_conn", "ringway", 30.0),
                row("new_conn", "fwd", None), {"scenario": "new_conn", "peer": "nginx", "error": "x"},
                row("large_1m", "haproxy", 5.0), row("large_1m", "fwd", 4.0),
                # Cheap because it failed (fast 5xx answers): no yardstick.
                row("large_1m", "nginx", 1.0, error="9000 non-2xx/3xx responses")]
        text = bench.ratio_tables(rows, ["ringway", "nginx", "haproxy", "fwd"],
                                  ["large_1m", "new_conn", "small_get", "post_64k"])
        self.assertEqual(text, "\n".join([
            "**large_1m** (row CPU us/req ÷ column CPU us/req; failed runs left out)\n",
            "| | haproxy | fwd |",
            "|---|---|---|",
            "| haproxy | 1.00 | 1.25 |",
            "| fwd | 0.80 | 1.00 |",
            "",
            "**small_get** (row CPU us/req ÷ column CPU us/req; failed runs left out)\n",
            "| | ringway | nginx | fwd |",
            "|---|---|---|---|",
            "| ringway | 1.00 | 0.62 | 1.25 |",  # 0.625 rounds half to even
            "| nginx | 1.60 | 1.00 | 2.00 |",
            "| fwd | 0.80 | 0.50 | 1.00 |",
            "",
        ]))

    def test_one_peer_no_table(self):
        self.assertEqual(bench.ratio_tables([row("small_get", "ringway", 12.5)], ["ringway"], ["small_get"]), "")
        # A peer listed but not measured is no column either.
        self.assertEqual(bench.ratio_tables([row("small_get", "ringway", 12.5)], ["ringway", "fwd"],
                                            ["small_get"]), "")


class MetricRatios(unittest.TestCase):

    def test_each_pair_in_peer_order_every_metric(self):
        ol = lambda p99, **kw: dict({"target_rate": 20000, "requests": 10000,
                                     "latency_us": {"p50": 100, "p99": p99, "p999": 4000}}, **kw)
        rows = [row("small_get", "ringway", 12.0, rps=50000.0, open_loop=ol(500)),
                row("small_get", "haproxy", 16.0, rps=40000.0, rss_kib=20480,
                    latency_us={"p50": 1624.0, "p99": 2340.0}, open_loop=ol(1000)),
                # A failed open loop leaves its latency ratios out, not the others.
                row("small_get", "nginx", 24.0, rps=25000.0,
                    open_loop=ol(700, status={"502": 4}))]
        text = bench.metric_ratios(rows, ["ringway", "haproxy", "nginx"], ["small_get"])
        self.assertEqual(text.split("\n"), [
            "**small_get**", "",
            "| | req/s | p50 | p99 | OL p50 | OL p99 | OL p99.9 | CPU us/req | RSS |",
            "|---|---|---|---|---|---|---|---|---|",
            "| ringway ÷ haproxy | 1.25 | 0.50 | 1.00 | 1.00 | 0.50 | 1.00 | 0.75 | 0.50 |",
            "| ringway ÷ nginx | 2.00 | 1.00 | 1.00 | - | - | - | 0.50 | 1.00 |",
            "| haproxy ÷ nginx | 1.60 | 2.00 | 1.00 | - | - | - | 0.67 | 2.00 |",
            "",
        ])

    def test_open_loop_latency_counts_unanswered_requests(self):
        # ringway-load's latency_all_us (timeouts and unsent at how long they
        # waited) is what the tables show; older output falls back.
        ol = {"target_rate": 1000, "requests": 990, "unsent": 10,
              "latency_us": {"p99": 800}, "latency_all_us": {"p99": 250_000}}
        self.assertEqual(bench.ol_latency(row("small_get", "ringway", 1.0, open_loop=ol), "p99"),
                         250_000)
        self.assertIn("250.00ms", bench.fmt_ol(ol)[1])
        del ol["latency_all_us"]
        self.assertEqual(bench.ol_latency(row("small_get", "ringway", 1.0, open_loop=ol), "p99"), 800)

    def test_failed_rows_and_lone_peers_give_no_table(self):
        rows = [row("small_get", "ringway", 12.0), row("small_get", "nginx", 20.0, error="boom"),
                {"scenario": "small_get", "peer": "haproxy", "error": "not found"},
                row("new_conn", "ringway", 30.0)]
        self.assertEqual(bench.metric_ratios(rows, ["ringway", "nginx", "haproxy"],
                                             ["small_get", "new_conn"]), "")


def idle(peer, per_conn, **kw):
    r = {"scenario": "idle_10k", "peer": peer, "idle_conns": 10000, "rss_base_kib": 20480,
         "rss_run_kib": 40960, "idle_bytes_per_conn": per_conn, "idle_open_s": 1.26}
    r.update(kw)
    return r


class IdleTable(unittest.TestCase):

    def test_bytes_per_connection_and_ratios(self):
        rows = [row("small_get", "ringway", 12.5), row("small_get", "fwd", 10.0),
                idle("ringway", 2097.152), idle("nginx", 1048.576, idle_note="worker_connections 20000"),
                idle("haproxy", None, error="the proxy closed 5 of 10000 idle connections during the run",
                     rss_run_kib=None)]
        text = bench.idle_table(rows, ["ringway", "nginx", "haproxy", "fwd"])
        self.assertEqual(text, "\n".join([
            "**idle_10k**\n",
            "| peer | idle conns | RSS before MiB | RSS with idle MiB | bytes/conn | opened in s | "
            "÷ringway | ÷nginx | ÷haproxy |",
            "|---|---|---|---|---|---|---|---|---|",
            "| ringway | 10,000 | 20.0 | 40.0 | 2,097 | 1.3 | 1 | 2.00 | - |",
            "| nginx | 10,000 | 20.0 | 40.0 | 1,049 | 1.3 | 0.50 | 1 | - |",
            "| haproxy (ERROR: the proxy closed 5 of 10000 idle connections during the run) | 10,000 | 20.0 | - "
            "| - | 1.3 | - | - | 1 |",
            "",
            "- nginx: worker_connections 20000",
        ]) + "\n")

    def test_no_idle_scenario_no_section(self):
        self.assertEqual(bench.idle_table([row("small_get", "ringway", 12.5)], ["ringway"]), "")


class FilterSection(unittest.TestCase):
    SC = [bench.SCENARIO_BY_NAME[n] for n in ("small_get", "jwt_hs256", "cache_miss", "cache_hit")]

    ROWS = [row("small_get", "ringway", 12.0), row("small_get", "ringway-batched", 11.0),
            row("small_get", "haproxy", 10.0), row("small_get", "fwd", 6.0),
            row("jwt_hs256", "ringway", 15.0), row("jwt_hs256", "ringway-batched", 13.2),
            row("cache_miss", "ringway", 10.0), row("cache_hit", "ringway", 4.0),
            row("cache_miss", "ringway-batched", 10.0), row("cache_hit", "ringway-batched", 4.5),
            row("cache_miss", "haproxy", 10.0), row("cache_hit", "haproxy", 3.0),
            row("cache_miss", "nginx", 9.0), row("cache_hit", "nginx", 2.0, error="X-Cache MISS"),
            row("cache_miss", "fwd", 9.5), row("cache_hit", "fwd", 4.18)]
    PEERS = ["ringway", "ringway-batched", "nginx", "haproxy", "fwd"]

    def section(self):
        return bench.filter_section(self.ROWS, self.PEERS, self.SC).split("\n")

    def test_target_met_and_not_met(self):
        lines = self.section()
        self.assertEqual(lines[:10], [
            "**cache_hit ÷ cache_miss** (CPU us/req; issue target: a cache hit costs at most 40% of the "
            "CPU per request of a proxied miss; target for ringway ≤ 0.40)",
            "",
            "| peer | cache_hit | cache_miss | ratio | target ≤ 0.40 |",
            "|---|---|---|---|---|",
            "| ringway | 4.00 | 10.00 | 0.40 | met |",             # exactly at the target
            "| ringway-batched | 4.50 | 10.00 | 0.45 | NOT met |",  # a ringway variant is judged too
            "| nginx | - | 9.00 | - | - |",                         # an error row has no number
            "| haproxy | 3.00 | 10.00 | 0.30 | - |",               # the target is ringway's only
            "| fwd | 4.18 | 9.50 | 0.44 | - |",                     # the floor: --respond over forwarding
            "",
        ])

    def test_cost_over_the_baseline(self):
        lines = self.section()
        i = lines.index("| scenario | baseline | ringway | ringway-batched | nginx | haproxy | fwd |")
        self.assertTrue(lines[i - 2].startswith("**Cost over the baseline**"))
        self.assertEqual(lines[i + 1:i + 5], [
            "|---|---|---|---|---|---|---|",
            "| jwt_hs256 | small_get | +3.00 (1.25x) | +2.20 (1.20x) | none | - | none |",
            "| cache_hit | cache_miss | -6.00 (0.40x) | -5.50 (0.45x) | - | -7.00 (0.30x) | -5.32 (0.44x) |",
            "",
        ])

    def test_gzip_sizes_and_no_equivalent(self):
        rows = self.ROWS + [row("gzip", "ringway", 30.0, gzip_body_bytes=5000, gzip_plain_bytes=16384),
                            row("gzip", "haproxy", 20.0, gzip_body_bytes=8192, gzip_plain_bytes=16384)]
        lines = bench.filter_section(rows, self.PEERS, self.SC).split("\n")
        i = next(n for n, ln in enumerate(lines) if ln.startswith("**gzip output**"))
        self.assertEqual(lines[i + 1:], [
            "",
            "- ringway: 5,000 bytes (30.5%)",
            "- haproxy: 8,192 bytes (50.0%)",
            "",
            "**No equivalent** (not run):",
            "",
            "- `jwt_hs256`: no nginx (" + bench.NO_JWT_NGINX + "); no fwd (fwd speaks no HTTP)",
            "",
        ])

    def test_no_equivalent_lists_only_the_peers_that_ran(self):
        lines = bench.filter_section(self.ROWS, ["ringway", "haproxy"], self.SC).split("\n")
        self.assertNotIn("**No equivalent** (not run):", lines)
        lines = bench.filter_section(self.ROWS, ["ringway", "nginx"], self.SC).split("\n")
        self.assertEqual(lines[-4:], ["**No equivalent** (not run):", "",
                                      "- `jwt_hs256`: no nginx (" + bench.NO_JWT_NGINX + ")", ""])

    def test_core_scenarios_only_nothing(self):
        self.assertEqual(bench.filter_section([row("small_get", "ringway", 12.0), row("small_get", "fwd", 6.0)],
                                              ["ringway", "fwd"], [bench.SCENARIO_BY_NAME["small_get"]]), "")

    def test_a_baseline_of_zero_cpu_does_not_crash(self):
        rows = [row("small_get", "ringway", 0.0), row("jwt_hs256", "ringway", 15.0)]
        text = bench.filter_section(rows, ["ringway"], self.SC[:2])
        self.assertIn("| jwt_hs256 | small_get | - |", text)


class OpenLoopOriginShare(unittest.TestCase):
    HIT, MISS = bench.SCENARIO_BY_NAME["cache_hit"], bench.SCENARIO_BY_NAME["cache_miss"]

    def test_within_the_share_no_issue(self):
        self.assertEqual(bench.open_loop_origin_share(self.HIT, 40, 10000.0, 50), {"origin_per_req": 0.004})
        self.assertEqual(bench.open_loop_origin_share(self.MISS, 9950, 10000.0, 50), {"origin_per_req": 0.995})

    def test_a_cache_that_stops_hitting_is_flagged(self):
        res = bench.open_loop_origin_share(self.HIT, 3000, 10000.0, 50)
        self.assertEqual(res["origin_issue"], "origin 0.30 per request, expected 0 to 0.01")
        self.assertEqual(bench.open_loop_issues({"unsent": 7, **res}),
                         "7 unsent, origin 0.30 per request, expected 0 to 0.01")


class SampleError(unittest.TestCase):
    """Which wrk samples are not results."""

    def sample(self, requests=100000, non2xx=0, **errors):
        socket_errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
        socket_errors.update(errors)
        return {"requests": requests, "non2xx": non2xx, "socket_errors": socket_errors}

    def test_clean_and_failed_samples(self):
        self.assertIsNone(bench.sample_error(self.sample()))
        self.assertEqual(bench.sample_error(self.sample(requests=0)), "no requests completed")
        self.assertEqual(bench.sample_error(self.sample(non2xx=3)), "3 non-2xx/3xx responses")

    def test_socket_errors_beyond_one_in_a_thousand(self):
        self.assertIsNone(bench.sample_error(self.sample(read=100)))
        self.assertIsNone(bench.sample_error(self.sample(requests=500, read=1)))
        self.assertEqual(bench.sample_error(self.sample(read=60, timeout=41)),
                         "101 socket errors in wrk: {'connect': 0, 'read': 60, 'write': 0, 'timeout': 41}")
        self.assertIsNotNone(bench.sample_error(self.sample(requests=500, timeout=2)))


class Scaling(unittest.TestCase):
    """bench/scaling.py: CPU plans per worker count, and the efficiency."""

    def test_the_load_side_keeps_its_cpus_for_every_count(self):
        cpus = list(range(16))
        self.assertEqual(scaling.plan_for(1, 8, cpus, 0), ("proxy=0,origin=8,9,10,11,wrk=12,13,14,15", 4))
        self.assertEqual(scaling.plan_for(8, 8, cpus, 0),
                         ("proxy=0,1,2,3,4,5,6,7,origin=8,9,10,11,wrk=12,13,14,15", 4))
        self.assertEqual(scaling.plan_for(4, 8, cpus, 3), ("proxy=0,1,2,3,origin=8,9,10,wrk=11,12,13,14,15", 5))

    def test_a_small_box_shares_cpus(self):
        self.assertEqual(scaling.plan_for(2, 2, [0, 1], 0), ("proxy=0,1,origin=0,wrk=1", 1))
        self.assertEqual(scaling.plan_for(1, 1, [0], 0), ("proxy=0,origin=0,wrk=0", 1))

    def test_efficiency_against_the_smallest_count(self):
        def run(rps, pct):
            return {"results": [{"scenario": "small_get", "peer": "ringway", "rps": rps,
                                 "cpu_us_per_req": 10.0, "proxy_cpu_pct": pct}]}
        rows = scaling.table({1: run(40000, 99), 2: run(76000, 198), 4: run(120000, 250)})
        self.assertEqual([r["efficiency"] for r in rows], [1.0, 0.95, 0.75])
        self.assertEqual([r["load_bound"] for r in rows], [False, False, True])
        md = scaling.markdown(rows, {"cpu_model": "x", "cores": 16}, 1)
        self.assertIn("| small_get | ringway | 4 | 120,000* | 10.00 | 250 | 0.75 |", md)
        # From 2 workers: linear scaling is 1.0, not 0.5; failed runs are no row.
        rows = scaling.table({2: run(20000, 190), 4: run(40000, 390), 8: run(76000, 780)})
        self.assertEqual([r["efficiency"] for r in rows], [1.0, 1.0, 0.95])
        failed = run(90000, 790)
        failed["results"][0]["error"] = "20000 non-2xx"
        self.assertEqual([r["workers"] for r in scaling.table({2: run(20000, 190), 8: failed})], [2])


if __name__ == "__main__":
    unittest.main()
