"""Measuring: one knee per configuration (a fresh ringway each), and the
one-knob-at-a-time sweep on top of it."""

from . import search, sweep, yamlcfg
from .machine import kernel_version
from .runner import Bench, ConfigRejected
from .units import fmt_rate


def probe_dict(p):
    d = {"rate": p.rate, "attempt": p.attempt, "ok": p.ok, "reason": p.reason,
         "achieved": round(p.m.achieved, 1), "p99_us": p.m.p99_us,
         "error_frac": round(p.m.error_frac, 6)}
    d.update(p.m.extra)
    return d


def knee_dict(workers, runs):
    """One worker count's entry from one or more knee searches (--repeat):
    the best run counts, every run's knee is kept to show the spread."""
    if not isinstance(runs, (list, tuple)):
        runs = [runs]
    kr = max(runs, key=lambda r: r.knee)
    at = kr.at_knee.extra if kr.at_knee else {}
    return {"workers": workers, "knee_rps": kr.knee, "capped": kr.capped,
            "runs_rps": [r.knee for r in runs],
            "p99_floor_us": min((p.m.p99_us for r in runs for p in r.probes), default=None),
            "first_bad_rps": kr.first_bad,
            "p99_us_at_knee": kr.at_knee.p99_us if kr.at_knee else None,
            "proxy_cpu_pct_at_knee": at.get("proxy_cpu_pct"),
            "proxy_cpu_us_per_req": at.get("proxy_cpu_us_per_req"),
            "per_worker_rps": round(kr.knee / workers, 1) if kr.knee else 0,
            "probes": [probe_dict(p) for r in runs for p in r.probes]}


class Tuner:
    def __init__(self, s, bins, config_text, progress):
        self.s = s
        self.bins = bins
        self.text = config_text
        self.progress = progress
        self.endpoints = None
        self.bench = Bench(bins, s.plan, {
            "probe_s": s.probe_s, "warmup_s": s.warmup_s, "connections": s.connections,
            "load_threads": s.load_threads, "origin_threads": s.origin_threads,
            "request_timeout_s": s.request_timeout_s, "path": s.path, "host": s.host,
            "pause_s": 0.2})
        self.tags = 0

    def start(self):
        if self.s.origin_mode == "spawn":
            port = self.bench.start_origin()
            self.endpoints = ["127.0.0.1:%d" % port]

    def knee(self, workers, knobs, start=None, factor=None):
        text = yamlcfg.build(self.text, workers=workers, knobs=knobs, loopback=True,
                             endpoints=self.endpoints)
        self.tags += 1
        try:
            self.bench.start_gateway(text, "%02d-w%d" % (self.tags, workers))
            start = start or self.s.start_rate
            # Below start/16 a failing probe says "the SLO is under this
            # machine's latency floor", not anything about capacity: stop there.
            return search.find_knee(
                self.bench.measure, self.s.slo, start=start, min_rate=start / 16,
                max_rate=self.s.max_rate, factor=factor or self.s.step, tol=self.s.tolerance,
                retries=self.s.retries, on_probe=self.progress.probe)
        finally:
            self.progress.end()
            self.bench.stop_gateway()

    def close(self):
        self.bench.close()


def run_sweep(t, s, workers, current, state, result):
    """Coordinate descent over the knobs. Fills result['sweep'] and
    state {'knobs', 'knee'} as it goes, so an interrupted sweep still reports
    what was decided."""
    sw = {"workers": workers, "min_gain": s.min_gain, "baseline_knee_rps": state["knee"],
          "steps": []}
    result["sweep"] = sw

    def measure(knobs, label):
        t.progress.phase("sweep %s (workers=%d)" % (label, workers))
        return t.knee(workers, knobs, start=sweep.grid_start(s.start_rate, s.step, state["knee"]))

    for name, mults in sweep.plan(s.knobs, s.quick, kernel_version()):
        cur = state["knobs"].get(name, current[name])
        values = sweep.candidates(name, cur, mults, {**state["explicit"], **state["knobs"]},
                                  current["upstream_max_connections"])
        step = {"knob": name, "current": cur, "current_knee_rps": state["knee"], "results": [],
                "chosen": cur, "changed": False, "recheck_knee_rps": None, "done": False}
        sw["steps"].append(step)
        for v in values:
            knobs = dict(state["knobs"], **{name: v})
            try:
                kr = measure(knobs, "%s=%s" % (name, yamlcfg.format_value(name, v)))
            except ConfigRejected as e:
                step["results"].append({"value": v, "knee_rps": 0, "capped": False,
                                        "probes": 0, "rejected": str(e)})
                t.progress.note("%s=%s: skipped, %s" % (name, yamlcfg.format_value(name, v), e))
                continue
            step["results"].append({"value": v, "knee_rps": kr.knee, "capped": kr.capped,
                                    "probes": len(kr.probes)})
            t.progress.note("%s=%s: knee %s req/s" % (name, yamlcfg.format_value(name, v),
                                                       fmt_rate(kr.knee)))

        def recheck():
            kr = measure(dict(state["knobs"]), "recheck %s=%s (current)"
                         % (name, yamlcfg.format_value(name, cur)))
            step["recheck_knee_rps"] = kr.knee
            t.progress.note("recheck %s=%s: knee %s req/s" % (
                name, yamlcfg.format_value(name, cur), fmt_rate(kr.knee)))
            return kr.knee
        value, knee, _ = sweep.decide([(r["value"], r["knee_rps"]) for r in step["results"]],
                                      state["knee"], s.min_gain, recheck)
        if value is not None:
            step["chosen"], step["changed"] = value, True
            state["knobs"][name] = value
        state["knee"] = knee
        step["done"] = True
