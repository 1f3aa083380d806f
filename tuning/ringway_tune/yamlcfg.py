"""Line-based rewriting of a ringway YAML config.

The tuner never re-serialises the user's YAML: it edits the few top-level
sections it needs and leaves every other line (routes, comments, anchors
elsewhere) byte for byte as written. The contract the config must follow:

  * the top level is a block mapping (each top-level key starts in column 0),
    which every ringway config is;
  * `engine:` and `limits:`, when present, are flat: block style
    (`  key: value` lines) or a one-line flow map (`engine: { a: 1 }`);
  * `upstreams:` is in block style; each upstream is a block mapping or a
    one-line flow map (`origin: { endpoints: [...] }`);
  * no anchors or aliases inside those three sections.

Anything else is refused with a clear message (exit 2), and every config the
tuner generates is passed through `ringway check` before it is used.

What is rewritten: `workers:` (replaced); `engine:`/`limits:` keys (replaced
in place, or appended to the section, or the section is appended); per
upstream `max_idle_per_worker` / `max_connections_per_worker`; and, for the
benchmark copy only, `listen:` (one loopback listener on port 0, keeping the
first backlog) and every upstream's `endpoints:` (the local origin).
"""

import re

from .units import UsageError


class ConfigError(UsageError):
    pass


# name -> (section, key, kind, default, lo, hi). cq_entries' default depends
# on ring_entries (see effective()).
KNOBS = {
    "engine.ring_entries": ("engine", "ring_entries", "pow2", 4096, 64, 32768),
    "engine.cq_entries": ("engine", "cq_entries", "pow2", 16384, 64, 65536),
    "engine.buffer_count": ("engine", "buffer_count", "pow2", 1024, 16, 32768),
    "engine.buffer_size": ("engine", "buffer_size", "size", 16384, 1024, 1 << 20),
    "limits.max_connections_per_worker": ("limits", "max_connections_per_worker", "int",
                                          16384, 1, 1048576),
    "upstreams.max_idle_per_worker": ("upstream", "max_idle_per_worker", "int", 64, 0, 1048576),
    # microseconds; 0 = completion batching off
    "engine.batch_wait": ("engine", "batch_wait", "us", 0, 0, 10000),
}
UPSTREAM_MAX_CONN_DEFAULT = 1024

_TOP = re.compile(r"^([A-Za-z_][\w.-]*)\s*:(?:[ \t]+(.*))?$")
_KEY = re.compile(r"^(\s*)([A-Za-z_][\w.-]*)\s*:(?:[ \t]+(.*))?$")
_SIZE_UNITS = {"": 1, "B": 1, "KiB": 1024, "K": 1024, "k": 1024, "MiB": 1 << 20, "M": 1 << 20,
               "m": 1 << 20, "GiB": 1 << 30, "G": 1 << 30, "g": 1 << 30}


