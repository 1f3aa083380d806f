#!/usr/bin/env python3
"""ringway side-by-side benchmark suite.

Runs the same wrk load through ringway, nginx, haproxy and the ringway-fwd
floor (a blind io_uring TCP forwarder), all in front of ONE shared origin, and
reports req/s, latency percentiles and -- the number that matters on a small
box -- the proxy's CPU time per request; then open-loop latency with
ringway-load at a common fixed rate, the proxy's RSS, and (idle_10k) the
memory per idle keep-alive connection. The filter scenarios (gzip, cache,
jwt, rate limiting) run each peer with its own equivalent of the feature,
check that it really acts before measuring, and report what the feature costs
over its baseline scenario.

    python3 bench/run.py [--build-dir build] [--peers ringway,nginx,haproxy,fwd]
                         [--scenarios small_get,...|core|filters|all] [--duration 10]
                         [--connections 50] [--cpus proxy=0,origin=1,wrk=1]
                         [--open-loop common|peer|off|RATE]
                         [--short] [--out bench/results]

Python 3 standard library only; gnuplot is used for a PNG chart if present.
See bench/README.md for what each number means and the caveats.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import grp
import http.client
import json
import os
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from typing import Callable, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
ALL_PEERS = ["ringway", "nginx", "haproxy", "h2o", "fwd"]
OPEN_LOOP_FRACTION = 0.5  # open-loop rate: this fraction of the closed-loop peak


# --------------------------------------------------------------------------
# Scenarios
#
# One entry per load shape. To add one (pipelined, idle connections, cache,
# jwt, gzip, ...), append a Scenario to SCENARIOS:
#   * method/path/headers/body_size describe the request; a wrk lua script is
#     generated when the method is not GET or there is a body;
#   * lua: a complete wrk script instead (e.g. pipelining via init/request);
#   * connections: fixed wrk -c for this scenario (None = --connections);
#   * peers: restrict to the peers that can do it (fwd cannot gzip; in the
#     cache pair it stands as the floor: blind forwarding, --respond);
#   * proxy_extra: peer name -> opaque extra config handed to that peer's
#     config generator (see Peer.config); a peer is restarted when it changes;
#   * background: fn(ctx, inst, info) -> cleanup fn, started after the
#     warm-up and stopped after the measured runs (e.g. hold 10k idle
#     connections to the proxy); what it puts in the dict `info` is merged
#     into every measured sample (see IdleConnections);
#   * open_loop: also run ringway-load open loop after the closed-loop runs
#     (False for scenarios ringway-load cannot reproduce);
#   * load_pipeline: ringway-load --pipeline for that open-loop run;
#   * wrk_latency: False when wrk's percentiles are meaningless for the
#     script (pipelining: one sample per batch, and wrk 4.1 reports 0us);
#   * fresh_peer: restart the peer before this scenario (memory baselines:
#     what earlier scenarios allocated would be given back during the run);
#   * origin_bytes: sizes the nginx stand-in origin must serve at /bytes/N
#     (ringway-origin serves any N itself); derived from path when omitted.
#
# Filter scenarios (gzip, cache, jwt, rate limiting) also use:
#   * proxy_extra values may be a dict for nginx ({"http": ..., "location":
#     ...}) and haproxy ({"global": ..., "backend": ..., "sections": ...});
#     "@TMP@" in any of them becomes the run's temp dir;
#   * no_equivalent: peer -> why it has no equivalent feature (that peer is
#     not run; the reason goes into the results' notes);
#   * prepare: fn(ctx, scen) -> Scenario, called once before any peer starts,
#     returns the scenario with its run-time values filled in (JWT keys and
#     tokens: headers, lua, proxy_extra, load_requests);
#   * check: fn(ctx, inst, scen) -> dict, after the sanity request and before
#     the warm-up: proves the peer does what the scenario claims (a cache hit
#     is a hit, gzip is gzip, a bad token is refused) or raises BenchError;
#     what it returns goes into every sample;
#   * probe_extra + probe: the peer is first started with probe_extra (e.g.
#     the same rate limiter with a limit of 1/min) and probe(ctx, inst, scen)
#     must see the feature act (a 429), then stopped; the measured instance
#     uses proxy_extra. Once per scenario and peer;
#   * origin_share: (min, max) of origin requests per client request over
#     each measured run (origin's /stats counter): (0, 0.01) for cache hits,
#     (0.99, 1.01) for a proxied miss; outside it the run is an error;
#   * max_response_bytes: wrk's bytes read / requests must stay below it
#     (gzip: every response compressed, not only the checked one);
#   * load_requests: a ringway-load --requests file (one request per line,
#     used round robin) for the open-loop run, when wrk runs a lua script;
#   * sanity_headers: headers of the sanity request instead of `headers`
#     (when the lua script sets them per request: a token);
#   * baseline: the scenario whose CPU us/req this one is compared with in
#     the "Filter scenarios" section (jwt -> small_get, cache_hit ->
#     cache_miss, gzip -> text_16k).
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Scenario:
    name: str
    description: str
    path: str = "/"
    method: str = "GET"
    headers: list = dataclasses.field(default_factory=list)
    body_size: int = 0
    lua: Optional[str] = None
    connections: Optional[int] = None
    peers: Optional[tuple] = None
    proxy_extra: dict = dataclasses.field(default_factory=dict)
    background: Optional[Callable] = None
    open_loop: bool = True
    load_pipeline: int = 1
    wrk_latency: bool = True
    fresh_peer: bool = False
    origin_bytes: tuple = ()
    no_equivalent: dict = dataclasses.field(default_factory=dict)
    prepare: Optional[Callable] = None
    check: Optional[Callable] = None
    probe_extra: dict = dataclasses.field(default_factory=dict)
    probe: Optional[Callable] = None
    origin_share: Optional[tuple] = None
    max_response_bytes: Optional[int] = None
    load_requests: Optional[str] = None
    sanity_headers: Optional[list] = None
    baseline: Optional[str] = None

    def wrk_connections(self, default: int) -> int:
        return self.connections if self.connections is not None else default

    def wrk_script(self) -> Optional[str]:
        if self.lua is not None:
            return self.lua
        if self.method == "GET" and self.body_size == 0:
            return None
        lines = [f'wrk.method = "{self.method}"']
        if self.body_size:
            lines.append(f'wrk.body = string.rep("a", {self.body_size})')
            lines.append('wrk.headers["Content-Type"] = "application/octet-stream"')
        return "\n".join(lines) + "\n"

    def bytes_sizes(self) -> list:
        sizes = list(self.origin_bytes)
        m = re.match(r"/bytes/(\d+)(?:\?|$)", self.path)
        if m:
            sizes.append(int(m.group(1)))
        return sizes


PIPELINE_DEPTH = 16

# wrk's scripts/pipeline.lua approach: one write carries PIPELINE_DEPTH
# requests; wrk counts every response as a request, but records ONE latency
# per batch (from the write to the last of its responses).
PIPELINE_LUA = f"""-- {PIPELINE_DEPTH} x GET / per write, keep-alive (wrk pipeline.lua approach)
init = function(args)
  local r = {{}}
  for i = 1, {PIPELINE_DEPTH} do
    r[i] = wrk.format(nil, "/")
  end
  req = table.concat(r)
end

request = function()
  return req
end
"""

IDLE_CONNECTIONS = 10_000
LIGHT_DELAY_MS = 10

# The light load next to the idle connections: each wrk connection waits
# LIGHT_DELAY_MS before each request (wrk's delay() hook), so 10 connections
# make roughly 1,000 req/s instead of saturating the proxy.
LIGHT_LUA = f"""-- light load: one request per connection every ~{LIGHT_DELAY_MS} ms
delay = function()
  return {LIGHT_DELAY_MS}
end
"""


class IdleConnections:
    """Background for idle_10k: opens n keep-alive connections to the proxy,
    one at a time, sends one GET / on each and reads its response, then
    leaves them idle until cleanup. Fills `info` with the count, the status
    codes, how long opening took and, at cleanup, how many the proxy had
    closed meanwhile."""

    def __init__(self, n: int) -> None:
        self.n = n

    def count_for(self, peer: str) -> tuple:
        """(connections to open, why fewer than n or None). Our own fds and,
        for fwd, two fds per client (it opens one upstream connection each;
        64 fds are left for the light load and fwd's own)."""
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        n, why = self.n, None
        if n > soft - 100:
            n, why = soft - 100, f"RLIMIT_NOFILE of run.py is {soft}"
        if peer == "fwd":
            cap = (soft - 64) // 2 - 32
            if n > cap:
                n, why = cap, (f"fwd holds an upstream connection per client: 2 fds each, "
                               f"open-file limit {soft}")
        return n, why

    def __call__(self, ctx: "Ctx", inst: "Instance", info: dict) -> Callable:
        n, why = self.count_for(inst.peer.name)
        req = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{inst.port}\r\n\r\n".encode()
        socks: list = []
        statuses: dict = {}
        t0 = time.monotonic()
        try:
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", inst.port), timeout=10)
                socks.append(s)
                s.sendall(req)
                st = read_one_response(s)
                statuses[st] = statuses.get(st, 0) + 1
                if not inst.alive():
                    raise BenchError(f"{inst.peer.name} exited while opening idle connections")
        except BaseException:
            for s in socks:
                s.close()
            raise
        info.update({"idle_conns": len(socks), "idle_wanted": self.n,
                     "idle_statuses": statuses, "idle_open_s": round(time.monotonic() - t0, 2)})
        if why:
            info["idle_note"] = f"{len(socks):,} instead of {self.n:,} idle connections: {why}"
        time.sleep(1.0)  # let the proxy settle (free per-request buffers)

        def cleanup() -> None:
            still = 0
            for s in socks:
                try:
                    s.setblocking(False)
                    if s.recv(1, socket.MSG_PEEK) == b"":
                        continue  # closed by the proxy
                    still += 1  # unexpected data, but open
                except BlockingIOError:
                    still += 1
                except OSError:
                    pass
            for s in socks:
                s.close()
            info["idle_still_open"] = still
        return cleanup


def read_one_response(s: socket.socket) -> str:
    """Status code of one HTTP/1.1 response read from s (Content-Length or
    chunked body); "closed" when the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return "closed"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status = head[9:12].decode(errors="replace")
    m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
    if m:
        want = int(m.group(1))
        while len(body) < want:
            chunk = s.recv(65536)
            if not chunk:
                return "closed"
            body += chunk
    elif re.search(rb"\r\ntransfer-encoding:\s*chunked", head, re.I):
        while not body.endswith(b"0\r\n\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                return "closed"
            body += chunk
    return status


# --------------------------------------------------------------------------
# Filter scenarios: gzip, response cache, JWT, rate limiting. Each peer gets
# its own equivalent where it has one (README, "Filter scenarios"); each
# scenario proves before its warm-up that the peer really does the work
# (check/probe) and, during the measured runs, origin_share or
# max_response_bytes hold, so a misconfigured peer fails instead of posting
# fast numbers for the wrong work.
# --------------------------------------------------------------------------

TEXT_SIZE = 16384
TEXT_PATH = f"/bytes/{TEXT_SIZE}?text=1"  # HTML-like prose, text/html (tools/origin ?text=1)
CACHE_SIZE = 1024
# ?header=Name:Value has the origin add a response header; the value is
# percent-decoded, so '=' is sent as %3D.
CACHE_PATH = f"/bytes/{CACHE_SIZE}?header=Cache-Control:max-age%3D3600"
MISS_PATH = f"/bytes/{CACHE_SIZE}?header=Cache-Control:no-store"
MISS_URLS = 1000  # distinct URLs in the open-loop request file of cache_miss
GZIP_LEVEL = 6
RL_RATE, RL_BURST = 1_000_000, 1_000_000  # per second; ringway's largest rate
JWT_TOKENS = 1000  # distinct tokens cycled through by jwt_*_uncached
JWT_UNCACHED_CACHE_ENTRIES = 16  # ringway's per-worker verified-token cache, uncached run

RINGWAY_GZIP = f"""filters:
  gz: {{ type: compress, level: {GZIP_LEVEL} }}
default_filters: [gz]
"""
# text/html is always in nginx's gzip_types (listing it again only warns).
NGINX_GZIP = f"""      gzip on;
      gzip_proxied any;
      gzip_comp_level {GZIP_LEVEL};
      gzip_min_length 256;
"""
# Debian's haproxy 2.6 is built with libslz (USE_SLZ=1, -ZLIB in haproxy -vv):
# slz has no levels above 1 and tune.comp.maxlevel (default 1) changes nothing.
HAPROXY_GZIP = """  compression algo gzip
  compression type text/html
"""
# h2o's compress handler, gzip only, at the same level (a mapping of
# algorithm to quality); text/html is compressible in its default mime map.
H2O_GZIP = f"""compress:
  gzip: {GZIP_LEVEL}
compress-minimum-size: 256
"""

RINGWAY_CACHE = """filters:
  cache: { type: cache, max_bytes: 64MiB }
default_filters: [cache]
"""
# nginx obeys the origin's Cache-Control: max-age (no proxy_cache_valid
# needed); its cache is files in the temp dir, read through the page cache.
# X-Cache like ringway's default x_cache_header (HIT, MISS, ...).
NGINX_CACHE = {
    "http": "  proxy_cache_path @TMP@/nginx-cache levels=1:2 keys_zone=bench_cache:10m "
            "max_size=64m inactive=60m use_temp_path=off;\n",
    "location": "      proxy_cache bench_cache;\n"
                "      add_header X-Cache $upstream_cache_status;\n",
}
# haproxy: RAM cache; max-age caps Cache-Control (default 60 s);
# max-object-size 1 MiB like ringway's max_entry_bytes default.
HAPROXY_CACHE = {
    "backend": "  http-request cache-use bench_cache\n"
               "  http-response cache-store bench_cache\n"
               "  http-response set-header X-Cache HIT if { res.cache_hit }\n",
    "sections": "cache bench_cache\n"
                "  total-max-size 64\n"
                "  max-object-size 1048576\n"
                "  max-age 3600\n",
}

# fwd's floor of a cache hit: every request answered with a fixed 200 of
# CACHE_SIZE bytes from memory, no parsing, no origin (ringway-fwd --respond).
# Its floor of cache_miss is plain blind forwarding. Their ratio is what the
# hit/miss target would be for a proxy with no user-space cost at all.
FWD_RESPOND = ["--respond", str(CACHE_SIZE)]

# Every request of cache_miss has its own URL (cache key), so no two share
# an in-flight miss (ringway collapses concurrent misses of one key).
MISS_LUA = f"""-- GET {MISS_PATH}&t=THREAD&n=COUNTER: a new cache key per request
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "{MISS_PATH}&t=" .. (tid or 0) .. "&n=" .. n)
end
"""
MISS_REQUESTS = "".join(f"GET {MISS_PATH}&n={i}\n" for i in range(MISS_URLS))


def ringway_rate_limit(rate: str, burst: int) -> str:
    return f"""filters:
  rl: {{ type: rate_limit, key: client_ip, rate: {rate}, burst: {burst} }}
