"""The outputs: report.json (everything), report.md (for people), tuned.yaml
(a snippet to merge), the capacity curve (gnuplot PNG, with its data and
script). Pure functions of the result dict, apart from write_* and plot()."""

import json
import math
import os
import shutil
import subprocess

from .units import fmt_pct, fmt_rate, fmt_us
from .yamlcfg import KNOBS, format_value

MD_SECTIONS = ("Summary", "Machine", "SLO and method", "Knee per worker count",
               "Capacity curve", "Knob sweep", "Best settings", "Recommendation",
               "Kernel settings", "Caveats")
JSON_KEYS = ("tool", "version", "partial", "started", "finished", "machine", "config", "slo",
             "method", "knees", "sweep", "best", "recommendation", "sysctl",
             "sysctl_commands", "warnings", "files")


def recommend(knees, best, target_rate, slo_p99_us, headroom, machine_cores, proxy_cpus):
    """The capacity recommendation. Per-core capacity comes from the largest
    worker count that had a core of its own (its knee / workers, or the tuned
    knee when the sweep ran at that count); cores = target / (per core x
    headroom), rounded up; instances = cores / this machine's cores."""
    rec = {"target_rate": target_rate, "slo_p99_us": slo_p99_us, "headroom": headroom,
           "machine_cores": machine_cores, "per_core_rps": None, "basis_workers": None,
           "cores": None, "instances": None, "cpu_bound_per_core_rps": None, "notes": [],
           "text": ""}
    usable = [k for k in knees if k["knee_rps"] > 0 and k["workers"] <= max(1, len(proxy_cpus))]
    if not usable:
        usable = [k for k in knees if k["knee_rps"] > 0]
    if not usable:
        floors = [k["p99_floor_us"] for k in knees if k.get("p99_floor_us")]
        rec["text"] = ("No probe met the SLO (p99 < %s), so no capacity can be given: relax the "
                       "SLO, lower --start-rate, or look at the probes below." % fmt_us(slo_p99_us))
        if floors:
            rec["text"] += (" The lowest p99 seen was %s: if that is above the SLO even at low "
                            "rates, the SLO is below this machine's latency floor (a busy or "
                            "shared machine)." % fmt_us(min(floors)))
        return rec
    basis = max(usable, key=lambda k: k["workers"])
    knee = basis["knee_rps"]
    if best and best.get("workers") == basis["workers"] and best.get("knee_rps"):
        knee = max(knee, best["knee_rps"])
    per_core = knee / basis["workers"]
    rec["per_core_rps"] = round(per_core, 1)
    rec["basis_workers"] = basis["workers"]
    cpu_pct = basis.get("proxy_cpu_pct_at_knee")
    us_req = basis.get("proxy_cpu_us_per_req")
    if us_req:
        rec["cpu_bound_per_core_rps"] = round(1e6 / us_req, 1)
    if basis.get("capped"):
        rec["notes"].append("the knee reached --max-rate: the real per-core capacity is higher")
    if cpu_pct is not None and cpu_pct < 80 * basis["workers"]:
        rec["notes"].append(
            "ringway used %.0f%% CPU over %d worker(s) at the knee: the limit was not ringway's "
            "CPU (the origin or load generator, a shared core, or the latency floor), so the "
            "per-core figure is a lower bound%s" % (
                cpu_pct, basis["workers"],
                "; by CPU time per request (%.1f us) one busy core would do about %s req/s"
                % (us_req, fmt_rate(1e6 / us_req)) if us_req else ""))
    if target_rate:
        cores = max(1, math.ceil(target_rate / (per_core * headroom)))
        instances = max(1, math.ceil(cores / machine_cores))
        rec["cores"] = cores
        rec["instances"] = instances
        rec["text"] = (
            "For %s req/s at p99 < %s you need %d core%s (%d instance%s of this machine, "
            "%d cores each), planning each core at %.0f%% of its measured knee of %s req/s. "
            "Add one instance for N+1." % (
                fmt_rate(target_rate), fmt_us(slo_p99_us), cores, "" if cores == 1 else "s",
                instances, "" if instances == 1 else "s", machine_cores, headroom * 100,
                fmt_rate(per_core)))
    else:
        rec["text"] = ("One core sustains %s req/s at p99 < %s (measured with %d worker%s); "
                       "pass --target-rate to size a deployment." % (
                           fmt_rate(per_core), fmt_us(slo_p99_us), basis["workers"],
                           "" if basis["workers"] == 1 else "s"))
    return rec


# -- markdown ---------------------------------------------------------------

