#pragma once
// Turning a finished run into text: the human table, the single JSON object of
// --json, and the live progress line.

#include <cstdint>
#include <string>

#include "tools/load/stats.h"

namespace ringway::load {

// One JSON object (no trailing newline). Keys are documented in
// docs/load-generator.md; scripts rely on them, so only add, never rename.
std::string report_json(const Summary& s);

// Several lines for a terminal.
std::string report_table(const Summary& s);

// "[  3s] 2999 requests  1000 req/s  0 errors  0 timeouts" (no line end).
std::string progress_line(double elapsed_s, uint64_t requests, double rate, uint64_t errors,
                          uint64_t timeouts);

// The answered requests' latencies and the unanswered requests' waits in one
// histogram: the distribution users would have seen, at least.
Histogram answered_and_unanswered(const Summary& s);

// JSON string literal for `text`, quotes included.
std::string json_string(const std::string& text);

}  // namespace ringway::load
