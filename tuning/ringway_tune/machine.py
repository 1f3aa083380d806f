"""What machine this is, and the stamped output folder named after it."""

import datetime
import os
import platform
import re

from .units import allowed_cpus


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown-cpu"


def kernel_version(release=None):
    """(major, minor) of the running kernel ("6.18.44-x" -> (6, 18))."""
    m = re.match(r"(\d+)\.(\d+)", release or platform.release())
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def load_average():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine_info():
    return {"cpu_model": cpu_model(), "cores": os.cpu_count() or 1,
            "usable_cpus": ",".join(str(c) for c in allowed_cpus()),
            "kernel": platform.release(), "load_average_at_start": load_average()}


def busy_warning(m):
    """A warning when other work is already running (1-minute load average
    above half the cores before the tuner starts anything)."""
    la = m.get("load_average_at_start")
    if la is not None and la > 0.5 * m["cores"]:
        return ("load average %.2f on %d cores before the run: other work is running on this "
                "machine, and every probe measures it too (expect noise; compare --repeat runs)"
                % (la, m["cores"]))
    return None


def slug(text, n=32):
    s = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")
    return s[:n].strip("-.") or "unknown"


def stamp_dir(base, m, now=None):
    now = now or datetime.datetime.now()
    name = "%s_%s_%dc_%s" % (now.strftime("%Y%m%d-%H%M%S"), slug(m["cpu_model"]), m["cores"],
                             slug(m["kernel"], 40))
    path = os.path.join(base, name)
    n = 2
    while os.path.exists(path):
        path = os.path.join(base, "%s-%d" % (name, n))
        n += 1
    return path