def strip_comment(text):
    """(value, comment) of the rest of a line; '#' starts a comment only at
    the start or after a blank, and never inside quotes."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip(), text[i:]
    return text.rstrip(), ""


def split_flow(text):
    """Top-level comma-separated items of a flow collection's inside,
    respecting quotes and nested brackets."""
    items, depth, quote, cur = [], 0, None, ""
    for ch in text:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if quote or depth:
        raise ValueError("unbalanced flow collection")
    if cur.strip():
        items.append(cur.strip())
    return items


def parse_flow_map(text, where):
    """'{ a: 1, b: [x, y] }' on one line -> [(key, raw value)]."""
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")):
        raise ConfigError("%s: expected a block mapping or a one-line flow map, got %r" % (where, t))
    try:
        items = split_flow(t[1:-1])
    except ValueError:
        raise ConfigError("%s: unbalanced flow map %r" % (where, t))
    out = []
    for it in items:
        m = re.fullmatch(r"([A-Za-z_][\w.-]*)\s*:\s*(.*)", it, re.S)
        if not m:
            raise ConfigError("%s: cannot read flow map entry %r" % (where, it))
        out.append((m.group(1), m.group(2).strip()))
    return out


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _blank_or_comment(line):
    s = line.strip()
    return not s or s.startswith("#")


def _no_anchor(value, where):
    if value.startswith(("&", "*", "!")) or value.startswith("<<"):
        raise ConfigError("%s: anchors, aliases and tags are not supported in the sections "
                          "ringway-tune rewrites; write the values out" % where)


def parse_size(raw, where):
    m = re.fullmatch(r"(\d+)\s?(B|KiB|K|k|MiB|M|m|GiB|G|g)?", str(raw).strip())
    if not m:
        raise ConfigError("%s: cannot read size %r" % (where, raw))
    return int(m.group(1)) * _SIZE_UNITS[m.group(2) or ""]


def format_size(n):
    for unit, mult in (("MiB", 1 << 20), ("KiB", 1024)):
        if n % mult == 0:
            return "%d%s" % (n // mult, unit)
    return str(n)


def parse_micros(raw, where):
    m = re.fullmatch(r"(\d+)\s?(us|ms|s)?", str(raw).strip())
    if not m or (m.group(2) is None and m.group(1) != "0"):
        raise ConfigError("%s: cannot read duration %r (units us, ms, s)" % (where, raw))
    return int(m.group(1)) * {None: 0, "us": 1, "ms": 1000, "s": 1000000}[m.group(2)]


def format_value(name, value):
    kind = KNOBS[name][2]
    if kind == "size":
        return format_size(value)
    if kind == "us":
        return "%dus" % value
    return str(int(value))


def _parse_value(name, raw, where):
    kind = KNOBS[name][2]
    if kind == "size":
        return parse_size(raw, where)
    if kind == "us":
        return parse_micros(raw, where)
    if not re.fullmatch(r"\d+", raw.strip()):
        raise ConfigError("%s: cannot read integer %r" % (where, raw))
    return int(raw)


class Section:
    def __init__(self, key, lines):
        self.key = key          # None for the preamble
        self.lines = lines      # header first

    def header_value(self):
        m = _TOP.match(self.lines[0])
        return strip_comment(m.group(2) or "")[0] if m else ""


def split_sections(text):
    sections = [Section(None, [])]
    for line in text.splitlines():
        m = _TOP.match(line)
        if m:
            sections.append(Section(m.group(1), [line]))
        else:
            sections[-1].lines.append(line)
    seen = set()
    for s in sections[1:]:
        if s.key in seen:
            raise ConfigError("top-level key %r appears twice" % s.key)
        seen.add(s.key)
    return sections


def _children(lines, start, where):
    """Indices of the direct children (key lines) of a block mapping whose
    body is lines[start:]; (indent, [idx])."""
    ind, idx = None, []
    for i in range(start, len(lines)):
        line = lines[i]
        if _blank_or_comment(line):
            continue
        if ind is None:
            ind = _indent(line)
        li = _indent(line)
        if li < ind:
            raise ConfigError("%s: unexpected indentation at %r" % (where, line.strip()))
        if li == ind and not line.lstrip().startswith("-"):
            if not _KEY.match(line):
                raise ConfigError("%s: expected 'key: value', got %r" % (where, line.strip()))
            idx.append(i)
    return ind, idx


class FlatSection:
    """engine: / limits: (created empty when absent)."""

    def __init__(self, section):
        self.s = section
        where = section.key + ":"
        hv = section.header_value()
        _no_anchor(hv, where)
        if hv and hv != "{}":
            items = parse_flow_map(hv, where)
            self.s.lines = [section.key + ":"] + ["  %s: %s" % kv for kv in items] + section.lines[1:]
        elif hv == "{}":
            self.s.lines = [section.key + ":"] + section.lines[1:]
        ind, idx = _children(self.s.lines, 1, where)
        self.ind = ind if ind is not None else 2
        self.idx = idx
        for i in idx:
            line = self.s.lines[i]
            if _indent(line) != self.ind:
                raise ConfigError("%s: nested values are not supported (%r)" % (where, line.strip()))
        for i in range(1, len(self.s.lines)):
            line = self.s.lines[i]
            if not _blank_or_comment(line) and i not in idx:
                raise ConfigError("%s: nested values are not supported (%r)" % (where, line.strip()))

    def get(self, key):
        for i in self.idx:
            m = _KEY.match(self.s.lines[i])
            if m.group(2) == key:
                v = strip_comment(m.group(3) or "")[0]
                _no_anchor(v, "%s.%s" % (self.s.key, key))
                return v
        return None

    def set(self, key, value):
        for i in self.idx:
            m = _KEY.match(self.s.lines[i])
            if m.group(2) == key:
                self.s.lines[i] = "%s%s: %s  # ringway-tune" % (" " * self.ind, key, value)
                return
        at = (self.idx[-1] + 1) if self.idx else 1
        self.s.lines.insert(at, "%s%s: %s  # ringway-tune" % (" " * self.ind, key, value))
        self.idx.append(at)


class Upstream:
    """One upstream's block: key -> (first line index, end index) chunks."""

    def __init__(self, name, lines, where):
        self.name = name
        self.where = where
        self.lines = lines          # header first
        m = _KEY.match(lines[0])
        self.ind0 = _indent(lines[0])
        hv = strip_comment(m.group(3) or "")[0]
        _no_anchor(hv, where)
        if hv:
            items = parse_flow_map(hv, where)
            pad = " " * (self.ind0 + 2)
            self.lines = ["%s%s:" % (" " * self.ind0, name)] + \
                ["%s%s: %s" % (pad, k, v) for k, v in items] + lines[1:]
        self._scan()

    def _scan(self):
        ind, idx = _children(self.lines, 1, self.where)
        self.ind = ind if ind is not None else self.ind0 + 2
        self.keys = []
        for n, i in enumerate(idx):
            end = idx[n + 1] if n + 1 < len(idx) else len(self.lines)
            while end - 1 > i and _blank_or_comment(self.lines[end - 1]):
                end -= 1    # trailing comments belong to what follows
            self.keys.append((_KEY.match(self.lines[i]).group(2), i, end))

    def get(self, key):
        for k, i, end in self.keys:
            if k == key:
                v = strip_comment(_KEY.match(self.lines[i]).group(3) or "")[0]
                _no_anchor(v, "%s.%s" % (self.where, key))
                return v
        return None

    def set(self, key, value):
        line = "%s%s: %s  # ringway-tune" % (" " * self.ind, key, value)
        for k, i, end in self.keys:
            if k == key:
                self.lines[i:end] = [line]
                break
        else:
            at = self.keys[-1][2] if self.keys else 1
            self.lines.insert(at, line)
        self._scan()


