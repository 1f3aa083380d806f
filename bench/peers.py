"""Starting the peers of the side-by-side tools that run their own load
(websocket.py, stalled_peers.py): the origin and each proxy, pinned as
run.py's two-CPU plan has it (the proxy on the last CPU, origin and client
on the others), each proxy configured as a competent operator would for
long-lived connections."""

import os
import shutil
import subprocess
import sys
import tempfile

import run as bench  # the suite's ports, nginx and process helpers


def proxy_command(name: str, tmp: str, port: int, origin: int, cpus: list, build: str,
                  nginx_extra: str = "") -> list:
    """The command line that starts one peer in front of 127.0.0.1:origin,
    configured in tmp as a competent operator would for long-lived
    connections (upstream keep-alive, WebSocket upgrades passed on)."""
    if name == "ringway":
        path = os.path.join(tmp, "ringway.yaml")
        with open(path, "w") as f:
            f.write(f"listen: [{{ address: 127.0.0.1:{port} }}]\nworkers: {len(cpus)}\n"
                    f"upstreams: {{ origin: {{ endpoints: [\"127.0.0.1:{origin}\"] }} }}\n"
                    "routes: [{ match: { prefix: / }, upstream: origin, websocket: true }]\n")
        return [os.path.join(build, "bin", "ringway"), "--config", path]
    if name == "nginx":
        path = os.path.join(tmp, "nginx.conf")
        with open(path, "w") as f:
            f.write(bench.nginx_common(tmp, cpus, "nginx") + "http {\n  access_log off;\n" +
                    bench.nginx_temp_paths(tmp, "nginx") +
                    f"  upstream origin {{ server 127.0.0.1:{origin}; keepalive 64; }}\n"
                    "  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }\n"
                    f"  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n"
                    "      proxy_pass http://origin;\n      proxy_http_version 1.1;\n"
                    "      proxy_set_header Upgrade $http_upgrade;\n"
                    "      proxy_set_header Connection $connection_upgrade;\n"
                    "      proxy_read_timeout 3600s;\n" + nginx_extra + "    }\n  }\n}\n")
        return ["nginx", "-p", tmp, "-c", path]
    if name == "haproxy":
        path = os.path.join(tmp, "haproxy.cfg")
        with open(path, "w") as f:
            f.write(f"global\n  nbthread {len(cpus)}\n  cpu-map auto:1/1-{len(cpus)} "
                    f"{' '.join(map(str, cpus))}\n  maxconn 4000\n"
                    "defaults\n  mode http\n  timeout connect 5s\n  timeout client 300s\n"
                    "  timeout server 300s\n  timeout tunnel 1h\n"
                    f"frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n"
                    f"backend b\n  http-reuse always\n  server o 127.0.0.1:{origin}\n")
        return ["haproxy", "-f", path]
    raise SystemExit(f"unknown peer {name}")


class Bench:
    """The origin, started pinned (and this process moved off the proxy's
    CPU); start_proxy() starts one peer in front of it. close() stops the
    origin."""

    def __init__(self, build_dir: str, tag: str):
        self.build_dir = build_dir
        cpus = sorted(os.sched_getaffinity(0))
        self.proxy_cpus, rest = cpus[-1:], cpus[:-1] or cpus
        self.tmp = tempfile.mkdtemp(prefix=f"ringway-{tag}-bench-")
        self.origin_port = bench.free_port()
        self.origin = subprocess.Popen(["taskset", "-c", ",".join(map(str, rest)),
                                        os.path.join(build_dir, "bin", "ringway-origin"),
                                        "--port", str(self.origin_port), "--threads", "1",
                                        "--quiet"], stdout=subprocess.DEVNULL)
        os.sched_setaffinity(0, rest)
        try:
            bench.wait_port(self.origin_port, self.origin, 15, "ringway-origin")
        except BaseException:
            self.close()
            raise

    def start_proxy(self, name: str, nginx_extra: str = ""):
        """(process, port) of a started peer; stop it with run.Procs.stop.
        None when that peer is not installed."""
        if name != "ringway" and shutil.which(name) is None:
            print(f"{name}: not installed, skipped", file=sys.stderr)
            return None
        port = bench.free_port()
        cmd = ["taskset", "-c", ",".join(map(str, self.proxy_cpus))] + \
            proxy_command(name, self.tmp, port, self.origin_port, self.proxy_cpus, self.build_dir,
                          nginx_extra=nginx_extra)
        with open(os.path.join(self.tmp, f"{name}.log"), "ab") as log:
            # Its own process group: Procs.stop signals the group.
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log,
                                    start_new_session=True)
        try:
            bench.wait_port(port, proc, 15, name)
        except BaseException:
            bench.Procs.stop(proc)
            raise
        return proc, port

    def close(self) -> None:
        self.origin.kill()
        self.origin.wait()