default_filters: [rl]
"""


def nginx_rate_limit(rate: str, burst: int) -> dict:
    return {"http": f"  limit_req_zone $binary_remote_addr zone=bench_rl:10m rate={rate};\n",
            "location": f"      limit_req zone=bench_rl{f' burst={burst}' if burst else ''} nodelay;\n"
                        "      limit_req_status 429;\n"}


def haproxy_rate_limit(limit: int) -> dict:
    return {"backend": "  stick-table type ip size 100k expire 30s store http_req_rate(1s)\n"
                       "  http-request track-sc0 src\n"
                       f"  http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt {limit} }}\n"}


def haproxy_jwt(alg: str, key: str, issuer: str, audience: str) -> dict:
    """haproxy 2.6: alg pinned, signature (jwt_verify), exp, iss, aud; 401
    otherwise. key: the HMAC secret or the path of a PEM public key."""
    return {"backend": f"""  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.jwt_alg) var(txn.bearer),jwt_header_query('$.alg')
  http-request deny deny_status 401 unless {{ var(txn.jwt_alg) -m str {alg} }}
  http-request deny deny_status 401 unless {{ var(txn.bearer),jwt_verify(txn.jwt_alg,"{key}") -m int 1 }}
  http-request set-var(txn.now) date
  http-request deny deny_status 401 unless {{ var(txn.bearer),jwt_payload_query('$.exp','int'),sub(txn.now) -m int gt 0 }}
  http-request deny deny_status 401 unless {{ var(txn.bearer),jwt_payload_query('$.iss') -m str {issuer} }}
  http-request deny deny_status 401 unless {{ var(txn.bearer),jwt_payload_query('$.aud') -m str {audience} }}
"""}


def ringway_jwt(jwks: str, issuer: str, audience: str, cache_entries: Optional[int] = None) -> str:
    extra = f", cache_entries: {cache_entries}" if cache_entries is not None else ""
    return f"""filters:
  auth: {{ type: jwt, jwks_file: "{jwks}", issuer: "{issuer}", audience: "{audience}"{extra} }}
default_filters: [auth]
"""


def jwt_assets(ctx: "Ctx") -> dict:
    """Keys and tokens (bench/filters/jwt_tokens.py), made once per run in
    the temp dir; JWT_TOKENS of each only when an uncached scenario runs."""
    if "jwt" not in ctx.assets:
        import importlib.util
        path = os.path.join(REPO, "bench", "filters", "jwt_tokens.py")
        spec = importlib.util.spec_from_file_location("ringway_bench_jwt_tokens", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        n = JWT_TOKENS if any(n.endswith("_uncached") for n in ctx.scenario_names) else 1
        t0 = time.monotonic()
        try:
            ctx.assets["jwt"] = mod.make_assets(os.path.join(ctx.tmp, "jwt"), n_tokens=n)
        except mod.TokenError as e:
            raise BenchError(f"JWT keys and tokens: {e}")
        log(f"jwt: RSA 2048 key, HS256 secret and {n} token(s) per algorithm made in "
            f"{time.monotonic() - t0:.1f}s (bench/filters/jwt_tokens.py)")
    return ctx.assets["jwt"]


def prepare_jwt(alg: str, uncached: bool = False) -> Callable:
    def prep(ctx: "Ctx", scen: Scenario) -> Scenario:
        a = jwt_assets(ctx)
        iss, aud = a["issuer"], a["audience"]
        entries = JWT_UNCACHED_CACHE_ENTRIES if uncached else None
        if alg == "HS256":
            ring = ringway_jwt(a["jwks_hs256"], iss, aud, entries)
            hap = haproxy_jwt("HS256", a["hs256_secret"], iss, aud)
        else:
            ring = ringway_jwt(a["jwks_rs256"], iss, aud, entries)
            hap = haproxy_jwt("RS256", a["rsa_pub"], iss, aud)
        changes: dict = {"proxy_extra": {"ringway": ring, "haproxy": hap}}
        if uncached:
            toks = a["hs256_list" if alg == "HS256" else "rs256_list"]
            body = ",\n".join(f'  "{t}"' for t in toks)
            changes["lua"] = f"""-- GET / with one of {len(toks)} distinct {alg} tokens, round robin
local tokens = {{
{body}
}}
local reqs = {{}}
local i = 0

init = function(args)
  for k, t in ipairs(tokens) do
    reqs[k] = wrk.format(nil, "/", {{ ["Authorization"] = "Bearer " .. t }})
  end
end

request = function()
  i = i % #reqs + 1
  return reqs[i]
end
"""
            changes["load_requests"] = "".join(f'GET / Authorization: "Bearer {t}"\n' for t in toks)
            changes["headers"] = []  # the lua script sets them
            changes["sanity_headers"] = [f"Authorization: Bearer {toks[0]}"]
        else:
            changes["headers"] = [f"Authorization: Bearer {a['hs256' if alg == 'HS256' else 'rs256']}"]
        return dataclasses.replace(scen, **changes)
    return prep


def http_get(port: int, path: str, headers: Optional[dict] = None,
             conn: Optional[http.client.HTTPConnection] = None) -> tuple:
    """(status, {lower-case header: value}, raw body) of one GET."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        if conn is None:
            c.close()


def origin_requests(ctx: "Ctx") -> Optional[int]:
    """The origin's request counter (ringway-origin /stats JSON; the nginx
    stand-in's stub_status), None when unreadable. Each read counts itself,
    so requests between two reads = difference - 1."""
    try:
        st, _, body = http_get(ctx.origin_port, "/stats")
    except (OSError, http.client.HTTPException):
        return None
    if st != 200:
        return None
    text = body.decode(errors="replace")
    m = re.search(r'"requests"\s*:\s*(\d+)', text)
    if m:
        return int(m.group(1))
    m = re.search(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s*$", text, re.M)  # stub_status: accepts handled requests
    return int(m.group(3)) if m else None


def scen_headers(scen: Scenario) -> dict:
    return dict(h.split(": ", 1) for h in scen.headers)


def check_gzip(ctx: "Ctx", inst: "Instance", scen: Scenario) -> dict:
    import gzip as gzip_mod
    name = inst.peer.name
    st, hd, body = http_get(inst.port, scen.path, scen_headers(scen))
    if st != 200:
        raise BenchError(f"gzip check: {name} answered HTTP {st}")
    if hd.get("content-encoding", "").lower() != "gzip":
        raise BenchError(f"gzip check: {name} sent no Content-Encoding: gzip "
                         f"(got {hd.get('content-encoding')!r}, Content-Type {hd.get('content-type')!r})")
    try:
        plain = gzip_mod.decompress(body)
    except (OSError, EOFError, ValueError) as e:
        raise BenchError(f"gzip check: {name}'s body does not gunzip: {e}")
    if len(plain) != TEXT_SIZE:
        raise BenchError(f"gzip check: {name}'s body gunzips to {len(plain)} bytes, not {TEXT_SIZE}")
    st2, hd2, body2 = http_get(inst.port, scen.path, {})
    if st2 != 200 or hd2.get("content-encoding") or body2 != plain:
        raise BenchError(f"gzip check: without Accept-Encoding {name} answered HTTP {st2}, "
                         f"Content-Encoding {hd2.get('content-encoding')!r}, "
                         f"{'the same' if body2 == plain else 'a different'} body")
    return {"gzip_body_bytes": len(body), "gzip_plain_bytes": len(plain)}


def check_cache_hit(ctx: "Ctx", inst: "Instance", scen: Scenario) -> dict:
    """After one request to fill it, 3 more must be hits: X-Cache HIT (ringway's
    default header; nginx and haproxy are configured to add one) and, with a
    readable origin counter, no request reaching the origin. fwd's floor
    (--respond, whose fixed answer says HIT too) never asks the origin, not
    even to fill."""
    name = inst.peer.name
    floor = inst.peer.family == "fwd"
    c0 = origin_requests(ctx)
    st, hd, body = http_get(inst.port, scen.path)
    if st != 200 or len(body) != CACHE_SIZE:
        raise BenchError(f"cache check: {name} answered HTTP {st} with {len(body)} bytes")
    time.sleep(0.05)  # nginx writes the entry after the response
    if not floor:
        c0 = origin_requests(ctx)
    for i in range(3):
        st, hd, body = http_get(inst.port, scen.path)
        if st != 200 or len(body) != CACHE_SIZE:
            raise BenchError(f"cache check: {name} answered HTTP {st} with {len(body)} bytes")
        if not hd.get("x-cache", "").upper().startswith("HIT"):
            raise BenchError(f"cache check: request {i + 2} via {name} is no cache hit "
                             f"(X-Cache {hd.get('x-cache')!r})")
    c1 = origin_requests(ctx)
    info = {"cache_marker": hd.get("x-cache")}
    if c0 is not None and c1 is not None:
        if c1 - c0 - 1 != 0:
            raise BenchError(f"cache check: {name} answered from memory but the origin saw "
                             f"{c1 - c0 - 1} of {4 if floor else 3} requests")
        info["cache_check_origin_requests"] = 0
    return info


def check_cache_miss(ctx: "Ctx", inst: "Instance", scen: Scenario) -> dict:
    """3 requests for new URLs with Cache-Control: no-store: all must reach
    the origin and none may be a hit."""
    name = inst.peer.name
    c0 = origin_requests(ctx)
    for i in range(3):
        st, hd, body = http_get(inst.port, f"{scen.path}&check={i}")
        if st != 200 or len(body) != CACHE_SIZE:
            raise BenchError(f"cache miss check: {name} answered HTTP {st} with {len(body)} bytes")
        if hd.get("x-cache", "").upper().startswith("HIT"):
            raise BenchError(f"cache miss check: {name} answered a no-store URL from its cache")
    c1 = origin_requests(ctx)
    if c0 is not None and c1 is not None and c1 - c0 - 1 != 3:
        raise BenchError(f"cache miss check: 3 requests via {name}, the origin saw {c1 - c0 - 1}")
    return {}


def check_jwt(alg: str, uncached: bool = False) -> Callable:
    def check(ctx: "Ctx", inst: "Instance", scen: Scenario) -> dict:
        """The good token passes; no token, every bad one of tokens.json and
        the other algorithm's good token are refused with 401 (malformed
        ones: any 4xx)."""
        a = jwt_assets(ctx)
        name = inst.peer.name
        good = a["hs256" if alg == "HS256" else "rs256"]
        lst = a["hs256_list" if alg == "HS256" else "rs256_list"]
        goods = [good] + (lst[:3] + lst[-1:] if uncached else [])
        for t in goods:
            st, _, _ = http_get(inst.port, "/", {"Authorization": f"Bearer {t}"})
            if st != 200:
                raise BenchError(f"jwt check: a valid {alg} token via {name} got HTTP {st}")
        bad = dict(a["bad"])
        bad["other_algorithm"] = a["rs256" if alg == "HS256" else "hs256"]
        refused = []
        for what, t in [("no token", None)] + sorted(bad.items()):
            st, _, _ = http_get(inst.port, "/", {"Authorization": f"Bearer {t}"} if t else {})
            ok = 400 <= st < 500 if what in ("not_a_token", "alg_none") else st == 401
            if not ok:
                raise BenchError(f"jwt check: {what} via {name} got HTTP {st}, expected "
                                 f"{'a 4xx' if what in ('not_a_token', 'alg_none') else '401'}")
            refused.append(what)
        return {"jwt_refused": len(refused)}
    return check


def check_rate_limited(ctx: "Ctx", inst: "Instance", scen: Scenario) -> dict:
    st, hd, _ = http_get(inst.port, scen.path)
    if st != 200:
        raise BenchError(f"rate limit check: {inst.peer.name} answered HTTP {st}")
    return {}


def probe_rate_limit(ctx: "Ctx", inst: "Instance", scen: Scenario) -> None:
    """The same limiter at 1 request per minute (probe_extra): of 5
    back-to-back requests the first passes and a later one gets 429."""
    conn = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=10)
    try:
        codes = [http_get(inst.port, scen.path, conn=conn)[0] for _ in range(5)]
    finally:
        conn.close()
    if codes[0] != 200 or 429 not in codes[1:]:
        raise BenchError(f"rate limit probe: {inst.peer.name} at a limit of 1/min answered {codes} "
                         "(expected 200 then 429): the limiter is not active")


NO_HTTP = "fwd speaks no HTTP"
NO_CACHE_H2O = "h2o 2.2 has no proxy response cache"
NO_JWT_H2O = "h2o has no JWT validation (only through an mruby script, a different thing)"
NO_RATE_LIMIT_H2O = "h2o has no request rate limiter (only through an mruby script)"
NO_JWT_NGINX = ("nginx open source has no JWT validation (auth_jwt is nginx Plus only; njs or "
                "Lua would be a different thing)")