def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def markdown(r):
    m = r["machine"]
    slo = r["slo"]
    meth = r["method"]
    rec = r["recommendation"] or {}
    L = ["# ringway capacity report", ""]
    if r.get("partial"):
        L += ["**Partial run** (interrupted): the numbers below cover what was measured.", ""]
    L += ["`%s` on %s, %s, started %s." % (r["config"]["path"], m["cpu_model"], m["kernel"],
                                            r["started"]), ""]

    L += ["## Summary", ""]
    L += ["- SLO: p99 < %s, errors <= %s" % (fmt_us(slo["p99_us"]), fmt_pct(slo["error_frac"]))]
    for k in r["knees"]:
        L.append("- %d worker%s: knee **%s req/s**%s" % (
            k["workers"], "" if k["workers"] == 1 else "s", fmt_rate(k["knee_rps"]),
            " (reached --max-rate)" if k.get("capped") else ""))
    if rec.get("text"):
        L.append("- " + rec["text"])
    L.append("")

    L += ["## Machine", ""]
    L += ["- CPU: %s, %d cores (usable here: %s)" % (m["cpu_model"], m["cores"], m["usable_cpus"]),
          "- kernel: %s" % m["kernel"],
          "- pinning: %s" % meth["cpus_text"]]
    if m.get("load_average_at_start") is not None:
        L.append("- load average before the run: %.2f" % m["load_average_at_start"])
    L.append("")

    L += ["## SLO and method", ""]
    L += ["- A probe is good when p99 < %s, errors <= %s (transport errors, timeouts, requests "
          "never sent, 4xx and 5xx) and at least %.0f%% of the offered rate was served." % (
              fmt_us(slo["p99_us"]), fmt_pct(slo["error_frac"]), slo["min_achieved"] * 100),
          "- Each probe: ringway-load open loop, %gs measured after %gs warm-up, %d connections, "
          "%d thread(s), request timeout %gs, `GET %s`%s." % (
              meth["probe_s"], meth["warmup_s"], meth["connections"], meth["load_threads"],
              meth["request_timeout_s"], meth["path"],
              " with Host: %s" % meth["host"] if meth.get("host") else ""),
          "- Search: from %s req/s, x%g per step until the SLO breaks, then bisection to %s; "
          "a failed probe is retried %d time(s) (best of)." % (
              fmt_rate(meth["start_rate"]), meth["step"], fmt_pct(meth["tolerance"]),
              meth["retries"]),
          "- Origin: %s." % r["config"]["origin_mode"], ""]

    L += ["## Knee per worker count", ""]
    rows = []
    for k in r["knees"]:
        rows.append([k["workers"], fmt_rate(k["knee_rps"]) + (" (max)" if k.get("capped") else ""),
                     fmt_rate(k.get("first_bad_rps")), fmt_us(k.get("p99_us_at_knee")),
                     "-" if k.get("proxy_cpu_pct_at_knee") is None else
                     "%.0f%%" % k["proxy_cpu_pct_at_knee"],
                     "-" if not k.get("proxy_cpu_us_per_req") else
                     "%.1f" % k["proxy_cpu_us_per_req"],
                     fmt_rate(k.get("per_worker_rps")), len(k["probes"]),
                     " / ".join(fmt_rate(x) for x in k.get("runs_rps", [k["knee_rps"]]))])
    L += _table(["workers", "knee req/s", "first bad", "p99 at knee", "ringway CPU",
                 "CPU us/req", "per worker", "probes", "runs"], rows)
    if any(len(k.get("runs_rps", [])) > 1 for k in r["knees"]):
        L += ["", "With --repeat the best run counts; the runs column is the spread, i.e. "
              "how much this machine's noise moves a knee."]
    L.append("")
    for k in r["knees"]:
        L += ["<details><summary>%d worker(s): probes</summary>" % k["workers"], ""]
        L += _table(["offered", "served", "p50", "p99", "p99.9", "errors", "result"],
                    [[fmt_rate(p["rate"]), fmt_rate(p["achieved"]), fmt_us(p.get("p50_us")),
                      fmt_us(p["p99_us"]), fmt_us(p.get("p999_us")), fmt_pct(p["error_frac"]),
                      "ok" if p["ok"] else "bad: " + p["reason"]] for p in k["probes"]])
        L += ["", "</details>", ""]

    L += ["## Capacity curve", ""]
    if r["files"].get("plot_png"):
        L += ["![p99 against offered rate](%s)" % os.path.basename(r["files"]["plot_png"]), "",
              "p99 latency (log scale) against the offered rate for each worker count; the "
              "horizontal line is the SLO. The knee is where a curve crosses it.", ""]
    else:
        L += ["(gnuplot not found: no PNG; the points are in the probe tables above and in "
              "report.json.)", ""]

    L += ["## Knob sweep", ""]
    sw = r.get("sweep")
    if not sw:
        L += ["Not run (pass --sweep, or --quick for a minimal one).", ""]
    else:
        L += ["One knob at a time at %d worker(s), starting from the current settings (knee %s "
              "req/s). A value is kept only when its knee beats the current one by more than "
              "%s; otherwise it is a tie and the current value stays. Before a value replaces the "
              "current one, the current settings are measured again (recheck) and count with "
              "the better of their two knees." % (
                  sw["workers"], fmt_rate(sw["baseline_knee_rps"]), fmt_pct(sw["min_gain"])), ""]
        rows = []
        for st in sw["steps"]:
            name = st["knob"]
            for res in st["results"]:
                knee = ("rejected: %s" % res["rejected"] if res.get("rejected") else
                        fmt_rate(res["knee_rps"]) + (" (max)" if res.get("capped") else ""))
                rows.append([name, format_value(name, res["value"]), knee,
                             "kept" if res["value"] == st["chosen"] and st["changed"] else ""])
            knee = fmt_rate(st["current_knee_rps"])
            if st.get("recheck_knee_rps") is not None:
                knee += " (recheck: %s)" % fmt_rate(st["recheck_knee_rps"])
            verdict = ("(interrupted)" if not st.get("done", True) else
                       "" if st["changed"] else "kept")
            rows.append([name, format_value(name, st["current"]) + " (current)", knee, verdict])
        L += _table(["knob", "value", "knee req/s", ""], rows)
        L.append("")

    L += ["## Best settings", ""]
    best = r["best"]
    L += ["Knee %s req/s with %d worker(s) and:" % (fmt_rate(best.get("knee_rps")),
                                                  best["workers"]), ""]
    L += _table(["key", "value", "changed"],
                [[name, format_value(name, v), "yes" if name in best["changed"] else ""]
                 for name, v in best["knobs"].items()])
    L += ["", "`tuned.yaml` has these as a snippet to merge; `tuned-config.yaml` is your config "
          "with them applied (listen and endpoints untouched).", ""]

    L += ["## Recommendation", ""]
    L += [rec.get("text") or "-", ""]
    for n in rec.get("notes", []):
        L.append("- Note: " + n)
    if rec.get("notes"):
        L.append("")

    L += ["## Kernel settings", ""]
    L += _table(["setting", "value", "profile", "status", "why"],
                [[s["name"], "`%s`" % s["value"] if s["value"] else "-", "`%s`" % s["recommended"],
                  {"flag": "**below profile**", "ok": "ok", "info": "info",
                   "unavailable": "n/a"}[s["status"]] + (" (%s)" % s["detail"] if s["detail"] else ""),
                  s["why"]] for s in r["sysctl"]])
    L.append("")
    if r["sysctl_commands"]:
        L += ["ringway-tune changes nothing; to apply the profile (tuning/sysctl-edge.conf):", "",
              "```sh"] + r["sysctl_commands"] + ["```", ""]

    L += ["## Caveats", ""]
    for w in r["warnings"]:
        L.append("- " + w)
    L += ["- Loopback: no NIC, no interrupts, no packet loss, no RTT. A real NIC adds softirq "
          "CPU per packet; expect less per core than measured here.",
          "- The origin and the load generator run on this machine too; their CPU is not "
          "ringway's capacity.", ""]
    return "\n".join(L)


