"""The processes: ringway-origin, ringway (one per configuration under test)
and ringway-load (one per probe), each pinned to its CPUs; CPU accounting
from /proc. Every process started here is stopped by close()."""

import http.client
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import tempfile
import time

from .search import Measurement
from .units import UsageError, cpulist

CLK_TCK = os.sysconf("SC_CLK_TCK")


class ConfigRejected(UsageError):
    """A generated config that `ringway check` refuses."""


class RunError(Exception):
    """A failure while measuring (ringway died, the load tool failed): exit 1."""


def find_binaries(build_dir):
    """{ringway, origin, load} paths: RINGWAY_BIN / RINGWAY_ORIGIN_BIN /
    RINGWAY_LOAD_BIN, else <build_dir>/bin/NAME."""
    out = {}
    for key, env, name in (("ringway", "RINGWAY_BIN", "ringway"),
                           ("origin", "RINGWAY_ORIGIN_BIN", "ringway-origin"),
                           ("load", "RINGWAY_LOAD_BIN", "ringway-load")):
        path = os.environ.get(env) or os.path.join(build_dir, "bin", name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise UsageError("%s not found or not executable at %s (build it: cmake -S . -B build "
                             "-G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build ringway "
                             "ringway-origin ringway-load; or pass --build-dir / set %s)"
                             % (name, path, env))
        out[key] = path
    return out


def ringway_check(ringway, path):
    """(ok, message) of `ringway check --config path`."""
    try:
        p = subprocess.run([ringway, "check", "--config", path], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return False, "cannot run ringway check: %s" % e
    msg = (p.stderr.strip() or p.stdout.strip()).splitlines()
    return p.returncode == 0, (msg[-1] if msg else "exit status %d" % p.returncode)


def _pin(cpus):
    def fn():
        if cpus:
            os.sched_setaffinity(0, cpus)
    return fn


def _read_port(proc, what, timeout=15.0):
    deadline = time.time() + timeout
    buf = b""
    while time.time() < deadline and proc.poll() is None:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if not r:
            continue
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        m = re.search(rb"listening \S*:(\d+)\s*\n", buf)
        if m:
            return int(m.group(1))
    raise RunError("%s did not report its port (exit status %s): %r"
                   % (what, proc.poll(), buf.decode(errors="replace")[-300:]))


def cpu_seconds(pid):
    """utime + stime of a process (all threads), seconds; None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


class Proc:
    def __init__(self, argv, cpus, what, workdir):
        self.what = what
        self.err_path = os.path.join(workdir, "%s.stderr" % what)
        self._err = open(self.err_path, "wb")
        try:
            self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._err,
                                      preexec_fn=_pin(cpus))
        except OSError as e:
            self._err.close()
            raise RunError("cannot start %s: %s" % (argv[0], e))
        try:
            self.port = _read_port(self.p, what)
        except RunError as e:
            self.stop()
            raise RunError("%s\n%s" % (e, self.stderr_tail()))

    def alive(self):
        return self.p.poll() is None

    def cpu(self):
        return cpu_seconds(self.p.pid)

    def stderr_tail(self, n=5):
        try:
            with open(self.err_path, "rb") as f:
                lines = f.read().decode(errors="replace").strip().splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Signal, wait; the exit status (None when it had to be killed)."""
        code = self.p.poll()
        if code is None:
            self.p.send_signal(sig)
            try:
                code = self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                code = None
        if self.p.stdout:
            self.p.stdout.close()
        self._err.close()
        return code


class Bench:
    """Runs probes: one origin for the whole run, one ringway per config."""

    def __init__(self, bins, plan, opts, workdir=None):
        self.bins = bins
        self.plan = plan
        self.opts = opts     # probe_s, warmup_s, connections, load_threads, origin_threads,
        #                      request_timeout_s, path, host, pause_s
        self.own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="ringway-tune-")
        self.origin = None
        self.gateway = None
        self.config_path = None

    # -- processes -------------------------------------------------------
    def start_origin(self):
        self.origin = Proc([self.bins["origin"], "--port", "0", "--threads",
                            str(self.opts["origin_threads"]), "--quiet"],
                           self.plan["origin"], "origin", self.workdir)
        return self.origin.port

    def start_gateway(self, config_text, tag):
        self.stop_gateway()
        self.config_path = os.path.join(self.workdir, "ringway-%s.yaml" % tag)
        with open(self.config_path, "w") as f:
            f.write(config_text)
        ok, msg = ringway_check(self.bins["ringway"], self.config_path)
        if not ok:
            raise ConfigRejected("the generated config fails ringway check: %s" % msg)
        self.gateway = Proc([self.bins["ringway"], "--config", self.config_path],
                            self.plan["proxy"], "ringway-%s" % tag, self.workdir)
        self.check_answer(self.gateway.port)
        return self.gateway.port

    def check_answer(self, port):
        """One request before any probe: a path that answers an error would
        measure the capacity for error pages."""
        path, host = self.opts.get("path") or "/", self.opts.get("host")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Host": host} if host else {})
            status = conn.getresponse().status
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            raise RunError("GET %s through ringway failed: %s" % (path, e))
        if not 200 <= status < 400:
            raise UsageError("GET %s%s through ringway answered %d: the tuner measures good "
                             "answers only (check --path, --host and the route's filters)"
                             % (path, " (Host: %s)" % host if host else "", status))

    def stop_gateway(self):
        if self.gateway is None:
            return
        g, self.gateway = self.gateway, None
        code = g.stop()
        if code != 0:
            raise RunError("ringway exited with status %s:\n%s" % (code, g.stderr_tail()))

    def close(self):
        try:
            self.stop_gateway()
        except RunError:
            pass
        if self.origin is not None:
            self.origin.stop(signal.SIGKILL)
            self.origin = None
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- one probe -------------------------------------------------------
    def load_argv(self, rate, port):
        o = self.opts
        argv = [self.bins["load"], "--json", "--rate", "%.10g" % rate,
                "--duration", "%.10gs" % o["probe_s"], "--connections", str(o["connections"]),
                "--threads", str(o["load_threads"]), "--timeout", "%.10gs" % o["request_timeout_s"]]
        if o["warmup_s"] > 0:
            argv += ["--warmup", "%.10gs" % o["warmup_s"]]
        if o.get("host"):
            argv += ["-H", "Host: %s" % o["host"]]
        return argv + ["http://127.0.0.1:%d%s" % (port, o.get("path") or "/")]

    def measure(self, rate):
        g = self.gateway
        if g is None or not g.alive():
            raise RunError("ringway is not running:\n%s" % (g.stderr_tail() if g else ""))
        argv = self.load_argv(rate, g.port)
        before_g = g.cpu()
        before_o = self.origin.cpu() if self.origin else None
        before_l = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        budget = self.opts["probe_s"] + self.opts["warmup_s"] + self.opts["request_timeout_s"] + 30
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=budget,
                               preexec_fn=_pin(self.plan["load"]))
        except subprocess.TimeoutExpired:
            raise RunError("ringway-load did not finish within %.0fs" % budget)
        wall = time.monotonic() - t0
        after_l = resource.getrusage(resource.RUSAGE_CHILDREN)
        after_g = g.cpu()
        after_o = self.origin.cpu() if self.origin else None
        if p.returncode != 0:
            raise RunError("ringway-load exited %d: %s" % (p.returncode, p.stderr.strip()[-500:]))
        try:
            j = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RunError("ringway-load printed no JSON: %r" % p.stdout[-300:])
        if not g.alive():
            raise RunError("ringway died during the probe:\n%s" % g.stderr_tail())
        if self.opts.get("pause_s"):
            time.sleep(self.opts["pause_s"])
        window = self.opts["probe_s"] + self.opts["warmup_s"]
        load_cpu = (after_l.ru_utime + after_l.ru_stime) - (before_l.ru_utime + before_l.ru_stime)
        return to_measurement(rate, j, window=window, wall=wall,
                              proxy_cpu=_delta(before_g, after_g),
                              origin_cpu=_delta(before_o, after_o), load_cpu=load_cpu)


