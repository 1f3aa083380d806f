"""The live progress line (stderr): rewritten in place on a terminal, one
line per probe otherwise."""

import sys
import time

from .units import fmt_rate, fmt_us


class Progress:
    def __init__(self, quiet):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.label = ""
        self.n = 0
        self.dirty = False

    def _elapsed(self):
        s = int(time.monotonic() - self.t0)
        return "%2d:%02d" % (s // 60, s % 60)

    def phase(self, label):
        self.label = label
        self.note("%s" % label)

    def note(self, text):
        if self.quiet:
            return
        self.end()
        sys.stderr.write("[%s] %s\n" % (self._elapsed(), text))
        sys.stderr.flush()

    def probe(self, p, lo, hi):
        self.n += 1
        if self.quiet:
            return
        bracket = ("knee in [%s, %s]" % (fmt_rate(lo), fmt_rate(hi)) if lo and hi else
                   "knee >= %s" % fmt_rate(lo) if lo else
                   "knee < %s" % fmt_rate(hi) if hi else "")
        line = "[%s] %s | probe %d: %s req/s%s -> p99 %s, err %.3g%% %s%s" % (
            self._elapsed(), self.label, self.n, fmt_rate(p.rate),
            " (retry)" if p.attempt else "", fmt_us(p.m.p99_us), p.m.error_frac * 100,
            "ok" if p.ok else "BAD", " | " + bracket if bracket else "")
        if self.tty:
            sys.stderr.write("\r\x1b[K" + line)
            self.dirty = True
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def end(self):
        if self.dirty:
            sys.stderr.write("\n")
            self.dirty = False