FILTER_SCENARIOS = [
    Scenario("text_16k", f"GET {TEXT_PATH} (16 KiB HTML-like prose, text/html) with "
             "Accept-Encoding: gzip through NO filter: the baseline of gzip",
             path=TEXT_PATH, headers=["Accept-Encoding: gzip"]),
    Scenario("gzip", f"GET {TEXT_PATH} with Accept-Encoding: gzip, compressed by the proxy "
             f"(ringway compress level {GZIP_LEVEL}, nginx gzip level {GZIP_LEVEL}, haproxy "
             "compression with libslz, which has no levels)",
             path=TEXT_PATH, headers=["Accept-Encoding: gzip"],
             peers=("ringway", "nginx", "haproxy", "h2o"), no_equivalent={"fwd": NO_HTTP},
             baseline="text_16k",
             proxy_extra={"ringway": RINGWAY_GZIP, "nginx": NGINX_GZIP, "haproxy": HAPROXY_GZIP,
                          "h2o": H2O_GZIP},
             check=check_gzip, max_response_bytes=TEXT_SIZE * 3 // 4),
    Scenario("cache_miss", f"GET {MISS_PATH}&n=N (1 KiB, Cache-Control: no-store, a new URL per "
             "request) through the response cache: every request proxied to the origin",
             path=MISS_PATH, lua=MISS_LUA, load_requests=MISS_REQUESTS,
             peers=("ringway", "nginx", "haproxy", "fwd"),
             no_equivalent={"h2o": NO_CACHE_H2O},
             proxy_extra={"ringway": RINGWAY_CACHE, "nginx": NGINX_CACHE, "haproxy": HAPROXY_CACHE},
             check=check_cache_miss, origin_share=(0.99, 1.01)),
    Scenario("cache_hit", f"GET {CACHE_PATH} (1 KiB, Cache-Control: max-age=3600, one URL) "
             "answered from the proxy's response cache",
             path=CACHE_PATH, peers=("ringway", "nginx", "haproxy", "fwd"),
             no_equivalent={"h2o": NO_CACHE_H2O},
             proxy_extra={"ringway": RINGWAY_CACHE, "nginx": NGINX_CACHE, "haproxy": HAPROXY_CACHE,
                          "fwd": FWD_RESPOND},
             check=check_cache_hit, origin_share=(0.0, 0.01), baseline="cache_miss"),
    Scenario("jwt_hs256", "GET / with one valid HS256 bearer token (the same every request)",
             path="/", peers=("ringway", "haproxy"),
             no_equivalent={"nginx": NO_JWT_NGINX, "h2o": NO_JWT_H2O, "fwd": NO_HTTP}, baseline="small_get",
             prepare=prepare_jwt("HS256"), check=check_jwt("HS256")),
    Scenario("jwt_hs256_uncached", f"GET / with {JWT_TOKENS} distinct valid HS256 tokens, round "
             f"robin (ringway's token cache cut to {JWT_UNCACHED_CACHE_ENTRIES} entries: every "
             "request checks an HMAC and parses the claims)",
             path="/", peers=("ringway", "haproxy"),
             no_equivalent={"nginx": NO_JWT_NGINX, "h2o": NO_JWT_H2O, "fwd": NO_HTTP}, baseline="small_get",
             prepare=prepare_jwt("HS256", uncached=True), check=check_jwt("HS256", uncached=True)),
    Scenario("jwt_rs256", "GET / with one valid RS256 (RSA 2048) bearer token (the same every "
             "request: ringway answers it from its verified-token cache)",
             path="/", peers=("ringway", "haproxy"),
             no_equivalent={"nginx": NO_JWT_NGINX, "h2o": NO_JWT_H2O, "fwd": NO_HTTP}, baseline="small_get",
             prepare=prepare_jwt("RS256"), check=check_jwt("RS256")),
    Scenario("jwt_rs256_uncached", f"GET / with {JWT_TOKENS} distinct valid RS256 tokens, round "
             f"robin (ringway's token cache cut to {JWT_UNCACHED_CACHE_ENTRIES} entries: every "
             "request verifies a signature)",
             path="/", peers=("ringway", "haproxy"),
             no_equivalent={"nginx": NO_JWT_NGINX, "h2o": NO_JWT_H2O, "fwd": NO_HTTP}, baseline="small_get",
             prepare=prepare_jwt("RS256", uncached=True), check=check_jwt("RS256", uncached=True)),
    Scenario("rate_limited", f"GET / through a per-client-IP rate limiter set to "
             f"{RL_RATE:,}/s, burst {RL_BURST:,}: every request allowed (the limiter's cost); "
             "a probe at 1/min first proves it refuses",
             path="/", peers=("ringway", "nginx", "haproxy"),
             no_equivalent={"fwd": NO_HTTP, "h2o": NO_RATE_LIMIT_H2O}, baseline="small_get",
             proxy_extra={"ringway": ringway_rate_limit(f"{RL_RATE}/s", RL_BURST),
                          "nginx": nginx_rate_limit(f"{RL_RATE}r/s", RL_BURST),
                          "haproxy": haproxy_rate_limit(RL_RATE)},
             probe_extra={"ringway": ringway_rate_limit("1/m", 1),
                          "nginx": nginx_rate_limit("1r/m", 0),
                          "haproxy": haproxy_rate_limit(1)},
             check=check_rate_limited, probe=probe_rate_limit),
]

SCENARIOS = [
    Scenario("small_get", "GET / (small 200 body), keep-alive", path="/"),
    Scenario("new_conn", "GET / with Connection: close (new TCP connection per request)",
             path="/", headers=["Connection: close"]),
    Scenario("large_1m", "GET /bytes/1048576 (1 MiB body), keep-alive, 10 connections",
             path="/bytes/1048576", connections=10),
    Scenario("post_64k", "POST 64 KiB body to /sink, keep-alive",
             path="/sink", method="POST", body_size=64 * 1024),
    Scenario("pipelined", f"GET / with {PIPELINE_DEPTH} requests pipelined per connection "
             "(one write each), keep-alive",
             path="/", lua=PIPELINE_LUA, load_pipeline=PIPELINE_DEPTH, wrk_latency=False),
    Scenario("idle_10k", f"memory per idle keep-alive connection: {IDLE_CONNECTIONS:,} connections "
             "opened one at a time, one GET / each, then idle while wrk runs a light GET / load "
             f"on 10 other connections (each waits {LIGHT_DELAY_MS} ms between requests: "
             f"~{10 * 1000 // LIGHT_DELAY_MS:,} req/s)",
             path="/", connections=10, open_loop=False, lua=LIGHT_LUA, fresh_peer=True,
             background=IdleConnections(IDLE_CONNECTIONS)),
] + FILTER_SCENARIOS
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}
# --scenarios also takes these group names.
SCENARIO_GROUPS = {
    "core": [s.name for s in SCENARIOS if s not in FILTER_SCENARIOS],
    "filters": ["small_get"] + [s.name for s in FILTER_SCENARIOS],
    "all": [s.name for s in SCENARIOS],
}
# (scenario, baseline, target ratio of CPU us/req, what sets it): reported
# in results.md; the target applies to ringway.
TARGETS = [("cache_hit", "cache_miss", 0.40,
            "issue target: a cache hit costs at most 40% of the CPU per request of a proxied miss")]


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


class BenchError(Exception):
    pass


def log(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_cpulist(text: str) -> list:
    cpus = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            cpus.extend(range(int(a), int(b) + 1))
        else:
            cpus.append(int(part))
    return sorted(set(cpus))


def cpulist_str(cpus: list) -> str:
    return ",".join(str(c) for c in cpus)


def read_sysctl(name: str) -> str:
    try:
        with open("/proc/sys/" + name.replace(".", "/")) as f:
            return f.read().strip()
    except OSError:
        return "?"


def read_first_line(cmd: list, timeout: float = 5.0, require_ok: bool = False) -> str:
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True)
        if require_ok and p.returncode != 0:
            return "unknown"
        for line in p.stdout.splitlines():
            if line.strip():
                return line.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "unavailable"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown-cpu"


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:40].strip("-") or "unknown"


def fmt_us(us: Optional[float]) -> str:
    if us is None:
        return "-"
    if us < 1000:
        return f"{us:.0f}us"
    if us < 1_000_000:
        return f"{us / 1000:.2f}ms"
    return f"{us / 1e6:.2f}s"


def fmt_num(v: Optional[float], digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


# --------------------------------------------------------------------------
# CPU accounting from /proc
# --------------------------------------------------------------------------


def _stat_fields(pid: int) -> Optional[list]:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may contain spaces and parens.
    rest = data[data.rindex(")") + 2:].split()
    return rest  # rest[0] is field 3 (state)


def proc_tree(root: int) -> list:
    """root and all of its descendants (e.g. nginx master + worker)."""
    children: dict = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = _stat_fields(int(name))
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))  # field 4: ppid
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_ticks(root: int) -> dict:
    """{pid: utime+stime} (fields 14 and 15, clock ticks) over the process tree."""
    ticks = {}
    for pid in proc_tree(root):
        fields = _stat_fields(pid)
        if fields is not None:
            ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def system_jiffies() -> tuple:
    """(busy, steal) clock ticks summed over all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    busy = v[0] + v[1] + v[2] + v[5] + v[6]
    return busy, v[7] if len(v) > 7 else 0


def children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def busy_before_start(seconds: float = 1.0) -> float:
    """% of the whole box busy while we do nothing (other users, builds)."""
    b0, _ = system_jiffies()
    time.sleep(seconds)
    b1, _ = system_jiffies()
    return 100.0 * (b1 - b0) / CLK_TCK / seconds / (os.cpu_count() or 1)


def cpu_seconds_between(before: dict, after: dict) -> float:
    # Processes that appeared during the run count from zero; ones that went
    # away are lost (rare: nginx/haproxy workers do not recycle here).
    total = sum(t - before.get(pid, 0) for pid, t in after.items())
    return total / CLK_TCK


def rss_kib(root: int, pids: Optional[list] = None) -> int:
    """Sum of VmRSS (KiB, /proc/PID/status) over the process tree (or the
    given pids). Pages shared by nginx's master and worker count twice;
    differences cancel."""
    total = 0
    for pid in (pids if pids is not None else proc_tree(root)):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError):
            pass
    return total


def median(values: list) -> Optional[float]:
    v = sorted(values)
    return v[(len(v) - 1) // 2] if v else None


def raise_nofile() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit, for us (10k idle client
    sockets) and for every process we start (they inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --------------------------------------------------------------------------
# Process management: every process is started in its own session, so the
# whole group (nginx master + workers) can be killed; all are killed in the
# end, whatever happens.
# --------------------------------------------------------------------------


class Procs:
    def __init__(self) -> None:
        self.procs: list = []

    def start(self, cmd: list, log_path: str, cwd: Optional[str] = None) -> subprocess.Popen:
        logf = open(log_path, "ab")
        logf.write(("$ " + " ".join(cmd) + "\n").encode())
        logf.flush()
        try:
            p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=cwd, start_new_session=True)
        finally:
            logf.close()
        self.procs.append(p)
        return p

    @staticmethod
    def stop(p: subprocess.Popen, grace: float = 3.0) -> None:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Kill the group even when the leader is gone: stray workers die too.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass

    def stop_all(self) -> None:
        for p in reversed(self.procs):
            self.stop(p)
        self.procs.clear()


def wait_port(port: int, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited with status {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def http_check(port: int, scen: Scenario) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = b"a" * scen.body_size if scen.body_size else None
        headers = dict(h.split(": ", 1) for h in (scen.sanity_headers if scen.sanity_headers is not None
                                                   else scen.headers))
        if body is not None:
            headers["Content-Type"] = "application/octet-stream"
        conn.request(scen.method, scen.path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


# --------------------------------------------------------------------------
# Context: options, binaries, pinning plan, temp dir
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Plan:
    proxy: list
    origin: list
    wrk: list

    # Every proxy gets one worker (thread or process) per proxy CPU, pinned
    # one to one; the origin one thread per origin CPU.
    @property
    def workers(self) -> int:
        return len(self.proxy)

    def describe(self) -> str:
        def n(count: int, what: str) -> str:
            return f"{count} {what}{'s' if count != 1 else ''}"
        return (f"proxy -> CPU {cpulist_str(self.proxy)} ({n(self.workers, 'worker')}); "
                f"origin -> CPU {cpulist_str(self.origin)} ({n(len(self.origin), 'thread')}); "
                f"wrk -> CPU {cpulist_str(self.wrk)}")

    def warnings(self) -> list:
        w = []
        if set(self.proxy) & set(self.origin):
            w.append("proxy and origin share a CPU")
        if set(self.proxy) & set(self.wrk):
            w.append("proxy and wrk share a CPU")
        if set(self.origin) & set(self.wrk):
            w.append("origin and wrk share a CPU (req/s is bounded by that CPU; compare CPU us/req)")
        return w


def default_plan() -> Plan:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) == 1:
        return Plan([cpus[0]], [cpus[0]], [cpus[0]])
    if len(cpus) == 2:
        return Plan([cpus[0]], [cpus[1]], [cpus[1]])
    if len(cpus) == 3:
        return Plan([cpus[0]], [cpus[1]], [cpus[2]])
    return Plan([cpus[0]], [cpus[1]], cpus[2:])


def parse_plan(text: str) -> Plan:
    """proxy=0,origin=1,wrk=1  (a token without '=' extends the previous key:
    wrk=2,3 or wrk=2-5)."""
    plan = dataclasses.asdict(default_plan())
    given: dict = {}
    key = None
    for tok in text.split(","):
        tok = tok.strip()
        if not tok:
            continue
        if "=" in tok:
            key, val = tok.split("=", 1)
            key = key.strip()
            if key not in plan:
                raise BenchError(f"--cpus: unknown role {key!r} (proxy, origin, wrk)")
            given[key] = parse_cpulist(val)
        elif key is None:
            raise BenchError(f"--cpus: {tok!r} has no role (use proxy=N,origin=N,wrk=N)")
        else:
            given[key] = sorted(set(given[key] + parse_cpulist(tok)))
    plan.update(given)
    allowed = os.sched_getaffinity(0)
    for role, cpus in plan.items():
        if not cpus or not set(cpus) <= allowed:
            raise BenchError(f"--cpus: {role} CPUs {cpus} not within allowed set {sorted(allowed)}")
    return Plan(**plan)


class Ctx:
    def __init__(self, args: argparse.Namespace, plan: Plan, tmp: str, procs: Procs) -> None:
        self.args = args
        self.plan = plan
        self.tmp = tmp
        self.procs = procs
        self.logdir = os.path.join(tmp, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.have_taskset = shutil.which("taskset") is not None
        self.origin_port = 0
        self.origin_pid = 0
        self.notes: list = []
        self.ol_duration = args.duration  # open-loop (ringway-load) run, seconds
        self.ol_warmup = args.warmup
        self.assets: dict = {}  # made once per run (JWT keys and tokens)
        self.scenario_names: list = []

    def pin(self, cpus: list, cmd: list) -> list:
        if not self.have_taskset:
            return cmd
        return ["taskset", "-c", cpulist_str(cpus)] + cmd

    def find_bin(self, name: str, env: str) -> Optional[str]:
        if os.environ.get(env):
            p = os.environ[env]
            return p if os.access(p, os.X_OK) else None
        bd = self.args.build_dir
        if not os.path.isabs(bd):
            bd = os.path.join(REPO, bd)
        # bin/ first: CMake puts every executable there (CMAKE_RUNTIME_OUTPUT_DIRECTORY);
        # the other places only hold binaries of older build layouts.
        for sub in ("bin", "", "engine", "tools", "bench"):
            p = os.path.join(bd, sub, name)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                return p
        return None


# --------------------------------------------------------------------------
# Origin: ringway-origin when built, else an nginx stand-in
# --------------------------------------------------------------------------


class Origin:
    def __init__(self, kind: str, proc: subprocess.Popen, port: int, version: str) -> None:
        self.kind = kind
        self.proc = proc
        self.port = port
        self.version = version


def start_origin(ctx: Ctx, scenarios: list) -> Origin:
    want = ctx.args.origin
    binpath = ctx.find_bin("ringway-origin", "RINGWAY_ORIGIN_BIN")
    if want == "ringway-origin" and binpath is None:
        raise BenchError("--origin ringway-origin: binary not found in build dir "
                         "(build it: cmake --build BUILD --target ringway-origin)")
    if want == "ringway-origin" or (want == "auto" and binpath is not None):
        return start_ringway_origin(ctx, binpath)
    if shutil.which("nginx") is None:
        raise BenchError("no ringway-origin in build dir and no nginx for the stand-in origin")
    if want == "auto":
        ctx.notes.append("ringway-origin not built: used an nginx stand-in origin "
                         "(return 200 for /, static files for /bytes/N, its own HTML-like prose "
                         "for ?text=1, the ?header= values the scenarios use, return 200 for "
                         "/sink, stub_status for /stats)")
    return start_nginx_origin(ctx, scenarios)


def start_ringway_origin(ctx: Ctx, binpath: str) -> Origin:
    port_file = os.path.join(ctx.tmp, "origin.port")
    log_path = os.path.join(ctx.logdir, "origin.log")
    cmd = ctx.pin(ctx.plan.origin, [binpath, "--port", "0", "--threads", str(len(ctx.plan.origin)),
                                     "--port-file", port_file])
    proc = ctx.procs.start(cmd, log_path)
    deadline = time.monotonic() + 15
    port = 0
    while time.monotonic() < deadline and not port:
        if proc.poll() is not None:
            raise BenchError(f"ringway-origin exited with status {proc.returncode}; see {log_path}")
        for path, pat in ((port_file, r"(\d+)\s*$"), (log_path, r"listening 127\.0\.0\.1:(\d+)")):
            try:
                with open(path) as f:
                    m = re.search(pat, f.read())
                if m:
                    port = int(m.group(1))
                    break
            except OSError:
                pass
        else:
            time.sleep(0.05)
    if not port:
        raise BenchError(f"ringway-origin did not report its port; see {log_path}")
    wait_port(port, proc, 10, "ringway-origin")
    return Origin("ringway-origin", proc, port, binpath)


def nginx_user_line() -> str:
    # nginx switches workers to "nobody" when started as root; keep the
    # current user so workers can use the temp dir.
    if os.geteuid() != 0:
        return ""
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return f"user {user} {group};\n"


def nofile_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return hard if hard != resource.RLIM_INFINITY else 65536


def nginx_common(tmp: str, cpus: list, tag: str) -> str:
    # One worker process per CPU, each pinned to its own (worker_cpu_affinity
    # masks: rightmost digit = CPU 0).
    masks = " ".join("1" + "0" * cpu for cpu in cpus)
    return f"""daemon off;
