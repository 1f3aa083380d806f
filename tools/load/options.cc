#include "tools/load/options.h"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <cstring>

namespace ringway::load {

namespace {

constexpr int kMaxThreads = 256;
constexpr int kMaxConnections = 100000;
constexpr int kMaxPipeline = 1024;

bool parse_int(std::string_view text, long min, long max, int& out) {
  long value = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || res.ec != std::errc() || res.ptr != text.data() + text.size() ||
      value < min || value > max) {
    return false;
  }
  out = static_cast<int>(value);
  return true;
}

bool parse_double(std::string_view text, double& out) {
  auto res = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && res.ec == std::errc() && res.ptr == text.data() + text.size() &&
         std::isfinite(out);
}

bool parse_port(std::string_view text, uint16_t& port) {
  int value = 0;
  if (!parse_int(text, 1, 65535, value)) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

const char* usage_text() {
  return "usage: ringway-load [options] http://HOST[:PORT][/path]\n"
         "\n"
         "Open-loop (constant-rate) HTTP/1.1 load generator. Latency is measured from\n"
         "each request's intended send time, so a stalled server shows in the tail.\n"
         "\n"
         "  -R, --rate N          requests per second over all connections (open loop)\n"
         "      --closed          closed loop: send as soon as the previous response is\n"
         "                        in, for peak throughput (no --rate)\n"
         "  -c, --connections N   keep-alive connections (default 10)\n"
         "  -t, --threads N       threads, one io_uring each (default 1)\n"
         "  -d, --duration T      measured time, e.g. 10s, 500ms (default 10s)\n"
         "      --warmup T        unrecorded time before the measurement (default 0)\n"
         "      --timeout T       per-request timeout (default 5s)\n"
         "      --pipeline K      requests in flight per connection (default 1)\n"
         "  -H, --header 'N: V'   add a header to every request (repeatable)\n"
         "  -r, --requests FILE   request mix, one per line, used round robin:\n"
         "                        METHOD PATH [Name: value]... [@bodyfile | body=TEXT]\n"
         "      --json            print one JSON object on stdout\n"
         "      --progress        progress line on stderr even when not a terminal\n"
         "  -h, --help            this text\n"
         "      --version         print the version\n"
         "\n"
         "HOST is an IP literal ([::1] for IPv6) or localhost. See docs/load-generator.md.\n";
}

bool parse_duration(std::string_view text, int64_t& ns) {
  size_t digits = 0;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) {
    ++digits;
  }
  double value = 0;
  if (digits == 0 || !parse_double(text.substr(0, digits), value) || value < 0) return false;
  const std::string_view unit = text.substr(digits);
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1e9;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "us") {
    scale = 1e3;
  } else if (unit == "m") {
    scale = 60e9;
  } else {
    return false;
  }
  const double result = value * scale;
  if (result > 1e18) return false;  // beyond int64 nanoseconds
  ns = static_cast<int64_t>(std::llround(result));
  return true;
}

