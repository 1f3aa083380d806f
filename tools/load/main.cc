// ringway-load: open-loop (constant-rate) HTTP/1.1 load generator on io_uring.
// See docs/load-generator.md and usage_text().

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tools/load/options.h"
#include "tools/load/report.h"
#include "tools/load/runner.h"

// The generated header is on the include path only when the build adds it.
#if __has_include("engine/core/version.h")
#include "engine/core/version.h"
#endif
#ifndef RINGWAY_VERSION
#define RINGWAY_VERSION "dev"
#endif

namespace {

std::atomic<bool> g_stop{false};

// First Ctrl-C: stop sending and report what was measured; second: leave now.
void on_signal(int) {
  if (g_stop.exchange(true)) _exit(130);
}

// Many connections need many descriptors: take the hard limit, not the
// usual soft 1024, and say so when even that is too few (the connections
// beyond it would fail and count as connect errors).
void raise_fd_limit(int connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < static_cast<rlim_t>(connections) + 32) {
    std::fprintf(stderr,
                 "ringway-load: warning: %d connections but a limit of %llu open files "
                 "(ulimit -n)\n",
                 connections, static_cast<unsigned long long>(limit.rlim_cur));
  }
}

[[noreturn]] void bad_usage(const std::string& message) {
  std::fprintf(stderr, "ringway-load: %s\n", message.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ringway::load;
  Options options;
  std::string error;
  switch (parse_options(argc, argv, options, error)) {
    case ParseResult::kHelp:
      std::fputs(usage_text(), stdout);
      return 0;
    case ParseResult::kVersion:
      std::printf("ringway-load %s\n", RINGWAY_VERSION);
      return 0;
    case ParseResult::kError:
      bad_usage(error + " (try --help)");
    case ParseResult::kRun:
      break;
  }
  std::vector<RequestSpec> mix;
  if (!build_mix(options, mix, error)) bad_usage(error);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit(options.connections);

  const bool tty = isatty(STDERR_FILENO) == 1;
  Summary summary;
  if (!run_load(options, mix, g_stop, tty || options.progress, tty, summary, error)) {
    std::fprintf(stderr, "ringway-load: %s\n", error.c_str());
    return 1;
  }
  if (options.json) {
    std::printf("%s\n", report_json(summary).c_str());
  } else {
    std::fputs(report_table(summary).c_str(), stdout);
  }
  return 0;
}
