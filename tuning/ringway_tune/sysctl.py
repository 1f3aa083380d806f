"""Kernel settings that limit an edge gateway's capacity, checked against the
profile in tuning/sysctl-edge.conf. Reads only (a /proc/sys tree, which tests
replace by a temp dir); the tuner never changes a setting, it prints the
commands that would."""

import dataclasses
import os
import resource


@dataclasses.dataclass
class Rule:
    name: str          # sysctl name (dots), or "RLIMIT_NOFILE"
    kind: str          # min | eq | text | range | triple_max | info | rlimit
    recommended: str   # the profile value, as written in sysctl-edge.conf
    why: str


PORT_RANGE_WIDTH = 65535 - 10240 + 1

RULES = [
    Rule("net.core.somaxconn", "min", "65535",
         "caps every listen backlog (ringway's listen.backlog, default 4096): a full accept "
         "queue drops SYNs during connection bursts"),
    Rule("net.ipv4.tcp_max_syn_backlog", "min", "65535",
         "half-open connections kept per listener before SYN cookies/drops"),
    Rule("net.core.netdev_max_backlog", "min", "16384",
         "packets queued per CPU between the NIC and the stack before drops"),
    Rule("net.ipv4.ip_local_port_range", "range", "10240 65535",
         "ephemeral ports for upstream connections: one per (origin address, port); a narrow "
         "range exhausts under connection churn (EADDRNOTAVAIL)"),
    Rule("net.ipv4.tcp_tw_reuse", "eq", "1",
         "lets new upstream connections reuse ports in TIME_WAIT (safe for outgoing "
         "connections with timestamps); the default 2 does it on loopback only"),
    Rule("fs.file-max", "min", "2097152",
         "system-wide open files: every client and upstream connection is a descriptor"),
    Rule("fs.nr_open", "min", "1048576",
         "ceiling for a process's RLIMIT_NOFILE"),
    Rule("RLIMIT_NOFILE", "rlimit", "1048576",
         "per-process descriptors (soft limit, inherited by ringway): caps connections and "
         "the registered-file table; set LimitNOFILE= in the systemd unit or nofile in "
         "limits.conf"),
    Rule("net.core.rmem_max", "min", "16777216",
         "largest receive buffer a socket may get (autotuning and SO_RCVBUF)"),
    Rule("net.core.wmem_max", "min", "16777216",
         "largest send buffer a socket may get"),
    Rule("net.ipv4.tcp_rmem", "triple_max", "4096 131072 16777216",
         "TCP receive buffer min/default/max: the max bounds throughput per connection on "
         "long fat paths (bandwidth x RTT)"),
    Rule("net.ipv4.tcp_wmem", "triple_max", "4096 65536 16777216",
         "TCP send buffer min/default/max: large responses to slow or distant clients"),
    Rule("net.core.default_qdisc", "text", "fq",
         "the queueing discipline new NIC queues get: fq paces flows (BBR's pacing) in the "
         "qdisc; without it TCP paces every socket with its own hrtimer, and large responses "
         "leave from timer interrupts (measured on loopback, BBR without fq: a 128 KiB cached "
         "response 46 us of CPU vs 19 us unpaced; docs/benchmarks.md)"),
    Rule("net.ipv4.tcp_congestion_control", "info", "bbr",
         "BBR with fq is the usual edge choice (better throughput to lossy, distant clients); "
         "reported because CPU per large response depends on it: record it with benchmarks"),
    Rule("net.core.busy_poll", "info", "0",
         "busy polling trades CPU for latency: leave 0 on shared machines; 50 (us) only with "
         "dedicated cores and NIC queues"),
    Rule("net.core.busy_read", "info", "0",
         "as busy_poll, for blocking reads; 0 unless cores are dedicated"),
]


@dataclasses.dataclass
class Result:
    name: str
    value: str          # as read ('' when unavailable)
    recommended: str
    status: str         # ok | flag | info | unavailable
    why: str
    detail: str = ""

    def as_dict(self):
        return dataclasses.asdict(self)


def _read(root, name):
    path = os.path.join(root, *name.split("."))
    try:
        with open(path) as f:
            return " ".join(f.read().split())
    except OSError:
        return None


def _ints(text):
    try:
        return [int(x) for x in text.split()]
    except (ValueError, AttributeError):
        return None


def evaluate(rule, value):
    """(status, detail) of one value against its rule."""
    if value is None:
        return "unavailable", "not readable here (container or older kernel?)"
    if rule.kind == "info":
        return "info", ""
    if rule.kind == "text":
        return ("ok", "") if value == rule.recommended else ("flag", "recommended %s" % rule.recommended)
    got, rec = _ints(value), _ints(rule.recommended)
    if got is None or rec is None:
        return "unavailable", "cannot read %r" % value
    if rule.kind in ("min", "rlimit"):
        return ("ok", "") if got[0] >= rec[0] else ("flag", "below %s" % rule.recommended)
    if rule.kind == "eq":
        return ("ok", "") if got[0] == rec[0] else ("flag", "recommended %s" % rule.recommended)
    if rule.kind == "range":
        if len(got) != 2:
            return "unavailable", "cannot read %r" % value
        width = got[1] - got[0] + 1
        return (("ok", "") if width >= PORT_RANGE_WIDTH else
                ("flag", "%d ports, recommended %d" % (width, PORT_RANGE_WIDTH)))
    if rule.kind == "triple_max":
        if len(got) != 3:
            return "unavailable", "cannot read %r" % value
        return (("ok", "") if got[2] >= rec[2] else
                ("flag", "max %d below %d" % (got[2], rec[2])))
    raise ValueError(rule.kind)


def check(root="/proc/sys", nofile=None, need_nofile=None):
    """Every rule's Result. nofile: (soft, hard) RLIMIT_NOFILE (default: this
    process's); need_nofile: descriptors the tuned config can use, shown
    alongside the limit."""
    if nofile is None:
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    out = []
    for rule in RULES:
        if rule.kind == "rlimit":
            soft, hard = nofile
            soft_s = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
            hard_s = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
            value = str(2 ** 62 if soft == resource.RLIM_INFINITY else soft)
            status, detail = evaluate(rule, value)
            detail = ("soft %s, hard %s" % (soft_s, hard_s)) + ("; " + detail if detail else "")
            if need_nofile:
                detail += "; the tuned config can use up to %d" % need_nofile
            out.append(Result(rule.name, soft_s, rule.recommended, status, rule.why, detail))
            continue
        value = _read(root, rule.name)
        status, detail = evaluate(rule, value)
        out.append(Result(rule.name, value or "", rule.recommended, status, rule.why, detail))
    return out


def commands(results):
    """What to run to apply the flagged settings (printed, never executed)."""
    cmds = []
    for r in results:
        if r.status != "flag":
            continue
        if r.name == "RLIMIT_NOFILE":
            cmds.append("# RLIMIT_NOFILE: LimitNOFILE=%s in ringway's systemd unit, or "
                        "'ulimit -n %s' in the shell that starts it" % (r.recommended, r.recommended))
        else:
            v = r.recommended
            cmds.append("sudo sysctl -w %s=%s" % (r.name, '"%s"' % v if " " in v else v))
    if cmds:
        cmds.append("# or all at once, persistently:")
        cmds.append("sudo install -m 644 tuning/sysctl-edge.conf /etc/sysctl.d/90-ringway-edge.conf"
                    " && sudo sysctl --system")
    return cmds


def parse_conf(text):
    """name -> value of a sysctl.conf text (for tests: the profile file and
    RULES must agree)."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = " ".join(v.split())
    return out
