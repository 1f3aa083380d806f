"""bench/run.py's pure parts (the suite itself runs end to end as the
bench_smoke ctest entry): choosing the open-loop pass to report."""

import importlib.util
import os
import sys
import unittest

import harness

_spec = importlib.util.spec_from_file_location("bench_run", os.path.join(harness.ROOT, "bench", "run.py"))
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_run"] = bench  # dataclasses look their module up
_spec.loader.exec_module(bench)


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


if __name__ == "__main__":
    unittest.main()
