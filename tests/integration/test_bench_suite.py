"""bench/run.py's and bench/scaling.py's pure parts (both run end to end as
the bench_smoke and scaling_smoke ctest entries): choosing the open-loop pass
to report, CPU plans per worker count, scaling efficiency."""

import importlib.util
import os
import sys
import unittest

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


if __name__ == "__main__":
    unittest.main()