master_process on;
worker_processes {len(cpus)};
worker_cpu_affinity {masks};
worker_rlimit_nofile {nofile_limit()};
{nginx_user_line()}pid {tmp}/{tag}.pid;
error_log stderr warn;
events {{ worker_connections 16384; }}
"""


def nginx_temp_paths(tmp: str, tag: str) -> str:
    return "\n".join(f"  {k}_temp_path {tmp}/{tag}-{k};"
                     for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")) + "\n"


def prose(n: int) -> bytes:
    """n bytes of deterministic HTML-like prose for the stand-in's ?text=1
    (not ringway-origin's text: compressed sizes differ between origins)."""
    words = ("the of and to in is that for it as was with be by on not he this are or his from at "
             "which but have an they you were her she there been one all we their has would when "
             "proxy request response header cache gateway worker connection latency upstream "
             "origin client server buffer kernel socket").split()
    out, x = [], 12345
    size = 0
    while size < n:
        para = []
        for _ in range(40):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            para.append(words[x % len(words)])
        p = "<p>" + " ".join(para).capitalize() + ".</p>\n"
        out.append(p)
        size += len(p)
    return "".join(out).encode()[:n]


def standin_header_maps(scenarios: list) -> tuple:
    """nginx `map` blocks and server-level add_header lines that give the
    stand-in origin ringway-origin's ?header=Name:Value for the values the
    scenarios use (nginx does not percent-decode $arg_header)."""
    by_name: dict = {}
    for s in scenarios:
        query = s.path.partition("?")[2]
        for pair in query.split("&"):
            k, _, v = pair.partition("=")
            if k != "header" or ":" not in urllib.parse.unquote(v):
                continue
            name, _, value = urllib.parse.unquote(v).partition(":")
            by_name.setdefault(name, {})[v] = value.strip()
    maps, adds = "", ""
    for i, (name, values) in enumerate(sorted(by_name.items())):
        maps += f"  map $arg_header $origin_hdr_{i} {{\n    default \"\";\n"
        maps += "".join(f'    "{raw}" "{val}";\n' for raw, val in sorted(values.items()))
        maps += "  }\n"
        adds += f"    add_header {name} $origin_hdr_{i};\n"
    return maps, adds


def start_nginx_origin(ctx: Ctx, scenarios: list) -> Origin:
    port = free_port()
    bytes_dir = os.path.join(ctx.tmp, "origin-bytes")
    text_dir = os.path.join(ctx.tmp, "origin-text")
    os.makedirs(bytes_dir, exist_ok=True)
    os.makedirs(text_dir, exist_ok=True)
    for s in scenarios:
        for n in s.bytes_sizes():
            with open(os.path.join(bytes_dir, str(n)), "wb") as f:
                f.write(b"x" * n)
            with open(os.path.join(text_dir, str(n)), "wb") as f:
                f.write(prose(n))
    maps, adds = standin_header_maps(scenarios)
    conf = nginx_common(ctx.tmp, ctx.plan.origin, "origin") + f"""http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
{nginx_temp_paths(ctx.tmp, "origin")}{maps}  server {{
    listen 127.0.0.1:{port} backlog=4096;
{adds}    location = / {{ default_type text/plain; return 200 "hello from origin\\n"; }}
    location /bytes/ {{
      if ($arg_text = "1") {{ rewrite ^/bytes/(.*)$ /text/$1 last; }}
      alias {bytes_dir}/; default_type application/octet-stream; sendfile on;
    }}
    location /text/ {{ internal; alias {text_dir}/; default_type text/html; sendfile on; }}
    location = /sink {{ client_max_body_size 64m; default_type text/plain; return 200 "ok\\n"; }}
    location = /stats {{ stub_status; }}
  }}
}}
"""
    path = os.path.join(ctx.tmp, "origin-nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    cmd = ctx.pin(ctx.plan.origin, ["nginx", "-p", ctx.tmp, "-e", "stderr", "-c", path])
    proc = ctx.procs.start(cmd, os.path.join(ctx.logdir, "origin.log"))
    wait_port(port, proc, 10, "nginx stand-in origin")
    return Origin("nginx stand-in", proc, port, read_first_line(["nginx", "-v"]))


# --------------------------------------------------------------------------
# Peers (the proxies under test)
# --------------------------------------------------------------------------


class Instance:
    def __init__(self, peer: "Peer", proc: subprocess.Popen, port: int, extra) -> None:
        self.peer = peer
        self.proc = proc
        self.port = port
        self.extra = extra

    def alive(self) -> bool:
        return self.proc.poll() is None


class Peer:
    name = ""

    @property
    def family(self) -> str:
        """The proxy this peer is (a variant shares its scenarios' configs)."""
        return self.name

    def available(self, ctx: Ctx) -> Optional[str]:
        """None when it can run, else why not."""
        return None

    def version(self, ctx: Ctx) -> str:
        return ""

    def command(self, ctx: Ctx, port: int, extra) -> list:
        raise NotImplementedError

    def start(self, ctx: Ctx, extra=None, tag: Optional[str] = None) -> Instance:
        # tag: the config file gets it in its name (ringway-gzip.yaml), so the
        # results' logs keep every scenario's config.
        self.tag = tag if extra is not None else None
        port = free_port()
        cmd = ctx.pin(ctx.plan.proxy, self.command(ctx, port, with_tmp(extra, ctx.tmp)))
        log_path = os.path.join(ctx.logdir, f"{self.name}.log")
        size = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        proc = ctx.procs.start(cmd, log_path)
        try:
            wait_port(port, proc, 15, self.name)
        except BenchError as e:
            Procs.stop(proc)
            raise BenchError(f"{e}: {log_tail(log_path, size)}")
        return Instance(self, proc, port, extra)

    tag: Optional[str] = None

    def write_config(self, ctx: Ctx, filename: str, text: str) -> str:
        if self.tag:
            base, ext = os.path.splitext(filename)
            filename = f"{base}-{self.tag}{ext}"
        path = os.path.join(ctx.tmp, filename)
        with open(path, "w") as f:
            f.write(text)
        return path


def log_tail(path: str, offset: int, lines: int = 2) -> str:
    """The last lines a process wrote to its log after offset (why it exited)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    got = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("$ ")]
    return " | ".join(got[-lines:]) or "(nothing in its log)"


def with_tmp(extra, tmp: str):
    """extra with "@TMP@" replaced by the run's temp dir (str, or dict of str)."""
    if isinstance(extra, str):
        return extra.replace("@TMP@", tmp)
    if isinstance(extra, dict):
        return {k: with_tmp(v, tmp) for k, v in extra.items()}
    return extra


def extra_parts(extra, default_key: str, keys: tuple) -> dict:
    """{key: text} from a peer's extra: a plain string goes to default_key."""
    parts = {k: "" for k in keys}
    if isinstance(extra, dict):
        unknown = set(extra) - set(keys)
        if unknown:
            raise BenchError(f"unknown proxy_extra keys {sorted(unknown)} (known: {', '.join(keys)})")
        parts.update({k: v or "" for k, v in extra.items()})
    elif extra:
        parts[default_key] = extra
    return parts


class RingwayPeer(Peer):
    name = "ringway"

    def bin(self, ctx: Ctx) -> Optional[str]:
        return ctx.find_bin("ringway", "RINGWAY_BIN")

    def available(self, ctx: Ctx) -> Optional[str]:
        return None if self.bin(ctx) else "ringway binary not found in build dir"

    def version(self, ctx: Ctx) -> str:
        return read_first_line([self.bin(ctx), "--version"], 2, require_ok=True)

    def command(self, ctx: Ctx, port: int, extra) -> list:
        # extra: YAML text appended to the config (scenario-specific keys).
        # idle_timeout 300s like nginx's keepalive_timeout and haproxy's
        # timeout http-keep-alive (idle_10k keeps clients idle for a while).
        conf = f"""listen:
  - address: 127.0.0.1:{port}
workers: {ctx.plan.workers}
upstreams:
  origin:
    endpoints: ["127.0.0.1:{ctx.origin_port}"]
    max_idle_per_worker: 128
routes:
  - match: {{ prefix: / }}
    upstream: origin
limits:
  idle_timeout: 300s
{extra or ""}"""
        path = self.write_config(ctx, f"{self.name}.yaml", conf)
        return [self.bin(ctx), "--config", path]


class RingwayBatchedPeer(RingwayPeer):
    """ringway with completion batching on (engine.batch_wait, its
    CPU-for-latency knob), to measure beside the default: --peers
    ringway,ringway-batched,..."""
    name = "ringway-batched"
    BATCH = "engine:\n  batch_wait: 100us\n"

    @property
    def family(self) -> str:
        return "ringway"

    def available(self, ctx: Ctx) -> Optional[str]:
        m = re.match(r"(\d+)\.(\d+)", platform.release())
        if m and (int(m.group(1)), int(m.group(2))) < (6, 12):
            return f"completion batching needs Linux >= 6.12 (this kernel: {platform.release()})"
        return super().available(ctx)

    def command(self, ctx: Ctx, port: int, extra) -> list:
        return super().command(ctx, port, (extra or "") + self.BATCH)


class NginxPeer(Peer):
    name = "nginx"

    def available(self, ctx: Ctx) -> Optional[str]:
        return None if shutil.which("nginx") else "nginx not installed"

    def version(self, ctx: Ctx) -> str:
        return read_first_line(["nginx", "-v"])

    def command(self, ctx: Ctx, port: int, extra) -> list:
        # extra: nginx directives added inside `location /` (a string, or
        # {"location": ...}), and/or in the http block ({"http": ...}:
        # proxy_cache_path, limit_req_zone).
        # Bodies stay in memory (no temp files): 64 KiB request bodies fit in
        # client_body_buffer_size, and large responses never spill to disk.
        parts = extra_parts(extra, "location", ("http", "location"))
        conf = nginx_common(ctx.tmp, ctx.plan.proxy, "proxy") + f"""http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_max_body_size 64m;
  client_body_buffer_size 128k;
  proxy_max_temp_file_size 0;
{nginx_temp_paths(ctx.tmp, "proxy")}{parts["http"]}  upstream origin {{
    server 127.0.0.1:{ctx.origin_port};
    keepalive 128;  # idle upstream connections per worker, as ringway's max_idle_per_worker
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
{parts["location"]}    }}
  }}
}}
"""
        path = self.write_config(ctx, "nginx-proxy.conf", conf)
        return ["nginx", "-p", ctx.tmp, "-e", "stderr", "-c", path]


class HaproxyPeer(Peer):
    name = "haproxy"

    def available(self, ctx: Ctx) -> Optional[str]:
        return None if shutil.which("haproxy") else "haproxy not installed"

    def version(self, ctx: Ctx) -> str:
        return read_first_line(["haproxy", "-v"])

    def command(self, ctx: Ctx, port: int, extra) -> list:
        # extra: haproxy lines added to the backend section (a string, or
        # {"backend": ...}), to the global section ({"global": ...}), and
        # whole sections appended at the end ({"sections": ...}: cache).
        # maxconn above idle_10k's 10,000 clients. haproxy sizes its fd needs
        # as 2 x maxconn and refuses to start when the hard open-file limit is
        # below that (20000 here); `no strict-limits` makes it a warning, and
        # idle clients need one fd each (the server side is shared).
        parts = extra_parts(extra, "backend", ("global", "backend", "sections"))
        cpu_map = "".join(f"  cpu-map 1/{i + 1} {cpu}\n" for i, cpu in enumerate(ctx.plan.proxy))
        conf = f"""global
  nbthread {ctx.plan.workers}
{cpu_map}  maxconn {IDLE_CONNECTIONS + 2000}
  no strict-limits
{parts["global"]}
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s

frontend fe
  bind 127.0.0.1:{port}
  default_backend be

backend be
  server origin 127.0.0.1:{ctx.origin_port} pool-max-conn 128
{parts["backend"]}{"" if not parts["sections"] else chr(10) + parts["sections"]}"""
        path = self.write_config(ctx, "haproxy.cfg", conf)
        return ["haproxy", "-f", path, "-db"]


class FwdPeer(Peer):
    name = "fwd"
    _built: Optional[str] = None

    def bin(self, ctx: Ctx) -> Optional[str]:
        p = ctx.find_bin("ringway-fwd", "RINGWAY_FWD_BIN")
        if p or FwdPeer._built:
            return p or FwdPeer._built
        # Not in the build dir (e.g. the tree does not configure yet):
        # compile the single source directly.
        src = os.path.join(REPO, "bench", "fwd", "fwd.cc")
        cxx = shutil.which("g++") or shutil.which("c++")
        if cxx and os.path.exists(src):
            out = os.path.join(ctx.tmp, "ringway-fwd")
            r = subprocess.run([cxx, "-std=c++20", "-O2", "-o", out, src, "-luring"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode == 0:
                ctx.notes.append("ringway-fwd not in build dir: compiled bench/fwd/fwd.cc "
                                 "directly with g++ -O2")
                FwdPeer._built = out
                return out
            log(f"warning: compiling {src} failed:\n{r.stdout}")
        return None

    def available(self, ctx: Ctx) -> Optional[str]:
        if ctx.plan.workers > 1:
            return "fwd is single-threaded: no floor with more than one proxy CPU"
        return None if self.bin(ctx) else "ringway-fwd not found in build dir and could not be compiled"

    def version(self, ctx: Ctx) -> str:
        return "bench/fwd (io_uring 1:1 TCP forwarder)"

    def command(self, ctx: Ctx, port: int, extra) -> list:
        # extra: FWD_RESPOND, the floor of a cache hit (no upstream at all).
        if extra:
            return [self.bin(ctx), *extra, str(port)]
        return [self.bin(ctx), str(port), str(ctx.origin_port)]


class H2oPeer(Peer):
    name = "h2o"

    def available(self, ctx: Ctx) -> Optional[str]:
        return None if shutil.which("h2o") else "h2o not installed"

    def version(self, ctx: Ctx) -> str:
        return read_first_line(["h2o", "--version"])

    def command(self, ctx: Ctx, port: int, extra) -> list:
        # extra: top-level h2o directives (compress). One event loop thread
        # per proxy CPU; h2o 2.2 has no per-thread CPU affinity, so its
        # threads share the proxy CPUs through the process's taskset mask.
        # Upstream keep-alive: idle connections kept 300 s (the default is
        # 2 s), as for the other peers; no access log, as for the others.
        # h2o refuses to run as root without `user`, and a non-root h2o
        # given one fails to switch to it: only root gets the line.
        user = f"user: {pwd.getpwuid(0).pw_name}\n" if os.geteuid() == 0 else ""
        conf = f"""num-threads: {ctx.plan.workers}
max-connections: {IDLE_CONNECTIONS + 2000}
{user}pid-file: {ctx.tmp}/h2o-{port}.pid
error-log: /dev/stderr
listen:
  host: 127.0.0.1
  port: {port}
http1-request-timeout: 300000
proxy.timeout.keepalive: 300000
proxy.timeout.io: 300000
proxy.preserve-host: ON
{extra or ""}hosts:
  default:
    paths:
      /:
        proxy.reverse.url: http://127.0.0.1:{ctx.origin_port}/
"""
        path = self.write_config(ctx, "h2o.conf", conf)
        return ["h2o", "-c", path]


PEERS = {p.name: p for p in (RingwayPeer(), RingwayBatchedPeer(), NginxPeer(), HaproxyPeer(),
                             H2oPeer(), FwdPeer())}


# --------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def parse_wrk(out: str) -> dict:
    res: dict = {"requests": 0, "rps": 0.0, "non2xx": 0,
                 "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0},
                 "latency_us": {}}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+),", out)
    if m:
        res["requests"] = int(m.group(1))
        res["elapsed_s"] = float(m.group(2)) * _UNITS_US.get(m.group(3), 1e6) / 1e6
    m = re.search(r"requests in [\d.]+\w+, ([\d.]+)([KMGTP]?B) read", out)
    if m:  # wrk's units are binary: 1KB = 1024 B
        res["bytes_read"] = float(m.group(1)) * 1024 ** "BKMGTP".index(m.group(2)[0])
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                        map(int, m.groups())))
    for pct, val, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", out, re.M):
        res["latency_us"][f"p{pct}"] = float(val) * _UNITS_US[unit]
    return res


def wrk_cmd(ctx: Ctx, scen: Scenario, port: int, duration: float, script: Optional[str]) -> list:
    conns = scen.wrk_connections(ctx.args.connections)
    threads = max(1, min(ctx.args.threads, conns))
    # wrk only takes whole seconds.
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "10s"]
    for h in scen.headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(f"http://127.0.0.1:{port}{scen.path}")
    return ctx.pin(ctx.plan.wrk, cmd)


def kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    p.wait()


def run_tool(cmd: list, timeout: float, log_path: str, rss_root: Optional[int] = None,
             rss: Optional[list] = None, what: str = "wrk") -> str:
    """Runs wrk or ringway-load in its own session (Ctrl-C reaches only us; it
    is killed whatever happens) and returns its output. With rss_root, the
    proxy's RSS is sampled into `rss` every 0.5 s while it runs."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    pids = proc_tree(rss_root) if rss_root is not None else None
    out = None
    try:
        while out is None:
            try:
                out, _ = p.communicate(timeout=0.5)
            except subprocess.TimeoutExpired:
                if pids is not None and rss is not None:
                    rss.append(rss_kib(rss_root, pids))
                if time.monotonic() > deadline:
                    kill_group(p)
                    out, _ = p.communicate()
                    out = (out or "") + f"\n[run.py] {what} timed out\n"
    finally:
        if p.poll() is None:
            kill_group(p)
    with open(log_path, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n" + out + "\n")
    return out


def run_wrk(cmd: list, duration: float, log_path: str, rss_root: Optional[int] = None,
            rss: Optional[list] = None) -> str:
    return run_tool(cmd, duration + 60, log_path, rss_root, rss, "wrk")


def run_one(ctx: Ctx, origin: Origin, inst: Instance, scen: Scenario, count: int) -> list:
    """Sanity request, warm-up, then `count` measured wrk runs: their samples.
    A scenario's background (idle connections) starts after the warm-up, so
    the proxy's RSS sampled during the warm-up is the baseline it adds to."""
    status = http_check(inst.port, scen)
    if not 200 <= status < 300:
        raise BenchError(f"sanity request {scen.method} {scen.path} via {inst.peer.name} "
                         f"answered HTTP {status}")
    info: dict = {}
    if scen.check:
        info.update(scen.check(ctx, inst, scen) or {})
    script = None
    text = scen.wrk_script()
    if text:
        script = os.path.join(ctx.tmp, f"{scen.name}.lua")
        with open(script, "w") as f:
            f.write(text)
    log_path = os.path.join(ctx.logdir, f"wrk-{scen.name}-{inst.peer.name}.txt")
    warmup = ctx.args.warmup
    sample_rss = scen.background is not None
    if sample_rss:
        warmup = max(warmup, 2)  # the RSS baseline needs a few samples under load
    base_rss: list = []
    if warmup > 0:
        run_wrk(wrk_cmd(ctx, scen, inst.port, warmup, script), warmup, log_path,
                inst.proc.pid if sample_rss else None, base_rss)
    if sample_rss:
        info["rss_base_kib"] = median(base_rss)
    samples = []
    cleanup = scen.background(ctx, inst, info) if scen.background else None
    try:
        for _ in range(count):
            samples.append(measure(ctx, origin, inst, scen, script, log_path, sample_rss))
            if not inst.alive():
                break
    finally:
        if cleanup:
            cleanup()
    for x in samples:
        x.update(info)
        n = info.get("idle_conns")
        if n and x.get("rss_run_kib") is not None and info.get("rss_base_kib") is not None:
            x["idle_bytes_per_conn"] = (x["rss_run_kib"] - info["rss_base_kib"]) * 1024 / n
    return samples


