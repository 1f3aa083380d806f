#!/usr/bin/env python3
"""Multi-core scaling: the side-by-side suite (bench/run.py) once per proxy
worker count, on one machine, with the load side kept the same.

    python3 bench/scaling.py --workers 1,2,4,8                # 16+ CPUs
    python3 bench/scaling.py --workers 1,2 --short            # smoke (any box)
    python3 bench/scaling.py --workers 1,2,4,8 -- --open-loop off --repeat 3

CPUs (from this process's affinity mask): the proxy takes the first N for N
workers (one pinned worker, thread or process, per CPU: ringway `workers`,
nginx `worker_processes`, haproxy `nbthread`); the origin and the load
generator take the CPUs after the largest N, split in half (--origin-cpus to
choose), the same for every N. wrk gets one thread and `--connections-per-worker`
connections per proxy worker. fwd is single-threaded and only runs at N = 1.

Writes scaling.md and scaling.json into a results folder stamped like
run.py's: req/s and CPU us/request per peer and N, and the scaling
efficiency req/s(N) / ((N / F) x req/s(F)), F the smallest count run
(1 by default). A peer whose CPUs were not busy
(proxy CPU % well below N x 100) was limited by the load side, not by
itself: the table says so. Arguments after `--` go to run.py as they are.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def cpulist(cpus):
    return ",".join(str(c) for c in cpus)


def plan_for(n, max_n, cpus, origin_cpus):
    """--cpus for run.py: proxy = first n CPUs; origin and wrk after max_n
    (shared with the proxy's CPUs only when the box is too small)."""
    rest = cpus[max_n:]
    if len(rest) < 2:
        rest = cpus[-2:] if len(cpus) >= 2 else cpus
    k = origin_cpus if origin_cpus else max(1, len(rest) // 2)
    k = min(k, len(rest) - 1) if len(rest) > 1 else 1
    origin, wrk = rest[:k], rest[k:] or rest[:k]
    return f"proxy={cpulist(cpus[:n])},origin={cpulist(origin)},wrk={cpulist(wrk)}", len(wrk)


def run_suite(n, cpus_arg, wrk_cpus, args, out_root, passthrough):
    out = os.path.join(out_root, f"w{n}")
    cmd = [sys.executable, os.path.join(HERE, "run.py"), "--build-dir", args.build_dir,
           "--cpus", cpus_arg, "--scenarios", args.scenarios, "--out", out,
           "--connections", str(args.connections_per_worker * n), "--threads", str(wrk_cpus)]
    if args.peers:
        peers = [p for p in args.peers.split(",") if n == 1 or p != "fwd"]
        cmd += ["--peers", ",".join(peers)]
    if args.short:
        cmd.append("--short")
    cmd += passthrough
    print(f"== {n} worker(s): {' '.join(cmd)}", flush=True)
    r = subprocess.run(cmd, cwd=REPO)
    if r.returncode != 0:
        raise SystemExit(f"scaling: run.py failed for {n} worker(s) (status {r.returncode})")
    dirs = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)))
    if not dirs:
        raise SystemExit(f"scaling: run.py left no results under {out}")
    with open(os.path.join(out, dirs[-1], "results.json")) as f:
        return json.load(f), os.path.join(out, dirs[-1])


def table(runs):
    """runs: {n: results.json}. Rows per scenario and peer."""
    rows = []
    base = {}
    first = min(runs)
    for n in sorted(runs):
        for r in runs[n]["results"]:
            if not r.get("rps") or r.get("error"):
                continue
            key = (r["scenario"], r["peer"])
            if n == first:
                base[key] = r["rps"]
            # Against linear scaling from the smallest count: n / first times its rate.
            eff = r["rps"] * first / (n * base[key]) if key in base else None
            rows.append({"scenario": r["scenario"], "peer": r["peer"], "workers": n, "rps": r["rps"],
                         "cpu_us_per_req": r.get("cpu_us_per_req"), "proxy_cpu_pct": r.get("proxy_cpu_pct"),
                         "efficiency": eff,
                         "load_bound": (r.get("proxy_cpu_pct") or 0) < 80.0 * n})
    return rows


def markdown(rows, meta, first):
    out = [f"# ringway scaling: {meta.get('cpu_model', '?')}, {meta.get('cores', '?')} CPUs, "
           f"Linux {meta.get('kernel', '?')}, {meta.get('date', '')}", "",
           f"git {meta.get('git', '?')}; efficiency = req/s(N) / ((N / {first}) x req/s({first})), "
           "the engine issue's target is >= 0.85. A * marks a run whose proxy CPUs were "
           "less than 80% busy: the load side (origin, wrk) was the limit, not the proxy.", "",
           "| scenario | peer | workers | req/s | CPU us/req | proxy CPU % | efficiency |",
           "|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["scenario"], r["peer"], r["workers"])):
        eff = f"{r['efficiency']:.2f}" if r["efficiency"] is not None else "-"
        cpu = f"{r['cpu_us_per_req']:.2f}" if r["cpu_us_per_req"] is not None else "-"
        mark = "*" if r["load_bound"] else ""
        out.append(f"| {r['scenario']} | {r['peer']} | {r['workers']} | {r['rps']:,.0f}{mark} | {cpu} | "
                   f"{r['proxy_cpu_pct']:.0f} | {eff} |")
    return "\n".join(out) + "\n"


def main(argv):
    passthrough = []
    if "--" in argv:
        i = argv.index("--")
        argv, passthrough = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="1,2,4,8", help="worker counts (default 1,2,4,8)")
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--peers", default="ringway,nginx,haproxy,fwd",
                    help="run.py --peers (fwd only at one worker)")
    ap.add_argument("--scenarios", default="small_get", help="run.py --scenarios (default small_get)")
    ap.add_argument("--connections-per-worker", type=int, default=50)
    ap.add_argument("--origin-cpus", type=int, default=0,
                    help="CPUs for the origin (default: half of those after the proxy's)")
    ap.add_argument("--short", action="store_true", help="run.py --short (a smoke test)")
    ap.add_argument("--out", default=os.path.join("bench", "results"))
    args = ap.parse_args(argv)
    try:
        counts = sorted({int(w) for w in args.workers.split(",")})
    except ValueError:
        ap.error(f"--workers: {args.workers!r} is not a comma list of numbers")
    cpus = sorted(os.sched_getaffinity(0))
    if counts[0] < 1 or counts[-1] > len(cpus):
        ap.error(f"--workers: each count must be 1..{len(cpus)} (the CPUs this process may use)")
    if counts[-1] + 2 > len(cpus):
        print(f"scaling: warning: {len(cpus)} CPUs leave none of their own to the origin and wrk at "
              f"{counts[-1]} workers: req/s will be bounded by the shared CPUs", flush=True)

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_root = os.path.join(args.out, f"scaling-{stamp}")
    os.makedirs(out_root, exist_ok=True)
    runs, dirs = {}, {}
    for n in counts:
        cpus_arg, wrk_cpus = plan_for(n, counts[-1], cpus, args.origin_cpus)
        runs[n], dirs[n] = run_suite(n, cpus_arg, wrk_cpus, args, out_root, passthrough)
    rows = table(runs)
    meta = runs[counts[0]]["meta"]
    with open(os.path.join(out_root, "scaling.json"), "w") as f:
        json.dump({"meta": meta, "runs": {str(n): dirs[n] for n in counts}, "rows": rows}, f, indent=2)
    md = markdown(rows, meta, counts[0])
    with open(os.path.join(out_root, "scaling.md"), "w") as f:
        f.write(md)
    print(md)
    print(f"results: {out_root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