def _split_upstreams(section):
    where = "upstreams:"
    hv = section.header_value()
    if hv:
        raise ConfigError("upstreams: must be in block style for ringway-tune "
                          "(one upstream name per line)")
    lines = section.lines
    ind, idx = _children(lines, 1, where)
    if not idx:
        raise ConfigError("upstreams: no upstream found")
    ups = []
    for n, i in enumerate(idx):
        end = idx[n + 1] if n + 1 < len(idx) else len(lines)
        name = _KEY.match(lines[i]).group(2)
        ups.append(Upstream(name, lines[i:end], "upstreams.%s" % name))
    return lines[:idx[0]], ups


class Config:
    """A parsed view of the config text; edits, then text()."""

    def __init__(self, text):
        self.sections = split_sections(text)
        self.by_key = {s.key: s for s in self.sections if s.key}
        for k in ("listen", "upstreams", "routes"):
            if k not in self.by_key:
                raise ConfigError("no top-level %r section found (is the top level a block "
                                  "mapping with keys in column 0?)" % k)
        self.flat = {}
        self._created = set()
        for k in ("engine", "limits"):
            if k not in self.by_key:
                s = Section(k, [k + ":"])
                self._created.add(k)
                self.sections.append(s)
                self.by_key[k] = s
            self.flat[k] = FlatSection(self.by_key[k])
        self.up_head, self.upstreams = _split_upstreams(self.by_key["upstreams"])

    # -- reading ---------------------------------------------------------
    def raw(self, name):
        sec, key = KNOBS[name][0], KNOBS[name][1]
        if sec == "upstream":
            return self.upstreams[0].get(key)
        return self.flat[sec].get(key)

    def effective(self):
        """Current value of every knob (the config's, else ringway's default),
        plus 'upstream_max_connections' (the smallest over the upstreams)."""
        out = {}
        for name, (sec, key, kind, default, lo, hi) in KNOBS.items():
            if sec == "upstream":
                vals = [u.get(key) for u in self.upstreams]
                vals = [_parse_value(name, v, "upstreams.%s.%s" % (u.name, key))
                        for u, v in zip(self.upstreams, vals) if v is not None]
                out[name] = min(vals) if vals else None
                continue
            raw = self.flat[sec].get(key)
            out[name] = _parse_value(name, raw, "%s.%s" % (sec, key)) if raw is not None else None
        if out["engine.ring_entries"] is None:
            out["engine.ring_entries"] = KNOBS["engine.ring_entries"][3]
        if out["engine.cq_entries"] is None:
            out["engine.cq_entries"] = max(16384, 2 * out["engine.ring_entries"])
        maxc = []
        for u in self.upstreams:
            v = u.get("max_connections_per_worker")
            maxc.append(int(v) if v is not None and v.isdigit() else UPSTREAM_MAX_CONN_DEFAULT)
        out["upstream_max_connections"] = min(maxc)
        for name, spec in KNOBS.items():
            if out[name] is None:
                out[name] = spec[3]
        if out["upstreams.max_idle_per_worker"] > out["upstream_max_connections"]:
            out["upstreams.max_idle_per_worker"] = out["upstream_max_connections"]
        return out

    def upstream_names(self):
        return [u.name for u in self.upstreams]

    # -- editing ---------------------------------------------------------
    def set_workers(self, n):
        if "workers" in self.by_key:
            self.by_key["workers"].lines[0] = "workers: %s  # ringway-tune" % n
        else:
            s = Section("workers", ["workers: %s  # ringway-tune" % n])
            self.sections.append(s)
            self.by_key["workers"] = s

    def set_knob(self, name, value):
        sec, key = KNOBS[name][0], KNOBS[name][1]
        text = format_value(name, value)
        if sec == "upstream":
            for u in self.upstreams:
                u.set(key, text)
        else:
            self.flat[sec].set(key, text)

    def set_listen_loopback(self):
        s = self.by_key["listen"]
        m = re.search(r"backlog\s*:\s*(\d+)", "\n".join(s.lines))
        lines = ["listen:  # ringway-tune: loopback, port chosen by the kernel",
                 "  - address: 127.0.0.1:0"]
        if m:
            lines.append("    backlog: %s" % m.group(1))
        tail = len(s.lines)
        while tail > 1 and _blank_or_comment(s.lines[tail - 1]):
            tail -= 1
        s.lines = lines + s.lines[tail:]

    def set_endpoints(self, addresses):
        value = "[%s]" % ", ".join('"%s"' % a for a in addresses)
        for u in self.upstreams:
            u.set("endpoints", value)
            # weights are gone with the endpoints: a weighted balancer would
            # be left with nothing to weigh, so make the choice explicit
            if u.get("balancer") is not None:
                u.set("balancer", "round_robin")

    def text(self):
        out = []
        for s in self.sections:
            if s.key == "upstreams":
                out += self.up_head
                for u in self.upstreams:
                    out += u.lines
            else:
                if s.key in self._created and len(s.lines) == 1:
                    continue   # created empty and never used
                out += s.lines
        return "\n".join(out).rstrip("\n") + "\n"