def sample_error(x: dict) -> Optional[str]:
    if x.get("error"):
        return x["error"]
    if x["requests"] == 0:
        return "no requests completed"
    if x["non2xx"]:
        return f"{x['non2xx']} non-2xx/3xx responses"
    # Requests wrk lost (resets, timeouts) leave its latency and rate about the
    # others; one in a thousand is tolerated (a reset at the end of a run).
    lost = sum((x.get("socket_errors") or {}).values())
    if lost > max(1, x["requests"] // 1000):
        return f"{lost} socket errors in wrk: {x['socket_errors']}"
    if "idle_conns" in x:
        bad = {k: v for k, v in x.get("idle_statuses", {}).items() if not k.startswith("2")}
        if bad:
            return f"idle connections: responses {bad}"
        closed = x["idle_conns"] - x.get("idle_still_open", x["idle_conns"])
        if closed:
            return f"the proxy closed {closed} of {x['idle_conns']} idle connections during the run"
    return None


def summarize(scen_name: str, peer: str, samples: list, errors: list) -> dict:
    """One result row from all samples of (scenario, peer): the sample with the
    median CPU us/req, plus every sample's key numbers when there are several."""
    row: dict = {"scenario": scen_name, "peer": peer}
    ok = sorted((x for x in samples if x["cpu_us_per_req"] is not None),
                key=lambda x: x["cpu_us_per_req"])
    if ok or samples:
        row.update(ok[(len(ok) - 1) // 2] if ok else samples[-1])
        row.pop("error", None)
    if len(samples) > 1:
        row["repeats"] = [{k: x.get(k) for k in ("rps", "cpu_us_per_req", "origin_cpu_us_per_req",
                                                 "other_cpu_pct", "rss_kib", "idle_bytes_per_conn")
                           if k in x} for x in samples]
        if ok:
            row["cpu_us_per_req_min"] = ok[0]["cpu_us_per_req"]
            row["cpu_us_per_req_max"] = ok[-1]["cpu_us_per_req"]
    errs = errors + [e for e in map(sample_error, samples) if e]
    if errs:
        row["error"] = "; ".join(dict.fromkeys(errs))  # unique, in order
    return row


def measure(ctx: Ctx, origin: Origin, inst: Instance, scen: Scenario, script: Optional[str],
            log_path: str, sample_rss: bool = False) -> dict:
    """One measured wrk run; proxy and origin CPU time read around it, the
    proxy's RSS read after it (and sampled during it with sample_rss)."""
    cmd = wrk_cmd(ctx, scen, inst.port, ctx.args.duration, script)
    rss_run: list = []
    oreq0 = origin_requests(ctx)
    p0, o0, t0 = cpu_ticks(inst.proc.pid), cpu_ticks(origin.proc.pid), time.monotonic()
    s0, c0 = system_jiffies(), children_cpu_s()
    out = run_wrk(cmd, ctx.args.duration, log_path, inst.proc.pid if sample_rss else None, rss_run)
    s1, c1 = system_jiffies(), children_cpu_s()
    p1, o1, t1 = cpu_ticks(inst.proc.pid), cpu_ticks(origin.proc.pid), time.monotonic()
    rss_end = rss_kib(inst.proc.pid)
    oreq1 = origin_requests(ctx)
    w = parse_wrk(out)
    if not scen.wrk_latency:
        w["latency_us"] = {}  # raw numbers stay in the wrk log
    proxy_cpu = cpu_seconds_between(p0, p1)
    origin_cpu = cpu_seconds_between(o0, o1)
    wrk_cpu = c1 - c0  # wrk is the only child reaped in the window
    # CPU used by anything but proxy, origin and wrk during the window
    # (ksoftirqd, other users' builds...): a contamination indicator.
    other_cpu = max(0.0, (s1[0] - s0[0]) / CLK_TCK - proxy_cpu - origin_cpu - wrk_cpu)
    n = w["requests"]
    origin_reqs = oreq1 - oreq0 - 1 if oreq0 is not None and oreq1 is not None else None
    checks, error = run_checks(scen, n, origin_reqs, w.get("bytes_read"),
                               scen.wrk_connections(ctx.args.connections))
    return {
        **({"error": error} if error else {}),
        "checks": checks,
        "origin_requests": origin_reqs,
        "bytes_read": w.get("bytes_read"),
        "connections": scen.wrk_connections(ctx.args.connections),
        "wrk_cmd": " ".join(cmd),
        "requests": n,
        "rps": w["rps"],
        "latency_us": w["latency_us"],
        "non2xx": w["non2xx"],
        "socket_errors": w["socket_errors"],
        "window_s": t1 - t0,
        "proxy_cpu_s": proxy_cpu,
        "proxy_cpu_pct": 100.0 * proxy_cpu / (t1 - t0),
        "cpu_us_per_req": proxy_cpu * 1e6 / n if n else None,
        "origin_cpu_s": origin_cpu,
        "origin_cpu_us_per_req": origin_cpu * 1e6 / n if n else None,
        "wrk_cpu_s": wrk_cpu,
        "other_cpu_pct": 100.0 * other_cpu / (t1 - t0),
        "steal_pct": 100.0 * (s1[1] - s0[1]) / CLK_TCK / (t1 - t0),
        "rss_kib": rss_end,
        **({"rss_run_kib": median(rss_run), "rss_run_samples": len(rss_run)} if sample_rss else {}),
    }


def origin_share_holds(scen: Scenario, origin_reqs: int, requests: float, slack: float) -> bool:
    """origin_reqs within the scenario's origin_share of requests, give or
    take slack requests."""
    lo, hi = scen.origin_share
    return lo * requests - slack <= origin_reqs <= hi * requests + slack


def run_checks(scen: Scenario, requests: int, origin_reqs: Optional[int],
               bytes_read: Optional[float], connections: int) -> tuple:
    """({name: value}, error or None): the scenario's origin_share and
    max_response_bytes over one measured run. The origin's count may be off
    by up to one request per connection: those in flight when wrk stopped
    reached the origin but are not in wrk's count."""
    checks: dict = {}
    errors = []
    if scen.origin_share is not None and requests:
        lo, hi = scen.origin_share
        if origin_reqs is None:
            checks["origin_per_req"] = None  # origin counter unreadable: not checked
        else:
            share = origin_reqs / requests
            checks["origin_per_req"] = round(share, 4)
            if not origin_share_holds(scen, origin_reqs, requests, connections):
                errors.append(f"the origin saw {origin_reqs:,} requests for {requests:,} client requests "
                              f"({share:.3f} per request, expected {lo:g} to {hi:g}, "
                              f"± {connections} in flight)")
    if scen.max_response_bytes is not None and requests:
        if bytes_read is None:
            errors.append("wrk reported no bytes read")
        else:
            per = bytes_read / requests
            checks["bytes_per_response"] = round(per)
            if per > scen.max_response_bytes:
                errors.append(f"{per:,.0f} bytes per response (head + body) on average, expected at most "
                              f"{scen.max_response_bytes:,}")
    return checks, "; ".join(errors) or None


# --------------------------------------------------------------------------
# Open loop: ringway-load at a fixed rate after the closed-loop runs
# --------------------------------------------------------------------------


def nice_rate(x: float) -> float:
    """Rounded down to 3 significant digits (18,154 -> 18,100)."""
    if x <= 0:
        return 0.0
    step = 10 ** max(0, len(str(int(x))) - 3)
    return float(max(1, int(x // step) * step)) if x >= 1 else round(x, 3)


def open_loop_rates(mode: str, fraction: float, scenarios: list, peers: list, rows: dict) -> dict:
    """{(scenario, peer): (rate, how)} for every pair that gets an open-loop
    run. rows: (scenario, peer) -> summarized closed-loop row."""
    def ok(r):
        return r is not None and not r.get("error") and r.get("rps", 0) > 0
    out = {}
    for sc in scenarios:
        if not sc.open_loop:
            continue
        have = {p: rows[(sc.name, p)] for p in peers if ok(rows.get((sc.name, p)))}
        if not have:
            continue
        if mode == "common":
            slowest = min(have, key=lambda p: have[p]["rps"])
            rate = nice_rate(fraction * have[slowest]["rps"])
            how = (f"{fraction:.0%} of the slowest peer's closed-loop req/s "
                   f"({slowest}: {have[slowest]['rps']:,.0f}), same for all peers")
            out.update({(sc.name, p): (rate, how) for p in have})
        elif mode == "peer":
            for p, r in have.items():
                out[(sc.name, p)] = (nice_rate(fraction * r["rps"]),
                                     f"{fraction:.0%} of this peer's closed-loop req/s ({r['rps']:,.0f})")
        else:
            out.update({(sc.name, p): (float(mode), "fixed (--open-loop)") for p in have})
    return out


def load_cmd(ctx: Ctx, load_bin: str, scen: Scenario, port: int, rate: float) -> list:
    conns = scen.wrk_connections(ctx.args.connections)
    threads = max(1, min(ctx.args.threads, conns))
    cmd = [load_bin, "--rate", f"{rate:g}", "--duration", f"{ctx.ol_duration:g}s",
           "--warmup", f"{ctx.ol_warmup:g}s", "--connections", str(conns), "--threads", str(threads),
           "--timeout", "10s", "--json"]
    if scen.load_pipeline > 1:
        cmd += ["--pipeline", str(scen.load_pipeline)]
    for h in scen.headers:
        cmd += ["-H", h]
    if scen.load_requests is not None:
        # The wrk lua script's requests (distinct tokens, URLs), round robin.
        reqs = os.path.join(ctx.tmp, f"{scen.name}.requests")
        with open(reqs, "w") as f:
            f.write(scen.load_requests)
        cmd += ["--requests", reqs]
    elif scen.method != "GET" or scen.body_size:
        # Same request as the generated wrk script: a request file with the body.
        body = os.path.join(ctx.tmp, f"{scen.name}.body")
        with open(body, "wb") as f:
            f.write(b"a" * scen.body_size)
        reqs = os.path.join(ctx.tmp, f"{scen.name}.requests")
        with open(reqs, "w") as f:
            f.write(f"{scen.method} {scen.path} Content-Type: application/octet-stream "
                    f"@{os.path.basename(body)}\n" if scen.body_size else f"{scen.method} {scen.path}\n")
        cmd += ["--requests", reqs]
    cmd.append(f"http://127.0.0.1:{port}{scen.path}")
    return ctx.pin(ctx.plan.wrk, cmd)


def run_open_loop(ctx: Ctx, load_bin: str, inst: Instance, scen: Scenario, rate: float,
                  how: str) -> dict:
    """One ringway-load run at `rate`; its JSON plus the proxy's CPU per request."""
    status = http_check(inst.port, scen)
    if not 200 <= status < 300:
        raise BenchError(f"sanity request {scen.method} {scen.path} via {inst.peer.name} "
                         f"answered HTTP {status}")
    cmd = load_cmd(ctx, load_bin, scen, inst.port, rate)
    log_path = os.path.join(ctx.logdir, f"load-{scen.name}-{inst.peer.name}.txt")
    oreq0 = origin_requests(ctx) if scen.origin_share is not None else None
    p0, t0, s0, c0 = cpu_ticks(inst.proc.pid), time.monotonic(), system_jiffies(), children_cpu_s()
    o0 = cpu_ticks(ctx.origin_pid)
    out = run_tool(cmd, ctx.ol_warmup + ctx.ol_duration + 40, log_path, what="ringway-load")
    p1, t1, s1, c1 = cpu_ticks(inst.proc.pid), time.monotonic(), system_jiffies(), children_cpu_s()
    o1 = cpu_ticks(ctx.origin_pid)
    oreq1 = origin_requests(ctx) if oreq0 is not None else None
    js = None
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            try:
                js = json.loads(line)
                break
            except ValueError:
                pass
    if js is None:
        raise BenchError(f"ringway-load gave no JSON: {out.strip()[-300:]}")
    n = js.get("requests", 0)
    cpu = cpu_seconds_between(p0, p1)
    other = max(0.0, (s1[0] - s0[0]) / CLK_TCK - cpu - cpu_seconds_between(o0, o1) - (c1 - c0))
    res = {k: js.get(k) for k in ("target_rate", "rate", "requests", "scheduled", "unsent", "errors",
                                  "errors_by_kind", "timeouts", "status", "latency_us", "latency_all_us",
                                  "unanswered", "connects", "duration_s", "pipeline")}
    # Proxy CPU over the whole ringway-load run, warm-up included; its
    # requests are not in the JSON, so they are estimated from the rate.
    sent = n + rate * ctx.ol_warmup
    res.update({"how": how, "cmd": " ".join(cmd),
                "proxy_cpu_us_per_req": cpu * 1e6 / sent if n else None,
                "proxy_cpu_pct": 100.0 * cpu / (t1 - t0),
                "other_cpu_pct": 100.0 * other / (t1 - t0)})
    if oreq0 is not None and oreq1 is not None and n:
        res.update(open_loop_origin_share(scen, oreq1 - oreq0 - 1, sent, js.get("connections") or 0))
    return res


def open_loop_origin_share(scen: Scenario, origin_reqs: int, sent: float, connections: int) -> dict:
    """The scenario's origin_share over an open-loop run (a cache that stops
    answering from memory, say), as a result with a warning rather than an
    error: `sent` counts the warm-up's requests by its rate (an estimate, so
    2% more slack than the closed loop's check)."""
    lo, hi = scen.origin_share
    share = origin_reqs / sent
    out = {"origin_per_req": round(share, 4)}
    if not origin_share_holds(scen, origin_reqs, sent, connections + 0.02 * sent):
        out["origin_issue"] = f"origin {share:.2f} per request, expected {lo:g} to {hi:g}"
    return out


def median_pass(passes: list) -> dict:
    """Of several open-loop passes of one scenario and peer, the one with the
    median p99 (a single pass's tail moves 2x on a shared box), its numbers
    kept together; every pass's p99 rides along in 'p99_passes_us'. A failed
    pass counts as the worst."""
    if len(passes) == 1:
        return passes[0]
    def p99(ol):
        lat = ol_latencies(ol)
        return lat.get("p99") if not open_loop_error(ol) and lat.get("p99") is not None else float("inf")
    ranked = sorted(passes, key=p99)
    chosen = dict(ranked[(len(ranked) - 1) // 2])
    chosen["p99_passes_us"] = [p99(ol) if p99(ol) != float("inf") else None for ol in passes]
    return chosen


def ol_latencies(ol: dict) -> dict:
    """An open-loop run's latency percentiles over every scheduled request:
    ringway-load's `latency_all_us` counts the unanswered ones (timeouts,
    unsent) at how long they had waited, where `latency_us` leaves them out as
    wrk2 does."""
    return ol.get("latency_all_us") or ol.get("latency_us") or {}


def open_loop_error(ol: dict) -> Optional[str]:
    """Hard failures only; errors, timeouts and unsent requests are results."""
    if ol.get("error"):
        return f"open loop: {ol['error']}"
    if not ol.get("requests"):
        return "open loop: no requests completed"
    bad = {k: v for k, v in (ol.get("status") or {}).items() if not k.startswith(("2", "3"))}
    if bad:
        return f"open loop: responses {bad}"
    return None


def open_loop_issues(ol: dict) -> str:
    """What to distrust an open-loop result for: errors, timeouts, unsent
    requests, and other processes busy during it (> 10% of a CPU)."""
    parts = []
    for k in ("errors", "timeouts", "unsent"):
        if ol.get(k):
            parts.append(f"{ol[k]} {k}")
    if ol.get("other_cpu_pct", 0) > 10:
        parts.append(f"other CPU {ol['other_cpu_pct']:.0f}%")
    if ol.get("origin_issue"):
        parts.append(ol["origin_issue"])
    return ", ".join(parts)


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def fmt_kib(kib: Optional[float]) -> str:
    return "-" if kib is None else f"{kib / 1024:,.1f}"


def fmt_ol(ol: Optional[dict]) -> tuple:
    """(rate cell, 'p50 / p99 / p99.9' cell) of an open-loop result."""
    if not ol:
        return "-", "-"
    rate = f"{ol['target_rate']:,.0f}" if ol.get("target_rate") else "-"
    if ol.get("error") or not ol.get("requests"):
        return rate, "failed"
    lat = ol_latencies(ol)
    cell = " / ".join(fmt_us(lat.get(k)) for k in ("p50", "p99", "p999"))
    if len(ol.get("p99_passes_us") or []) > 1:
        cell += f" (median p99 of {len(ol['p99_passes_us'])})"
    issues = open_loop_issues(ol)
    return rate, f"{cell} ({issues})" if issues else cell


def progress_line(i: int, total: int, row: dict) -> str:
    head = f"[{i}/{total}] {row['scenario']:<10} {row['peer']:<8}"
    if "rps" not in row:
        return f"{head} ERROR: {row.get('error')}"
    lat = row["latency_us"]
    s = (f"{head} {row['rps']:>10,.0f} req/s  p50 {fmt_us(lat.get('p50')):>8}  "
         f"p99 {fmt_us(lat.get('p99')):>8}  cpu {fmt_num(row['cpu_us_per_req'], 2):>7} us/req "
         f"({row['proxy_cpu_pct']:.0f}% of a CPU)  origin {fmt_num(row['origin_cpu_us_per_req'], 2)} us/req")
    s += f"  other {row['other_cpu_pct']:.0f}%  RSS {fmt_kib(row.get('rss_kib'))} MiB"
    if "idle_conns" in row:
        s += (f"  idle: {row['idle_conns']:,} conns (opened in {row.get('idle_open_s', 0):.1f}s), "
              f"RSS {fmt_kib(row.get('rss_base_kib'))} -> {fmt_kib(row.get('rss_run_kib'))} MiB, "
              f"{fmt_num(row.get('idle_bytes_per_conn'), 0)} bytes/conn")
    checks = dict(row.get("checks") or {})
    if row.get("gzip_body_bytes"):
        checks["gzip body"] = f"{row['gzip_body_bytes']:,}/{row['gzip_plain_bytes']:,} B"
    if checks:
        s += "  " + ", ".join(f"{k} {v}" for k, v in checks.items())
    se = sum(row["socket_errors"].values())
    if se:
        s += f"  socket errors {row['socket_errors']}"
    if row.get("error"):
        s += f"  ERROR: {row['error']}"
    return s


def ol_progress_line(i: int, total: int, scen: str, peer: str, ol: dict) -> str:
    head = f"[open loop {i}/{total}] {scen:<10} {peer:<8}"
    if ol.get("error"):
        return f"{head} at {ol.get('target_rate', 0):,.0f} req/s: ERROR: {ol['error']}"
    lat = ol_latencies(ol)
    s = (f"{head} at {ol['target_rate']:,.0f} req/s (got {ol.get('rate') or 0:,.0f}): "
         f"p50 {fmt_us(lat.get('p50'))}  p99 {fmt_us(lat.get('p99'))}  p99.9 {fmt_us(lat.get('p999'))}  "
         f"max {fmt_us(lat.get('max'))}  cpu {fmt_num(ol.get('proxy_cpu_us_per_req'), 2)} us/req")
    issues = open_loop_issues(ol)
    if issues:
        s += f"  ({issues})"
    e = open_loop_error(ol)
    if e:
        s += f"  ERROR: {e}"
    return s


def clean_cpu(by: dict, scenario: str, peer: str):
    """CPU us/req of a row that ran without error, else None: a failed run
    (non-2xx answers, a cache that stopped hitting) is no yardstick."""
    r = by.get((scenario, peer)) or {}
    return None if r.get("error") else r.get("cpu_us_per_req")


def results_table(rows: list, peers: list) -> str:
    hdr = ["scenario", "peer", "req/s", "p50", "p99", "OL req/s", "OL p50 / p99 / p99.9",
           "CPU us/req", "proxy CPU %", "origin us/req", "RSS MiB", "other CPU %",
           "sock errs"] + [f"÷{p}" for p in peers]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join("---" for _ in hdr) + "|"]
    by = {(r["scenario"], r["peer"]): r for r in rows}
    for r in rows:
        if "rps" not in r:
            lines.append(f"| {r['scenario']} | {r['peer']} | ERROR: {r.get('error')} |" +
                         " |" * (len(hdr) - 3))
            continue
        lat = r["latency_us"]
        ol_rate, ol_lat = fmt_ol(r.get("open_loop"))
        cells = [r["scenario"], r["peer"], f"{r['rps']:,.0f}", fmt_us(lat.get("p50")),
                 fmt_us(lat.get("p99")), ol_rate, ol_lat, fmt_num(r["cpu_us_per_req"], 2),
                 f"{r['proxy_cpu_pct']:.0f}", fmt_num(r["origin_cpu_us_per_req"], 2),
                 fmt_kib(r.get("rss_kib")), f"{r['other_cpu_pct']:.0f}",
                 str(sum(r["socket_errors"].values()))]
        mine = clean_cpu(by, r["scenario"], r["peer"])
        for p in peers:
            other = clean_cpu(by, r["scenario"], p)
            if p == r["peer"]:
                cells.append("1")
            elif mine and other:
                cells.append(f"{mine / other:.2f}")
            else:
                cells.append("-")
        if r.get("error"):
            cells[1] += f" (ERROR: {r['error']})"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def idle_table(rows: list, peers: list) -> str:
    """Memory per idle connection, one table per scenario that holds idle
    connections; ÷peer = this row's bytes/conn divided by that peer's."""
    out = []
    for s in dict.fromkeys(r["scenario"] for r in rows if "idle_conns" in r):
        have = {r["peer"]: r for r in rows if r["scenario"] == s and "idle_conns" in r}
        hdr = ["peer", "idle conns", "RSS before MiB", "RSS with idle MiB", "bytes/conn",
               "opened in s"] + [f"÷{p}" for p in peers if p in have]
        out.append(f"**{s}**\n")
        out.append("| " + " | ".join(hdr) + " |")
        out.append("|" + "|".join("---" for _ in hdr) + "|")
        for p in peers:
            r = have.get(p)
            if r is None:
                continue
            b = r.get("idle_bytes_per_conn")
            cells = [p + (f" (ERROR: {r['error']})" if r.get("error") else ""),
                     f"{r['idle_conns']:,}", fmt_kib(r.get("rss_base_kib")),
                     fmt_kib(r.get("rss_run_kib")), fmt_num(b, 0), f"{r.get('idle_open_s', 0):.1f}"]
            for q in peers:
                if q not in have:
                    continue
                ob = have[q].get("idle_bytes_per_conn")
                cells.append("1" if q == p else (f"{b / ob:.2f}" if b and ob and ob > 0 else "-"))
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        for p in peers:
            if p in have and have[p].get("idle_note"):
                out.append(f"- {p}: {have[p]['idle_note']}")
        out.append("")
    return "\n".join(out).rstrip() + "\n" if out else ""


def filter_section(rows: list, peers: list, scenarios: list) -> str:
    """What the filter scenarios cost over their baselines, the targets
    (cache hit vs proxied miss), gzip output sizes and which peer has no
    equivalent. scenarios: the Scenario objects of this run."""
    by = {(r["scenario"], r["peer"]): r for r in rows}
    names = {sc.name for sc in scenarios}
    cpu = lambda s, p: clean_cpu(by, s, p)
    out = []
    for s, base, target, why in TARGETS:
        if s not in names or base not in names:
            continue
        out += [f"**{s} ÷ {base}** (CPU us/req; {why}; target for ringway ≤ {target:.2f})", "",
                f"| peer | {s} | {base} | ratio | target ≤ {target:.2f} |", "|---|---|---|---|---|"]
        for p in peers:
            a, b = cpu(s, p), cpu(base, p)
            if a is None and b is None:
                continue
            ratio = a / b if a and b else None
            verdict = ("-" if ratio is None or PEERS[p].family != "ringway"
                       else ("met" if ratio <= target else "NOT met"))
            out.append(f"| {p} | {fmt_num(a, 2)} | {fmt_num(b, 2)} | "
                       f"{'-' if ratio is None else f'{ratio:.2f}'} | {verdict} |")
        out.append("")
    based = [sc for sc in scenarios if sc.baseline and sc.baseline in names]
    if based:
        out += ["**Cost over the baseline** (CPU us/req of the scenario minus its baseline's, same peer: "
                "what the feature adds per request)", "",
                "| scenario | baseline | " + " | ".join(peers) + " |", "|---|---|" + "---|" * len(peers)]
        for sc in based:
            cells = []
            for p in peers:
                a, b = cpu(sc.name, p), cpu(sc.baseline, p)
                if PEERS[p].family in sc.no_equivalent:
                    cells.append("none")
                elif a is None or not b:  # no numbers, or a baseline that used no CPU tick
                    cells.append("-")
                else:
                    cells.append(f"{a - b:+.2f} ({a / b:.2f}x)")
            out.append(f"| {sc.name} | {sc.baseline} | " + " | ".join(cells) + " |")
        out.append("")
    gz = [(p, by[("gzip", p)]) for p in peers if by.get(("gzip", p), {}).get("gzip_body_bytes")]
    if gz:
        out += ["**gzip output** (one response, checked before the run: compressed body bytes of the "
                f"{TEXT_SIZE:,}-byte page; haproxy's libslz trades ratio for speed)", ""]
        out += [f"- {p}: {r['gzip_body_bytes']:,} bytes ({r['gzip_body_bytes'] / r['gzip_plain_bytes']:.1%})"
                for p, r in gz]
        out.append("")
    families = {PEERS[p].family for p in peers}
    none = [f"- `{sc.name}`: " + "; ".join(f"no {p} ({why})" for p, why in sc.no_equivalent.items()
                                          if p in families)
            for sc in scenarios if any(p in families for p in sc.no_equivalent)]
    if none:
        out += ["**No equivalent** (not run):", ""] + none + [""]
    return "\n".join(out)


def ratio_tables(rows: list, peers: list, scenarios: list) -> str:
    """Per scenario: CPU us/req of row peer divided by column peer."""
    by = {(r["scenario"], r["peer"]): r for r in rows}
    out = []
    for s in scenarios:
        have = [p for p in peers if clean_cpu(by, s, p)]
        if len(have) < 2:
            continue
        out.append(f"**{s}** (row CPU us/req ÷ column CPU us/req; failed runs left out)\n")
        out.append("| | " + " | ".join(have) + " |")
        out.append("|---|" + "|".join("---" for _ in have) + "|")
        for a in have:
            ra = clean_cpu(by, s, a)
            out.append(f"| {a} | " + " | ".join(f"{ra / clean_cpu(by, s, b):.2f}"
                                                for b in have) + " |")
        out.append("")
    return "\n".join(out)


# (column, what it reads from a row) of the metric ratio tables.
RATIO_METRICS = (
    ("req/s", lambda r: r.get("rps")),
    ("p50", lambda r: (r.get("latency_us") or {}).get("p50")),
    ("p99", lambda r: (r.get("latency_us") or {}).get("p99")),
    ("OL p50", lambda r: ol_latency(r, "p50")),
    ("OL p99", lambda r: ol_latency(r, "p99")),
    ("OL p99.9", lambda r: ol_latency(r, "p999")),
    ("CPU us/req", lambda r: r.get("cpu_us_per_req")),
    ("RSS", lambda r: r.get("rss_kib")),
)


def ol_latency(r: dict, key: str) -> Optional[float]:
    ol = r.get("open_loop")
    if not ol or open_loop_error(ol):
        return None
    return ol_latencies(ol).get(key)


def metric_ratios(rows: list, peers: list, scenarios: list) -> str:
    """Per scenario, every measured metric of one peer divided by another's,
    for each pair of peers in the order given (the first peer named is the
    numerator, so ringway ÷ each peer when ringway is named first). A row
    that failed has no ratios."""
    by = {(r["scenario"], r["peer"]): r for r in rows if "rps" in r and not r.get("error")}
    out = []
    for s in scenarios:
        have = [p for p in peers if (s, p) in by]
        pairs = [(a, b) for i, a in enumerate(have) for b in have[i + 1:]]
        if not pairs:
            continue
        out += [f"**{s}**", "", "| | " + " | ".join(m for m, _ in RATIO_METRICS) + " |",
                "|---|" + "|".join("---" for _ in RATIO_METRICS) + "|"]
        for a, b in pairs:
            cells = []
            for _, get in RATIO_METRICS:
                x, y = get(by[(s, a)]), get(by[(s, b)])
                cells.append(f"{x / y:.2f}" if x is not None and y else "-")
            out.append(f"| {a} ÷ {b} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def plot(rows: list, peers: list, scenarios: list, png: str) -> bool:
    gp = shutil.which("gnuplot")
    if not gp:
        return False
    by = {(r["scenario"], r["peer"]): r for r in rows}
    panels = []
    for s in scenarios:
        data = [(p, clean_cpu(by, s, p)) for p in peers if clean_cpu(by, s, p)]
        if data:
            panels.append((s, data))
    if not panels:
        return False
    color = {p: i + 1 for i, p in enumerate(peers)}  # same colour per peer in every panel
    block = lambda data: "".join(f"{p} {v:.3f} {color[p]}\n" for p, v in data) + "e\n"
    script = [
        f"set terminal pngcairo size {max(420 * len(panels), 600)},460 font ',10'",
        f"set output '{png}'",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.6",
        "set grid ytics",
        "set termoption noenhanced",
        "set ylabel 'proxy CPU us / request'",
        f"set multiplot layout 1,{len(panels)} title 'CPU time per request (lower is better)'",
    ]
    for s, data in panels:
        script.append(f"set title '{s}'")
        script.append(f"set yrange [0:{max(v for _, v in data) * 1.15:.3f}]")  # room for labels
        script.append("plot '-' using 0:2:3:xtic(1) with boxes lc variable notitle, "
                      "'-' using 0:2:(sprintf('%.1f',$2)) with labels offset 0,0.8 notitle")
        script.append(block(data) + block(data).rstrip("\n"))
    script.append("unset multiplot")
    try:
        r = subprocess.run([gp], input="\n".join(script) + "\n", text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    if r.returncode != 0:
        log(f"warning: gnuplot failed: {r.stdout.strip()}")
        return False
    return os.path.exists(png)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: list) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build", help="CMake build dir holding ringway, "
                    "ringway-origin, ringway-fwd (default: build)")
    ap.add_argument("--peers", default=None,
                    help=f"comma list from {','.join(PEERS)} (default: {','.join(ALL_PEERS)}, "
                         "those available; ringway-batched is ringway with engine.batch_wait: 100us)")
    ap.add_argument("--scenarios", default=None,
                    help=f"comma list from {','.join(SCENARIO_BY_NAME)}, or the groups "
                         f"{', '.join(SCENARIO_GROUPS)} (default: all)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="seconds of warm-up per run, 0 = none (default 2)")
    ap.add_argument("--connections", type=int, default=50, help="wrk -c (default 50)")
    ap.add_argument("--threads", type=int, default=None,
                    help="wrk and ringway-load threads (default: one per wrk CPU)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="measured runs per scenario and peer; the median CPU us/req is reported "
                         "(default 1)")
    ap.add_argument("--interleave", action="store_true",
                    help="keep all peers running and let them take turns, one measured run each "
                         "(with --repeat: spreads background-load drift over all peers)")
    ap.add_argument("--cpus", default=None,
                    help="pinning plan, e.g. proxy=0,origin=1,wrk=1 (a bare number extends the "
                         "previous role: wrk=2,3; ranges: proxy=0-3). Every proxy runs one pinned "
                         "worker per proxy CPU, the origin one thread per origin CPU. Default on "
                         "2 CPUs: proxy=0,origin=1,wrk=1")
    ap.add_argument("--origin", choices=("auto", "ringway-origin", "nginx"), default="auto",
                    help="origin server (default: ringway-origin if built, else an nginx stand-in)")
    ap.add_argument("--open-loop", default="common", metavar="MODE",
                    help="open-loop latency runs with ringway-load after the closed-loop ones: "
                         "'common' (default: one rate per scenario for all peers, 50%% of the "
                         "slowest peer's req/s), 'peer' (50%% of each peer's own req/s), a fixed "
                         "rate in req/s, or 'off'")
    ap.add_argument("--short", action="store_true",
                    help="CI smoke: 2 s runs of small_get only (open loop: 0.5 s, no warm-up); "
                         "exit 1 on zero requests or non-2xx")
    ap.add_argument("--out", default=os.path.join("bench", "results"), help="results root")
    ap.add_argument("--list", action="store_true", help="list scenarios and peers, then exit")
    args = ap.parse_args(argv)
    if args.short:
        args.duration = 2
        if args.scenarios is None:
            args.scenarios = "small_get"
        if args.warmup is None:
            args.warmup = 1
    if args.warmup is None:
        args.warmup = 2
    if args.open_loop not in ("common", "peer", "off"):
        try:
            if float(args.open_loop) <= 0:
                raise ValueError
        except ValueError:
            ap.error("--open-loop: 'common', 'peer', 'off' or a rate > 0")
    return args


def main(argv: list) -> int:
    args = parse_args(argv)
    if args.list:
        for s in SCENARIOS:
            print(f"{s.name:<19} {s.description}")
            if s.peers is not None:
                print(f"{'':<19} peers: {', '.join(s.peers)}" +
                      "".join(f"; no {p}: {why}" for p, why in s.no_equivalent.items()))
        for g, names in SCENARIO_GROUPS.items():
            print(f"group {g}: {','.join(names)}")
        print("peers:", ", ".join(ALL_PEERS))
        return 0

    def on_term(signum, frame):
        raise KeyboardInterrupt
    # Ctrl-C, kill and a closed terminal all end in the same cleanup. SIGINT is
    # set explicitly: a shell starting us in the background leaves it ignored.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_term)

    try:
        plan = parse_plan(args.cpus) if args.cpus else default_plan()
        if args.threads is None:
            args.threads = len(plan.wrk)
        scen_names = []
        for n in (args.scenarios.split(",") if args.scenarios else ["all"]):
            n = n.strip()
            if n in SCENARIO_GROUPS:
                scen_names += SCENARIO_GROUPS[n]
            elif n in SCENARIO_BY_NAME:
                scen_names.append(n)
            else:
                raise BenchError(f"unknown scenario {n!r}; known: {', '.join(SCENARIO_BY_NAME)}, "
                                 f"groups: {', '.join(SCENARIO_GROUPS)}")
        scen_names = list(dict.fromkeys(scen_names))  # unique, in order
        explicit_peers = args.peers is not None
        peer_names = args.peers.split(",") if explicit_peers else list(ALL_PEERS)
        for n in peer_names:
            if n not in PEERS:
                raise BenchError(f"unknown peer {n!r}; known: {', '.join(PEERS)}")
        if shutil.which("wrk") is None:
            raise BenchError("wrk not installed")
    except BenchError as e:
        log(f"error: {e}")
        return 2
    scenarios = [SCENARIO_BY_NAME[n] for n in scen_names]

    nofile = raise_nofile()  # before any child: they inherit it
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="ringway-bench-")
    ctx = Ctx(args, plan, tmp, procs)
    ctx.scenario_names = scen_names
    if args.short:  # open loop in the CI smoke: 0.5 s, no warm-up (keeps it ~15 s)
        ctx.ol_duration, ctx.ol_warmup = 0.5, 0
    rows: list = []
    failed = False
    interrupted = False
    started = datetime.datetime.now()
    meta: dict = {}
    peers: list = []
    samples: dict = {}   # (scenario, peer) -> [sample]
    errors: dict = {}    # (scenario, peer) -> [error text]
    ol_results: dict = {}  # (scenario, peer) -> open-loop result
    try:
        if not ctx.have_taskset:
            ctx.notes.append("taskset not found: processes were NOT pinned")
        peers = []
        for n in peer_names:
            why = PEERS[n].available(ctx)
            if why:
                log(f"skip {n}: {why}")
                ctx.notes.append(f"{n} skipped: {why}")
                failed |= explicit_peers
            else:
                peers.append(n)
        if not peers:
            raise BenchError("no peer available to benchmark")

        log(f"pinning plan: {plan.describe()}")
        for w in plan.warnings():
            log(f"  note: {w}")
        busy = busy_before_start(0.5 if args.short else 1.0)
        if busy > 10:
            msg = (f"the box was {busy:.0f}% busy before the benchmark started (other users/builds): "
                   "req/s and latency are unreliable, CPU us/req less so")
            log(f"  WARNING: {msg}")
            ctx.notes.append(msg)
        # Peers without an equivalent feature are not run; say so.
        for sc in scenarios:
            for p, why in sc.no_equivalent.items():
                if p in {PEERS[x].family for x in peers}:
                    ctx.notes.append(f"{sc.name}: {p} not run: {why}")
        # Run-time values (JWT keys and tokens); a scenario that cannot be
        # prepared fails for every peer that would have run it.
        prep_failed: set = set()
        for i, sc in enumerate(scenarios):
            if sc.prepare is None:
                continue
            try:
                scenarios[i] = sc.prepare(ctx, sc)
            except BenchError as e:
                log(f"error: {sc.name}: {e}")
                prep_failed.add(sc.name)
                for p in peers:
                    if sc.peers is None or PEERS[p].family in sc.peers:
                        errors.setdefault((sc.name, p), []).append(f"not run: {e}")
        origin = start_origin(ctx, scenarios)
        ctx.origin_port, ctx.origin_pid = origin.port, origin.proc.pid
        log(f"origin: {origin.kind} on 127.0.0.1:{origin.port} ({origin.version})")

        meta = {
            "date": started.isoformat(timespec="seconds"),
            "cpu_model": cpu_model(),
            "cores": os.cpu_count(),
            "kernel": os.uname().release,
            # CPU per large response depends on it (BBR without fq paces each
            # socket with hrtimers; docs/benchmarks.md).
            "tcp": " ".join(read_sysctl(n) for n in ("net.ipv4.tcp_congestion_control",
                                                     "net.core.default_qdisc")),
            "git": read_first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]),
            "versions": {
                "nginx": read_first_line(["nginx", "-v"]) if shutil.which("nginx") else "n/a",
                "haproxy": read_first_line(["haproxy", "-v"]) if shutil.which("haproxy") else "n/a",
                "wrk": read_first_line(["wrk", "-v"]),
                **{p: PEERS[p].version(ctx) for p in peers if p not in ("nginx", "haproxy")},
            },
            "origin": f"{origin.kind} ({origin.version}), {len(plan.origin)} thread"
                      f"{'s' if len(plan.origin) != 1 else ''}",
            "pinning": plan.describe(),
            "pinning_notes": plan.warnings(),
            "busy_before_start_pct": round(busy, 1),
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "repeat": args.repeat,
            "interleave": args.interleave,
            "open_loop": {"mode": args.open_loop, "fraction": OPEN_LOOP_FRACTION,
                          "duration_s": ctx.ol_duration, "warmup_s": ctx.ol_warmup},
            "rlimit_nofile": nofile,
            "peers": peers,
            "scenarios": {s.name: s.description for s in scenarios},
        }

        # The order of measured runs. Default: one peer at a time (only that
        # proxy runs), all its repeats back to back. --interleave: all peers
        # stay up and take turns, one run each, so slow drifts in background
        # load spread over all of them instead of hitting one.
        def applies(p, sc):
            return (sc.peers is None or PEERS[p].family in sc.peers) and sc.name not in prep_failed
        reps = max(1, args.repeat)
        if args.interleave:
            order = [(p, sc, 1) for _ in range(reps) for sc in scenarios for p in peers
                     if applies(p, sc)]
        else:
            order = [(p, sc, reps) for p in peers for sc in scenarios if applies(p, sc)]
        insts: dict = {}     # peer -> Instance
        start_errors: dict = {}

        def instance(pname: str, scen: Scenario, fresh: bool = False) -> Instance:
            """The running instance of pname for scen: others are stopped
            unless interleaving; (re)started when its extra config changes,
            or when fresh."""
            if not args.interleave:
                for other in [o for o in insts if o != pname]:
                    Procs.stop(insts.pop(other).proc)
            extra = scen.proxy_extra.get(PEERS[pname].family)
            skey = (pname, repr(extra))  # a config that failed once fails again
            if skey in start_errors:
                raise BenchError(start_errors[skey])
            inst = insts.get(pname)
            if inst is None or not inst.alive() or inst.extra != extra or fresh:
                if inst is not None:
                    Procs.stop(insts.pop(pname).proc)
                try:
                    insts[pname] = inst = PEERS[pname].start(ctx, extra, tag=scen.name)
                except BenchError as e:
                    start_errors[skey] = f"failed to start: {e}"
                    raise BenchError(start_errors[skey])
            return inst

        probe_errors: dict = {}  # (scenario, peer) -> why its probe failed, or None

        def probe(pname: str, scen: Scenario) -> None:
            """scen.probe against pname started with scen.probe_extra (the
            feature set to act: a limit of 1/min), once; then stopped. A
            failed probe fails every later run of that scenario and peer."""
            key = (scen.name, pname)
            if key in probe_errors:
                if probe_errors[key]:
                    raise BenchError(probe_errors[key])
                return
            probe_errors[key] = "probe did not finish"
            if pname in insts:
                Procs.stop(insts.pop(pname).proc)
            try:
                inst = PEERS[pname].start(ctx, scen.probe_extra.get(PEERS[pname].family), tag=f"{scen.name}-probe")
            except BenchError as e:
                probe_errors[key] = f"probe: failed to start: {e}"
                raise BenchError(probe_errors[key])
            try:
                scen.probe(ctx, inst, scen)
            except (BenchError, OSError, http.client.HTTPException) as e:
                why = str(e) or type(e).__name__
                if not inst.alive():
                    why += f" ({pname} exited, status {inst.proc.returncode})"
                probe_errors[key] = f"probe: {why}" if not why.startswith("probe") else why
                raise BenchError(probe_errors[key])
            finally:
                Procs.stop(inst.proc)
            probe_errors[key] = None

        total = len(order)
        for i, (pname, scen, count) in enumerate(order, 1):
            if origin.proc.poll() is not None:
                raise BenchError(f"origin exited (status {origin.proc.returncode})")
            key = (scen.name, pname)
            got: list = []
            err = None
            inst = None
            try:
                if scen.probe:
                    probe(pname, scen)
                inst = instance(pname, scen, fresh=scen.fresh_peer)
                got = run_one(ctx, origin, inst, scen, count)
                if not inst.alive():
                    err = f"{pname} exited (status {inst.proc.returncode}) during the run"
            except (BenchError, OSError, http.client.HTTPException) as e:
                err = str(e) or type(e).__name__
                if inst is not None and not inst.alive():  # e.g. a crash during the checks
                    err += f" ({pname} exited, status {inst.proc.returncode})"
            samples.setdefault(key, []).extend(got)
            if err:
                errors.setdefault(key, []).append(err)
            line = summarize(scen.name, pname, got, [err] if err else [])
            log(progress_line(i, total, line))

        # Phase 2, open loop: ringway-load at a rate derived from the closed-loop
        # results, hence after all of them (the common rate needs every peer's).
        ol_scens = [sc for sc in scenarios if sc.open_loop]
        load_bin = ctx.find_bin("ringway-load", "RINGWAY_LOAD_BIN")
        if args.open_loop != "off" and ol_scens and load_bin is None:
            msg = ("ringway-load not found (build dir or RINGWAY_LOAD_BIN; build target ringway-load): "
                   "open-loop latency skipped")
            log(f"note: {msg}")
            ctx.notes.append(msg)
        elif args.open_loop != "off" and ol_scens:
            closed = {(sc.name, p): summarize(sc.name, p, samples.get((sc.name, p), []),
                                              errors.get((sc.name, p), []))
                      for sc in ol_scens for p in peers if (sc.name, p) in samples}
            rates = open_loop_rates(args.open_loop, OPEN_LOOP_FRACTION, ol_scens, peers, closed)
            # --repeat passes too (interleaved: peers take turns), and the
            # pass with the median p99 is reported.
            if args.interleave:
                ol_order = [(p, sc) for _ in range(reps) for sc in ol_scens for p in peers
                            if (sc.name, p) in rates]
            else:  # the peer still running from phase 1 goes first
                ol_order = [(p, sc) for p in reversed(peers) for sc in ol_scens
                            if (sc.name, p) in rates for _ in range(reps)]
            ol_passes: dict = {}
            for i, (pname, scen) in enumerate(ol_order, 1):
                if origin.proc.poll() is not None:
                    raise BenchError(f"origin exited (status {origin.proc.returncode})")
                rate, how = rates[(scen.name, pname)]
                try:
                    inst = instance(pname, scen)
                    ol = run_open_loop(ctx, load_bin, inst, scen, rate, how)
                    if not inst.alive():
                        ol["error"] = f"{pname} exited (status {inst.proc.returncode}) during the run"
                except (BenchError, OSError, http.client.HTTPException) as e:
                    ol = {"target_rate": rate, "how": how, "error": str(e) or type(e).__name__}
                ol_passes.setdefault((scen.name, pname), []).append(ol)
                ol_results[(scen.name, pname)] = median_pass(ol_passes[(scen.name, pname)])
                log(ol_progress_line(i, len(ol_order), scen.name, pname, ol))
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: stopping everything")
    except BenchError as e:
        log(f"error: {e}")
        failed = True
    finally:
        procs.stop_all()

    # Rows in peer, then scenario order; partial results survive Ctrl-C.
    for pname in peers:
        for scen in scenarios:
            key = (scen.name, pname)
            if key in samples or key in errors:
                row = summarize(scen.name, pname, samples.get(key, []), errors.get(key, []))
                ol = ol_results.get(key)
                if ol is not None:
                    row["open_loop"] = ol
                    e = open_loop_error(ol)
                    if e:
                        row["error"] = f"{row['error']}; {e}" if row.get("error") else e
                rows.append(row)
    failed |= any(r.get("error") for r in rows)
    if rows:
        out_dir = write_results(ctx, meta, rows, peers, [s.name for s in scenarios], scenarios)
        log(f"results: {out_dir}")
    shutil.rmtree(tmp, ignore_errors=True)
    if interrupted:
        return 130
    if failed:
        log("FAILED: see errors above")
        return 1
    return 0


def write_results(ctx: Ctx, meta: dict, rows: list, peers: list, scen_names: list,
                  scenarios: Optional[list] = None) -> str:
    kernel = os.uname().release
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{slug(cpu_model())}-{os.cpu_count()}c-{slug(kernel)}"
    out_root = ctx.args.out if os.path.isabs(ctx.args.out) else os.path.join(os.getcwd(), ctx.args.out)
    out_dir = os.path.join(out_root, name)
    os.makedirs(out_dir, exist_ok=True)
    # Keep generated configs and raw logs next to the numbers.
    logs = os.path.join(out_dir, "logs")
    shutil.copytree(ctx.logdir, logs, dirs_exist_ok=True)
    for f in os.listdir(ctx.tmp):
        if f.endswith((".conf", ".cfg", ".yaml", ".lua", ".requests")):
            shutil.copy(os.path.join(ctx.tmp, f), logs)

    table = results_table(rows, peers)
    idle = idle_table(rows, peers)
    filt = filter_section(rows, peers, scenarios or [])
    print()
    print(table)
    print()
    if idle:
        print(idle)
    if filt:
        print(filt)

    md = ["# ringway benchmark results", ""]
    md.append(f"- date: {meta.get('date', '')}")
    md.append(f"- CPU: {meta.get('cpu_model', cpu_model())}, {meta.get('cores', os.cpu_count())} cores")
    md.append(f"- kernel: {kernel}")
    if meta.get("tcp"):
        md.append(f"- TCP congestion control, default qdisc: {meta['tcp']}")
    md.append(f"- git: {meta.get('git', '')}")
    for k, v in meta.get("versions", {}).items():
        md.append(f"- {k}: {v}")
    md.append(f"- origin: {meta.get('origin', '')}")
    md.append(f"- pinning plan: {meta.get('pinning', '')}")
    for w in meta.get("pinning_notes", []):
        md.append(f"  - note: {w}")
    md.append(f"- wrk: -t{ctx.args.threads}, -c{ctx.args.connections} unless the scenario says "
              f"otherwise, {ctx.args.duration:g}s measured after {ctx.args.warmup:g}s warm-up")
    if ctx.args.repeat > 1 or ctx.args.interleave:
        md.append(f"- runs: {max(1, ctx.args.repeat)} measured per scenario and peer, median CPU us/req "
                  f"reported; " + ("peers interleaved (all running, taking turns)"
                                   if ctx.args.interleave else "one peer at a time"))
    noisy = [r for r in rows if r.get("other_cpu_pct", 0) > 10]
    if noisy:
        worst = max(r["other_cpu_pct"] for r in noisy)
        md.append(f"- WARNING: {len(noisy)} run(s) saw more than 10% of a CPU used by other processes "
                  f"(up to {worst:.0f}%, column 'other CPU %'): treat those rows with suspicion")
    noisy_ol = [r for r in rows if (r.get("open_loop") or {}).get("other_cpu_pct", 0) > 10]
    if noisy_ol:
        worst = max(r["open_loop"]["other_cpu_pct"] for r in noisy_ol)
        md.append(f"- WARNING: {len(noisy_ol)} open-loop run(s) saw more than 10% of a CPU used by "
                  f"other processes (up to {worst:.0f}%, marked 'other CPU' in the OL column): their "
                  "tail latencies are not the proxies'")
    for n in ctx.notes:
        md.append(f"- note: {n}")
    md += ["", "## Scenarios", ""]
    for s, d in meta.get("scenarios", {}).items():
        md.append(f"- `{s}`: {d}")
    md += ["", "## Results", "",
           "CPU us/req = proxy CPU seconds (utime+stime of all its processes) × 1e6 / requests. "
           "÷peer columns: this row's CPU us/req divided by that peer's (below 1 = cheaper). "
           "RSS = sum of VmRSS of the proxy's processes just after the measured run. "
           "OL = open loop (ringway-load, latency from the intended send time) at the rate in "
           "'OL req/s'.", "", table, ""]
    ol_lines = []
    for sname in scen_names:
        hows = {(r["open_loop"].get("target_rate"), r["open_loop"].get("how")) for r in rows
                if r["scenario"] == sname and r.get("open_loop")}
        for rate, how in sorted(hows, key=lambda x: (x[0] or 0, x[1] or "")):
            ol_lines.append(f"- `{sname}`: {rate or 0:,.0f} req/s = {how}")
    if ol_lines:
        ol = meta.get("open_loop", {})
        md += ["Open-loop rates (ringway-load, "
               f"{ol.get('duration_s', ctx.ol_duration):g}s after {ol.get('warmup_s', ctx.ol_warmup):g}s "
               "warm-up, same connections as wrk):", ""] + ol_lines + [""]
    if idle:
        md += ["## Memory per idle connection", "",
               "RSS growth of the proxy (sum of VmRSS, median of samples taken every 0.5 s while a "
               "light wrk load runs) from the warm-up, without idle connections, to the measured run, "
               "with them; divided by the number of idle connections. Memory allocated at start-up "
               "for the connection limit and kernel socket memory are not in it.", "", idle]
    if filt:
        md += ["## Filter scenarios", "",
               "Each ran only after its check passed (gzip: a gzip body that gunzips to the page; cache: "
               "X-Cache HIT and no request reaching the origin, or for the miss every request reaching "
               "it; jwt: the valid token 200, no token and every bad one 401; rate limit: the same "
               "limiter at 1/min answering 429). During the measured runs the origin's request count "
               "(cache) and wrk's bytes per response (gzip) were checked as well.", "", filt]
    md += ["## CPU us/req ratios", "", ratio_tables(rows, peers, scen_names)]
    ratios = metric_ratios(rows, peers, scen_names)
    if ratios:
        md += ["## Ratios of every metric", "",
               "Each cell: the first peer's number divided by the second's, same scenario (req/s "
               "above 1 = more throughput; latency, CPU and RSS below 1 = less). p50/p99: closed "
               "loop (wrk); OL: open loop at the rate in the results table.", "", ratios]
    png = os.path.join(out_dir, "cpu_us_per_req.png")
    if plot(rows, peers, scen_names, png):
        md += ["", "![CPU us per request](cpu_us_per_req.png)"]
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "notes": ctx.notes, "results": rows}, f, indent=2)
        f.write("\n")
    return out_dir


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
