#pragma once
// Which header fields filters may set from config: the ones the engine owns
// (framing, hop-by-hop, Host, Expect) are off limits, since rewriting them
// would desynchronise the message or the connection.

#include <string_view>

namespace ringway::filters {

bool is_gateway_managed_header(std::string_view name);

// Request headers the engine writes itself after the filters (X-Forwarded-For
// extended, -Proto and -Host replaced, Via extended): a filter may remove
// them, but what it sets would be overwritten or merged with the gateway's.
bool is_written_by_gateway(std::string_view name);

}  // namespace ringway::filters