def _delta(a, b):
    return None if a is None or b is None else max(0.0, b - a)


def to_measurement(rate, j, window=None, wall=None, proxy_cpu=None, origin_cpu=None,
                   load_cpu=None):
    """A Measurement from ringway-load's JSON. Errors are every request that
    did not get a good answer: requests lost to a transport error, timeouts,
    requests never sent (the schedule fell behind, or no connection could be
    made), and 4xx and 5xx responses: a 404 from a wrong path, a 401 or a 429
    are cheap error pages, not capacity, and ringway's 502/503/504 are
    failures to the client. Failed connect attempts are not requests (a
    client retries them): the requests they kept from being sent are in
    `unsent`."""
    # Every scheduled request's latency, the unanswered ones at how long
    # they had waited (older ringway-load: answered ones only).
    lat = j.get("latency_all_us") or j.get("latency_us") or {}
    status = j.get("status") or {}
    s4xx = sum(int(v) for k, v in status.items() if str(k).startswith("4"))
    s5xx = sum(int(v) for k, v in status.items() if str(k).startswith("5"))
    scheduled = j.get("scheduled") or 0
    unsent = j.get("unsent") or 0
    lost = int(j.get("errors") or 0) - int((j.get("errors_by_kind") or {}).get("connect") or 0)
    bad = max(0, lost) + int(j.get("timeouts") or 0) + int(unsent) + s4xx + s5xx
    err = (bad / scheduled) if scheduled else 1.0
    extra = {
        "p50_us": lat.get("p50", 0), "p90_us": lat.get("p90", 0), "p999_us": lat.get("p999", 0),
        "max_us": lat.get("max", 0), "requests": j.get("requests", 0), "scheduled": scheduled,
        "errors": j.get("errors", 0), "timeouts": j.get("timeouts", 0), "unsent": unsent,
        "status_4xx": s4xx, "status_5xx": s5xx,
    }
    # Delivered: the offered rate times the share of the schedule answered.
    # ringway-load's own `rate` divides by a duration that runs to the last
    # answer, so one late answer in the drain would read as a rate not kept.
    requests = int(j.get("requests") or 0)
    achieved = rate * min(1.0, requests / scheduled) if scheduled else float(j.get("rate") or 0.0)
    if window:
        served = achieved * window
        if proxy_cpu is not None:
            extra["proxy_cpu_pct"] = round(100.0 * proxy_cpu / window, 1)
            extra["proxy_cpu_us_per_req"] = round(1e6 * proxy_cpu / served, 2) if served else None
        if origin_cpu is not None:
            extra["origin_cpu_pct"] = round(100.0 * origin_cpu / window, 1)
        if load_cpu is not None:
            extra["load_cpu_pct"] = round(100.0 * load_cpu / (wall or window), 1)
    return Measurement(rate=rate, achieved=achieved,
                       p99_us=float(lat.get("p99", 0) or 0), error_frac=err, extra=extra)


def describe_plan(plan, spawn_origin=True):
    if not spawn_origin:
        return "ringway on CPU %s, ringway-load on CPU %s (origin: the config's endpoints)" % (
            cpulist(plan["proxy"]), cpulist(plan["load"]))
    return "ringway on CPU %s, origin on CPU %s, ringway-load on CPU %s" % (
        cpulist(plan["proxy"]), cpulist(plan["origin"]), cpulist(plan["load"]))
