#include "tools/load/report.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace ringway::load {

namespace {

struct Percentile {
  const char* json_key;
  const char* label;
  double value;
};

constexpr Percentile kPercentiles[] = {
    {"p50", "p50", 50.0},    {"p90", "p90", 90.0},       {"p99", "p99", 99.0},
    {"p999", "p99.9", 99.9}, {"p9999", "p99.99", 99.99},
};

void appendf(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string& out, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  if (n > 0) out.append(buf, static_cast<size_t>(n) < sizeof(buf) ? n : sizeof(buf) - 1);
}

// "1.234 ms", "12.3 s": latency in the unit that keeps it readable.
std::string human_us(double us) {
  char buf[32];
  if (us < 1000) {
    std::snprintf(buf, sizeof(buf), "%.0f us", us);
  } else if (us < 1'000'000) {
    std::snprintf(buf, sizeof(buf), "%.3f ms", us / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.3f s", us / 1e6);
  }
  return buf;
}

// {"p50":..,"max":..,"mean":..}: the latency object of the JSON report.
std::string latency_json(const Histogram& h) {
  std::string out = "{";
  for (const Percentile& p : kPercentiles) {
    appendf(out, "\"%s\":%" PRId64 ",", p.json_key, h.value_at_percentile(p.value));
  }
  appendf(out, "\"min\":%" PRId64 ",\"max\":%" PRId64 ",\"mean\":%.1f}", h.min(), h.max(),
          h.mean());
  return out;
}

}  // namespace

Histogram answered_and_unanswered(const Summary& s) {
  Histogram all = s.latency;
  all.merge(s.unanswered);
  return all;
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {  // non-ASCII too: valid JSON whatever the bytes
      appendf(out, "\\u%04x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

std::string report_json(const Summary& s) {
  const Counters& c = s.counters;
  std::string out = "{";
  out += "\"url\":" + json_string(s.url) + ",";
  appendf(out, "\"mode\":\"%s\",", s.closed ? "closed" : "open");
  appendf(out, "\"threads\":%d,\"connections\":%d,\"pipeline\":%d,", s.threads, s.connections,
          s.pipeline);
  appendf(out, "\"warmup_s\":%.6f,\"duration_s\":%.6f,", s.warmup_s, s.duration_s);
  if (s.closed) {
    out += "\"target_rate\":null,";
  } else {
    appendf(out, "\"target_rate\":%.10g,", s.target_rate);
  }
  appendf(out, "\"rate\":%.3f,", s.rate());
  appendf(out, "\"requests\":%" PRIu64 ",", c.requests);
  if (s.closed) {
    out += "\"scheduled\":null,\"unsent\":null,";
  } else {
    appendf(out, "\"scheduled\":%" PRIu64 ",\"unsent\":%" PRIu64 ",", c.scheduled, c.unsent);
  }
  appendf(out, "\"errors\":%" PRIu64 ",", c.errors());
  appendf(out,
          "\"errors_by_kind\":{\"connect\":%" PRIu64 ",\"read\":%" PRIu64 ",\"write\":%" PRIu64
          ",\"parse\":%" PRIu64 "},",
          c.connect_errors, c.read_errors, c.write_errors, c.parse_errors);
  appendf(out, "\"timeouts\":%" PRIu64 ",", c.timeouts);
  out += "\"status\":{";
  bool first = true;
  for (size_t code = 0; code < c.status.size(); ++code) {
    if (c.status[code] == 0) continue;
    appendf(out, "%s\"%zu\":%" PRIu64, first ? "" : ",", code, c.status[code]);
    first = false;
  }
  out += "},\"latency_us\":" + latency_json(s.latency) + ",";
  appendf(out, "\"unanswered\":%" PRIu64 ",", s.unanswered.count());
  out += "\"latency_all_us\":" + latency_json(answered_and_unanswered(s)) + ",";
  appendf(out, "\"latency_out_of_range\":%" PRIu64 ",", s.latency.out_of_range());
  appendf(out, "\"connects\":%" PRIu64 ",\"bytes_read\":%" PRIu64 ",\"bytes_written\":%" PRIu64,
          c.connects, c.bytes_read, c.bytes_written);
  out += "}";
  return out;
}

std::string report_table(const Summary& s) {
  const Counters& c = s.counters;
  std::string out;
  out += "ringway-load " + s.url + "\n";
  if (s.closed) {
    appendf(out, "  closed loop, %d connection%s, %d thread%s", s.connections,
            s.connections == 1 ? "" : "s", s.threads, s.threads == 1 ? "" : "s");
  } else {
    appendf(out, "  open loop at %.10g req/s, %d connection%s, %d thread%s", s.target_rate,
            s.connections, s.connections == 1 ? "" : "s", s.threads, s.threads == 1 ? "" : "s");
  }
  if (s.pipeline > 1) appendf(out, ", pipeline %d", s.pipeline);
  appendf(out, ", %.2fs measured", s.duration_s);
  if (s.warmup_s > 0) appendf(out, " after %.2fs warm-up", s.warmup_s);
  out += "\n\n";

  appendf(out, "  requests   %12" PRIu64 "   %.1f req/s", c.requests, s.rate());
  if (!s.closed) appendf(out, " (target %.10g)", s.target_rate);
  out += "\n";
  if (!s.closed) {
    appendf(out, "  scheduled  %12" PRIu64 "   unsent at end %" PRIu64 "\n", c.scheduled, c.unsent);
  }
  appendf(out,
          "  errors     %12" PRIu64 "   connect %" PRIu64 ", read %" PRIu64 ", write %" PRIu64
          ", parse %" PRIu64 "\n",
          c.errors(), c.connect_errors, c.read_errors, c.write_errors, c.parse_errors);
  appendf(out, "  timeouts   %12" PRIu64 "\n", c.timeouts);
  out += "  status    ";
  bool any = false;
  for (size_t code = 0; code < c.status.size(); ++code) {
    if (c.status[code] == 0) continue;
    appendf(out, "  %zu: %" PRIu64, code, c.status[code]);
    any = true;
  }
  out += any ? "\n\n" : "  (none)\n\n";

  out += s.closed ? "  latency (send to last response byte)"
                  : "  latency (intended send time to last response byte)";
  // With requests that got no answer, a second column counts them too, each
  // at how long it had waited: what users would have seen, at least.
  const bool lost = s.unanswered.count() > 0;
  const Histogram all = lost ? answered_and_unanswered(s) : Histogram();
  out += lost ? "\n    answered     with unanswered\n" : "\n";
  auto row = [&](const char* label, double answered, double with_lost) {
    appendf(out, "    %-7s %12s", label, human_us(answered).c_str());
    if (lost) appendf(out, " %12s", human_us(with_lost).c_str());
    out += "\n";
  };
  for (const Percentile& p : kPercentiles) {
    row(p.label, static_cast<double>(s.latency.value_at_percentile(p.value)),
        static_cast<double>(all.value_at_percentile(p.value)));
  }
  row("max", static_cast<double>(s.latency.max()), static_cast<double>(all.max()));
  row("mean", s.latency.mean(), all.mean());
  if (lost) {
    appendf(out,
            "    (%" PRIu64 " requests without an answer, timed out or never sent, count as the "
            "time they had waited: a lower bound)\n",
            s.unanswered.count());
  }
  if (s.latency.out_of_range() > 0) {
    appendf(out, "    (%" PRIu64 " values outside 1 us .. 1 h were clamped)\n",
            s.latency.out_of_range());
  }
  return out;
}

std::string progress_line(double elapsed_s, uint64_t requests, double rate, uint64_t errors,
                          uint64_t timeouts) {
  std::string out;
  appendf(out,
          "[%4.0fs] %" PRIu64 " requests  %.0f req/s  %" PRIu64 " errors  %" PRIu64 " timeouts",
          elapsed_s, requests, rate, errors, timeouts);
  return out;
}

}  // namespace ringway::load
