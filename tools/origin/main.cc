// ringway-origin: a fast HTTP/1.1 origin server for the quick start,
// integration tests and benchmarks. See usage() for the endpoints.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "tools/origin/server.h"

// The generated header is on the include path only when the build adds it.
#if __has_include("engine/core/version.h")
#include "engine/core/version.h"
#endif
#ifndef RINGWAY_VERSION
#define RINGWAY_VERSION "dev"
#endif

namespace {

using ringway::origin::Server;
using ringway::origin::ServerOptions;

constexpr int kMaxThreads = 256;

void usage(FILE* out) {
  std::fputs(
      "usage: ringway-origin [--address 127.0.0.1] [--port N] [--threads N]\n"
      "                      [--port-file PATH] [--quiet]\n"
      "\n"
      "  --address ADDR    IPv4 or IPv6 literal to listen on (default 127.0.0.1)\n"
      "  --port N          TCP port; 0 picks a free one (default 0)\n"
      "  --threads N       worker threads, each with its own SO_REUSEPORT socket (default 1)\n"
      "  --port-file PATH  write the bound port to PATH (atomically) once listening\n"
      "  --quiet           no diagnostics on stderr\n"
      "  --version         print the version\n"
      "  --help            this text\n"
      "\n"
      "Prints 'listening ADDR:PORT' on stdout once listening. Endpoints:\n"
      "  /                 200 'hello from ringway-origin' (also any unknown path)\n"
      "  /bytes/N          N bytes of 'x' with Content-Length\n"
      "  /chunked/N        N bytes of 'x', chunked (?chunk=SIZE, default 16384)\n"
      "                    (both: ?text=1 for HTML-like prose as text/html)\n"
      "  /echo             the request body streamed back\n"
      "  /headers          the raw request head as received\n"
      "  /sink             discards the body; answers its length\n"
      "  /status/N         status N (1xx: interim response, then 200)\n"
      "  /delay/MS         like / after MS milliseconds\n"
      "  /close            like / with Connection: close\n"
      "  /ws               WebSocket echo (426 without a handshake)\n"
      "  /stats            {\"connections_accepted\":N,\"requests\":M}\n"
      "  /malformed/KIND   garbage | truncated | badlength | reset\n"
      "  ?header=Name:Value  (repeatable, percent-decoded) adds a response header\n",
      out);
}

[[noreturn]] void bad_usage(const std::string& message) {
  std::fprintf(stderr, "ringway-origin: %s\n(try --help)\n", message.c_str());
  std::exit(2);
}

long parse_number(std::string_view flag, std::string_view text, long min, long max) {
  long value = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || res.ec != std::errc() || res.ptr != text.data() + text.size() ||
      value < min || value > max) {
    bad_usage(std::string(flag) + " expects an integer in [" + std::to_string(min) + ", " +
              std::to_string(max) + "], got '" + std::string(text) + "'");
  }
  return value;
}

bool write_port_file(const std::string& path, uint16_t port) {
  // Write then rename so a reader never sees a partial number.
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = std::fprintf(f, "%u\n", static_cast<unsigned>(port)) > 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ServerOptions options;
  std::string port_file;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_value = false;
    size_t eq = arg.find('=');
    if (arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto need_value = [&]() -> std::string_view {
      if (has_value) return value;
      if (i + 1 >= argc) bad_usage(std::string(arg) + " needs a value");
      return argv[++i];
    };
    auto no_value = [&] {
      if (has_value) bad_usage(std::string(arg) + " takes no value");
    };
    if (arg == "--help" || arg == "-h") {
      no_value();
      usage(stdout);
      return 0;
    } else if (arg == "--version") {
      no_value();
      std::printf("ringway-origin %s\n", RINGWAY_VERSION);
      return 0;
    } else if (arg == "--address") {
      options.address = std::string(need_value());
      in6_addr probe;
      if (inet_pton(AF_INET, options.address.c_str(), &probe) != 1 &&
          inet_pton(AF_INET6, options.address.c_str(), &probe) != 1) {
        bad_usage("--address expects an IPv4 or IPv6 literal, got '" + options.address + "'");
      }
    } else if (arg == "--port") {
      options.port = static_cast<uint16_t>(parse_number(arg, need_value(), 0, 65535));
    } else if (arg == "--threads") {
      options.threads = static_cast<int>(parse_number(arg, need_value(), 1, kMaxThreads));
    } else if (arg == "--port-file") {
      port_file = std::string(need_value());
      if (port_file.empty()) bad_usage("--port-file must not be empty");
    } else if (arg == "--quiet") {
      no_value();
      options.quiet = true;
    } else {
      bad_usage("unknown argument '" + std::string(argv[i]) + "'");
    }
  }

  // Block the stop signals before any thread exists so that only sigwait()
  // below sees them; a peer reset must not kill the process through SIGPIPE.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const bool quiet = options.quiet;
  Server server(options);
  std::string error;
  if (!server.listen(error)) {
    std::fprintf(stderr, "ringway-origin: %s\n", error.c_str());
    return 1;
  }
  if (!server.start(error)) {
    std::fprintf(stderr, "ringway-origin: %s\n", error.c_str());
    return 1;
  }
  if (!port_file.empty() && !write_port_file(port_file, server.port())) {
    std::fprintf(stderr, "ringway-origin: cannot write port file %s: %s\n", port_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::printf("listening %s\n", server.endpoint().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  if (!quiet) std::fprintf(stderr, "ringway-origin: signal %d, exiting\n", sig);
  server.stop();
  return 0;
}
