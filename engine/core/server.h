#pragma once
// The process: starts one worker per CPU, owns signal handling, and waits for
// the workers to drain on SIGTERM/SIGINT.

#include "config/config.h"
#include "engine/filter/chain.h"

namespace ringway::core {

// Runs the gateway until it is told to stop. Returns the process exit code.
int run_server(const config::ConfigPtr& config, const filter::FilterSetPtr& filters);

}  // namespace ringway::core
