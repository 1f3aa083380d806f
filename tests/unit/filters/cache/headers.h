#pragma once
// Header lists from literals, for the cache tests.

#include <initializer_list>
#include <utility>

#include "engine/http/request_head.h"

namespace ringway::filters::cache::testing {

inline http::HeaderList headers(std::initializer_list<std::pair<std::string_view, std::string_view>> list) {
  http::HeaderList out;
  for (const auto& [n, v] : list) out.push_back({n, v});
  return out;
}

}  // namespace ringway::filters::cache::testing
