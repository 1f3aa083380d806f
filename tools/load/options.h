#pragma once
// Command-line options of ringway-load and their validation. Everything that
// can be wrong with an invocation is found here, before any thread starts, so
// a bad call ends with one clear line and exit status 2.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/load/request_mix.h"

namespace ringway::load {

// Where requests go: resolved without DNS (IP literals and localhost only),
// so a typo cannot send load to some other machine.
struct Target {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string host_header;  // authority as written in the URL, for Host
  std::string path = "/";   // path and query, for the default request
};

struct Options {
  std::string url;
  Target target;
  int threads = 1;
  int connections = 10;
  double rate = 0;      // requests per second over all connections (open loop)
  bool closed = false;  // closed loop: send as soon as the previous answer is in
  int pipeline = 1;     // requests in flight per connection
  int64_t duration_ns = 10'000'000'000;
  int64_t warmup_ns = 0;
  int64_t timeout_ns = 5'000'000'000;
  std::vector<Header> headers;  // -H, added to every request
  std::string requests_file;
  bool json = false;
  bool progress = false;  // progress line even when stderr is not a terminal
};

enum class ParseResult { kRun, kHelp, kVersion, kError };

// Parses argv (argv[0] is skipped). On kError `error` holds one line.
ParseResult parse_options(int argc, const char* const* argv, Options& out, std::string& error);

// "10s", "500ms", "250us", "2m", "1.5s"; a bare number is seconds. Rejects
// negative, empty and unknown units. Writes nanoseconds.
bool parse_duration(std::string_view text, int64_t& ns);

// "http://HOST[:PORT][/path?query]" with HOST an IPv4 literal, [IPv6] or
// localhost. Other schemes and host names are rejected with a reason.
bool parse_url(std::string_view url, Target& out, std::string& error);

const char* usage_text();

}  // namespace ringway::load