# -- tuned.yaml --------------------------------------------------------------

def tuned_yaml(r):
    best = r["best"]
    m = r["machine"]
    slo = r["slo"]
    L = ["# ringway-tune %s: %s, %d cores, kernel %s" % (r["started"], m["cpu_model"], m["cores"],
                                                          m["kernel"]),
         "# SLO p99 < %s, errors <= %s; knee %s req/s with %d worker(s)." % (
             fmt_us(slo["p99_us"]), fmt_pct(slo["error_frac"]), fmt_rate(best.get("knee_rps")),
             best["workers"]),
         "# Merge into your config: each key replaces the one you have.",
         "# Keys marked 'not swept' are your current values (or ringway's defaults).", ""]
    swept = set()
    if r.get("sweep"):
        swept = {st["knob"] for st in r["sweep"]["steps"] if st.get("done", True)}
    L.append("workers: auto    # one per core; measured per worker: %s" % ", ".join(
        "%d -> %s req/s" % (k["workers"], fmt_rate(k["knee_rps"])) for k in r["knees"]))

    def line(name, indent):
        v = best["knobs"][name]
        note = ("changed from %s" % format_value(name, r["config"]["current"][name])
                if name in best["changed"] else
                ("kept (sweep found no better)" if name in swept else "not swept"))
        return "%s%s: %s    # %s" % (" " * indent, KNOBS[name][1], format_value(name, v), note)

    for sec in ("engine", "limits"):
        names = [n for n in best["knobs"] if KNOBS[n][0] == sec]
        if names:
            L.append("%s:" % sec)
            L += [line(n, 2) for n in names]
    ups = [n for n in best["knobs"] if KNOBS[n][0] == "upstream"]
    if ups:
        L.append("upstreams:      # these keys go into every upstream")
        for u in r["config"]["upstreams"]:
            L.append("  %s:" % u)
            L += [line(n, 4) for n in ups]
    return "\n".join(L) + "\n"