# Keys whose values are files, relative to the config file's directory
# (filters: jwt's jwks_file, keys[].file and secret_file; api_key's keys_file).
_PATH_VALUE = re.compile(
    r"""(?P<key>(?:^|[\s{,])(?:jwks_file|file|secret_file|keys_file):[ \t]*)"""
    r"""(?P<q>["']?)(?P<val>[^"'\s,}#]+)(?P=q)""", re.M)


def absolutise_paths(text, base_dir):
    """The config text with relative file paths made absolute against
    base_dir, so a copy written elsewhere (the tuner's work dir) still finds
    the files its original names."""
    import os

    def fix(m):
        val = m.group("val")
        if os.path.isabs(val):
            return m.group(0)
        return m.group("key") + m.group("q") + os.path.join(base_dir, val) + m.group("q")

    return _PATH_VALUE.sub(fix, text)


def build(text, workers=None, knobs=None, loopback=False, endpoints=None):
    """The config text with the given overrides: workers, knobs {name: value},
    loopback listener, endpoints (list of 'host:port' for every upstream)."""
    cfg = Config(text)
    if workers is not None:
        cfg.set_workers(workers)
    for name, value in (knobs or {}).items():
        cfg.set_knob(name, value)
    if loopback:
        cfg.set_listen_loopback()
    if endpoints:
        cfg.set_endpoints(endpoints)
    return cfg.text()