bool parse_url(std::string_view url, Target& out, std::string& error) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    error = "URL '" + std::string(url) + "' must start with http://";
    return false;
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http") {
    error = "unsupported scheme '" + std::string(scheme) + "://' (only http:// is supported)";
    return false;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  std::string path =
      path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (path[0] == '?') path = "/" + path;
  for (unsigned char c : path) {
    if (c <= 0x20 || c >= 0x7f) {
      error = "URL path has a blank, control or non-ASCII character (percent-encode it)";
      return false;
    }
  }
  if (authority.find('@') != std::string_view::npos) {
    error = "URL must not carry user information";
    return false;
  }
  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "URL has an unterminated '[' in its host";
      return false;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        error = "unexpected text after ']' in URL host";
        return false;
      }
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (host.empty()) {
    error = "URL has no host";
    return false;
  }
  uint16_t port = 80;
  if (!port_text.empty() && !parse_port(port_text, port)) {
    error = "bad port '" + std::string(port_text) + "' in URL";
    return false;
  }
  const std::string host_str(host == "localhost" ? "127.0.0.1" : host);
  out = Target{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
  if (inet_pton(AF_INET, host_str.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.addr_len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host_str.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.addr_len = sizeof(sockaddr_in6);
  } else {
    error = "host '" + std::string(host) + "' must be an IP literal or localhost (no DNS)";
    return false;
  }
  out.host_header = std::string(authority);
  out.path = std::move(path);
  return true;
}

ParseResult parse_options(int argc, const char* const* argv, Options& out, std::string& error) {
  out = Options{};
  bool rate_given = false;
  bool url_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_inline = false;
    if (arg.starts_with("--")) {
      const size_t eq = arg.find('=');
      if (eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline = true;
      }
    }
    // Fetches the flag's value: inline (--x=v) or the next argument.
    auto take = [&](std::string_view& v) {
      if (has_inline) {
        v = value;
        return true;
      }
      if (i + 1 >= argc) {
        error = std::string(arg) + " needs a value";
        return false;
      }
      v = argv[++i];
      return true;
    };
    auto bad = [&](std::string_view what, std::string_view v) {
      error = std::string(arg) + " expects " + std::string(what) + ", got '" + std::string(v) + "'";
      return ParseResult::kError;
    };
    std::string_view v;
    if (arg == "-h" || arg == "--help") return ParseResult::kHelp;
    if (arg == "--version") return ParseResult::kVersion;
    if (arg == "--closed") {
      out.closed = true;
    } else if (arg == "--json") {
      out.json = true;
    } else if (arg == "--progress") {
      out.progress = true;
    } else if (arg == "-R" || arg == "--rate") {
      if (!take(v)) return ParseResult::kError;
      if (!parse_double(v, out.rate)) return bad("a number of requests per second", v);
      rate_given = true;
    } else if (arg == "-c" || arg == "--connections") {
      if (!take(v)) return ParseResult::kError;
      if (!parse_int(v, 1, kMaxConnections, out.connections)) {
        return bad("an integer in [1, " + std::to_string(kMaxConnections) + "]", v);
      }
    } else if (arg == "-t" || arg == "--threads") {
      if (!take(v)) return ParseResult::kError;
      if (!parse_int(v, 1, kMaxThreads, out.threads)) {
        return bad("an integer in [1, " + std::to_string(kMaxThreads) + "]", v);
      }
    } else if (arg == "--pipeline") {
      if (!take(v)) return ParseResult::kError;
      if (!parse_int(v, 1, kMaxPipeline, out.pipeline)) {
        return bad("an integer in [1, " + std::to_string(kMaxPipeline) + "]", v);
      }
    } else if (arg == "-d" || arg == "--duration") {
      if (!take(v)) return ParseResult::kError;
      if (!parse_duration(v, out.duration_ns) || out.duration_ns <= 0) {
        return bad("a positive duration such as 10s or 500ms", v);
      }
    } else if (arg == "--warmup") {
      if (!take(v)) return ParseResult::kError;
      if (!parse_duration(v, out.warmup_ns)) return bad("a duration such as 2s or 500ms", v);
    } else if (arg == "--timeout") {
      if (!take(v)) return ParseResult::kError;
      if (!parse_duration(v, out.timeout_ns) || out.timeout_ns < 1'000'000) {
        return bad("a duration of at least 1ms such as 5s", v);
      }
    } else if (arg == "-H" || arg == "--header") {
      if (!take(v)) return ParseResult::kError;
      Header h;
      std::string why;
      if (!parse_header_arg(v, h, why)) {
        error = std::string(arg) + ": " + why;
        return ParseResult::kError;
      }
      out.headers.push_back(std::move(h));
    } else if (arg == "-r" || arg == "--requests") {
      if (!take(v)) return ParseResult::kError;
      out.requests_file = std::string(v);
    } else if (arg.size() > 1 && arg[0] == '-') {
      error = "unknown option '" + std::string(argv[i]) + "'";
      return ParseResult::kError;
    } else {
      if (url_given) {
        error = "more than one URL ('" + out.url + "' and '" + std::string(arg) + "')";
        return ParseResult::kError;
      }
      out.url = std::string(arg);
      url_given = true;
    }
  }
  if (!url_given) {
    error = "missing URL (e.g. http://127.0.0.1:8080/)";
    return ParseResult::kError;
  }
  if (!parse_url(out.url, out.target, error)) return ParseResult::kError;
  if (out.closed && rate_given) {
    error = "--rate and --closed exclude each other (closed loop has no target rate)";
    return ParseResult::kError;
  }
  if (!out.closed && (!rate_given || out.rate <= 0)) {
    error = rate_given ? "--rate must be > 0 (or use --closed)"
                       : "missing --rate (requests per second), or --closed for peak throughput";
    return ParseResult::kError;
  }
  // Far above what one machine can send; beyond it the schedule's
  // arithmetic, and the per-request accounting of what went unsent, would
  // make a typo (1e12) hang instead of fail.
  constexpr double kMaxRate = 1e7;
  if (!out.closed && out.rate > kMaxRate) {
    error = "--rate must be at most 10000000 requests per second";
    return ParseResult::kError;
  }
  if (out.connections < out.threads) {
    error = "--connections (" + std::to_string(out.connections) + ") must be >= --threads (" +
            std::to_string(out.threads) + ")";
    return ParseResult::kError;
  }
  return ParseResult::kRun;
}

}  // namespace ringway::load
