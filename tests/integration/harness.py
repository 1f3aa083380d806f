"""Integration-test harness: starts the real ringway binary and the real origin
(tools/origin) on free loopback ports, and talks to them with real clients
(curl, raw sockets). Every process started here is stopped in tearDown."""

import atexit
import json
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import warnings

# Tests drop half-closed sockets on purpose; the warnings would only be noise.
warnings.simplefilter("ignore", ResourceWarning)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("RINGWAY_BUILD_DIR", os.path.join(ROOT, "build"))
RINGWAY = os.environ.get("RINGWAY_BIN", os.path.join(BUILD, "bin", "ringway"))
ORIGIN = os.environ.get("RINGWAY_ORIGIN_BIN", os.path.join(BUILD, "bin", "ringway-origin"))
# Sanitizer builds run several times slower; scale waits, never assertions.
SLOW = 4.0 if "asan" in BUILD else 1.0


def _read_listening(proc, count, timeout=10.0):
    """Reads `count` 'listening HOST:PORT' lines from proc's stdout."""
    ports = []
    deadline = time.time() + timeout * SLOW
    buf = b""
    while len(ports) < count:
        left = deadline - time.time()
        if left <= 0 or proc.poll() is not None:
            raise RuntimeError("process did not report its port: %r" % buf)
        r, _, _ = select.select([proc.stdout], [], [], left)
        if not r:
            continue
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            continue
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            m = re.match(rb"listening .*:(\d+)$", line.strip())
            if m:
                ports.append(int(m.group(1)))
    return ports


