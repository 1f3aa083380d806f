"""The knee search: the highest request rate that still meets the SLO.

Pure logic: `measure(rate)` is any function that runs (or fakes) one probe at
a constant offered rate and returns a Measurement. The search

  1. steps the rate geometrically (x factor) from `start` until a probe breaks
     the SLO (or steps down from `start` if the first probe already breaks it),
  2. bisects (geometric midpoint) between the last good and the first bad rate
     until they are within `tol` of each other (hi / lo - 1 <= tol),

and reports the last good rate. A probe that breaks the SLO is repeated up to
`retries` times and counts as good if any attempt is good: on a shared
machine interference only ever makes a probe look worse, so "best of" is the
right estimator (as the minimum is for timings). The invariant lo = good,
hi = bad is kept even when the measured curve is not monotone.
"""

import dataclasses
import math
from typing import Callable, List, Optional


@dataclasses.dataclass
class Measurement:
    rate: float                # offered (target) rate, req/s
    achieved: float            # responses recorded per second
    p99_us: float              # 99th percentile latency, from the intended send time
    error_frac: float          # (errors + timeouts + unsent + 5xx) / scheduled
    extra: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Slo:
    p99_us: float
    error_frac: float
    # The offered rate must actually have been delivered: below this share the
    # server (or the generator) did not keep up, whatever the percentiles say.
    min_achieved: float = 0.90

    def judge(self, m: Measurement):
        """(ok, reason); reason is '' when ok."""
        reasons = []
        if m.p99_us >= self.p99_us:  # the SLO reads "p99 < bound"
            reasons.append("p99 %.0fus >= %.0fus" % (m.p99_us, self.p99_us))
        if m.error_frac > self.error_frac:
            reasons.append("errors %.3g%% > %.3g%%" % (m.error_frac * 100, self.error_frac * 100))
        if m.rate > 0 and m.achieved < self.min_achieved * m.rate:
            reasons.append("achieved %.0f of %.0f req/s" % (m.achieved, m.rate))
        return (not reasons, "; ".join(reasons))


@dataclasses.dataclass
class Probe:
    rate: float
    attempt: int
    ok: bool
    reason: str
    m: Measurement


@dataclasses.dataclass
class KneeResult:
    knee: float                      # highest good rate found; 0 when none was good
    first_bad: Optional[float]       # lowest bad rate above the knee (None: capped)
    capped: bool                     # still good at max_rate: the knee is at least max_rate
    probes: List[Probe]
    at_knee: Optional[Measurement]   # the good measurement at the knee

    @property
    def found(self):
        return self.knee > 0


def round_rate(r):
    """Whole req/s from 100 up, so that probes and reports read cleanly."""
    return float(round(r)) if r >= 100 else round(r, 2)


def find_knee(measure: Callable[[float], Measurement], slo: Slo, start: float,
              max_rate: float, min_rate: Optional[float] = None, factor: float = 2.0,
              tol: float = 0.05, retries: int = 1, max_probes: int = 60,
              on_probe: Optional[Callable] = None) -> KneeResult:
    if factor <= 1.0:
        raise ValueError("factor must be > 1")
    if tol <= 0:
        raise ValueError("tol must be > 0")
    if min_rate is None:
        min_rate = max(1.0, start / 64.0)
    start = round_rate(min(max(start, min_rate), max_rate))
    probes: List[Probe] = []
    good = {}            # rate -> good Measurement
    state = {"lo": None, "hi": None}

    def test(rate):
        for attempt in range(retries + 1):
            m = measure(rate)
            ok, reason = slo.judge(m)
            p = Probe(rate, attempt, ok, reason, m)
            probes.append(p)
            if on_probe:
                on_probe(p, state["lo"], state["hi"])
            if ok:
                good[rate] = m
                return True
            if len(probes) >= max_probes:
                break
        return False

    def result(lo, hi, capped=False):
        return KneeResult(lo or 0.0, hi, capped, probes, good.get(lo) if lo else None)

    lo = hi = None
    if test(start):
        lo = start
        while True:
            nxt = round_rate(min(lo * factor, max_rate))
            if nxt <= lo:
                return result(lo, None, capped=True)
            state["lo"] = lo
            if len(probes) >= max_probes:
                return result(lo, None)
            if test(nxt):
                lo = nxt
            else:
                hi = nxt
                break
    else:
        hi = start
        while True:
            nxt = round_rate(hi / factor)
            if nxt < min_rate or len(probes) >= max_probes:
                return result(None, hi)
            state["hi"] = hi
            if test(nxt):
                lo = nxt
                break
            hi = nxt

    while hi / lo - 1.0 > tol and len(probes) < max_probes:
        state["lo"], state["hi"] = lo, hi
        mid = round_rate(math.sqrt(lo * hi))
        if mid <= lo or mid >= hi:
            break
        if test(mid):
            lo = mid
        else:
            hi = mid
    return result(lo, hi)
