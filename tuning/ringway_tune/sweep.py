"""One knob at a time: which values to try around the current settings, and
whether a value's knee is better enough to keep. Pure."""

from .yamlcfg import KNOBS

# Multipliers of the current value tried per knob (1 = the current value,
# measured once as the baseline and not again); for durations ("us" knobs,
# whose default is 0 = off) the values themselves.
FULL = {
    "engine.ring_entries": (0.25, 4),
    "engine.cq_entries": (0.25, 4),
    "engine.buffer_count": (0.25, 4),
    "engine.buffer_size": (0.25, 4),
    "upstreams.max_idle_per_worker": (0, 0.25, 4),
    "limits.max_connections_per_worker": (0.25, 4),
    "engine.batch_wait": (0, 50, 100, 200),
}
QUICK = {
    "engine.ring_entries": (0.25,),
    "engine.buffer_count": (0.25,),
    "upstreams.max_idle_per_worker": (0.25,),
}


def _pow2_floor(n):
    p = 1
    while p * 2 <= n:
        p *= 2
    return p


def candidates(name, current, multipliers, explicit, upstream_max_conn):
    """Values to try for one knob, valid for ringway, current excluded.
    explicit: knob -> value for the knobs written in the config under test
    (to keep cq_entries >= ring_entries)."""
    sec, key, kind, default, lo, hi = KNOBS[name]
    out = []
    for m in multipliers:
        v = int(m if kind == "us" else current * m)
        if kind == "pow2":
            v = _pow2_floor(max(v, 1))
        elif kind == "size":
            v = max(1024, (v // 1024) * 1024)
        v = min(max(v, lo), hi)
        if name == "upstreams.max_idle_per_worker":
            v = min(v, upstream_max_conn)
        ring = explicit.get("engine.ring_entries")
        cq = explicit.get("engine.cq_entries")
        if name == "engine.cq_entries" and v < (ring or KNOBS["engine.ring_entries"][3]):
            continue
        if name == "engine.ring_entries" and cq is not None and v > cq:
            continue
        if v != current and v not in out:
            out.append(v)
    return sorted(out)


# Knobs that do nothing below a kernel version: (major, minor).
NEEDS_KERNEL = {"engine.batch_wait": (6, 12)}


def unsupported(names, kernel):
    """The knobs among names this kernel cannot do."""
    return [n for n in names if kernel < NEEDS_KERNEL.get(n, (0, 0))]


def plan(names, quick, kernel=(99, 0)):
    """[(knob, multipliers)] in sweep order; by default only the knobs this
    kernel can do (ringway turns the others off: their knees would be noise)."""
    table = QUICK if quick else FULL
    if names:
        unknown = [n for n in names if n not in FULL]
        if unknown:
            raise ValueError(unknown[0])
        return [(n, table.get(n, FULL[n])) for n in names]
    return [(n, m) for n, m in table.items() if not unsupported([n], kernel)]


def better(candidate_knee, best_knee, min_gain):
    """A value replaces the current one only when its knee beats the current
    knee by more than min_gain (relative): two knees closer than the search's
    resolution, or the noise of a shared machine, are a tie, and a tie keeps
    the current (default) value."""
    if candidate_knee <= 0:
        return False
    if best_knee <= 0:
        return True
    return candidate_knee > best_knee * (1.0 + min_gain)


def decide(results, current_knee, min_gain, recheck=None):
    """Which value of one knob to keep: (value or None to keep the current
    one, the knee to compare the next knob against, the recheck knee or None).

    results: [(value, knee)]. When the best value looks better, the current
    settings are measured again (recheck(), A/B/A): a baseline measured while
    the machine was busy would otherwise make any later value look better.
    The current settings count with the better of their two knees."""
    if not results:
        return None, current_knee, None
    value, knee = max(results, key=lambda r: r[1])
    if not better(knee, current_knee, min_gain):
        return None, current_knee, None
    again = None
    if recheck is not None:
        again = recheck()
        reference = max(current_knee, again)
        if not better(knee, reference, min_gain):
            return None, reference, again
    return value, knee, again


def grid_start(start, step, knee):
    """Where a sweep value's knee search starts: the baseline search's own
    probe rate (start x step^k) just below knee / step. The search then walks
    the same rates the baseline walked, so two knees are compared on the same
    grid (a latency curve with bumps gives different knees on different
    grids), and only the low probes that pass anyway are skipped."""
    if knee <= 0:
        return start
    r = start
    while r * step <= knee / step:
        r *= step
    return r
