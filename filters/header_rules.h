#pragma once
// Which header fields filters may set from config: the ones the engine owns
// (framing, hop-by-hop, Host, Expect) are off limits, since rewriting them
// would desynchronise the message or the connection.

#include <string_view>

namespace ringway::filters {

bool is_gateway_managed_header(std::string_view name);

}  // namespace ringway::filters
