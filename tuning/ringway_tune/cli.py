"""Command line and orchestration. Exit status: 0 done, 1 a measurement
failed (ringway died, the load tool failed), 2 bad arguments / missing
binaries / a config that fails `ringway check` or cannot be rewritten,
130 interrupted (a partial report is still written)."""

import argparse
import datetime
import os
import platform
import signal
import sys

from . import VERSION, report, search, sweep, sysctl, yamlcfg
from .machine import busy_warning, kernel_version, machine_info, stamp_dir
from .progress import Progress
from .runner import RunError, describe_plan, find_binaries, ringway_check
from .tuner import Tuner, knee_dict, run_sweep
from .units import (UsageError, allowed_cpus, default_plan, fmt_rate, fmt_us, parse_duration_s,
                    parse_fraction, parse_int_list, parse_latency_us, parse_plan, parse_rate,
                    plan_warnings)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EPILOG = """examples:
  ringway-tune --config ringway.yaml --slo-p99 2ms --slo-errors 0.1%
  ringway-tune --config ringway.yaml --quick --target-rate 200k
  ringway-tune --config ringway.yaml --sweep --workers 1,2 --cpus proxy=0-1,origin=2,load=3
  ringway-tune --config ringway.yaml --kernel-only
See docs/capacity-planning.md."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("ringway-tune: error: %s\n" % message)
        sys.exit(2)


def build_parser():
    ap = _Parser(prog="ringway-tune", description="Find ringway's sustainable rate under an "
                 "SLO, sweep its knobs, check the kernel, and report.", epilog=EPILOG,
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="ringway YAML config to tune (required unless --kernel-only)")
    g = ap.add_argument_group("SLO")
    g.add_argument("--slo-p99", default="2ms", help="p99 latency bound (2ms, 500us); default 2ms")
    g.add_argument("--slo-errors", default="0.1%", help="error budget (0.1%%); default 0.1%%")
    g = ap.add_argument_group("search")
    g.add_argument("--probe", default="3s", help="measured time per probe; default 3s")
    g.add_argument("--warmup", default="1s", help="warm-up before each probe; default 1s")
    g.add_argument("--workers", default=None,
                   help="worker counts to measure, e.g. 1,2 or 1-4; default 1..ringway's CPUs")
    g.add_argument("--cpus", default=None,
                   help="pinning, e.g. proxy=0,origin=1,load=1 (default from the usable CPUs)")
    g.add_argument("--start-rate", default="1000", help="first probe, req/s; default 1000")
    g.add_argument("--max-rate", default="1M", help="never probe above this; default 1M")
    g.add_argument("--step", type=float, default=2.0, help="geometric step factor; default 2")
    g.add_argument("--tolerance", default="5%", help="bisect until within this; default 5%%")
    g.add_argument("--retries", type=int, default=1,
                   help="repeat a failed probe this many times (best of); default 1")
    g.add_argument("--repeat", type=int, default=1,
                   help="measure each worker count's knee this many times, keep the best and "
                        "report the spread; default 1")
    g.add_argument("--connections", type=int, default=64, help="load connections; default 64")
    g.add_argument("--load-threads", type=int, default=None,
                   help="ringway-load threads; default one per load CPU of the plan")
    g.add_argument("--request-timeout", default="1s",
                   help="a request slower than this is a timeout (an error); default 1s")
    g.add_argument("--path", default="/", help="request path; default /")
    g.add_argument("--host", default=None, help="Host header (for host-based routes)")
    g.add_argument("--origin", choices=("spawn", "config"), default="spawn",
                   help="spawn: start ringway-origin and point every upstream at it (default); "
                        "config: use the config's endpoints as they are")
    g.add_argument("--origin-threads", type=int, default=None,
                   help="ringway-origin threads; default: its CPU count")
    g = ap.add_argument_group("sweep")
    sw = g.add_mutually_exclusive_group()
    sw.add_argument("--sweep", dest="sweep", action="store_true", default=None,
                    help="sweep one knob at a time around the current settings")
    sw.add_argument("--no-sweep", dest="sweep", action="store_false", help="no sweep (default)")
    g.add_argument("--quick", action="store_true", help="a minimal sweep (implies --sweep)")
    g.add_argument("--knobs", default=None,
                   help="comma-separated knobs to sweep (default: all; see docs)")
    g.add_argument("--min-gain", default="10%",
                   help="a value must beat the current knee by this to be kept; default 10%%")
    g = ap.add_argument_group("report")
    g.add_argument("--target-rate", default=None, help="size a deployment for this rate")
    g.add_argument("--headroom", default="70%", help="plan cores at this share of the knee")
    g.add_argument("--out", default=os.path.join(REPO, "tuning", "results"),
                   help="parent folder of the stamped output folder; default tuning/results")
    g.add_argument("--build-dir", default=os.environ.get("RINGWAY_BUILD_DIR",
                                                         os.path.join(REPO, "build")),
                   help="where bin/ringway etc. are; default build (or $RINGWAY_BUILD_DIR)")
    g.add_argument("--kernel-only", action="store_true",
                   help="only check the kernel settings; no load")
    g.add_argument("--proc-sys", default="/proc/sys", help=argparse.SUPPRESS)
    g.add_argument("--quiet", action="store_true", help="no progress line")
    ap.add_argument("--version", action="version", version="ringway-tune " + VERSION)
    return ap


def validate(a):
    """Parsed and checked settings (UsageError on anything wrong)."""
    s = argparse.Namespace()
    s.slo = search.Slo(parse_latency_us(a.slo_p99), parse_fraction(a.slo_errors))
    s.probe_s = parse_duration_s(a.probe, "--probe", 0.1)
    s.warmup_s = parse_duration_s(a.warmup, "--warmup")
    s.request_timeout_s = parse_duration_s(a.request_timeout, "--request-timeout", 0.001)
    s.start_rate = parse_rate(a.start_rate, "--start-rate")
    s.max_rate = parse_rate(a.max_rate, "--max-rate")
    if s.start_rate > s.max_rate:
        raise UsageError("--start-rate %s is above --max-rate %s" % (a.start_rate, a.max_rate))
    if not a.step > 1.0:
        raise UsageError("--step must be greater than 1, got %g" % a.step)
    s.tolerance = parse_fraction(a.tolerance, "--tolerance")
    if not 0 < s.tolerance < 1:
        raise UsageError("--tolerance must be between 0%% and 100%%, got %s" % a.tolerance)
    s.min_gain = parse_fraction(a.min_gain, "--min-gain")
    s.headroom = parse_fraction(a.headroom, "--headroom")
    if s.headroom <= 0:
        raise UsageError("--headroom must be greater than 0%")
    s.target_rate = parse_rate(a.target_rate, "--target-rate") if a.target_rate else None
    if a.repeat < 1:
        raise UsageError("--repeat: must be at least 1, got %d" % a.repeat)
    for name in ("retries", "connections", "load_threads"):
        v = getattr(a, name)
        if v is not None and v < (0 if name == "retries" else 1):
            raise UsageError("--%s: must be at least %d, got %d"
                             % (name.replace("_", "-"), 0 if name == "retries" else 1, v))
    allowed = allowed_cpus()
    s.plan = parse_plan(a.cpus, allowed) if a.cpus else default_plan(allowed)
    # One load thread per load CPU: a single thread would cap what several
    # workers can be shown to do.
    load_threads = a.load_threads or min(len(s.plan["load"]), a.connections)
    if a.connections < load_threads:
        raise UsageError("--connections must be at least --load-threads")
    s.workers = (parse_int_list(a.workers, "--workers", 1, 1024) if a.workers
                 else list(range(1, len(s.plan["proxy"]) + 1)))
    s.origin_threads = a.origin_threads or len(s.plan["origin"])
    if s.origin_threads < 1:
        raise UsageError("--origin-threads must be at least 1")
    s.quick = a.quick
    s.sweep = bool(a.sweep) or (a.quick and a.sweep is not False)
    s.knobs = None
    if a.knobs:
        s.knobs = [k.strip() for k in a.knobs.split(",") if k.strip()]
        try:
            sweep.plan(s.knobs, a.quick)
        except ValueError as e:
            raise UsageError("--knobs: unknown knob %s (known: %s)"
                             % (e, ", ".join(sweep.FULL)))
        for n in sweep.unsupported(s.knobs, kernel_version()):
            raise UsageError("--knobs: %s needs Linux >= %d.%d (this kernel: %s)"
                             % ((n,) + sweep.NEEDS_KERNEL[n] + (platform.release(),)))
    if not a.path.startswith("/"):
        raise UsageError("--path must start with /")
    s.connections, s.load_threads, s.path, s.host = a.connections, load_threads, a.path, a.host
    s.origin_mode, s.retries, s.step, s.repeat = a.origin, a.retries, a.step, a.repeat
    return s


def main(argv=None):
    ap = build_parser()
    a = ap.parse_args(argv)
    try:
        s = validate(a)
        if a.kernel_only:
            print_kernel(sysctl.check(a.proc_sys))
            return 0
        if not a.config:
            raise UsageError("--config FILE is required")
        if not os.path.isfile(a.config):
            raise UsageError("--config: %s: no such file" % a.config)
        with open(a.config) as f:
            text = f.read()
        bins = find_binaries(a.build_dir)
        ok, msg = ringway_check(bins["ringway"], a.config)
        if not ok:
            raise UsageError("the config fails `ringway check`: %s" % msg)
        cfg = yamlcfg.Config(text)
        current = cfg.effective()
        # the generated benchmark config must pass too (catches what the
        # line-based rewrite cannot handle before any load is started)
        yamlcfg.build(yamlcfg.absolutise_paths(text, os.path.dirname(os.path.abspath(a.config))),
                      workers=1, loopback=True, endpoints=["127.0.0.1:1"])
    except UsageError as e:
        sys.stderr.write("ringway-tune: error: %s\n" % e)
        return 2
    except OSError as e:
        sys.stderr.write("ringway-tune: error: %s\n" % e)
        return 2
    return run(a, s, bins, text, cfg, current)


def print_kernel(results):
    print("Kernel settings (profile: tuning/sysctl-edge.conf):")
    for r in results:
        mark = {"flag": "LOW ", "ok": "ok  ", "info": "info", "unavailable": "n/a "}[r.status]
        print("  %s %-30s %-24s profile %s%s" % (mark, r.name, r.value or "-", r.recommended,
                                                  "  (%s)" % r.detail if r.detail else ""))
    cmds = sysctl.commands(results)
    if cmds:
        print("Not changed by ringway-tune; to apply:")
        for c in cmds:
            print("  " + c)


def run(a, s, bins, text, cfg, current):
    m = machine_info()
    outdir = stamp_dir(a.out, m)
    progress = Progress(a.quiet)
    warnings = plan_warnings(s.plan, s.workers)
    if busy_warning(m):
        warnings.append(busy_warning(m))
    if s.origin_mode == "config":
        warnings[:] = [w for w in warnings if "origin" not in w]
        warnings.append("--origin config: the upstreams in the config were loaded as they are; "
                        "their capacity is part of the result")
    need_nofile = max(s.workers) * (current["limits.max_connections_per_worker"] +
                                    current["upstream_max_connections"] * len(cfg.upstreams))
    ks = sysctl.check(a.proc_sys, need_nofile=need_nofile)
    result = {
        "tool": "ringway-tune", "version": VERSION, "partial": False,
        "started": datetime.datetime.now().isoformat(timespec="seconds"), "finished": None,
        "machine": m,
        "config": {"path": os.path.abspath(a.config), "upstreams": cfg.upstream_names(),
                   "current": {k: v for k, v in current.items() if k in yamlcfg.KNOBS},
                   "origin_mode": ("ringway-origin started by the tuner (%d thread(s)); every "
                                   "upstream pointed at it" % s.origin_threads
                                   if s.origin_mode == "spawn" else
                                   "the config's own endpoints")},
        "slo": {"p99_us": s.slo.p99_us, "error_frac": s.slo.error_frac,
                "min_achieved": s.slo.min_achieved},
        "method": {"probe_s": s.probe_s, "warmup_s": s.warmup_s, "connections": s.connections,
                   "load_threads": s.load_threads, "start_rate": s.start_rate,
                   "max_rate": s.max_rate, "step": s.step, "tolerance": s.tolerance,
                   "retries": s.retries, "repeat": s.repeat,
                   "request_timeout_s": s.request_timeout_s, "path": s.path, "host": s.host,
                   "workers": s.workers, "cpus": s.plan,
                   "cpus_text": describe_plan(s.plan, s.origin_mode == "spawn"),
                   "sweep": s.sweep, "quick": s.quick},
        "knees": [], "sweep": None, "best": None, "recommendation": None,
        "sysctl": [r.as_dict() for r in ks], "sysctl_commands": sysctl.commands(ks),
        "warnings": warnings, "files": {"outdir": outdir},
    }
    # The benchmark copies live in a work dir: relative file paths in the
    # config (key files) must still point where they did.
    bench_text = yamlcfg.absolutise_paths(text, os.path.dirname(os.path.abspath(a.config)))
    t = Tuner(s, bins, bench_text, progress)
    code = 0
    state = {"knobs": {}, "knee": None,
             "explicit": {n: current[n] for n in yamlcfg.KNOBS if cfg.raw(n) is not None}}

    def on_term(signum, frame):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, on_term)
    try:
        progress.note("ringway-tune: %s; SLO p99 < %s, errors <= %s; %s" % (
            a.config, fmt_us(s.slo.p99_us), "%.3g%%" % (s.slo.error_frac * 100),
            describe_plan(s.plan, s.origin_mode == "spawn")))
        for w in warnings:
            progress.note("warning: " + w)
        t.start()
        for w in s.workers:
            runs = []
            for i in range(s.repeat):
                progress.phase("workers=%d%s" % (w, " (run %d of %d)" % (i + 1, s.repeat)
                                                 if s.repeat > 1 else ""))
                runs.append(t.knee(w, {}))
                progress.note("workers=%d: knee %s req/s%s" % (
                    w, fmt_rate(runs[-1].knee), " (max rate)" if runs[-1].capped else ""))
            result["knees"].append(knee_dict(w, runs))
            knees = [r.knee for r in runs]
            if len(knees) > 1 and min(knees) < max(knees) / 1.25:
                result["warnings"].append(
                    "workers=%d: the --repeat runs differ by more than 25%% (%s req/s): this "
                    "machine is too noisy for a precise knee" % (
                        w, " / ".join(fmt_rate(k) for k in knees)))
        sweep_workers = max([w for w in s.workers if w <= len(s.plan["proxy"])] or s.workers)
        base = next(k for k in result["knees"] if k["workers"] == sweep_workers)
        state["knee"] = base["knee_rps"]
        if s.sweep:
            run_sweep(t, s, sweep_workers, current, state, result)
    except KeyboardInterrupt:
        progress.end()
        result["partial"] = True
        code = 130
        sys.stderr.write("ringway-tune: interrupted; writing a partial report\n")
    except RunError as e:
        progress.end()
        result["partial"] = True
        result["warnings"].append("run failed: %s" % e)
        sys.stderr.write("ringway-tune: %s\n" % e)
        code = 1
    except UsageError as e:
        progress.end()
        sys.stderr.write("ringway-tune: error: %s\n" % e)
        return 2
    finally:
        t.close()
        signal.signal(signal.SIGTERM, old)

    if not result["knees"]:
        return code or 1
    sweep_workers = max([k["workers"] for k in result["knees"]
                         if k["workers"] <= len(s.plan["proxy"])] or
                        [k["workers"] for k in result["knees"]])
    if state["knee"] is None:
        state["knee"] = next(k["knee_rps"] for k in result["knees"]
                             if k["workers"] == sweep_workers)
    best_knobs = state["knobs"]
    knobs = dict((k, v) for k, v in current.items() if k in yamlcfg.KNOBS)
    knobs.update(best_knobs)
    result["best"] = {"workers": sweep_workers, "knobs": knobs, "changed": best_knobs,
                      "knee_rps": state["knee"]}
    result["recommendation"] = report.recommend(
        result["knees"], result["best"], s.target_rate, s.slo.p99_us, s.headroom, m["cores"],
        s.plan["proxy"])
    result["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    tuned_full = yamlcfg.build(text, knobs=best_knobs)
    files = report.write_all(result, outdir, tuned_full)
    ok, msg = ringway_check(bins["ringway"], files["tuned_config"])
    if not ok:
        result["warnings"].append("tuned-config.yaml fails ringway check: %s" % msg)
        report.write_all(result, outdir, tuned_full)
    print_summary(result, ks)
    return code


def print_summary(r, ks):
    print("ringway-tune results: %s" % r["files"]["outdir"])
    for k in r["knees"]:
        print("  workers=%d: knee %s req/s (p99 %s at the knee)%s" % (
            k["workers"], fmt_rate(k["knee_rps"]), fmt_us(k["p99_us_at_knee"]),
            ", reached --max-rate" if k["capped"] else ""))
    if r["best"]["changed"]:
        print("  tuned: %s -> knee %s req/s" % (", ".join(
            "%s=%s" % (n, yamlcfg.format_value(n, v)) for n, v in r["best"]["changed"].items()),
            fmt_rate(r["best"]["knee_rps"])))
    elif r.get("sweep") and all(st["done"] for st in r["sweep"]["steps"]):
        print("  sweep: no knob beat the current settings by more than %.0f%%"
              % (r["sweep"]["min_gain"] * 100))
    print("  " + r["recommendation"]["text"])
    for n in r["recommendation"]["notes"]:
        print("  note: " + n)
    print_kernel(ks)
    for key in ("report_md", "report_json", "plot_png", "tuned_yaml", "tuned_config"):
        if r["files"].get(key):
            print("  %-12s %s" % (key, r["files"][key]))