# -- capacity curve -----------------------------------------------------------

def curve_points(knee):
    """(offered rate, best p99 in ms) per distinct offered rate, sorted."""
    best = {}
    for p in knee["probes"]:
        v = p["p99_us"] / 1000.0 if p["p99_us"] > 0 else None
        if v is None:
            continue
        best[p["rate"]] = min(v, best.get(p["rate"], v))
    return sorted(best.items())


def plot(r, outdir):
    """Writes capacity.dat and capacity.gp; runs gnuplot for capacity.png.
    Returns the PNG path, or None when gnuplot is missing or failed."""
    dat = os.path.join(outdir, "capacity.dat")
    with open(dat, "w") as f:
        for k in r["knees"]:
            f.write("# workers=%d: offered_rps p99_ms\n" % k["workers"])
            for rate, p99 in curve_points(k):
                f.write("%g %g\n" % (rate, p99))
            f.write("\n\n")
    png = os.path.join(outdir, "capacity.png")
    series = []
    for i, k in enumerate(r["knees"]):
        series.append("'capacity.dat' index %d with linespoints lw 2 pt 7 title '%d worker%s "
                      "(knee %s)'" % (i, k["workers"], "" if k["workers"] == 1 else "s",
                                      fmt_rate(k["knee_rps"])))
    slo_ms = r["slo"]["p99_us"] / 1000.0
    series.append("%g with lines dt 2 lw 2 lc rgb 'red' title 'SLO p99 %s'"
                  % (slo_ms, fmt_us(r["slo"]["p99_us"])))
    gp = os.path.join(outdir, "capacity.gp")
    script = "\n".join([
        "set terminal %%TERM%% size 960,560",
        "set output 'capacity.png'",
        "set title 'ringway capacity: p99 vs offered rate (%s)'" % r["machine"]["cpu_model"][:50]
        .replace("'", ""),
        "set xlabel 'offered rate (req/s)'",
        "set ylabel 'p99 latency (ms)'",
        "set logscale xy",
        "set grid",
        "set key left top",
        "set format x '%.0s%c'",
        "plot " + ", \\\n     ".join(series),
        ""])
    with open(gp, "w") as f:
        f.write(script.replace("%%TERM%%", "pngcairo"))
    r["files"]["plot_data"] = dat
    r["files"]["plot_script"] = gp
    if not shutil.which("gnuplot") or not any(curve_points(k) for k in r["knees"]):
        return None
    for term in ("pngcairo", "png"):
        with open(gp, "w") as f:
            f.write(script.replace("%%TERM%%", term))
        try:
            p = subprocess.run(["gnuplot", "capacity.gp"], cwd=outdir, capture_output=True,
                               timeout=60)
        except (OSError, subprocess.SubprocessError):
            return None
        if p.returncode == 0 and os.path.exists(png) and os.path.getsize(png) > 0:
            return png
    return None


def write_all(r, outdir, tuned_full_text=None):
    os.makedirs(outdir, exist_ok=True)
    files = r["files"]
    png = plot(r, outdir)
    if png:
        files["plot_png"] = png
    files["report_md"] = os.path.join(outdir, "report.md")
    files["report_json"] = os.path.join(outdir, "report.json")
    files["tuned_yaml"] = os.path.join(outdir, "tuned.yaml")
    with open(files["tuned_yaml"], "w") as f:
        f.write(tuned_yaml(r))
    if tuned_full_text is not None:
        files["tuned_config"] = os.path.join(outdir, "tuned-config.yaml")
        with open(files["tuned_config"], "w") as f:
            f.write(tuned_full_text)
    with open(files["report_md"], "w") as f:
        f.write(markdown(r))
    with open(files["report_json"], "w") as f:
        json.dump(r, f, indent=2, sort_keys=False)
        f.write("\n")
    return files
