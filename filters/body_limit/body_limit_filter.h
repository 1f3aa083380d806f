#pragma once
// A request body limit per route, like nginx's client_max_body_size in a
// location (the global one is limits.max_body_bytes):
//   type: body_limit
//   max_bytes: 1MiB
// A declared Content-Length above the limit is refused before any byte of the
// body is read (with 100-continue, before the client sends it); a chunked
// body is counted as it streams and cut off with 413 once it passes the limit
// (if the response has not started; else the connection is closed).

#include <memory>

#include "filters/registry.h"

namespace ringway::filters {

std::shared_ptr<const filter::Filter> compile_body_limit(const FilterBuild& build);

}  // namespace ringway::filters
