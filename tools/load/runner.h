#pragma once
// Runs a whole load test: starts one client thread per --threads, connects,
// starts every thread's clock at the same instant, prints the progress line,
// joins, and merges the threads' counters and histograms.

#include <atomic>
#include <string>
#include <vector>

#include "tools/load/options.h"
#include "tools/load/request_mix.h"
#include "tools/load/stats.h"

namespace ringway::load {

// The request mix for `options`: the --requests file's lines, or one GET of
// the URL's path.
bool build_mix(const Options& options, std::vector<RequestSpec>& mix, std::string& error);

// Runs the test. `stop` ends it early (SIGINT). `progress_tty`: the progress
// line rewrites itself with \r (a terminal) instead of printing lines.
bool run_load(const Options& options, const std::vector<RequestSpec>& mix,
              const std::atomic<bool>& stop, bool progress, bool progress_tty, Summary& out,
              std::string& error);

}  // namespace ringway::load