class Origin:
    """The project's origin server on a free port."""

    def __init__(self, threads=1):
        self.proc = subprocess.Popen(
            [ORIGIN, "--port", "0", "--threads", str(threads), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.port = _read_listening(self.proc, 1)[0]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


class ScriptedUpstream:
    """A raw upstream on a free loopback port, for answers the origin in
    tools/ will not give. It reads each request whole (head, and a
    Content-Length or chunked body), keeps its raw bytes in `requests`, sends
    what answer(index, raw) returns and closes the connection: with
    reset=True by resetting it (SO_LINGER 0); with keep_alive=True it keeps
    it and reads the next request. An answer of None closes the connection
    without a word. `connections` counts those accepted."""

    def __init__(self, answer, reset=False, keep_alive=False, port=0):
        self.answer = answer
        self.reset = reset
        self.keep_alive = keep_alive
        self.requests = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def _message_end(buf):
        """Where the request in buf ends, or None while incomplete."""
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head_end += 4
        head = buf[:head_end].lower()
        m = re.search(rb"\r\ncontent-length: *(\d+)", head)
        if m:
            end = head_end + int(m.group(1))
            return end if len(buf) >= end else None
        if b"transfer-encoding: chunked" not in head:
            return head_end
        # The last chunk ("0" line), its trailers, then a blank line.
        last = buf.find(b"\r\n0\r\n", head_end - 2)
        blank = buf.find(b"\r\n\r\n", last + 2) if last >= 0 else -1
        return blank + 4 if blank >= 0 else None

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        buf = b""
        with conn:
            while True:
                while self._message_end(buf) is None:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                end = self._message_end(buf)
                self.requests.append(buf[:end])
                buf = buf[end:]
                response = self.answer(len(self.requests) - 1, self.requests[-1])
                if response is None:
                    return
                try:
                    conn.sendall(response)
                except OSError:
                    return
                if self.reset:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                if not self.keep_alive:
                    return

    def stop(self):
        self.sock.close()


def unused_port():
    """A loopback port free now, for a listener to be opened on it later
    (bound once by us, then let go: another process may take it meanwhile).
    For an endpoint that must refuse connections, use refusing_port()."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_refusing_sockets = []  # held open for the life of the test process
atexit.register(lambda: [s.close() for s in _refusing_sockets])


def refusing_port():
    """A loopback port that refuses connections: held by a socket of ours
    that is bound but never listens, so no test running beside this one can
    open a listener there (a port merely let go once was taken by another
    test's gateway, which then answered in the dead endpoint's place)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    _refusing_sockets.append(s)
    return s.getsockname()[1]


def raw_response(status, headers=(), body=b""):
    """An HTTP/1.1 response with Content-Length and Connection: close."""
    lines = ["HTTP/1.1 %s" % status] + list(headers) + ["Content-Length: %d" % len(body),
                                                         "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Gateway:
    """ringway running on a generated config."""

    def __init__(self, config_text, listeners=1):
        self.dir = tempfile.mkdtemp(prefix="ringway-test-")
        self.config_path = os.path.join(self.dir, "ringway.yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([RINGWAY, "--config", self.config_path],
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        self.ports = _read_listening(self.proc, listeners)
        self.port = self.ports[0]

    def stop(self, timeout=20.0):
        """SIGTERM, wait; returns the exit code (killed: None)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
            finally:
                self.proc.stdout.close()
                self._stderr.close()
        return self.proc.returncode

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stats(self):
        """The counters ringway prints when it stops (call after stop())."""
        m = re.search(r"ringway: stopped (\{.*\})", self.stderr())
        return json.loads(m.group(1)) if m else None

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def alive(self):
        return self.proc.poll() is None


def config(origin_ports, routes=None, limits=None, upstream=None, extra="", workers=1,
           engine=None):
    """A ringway YAML config: one listener on a free port, an upstream 'origin'
    with the given endpoint ports, and routes (default: everything)."""
    lines = ["listen:", "  - address: 127.0.0.1:0", "workers: %s" % workers]
    if engine:
        lines.append("engine:")
        lines += ["  %s: %s" % kv for kv in engine.items()]
    if limits:
        lines.append("limits:")
        lines += ["  %s: %s" % kv for kv in limits.items()]
    lines.append("upstreams:")
    lines.append("  origin:")
    lines.append("    endpoints: [%s]" % ", ".join('"127.0.0.1:%d"' % p for p in origin_ports))
    for k, v in (upstream or {}).items():
        lines.append("    %s: %s" % (k, v))
    lines.append(extra.rstrip())
    lines.append("routes:")
    if routes is None:
        routes = "  - match: { prefix: / }\n    upstream: origin\n"
    lines.append(routes.rstrip())
    return "\n".join(lines) + "\n"


class Response:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body
        self.raw_head = raw_head

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]


class RawClient:
    """A plain TCP client that writes bytes as given and parses responses
    strictly, for pipelining and malformed-input tests."""

    def __init__(self, port, timeout=10.0, source_ip=None):
        """source_ip: a loopback address to connect from (127.0.0.0/8 is all local)."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout * SLOW,
                                             source_address=(source_ip, 0) if source_ip else None)
        self.buf = b""
        self.received = 0  # bytes read from the socket so far

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by peer")
        self.received += len(chunk)
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, head_request=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        raw_head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw_head.split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3}) ?(.*)$", lines[0])
        if not m:
            raise ValueError("bad status line %r" % lines[0])
        status = int(m.group(1))
        headers = []
        for line in lines[1:]:
            n, v = line.split(b":", 1)
            headers.append((n.decode(), v.strip().decode()))
        resp = Response(status, m.group(2).decode(), headers, b"", raw_head)
        if head_request or status in (204, 304) or 100 <= status < 200:
            return resp
        te = resp.header("Transfer-Encoding")
        cl = resp.header("Content-Length")
        if te and "chunked" in te.lower():
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line() != b"":
                        pass
                    break
                body += self._exact(size)
                self._exact(2)
            resp.body = body
        elif cl is not None:
            resp.body = self._exact(int(cl))
        else:
            resp.body = self.read_until_close()
        return resp

    def read_until_close(self):
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            self.received += len(chunk)
            data += chunk
        return data

    def is_closed(self, wait=2.0):
        """True if the peer closed (EOF or reset) within `wait` seconds."""
        self.sock.settimeout(wait * SLOW)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class KeepAliveLoad:
    """Threads that each send GETs back to back on a keep-alive connection (a
    new one after `per_connection` requests or a `Connection: close`) until
    stop(). A connection closed under an idle client is reopened, as RFC 9112
    9.3.1 lets clients do; statuses outside `ok` are kept in `failures`.
    `refused_ends`: a refused connect ends that thread (the listener is gone
    on purpose); otherwise it is a failure."""

    def __init__(self, port, threads, path="/bytes/100", ok=(200,), per_connection=20,
                 refused_ends=False):
        self.port, self.path, self.ok = port, path, ok
        self.per_connection, self.refused_ends = per_connection, refused_ends
        self.failures, self.answered = [], 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                c = RawClient(self.port)
            except OSError as e:
                if not self.refused_ends:
                    with self._lock:
                        self.failures.append("connect: %s" % e)
                return
            try:
                for _ in range(self.per_connection):
                    c.send(build_request("GET", self.path))
                    r = c.read_response()
                    with self._lock:
                        self.answered += 1
                        if r.status not in self.ok:
                            self.failures.append(r.status)
                    if r.header("Connection") == "close":
                        break
            except (ConnectionError, OSError):
                # Closed while idle between requests (a drain closes idle
                # connections): the request was never accepted, so retry.
                pass
            finally:
                c.close()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join()


def request(port, method="GET", path="/", headers=None, body=None, version="1.1",
            host="test.local"):
    """One request on a new connection; returns the Response."""
    c = RawClient(port)
    try:
        c.send(build_request(method, path, headers, body, version, host))
        return c.read_response(head_request=(method == "HEAD"))
    finally:
        c.close()


def build_request(method="GET", path="/", headers=None, body=None, version="1.1",
                  host="test.local"):
    lines = ["%s %s HTTP/%s" % (method, path, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    for n, v in (headers or []):
        lines.append("%s: %s" % (n, v))
    if body is not None and not any(n.lower() in ("content-length", "transfer-encoding")
                                     for n, _ in (headers or [])):
        lines.append("Content-Length: %d" % len(body))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return data + (body or b"")


def read_status(sock):
    """Reads a response head from a plain socket; returns its status code as
    text, or "closed" if the peer closed first. The body is left unread."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data[9:12].decode() or "closed"


def curl(*args, timeout=60):
    """Runs curl; returns CompletedProcess with stdout bytes."""
    return subprocess.run(["curl", "-sS", "--max-time", str(int(timeout * SLOW))] + list(args),
                          capture_output=True, timeout=timeout * SLOW + 10)


class GatewayTestCase(unittest.TestCase):
    """Starts one origin and a gateway per test class (override gateway_config)."""

    origin_threads = 1

    @classmethod
    def gateway_config(cls, origin_port):
        return config([origin_port])

    @classmethod
    def setUpClass(cls):
        cls.origin = Origin(cls.origin_threads)
        try:
            cls.gateway = Gateway(cls.gateway_config(cls.origin.port))
        except Exception:
            cls.origin.stop()
            raise
        cls.port = cls.gateway.port

    @classmethod
    def tearDownClass(cls):
        code = cls.gateway.stop()
        cls.origin.stop()
        if code != 0:
            raise AssertionError("ringway exited with %r:\n%s" % (code, cls.gateway.stderr()))

    def assert_alive(self):
        """The gateway still serves a normal request on a fresh connection."""
        self.assertTrue(self.gateway.alive(), self.gateway.stderr())
        r = request(self.port, path="/")
        self.assertEqual(r.status, 200)
