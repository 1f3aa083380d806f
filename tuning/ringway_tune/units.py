"""Parsing of the command line's values: latencies, error budgets, durations,
rates, lists and the CPU plan. Pure functions; every error is a UsageError
whose message is shown as is (exit status 2)."""

import os
import re


class UsageError(Exception):
    """A bad argument, a missing binary or a bad config: exit status 2."""


_LAT_UNITS = {"us": 1.0, "\u00b5s": 1.0, "ms": 1000.0, "s": 1_000_000.0}


def parse_latency_us(text, what="--slo-p99"):
    """'2ms' -> 2000.0, '500us' -> 500.0, '1.5ms', '0.2s'. A unit is required."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(us|\u00b5s|ms|s)\s*", str(text))
    if not m:
        raise UsageError("%s: %r is not a latency; write e.g. 2ms, 500us or 0.5s" % (what, text))
    value = float(m.group(1)) * _LAT_UNITS[m.group(2)]
    if value <= 0:
        raise UsageError("%s: must be greater than 0, got %r" % (what, text))
    return value


def parse_fraction(text, what="--slo-errors"):
    """'0.1%' -> 0.001. The percent sign is required (0.1 alone is ambiguous)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", str(text))
    if not m:
        raise UsageError("%s: %r is not a percentage; write e.g. 0.1%% or 0%%" % (what, text))
    value = float(m.group(1)) / 100.0
    if value > 1.0:
        raise UsageError("%s: must be at most 100%%, got %r" % (what, text))
    return value


_DUR_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}


def parse_duration_s(text, what, minimum=0.0):
    """'3s' -> 3.0, '500ms' -> 0.5, '1m' -> 60.0, bare number = seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", str(text))
    if not m:
        raise UsageError("%s: %r is not a duration; write e.g. 3s or 500ms" % (what, text))
    value = float(m.group(1)) * _DUR_UNITS[m.group(2) or "s"]
    if value < minimum:
        raise UsageError("%s: must be at least %gs, got %r" % (what, minimum, text))
    return value


def parse_rate(text, what):
    """'5000', '5k', '1.5k', '2M' -> requests per second (float > 0)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*(?:/s|rps|req/s)?\s*", str(text))
    if not m:
        raise UsageError("%s: %r is not a rate; write e.g. 5000, 20k or 1.5M" % (what, text))
    value = float(m.group(1)) * {"": 1, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6}[m.group(2)]
    if value <= 0:
        raise UsageError("%s: must be greater than 0, got %r" % (what, text))
    return value


def parse_int_list(text, what, lo=1, hi=1024):
    """'1,2,4' or '1-4' -> sorted unique ints within [lo, hi]."""
    out = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise UsageError("%s: %r is not a number or a range a-b" % (what, part))
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        if a > b:
            raise UsageError("%s: empty range %r" % (what, part))
        out.update(range(a, b + 1))
    if not out:
        raise UsageError("%s: empty list" % what)
    bad = [v for v in out if not lo <= v <= hi]
    if bad:
        raise UsageError("%s: %d is out of range %d..%d" % (what, bad[0], lo, hi))
    return sorted(out)


ROLES = ("proxy", "origin", "load")


def default_plan(allowed):
    """Which CPUs ringway, the origin and the load generator run on, from the
    CPUs this process may use. ringway always gets CPUs of its own when there
    are at least two; origin and load share what is left on small boxes."""
    cpus = sorted(allowed)
    n = len(cpus)
    if n == 1:
        return {"proxy": cpus, "origin": cpus, "load": cpus}
    if n == 2:
        return {"proxy": cpus[:1], "origin": cpus[1:], "load": cpus[1:]}
    if n == 3:
        return {"proxy": cpus[:1], "origin": cpus[1:2], "load": cpus[2:]}
    half = n // 2
    rest = cpus[half:]
    q = max(1, len(rest) // 2)
    return {"proxy": cpus[:half], "origin": rest[:q], "load": rest[q:] or rest[:q]}


def parse_plan(text, allowed):
    """'proxy=0,origin=1,load=1' (a token without '=' extends the previous
    role: proxy=0,1 or proxy=0-3). Roles not given keep the default plan.
    'wrk' is accepted for 'load', as bench/run.py spells it."""
    plan = default_plan(allowed)
    given = {}
    key = None
    for tok in str(text).split(","):
        tok = tok.strip()
        if not tok:
            continue
        if "=" in tok:
            key, val = (s.strip() for s in tok.split("=", 1))
            key = "load" if key == "wrk" else key
            if key not in ROLES:
                raise UsageError("--cpus: unknown role %r (use proxy, origin, load)" % key)
            given[key] = parse_int_list(val, "--cpus " + key, 0, 65535)
        elif key is None:
            raise UsageError("--cpus: %r has no role (use proxy=N,origin=N,load=N)" % tok)
        else:
            given[key] = sorted(set(given[key]) | set(parse_int_list(tok, "--cpus " + key, 0, 65535)))
    plan.update(given)
    for role in ROLES:
        if not set(plan[role]) <= set(allowed):
            raise UsageError("--cpus: %s CPUs %s are not all usable here (allowed: %s)"
                             % (role, cpulist(plan[role]), cpulist(sorted(allowed))))
    return plan


def plan_warnings(plan, workers):
    w = []
    if set(plan["proxy"]) & set(plan["origin"]):
        w.append("ringway and the origin share a CPU")
    if set(plan["proxy"]) & set(plan["load"]):
        w.append("ringway and the load generator share a CPU")
    if set(plan["origin"]) & set(plan["load"]):
        w.append("the origin and the load generator share a CPU: the knee may be theirs, "
                 "not ringway's (check ringway's CPU use at the knee)")
    over = [n for n in workers if n > len(plan["proxy"])]
    if over:
        w.append("workers %s exceed ringway's %d CPU(s): those workers share cores, so "
                 "their knees do not show scaling" % (cpulist(over), len(plan["proxy"])))
    return w


def cpulist(cpus):
    return ",".join(str(c) for c in cpus)


def allowed_cpus():
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def fmt_us(us):
    if us is None:
        return "-"
    if us < 1000:
        return "%.0fus" % us
    if us < 1_000_000:
        return "%.2fms" % (us / 1000.0)
    return "%.2fs" % (us / 1e6)


def fmt_rate(r):
    if r is None:
        return "-"
    return "{:,.0f}".format(r)


def fmt_pct(f):
    return "%.3g%%" % (f * 100.0)
