#pragma once
// The process: starts one worker per CPU, owns signal handling, waits for the
// workers to drain on SIGTERM/SIGINT, and reloads the configuration on SIGHUP.

#include <functional>
#include <string>

#include "engine/core/snapshot.h"

namespace ringway::core {

// Reads the configuration (at start and again on every SIGHUP, when `running`
// is the configuration being replaced, else null). On failure returns false
// and sets `error` to "FILE:LINE:COLUMN: what is wrong".
using SnapshotLoader =
    std::function<bool(const Snapshot* running, Snapshot* out, std::string* error)>;

// Runs the gateway until it is told to stop. Returns the process exit code.
int run_server(const SnapshotLoader& load);

}  // namespace ringway::core
